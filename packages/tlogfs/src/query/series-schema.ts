import { SeriesTimestampMismatchError, SeriesTypeMismatchError } from "../errors.ts";

/** A column as ingest records it (DuckDB's type text). */
export interface SchemaColumn {
  name: string;
  type: string;
}

/** What a series already holds: every column any version has (first type seen), and its time column. */
export interface SeriesSchema {
  columns: SchemaColumn[];
  timestampColumn?: string;
}

/**
 * Types a column may move between across versions without losing a value: a query reads
 * the union by name, which widens to the larger type (as DuckLake allows integer and
 * float promotion, and nothing else).
 */
const WIDENING: readonly string[][] = [
  ["TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"],
  ["UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT"],
  ["FLOAT", "DOUBLE"],
];

/** True when values of types `a` and `b` fit one column without loss (the same, or one family). */
export function compatibleTypes(a: string, b: string): boolean {
  if (a === b) return true;
  return WIDENING.some((family) => family.includes(a) && family.includes(b));
}

/** The schema of a series from its versions' recorded attributes (columns, timestamp_column). */
export function seriesSchemaOf(versions: readonly { attributes: Record<string, unknown> }[]): SeriesSchema {
  const byName = new Map<string, SchemaColumn>();
  let timestampColumn: string | undefined;
  for (const v of versions) {
    const cols = v.attributes.columns;
    if (Array.isArray(cols)) {
      for (const c of cols as SchemaColumn[])
        if (typeof c?.name === "string" && !byName.has(c.name)) byName.set(c.name, { name: c.name, type: String(c.type) });
    }
    if (typeof v.attributes.timestamp_column === "string") timestampColumn = v.attributes.timestamp_column;
  }
  return { columns: [...byName.values()], timestampColumn };
}

/**
 * Refuses a new version that would make a series dishonest: a column whose type changed
 * (other than lossless widening), or a different time column. New columns are fine:
 * earlier versions read them as null.
 */
export function checkSeriesAppend(path: string, existing: SeriesSchema, incoming: { columns: SchemaColumn[]; timestampColumn?: string }, source: string): void {
  if (existing.timestampColumn !== undefined && incoming.timestampColumn !== existing.timestampColumn) {
    throw new SeriesTimestampMismatchError(path, source, existing.timestampColumn, incoming.timestampColumn);
  }
  for (const c of incoming.columns) {
    const old = existing.columns.find((e) => e.name === c.name);
    if (old && !compatibleTypes(old.type, c.type)) {
      throw new SeriesTypeMismatchError(path, source, c.name, old.type, c.type);
    }
  }
}
