import type { ActiveFile, ObjectStore, OplogEntry } from "@pond/oplog";
import { POND_ROW_VERSIONS_TAG, decodeRowVersions, readEntryFile } from "@pond/oplog";
import { cacheWeight, type RowCache } from "./row-cache.ts";
import { DirRows, type DirCache } from "./dir-cache.ts";
import { CorruptLogError, decodeDirectory } from "@pond/oplog";
import { sha256Hex, type DirEntry } from "@pond/tinyfs";
import type { PartSeries, PartSeriesCache } from "./series-part-cache.ts";
import type { SeriesHashes } from "./series-hashes.ts";
import type { SeriesSummary } from "./series-summary.ts";

/** Partitions with at least this many entry files keep their file rows in the row cache. */
export const ROW_CACHE_FROM_FILES = 8;

/**
 * The row cache's journal is folded into its base once it weighs this much, and at least
 * as much as the base (a file weighs its rows plus one: a merged file of a long series
 * is folded at once, instead of riding in the journal next to the file it replaced).
 */
export const ROW_CACHE_FOLD_FROM = 64;

/** A row cache and the partitions already loaded from it in this process. */
export interface SharedRowCache {
  store: RowCache;
  parts: Map<string, { files: Map<string, OplogEntry[]>; journaled: number }>;
  /** Series summaries kept between processes (see series-summary.ts), and those loaded in this process. */
  summaries?: KeptSeries<SeriesSummary>;
  /** Series' hash prefixes, likewise (see series-hashes.ts): loaded only by an append's duplicate check. */
  hashes?: KeptSeries<SeriesHashes>;
}

/** One kind of per-series data kept between processes (see series-part-cache.ts), and the partitions' loaded in this process. */
export interface KeptSeries<T> {
  store: PartSeriesCache<T>;
  parts: Map<string, PartSeries<T> | undefined>;
}

/** The journal of the directory cache is folded into its base once it holds this many paths, and at least as many as the base. */
export const DIR_CACHE_FOLD_FROM = 64;

/** A directory cache and, once loaded in this process, what it holds. */
export interface SharedDirCache {
  store: DirCache;
  loaded?: { rows: DirRows; journaled: number };
}

/**
 * The active data files of one snapshot, grouped by partition (`part_id`), with the
 * decoded rows cached by file path. Files are immutable, so the row cache is shared
 * by every view of the same pond in one process.
 */
export class PartitionIndex {
  private readonly byPart = new Map<string, ActiveFile[]>();

  constructor(
    files: readonly ActiveFile[],
    private readonly store: ObjectStore,
    private readonly decoded: Map<string, Promise<OplogEntry[]>>,
    /** @internal read by TLogView for series summaries */
    readonly diskRows?: SharedRowCache,
    private readonly dirRows?: SharedDirCache,
  ) {
    for (const f of files) {
      const part = f.partitionValues?.part_id;
      if (part == null) continue;
      let list = this.byPart.get(part);
      if (!list) this.byPart.set(part, (list = []));
      list.push(f);
    }
    // Newest first: the newest file of a directory's partition holds its newest snapshot.
    for (const list of this.byPart.values()) list.sort((a, b) => (b.addedInVersion ?? -1) - (a.addedInVersion ?? -1));
  }

  files(partId: string): readonly ActiveFile[] {
    return this.byPart.get(partId) ?? [];
  }

  get allFiles(): Iterable<ActiveFile> {
    return [...this.byPart.values()].flat();
  }

  /** The data log version that committed a row, when known. */
  txnOf(row: OplogEntry): number | undefined {
    return rowVersion.get(row);
  }

  rows(file: ActiveFile): Promise<OplogEntry[]> {
    let p = this.decoded.get(file.path);
    if (!p) {
      p = readEntryFile(this.store, file).then((rows) => {
        noteVersions(file, rows);
        return rows;
      });
      this.decoded.set(file.path, p);
      p.catch(() => this.decoded.delete(file.path));
    }
    return p;
  }

