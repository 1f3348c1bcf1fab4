import { decodeDirectory, type ActiveFile, type ObjectStore, type OplogEntry, type Snapshot } from "@pond/oplog";
import { NotFoundError, type DirEntry, type NodeId, type ReadView, type VersionInfo } from "@pond/tinyfs";
import { checkInline, largeFileKey, readLargeFile } from "./content-store.ts";
import { PondFormatError } from "./errors.ts";
import { checkPayloads, type PayloadRef, type VerifiedPayloads } from "./payload-check.ts";
import { versionRange, type KeptSeries, type PartitionIndex } from "./partition-index.ts";
import { readMergeRecord, storedOf, withStored, type MergeRecord, type StoredPayload } from "./merged-payload.ts";
import { SERIES_HASHES, type SeriesHashes } from "./series-hashes.ts";
import type { PartSeries, SeriesDerivation } from "./series-part-cache.ts";
import { SERIES_SUMMARY, type SeriesSummary } from "./series-summary.ts";

/** A pond as of one data log version. Immutable. */
export class TLogView implements ReadView {
  constructor(
    readonly snapshot: Snapshot,
    readonly store: ObjectStore,
    /** @internal shared with transactions built on this view */
    readonly index: PartitionIndex,
    /** @internal which payload files were already hashed */
    readonly verified?: VerifiedPayloads,
  ) {}

  get seq(): number {
    return this.snapshot.version;
  }

  async listDir(dirId: NodeId): Promise<DirEntry[]> {
    const row = await this.index.newestDirRow(dirId);
    if (!row) throw new NotFoundError(`Directory ${dirId}`);
    if (!row.content) throw new PondFormatError(`Directory ${dirId} version ${row.version}`, "has no inline snapshot");
    // Checked and decoded once, when the directory cache took it (dir-cache.ts).
    const cached = this.index.cachedEntries(row);
    if (cached) return cached;
    return decodeDirectory(checkInline(row.content, row.sha256, `directory ${dirId} version ${row.version}`));
  }

  /** Rows of a file or symlink node, ascending by version. */
  protected async fileRows(parentId: NodeId, nodeId: NodeId): Promise<OplogEntry[]> {
    const rows = await this.index.fileNodeRows(parentId, nodeId);
    rows.sort((a, b) => a.version - b.version);
    return rows;
  }

  async versions(parentId: NodeId, nodeId: NodeId): Promise<VersionInfo[]> {
    const rows = await this.fileRows(parentId, nodeId);
    if (rows.length === 0) throw new NotFoundError(`Node ${nodeId}`);
    return rows.map((r) => this.toInfo(r));
  }

  /**
   * The versions of file `nodeId` in directory `parentId` whose numbers are in `runs`
   * (inclusive, ascending, disjoint), ascending: read from the entry files whose stats
   * say they may hold one, not from every row of the folder. Undefined when a file's stats
   * cannot tell (then every version must be read), or a version in the runs is missing.
   */
  async versionsBetween(parentId: NodeId, nodeId: NodeId, runs: readonly { lo: number; hi: number }[]): Promise<VersionInfo[] | undefined> {
    if (runs.length === 0) return [];
    const files: ActiveFile[] = [];
    for (const f of this.index.files(parentId)) {
      const r = versionRange(f, nodeId);
      if (r === undefined) return undefined;
      if (r !== null && runs.some((x) => x.lo <= r.hi && r.lo <= x.hi)) files.push(f);
    }
    const inRuns = (v: number) => runs.some((x) => x.lo <= v && v <= x.hi);
    const rows: OplogEntry[] = [];
    for (const list of await this.index.fileRowsIn(parentId, files)) for (const r of list) if (r.node_id === nodeId && inRuns(r.version)) rows.push(r);
    rows.sort((a, b) => a.version - b.version);
    const want = runs.reduce((n, x) => n + x.hi - x.lo + 1, 0);
    if (rows.length !== want || rows.some((r, i) => i > 0 && r.version === rows[i - 1]!.version)) return undefined;
    return rows.map((r) => this.toInfo(r));
  }

  protected toInfo(r: OplogEntry): VersionInfo {
    const txn = this.index.txnOf(r);
    // A merged version: its row names the merged file, its record its own payload.
    const merged = mergeRecordOf(r);
    if (merged) return mergedInfo(r, txn, merged);
    // Attributes are parsed on first use: a time-ranged query over a long series reads
    // only the event-time range of most versions.
    let attributes: Record<string, unknown> | undefined;
    return {
      version: r.version,
      timestamp: r.timestamp,
      size: r.size,
      sha256: r.sha256,
      txnSeq: txn,
      minEventTime: r.min_event_time,
      maxEventTime: r.max_event_time,
      get attributes(): Record<string, unknown> {
        return (attributes ??= r.attributes ? (JSON.parse(r.attributes) as Record<string, unknown>) : {});
      },
    };
  }

