import { commit as commitLog, encodeDirectory, fsyncDir, writeEntryFile, type Action, type AddAction, type OplogEntry } from "@pond/oplog";
import { logger } from "@pond/diagnostics";
import {
  DuplicateNameError,
  NotFoundError,
  TransactionClosedError,
  TransactionConflictError,
  TypeChangeError,
  isEntryType,
  sha256Hex,
  uuid7,
  validateName,
  type ContentSource,
  type DirEntry,
  type EntryType,
  type NodeId,
  type Transaction,
  type TxnMeta,
  type VersionInfo,
  type VersionOptions,
} from "@pond/tinyfs";
import { compaction, COMPACT_FAN_IN, COMPACT_FROM_FILES, COMPACT_MAX_BYTES, type CompactOptions, type Compaction } from "./compaction.ts";
import { readLargeFile, stageContent, type StagedContent } from "./content-store.ts";
import { PondFormatError } from "./errors.ts";
import { TLogView } from "./tlog-view.ts";
import { summarize, type SeriesSummary } from "./series-summary.ts";
import { hashesOf, type SeriesHashes } from "./series-hashes.ts";

/** Entry types whose payload is Parquet, always stored as a large file so DuckDB can scan it in place. */
const PARQUET_TYPES: ReadonlySet<EntryType> = new Set(["file:table", "file:series"]);

/** Metadata a commit records in the Delta `commitInfo` action under `pond`. */
export interface PondCommitInfo {
  seq: number;
  txnId: string;
  command: string[];
  user: string;
  startedAt: number;
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
  /** Folders adopted payloads were linked into, not yet fsynced (tryCommit does, once each). */
  private readonly dirSyncs = new Set<string>();
  /** Committed rows of nodes moved to another directory, by their new `parentId/nodeId`, the original row objects (so their committing versions stay known). */
  private readonly moved = new Map<string, { toParentId: NodeId; rows: OplogEntry[] }>();
  /** Versions whose rows this transaction moves into merged files, by partition: `nodeId/version` → the merged file. */
  private readonly merges = new Map<NodeId, Map<string, { sha256: string; size: number }>>();
  private done = false;

