import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalObjectStore, MemoryObjectStore } from "@pond/oplog";
import { sha256Hex } from "@pond/tinyfs";
import { randomBytes } from "@pond/tinyfs/testing";
import { LARGE_FILE_THRESHOLD, largeFileKey, stageContent } from "./content-store.ts";
import { FileContent, PROBE_FROM, copyFileHashing } from "./file-content.ts";
import { fileIdentity, fileVerifiedPayloads } from "./payload-check.ts";

function setup() {
  const dir = mkdtempSync(join(tmpdir(), "file-content-"));
  const store = new LocalObjectStore(join(dir, "data"));
  return { dir, store, payloads: join(dir, "data", "_large_files"), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A large file's bytes: random, and not a whole number of chunks. */
const big = (seed: number) => randomBytes(5 * 1024 * 1024 + 12345, seed);

describe("stageContent() of a FileContent in a local store", () => {
  test("stores the file's bytes under their hash, records them as verified, and leaves no temp file", async () => {
    const { dir, store, payloads, cleanup } = setup();
    try {
      const bytes = big(1);
      writeFileSync(join(dir, "src"), bytes);
      const verified = fileVerifiedPayloads(join(dir, "verified.txt"));
      const ticks: number[] = [];
      const got = await stageContent(store, new FileContent(join(dir, "src"), { onBytes: (n) => ticks.push(n) }), { verified });
      const sha = sha256Hex(bytes);
      expect(got).toEqual({ kind: "large", sha256: sha, size: bytes.length });
      const final = store.localPath!(largeFileKey(sha))!;
      expect(sha256Hex(new Uint8Array(readFileSync(final)))).toBe(sha);
      expect(readdirSync(payloads)).toEqual([`sha256=${sha}`]);
      expect(ticks.reduce((a, b) => a + b, 0)).toBe(bytes.length);
      expect(verified.has(sha, fileIdentity(statSync(final, { bigint: true })))).toBe(true);
    } finally {
      cleanup();
    }
  });

  test("stores only the first `limit` bytes, and small content inline", async () => {
    const { dir, store, payloads, cleanup } = setup();
    try {
      const bytes = big(2);
      writeFileSync(join(dir, "src"), bytes);
      const head = bytes.subarray(0, 3 * 1024 * 1024 + 1);
      expect(await stageContent(store, new FileContent(join(dir, "src"), { limit: head.length }))).toEqual({
        kind: "large",
        sha256: sha256Hex(head),
        size: head.length,
      });
      const small = bytes.subarray(0, LARGE_FILE_THRESHOLD - 1);
      writeFileSync(join(dir, "small"), small);
      expect(await stageContent(store, new FileContent(join(dir, "small")))).toEqual({
        kind: "inline",
        bytes: small,
        sha256: sha256Hex(small),
        size: small.length,
      });
      expect(readdirSync(payloads)).toEqual([`sha256=${sha256Hex(head)}`]);
    } finally {
      cleanup();
    }
  });

  test("forceLarge stores small and empty files as large files too", async () => {
    const { dir, store, cleanup } = setup();
    try {
      writeFileSync(join(dir, "empty"), "");
      writeFileSync(join(dir, "tiny"), "abc");
      const empty = await stageContent(store, new FileContent(join(dir, "empty")), { forceLarge: true });
      expect(empty).toEqual({ kind: "large", sha256: sha256Hex(new Uint8Array()), size: 0 });
      expect(statSync(store.localPath!(largeFileKey(empty.sha256))!).size).toBe(0);
      const tiny = await stageContent(store, new FileContent(join(dir, "tiny")), { forceLarge: true });
      expect(readFileSync(store.localPath!(largeFileKey(tiny.sha256))!, "utf8")).toBe("abc");
    } finally {
      cleanup();
    }
  });

  test("a store without local paths reads it as a stream, with the same result", async () => {
    const { dir, cleanup } = setup();
    try {
      const bytes = big(3);
      writeFileSync(join(dir, "src"), bytes);
      const store = new MemoryObjectStore();
      const got = await stageContent(store, new FileContent(join(dir, "src")));
      expect(got).toEqual({ kind: "large", sha256: sha256Hex(bytes), size: bytes.length });
      expect(sha256Hex(await store.get(largeFileKey(got.sha256)))).toBe(got.sha256);
    } finally {
      cleanup();
    }
  });
});

describe("copyFileHashing()", () => {
  const sized = (seed: number) => randomBytes(PROBE_FROM + 7, seed);

  test("content already stored under its hash (a payload of the same size exists) is hashed and nothing is written", async () => {
    const { dir, payloads, cleanup } = setup();
    try {
      const bytes = sized(4);
      writeFileSync(join(dir, "src"), bytes);
      mkdirSync(payloads, { recursive: true });
      const sha = sha256Hex(bytes);
      writeFileSync(join(payloads, `sha256=${sha}`), bytes);
      const tmp = join(payloads, ".tmp-x");
      const got = await copyFileHashing(new FileContent(join(dir, "src")), tmp, {
        inlineBelow: LARGE_FILE_THRESHOLD,
        payloadDir: payloads,
        storedAs: (h) => join(payloads, `sha256=${h}`),
      });
      expect(got).toEqual({ kind: "stored", sha256: sha, size: bytes.length });
      expect(existsSync(tmp)).toBe(false);
    } finally {
      cleanup();
    }
  });

  test("new content of the same size as a stored payload is hashed, then copied whole", async () => {
    const { dir, payloads, cleanup } = setup();
    try {
      const bytes = sized(5);
      writeFileSync(join(dir, "src"), bytes);
      mkdirSync(payloads, { recursive: true });
      writeFileSync(join(payloads, "sha256=other"), sized(6));
      const tmp = join(payloads, ".tmp-x");
      const got = await copyFileHashing(new FileContent(join(dir, "src")), tmp, {
        inlineBelow: LARGE_FILE_THRESHOLD,
        payloadDir: payloads,
        storedAs: (h) => join(payloads, `sha256=${h}`),
      });
      expect(got).toEqual({ kind: "written", sha256: sha256Hex(bytes), size: bytes.length });
      expect(sha256Hex(new Uint8Array(readFileSync(tmp)))).toBe(got.sha256);
    } finally {
      cleanup();
    }
  });

  test("a temp file that exists already fails the copy and is left alone (wx), and a missing source names ENOENT", async () => {
    const { dir, payloads, cleanup } = setup();
    try {
      writeFileSync(join(dir, "src"), big(7));
      mkdirSync(payloads, { recursive: true });
      const tmp = join(payloads, ".tmp-x");
      writeFileSync(tmp, "someone else's");
      const opts = { inlineBelow: LARGE_FILE_THRESHOLD, payloadDir: payloads, storedAs: (h: string) => join(payloads, `sha256=${h}`) };
      await expect(copyFileHashing(new FileContent(join(dir, "src")), tmp, opts)).rejects.toMatchObject({ code: "EEXIST" });
      expect(readFileSync(tmp, "utf8")).toBe("someone else's");
      await expect(copyFileHashing(new FileContent(join(dir, "nope")), join(payloads, ".tmp-y"), opts)).rejects.toMatchObject({ code: "ENOENT" });
      expect(existsSync(join(payloads, ".tmp-y"))).toBe(false);
    } finally {
      cleanup();
    }
  });
});
