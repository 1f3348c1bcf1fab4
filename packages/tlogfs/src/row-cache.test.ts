import { describe, expect, test } from "bun:test";
import { appendFileSync, existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryObjectStore, recordingStore, type OplogEntry } from "@pond/oplog";
import { FS, newTxnMeta } from "@pond/tinyfs";
import { createPondTable } from "./create-pond-table.ts";
import { ROW_CACHE_FOLD_FROM, ROW_CACHE_FROM_FILES } from "./partition-index.ts";
import { fileRowCache, pruneRowCache } from "./row-cache.ts";
import { fileSeriesSummaryCache } from "./series-summary.ts";
import { fileSeriesHashCache } from "./series-hashes.ts";
import { pruneSeriesSummaries } from "./series-part-cache.ts";
import { readFileSync } from "node:fs";
import { TLogPersistence } from "./tlog-persistence.ts";

const PART = "00000000-0000-7000-8000-000000000000";

function row(over: Partial<OplogEntry> = {}): OplogEntry {
  return {
    part_id: PART,
    node_id: "01a20daf-28cb-776d-bee9-1744f8bf1660",
    file_type: "file:series",
    version: 1,
    timestamp: 1795525933123456n,
    content: null,
    sha256: "6e96436441c147db823637f4eea63c33ad7922e4a8726013c42993ea9408d1fd",
    size: 19266,
    min_event_time: -62135596800000000n,
    max_event_time: 253402300799999999n,
    attributes: '{"rows":1000,"columns":[{"name":"t","type":"TIMESTAMP"}],"note":"quotes \\" and ünïcode"}',
    ...over,
  };
}

/** Runs `fn` with a fresh folder, removed afterwards. */
function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), "rowcache-"));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A pond in memory whose object reads are recorded, and a folder for its row cache. */
async function recordedPond() {
  const dir = mkdtempSync(join(tmpdir(), "rowcache-"));
  const inner = new MemoryObjectStore();
  await createPondTable(inner, "pond-1", newTxnMeta(["test"]));
  return { dir, cacheDir: join(dir, "row-cache"), ...recordingStore(inner) };
}

