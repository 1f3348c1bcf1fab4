import { describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { IngestLockedError, IngestWalDamagedError } from "./errors.ts";
import { WriteAheadLog, readSegment } from "./wal.ts";

function folder(): string {
  return mkdtempSync(join(tmpdir(), "pond-wal-"));
}

describe("WriteAheadLog", () => {
  test("append() is durable once it resolves; concurrent appends share fsyncs; recover() finds them by destination", async () => {
    const dir = folder();
    try {
      const wal = WriteAheadLog.open(dir);
      await Promise.all(Array.from({ length: 50 }, (_, i) => wal.append("/a.series", { s: i + 1 })));
      await wal.append("/b.series", { s: 1 });
      expect(wal.syncs).toBeLessThan(50);
      await wal.close();
      const again = WriteAheadLog.open(dir);
      const found = again.recover();
      expect(found.map((f) => [f.dest, f.records.length])).toEqual([
        ["/a.series", 50],
        ["/b.series", 1],
      ]);
      expect(found[0]!.records.map((r) => r.s)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      await again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("segments are preallocated with zeros, and a reader stops at the first zero", async () => {
    const dir = folder();
    try {
      const wal = WriteAheadLog.open(dir);
      await wal.append("/a.series", { s: 1 });
      const [name] = readdirSync(dir).filter((n) => n.endsWith(".wal"));
      expect(readFileSync(join(dir, name!)).length).toBeGreaterThanOrEqual(1024 * 1024);
      expect(readSegment(join(dir, name!))).toEqual({ dest: "/a.series", records: [{ s: 1 }] });
      await wal.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("seal() moves later appends to a new segment; remove() deletes only the sealed ones", async () => {
    const dir = folder();
    try {
      const wal = WriteAheadLog.open(dir);
      await wal.append("/a.series", { s: 1 });
      const sealed = await wal.seal("/a.series");
      await wal.append("/a.series", { s: 2 });
      expect(readdirSync(dir).filter((n) => n.endsWith(".wal")).length).toBe(2);
      await wal.remove("/a.series", sealed);
      const left = readdirSync(dir).filter((n) => n.endsWith(".wal"));
      expect(left.length).toBe(1);
      expect(readSegment(join(dir, left[0]!)).records).toEqual([{ s: 2 }]);
      await wal.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a torn last line is dropped; a bad line before the last is IngestWalDamagedError", () => {
    const dir = folder();
    try {
      const f = join(dir, "x.wal");
      writeFileSync(f, '{"dest":"/a"}\n{"s":1}\n{"s":2');
      expect(readSegment(f)).toEqual({ dest: "/a", records: [{ s: 1 }] });
      writeFileSync(f, '{"dest":"/a"}\n{"s":1}\n{"s":2}xx\n{"s":3}\n');
      expect(() => readSegment(f)).toThrow(IngestWalDamagedError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a second open of the same folder is IngestLockedError (flock, per open file)", async () => {
    const dir = folder();
    try {
      const wal = WriteAheadLog.open(dir);
      expect(() => WriteAheadLog.open(dir)).toThrow(IngestLockedError);
      await wal.close();
      const again = WriteAheadLog.open(dir);
      await again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
