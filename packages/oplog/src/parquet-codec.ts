/**
 * The one module that touches Parquet libraries: hyparquet reads, hyparquet-writer
 * writes, hyparquet-compressors decompresses codecs other than Snappy. It knows the
 * on-disk layout of OplogEntry rows, and offers a small neutral schema description
 * (`ParquetField`) so the checkpoint layout can live with the log code.
 *
 * The libraries are loaded on first use, not at import: each costs 15–25 ms to load,
 * and most CLI commands replay a log without a checkpoint and never need them.
 * (parquet-wasm was measured and rejected: its initSync alone takes ~167 ms.)
 */
import type * as HyparquetWriter from "hyparquet-writer";
import type { CompressionCodec, Compressors, FileMetaData, ParquetParsers, SchemaElement } from "hyparquet";
import type { OplogEntry } from "./oplog-entry.ts";
import { UndecodableError } from "./errors.ts";

/**
 * A column in a neutral schema description: a leaf, a struct, a string→string map or
 * a list of strings. Required unless `optional` is true.
 */
export type ParquetField =
  | { name: string; type: "string" | "binary" | "int32" | "int64" | "boolean" | "timestamp_us" | "timestamp_us_local" | "double"; optional?: boolean }
  | { name: string; struct: ParquetField[]; optional?: boolean }
  | { name: string; map: "string"; optional?: boolean }
  | { name: string; list: "string"; optional?: boolean };

export interface EncodeOptions {
  /** Rows per row group. */
  rowGroupSize?: number;
  /** Top-level columns to write without min/max statistics (large blobs). */
  noStatistics?: string[];
  /** SNAPPY (default), or ZSTD (Bun's own, at level 3). */
  codec?: "SNAPPY" | "ZSTD";
}

/**
 * Writes rows (objects keyed by top-level column name) as a Snappy-compressed Parquet
 * file. Values follow the field types: JS numbers for int32/int64 (bigints accepted),
 * bigint µs for timestamp_us, Uint8Array for binary, plain objects for maps, arrays
 * for lists, null (or undefined) for a missing optional value.
 */
export function encodeObjects(fields: readonly ParquetField[], rows: readonly Record<string, unknown>[], opts: ColumnEncodeOptions = {}): Uint8Array {
  const schema: SchemaElement[] = [{ name: "root", num_children: fields.length }];
  for (const f of fields) pushSchema(f, schema);
  const noStats = new Set(opts.noStatistics ?? []);
  const columnData = fields.map((f) => {
    const encoding = opts.encodings?.[f.name];
    return {
      name: f.name,
      data: rows.map((r) => prepare(f, r[f.name])),
      ...(noStats.has(f.name) ? { statistics: false } : {}),
      ...(encoding ? { encoding } : {}),
    };
  });
  const buf = writerLib().parquetWriteBuffer({
    schema,
    columnData,
    codec: opts.codec ?? "SNAPPY",
    ...(opts.codec === "ZSTD" ? { compressors: { ZSTD: (input: Uint8Array) => Bun.zstdCompressSync(input, { level: 3 }) } } : {}),
    rowGroupSize: opts.rowGroupSize ?? 10_000,
    createdBy: "pond",
  });
  return new Uint8Array(buf);
}

/** What `encodeColumns` takes beside the fields: `EncodeOptions`, and encodings by column. */
export interface ColumnEncodeOptions extends EncodeOptions {
  /** A column's encoding other than the writer's choice, e.g. DELTA_BINARY_PACKED for sorted times. */
  encodings?: Record<string, "PLAIN" | "DELTA_BINARY_PACKED">;
}

/**
 * Writes columns (one array of values per field, all of one length, in field order) as a
 * Snappy- or Zstandard-compressed Parquet file, with min/max statistics per row group. The columnar
 * twin of `encodeObjects` for writers that hold their data by column (no row objects).
 * Values: timestamp_us as integer µs (number or bigint), double as number, null for a
 * missing optional value.
 */
