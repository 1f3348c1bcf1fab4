import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalObjectStore, MemoryObjectStore, loadSnapshot, type ObjectStore } from "@pond/oplog";
import { FS, WD, newTxnMeta } from "@pond/tinyfs";
import { createPondTable } from "./create-pond-table.ts";
import { isMerged } from "./partition-index.ts";
import { fileRowCache } from "./row-cache.ts";
import { TransactionConflictError } from "@pond/tinyfs";
import { TLogPersistence, type TLogOptions } from "./tlog-persistence.ts";

const ROOT = "00000000-0000-7000-8000-000000000000";

/** Everything a reader can see: every path, its type, and for files every version with its bytes. */
async function dump(wd: WD, dir = "/"): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const e of await wd.list(dir)) {
    if (e.entryType === "directory") {
      out.push([e.path, "directory", e.versionLastModified], ...(await dump(wd, e.path)));
    } else if (e.entryType === "symlink") {
      out.push([e.path, "symlink", await wd.readlink(e.path)]);
    } else {
      const versions = (await wd.stat(e.path)).versions!;
      const rows = [];
      for (const v of versions) {
        rows.push({ ...v, attributes: v.attributes, bytes: Buffer.from(await wd.readAll(e.path, { version: v.version })).toString("base64") });
      }
      out.push([e.path, e.entryType, rows]);
    }
  }
  return out;
}

/** A collector's day: a series appended a version a commit, now and then another file, folder or link. */
async function work(fs: FS, commits: number): Promise<void> {
  for (let i = 0; i < commits; i++) {
    await fs.transaction(newTxnMeta(["t", String(i)]), async (wd) => {
      await wd.createFile("/s.series", "file:series", new TextEncoder().encode(`series ${i}`), {
        minEventTime: BigInt(i) * 1000n,
        maxEventTime: BigInt(i) * 1000n + 999n,
        attributes: { i },
      });
      if (i % 5 === 0) await wd.createFile(`/d${i % 3}/f.data`, "file:data", new TextEncoder().encode(`data ${i}`), { parents: true });
      if (i % 7 === 3) await wd.createFile("/s.series", "file:series", new TextEncoder().encode(`second in ${i}`), { attributes: { i, second: true } });
      if (i === 11) await wd.symlink("/s.series", "/link");
      if (i % 9 === 4) await wd.mkdir(`/d${i % 3}/sub${i}`, { parents: true });
    });
  }
}

async function pondPair(opts: TLogOptions, store: ObjectStore = new MemoryObjectStore()) {
  let t = 1_790_000_000_000;
  const now = () => t++;
  const plainStore = new MemoryObjectStore();
  await createPondTable(store, "pond-1", newTxnMeta(["test"]));
  await createPondTable(plainStore, "pond-1", newTxnMeta(["test"]));
  let u = 1_790_000_000_000;
  return {
    merging: new TLogPersistence(store, { ...opts, now }),
    plain: new TLogPersistence(plainStore, { compactFromFiles: 0, now: () => u++ }),
    store,
  };
}

