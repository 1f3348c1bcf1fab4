import { describe, expect, test } from "bun:test";
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryObjectStore, recordingStore, type OplogEntry } from "@pond/oplog";
import { FS, newTxnMeta } from "@pond/tinyfs";
import { createPondTable } from "./create-pond-table.ts";
import { DirRows, fileDirCache, pruneDirCache } from "./dir-cache.ts";
import { DIR_CACHE_FOLD_FROM } from "./partition-index.ts";
import { TLogPersistence } from "./tlog-persistence.ts";

const DIR = "01a20daf-28cb-776d-bee9-1744f8bf1660";

function dirRow(over: Partial<OplogEntry> = {}): OplogEntry {
  return {
    part_id: DIR,
    node_id: DIR,
    file_type: "directory",
    version: 3,
    timestamp: 1795525933123456n,
    content: new Uint8Array([0, 1, 2, 255, 10, 34]),
    sha256: "6e96436441c147db823637f4eea63c33ad7922e4a8726013c42993ea9408d1fd",
    size: 6,
    min_event_time: null,
    max_event_time: null,
    attributes: '{"note":"quotes \\" and ünïcode"}',
    ...over,
  };
}

/** A loaded cache as a plain map, every entry decoded. */
function asMap({ rows, journaled }: { rows: DirRows; journaled: number }) {
  return { rows: new Map([...rows.paths()].map((p) => [p, rows.get(p)])), journaled };
}

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), "dircache-"));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("fileDirCache()", () => {
  test("rows come back as they went in (bigints past 2^53, empty content), and a file with none as null; the journal adds to the base", () =>
    withDir((dir) => {
      const cache = fileDirCache(join(dir, "dir-cache.json"), "pond-1");
      const a = `part_id=${DIR}/a.parquet`,
        b = `part_id=${DIR}/b.parquet`,
        c = `part_id=${DIR}/c.parquet`;
      cache.save(new Map([[a, dirRow()]]));
      cache.append(new Map([[b, null]]));
      cache.append(new Map([[c, dirRow({ version: 4, timestamp: 2n ** 60n, content: new Uint8Array(0), size: 0 })]]));
      const { rows, journaled } = asMap(fileDirCache(join(dir, "dir-cache.json"), "pond-1").load());
      expect(journaled).toBe(2);
      expect([...rows.keys()]).toEqual([a, b, c]);
      expect(rows.get(a)).toEqual(dirRow());
      expect(rows.get(b)).toBeNull();
      expect(rows.get(c)).toEqual(dirRow({ version: 4, timestamp: 2n ** 60n, content: new Uint8Array(0), size: 0 }));
      cache.save(new Map([[a, dirRow()]]));
      expect(existsSync(join(dir, "dir-cache.jsonl"))).toBe(false);
      expect(asMap(fileDirCache(join(dir, "dir-cache.json"), "pond-1").load())).toEqual({ rows: new Map([[a, dirRow()]]), journaled: 0 });
    }));

  test("another pond's cache, a torn base, a torn journal line or a missing cache count as empty; good lines still count", () =>
    withDir((dir) => {
      const path = join(dir, "dir-cache.json");
      const a = `part_id=${DIR}/a.parquet`;
      expect(fileDirCache(path, "pond-1").load().rows.size).toBe(0);
      fileDirCache(path, "pond-1").save(new Map([[a, dirRow()]]));
      expect(fileDirCache(path, "pond-2").load().rows.size).toBe(0);
      writeFileSync(path, '{"format":1,"table":"pond-1","rows":{"part_id=x/a.parquet":[3,1,"ab"');
      expect(fileDirCache(path, "pond-1").load().rows.size).toBe(0);
      appendFileSync(`${path}l`, '\n{"format":2,"table":"pond-1","rows":{"part_id=x/b.parquet":[3');
      fileDirCache(path, "pond-1").append(new Map([[a, dirRow()]]));
      expect(asMap(fileDirCache(path, "pond-1").load())).toEqual({ rows: new Map([[a, dirRow()]]), journaled: 1 });
      // An entry whose shape is wrong (a path outside any partition) spoils its line; one whose values are wrong only itself.
      appendFileSync(`${path}l`, '\n{"format":2,"table":"pond-1","rows":{"elsewhere.parquet":[3,1,"ab",2,"AAA=","{}"]}}\n');
      expect(fileDirCache(path, "pond-1").load().rows.size).toBe(1);
      appendFileSync(`${path}l`, `\n{"format":2,"table":"pond-1","rows":{"part_id=${DIR}/z.parquet":[3,"not a time","ab",2,"AAA=","{}"]}}\n`);
      const loaded = fileDirCache(path, "pond-1").load();
      expect(loaded.rows.size).toBe(2);
      expect(loaded.rows.get(`part_id=${DIR}/z.parquet`)).toBeUndefined();
      expect(loaded.rows.get(a)).toEqual(dirRow());
    }));
});