export function encodeColumns(fields: readonly ParquetField[], columns: readonly ArrayLike<unknown>[], opts: ColumnEncodeOptions = {}): Uint8Array {
  if (columns.length !== fields.length) throw new Error(`encodeColumns: ${fields.length} fields but ${columns.length} columns`);
  const schema: SchemaElement[] = [{ name: "root", num_children: fields.length }];
  for (const f of fields) pushSchema(f, schema);
  const noStats = new Set(opts.noStatistics ?? []);
  const columnData = fields.map((f, i) => {
    const encoding = opts.encodings?.[f.name];
    return {
      name: f.name,
      data: columns[i] as unknown[],
      ...(noStats.has(f.name) ? { statistics: false } : {}),
      ...(encoding ? { encoding } : {}),
    };
  });
  const buf = writerLib().parquetWriteBuffer({
    schema,
    columnData,
    codec: opts.codec ?? "SNAPPY",
    ...(opts.codec === "ZSTD" ? { compressors: { ZSTD: (input: Uint8Array) => Bun.zstdCompressSync(input, { level: 3 }) } } : {}),
    rowGroupSize: opts.rowGroupSize ?? 10_000,
    createdBy: "pond",
  });
  return new Uint8Array(buf);
}

/**
 * Reads every row of a Parquet file, or only those of `columns` (top-level names) that
 * the file has; absent ones are simply missing from the rows. INT64
 * values come back as bigint, timestamps as bigint in their own unit (µs for MICROS),
 * unannotated BYTE_ARRAY as Uint8Array, UTF8 as string, maps as plain objects, and a
 * null struct as undefined (hyparquet's choice). Used for checkpoints and entry files.
 */
export async function readParquetObjects(bytes: Uint8Array, opts: { columns?: string[] } = {}): Promise<Record<string, unknown>[]> {
  const hp = await import("hyparquet");
  const file = toArrayBuffer(bytes);
  // Whatever hyparquet throws while it parses these bytes is about the bytes: say so,
  // as UndecodableError, and leave errors of Pond's own code below as they are.
  const parse = async <T>(fn: () => T | Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      throw new UndecodableError("Parquet", (e as Error)?.message ?? String(e), e);
    }
  };
  // The footer, its codecs and its schema come from the bytes too.
  const { metadata, compressors, columns } = await parse(async () => {
    const metadata = hp.parquetMetadata(file, { parsers: RAW_TIMESTAMPS });
    const compressors = await compressorsFor(metadata);
    let columns: string[] | undefined;
    if (opts.columns) {
      const present = new Set(hp.parquetSchema(metadata).children.map((c) => c.element.name));
      columns = opts.columns.filter((c) => present.has(c));
    }
    return { metadata, compressors, columns };
  });
  return parse(() =>
    hp.parquetReadObjects({
      file,
      metadata,
      columns,
      compressors,
      utf8: false,
      parsers: RAW_TIMESTAMPS,
    }),
  );
}

/** A top-level column as a Parquet footer describes it (see `readParquetRaw`). */
export interface RawColumn {
  name: string;
  /** Physical type: INT32, INT64, INT96, FLOAT, DOUBLE, BOOLEAN, BYTE_ARRAY, FIXED_LEN_BYTE_ARRAY; "" for a group. */
  physical: string;
  converted?: string;
  /** The logical type's name (STRING, TIMESTAMP, DATE, INTEGER, …). */
  logical?: string;
  /** A TIMESTAMP's unit, from the logical or converted type; INT96 is "NANOS". */
  unit?: "MILLIS" | "MICROS" | "NANOS";
  /** A group (struct, list, map): its values are not plain. */
  nested: boolean;
}

export interface RawTable {
  columns: RawColumn[];
  /** Rows as arrays in column order; null for a missing value. */
  rows: unknown[][];
}