  constructor(
    private readonly base: TLogView,
    readonly meta: TxnMeta,
    private readonly now: () => number,
    private readonly compact: CompactOptions = { fromFiles: COMPACT_FROM_FILES, fanIn: COMPACT_FAN_IN, maxBytes: COMPACT_MAX_BYTES },
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

  /** Within a transaction the summary includes its own versions: the kept one when it has none of the node's, else built from the versions. */
  override async seriesSummary(parentId: NodeId, nodeId: NodeId): Promise<SeriesSummary> {
    const k = key(parentId, nodeId);
    if (!this.pending.has(k) && !this.moved.has(k)) return super.seriesSummary(parentId, nodeId);
    return summarize(await this.versions(parentId, nodeId));
  }

  /** Within a transaction the hash prefixes include its own versions, as `seriesSummary`. */
  override async seriesHashes(parentId: NodeId, nodeId: NodeId): Promise<SeriesHashes> {
    const k = key(parentId, nodeId);
    if (!this.pending.has(k) && !this.moved.has(k)) return super.seriesHashes(parentId, nodeId);
    return hashesOf(await this.versions(parentId, nodeId));
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
    this.assertOpen("write a directory");
    const names = new Set<string>();
    for (const e of entries) {
      validateName(e.name);
      if (!isEntryType(e.entryType)) throw new TypeError(`BUG: unknown entry type "${e.entryType}" for "${e.name}"`);
      if (names.has(e.name)) throw new DuplicateNameError(dirId, e.name);
      names.add(e.name);
    }
    this.dirs.set(
      dirId,
      entries.map((e) => ({ ...e })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    );
  }

  async addVersion(parentId: NodeId, nodeId: NodeId, entryType: EntryType, content: ContentSource, opts: VersionOptions = {}): Promise<VersionInfo> {
    this.assertOpen("add a version");
    const k = key(parentId, nodeId);
    const mine = this.pending.get(k) ?? [];
    // A series' newest version from its summary (O(files), see series-summary.ts), not
    // from every row: a collector appends to a series of 100,000 versions.
    const kept = entryType === "file:series" && mine.length === 0 && !this.moved.has(k) ? await this.keptSeriesSummary(parentId, nodeId) : undefined;
    const committed = kept ? [{ file_type: "file:series", version: kept.lastVersion }] : await this.fileRows(parentId, nodeId);
    const existingType = mine[0]?.entryType ?? (committed[committed.length - 1]?.file_type as EntryType | undefined);
    if (existingType !== undefined && existingType !== entryType) throw new TypeChangeError(`node ${nodeId}`, existingType, entryType);
    const version = (mine.length ? mine[mine.length - 1]!.info.version : (committed[committed.length - 1]?.version ?? 0)) + 1;
    const staged = await stageContent(this.store, content, { forceLarge: PARQUET_TYPES.has(entryType), verified: this.verified, dirSyncs: this.dirSyncs });
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
    this.assertOpen("move a node");
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
   * payload's hash and size in a record (see merged-payload.ts). At commit the entry files
   * of the directory's partition that hold a row of these versions are rewritten as one
   * (compaction.ts), the others left as they are, so no active entry file names a version
   * twice. Throws when the partition cannot be rewritten (files from a foreign checkpoint,
   * rows of unknown versions).
   */
  async mergeVersions(parentId: NodeId, nodeId: NodeId, versions: readonly number[], merged: { sha256: string; size: number }): Promise<void> {
    this.assertOpen("merge versions");
    const files = this.base.index.files(parentId);
    if (files.some((f) => f.addedInVersion === null))
      throw new PondFormatError(`Directory ${parentId}`, "holds entry files from another writer's checkpoint; they cannot be rewritten by a merge");
    // A series' versions are 1..its newest, with no gap: its summary says which exist
    // without every row of the folder (the commit's compaction reads the rows it rewrites,
    // and refuses those whose committing version is unknown).
    const summary = await this.keptSeriesSummary(parentId, nodeId);
    if (summary) {
      for (const v of versions) if (!Number.isInteger(v) || v < 1 || v > summary.lastVersion) throw new NotFoundError(`Version ${v} of node ${nodeId}`);
    } else {
      const rows = await this.base.index.partFileRows(parentId);
      if (rows.some((r) => this.base.index.txnOf(r) === undefined))
        throw new PondFormatError(`Directory ${parentId}`, "holds rows whose committing version is unknown; they cannot be rewritten by a merge");
      const mine = new Set(rows.filter((r) => r.node_id === nodeId).map((r) => r.version));
      for (const v of versions) if (!mine.has(v)) throw new NotFoundError(`Version ${v} of node ${nodeId}`);
    }
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
    this.assertOpen("commit");
    this.done = true;
    const version = this.base.seq + 1;
    const ts = BigInt(this.now()) * 1000n;
    // Folders that adopted files were linked into, each fsynced once (for all its files),
    // meanwhile the entry files are written; done before the log names any of them.
    const dirsSynced = Promise.all([...this.dirSyncs].map((d) => fsyncDir(d)));
    dirsSynced.catch(() => {}); // awaited below; a failure before that must not go unhandled
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
    // Partitions are written at once (each file's fsync waits on the disk, not on the others),
    // their actions then listed in partition order.
    const perPart = await Promise.all(
      [...byPart].map(async ([partId, partRows]) => {
        const c = await compaction(this.store, this.base.index, this.compact, this.merges.get(partId), partId, partRows, version, ts);
        return { partId, partRows, c, own: await writeEntryFile(this.store, partId, partRows, { version }) };
      }),
    );
    const actions: Action[] = perPart.flatMap((p) => [...p.c.actions, { add: p.own }]);
    const moved = await this.movedFiles(version);
    actions.push(...moved);
    const pond: PondCommitInfo = {
      seq: version,
      txnId: this.meta.txnId,
      command: this.meta.command,
      user: this.meta.user,
      startedAt: this.meta.startedAt,
    };
    actions.push({ commitInfo: { timestamp: this.now(), operation: "WRITE", operationParameters: { mode: "Append" }, engineInfo: "pond", pond } });
    await dirsSynced;
    const r = await commitLog(this.store, version, actions);
    if (r.kind === "conflict") return { kind: "conflict", version };
    const movedInto = new Set(moved.map((a) => ("add" in a ? a.add.partitionValues?.part_id : undefined)));
    for (const p of perPart) if (p.c.removed.length > 0 && !movedInto.has(p.partId)) await this.followCompaction(p);
    return { kind: "committed", seq: r.version };
  }

  /**
   * After a commit that compacted partition `partId`: its kept series summaries follow the
   * replacement from the rows that left and came alone (`followReplacement`), so the next
   * reader does not rebuild them from every row of the partition. The commit stands
   * whatever happens here: a summary is derived data, and one not kept is rebuilt.
   */
  private async followCompaction(p: { partId: NodeId; partRows: OplogEntry[]; c: Compaction; own: AddAction }): Promise<void> {
    try {
      const before = this.base.index.files(p.partId).map((f) => f.path);
      const gone = new Set(p.c.removed.map((f) => f.path));
      const after = [...before.filter((f) => !gone.has(f)), ...(p.c.added === undefined ? [] : [p.c.added]), p.own.path].sort();
      await this.followReplacement(p.partId, before.sort(), after, p.c.removedRows, [...p.c.addedRows, ...p.partRows]);
    } catch (e) {
      logger.warn("series summary not followed after compaction; it is rebuilt when next read", {
        part: p.partId,
        error: e instanceof Error ? e.message : String(e),
      });
    }
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

  private assertOpen(operation: string): void {
    if (this.done) throw new TransactionClosedError(operation);
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
