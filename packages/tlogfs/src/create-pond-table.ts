import { commit, pondTableActions, writeEntryFile, type ObjectStore } from "@pond/oplog";
import { AlreadyExistsError, ROOT_ID, type TxnMeta } from "@pond/tinyfs";
import { directoryRow, type PondCommitInfo } from "./tlog-transaction.ts";

/**
 * Writes data log version 0 of a new pond: the Delta protocol and metadata, and an
 * empty root directory. Refuses a store that already has a version 0.
 */
export async function createPondTable(store: ObjectStore, pondId: string, meta: TxnMeta, now: number = Date.now()): Promise<void> {
  const root = await writeEntryFile(store, ROOT_ID, [directoryRow(ROOT_ID, 1, BigInt(now) * 1000n, [])], { version: 0 });
  const pond: PondCommitInfo = { seq: 0, txnId: meta.txnId, command: meta.command, user: meta.user, startedAt: meta.startedAt };
  const r = await commit(store, 0, [
    ...pondTableActions(pondId, now),
    { add: root },
    { commitInfo: { timestamp: now, operation: "CREATE TABLE", engineInfo: "pond", pond } },
  ]);
  if (r.kind === "conflict") throw new AlreadyExistsError(`${store.url}/_delta_log/00000000000000000000.json`, "This folder already holds a pond.");
}
