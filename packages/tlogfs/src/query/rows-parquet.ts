import { openDuckDB, sqlIdent, sqlString, type Duck } from "../sql/duckdb.ts";

/** A column of rows written by a program (a collector), not sniffed from a file. */
export interface RowColumn {
  name: string;
  /** `epoch_s`: whole seconds since the epoch, stored as TIMESTAMP WITH TIME ZONE (UTC). */
  type: "epoch_s" | "DOUBLE";
}

let shared: Promise<Duck> | undefined;

function rowsDuck(): Promise<Duck> {
  if (!shared) {
    shared = openDuckDB();
    shared.then(
      (d) => process.once("exit", () => d.close({ last: true })),
      () => {},
    );
  }
  return shared;
}

/**
 * Converts a newline-delimited JSON file of rows (one object per line, keys = column
 * names, absent keys = NULL) into a Parquet file `out`, with the given column types
 * exactly (no sniffing: a collector knows its types) and rows sorted by `sortBy`.
 * DuckDB stays behind this module; collectors never import it.
 */
export async function writeRowsParquet(jsonlPath: string, out: string, columns: RowColumn[], sortBy: string): Promise<void> {
  const duck = await rowsDuck();
  const decl = `{${columns.map((c) => `${sqlString(c.name)}: ${sqlString(c.type === "epoch_s" ? "BIGINT" : "DOUBLE")}`).join(", ")}}`;
  const select = columns.map((c) => (c.type === "epoch_s" ? `to_timestamp(${sqlIdent(c.name)}) AS ${sqlIdent(c.name)}` : sqlIdent(c.name))).join(", ");
  await duck.run(
    `COPY (SELECT ${select} FROM read_json(${sqlString(jsonlPath)}, format='newline_delimited', columns=${decl}) ORDER BY ${sqlIdent(sortBy)}) TO ${sqlString(out)} (FORMAT parquet, COMPRESSION zstd)`,
  );
}
