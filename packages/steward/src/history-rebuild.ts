/**
 * The control history of a pond copied from a remote. The remote's control segments
 * hold the original records (commands, change notes, failed transactions); a push cut
 * off after its commits but before its control segment leaves some committed
 * transactions without records. Those are rebuilt from the commit's own `commitInfo`
 * (sequence, transaction id, command, user, start time), so `pond log` lists every
 * transaction the data log holds.
 */
import { writeFileDurable } from "@pond/oplog";
import { baseHeader } from "./control-archive.ts";
import { foldControl, type ControlRecord } from "./control-log.ts";

export interface CommitSummary {
  version: number;
  timestamp: number;
  commitInfo: Record<string, unknown> | null;
}

interface PondInfo {
  seq?: number;
  txnId?: string;
  command?: string[];
  user?: string;
  startedAt?: number;
}

/** `records` plus a begin/committed pair for every commit they do not record as committed. */
export function completeHistory(records: readonly ControlRecord[], commits: readonly CommitSummary[]): ControlRecord[] {
  const out = [...records];
  const known = new Map(foldControl(out).map((t) => [t.txnId, t]));
  for (const c of commits) {
    const p = (c.commitInfo?.pond ?? null) as PondInfo | null;
    if (!p?.txnId) continue;
    const t = known.get(p.txnId);
    if (t?.status === "committed") continue;
    const startedAt = p.startedAt ?? c.timestamp;
    if (!t) {
      out.push({ type: "begin", txnId: p.txnId, baseSeq: c.version - 1, command: p.command ?? [], user: p.user ?? "", startedAt, pid: 0 });
    }
    out.push({ type: "committed", txnId: p.txnId, seq: c.version, endedAt: c.timestamp, durationMs: Math.max(0, c.timestamp - startedAt), changes: [] });
  }
  return out;
}

/**
 * Replaces the live control log with `records` atomically (temp file, fsync, rename),
 * starting at logical offset `base` (control-archive.ts: the archives hold what is before).
 */
export function writeControlLog(path: string, records: readonly ControlRecord[], base = 0): void {
  writeFileDurable(path, (base > 0 ? baseHeader(base) : "") + records.map((r) => JSON.stringify(r) + "\n").join(""));
}
