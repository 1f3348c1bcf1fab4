/**
 * The rows of a small table or series as DuckDB's own text, read without DuckDB.
 *
 * Opening DuckDB costs ~100 ms in the compiled binary (loading the 70 MB library and
 * starting an instance) before any row is read: most of what `pond cat` of a small
 * table took. A small payload is read here with the Parquet codec instead, and each
 * value is written exactly as `CAST(v AS VARCHAR)` prints it in a session whose
 * TimeZone is UTC. Anything not known to come out the same — a type outside the list
 * below, a value out of the range handled (a date before year 1, an infinite
 * timestamp), versions whose recorded columns differ, a file whose footer disagrees
 * with its recorded columns, too many bytes or rows — makes `readRowsDirect` decline
 * (return null) before anything is written, and the caller asks DuckDB.
 *
 * direct-rows.test.ts holds the two readers to the same output on every Parquet
 * fixture and on edge values of each type.
 */
import { readFileSync } from "node:fs";
import { readParquetRaw, type RawColumn } from "@pond/oplog";
import { logger } from "@pond/diagnostics";
import { IntegrityError, sha256Hex } from "@pond/tinyfs";
import type { DuckColumn } from "../sql/duckdb.ts";
import type { PayloadFile, ResolvedSource } from "./pond-sources.ts";
import type { TimeRange } from "./time-bounds.ts";

export interface TextRows {
  columns: DuckColumn[];
  /** Every value as DuckDB's text; null for NULL. */
  rows: (string | null)[][];
}

export interface DirectLimits {
  /** Total payload bytes read at most (default 4 MiB). */
  maxBytes: number;
  /** Total rows at most (default 200,000). */
  maxRows: number;
}

const DEFAULT_LIMITS: DirectLimits = { maxBytes: 4 * 1024 * 1024, maxRows: 200_000 };

/** Thrown inside this module when a value cannot be written exactly; ends in null. */
class Decline extends Error {}

type Format = (v: unknown, col: RawColumn) => string;

/** Whether a Parquet column can hold what DuckDB reports as `type`, with its formatter. */
interface TypeRule {
  accepts: (c: RawColumn) => boolean;
  format: Format;
}

const plainInt = (c: RawColumn) =>
  (c.physical === "INT32" || c.physical === "INT64") &&
  !c.unit &&
  c.converted !== "DECIMAL" &&
  c.converted !== "DATE" &&
  c.converted !== "TIME_MILLIS" &&
  c.converted !== "TIME_MICROS" &&
  (c.logical === undefined || c.logical === "INTEGER");
const formatInt: Format = (v) => {
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "number" && Number.isInteger(v)) return String(v);
  throw new Decline();
};
const timestampRule = (suffix: string, unit: "s" | "ms" | "us" | "ns"): TypeRule => ({
  accepts: (c) => c.unit !== undefined && (c.physical === "INT64" || c.physical === "INT96"),
  format: (v, c) => formatTimestamp(toUnit(v, c.unit!, unit), unit) + suffix,
});

const RULES: Record<string, TypeRule> = {
  BOOLEAN: {
    accepts: (c) => c.physical === "BOOLEAN",
    format: (v) => {
      if (typeof v !== "boolean") throw new Decline();
      return v ? "true" : "false";
    },
  },
  TINYINT: { accepts: plainInt, format: formatInt },
  SMALLINT: { accepts: plainInt, format: formatInt },
  INTEGER: { accepts: plainInt, format: formatInt },
  BIGINT: { accepts: plainInt, format: formatInt },
  UTINYINT: { accepts: plainInt, format: formatInt },
  USMALLINT: { accepts: plainInt, format: formatInt },
  UINTEGER: { accepts: plainInt, format: formatInt },
  UBIGINT: { accepts: plainInt, format: formatInt },
  DOUBLE: {
    accepts: (c) => c.physical === "DOUBLE",
    format: (v) => {
      if (typeof v !== "number") throw new Decline();
      return formatDouble(v);
    },
  },
  VARCHAR: {
    accepts: (c) => c.physical === "BYTE_ARRAY" && (c.converted === "UTF8" || c.logical === "STRING"),
    format: (v) => {
      if (typeof v !== "string") throw new Decline();
      return v;
    },
  },
  DATE: {
    accepts: (c) => c.physical === "INT32" && (c.converted === "DATE" || c.logical === "DATE"),
    format: (v) => {
      if (typeof v !== "number" || !Number.isInteger(v)) throw new Decline();
      return formatDate(v);
    },
  },
  TIMESTAMP: timestampRule("", "us"),
  "TIMESTAMP WITH TIME ZONE": timestampRule("+00", "us"),
  TIMESTAMP_NS: timestampRule("", "ns"),
  TIMESTAMP_MS: timestampRule("", "ms"),
  TIMESTAMP_S: timestampRule("", "s"),
};

