import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalObjectStore } from "@pond/oplog";
import { FS, WD, newTxnMeta } from "@pond/tinyfs";
import { stageContent } from "./content-store.ts";
import { createPondTable } from "./create-pond-table.ts";
import { resolveSources, sourceVersionKeys, type ResolvedSource } from "./query/pond-sources.ts";
import { fileRowCache } from "./row-cache.ts";
import { seriesSchemaOf } from "./query/series-schema.ts";
import { fileSeriesSummaryCache } from "./series-summary.ts";
import { fileSeriesHashCache, mayHoldHash } from "./series-hashes.ts";
import { TLogPersistence } from "./tlog-persistence.ts";
import { TLogView } from "./tlog-view.ts";
import type { TLogTransaction } from "./tlog-transaction.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A pond on disk whose persistences (one a "process") keep row caches and series summaries in `control`. */
async function pond() {
  const dir = mkdtempSync(join(tmpdir(), "pond-summary-"));
  dirs.push(dir);
  const store = new LocalObjectStore(join(dir, "data"));
  await createPondTable(store, "pond-1", newTxnMeta(["test"]));
  let t = 1_790_000_000_000;
  const control = join(dir, "control");
  /** Loads of a hash-prefix file, by every persistence opened. */
  const hashLoads = { n: 0 };
  const open = (compactFromFiles = 8) => {
    const hashes = fileSeriesHashCache(join(control, "row-cache"), "pond-1");
    return new TLogPersistence(store, {
      now: () => t++,
      rowCache: fileRowCache(join(control, "row-cache"), "pond-1"),
      seriesSummaries: fileSeriesSummaryCache(join(control, "row-cache"), "pond-1"),
      seriesHashes: {
        ...hashes,
        load: (part) => {
          hashLoads.n++;
          return hashes.load(part);
        },
      },
      compactFromFiles,
    });
  };
  return { dir, store, control, open, hashLoads };
}

/** Appends versions [from, to) of /d/s.series, one a commit, a new column from version 7 on, and a data file now and then. */
async function append(p: TLogPersistence, from: number, to: number): Promise<void> {
  const fs = new FS(p);
  for (let i = from; i < to; i++) {
    await fs.transaction(newTxnMeta(["t", String(i)]), async (wd) => {
      const columns = [{ name: "t", type: "TIMESTAMP" }, ...(i >= 7 ? [{ name: "x", type: "DOUBLE" }] : [])];
      await wd.createFile("/d/s.series", "file:series", new TextEncoder().encode(`version ${i}`), {
        parents: true,
        minEventTime: i === 4 ? null : BigInt(i) * 1000n,
        maxEventTime: i === 4 ? null : BigInt(i) * 1000n + 999n,
        attributes: { columns, timestamp_column: "t", i, source_sha256: (i % 10).toString(16).repeat(64) },
      });
      if (i % 5 === 0) await wd.createFile(`/d/f${i}.data`, "file:data", new TextEncoder().encode(`data ${i}`));
    });
  }
}

/** What a reader of the whole series scans: resolveSources' files without merged files' version lists. */
function scanned(s: ResolvedSource[]) {
  return s.map((r) => ({
    path: r.path,
    timestampColumn: r.timestampColumn,
    newestRowPerTime: r.newestRowPerTime,
    files: r.files.map((f) => ({ ...f, merged: f.merged && { all: f.merged.all } })),
  }));
}