  /** Every row of `nodeId` in partition `partId`, skipping files whose stats exclude it. */
  async nodeRows(partId: string, nodeId: string): Promise<OplogEntry[]> {
    const out: OplogEntry[] = [];
    const files = this.files(partId).filter((f) => mayContain(f, nodeId));
    const all = await Promise.all(files.map((f) => this.rows(f)));
    for (const rows of all) for (const r of rows) if (r.node_id === nodeId) out.push(r);
    return out;
  }

  /**
   * The file rows (no directory snapshots) of `nodeId` in partition `partId`. A partition
   * of many entry files (a series appended a version a commit), or one holding a merged
   * file, takes them from the row cache (row-cache.ts), reading only the files it lacks
   * and appending those to its journal; once the journal is as large as the base, both
   * are rewritten as one base (so each file is rewritten O(1) times on average).
   */
  async fileNodeRows(partId: string, nodeId: string): Promise<OplogEntry[]> {
    const files = this.files(partId).filter((f) => mayContain(f, nodeId));
    const out: OplogEntry[] = [];
    for (const rows of await this.fileRowsIn(partId, files)) for (const r of rows) if (r.node_id === nodeId) out.push(r);
    return out;
  }

  /** Every file row (no directory snapshots) of partition `partId`: what compaction merges. */
  async partFileRows(partId: string): Promise<OplogEntry[]> {
    return (await this.fileRowsIn(partId, this.files(partId))).flat();
  }

  /** The file rows of `files` (all in `partId`), each file's in file order. */
  async fileRowsIn(partId: string, files: readonly ActiveFile[]): Promise<OplogEntry[][]> {
    const all = this.files(partId);
    let cache = this.diskRows?.parts.get(partId);
    // From the entry files themselves: a short partition, or a few files of a long one whose
    // cache is not loaded (a commit's compaction of its newest files, a merge's of its newest
    // versions), rather than the cache of every row, which a series of 100,000 versions made
    // 55 MB of JSON (~0.4 s and ~500 MB to load).
    if (!this.diskRows || (all.length < ROW_CACHE_FROM_FILES && !all.some(isMerged)) || (!cache && fewRows(files, all))) {
      return (await Promise.all(files.map((f) => this.rows(f)))).map((rows) => rows.filter((r) => r.file_type !== "directory"));
    }
    if (!cache) this.diskRows.parts.set(partId, (cache = this.diskRows.store.load(partId)));
    const missing = files.filter((f) => !cache.files.has(f.path));
    if (missing.length > 0) {
      const read = await Promise.all(missing.map((f) => this.rows(f)));
      const added = new Map(missing.map((f, i) => [f.path, read[i]!.filter((r) => r.file_type !== "directory")]));
      for (const [path, rows] of added) {
        cache.files.set(path, rows);
        cache.journaled += cacheWeight(rows);
      }
      let weight = 0;
      for (const rows of cache.files.values()) weight += cacheWeight(rows);
      if (cache.journaled >= Math.max(ROW_CACHE_FOLD_FROM, weight - cache.journaled)) {
        // Files compaction removed from the partition are left out.
        const active = new Set(all.map((f) => f.path));
        for (const path of cache.files.keys()) if (!active.has(path)) cache.files.delete(path);
        this.diskRows.store.save(partId, cache.files);
        cache.journaled = 0;
      } else {
        this.diskRows.store.append(partId, added);
      }
    }
    return files.map((f) => {
      const rows = cache.files.get(f.path)!;
      noteVersions(f, rows);
      return rows;
    });
  }

  /**
   * The newest directory row of `dirId`. Every transaction that changes a directory
   * writes its full snapshot into the directory's own partition, so the newest file
   * there that holds a row of it has the newest snapshot.
   */
  async newestDirRow(dirId: string): Promise<OplogEntry | undefined> {
    const files = this.files(dirId);
    if (files.length === 0) return undefined;
    if (files.every((f) => f.addedInVersion !== null)) {
      for (const f of files) {
        if (!mayContain(f, dirId) || isMerged(f)) continue; // merged files hold no directory rows
        const row = await this.dirRowOf(f, dirId);
        if (row) return row;
      }
      return undefined;
    }
    // Order unknown (files from a foreign checkpoint): read them all.
    const rows = (await this.nodeRows(dirId, dirId)).filter((r) => r.file_type === "directory");
    return rows.length ? rows.reduce((a, b) => (b.version > a.version ? b : a)) : undefined;
  }

