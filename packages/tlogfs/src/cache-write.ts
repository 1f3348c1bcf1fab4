/**
 * How the derived caches under control/ (snapshot, row, directory, series summaries) write:
 * unless the disk refuses. A pond on a read-only or full disk still reads; it just rebuilds
 * what a cache would have kept, each time.
 */
import { mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { isSystemError, isWriteRefused, logger } from "@pond/diagnostics";

/**
 * Runs `write` (which writes `path`) after making its folder; a refused write (EROFS,
 * ENOSPC, EACCES…) is logged at debug and skipped, and `tmp`, the temp file it may have
 * left, removed. Any other error is thrown.
 */
export function writeCache(what: string, path: string, write: () => void, tmp?: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    write();
  } catch (e) {
    if (!isWriteRefused(e)) throw e;
    // On a read-only disk the temp file was never made, and removing it fails too (EROFS).
    if (tmp)
      try {
        rmSync(tmp, { force: true });
      } catch (r) {
        if (!isWriteRefused(r)) throw r;
      }
    logger.debug(`${what} not written`, { path, error: (e as Error).message });
  }
}

/**
 * What pruning one derived-cache file did (or, on a dry run, would do): the records of
 * entry files no longer on disk it dropped, and its size before and after (0: deleted).
 */
export interface CachePrune {
  path: string;
  dropped: number;
  before: number;
  after: number;
}

/** The size of `path`, 0 when there is none. */
export function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch (e) {
    if (isSystemError(e, "ENOENT")) return 0;
    throw e;
  }
}

/** The names in cache folder `dir` (what a prune looks through), none when there is no folder. */
export function cacheFiles(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (e) {
    if (isSystemError(e, "ENOENT")) return [];
    throw e;
  }
}