  /**
   * The summary of series `nodeId` in directory `parentId` (see series-summary.ts): what a
   * read of all its versions scans, without building every version's record. Taken from
   * the kept summary when it is of this very set of entry files; when the set only grew
   * since (a version appended), from it and the added files' rows alone; else from every
   * row of the partition, and kept.
   */
  async seriesSummary(parentId: NodeId, nodeId: NodeId): Promise<SeriesSummary> {
    const s = await this.keptSeriesSummary(parentId, nodeId);
    if (!s) throw new NotFoundError(`Series ${nodeId}`, `It has no versions in directory ${parentId}.`);
    return s;
  }

  /**
   * The hash prefixes of every version of series `nodeId` in directory `parentId` (see
   * series-hashes.ts), for an append's duplicate check: kept, grown and rebuilt as the
   * summary is, in a file of their own that no read of the series opens.
   */
  async seriesHashes(parentId: NodeId, nodeId: NodeId): Promise<SeriesHashes> {
    const h = await this.keptSeriesHashes(parentId, nodeId);
    if (!h) throw new NotFoundError(`Series ${nodeId}`, `It has no versions in directory ${parentId}.`);
    return h;
  }

  /** `seriesSummary` of the committed rows only; undefined when `nodeId` has no series rows in `parentId`. */
  protected keptSeriesSummary(parentId: NodeId, nodeId: NodeId): Promise<SeriesSummary | undefined> {
    return this.keptSeries(SERIES_SUMMARY, this.index.diskRows?.summaries, parentId, nodeId);
  }

  /** `seriesHashes` of the committed rows only; undefined when `nodeId` has no series rows in `parentId`. */
  protected keptSeriesHashes(parentId: NodeId, nodeId: NodeId): Promise<SeriesHashes | undefined> {
    return this.keptSeries(SERIES_HASHES, this.index.diskRows?.hashes, parentId, nodeId);
  }

  /** Kind `d` of series `nodeId`'s derived data, kept in `cache` (see `seriesSummary`). */
  private async keptSeries<T extends { lastVersion: number }>(
    d: SeriesDerivation<T>,
    cache: KeptSeries<T> | undefined,
    parentId: NodeId,
    nodeId: NodeId,
  ): Promise<T | undefined> {
    if (!cache) {
      const rows = await TLogView.prototype.fileRows.call(this, parentId, nodeId);
      return rows.length > 0 && rows[rows.length - 1]!.file_type === "file:series" ? d.of(rows.map((r) => this.toInfo(r))) : undefined;
    }
    const files = this.index.files(parentId);
    const paths = files.map((f) => f.path).sort();
    let kept = cache.parts.get(parentId);
    if (!cache.parts.has(parentId)) cache.parts.set(parentId, (kept = cache.store.load(parentId)));
    if (kept && !samePaths(kept.entryFiles, paths)) {
      const known = new Set(kept.entryFiles);
      const now = new Set(paths);
      const grown = kept.entryFiles.every((p) => now.has(p))
        ? await this.grownSeries(
            d,
            kept,
            files.filter((f) => !known.has(f.path)),
          )
        : undefined;
      kept = grown && { entryFiles: paths, series: grown };
      if (kept) cache.store.save(parentId, kept);
    }
    if (!kept) {
      const byNode = new Map<string, OplogEntry[]>();
      for (const r of await this.index.partFileRows(parentId)) {
        if (r.file_type !== "file:series") continue;
        const list = byNode.get(r.node_id);
        if (list) list.push(r);
        else byNode.set(r.node_id, [r]);
      }
      const series: Record<string, T> = {};
      for (const [id, rows] of byNode) series[id] = d.of(rows.sort((a, b) => a.version - b.version).map((r) => this.toInfo(r)));
      kept = { entryFiles: paths, series };
      cache.store.save(parentId, kept);
    }
    cache.parts.set(parentId, kept);
    return kept.series[nodeId];
  }

