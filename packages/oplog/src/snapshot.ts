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

/**
 * The tag of a merged entry file (one that compaction wrote from a partition's older
 * files) that keeps, for each of its rows in file order, the data log version that first
 * committed the row: `pond.version` of a merged file is only the compaction's. Runs of
 * versions that step evenly are written `first:step:count`, joined by commas, so a
 * collector's series (one version a commit: 101, 102, 103 …) takes a few bytes.
 */
export const POND_ROW_VERSIONS_TAG = "pond.rowVersions";

export function encodeRowVersions(versions: readonly number[]): string {
  const runs: string[] = [];
  let i = 0;
  while (i < versions.length) {
    const first = versions[i]!;
    const step = i + 1 < versions.length ? versions[i + 1]! - first : 0;
    let n = 1;
    while (i + n < versions.length && versions[i + n]! - versions[i + n - 1]! === step) n++;
    runs.push(`${first}:${n === 1 ? 0 : step}:${n}`);
    i += n;
  }
  return runs.join(",");
}

/** The versions `encodeRowVersions` wrote, or undefined when the text is not such a list. */
export function decodeRowVersions(text: string): number[] | undefined {
  const out: number[] = [];
  if (text === "") return out;
  for (const run of text.split(",")) {
    const m = /^(\d{1,15}):(-?\d{1,15}):(\d{1,9})$/.exec(run);
    if (!m) return undefined;
    const first = Number(m[1]),
      step = Number(m[2]),
      n = Number(m[3]);
    for (let k = 0; k < n; k++) out.push(first + k * step);
  }
  return out;
}
