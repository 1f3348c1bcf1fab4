import { closeSync, openSync, readSync, statSync } from "node:fs";
import { span, type PondError } from "@pond/diagnostics";
import { BadCsvError, BadParquetError, NotParquetError, NullTimestampError, SqlError } from "../errors.ts";
import { openDuckDB, sqlIdent, sqlString, type Duck, type DuckColumn } from "../sql/duckdb.ts";
import { csvReader, unsniffedCsvReader, type CsvOptions } from "./csv-reader.ts";
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
    const head = Buffer.alloc(4),
      tail = Buffer.alloc(4);
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
 * copies hundreds of files at once), closed when the process exits: in the `pond`
 * binary without tearing the database down (`last`), which the exit does anyway.
 */
function ingestDuck(): Promise<Duck> {
  if (!shared) {
    shared = openDuckDB();
    shared.then(
      (d) => process.once("exit", () => d.close({ last: true })),
      () => {},
    );
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
    throw new NotParquetError(opts.raw, `Store it as raw bytes with host://${path}, or convert a CSV with host+csv://${path}.`, { path });
  }
  return inspect(await ingestDuck(), path, `read_parquet(${sqlString(path)})`, { ...opts, readEveryValue: true });
}

/**
 * Learns a Parquet file's columns, rows and (series) event-time range. With
 * `readEveryValue`, every value of every column is decoded once (hashing each row), so a
 * file whose footer is fine but whose pages are damaged is refused here instead of
 * failing every later read: `count(*)` alone answers from the footer.
 */
