/**
 * The data a series page draws, as small script files beside it.
 *
 * Why script files: a page opened from a file:// URL may not fetch() or XHR other local
 * files in Chromium (a file URL is an opaque origin; "URL scheme file is not supported"),
 * but it may load classic <script src> files from the same folder. So every chunk of data
 * is a `.js` file that calls `pondChunk(key, payload)`, loaded on demand by inserting a
 * script element; the same files work from any static web server.
 *
 * Levels: the raw rows, and each reduction series (`res=<dur>.series`). Every level is cut
 * into chunks of at most CHUNK_ROWS rows, so a view loads only the chunks it overlaps.
 * Payload: `{u, t, f}`: times as deltas in units of `u` ms (1000 when every time is a whole
 * second: a minutely series costs 3 bytes a timestamp), and one array per field, values to
 * 7 significant digits (a float32's precision: finer than any screen pixel; exact rows
 * are `pond cat`'s job), null for NULL and NaN.
 */
import type { QuerySession } from "@pond/tlogfs";
import { sqlIdent } from "@pond/tlogfs/duckdb";

/** Rows a chunk file holds at most (a view of ≤ 2,000 points overlaps 2–3 chunks). */
export const CHUNK_ROWS = 2000;

/** A view shows at most about this many points per chart (the page script's MAX_POINTS is the same). */
export const MAX_POINTS = 2000;

/** One field of a level's chunks: which column of which chart it is. */
export interface ChartFields {
  /** The chart's column (in the source series). */
  column: string;
  /** Index in the chunk's `f` of the line's values, and of the min/max band (reductions with min and max). */
  value: number;
  min?: number;
  max?: number;
}

export interface ChunkInfo {
  /** First and last time in the chunk, ms since the epoch. */
  t0: number;
  t1: number;
  rows: number;
  bytes: number;
}

/** One level of detail as the page's manifest describes it. */
export interface LevelManifest {
  /** "raw" or the reduction's duration ("1h"); also the chunk files' prefix. */
  id: string;
  /** Step between points, ms (raw: the median step of the rows). */
  resolutionMs: number;
  /** Pond path the level was read from. */
  source: string;
  charts: ChartFields[];
  chunks: ChunkInfo[];
}

/** A level's rows: times in ms and one array per field. */
export interface LevelRows {
  t: number[];
  fields: (number | null)[][];
}

/**
 * Reads a level's rows from the view `src` (already registered on the session): the time
 * column as ms since the epoch and `fields` (column names) as doubles, in time order.
 */
export async function readLevelRows(session: QuerySession, view: string, timeColumn: string, fields: string[]): Promise<LevelRows> {
  const ts = sqlIdent(timeColumn);
  const cols = fields.map((f, i) => `CAST(${sqlIdent(f)} AS DOUBLE) AS f${i}`);
  const rows = await session.all(
    `SELECT epoch_ms(CAST(${ts} AS TIMESTAMP))::DOUBLE AS t${cols.length ? ", " + cols.join(", ") : ""} FROM ${sqlIdent(view)} WHERE ${ts} IS NOT NULL ORDER BY ${ts}`,
  );
  const t = new Array<number>(rows.length);
  const out = fields.map(() => new Array<number | null>(rows.length));
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    t[r] = row.t as number;
    for (let i = 0; i < fields.length; i++) {
      const v = row[`f${i}`];
      out[i]![r] = typeof v === "number" && Number.isFinite(v) ? v : null;
    }
  }
  return { t, fields: out };
}

/** The median step between consecutive times (ms), 0 for fewer than two distinct times. */
export function medianStepMs(t: readonly number[]): number {
  if (t.length < 2) return 0;
  // A sample is enough to tell minutely from hourly; sorting 500,000 steps is not needed.
  const stride = Math.max(1, Math.floor((t.length - 1) / 4096));
  const steps: number[] = [];
  for (let i = 1; i < t.length; i += stride) steps.push(t[i]! - t[i - 1]!);
  steps.sort((a, b) => a - b);
  return steps[Math.floor(steps.length / 2)]!;
}

function compact(v: number | null): number | null {
  return v === null ? null : Number(v.toPrecision(7));
}