/**
 * The rows of `sources` (in version order) kept to `range` on the time column, as
 * text, or null when this reader cannot give exactly what DuckDB would (see above).
 */
export async function readRowsDirect(sources: ResolvedSource[], range?: TimeRange, limits: DirectLimits = DEFAULT_LIMITS): Promise<TextRows | null> {
  const files: PayloadFile[] = sources.flatMap((s) => s.files);
  if (files.length === 0) return null;
  // A merged file holds other versions' rows and a hidden column: DuckDB reads it.
  if (files.some((f) => f.merged)) return null;
  const recorded = JSON.stringify(files[0]!.columns ?? null);
  if (!files.every((f) => JSON.stringify(f.columns ?? null) === recorded)) return null;
  const columns = files[0]!.columns as DuckColumn[] | undefined;
  if (!Array.isArray(columns) || columns.length === 0) return null;
  const rules: TypeRule[] = [];
  for (const c of columns) {
    const rule = typeof c?.name === "string" ? RULES[c.type] : undefined;
    if (!rule) return null;
    rules.push(rule);
  }
  if (files.reduce((n, f) => n + f.size, 0) > limits.maxBytes) return null;

  // A time range keeps [start, end) on the time column, compared in µs.
  let tsIndex = -1;
  const ranged = range !== undefined && (range.start !== undefined || range.end !== undefined);
  if (ranged) {
    const tsCol = sources.find((s) => s.timestampColumn)?.timestampColumn;
    tsIndex = columns.findIndex((c) => c.name === tsCol);
    const t = columns[tsIndex]?.type;
    if (t !== "TIMESTAMP" && t !== "TIMESTAMP WITH TIME ZONE") return null;
  }

  const rows: (string | null)[][] = [];
  for (const f of files) {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(f.hostPath);
    } catch (e) {
      return declined(e); // a missing payload is DuckDB's to report, in its words
    }
    // The payload is read whole anyway: check it against the log (DuckDB checks nothing).
    const sha256 = sha256Hex(bytes);
    if (bytes.length !== f.size || sha256 !== f.sha256) {
      const where = `${sources.find((s) => s.files.includes(f))?.path ?? "a table"} version ${f.version}`;
      throw new IntegrityError(
        where,
        `its payload ${f.hostPath} has ${bytes.length} bytes with sha256 ${sha256}; the log says ${f.size} bytes with sha256 ${f.sha256}`,
        { path: f.hostPath },
      );
    }
    try {
      const raw = await readParquetRaw(bytes, { maxRows: limits.maxRows - rows.length });
      if (!raw || raw.columns.length !== columns.length) return null;
      for (let i = 0; i < columns.length; i++) {
        const rc = raw.columns[i]!;
        if (rc.name !== columns[i]!.name || rc.nested || !rules[i]!.accepts(rc)) return null;
      }
      for (const r of raw.rows) {
        if (ranged) {
          const v = r[tsIndex];
          if (v === null) continue;
          const us = toUnit(v, raw.columns[tsIndex]!.unit!, "us");
          if ((range!.start !== undefined && us < range!.start) || (range!.end !== undefined && us >= range!.end)) continue;
        }
        const out: (string | null)[] = new Array(r.length);
        for (let i = 0; i < r.length; i++) {
          const v = r[i];
          out[i] = v === null ? null : rules[i]!.format(v, raw.columns[i]!);
        }
        rows.push(out);
      }
    } catch (e) {
      return declined(e); // a value it cannot write, or a file hyparquet cannot read: DuckDB reports it in its words
    }
  }
  return { columns: columns.map((c) => ({ name: c.name, type: c.type })), rows };
}