async function inspect(
  duck: Duck,
  path: string,
  relation: string,
  opts: {
    series?: boolean;
    timestampColumn?: string;
    raw: string;
    readEveryValue?: boolean;
    csv?: boolean;
    /** What the writer of `path` already knows of it (DuckDB's COPY): not asked again. */
    known?: { columns: DuckColumn[]; rows: number } | undefined;
  },
): Promise<PreparedParquet> {
  let columns: DuckColumn[], rows: number;
  try {
    if (opts.known && !opts.readEveryValue) ({ columns, rows } = opts.known);
    else {
      columns = await duck.columns(`SELECT * FROM ${relation}`);
      const r = await duck.all(
        opts.readEveryValue ? `SELECT count(*)::BIGINT AS n, bit_xor(hash(t)) AS h FROM ${relation} t` : `SELECT count(*)::BIGINT AS n FROM ${relation}`,
      );
      rows = Number(r[0]!.n);
    }
  } catch (e) {
    if (!(e instanceof SqlError)) throw e;
    throw new BadParquetError(opts.raw, path, duckMessage(e));
  }
  const prepared: PreparedParquet = { parquetPath: path, columns, rows };
  if (opts.series) {
    const col = detectTimestampColumn(columns, opts.timestampColumn, `"${opts.raw}"`);
    const asTs = col.type === "DATE" ? `CAST(${sqlIdent(col.name)} AS TIMESTAMP)` : sqlIdent(col.name);
    const r = await duck.all(
      `SELECT epoch_us(min(${asTs}))::BIGINT AS lo, epoch_us(max(${asTs}))::BIGINT AS hi, count(*) FILTER (WHERE ${sqlIdent(col.name)} IS NULL)::BIGINT AS nulls FROM ${relation}`,
    );
    if (Number(r[0]!.nulls) > 0) {
      // A row with no event time cannot be placed in time: refuse the version, naming the first such row.
      const first = await duck.all(
        `SELECT rn FROM (SELECT row_number() OVER () AS rn, ${sqlIdent(col.name)} AS t FROM ${relation}) WHERE t IS NULL ORDER BY rn LIMIT 1`,
      );
      const row = Number(first[0]!.rn);
      throw new NullTimestampError(opts.raw, path, col.name, row, Number(r[0]!.nulls), opts.csv === true);
    }
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
export async function convertCsv(
  path: string,
  out: string,
  opts: CsvOptions & { series?: boolean; timestampColumn?: string; raw: string },
): Promise<PreparedParquet> {
  const starting = span("csv_duckdb_started");
  const duck = await ingestDuck();
  starting.end();
  const converting = span("csv_converted");
  let known: { columns: DuckColumn[]; rows: number } | undefined;
  try {
    known = await writeCheckedCsvParquet(duck, path, out, opts);
  } catch (e) {
    if (!(e instanceof SqlError)) throw e;
    if (!isConversionError(e)) throw csvError(e, opts.raw, path);
    // A value past the sniffer's sample does not parse as its column's type: sniff every
    // row instead, so that column is kept as text rather than the file refused (or, as
    // DuckDB would with ignore_errors, the value turned into NULL).
    try {
      await writeCsvParquet(duck, await csvReader(duck, path, { ...opts, sniffAllRows: true }, opts.raw), out, opts);
    } catch (e2) {
      if (!(e2 instanceof SqlError)) throw e2;
      throw csvError(e2, opts.raw, path);
    }
  }
  converting.end();
  const inspecting = span("csv_parquet_inspected");
  const prepared = await inspect(duck, out, `read_parquet(${sqlString(out)})`, { ...opts, csv: true, known });
  inspecting.end();
  return { ...prepared, parquetPath: out };
}

/**
 * Writes `out` from the reader `csvReader` chooses. When the file allows it
 * (`unsniffedCsvReader`), the conversion runs first and the check after, on the columns
 * it gave, so the common file is sniffed once (by the conversion) instead of twice; a
 * result the check cannot vouch for, or a failed conversion, is then judged as
 * `csvReader` judges it: the same reader keeps the result (or its error), another one
 * (a sniffer fallback undone) writes `out` again, or `csvReader` refuses the file.
 * Returns the columns and row count of `out` when it learned them.
 */
async function writeCheckedCsvParquet(
  duck: Duck,
  path: string,
  out: string,
  opts: CsvOptions & { raw: string },
): Promise<{ columns: DuckColumn[]; rows: number } | undefined> {
  const unsniffed = unsniffedCsvReader(path, opts);
  if (!unsniffed) {
    await writeCsvParquet(duck, await csvReader(duck, path, opts, opts.raw), out, opts);
    return undefined;
  }
  let failed: SqlError | undefined;
  try {
    const rows = await writeCsvParquet(duck, unsniffed.reader, out, opts);
    const columns = await duck.columns(`SELECT * FROM read_parquet(${sqlString(out)})`);
    if (unsniffed.exactWith(columns.length)) return { columns, rows };
  } catch (e) {
    if (!(e instanceof SqlError)) throw e;
    failed = e;
  }
  const reader = await csvReader(duck, path, opts, opts.raw);
  if (reader !== unsniffed.reader) await writeCsvParquet(duck, reader, out, opts);
  else if (failed) throw failed;
  return undefined;
}

/** Writes `out` from `reader`; returns the number of rows written (COPY's own count). */
async function writeCsvParquet(duck: Duck, reader: string, out: string, opts: CsvOptions): Promise<number> {
  let select = "*";
  if (opts.timezone !== undefined) {
    // Timestamps without an offset are wall-clock times in the given zone. Knowing the
    // columns costs another sniffing pass (~150 ms on 100 MB), so only when asked.
    const cols = await duck.columns(`SELECT * FROM ${reader}`);
    select = cols
      .map((c) => (c.type === "TIMESTAMP" ? `timezone(${sqlString(opts.timezone!)}, ${sqlIdent(c.name)}) AS ${sqlIdent(c.name)}` : sqlIdent(c.name)))
      .join(", ");
  }
  const r = await duck.all(`COPY (SELECT ${select} FROM ${reader}) TO ${sqlString(out)} (FORMAT parquet, COMPRESSION zstd)`);
  return Number(r[0]!.Count);
}

function isConversionError(e: unknown): boolean {
  return /Could not convert|Error when converting column/.test(e instanceof Error ? e.message : String(e));
}

/** DuckDB's CSV error as a user error: the line, column and value first when DuckDB names them. */
function csvError(e: SqlError, raw: string, path: string): PondError {
  const msg = e.message;
  const line = /CSV Error on Line: (\d+)/.exec(msg)?.[1];
  const conv = /Error when converting column "([^"]*)"\. Could not convert string "([^"]*)" to '([^']+)'/.exec(msg);
  const detail =
    conv && line
      ? `line ${line}, column "${conv[1]}": "${conv[2]}" is not a ${conv[3]}, the type of the column's other values`
      : duckMessage(e)
          .split("\n")
          .filter((l) => l.trim())
          .slice(0, 4)
          .join("; ");
  return new BadCsvError(
    `Cannot read CSV "${raw}": ${detail}`,
    { path, ...(line ? { line: Number(line) } : {}), ...(conv ? { column: conv[1], value: conv[2], type: conv[3] } : {}) },
    "Fix the file, or tell the reader what sniffing got wrong: --delimiter, --header/--no-header, --skip N, --null-string, --timestamp-format, --timezone.",
  );
}
