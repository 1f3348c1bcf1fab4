import { parseActions, type Action } from "./actions.ts";
import { CorruptLogError, ObjectNotFoundError } from "./errors.ts";
import { commitKey } from "./log-file-name.ts";
import type { LogListing } from "./log-listing.ts";
import type { ObjectStore } from "./object-store.ts";

/** How many log files replay fetches at once. */
export const FETCH_CONCURRENCY = 32;

/** Reads each commit file at most once per operation, and knows its commit time. */
export class CommitReader {
  private readonly cache = new Map<number, Promise<Action[]>>();
  constructor(
    private readonly store: ObjectStore,
    private readonly log: LogListing,
  ) {}

  actions(version: number): Promise<Action[]> {
    let p = this.cache.get(version);
    if (!p) {
      const meta = this.log.commits.get(version);
      const key = commitKey(version);
      if (!meta) p = Promise.reject(new CorruptLogError(key, "is missing"));
      else
        p = this.store.get(key).then(
          (bytes) => parseActions(bytes, key),
          (e: unknown) => {
            // Listed a moment ago, gone now: only log cleanup deletes commits.
            if (e instanceof ObjectNotFoundError) throw new CorruptLogError(key, "disappeared while it was being read", e);
            throw e;
          },
        );
      this.cache.set(version, p);
    }
    return p;
  }

  /** Commit time of `version`: commitInfo.timestamp, else the file's mtime. */
  async time(version: number): Promise<number> {
    const meta = this.log.commits.get(version);
    if (!meta) {
      // Only a checkpoint is left of this version; its file time is all there is.
      const parts = this.log.checkpoints.get(version);
      if (parts) return parts[0].lastModified;
      throw new CorruptLogError(commitKey(version), "is missing");
    }
    for (const a of await this.actions(version)) {
      if ("commitInfo" in a && typeof a.commitInfo.timestamp === "number") return a.commitInfo.timestamp;
    }
    return meta.lastModified;
  }
}

export function filePath(action: { path?: unknown } | null, kind: string, version: number): string {
  if (typeof action?.path !== "string") throw new CorruptLogError(commitKey(version), `has ${kind === "add" ? "an" : "a"} ${kind} action without a path`);
  return action.path;
}
