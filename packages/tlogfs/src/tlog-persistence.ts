import { logger, type Logger } from "@pond/diagnostics";
import { loadSnapshot, type ObjectStore, type OplogEntry, type Snapshot, VersionNotFoundError } from "@pond/oplog";
import { NotFoundError, type Persistence, type TxnMeta } from "@pond/tinyfs";
import { COMPACT_FAN_IN, COMPACT_FROM_FILES, COMPACT_MAX_BYTES, type CompactOptions } from "./compaction.ts";
import type { VerifiedPayloads } from "./payload-check.ts";
import { PartitionIndex, type SharedDirCache, type SharedRowCache } from "./partition-index.ts";
import type { DirCache } from "./dir-cache.ts";
import type { RowCache } from "./row-cache.ts";
import type { SeriesSummaryCache } from "./series-summary.ts";
import type { SeriesHashCache } from "./series-hashes.ts";
import type { SnapshotCache } from "./snapshot-cache.ts";
import { TLogTransaction } from "./tlog-transaction.ts";
import { TLogView } from "./tlog-view.ts";

export interface TLogOptions {
  /** ms since the epoch; injectable for tests. */
  now?: () => number;
  logger?: Logger;
  /** Keeps the newest snapshot between processes (see snapshot-cache.ts). */
  snapshotCache?: SnapshotCache;
  /** Keeps the file rows of partitions with many entry files between processes (see row-cache.ts). */
  rowCache?: RowCache;
  /** Keeps the newest directory snapshot of each entry file between processes (see dir-cache.ts). */
  dirCache?: DirCache;
  /** Keeps partitions' series summaries between processes (see series-summary.ts); used only beside `rowCache`. */
  seriesSummaries?: SeriesSummaryCache;
  /** Keeps partitions' series hash prefixes between processes (see series-hashes.ts); used only beside `rowCache`. */
  seriesHashes?: SeriesHashCache;
  /** A commit merges a partition's own entry files (tier 0) once it would have this many (default COMPACT_FROM_FILES; 0: never). */
  compactFromFiles?: number;
  /** Merged entry files of one tier are merged once there would be this many (default COMPACT_FAN_IN). */
  compactFanIn?: number;
  /** Older entry files larger than this in all are not merged (default COMPACT_MAX_BYTES). */
  compactMaxBytes?: number;
  /** Remembers which payload files were hashed, so each is hashed once (see payload-check.ts). */
  verifiedPayloads?: VerifiedPayloads;
}

/**
 * tinyfs Persistence over the data log: every committed transaction is one Delta
 * commit whose `add`s are Parquet files of OplogEntry rows, partitioned by parent
 * directory. The store is the pond's `data/` folder.
 */
export class TLogPersistence implements Persistence {
  /** Decoded rows of entry files, by path, for every view of this process (files are immutable). */
  private readonly decoded = new Map<string, Promise<OplogEntry[]>>();
  private readonly now: () => number;
  private readonly cache?: SnapshotCache;
  private readonly diskRows?: SharedRowCache;
  private readonly dirRows?: SharedDirCache;
  private readonly compact: CompactOptions;
  private readonly verified?: VerifiedPayloads;
  readonly log: Logger;

  constructor(
    readonly store: ObjectStore,
    opts: TLogOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.compact = {
      fromFiles: opts.compactFromFiles ?? COMPACT_FROM_FILES,
      fanIn: opts.compactFanIn ?? COMPACT_FAN_IN,
      maxBytes: opts.compactMaxBytes ?? COMPACT_MAX_BYTES,
    };
    this.log = opts.logger ?? logger;
    this.cache = opts.snapshotCache;
    this.verified = opts.verifiedPayloads;
    if (opts.rowCache)
      this.diskRows = {
        store: opts.rowCache,
        parts: new Map(),
        ...(opts.seriesSummaries ? { summaries: { store: opts.seriesSummaries, parts: new Map() } } : {}),
        ...(opts.seriesHashes ? { hashes: { store: opts.seriesHashes, parts: new Map() } } : {}),
      };
    if (opts.dirCache) this.dirRows = { store: opts.dirCache };
  }

  /** Persistence's view: a sequence the log cannot produce is the contract's NotFoundError, as in every backend. */
  async view(asOf?: number): Promise<TLogView> {
    const base = this.cache?.load();
    let snapshot: Snapshot;
    try {
      snapshot = await loadSnapshot(this.store, { ...(asOf === undefined ? {} : { version: asOf }), ...(base ? { base } : {}) });
    } catch (e) {
      if (asOf === undefined || !(e instanceof VersionNotFoundError)) throw e;
      throw new NotFoundError(`Transaction sequence ${asOf}`, `Version ${asOf} ${e.data.reason}; \`pond log\` lists the transactions that can be read.`, {
        asOf,
      });
    }
    if (this.cache && asOf === undefined && (base === undefined || snapshot.version > base.version || base.metadata.id !== snapshot.metadata.id))
      this.cache.save(snapshot);
    if (asOf === undefined) this.forgetInactive(snapshot);
    return new TLogView(snapshot, this.store, new PartitionIndex(snapshot.files, this.store, this.decoded, this.diskRows, this.dirRows), this.verified);
  }

  /**
   * Drops the decoded rows of entry files the newest snapshot no longer has. A process
   * that writes for long (the collector benchmark's library path, a server) would
   * otherwise keep every file it ever decoded: each compaction's merged file holds every
   * row of its folder, so memory grew with the square of the versions (2.2 GB at 21,000
   * versions of one series). A view of an older snapshot that still needs one reads it again.
   */
  private forgetInactive(snapshot: Snapshot): void {
    if (this.decoded.size <= snapshot.files.length) return;
    const live = new Set(snapshot.files.map((f) => f.path));
    for (const path of this.decoded.keys()) if (!live.has(path)) this.decoded.delete(path);
  }

  /**
   * Forgets every entry file's decoded rows and every row, summary and directory cache this
   * process loaded; views read them again when they need them. For a long command whose next
   * step needs none of them: `pond maintain full`'s cleanup after its merge, which had loaded
   * a row a version of each series it planned (hundreds of MB at 100,000 versions).
   */
  forgetLoaded(): void {
    this.decoded.clear();
    this.diskRows?.parts.clear();
    this.diskRows?.summaries?.parts.clear();
    this.diskRows?.hashes?.parts.clear();
    if (this.dirRows) delete this.dirRows.loaded;
  }

  /** The view as of a point in time (ms since the epoch): the newest commit at or before it. */
  async viewAt(timestampMs: number): Promise<TLogView> {
    const snapshot = await loadSnapshot(this.store, { timestamp: timestampMs });
    return new TLogView(snapshot, this.store, new PartitionIndex(snapshot.files, this.store, this.decoded, this.diskRows, this.dirRows), this.verified);
  }

  async begin(meta: TxnMeta): Promise<TLogTransaction> {
    const base = await this.view();
    return new TLogTransaction(base, meta, this.now, this.compact);
  }
}
