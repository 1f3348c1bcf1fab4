/**
 * The SQL of a reduction, as text (no IO, so it is tested alone and the benchmark's raw
 * DuckDB baseline runs exactly the same query).
 *
 * Every aggregate is order-independent, so a bucket's row is the same bits whichever
 * threads read which rows in which order: that is what lets an incremental run (which
 * reads fewer files) match a full recompute row for row. DuckDB's own `sum`/`avg` of
 * DOUBLEs are not (a parallel hash aggregate adds partial sums in whatever order threads
 * finish: the same 7d GROUP BY over one file gave different last bits in 12 of 20 runs),
 * so floating-point sums add the bucket's values in sorted order
 * (`list_sum(list_sort(list(x)))`). Integer and DECIMAL sums are exact in DuckDB.
 * `first`/`last` are the value at the earliest/latest time, ties broken by the smaller/
 * larger value, NULLs skipped.
 */
import { sqlIdent } from "@pond/tlogfs/duckdb";
import type { Aggregation, Resolution } from "./reduce-config.ts";

/** A column of the input, as DuckDB types it. */
export interface InputColumn {
  name: string;
  type: string;
}

/** One output column: `<column>.<agg>`. */
export interface OutputAggregate {
  column: InputColumn;
  agg: Aggregation;
}

const INTEGER = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT)$/;
const FLOAT = /^(FLOAT|DOUBLE|REAL)$/;

export function isNumericType(type: string): boolean {
  return INTEGER.test(type) || FLOAT.test(type) || type.startsWith("DECIMAL");
}

/** The output column's name, e.g. `temp.avg`. */
export function outputName(a: OutputAggregate): string {
  return `${a.column.name}.${a.agg}`;
}

/** The aggregate expression for one output column over the rows of one bucket. */
export function aggregateSql(a: OutputAggregate): string {
  const c = sqlIdent(a.column.name);
  const float = FLOAT.test(a.column.type);
  switch (a.agg) {
    case "count":
      return `count(${c})`;
    case "min":
      return `min(${c})`;
    case "max":
      return `max(${c})`;
    case "sum":
      return float ? `list_sum(list_sort(list(${c}::DOUBLE)))` : `sum(${c})`;
    case "avg":
      return float ? `list_sum(list_sort(list(${c}::DOUBLE))) / nullif(count(${c}), 0)` : `avg(${c})`;
    case "first":
      return `(min({'t': __pond_t, 'v': ${c}}) FILTER (WHERE ${c} IS NOT NULL)).v`;
    case "last":
      return `(max({'t': __pond_t, 'v': ${c}}) FILTER (WHERE ${c} IS NOT NULL)).v`;
  }
}

/**
 * The GROUP BY of one resolution over `relation` (a view or `read_parquet(…)`), whose
 * time column is `tsColumn`. `where` keeps rows (on `__pond_t`, the time as a UTC
 * TIMESTAMP, and `__pond_bucket`, its bucket start). Rows come out ordered by time,
 * columns `timestamp` (TIMESTAMPTZ, the bucket's start) then each aggregate.
 */
export function reductionSql(relation: string, tsColumn: string, res: Resolution, aggs: OutputAggregate[], where?: string): string {
  const t = sqlIdent(tsColumn);
  const cols = aggs.map((a) => `${aggregateSql(a)} AS ${sqlIdent(outputName(a))}`);
  return (
    `SELECT __pond_bucket::TIMESTAMPTZ AS "timestamp", ${cols.join(", ")} ` +
    `FROM (SELECT *, ${t}::TIMESTAMP AS __pond_t, time_bucket(${res.interval}, ${t}::TIMESTAMP) AS __pond_bucket FROM ${relation}) ` +
    `${where ? `WHERE ${where} ` : ""}GROUP BY __pond_bucket ORDER BY __pond_bucket`
  );
}

/** The distinct bucket starts (µs) the rows of `relation` fall in, as one query. */
export function touchedBucketsSql(relation: string, tsColumn: string, res: Resolution): string {
  return `SELECT DISTINCT time_bucket(${res.interval}, ${sqlIdent(tsColumn)}::TIMESTAMP) AS b FROM ${relation}`;
}
