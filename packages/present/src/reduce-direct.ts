/**
 * An incremental reduction without DuckDB, for the case a station's series is in after
 * a collector's run: a few small new versions, every aggregated column DOUBLE. Starting
 * DuckDB (loading the 70 MB library, an instance: ~47 ms) and one GROUP BY per resolution
 * (~17–27 ms each) took ~140 ms of the benchmark's incremental run of ~266 ms (medians of
 * 7, compiled binary, load ~5), to aggregate a day of rows. Here the few payloads are read with the Parquet codec and
 * each touched bucket is computed as the SQL of reduce-sql.ts computes it:
 *
 * - bucket: `time_bucket(width, t)`, i.e. t rounded down to a multiple of the width from
 *   DuckDB's origin 2000-01-03 00:00:00 (minutes, hours and days alike);
 * - count: the non-NULL values; min, max: of those;
 * - sum: the non-NULL values added one by one in ascending order, from 0
 *   (`list_sum(list_sort(list(x)))`); NULL when there are none; avg: sum / count;
 * - first, last: the value at the earliest (latest) time, ties to the smaller (larger)
 *   value, NULLs skipped (a minimum of `{t, v}` structs).
 *
 * Whatever is not known to come out bit for bit the same makes `reduceDirect` decline
 * (return null) before anything is written, and DuckDB computes the output: a merged
 * payload, a column that is not DOUBLE in a footer, a time that is not µs or is NULL,
 * values where the order of comparison or addition could show (NaN, ±Infinity, -0,
 * a sum that overflows), too many bytes. reduce.test.ts holds the two to the same rows
 * over random appends, and reduce-direct.test.ts on edge values.
 */
import { readFileSync } from "node:fs";
import { isSystemError, logger } from "@pond/diagnostics";
import { encodeSeriesParquet, readParquetColumns, type RawColumns } from "@pond/oplog";
import { IntegrityError, sha256Hex } from "@pond/tinyfs";
import type { PayloadFile } from "@pond/tlogfs";
import type { Resolution } from "./reduce-config.ts";
import { outputName, type InputColumn, type OutputAggregate } from "./reduce-sql.ts";

/** One input file's rows as the reduction needs them: times (µs) and the aggregated columns by name. */
export interface DirectFile {
  times: Float64Array;
  /** Values by column name (NaN: NULL); a column the file lacks is absent. */
  columns: Map<string, Float64Array>;
}

/** Files read once per series and run: each resolution reads some of the same files. */
export type DirectCache = Map<string, DirectFile | null>;

export interface DirectResult {
  /** The output file's bytes (Parquet, as DuckDB's COPY would hold the same rows). */
  bytes: Uint8Array;
  rows: number;
  /** The first and last bucket start (µs). */
  min: bigint | null;
  max: bigint | null;
  columns: InputColumn[];
}

/**
 * Total payload bytes read at most; beyond, DuckDB reads them. Decoding here cost ~2 ms a
 * day's 30 KB payload (CPU profiles of the benchmark's run), so around 2 MB it costs about
 * what DuckDB's start saves.
 */
export const DIRECT_MAX_BYTES = 2 << 20;

/** DuckDB's default origin of time_bucket: 2000-01-03 00:00:00 (a Monday), in µs. */
const ORIGIN_US = Date.UTC(2000, 0, 3) * 1000;
const TIME_TYPES = new Set(["TIMESTAMP WITH TIME ZONE", "TIMESTAMP"]);

/** Thrown inside this module when a value or file is not one this reducer handles exactly; ends in null. */
class Decline extends Error {}

/**
 * The buckets of `res` that the rows of `newFiles` fall in, recomputed from every row of
 * `read` (the new files and the older ones overlapping them), as one Parquet file; null
 * when it declines (see above), also when the new files hold no rows.
 */
