import { createReadStream } from "node:fs";
import Table from "cli-table3";
import type { QuerySession, TextRows } from "@pond/tlogfs";
import type { IO } from "../io.ts";
import { csvCell } from "../render-table.ts";

export type RowFormat = "table" | "csv" | "json" | "jsonl" | "parquet";

/** Rows shown in a terminal table before the rest is cut with a note. */
const TABLE_ROWS = 40;

/** Runs a user query in a locked session and writes its rows in `format`. */
export async function renderQuery(session: QuerySession, sql: string, format: RowFormat | undefined, io: IO): Promise<number> {
  const columns = await session.prepare(sql);
  const fmt = format ?? (io.outIsTTY ? "table" : "csv");
  if (fmt === "parquet") {
    const path = await session.toParquet(sql);
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) io.out.write(chunk as Uint8Array);
    return 0;
  }
  if (fmt === "json" || fmt === "jsonl") {
    let first = true;
    if (fmt === "json") io.out.write("[");
    for await (const rows of session.streamJson(sql)) {
      if (rows.length === 0) continue;
      if (fmt === "jsonl") io.out.write(rows.join("\n") + "\n");
      else {
        io.out.write((first ? "\n" : ",\n") + rows.join(",\n"));
        first = false;
      }
    }
    if (fmt === "json") io.out.write(first ? "]\n" : "\n]\n");
    return 0;
  }
  return renderText(columns, session.streamText(sql, columns), fmt, io);
}

/** Writes rows already in DuckDB's text as CSV or a boxed table (see `renderQuery`). */
export async function renderText(columns: TextRows["columns"], chunks: AsyncIterable<{ rows: unknown[][] }> | Iterable<{ rows: unknown[][] }>, fmt: "csv" | "table", io: IO): Promise<number> {
  if (fmt === "csv") {
    io.out.write(columns.map((c) => csvCell(c.name)).join(",") + "\n");
    for await (const chunk of chunks) {
      let buf = "";
      for (const r of chunk.rows) buf += r.map((v) => (v === null ? "" : csvCell(v as string))).join(",") + "\n";
      io.out.write(buf);
    }
    return 0;
  }
  // A boxed table with a typed header, the first rows, and a count.
  const table = new Table({ head: columns.map((c) => `${c.name}\n${c.type.toLowerCase()}`), style: io.outIsTTY ? {} : { head: [], border: [] } });
  let total = 0;
  for await (const chunk of chunks) {
    for (const r of chunk.rows) {
      if (total < TABLE_ROWS) table.push(r.map((v) => (v === null ? "NULL" : String(v))));
      total++;
    }
  }
  io.out.write(table.toString() + "\n");
  const shown = Math.min(total, TABLE_ROWS);
  io.out.write(total > shown ? `${total} rows (${shown} shown; use --format csv for all)\n` : `${total} row${total === 1 ? "" : "s"}\n`);
  return 0;
}
