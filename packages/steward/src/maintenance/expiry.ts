import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
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

export function readExpiry(controlDir: string): ExpiryState {
  const path = expiryPath(controlDir);
  if (!existsSync(path)) return { horizon: 0, history: [] };
  const state = JSON.parse(readFileSync(path, "utf8")) as ExpiryState;
  if (!Number.isSafeInteger(state.horizon) || !Array.isArray(state.history)) throw new Error(`${path} is not an expiry record (no horizon/history)`);
  return state;
}

export function writeExpiry(controlDir: string, state: ExpiryState): void {
  writeDurably(expiryPath(controlDir), JSON.stringify(state, null, 2) + "\n");
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

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Parses a duration like `30d`, `12h`, `90m`, `0s` into ms. */
export function parseDuration(what: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)([smhdw])$/.exec(text.trim());
  if (!m) throw new BadMaintenanceOptionError(what, text, "a number and a unit s, m, h, d or w (e.g. 30d, 12h, 0s)");
  return Number(m[1]) * UNITS[m[2]!]!;
}

/** Writes a small file so that a crash leaves the old or the new content, never a torn one. */
function writeDurably(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, "w");
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  const dfd = openSync(dirname(path), "r");
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}
