import { logger, type Logger } from "@pond/diagnostics";
import {
  commit as commitLog,
  decodeDirectory,
  encodeDirectory,
  loadSnapshot,
  writeEntryFile,
  type Action,
  type ObjectStore,
  type OplogEntry,
  type Snapshot,
} from "@pond/oplog";
import {
  NotFoundError,
  TransactionConflictError,
  TypeChangeError,
  sha256Hex,
  uuid7,
  type ContentSource,
  type DirEntry,
  type EntryType,
  type NodeId,
  type Persistence,
  type ReadView,
  type Transaction,
  type TxnMeta,
  type VersionInfo,
  type VersionOptions,
} from "@pond/tinyfs";
import { checkInline, largeFileKey, readLargeFile, stageContent, type StagedContent } from "./content-store.ts";
import { PondFormatError } from "./errors.ts";
import { checkPayloads, type PayloadRef, type VerifiedPayloads } from "./payload-check.ts";
import { PartitionIndex, type SharedRowCache } from "./partition-index.ts";
import { mergedRowAttributes, readMergeRecord, storedOf, withStored, type MergeRecord, type StoredPayload } from "./merged-payload.ts";
import type { RowCache } from "./row-cache.ts";
import type { SnapshotCache } from "./snapshot-cache.ts";

/** Entry types whose payload is Parquet, always stored as a large file so DuckDB can scan it in place. */
const PARQUET_TYPES: ReadonlySet<EntryType> = new Set(["file:table", "file:series"]);

export interface TLogOptions {
  /** ms since the epoch; injectable for tests. */
  now?: () => number;
  logger?: Logger;
  /** Keeps the newest snapshot between processes (see snapshot-cache.ts). */
  snapshotCache?: SnapshotCache;
  /** Keeps the file rows of partitions with many entry files between processes (see row-cache.ts). */
  rowCache?: RowCache;
  /** A commit merges a partition's entry files once it would have this many (default COMPACT_FROM_FILES; 0: never). */
  compactFromFiles?: number;
  /** Older entry files larger than this in all are not merged (default COMPACT_MAX_BYTES). */
  compactMaxBytes?: number;
  /** Remembers which payload files were hashed, so each is hashed once (see payload-check.ts). */
  verifiedPayloads?: VerifiedPayloads;
}

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

/** Metadata a commit records in the Delta `commitInfo` action under `pond`. */
export interface PondCommitInfo {
  seq: number;
  txnId: string;
  command: string[];
  user: string;
  startedAt: number;
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
  private readonly compact: { fromFiles: number; maxBytes: number };
  private readonly verified?: VerifiedPayloads;
  readonly log: Logger;

  constructor(
    readonly store: ObjectStore,
    opts: TLogOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.compact = { fromFiles: opts.compactFromFiles ?? COMPACT_FROM_FILES, maxBytes: opts.compactMaxBytes ?? COMPACT_MAX_BYTES };
    this.log = opts.logger ?? logger;
    this.cache = opts.snapshotCache;
    this.verified = opts.verifiedPayloads;
    if (opts.rowCache) this.diskRows = { store: opts.rowCache, parts: new Map() };
  }

  async view(asOf?: number): Promise<TLogView> {
    const base = this.cache?.load();
    const snapshot = await loadSnapshot(this.store, { ...(asOf === undefined ? {} : { version: asOf }), ...(base ? { base } : {}) });
    if (this.cache && asOf === undefined && (base === undefined || snapshot.version > base.version || base.metadata.id !== snapshot.metadata.id))
      this.cache.save(snapshot);
    return new TLogView(snapshot, this.store, new PartitionIndex(snapshot.files, this.store, this.decoded, this.diskRows), this.verified);
  }

  /** The view as of a point in time (ms since the epoch): the newest commit at or before it. */
  async viewAt(timestampMs: number): Promise<TLogView> {
    const snapshot = await loadSnapshot(this.store, { timestamp: timestampMs });
    return new TLogView(snapshot, this.store, new PartitionIndex(snapshot.files, this.store, this.decoded, this.diskRows), this.verified);
  }

