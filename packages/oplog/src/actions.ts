/**
 * Delta log actions: the types, and the newline-delimited JSON of a commit file.
 * Field names follow the Delta protocol (PROTOCOL.md) exactly, so actions written by
 * Spark or delta-rs parse into these types and ours are readable by them.
 */
import { CorruptLogError } from "./errors.ts";

export interface Protocol {
  minReaderVersion: number;
  minWriterVersion: number;
  /** Only with minReaderVersion 3. */
  readerFeatures?: string[];
  /** Only with minWriterVersion 7. */
  writerFeatures?: string[];
}

export interface Format {
  provider: string;
  options?: Record<string, string>;
}

export interface Metadata {
  id: string;
  name?: string | null;
  description?: string | null;
  format: Format;
  /** A Spark-style JSON struct type. */
  schemaString: string;
  partitionColumns: string[];
  configuration: Record<string, string>;
  /** ms since the epoch */
  createdTime?: number | null;
}

export interface AddAction {
  /** Relative to the table root, URI-encoded (RFC 2396). */
  path: string;
  /** Partition column → value as a string (null for a null partition value). */
  partitionValues: Record<string, string | null>;
  size: number;
  /** ms since the epoch */
  modificationTime: number;
  dataChange: boolean;
  /** JSON: {numRecords, minValues, maxValues, nullCount}. */
  stats?: string | null;
  tags?: Record<string, string> | null;
  /** Present only in tables with deletion vectors, which this reader refuses. */
  deletionVector?: unknown;
}

export interface RemoveAction {
  path: string;
  /** ms since the epoch */
  deletionTimestamp?: number | null;
  dataChange: boolean;
  extendedFileMetadata?: boolean | null;
  partitionValues?: Record<string, string | null> | null;
  size?: number | null;
  tags?: Record<string, string> | null;
  deletionVector?: unknown;
}

export interface Txn {
  appId: string;
  version: number;
  lastUpdated?: number | null;
}

/** Free-form; `timestamp` (ms) is the commit time when present. */
export type CommitInfo = { timestamp?: number; operation?: string } & Record<string, unknown>;

/** Actions this package passes through without interpreting them. */
export type OtherAction =
  | { cdc: Record<string, unknown> }
  | { domainMetadata: Record<string, unknown> }
  | { checkpointMetadata: Record<string, unknown> }
  | { sidecar: Record<string, unknown> };

/** One line of a commit file: an object with exactly one key naming the action. */
export type Action =
  | { protocol: Protocol }
  | { metaData: Metadata }
  | { add: AddAction }
  | { remove: RemoveAction }
  | { commitInfo: CommitInfo }
  | { txn: Txn }
  | OtherAction;

/** Serializes actions as a commit file: one JSON object a line. */
export function serializeActions(actions: readonly Action[]): Uint8Array {
  return new TextEncoder().encode(actions.map((a) => JSON.stringify(a)).join("\n") + "\n");
}

/**
 * Parses a commit file. Blank lines are skipped; any other line must be a JSON object,
 * else CorruptLogError naming `file` and the line number. Unknown action names are
 * kept as they are (newer protocol versions add actions readers may ignore).
 */
export function parseActions(bytes: Uint8Array, file: string): Action[] {
  const text = new TextDecoder("utf-8", { fatal: false }).decode(bytes);
  const out: Action[] = [];
  let start = 0;
  let lineNo = 0;
  while (start <= text.length) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    lineNo++;
    const line = text.slice(start, end).trim();
    start = end + 1;
    if (line === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      if (e instanceof SyntaxError) throw new CorruptLogError(file, `line ${lineNo} is not valid JSON (${e.message})`, e);
      throw e;
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new CorruptLogError(file, `line ${lineNo} is not a JSON object`);
    }
    out.push(value as Action);
  }
  return out;
}
