import { decodeDirectory, type ObjectStore, type OplogEntry, type Snapshot } from "@pond/oplog";
import { NotFoundError, type DirEntry, type NodeId, type ReadView, type VersionInfo } from "@pond/tinyfs";
import { checkInline, largeFileKey, readLargeFile } from "./content-store.ts";
import { PondFormatError } from "./errors.ts";
import { checkPayloads, type PayloadRef, type VerifiedPayloads } from "./payload-check.ts";
import type { PartitionIndex } from "./partition-index.ts";
import { readMergeRecord, storedOf, withStored, type MergeRecord, type StoredPayload } from "./merged-payload.ts";

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
