import { join } from "node:path";
import { durationMs } from "../units.ts";
import { readJsonControlFile, writeFileDurable } from "@pond/oplog";
import { BadMaintenanceOptionError, SnapshotExpiredError } from "../errors.ts";

/**
 * Logical expiry, as DuckLake and Delta do it: snapshots before `horizon` can no longer be
 * read with `--as-of`; nothing is deleted here (cleanup does that, later, after a grace
 * period). Kept in `control/expiry.json` because it describes this copy of the pond: a
 * remote keeps its full history, and restoring brings it back.
 *
 * Invariants: the horizon never moves backwards (an expired snapshot stays expired: its
 * files may already be gone) and never passes the newest snapshot. `history` records
 * each move, so cleanup knows since when a file has been unneeded.
 */
export interface ExpiryState {
  /** The oldest readable snapshot (data log version); 0 when nothing was expired. */
  horizon: number;
  history: ExpiryRecord[];
}

export interface ExpiryRecord {
  horizon: number;
  /** ms since the epoch */
  at: number;
  rule: string;
}

export function expiryPath(controlDir: string): string {
  return join(controlDir, "expiry.json");
}

/** The expiry state; none expired when the file does not exist. A damaged file is ControlFileError naming it and the fix. */
export function readExpiry(controlDir: string): ExpiryState {
  const state = readJsonControlFile<ExpiryState>(
    expiryPath(controlDir),
    'Rewrite it as {"horizon": N, "history": []}, N the oldest snapshot that may still be read (`pond log` lists them), or restore the pond from a backup. Do not lower N below an earlier horizon: cleanup may already have removed those snapshots\' files.',
    (v) =>
      typeof v === "object" && v !== null && Number.isSafeInteger((v as ExpiryState).horizon) && Array.isArray((v as ExpiryState).history)
        ? undefined
        : "it must be an object with a whole-number horizon and a history list",
  );
  return state ?? { horizon: 0, history: [] };
}

/** Replaces the expiry file atomically and durably (durable-file). */
export function writeExpiry(controlDir: string, state: ExpiryState): void {
  writeFileDurable(expiryPath(controlDir), JSON.stringify(state, null, 2) + "\n");
}

/** Throws SnapshotExpiredError when `seq` is before the horizon. */
export function checkNotExpired(state: ExpiryState, seq: number): void {
  if (seq >= state.horizon) return;
  const rec = state.history.find((r) => r.horizon > seq);
  throw new SnapshotExpiredError(seq, state.horizon, new Date(rec?.at ?? 0).toISOString());
}

/** Since when no unexpired snapshot is at or before `seq` (ms): the time of the first expiry that passed it. */
export function expiredSince(state: ExpiryState, seq: number): number | undefined {
  return state.history.find((r) => r.horizon > seq)?.at;
}

/** The new horizon for `--older-than` / `--keep-last`, given every snapshot's version and commit time, oldest first. */
export function planHorizon(
  snapshots: readonly { version: number; timestamp: number }[],
  current: number,
  rule: { olderThanMs?: number; keepLast?: number; now: number },
): number {
  if (snapshots.length === 0) return current;
  const newest = snapshots[snapshots.length - 1]!.version;
  let horizon = current;
  if (rule.keepLast !== undefined) horizon = Math.max(horizon, newest - rule.keepLast + 1);
  if (rule.olderThanMs !== undefined) {
    const cutoff = rule.now - rule.olderThanMs;
    const firstKept = snapshots.find((s) => s.timestamp >= cutoff);
    horizon = Math.max(horizon, firstKept ? firstKept.version : newest);
  }
  // The newest snapshot is never expired.
  return Math.min(horizon, newest);
}

/** Parses a duration like `30d`, `12h`, `90m`, `0s` into ms (a unit is required). */
export function parseDuration(what: string, text: string): number {
  const ms = durationMs(text);
  if (ms === undefined) throw new BadMaintenanceOptionError(what, text, "a number and a unit s, m, h, d or w (e.g. 30d, 12h, 0s)");
  return ms;
}
