import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryObjectStore, recordingStore } from "@pond/oplog";
import { FS, newTxnMeta } from "@pond/tinyfs";
import { createPondTable } from "./create-pond-table.ts";
import { fileSnapshotCache } from "./snapshot-cache.ts";
import { TLogPersistence } from "./tlog-persistence.ts";

async function pondWithCache() {
  const dir = mkdtempSync(join(tmpdir(), "snapcache-"));
  const inner = new MemoryObjectStore();
  await createPondTable(inner, "pond-1", newTxnMeta(["test"]));
  const { store, calls } = recordingStore(inner);
  const path = join(dir, "cache.json");
  return { dir, store, calls, path, p: new TLogPersistence(store, { snapshotCache: fileSnapshotCache(path, "pond-1") }) };
}

describe("fileSnapshotCache()", () => {
  test("a view saves the newest snapshot; the next opening replays only newer commits and sees the same state", async () => {
    const { dir, p, path, calls, store } = await pondWithCache();
    try {
      const fs = new FS(p);
      for (let i = 0; i < 3; i++) await fs.transaction(newTxnMeta(["t"]), (wd) => wd.mkdir(`/d${i}`));
      await p.view();
      expect(JSON.parse(readFileSync(path, "utf8")).snapshot.version).toBe(3);
      await fs.transaction(newTxnMeta(["t"]), (wd) => wd.mkdir("/d3"));
      calls.length = 0;
      const fresh = new TLogPersistence(store, { snapshotCache: fileSnapshotCache(path, "pond-1") });
      const v = await fresh.view();
      expect(v.seq).toBe(4);
      const commitGets = calls.filter((c) => c.op === "get" && /_delta_log\/\d{20}\.json$/.test(c.key)).map((c) => c.key);
      expect(commitGets).toEqual(["_delta_log/00000000000000000004.json"]);
      expect((await new FS(fresh).view()).list("/")).resolves.toHaveLength(4);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a full disk (ENOSPC, here /dev/full) leaves the view readable and no temp file behind", async () => {
    const { dir, p, path } = await pondWithCache();
    try {
      symlinkSync("/dev/full", `${path}.${process.pid}.tmp`); // the temp file the save writes first
      expect((await p.view()).seq).toBe(0);
      expect(existsSync(path)).toBe(false);
      expect(readdirSync(dir)).toEqual([]); // the temp name is removed after the failed write
      await new FS(p).transaction(newTxnMeta(["t"]), (wd) => wd.mkdir("/d"));
      expect((await p.view()).seq).toBe(1);
      expect(JSON.parse(readFileSync(path, "utf8")).snapshot.version).toBe(1); // and saved once there is room
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a torn cache file, or one of another pond, is ignored", async () => {
    const { dir, p, path } = await pondWithCache();
    try {
      writeFileSync(path, '{"format":2,"snap');
      expect((await p.view()).seq).toBe(0);
      writeFileSync(path, JSON.stringify({ format: 2, snapshot: { version: 0, metadata: { id: "other" } } }));
      expect(fileSnapshotCache(path, "pond-1").load()).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a cache of the build before (format 1: files without stats) is ignored, and the one saved instead keeps each file's stats", async () => {
    const { dir, p, path, store } = await pondWithCache();
    try {
      const fs = new FS(p);
      for (let i = 0; i < 2; i++) await fs.transaction(newTxnMeta(["t"]), (wd) => wd.mkdir(`/d${i}`));
      await p.view();
      const saved = JSON.parse(readFileSync(path, "utf8")) as { format: number; snapshot: { files: { stats?: string }[] } };
      expect(saved.format).toBe(2);
      expect(saved.snapshot.files.length).toBeGreaterThan(0);
      expect(saved.snapshot.files.every((f) => typeof f.stats === "string" && JSON.parse(f.stats).numRecords >= 0)).toBe(true);
      // What the build before wrote: the same snapshot, its files' stats dropped, as format 1.
      const old = { format: 1, snapshot: { ...saved.snapshot, files: saved.snapshot.files.map(({ stats: _, ...f }) => f) } };
      writeFileSync(path, JSON.stringify(old));
      expect(fileSnapshotCache(path, "pond-1").load()).toBeUndefined();
      const v = await new TLogPersistence(store, { snapshotCache: fileSnapshotCache(path, "pond-1") }).view();
      expect(v.seq).toBe(2);
      const again = JSON.parse(readFileSync(path, "utf8")) as typeof saved;
      expect(again.format).toBe(2);
      expect(again.snapshot.files.every((f) => typeof f.stats === "string")).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
