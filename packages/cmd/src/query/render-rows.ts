import { csvChunks, queryOutput, statementText, type QuerySession, type TextRows } from "@pond/tlogfs";
import type { IO } from "../io.ts";
import { duckbox } from "../render-table.ts";

export type RowFormat = "table" | "csv" | "json" | "jsonl" | "parquet";

/** Rows shown in a terminal table before the rest is cut with a note. */
const TABLE_ROWS = 40;

/** DuckDB types shown right-aligned in a table, as DuckDB's own CLI does. */
const NUMERIC = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL)/;

/**
 * Runs a user query in a locked session and writes its rows in `format`. The SQL is taken
 * as written (a trailing `;` or comment is fine). Nothing reaches stdout until the query
 * has produced its first chunk (or finished empty), so a query that fails leaves stdout
 * empty: no CSV header, no lone `[`.
 */
export async function renderQuery(session: QuerySession, text: string, format: RowFormat | undefined, io: IO): Promise<number> {
  const fmt = format ?? (io.outIsTTY ? "table" : "csv");
  if (fmt === "table") {
    const sql = statementText(text);
    const columns = await session.prepare(sql);
    return renderText(columns, session.streamText(sql, columns), fmt, io);
  }
  // The same bytes `POST /sql` sends (tlogfs query-output.ts).
  const out = await queryOutput(session, text, fmt);
  for await (const chunk of out.chunks) io.out.write(chunk);
  return 0;
}

/** Writes rows already in DuckDB's text as CSV or a duckbox table (see `renderQuery`). */
export async function renderText(
  columns: TextRows["columns"],
  chunks: AsyncIterable<{ rows: unknown[][] }> | Iterable<{ rows: unknown[][] }>,
  fmt: "csv" | "table",
  io: IO,
): Promise<number> {
  if (fmt === "csv") {
    for await (const text of csvChunks(columns, chunks)) io.out.write(text);
    return 0;
  }
  // A duckbox table with a typed header, the first rows, and a count.
  const shownRows: string[][] = [];
  let total = 0;
  for await (const chunk of chunks) {
    for (const r of chunk.rows) {
      if (total < TABLE_ROWS) shownRows.push(r.map((v) => (v === null ? "NULL" : String(v))));
      total++;
    }
  }
  const head = columns.map((c) => [c.name, c.type.toLowerCase()]);
  io.out.write(
    duckbox(
      head,
      shownRows,
      columns.map((c) => NUMERIC.test(c.type)),
    ),
  );
  const shown = Math.min(total, TABLE_ROWS);
  io.out.write(total > shown ? `${total} rows (${shown} shown; use --format csv for all)\n` : `${total} row${total === 1 ? "" : "s"}\n`);
  return 0;
}