/**
 * Reads a whole Parquet file as rows of raw values, or returns null when it has more
 * than `maxRows` rows (known from the footer, before anything is decoded). Values:
 * timestamps as bigint in their own unit (INT96 as nanoseconds), dates as days since
 * the epoch (number), INT64 as bigint, INT32 as number, UTF8 as string, unannotated
 * BYTE_ARRAY as Uint8Array. For readers that format values themselves.
 */
export async function readParquetRaw(bytes: Uint8Array, opts: { maxRows?: number } = {}): Promise<RawTable | null> {
  const hp = await import("hyparquet");
  const file = toArrayBuffer(bytes);
  const metadata = hp.parquetMetadata(file, { parsers: RAW_VALUES });
  if (opts.maxRows !== undefined && Number(metadata.num_rows) > opts.maxRows) return null;
  const columns = rawColumns(hp, metadata);
  let rows: unknown[][] = [];
  await hp.parquetRead({
    file,
    metadata,
    compressors: await compressorsFor(metadata),
    utf8: false,
    parsers: RAW_VALUES,
    onComplete: (r: unknown[][]) => {
      rows = r;
    },
  });
  for (const r of rows) for (let i = 0; i < r.length; i++) if (r[i] === undefined) r[i] = null;
  return { columns, rows };
}

/** Some columns of a Parquet file, each as one array of raw values (as `readParquetRaw` gives them, but INT64 timestamps as stored) over every row. */
export interface RawColumns {
  /** Every top-level column of the file. */
  columns: RawColumn[];
  rows: number;
  /** The values of the columns asked for that the file has, by name; null for a missing value. */
  values: Map<string, unknown[]>;
}

/**
 * Reads the top-level columns `names` (those the file has; flat ones) of a Parquet file by
 * column, without making a row object or array per row: for readers that fold values
 * column by column. Values as `readParquetRaw` gives them, except INT64 ones (timestamps
 * too, in their own unit: see `columns`) as bigint.
 */
export async function readParquetColumns(bytes: Uint8Array, names: readonly string[]): Promise<RawColumns> {
  const hp = await import("hyparquet");
  const file = toArrayBuffer(bytes);
  const metadata = hp.parquetMetadata(file, { parsers: RAW_VALUES });
  const columns = rawColumns(hp, metadata);
  const rows = Number(metadata.num_rows);
  const wanted = columns.filter((c) => !c.nested && names.includes(c.name)).map((c) => c.name);
  const values = new Map(wanted.map((n) => [n, new Array<unknown>(rows).fill(null)]));
  // An INT64 column's annotation (a timestamp's unit, described in `columns`) dropped for
  // the read: its values come as the stored integers in one typed array, instead of a
  // parser call a value (most of the time hyparquet took on a day's DuckDB payload).
  const plain = { ...metadata, schema: metadata.schema.map((e) => (e.type === "INT64" ? { ...e, logical_type: undefined, converted_type: undefined } : e)) };
  if (wanted.length > 0 && rows > 0)
    await hp.parquetRead({
      file,
      metadata: plain,
      columns: wanted,
      compressors: await compressorsFor(metadata),
      utf8: false,
      parsers: RAW_VALUES,
      onChunk: (c: { columnName: string; columnData: ArrayLike<unknown>; rowStart: number }) => {
        const out = values.get(c.columnName);
        if (!out) return;
        const d = c.columnData;
        for (let i = 0; i < d.length; i++) out[c.rowStart + i] = d[i] ?? null;
      },
    });
  return { columns, rows, values };
}

function rawColumns(hp: typeof import("hyparquet"), metadata: FileMetaData): RawColumn[] {
  return hp.parquetSchema(metadata).children.map((c) => {
    const e = c.element;
    const logical = e.logical_type?.type;
    const unit =
      e.type === "INT96"
        ? "NANOS"
        : e.logical_type?.type === "TIMESTAMP"
          ? e.logical_type.unit
          : e.converted_type === "TIMESTAMP_MILLIS"
            ? "MILLIS"
            : e.converted_type === "TIMESTAMP_MICROS"
              ? "MICROS"
              : undefined;
    return {
      name: e.name,
      physical: c.children.length ? "" : (e.type ?? ""),
      ...(e.converted_type ? { converted: e.converted_type } : {}),
      ...(logical ? { logical } : {}),
      ...(unit ? { unit } : {}),
      nested: c.children.length > 0,
    };
  });
}

