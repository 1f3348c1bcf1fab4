import { writeEntryFile, type Action, type ActiveFile, type ObjectStore, type OplogEntry } from "@pond/oplog";
import { PondFormatError } from "./errors.ts";
import { mergedRowAttributes } from "./merged-payload.ts";
import { isMerged, rowCountOf, versionRange, type PartitionIndex } from "./partition-index.ts";

/**
 * A commit that would leave a partition with this many of a commit's own entry files
 * (tier 0) or more merges the older ones into one (see `TLogTransaction.commit`). A
 * collector appending a series version a commit adds an entry file to the series' folder
 * each time; without merging, every command reads the list of them (the snapshot) and
 * their rows (the row cache), both growing for as long as the collector runs.
 */
export const COMPACT_FROM_FILES = 64;

/**
 * Merged entry files are tiered by their rows (see `tierOf`): once a tier holds this many
 * files, counting the one a merge is about to write into it, they are merged into one of
 * a higher tier. So a row is rewritten about log_8(rows / 63) times over its life (3 times
 * by 32,000 versions of a collector's series, 4 by 258,000), not once every 64 commits as
 * when every merge rewrote the whole partition, and a partition keeps at most 63 files of
 * tier 0 and 7 of each higher tier.
 */
export const COMPACT_FAN_IN = 8;

/**
 * Older entry files larger than this in all are not merged: a merge rewrites them whole,
 * and a folder whose small files are rewritten often with inline content (each under 64
 * KiB) could otherwise rewrite hundreds of MB again and again. Such files stay as they are,
 * as before merging existed. A merge of series versions (`merges`) is not capped.
 */
export const COMPACT_MAX_BYTES = 64 * 1024 * 1024;

export interface CompactOptions {
  /** Tier 0 is merged once a commit would leave this many files in it (0: never). */
  fromFiles: number;
  /** A higher tier is merged once it would hold this many files. */
  fanIn: number;
  maxBytes: number;
}

/** What a commit's compaction of one partition does, for the caller to follow (series summaries). */
export interface Compaction {
  actions: Action[];
  /** The entry files it removes, and the file rows they held. */
  removed: ActiveFile[];
  removedRows: OplogEntry[];
  /** The path of the merged file it writes (none when the removed files held no file rows), and its rows: the removed ones, those of merged versions naming their merged file. */
  added?: string;
  addedRows: OplogEntry[];
}

/** The tier a merged file of `rows` file rows belongs to: 1 under (fromFiles - 1) × fanIn rows, one more for each further factor of fanIn. */
export function tierOfRows(rows: number, c: Pick<CompactOptions, "fromFiles" | "fanIn">): number {
  let tier = 1;
  for (let limit = Math.max(1, c.fromFiles - 1) * Math.max(2, c.fanIn); rows >= limit; limit *= Math.max(2, c.fanIn)) tier++;
  return tier;
}

/**
 * An entry file's tier: 0 for a commit's own file, else by its rows (a merged file holds
 * file rows only, each with its version in the file's tag); undefined when that cannot be told.
 */
export function tierOf(f: ActiveFile, c: Pick<CompactOptions, "fromFiles" | "fanIn">): number | undefined {
  if (!isMerged(f)) return 0;
  const rows = rowCountOf(f);
  return rows === undefined ? undefined : tierOfRows(rows, c);
}

/**
 * What this commit merges in partition `partId`, tiered: the older files of tier 0 once
 * the commit's own file would make `fromFiles` of them; then, while the tier the merged
 * file would fall in already holds `fanIn - 1` files, those too (a cascade, as in a
 * log-structured merge tree). `merges` (the versions the committing transaction moves
 * into merged payloads, `nodeId/version` → the merged file, see
 * `TLogTransaction.mergeVersions`) adds every file holding a row of such a version: only
 * those are rewritten, their rows re-pointed, the others left as they are. Every row stays
 * in exactly one active file.
 *
 * Tier-0 files also hold the directory's own rows, which a merged file does not: when the
 * newest of them is in a file this removes and the commit writes none of its own, it moves
 * into `partRows`, so the commit's own file (the newest) holds it. A merge of payloads
 * removes only the tier-0 files holding its versions: the newest version, never merged,
 * stays in its own file, and the next merge does not rewrite this one's file again. The removed
 * files stay on disk: earlier versions of the log still name them (time travel, backups);
 * `pond recover` keeps every file any commit added.
 */
