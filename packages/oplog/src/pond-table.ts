/**
 * The pond's own Delta table: its schema, its version-0 actions, and the data files
 * that hold OplogEntry rows (`part_id=<id>/part-<uuid>.parquet`, one partition per
 * directory). The file layout itself is the Parquet codec's business.
 */
import { uuid7 } from "@pond/tinyfs";
import type { Action, AddAction } from "./actions.ts";
import { CorruptLogError, EntryPartitionError, InvalidKeyError, ObjectNotFoundError, UndecodableError, UnsupportedFeatureError } from "./errors.ts";
import type { ObjectStore } from "./object-store.ts";
import type { OplogEntry } from "./oplog-entry.ts";
import { decodeEntries, decodeEntryRefs, encodeEntries, type EntryRefs } from "./parquet-codec.ts";
import { POND_ROW_VERSIONS_TAG, POND_VERSION_TAG, encodeRowVersions } from "./snapshot.ts";

/** The OplogEntry columns as a Spark-style Delta schema (what `metaData.schemaString` holds). */
export const OPLOG_SCHEMA_STRING = JSON.stringify({
  type: "struct",
  fields: [
    field("part_id", "string", false),
    field("node_id", "string", false),
    field("file_type", "string", false),
    field("version", "long", false),
    field("timestamp", "timestamp", false),
    field("content", "binary", true),
    field("sha256", "string", false),
    field("size", "long", false),
    field("min_event_time", "long", true),
    field("max_event_time", "long", true),
    field("attributes", "string", false),
  ],
});

function field(name: string, type: string, nullable: boolean) {
  return { name, type, nullable, metadata: {} };
}

/**
 * The protocol and metaData actions of version 0 of a new pond table (reader 1,
 * writer 2, partitioned by `part_id`). The caller adds its own commitInfo and files.
 */
export function pondTableActions(pondId: string, now: number): Action[] {
  return [
    { protocol: { minReaderVersion: 1, minWriterVersion: 2 } },
    {
      metaData: {
        id: pondId,
        name: null,
        description: null,
        format: { provider: "parquet", options: {} },
        schemaString: OPLOG_SCHEMA_STRING,
        partitionColumns: ["part_id"],
        configuration: {},
        createdTime: now,
      },
    },
  ];
}

const SAFE_PART_ID = /^[A-Za-z0-9._-]+$/;

/**
 * Writes `rows` (all of partition `partId`) as a new data file and returns the add
 * action for the commit that will be `opts.version`: partitionValues, size, stats
 * ({numRecords, minValues, maxValues, nullCount}) and tags {"pond.version"}.
 * `opts.codec` ZSTD is for files of many rows (a compaction's): their per-version hashes
 * are hex text, which Zstandard's entropy coding halves and Snappy cannot (107 → 53 bytes
 * a version for a collector's series); a commit's own few rows stay Snappy, which every
 * reader decodes without loading a decompressor.
 */
export async function writeEntryFile(
  store: ObjectStore,
  partId: string,
  rows: readonly OplogEntry[],
  opts: { version: number; rowVersions?: readonly number[]; codec?: "SNAPPY" | "ZSTD" },
): Promise<AddAction> {
  if (opts.rowVersions && opts.rowVersions.length !== rows.length) throw new RangeError(`BUG: ${opts.rowVersions.length} row versions for ${rows.length} rows`);
  if (!SAFE_PART_ID.test(partId)) throw new InvalidKeyError(`part_id=${partId}`, "a part_id must be letters, digits, '.', '_' or '-'");
  for (const r of rows) if (r.part_id !== partId) throw new EntryPartitionError(partId, r.part_id, r.node_id);
  const bytes = encodeEntries(rows, opts.codec);
  const path = `part_id=${partId}/part-${uuid7()}.parquet`;
  if ((await store.put(path, bytes, { ifAbsent: true })) === "exists") {
    // A fresh UUIDv7 cannot collide; if it does, something else wrote here.
    throw new CorruptLogError(path, "already exists, though its name was just generated");
  }
  return {
    path,
    partitionValues: { part_id: partId },
    size: bytes.length,
    modificationTime: Date.now(),
    // A merged file holds rows already in the table: no data changed (Delta's "dataChange").
    dataChange: !opts.rowVersions,
    stats: entryStats(rows),
    tags: { [POND_VERSION_TAG]: String(opts.version), ...(opts.rowVersions ? { [POND_ROW_VERSIONS_TAG]: encodeRowVersions(opts.rowVersions) } : {}) },
  };
}

/**
 * Reads the rows of a data file named by an add action; `part_id` comes from its
 * partitionValues (Delta data files do not store partition columns). A file that is
 * missing or whose size differs from the log is a CorruptLogError.
 */
