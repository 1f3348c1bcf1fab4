/**
 * The in-memory Persistence: every commit makes a new immutable state value (maps of
 * directory snapshots and file nodes) and keeps the old ones, so `view(asOf)` is a
 * lookup. Used by tests and as the reference for what a backend must do.
 */
import {
  DuplicateNameError,
  IntegrityError,
  NotFoundError,
  TransactionClosedError,
  TransactionConflictError,
  TypeChangeError,
  WrongTypeError,
} from "./errors.ts";
import { validateName } from "./path.ts";
import type { ReadView, Transaction, Persistence, VersionOptions } from "./persistence.ts";
import { ROOT_ID, isEntryType, type ContentSource, type DirEntry, type EntryType, type NodeId, type TxnMeta, type VersionInfo } from "./types.ts";
import { uuid7 } from "./uuid7.ts";
import { concatBytes, newSha256, sha256Hex, type Sha256 } from "./bytes.ts";

/** Bytes yielded per chunk by `read`, so readers see a stream as with a disk backend. */
const READ_CHUNK = 64 * 1024;

interface StoredVersion {
  readonly info: Readonly<VersionInfo>;
  readonly bytes: Uint8Array;
}

/** A file or symlink node. Invariant: `versions[i].info.version === i + 1`. */
interface FileNode {
  readonly entryType: EntryType;
  readonly versions: readonly StoredVersion[];
}

/** One committed state. Never changed after it is made. */
interface MemoryState {
  readonly seq: number;
  readonly dirs: ReadonlyMap<NodeId, readonly DirEntry[]>;
  /** Keyed by `parentId/nodeId`, as backends partition file records by parent. */
  readonly files: ReadonlyMap<string, FileNode>;
}

export interface MemoryPersistenceOptions {
  /** The clock, ms since the epoch (default Date.now); stamps versions and node ids. */
  now?: () => number;
}

/**
 * An in-memory backend. A fresh one is at sequence 0 with an empty root directory;
 * each commit adds one to the sequence. A commit on top of a state that another
 * transaction has since replaced fails with TransactionConflictError.
 */
export class MemoryPersistence implements Persistence {
  private readonly states: MemoryState[];
  private readonly now: () => number;

  constructor(opts: MemoryPersistenceOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.states = [Object.freeze({ seq: 0, dirs: new Map([[ROOT_ID, Object.freeze([])]]), files: new Map() })];
  }

  /** The newest committed sequence number. */
  get seq(): number {
    return this.states.length - 1;
  }

  async view(asOf?: number): Promise<ReadView> {
    return new MemoryView(this.stateAt(asOf));
  }

  async begin(meta: TxnMeta): Promise<Transaction> {
    return new MemoryTransaction(this.states[this.seq]!, meta, this.now, (s) => this.publish(s));
  }

  private stateAt(asOf: number | undefined): MemoryState {
    if (asOf === undefined) return this.states[this.seq]!;
    const state = Number.isInteger(asOf) ? this.states[asOf] : undefined;
    if (!state) throw new NotFoundError(`Transaction sequence ${asOf}`, `Sequences run from 0 to ${this.seq}.`, { asOf });
    return state;
  }

  private publish(next: (current: MemoryState) => MemoryState): number {
    const state = next(this.states[this.seq]!);
    this.states.push(Object.freeze(state));
    return state.seq;
  }
}

function fileKey(parentId: NodeId, nodeId: NodeId): string {
  return `${parentId}/${nodeId}`;
}

/** A committed state, read-only. Returns copies so callers cannot change stored values. */
class MemoryView implements ReadView {
  constructor(protected readonly state: MemoryState) {}

  get seq(): number {
    return this.state.seq;
  }

  protected dir(dirId: NodeId): readonly DirEntry[] | undefined {
    return this.state.dirs.get(dirId);
  }

  protected file(parentId: NodeId, nodeId: NodeId): FileNode | undefined {
    return this.state.files.get(fileKey(parentId, nodeId));
  }

