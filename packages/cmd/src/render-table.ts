import Table from "cli-table3";
import type { IO } from "./io.ts";

export type Format = "text" | "json" | "csv";

/**
 * Renders rows as a boxed table on a terminal, aligned plain columns otherwise, JSON
 * (an array of objects) or CSV. Colours only on a terminal.
 */
export function renderRows(io: IO, rows: Record<string, unknown>[], columns: string[], format: Format | "table"): void {
  if (format === "json") {
    io.out.write(JSON.stringify(rows, jsonValue, 2) + "\n");
    return;
  }
  if (format === "csv") {
    io.out.write(columns.map(csvCell).join(",") + "\n");
    for (const r of rows) io.out.write(columns.map((c) => csvCell(r[c])).join(",") + "\n");
    return;
  }
  if (io.outIsTTY || format === "table") {
    const t = new Table({ head: columns, style: io.outIsTTY ? {} : { head: [], border: [] } });
    for (const r of rows) t.push(columns.map((c) => text(r[c])));
    io.out.write(t.toString() + "\n");
    return;
  }
  const cells = rows.map((r) => columns.map((c) => text(r[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (vals: string[]) => vals.map((v, i) => (i === vals.length - 1 ? v : v.padEnd(widths[i]!))).join("  ").trimEnd() + "\n";
  io.out.write(line(columns));
  for (const row of cells) io.out.write(line(row));
}

export function jsonValue(_k: string, v: unknown): unknown {
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString("base64");
  return v;
}

function text(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "object") return JSON.stringify(v, jsonValue);
  return String(v);
}

export function csvCell(v: unknown): string {
  const s = text(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