  /**
   * `kept`'s series with the rows of `added` (entry files new since) appended; undefined
   * when those rows do not simply follow what was kept (a version not newer than the
   * newest kept, a series' first rows after rows of another type), so all rows are read.
   */
  private async grownSeries<T extends { lastVersion: number }>(
    d: SeriesDerivation<T>,
    kept: PartSeries<T>,
    added: readonly ActiveFile[],
  ): Promise<Record<string, T> | undefined> {
    const byNode = new Map<string, OplogEntry[]>();
    const rows = await Promise.all(added.map((f) => this.index.rows(f)));
    for (const r of rows.flat()) {
      if (r.file_type === "directory") continue;
      const list = byNode.get(r.node_id);
      if (list) list.push(r);
      else byNode.set(r.node_id, [r]);
    }
    const series: Record<string, T> = structuredClone(kept.series);
    for (const [id, list] of byNode) {
      const s = series[id];
      if (!list.every((r) => r.file_type === "file:series")) {
        if (s) return undefined;
        continue;
      }
      list.sort((a, b) => a.version - b.version);
      // The added versions must follow the kept ones with no gap (a series new to the
      // folder, created or moved in with all its rows, from version 1).
      const from = (s?.lastVersion ?? 0) + 1;
      if (!list.every((r, i) => r.version === from + i)) return undefined;
      if (!s) {
        series[id] = d.of(list.map((r) => this.toInfo(r)));
        continue;
      }
      d.extend(
        s,
        list.map((r) => this.toInfo(r)),
      );
    }
    return series;
  }

  /**
   * After this process committed a replacement of entry files of partition `partId`
   * (compaction, a merge of payloads): the summaries and hash prefixes kept for the files
   * before (`before`, sorted paths) followed to the files after (`after`, sorted) from the
   * file rows that left (`removed`) and came (`added`) alone, and kept. Nothing for a kind
   * none was kept of for exactly `before`, or when following it is not safe
   * (`replacedSeries`): the next reader then rebuilds it from every row, as without this.
   */
  protected async followReplacement(
    partId: NodeId,
    before: readonly string[],
    after: string[],
    removed: readonly OplogEntry[],
    added: readonly OplogEntry[],
  ): Promise<void> {
    await this.followKind(SERIES_SUMMARY, this.index.diskRows?.summaries, partId, before, after, removed, added);
    await this.followKind(SERIES_HASHES, this.index.diskRows?.hashes, partId, before, after, removed, added);
  }

  private async followKind<T extends { lastVersion: number }>(
    d: SeriesDerivation<T>,
    cache: KeptSeries<T> | undefined,
    partId: NodeId,
    before: readonly string[],
    after: string[],
    removed: readonly OplogEntry[],
    added: readonly OplogEntry[],
  ): Promise<void> {
    if (!cache) return;
    let kept = cache.parts.has(partId) ? cache.parts.get(partId) : cache.store.load(partId);
    if (!kept) return;
    if (!samePaths(kept.entryFiles, before)) {
      // Kept for fewer files (no one read it since the last appends): brought up to `before` first, as a reader would.
      await this.keptSeries(d, cache, partId, Object.keys(kept.series)[0] ?? "");
      kept = cache.parts.get(partId);
      if (!kept || !samePaths(kept.entryFiles, before)) return;
    }
    const series = this.replacedSeries(d, kept.series, removed, added);
    if (!series) return;
    const next: PartSeries<T> = { entryFiles: after, series };
    cache.parts.set(partId, next);
    cache.store.save(partId, next);
  }

