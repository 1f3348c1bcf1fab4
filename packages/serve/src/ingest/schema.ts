/**
 * Columns of a destination and the conversion of incoming values to them. A series that
 * exists keeps its columns' types (a value that does not fit is an error naming the line
 * and the column); a column the series does not have yet is added, with its type inferred
 * from the values (a series reads the union of its versions by name, so earlier versions
 * read it as null). A new series gets every type inferred. Values are held normalized:
 * times as integer µs since the epoch (UTC), numbers as numbers, strings, booleans, null.
 */
import type { ParquetField } from "@pond/oplog";
import { TIMESTAMP_CANDIDATES } from "@pond/tlogfs";
import { IngestBadInputError } from "./errors.ts";

/** The column types ingest writes, by the DuckDB type text ingest records in a version's attributes. */
export type IngestType = "TIMESTAMP WITH TIME ZONE" | "TIMESTAMP" | "DOUBLE" | "BIGINT" | "VARCHAR" | "BOOLEAN";

export interface IngestColumn {
  name: string;
  type: IngestType;
}

/** A normalized value: µs for times, number, string, boolean, or null. */
export type Value = number | string | boolean | null;

/**
 * The type ingest writes for a column a series already has as `duckType`, or undefined
 * when ingest cannot write it. Integers are written as BIGINT and floats as DOUBLE (the
 * same families: a query reads them as one type). A TIMESTAMP without a zone (what a CSV
 * series gets) stays one, holding the UTC wall time as pond reads such times everywhere.
 * DATE, DECIMAL, lists and structs are not written.
 */
export function ingestTypeOf(duckType: string): IngestType | undefined {
  switch (duckType) {
    case "TIMESTAMP WITH TIME ZONE":
    case "TIMESTAMPTZ":
      return "TIMESTAMP WITH TIME ZONE";
    case "TIMESTAMP":
      return "TIMESTAMP";
    case "DOUBLE":
    case "FLOAT":
      return "DOUBLE";
    case "TINYINT":
    case "SMALLINT":
    case "INTEGER":
    case "BIGINT":
      return "BIGINT";
    case "VARCHAR":
      return "VARCHAR";
    case "BOOLEAN":
      return "BOOLEAN";
    default:
      return undefined;
  }
}

/** The Parquet field for an ingest column (every column optional but the time column). */
export function parquetField(c: IngestColumn, required: boolean): ParquetField {
  return { name: c.name, type: PARQUET_TYPES[c.type], optional: !required };
}

const PARQUET_TYPES = {
  "TIMESTAMP WITH TIME ZONE": "timestamp_us",
  TIMESTAMP: "timestamp_us_local",
  DOUBLE: "double",
  BIGINT: "int64",
  BOOLEAN: "boolean",
  VARCHAR: "string",
} as const satisfies Record<IngestType, string>;

/** The time column of new rows: `explicit`, else the first of the usual names present. */
export function pickTimeColumn(names: Iterable<string>, explicit: string | undefined): string | undefined {
  if (explicit !== undefined) return explicit;
  const set = new Set(names);
  return TIMESTAMP_CANDIDATES.find((c) => set.has(c));
}

/** The type a new column gets from a value it holds (undefined for null: decided by a later value). */
export function inferType(v: unknown, isTime: boolean): IngestType | undefined {
  if (v === null || v === undefined) return undefined;
  if (isTime) return "TIMESTAMP WITH TIME ZONE";
  if (typeof v === "number") return "DOUBLE";
  if (typeof v === "boolean") return "BOOLEAN";
  if (typeof v === "string") return "VARCHAR";
  return "VARCHAR"; // objects and arrays are stored as their JSON text
}

/** The type a new column gets from a CSV field (all text): a number is DOUBLE, true/false BOOLEAN, else VARCHAR. */
export function inferCsvType(v: string | null, isTime: boolean): IngestType | undefined {
  if (v === null) return undefined;
  if (isTime) return "TIMESTAMP WITH TIME ZONE";
  if (NUMBER.test(v.trim())) return "DOUBLE";
  if (v === "true" || v === "false") return "BOOLEAN";
  return "VARCHAR";
}

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/**
 * Converts value `v` (from JSON, or CSV text when `fromText`) for a column of `type`;
 * throws IngestBadInputError naming `line` and `column` when it does not fit.
 * Times: an ISO 8601 text (without an offset it is UTC), or a number of seconds since the epoch.
 */
export function convert(v: unknown, type: IngestType, line: number, column: string, fromText: boolean, unit: string): Value {
  if (v === null || v === undefined) return null;
  const bad = (what: string): never => {
    throw new IngestBadInputError(line, `${JSON.stringify(v)} is not ${what}`, column, undefined, unit);
  };
  switch (type) {
    case "TIMESTAMP":
    case "TIMESTAMP WITH TIME ZONE": {
      if (typeof v === "number") return Number.isFinite(v) ? Math.round(v * 1e6) : bad("a time");
      if (typeof v !== "string") return bad("a time (ISO 8601 text or epoch seconds)");
      if (fromText && NUMBER.test(v.trim())) return Math.round(Number(v) * 1e6);
      const us = parseIsoMicros(v);
      return us ?? bad("a time (ISO 8601 text or epoch seconds)");
    }
    case "DOUBLE": {
      if (typeof v === "number") return v;
      if (fromText && typeof v === "string" && NUMBER.test(v.trim())) return Number(v);
      return bad("a number");
    }
    case "BIGINT": {
      const n = typeof v === "number" ? v : fromText && typeof v === "string" && NUMBER.test(v.trim()) ? Number(v) : Number.NaN;
      if (!Number.isSafeInteger(n)) return bad("an integer");
      return n;
    }
    case "BOOLEAN": {
      if (typeof v === "boolean") return v;
      if (fromText && (v === "true" || v === "false")) return v === "true";
      return bad("true or false");
    }
    case "VARCHAR":
      if (typeof v === "string") return v;
      if (fromText) return String(v);
      return typeof v === "object" ? JSON.stringify(v) : String(v);
  }
}

/** µs since the epoch of an ISO 8601 time (UTC when it has no offset), or undefined. */
export function parseIsoMicros(s: string): number | undefined {
  let iso = s.trim();
  if (!/^\d{4}-\d{2}-\d{2}/.test(iso)) return undefined;
  if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(iso)) iso = `${iso.replace(" ", "T")}Z`;
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return undefined;
  const frac = /T\d{2}:\d{2}:\d{2}\.(\d+)/.exec(iso)?.[1] ?? "";
  const extra = frac.length > 3 ? Number(frac.slice(3, 6).padEnd(3, "0")) : 0;
  return ms * 1000 + extra;
}
