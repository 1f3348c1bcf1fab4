import { csvQuote } from "@pond/tlogfs";
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
    const right = columns.map(
      (c) => rows.length > 0 && rows.every((r) => r[c] === null || r[c] === undefined || typeof r[c] === "number" || typeof r[c] === "bigint"),
    );
    io.out.write(
      duckbox(
        columns.map((c) => [c]),
        rows.map((r) => columns.map((c) => text(r[c]))),
        right,
      ),
    );
    return;
  }
  const cells = rows.map((r) => columns.map((c) => text(r[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => (i === vals.length - 1 ? v : v.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd() + "\n";
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
  return csvQuote(text(v));
}

/**
 * DuckDB's "duckbox" table: a box, the header lines centred, one rule under the header and
 * none between rows, `right[i]` columns (numbers) right-aligned and the rest left-aligned.
 * Control characters in cells and headers are shown escaped (`\n`, `\x1b`), so a name
 * or value cannot move the cursor or break the layout.
 */
export function duckbox(head: string[][], rows: string[][], right: boolean[]): string {
  const h = head.map((lines) => lines.map(escapeControl));
  const body = rows.map((r) => r.map(escapeControl));
  const widths = h.map((lines, i) => Math.max(...lines.map(width), ...body.map((r) => width(r[i] ?? ""))));
  const rule = (l: string, m: string, r: string) => l + widths.map((w) => "─".repeat(w + 2)).join(m) + r + "\n";
  const pad = (s: string, w: number, how: "left" | "right" | "centre") => {
    const room = w - width(s);
    if (how === "right") return " ".repeat(room) + s;
    if (how === "left") return s + " ".repeat(room);
    const before = Math.floor(room / 2);
    return " ".repeat(before) + s + " ".repeat(room - before);
  };
  let out = rule("┌", "┬", "┐");
  const depth = Math.max(...h.map((lines) => lines.length));
  for (let line = 0; line < depth; line++) out += "│" + h.map((lines, i) => ` ${pad(lines[line] ?? "", widths[i]!, "centre")} `).join("│") + "│\n";
  out += rule("├", "┼", "┤");
  for (const r of body) out += "│" + r.map((v, i) => ` ${pad(v, widths[i]!, right[i] ? "right" : "left")} `).join("│") + "│\n";
  return out + rule("└", "┴", "┘");
}

/** Terminal columns a string takes (wide East Asian characters count two). */
function width(s: string): number {
  return Bun.stringWidth(s);
}

/**
 * Control characters (C0, DEL, C1) as visible escapes: `\n`, `\t`, `\r`, else `\xNN`.
 * A lone surrogate (a name that was not valid UTF-8) shows as `\u{d800}`-style too.
 */
export function escapeControl(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, (c) => {
    if (c === "\n") return "\\n";
    if (c === "\t") return "\\t";
    if (c === "\r") return "\\r";
    const code = c.charCodeAt(0);
    return code > 0xff ? `\\u{${code.toString(16)}}` : `\\x${code.toString(16).padStart(2, "0")}`;
  });
}
