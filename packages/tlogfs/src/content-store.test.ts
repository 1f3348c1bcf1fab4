import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalObjectStore, MemoryObjectStore } from "@pond/oplog";
import { sha256Hex } from "@pond/tinyfs";
import { randomBytes } from "@pond/tinyfs/testing";
import { AdoptableFile, LARGE_FILE_THRESHOLD, largeFileKey, stageContent } from "./content-store.ts";

function setup() {
  const dir = mkdtempSync(join(tmpdir(), "adopt-"));
  const store = new LocalObjectStore(join(dir, "data"));
  return { dir, store, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

describe("stageContent() of an AdoptableFile", () => {
  test("a local store takes the file itself: the large file is the same inode, with the right name and bytes", async () => {
    const { dir, store, cleanup } = setup();
    try {
      const bytes = randomBytes(3 * LARGE_FILE_THRESHOLD + 17, 1);
      const staged = join(dir, "data", "_large_files", ".tmp-csv-x");
      mkdirSync(join(dir, "data", "_large_files"), { recursive: true });
      writeFileSync(staged, bytes);
      const got = await stageContent(store, new AdoptableFile(staged), { forceLarge: true });
      const sha = sha256Hex(bytes);
      expect(got).toEqual({ kind: "large", sha256: sha, size: bytes.length });
      const final = store.localPath!(largeFileKey(sha))!;
      expect(statSync(final).ino).toBe(statSync(staged).ino); // linked, not copied
      expect(sha256Hex(new Uint8Array(readFileSync(final)))).toBe(sha);
      // The same content again: already stored, nothing rewritten.
      const again = join(dir, "again");
      writeFileSync(again, bytes);
      expect(await stageContent(store, new AdoptableFile(again), { forceLarge: true })).toEqual(got);
      expect(statSync(final).ino).toBe(statSync(staged).ino);
    } finally {
      cleanup();
    }
  });

  test("small content goes inline, and a store without local paths streams it; the file is left to its owner", async () => {
    const { dir, store, cleanup } = setup();
    try {
      const small = join(dir, "small");
      writeFileSync(small, "a,b\n1,2\n");
      expect(await stageContent(store, new AdoptableFile(small))).toEqual({ kind: "inline", bytes: new TextEncoder().encode("a,b\n1,2\n"), sha256: sha256Hex(new TextEncoder().encode("a,b\n1,2\n")), size: 8 });
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
