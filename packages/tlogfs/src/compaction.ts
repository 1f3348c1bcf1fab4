import { writeEntryFile, type Action, type ObjectStore, type OplogEntry } from "@pond/oplog";
import { PondFormatError } from "./errors.ts";
import { mergedRowAttributes } from "./merged-payload.ts";
import type { PartitionIndex } from "./partition-index.ts";

/**
 * A commit that would leave a partition with this many entry files or more merges the
 * older ones into one (see `TLogTransaction.commit`). A collector appending a series
 * version a commit adds an entry file to the series' folder each time; without merging,
 * every command reads the list of them (the snapshot) and their rows (the row cache),
 * both growing for as long as the collector runs.
 */
export const COMPACT_FROM_FILES = 64;

/**
 * Older entry files larger than this in all are not merged: a merge rewrites them whole,
 * and a folder whose small files are rewritten often with inline content (each under 64
 * KiB) could otherwise rewrite hundreds of MB every 64 commits. Such a folder keeps its
 * files, as before merging existed.
 */
export const COMPACT_MAX_BYTES = 64 * 1024 * 1024;

/**
 * When this commit would leave partition `partId` with `compact.fromFiles` entry files or
 * more: one merged file of every file row in the older files (each keeping the version
 * that committed it, in a tag), and a remove of each older file. The newest directory
 * row among them, when this commit writes none of its own, moves into `partRows`, so
 * the commit's own file holds it and the merged file holds no directory rows. The
 * removed files stay on disk: earlier versions of the log still name them (time travel,
 * backups); `pond recover` keeps every file any commit added. `merges` holds the versions
 * the committing transaction moves into merged files in this partition (`nodeId/version`
 * → the merged file, see `TLogTransaction.mergeVersions`).
 */
export async function compaction(
  store: ObjectStore,
  index: PartitionIndex,
  compact: { fromFiles: number; maxBytes: number },
  merges: ReadonlyMap<string, { sha256: string; size: number }> | undefined,
  partId: string,
  partRows: OplogEntry[],
  version: number,
  ts: bigint,
): Promise<Action[]> {
  const old = index.files(partId);
  // A merge of series versions rewrites the partition whatever its size (mergeVersions checked it can).
  if (!merges) {
    if (compact.fromFiles <= 0 || old.length + 1 < compact.fromFiles) return [];
    if (old.reduce((n, f) => n + f.size, 0) > compact.maxBytes) return [];
    // Files from another writer's checkpoint have no known version: leave them as they are.
    if (old.some((f) => f.addedInVersion === null)) return [];
  }
  let rows = await index.partFileRows(partId);
  const versions = rows.map((r) => index.txnOf(r));
  // A row whose version is unknown (a merged file's tag that does not match its rows)
  // would lose it in a new merge: leave the files as they are, readable as ever.
  if (versions.some((v) => v === undefined)) {
    if (merges) throw new PondFormatError(`Directory ${partId}`, "holds rows whose committing version is unknown; they cannot be rewritten by a merge");
    return [];
  }
  if (merges) rows = rows.map((r) => mergedRow(r, merges.get(`${r.node_id}/${r.version}`)));
  const order = rows
    .map((_, i) => i)
    .sort((a, b) => (rows[a]!.node_id < rows[b]!.node_id ? -1 : rows[a]!.node_id > rows[b]!.node_id ? 1 : rows[a]!.version - rows[b]!.version));
  if (!partRows.some((r) => r.file_type === "directory" && r.node_id === partId)) {
    const row = await index.newestDirRow(partId);
    if (row) partRows.push(row);
  }
  const actions: Action[] = [];
  if (rows.length > 0) {
    actions.push({
      add: await writeEntryFile(
        store,
        partId,
        order.map((i) => rows[i]!),
        { version, rowVersions: order.map((i) => versions[i]!), codec: "ZSTD" },
      ),
    });
  }
  const deletionTimestamp = Number(ts / 1000n);
  for (const f of old) {
    actions.push({
      remove: { path: f.path, deletionTimestamp, dataChange: false, extendedFileMetadata: true, partitionValues: f.partitionValues, size: f.size },
    });
  }
  return actions;
}

/** `r` moved into merged file `to` (unchanged without one): the row names the file, its record the version's own payload. */
function mergedRow(r: OplogEntry, to: { sha256: string; size: number } | undefined): OplogEntry {
  if (!to) return r;
  if (r.content !== null) throw new PondFormatError(`node ${r.node_id} version ${r.version}`, "has inline content; only Parquet payloads are merged");
  return { ...r, sha256: to.sha256, size: to.size, attributes: mergedRowAttributes(r.attributes, { sha256: r.sha256, size: r.size }) };
}