export async function compaction(
  store: ObjectStore,
  index: PartitionIndex,
  compact: CompactOptions,
  merges: ReadonlyMap<string, { sha256: string; size: number }> | undefined,
  partId: string,
  partRows: OplogEntry[],
  version: number,
  ts: bigint,
): Promise<Compaction> {
  const none: Compaction = { actions: [], removed: [], removedRows: [], addedRows: [] };
  const old = index.files(partId);
  // Files from another writer's checkpoint have no known version: leave them as they are
  // (mergeVersions refused a merge of series versions in such a partition).
  if (old.some((f) => f.addedInVersion === null)) return none;
  const tiers = new Map<number, ActiveFile[]>();
  for (const f of old) {
    const t = tierOf(f, compact);
    if (t === undefined) continue;
    const list = tiers.get(t);
    if (list) list.push(f);
    else tiers.set(t, [f]);
  }
  const tier0 = tiers.get(0) ?? [];
  const chosen = new Set<ActiveFile>();
  if (merges) for (const f of await filesHolding(index, partId, old, merges)) chosen.add(f);
  const bytes = (files: Iterable<ActiveFile>) => [...files].reduce((n, f) => n + f.size, 0);
  const capped = (more: readonly ActiveFile[]) => !merges && bytes(chosen) + bytes(more) > compact.maxBytes;
  const left0 = tier0.filter((f) => !chosen.has(f));
  if (compact.fromFiles > 0 && left0.length > 0 && left0.length + 1 >= compact.fromFiles && !capped(left0)) for (const f of left0) chosen.add(f);
  if (chosen.size === 0) return none;

  let rows = await rowsOf(index, partId, chosen);
  // Cascade: the merged file joins the files of its tier when that makes fanIn of them.
  for (;;) {
    if (rows === undefined || rows.length === 0 || compact.fromFiles <= 0) break;
    const same = (tiers.get(tierOfRows(rows.length, compact)) ?? []).filter((f) => !chosen.has(f));
    if (same.length === 0 || same.length + 1 < compact.fanIn || capped(same)) break;
    const more = await rowsOf(index, partId, same);
    if (more === undefined) break;
    for (const f of same) chosen.add(f);
    rows = [...rows, ...more];
  }
  if (rows === undefined) {
    if (merges) throw new PondFormatError(`Directory ${partId}`, "holds rows whose committing version is unknown; they cannot be rewritten by a merge");
    return none;
  }
  const removed = old.filter((f) => chosen.has(f));
  const removedRows = rows.map((r) => r.row);
  if (removed.some((f) => !isMerged(f)) && !partRows.some((r) => r.file_type === "directory" && r.node_id === partId)) {
    const row = await index.newestDirRow(partId);
    if (row && row.version > ((await newestKeptDirRow(index, partId, chosen)) ?? -1)) partRows.push(row);
  }
  const out: Compaction = { actions: [], removed, removedRows, addedRows: [] };
  if (rows.length > 0) {
    const moved = rows.map(({ row, txn }) => ({ row: merges ? mergedRow(row, merges.get(`${row.node_id}/${row.version}`)) : row, txn }));
    moved.sort((a, b) => (a.row.node_id < b.row.node_id ? -1 : a.row.node_id > b.row.node_id ? 1 : a.row.version - b.row.version));
    out.addedRows = moved.map((m) => m.row);
    const add = await writeEntryFile(store, partId, out.addedRows, { version, rowVersions: moved.map((m) => m.txn), codec: "ZSTD" });
    out.added = add.path;
    out.actions.push({ add });
  }
  const deletionTimestamp = Number(ts / 1000n);
  for (const f of removed) {
    out.actions.push({
      remove: { path: f.path, deletionTimestamp, dataChange: false, extendedFileMetadata: true, partitionValues: f.partitionValues, size: f.size },
    });
  }
  return out;
}

