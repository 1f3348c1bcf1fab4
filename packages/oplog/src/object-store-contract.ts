/**
 * The shared test suite every ObjectStore must pass: one `describe` block with a test
 * per clause of the contract in `object-store.ts`. It only uses the interface, so it
 * runs unchanged against a local folder, memory or a real S3 server. `make` must
 * return a new, empty store for each test; `cleanup` (if any) runs after it.
 * `caps` says which optional members the store has; their tests run only then.
 */
import type * as BunTest from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { concatBytes } from "@pond/tinyfs";
import { ObjectNotFoundError } from "./errors.ts";
import type { ObjectMeta, ObjectStore } from "./object-store.ts";

export interface StoreCapabilities {
  /** The store implements `downloadTo`. */
  downloadTo?: boolean;
}

export function runObjectStoreContract(
  name: string,
  make: () => Promise<{ store: ObjectStore; cleanup?: () => Promise<void> }>,
  caps: StoreCapabilities = {},
): void {
  // Loaded here, not at import: index.ts re-exports this, and the CLI must not load the test runner.
  const { afterEach, beforeEach, describe, expect, test } = require("bun:test") as typeof BunTest;
  describe(`ObjectStore contract: ${name}`, () => {
    let store: ObjectStore;
    let cleanup: (() => Promise<void>) | undefined;

    beforeEach(async () => {
      ({ store, cleanup } = await make());
    });
    afterEach(async () => {
      await cleanup?.();
    });

    test("get() throws ObjectNotFoundError when the key is missing", async () => {
      const err = await store.get("missing/key.bin").catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ObjectNotFoundError);
      expect((err as ObjectNotFoundError).code).toBe("object_not_found");
    });

    test("head() returns null when the key is missing", async () => {
      expect(await store.head("missing/key.bin")).toBeNull();
    });

    test("put() then get() returns the same bytes, and head() their size and time", async () => {
      const before = Date.now();
      const bytes = bytesOf(1000, 7);
      expect(await store.put("a/b/c.bin", bytes)).toBe("created");
      expect(await store.get("a/b/c.bin")).toEqual(bytes);
      const meta = await store.head("a/b/c.bin");
      expect(meta?.key).toBe("a/b/c.bin");
      expect(meta?.size).toBe(1000);
      // Stores may keep whole seconds (S3) and clocks may differ a little.
      expect(Math.abs((meta?.lastModified ?? 0) - before)).toBeLessThan(120_000);
    });

    test("put() stores an empty object when the body is empty", async () => {
      await store.put("empty", new Uint8Array(0));
      expect(await store.get("empty")).toEqual(new Uint8Array(0));
      expect((await store.head("empty"))?.size).toBe(0);
    });

    test("put() keeps its own copy when the caller changes the buffer afterwards", async () => {
      const bytes = bytesOf(16, 1);
      await store.put("copy", bytes);
      bytes.fill(0);
      expect(await store.get("copy")).toEqual(bytesOf(16, 1));
    });

    test("get() returns length bytes from offset when given a range", async () => {
      await store.put("r", bytesOf(100, 3));
      expect(await store.get("r", { offset: 10, length: 20 })).toEqual(bytesOf(100, 3).slice(10, 30));
      expect(await store.get("r", { offset: 0, length: 1 })).toEqual(bytesOf(100, 3).slice(0, 1));
      expect(await store.get("r", { offset: 99, length: 1 })).toEqual(bytesOf(100, 3).slice(99));
    });

    test("put() overwrites when ifAbsent is not set", async () => {
      await store.put("k", bytesOf(10, 1));
      expect(await store.put("k", bytesOf(20, 2))).toBe("created");
      expect(await store.get("k")).toEqual(bytesOf(20, 2));
    });

    test("put() with ifAbsent returns exists and keeps the old bytes when the key exists", async () => {
      expect(await store.put("k", bytesOf(10, 1), { ifAbsent: true })).toBe("created");
      expect(await store.put("k", bytesOf(20, 2), { ifAbsent: true })).toBe("exists");
      expect(await store.get("k")).toEqual(bytesOf(10, 1));
    });

    test("put() writes a streamed body chunk by chunk when given an AsyncIterable", async () => {
      const chunks = [bytesOf(3, 1), bytesOf(0, 0), bytesOf(70_000, 2), bytesOf(5, 3)];
      async function* body() {
        for (const c of chunks) {
          await Bun.sleep(0);
          yield c;
        }
      }
      expect(await store.put("s/streamed", body(), { ifAbsent: true })).toBe("created");
      expect(await store.get("s/streamed")).toEqual(concatBytes(chunks));
    });

    test("put() leaves no object when a streamed body fails", async () => {
      async function* body() {
        yield bytesOf(10, 1);
        throw new Error("source broke");
      }
      await expect(store.put("broken", body())).rejects.toThrow("source broke");
      expect(await store.head("broken")).toBeNull();
      expect(await keysOf(store, "")).toEqual([]);
    });

    test("getStream() yields the whole object when it spans several chunks", async () => {
      const big = bytesOf(3 * 1024 * 1024 + 17, 9);
      await store.put("big", big);
      const parts: Uint8Array[] = [];
      for await (const c of store.getStream("big")) parts.push(c);
      expect(concatBytes(parts)).toEqual(big);
    });

    test("getStream(key, {reuse: true}) yields the whole object to a consumer that copies each chunk before the next, and can be left early", async () => {
      const big = bytesOf(3 * 1024 * 1024 + 17, 10);
      await store.put("big", big);
      const parts: Uint8Array[] = [];
      for await (const c of store.getStream("big", { reuse: true })) parts.push(c.slice());
      expect(concatBytes(parts)).toEqual(big);
      for await (const c of store.getStream("big", { reuse: true })) {
        expect(c).toEqual(big.subarray(0, c.length));
        break;
      }
      await expect(store.get("big")).resolves.toEqual(big);
    });

    test("getStream() throws ObjectNotFoundError when the key is missing", async () => {
      const err = await (async () => {
        for await (const _ of store.getStream("nope")) void _;
      })().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ObjectNotFoundError);
    });

    test(`downloadTo() is ${caps.downloadTo ? "present" : "absent"}, as the store's capabilities say`, () => {
      expect(typeof store.downloadTo).toBe(caps.downloadTo ? "function" : "undefined");
    });

    // Registered only for stores that have it (the test above checks the others lack it).
    if (caps.downloadTo)
      test("downloadTo() writes the whole object to a host file, replacing a longer one there", async () => {
        const big = bytesOf(3 * 1024 * 1024 + 17, 9);
        await store.put("d/big", big);
        await store.put("d/empty", new Uint8Array(0));
        const dir = mkdtempSync(join(tmpdir(), "pond-download-to-"));
        try {
          writeFileSync(join(dir, "big"), bytesOf(4 * 1024 * 1024, 1));
          await store.downloadTo!("d/big", join(dir, "big"));
          expect(new Uint8Array(readFileSync(join(dir, "big")))).toEqual(new Uint8Array(big));
          await store.downloadTo!("d/empty", join(dir, "empty"));
          expect(readFileSync(join(dir, "empty")).length).toBe(0);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      });

    if (caps.downloadTo)
      test("downloadTo() throws ObjectNotFoundError when the key is missing", async () => {
        const dir = mkdtempSync(join(tmpdir(), "pond-download-to-"));
        try {
          const err = await store.downloadTo!("no/such", join(dir, "x")).catch((e: unknown) => e);
          expect(err).toBeInstanceOf(ObjectNotFoundError);
          expect((err as Error).message).toContain("no/such");
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      });

    test("list() yields every key under the prefix, sorted, when keys are nested", async () => {
      const keys = [
        "_delta_log/00000000000000000001.json",
        "_delta_log/00000000000000000000.json",
        "_delta_log/00000000000000000010.checkpoint.parquet",
        "_delta_log/_last_checkpoint",
        "_delta_log/.tmp/00000000000000000005.json",
        "part_id=a/part-1.parquet",
        "part_id=a-b/part-2.parquet",
        "_delta_logx",
      ];
      for (const k of keys) await store.put(k, bytesOf(3, 1));
      expect(await keysOf(store, "_delta_log/")).toEqual([
        "_delta_log/.tmp/00000000000000000005.json",
        "_delta_log/00000000000000000000.json",
        "_delta_log/00000000000000000001.json",
        "_delta_log/00000000000000000010.checkpoint.parquet",
        "_delta_log/_last_checkpoint",
      ]);
      expect(await keysOf(store, "")).toEqual([...keys].sort(byBytes));
      expect(await keysOf(store, "part_id=a")).toEqual(["part_id=a-b/part-2.parquet", "part_id=a/part-1.parquet"]);
      expect(await keysOf(store, "nothing/here")).toEqual([]);
    });

    test("list() matches a prefix that ends in the middle of a name", async () => {
      for (const k of [
        "_delta_log/00000000000000000009.json",
        "_delta_log/00000000000000000010.json",
        "_delta_log/00000000000000000011.json",
        "_delta_log/_last_checkpoint",
      ]) {
        await store.put(k, bytesOf(1, 1));
      }
      expect(await keysOf(store, "_delta_log/0000000000000000001")).toEqual(["_delta_log/00000000000000000010.json", "_delta_log/00000000000000000011.json"]);
      expect(await keysOf(store, "_delta_lo")).toHaveLength(4);
    });

    test("list() reports each object's size and lastModified", async () => {
      await store.put("x/one", bytesOf(11, 1));
      const metas: ObjectMeta[] = [];
      for await (const m of store.list("x/")) metas.push(m);
      expect(metas).toHaveLength(1);
      expect(metas[0].key).toBe("x/one");
      expect(metas[0].size).toBe(11);
      expect(metas[0].lastModified).toBe((await store.head("x/one"))?.lastModified ?? -1);
    });

    test("list() sorts by key bytes when names contain non-ASCII characters", async () => {
      const keys = ["n/é", "n/z", "n/Z", "n/日本", "n/a b", "n/😀"];
      for (const k of keys) await store.put(k, bytesOf(1, 1));
      expect(await keysOf(store, "n/")).toEqual([...keys].sort(byBytes));
      expect(await store.get("n/日本")).toEqual(bytesOf(1, 1));
    });

    test("delete() removes the object so get, head and list no longer see it", async () => {
      await store.put("d/x", bytesOf(4, 1));
      await store.delete("d/x");
      expect(await store.head("d/x")).toBeNull();
      expect(await keysOf(store, "d/")).toEqual([]);
      await expect(store.get("d/x")).rejects.toBeInstanceOf(ObjectNotFoundError);
    });

    test("delete() does nothing when the key is missing", async () => {
      await store.delete("never/was");
      expect(await store.head("never/was")).toBeNull();
    });

    test("put() with ifAbsent lets exactly one of 20 concurrent writers win", async () => {
      const bodies = Array.from({ length: 20 }, (_, i) => bytesOf(64 * 1024 + i, i + 1));
      const results = await Promise.all(bodies.map((b) => store.put("race/00000000000000000001.json", b, { ifAbsent: true })));
      const winners = results.flatMap((r, i) => (r === "created" ? [i] : []));
      expect(winners).toHaveLength(1);
      expect(results.filter((r) => r === "exists")).toHaveLength(19);
      expect(await store.get("race/00000000000000000001.json")).toEqual(bodies[winners[0]]);
      expect(await keysOf(store, "race/")).toEqual(["race/00000000000000000001.json"]);
    });

    test("get() never sees a partial object while it is being overwritten", async () => {
      const a = bytesOf(512 * 1024, 1);
      const b = bytesOf(512 * 1024, 2);
      await store.put("flip", a);
      let writing = true;
      const writer = (async () => {
        for (let i = 0; i < 10; i++) {
          async function* slow() {
            const src = i % 2 === 0 ? b : a;
            for (let at = 0; at < src.length; at += 64 * 1024) {
              await Bun.sleep(0);
              yield src.subarray(at, at + 64 * 1024);
            }
          }
          await store.put("flip", slow());
        }
        writing = false;
      })();
      let reads = 0;
      while (writing) {
        const got = await store.get("flip");
        expect(got.length).toBe(a.length);
        expect(got[0] === 1 || got[0] === 2).toBe(true);
        expect(got).toEqual(got[0] === 1 ? a : b);
        reads++;
        await Bun.sleep(0); // let the writer run even when get() resolves at once
      }
      await writer;
      expect(reads).toBeGreaterThan(0);
    });
  });
}

/** Deterministic bytes: `n` bytes of a pattern seeded by `seed` (first byte is `seed`). */
function bytesOf(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = i === 0 ? seed : (seed * 31 + i * 7) & 0xff;
  return out;
}

async function keysOf(store: ObjectStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const m of store.list(prefix)) keys.push(m.key);
  return keys;
}

function byBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
