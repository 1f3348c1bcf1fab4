import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createLogger } from "@pond/diagnostics";
import type { Action } from "./actions.ts";
import { commit, latestVersion, listCommits, loadSnapshot, readCommit } from "./delta-log.ts";
import { CorruptLogError, TableNotFoundError, UnsupportedFeatureError, VersionNotFoundError } from "./errors.ts";
import { LocalObjectStore } from "./local-store.ts";
import { checkpointKey, commitKey, LAST_CHECKPOINT_KEY } from "./log-file-name.ts";
import { MemoryObjectStore } from "./memory-store.ts";
import type { ObjectStore } from "./object-store.ts";
import { recordingStore } from "./recording-store.ts";
import { FIXTURES as SHARED } from "../../../test/support/fixtures.ts";

const DELTA_RS = path.join(SHARED, "delta/delta-rs");
const fixture = (name: string) => new LocalObjectStore(path.join(DELTA_RS, name));

const tempDirs: string[] = [];
function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "pond-delta-log-"));
  tempDirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
});

async function errorOf(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected the promise to reject");
}

const paths = (files: { path: string }[]) => files.map((f) => f.path).sort();

describe("loadSnapshot() on tables written by Spark and delta-rs", () => {
  const V2 = [
    "part-00000-c1777d7d-89d9-4790-b38a-6ee7e24456b1-c000.snappy.parquet",
    "part-00001-7891c33d-cedc-47c3-88a6-abcfb049d3b4-c000.snappy.parquet",
    "part-00004-315835fe-fb44-4562-98f6-5e6cfa3ae45d-c000.snappy.parquet",
    "part-00007-3a0e4727-de0d-41b6-81ef-5223cf40f025-c000.snappy.parquet",
  ];

  test("loadSnapshot() returns version 4 with 5 active files when simple_table is read at its latest", async () => {
    const snap = await loadSnapshot(fixture("simple_table"));
    expect(snap.version).toBe(4);
    expect(snap.timestamp).toBe(1587968626537);
    expect(paths(snap.files)).toEqual([...V2, "part-00000-2befed33-c358-4768-a43c-3eda0d2a499d-c000.snappy.parquet"].sort());
    expect(snap.protocol).toEqual({ minReaderVersion: 1, minWriterVersion: 2 });
    expect(snap.metadata.id).toBe("5fba94ed-9794-4965-ba6e-6ee3c0d22af9");
    expect(snap.metadata.partitionColumns).toEqual([]);
    const added = Object.fromEntries(snap.files.map((f) => [f.path, f.addedInVersion]));
    expect(added["part-00000-2befed33-c358-4768-a43c-3eda0d2a499d-c000.snappy.parquet"]).toBe(4);
    expect(added[V2[0]]).toBe(2);
  });

  test("loadSnapshot() ignores the stray _delta_log/.tmp commit when finding the latest version", async () => {
    const store = fixture("simple_table");
    expect(await latestVersion(store)).toBe(4);
    const snap = await loadSnapshot(store);
    // .tmp/00000000000000000005.json would add this file.
    expect(paths(snap.files)).not.toContain("part-00000-c1777d7d-89d9-4790-b38a-6ee7e24456b1-c001.snappy.parquet");
    await expect(loadSnapshot(store, { version: 5 })).rejects.toBeInstanceOf(VersionNotFoundError);
  });

  test("loadSnapshot() gives each earlier version's files when simple_table is read by version", async () => {
    // Counts from the log: v0 adds 6; v1 removes 5, adds 21; v2 removes 22, adds 6; v3 removes 2, adds 2.
    const counts: number[] = [];
    for (let v = 0; v <= 3; v++) counts.push((await loadSnapshot(fixture("simple_table"), { version: v })).files.length);
    expect(counts).toEqual([6, 22, 6, 6]);
    const v3 = await loadSnapshot(fixture("simple_table"), { version: 3 });
    expect(paths(v3.files)).toEqual(
      [
        V2[0],
        V2[1],
        V2[2],
        V2[3],
        "part-00000-f17fcbf5-e0dc-40ba-adae-ce66d1fcaef6-c000.snappy.parquet",
        "part-00001-bb70d2ba-c196-4df2-9c85-f34969ad3aa9-c000.snappy.parquet",
      ].sort(),
    );
    expect(v3.timestamp).toBe(1587968614187);
  });

  test("loadSnapshot() picks the newest version committed at or before a timestamp", async () => {
    const store = fixture("simple_table");
    expect((await loadSnapshot(store, { timestamp: 1587968604143 })).version).toBe(2);
    expect((await loadSnapshot(store, { timestamp: 1587968604142 })).version).toBe(1);
    expect((await loadSnapshot(store, { timestamp: 1587968586154 })).version).toBe(0);
    expect((await loadSnapshot(store, { timestamp: Date.now() })).version).toBe(4);
    const err = await errorOf(loadSnapshot(store, { timestamp: 1587968586153 }));
    expect(err).toBeInstanceOf(VersionNotFoundError);
    expect(err.message).toContain("2020-04-27T06:23:06.153Z");
  });

  test("loadSnapshot() reads the checkpoint at version 10 when simple_table_with_checkpoint is read at its latest", async () => {
    const { store, calls } = recordingStore(fixture("simple_table_with_checkpoint"));
    const snap = await loadSnapshot(store);
    expect(snap.version).toBe(10);
    expect(snap.files).toHaveLength(11);
    expect(snap.files.every((f) => f.addedInVersion === null && f.size === 442)).toBe(true);
    expect(paths(snap.files)).toContain("part-00000-f0e955c5-a1e3-4eec-834e-dcc098fc9005-c000.snappy.parquet");
    expect(snap.metadata.id).toBe("cf3741a3-5f93-434f-99ac-9a4bebcdf06c");
    expect(snap.timestamp).toBe(1615751716705);
    // The hint, the checkpoint, and commit 10 for its commit time; no replay of commits 0–9.
    const gets = calls
      .filter((c) => c.op === "get")
      .map((c) => c.key)
      .sort();
    expect(gets).toEqual([checkpointKey(10), commitKey(10), LAST_CHECKPOINT_KEY].sort());
  });

  test("loadSnapshot() replays JSON when simple_table_with_checkpoint is read before its checkpoint", async () => {
    const snap = await loadSnapshot(fixture("simple_table_with_checkpoint"), { version: 9 });
    expect(snap.files).toHaveLength(10);
    expect(snap.files.map((f) => f.addedInVersion).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  test("loadSnapshot() returns 6 files with string partition values when the table is partitioned", async () => {
    const store = fixture("delta-0.8.0-partitioned");
    const snap = await loadSnapshot(store);
    expect(snap.version).toBe(0);
    expect(snap.metadata.partitionColumns).toEqual(["year", "month", "day"]);
    expect(snap.files).toHaveLength(6);
    const parts = snap.files.map((f) => f.partitionValues).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    expect(parts).toEqual([
      { year: "2020", month: "1", day: "1" },
      { year: "2020", month: "2", day: "3" },
      { year: "2020", month: "2", day: "5" },
      { year: "2021", month: "12", day: "20" },
      { year: "2021", month: "12", day: "4" },
      { year: "2021", month: "4", day: "5" },
    ]);
    for (const f of snap.files) {
      const pv = f.partitionValues;
      expect(f.path.startsWith(`year=${pv.year}/month=${pv.month}/day=${pv.day}/`)).toBe(true);
      expect(fs.statSync(store.localPath(f.path)).size).toBe(f.size);
    }
  });
});

describe("loadSnapshot() errors", () => {
  test("loadSnapshot() throws TableNotFoundError naming the URL when there is no log", async () => {
    const store = new LocalObjectStore(tempDir());
    const err = await errorOf(loadSnapshot(store));
    expect(err).toBeInstanceOf(TableNotFoundError);
    expect(err.message).toContain(store.url);
    expect(err.message).toContain("not a Delta table");
    expect(await latestVersion(store)).toBeNull();
  });

  test("loadSnapshot() throws VersionNotFoundError naming the version when it is past the latest", async () => {
    const err = await errorOf(loadSnapshot(fixture("simple_table"), { version: 7 }));
    expect(err).toBeInstanceOf(VersionNotFoundError);
    expect(err.message).toBe(`Cannot read Delta table at ${fixture("simple_table").url}: version 7 does not exist (the latest is 4)`);
    await expect(loadSnapshot(fixture("simple_table"), { version: -1 })).rejects.toBeInstanceOf(VersionNotFoundError);
  });

  test("loadSnapshot() refuses deletionVectors when the protocol lists it", async () => {
    const store = new MemoryObjectStore({ url: "memory://dv" });
    await commit(store, 0, [
      { protocol: { minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ["deletionVectors"], writerFeatures: ["deletionVectors"] } },
      { metaData: meta() },
    ]);
    const err = await errorOf(loadSnapshot(store));
    expect(err).toBeInstanceOf(UnsupportedFeatureError);
    expect(err.message).toBe('Cannot read Delta table at memory://dv: reader feature "deletionVectors" is not supported');
  });

  test("loadSnapshot() refuses columnMapping when reader version is 2 or the feature is listed", async () => {
    for (const protocol of [
      { minReaderVersion: 2, minWriterVersion: 5 },
      { minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ["columnMapping"], writerFeatures: ["columnMapping"] },
    ]) {
      const store = new LocalObjectStore(tempDir());
      await commit(store, 0, [{ protocol }, { metaData: { ...meta(), configuration: { "delta.columnMapping.mode": "name" } } }]);
      const err = await errorOf(loadSnapshot(store));
      expect(err).toBeInstanceOf(UnsupportedFeatureError);
      expect((err as UnsupportedFeatureError).data.feature).toBe("columnMapping");
      expect(err.message).toContain('reader feature "columnMapping" is not supported');
    }
  });

  test("loadSnapshot() refuses a protocol upgraded after a supported start", async () => {
    const store = new MemoryObjectStore();
    await commit(store, 0, [{ protocol: { minReaderVersion: 1, minWriterVersion: 2 } }, { metaData: meta() }]);
    await commit(store, 1, [{ protocol: { minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ["deletionVectors"] } }]);
    expect((await loadSnapshot(store, { version: 0 })).version).toBe(0);
    await expect(loadSnapshot(store)).rejects.toBeInstanceOf(UnsupportedFeatureError);
  });

  test("loadSnapshot() throws CorruptLogError naming the file when a commit is not JSON", async () => {
    const store = new MemoryObjectStore();
    await commit(store, 0, [{ protocol: { minReaderVersion: 1, minWriterVersion: 2 } }, { metaData: meta() }]);
    await store.put(commitKey(1), new TextEncoder().encode('{"add": {"path": "x"'));
    const err = await errorOf(loadSnapshot(store));
    expect(err).toBeInstanceOf(CorruptLogError);
    expect(err.message).toContain(commitKey(1));
  });

  test("loadSnapshot() throws CorruptLogError when a commit between checkpoint and target is missing", async () => {
    const store = new MemoryObjectStore();
    for (let v = 0; v <= 5; v++)
      await commit(store, v, v === 0 ? [{ protocol: { minReaderVersion: 1, minWriterVersion: 2 } }, { metaData: meta() }] : [addOf(v)]);
    await store.delete(commitKey(3));
    const err = await errorOf(loadSnapshot(store));
    expect(err).toBeInstanceOf(CorruptLogError);
    expect(err.message).toContain(commitKey(3));
    expect((await loadSnapshot(store, { version: 2 })).files).toHaveLength(2);
  });

  test("loadSnapshot() throws CorruptLogError when version 0 has no metaData", async () => {
    const store = new MemoryObjectStore();
    await commit(store, 0, [{ protocol: { minReaderVersion: 1, minWriterVersion: 2 } }]);
    await expect(loadSnapshot(store)).rejects.toBeInstanceOf(CorruptLogError);
  });
});

describe("a generated table of 250 commits with checkpoints every 100", () => {
  let dir: string;
  /** model[v] = sorted paths active at version v, computed independently of the reader. */
  const model: string[][] = [];
  const BASE = 1_700_000_000_000;

  beforeAll(async () => {
    dir = tempDir();
    const store = new LocalObjectStore(dir);
    const active = new Set<string>();
    for (let v = 0; v <= 250; v++) {
      const actions: Action[] = [{ commitInfo: { timestamp: BASE + v * 1000, operation: "WRITE" } }];
      if (v === 0) actions.push({ protocol: { minReaderVersion: 1, minWriterVersion: 2 } }, { metaData: meta() });
      actions.push(addOf(v));
      active.add(`f${v}.parquet`);
      if (v % 3 === 0 && v >= 2) {
        actions.push({ remove: { path: `f${v - 2}.parquet`, deletionTimestamp: BASE + v * 1000, dataChange: true } });
        active.delete(`f${v - 2}.parquet`);
      }
      expect(await commit(store, v, actions)).toEqual({ kind: "committed", version: v });
      model.push([...active].sort());
    }
  });

  test("commit() writes checkpoints at 100 and 200 and points _last_checkpoint at 200", async () => {
    const store = new LocalObjectStore(dir);
    const names = fs.readdirSync(path.join(dir, "_delta_log")).filter((n) => n.includes("checkpoint"));
    expect(names.sort()).toEqual([path.basename(checkpointKey(100)), path.basename(checkpointKey(200)), "_last_checkpoint"]);
    const last = JSON.parse(new TextDecoder().decode(await store.get(LAST_CHECKPOINT_KEY)));
    expect(last).toEqual({ version: 200, size: 2 + model[200].length });
  });

  test("loadSnapshot() gives the right files at versions 50, 150 and 250", async () => {
    const store = new LocalObjectStore(dir);
    for (const v of [0, 50, 99, 100, 101, 150, 199, 200, 250]) {
      const snap = await loadSnapshot(store, { version: v });
      expect(snap.version).toBe(v);
      expect(paths(snap.files)).toEqual(model[v]);
      expect(snap.timestamp).toBe(BASE + v * 1000);
    }
    expect(paths((await loadSnapshot(store)).files)).toEqual(model[250]);
  });

  test("loadSnapshot() at 250 reads only the checkpoint at 200 and the 50 commits after it", async () => {
    const { store, calls } = recordingStore(new LocalObjectStore(dir));
    await loadSnapshot(store);
    const gets = calls.filter((c) => c.op === "get").map((c) => c.key);
    const expected = [LAST_CHECKPOINT_KEY, checkpointKey(200)];
    for (let v = 201; v <= 250; v++) expected.push(commitKey(v));
    expect(gets.sort()).toEqual(expected.sort());
    // _last_checkpoint names 200, so only versions 200–299 are listed.
    expect(calls.filter((c) => c.op === "list")).toEqual([{ op: "list", key: "_delta_log/000000000000000002" }]);
    expect(calls.filter((c) => c.op !== "get" && c.op !== "list")).toEqual([]);
  });

  test("loadSnapshot() at 150 starts from the checkpoint at 100", async () => {
    const { store, calls } = recordingStore(new LocalObjectStore(dir));
    await loadSnapshot(store, { version: 150 });
    const gets = calls.filter((c) => c.op === "get").map((c) => c.key);
    expect(gets).toContain(checkpointKey(100));
    expect(gets).not.toContain(checkpointKey(200));
    expect(gets.filter((k) => k.endsWith(".json"))).toHaveLength(50);
  });

  test("loadSnapshot() keeps addedInVersion for files that come from our checkpoint", async () => {
    const snap = await loadSnapshot(new LocalObjectStore(dir));
    for (const f of snap.files) expect(f.addedInVersion).toBe(Number(f.path.slice(1, -".parquet".length)));
    expect(snap.files.find((f) => f.path === "f11.parquet")?.tags).toEqual({ "pond.version": "11" });
    expect(snap.files.find((f) => f.path === "f11.parquet")?.stats).toBe('{"numRecords":11}');
  });

  test("loadSnapshot() by timestamp finds the version committed at or before it", async () => {
    const { store, calls } = recordingStore(new LocalObjectStore(dir));
    const snap = await loadSnapshot(store, { timestamp: BASE + 150_500 });
    expect(snap.version).toBe(150);
    expect(paths(snap.files)).toEqual(model[150]);
    // Binary search plus replay from checkpoint 100: no commit file is read twice.
    const gets = calls.filter((c) => c.op === "get").map((c) => c.key);
    expect(new Set(gets).size).toBe(gets.length);
    expect((await loadSnapshot(store, { timestamp: BASE })).version).toBe(0);
  });

  test("listCommits() lists every commit with its time and action counts", async () => {
    const commits = await listCommits(new LocalObjectStore(dir));
    expect(commits).toHaveLength(251);
    expect(commits[0]).toEqual({
      version: 0,
      timestamp: BASE,
      commitInfo: { timestamp: BASE, operation: "WRITE" },
      actions: { add: 1, remove: 0, bytesAdded: 100 },
    });
    expect(commits[3].actions).toEqual({ add: 1, remove: 1, bytesAdded: 103 });
    expect(commits.map((c) => c.version)).toEqual(Array.from({ length: 251 }, (_, i) => i));
  });

  test("loadSnapshot() from a kept snapshot reads the commits after it without listing the log, and gives what a full replay gives", async () => {
    const store = new LocalObjectStore(dir);
    for (const at of [200, 230, 249, 250]) {
      const base = await loadSnapshot(store, { version: at });
      const { store: rec, calls } = recordingStore(store);
      const snap = await loadSnapshot(rec, { base });
      expect(snap.version).toBe(250);
      expect(snap.timestamp).toBe(BASE + 250_000);
      expect(paths(snap.files)).toEqual(model[250]);
      expect(snap.files.find((f) => f.path === "f250.parquet")?.addedInVersion).toBe(250);
      expect(calls.filter((c) => c.op === "list")).toEqual([]);
      const commitGets = calls.filter((c) => c.op === "get" && c.key.endsWith(".json")).map((c) => c.key);
      // Each commit after the base, then the first one missing, which ends the log.
      expect(commitGets).toEqual(Array.from({ length: 251 - at }, (_, i) => commitKey(at + 1 + i)));
    }
  });

  test("loadSnapshot() from a kept snapshot lists the log when the snapshot may not lead to the latest version", async () => {
    // A base older than the checkpoint _last_checkpoint names (commits before it may be cleaned up).
    const old = await loadSnapshot(new LocalObjectStore(dir), { version: 150 });
    const a = recordingStore(new LocalObjectStore(dir));
    expect(paths((await loadSnapshot(a.store, { base: old })).files)).toEqual(model[250]);
    expect(a.calls.some((c) => c.op === "list")).toBe(true);
    // A base whose own commit is gone: a log rewound under it.
    const copy = tempDir();
    fs.cpSync(dir, copy, { recursive: true });
    const rewound = new LocalObjectStore(copy);
    const ahead = await loadSnapshot(rewound);
    for (let v = 240; v <= 250; v++) await rewound.delete(commitKey(v));
    const b = recordingStore(rewound);
    const snap = await loadSnapshot(b.store, { base: ahead });
    expect(snap.version).toBe(239);
    expect(paths(snap.files)).toEqual(model[239]);
    expect(b.calls.some((c) => c.op === "list")).toBe(true);
  });

  test("loadSnapshot() reports versions before cleaned-up commits as no longer in the log", async () => {
    const copy = tempDir();
    fs.cpSync(dir, copy, { recursive: true });
    const store = new LocalObjectStore(copy);
    for (let v = 0; v < 100; v++) await store.delete(commitKey(v));
    expect(paths((await loadSnapshot(store)).files)).toEqual(model[250]);
    expect(paths((await loadSnapshot(store, { version: 100 })).files)).toEqual(model[100]);
    const err = await errorOf(loadSnapshot(store, { version: 50 }));
    expect(err).toBeInstanceOf(VersionNotFoundError);
    expect(err.message).toContain("the earliest readable version is 100");
    expect((await listCommits(store))[0].version).toBe(100);
    expect(await latestVersion(store)).toBe(250);
  });
});

describe("commit()", () => {
  test("commit() returns a conflict and leaves the file alone when the version exists", async () => {
    const store = new MemoryObjectStore();
    expect(await commit(store, 0, [{ protocol: { minReaderVersion: 1, minWriterVersion: 2 } }, { metaData: meta() }])).toEqual({
      kind: "committed",
      version: 0,
    });
    const before = await store.get(commitKey(0));
    expect(await commit(store, 0, [{ commitInfo: { operation: "OTHER" } }])).toEqual({ kind: "conflict", version: 0 });
    expect(await store.get(commitKey(0))).toEqual(before);
  });

  test("commit() lets exactly one of several concurrent writers of a version win", async () => {
    const store = new LocalObjectStore(tempDir());
    await commit(store, 0, [{ protocol: { minReaderVersion: 1, minWriterVersion: 2 } }, { metaData: meta() }]);
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => commit(store, 1, [addOf(100 + i)])));
    expect(results.filter((r) => r.kind === "committed")).toHaveLength(1);
    const snap = await loadSnapshot(store);
    const winner = results.findIndex((r) => r.kind === "committed");
    expect(paths(snap.files)).toEqual([`f${100 + winner}.parquet`]);
  });

  test("commit() still commits, and logs a warning, when writing the checkpoint fails", async () => {
    const inner = new MemoryObjectStore({ url: "memory://cp-fails" });
    const failing: ObjectStore = {
      url: inner.url,
      get: (k, r) => inner.get(k, r),
      getStream: (k) => inner.getStream(k),
      head: (k) => inner.head(k),
      list: (p) => inner.list(p),
      delete: (k) => inner.delete(k),
      put: (k, b, o) => (k.endsWith(".checkpoint.parquet") ? Promise.reject(new Error("disk full")) : inner.put(k, b, o)),
    };
    const lines: string[] = [];
    const logger = createLogger({ level: "warn", format: "json", write: (l) => lines.push(l) });
    await commit(failing, 0, [{ protocol: { minReaderVersion: 1, minWriterVersion: 2 } }, { metaData: meta() }], { checkpointInterval: 2, logger });
    await commit(failing, 1, [addOf(1)], { checkpointInterval: 2, logger });
    expect(await commit(failing, 2, [addOf(2)], { checkpointInterval: 2, logger })).toEqual({ kind: "committed", version: 2 });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({ level: "warn", url: "memory://cp-fails", version: 2, error: "disk full" });
    expect((await loadSnapshot(inner)).files).toHaveLength(2);
  });

  test("commit() writes no checkpoint at version 0 or off the interval", async () => {
    const store = new MemoryObjectStore();
    for (let v = 0; v <= 4; v++)
      await commit(store, v, v === 0 ? [{ protocol: { minReaderVersion: 1, minWriterVersion: 2 } }, { metaData: meta() }] : [addOf(v)], {
        checkpointInterval: 3,
      });
    const keys: string[] = [];
    for await (const m of store.list("_delta_log/")) keys.push(m.key);
    expect(keys.filter((k) => k.includes("checkpoint"))).toEqual([checkpointKey(3), LAST_CHECKPOINT_KEY]);
  });
});

describe("readCommit() and listCommits()", () => {
  test("readCommit() returns the actions of a version", async () => {
    const actions = await readCommit(fixture("simple_table"), 4);
    expect(actions.map((a) => Object.keys(a)[0])).toEqual(["commitInfo", "remove", "remove", "add"]);
  });

  test("readCommit() throws VersionNotFoundError naming the version when it has no file", async () => {
    const err = await errorOf(readCommit(fixture("simple_table"), 5));
    expect(err).toBeInstanceOf(VersionNotFoundError);
    expect(err.message).toContain("version 5");
  });

  test("listCommits() uses the file time when a commit has no commitInfo timestamp", async () => {
    let t = 42_000;
    const store = new MemoryObjectStore({ now: () => t });
    await commit(store, 0, [{ protocol: { minReaderVersion: 1, minWriterVersion: 2 } }, { metaData: meta() }]);
    t = 43_000;
    await commit(store, 1, [{ commitInfo: { operation: "X" } }, addOf(1)]);
    const commits = await listCommits(store);
    expect(commits.map((c) => [c.version, c.timestamp, c.commitInfo])).toEqual([
      [0, 42_000, null],
      [1, 43_000, { operation: "X" }],
    ]);
    expect((await loadSnapshot(store, { timestamp: 42_500 })).version).toBe(0);
  });

  test("listCommits() returns nothing when there is no log", async () => {
    expect(await listCommits(new MemoryObjectStore())).toEqual([]);
  });
});

function meta() {
  return {
    id: "00000000-0000-4000-8000-000000000001",
    format: { provider: "parquet", options: {} },
    schemaString: '{"type":"struct","fields":[]}',
    partitionColumns: [],
    configuration: {},
    createdTime: 1,
  };
}

function addOf(v: number): Action {
  return {
    add: {
      path: `f${v}.parquet`,
      partitionValues: {},
      size: 100 + v,
      modificationTime: v,
      dataChange: true,
      stats: `{"numRecords":${v}}`,
      tags: { "pond.version": String(v) },
    },
  };
}