  /**
   * The newest row of directory `dirId` in entry file `f` (of `dirId`'s partition), or
   * null: from the directory cache (dir-cache.ts) when it has the file, else read from
   * the file and added to the cache's journal.
   */
  private async dirRowOf(f: ActiveFile, dirId: string): Promise<OplogEntry | null> {
    const cache = this.dirRows;
    if (cache) {
      cache.loaded ??= cache.store.load();
      const hit = cache.loaded.rows.get(f.path);
      if (hit !== undefined && (hit === null || hit.node_id === dirId)) return hit;
    }
    const rows = (await this.rows(f)).filter((r) => r.node_id === dirId && r.file_type === "directory");
    const row = rows.length ? rows.reduce((a, b) => (b.version > a.version ? b : a)) : null;
    if (cache?.loaded && f.path.startsWith(`part_id=${dirId}/`) && (row === null || row.content !== null)) {
      const { loaded } = cache;
      const entries = row ? snapshotEntries(row) : undefined;
      loaded.rows.set(f.path, row, entries);
      loaded.journaled++;
      if (loaded.journaled >= Math.max(DIR_CACHE_FOLD_FROM, loaded.rows.size - loaded.journaled)) {
        this.pruneDirRows(loaded.rows);
        cache.store.save(loaded.rows);
        loaded.journaled = 0;
      } else {
        const one = new DirRows();
        one.set(f.path, row, entries);
        cache.store.append(one);
      }
    }
    return row;
  }

  /**
   * The entries of directory row `row` (one `newestDirRow` returned) when the directory
   * cache has them decoded, as fresh objects; else undefined (decode the row's content).
   */
  cachedEntries(row: OplogEntry): DirEntry[] | undefined {
    return this.dirRows?.loaded?.rows.entriesOf(row)?.map((e) => ({ ...e }));
  }

  /**
   * Leaves in `rows` only what a lookup in this snapshot can use: per directory, the
   * cached files from the newest down to the first that holds its row. Paths no longer
   * active (merged away, or of an older snapshot) and older snapshots of a directory go:
   * a pond whose 100 directories were written by 1,000 commits kept 5.8 MB of them.
   */
  private pruneDirRows(rows: DirRows): void {
    const keep = new Set<string>();
    const parts = new Set<string>();
    for (const p of rows.paths()) {
      const m = /^part_id=([^/]+)\//.exec(p);
      if (m) parts.add(m[1]!);
    }
    for (const part of parts) {
      for (const f of this.files(part)) {
        if (isMerged(f)) continue;
        const row = rows.get(f.path);
        if (row === undefined) continue;
        keep.add(f.path);
        if (row !== null) break;
      }
    }
    for (const p of [...rows.paths()]) if (!keep.has(p)) rows.delete(p);
  }
}

/**
 * A directory row's entries, decoded to be cached, when its content checks against its
 * hash and decodes; else undefined, and the reader that needs them decodes the row
 * itself and reports what is wrong, as without a cache.
 */
function snapshotEntries(row: OplogEntry): DirEntry[] | undefined {
  if (row.content === null || sha256Hex(row.content) !== row.sha256) return undefined;
  try {
    return decodeDirectory(row.content);
  } catch (e) {
    if (e instanceof CorruptLogError) return undefined;
    throw e;
  }
}

const rowVersion = new WeakMap<OplogEntry, number>();
const noted = new WeakSet<readonly OplogEntry[]>();

/** True for an entry file that compaction merged from older ones: file rows only, each with its own version in a tag. */
export function isMerged(f: ActiveFile): boolean {
  return f.tags?.[POND_ROW_VERSIONS_TAG] !== undefined;
}

/**
 * Records the data log version that committed each of `rows` (the file rows of `f`, or
 * all its rows: a merged file has no others): the file's own version, or for a merged
 * file each row's from its tag. A tag that does not match the rows leaves them unknown.
 */
