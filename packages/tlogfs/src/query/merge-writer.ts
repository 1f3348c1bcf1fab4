import { VERSION_COLUMN } from "../merged-payload.ts";
import { openDuckDB, sqlIdent, sqlString } from "../sql/duckdb.ts";

/** One file a merge reads: a version's own payload (the versions it is: two versions may share one), or an earlier merged file. */
export interface MergeInput {
  hostPath: string;
  /** The versions whose payload this is; empty for a merged file, whose rows carry their versions. */
  versions: number[];
}

export interface MergeWriteOptions {
  /** Every column of the inputs, in order of first appearance by version (the hidden one not included). */
  columns: string[];
  /** Rows are sorted by this column (then version, then position in their file); none: by version. */
  timestampColumn?: string;
  /** DuckDB's memory limit for the rewrite (it spills the sort to disk past it). */
  memoryLimit?: string;
  threads?: number;
  /** Rows per row group (default DuckDB's 122,880). */
  rowGroupSize?: number;
}

/** Memory DuckDB may use for a merge: the sort spills to disk past it, so a series of any size fits. */
export const MERGE_MEMORY_LIMIT = "192MB";

/**
 * Writes one merged file at `out`: the rows of every input, each marked with its version
 * in the hidden version column, sorted by the time column so that each row group covers
 * one stretch of time and its min/max statistics prune a time range. DuckDB streams the
 * inputs and sorts within its memory limit (spilling past it). Returns the rows written.
 */
export async function writeMergedFile(inputs: readonly MergeInput[], out: string, opts: MergeWriteOptions): Promise<number> {
  const duck = await openDuckDB({ threads: opts.threads ?? 2, memoryLimit: opts.memoryLimit ?? MERGE_MEMORY_LIMIT });
  try {
    const paths = [...new Set(inputs.map((i) => i.hostPath))];
    const pairs = inputs.flatMap((i) => i.versions.map((v) => `(${sqlString(i.hostPath)}, ${v})`));
    const anyMerged = inputs.some((i) => i.versions.length === 0);
    const scan = `read_parquet([${paths.map(sqlString).join(", ")}], union_by_name=true, hive_partitioning=false, filename='__pond_file')`;
    const version = pairs.length === 0 ? `p.${sqlIdent(VERSION_COLUMN)}` : anyMerged ? `coalesce(p.${sqlIdent(VERSION_COLUMN)}, m.v)` : "m.v";
    // A payload shared by two versions joins twice: each version gets its rows.
    const join = pairs.length === 0 ? "" : ` ${anyMerged ? "LEFT " : ""}JOIN (VALUES ${pairs.join(", ")}) AS m(f, v) ON p.__pond_file = m.f`;
    const cols = opts.columns.map((c) => `p.${sqlIdent(c)}`).join(", ");
    const order = [...(opts.timestampColumn ? [`${sqlIdent(opts.timestampColumn)} NULLS LAST`] : []), sqlIdent(VERSION_COLUMN), "__pond_row"].join(", ");
    const select = `SELECT ${cols}${cols ? ", " : ""}${version}::INTEGER AS ${sqlIdent(VERSION_COLUMN)}, p.file_row_number AS __pond_row FROM ${scan} AS p${join}`;
    const rowGroup = opts.rowGroupSize ? `, ROW_GROUP_SIZE ${opts.rowGroupSize}` : "";
    await duck.run(
      `COPY (SELECT * EXCLUDE (__pond_row) FROM (${select}) ORDER BY ${order}) TO ${sqlString(out)} (FORMAT parquet, COMPRESSION zstd, PARQUET_VERSION V2${rowGroup})`,
    );
    const n = await duck.all(`SELECT sum(num_rows)::BIGINT AS n FROM parquet_file_metadata(${sqlString(out)})`);
    return Number(n[0]?.n ?? 0);
  } finally {
    duck.close();
  }
}