describe("fileRowCache()", () => {
  test("rows come back as they went in: bigints, nulls, inline bytes (empty too)", () =>
    withDir((dir) => {
      const cache = fileRowCache(dir, "pond-1");
      const rows = [
        row(),
        row({ version: 2, min_event_time: null, max_event_time: null, content: new Uint8Array([0, 1, 2, 255, 10, 34]), file_type: "file:data" }),
        row({ version: 3, content: new Uint8Array(0), size: 0, attributes: "{}" }),
      ];
      // Paths in the partition's own folder are kept short, others whole; times past 2^53 µs as text.
      const own = `part_id=${PART}/part-1.parquet`;
      cache.save(
        PART,
        new Map([
          ["part_id=x/a.parquet", rows],
          ["part_id=x/b.parquet", []],
          [own, [row({ version: 4 })]],
        ]),
      );
      const back = fileRowCache(dir, "pond-1").load(PART).files;
      expect([...back.keys()]).toEqual(["part_id=x/a.parquet", "part_id=x/b.parquet", own]);
      expect(back.get("part_id=x/a.parquet")).toEqual(rows);
      expect(back.get("part_id=x/b.parquet")).toEqual([]);
      expect(back.get(own)).toEqual([row({ version: 4 })]);
    }));

  test("another pond's cache, another partition's, a torn file or a missing one count as empty", () =>
    withDir((dir) => {
      expect(fileRowCache(dir, "pond-1").load(PART).files.size).toBe(0);
      fileRowCache(dir, "pond-1").save(PART, new Map([["a.parquet", [row()]]]));
      expect(fileRowCache(dir, "pond-2").load(PART).files.size).toBe(0);
      expect(fileRowCache(dir, "pond-1").load(PART).files.size).toBe(1);
      const [name] = readdirSync(dir);
      writeFileSync(join(dir, name!), '{"format":1,"table":"pond-1","part":"' + PART + '","files":{"a.parquet":[{"n":"x"');
      expect(fileRowCache(dir, "pond-1").load(PART).files.size).toBe(0);
      writeFileSync(join(dir, name!), JSON.stringify({ format: 2, table: "pond-1", part: "another", strings: [], files: { "/a.parquet": [] } }));
      expect(fileRowCache(dir, "pond-1").load(PART).files.size).toBe(0);
      // A cache of the first format (rows as objects) is left for the files to rebuild.
      writeFileSync(join(dir, name!), JSON.stringify({ format: 1, table: "pond-1", part: PART, files: { "a.parquet": [{ n: "x" }] } }));
      expect(fileRowCache(dir, "pond-1").load(PART).files.size).toBe(0);
    }));

  test("the journal: appended files load with the base, a torn or foreign line is skipped, and saving folds it away", () =>
    withDir((dir) => {
      const cache = fileRowCache(dir, "pond-1");
      cache.save(PART, new Map([["a.parquet", [row()]]]));
      cache.append(
        PART,
        new Map([
          ["b.parquet", [row({ version: 2 })]],
          ["c.parquet", []],
        ]),
      );
      fileRowCache(dir, "pond-2").append(PART, new Map([["x.parquet", [row({ version: 9 })]]]));
      const journal = readdirSync(dir).find((n) => n.endsWith(".jsonl"))!;
      // A killed process's half line, then a later append: only the half line is lost.
      appendFileSync(join(dir, journal), '\n{"format":1,"table":"pond-1","part":"' + PART + '","path":"d.parquet","rows":[{"n":');
      cache.append(PART, new Map([["e.parquet", [row({ version: 5 })]]]));
      const back = fileRowCache(dir, "pond-1").load(PART);
      expect([...back.files.keys()]).toEqual(["a.parquet", "b.parquet", "c.parquet", "e.parquet"]);
      expect(back.journaled).toBe(5); // b, c and e: their rows (1, 0, 1) plus one each
      expect(back.files.get("b.parquet")).toEqual([row({ version: 2 })]);
      expect(back.files.get("e.parquet")).toEqual([row({ version: 5 })]);
      cache.save(PART, back.files);
      expect(readdirSync(dir).filter((n) => n.endsWith(".jsonl"))).toEqual([]);
      const folded = fileRowCache(dir, "pond-1").load(PART);
      expect(folded.journaled).toBe(0);
      expect(folded.files).toEqual(back.files);
    }));

  test("a full disk (ENOSPC, here /dev/full): saving and appending are skipped, nothing is thrown or left behind", () =>
    withDir((dir) => {
      const cache = fileRowCache(dir, "pond-1");
      const stem = join(dir, PART);
      symlinkSync("/dev/full", `${stem}.json.${process.pid}.tmp`);
      symlinkSync("/dev/full", `${stem}.jsonl`);
      expect(() => cache.save(PART, new Map([["a.parquet", [row()]]]))).not.toThrow();
      expect(() => cache.append(PART, new Map([["b.parquet", [row()]]]))).not.toThrow();
      expect(readdirSync(dir)).toEqual([`${PART}.jsonl`]);
      rmSync(`${stem}.jsonl`);
      expect(cache.load(PART).files.size).toBe(0);
    }));

  test("commit after commit, the next process reads at most the newest commit's entry files, and the journal is folded as it grows", async () => {
    const { dir, store, calls, cacheDir } = await recordedPond();
    try {
      const fs = new FS(new TLogPersistence(store));
      const commit = (i: number) =>
        fs.transaction(newTxnMeta(["t"]), (wd) => wd.createFile("/s.series", "file:series", new TextEncoder().encode(`version ${i}`), { attributes: { i } }));
      const rootPartReads = () => calls.filter((x) => x.op === "get" && x.key.startsWith(`part_id=${PART}/`)).length;
      let i = 0;
      for (; i < ROW_CACHE_FROM_FILES; i++) await commit(i);
      await (await new FS(new TLogPersistence(store, { rowCache: fileRowCache(cacheDir, "pond-1") })).view()).stat("/s.series");
      let folds = 0;
      for (; i < ROW_CACHE_FROM_FILES + 2 * ROW_CACHE_FOLD_FROM; i++) {
        await commit(i);
        calls.length = 0;
        const hadJournal = readdirSync(cacheDir).some((n) => n.endsWith(".jsonl"));
        const versions = (await (await new FS(new TLogPersistence(store, { rowCache: fileRowCache(cacheDir, "pond-1") })).view()).stat("/s.series")).versions!;
        expect(versions.map((v) => v.attributes.i)).toEqual([...Array(i + 1).keys()]);
        expect(rootPartReads()).toBeLessThanOrEqual(2); // the new commit's file (and the newest, for the root's listing)
        if (hadJournal && !readdirSync(cacheDir).some((n) => n.endsWith(".jsonl"))) folds++;
      }
      expect(folds).toBeGreaterThanOrEqual(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a series appended one version a commit: the next process reads its versions from the cache, not from the entry files, and sees the same", async () => {
    const { dir, store, calls, cacheDir } = await recordedPond();
    try {
      const commits = ROW_CACHE_FROM_FILES + 8;
      const fs = new FS(new TLogPersistence(store));
      for (let i = 0; i < commits; i++) {
        await fs.transaction(newTxnMeta(["t"]), (wd) =>
          wd.createFile("/s.series", "file:series", new TextEncoder().encode(`version ${i}`), {
            minEventTime: BigInt(i) * 1000n,
            maxEventTime: BigInt(i) * 1000n + 999n,
            attributes: { i },
          }),
        );
      }
      const plain = await new FS(new TLogPersistence(store)).view();
      const expected = (await plain.stat("/s.series")).versions!;
      expect(expected).toHaveLength(commits);

      // The first process reads every entry file and writes the cache.
      const first = await new FS(new TLogPersistence(store, { rowCache: fileRowCache(cacheDir, "pond-1") })).view();
      expect((await first.stat("/s.series")).versions).toEqual(expected);
      expect(existsSync(cacheDir) && readdirSync(cacheDir).length).toBe(1);

      // One more commit; the next process reads only that commit's entry file.
      await fs.transaction(newTxnMeta(["t"]), (wd) =>
        wd.createFile("/s.series", "file:series", new TextEncoder().encode("last"), { attributes: { i: "last" } }),
      );
      calls.length = 0;
      const next = await new FS(new TLogPersistence(store, { rowCache: fileRowCache(cacheDir, "pond-1") })).view();
      const versions = (await next.stat("/s.series")).versions!;
      expect(versions.slice(0, commits)).toEqual(expected);
      expect(versions.map((v) => v.version)).toEqual([...Array(commits + 1).keys()].map((i) => i + 1));
      expect(versions[commits]!.attributes).toEqual({ i: "last" });
      expect(versions.every((v, i) => v.txnSeq === i + 1)).toBe(true);
      const rootPartReads = (c: typeof calls) => c.filter((x) => x.op === "get" && x.key.startsWith(`part_id=${PART}/`)).length;
      expect(rootPartReads(calls)).toBeLessThanOrEqual(2); // the new commit's file (and the newest, for the root's listing)
      expect(new TextDecoder().decode(await next.readAll("/s.series"))).toBe("last");
      // Without the cache, the same listing reads every entry file of the partition.
      calls.length = 0;
      await (await new FS(new TLogPersistence(store)).view()).stat("/s.series");
      expect(rootPartReads(calls)).toBeGreaterThan(commits);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("pruneRowCache() and pruneSeriesSummaries()", () => {
  const TABLE = "t1";
  const OTHER = "00000000-0000-7000-8000-00000000000b";
  const path = (p: string, n: number) => `part_id=${p}/f${n}.parquet`;
  /** Every file of `dir` → its text. */
  const texts = (dir: string) => Object.fromEntries(readdirSync(dir).map((n) => [n, readFileSync(join(dir, n), "utf8")]));

  test("drop the records of files keep() refuses, keep the rest, delete what is left empty, and change nothing on a dry run", () => {
    withDir((dir) => {
      const cache = fileRowCache(dir, TABLE);
      cache.save(PART, new Map([1, 2, 3].map((n) => [path(PART, n), [row({ version: n })]])));
      cache.append(PART, new Map([[path(PART, 4), [row({ version: 4 })]]]));
      cache.save(OTHER, new Map([[path(OTHER, 1), [row({ part_id: OTHER })]]]));
      // Another table's cache in the same folder is not this pond's: left alone.
      fileRowCache(dir, "t2").save("00000000-0000-7000-8000-00000000000c", new Map([[path("x", 1), [row()]]]));
      const summaries = fileSeriesSummaryCache(dir, TABLE);
      summaries.save(PART, { entryFiles: [path(PART, 1), path(PART, 4)], series: {} });
      summaries.save(OTHER, { entryFiles: [path(OTHER, 1)], series: {} });
      // The hash prefixes kept beside the summaries: one named a deleted file, one did not.
      const hashes = fileSeriesHashCache(dir, TABLE);
      hashes.save(PART, { entryFiles: [path(PART, 1)], series: { n: { lastVersion: 1, prefixes: "0123456789ab" } } });
      hashes.save(OTHER, { entryFiles: [path(OTHER, 2)], series: {} });
      const gone = new Set([path(PART, 1), path(PART, 4), path(OTHER, 1)]);
      const keep = (f: string) => !gone.has(f) && !f.includes("part_id=x/");
      const before = texts(dir);
      const dryRows = pruneRowCache(dir, TABLE, keep, true);
      const drySummaries = pruneSeriesSummaries(dir, TABLE, keep, true);
      expect(texts(dir)).toEqual(before);

      const rows = pruneRowCache(dir, TABLE, keep, false);
      expect(rows).toEqual(dryRows);
      expect(pruneSeriesSummaries(dir, TABLE, keep, false)).toEqual(drySummaries);
      expect(drySummaries.map((r) => [r.path.slice(dir.length + 1), r.dropped, r.after])).toEqual([
        [`${PART}.series-hashes.json`, 1, 0],
        [`${PART}.series.json`, 2, 0],
        [`${OTHER}.series.json`, 1, 0],
      ]);
      expect(rows.map((r) => [r.path.slice(dir.length + 1), r.dropped, r.after === 0])).toEqual([
        [`${PART}.json`, 2, false],
        [`${OTHER}.json`, 1, true],
      ]);
      for (const r of rows) expect(r.before).toBeGreaterThan(r.after);
      const kept = cache.load(PART);
      expect([...kept.files.keys()].sort()).toEqual([path(PART, 2), path(PART, 3)]);
      expect(kept.files.get(path(PART, 3))).toEqual([row({ version: 3 })]);
      expect(kept.journaled).toBe(0);
      expect(rows[0]!.after).toBe(Bun.file(join(dir, `${PART}.json`)).size);
      expect(cache.load(OTHER).files.size).toBe(0);
      // Both summaries named a deleted file: gone; the other table's cache is untouched.
      expect(summaries.load(PART)).toBeUndefined();
      expect(summaries.load(OTHER)).toBeUndefined();
      expect(hashes.load(PART)).toBeUndefined();
      expect(hashes.load(OTHER)).toEqual({ entryFiles: [path(OTHER, 2)], series: {} });
      expect(readdirSync(dir).sort()).toEqual([`${PART}.json`, `${OTHER}.series-hashes.json`, "00000000-0000-7000-8000-00000000000c.json"].sort());
      // Nothing left to drop: a second run changes nothing.
      const after = texts(dir);
      expect(pruneRowCache(dir, TABLE, keep, false)).toEqual([]);
      expect(pruneSeriesSummaries(dir, TABLE, keep, false)).toEqual([]);
      expect(texts(dir)).toEqual(after);
    });
  });
  /** The base save() writes for what load() reads of `dir`'s cache of PART, less the files `keep` refuses. */
  const savedText = (dir: string, keep: (f: string) => boolean): string => {
    const files = fileRowCache(dir, TABLE).load(PART).files;
    for (const p of [...files.keys()]) if (!keep(p)) files.delete(p);
    let text = "";
    withDir((other) => {
      fileRowCache(other, TABLE).save(PART, files);
      text = readFileSync(join(other, `${PART}.json`), "utf8");
    });
    return text;
  };
  /** Prunes `dir`'s cache of PART with `keep`; expects the base save() would write, and load() to read back what it read less the refused files. */
  const expectPruneAsSave = (dir: string, keep: (f: string) => boolean, dropped: number) => {
    const expected = savedText(dir, keep);
    const loaded = fileRowCache(dir, TABLE).load(PART).files;
    const [pruned] = pruneRowCache(dir, TABLE, keep, false);
    expect(pruned!.dropped).toBe(dropped);
    const text = readFileSync(join(dir, `${PART}.json`), "utf8");
    expect(text.length).toBe(expected.length);
    expect(text === expected).toBe(true);
    expect(pruned!.after).toBe(Buffer.byteLength(expected));
    expect(existsSync(join(dir, `${PART}.jsonl`))).toBe(false);
    const after = fileRowCache(dir, TABLE).load(PART);
    expect(after.journaled).toBe(0);
    expect(after.files).toEqual(new Map([...loaded].filter(([p]) => keep(p))));
  };
  test("pruneRowCache() matches save() on one large file (past its 1 MiB read window, many write pieces), control characters, U+2028, lone surrogates, strings of equal hash, and journal files naming the base's strings", () => {
    withDir((dir) => {
      const cache = fileRowCache(dir, TABLE);
      // '{"v":166012}' and '{"v":1445000}' have the same 32-bit FNV-1a: the prune's string table must keep both.
      const odd = ["\u0000\u001f\t\n", "a\u2028b", "\ud800 lone", "\udfff", '\\"', '{"v":166012}', '{"v":1445000}'];
      // ~2 MB: the prune reads the base a 1 MiB window at a time, and its strings through a 64 KiB one.
      const big = Array.from({ length: 3_000 }, (_, n) =>
        row({
          version: n,
          attributes: n < odd.length ? odd[n]! : `{"n":${n},"pad":"${"x".repeat(n % 997)}é"}`,
          content: n % 5 === 0 ? new Uint8Array([n & 255]) : null,
        }),
      );
      cache.save(
        PART,
        new Map([
          [path(PART, 1), big],
          [path(PART, 2), [row({ attributes: '{"v":1445000}' })]],
          [path(PART, 3), []],
        ]),
      );
      cache.append(PART, new Map([[path(PART, 4), [row({ attributes: '{"v":166012}' }), row({ attributes: "\ud800 lone", node_id: "n-🌊" })]]]));
      cache.append(PART, new Map([[path(PART, 5), [row({ attributes: "gone" })]]]));
      cache.append(PART, new Map([[path(PART, 6), [row({ attributes: `{"n":2999,"pad":"${"x".repeat(2999 % 997)}é"}` })]]]));
      expect(Bun.file(join(dir, `${PART}.json`)).size).toBeGreaterThan(3 << 19);
      expectPruneAsSave(dir, (f) => f !== path(PART, 2) && f !== path(PART, 5), 2);
    });
  });
  test("pruneRowCache() keeps a file whose rows are empty, drops the first file, and renumbers strings only later files name", () => {
    withDir((dir) => {
      const cache = fileRowCache(dir, TABLE);
      cache.save(
        PART,
        new Map([
          [path(PART, 1), [row({ attributes: "first", node_id: "only-first" })]],
          [path(PART, 2), []],
          [path(PART, 3), [row({ attributes: "third" }), row({ attributes: "first" })]],
        ]),
      );
      expectPruneAsSave(dir, (f) => f !== path(PART, 1), 1);
    });
  });
  test("pruneRowCache() ignores a base whose rows name no string, as load() does, and prunes the journal's files", () => {
    withDir((dir) => {
      const cache = fileRowCache(dir, TABLE);
      cache.save(PART, new Map([1, 2].map((n) => [path(PART, n), [row({ version: n })]])));
      const base = join(dir, `${PART}.json`);
      // The last row's attributes index (2, in a table of 3) made 7: load() drops the whole base.
      const text = readFileSync(base, "utf8");
      expect(text.endsWith(",2]]}}")).toBe(true);
      writeFileSync(base, `${text.slice(0, -",2]]}}".length)},7]]}}`);
      expect(cache.load(PART).files.size).toBe(0);
      cache.append(PART, new Map([3, 4, 5].map((n) => [path(PART, n), [row({ version: n })]])));
      expectPruneAsSave(dir, (f) => f !== path(PART, 4), 1);
    });
  });
  test("pruneRowCache(): dropping every file deletes the base and the journal; dropping none writes nothing", () => {
    withDir((dir) => {
      const cache = fileRowCache(dir, TABLE);
      cache.save(PART, new Map([1, 2].map((n) => [path(PART, n), [row({ version: n })]])));
      cache.append(PART, new Map([[path(PART, 3), [row({ version: 3 })]]]));
      const before = texts(dir);
      // The prune reads through descriptors: none is left open.
      const open = () => readdirSync("/proc/self/fd").length;
      const fds = open();
      expect(pruneRowCache(dir, TABLE, () => true, false)).toEqual([]);
      expect(open()).toBe(fds);
      expect(texts(dir)).toEqual(before);
      const size = Object.values(before).reduce((s, t) => s + Buffer.byteLength(t), 0);
      expect(pruneRowCache(dir, TABLE, () => false, false)).toEqual([{ path: join(dir, `${PART}.json`), dropped: 3, before: size, after: 0 }]);
      expect(readdirSync(dir)).toEqual([]);
      expect(open()).toBe(fds);
    });
  });
  test("pruneRowCache() writes the base save() would write for the files it keeps, byte for byte, without decoding rows", () => {
    withDir((dir) => {
      const cache = fileRowCache(dir, TABLE);
      // Strings shared between files and dropped with some, inline bytes, times past 2^53 µs, a journal.
      const rows = (n: number) => [
        // Non-ASCII (multi-byte UTF-8), escaped quotes and backslashes: the prune scans bytes.
        row({ version: n, node_id: `node-${n % 3}-é`, attributes: `{"n":${n % 2},"s":"🌊 \\"q\\" \\\\ ${n}"}` }),
        row({ version: n + 100, file_type: "file:data", content: new Uint8Array([n, 0, 255]), max_event_time: 2n ** 60n + BigInt(n) }),
      ];
      cache.save(PART, new Map([1, 2, 3, 4].map((n) => [path(PART, n), rows(n)])));
      cache.append(PART, new Map([[path(PART, 5), rows(5)]]));
      cache.append(PART, new Map([[path(PART, 6), rows(6)]]));
      // A journal line for a file the base has (the base's rows win, as in load) and a torn line.
      cache.append(PART, new Map([[path(PART, 2), rows(7)]]));
      appendFileSync(join(dir, `${PART}.jsonl`), `{"format":2,"table":"${TABLE}","part":"${PART}","strings":["é`);
      const keep = (f: string) => f !== path(PART, 1) && f !== path(PART, 5);
      const expected = savedText(dir, keep);
      const [pruned] = pruneRowCache(dir, TABLE, keep, false);
      expect(pruned!.dropped).toBe(2);
      expect(readFileSync(join(dir, `${PART}.json`), "utf8")).toBe(expected);
      expect(pruned!.after).toBe(Buffer.byteLength(expected));
      expect(existsSync(join(dir, `${PART}.jsonl`))).toBe(false);
      expect([...cache.load(PART).files.keys()].sort()).toEqual([2, 3, 4, 6].map((n) => path(PART, n)));
    });
  });
});