describe("merging a partition's entry files at commit", () => {
  test("a series appended 130 times, merging from 8 files: every version, as of every commit, reads as without merging", async () => {
    const { merging, plain, store } = await pondPair({ compactFromFiles: 8 });
    const commits = 130; // past the checkpoint at 100, which must carry the merged files' row versions
    await work(new FS(merging), commits);
    await work(new FS(plain), commits);

    const view = await merging.view();
    // Tiered: at most 7 files of tier 0 and 7 of each merged tier (130 commits' rows make 2 tiers).
    expect(view.index.files(ROOT).length).toBeLessThanOrEqual(7 + 7 * 2);
    expect(view.index.files(ROOT).some(isMerged)).toBe(true);
    // Some commits merged; none lost a row.
    const latest = await loadSnapshot(store);
    expect(latest.files.length).toBeLessThan(await (await plain.view()).snapshot.files.length);

    const expected = await dump(await new FS(plain).view());
    expect(await dump(await new FS(merging).view())).toEqual(expected);
    // A fresh reader (from the checkpoint, no cache in this process) sees the same, row versions included.
    expect(await dump(await new FS(new TLogPersistence(store)).view())).toEqual(expected);
    for (const seq of [1, 7, 8, 9, 40, 99, 100, 101, 129, 130]) {
      expect(await dump(await new FS(merging).view(seq))).toEqual(await dump(await new FS(plain).view(seq)));
    }
    const versions = (await (await new FS(merging).view()).stat("/s.series")).versions!;
    expect(versions.every((v) => typeof v.txnSeq === "number")).toBe(true);
  }, 60_000);

  test("on a local folder with a row cache, a fresh process reads a merged partition from the cache and the same rows", async () => {
    const dir = mkdtempSync(join(tmpdir(), "compaction-"));
    try {
      const cache = () => fileRowCache(join(dir, "row-cache"), "pond-1");
      const { merging, plain, store } = await pondPair({ compactFromFiles: 16, rowCache: cache() }, new LocalObjectStore(join(dir, "data")));
      await work(new FS(merging), 40);
      await work(new FS(plain), 40);
      const expected = await dump(await new FS(plain).view());
      expect(await dump(await new FS(new TLogPersistence(store, { rowCache: cache() })).view())).toEqual(expected);
      expect(await dump(await new FS(new TLogPersistence(store)).view())).toEqual(expected);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  test("older files larger than the cap in all are left as they are, and read the same", async () => {
    // Entry files of ~2.9 KB (1,000 random bytes inline, and the root's listing): the first
    // merges fit under 9,000 bytes, and once the merged file has grown they no longer do.
    const { merging, plain } = await pondPair({ compactFromFiles: 4, compactMaxBytes: 9000 });
    const contents = Array.from({ length: 10 }, () => crypto.getRandomValues(new Uint8Array(1000)));
    const write = async (p: TLogPersistence) => {
      for (const c of contents) await new FS(p).transaction(newTxnMeta(["t"]), (wd) => wd.createFile("/big.data", "file:data", c));
    };
    await write(merging);
    await write(plain);
    const files = (await merging.view()).index.files(ROOT);
    expect(files.some(isMerged)).toBe(true); // merged while the older files were small enough
    expect(files.length).toBeGreaterThan(4); // and no more once they were not
    expect(await dump(await new FS(merging).view())).toEqual(await dump(await new FS(plain).view()));
  });

  test("two writers racing through merges: the loser of each commit retries on the new state, and no version is lost", async () => {
    const store = new MemoryObjectStore();
    await createPondTable(store, "pond-1", newTxnMeta(["test"]));
    const a = new TLogPersistence(store, { compactFromFiles: 4 });
    const b = new TLogPersistence(store, { compactFromFiles: 4 });
    const append = async (_p: TLogPersistence, txn: Awaited<ReturnType<TLogPersistence["begin"]>>, label: string) => {
      await new WD(txn).createFile("/s.series", "file:series", new TextEncoder().encode(label), { attributes: { label } });
      return txn.commit();
    };
    let conflicts = 0;
    for (let i = 0; i < 12; i++) {
      // Both start from the same state; a commits first, so b's commit (and its merge) loses.
      const [ta, tb] = [await a.begin(newTxnMeta(["a"])), await b.begin(newTxnMeta(["b"]))];
      await append(a, ta, `a${i}`);
      try {
        await append(b, tb, `b${i}`);
      } catch (e) {
        if (!(e instanceof TransactionConflictError)) throw e;
        conflicts++;
        await append(b, await b.begin(newTxnMeta(["b"])), `b${i}`);
      }
    }
    expect(conflicts).toBe(12);
    const versions = (await (await new FS(new TLogPersistence(store)).view()).stat("/s.series")).versions!;
    expect(versions.map((v) => v.attributes.label)).toEqual(Array.from({ length: 12 }, (_, i) => [`a${i}`, `b${i}`]).flat());
    expect((await a.view()).index.files(ROOT).length).toBeLessThan(4);
  });

  test("the removed files stay: the log still names them for earlier versions", async () => {
    const { merging, store } = await pondPair({ compactFromFiles: 4 });
    await work(new FS(merging), 12);
    const now = await loadSnapshot(store);
    const before = await loadSnapshot(store, { version: 3 });
    const gone = before.files.filter((f) => !now.files.some((g) => g.path === f.path));
    expect(gone.length).toBeGreaterThan(0);
    for (const f of gone) expect(await store.head(f.path)).not.toBeNull();
  });
});