export async function reduceDirect(
  read: PayloadFile[],
  newFiles: PayloadFile[],
  ts: string,
  res: Resolution,
  aggs: OutputAggregate[],
  recorded: InputColumn[],
  cache: DirectCache,
): Promise<DirectResult | null> {
  try {
    if (read.some((f) => f.merged)) return null;
    if (read.reduce((n, f) => n + f.size, 0) > DIRECT_MAX_BYTES) return null;
    if (!TIME_TYPES.has(recorded.find((c) => c.name === ts)?.type ?? "")) return null;
    if (aggs.some((a) => a.column.type !== "DOUBLE")) return null;
    const names = [...new Set(aggs.map((a) => a.column.name))];
    const files: DirectFile[] = [];
    for (const f of read) {
      const d = await readDirectFile(f, ts, names, cache);
      if (!d) return null;
      files.push(d);
    }
    const width = Number(res.micros);
    const origin = ORIGIN_US % width;
    const bucketOf = (t: number) => {
      const r = (t - origin) % width;
      return t - (r < 0 ? r + width : r);
    };
    // The buckets the new rows touch, then every row of every file in them.
    const touched = new Set<number>();
    for (const f of files.slice(read.length - newFiles.length)) for (const t of f.times) touched.add(bucketOf(t));
    if (touched.size === 0) return null;
    const starts = [...touched].sort((a, b) => a - b);
    const index = new Map(starts.map((b, i) => [b, i]));
    const n = starts.length;
    // Each touched bucket's rows (file, row), gathered once for every column.
    const inFile: number[][] = starts.map(() => []);
    const atRow: number[][] = starts.map(() => []);
    files.forEach((f, i) => {
      for (let r = 0; r < f.times.length; r++) {
        const b = index.get(bucketOf(f.times[r]!));
        if (b === undefined) continue;
        inFile[b]!.push(i);
        atRow[b]!.push(r);
      }
    });
    // Then each column folded bucket by bucket into the outputs that read it.
    const out = aggs.map(() => new Float64Array(n).fill(Number.NaN)); // NaN: NULL
    let scratch = new Float64Array(64);
    for (const name of names) {
      const targets = aggs.flatMap((a, k) => (a.column.name === name ? [{ agg: a.agg, values: out[k]! }] : []));
      const columns = files.map((f) => f.columns.get(name));
      for (let b = 0; b < n; b++) {
        const fs = inFile[b]!;
        const rs = atRow[b]!;
        if (scratch.length < fs.length) scratch = new Float64Array(fs.length * 2);
        let count = 0;
        let min = 0;
        let max = 0;
        let first = 0;
        let firstT = 0;
        let last = 0;
        let lastT = 0;
        for (let i = 0; i < fs.length; i++) {
          const v = columns[fs[i]!]?.[rs[i]!] ?? Number.NaN;
          if (Number.isNaN(v)) continue; // NULL
          const t = files[fs[i]!]!.times[rs[i]!]!;
          if (count === 0) {
            min = max = first = last = v;
            firstT = lastT = t;
          } else {
            if (v < min) min = v;
            if (v > max) max = v;
            // The earliest (latest) time, a tie to the smaller (larger) value: a minimum (maximum) of {t, v}.
            if (t < firstT || (t === firstT && v < first)) {
              first = v;
              firstT = t;
            }
            if (t > lastT || (t === lastT && v > last)) {
              last = v;
              lastT = t;
            }
          }
          scratch[count++] = v;
        }
        for (const o of targets) if (o.agg === "count") o.values[b] = count;
        if (count === 0) continue;
        // list_sum(list_sort(list(x))): added one by one in ascending order, from 0.
        const sorted = scratch.subarray(0, count).sort();
        let sum = 0;
        for (let i = 0; i < count; i++) sum += sorted[i]!;
        if (!Number.isFinite(sum)) throw new Decline(); // DuckDB's overflow is its own to report
        const folded = { min, max, sum, avg: sum / count, first, last };
        for (const o of targets) if (o.agg !== "count") o.values[b] = folded[o.agg];
      }
    }
    const bytes = await encodeSeriesParquet(
      {
        time: { name: "timestamp", values: Float64Array.from(starts) },
        doubles: aggs.map((a, k) => ({ name: outputName(a), values: out[k]!, int64: a.agg === "count" })),
      },
      { rowGroupSize: 122_880 },
    );
    return {
      bytes,
      rows: n,
      min: BigInt(starts[0]!),
      max: BigInt(starts[n - 1]!),
      columns: [
        { name: "timestamp", type: "TIMESTAMP WITH TIME ZONE" },
        ...aggs.map((a) => ({ name: outputName(a), type: a.agg === "count" ? "BIGINT" : "DOUBLE" })),
      ],
    };
  } catch (e) {
    if (e instanceof Decline) return null;
    throw e;
  }
}

