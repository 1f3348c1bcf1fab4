import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalObjectStore, MemoryObjectStore, type ActiveFile } from "@pond/oplog";
import { FS, WD, newTxnMeta, type ReadView } from "@pond/tinyfs";
import { tierOf, type CompactOptions } from "./compaction.ts";
import { stageContent } from "./content-store.ts";
import { createPondTable } from "./create-pond-table.ts";
import { fileRowCache } from "./row-cache.ts";
import { fileSeriesSummaryCache } from "./series-summary.ts";
import { fileSeriesHashCache } from "./series-hashes.ts";
import { TLogPersistence } from "./tlog-persistence.ts";
import type { TLogTransaction } from "./tlog-transaction.ts";
import type { TLogView } from "./tlog-view.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A small seeded generator (mulberry32): a failing seed replays exactly. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every path, type and, for files, every version with its bytes: what a reader can see. */
async function dump(wd: WD, dir = "/"): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const e of await wd.list(dir)) {
    if (e.entryType === "directory") out.push([e.path, "directory", e.versionLastModified], ...(await dump(wd, e.path)));
    else {
      const versions = (await wd.stat(e.path)).versions!;
      const rows = [];
      for (const v of versions) rows.push({ ...v, bytes: Buffer.from(await wd.readAll(e.path, { version: v.version })).toString("base64") });
      out.push([e.path, e.entryType, rows]);
    }
  }
  return out;
}

/** The active entry files of `view` by partition. */
function partitions(view: TLogView): Map<string, ActiveFile[]> {
  const out = new Map<string, ActiveFile[]>();
  for (const f of view.snapshot.files) {
    const part = f.partitionValues!.part_id!;
    out.set(part, [...(out.get(part) ?? []), f]);
  }
  return out;
}

/** Per partition: each tier within its bound, and every file row in exactly one active file. */
async function checkPartitions(view: TLogView, c: CompactOptions, what: string): Promise<number> {
  let most = 0;
  for (const [part, files] of partitions(view)) {
    const tiers = new Map<number, number>();
    for (const f of files) {
      const t = tierOf(f, c);
      expect(t, `${what}: ${f.path} has a tier`).toBeDefined();
      tiers.set(t!, (tiers.get(t!) ?? 0) + 1);
    }
    for (const [t, n] of tiers) expect(n, `${what}: files of tier ${t} in ${part}`).toBeLessThanOrEqual(t === 0 ? c.fromFiles - 1 : c.fanIn - 1);
    most = Math.max(most, files.length);
    const seen = new Set<string>();
    for (const f of files) {
      for (const r of await view.index.rows(f)) {
        if (r.file_type === "directory") continue;
        const k = `${r.node_id}/${r.version}`;
        expect(seen.has(k), `${what}: ${k} in two active files of ${part}`).toBe(false);
        seen.add(k);
      }
    }
  }
  return most;
}

