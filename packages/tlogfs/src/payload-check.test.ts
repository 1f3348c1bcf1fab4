import { describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileVerifiedPayloads, pruneVerifiedPayloads, VERIFIED_PAYLOADS_FILE } from "./payload-check.ts";

const A = "a".repeat(64),
  B = "b".repeat(64),
  C = "c".repeat(64),
  D = "d".repeat(64);

function withDir(fn: (dir: string, path: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), "verified-"));
  try {
    fn(dir, join(dir, VERIFIED_PAYLOADS_FILE));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("pruneVerifiedPayloads()", () => {
  test("keeps the lines of payloads still there (the newest per hash), drops the others and a torn last line", () => {
    withDir((dir, path) => {
      writeFileSync(path, `${A} 1:1:1:1:1\n${B} 2:2:2:2:2\n${C} 3:3:3:3:3\n${A} 1:9:1:1:1\n${D.slice(0, 40)}`);
      const r = pruneVerifiedPayloads(path, (sha) => sha !== B);
      expect(r).toEqual({ kept: 2, dropped: 3 });
      expect(readFileSync(path, "utf8")).toBe(`${A} 1:9:1:1:1\n${C} 3:3:3:3:3\n`);
      const rec = fileVerifiedPayloads(path);
      expect([rec.has(A, "1:9:1:1:1"), rec.has(C, "3:3:3:3:3"), rec.has(B, "2:2:2:2:2"), rec.has(A, "1:1:1:1:1")]).toEqual([true, true, false, false]);
      // Published by rename: no temp file is left beside it.
      expect(readdirSync(dir)).toEqual([VERIFIED_PAYLOADS_FILE]);
    });
  });

  test("a record with nothing to drop is left as it is; a missing record is no error", () => {
    withDir((_dir, path) => {
      expect(pruneVerifiedPayloads(path, () => false)).toEqual({ kept: 0, dropped: 0 });
      const text = `${A} 1:1:1:1:1\n${B} 2:2:2:2:2\n`;
      writeFileSync(path, text);
      expect(pruneVerifiedPayloads(path, () => true)).toEqual({ kept: 2, dropped: 0 });
      expect(readFileSync(path, "utf8")).toBe(text);
    });
  });

  test("appends after a prune land on whole lines of the new record", () => {
    withDir((_dir, path) => {
      writeFileSync(path, `${A} 1:1:1:1:1\n${B} 2:2:2:2:2`);
      const reader = fileVerifiedPayloads(path);
      expect(reader.has(A, "1:1:1:1:1")).toBe(true);
      pruneVerifiedPayloads(path, (sha) => sha === A);
      reader.record(C, "3:3:3:3:3");
      const fresh = fileVerifiedPayloads(path);
      expect([fresh.has(A, "1:1:1:1:1"), fresh.has(C, "3:3:3:3:3"), fresh.has(B, "2:2:2:2:2")]).toEqual([true, true, false]);
    });
  });
});

describe("fileVerifiedPayloads().forget()", () => {
  test("drops the lines of the payloads named, keeps the others (the newest per hash), and later appends land on whole lines", () => {
    withDir((dir, path) => {
      writeFileSync(path, `${A} 1:1:1:1:1\n${B} 2:2:2:2:2\n${C} 3:3:3:3:3\n${A} 1:9:1:1:1\n${D.slice(0, 40)}`);
      const rec = fileVerifiedPayloads(path);
      rec.forget([B, D]);
      expect(readFileSync(path, "utf8")).toBe(`${A} 1:9:1:1:1\n${C} 3:3:3:3:3\n`);
      expect([rec.has(A, "1:9:1:1:1"), rec.has(B, "2:2:2:2:2"), rec.has(C, "3:3:3:3:3")]).toEqual([true, false, true]);
      rec.record(D, "4:4:4:4:4");
      const fresh = fileVerifiedPayloads(path);
      expect([fresh.has(A, "1:9:1:1:1"), fresh.has(B, "2:2:2:2:2"), fresh.has(C, "3:3:3:3:3"), fresh.has(D, "4:4:4:4:4")]).toEqual([true, false, true, true]);
      expect(readdirSync(dir)).toEqual([VERIFIED_PAYLOADS_FILE]);
      // Nothing to drop: the file is not rewritten.
      const text = readFileSync(path, "utf8");
      fresh.forget(["e".repeat(64)]);
      expect(readFileSync(path, "utf8")).toBe(text);
    });
  });
});