/** null, saying why at debug level when it is an error rather than a value it declines. */
function declined(e: unknown): null {
  if (!(e instanceof Decline)) logger.debug("direct_read_failed", { reason: e instanceof Error ? e.message : String(e) });
  return null;
}

const PER: Record<"s" | "ms" | "us" | "ns", bigint> = { s: 1n, ms: 1000n, us: 1_000_000n, ns: 1_000_000_000n };
const UNIT_OF: Record<"MILLIS" | "MICROS" | "NANOS", "ms" | "us" | "ns"> = { MILLIS: "ms", MICROS: "us", NANOS: "ns" };

/** A raw timestamp in the Parquet unit, converted exactly to `to` (else Decline). */
function toUnit(v: unknown, unit: "MILLIS" | "MICROS" | "NANOS", to: "s" | "ms" | "us" | "ns"): bigint {
  if (typeof v !== "bigint") throw new Decline();
  const from = PER[UNIT_OF[unit]],
    target = PER[to];
  if (from === target) return v;
  if (from < target) return v * (target / from);
  const d = from / target;
  if (v % d !== 0n) throw new Decline(); // DuckDB would round or truncate; leave that to it
  return v / d;
}

const pad2 = (n: number) => (n < 10 ? "0" : "") + n;

/** Days since 1970-01-01 as YYYY-MM-DD, proleptic Gregorian (years 1–9999 only). */
export function formatDate(days: number): string {
  // Civil date from a day count (H. Hinnant's algorithm), in integers: no Date object.
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  if (!(y >= 1 && y <= 9999)) throw new Decline();
  return `${y < 1000 ? String(y).padStart(4, "0") : y}-${pad2(m)}-${pad2(d)}`;
}

/** A count of `unit` since the epoch as DuckDB prints a timestamp: fraction without trailing zeros. */
export function formatTimestamp(t: bigint, unit: "s" | "ms" | "us" | "ns"): string {
  const perDay = 86_400n * PER[unit];
  let days = t / perDay;
  let rem = t % perDay;
  if (rem < 0n) {
    rem += perDay;
    days -= 1n;
  }
  if (days < -800_000n || days > 3_000_000n) throw new Decline();
  const secs = Number(rem / PER[unit]);
  const frac = rem % PER[unit];
  const digits = { s: 0, ms: 3, us: 6, ns: 9 }[unit];
  let fracText = "";
  if (frac !== 0n) fracText = "." + frac.toString().padStart(digits, "0").replace(/0+$/, "");
  const hh = Math.floor(secs / 3600),
    mm = Math.floor((secs % 3600) / 60),
    ss = secs % 60;
  return `${formatDate(Number(days))} ${pad2(hh)}:${pad2(mm)}:${pad2(ss)}${fracText}`;
}

/**
 * A double as DuckDB prints it: the shortest digits that read back to the same value,
 * in positional notation when the decimal exponent is in [-4, 15] (with ".0" on whole
 * numbers), otherwise d.ddde±XX; nan, inf, -inf.
 */
export function formatDouble(v: number): string {
  if (Number.isNaN(v)) return "nan";
  if (v === Infinity) return "inf";
  if (v === -Infinity) return "-inf";
  if (v === 0) return Object.is(v, -0) ? "-0.0" : "0.0";
  const abs = Math.abs(v);
  if (abs >= 1e-4 && abs < 1e16) {
    // JavaScript prints this range positionally too, with the same shortest digits.
    const s = String(v);
    return s.includes(".") ? s : s + ".0";
  }
  // toExponential() with no argument gives the shortest round-trip digits.
  const [mant, expText] = v.toExponential().split("e") as [string, string];
  const exp = Number(expText);
  const neg = mant.startsWith("-");
  const digits = mant.replace("-", "").replace(".", "");
  const sign = neg ? "-" : "";
  if (exp < -4 || exp > 15) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(exp);
    return `${sign}${m}e${exp < 0 ? "-" : "+"}${e < 10 ? "0" : ""}${e}`;
  }
  if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
  const int = digits.length > exp + 1 ? digits.slice(0, exp + 1) : digits.padEnd(exp + 1, "0");
  const frac = digits.length > exp + 1 ? digits.slice(exp + 1) : "0";
  return `${sign}${int}.${frac}`;
}
