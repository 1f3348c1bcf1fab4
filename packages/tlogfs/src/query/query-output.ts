/**
 * A locked session's query as bytes in a data format, chunk by chunk from DuckDB: what
 * `pond query --format csv|json|jsonl|parquet` writes to stdout and `POST /sql` streams
 * as its body (one implementation). Only one chunk is in memory at a time; Parquet, whose
 * footer comes last, is written to the session's temp folder first, read back in 1 MiB
 * pieces, and removed.
 */
import { createReadStream, rmSync } from "node:fs";
import type { DuckColumn } from "../sql/duckdb.ts";
import type { QuerySession } from "./query-session.ts";
import { statementText } from "./sql-sources.ts";

export type QueryOutputFormat = "csv" | "json" | "jsonl" | "parquet" | "arrow";

export interface QueryOutput {
  /** The result's columns (the query was bound: a query error is thrown before this exists). */
  readonly columns: DuckColumn[];
  /** The bytes, in order. An error while running surfaces from the iteration. */
  readonly chunks: AsyncIterable<string | Uint8Array>;
}

/**
 * Checks `text` is one read-only statement (QueryError, IntegrityError otherwise) and
 * returns its output in `format`. The SQL is taken as written (a trailing `;` or comment
 * is fine). Nothing is produced until the query has its first chunk (or finished empty):
 * a query that fails while running produces no CSV header, no lone `[`.
 */
export async function queryOutput(session: QuerySession, text: string, format: QueryOutputFormat): Promise<QueryOutput> {
  const sql = statementText(text);
  const columns = await session.prepare(sql);
  return { columns, chunks: chunksOf(session, sql, columns, format) };
}

async function* chunksOf(session: QuerySession, sql: string, columns: DuckColumn[], format: QueryOutputFormat): AsyncIterable<string | Uint8Array> {
  if (format === "parquet") {
    const path = await session.toParquet(sql);
    try {
      for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) yield chunk as Uint8Array;
    } finally {
      rmSync(path, { force: true }); // a kept session answers many queries: its temp folder must not fill
    }
    return;
  }
  if (format === "arrow") {
    yield* session.streamArrow(sql, columns);
    return;
  }
  if (format === "json" || format === "jsonl") {
    let first = true;
    for await (const rows of session.streamJson(sql, columns)) {
      if (rows.length === 0) continue;
      if (format === "jsonl") yield rows.join("\n") + "\n";
      else {
        yield (first ? "[\n" : ",\n") + rows.join(",\n");
        first = false;
      }
    }
    if (format === "json") yield first ? "[]\n" : "\n]\n";
    return;
  }
  yield* csvChunks(columns, session.streamText(sql, columns));
}

/** Rows already in DuckDB's text (null for NULL) as CSV: a header, then one line a row. */
export async function* csvChunks(
  columns: readonly { name: string }[],
  chunks: AsyncIterable<{ rows: unknown[][] }> | Iterable<{ rows: unknown[][] }>,
): AsyncIterable<string> {
  // The header waits for the first chunk: a query that fails while running prints nothing.
  let header = columns.map((c) => csvQuote(c.name)).join(",") + "\n";
  for await (const chunk of chunks) {
    let buf = header;
    header = "";
    for (const r of chunk.rows) buf += r.map((v) => (v === null ? "" : csvQuote(v as string))).join(",") + "\n";
    yield buf;
  }
  if (header) yield header;
}

/** A CSV field: quoted (quotes doubled) when it holds a comma, quote or line break. */
export function csvQuote(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
