import { afterEach, beforeEach, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { InvalidKeyError } from "./errors.ts";
import { LocalObjectStore } from "./local-store.ts";
import { runObjectStoreContract } from "./object-store-contract.ts";

runObjectStoreContract(
  "LocalObjectStore",
  async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pond-local-store-"));
    return { store: new LocalObjectStore(dir), cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }) };
  },
  { downloadTo: true },
);

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "pond-local-store-"));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

test("localPath() returns the absolute host path of a key", () => {
  const store = new LocalObjectStore(path.relative(process.cwd(), dir));
  expect(store.localPath("a/b.parquet")).toBe(path.join(dir, "a", "b.parquet"));
  expect(store.url).toBe(`file://${dir}`);
});

test("put() writes the file at localPath and leaves no temp file behind", async () => {
  const store = new LocalObjectStore(dir);
  await store.put("x/y.bin", new Uint8Array([1, 2, 3]), { ifAbsent: true });
  await store.put("x/y.bin", new Uint8Array([4]), { ifAbsent: true });
  await store.put("x/z.bin", new Uint8Array([5]));
  expect(fs.readFileSync(path.join(dir, "x", "y.bin"))).toEqual(Buffer.from([1, 2, 3]));
  expect(fs.readdirSync(path.join(dir, "x")).sort()).toEqual(["y.bin", "z.bin"]);
});

test("list() skips temp files of writes in progress", async () => {
  const store = new LocalObjectStore(dir);
  fs.mkdirSync(path.join(dir, "_delta_log"));
  fs.writeFileSync(path.join(dir, "_delta_log", ".pond-put-0123456789abcdef.tmp"), "partial");
  fs.writeFileSync(path.join(dir, "_delta_log", "00000000000000000000.json"), "{}");
  const keys: string[] = [];
  for await (const m of store.list("_delta_log/")) keys.push(m.key);
  expect(keys).toEqual(["_delta_log/00000000000000000000.json"]);
});

test("list() yields nothing when the root folder does not exist", async () => {
  const store = new LocalObjectStore(path.join(dir, "absent"));
  const keys: string[] = [];
  for await (const m of store.list("")) keys.push(m.key);
  expect(keys).toEqual([]);
});

test("put() streams a large body without holding it all in memory", async () => {
  const store = new LocalObjectStore(dir);
  let sizeSeenMidway = -1;
  async function* body() {
    for (let i = 0; i < 8; i++) {
      if (i === 4) {
        // Half the chunks are already on disk in the temp file.
        const tmp = fs.readdirSync(dir).find((n) => n.startsWith(".pond-put-"));
        sizeSeenMidway = tmp ? fs.statSync(path.join(dir, tmp)).size : -1;
      }
      yield new Uint8Array(256 * 1024).fill(i);
    }
  }
  await store.put("big.bin", body());
  expect(sizeSeenMidway).toBe(4 * 256 * 1024);
  expect(fs.statSync(path.join(dir, "big.bin")).size).toBe(8 * 256 * 1024);
});

test("getStream() reads in 1 MiB chunks", async () => {
  const store = new LocalObjectStore(dir);
  fs.writeFileSync(path.join(dir, "f"), new Uint8Array(2.5 * 1024 * 1024));
  const sizes: number[] = [];
  for await (const c of store.getStream("f")) sizes.push(c.length);
  expect(sizes).toEqual([1 << 20, 1 << 20, 512 * 1024]);
});

test("a key that climbs out of the root is refused with InvalidKeyError", async () => {
  const store = new LocalObjectStore(dir);
  await expect(store.put("../escape", new Uint8Array([1]))).rejects.toBeInstanceOf(InvalidKeyError);
  await expect(store.get("/etc/passwd")).rejects.toBeInstanceOf(InvalidKeyError);
  expect(() => store.localPath("a//b")).toThrow(InvalidKeyError);
});

test("getStream(key, {reuse: true}) reads a large object through two buffers taken in turns; without it every chunk has its own", async () => {
  const store = new LocalObjectStore(dir);
  await store.put("big", new Uint8Array(5 * 1024 * 1024 + 3).fill(7));
  const buffersOf = async (reuse: boolean) => {
    const seen = new Set<ArrayBufferLike>();
    let chunks = 0;
    for await (const c of store.getStream("big", { reuse })) {
      seen.add(c.buffer);
      chunks++;
    }
    return { chunks, buffers: seen.size };
  };
  expect(await buffersOf(true)).toEqual({ chunks: 6, buffers: 2 });
  expect(await buffersOf(false)).toEqual({ chunks: 6, buffers: 6 });
});