  async begin(meta: TxnMeta): Promise<TLogTransaction> {
    const base = await this.view();
    return new TLogTransaction(base, meta, this.now, this.compact);
  }
}

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

  protected toInfo(r: OplogEntry): VersionInfo {
    const txn = this.index.txnOf(r);
    // A merged version: its row names the merged file, its record its own payload.
    const merged = readMergeRecord(r.attributes);
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

  /** The newest version number of a directory's own record (0 when it has none). */
  async dirVersion(dirId: NodeId): Promise<number> {
    return (await this.index.newestDirRow(dirId))?.version ?? 0;
  }

  async *read(parentId: NodeId, nodeId: NodeId, version?: number): AsyncIterable<Uint8Array> {
    const row = await this.versionRow(parentId, nodeId, version);
    yield* this.rowContent(row);
  }

  /** `read`, naming the file by its pond path in an integrity error. */
  async *readPath(path: string, parentId: NodeId, nodeId: NodeId, version?: number): AsyncIterable<Uint8Array> {
    const row = await this.versionRow(parentId, nodeId, version);
    yield* this.rowContent(row, `"${path}" version ${row.version}`);
  }

  protected async *rowContent(row: OplogEntry, label = `node ${row.node_id} version ${row.version}`): AsyncIterable<Uint8Array> {
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
      yield* readLargeFile(this.store, row.sha256, row.size);
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

/** What a commit attempt did: committed as `seq`, or lost log `version` to another writer. */
export type CommitResult = { kind: "committed"; seq: number } | { kind: "conflict"; version: number };

interface PendingVersion {
  parentId: NodeId;
  nodeId: NodeId;
  entryType: EntryType;
  staged: StagedContent;
  info: VersionInfo;
}

/**
 * A write transaction: buffers directory snapshots and staged file versions, then
 * commits them as one Delta commit. Payloads are written before the commit; a crash
 * leaves only unreferenced files.
 */
export class TLogTransaction extends TLogView implements Transaction {
  private readonly dirs = new Map<NodeId, DirEntry[]>();
  private readonly pending = new Map<string, PendingVersion[]>();
  /** Committed rows of nodes moved to another directory, by their new `parentId/nodeId`, the original row objects (so their committing versions stay known). */
  private readonly moved = new Map<string, { toParentId: NodeId; rows: OplogEntry[] }>();
  /** Versions whose rows this transaction moves into merged files, by partition: `nodeId/version` → the merged file. */
  private readonly merges = new Map<NodeId, Map<string, { sha256: string; size: number }>>();
  private done = false;

  constructor(
    private readonly base: TLogView,
    readonly meta: TxnMeta,
    private readonly now: () => number,
    private readonly compact = { fromFiles: COMPACT_FROM_FILES, maxBytes: COMPACT_MAX_BYTES },
  ) {
    super(base.snapshot, base.store, base.index, base.verified);
  }

  newNodeId(): NodeId {
    return uuid7(this.now());
  }

  override async listDir(dirId: NodeId): Promise<DirEntry[]> {
    const d = this.dirs.get(dirId);
    if (d) return d.map((e) => ({ ...e }));
    return super.listDir(dirId);
  }

  protected override async fileRows(parentId: NodeId, nodeId: NodeId): Promise<OplogEntry[]> {
    const rows = await super.fileRows(parentId, nodeId);
    const m = this.moved.get(key(parentId, nodeId));
    if (!m) return rows;
    return [...rows, ...m.rows].sort((a, b) => a.version - b.version);
  }

  override async versions(parentId: NodeId, nodeId: NodeId): Promise<VersionInfo[]> {
    const committed = (await this.fileRows(parentId, nodeId)).map((r) => this.toInfo(r));
    const mine = (this.pending.get(key(parentId, nodeId)) ?? []).map((p) => p.info);
    const all = [...committed, ...mine];
    if (all.length === 0) throw new NotFoundError(`Node ${nodeId}`);
    return all;
  }

  override async *read(parentId: NodeId, nodeId: NodeId, version?: number): AsyncIterable<Uint8Array> {
    const mine = this.pending.get(key(parentId, nodeId)) ?? [];
    const want = version ?? (mine.length ? mine[mine.length - 1]!.info.version : undefined);
    const p = mine.find((m) => m.info.version === want);
    if (p) {
      if (p.staged.kind === "inline") yield p.staged.bytes;
      else if (p.staged.size > 0) yield* readLargeFile(this.store, p.staged.sha256, p.staged.size);
      return;
    }
    yield* super.read(parentId, nodeId, version);
  }

  async writeDir(dirId: NodeId, entries: DirEntry[]): Promise<void> {
    this.assertOpen();
    const names = new Set<string>();
    for (const e of entries) {
      if (names.has(e.name)) throw new PondFormatError(`Directory ${dirId}`, `duplicate name "${e.name}"`);
      names.add(e.name);
    }
    this.dirs.set(
      dirId,
      entries.map((e) => ({ ...e })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    );
  }

  async addVersion(parentId: NodeId, nodeId: NodeId, entryType: EntryType, content: ContentSource, opts: VersionOptions = {}): Promise<VersionInfo> {
    this.assertOpen();
    const k = key(parentId, nodeId);
    const mine = this.pending.get(k) ?? [];
    const committed = await this.fileRows(parentId, nodeId);
    const existingType = mine[0]?.entryType ?? (committed[committed.length - 1]?.file_type as EntryType | undefined);
    if (existingType !== undefined && existingType !== entryType) throw new TypeChangeError(`node ${nodeId}`, existingType, entryType);
    const version = (mine.length ? mine[mine.length - 1]!.info.version : (committed[committed.length - 1]?.version ?? 0)) + 1;
    const staged = await stageContent(this.store, content, { forceLarge: PARQUET_TYPES.has(entryType), verified: this.verified });
    const info: VersionInfo = {
      version,
      timestamp: BigInt(this.now()) * 1000n,
      size: staged.size,
      sha256: staged.sha256,
      minEventTime: opts.minEventTime ?? null,
      maxEventTime: opts.maxEventTime ?? null,
      attributes: opts.attributes ?? {},
    };
    mine.push({ parentId, nodeId, entryType, staged, info });
    this.pending.set(k, mine);
    return { ...info };
  }

  async moveNode(fromParentId: NodeId, toParentId: NodeId, nodeId: NodeId): Promise<void> {
    this.assertOpen();
    const from = key(fromParentId, nodeId);
    const rows = await this.fileRows(fromParentId, nodeId);
    const mine = this.pending.get(from) ?? [];
    if (rows.length === 0 && mine.length === 0)
      throw new NotFoundError(`Node ${nodeId}`, `It is not a file or symlink in directory ${fromParentId}.`, { parentId: fromParentId, nodeId });
    if (fromParentId === toParentId) return;
    const to = key(toParentId, nodeId);
    this.moved.delete(from);
    this.pending.delete(from);
    // A node moved back to a directory it once lived in still has its older rows there: copy only the rest.
    const there = new Set((await super.fileRows(toParentId, nodeId)).map((r) => r.version));
    const copy = rows.filter((r) => !there.has(r.version));
    if (copy.length > 0) this.moved.set(to, { toParentId, rows: copy });
    if (mine.length > 0)
      this.pending.set(
        to,
        mine.map((p) => ({ ...p, parentId: toParentId })),
      );
  }

  /**
   * Records that the rows of `versions` of series `nodeId` (in directory `parentId`) now
   * live in the merged payload `merged` (already stored), each marked with its version in
   * the hidden column. The versions keep their numbers, times, event ranges, attributes
   * and committing transactions; their rows name the merged file and keep their own
   * payload's hash and size in a record (see merged-payload.ts). At commit every entry
   * file of the directory's partition is rewritten as one, as compaction does, so no
   * active entry file names a version twice. Throws when the partition cannot be
   * rewritten (files from a foreign checkpoint, rows of unknown versions).
   */
  async mergeVersions(parentId: NodeId, nodeId: NodeId, versions: readonly number[], merged: { sha256: string; size: number }): Promise<void> {
    this.assertOpen();
    const files = this.base.index.files(parentId);
    if (files.some((f) => f.addedInVersion === null))
      throw new PondFormatError(`Directory ${parentId}`, "holds entry files from another writer's checkpoint; they cannot be rewritten by a merge");
    const rows = await this.base.index.partFileRows(parentId);
    if (rows.some((r) => this.base.index.txnOf(r) === undefined))
      throw new PondFormatError(`Directory ${parentId}`, "holds rows whose committing version is unknown; they cannot be rewritten by a merge");
    const mine = new Set(rows.filter((r) => r.node_id === nodeId).map((r) => r.version));
    for (const v of versions) if (!mine.has(v)) throw new NotFoundError(`Version ${v} of node ${nodeId}`);
    let m = this.merges.get(parentId);
    if (!m) {
      m = new Map();
      this.merges.set(parentId, m);
    }
    for (const v of versions) m.set(`${nodeId}/${v}`, merged);
  }

  /** The series this transaction added versions to (what automatic maintenance looks at after it commits). */
  get appendedSeries(): { parentId: NodeId; nodeId: NodeId }[] {
    const out: { parentId: NodeId; nodeId: NodeId }[] = [];
    for (const list of this.pending.values()) {
      const p = list[0];
      if (p?.entryType === "file:series") out.push({ parentId: p.parentId, nodeId: p.nodeId });
    }
    return out;
  }

  /** True when the transaction has written nothing. */
  get isEmpty(): boolean {
    return this.dirs.size === 0 && this.pending.size === 0 && this.moved.size === 0 && this.merges.size === 0;
  }

  /** Persistence's commit: the conflict result as the one conflict error (the contract suites expect it). */
  async commit(): Promise<number> {
    const r = await this.tryCommit();
    if (r.kind === "conflict") throw new TransactionConflictError(this.base.seq, r.version);
    return r.seq;
  }

  /**
   * Commits, or reports that another writer took the next log version first: a result,
   * not an exception, so the one place that retries (the steward's write) decides what
   * to do. The transaction is closed either way.
   */
  async tryCommit(): Promise<CommitResult> {
    this.assertOpen();
    this.done = true;
    const version = this.base.seq + 1;
    const ts = BigInt(this.now()) * 1000n;
    const rows: OplogEntry[] = [];
    for (const [dirId, entries] of this.dirs) {
      const prev = await this.base.dirVersion(dirId);
      rows.push(directoryRow(dirId, prev + 1, ts, entries));
    }
    for (const list of this.pending.values()) {
      for (const p of list) {
        rows.push({
          part_id: p.parentId,
          node_id: p.nodeId,
          file_type: p.entryType,
          version: p.info.version,
          timestamp: p.info.timestamp,
          content: p.staged.kind === "inline" ? p.staged.bytes : null,
          sha256: p.staged.sha256,
          size: p.staged.size,
          min_event_time: p.info.minEventTime ?? null,
          max_event_time: p.info.maxEventTime ?? null,
          attributes: JSON.stringify(p.info.attributes ?? {}),
        });
      }
    }
    const byPart = new Map<string, OplogEntry[]>();
    for (const partId of this.merges.keys()) byPart.set(partId, []);
    for (const r of rows) {
      let l = byPart.get(r.part_id);
      if (!l) byPart.set(r.part_id, (l = []));
      l.push(r);
    }
    const actions: Action[] = [];
    for (const [partId, partRows] of byPart) {
      actions.push(...(await this.compaction(partId, partRows, version, ts)));
      actions.push({ add: await writeEntryFile(this.store, partId, partRows, { version }) });
    }
    actions.push(...(await this.movedFiles(version)));
    const pond: PondCommitInfo = {
      seq: version,
      txnId: this.meta.txnId,
      command: this.meta.command,
      user: this.meta.user,
      startedAt: this.meta.startedAt,
    };
    actions.push({ commitInfo: { timestamp: this.now(), operation: "WRITE", operationParameters: { mode: "Append" }, engineInfo: "pond", pond } });
    const r = await commitLog(this.store, version, actions);
    if (r.kind === "conflict") return { kind: "conflict", version };
    return { kind: "committed", seq: r.version };
  }

  /**
   * When this commit would leave partition `partId` with `compact.fromFiles` entry files or
   * more: one merged file of every file row in the older files (each keeping the version
   * that committed it, in a tag), and a remove of each older file. The newest directory
   * row among them, when this commit writes none of its own, moves into `partRows`, so
   * the commit's own file holds it and the merged file holds no directory rows. The
   * removed files stay on disk: earlier versions of the log still name them (time travel,
   * backups); `pond recover` keeps every file any commit added.
   */
  private async compaction(partId: string, partRows: OplogEntry[], version: number, ts: bigint): Promise<Action[]> {
    const old = this.base.index.files(partId);
    // A merge of series versions rewrites the partition whatever its size (mergeVersions checked it can).
    const merges = this.merges.get(partId);
    if (!merges) {
      if (this.compact.fromFiles <= 0 || old.length + 1 < this.compact.fromFiles) return [];
      if (old.reduce((n, f) => n + f.size, 0) > this.compact.maxBytes) return [];
      // Files from another writer's checkpoint have no known version: leave them as they are.
      if (old.some((f) => f.addedInVersion === null)) return [];
    }
    let rows = await this.base.index.partFileRows(partId);
    const versions = rows.map((r) => this.base.index.txnOf(r));
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
      const row = await this.base.index.newestDirRow(partId);
      if (row) partRows.push(row);
    }
    const actions: Action[] = [];
    if (rows.length > 0) {
      actions.push({
        add: await writeEntryFile(
          this.store,
          partId,
          order.map((i) => rows[i]!),
          { version, rowVersions: order.map((i) => versions[i]!) },
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

  /**
   * One entry file per directory that nodes moved into: copies of their rows under the new
   * part_id (inline bytes and hashes, never the large files), each tagged with the version
   * that first committed it, so `describe` after a move names the same transactions.
   */
  private async movedFiles(version: number): Promise<Action[]> {
    const byPart = new Map<NodeId, { rows: OplogEntry[]; versions: number[] }>();
    for (const { toParentId, rows } of this.moved.values()) {
      let g = byPart.get(toParentId);
      if (!g) byPart.set(toParentId, (g = { rows: [], versions: [] }));
      for (const r of rows) {
        g.rows.push({ ...r, part_id: toParentId });
        g.versions.push(this.base.index.txnOf(r) ?? version);
      }
    }
    const actions: Action[] = [];
    for (const [partId, g] of byPart) actions.push({ add: await writeEntryFile(this.store, partId, g.rows, { version, rowVersions: g.versions }) });
    return actions;
  }

  async abort(): Promise<void> {
    this.done = true;
    // Staged large files stay until maintenance: they may already be shared with
    // another transaction's identical content, so deleting them here is unsafe.
  }

  private assertOpen(): void {
    if (this.done) throw new Error("BUG: transaction already committed or aborted");
  }
}

/** A directory's own record: its full entry list as an Arrow IPC stream, in its own partition. */
export function directoryRow(dirId: NodeId, version: number, timestamp: bigint, entries: DirEntry[]): OplogEntry {
  const content = encodeDirectory(entries);
  return {
    part_id: dirId,
    node_id: dirId,
    file_type: "directory",
    version,
    timestamp,
    content,
    sha256: sha256Hex(content),
    size: content.length,
    min_event_time: null,
    max_event_time: null,
    attributes: "{}",
  };
}

function key(parentId: NodeId, nodeId: NodeId): string {
  return `${parentId}/${nodeId}`;
}

/** `r` moved into merged file `to` (unchanged without one): the row names the file, its record the version's own payload. */
function mergedRow(r: OplogEntry, to: { sha256: string; size: number } | undefined): OplogEntry {
  if (!to) return r;
  if (r.content !== null) throw new PondFormatError(`node ${r.node_id} version ${r.version}`, "has inline content; only Parquet payloads are merged");
  return { ...r, sha256: to.sha256, size: to.size, attributes: mergedRowAttributes(r.attributes, { sha256: r.sha256, size: r.size }) };
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
    attributes: merged.attributes,
  };
  return withStored(info, { sha256: r.sha256, size: r.size, mergedVersion: r.version });
}