  /**
   * `kept` (a partition's series data of kind `d`) after entry files holding file rows
   * `removed` were replaced by files holding `added`. A version whose row is the same on
   * both sides changes nothing (a compaction moves rows, it does not change them); one whose
   * row changed (re-pointed to a merged payload) is patched in place (`d.patch`); one only
   * in `added` must follow the kept versions with no gap and is appended (`d.extend`, as
   * `grownSeries`). Undefined when the rows do not fit that (a version gone or twice, rows
   * of another type in a series): the caller rebuilds from every row.
   */
  protected replacedSeries<T extends { lastVersion: number }>(
    d: SeriesDerivation<T>,
    kept: Record<string, T>,
    removed: readonly OplogEntry[],
    added: readonly OplogEntry[],
  ): Record<string, T> | undefined {
    const byNode = new Map<string, { before: Map<number, OplogEntry>; after: OplogEntry[] }>();
    const group = (id: string) => {
      let g = byNode.get(id);
      if (!g) byNode.set(id, (g = { before: new Map(), after: [] }));
      return g;
    };
    for (const r of removed) {
      if (r.file_type === "directory") continue;
      const g = group(r.node_id);
      if (g.before.has(r.version)) return undefined;
      g.before.set(r.version, r);
    }
    for (const r of added) if (r.file_type !== "directory") group(r.node_id).after.push(r);
    const series: Record<string, T> = { ...kept };
    for (const [id, g] of byNode) {
      const s = kept[id];
      if (![...g.before.values(), ...g.after].every((r) => r.file_type === "file:series")) {
        if (s) return undefined;
        continue;
      }
      g.after.sort((a, b) => a.version - b.version);
      const was: OplogEntry[] = [];
      const now: OplogEntry[] = [];
      const grown: OplogEntry[] = [];
      let matched = 0;
      for (const [i, r] of g.after.entries()) {
        if (i > 0 && g.after[i - 1]!.version === r.version) return undefined;
        const b = g.before.get(r.version);
        if (!b) {
          grown.push(r);
          continue;
        }
        matched++;
        if (!sameRow(b, r)) {
          was.push(b);
          now.push(r);
        }
      }
      if (matched !== g.before.size) return undefined;
      if (!s) {
        if (g.before.size > 0) return undefined;
        if (!grown.every((r, i) => r.version === 1 + i)) return undefined;
        series[id] = d.of(grown.map((r) => this.toInfo(r)));
        continue;
      }
      if (was.length === 0 && grown.length === 0) continue;
      let next: T | undefined = structuredClone(s);
      if (was.length > 0) {
        next = d.patch(
          next,
          was.map((r) => this.toInfo(r)),
          now.map((r) => this.toInfo(r)),
        );
        if (!next) return undefined;
      }
      if (grown.length > 0) {
        const from = next.lastVersion + 1;
        if (!grown.every((r, i) => r.version === from + i)) return undefined;
        d.extend(
          next,
          grown.map((r) => this.toInfo(r)),
        );
      }
      series[id] = next;
    }
    return series;
  }

  /** The host path of the payload file `sha256`, when the store is on a local disk. */
  payloadPathOf(sha256: string): string | undefined {
    return this.store.localPath?.(largeFileKey(sha256));
  }

  /** The newest version number of a directory's own record (0 when it has none). */
  async dirVersion(dirId: NodeId): Promise<number> {
    return (await this.index.newestDirRow(dirId))?.version ?? 0;
  }

  async *read(parentId: NodeId, nodeId: NodeId, version?: number): AsyncIterable<Uint8Array> {
    const row = await this.versionRow(parentId, nodeId, version);
    yield* this.rowContent(row);
  }

  /**
   * `read`, naming the file by its pond path in an integrity error, for a consumer that
   * writes each chunk out before it asks for the next: a chunk is valid only until then
   * (a large file is read through two reused buffers, see ObjectStore.getStream).
   */
  async *readPath(path: string, parentId: NodeId, nodeId: NodeId, version?: number): AsyncIterable<Uint8Array> {
    const row = await this.versionRow(parentId, nodeId, version);
    yield* this.rowContent(row, `"${path}" version ${row.version}`, { reuse: true });
  }

  protected async *rowContent(
    row: OplogEntry,
    label = `node ${row.node_id} version ${row.version}`,
    opts: { reuse?: boolean } = {},
  ): AsyncIterable<Uint8Array> {
    if (readMergeRecord(row.attributes)) {
      // Its own bytes were rewritten into a merged file: a new Parquet file of the same rows.
      const hostPath = this.store.localPath?.(largeFileKey(row.sha256));
      if (hostPath === undefined) throw new PondFormatError(label, "is merged, and its merged file is not on a local disk");
      checkPayloads([{ hostPath, sha256: row.sha256, size: row.size, label }], this.verified);
      const { mergedVersionParquet } = await import("./query/merged-read.ts");
      yield* mergedVersionParquet(hostPath, row);
      return;
    }
    if (row.content) {
      yield checkInline(row.content, row.sha256, label);
    } else if (row.size === 0) {
      return;
    } else {
      // No byte leaves before the file is known to match: the check hashes it first
      // unless this very file was hashed before (the stream still checks at its end).
      const hostPath = this.store.localPath?.(largeFileKey(row.sha256));
      if (hostPath !== undefined) checkPayloads([{ hostPath, sha256: row.sha256, size: row.size, label }], this.verified);
      yield* readLargeFile(this.store, row.sha256, row.size, opts);
    }
  }

