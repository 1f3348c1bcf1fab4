/**
 * A table as of one version: an immutable value that does not hold the store it was
 * read from (pass the store to each operation instead).
 */
import type { AddAction, Metadata, Protocol } from "./actions.ts";

/**
 * An active data file. `addedInVersion` is the version whose commit added it: known
 * when replayed from JSON commits, carried through our checkpoints in
 * `tags["pond.version"]`, null for files from other writers' checkpoints.
 */
export type ActiveFile = AddAction & { addedInVersion: number | null };

export interface Snapshot {
  version: number;
  /** ms since the epoch: the commit time of `version` (commitInfo.timestamp, else the log file's mtime). */
  timestamp: number;
  protocol: Protocol;
  metadata: Metadata;
  /** Every file added and not removed up to `version`, each path once. */
  files: ActiveFile[];
}

/** The tag that carries `addedInVersion` through checkpoints. */
export const POND_VERSION_TAG = "pond.version";