  async listDir(dirId: NodeId): Promise<DirEntry[]> {
    const entries = this.dir(dirId);
    if (!entries) throw new NotFoundError(`Directory ${dirId}`, undefined, { nodeId: dirId });
    return entries.map((e) => ({ ...e }));
  }

  async versions(parentId: NodeId, nodeId: NodeId): Promise<VersionInfo[]> {
    return this.node(parentId, nodeId).versions.map((v) => copyInfo(v.info));
  }

  async *read(parentId: NodeId, nodeId: NodeId, version?: number): AsyncIterable<Uint8Array> {
    const node = this.node(parentId, nodeId);
    const want = version ?? node.versions.length;
    const stored = node.versions[want - 1];
    if (!stored || !Number.isInteger(want)) {
      throw new NotFoundError(`Version ${version} of node ${nodeId}`, `It has versions 1 to ${node.versions.length}.`, { nodeId, version });
    }
    const hasher = newSha256();
    const { bytes, info } = stored;
    for (let off = 0; off < bytes.length; off += READ_CHUNK) {
      const chunk = bytes.slice(off, off + READ_CHUNK);
      hasher.update(chunk);
      // The last chunk is checked before it is handed out, so a reader never sees bad bytes as the end.
      if (off + READ_CHUNK >= bytes.length) checkHash(hasher, info, nodeId);
      yield chunk;
    }
    if (bytes.length === 0) checkHash(hasher, info, nodeId);
  }

  async readlink(parentId: NodeId, nodeId: NodeId): Promise<string> {
    const node = this.node(parentId, nodeId);
    if (node.entryType !== "symlink") throw new WrongTypeError(`node ${nodeId}`, node.entryType, "symlink");
    return new TextDecoder().decode(node.versions[node.versions.length - 1]!.bytes);
  }

  private node(parentId: NodeId, nodeId: NodeId): FileNode {
    const node = this.file(parentId, nodeId);
    if (!node) throw new NotFoundError(`Node ${nodeId}`, `It is not a file or symlink in directory ${parentId}.`, { parentId, nodeId });
    return node;
  }
}

function checkHash(hasher: Sha256, info: VersionInfo, nodeId: NodeId): void {
  const actual = hasher.hex();
  if (actual !== info.sha256) {
    throw new IntegrityError(`node ${nodeId} version ${info.version}`, `sha256 is ${actual}, expected ${info.sha256}`, { nodeId, version: info.version });
  }
}

function copyInfo(info: Readonly<VersionInfo>): VersionInfo {
  return { ...info, attributes: structuredClone(info.attributes) };
}

/** A transaction: the base state plus its own writes, which it reads back. */
class MemoryTransaction extends MemoryView implements Transaction {
  private readonly dirWrites = new Map<NodeId, readonly DirEntry[]>();
  private readonly fileWrites = new Map<string, FileNode>();
  private done = false;

  constructor(
    base: MemoryState,
    readonly meta: TxnMeta,
    private readonly now: () => number,
    private readonly publish: (next: (current: MemoryState) => MemoryState) => number,
  ) {
    super(base);
  }

  protected override dir(dirId: NodeId): readonly DirEntry[] | undefined {
    return this.dirWrites.get(dirId) ?? super.dir(dirId);
  }

  protected override file(parentId: NodeId, nodeId: NodeId): FileNode | undefined {
    return this.fileWrites.get(fileKey(parentId, nodeId)) ?? super.file(parentId, nodeId);
  }

  newNodeId(): NodeId {
    return uuid7(this.now());
  }