  /**
   * Checks that payload files still hold what the log records before a reader (DuckDB,
   * the direct reader) scans them in place; throws IntegrityError naming the first that
   * does not. See payload-check.ts for why each file is hashed once, not on every read.
   */
  checkPayloads(refs: readonly PayloadRef[]): void {
    checkPayloads(refs, this.verified);
  }

  /**
   * Checks the payload files of several pond files at once (the newest version, or the
   * one named), before a command writes any of them out: a damaged one then fails the
   * command with nothing written. Inline content is checked as it is read.
   */
  async checkFilePayloads(files: readonly { path: string; parentId: NodeId; nodeId: NodeId; version?: number }[]): Promise<void> {
    const refs: PayloadRef[] = [];
    for (const f of files) {
      const row = await this.versionRow(f.parentId, f.nodeId, f.version);
      if (row.content || row.size === 0) continue;
      const hostPath = this.store.localPath?.(largeFileKey(row.sha256));
      if (hostPath !== undefined) refs.push({ hostPath, sha256: row.sha256, size: row.size, label: `"${f.path}" version ${row.version}` });
    }
    checkPayloads(refs, this.verified);
  }

  async versionRow(parentId: NodeId, nodeId: NodeId, version?: number): Promise<OplogEntry> {
    const rows = await this.fileRows(parentId, nodeId);
    if (rows.length === 0) throw new NotFoundError(`Node ${nodeId}`);
    const row = version === undefined ? rows[rows.length - 1]! : rows.find((r) => r.version === version);
    if (!row) {
      throw new NotFoundError(`Version ${version} of node ${nodeId}`, `It has versions 1 to ${rows[rows.length - 1]!.version}.`, { version });
    }
    return row;
  }

  /**
   * The host path of a table or series version's payload (always a large file, so
   * DuckDB can scan it in place), from its version record alone.
   */
  payloadPath(info: VersionInfo): string | undefined {
    return this.store.localPath?.(largeFileKey(storedOf(info).sha256));
  }

  /** Where a version's rows are stored: its own payload, or a merged file (see merged-payload.ts). */
  storedPayload(info: VersionInfo): StoredPayload {
    return storedOf(info);
  }

  async readlink(parentId: NodeId, nodeId: NodeId): Promise<string> {
    const chunks: Uint8Array[] = [];
    for await (const c of this.read(parentId, nodeId)) chunks.push(c);
    return new TextDecoder().decode(Buffer.concat(chunks));
  }
}

/** True when two rows say the same of a version (a compaction copied it unchanged). */
function sameRow(a: OplogEntry, b: OplogEntry): boolean {
  return (
    a.node_id === b.node_id &&
    a.file_type === b.file_type &&
    a.version === b.version &&
    a.timestamp === b.timestamp &&
    a.sha256 === b.sha256 &&
    a.size === b.size &&
    a.min_event_time === b.min_event_time &&
    a.max_event_time === b.max_event_time &&
    a.attributes === b.attributes &&
    (a.content === null ? b.content === null : b.content !== null && Buffer.from(a.content).equals(b.content))
  );
}

function samePaths(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((p, i) => p === b[i]);
}

const mergeRecords = new WeakMap<OplogEntry, ReturnType<typeof readMergeRecord> | null>();

/**
 * `readMergeRecord` of row `r`, parsed once per row object: rows are immutable and kept
 * decoded (the row cache), and a merge plans from every version of a series each time
 * (`maintain merge` every 100 appends of a collector), most of them merged, whose
 * attributes were parsed again each time (~5 µs a version).
 */
function mergeRecordOf(r: OplogEntry): ReturnType<typeof readMergeRecord> {
  let m = mergeRecords.get(r);
  if (m === undefined) {
    m = readMergeRecord(r.attributes) ?? null;
    mergeRecords.set(r, m);
  }
  return m ?? undefined;
}

/** What a reader sees of a merged version: its own payload's hash and size, the merged file as where its rows are. */
function mergedInfo(r: OplogEntry, txn: number | undefined, merged: { record: MergeRecord; attributes: Record<string, unknown> }): VersionInfo {
  const info: VersionInfo = {
    version: r.version,
    timestamp: r.timestamp,
    size: merged.record.size,
    sha256: merged.record.sha256,
    txnSeq: txn,
    minEventTime: r.min_event_time,
    maxEventTime: r.max_event_time,
    // Its own object (the parsed record is shared by every record of this row).
    attributes: { ...merged.attributes },
  };
  return withStored(info, { sha256: r.sha256, size: r.size, mergedVersion: r.version });
}
