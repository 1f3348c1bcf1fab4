/**
 * The vocabulary shared by every layer: node ids, entry types, directory entries and
 * version records. Defined once here and imported everywhere else.
 */

/** A node id: a UUIDv7 string in canonical 8-4-4-4-12 lowercase hex form. */
export type NodeId = string;

/** The root directory's fixed id (a valid UUIDv7 bit pattern with a zero timestamp). */
export const ROOT_ID: NodeId = "00000000-0000-7000-8000-000000000000";

export const ENTRY_TYPES = ["directory", "symlink", "file:data", "file:table", "file:series"] as const;
export type EntryType = (typeof ENTRY_TYPES)[number];

export function isEntryType(s: string): s is EntryType {
  return (ENTRY_TYPES as readonly string[]).includes(s);
}

export function isFileType(t: EntryType): boolean {
  return t === "file:data" || t === "file:table" || t === "file:series";
}

/** One entry of a directory snapshot. Names are unique within a directory. */
export interface DirEntry {
  name: string;
  childNodeId: NodeId;
  entryType: EntryType;
  /** The child's newest version number when this snapshot was written. */
  versionLastModified: number;
}

/** What is known of one version of a file or symlink without reading its content. */
export interface VersionInfo {
  /** Per node, from 1, no gaps. */
  version: number;
  /** When it was written: µs since the epoch, UTC. */
  timestamp: bigint;
  size: number;
  /** Lowercase hex sha256 of the content. */
  sha256: string;
  /** The data log version (= transaction sequence) that committed it; undefined before commit. */
  txnSeq?: number;
  /** Series only: event-time range of this version, µs UTC. */
  minEventTime?: bigint | null;
  maxEventTime?: bigint | null;
  /** Free-form JSON metadata (e.g. { timestamp_column: "ts" } for a series). */
  attributes: Record<string, unknown>;
}

/** Metadata describing one write transaction, recorded with its commit. */
export interface TxnMeta {
  /** UUIDv7 transaction id. */
  txnId: string;
  /** The command line that made it, as the user typed it. */
  command: string[];
  user: string;
  /** When it began (ms since the epoch). */
  startedAt: number;
}

/** Content handed to a backend: whole bytes, or a stream read once. */
export type ContentSource = Uint8Array | AsyncIterable<Uint8Array>;
