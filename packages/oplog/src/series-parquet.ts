/**
 * A Parquet writer for the one shape collectors produce in bulk: a required time column
 * (INT64 TIMESTAMP, µs, adjusted to UTC, which DuckDB reads as TIMESTAMP WITH TIME ZONE)
 * and optional DOUBLE columns, held by column in typed arrays. It writes what the general
 * writer (`encodeColumns`, hyparquet-writer) wrote for the same columns, as far as a
 * reader can tell: row groups with min/max and null-count statistics on every column,
 * PLAIN doubles, RLE/bit-packed definition levels, one Zstandard-compressed data page
 * (v1) per column chunk, and column orders that make the statistics valid. Times are
 * DELTA_BINARY_PACKED (`delta-binary-packed.ts`; PLAIN when a delta is too large), which
 * every Parquet reader reads: a fixed step costs next to nothing to store or compress.
 *
 * Why a writer of its own: hyparquet-writer handles every Parquet type, so it looks at
 * each value several times (bigint conversion, range checks, a dictionary attempt,
 * statistics, page boundaries); on 10 devices × 40,000 rows that was most of a HydroVu
 * run's CPU (~30 ms a device once warm, 50–200 ms while the JIT warms up). Here the
 * values are copied as bytes and the compression runs on Bun's thread pool.
 */
import { encodeInt64Times } from "./delta-binary-packed.ts";
import { CompactWriter } from "./thrift-compact.ts";

/**
 * The columns of a series file: row i's time is `time.values[i] × time.unitMicros` µs
 * (unitMicros 1_000_000 for unix seconds; default 1), and a value column's `values[i]`
 * its value (NaN: none). A value column is DOUBLE, or with `int64` INT64 (DuckDB's
 * BIGINT; its values safe integers).
 */
export interface SeriesColumns {
  time: { name: string; values: Float64Array; unitMicros?: number };
  doubles: readonly { name: string; values: Float64Array; int64?: boolean }[];
}

export interface SeriesParquetOptions {
  /** Rows per row group (default 10,000). */
  rowGroupSize?: number;
  /** Zstandard level (default 3, as DuckDB writes). */
  zstdLevel?: number;
}

// parquet.thrift enum values.
const INT64 = 2;
const DOUBLE = 5;
const REQUIRED = 0;
const OPTIONAL = 1;
const TIMESTAMP_MICROS = 10;
const PLAIN = 0;
const RLE = 3;
const DELTA_BINARY_PACKED = 5;
const ZSTD = 6;
const DATA_PAGE = 0;

const MAGIC = new TextEncoder().encode("PAR1");
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Encodes `cols` as a Parquet file. Every time must be a safe integer number of µs and
 * every value array as long as the times; a value is NaN exactly where a row has none.
 */
