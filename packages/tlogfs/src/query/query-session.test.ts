import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { openDuckDB, type Duck } from "../sql/duckdb.ts";
import { jsonKeys, nonFiniteToNull, sqlStringList } from "./query-session.ts";

describe("sqlStringList()", () => {
  let duck: Duck;
  beforeAll(async () => {
    duck = await openDuckDB();
  });
  afterAll(() => duck.close());

  const cases: [string, string[]][] = [
    ["none", []],
    ["one", ["/a/b.parquet"]],
    ["quotes, commas, spaces and non-ASCII", ["/p/it's.parquet", "/p/a, b.parquet", "/p/ünï code.parquet", '/p/"q".parquet']],
    ["a newline in a path (the literal is kept)", ["/p/one\nline.parquet", "/p/two.parquet"]],
    ["empty strings and a trailing slash", ["", "/p/", ""]],
    ["a thousand", Array.from({ length: 1000 }, (_, i) => `/pond/data/_large_files/sha256=${i.toString(16).padStart(64, "0")}`)],
  ];
  for (const [what, items] of cases) {
    test(`DuckDB reads back the same list: ${what}`, async () => {
      const [row] = await duck.all(`SELECT ${sqlStringList(items)}::VARCHAR[] AS l`);
      expect(row!.l).toEqual(items);
    });
  }

  test("a long list is one split string, not a list literal", () => {
    expect(sqlStringList(["/a", "/b'c"])).toBe("string_split('/a\n/b''c', chr(10))");
    expect(sqlStringList(["/a\n", "/b"])).toBe("['/a\n', '/b']");
  });
});

