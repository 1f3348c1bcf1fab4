import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { startS3Server, type S3Server } from "../../../test/support/s3-server.ts";
import { ObjectNotFoundError, RemoteAccessDeniedError, RemoteBucketNotFoundError, RemoteTimeoutError, RemoteUnreachableError } from "./errors.ts";
import { runObjectStoreContract } from "./object-store-contract.ts";
import { S3ObjectStore, type S3StoreOptions } from "./s3-store.ts";

let plain: S3Server;
let conditional: S3Server;
let n = 0;

beforeAll(async () => {
  [plain, conditional] = await Promise.all([startS3Server(), startS3Server({ conditionalWrites: true })]);
}, 30_000);
afterAll(async () => {
  await Promise.all([plain?.close(), conditional?.close()]);
});

function storeOn(server: S3Server, opts: Partial<S3StoreOptions> = {}): S3ObjectStore {
  return new S3ObjectStore({
    bucket: server.bucket,
    prefix: `t${++n}/pond`,
    endpoint: server.endpoint,
    accessKeyId: "S3RVER",
    secretAccessKey: "S3RVER",
    // Small parts so that multipart uploads happen in the contract's 3 MiB test.
    partSize: 5 * 1024 * 1024,
    ...opts,
  });
}

describe("S3ObjectStore on a server that ignores If-None-Match (emulated put-if-absent)", () => {
  runObjectStoreContract("s3 (s3rver)", async () => ({ store: storeOn(plain) }), { downloadTo: true });
});

describe("S3ObjectStore on a server with conditional writes", () => {
  runObjectStoreContract("s3 (s3rver, If-None-Match)", async () => ({ store: storeOn(conditional) }), { downloadTo: true });

  test("put() with ifAbsent lets one of two store instances win when the server honours If-None-Match", async () => {
    const prefix = `race${++n}`;
    const stores = Array.from(
      { length: 10 },
      () => new S3ObjectStore({ bucket: conditional.bucket, prefix, endpoint: conditional.endpoint, accessKeyId: "S3RVER", secretAccessKey: "S3RVER" }),
    );
    const results = await Promise.all(stores.map((s, i) => s.put("_delta_log/00000000000000000001.json", new Uint8Array([i]), { ifAbsent: true })));
    expect(results.filter((r) => r === "created")).toHaveLength(1);
  });
});

describe("S3ObjectStore", () => {
  test("put() of a stream larger than partSize round-trips through a multipart upload", async () => {
    const store = storeOn(plain);
    const chunk = new Uint8Array(1024 * 1024).map((_, i) => i % 253);
    async function* body() {
      for (let i = 0; i < 12; i++) yield chunk;
    }
    expect(await store.put("big", body())).toBe("created");
    expect((await store.head("big"))?.size).toBe(12 * chunk.length);
    let total = 0;
    for await (const c of store.getStream("big")) total += c.length;
    expect(total).toBe(12 * chunk.length);
  });

  test("put() leaves no object when a stream larger than partSize fails midway", async () => {
    const store = storeOn(plain);
    async function* body() {
      for (let i = 0; i < 8; i++) yield new Uint8Array(1024 * 1024);
      throw new Error("source broke");
    }
    await expect(store.put("broken-big", body())).rejects.toThrow("source broke");
    expect(await store.head("broken-big")).toBeNull();
  });

  test("list() pages through more than 1000 keys in order", async () => {
    const store = storeOn(plain);
    const keys = Array.from({ length: 1005 }, (_, i) => `k/${String(i).padStart(5, "0")}`);
    for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((k) => store.put(k, new Uint8Array(1))));
    const listed: string[] = [];
    for await (const m of store.list("k/")) listed.push(m.key);
    expect(listed).toEqual(keys);
  }, 30_000);

  test("get() throws ObjectNotFoundError naming the key and the store when the key is missing", async () => {
    const store = storeOn(plain);
    const err = await store.get("no/such").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ObjectNotFoundError);
    expect((err as Error).message).toContain(`no/such`);
    expect((err as Error).message).toContain(store.url);
  });

  test("every call fails at once with RemoteUnreachableError when nothing listens at the endpoint", async () => {
    const free = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const port = free.port;
    free.stop(true);
    const store = new S3ObjectStore({ bucket: "b", endpoint: `http://127.0.0.1:${port}`, accessKeyId: "S3RVER", secretAccessKey: "S3RVER" });
    const t0 = Date.now();
    for (const call of [
      () => store.head("x"),
      () => store.get("x"),
      () => store.put("x", new Uint8Array(1), { ifAbsent: true }),
      () => Array.fromAsync(store.list("")),
      () => store.downloadTo("x", join(plain.dir, "never-written")),
    ]) {
      const err = await call().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RemoteUnreachableError);
      expect((err as Error).message).toContain(`127.0.0.1:${port}`);
    }
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  test("a wrong access key fails with RemoteAccessDeniedError that names neither key nor secret", async () => {
    const store = new S3ObjectStore({
      bucket: plain.bucket,
      endpoint: plain.endpoint,
      accessKeyId: "AKIAWRONGKEY1234",
      secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRET",
    });
    for (const call of [
      () => store.head("x"),
      () => store.put("x", new Uint8Array(1)),
      () => store.put("y", new Uint8Array(1), { ifAbsent: true }),
      () => store.downloadTo("x", join(plain.dir, "never-written")),
    ]) {
      const err = await call().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RemoteAccessDeniedError);
      const text = `${(err as Error).message} ${JSON.stringify((err as RemoteAccessDeniedError).data)} ${(err as RemoteAccessDeniedError).hint}`;
      expect(text).not.toContain("AKIAWRONGKEY1234");
      expect(text).not.toContain("bPxRfiCYSECRET");
    }
  });

  test("a missing bucket fails with RemoteBucketNotFoundError", async () => {
    const store = new S3ObjectStore({ bucket: "no-such-bucket", endpoint: plain.endpoint, accessKeyId: "S3RVER", secretAccessKey: "S3RVER" });
    await expect(Array.fromAsync(store.list(""))).rejects.toBeInstanceOf(RemoteBucketNotFoundError);
  });

  test("a server that accepts connections and never answers fails with RemoteTimeoutError, not a hang", async () => {
    const server = await startS3Server();
    try {
      const store = storeOn(server, { timeoutMs: 800 });
      await store.put("x", new Uint8Array(10));
      server.pause();
      const t0 = Date.now();
      const file = join(server.dir, "downloaded");
      for (const call of [
        () => store.head("x"),
        () => store.get("x"),
        () => store.put("y", new Uint8Array(1), { ifAbsent: true }),
        () => store.downloadTo("x", file),
      ]) {
        await expect(call()).rejects.toBeInstanceOf(RemoteTimeoutError);
      }
      expect(Date.now() - t0).toBeLessThan(4 * 800 + 2500);
    } finally {
      server.resume();
      await server.close();
    }
  }, 30_000);
});
