import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, linkSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ControlFileError,
  TEMP_PREFIX,
  publishFileSync,
  readJsonControlFile,
  replaceCacheFile,
  tempPathFor,
  writeFileDurable,
  writeNewFileSynced,
} from "./durable-file.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "durable-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("writeFileDurable()", () => {
  test("replaces a file's content and leaves no temp file", () => {
    const f = join(dir, "pond.json");
    writeFileSync(f, "old");
    writeFileDurable(f, '{"new":1}');
    expect(readFileSync(f, "utf8")).toBe('{"new":1}');
    expect(readdirSync(dir)).toEqual(["pond.json"]);
  });

  test("leaves the old file whole and no temp file when the write fails", () => {
    const f = join(dir, "missing-folder", "x.json");
    expect(() => writeFileDurable(f, "x")).toThrow();
    expect(existsSync(join(dir, "missing-folder"))).toBe(false);
  });

  test("replaces the name, not the inode: a reader holding the old file keeps the old bytes", () => {
    const f = join(dir, "c.json");
    writeFileSync(f, "old");
    linkSync(f, join(dir, "reader-view"));
    writeFileDurable(f, "new");
    expect(readFileSync(join(dir, "reader-view"), "utf8")).toBe("old");
    expect(readFileSync(f, "utf8")).toBe("new");
  });
});

describe("replaceCacheFile()", () => {
  test("replaces a file's content by a rename and leaves no temp file", () => {
    const f = join(dir, "cache.json");
    writeFileSync(f, "old");
    replaceCacheFile(f, '{"new":1}');
    expect(readFileSync(f, "utf8")).toBe('{"new":1}');
    replaceCacheFile(join(dir, "fresh.json"), "x");
    expect(readdirSync(dir).sort()).toEqual(["cache.json", "fresh.json"]);
  });
});

describe("writeNewFileSynced()", () => {
  test("writes the parts in order as a new file; an existing path is refused and left as it was", async () => {
    const f = join(dir, ".tmp-parts");
    const parts = Array.from({ length: 40 }, (_, i) => new Uint8Array(1000 + i * 997).fill(i));
    await writeNewFileSynced(f, parts);
    expect(readFileSync(f).equals(Buffer.concat(parts))).toBe(true);
    await expect(writeNewFileSynced(f, new Uint8Array([1]))).rejects.toThrow();
    expect(readFileSync(f).length).toBe(parts.reduce((n, p) => n + p.length, 0));
    const one = join(dir, ".tmp-one");
    await writeNewFileSynced(one, new TextEncoder().encode("one"));
    expect(readFileSync(one, "utf8")).toBe("one");
  });
});

describe("publishFileSync()", () => {
  test("with ifAbsent keeps an existing target and removes the staged file", () => {
    const target = join(dir, "obj");
    writeFileSync(target, "first");
    const staged = tempPathFor(target);
    writeFileSync(staged, "second");
    expect(publishFileSync(staged, target, { ifAbsent: true })).toBe("exists");
    expect(readFileSync(target, "utf8")).toBe("first");
    expect(existsSync(staged)).toBe(false);
  });

  test("keepStaged links and leaves the staged file in place", () => {
    const target = join(dir, "obj");
    const staged = join(dir, "staged");
    writeFileSync(staged, "bytes");
    expect(publishFileSync(staged, target, { ifAbsent: true, keepStaged: true })).toBe("created");
    expect(readFileSync(target, "utf8")).toBe("bytes");
    expect(existsSync(staged)).toBe(true);
  });

  test("temp names carry the prefix readers skip", () => {
    expect(tempPathFor(join(dir, "x")).startsWith(join(dir, TEMP_PREFIX))).toBe(true);
  });
});

describe("readJsonControlFile()", () => {
  const fix = "Do the fix.";
  test("returns undefined for a missing file and the value for a good one", () => {
    expect(readJsonControlFile(join(dir, "none.json"), fix)).toBeUndefined();
    writeFileSync(join(dir, "ok.json"), '{"a":1}');
    expect(readJsonControlFile<{ a: number }>(join(dir, "ok.json"), fix)).toEqual({ a: 1 });
  });

  for (const [what, text, says] of [
    ["an empty file", "", "it is empty"],
    ["a torn file", '{"pondId": "01', "not valid JSON"],
    ["a file of the wrong shape", "[1,2]", "must be an object"],
  ] as const) {
    test(`throws ControlFileError naming the file, the problem and the fix for ${what}`, () => {
      const f = join(dir, "c.json");
      writeFileSync(f, text);
      let err: unknown;
      try {
        readJsonControlFile(f, fix, (v) => (Array.isArray(v) ? "it must be an object" : undefined));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ControlFileError);
      const e = err as ControlFileError;
      expect(e.code).toBe("control_file_damaged");
      expect(e.kind).toBe("integrity");
      expect(e.message).toContain(f);
      expect(e.message).toContain(says);
      expect(e.hint).toBe(fix);
    });
  }
});
