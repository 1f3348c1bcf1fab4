import type { ContentSource, DirEntry, EntryType, NodeId, TxnMeta, VersionInfo } from "./types.ts";

/**
 * A read-only view of a pond at one moment. Values, not live handles: a view never
 * changes after it is made. Every node is addressed with its parent directory's id
 * (`parentId`), because backends partition file records by parent; a directory's own
 * record is addressed with its own id as parent.
 *
 * Contract (checked by `runPersistenceContract`):
 * - `listDir` of an unknown directory throws `NotFoundError`; entries come sorted by
 *   name (plain string order) and are the caller's to change.
 * - `versions` returns versions in ascending order, numbered 1..n without gaps; an
 *   unknown node throws `NotFoundError`.
 * - `read` of a missing version throws `NotFoundError`; a backend that stores a hash
 *   checks it while streaming and throws `IntegrityError` on mismatch.
 */
export interface ReadView {
  /** The backend's version counter this view reflects (data log version for tlogfs). */
  readonly seq: number;
  listDir(dirId: NodeId): Promise<DirEntry[]>;
  versions(parentId: NodeId, nodeId: NodeId): Promise<VersionInfo[]>;
  /** Streams a version's bytes. `version` defaults to the newest. */
  read(parentId: NodeId, nodeId: NodeId, version?: number): AsyncIterable<Uint8Array>;
  /** A symlink's target (its newest version). */
  readlink(parentId: NodeId, nodeId: NodeId): Promise<string>;
}

/** Options for a new file version beyond its bytes (tables and series). */
export interface VersionOptions {
  minEventTime?: bigint | null;
  maxEventTime?: bigint | null;
  attributes?: Record<string, unknown>;
}

/**
 * A write transaction: a ReadView that also sees its own uncommitted writes.
 * Nothing is visible to other views until `commit` resolves; `abort` (or dropping the
 * transaction) leaves the backend as it was.
 *
 * Errors every backend throws alike (checked by `runPersistenceContract`, class and code):
 * `writeDir` with a name no path can reach (`/`, empty, `.`, `..`, NUL) throws
 * `InvalidPathError`, with a name twice `DuplicateNameError`; any write or commit after
 * `commit` or `abort` throws `TransactionClosedError`; losing the race for the next
 * sequence throws `TransactionConflictError` from `commit`.
 */
export interface Transaction extends ReadView {
  readonly meta: TxnMeta;
  /** A fresh UUIDv7 node id. */
  newNodeId(): NodeId;
  /**
   * Replaces the whole entry list of directory `dirId` (creating the directory if it is
   * new). The backend writes at most one snapshot per directory per transaction.
   */
  writeDir(dirId: NodeId, entries: DirEntry[]): Promise<void>;
  /**
   * Adds the next version of a file or symlink node (version 1 creates it). Returns the
   * version written. Writing a different entry type than the node's existing one throws
   * `TypeChangeError`. Once the promise resolves the backend owns a copy of the bytes:
   * the caller may reuse its buffer. Version timestamps come from the backend's clock.
   */
  addVersion(parentId: NodeId, nodeId: NodeId, entryType: EntryType, content: ContentSource, opts?: VersionOptions): Promise<VersionInfo>;
  /**
   * Makes every version of file or symlink node `nodeId`, addressed under `fromParentId`,
   * addressable under `toParentId` too, with the same numbers, timestamps, hashes and
   * committing sequences: a move of the node to another directory. Payloads are not
   * copied. The caller rewrites both directories' entry lists. A directory's own records
   * live under its own id, so moving a directory needs only the two `writeDir`s. Throws
   * `NotFoundError` when the node has no versions under `fromParentId`.
   */
  moveNode(fromParentId: NodeId, toParentId: NodeId, nodeId: NodeId): Promise<void>;
  /** Makes every write visible atomically. Resolves to the committed sequence number. */
  commit(): Promise<number>;
  abort(): Promise<void>;
}

/**
 * A storage backend for tinyfs. Passed in, never a singleton. Every backend passes
 * `runPersistenceContract`.
 */
export interface Persistence {
  /** The newest committed state, or the state as of `asOf` (a sequence number; one never committed throws `NotFoundError`). */
  view(asOf?: number): Promise<ReadView>;
  /** Starts a write transaction on top of the newest committed state. */
  begin(meta: TxnMeta): Promise<Transaction>;
}