/** What a Parquet footer says about a file, for tests and diagnostics. */
export interface ParquetDescription {
  numRows: number;
  /** Rows in each row group. */
  rowGroups: number[];
  /** Compression codecs used by any column chunk, sorted. */
  codecs: string[];
  /** Leaf columns in schema order, with dotted paths (`add.partitionValues.key_value.key`). */
  columns: { path: string; type: string; repetition: string; convertedType?: string; logicalType?: string }[];
  createdBy?: string;
}

/** Reads only the footer of a Parquet file. */
export async function describeParquet(bytes: Uint8Array): Promise<ParquetDescription> {
  const hp = await import("hyparquet");
  const metadata = hp.parquetMetadata(toArrayBuffer(bytes), { parsers: RAW_TIMESTAMPS });
  const columns: ParquetDescription["columns"] = [];
  const walk = (node: ReturnType<typeof hp.parquetSchema>, path: string[]) => {
    for (const child of node.children) {
      const p = [...path, child.element.name];
      if (child.children.length) walk(child, p);
      else {
        const e = child.element;
        columns.push({
          path: p.join("."),
          type: e.type ?? "",
          repetition: e.repetition_type ?? "REQUIRED",
          ...(e.converted_type ? { convertedType: e.converted_type } : {}),
          ...(e.logical_type ? { logicalType: JSON.stringify(e.logical_type) } : {}),
        });
      }
    }
  };
  walk(hp.parquetSchema(metadata), []);
  const codecs = new Set<string>();
  for (const rg of metadata.row_groups) for (const c of rg.columns) if (c.meta_data) codecs.add(c.meta_data.codec);
  return {
    numRows: Number(metadata.num_rows),
    rowGroups: metadata.row_groups.map((rg) => Number(rg.num_rows)),
    codecs: [...codecs].sort(),
    columns,
    ...(metadata.created_by ? { createdBy: metadata.created_by } : {}),
  };
}

// ---------------------------------------------------------------------------
// OplogEntry files

/**
 * The OplogEntry columns as stored in a data file. `part_id` is not among them: it is
 * the Delta partition column, so its value lives in the log's `partitionValues` and
 * in the folder name, never in the file (as every Delta writer does).
 */
export const ENTRY_FIELDS: readonly ParquetField[] = [
  { name: "node_id", type: "string" },
  { name: "file_type", type: "string" },
  { name: "version", type: "int64" },
  { name: "timestamp", type: "timestamp_us" },
  { name: "content", type: "binary", optional: true },
  { name: "sha256", type: "string" },
  { name: "size", type: "int64" },
  { name: "min_event_time", type: "int64", optional: true },
  { name: "max_event_time", type: "int64", optional: true },
  { name: "attributes", type: "string" },
];

/**
 * Inline content is below 64 KiB a row, so 1024 rows bound a row group to 64 MiB
 * while keeping the common case (a few rows per transaction) in one group.
 */
export const ENTRY_ROW_GROUP_SIZE = 1024;

/**
 * Encodes OplogEntry rows as a Delta data file (without `part_id`, see ENTRY_FIELDS),
 * Snappy-compressed unless `codec` says ZSTD (see `writeEntryFile`).
 */
export function encodeEntries(rows: readonly OplogEntry[], codec: "SNAPPY" | "ZSTD" = "SNAPPY"): Uint8Array {
  return encodeObjects(ENTRY_FIELDS, rows as unknown as Record<string, unknown>[], {
    rowGroupSize: ENTRY_ROW_GROUP_SIZE,
    noStatistics: ["content"],
    codec,
    encodings: ENTRY_DELTA_ENCODED,
  });
}

