import { expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalObjectStore, MemoryObjectStore } from "@pond/oplog";
import { FS, WD, newTxnMeta } from "@pond/tinyfs";
import { runPersistenceContract } from "@pond/tinyfs/testing";
import { createPondTable } from "./create-pond-table.ts";
import { fileRowCache } from "./row-cache.ts";
import { fileSeriesSummaryCache } from "./series-summary.ts";
import { TLogPersistence } from "./tlog-persistence.ts";

runPersistenceContract("TLogPersistence on a local folder", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tlogfs-contract-"));
  const store = new LocalObjectStore(join(dir, "data"));
  await createPondTable(store, "test-pond", newTxnMeta(["test"]));
  return { persistence: new TLogPersistence(store), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
});

runPersistenceContract("TLogPersistence in memory", async () => {
  const store = new MemoryObjectStore();
  await createPondTable(store, "test-pond", newTxnMeta(["test"]));
  return { persistence: new TLogPersistence(store) };
});

// Every commit that touches a folder merges its older entry files: everything above must
// hold as well with merged files in place of the ones each commit wrote.
runPersistenceContract("TLogPersistence merging a partition's entry files at every commit", async () => {
  const store = new MemoryObjectStore();
  await createPondTable(store, "test-pond", newTxnMeta(["test"]));
  return { persistence: new TLogPersistence(store, { compactFromFiles: 2 }) };
});

runPersistenceContract("TLogPersistence merging from 3 entry files, with a row cache, on a local folder", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tlogfs-contract-"));
  const store = new LocalObjectStore(join(dir, "data"));
  await createPondTable(store, "test-pond", newTxnMeta(["test"]));
  return {
    persistence: new TLogPersistence(store, { compactFromFiles: 3, rowCache: fileRowCache(join(dir, "row-cache"), "test-pond") }),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

// The same with series summaries kept (an append takes its next version from them).
runPersistenceContract("TLogPersistence merging from 3 entry files, with a row cache and series summaries, on a local folder", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tlogfs-contract-"));
  const store = new LocalObjectStore(join(dir, "data"));
  await createPondTable(store, "test-pond", newTxnMeta(["test"]));
  return {
    persistence: new TLogPersistence(store, {
      compactFromFiles: 3,
      rowCache: fileRowCache(join(dir, "row-cache"), "test-pond"),
      seriesSummaries: fileSeriesSummaryCache(join(dir, "row-cache"), "test-pond"),
    }),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

test("view() forgets the decoded rows of entry files the newest snapshot no longer has", async () => {
  const store = new MemoryObjectStore();
  await createPondTable(store, "test-pond", newTxnMeta(["test"]));
  const p = new TLogPersistence(store, { compactFromFiles: 4 });
  const fs = new FS(p);
  for (let i = 0; i < 30; i++) {
    await fs.transaction(newTxnMeta(["t", String(i)]), async (wd) => {
      await wd.createFile("/s.series", "file:series", new TextEncoder().encode(`v${i}`));
    });
    // Every commit's reader decodes the folder's files; compactions replace them.
    expect((await (await fs.view()).stat("/s.series")).versions!.length).toBe(i + 1);
  }
  const view = await p.view();
  const decoded = (p as unknown as { decoded: Map<string, unknown> }).decoded;
  const live = new Set(view.snapshot.files.map((f) => f.path));
  expect([...decoded.keys()].filter((k) => !live.has(k))).toEqual([]);
  expect(decoded.size).toBeGreaterThan(0);
  // An older snapshot still reads (its files are decoded again).
  expect((await new WD(await p.view(5)).stat("/s.series")).versions!.length).toBeGreaterThan(0);
});