describe("DirRows", () => {
  test("a row's decoded entries travel with it through save and load; malformed entries make the path unknown", () =>
    withDir((dir) => {
      const path = join(dir, "dir-cache.json");
      const a = `part_id=${DIR}/a.parquet`,
        b = `part_id=${DIR}/b.parquet`;
      const entries = [
        { name: "x.csv", childNodeId: "01a20daf-28cb-776d-bee9-1744f8bf1661", entryType: "file:data" as const, versionLastModified: 2 },
        { name: "sub", childNodeId: "01a20daf-28cb-776d-bee9-1744f8bf1662", entryType: "directory" as const, versionLastModified: 1 },
      ];
      const rows = new DirRows();
      rows.set(a, dirRow(), entries);
      rows.set(b, dirRow({ version: 4 }));
      fileDirCache(path, "pond-1").save(rows);
      const back = fileDirCache(path, "pond-1").load().rows;
      const ra = back.get(a)!;
      expect(ra).toEqual(dirRow());
      expect(back.entriesOf(ra)).toEqual(entries);
      expect(back.entriesOf(back.get(b)!)).toBeUndefined();
      appendFileSync(`${path}l`, `\n{"format":2,"table":"pond-1","rows":{"${a}":[3,1,"ab",6,"AAEC/woi","{}",[["x","id","no such type",1]]]}}\n`);
      expect(fileDirCache(path, "pond-1").load().rows.get(a)).toBeUndefined();
    }));
});

describe("listing through the directory cache", () => {
  test("a second process lists every directory without reading an entry file; a commit costs a read of the directories it changed; folds keep it small", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dircache-"));
    try {
      const inner = new MemoryObjectStore();
      await createPondTable(inner, "pond-1", newTxnMeta(["test"]));
      const { store, calls } = recordingStore(inner);
      const cachePath = join(dir, "dir-cache.json");
      const open = () => new FS(new TLogPersistence(store, { dirCache: fileDirCache(cachePath, "pond-1") }));
      const DIRS = DIR_CACHE_FOLD_FROM + 6;
      await new FS(new TLogPersistence(store)).transaction(newTxnMeta(["t"]), async (wd) => {
        for (let d = 0; d < DIRS; d++) await wd.createFile(`/d${d}/f.txt`, "file:data", new TextEncoder().encode(`${d}`), { parents: true });
      });
      const entryReads = () => calls.filter((x) => x.op === "get" && x.key.startsWith("part_id=")).length;
      const listAll = async () => (await (await open().view()).globAll("/**")).map((r) => r.path);
      calls.length = 0;
      const first = await listAll();
      expect(first.length).toBe(2 * DIRS);
      expect(entryReads()).toBe(DIRS + 1); // every directory and the root, once
      calls.length = 0;
      expect(await listAll()).toEqual(first);
      expect(entryReads()).toBe(0);
      // A commit that changes one directory (and the root, which gets a new entry).
      await open().transaction(newTxnMeta(["t"]), (wd) => wd.createFile("/d3/g.txt", "file:data", new TextEncoder().encode("g")));
      calls.length = 0;
      expect((await listAll()).length).toBe(2 * DIRS + 1);
      expect(entryReads()).toBe(1); // /d3's new entry file; the root's did not change
      calls.length = 0;
      await listAll();
      expect(entryReads()).toBe(0);
      // Many commits to one directory: a fold keeps one snapshot a directory, not one a commit.
      for (let i = 0; i < 2 * DIR_CACHE_FOLD_FROM; i++) {
        await open().transaction(newTxnMeta(["t"]), (wd) => wd.createFile(`/d5/h${i}.txt`, "file:data", new TextEncoder().encode("h")));
        await listAll();
      }
      const { rows } = fileDirCache(cachePath, "pond-1").load();
      // At most one a directory in the base, and a journal no longer than that (unpruned: 200).
      expect(rows.size).toBeLessThanOrEqual(2 * (DIRS + 1));
      calls.length = 0;
      expect((await listAll()).length).toBe(2 * DIRS + 1 + 2 * DIR_CACHE_FOLD_FROM);
      expect(entryReads()).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("pruneDirCache()", () => {
  test("drops the rows of files keep() refuses, keeps the rest, deletes the cache left empty, and changes nothing on a dry run", () =>
    withDir((dir) => {
      const path = join(dir, "dir-cache.json");
      const cache = fileDirCache(path, "t1");
      const f = (n: number) => `part_id=${DIR}/f${n}.parquet`;
      cache.save(
        new Map([
          [f(1), dirRow({ version: 1 })],
          [f(2), dirRow({ version: 2 })],
          [f(3), null],
        ]),
      );
      cache.append(new Map([[f(4), dirRow({ version: 4 })]]));
      const texts = () => [path, `${path}l`].map((p) => (existsSync(p) ? readFileSync(p, "utf8") : null));
      const before = texts();
      const keep = (p: string) => p !== f(1) && p !== f(4);
      const dry = pruneDirCache(path, "t1", keep, true);
      expect(texts()).toEqual(before);
      const done = pruneDirCache(path, "t1", keep, false);
      expect(done).toEqual(dry);
      expect(done.map((d) => d.dropped)).toEqual([2]);
      expect(done[0]!.after).toBe(readFileSync(path).length);
      expect(done[0]!.before).toBeGreaterThan(done[0]!.after);
      expect(existsSync(`${path}l`)).toBe(false);
      expect(asMap(cache.load())).toEqual({
        rows: new Map([
          [f(2), dirRow({ version: 2 })],
          [f(3), null],
        ]),
        journaled: 0,
      });
      expect(pruneDirCache(path, "t1", keep, false)).toEqual([]);
      // Another pond's cache (table t2) holds nothing of this one: nothing to drop, left alone.
      expect(pruneDirCache(path, "t2", () => false, false)).toEqual([]);
      expect(pruneDirCache(path, "t1", () => false, false).map((d) => d.after)).toEqual([0]);
      expect(existsSync(path)).toBe(false);
    }));
});