/**
 * The entry columns that grow by small steps from row to row (a series' versions, their
 * commit and event times, payload sizes): DELTA_BINARY_PACKED, which every Parquet reader
 * reads. Measured on a compacted entry file of 100,008 collector versions (ZSTD): 51.9 → 44.0
 * bytes a row, and 3.5 → 2.0 s to encode.
 */
const ENTRY_DELTA_ENCODED: Record<string, "DELTA_BINARY_PACKED"> = {
  version: "DELTA_BINARY_PACKED",
  timestamp: "DELTA_BINARY_PACKED",
  size: "DELTA_BINARY_PACKED",
  min_event_time: "DELTA_BINARY_PACKED",
  max_event_time: "DELTA_BINARY_PACKED",
};

/** Decodes a data file written by encodeEntries; `partId` fills `part_id` (from the log). */
export async function decodeEntries(bytes: Uint8Array, partId: string): Promise<OplogEntry[]> {
  const raw = await readParquetObjects(bytes);
  return raw.map((r) => ({
    part_id: partId,
    node_id: r.node_id as string,
    file_type: r.file_type as string,
    version: Number(r.version),
    timestamp: r.timestamp as bigint,
    content: (r.content as Uint8Array | null | undefined) ?? null,
    sha256: r.sha256 as string,
    size: Number(r.size),
    min_event_time: (r.min_event_time as bigint | null | undefined) ?? null,
    max_event_time: (r.max_event_time as bigint | null | undefined) ?? null,
    attributes: r.attributes as string,
  }));
}

/**
 * The columns of an entry file that name payloads and directories (no attributes, no
 * times), one array a column: what reachability reads of every entry file. A merged entry
 * file holds a row per version of a series; its rows as objects with their attributes took
 * ~1 KB a version, these columns ~150 bytes.
 */
export interface EntryRefs {
  rows: number;
  nodeId: string[];
  fileType: string[];
  version: number[];
  /** Row time, µs. */
  timestamp: number[];
  /** Inline content (directory snapshots, small files); null when stored as a large file. */
  content: (Uint8Array | null)[];
  sha256: string[];
  size: number[];
}

/** Decodes the EntryRefs columns of a data file written by encodeEntries; UndecodableError when the bytes are not one. */
export async function decodeEntryRefs(bytes: Uint8Array): Promise<EntryRefs> {
  let raw: RawColumns;
  try {
    raw = await readParquetColumns(bytes, ["node_id", "file_type", "version", "timestamp", "content", "sha256", "size"]);
  } catch (e) {
    throw new UndecodableError("Parquet", (e as Error)?.message ?? String(e), e);
  }
  const col = (name: string): unknown[] => {
    const v = raw.values.get(name);
    if (!v) throw new UndecodableError("Parquet", `an entry file without the column ${name}`);
    return v;
  };
  return {
    rows: raw.rows,
    nodeId: col("node_id") as string[],
    fileType: col("file_type") as string[],
    version: col("version").map(Number),
    timestamp: col("timestamp").map(Number),
    content: raw.values.get("content") === undefined ? new Array<null>(raw.rows).fill(null) : (col("content") as (Uint8Array | null)[]),
    sha256: col("sha256") as string[],
    size: col("size").map(Number),
  };
}

// ---------------------------------------------------------------------------
// helpers

/** Timestamps stay bigint in their stored unit; the defaults make Dates and drop µs. */
const RAW_TIMESTAMPS: Partial<ParquetParsers> = {
  timestampFromMilliseconds: (v: bigint) => v,
  timestampFromMicroseconds: (v: bigint) => v,
  timestampFromNanoseconds: (v: bigint) => v,
};

/** RAW_TIMESTAMPS, and dates as days since the epoch. */
const RAW_VALUES: Partial<ParquetParsers> = { ...RAW_TIMESTAMPS, dateFromDays: (v: number) => v };

