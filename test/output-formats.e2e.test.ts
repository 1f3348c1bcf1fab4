import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { newPond, pond, pondOk } from "./support/pond-cli.ts";
import { seededRandom } from "./support/kit.ts";

/**
 * Every output format of `pond query`, fed random column names and values through the real
 * binary, and parsed back: JSON.parse for json/jsonl, an RFC 4180 parser for csv, DuckDB
 * for parquet, the box layout for table. The seed is printed; POND_SEED=N replays it.
 */
const rand = seededRandom("output-formats");
const pick = <T>(xs: readonly T[]): T => rand.pick(xs);

const NAMES = [
  "q",
  "j",
  "a",
  "x",
  "c0",
  "c1",
  "__pond_rows",
  "select",
  "from",
  "order",
  "group",
  "table",
  "json",
  "a b",
  'say "hi"',
  "it's",
  "température",
  "日本語",
  "🌊",
  "a,b",
  "line\nbreak",
] as const;
type Kind = "double" | "bigint" | "hugeint" | "text" | "bool";
const KINDS: Kind[] = ["double", "bigint", "hugeint", "text", "bool"];
const TEXTS = [
  "",
  "plain",
  "comma, here",
  'quote " here',
  "it's",
  "new\nline",
  "crlf\r\nend",
  "tab\there",
  "ünïcödé",
  "日本",
  "🌊🐟",
  "NaN",
  "Infinity",
  "[1,2]",
  "null",
];
type Value = { sql: string; kind: Kind; js: number | bigint | string | boolean | null; text: string | null };

function value(kind: Kind): Value {
  if (rand.next() < 0.15) return { sql: "NULL", kind, js: null, text: null };
  switch (kind) {
    case "double": {
      const v = pick([Number.NaN, Infinity, -Infinity, 0, 1.5, -2.25, 1e300, 123456.789]);
      const sql = Number.isNaN(v) ? "'nan'::DOUBLE" : v === Infinity ? "'inf'::DOUBLE" : v === -Infinity ? "'-inf'::DOUBLE" : `(${v})::DOUBLE`;
      return { sql, kind, js: v, text: null };
    }
    case "bigint": {
      const v = pick([0n, -1n, 9007199254740993n, -9223372036854775808n, 9223372036854775807n]);
      return { sql: `(${v})::BIGINT`, kind, js: v, text: String(v) };
    }
    case "hugeint": {
      const v = pick([170141183460469231731687303715884105727n, -170141183460469231731687303715884105727n, 12n]);
      return { sql: `(${v})::HUGEINT`, kind, js: v, text: String(v) };
    }
    case "text": {
      const v = pick(TEXTS);
      return { sql: `'${v.replace(/'/g, "''")}'`, kind, js: v, text: v };
    }
    case "bool": {
      const v = rand.next() < 0.5;
      return { sql: String(v), kind, js: v, text: String(v) };
    }
  }
}

interface Case {
  names: string[];
  kinds: Kind[];
  rows: Value[][];
  sql: string;
}

function randomCase(): Case {
  const n = 1 + Math.floor(rand.next() * 5);
  const names: string[] = [];
  for (let i = 0; i < n; i++) names.push(i > 0 && rand.next() < 0.2 ? pick(names) : pick(NAMES));
  const kinds = names.map(() => pick(KINDS));
  const rows = Array.from({ length: 1 + Math.floor(rand.next() * 4) }, () => kinds.map(value));
  const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;
  const values = rows.map((r) => `(${r.map((v) => v.sql).join(", ")})`).join(", ");
  const sql = `SELECT ${names.map((nm, i) => `v${i} AS ${ident(nm)}`).join(", ")} FROM (VALUES ${values}) t(${names.map((_, i) => `v${i}`).join(", ")})`;
  return { names, kinds, rows, sql };
}

/** RFC 4180: fields split at commas, quoted fields may hold commas, quotes ("") and newlines. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
        continue;
      }
      if (ch === '"') {
        quoted = false;
        i++;
        continue;
      }
      field += ch;
      i++;
      continue;
    }
    if (ch === '"') {
      if (field !== "") throw new Error(`quote inside an unquoted field at ${i}`);
      quoted = true;
      i++;
      continue;
    }
    if (ch === ",") {
      row.push(field);
      field = "";
      i++;
      continue;
    }
    if (ch === "\n") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
      i++;
      continue;
    }
    if (ch === "\r") throw new Error(`bare CR outside quotes at ${i}`);
    field += ch;
    i++;
  }
  if (quoted) throw new Error("unterminated quoted field");
  if (field !== "" || row.length > 0) throw new Error("last line has no newline");
  return rows;
}

/** A JSON value as the expected JS value (NaN/±Infinity print as null: see `--help`). */
function expectedJson(v: Value): unknown {
  if (v.js === null) return null;
  if (typeof v.js === "number") return Number.isFinite(v.js) ? v.js : null;
  if (typeof v.js === "bigint") return Number(v.js);
  return v.js;
}

/** The same, for a CSV cell (DuckDB's text for the value; NULL is the empty field). */
function expectedCsv(v: Value): (cell: string) => void {
  if (v.js === null) return (c) => expect(c).toBe("");
  if (typeof v.js === "number") {
    const d = v.js;
    if (Number.isNaN(d)) return (c) => expect(c.toLowerCase()).toBe("nan");
    if (!Number.isFinite(d)) return (c) => expect(c.toLowerCase()).toBe(d > 0 ? "inf" : "-inf");
    return (c) => expect(Number(c)).toBe(d);
  }
  return (c) => expect(c).toBe(v.text!);
}