function noteVersions(f: ActiveFile, rows: readonly OplogEntry[]): void {
  // Once a rows array: cached rows are handed out on every lookup, and a merged file's
  // tag would be decoded again each time.
  if (noted.has(rows)) return;
  noted.add(rows);
  const tag = f.tags?.[POND_ROW_VERSIONS_TAG];
  if (tag === undefined) {
    if (f.addedInVersion !== null) for (const r of rows) rowVersion.set(r, f.addedInVersion);
    return;
  }
  const versions = decodeRowVersions(tag);
  if (versions?.length !== rows.length) return;
  for (const [i, r] of rows.entries()) rowVersion.set(r, versions[i]!);
}

/**
 * True when `files` hold at most 1/FEW_ROWS_PART of the rows of `all` (their partition's
 * files), and at most FEW_ROWS_MAX: a commit's own file counts as 2 rows (a version's and
 * its folder's) when its stats do not say. Decoding entry files cost no more a row than
 * parsing the cache (~2 against ~3 µs at 100,000 rows, CPU profiles of the compiled
 * binary), and holds only the rows asked for.
 */
function fewRows(files: readonly ActiveFile[], all: readonly ActiveFile[]): boolean {
  const rows = (fs: readonly ActiveFile[]) => fs.reduce((n, f) => n + (rowCountOf(f) ?? (isMerged(f) ? Number.POSITIVE_INFINITY : 2)), 0);
  const mine = rows(files);
  return mine <= FEW_ROWS_MAX && mine * FEW_ROWS_PART <= rows(all);
}

/** See `fewRows`. */
const FEW_ROWS_PART = 2;
const FEW_ROWS_MAX = 50_000;

const counted = new WeakMap<ActiveFile, number | undefined>();

/**
 * The rows of entry file `f`: for a merged file the count of versions in its row-versions
 * tag (runs `first:step:count`, see encodeRowVersions), else (or when the tag does not
 * parse) its stats' `numRecords`; undefined when neither tells (the snapshot cache leaves
 * stats out).
 */
export function rowCountOf(f: ActiveFile): number | undefined {
  if (counted.has(f)) return counted.get(f);
  let n: number | undefined;
  const tag = f.tags?.[POND_ROW_VERSIONS_TAG];
  if (tag !== undefined) {
    n = 0;
    if (tag !== "")
      for (const run of tag.split(",")) {
        const m = /^\d{1,15}:-?\d{1,15}:(\d{1,9})$/.exec(run);
        if (!m) {
          n = undefined;
          break;
        }
        n += Number(m[1]);
      }
  }
  if (n === undefined) {
    const m = f.stats ? /"numRecords":(\d+)/.exec(f.stats) : null;
    n = m ? Number(m[1]) : undefined;
  }
  counted.set(f, n);
  return n;
}

/** False only when the file's stats prove it holds no row of `nodeId`. */
function mayContain(f: ActiveFile, nodeId: string): boolean {
  return versionRange(f, nodeId) !== null;
}

/**
 * The versions of `nodeId` entry file `f` may hold, from its stats: null when they prove it
 * holds no row of the node, undefined when there are none to tell (unreadable stats are no
 * pruning, not an error).
 */
export function versionRange(f: ActiveFile, nodeId: string): { lo: number; hi: number } | null | undefined {
  if (!f.stats) return undefined;
  let s: { numRecords?: unknown; minValues?: { node_id?: unknown; version?: unknown }; maxValues?: { node_id?: unknown; version?: unknown } };
  try {
    s = JSON.parse(f.stats) as typeof s;
  } catch (e) {
    if (e instanceof SyntaxError) return undefined;
    throw e;
  }
  if (s.numRecords === 0) return null;
  const [lo, hi] = [s.minValues?.node_id, s.maxValues?.node_id];
  if (typeof lo !== "string" || typeof hi !== "string") return undefined;
  if (nodeId < lo || nodeId > hi) return null;
  const [vlo, vhi] = [s.minValues?.version, s.maxValues?.version];
  return typeof vlo === "number" && typeof vhi === "number" ? { lo: vlo, hi: vhi } : undefined;
}