async function both(p: TLogPersistence) {
  const view = await p.view();
  const st = await new WD(view).stat("/d/s.series");
  const s = await view.seriesSummary(st.parentId, st.nodeId);
  // What an append checks against: the schema of every version, and every version's hashes.
  expect(s.schema).toEqual(seriesSchemaOf(st.versions!));
  expect(s.lastVersion).toBe(st.versions!.length);
  expect([s.newestSize, s.newestTimestamp]).toEqual([st.versions!.at(-1)!.size, st.versions!.at(-1)!.timestamp.toString()]);
  expect(Object.keys(s)).not.toContain("hashPrefixes");
  const h = await view.seriesHashes(st.parentId, st.nodeId);
  expect(h.lastVersion).toBe(st.versions!.length);
  expect(st.versions!.every((v) => mayHoldHash(h, v.sha256) && mayHoldHash(h, String(v.attributes.source_sha256)))).toBe(true);
  expect(mayHoldHash(h, "f".repeat(64))).toBe(false);
  // The same prefixes as built from every version in a process that keeps nothing.
  expect(h).toEqual(await (await new TLogPersistence(view.store).view()).seriesHashes(st.parentId, st.nodeId));
  // Time ranges: the same files (a merged file's version and event times under a range are its whole file's).
  const files = (r: ResolvedSource[]) => r.map((x) => ({ ts: x.timestampColumn, files: x.files.map((f) => [f.hostPath, f.columns, !!f.merged]) }));
  for (const range of [{ start: 3000n, end: 5000n }, { start: 15_500n }, { end: 1500n }, { start: 28_000n, end: 40_000n }]) {
    expect(files(await resolveSources(view, new WD(view), "/d/s.series", { range, summary: true }))).toEqual(
      files(await resolveSources(view, new WD(view), "/d/s.series", { range })),
    );
  }
  return {
    full: scanned(await resolveSources(view, new WD(view), "/d/s.series")),
    summary: scanned(await resolveSources(view, new WD(view), "/d/s.series", { summary: true })),
  };
}