function uniqueKeys(names: string[]): string[] {
  const used = new Set<string>();
  return names.map((n) => {
    let k = n;
    for (let i = 1; used.has(k); i++) k = `${n}_${i}`;
    used.add(k);
    return k;
  });
}

let p: Awaited<ReturnType<typeof newPond>>;
beforeAll(async () => {
  p = await newPond();
});
afterAll(() => p.cleanup());

describe("pond query --format (random names and values, seeded)", () => {
  const cases = Array.from({ length: 6 }, randomCase);
  for (const [ci, c] of cases.entries()) {
    test(`case ${ci}: ${JSON.stringify(c.names)} ${c.kinds.join(",")}`, async () => {
      const run = (format: string) => pondOk(["query", "--format", format, c.sql], { pond: p.pondDir });
      const json = JSON.parse((await run("json")).stdout) as Record<string, unknown>[];
      const keys = uniqueKeys(c.names);
      expect(json.length).toBe(c.rows.length);
      for (const [ri, row] of c.rows.entries()) {
        expect(Object.keys(json[ri]!)).toEqual(keys);
        for (const [i, v] of row.entries()) expect(json[ri]![keys[i]!]).toEqual(expectedJson(v) as never);
      }

      const jsonl = (await run("jsonl")).stdout;
      expect(jsonl.endsWith("\n")).toBe(true);
      expect(
        jsonl
          .slice(0, -1)
          .split("\n")
          .map((l) => JSON.parse(l)),
      ).toEqual(json);

      const csv = parseCsv((await run("csv")).stdout);
      expect(csv[0]).toEqual(c.names);
      expect(csv.length).toBe(c.rows.length + 1);
      for (const [ri, row] of c.rows.entries()) for (const [i, v] of row.entries()) expectedCsv(v)(csv[ri + 1]![i]!);

      const table = (await run("table")).stdout;
      const lines = table.split("\n");
      expect(lines[0]!.startsWith("┌")).toBe(true);
      // The header holds every name (control characters escaped), one rule follows the header.
      for (const n of c.names) expect(lines[1]).toContain(n.replace(/\n/g, "\\n"));
      expect(lines.filter((l) => l.startsWith("├")).length).toBe(1);
      expect(lines.filter((l) => l.startsWith("│")).length).toBe(2 + c.rows.length);
      expect(table.endsWith(`${c.rows.length} row${c.rows.length === 1 ? "" : "s"}\n`)).toBe(true);

      const parquet = join(p.dir, `case-${ci}.parquet`);
      writeFileSync(parquet, (await run("parquet")).stdoutBytes);
      const db = await DuckDBInstance.create(":memory:");
      const conn = await db.connect();
      const read = await conn.runAndReadAll(`SELECT * FROM read_parquet('${parquet}')`);
      expect(read.columnCount).toBe(c.names.length);
      const got = read.getRows();
      expect(got.length).toBe(c.rows.length);
      for (const [ri, row] of c.rows.entries()) {
        row.forEach((v, i) => {
          const cell = got[ri]![i];
          if (v.js === null) expect(cell).toBeNull();
          else if (typeof v.js === "number" && Number.isNaN(v.js)) expect(Number.isNaN(cell as number)).toBe(true);
          // Parquet has no 128-bit integer: DuckDB writes HUGEINT as DOUBLE, so the nearest double.
          else if (v.kind === "hugeint") expect(Number(cell)).toBe(Number(v.js));
          else if (typeof v.js === "bigint") expect(BigInt(cell as bigint)).toBe(v.js);
          else expect(cell as never).toBe(v.js as never);
        });
      }
      conn.closeSync();
    });
  }
});

describe("pond query takes SQL as written", () => {
  test.each([
    ["a trailing ;", "SELECT 1 AS a;"],
    ["several trailing ; and spaces", "SELECT 1 AS a ; ;  \n"],
    ["a trailing -- comment", "SELECT 1 AS a -- the answer"],
    ["a trailing block comment", "SELECT 1 AS a /* the answer */"],
    ["a leading block comment", "/* why */ SELECT 1 AS a"],
    ["a leading line comment after a space", " -- why\nSELECT 1 AS a"],
    ["a leading line comment as the first word", "-- why\nSELECT 1 AS a"],
    ["a ; and -- inside a string", "SELECT 1 AS a WHERE ';--' <> ''"],
  ])("%s", async (_what, sql) => {
    const r = await pondOk(["query", "--format", "csv", sql], { pond: p.pondDir });
    expect(r.stdout).toBe("a\n1\n");
  });
  test("two statements are refused", async () => {
    const r = await pond(["query", "SELECT 1; SELECT 2"], { pond: p.pondDir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("multiple statements");
  });
});

describe("a failing query writes nothing to stdout", () => {
  for (const format of ["csv", "json", "jsonl", "table", "parquet"]) {
    test(`--format ${format}: an error while rows are produced`, async () => {
      const r = await pond(["query", "--format", format, "SELECT CAST(v AS INTEGER) AS n FROM (VALUES ('1'), ('x')) t(v)"], { pond: p.pondDir });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("Could not convert");
      expect(r.stdoutBytes.length).toBe(0);
    });
  }
  test("an empty result is still valid JSON and CSV", async () => {
    expect(JSON.parse((await pondOk(["query", "--format", "json", "SELECT 1 AS a WHERE false"], { pond: p.pondDir })).stdout)).toEqual([]);
    expect((await pondOk(["query", "--format", "csv", "SELECT 1 AS a WHERE false"], { pond: p.pondDir })).stdout).toBe("a\n");
  });
});