/** The JSON payload of rows [from, to) of a level (see the module comment). */
export function encodeChunk(rows: LevelRows, from: number, to: number): string {
  let unit = 1000;
  for (let i = from; i < to; i++) {
    if (rows.t[i]! % 1000 !== 0) {
      unit = 1;
      break;
    }
  }
  const t: number[] = [];
  let prev = 0;
  for (let i = from; i < to; i++) {
    const v = rows.t[i]! / unit;
    t.push(i === from ? v : v - prev);
    prev = v;
  }
  const f = rows.fields.map((col) => col.slice(from, to).map(compact));
  return JSON.stringify({ u: unit, t, f });
}

/** The inverse of encodeChunk, for tests: times in ms and the fields. */
export function decodeChunk(json: string): LevelRows {
  const p = JSON.parse(json) as { u: number; t: number[]; f: (number | null)[][] };
  const t: number[] = [];
  let acc = 0;
  p.t.forEach((d, i) => {
    acc = i === 0 ? d : acc + d;
    t.push(acc * p.u);
  });
  return { t, fields: p.f };
}

/** The script text of one chunk file: it hands the payload to the page. */
export function chunkScript(key: string, payload: string): string {
  return `pondChunk(${JSON.stringify(key)},${payload});\n`;
}

/** Cuts a level into chunk files; `write(index, text)` stores each. Returns the chunks' index. */
export function writeChunks(rows: LevelRows, keyPrefix: string, write: (index: number, text: string) => void): ChunkInfo[] {
  const chunks: ChunkInfo[] = [];
  for (let from = 0, i = 0; from < rows.t.length; from += CHUNK_ROWS, i++) {
    const to = Math.min(rows.t.length, from + CHUNK_ROWS);
    const text = chunkScript(`${keyPrefix}/${i}`, encodeChunk(rows, from, to));
    write(i, text);
    chunks.push({ t0: rows.t[from]!, t1: rows.t[to - 1]!, rows: to - from, bytes: Buffer.byteLength(text) });
  }
  return chunks;
}

/**
 * Per bucket of `ms` milliseconds: avg, min and max of each column (fields in that order,
 * per column), bucket start as the time. For series with no reductions, so their pages
 * still open with at most MAX_POINTS points.
 */
export async function readBucketRows(session: QuerySession, view: string, timeColumn: string, columns: string[], ms: number): Promise<LevelRows> {
  const ts = `CAST(${sqlIdent(timeColumn)} AS TIMESTAMP)`;
  const aggs = columns.flatMap((c) => ["avg", "min", "max"].map((a) => `${a}(CAST(${sqlIdent(c)} AS DOUBLE))`));
  const sub = `SELECT time_bucket(INTERVAL '${Math.round(ms)} milliseconds', ${ts}) AS b, ${aggs.map((a, i) => `${a} AS f${i}`).join(", ")} FROM ${sqlIdent(view)} WHERE ${sqlIdent(timeColumn)} IS NOT NULL GROUP BY b`;
  const rows = await session.all(`SELECT epoch_ms(b)::DOUBLE AS t, * EXCLUDE (b) FROM (${sub}) ORDER BY t`);
  const t = rows.map((r) => r.t as number);
  const fields = aggs.map((_, i) => rows.map((r) => (typeof r[`f${i}`] === "number" && Number.isFinite(r[`f${i}`]) ? (r[`f${i}`] as number) : null)));
  return { t, fields };
}

const STEPS: [string, number][] = [
  ["1m", 60_000],
  ["15m", 900_000],
  ["1h", 3_600_000],
  ["6h", 21_600_000],
  ["1d", 86_400_000],
  ["7d", 604_800_000],
  ["30d", 2_592_000_000],
  ["365d", 31_536_000_000],
];

/**
 * Bucket sizes for a series of `rows` rows over `spanMs` with median step `stepMs`: each at
 * least 8× the one before (from the raw step), until one gives at most MAX_POINTS buckets.
 */
export function autoResolutions(rows: number, spanMs: number, stepMs: number): [string, number][] {
  if (rows <= MAX_POINTS) return [];
  const out: [string, number][] = [];
  let prev = Math.max(stepMs, 1);
  for (const [label, ms] of STEPS) {
    if (ms < prev * 8) continue;
    out.push([label, ms]);
    prev = ms;
    if (spanMs / ms <= MAX_POINTS) break;
  }
  return out;
}
