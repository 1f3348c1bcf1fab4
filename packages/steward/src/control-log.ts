import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from "node:fs";
import { ControlFileError } from "@pond/oplog";

/**
 * The steward's own record of write transactions: `control/transactions.jsonl`, one
 * JSON object a line, appended (and fsynced) under the write lock. A torn last line
 * (a crash mid-append) is ignored on read.
 */
export type ControlRecord =
  | { type: "begin"; txnId: string; baseSeq: number; command: string[]; user: string; startedAt: number; pid: number }
  | { type: "committed"; txnId: string; seq: number; endedAt: number; durationMs: number; changes: string[] }
  | { type: "failed"; txnId: string; endedAt: number; durationMs: number; error: string; code: string }
  | { type: "recovered"; txnId: string; endedAt: number; outcome: "committed" | "failed"; seq?: number; detail: string };

export function appendControl(path: string, rec: ControlRecord): void {
  const fd = openSync(path, "a");
  try {
    writeSync(fd, JSON.stringify(rec) + "\n");
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function readControl(path: string): ControlRecord[] {
  if (!existsSync(path)) return [];
  const out: ControlRecord[] = [];
  const lines = readFileSync(path, "utf8").split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line) continue;
    try {
      out.push(JSON.parse(line) as ControlRecord);
    } catch (e) {
      // Only the last line can be torn by a crash mid-append; anything else is damage.
      if (e instanceof SyntaxError && i >= lines.length - 2) continue;
      if (!(e instanceof SyntaxError)) throw e;
      throw new ControlFileError(
        path,
        `line ${i + 1} is not JSON (${e.message})`,
        `The data log, not this file, is the record of what was committed: restore ${path} from a backup, or move it aside (pond log then shows only the transactions after it).`,
      );
    }
  }
  return out;
}

/** One write transaction as the control log tells it. */
export interface TxnHistory {
  txnId: string;
  status: "committed" | "failed" | "incomplete";
  seq?: number;
  baseSeq: number;
  command: string[];
  user: string;
  startedAt: number;
  durationMs?: number;
  changes: string[];
  error?: string;
  recovered?: string;
}

/** Folds the records into one entry per transaction, in begin order. */
export function foldControl(records: ControlRecord[]): TxnHistory[] {
  const byId = new Map<string, TxnHistory>();
  for (const r of records) {
    if (r.type === "begin") {
      byId.set(r.txnId, { txnId: r.txnId, status: "incomplete", baseSeq: r.baseSeq, command: r.command, user: r.user, startedAt: r.startedAt, changes: [] });
      continue;
    }
    const t = byId.get(r.txnId);
    if (!t) continue;
    if (r.type === "committed") Object.assign(t, { status: "committed", seq: r.seq, durationMs: r.durationMs, changes: r.changes });
    else if (r.type === "failed") Object.assign(t, { status: "failed", durationMs: r.durationMs, error: r.error });
    else Object.assign(t, { status: r.outcome, seq: r.seq, recovered: r.detail });
  }
  return [...byId.values()];
}