export async function encodeSeriesParquet(cols: SeriesColumns, opts: SeriesParquetOptions = {}): Promise<Uint8Array> {
  const parts = await encodeSeriesParquetParts(cols, opts);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** `encodeSeriesParquet` as the file's consecutive parts, for a writer that writes them in order without joining them first. */
export async function encodeSeriesParquetParts(cols: SeriesColumns, opts: SeriesParquetOptions = {}): Promise<Uint8Array[]> {
  const n = cols.time.values.length;
  for (const d of cols.doubles) if (d.values.length !== n) throw new Error(`encodeSeriesParquet: column ${d.name} has ${d.values.length} values for ${n} rows`);
  const groupSize = opts.rowGroupSize ?? 10_000;
  const level = opts.zstdLevel ?? 3;
  // Every page body first, compressed in parallel on the thread pool.
  const chunks: Promise<ChunkBody>[] = [];
  for (let start = 0; start < n; start += groupSize) {
    const end = Math.min(n, start + groupSize);
    chunks.push(timeChunk(cols.time.values, cols.time.unitMicros ?? 1, start, end, level));
    for (const d of cols.doubles) chunks.push(doubleChunk(d.values, start, end, level, d.int64 === true));
  }
  const bodies = await Promise.all(chunks);
  // Then the file: magic, each chunk (page header + compressed page), footer.
  const parts: Uint8Array[] = [MAGIC];
  let offset = MAGIC.length;
  const groups: GroupMeta[] = [];
  const perGroup = 1 + cols.doubles.length;
  const paths = [cols.time.name, ...cols.doubles.map((d) => d.name)];
  for (let g = 0; g * perGroup < bodies.length; g++) {
    const columns: ChunkMeta[] = [];
    let uncompressed = 0;
    for (let c = 0; c < perGroup; c++) {
      const b = bodies[g * perGroup + c]!;
      const header = pageHeader(b);
      const meta: ChunkMeta = {
        ...b,
        path: paths[c]!,
        offset,
        uncompressedTotal: header.length + b.uncompressedSize,
        compressedTotal: header.length + b.page.length,
      };
      parts.push(header, b.page);
      offset += meta.compressedTotal;
      uncompressed += meta.uncompressedTotal;
      columns.push(meta);
    }
    groups.push({ columns, rows: Math.min(groupSize, n - g * groupSize), uncompressed });
  }
  const footer = fileMetaData(cols, n, groups);
  const tail = new Uint8Array(8);
  new DataView(tail.buffer).setUint32(0, footer.length, true);
  tail.set(MAGIC, 4);
  parts.push(footer, tail);
  return parts;
}

interface ChunkBody {
  type: number;
  optional: boolean;
  /** The values' encoding (PLAIN, or DELTA_BINARY_PACKED for times). */
  encoding: number;
  /** Rows in the chunk (its one page's num_values, nulls included). */
  values: number;
  nulls: number;
  /** PLAIN-encoded min and max, or undefined when every value is null. */
  min?: Uint8Array;
  max?: Uint8Array;
  uncompressedSize: number;
  page: Uint8Array;
}

interface ChunkMeta extends ChunkBody {
  path: string;
  offset: number;
  uncompressedTotal: number;
  compressedTotal: number;
}

interface GroupMeta {
  columns: ChunkMeta[];
  rows: number;
  uncompressed: number;
}

async function timeChunk(times: Float64Array, unitMicros: number, start: number, end: number, level: number): Promise<ChunkBody> {
  // Times are mostly a fixed step apart: as deltas they take a few bytes (PLAIN when one does not fit).
  const t = encodeInt64Times(times, start, end, unitMicros);
  return {
    type: INT64,
    optional: false,
    encoding: t.delta ? DELTA_BINARY_PACKED : PLAIN,
    values: end - start,
    nulls: 0,
    min: int64Bytes(t.min),
    max: int64Bytes(t.max),
    uncompressedSize: t.bytes.length,
    page: await Bun.zstdCompress(t.bytes, { level }),
  };
}

async function doubleChunk(values: Float64Array, start: number, end: number, level: number, int64: boolean): Promise<ChunkBody> {
  const rows = end - start;
  const scan = scanDoubles(values, start, end);
  const present = scan[0]!,
    min = scan[1]!,
    max = scan[2]!;
  const levels = definitionLevels(values, start, end, present);
  const body = new Uint8Array(4 + levels.length + present * 8);
  const view = new DataView(body.buffer);
  view.setUint32(0, levels.length, true);
  body.set(levels, 4);
  const at = 4 + levels.length;
  if (int64) packInt64(values, start, end, view, at);
  else if (present === rows && LITTLE_ENDIAN) body.set(new Uint8Array(values.buffer, values.byteOffset + start * 8, rows * 8), at);
  else packPresent(values, start, end, view, at);
  const stats = int64
    ? { min: int64Bytes(min), max: int64Bytes(max) }
    : // The spec's rule for zeros: a min of zero is written -0.0, a max of zero +0.0.
      { min: doubleBytes(min === 0 ? -0 : min), max: doubleBytes(max === 0 ? 0 : max) };
  return {
    type: int64 ? INT64 : DOUBLE,
    optional: true,
    encoding: PLAIN,
    values: rows,
    nulls: rows - present,
    ...(present > 0 ? stats : {}),
    uncompressedSize: body.length,
    page: await Bun.zstdCompress(body, { level }),
  };
}

// The loops over every value are leaf functions: the JIT compiles them small, instead of
// compiling the chunk functions around them (measured ~15-30 ms of JIT time a run for doubleChunk).

/** [values present, their min, their max] of values[start..end) (NaN: none). */
function scanDoubles(values: Float64Array, start: number, end: number): Float64Array {
  let present = 0,
    min = Infinity,
    max = -Infinity;
  for (let i = start; i < end; i++) {
    const v = values[i]!;
    if (!Number.isNaN(v)) {
      present++;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  return Float64Array.of(present, min, max);
}

/** The present values of values[start..end) as PLAIN doubles at `at`. */
function packPresent(values: Float64Array, start: number, end: number, view: DataView, at: number): void {
  let k = 0;
  for (let i = start; i < end; i++) {
    const v = values[i]!;
    if (!Number.isNaN(v)) view.setFloat64(at + 8 * k++, v, true);
  }
}

/** The present values of values[start..end) as PLAIN INT64 at `at` (each a safe integer). */
function packInt64(values: Float64Array, start: number, end: number, view: DataView, at: number): void {
  let k = 0;
  for (let i = start; i < end; i++) {
    const v = values[i]!;
    if (Number.isNaN(v)) continue;
    if (!Number.isSafeInteger(v)) throw new Error(`encodeSeriesParquet: ${v} is not a safe integer for an INT64 column`);
    putInt64(view, at + 8 * k++, v);
  }
}

/** Definition levels (1 present, 0 null) as the RLE/bit-packed hybrid of bit width 1: one run when all alike, else bit-packed. */
function definitionLevels(values: Float64Array, start: number, end: number, present: number): Uint8Array {
  const rows = end - start;
  if (present === rows || present === 0) {
    const out: number[] = [];
    varint(out, rows * 2); // an RLE run: count << 1
    out.push(present === 0 ? 0 : 1);
    return new Uint8Array(out);
  }
  const groups = Math.ceil(rows / 8);
  const head: number[] = [];
  varint(head, groups * 2 + 1); // a bit-packed run: groups of 8 values << 1 | 1
  const out = new Uint8Array(head.length + groups);
  out.set(head);
  for (let i = 0; i < rows; i++) {
    const v = values[start + i]!;
    if (!Number.isNaN(v)) out[head.length + (i >> 3)]! |= 1 << (i & 7);
  }
  return out;
}

function varint(out: number[], n: number): void {
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
}

/** A safe integer as little-endian two's-complement int64. */
function putInt64(view: DataView, at: number, v: number): void {
  const hi = Math.floor(v / 0x1_0000_0000);
  view.setUint32(at, v - hi * 0x1_0000_0000, true);
  view.setInt32(at + 4, hi, true);
}

function int64Bytes(v: number): Uint8Array {
  const b = new Uint8Array(8);
  putInt64(new DataView(b.buffer), 0, v);
  return b;
}

function doubleBytes(v: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, v, true);
  return b;
}

function pageHeader(b: ChunkBody): Uint8Array {
  const w = new CompactWriter();
  w.structBody((h) =>
    h
      .i32(1, DATA_PAGE)
      .i32(2, b.uncompressedSize)
      .i32(3, b.page.length)
      .struct(5, (d) => d.i32(1, b.values).i32(2, b.encoding).i32(3, RLE).i32(4, RLE)),
  );
  return w.bytes().slice();
}

type SchemaElement = { kind: "root" } | { kind: "time" | "double" | "int64"; name: string };

function schemaElements(cols: SeriesColumns): SchemaElement[] {
  return [
    { kind: "root" },
    { kind: "time", name: cols.time.name },
    ...cols.doubles.map((d) => ({ kind: d.int64 ? ("int64" as const) : ("double" as const), name: d.name })),
  ];
}

function fileMetaData(cols: SeriesColumns, rows: number, groups: GroupMeta[]): Uint8Array {
  const w = new CompactWriter();
  const leaves = 1 + cols.doubles.length;
  w.structBody((f) =>
    f
      .i32(1, 1)
      .structList(2, schemaElements(cols), (s, e) => {
        if (e.kind === "root") s.binary(4, "schema").i32(5, leaves);
        else if (e.kind === "time")
          s.i32(1, INT64)
            .i32(3, REQUIRED)
            .binary(4, e.name)
            .i32(6, TIMESTAMP_MICROS)
            // LogicalType TIMESTAMP (8): isAdjustedToUTC, unit MICROS (2).
            .struct(10, (l) => l.struct(8, (t) => t.bool(1, true).struct(2, (u) => u.struct(2, () => {}))));
        else
          s.i32(1, e.kind === "int64" ? INT64 : DOUBLE)
            .i32(3, OPTIONAL)
            .binary(4, e.name);
      })
      .i64(3, rows)
      .structList(4, groups, (g, group) =>
        g
          .structList(1, group.columns, (c, chunk) =>
            c.i64(2, chunk.offset).struct(3, (m) =>
              m
                .i32(1, chunk.type)
                .i32List(2, chunk.optional ? [chunk.encoding, RLE] : [chunk.encoding])
                .binaryList(3, [chunk.path])
                .i32(4, ZSTD)
                .i64(5, chunk.values)
                .i64(6, chunk.uncompressedTotal)
                .i64(7, chunk.compressedTotal)
                .i64(9, chunk.offset)
                .struct(12, (s) => {
                  s.i64(3, chunk.nulls);
                  if (chunk.max && chunk.min) s.binary(5, chunk.max).binary(6, chunk.min);
                }),
            ),
          )
          .i64(2, group.uncompressed)
          .i64(3, group.rows),
      )
      .binary(6, "pond")
      .structList(7, Array.from({ length: leaves }), (o) => o.struct(1, () => {})),
  );
  return w.bytes().slice();
}
