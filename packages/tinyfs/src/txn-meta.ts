import type { TxnMeta } from "./types.ts";
import { uuid7 } from "./uuid7.ts";

/** Metadata for a new transaction: a fresh UUIDv7 id, the command line, the user, now. */
export function newTxnMeta(command: string[], user: string = "unknown", nowMs: number = Date.now()): TxnMeta {
  return { txnId: uuid7(nowMs), command: [...command], user, startedAt: nowMs };
}