/**
 * The version of the newest directory row of `partId` in a tier-0 file that stays (not in
 * `chosen`): the newest such file holding one has it, as `PartitionIndex.newestDirRow`
 * reads them. When the newest row of all is older or the same, it stays where it is.
 */
async function newestKeptDirRow(index: PartitionIndex, partId: string, chosen: ReadonlySet<ActiveFile>): Promise<number | undefined> {
  for (const f of index.files(partId)) {
    if (isMerged(f) || chosen.has(f)) continue;
    let v: number | undefined;
    for (const r of await index.rows(f)) if (r.file_type === "directory" && r.node_id === partId && (v === undefined || r.version > v)) v = r.version;
    if (v !== undefined) return v;
  }
  return undefined;
}

/** The file rows of `files` with the version that committed each; undefined when one's is unknown (a merged file's tag that does not match its rows). */
async function rowsOf(index: PartitionIndex, partId: string, files: Iterable<ActiveFile>): Promise<{ row: OplogEntry; txn: number }[] | undefined> {
  const out: { row: OplogEntry; txn: number }[] = [];
  for (const row of (await index.fileRowsIn(partId, [...files])).flat()) {
    const txn = index.txnOf(row);
    if (txn === undefined) return undefined;
    out.push({ row, txn });
  }
  return out;
}

/** The files of `old` that hold a row of a version in `merges` (their stats narrow which are read). */
async function filesHolding(index: PartitionIndex, partId: string, old: readonly ActiveFile[], merges: ReadonlyMap<string, unknown>): Promise<ActiveFile[]> {
  const nodes = new Map<string, { lo: number; hi: number }>();
  for (const k of merges.keys()) {
    const slash = k.lastIndexOf("/");
    const node = k.slice(0, slash);
    const v = Number(k.slice(slash + 1));
    const r = nodes.get(node);
    if (r) {
      r.lo = Math.min(r.lo, v);
      r.hi = Math.max(r.hi, v);
    } else nodes.set(node, { lo: v, hi: v });
  }
  const candidates = old.filter((f) => [...nodes].some(([node, r]) => mayHold(f, node, r.lo, r.hi)));
  // Newest first (as `old` is), until every version is found: each row is in exactly one
  // active file, and a merge of a series' newest versions finds them in its newest files,
  // so it reads those, not every row of the folder (see PartitionIndex.fileRowsIn).
  const missing = new Set(merges.keys());
  const out: ActiveFile[] = [];
  for (const f of candidates) {
    if (missing.size === 0) break;
    const [rows] = await index.fileRowsIn(partId, [f]);
    let holds = false;
    for (const r of rows!) holds = missing.delete(`${r.node_id}/${r.version}`) || holds;
    if (holds) out.push(f);
  }
  return out;
}

/** False only when `f`'s stats prove it holds no row of `nodeId` with a version in [lo, hi]. */
function mayHold(f: ActiveFile, nodeId: string, lo: number, hi: number): boolean {
  const r = versionRange(f, nodeId);
  return r === undefined || (r !== null && lo <= r.hi && r.lo <= hi);
}

/** `r` moved into merged file `to` (unchanged without one): the row names the file, its record the version's own payload. */
function mergedRow(r: OplogEntry, to: { sha256: string; size: number } | undefined): OplogEntry {
  if (!to) return r;
  if (r.content !== null) throw new PondFormatError(`node ${r.node_id} version ${r.version}`, "has inline content; only Parquet payloads are merged");
  return { ...r, sha256: to.sha256, size: to.size, attributes: mergedRowAttributes(r.attributes, { sha256: r.sha256, size: r.size }) };
}
