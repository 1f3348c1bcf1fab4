import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalObjectStore, MemoryObjectStore } from "@pond/oplog";
import { newTxnMeta } from "@pond/tinyfs";
import { runPersistenceContract } from "@pond/tinyfs/src/persistence-contract.ts";
import { createPondTable } from "./create-pond-table.ts";
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