export async function readEntryFile(store: ObjectStore, add: AddAction): Promise<OplogEntry[]> {
  const { key, partId, bytes } = await entryFileBytes(store, add);
  try {
    return await decodeEntries(bytes, partId);
  } catch (e) {
    if (e instanceof UndecodableError) throw new CorruptLogError(key, `is not a readable entry file (${e.data.detail})`, e);
    throw e;
  }
}

/** The payload and directory columns of an entry file (decodeEntryRefs), with readEntryFile's checks and errors. */
export async function readEntryRefs(store: ObjectStore, add: Pick<AddAction, "path" | "size" | "partitionValues">): Promise<EntryRefs> {
  const { key, bytes } = await entryFileBytes(store, add);
  try {
    return await decodeEntryRefs(bytes);
  } catch (e) {
    if (e instanceof UndecodableError) throw new CorruptLogError(key, `is not a readable entry file (${e.data.detail})`, e);
    throw e;
  }
}

async function entryFileBytes(
  store: ObjectStore,
  add: Pick<AddAction, "path" | "size" | "partitionValues">,
): Promise<{ key: string; partId: string; bytes: Uint8Array }> {
  const partId = add.partitionValues?.part_id;
  if (typeof partId !== "string") throw new CorruptLogError(add.path, "has no part_id partition value in the log");
  const key = dataFileKey(store, add.path);
  let bytes: Uint8Array;
  try {
    bytes = await store.get(key);
  } catch (e) {
    if (e instanceof ObjectNotFoundError) throw new CorruptLogError(key, `is in the log but missing from ${store.url}`, e);
    throw e;
  }
  if (bytes.length !== add.size) throw new CorruptLogError(key, `is ${bytes.length} bytes, but the log says ${add.size}`);
  return { key, partId, bytes };
}

/** The store key of an add path: relative paths only, URI-decoded as the protocol says. */
function dataFileKey(store: ObjectStore, path: string): string {
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(path)) {
    throw new UnsupportedFeatureError(store.url, "absolutePaths", `data file ${path} is outside the table (absolute paths are not supported)`);
  }
  try {
    return decodeURIComponent(path);
  } catch (e) {
    if (e instanceof URIError) throw new CorruptLogError(path, "is not a valid URI-encoded path", e);
    throw e;
  }
}

/**
 * Delta file statistics. Timestamps are ISO strings at ms precision as Spark writes
 * them, with min rounded down and max rounded up so the range never excludes a row.
 */
export function entryStats(rows: readonly OplogEntry[]): string {
  const minValues: Record<string, unknown> = {};
  const maxValues: Record<string, unknown> = {};
  const nullCount: Record<string, number> = {};
  if (rows.length > 0) {
    const strCols = ["node_id", "file_type"] as const;
    for (const c of strCols) {
      let lo = rows[0][c];
      let hi = lo;
      for (const r of rows) {
        if (r[c] < lo) lo = r[c];
        if (r[c] > hi) hi = r[c];
      }
      minValues[c] = lo;
      maxValues[c] = hi;
    }
    for (const c of ["version", "size"] as const) {
      let lo = rows[0][c];
      let hi = lo;
      for (const r of rows) {
        lo = Math.min(lo, r[c]);
        hi = Math.max(hi, r[c]);
      }
      minValues[c] = lo;
      maxValues[c] = hi;
    }
    let tlo = rows[0].timestamp;
    let thi = tlo;
    for (const r of rows) {
      if (r.timestamp < tlo) tlo = r.timestamp;
      if (r.timestamp > thi) thi = r.timestamp;
    }
    minValues.timestamp = new Date(Number(floorDiv(tlo, 1000n))).toISOString();
    maxValues.timestamp = new Date(Number(-floorDiv(-thi, 1000n))).toISOString();
    for (const c of ["min_event_time", "max_event_time"] as const) {
      let lo: bigint | null = null;
      let hi: bigint | null = null;
      for (const r of rows) {
        const v = r[c];
        if (v === null) continue;
        if (lo === null || v < lo) lo = v;
        if (hi === null || v > hi) hi = v;
      }
      if (lo !== null && hi !== null) {
        minValues[c] = Number(lo);
        maxValues[c] = Number(hi);
      }
    }
  }
  for (const c of ["node_id", "file_type", "version", "timestamp", "content", "sha256", "size", "min_event_time", "max_event_time", "attributes"] as const) {
    nullCount[c] = rows.reduce((n, r) => n + (r[c] === null ? 1 : 0), 0);
  }
  return JSON.stringify({ numRecords: rows.length, minValues, maxValues, nullCount });
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}
