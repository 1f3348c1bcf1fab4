/**
 * A request body (or a chunk of standard input) as records: JSON lines, a JSON array of
 * objects, or CSV with a header. Each record keeps where it came from (its line, or its
 * element number in an array) so an error can name it. Parsing is all-or-nothing: the
 * first bad record throws and nothing of the body is used.
 */
import { IngestBadInputError } from "./errors.ts";

export type BodyFormat = "jsonl" | "json" | "csv";

/** One record of a body: an object of column values (CSV: strings, or null for an empty field). */
export interface RawRecord {
  /** 1-based: the line of a JSON line or of a CSV row's start, or the element of a JSON array. */
  line: number;
  value: Record<string, unknown>;
}

export interface ParsedBody {
  records: RawRecord[];
  /** What `line` counts, for messages: "Line" or "Element". */
  unit: "Line" | "Element";
}

/**
 * The format a request's Content-Type names: text/csv is CSV; application/json whose body
 * starts with `[` is an array; anything else (application/x-ndjson, application/jsonl,
 * application/json with objects, none) is JSON lines.
 */
export function formatOf(contentType: string | null, text: string): BodyFormat {
  const ct = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  if (ct === "text/csv" || ct === "application/csv") return "csv";
  return text.trimStart().startsWith("[") ? "json" : "jsonl";
}

/** Parses `text` in `format` into records. */
export function parseBody(text: string, format: BodyFormat, firstLine = 1): ParsedBody {
  if (format === "csv") return { records: parseCsv(text, firstLine), unit: "Line" };
  if (format === "json") return { records: parseArray(text), unit: "Element" };
  return { records: parseJsonLines(text, firstLine), unit: "Line" };
}

function parseJsonLines(text: string, firstLine: number): RawRecord[] {
  const out: RawRecord[] = [];
  let start = 0;
  let line = firstLine;
  while (start < text.length) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    const s = text.slice(start, end).trim();
    if (s !== "") {
      let v: unknown;
      try {
        v = JSON.parse(s);
      } catch (e) {
        if (!(e instanceof SyntaxError)) throw e;
        throw new IngestBadInputError(line, `not valid JSON (${e.message})`);
      }
      out.push({ line, value: objectOf(v, line, "Line") });
    }
    start = end + 1;
    line++;
  }
  return out;
}

function parseArray(text: string): RawRecord[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    if (!(e instanceof SyntaxError)) throw e;
    throw new IngestBadInputError(undefined, `not a valid JSON array (${e.message})`);
  }
  if (!Array.isArray(v)) throw new IngestBadInputError(undefined, "a JSON body must be an array of objects, or JSON lines");
  return v.map((x, i) => ({ line: i + 1, value: objectOf(x, i + 1, "Element") }));
}

function objectOf(v: unknown, line: number, unit: string): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new IngestBadInputError(
      line,
      `must be a JSON object of column values, not ${Array.isArray(v) ? "an array" : v === null ? "null" : typeof v}`,
      undefined,
      undefined,
      unit,
    );
  }
  return v as Record<string, unknown>;
}

/**
 * CSV (RFC 4180): a header line of column names, then rows; fields separated by commas,
 * quoted with `"` (a quote doubled inside), quoted fields may span lines. An empty field
 * is null. A row with a different number of fields than the header is an error naming it.
 */
function parseCsv(text: string, firstLine: number): RawRecord[] {
  const rows: { line: number; fields: string[]; quoted: boolean[] }[] = [];
  let i = 0;
  let line = firstLine;
  const n = text.length;
  while (i < n) {
    const startLine = line;
    const fields: string[] = [];
    const quoted: boolean[] = [];
    for (;;) {
      let field = "";
      let q = false;
      if (text[i] === '"') {
        q = true;
        i++;
        for (;;) {
          if (i >= n) throw new IngestBadInputError(startLine, "a quoted field is not closed");
          const c = text[i]!;
          if (c === '"') {
            if (text[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (c === "\n") line++;
          field += c;
          i++;
        }
        if (i < n && text[i] !== "," && text[i] !== "\n" && text[i] !== "\r") throw new IngestBadInputError(startLine, "text after a closing quote");
      } else {
        while (i < n && text[i] !== "," && text[i] !== "\n") field += text[i++];
        if (field.endsWith("\r")) field = field.slice(0, -1);
      }
      fields.push(field);
      quoted.push(q);
      if (i < n && text[i] === "\r") i++;
      if (i >= n || text[i] === "\n") {
        i++;
        line++;
        break;
      }
      i++; // the comma
    }
    if (fields.length === 1 && fields[0] === "" && !quoted[0]) continue; // a blank line
    rows.push({ line: startLine, fields, quoted });
  }
  if (rows.length === 0) return [];
  const header = rows[0]!.fields;
  if (header.some((h) => h === "")) throw new IngestBadInputError(rows[0]!.line, "the CSV header has an empty column name");
  return rows.slice(1).map((r) => {
    if (r.fields.length !== header.length) {
      throw new IngestBadInputError(r.line, `has ${r.fields.length} fields, the header has ${header.length}`);
    }
    const value: Record<string, unknown> = {};
    header.forEach((h, k) => {
      value[h] = r.fields[k] === "" && !r.quoted[k] ? null : r.fields[k];
    });
    return { line: r.line, value };
  });
}