  async writeDir(dirId: NodeId, entries: DirEntry[]): Promise<void> {
    this.assertOpen("write a directory");
    const names = new Set<string>();
    const copy: DirEntry[] = [];
    for (const e of entries) {
      validateName(e.name);
      if (!isEntryType(e.entryType)) throw new TypeError(`BUG: unknown entry type "${e.entryType}" for "${e.name}"`);
      if (names.has(e.name)) throw new DuplicateNameError(dirId, e.name);
      names.add(e.name);
      copy.push(Object.freeze({ name: e.name, childNodeId: e.childNodeId, entryType: e.entryType, versionLastModified: e.versionLastModified }));
    }
    copy.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    this.dirWrites.set(dirId, Object.freeze(copy));
  }

  async addVersion(parentId: NodeId, nodeId: NodeId, entryType: EntryType, content: ContentSource, opts: VersionOptions = {}): Promise<VersionInfo> {
    this.assertOpen("add a version");
    if (entryType === "directory") {
      throw new WrongTypeError(`node ${nodeId}`, "directory", "file or symlink", "Directories are written with writeDir.");
    }
    if (this.dir(nodeId)) throw new TypeChangeError(`node ${nodeId}`, "directory", entryType);
    const existing = this.file(parentId, nodeId);
    if (existing && existing.entryType !== entryType) throw new TypeChangeError(`node ${nodeId}`, existing.entryType, entryType);
    const bytes = await collect(content);
    const info: VersionInfo = Object.freeze({
      version: (existing?.versions.length ?? 0) + 1,
      timestamp: BigInt(Math.round(this.now() * 1000)),
      size: bytes.length,
      sha256: sha256Hex(bytes),
      minEventTime: opts.minEventTime ?? null,
      maxEventTime: opts.maxEventTime ?? null,
      attributes: structuredClone(opts.attributes ?? {}),
    });
    const versions = [...(existing?.versions ?? []), Object.freeze({ info, bytes })];
    this.fileWrites.set(fileKey(parentId, nodeId), Object.freeze({ entryType, versions: Object.freeze(versions) }));
    return copyInfo(info);
  }

  async moveNode(fromParentId: NodeId, toParentId: NodeId, nodeId: NodeId): Promise<void> {
    this.assertOpen("move a node");
    const node = this.file(fromParentId, nodeId);
    if (!node) throw new NotFoundError(`Node ${nodeId}`, `It is not a file or symlink in directory ${fromParentId}.`, { parentId: fromParentId, nodeId });
    if (fromParentId === toParentId) return;
    // The same frozen versions (committing sequences included): nothing is rewritten.
    this.fileWrites.set(fileKey(toParentId, nodeId), node);
  }

  async commit(): Promise<number> {
    this.assertOpen("commit");
    this.done = true;
    const base = this.state;
    return this.publish((current) => {
      if (current !== base) throw new TransactionConflictError(base.seq, current.seq);
      const seq = base.seq + 1;
      const dirs = new Map(base.dirs);
      for (const [id, entries] of this.dirWrites) dirs.set(id, entries);
      const files = new Map(base.files);
      for (const [key, node] of this.fileWrites) {
        const versions = node.versions.map((v) => (v.info.txnSeq === undefined ? Object.freeze({ ...v, info: Object.freeze({ ...v.info, txnSeq: seq }) }) : v));
        files.set(key, Object.freeze({ entryType: node.entryType, versions: Object.freeze(versions) }));
      }
      return { seq, dirs, files };
    });
  }

  async abort(): Promise<void> {
    this.done = true;
  }

  private assertOpen(operation: string): void {
    if (this.done) throw new TransactionClosedError(operation);
  }
}

/** Reads a ContentSource into one owned buffer (a copy: the caller may reuse its own). */
async function collect(content: ContentSource): Promise<Uint8Array> {
  // new Uint8Array(x) copies; a Buffer's slice() would not.
  if (content instanceof Uint8Array) return new Uint8Array(content);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of content) {
    if (!(chunk instanceof Uint8Array)) throw new TypeError("BUG: content streams must yield Uint8Array chunks");
    chunks.push(new Uint8Array(chunk));
    size += chunk.length;
  }
  return concatBytes(chunks, size);
}
