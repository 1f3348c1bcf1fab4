import { closeSync, openSync, readSync, statSync } from "node:fs";
import { BadCsvError, SqlError } from "../errors.ts";
import { sqlString, type Duck } from "../sql/duckdb.ts";

/** What the user may tell the CSV reader when its sniffing is wrong. */
export interface CsvOptions {
  delimiter?: string;
  header?: boolean;
  skip?: number;
  nullString?: string;
  timestampFormat?: string;
  /** Time zone of timestamps that carry no offset (e.g. "America/Chicago"); ingest only. */
  timezone?: string;
  /**
   * Sniff types from every row, not a sample (ingest retries with it when a value past the
   * sample does not parse as its column's sniffed type, so that column is kept as text).
   */
  sniffAllRows?: boolean;
}

const SAMPLE_BYTES = 64 * 1024;
const DELIMITERS = [",", ";", "\t", "|"];

/**
 * The `read_csv(…)` expression that reads `path` exactly, or an error. DuckDB's sniffer,
 * when rows disagree (a ragged row, an unclosed quote), falls back to a dialect that
 * makes every line one text value: a delimiter or quote that never occurs. Here that
 * fallback is undone: the delimiter and quote that do occur are forced, in strict mode,
 * so DuckDB reports the offending line and reason instead of importing garbage.
 */
export async function csvReader(duck: Duck, path: string, opts: CsvOptions, raw: string): Promise<string> {
  if (statSync(path).size === 0) {
    throw new BadCsvError(`Cannot read CSV "${raw}": the file is empty (no header, no rows)`, { path }, "Check that the export finished writing.");
  }
  const args = readerArgs(path, opts);
  if (opts.delimiter !== undefined) return `read_csv(${args.join(", ")})`;
  const sniffed = (await duck.all(`SELECT Delimiter AS d, Quote AS q FROM sniff_csv(${args.join(", ")})`))[0] as { d: string; q: string };
  const sample = readSample(path, opts.skip ?? 0);
  const firstLine = firstLineOf(sample);
  const delimMissing = !firstLine.includes(sniffed.d);
  const quoteMissing = (sniffed.q === "(empty)" || sniffed.q === "") && sample.includes('"');
  if (!delimMissing && !quoteMissing) return `read_csv(${args.join(", ")})`;
  // The sniffer fell back: read with the dialect the file shows, strictly, as text, so
  // that DuckDB names the first line that breaks it.
  const delim = delimMissing ? (DELIMITERS.find((d) => firstLine.includes(d)) ?? sniffed.d) : sniffed.d;
  const header = opts.header ?? true;
  const names = firstLine.split(delim).map((n, i) => (header ? n.replace(/^"|"$/g, "") || `column${i}` : `column${i}`));
  const columns = `{${names.map((n, i) => `${sqlString(uniqueName(n, i, names))}: 'VARCHAR'`).join(", ")}}`;
  const dialect = [`delim=${sqlString(delim)}`, `quote='"'`, `escape='"'`];
  const strict = [
    sqlString(path),
    "auto_detect=false",
    ...dialect,
    `header=${header}`,
    `columns=${columns}`,
    "strict_mode=true",
    ...(opts.skip ? [`skip=${Math.trunc(opts.skip)}`] : []),
  ];
  try {
    await duck.all(`SELECT count(*) FROM read_csv(${strict.join(", ")})`);
  } catch (e) {
    if (!(e instanceof SqlError)) throw e;
    const msg = e.message
      .replace(/^Invalid Input Error: /, "")
      .split("\n")
      .filter((l) => l.trim())
      .slice(0, 3)
      .join("; ");
    throw new BadCsvError(
      `Cannot read CSV "${raw}" exactly: ${msg}`,
      { path },
      "Fix the file (every row needs the header's number of fields, and quotes must close), or give --delimiter if it is not one of , ; tab |.",
    );
  }
  return `read_csv(${[...args, ...dialect].join(", ")})`;
}

/**
 * The reader `csvReader` would return, chosen without its `sniff_csv` pass, when the file
 * shows that only one fallback of the sniffer is possible; undefined when it must sniff
 * first (use `csvReader`). DuckDB's own read still sniffs the same sample, so this saves
 * a second pass over it (~40 ms CPU on a 100 MB file). The two fallbacks `csvReader`
 * undoes: a quote the sniffer left out, which needs a '"' in the sample (here there is
 * none), and a delimiter missing from the first line, which makes that line one field, so
 * in strict mode every row one field: a result of one column. A result with any other
 * number of columns is exactly what `csvReader` would have read; one column is not known
 * to be (`exactWith(1)` is false: call `csvReader`, and compare its reader with this one).
 * The first line DuckDB reads must be the line the check looks at: so the first line of
 * the sample (after `skip`) must be whole, non-empty and not a `#` comment.
 */
export function unsniffedCsvReader(path: string, opts: CsvOptions): { reader: string; exactWith(columns: number): boolean } | undefined {
  if (opts.delimiter !== undefined || opts.sniffAllRows || statSync(path).size === 0) return undefined;
  const sample = readSample(path, opts.skip ?? 0);
  if (sample.includes('"')) return undefined;
  const lineEnd = sample.indexOf("\n");
  if (lineEnd < 0) return undefined;
  const line0 = sample.slice(0, lineEnd).replace(/\r$/, "");
  if (firstLineOf(sample) !== line0) return undefined;
  return { reader: `read_csv(${readerArgs(path, opts).join(", ")})`, exactWith: (columns) => columns !== 1 };
}

/** The arguments of the reader both `csvReader` and `unsniffedCsvReader` start from. */
function readerArgs(path: string, opts: CsvOptions): string[] {
  // A quoted empty field ("") is an empty string, not a missing value (RFC 4180).
  const args = [sqlString(path), "strict_mode=true", "allow_quoted_nulls=false"];
  if (opts.sniffAllRows) args.push("sample_size=-1");
  if (opts.header !== undefined) args.push(`header=${opts.header}`);
  // Never let the sniffer skip lines on its own: it drops a header it cannot place (and
  // any rows above the ones it likes) without a word. Comment lines are still skipped.
  args.push(`skip=${Math.trunc(opts.skip ?? 0)}`);
  if (opts.nullString !== undefined) args.push(`nullstr=${sqlString(opts.nullString)}`);
  if (opts.timestampFormat !== undefined) args.push(`timestampformat=${sqlString(opts.timestampFormat)}`);
  if (opts.delimiter !== undefined) args.push(`delim=${sqlString(opts.delimiter)}`);
  return args;
}

/** The line the fallback check looks at: the first that is neither empty nor a `#` comment (a BOM dropped). */
function firstLineOf(sample: string): string {
  return (
    sample
      .replace(/^\uFEFF/, "")
      .split(/\r?\n/)
      .find((l) => l.length > 0 && !l.startsWith("#")) ?? ""
  );
}

function uniqueName(n: string, i: number, all: string[]): string {
  return all.indexOf(n) === i ? n : `${n}_${i}`;
}

function readSample(path: string, skip: number): string {
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.alloc(SAMPLE_BYTES);
    const n = readSync(fd, buf, 0, SAMPLE_BYTES, 0);
    const text = buf.subarray(0, n).toString("utf8");
    return skip > 0 ? text.split("\n").slice(skip).join("\n") : text;
  } finally {
    closeSync(fd);
  }
}
