import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalObjectStore, MemoryObjectStore, writeNewFileSynced } from "@pond/oplog";
import { sha256Hex } from "@pond/tinyfs";
import { randomBytes } from "@pond/tinyfs/testing";
import { AdoptableFile, LARGE_FILE_THRESHOLD, largeFileKey, stageContent } from "./content-store.ts";
import { fileIdentity, fileVerifiedPayloads } from "./payload-check.ts";

function setup() {
  const dir = mkdtempSync(join(tmpdir(), "adopt-"));
  const store = new LocalObjectStore(join(dir, "data"));
  return { dir, store, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

describe("stageContent() of an AdoptableFile", () => {
  test("a local store takes the file itself: the large file is the same inode, with the right name and bytes, and the temp name is gone", async () => {
    const { dir, store, cleanup } = setup();
    try {
      const bytes = randomBytes(3 * LARGE_FILE_THRESHOLD + 17, 1);
      const staged = join(dir, "data", "_large_files", ".tmp-csv-x");
      mkdirSync(join(dir, "data", "_large_files"), { recursive: true });
      writeFileSync(staged, bytes);
      const ino = statSync(staged).ino;
      const got = await stageContent(store, new AdoptableFile(staged), { forceLarge: true });
      const sha = sha256Hex(bytes);
      expect(got).toEqual({ kind: "large", sha256: sha, size: bytes.length });
      const final = store.localPath!(largeFileKey(sha))!;
      expect(statSync(final).ino).toBe(ino); // linked, not copied
      expect(existsSync(staged)).toBe(false); // unlinked at once, so the identity recorded as verified stays
      expect(sha256Hex(new Uint8Array(readFileSync(final)))).toBe(sha);
      // The same content again: already stored, nothing rewritten.
      const again = join(dir, "again");
      writeFileSync(again, bytes);
      expect(await stageContent(store, new AdoptableFile(again), { forceLarge: true })).toEqual(got);
      expect(statSync(final).ino).toBe(ino);
      expect(existsSync(again)).toBe(true); // not taken: left to its owner
    } finally {
      cleanup();
    }
  });

  test("a file whose hash its writer gives (writeNewFileSynced) is linked under that hash without being read; small, it is read as usual", async () => {
    const { dir, store, cleanup } = setup();
    try {
      mkdirSync(join(dir, "data", "_large_files"), { recursive: true });
      const bytes = randomBytes(2 * LARGE_FILE_THRESHOLD + 3, 4);
      const staged = join(dir, "data", "_large_files", ".tmp-known");
      await writeNewFileSynced(staged, bytes);
      await expect(writeNewFileSynced(staged, bytes)).rejects.toThrow(); // a new file only: never overwrites
      const ino = statSync(staged).ino;
      // The hash given is the one used, as the contract says (not re-read): a test of "not read".
      const given = "ab".repeat(32);
      const got = await stageContent(store, new AdoptableFile(staged, { sha256: given, size: bytes.length }), { forceLarge: true });
      expect(got).toEqual({ kind: "large", sha256: given, size: bytes.length });
      expect(statSync(store.localPath!(largeFileKey(given))!).ino).toBe(ino);
      expect(existsSync(staged)).toBe(false);
      // With dirSyncs the folder is left for the caller's one fsync: also when the content was already there.
      const dirSyncs = new Set<string>();
      const again = join(dir, "data", "_large_files", ".tmp-known-again");
      await writeNewFileSynced(again, bytes);
      await stageContent(store, new AdoptableFile(again, { sha256: given, size: bytes.length }), { forceLarge: true, dirSyncs });
      expect([...dirSyncs]).toEqual([join(dir, "data", "_large_files")]);
      // Below the threshold (and not forced large) the file is read and hashed as any stream.
      const small = join(dir, "small-known");
      writeFileSync(small, "a,b\n");
      const inline = await stageContent(store, new AdoptableFile(small, { sha256: given, size: 4 }));
      expect(inline).toMatchObject({ kind: "inline", sha256: sha256Hex(new TextEncoder().encode("a,b\n")), size: 4 });
    } finally {
      cleanup();
    }
  });

  test("small content goes inline, and a store without local paths streams it; the file is left to its owner", async () => {
    const { dir, store, cleanup } = setup();
    try {
      const small = join(dir, "small");
      writeFileSync(small, "a,b\n1,2\n");
      expect(await stageContent(store, new AdoptableFile(small))).toEqual({
        kind: "inline",
        bytes: new TextEncoder().encode("a,b\n1,2\n"),
        sha256: sha256Hex(new TextEncoder().encode("a,b\n1,2\n")),
        size: 8,
      });
      const big = join(dir, "big");
      const bytes = randomBytes(2 * LARGE_FILE_THRESHOLD, 2);
      writeFileSync(big, bytes);
      const mem = new MemoryObjectStore();
      const got = await stageContent(mem, new AdoptableFile(big), { forceLarge: true });
      expect(got).toEqual({ kind: "large", sha256: sha256Hex(bytes), size: bytes.length });
      expect(await mem.get(largeFileKey(sha256Hex(bytes)))).toEqual(bytes);
      expect(existsSync(small) && existsSync(big)).toBe(true);
    } finally {
      cleanup();
    }
  });
});

describe("stageContent() records what it writes as verified", () => {
  test("a large file it creates is recorded with the identity it keeps; one already stored is not", async () => {
    const { dir, store, cleanup } = setup();
    try {
      const rec = fileVerifiedPayloads(join(dir, "control", "verified-payloads"));
      const bytes = randomBytes(2 * LARGE_FILE_THRESHOLD, 7);
      const sha = sha256Hex(bytes);
      const stream = async function* () {
        yield bytes.subarray(0, 1000);
        yield bytes.subarray(1000);
      };
      await stageContent(store, stream(), { verified: rec });
      const final = store.localPath!(largeFileKey(sha))!;
      expect(rec.has(sha, fileIdentity(statSync(final, { bigint: true })))).toBe(true);
      // A file adopted from a CSV conversion: recorded too, after its temp name is gone.
      const other = randomBytes(LARGE_FILE_THRESHOLD + 5, 8);
      const staged = join(dir, "data", "_large_files", ".tmp-csv-y");
      writeFileSync(staged, other);
      await stageContent(store, new AdoptableFile(staged), { forceLarge: true, verified: rec });
      const adopted = store.localPath!(largeFileKey(sha256Hex(other)))!;
      expect(rec.has(sha256Hex(other), fileIdentity(statSync(adopted, { bigint: true })))).toBe(true);
      // Read back by another process (a new record object over the same file).
      const again = fileVerifiedPayloads(join(dir, "control", "verified-payloads"));
      expect(again.has(sha, fileIdentity(statSync(final, { bigint: true })))).toBe(true);
    } finally {
      cleanup();
    }
  });

  test("a legacy record whose last line is torn is split without it, and the next append is whole", () => {
    const { dir, cleanup } = setup();
    try {
      const path = join(dir, "verified-payloads");
      writeFileSync(`${path}.txt`, `${"a".repeat(64)} 1:2:3:4:5\n${"b".repeat(30)}`); // killed mid-append
      fileVerifiedPayloads(path).record("c".repeat(64), "6:7:8:9:10");
      const fresh = fileVerifiedPayloads(path);
      expect(fresh.has("a".repeat(64), "1:2:3:4:5")).toBe(true);
      expect(fresh.has("c".repeat(64), "6:7:8:9:10")).toBe(true);
    } finally {
      cleanup();
    }
  });
});
