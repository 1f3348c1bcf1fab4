import type { ActiveFile, ObjectStore, OplogEntry } from "@pond/oplog";
import { readEntryFile } from "@pond/oplog";
import type { RowCache } from "./row-cache.ts";

/** Partitions with at least this many entry files keep their file rows in the row cache. */
export const ROW_CACHE_FROM_FILES = 8;

/** The row cache's journal is folded into its base once it holds this many files, and at least as many as the base. */
export const ROW_CACHE_FOLD_FROM = 64;

/** A row cache and the partitions already loaded from it in this process. */
export interface SharedRowCache {
  store: RowCache;
  parts: Map<string, { files: Map<string, OplogEntry[]>; journaled: number }>;
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
    private readonly diskRows?: SharedRowCache,
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
        if (file.addedInVersion !== null) for (const r of rows) rowVersion.set(r, file.addedInVersion);
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
   * of many entry files (a series appended a version a commit) takes them from the row
   * cache (row-cache.ts), reading only the files it lacks and appending those to its
   * journal; once the journal is as large as the base, both are rewritten as one base
   * (so each file is rewritten O(1) times on average).
   */
  async fileNodeRows(partId: string, nodeId: string): Promise<OplogEntry[]> {
    const all = this.files(partId);
    if (!this.diskRows || all.length < ROW_CACHE_FROM_FILES) return (await this.nodeRows(partId, nodeId)).filter((r) => r.file_type !== "directory");
    let cache = this.diskRows.parts.get(partId);
    if (!cache) this.diskRows.parts.set(partId, (cache = this.diskRows.store.load(partId)));
    const files = all.filter((f) => mayContain(f, nodeId));
    const missing = files.filter((f) => !cache.files.has(f.path));
    if (missing.length > 0) {
      const read = await Promise.all(missing.map((f) => this.rows(f)));
      const added = new Map(missing.map((f, i) => [f.path, read[i]!.filter((r) => r.file_type !== "directory")]));
      for (const [path, rows] of added) cache.files.set(path, rows);
      cache.journaled += added.size;
      if (cache.journaled >= Math.max(ROW_CACHE_FOLD_FROM, cache.files.size - cache.journaled)) {
        this.diskRows.store.save(partId, cache.files);
        cache.journaled = 0;
      } else {
        this.diskRows.store.append(partId, added);
      }
    }
    const out: OplogEntry[] = [];
    for (const f of files) {
      for (const r of cache.files.get(f.path)!) {
        if (r.node_id !== nodeId) continue;
        if (f.addedInVersion !== null) rowVersion.set(r, f.addedInVersion);
        out.push(r);
      }
    }
    return out;
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
        if (!mayContain(f, dirId)) continue;
        const rows = (await this.rows(f)).filter((r) => r.node_id === dirId && r.file_type === "directory");
        if (rows.length) return rows.reduce((a, b) => (b.version > a.version ? b : a));
      }
      return undefined;
    }
    // Order unknown (files from a foreign checkpoint): read them all.
    const rows = (await this.nodeRows(dirId, dirId)).filter((r) => r.file_type === "directory");
    return rows.length ? rows.reduce((a, b) => (b.version > a.version ? b : a)) : undefined;
  }
}

const rowVersion = new WeakMap<OplogEntry, number>();

/** False only when the file's stats prove it holds no row of `nodeId`. */
function mayContain(f: ActiveFile, nodeId: string): boolean {
  if (!f.stats) return true;
  try {
    const s = JSON.parse(f.stats) as { minValues?: { node_id?: string }; maxValues?: { node_id?: string } };
    const lo = s.minValues?.node_id, hi = s.maxValues?.node_id;
    if (lo === undefined || hi === undefined) return true;
    return lo <= nodeId && nodeId <= hi;
  } catch (e) {
    if (e instanceof SyntaxError) return true; // unreadable stats: no pruning, not an error
    throw e;
  }
}
