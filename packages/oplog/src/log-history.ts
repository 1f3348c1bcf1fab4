/** Questions about the whole log's history: its commits (for `pond show`) and every file any of them added. */
import type { Action, CommitInfo } from "./actions.ts";
import { CommitReader, FETCH_CONCURRENCY, filePath } from "./commit-reader.ts";
import { mapLimit } from "./concurrency.ts";
import { listLog, type LogListing } from "./log-listing.ts";
import type { ObjectStore } from "./object-store.ts";

/** One commit as `eachCommit` hands it over: its version, commit time and actions. */
export interface CommitRead {
  version: number;
  /** commitInfo.timestamp, else the file's mtime (ms). */
  timestamp: number;
  actions: Action[];
}

/** Commits read at once by `eachCommit`: enough to keep FETCH_CONCURRENCY reads busy, few enough that a window's actions stay small. */
const COMMIT_WINDOW = FETCH_CONCURRENCY * 4;

/**
 * Calls `fn` on each commit still in the log (of `log`, listed when not given), oldest
 * first. Commits are read a window at a time and dropped once `fn` returns: memory does
 * not grow with the log (a CommitReader keeps every commit it read, which at 100,000
 * commits was hundreds of MB). Returns the listing it read.
 */
export async function eachCommit(store: ObjectStore, fn: (c: CommitRead) => void | Promise<void>, opts: { log?: LogListing } = {}): Promise<LogListing> {
  const log = opts.log ?? (await listLog(store));
  const versions = [...log.commits.keys()].sort((a, b) => a - b);
  for (let i = 0; i < versions.length; i += COMMIT_WINDOW) {
    const window = versions.slice(i, i + COMMIT_WINDOW);
    const reader = new CommitReader(store, log);
    const read = await mapLimit(window, FETCH_CONCURRENCY, async (version) => ({
      version,
      actions: await reader.actions(version),
      timestamp: await reader.time(version),
    }));
    for (const c of read) await fn(c);
  }
  return log;
}

/** Each commit that still exists, oldest first, with counts of its file actions (for `pond show`). */
export async function listCommits(
  store: ObjectStore,
): Promise<{ version: number; timestamp: number; commitInfo: CommitInfo | null; actions: { add: number; remove: number; bytesAdded: number } }[]> {
  const out: { version: number; timestamp: number; commitInfo: CommitInfo | null; actions: { add: number; remove: number; bytesAdded: number } }[] = [];
  await eachCommit(store, ({ version, timestamp, actions }) => {
    let add = 0;
    let remove = 0;
    let bytesAdded = 0;
    let commitInfo: CommitInfo | null = null;
    for (const a of actions) {
      if ("add" in a) {
        add++;
        bytesAdded += a.add.size;
      } else if ("remove" in a) remove++;
      else if ("commitInfo" in a) commitInfo = a.commitInfo;
    }
    out.push({ version, timestamp, commitInfo, actions: { add, remove, bytesAdded } });
  });
  return out;
}

/**
 * The path of every data file that a commit still in the log added, whether or not a
 * later commit removed it: what time travel to any readable version may need (a file
 * merged away stays readable as of the versions before the merge).
 */
export async function everyAddedPath(store: ObjectStore): Promise<Set<string>> {
  const paths = new Set<string>();
  await eachCommit(store, ({ version, actions }) => {
    for (const a of actions) if ("add" in a) paths.add(filePath(a.add, "add", version));
  });
  return paths;
}
