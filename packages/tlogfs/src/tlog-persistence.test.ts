import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalObjectStore, MemoryObjectStore } from "@pond/oplog";
import { newTxnMeta } from "@pond/tinyfs";
import { runPersistenceContract } from "@pond/tinyfs/testing";
import { createPondTable } from "./create-pond-table.ts";
import { fileRowCache } from "./row-cache.ts";
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