describe("series summaries", () => {
  test("resolveSources({summary}) lists the files a full resolve lists, through appends, compactions and merges, kept between processes", async () => {
    const { control, open, store } = await pond();
    await append(open(), 0, 5);
    let r = await both(open());
    expect(r.summary).toEqual(r.full);
    expect(r.full[0]!.files.length).toBe(5);
    // Grown by appends only (the kept summary is extended by the added entry files), then
    // past a compaction of the folder's entry files (every row read again).
    for (const to of [6, 7, 12, 30]) {
      await append(open(), to === 6 ? 5 : to === 7 ? 6 : to === 12 ? 7 : 12, to);
      r = await both(open());
      expect(r.summary).toEqual(r.full);
      expect(r.full[0]!.files.length).toBe(to);
    }
    expect(readdirSync(join(control, "row-cache")).filter((f) => f.endsWith(".series.json")).length).toBe(1);

    // Merge versions 2..20 into one file (as `pond maintain merge` records it), then append.
    const p = open();
    const txn = (await p.begin(newTxnMeta(["pond", "maintain", "merge"]))) as TLogTransaction;
    const st = await new WD(txn).stat("/d/s.series");
    const staged = await stageContent(store, new TextEncoder().encode("merged 2..20"), { forceLarge: true });
    const merged = Array.from({ length: 19 }, (_, i) => i + 2);
    await txn.mergeVersions(st.parentId, st.nodeId, merged, { sha256: staged.sha256, size: staged.size });
    await txn.commit();
    r = await both(open());
    expect(r.summary).toEqual(r.full);
    expect(r.full[0]!.files.length).toBe(30 - 19 + 1);
    const m = r.full[0]!.files[1]!;
    // Version 4 recorded no event times: the merged file's range is unknown, as resolveSources widens it.
    expect({ version: m.version, sha256: m.sha256, min: m.minEventTime, merged: m.merged }).toEqual({
      version: 2,
      sha256: staged.sha256,
      min: null,
      merged: { all: true },
    });
    await append(open(), 30, 33);
    r = await both(open());
    expect(r.summary).toEqual(r.full);
    expect(r.full[0]!.files.map((f) => f.version).slice(-3)).toEqual([31, 32, 33]);
  });

  test("a read of the whole series, a range or the newest version neither loads nor makes the hash-prefix file; a duplicate check rebuilds it", async () => {
    const { control, open, hashLoads } = await pond();
    await append(open(), 0, 12);
    const rowCache = join(control, "row-cache");
    const hashFiles = () => readdirSync(rowCache).filter((f) => f.endsWith(".series-hashes.json"));
    expect(hashFiles()).toEqual([]);
    // Readers, each in a process of its own: none asks for the prefixes.
    const read = async () => {
      let view = await open().view();
      await resolveSources(view, new WD(view), "/d/s.series", { summary: true });
      view = await open().view();
      await resolveSources(view, new WD(view), "/d/s.series", { summary: true, range: { start: 3000n, end: 5000n } });
      view = await open().view();
      const st = (await new WD(view).resolve("/d/s.series"))!;
      return view.seriesSummary(st.parentId, st.nodeId);
    };
    // (A commit that compacted the folder looked for one to follow, and found none.)
    hashLoads.n = 0;
    await read();
    expect(hashLoads.n).toBe(0);
    expect(hashFiles()).toEqual([]);
    // A duplicate check's read makes it, then it is kept; readers still never load it.
    let view = await open().view();
    let st = (await new WD(view).resolve("/d/s.series"))!;
    const h = await view.seriesHashes(st.parentId, st.nodeId);
    expect(h.lastVersion).toBe(12);
    expect(hashFiles().length).toBe(1);
    await append(open(), 12, 14);
    hashLoads.n = 0;
    await read();
    expect(hashLoads.n).toBe(0);
    // Stale by two appends: the next check extends it from the two added entry files.
    view = await open().view();
    st = (await new WD(view).resolve("/d/s.series"))!;
    const grown = await view.seriesHashes(st.parentId, st.nodeId);
    expect(grown.lastVersion).toBe(14);
    expect(grown.prefixes.startsWith(h.prefixes)).toBe(true);
    // Deleted: rebuilt from the rows, the same.
    rmSync(join(rowCache, hashFiles()[0]!));
    view = await open().view();
    expect(await view.seriesHashes(st.parentId, st.nodeId)).toEqual(grown);
    expect(hashFiles().length).toBe(1);
  });

  test("a summary of format 5, holding the hash prefixes, is split into the two files when read, not rebuilt", async () => {
    const { control, open } = await pond();
    await append(open(), 0, 9);
    let view = await open().view();
    const st = (await new WD(view).resolve("/d/s.series"))!;
    const summary = await view.seriesSummary(st.parentId, st.nodeId);
    const hashes = await view.seriesHashes(st.parentId, st.nodeId);
    const rowCache = join(control, "row-cache");
    const summaryFile = join(rowCache, readdirSync(rowCache).find((f) => f.endsWith(".series.json"))!);
    const hashFile = join(rowCache, readdirSync(rowCache).find((f) => f.endsWith(".series-hashes.json"))!);
    const j = JSON.parse(readFileSync(summaryFile, "utf8"));
    // As the binary before the split wrote it, with a marker no rebuild would produce.
    const old = { ...j, format: 5, series: { [st.nodeId]: { ...j.series[st.nodeId], newestSize: 4242, hashPrefixes: hashes.prefixes } } };
    writeFileSync(summaryFile, JSON.stringify(old));
    rmSync(hashFile);
    view = await open().view();
    expect((await view.seriesSummary(st.parentId, st.nodeId)).newestSize).toBe(4242);
    const split = JSON.parse(readFileSync(summaryFile, "utf8"));
    expect(split.format).toBe(6);
    expect(split.series[st.nodeId]).toEqual({ ...j.series[st.nodeId], newestSize: 4242 });
    expect(existsSync(hashFile)).toBe(true);
    expect(JSON.parse(readFileSync(hashFile, "utf8")).series[st.nodeId]).toEqual(hashes);
    expect(summary.newestSize).not.toBe(4242);
  });

  test("a torn or foreign summary is not trusted; a summarized source refuses to be split by version", async () => {
    const { control, open } = await pond();
    await append(open(), 0, 10);
    const before = await both(open());
    const file = readdirSync(join(control, "row-cache")).find((f) => f.endsWith(".series.json"))!;
    writeFileSync(join(control, "row-cache", file), '{"format":1,"table":"pond-1","part":');
    expect((await both(open())).summary).toEqual(before.full);
    writeFileSync(join(control, "row-cache", file), JSON.stringify({ format: 3, table: "other", part: "x", entryFiles: [], series: {} }));
    expect((await both(open())).summary).toEqual(before.full);
    const view = await open().view();
    const [src] = await resolveSources(view, new WD(view), "/d/s.series", { summary: true });
    expect(() => sourceVersionKeys(src!)).toThrow("lists no versions");
  });
});