describe("tiered compaction", () => {
  for (const [seed, fromFiles, fanIn, commits] of [
    [1, 4, 2, 300],
    [2, 8, 3, 400],
    [3, 3, 4, 250],
    [4, 16, 2, 500],
  ] as const) {
    test(`seed ${seed}: ${commits} random commits, tier 0 merged from ${fromFiles} files, tiers of ${fanIn}: bounded files, each row once, the same answers as without compaction`, async () => {
      const c: CompactOptions = { fromFiles, fanIn, maxBytes: 64 * 1024 * 1024 };
      const rand = rng(seed);
      let t = 1_790_000_000_000;
      let u = t;
      const stores = [new MemoryObjectStore(), new MemoryObjectStore()];
      for (const s of stores) await createPondTable(s, "pond-1", newTxnMeta(["test"]));
      const tiered = new TLogPersistence(stores[0]!, { now: () => t++, compactFromFiles: fromFiles, compactFanIn: fanIn });
      const plain = new TLogPersistence(stores[1]!, { now: () => u++, compactFromFiles: 0 });
      // One operation list, applied to both ponds.
      const ops: ((wd: WD) => Promise<unknown>)[][] = [];
      for (let i = 0; i < commits; i++) {
        const txn: ((wd: WD) => Promise<unknown>)[] = [];
        const n = rand() < 0.1 ? 2 : 1;
        for (let k = 0; k < n; k++) {
          const s = rand() < 0.7 ? "/a/s.series" : "/b/t.series";
          txn.push((wd) =>
            wd.createFile(s, "file:series", new TextEncoder().encode(`${s} ${i}.${k}`), {
              parents: true,
              minEventTime: BigInt(i) * 1000n,
              maxEventTime: BigInt(i) * 1000n + 999n,
              attributes: { i, k },
            }),
          );
        }
        const r = rand();
        if (r < 0.08) txn.push((wd) => wd.createFile(`/a/f${i % 5}.data`, "file:data", new TextEncoder().encode(`data ${i}`), { parents: true }));
        else if (r < 0.1) txn.push((wd) => wd.mkdir(`/c/d${i}`, { parents: true }));
        ops.push(txn);
      }
      let most = 0;
      for (const [i, txn] of ops.entries()) {
        for (const p of [tiered, plain])
          await new FS(p).transaction(newTxnMeta(["t", String(i)]), async (wd) => {
            for (const op of txn) await op(wd);
          });
        if (i % 25 === 24 || i === ops.length - 1) most = Math.max(most, await checkPartitions(await tiered.view(), c, `after commit ${i + 1}`));
      }
      // Merging happened, and the files stayed few though the series' folder holds hundreds of rows.
      const snap = (await tiered.view()).snapshot.files.length;
      expect(snap).toBeLessThan((await plain.view()).snapshot.files.length / 4);
      expect(most).toBeGreaterThan(1);
      const expected = await dump(await new FS(plain).view());
      expect(await dump(await new FS(tiered).view())).toEqual(expected);
      // A fresh reader (no decoded rows in this process) and an older snapshot read the same.
      expect(await dump(await new FS(new TLogPersistence(stores[0]!)).view())).toEqual(expected);
      const at = Math.floor(commits / 2);
      expect(await dump(await new FS(tiered).view(at))).toEqual(await dump(await new FS(plain).view(at)));
    }, 120_000);
  }

  test("a payload merge rewrites only the entry files that hold a merged version's row", async () => {
    const store = new MemoryObjectStore();
    await createPondTable(store, "pond-1", newTxnMeta(["test"]));
    const p = new TLogPersistence(store, { compactFromFiles: 4, compactFanIn: 2 });
    const fs = new FS(p);
    for (let i = 0; i < 60; i++)
      await fs.transaction(newTxnMeta(["t"]), (wd) =>
        wd.createFile("/s.series", "file:series", new TextEncoder().encode(`v${i}`), { attributes: { columns: [{ name: "t", type: "TIMESTAMP" }] } }),
      );
    const before = await p.view();
    const st = await new WD(before).stat("/s.series");
    const files = before.index.files(st.parentId);
    // Versions 58..59 are in the newest files (tier 0 or the newest merged one); the oldest merged files hold none of them.
    const holding = new Set<string>();
    for (const f of files) if ((await before.index.rows(f)).some((r) => r.node_id === st.nodeId && r.version >= 58 && r.version <= 59)) holding.add(f.path);
    const txn = (await p.begin(newTxnMeta(["pond", "maintain", "merge"]))) as TLogTransaction;
    const staged = await stageContent(store, new TextEncoder().encode("merged 58..59"), { forceLarge: true });
    await txn.mergeVersions(st.parentId, st.nodeId, [58, 59], { sha256: staged.sha256, size: staged.size });
    await txn.commit();
    const after = await p.view();
    const kept = new Set(after.index.files(st.parentId).map((f) => f.path));
    // Merged files and the newest version's own file (tier 0) that hold none of them stay as they are.
    const untouched = files.filter((f) => !holding.has(f.path));
    expect(untouched.filter((f) => tierOf(f, { fromFiles: 4, fanIn: 2 })! > 0).length).toBeGreaterThan(0);
    expect(untouched.filter((f) => tierOf(f, { fromFiles: 4, fanIn: 2 }) === 0).length).toBeGreaterThan(0);
    for (const f of untouched) expect(kept.has(f.path)).toBe(true);
    for (const path of holding) expect(kept.has(path)).toBe(false);
    const versions = (await new WD(after).stat("/s.series")).versions!;
    expect(versions.map((v) => v.version)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(versions.filter((v) => after.storedPayload(v).sha256 === staged.sha256).map((v) => v.version)).toEqual([58, 59]);
    await checkPartitions(after, { fromFiles: 4, fanIn: 2, maxBytes: 1 << 30 }, "after the merge");
  });
});

describe("series summaries follow compactions and merges", () => {
  test("after every tiered compaction and every merge, the kept summary and hash prefixes are already those of the new files and equal ones rebuilt from every row", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pond-tier-summary-"));
    dirs.push(dir);
    const store = new LocalObjectStore(join(dir, "data"));
    await createPondTable(store, "pond-1", newTxnMeta(["test"]));
    const summaries = fileSeriesSummaryCache(join(dir, "row-cache"), "pond-1");
    const hashes = fileSeriesHashCache(join(dir, "row-cache"), "pond-1");
    let t = 1_790_000_000_000;
    const p = new TLogPersistence(store, {
      now: () => t++,
      rowCache: fileRowCache(join(dir, "row-cache"), "pond-1"),
      seriesSummaries: summaries,
      seriesHashes: hashes,
      compactFromFiles: 4,
      compactFanIn: 2,
    });
    const fs = new FS(p);
    const append = async (i: number) =>
      fs.transaction(newTxnMeta(["t", String(i)]), async (wd) => {
        const columns = [{ name: "t", type: "TIMESTAMP" }, ...(i % 40 >= 30 ? [{ name: "x", type: "DOUBLE" }] : [])];
        await wd.createFile("/d/s.series", "file:series", new TextEncoder().encode(`version ${i}`), {
          parents: true,
          minEventTime: i === 17 ? null : BigInt(i) * 1000n,
          maxEventTime: i === 17 ? null : BigInt(i) * 1000n + 999n,
          attributes: { columns, timestamp_column: "t", source_sha256: (i % 16).toString(16).repeat(64) },
        });
        if (i % 9 === 0) await wd.createFile(`/d/f${i}.data`, "file:data", new TextEncoder().encode(`data ${i}`));
      });
    /** The kept summary of /d: it must already name the newest files (followed at commit, not rebuilt by this read), and equal a rebuild. */
    let followed = 0;
    const check = async (what: string) => {
      const view = await p.view();
      const st = await new WD(view as ReadView).stat("/d/s.series");
      const paths = view.index
        .files(st.parentId)
        .map((f) => f.path)
        .sort();
      const kept = summaries.load(st.parentId);
      expect(kept?.entryFiles, what).toEqual(paths);
      // Rebuilt from every row: a fresh process with no summaries at all.
      const fresh = await new TLogPersistence(store).view();
      expect(structuredClone(kept!.series[st.nodeId]), what).toEqual(structuredClone(await fresh.seriesSummary(st.parentId, st.nodeId)));
      // The hash prefixes, kept from the first check on (only a duplicate check asks for them):
      // followed too, though no append since the last check extended them.
      if (followed === 0) await view.seriesHashes(st.parentId, st.nodeId);
      const keptHashes = hashes.load(st.parentId);
      expect(keptHashes?.entryFiles, what).toEqual(paths);
      expect(keptHashes!.series[st.nodeId], what).toEqual(await fresh.seriesHashes(st.parentId, st.nodeId));
      expect(keptHashes!.series[st.nodeId]!.lastVersion, what).toBe(st.versions!.length);
      followed++;
    };
    const merge = async (from: number, to: number, label: string) => {
      const txn = (await p.begin(newTxnMeta(["pond", "maintain", "merge"]))) as TLogTransaction;
      const st = await new WD(txn).stat("/d/s.series");
      const staged = await stageContent(store, new TextEncoder().encode(label), { forceLarge: true });
      const versions = Array.from({ length: to - from + 1 }, (_, i) => from + i);
      await txn.mergeVersions(st.parentId, st.nodeId, versions, { sha256: staged.sha256, size: staged.size });
      return txn;
    };
    for (let i = 0; i < 70; i++) {
      const files = (await p.view()).snapshot.files.length;
      await append(i);
      // Each commit that removed entry files (a compaction) is checked; appends are followed as before.
      if ((await p.view()).snapshot.files.length <= files) await check(`after append ${i}`);
    }
    // One merge of a run; then the run with more versions (its merged file consumed whole); then two runs in one transaction.
    let txn = await merge(2, 20, "m1");
    await txn.commit();
    await check("after merging 2..20");
    txn = await merge(2, 40, "m2");
    await txn.commit();
    await check("after merging 2..40 (the file of 2..20 inside it)");
    txn = await merge(41, 50, "m3");
    const st = await new WD(txn).stat("/d/s.series");
    const staged = await stageContent(store, new TextEncoder().encode("m4"), { forceLarge: true });
    await txn.mergeVersions(st.parentId, st.nodeId, [60, 61, 62], { sha256: staged.sha256, size: staged.size });
    await txn.commit();
    await check("after merging 41..50 and 60..62 at once");
    for (let i = 70; i < 90; i++) {
      const files = (await p.view()).snapshot.files.length;
      await append(i);
      if ((await p.view()).snapshot.files.length <= files) await check(`after append ${i}`);
    }
    expect(followed).toBeGreaterThan(8);
  }, 60_000);
});