describe("QuerySession errors", () => {
  test("a registered payload DuckDB cannot read is an IntegrityError naming the pond path, the version and the file; other failures stay QueryError", async () => {
    const { mkdtempSync, rmSync, writeFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { QuerySession, QueryError } = await import("./query-session.ts");
    const { IntegrityError } = await import("@pond/tinyfs");
    const dir = mkdtempSync(join(tmpdir(), "qs-"));
    try {
      const payload = join(dir, `sha256=${"ab".repeat(32)}`);
      const other = join(dir, `sha256=${"cd".repeat(32)}`);
      const maker = await openDuckDB();
      await maker.run(`COPY (SELECT range AS v FROM range(1000)) TO '${payload}' (FORMAT parquet)`);
      await maker.run(`COPY (SELECT 1 AS v) TO '${other}' (FORMAT parquet)`);
      maker.close();
      const session = await QuerySession.open();
      try {
        const file = { hostPath: payload, version: 3, size: 0, sha256: "ab".repeat(32), minEventTime: null, maxEventTime: null };
        await session.addPondView("t", [{ path: "/s.series", entryType: "file:series", files: [file], skipped: [] }]);
        await session.lock();
        writeFileSync(payload, "PAR1 not parquet at all PAR1"); // damaged after it was checked
        const cols = await session.prepare("SELECT sum(v) AS s FROM t").catch((e) => e);
        const err =
          cols instanceof Error
            ? cols
            : await (async () => {
                try {
                  for await (const _ of session.streamText("SELECT sum(v) AS s FROM t", cols)) {
                  }
                } catch (e) {
                  return e;
                }
              })();
        expect(err).toBeInstanceOf(IntegrityError);
        expect((err as Error).message).toContain(`"/s.series" version 3`);
        expect((err as Error).message).toContain(payload);
        // A file it did not register is the sandbox's refusal: the query's error.
        const refused = await session.prepare(`SELECT * FROM read_parquet('${other}')`).catch((e) => e);
        expect(refused).toBeInstanceOf(QueryError);
      } finally {
        session.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("QuerySession.prepare() keeps what it checked", () => {
  test("the same text gives the same columns again; a refused text is refused every time, never kept", async () => {
    const { mkdtempSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { QuerySession, QueryError } = await import("./query-session.ts");
    const dir = mkdtempSync(join(tmpdir(), "qs-"));
    try {
      const payload = join(dir, `sha256=${"ef".repeat(32)}`);
      const maker = await openDuckDB();
      await maker.run(`COPY (SELECT range AS v, 'x' || range AS w FROM range(10)) TO '${payload}' (FORMAT parquet)`);
      maker.close();
      const session = await QuerySession.open();
      try {
        const file = { hostPath: payload, version: 1, size: 0, sha256: "ef".repeat(32), minEventTime: null, maxEventTime: null };
        await session.addPondView("t", [{ path: "/s.series", entryType: "file:series", files: [file], skipped: [] }]);
        await session.lock();
        const first = await session.prepare("SELECT sum(v) AS s, max(w) AS m FROM t");
        expect(first.map((c) => [c.name, c.type])).toEqual([
          ["s", "HUGEINT"],
          ["m", "VARCHAR"],
        ]);
        expect(await session.prepare("SELECT sum(v) AS s, max(w) AS m FROM t")).toEqual(first);
        for (let i = 0; i < 2; i++) {
          const refused = await session.prepare("CREATE TABLE x AS SELECT 1").catch((e) => e);
          expect(refused).toBeInstanceOf(QueryError);
          expect((refused as Error).message).toContain("only SELECT");
        }
        // Another text is checked on its own.
        expect((await session.prepare("SELECT count(*) AS n FROM t")).map((c) => c.name)).toEqual(["n"]);
      } finally {
        session.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("QuerySession output once locked", () => {
  test("a query asked again runs its kept bound statement with the same answer; each output statement is kept once, at most 16; payload caches are not re-validated", async () => {
    const { mkdtempSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { QuerySession } = await import("./query-session.ts");
    const { queryOutput } = await import("./query-output.ts");
    const { writeFileSync } = await import("node:fs");
    const dir = mkdtempSync(join(tmpdir(), "qs-bound-"));
    try {
      const payload = join(dir, `sha256=${"12".repeat(32)}`);
      const maker = await openDuckDB();
      await maker.run(`COPY (SELECT range AS v FROM range(5000)) TO '${payload}' (FORMAT parquet)`);
      maker.close();
      const session = await QuerySession.open();
      try {
        const file = { hostPath: payload, version: 1, size: 0, sha256: "12".repeat(32), minEventTime: null, maxEventTime: null };
        await session.addPondView("t", [{ path: "/s.series", entryType: "file:series", files: [file], skipped: [] }]);
        await session.lock();
        const text = async (sql: string, format: "json" | "csv") => {
          let out = "";
          for await (const c of (await queryOutput(session, sql, format)).chunks) out += c as string;
          return out;
        };
        const q = "SELECT sum(v) AS s, count(*) AS n FROM t";
        expect(session.boundStatements()).toBe(0);
        expect(await text(q, "json")).toBe('[\n{"s":12497500,"n":5000}\n]\n');
        expect(session.boundStatements()).toBe(1);
        expect(await text(q, "json")).toBe('[\n{"s":12497500,"n":5000}\n]\n');
        expect(session.boundStatements()).toBe(1);
        expect(await text(q, "csv")).toBe("s,n\n12497500,5000\n");
        expect(session.boundStatements()).toBe(2);
        // Many rows, streamed in several chunks, twice from the one statement.
        for (let i = 0; i < 2; i++) expect((await text("SELECT v FROM t ORDER BY v", "csv")).split("\n").length).toBe(5002);
        expect(session.boundStatements()).toBe(3);
        for (let i = 0; i < 20; i++) expect(await text(`SELECT ${i} + count(*) AS k FROM t`, "csv")).toBe(`k\n${5000 + i}\n`);
        expect(session.boundStatements()).toBe(16);
        expect(await session.all("SELECT current_setting('validate_external_file_cache') AS v")).toEqual([{ v: "NO_VALIDATION" }]);
        // Parquet answers: each written under a name of its own (no readable file is rewritten), removed once read.
        const { readdirSync } = await import("node:fs");
        for (let i = 0; i < 2; i++) {
          const parts: Uint8Array[] = [];
          for await (const c of (await queryOutput(session, `SELECT v FROM t WHERE v < ${i + 1}`, "parquet")).chunks) parts.push(c as Uint8Array);
          const bytes = Buffer.concat(parts);
          expect([bytes.subarray(0, 4).toString(), bytes.subarray(-4).toString()]).toEqual(["PAR1", "PAR1"]);
          expect(readdirSync(session.tempDirectory).filter((n) => n.endsWith(".parquet"))).toEqual([]);
          const copy = join(dir, `answer-${i}.parquet`);
          writeFileSync(copy, bytes);
          const reader = await openDuckDB();
          expect(await reader.all(`SELECT count(*)::INTEGER AS n FROM '${copy}'`)).toEqual([{ n: i + 1 }]);
          reader.close();
        }
      } finally {
        session.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("nonFiniteToNull()", () => {
  test("replaces bare NaN and ±Infinity at any depth, never inside strings", () => {
    expect(nonFiniteToNull('{"a":NaN,"b":[Infinity,-Infinity,1],"NaN":"Infinity \\" NaN"}')).toBe('{"a":null,"b":[null,null,1],"NaN":"Infinity \\" NaN"}');
  });
});

describe("jsonKeys()", () => {
  test("suffixes repeated names with the first free number", () => {
    expect(jsonKeys(["a", "a", "a_1", "b"])).toEqual(["a", "a_1", "a_1_1", "b"]);
  });
});

describe("QuerySession.addPondView() of a series marked newestRowPerTime", () => {
  test("addPondView() keeps the newest version's row at each time, in time order; unmarked, every row", async () => {
    const { mkdtempSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { QuerySession } = await import("./query-session.ts");
    const dir = mkdtempSync(join(tmpdir(), "qs-newest-"));
    try {
      const maker = await openDuckDB();
      const v = (n: number, sql: string) => {
        const hostPath = join(dir, `v${n}.parquet`);
        return maker
          .run(`COPY (${sql}) TO '${hostPath}' (FORMAT parquet)`)
          .then(() => ({ hostPath, version: n, size: 0, sha256: "", minEventTime: null, maxEventTime: null }));
      };
      // v1: times 1, 2, 3; v2 replaces 2 and adds 4; v3 replaces 1 (another value type as well).
      const files = [
        await v(1, "SELECT * FROM (VALUES (1, 'a1'), (2, 'a2'), (3, 'a3')) t(ts, x)"),
        await v(2, "SELECT * FROM (VALUES (4, 'b4'), (2, 'b2')) t(ts, x)"),
        await v(3, "SELECT 1 AS ts, 'c1' AS x"),
      ];
      maker.close();
      const session = await QuerySession.open();
      try {
        const source = { path: "/r.series", entryType: "file:series" as const, files, skipped: [], timestampColumn: "ts" };
        await session.addPondView("marked", [{ ...source, newestRowPerTime: true }]);
        await session.addPondView("plain", [source]);
        expect(await session.all("SELECT ts, x FROM marked")).toEqual([
          { ts: 1, x: "c1" },
          { ts: 2, x: "b2" },
          { ts: 3, x: "a3" },
          { ts: 4, x: "b4" },
        ]);
        expect((await session.all("SELECT count(*)::INTEGER AS n FROM plain"))[0]!.n).toBe(6);
      } finally {
        session.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