describe("a time range over merged files only", () => {
  test("resolveSources({summary, range}) reads the versions of the files in range, not every version, and answers as a full resolve", async () => {
    const { store, open } = await pond();
    // A collector's series: every version with event times and the same columns.
    const fs = new FS(open());
    for (let i = 0; i < 120; i++)
      await fs.transaction(newTxnMeta(["t", String(i)]), async (wd) => {
        await wd.createFile("/d/s.series", "file:series", new TextEncoder().encode(`version ${i}`), {
          parents: true,
          minEventTime: BigInt(i) * 1000n,
          maxEventTime: BigInt(i) * 1000n + 999n,
          attributes: { columns: [{ name: "t", type: "TIMESTAMP" }], timestamp_column: "t" },
        });
      });
    // Versions 8..20 and 80..100 into merged files, as `pond maintain merge` records them.
    for (const [from, to] of [
      [8, 20],
      [80, 100],
    ] as const) {
      const txn = (await open().begin(newTxnMeta(["pond", "maintain", "merge"]))) as TLogTransaction;
      const st = await new WD(txn).stat("/d/s.series");
      const staged = await stageContent(store, new TextEncoder().encode(`merged ${from}..${to}`), { forceLarge: true });
      await txn.mergeVersions(
        st.parentId,
        st.nodeId,
        Array.from({ length: to - from + 1 }, (_, i) => from + i),
        { sha256: staged.sha256, size: staged.size },
      );
      await txn.commit();
    }
    const whole = (r: ResolvedSource[]) => r.map(({ skipped: _, ...x }) => x);
    // Version v spans [(v - 1) * 1000, (v - 1) * 1000 + 999].
    const ranges = [
      { start: 85_000n, end: 88_000n }, // inside the second merged file only
      { start: 90_100n, end: 90_200n }, // inside one version's span of it
      { start: 90_999n, end: 90_999n }, // the last µs of a version's span
      { start: 12_000n, end: 15_000n }, // the first merged file only
      { start: 99_500n, end: 100_000n }, // the second merged file's end: its last version is in (from the summary)
      { start: 79_000n, end: 79_500n }, // the second merged file's start: its first version is in (from the summary)
    ];
    const real = TLogView.prototype.versions;
    const read: number[] = [];
    try {
      for (const range of ranges) {
        const view = await open().view();
        const st = (await new WD(view).resolve("/d/s.series"))!;
        TLogView.prototype.versions = async function (this: TLogView, parentId, nodeId) {
          read.push(1);
          return real.call(this, parentId, nodeId);
        };
        const got = await resolveSources(view, new WD(view), "/d/s.series", { range, summary: true });
        TLogView.prototype.versions = real;
        const full = await resolveSources(view, new WD(view), "/d/s.series", { range });
        // Strictly inside a merged file's span the versions decide; where a span starts or ends, the summary does.
        const inside = range.start > 79_000n && range.end <= 99_999n;
        expect(got[0]!.summarized, `range ${range.start}..${range.end}`).toBe(inside || range.start === 12_000n ? undefined : true);
        if (got[0]!.summarized) expect(got[0]!.files.map((f) => f.hostPath)).toEqual(full[0]!.files.map((f) => f.hostPath));
        else expect(whole(got), `range ${range.start}..${range.end}`).toEqual(whole(full));
        // What was read instead of every version: the versions of the files in range.
        const some = await view.versionsBetween(st.parentId, st.nodeId, [{ lo: 80, hi: 100 }]);
        expect(some!.map((v) => v.version)).toEqual(Array.from({ length: 21 }, (_, i) => 80 + i));
      }
    } finally {
      TLogView.prototype.versions = real;
    }
    expect(read).toEqual([]);
  }, 60_000);
});
