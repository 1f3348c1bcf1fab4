import { dirname } from "node:path";
import { BadCsvError, BadSqlError, SqlError } from "../errors.ts";
import { openDuckDB, readOnlyColumns, sandbox, sqlIdent, sqlString, type Duck } from "../sql/duckdb.ts";
import { csvReader, type CsvOptions } from "./csv-reader.ts";
import type { PreparedParquet } from "./ingest.ts";
import { detectTimestampColumn } from "./time-bounds.ts";

/** How to read the input before the query: a CSV (sniffed unless `columns` fixes it) or Parquet. */
export type SqlIngestInput = { format: "csv"; csv: CsvOptions & { columns?: [string, string][]; comment?: string } } | { format: "parquet" };

/**
 * Imports a host file through a user's (or a profile's) SELECT: the file as read is the
 * table `source`, and the query's result is written to the Parquet file `out`. The input
 * is loaded into the database first, then the database is sandboxed (it may write only
 * beside `out`) and the query checked to be one read-only statement, so `--sql` can
 * reshape the data but not read or write anything else on the host.
 */
export async function convertWithSql(
  path: string,
  out: string,
  input: SqlIngestInput,
  sql: string,
  opts: { series?: boolean; timestampColumn?: string; raw: string; firstZonedTimestamp?: boolean; builtIn?: boolean },
): Promise<PreparedParquet> {
  const duck = await openDuckDB({ threads: 2 });
  try {
    let reader: string;
    try {
      reader = input.format === "parquet" ? `read_parquet(${sqlString(path)})` : await readerFor(duck, path, input.csv, opts.raw);
      await duck.run(`CREATE TEMP TABLE source AS SELECT * FROM ${reader}`);
    } catch (e) {
      if (!(e instanceof SqlError)) throw e;
      throw new BadCsvError(`Cannot read "${opts.raw}": ${message(e)}`, { path }, "Check the file and the --profile or reader options.");
    }
    await sandbox(duck, [dirname(out)]);
    try {
      // A profile's own SQL is not checked: its PIVOT without IN (…) can be run but not prepared.
      if (!opts.builtIn) await readOnlyColumns(duck, sql);
      await duck.run(`COPY (${sql}) TO ${sqlString(out)} (FORMAT parquet, COMPRESSION zstd)`);
    } catch (e) {
      if (!(e instanceof SqlError)) throw e;
      throw new BadSqlError(opts.raw, message(e));
    }
    const rel = `read_parquet(${sqlString(out)})`;
    const columns = await duck.columns(`SELECT * FROM ${rel}`);
    const rows = Number((await duck.all(`SELECT count(*)::BIGINT AS n FROM ${rel}`))[0]!.n);
    const prepared: PreparedParquet = { parquetPath: out, columns, rows };
    if (opts.series) {
      // A profile may ask for the first TIMESTAMP WITH TIME ZONE column (exports whose time column has no fixed name).
      const zoned =
        opts.firstZonedTimestamp && opts.timestampColumn === undefined ? columns.find((c) => c.type === "TIMESTAMP WITH TIME ZONE")?.name : undefined;
      const col = detectTimestampColumn(columns, opts.timestampColumn ?? zoned, `the result of --sql over "${opts.raw}"`);
      const asTs = col.type === "DATE" ? `CAST(${sqlIdent(col.name)} AS TIMESTAMP)` : sqlIdent(col.name);
      const r = await duck.all(`SELECT epoch_us(min(${asTs}))::BIGINT AS lo, epoch_us(max(${asTs}))::BIGINT AS hi FROM ${rel}`);
      Object.assign(prepared, {
        timestampColumn: col.name,
        minEventTime: (r[0]!.lo as bigint | null) ?? null,
        maxEventTime: (r[0]!.hi as bigint | null) ?? null,
      });
    }
    return prepared;
  } finally {
    duck.close();
  }
}

async function readerFor(duck: Duck, path: string, csv: CsvOptions & { columns?: [string, string][]; comment?: string }, raw: string): Promise<string> {
  if (!csv.columns) return csvReader(duck, path, csv, raw);
  // The caller knows the layout (a profile): read exactly that, strictly, no sniffing.
  const args = [sqlString(path), "auto_detect=false", "strict_mode=true", `header=${csv.header ?? false}`];
  args.push(`delim=${sqlString(csv.delimiter ?? ",")}`, `quote='"'`, `escape='"'`);
  if (csv.skip) args.push(`skip=${Math.trunc(csv.skip)}`);
  if (csv.nullString !== undefined) args.push(`nullstr=${sqlString(csv.nullString)}`);
  if (csv.comment !== undefined) args.push(`comment=${sqlString(csv.comment)}`);
  args.push(`columns={${csv.columns.map(([n, t]) => `${sqlString(n)}: ${sqlString(t)}`).join(", ")}}`);
  return `read_csv(${args.join(", ")})`;
}

function message(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).replace(/^[A-Za-z ]+Error: /, "").split("\n")[0]!;
}