/** A payload's times and DOUBLE columns, checked against the log; null to decline. */
async function readDirectFile(f: PayloadFile, ts: string, names: string[], cache: DirectCache): Promise<DirectFile | null> {
  const key = `${f.hostPath}\n${names.join("\n")}`;
  if (cache.has(key)) return cache.get(key)!;
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(f.hostPath);
  } catch (e) {
    if (!isSystemError(e, "ENOENT")) throw e;
    cache.set(key, null);
    return null; // a missing payload is DuckDB's to report, in its words
  }
  // Read whole anyway: check it against the log, as the direct row reader does.
  const sha256 = sha256Hex(bytes);
  if (bytes.length !== f.size || sha256 !== f.sha256)
    throw new IntegrityError(
      `version ${f.version}`,
      `its payload ${f.hostPath} has ${bytes.length} bytes with sha256 ${sha256}; the log says ${f.size} bytes with sha256 ${f.sha256}`,
      { path: f.hostPath },
    );
  const d = await decodeDirectFile(bytes, ts, names);
  cache.set(key, d);
  return d;
}

/** The times and wanted DOUBLE columns of a Parquet file; null to decline. */
async function decodeDirectFile(bytes: Uint8Array, ts: string, names: string[]): Promise<DirectFile | null> {
  let raw: RawColumns;
  try {
    raw = await readParquetColumns(bytes, [ts, ...names]);
  } catch (e) {
    // A payload whose hash the log vouches for but that hyparquet cannot read (an encoding it lacks): DuckDB's to read.
    logger.debug("reduce_direct_unreadable", { reason: e instanceof Error ? e.message : String(e) });
    return null;
  }
  const tc = raw.columns.find((c) => c.name === ts);
  if (tc?.physical !== "INT64" || tc.unit !== "MICROS") return null;
  // DuckDB's DOUBLE: a plain DOUBLE column (anything else is another type, or nested).
  for (const c of raw.columns)
    if (names.includes(c.name) && (c.nested || c.physical !== "DOUBLE" || c.logical !== undefined || c.converted !== undefined)) return null;
  const n = raw.rows;
  const times = new Float64Array(n);
  const tv = raw.values.get(ts)!;
  for (let r = 0; r < n; r++) {
    const t = tv[r];
    if (typeof t !== "bigint" || t > MAX_SAFE || t < -MAX_SAFE) return null;
    times[r] = Number(t);
  }
  const columns = new Map<string, Float64Array>();
  for (const name of names) {
    const vs = raw.values.get(name);
    if (!vs) continue;
    const out = new Float64Array(n);
    for (let r = 0; r < n; r++) {
      const v = vs[r];
      // NULL as NaN; a NaN, an infinity or a -0 in the data: DuckDB's order of comparing them is its own.
      if (v === null) out[r] = Number.NaN;
      else if (typeof v !== "number" || !Number.isFinite(v) || Object.is(v, -0)) return null;
      else out[r] = v;
    }
    columns.set(name, out);
  }
  return { times, columns };
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
