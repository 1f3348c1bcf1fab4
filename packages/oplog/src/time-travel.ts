/** Time travel over the log: which version a request reads, and whether it can still be rebuilt. */
import type { CommitReader } from "./commit-reader.ts";
import { CorruptLogError, VersionNotFoundError } from "./errors.ts";
import { commitKey } from "./log-file-name.ts";
import type { LogListing } from "./log-listing.ts";
import type { ObjectStore } from "./object-store.ts";

export function newestCheckpoint(log: LogListing, atOrBefore: number): number | null {
  let best: number | null = null;
  for (const v of log.checkpoints.keys()) if (v <= atOrBefore && (best === null || v > best)) best = v;
  return best;
}

/**
 * Throws unless `version` can be rebuilt: from its newest checkpoint, or from version
 * 0, every commit up to it must exist. A hole before the oldest checkpoint is log
 * cleanup (VersionNotFoundError); a hole after it is a missing file (CorruptLogError).
 */
export function checkReachable(store: ObjectStore, log: LogListing, version: number): void {
  const cp = newestCheckpoint(log, version);
  for (let v = cp === null ? 0 : cp + 1; v <= version; v++) {
    if (log.commits.has(v)) continue;
    if (cp === null) {
      const earliest = earliestReachable(log);
      if (earliest !== null && earliest > version) {
        throw new VersionNotFoundError(store.url, `version ${version}`, `is no longer in the log (the earliest readable version is ${earliest})`, {
          version,
          earliest,
        });
      }
    }
    throw new CorruptLogError(commitKey(v), `is missing (needed to read version ${version})`);
  }
}

/** The oldest version that can be rebuilt: 0 if its commit exists, else the oldest checkpoint. */
export function earliestReachable(log: LogListing): number | null {
  if (log.commits.has(0)) return 0;
  let min: number | null = null;
  for (const v of log.checkpoints.keys()) if (min === null || v < min) min = v;
  return min;
}

/**
 * The newest readable version whose commit time is at or before `timestamp`. Commit
 * times rise with versions (Delta writers ensure it), so this is a binary search that
 * reads about log2(n) commit files; replay reuses them.
 */
export async function versionAt(store: ObjectStore, log: LogListing, reader: CommitReader, timestamp: number): Promise<number> {
  const earliest = earliestReachable(log) ?? 0;
  const candidates = new Set<number>();
  for (const v of log.commits.keys()) if (v >= earliest) candidates.add(v);
  for (const v of log.checkpoints.keys()) if (v >= earliest) candidates.add(v);
  const vs = [...candidates].sort((a, b) => a - b);
  let lo = 0;
  let hi = vs.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if ((await reader.time(vs[mid])) <= timestamp) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  if (found < 0) {
    const first = vs.length ? await reader.time(vs[0]) : NaN;
    throw new VersionNotFoundError(store.url, `time ${isoTime(timestamp)}`, `is before the first readable version (${vs[0]}, committed ${isoTime(first)})`, {
      timestamp,
      earliest: vs[0],
    });
  }
  checkReachable(store, log, vs[found]);
  return vs[found];
}

function isoTime(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : String(ms);
}