describe("a merge of a series' newest versions", () => {
  test("in a fresh process reads the entry files holding them, not the folder's row cache of every row; every version answers the same", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pond-tier-fresh-"));
    dirs.push(dir);
    const store = new LocalObjectStore(join(dir, "data"));
    await createPondTable(store, "pond-1", newTxnMeta(["test"]));
    let t = 1_790_000_000_000;
    const caches = join(dir, "row-cache");
    /** A persistence as one process opens it; `loads` counts its row cache's loads of a whole partition. */
    const open = () => {
      const loads = { n: 0 };
      const rows = fileRowCache(caches, "pond-1");
      const p = new TLogPersistence(store, {
        now: () => t++,
        rowCache: {
          ...rows,
          load: (part) => {
            loads.n++;
            return rows.load(part);
          },
        },
        seriesSummaries: fileSeriesSummaryCache(caches, "pond-1"),
        compactFromFiles: 4,
        compactFanIn: 2,
      });
      return { p, loads };
    };
    const first = open();
    const fs = new FS(first.p);
    for (let i = 0; i < 120; i++)
      await fs.transaction(newTxnMeta(["t", String(i)]), async (wd) => {
        await wd.createFile("/d/s.series", "file:series", new TextEncoder().encode(`version ${i}`), {
          parents: true,
          minEventTime: BigInt(i) * 1000n,
          maxEventTime: BigInt(i) * 1000n + 999n,
          attributes: { columns: [{ name: "t", type: "TIMESTAMP" }], timestamp_column: "t" },
        });
      });
    // Every version read once: the row cache of the folder is on disk now, as after any describe.
    const before = (await new WD((await first.p.view()) as ReadView).stat("/d/s.series")).versions!;
    expect(first.loads.n).toBeGreaterThan(0);

    const { p, loads } = open();
    const txn = (await p.begin(newTxnMeta(["pond", "maintain", "merge"]))) as TLogTransaction;
    const st = (await new WD(txn).resolve("/d/s.series"))!;
    const staged = await stageContent(store, new TextEncoder().encode("merged 117..119"), { forceLarge: true });
    await txn.mergeVersions(st.parentId, st.nodeId, [117, 118, 119], { sha256: staged.sha256, size: staged.size });
    await txn.commit();
    expect(loads.n).toBe(0);

    const fresh = await new TLogPersistence(store).view();
    const after = (await new WD(fresh as ReadView).stat("/d/s.series")).versions!;
    const visible = (vs: typeof before) => vs.map((v) => [v.version, v.sha256, v.size, v.timestamp, v.txnSeq, v.minEventTime, v.maxEventTime, v.attributes]);
    expect(visible(after)).toEqual(visible(before));
    expect(after.filter((v) => fresh.storedPayload(v).sha256 === staged.sha256).map((v) => v.version)).toEqual([117, 118, 119]);
    await checkPartitions(fresh, { fromFiles: 4, fanIn: 2, maxBytes: 1 << 30 }, "after the merge");
  }, 60_000);
});