/**
 * Decompressors for the codecs other than Snappy (hyparquet's own) that a file uses.
 * Zstandard alone (what DuckDB writes for Pond) needs only Bun's own (native; fzstd,
 * in JS, was most of the time hyparquet took to read a day's DuckDB payload); the full
 * hyparquet-compressors costs ~19 ms to load (it instantiates a Snappy WebAssembly
 * module at import).
 */
async function compressorsFor(metadata: FileMetaData): Promise<Compressors | undefined> {
  const codecs = new Set<CompressionCodec>();
  for (const rg of metadata.row_groups) for (const c of rg.columns) if (c.meta_data) codecs.add(c.meta_data.codec);
  codecs.delete("SNAPPY");
  codecs.delete("UNCOMPRESSED");
  if (codecs.size === 0) return undefined;
  if (codecs.size === 1 && codecs.has("ZSTD")) return { ZSTD: (input: Uint8Array) => Bun.zstdDecompressSync(input) };
  return (await import("hyparquet-compressors")).compressors as Compressors;
}

let writerModule: typeof HyparquetWriter | undefined;
function writerLib(): typeof HyparquetWriter {
  // A synchronous lazy load keeps encodeEntries synchronous for its callers.
  writerModule ??= require("hyparquet-writer") as typeof HyparquetWriter;
  return writerModule;
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) return bytes.buffer;
  return bytes.slice().buffer as ArrayBuffer;
}

const UTF8 = { type: "BYTE_ARRAY", converted_type: "UTF8" } as const;

function pushSchema(f: ParquetField, out: SchemaElement[]): void {
  const repetition_type = f.optional ? "OPTIONAL" : "REQUIRED";
  if ("type" in f) {
    out.push({ name: f.name, repetition_type, ...leafType(f.type) });
  } else if ("struct" in f) {
    out.push({ name: f.name, repetition_type, num_children: f.struct.length });
    for (const c of f.struct) pushSchema(c, out);
  } else if ("map" in f) {
    out.push({ name: f.name, repetition_type, converted_type: "MAP", num_children: 1 });
    out.push({ name: "key_value", repetition_type: "REPEATED", num_children: 2 });
    out.push({ name: "key", repetition_type: "REQUIRED", ...UTF8 });
    out.push({ name: "value", repetition_type: "OPTIONAL", ...UTF8 });
  } else {
    out.push({ name: f.name, repetition_type, converted_type: "LIST", num_children: 1 });
    out.push({ name: "list", repetition_type: "REPEATED", num_children: 1 });
    out.push({ name: "element", repetition_type: "OPTIONAL", ...UTF8 });
  }
}

function leafType(t: Extract<ParquetField, { type: string }>["type"]): Omit<SchemaElement, "name"> {
  switch (t) {
    case "string":
      return UTF8;
    case "binary":
      return { type: "BYTE_ARRAY" };
    case "int32":
      return { type: "INT32" };
    case "int64":
      return { type: "INT64" };
    case "boolean":
      return { type: "BOOLEAN" };
    case "double":
      return { type: "DOUBLE" };
    case "timestamp_us":
      return {
        type: "INT64",
        converted_type: "TIMESTAMP_MICROS",
        logical_type: { type: "TIMESTAMP", isAdjustedToUTC: true, unit: "MICROS" },
      };
    case "timestamp_us_local":
      // A time without a zone (DuckDB's TIMESTAMP): no converted type, which would mean UTC-adjusted.
      return { type: "INT64", logical_type: { type: "TIMESTAMP", isAdjustedToUTC: false, unit: "MICROS" } };
  }
}

/** Converts one value to what hyparquet-writer expects for its field (int64 → bigint). */
function prepare(f: ParquetField, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if ("type" in f) {
    if (f.type === "int64" || f.type === "timestamp_us" || f.type === "timestamp_us_local") return typeof v === "bigint" ? v : BigInt(v as number);
    return v;
  }
  if ("struct" in f) {
    const o = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const c of f.struct) out[c.name] = prepare(c, o[c.name]);
    return out;
  }
  return v;
}
