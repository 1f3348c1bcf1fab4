import { PondError } from "@pond/diagnostics";

/**
 * DuckDB refused or failed a statement: the message is DuckDB's own. The DuckDB wrapper
 * raises it for every failure of the engine (and the read-only check for a statement it
 * refuses), so callers translate exactly this into what it means for them (a bad CSV, a
 * query's error) and let errors of Pond's own code through as bugs.
 */
export class SqlError extends PondError {
  constructor(message: string, cause?: unknown) {
    super("sql_failed", message, {
      kind: "user",
      data: {},
      hint: "DuckDB's message above says what failed; check the SQL or the file it reads.",
      cause,
    });
  }
}

/** DuckDB's native library cannot be extracted to a cache folder or loaded from it. */
export class DuckDBUnavailableError extends PondError {
  constructor(message: string, hint: string, cause?: unknown) {
    super("duckdb_unavailable", message, { kind: "user", data: {}, hint, cause });
  }
}

/** A query's failure: DuckDB's message, as a user error (exit 1). */
export class QueryError extends PondError {
  constructor(message: string, sql?: string) {
    super("query_error", message, { data: sql ? { sql } : {}, hint: "Check the SQL; `pond describe PATH` shows a table's columns." });
  }
}

/** A pond data table that is not in the shape tlogfs writes. */
export class PondFormatError extends PondError {
  constructor(what: string, detail: string) {
    super("pond_format", `${what}: ${detail}`, {
      kind: "integrity",
      data: { what },
      hint: "This folder may not be a pond, or was written by a newer version of pond.",
    });
  }
}

/** A CSV (or a profile's input) DuckDB's reader cannot read as asked. */
export class BadCsvError extends PondError {
  constructor(message: string, data: Record<string, unknown>, hint: string) {
    super("bad_csv", message, { data, hint });
  }
}

/** A file given as Parquet that lacks the PAR1 magic. */
export class NotParquetError extends PondError {
  constructor(raw: string, hint: string, data: Record<string, unknown> = {}) {
    super("not_parquet", `"${raw}" is not a Parquet file: it lacks the PAR1 magic`, { data, hint });
  }
}

/** A Parquet file DuckDB cannot read through (damaged, truncated). */
export class BadParquetError extends PondError {
  constructor(raw: string, path: string, detail: string) {
    super("bad_parquet", `Cannot read Parquet file "${raw}": ${detail}`, {
      data: { path },
      hint: "The file may be damaged or truncated; store it as raw bytes with host:/// if you only need the bytes.",
    });
  }
}

/** A `--sql` transform over an input that DuckDB refused or failed. */
export class BadSqlError extends PondError {
  constructor(raw: string, detail: string) {
    super("bad_sql", `--sql over "${raw}" failed: ${detail}`, {
      kind: "usage",
      hint: 'Write one SELECT over the table `source`, e.g. --sql "SELECT ts AS timestamp, temp_f - 32 AS temp FROM source".',
    });
  }
}

/** A series row without an event time. */
export class NullTimestampError extends PondError {
  constructor(raw: string, path: string, column: string, row: number, nulls: number, csv: boolean) {
    super(
      "null_timestamp",
      `"${raw}": data row ${row}${csv ? ` (line ${row + 1} of a file with one header line)` : ""} has no value in the timestamp column "${column}" (${nulls} row(s) in all)`,
      {
        data: { path, column, row, nulls },
        hint: "Every row of a series needs an event time: fix or drop those rows, or store the file as a table (host+csv: or host+table:).",
      },
    );
  }
}

/** A new version of a series whose event time is in another column than the series keeps it. */
export class SeriesTimestampMismatchError extends PondError {
  constructor(path: string, source: string, expected: string, found: string | undefined) {
    super("series_timestamp_mismatch", `${source} has its event time in column "${found}", but series "${path}" keeps it in "${expected}"`, {
      data: { path, expected, found: found ?? null },
      hint: `Rename the column to "${expected}" in the source (or store it as a new series).`,
    });
  }
}

/** A new version of a series with a column of a type the series stores differently. */
export class SeriesTypeMismatchError extends PondError {
  constructor(path: string, source: string, column: string, expected: string, found: string) {
    super("series_type_mismatch", `${source}: column "${column}" is ${found}, but series "${path}" stores it as ${expected}`, {
      data: { path, column, expected, found },
      hint: `Convert the column to ${expected} before appending (for a CSV: fix the values, or cast it with DuckDB), or store this data as a new series.`,
    });
  }
}

/** A time bound (--time-start, --time-end…) that is not a time. */
export class BadTimeError extends PondError {
  constructor(flag: string, value: string) {
    super("bad_time", `${flag} "${value}" is not a time`, {
      kind: "usage",
      data: { value },
      hint: "Give ISO 8601 (2026-03-01, 2026-03-01T12:00:00Z, 2026-03-01T12:00:00-06:00) or epoch seconds.",
    });
  }
}

/** No column to take as a series' event time (the one named is missing, or none looks like one). */
export class NoTimestampColumnError extends PondError {
  constructor(message: string, columns: string[], hint: string) {
    super("no_timestamp_column", message, { data: { columns }, hint });
  }
}

/** Several time columns, none with one of the usual names. */
export class AmbiguousTimestampColumnError extends PondError {
  constructor(what: string, timed: { name: string; type: string }[]) {
    super(
      "ambiguous_timestamp_column",
      `${what} has several time columns (${timed.map((c) => `"${c.name}" ${c.type}`).join(", ")}) and none of the usual names`,
      {
        data: { candidates: timed.map((c) => c.name) },
        hint: `Name the event-time column with --timestamp-column, e.g. --timestamp-column ${timed[0]!.name}.`,
      },
    );
  }
}

/** The event-time column named is not a DATE or TIMESTAMP. */
export class BadTimestampColumnError extends PondError {
  constructor(what: string, column: string, type: string) {
    super("bad_timestamp_column", `Column "${column}" of ${what} is ${type}, not a timestamp`, {
      data: { column, type },
      hint: "Convert it to a timestamp first, or use --timestamp-format so the CSV reader parses it.",
    });
  }
}

/** SQL over a pond path that is not a table or a series. */
export class NotQueryableError extends PondError {
  constructor(path: string, entryType: string) {
    super("not_queryable", `"${path}" is a ${entryType}; SQL reads tables and series`, {
      data: { path },
      hint: "Store data as a table with host+table: or host+csv:, or as a series with host+series:.",
    });
  }
}

/** A table or series version whose payload has no local file to scan (a pond on a remote store). */
export class NotLocalError extends PondError {
  constructor(path: string, version: number) {
    super("not_local", `"${path}" version ${version} has no payload file to scan`, {
      kind: "integrity",
      data: { path, version },
      hint: "Query a local copy of the pond (`pond restore` it into a folder).",
    });
  }
}
