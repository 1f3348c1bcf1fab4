import { closeSync, openSync, readSync, statSync } from "node:fs";
import { PondError } from "@pond/diagnostics";
import { openDuckDB, sqlIdent, sqlString, type Duck, type DuckColumn } from "../sql/duckdb.ts";
import { csvReader, type CsvOptions } from "./csv-reader.ts";
import { detectTimestampColumn } from "./time-bounds.ts";

/** A Parquet payload ready to store, with what was learned reading it. */
export interface PreparedParquet {
  /** Host path of the Parquet bytes to store (the source itself, or a converted temp file). */
  parquetPath: string;
  columns: DuckColumn[];
  rows: number;
  /** Series only. */
  timestampColumn?: string;
  minEventTime?: bigint | null;
  maxEventTime?: bigint | null;
}

/** True when the file starts and ends with the Parquet magic "PAR1". */
export function hasParquetMagic(path: string): boolean {
  const size = statSync(path).size;
  if (size < 12) return false;
  const fd = openSync(path, "r");
  try {
    const head = Buffer.alloc(4), tail = Buffer.alloc(4);
    readSync(fd, head, 0, 4, 0);
    readSync(fd, tail, 0, 4, size - 4);
    return head.toString("latin1") === "PAR1" && tail.toString("latin1") === "PAR1";
  } finally {
    closeSync(fd);
  }
}

let shared: Promise<Duck> | undefined;

/**
 * One DuckDB for every source of a command (opening one costs ~20–40 ms; a collector
 * copies hundreds of files at once), closed when the process exits.
 */
function ingestDuck(): Promise<Duck> {
  if (!shared) {
    shared = openDuckDB();
    shared.then((d) => process.once("exit", () => d.close()), () => {});
  }
  return shared;
}

function duckMessage(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).replace(/^[A-Za-z ]+Error: /, "");
}

/**
 * Checks a host Parquet file and learns its columns and row count (and, for a series,
 * its time column and event-time range). Refuses a file that is not Parquet.
 */
export async function prepareParquet(path: string, opts: { series?: boolean; timestampColumn?: string; raw: string }): Promise<PreparedParquet> {
  if (!hasParquetMagic(path)) {
    throw new PondError("not_parquet", `"${opts.raw}" is not a Parquet file: it lacks the PAR1 magic`, {
      data: { path },
      hint: `Store it as raw bytes with host://${path}, or convert a CSV with host+csv://${path}.`,
    });
  }
  return inspect(await ingestDuck(), path, `read_parquet(${sqlString(path)})`, opts);
}

async function inspect(duck: Duck, path: string, relation: string, opts: { series?: boolean; timestampColumn?: string; raw: string }): Promise<PreparedParquet> {
  let columns: DuckColumn[], rows: number;
  try {
    columns = await duck.columns(`SELECT * FROM ${relation}`);
    const r = await duck.all(`SELECT count(*)::BIGINT AS n FROM ${relation}`);
    rows = Number(r[0]!.n);
  } catch (e) {
    throw new PondError("bad_parquet", `Cannot read Parquet file "${opts.raw}": ${duckMessage(e)}`, {
      data: { path },
      hint: "The file may be damaged or truncated; store it as raw bytes with host:/// if you only need the bytes.",
    });
  }
  const prepared: PreparedParquet = { parquetPath: path, columns, rows };
  if (opts.series) {
    const col = detectTimestampColumn(columns, opts.timestampColumn, `"${opts.raw}"`);
    const asTs = col.type === "DATE" ? `CAST(${sqlIdent(col.name)} AS TIMESTAMP)` : sqlIdent(col.name);
    const r = await duck.all(`SELECT epoch_us(min(${asTs}))::BIGINT AS lo, epoch_us(max(${asTs}))::BIGINT AS hi FROM ${relation}`);
    Object.assign(prepared, {
      timestampColumn: col.name,
      minEventTime: (r[0]!.lo as bigint | null) ?? null,
      maxEventTime: (r[0]!.hi as bigint | null) ?? null,
    });
  }
  return prepared;
}

/**
 * Converts a CSV to Parquet with DuckDB's reader (sniffing delimiter, header, types and
 * dates unless told) into the file `out`, strictly: ragged rows, bad quoting or undecodable
 * bytes fail with DuckDB's line number and reason.
 */
export async function convertCsv(path: string, out: string, opts: CsvOptions & { series?: boolean; timestampColumn?: string; raw: string }): Promise<PreparedParquet> {
  const duck = await ingestDuck();
  let select = "*";
  try {
    const reader = await csvReader(duck, path, opts, opts.raw);
    if (opts.timezone !== undefined) {
      // Timestamps without an offset are wall-clock times in the given zone. Knowing the
      // columns costs another sniffing pass (~150 ms on 100 MB), so only when asked.
      const cols = await duck.columns(`SELECT * FROM ${reader}`);
      select = cols.map((c) => (c.type === "TIMESTAMP" ? `timezone(${sqlString(opts.timezone!)}, ${sqlIdent(c.name)}) AS ${sqlIdent(c.name)}` : sqlIdent(c.name))).join(", ");
    }
    await duck.run(`COPY (SELECT ${select} FROM ${reader}) TO ${sqlString(out)} (FORMAT parquet, COMPRESSION zstd)`);
  } catch (e) {
    if (e instanceof PondError) throw e;
    throw new PondError("bad_csv", `Cannot read CSV "${opts.raw}": ${duckMessage(e)}`, {
      data: { path },
      hint: "Fix the file, or tell the reader what sniffing got wrong: --delimiter, --header/--no-header, --skip N, --null-string, --timestamp-format, --timezone.",
    });
  }
  return { ...(await inspect(duck, out, `read_parquet(${sqlString(out)})`, opts)), parquetPath: out };
}
