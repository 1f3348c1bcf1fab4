import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assertReadOnly, openDuckDB, readOnlyColumns, sandbox, type Duck } from "./duckdb.ts";
import { FIXTURES } from "../../../../test/support/fixtures.ts";

// A Parquet file written by another writer (parquet-testing), when this machine has it.
const FIXTURE = join(FIXTURES, "parquet/parquet-testing/data/alltypes_plain.parquet");
const hasFixture = existsSync(FIXTURE);

describe("openDuckDB", () => {
  let duck: Duck;
  beforeAll(async () => {
    duck = await openDuckDB({ threads: 2, memoryLimit: "256MB" });
  });
  afterAll(() => duck.close());

  test("a query works", async () => {
    expect(await duck.all("SELECT 42 AS answer")).toEqual([{ answer: 42 }]);
  });

  test("BIGINT comes back as bigint, and bigint params bind as BIGINT", async () => {
    const [row] = await duck.all("SELECT 9007199254740993::BIGINT AS big, $1 AS p, typeof($1) AS t", [5n]);
    expect(row).toEqual({ big: 9007199254740993n, p: 5n, t: "BIGINT" });
  });

  test("params of other kinds", async () => {
    const [row] = await duck.all("SELECT $1 AS i, $2 AS s, $3 AS n, $4 AS b, $5 AS d", [7, "x'y", null, new Uint8Array([1, 2]), 1.5]);
    expect(row).toEqual({ i: 7, s: "x'y", n: null, b: new Uint8Array([1, 2]), d: 1.5 });
  });

  test("columns: names and DuckDB types without running", async () => {
    expect(await duck.columns("SELECT 1::BIGINT AS a, 'x' AS b, 1.5::DECIMAL(10,2) AS c, [1] AS d")).toEqual([
      { name: "a", type: "BIGINT" },
      { name: "b", type: "VARCHAR" },
      { name: "c", type: "DECIMAL(10,2)" },
      { name: "d", type: "INTEGER[]" },
    ]);
  });

  test("rows: columns and arrays of values", async () => {
    const r = await duck.rows("SELECT range AS i FROM range(3)");
    expect(r).toEqual({ columns: [{ name: "i", type: "BIGINT" }], rows: [[0n], [1n], [2n]] });
  });

  test("stream yields chunks and every row once", async () => {
    let n = 0;
    let chunks = 0;
    let sum = 0n;
    for await (const c of duck.stream("SELECT range AS i FROM range(100000)")) {
      expect(c.columns).toEqual([{ name: "i", type: "BIGINT" }]);
      chunks++;
      n += c.rows.length;
      for (const r of c.rows) sum += r[0] as bigint;
    }
    expect(n).toBe(100000);
    expect(sum).toBe(4999950000n);
    expect(chunks).toBeGreaterThan(1);
  });

  test("stream with minRows gathers chunks; breaking out early is fine", async () => {
    const sizes: number[] = [];
    for await (const c of duck.stream("SELECT range FROM range(10000)", [], { minRows: 5000 })) sizes.push(c.rows.length);
    expect(sizes.slice(0, -1).every((s) => s >= 5000)).toBe(true);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(10000);
    for await (const c of duck.stream("SELECT range FROM range(1000000)")) {
      expect(c.rows.length).toBeGreaterThan(0);
      break;
    }
    expect(await duck.all("SELECT 1 AS one")).toEqual([{ one: 1 }]);
  });

  test("prepare: bound once, streamed again and again; a run not read to its end does not spoil the next; close frees it", async () => {
    await duck.run("CREATE TABLE prep_t AS SELECT range AS i FROM range(10000)");
    const p = await duck.prepare("SELECT sum(i) AS s, count(*) AS n FROM prep_t");
    expect(p.columns).toEqual([
      { name: "s", type: "HUGEINT" },
      { name: "n", type: "BIGINT" },
    ]);
    const once = async (q: typeof p) => {
      const rows: unknown[][] = [];
      for await (const c of q.stream()) rows.push(...c.rows);
      return rows;
    };
    expect(await once(p)).toEqual([[49995000n, 10000n]]);
    // The table changes: the bound statement reads it as it is now.
    await duck.run("INSERT INTO prep_t VALUES (5)");
    expect(await once(p)).toEqual([[49995005n, 10001n]]);
    const many = await duck.prepare("SELECT i FROM prep_t ORDER BY i");
    for await (const c of many.stream()) {
      expect(c.rows.length).toBeGreaterThan(0);
      break;
    }
    let n = 0;
    for await (const c of many.stream({ minRows: 5000 })) n += c.rows.length;
    expect(n).toBe(10001);
    p.close();
    p.close();
    await expect(once(p)).rejects.toThrow("after close()");
    many.close();
    await expect(duck.prepare("SELECT * FROM no_such_table")).rejects.toThrow(/no_such_table/);
    await duck.run("DROP TABLE prep_t");
  });

  test("a prepared statement outlives nothing: closing the database frees it, and its close is then a no-op", async () => {
    const d = await openDuckDB();
    const p = await d.prepare("SELECT 1 AS one");
    d.close();
    p.close();
    await expect(
      (async () => {
        for await (const _ of p.stream()) void _;
      })(),
    ).rejects.toThrow("DuckDB is closed");
  });

  test("Parquet is read and written offline: the extension is linked in, nothing is downloaded", async () => {
    const ext = await duck.all("SELECT extension_name, loaded, install_mode FROM duckdb_extensions() WHERE extension_name = 'parquet'");
    expect(ext).toEqual([{ extension_name: "parquet", loaded: true, install_mode: "STATICALLY_LINKED" }]);
    const dir = mkdtempSync(join(tmpdir(), "pond-duck-parquet-"));
    try {
      await duck.run(`COPY (SELECT range AS id FROM range(10)) TO '${join(dir, "r.parquet")}' (FORMAT parquet)`);
      expect(await duck.all(`SELECT count(*) AS n, sum(id) AS s FROM read_parquet('${join(dir, "r.parquet")}')`)).toEqual([{ n: 10n, s: 45n }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test.skipIf(!hasFixture)("reads a Parquet file from another writer (parquet-testing)", async () => {
    expect(await duck.all(`SELECT count(*) AS n, sum(id) AS s FROM read_parquet('${FIXTURE}')`)).toEqual([{ n: 8n, s: 28n }]);
  });

  test("statementTypes", async () => {
    expect(await duck.statementTypes("SELECT 1; COPY (SELECT 1) TO '/dev/null'; ATTACH ':memory:' AS m2")).toEqual(["SELECT", "COPY", "ATTACH"]);
  });

  test("describe: statement kinds, and the columns of a single statement, without running it", async () => {
    expect(await duck.describe("SELECT 1 AS a, 'x' AS b")).toEqual({
      kinds: ["SELECT"],
      columns: [
        { name: "a", type: "INTEGER" },
        { name: "b", type: "VARCHAR" },
      ],
    });
    expect(await duck.describe("SELECT 1; SELECT 2")).toEqual({ kinds: ["SELECT", "SELECT"] });
    await duck.describe("CREATE TABLE never_made (a INT)");
    expect(await duck.all("SELECT count(*) AS n FROM duckdb_tables() WHERE table_name = 'never_made'")).toEqual([{ n: 0n }]);
  });

  test("readOnlyColumns: the columns of one read-only statement; anything else is refused", async () => {
    expect(await readOnlyColumns(duck, "WITH t AS (SELECT 2::BIGINT AS n) SELECT n FROM t")).toEqual([{ name: "n", type: "BIGINT" }]);
    await expect(readOnlyColumns(duck, "COPY (SELECT 1) TO '/dev/null'")).rejects.toThrow("only SELECT queries are allowed, not COPY");
    await expect(readOnlyColumns(duck, "SELECT 1; ATTACH ':memory:' AS m")).rejects.toThrow("not ATTACH");
    await expect(readOnlyColumns(duck, "SELECT 1; SELECT 2")).rejects.toThrow(/multiple statements/i);
    for (const blank of ["  ", "-- only a comment", ";"]) await expect(readOnlyColumns(duck, blank)).rejects.toThrow("empty SQL: give one SELECT query");
  });

  test("close is idempotent and later calls fail clearly", async () => {
    const d = await openDuckDB();
    const temp = d.tempDirectory;
    expect(existsSync(temp)).toBe(true);
    d.close();
    d.close();
    expect(existsSync(temp)).toBe(false);
    expect(d.all("SELECT 1")).rejects.toThrow("DuckDB is closed");
  });
});

describe("sandbox", () => {
  let root: string;
  let allowed: string;
  let temp: string;
  let duck: Duck;
  const failures: Record<string, string> = {};

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "pond-duck-sandbox-"));
    allowed = join(root, "payload");
    temp = join(root, "tmp");
    mkdirSync(allowed);
    // The same 8 ids (0..7) as the parquet-testing file, written here so the test stands alone.
    const writer = await openDuckDB({ threads: 1 });
    await writer.run(`COPY (SELECT range::INTEGER AS id FROM range(8)) TO '${join(allowed, "a.parquet")}' (FORMAT parquet)`);
    writer.close();
    writeFileSync(join(root, "outside.csv"), "secret\n1\n");
    mkdirSync(join(root, "payload-sibling"));
    writeFileSync(join(root, "payload-sibling", "s.csv"), "x\n1\n");
    duck = await openDuckDB({ threads: 2, memoryLimit: "128MB", tempDirectory: temp });
    // Views are registered before locking.
    await duck.run(`CREATE VIEW v AS SELECT * FROM read_parquet('${join(allowed, "a.parquet")}')`);
    await duck.run(`CREATE VIEW outside AS SELECT * FROM read_csv('${join(root, "outside.csv")}')`);
    expect(await duck.all("SELECT count(*) AS n FROM outside")).toEqual([{ n: 1n }]);
    await sandbox(duck, [allowed], temp);
  });
  afterAll(() => {
    duck.close();
    rmSync(root, { recursive: true, force: true });
    // What really fails, and how: printed so the messages can be read in the test log.
    if (process.env.POND_DUCK_VERBOSE) for (const [k, v] of Object.entries(failures)) console.log(`${k}\n  -> ${v}`);
  });

  async function fails(sql: string, message: RegExp): Promise<void> {
    let err: unknown;
    try {
      await duck.run(sql);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(Error);
    failures[sql] = (err as Error).message.split("\n")[0];
    expect((err as Error).message).toMatch(message);
  }

  test("a view over a file in an allowed directory, registered before, still works", async () => {
    expect(await duck.all("SELECT count(*) AS n, sum(id) AS s FROM v")).toEqual([{ n: 8n, s: 28n }]);
  });

  test("reading an allowed file directly works too", async () => {
    expect(await duck.all(`SELECT count(*) AS n FROM '${join(allowed, "a.parquet")}'`)).toEqual([{ n: 8n }]);
  });

  test("a view over a file outside the allowed directories fails, even though registered before", async () => {
    await fails("SELECT * FROM outside", /Permission Error: Cannot access file .*outside\.csv.* file system operations are disabled by configuration/);
  });

  test("a sibling folder sharing the allowed folder's prefix is not allowed", async () => {
    await fails(`SELECT * FROM read_csv('${join(root, "payload-sibling", "s.csv")}')`, /Permission Error: Cannot access file/);
  });

  test("'..' out of an allowed folder, and a symlink in it pointing outside, are refused", async () => {
    await fails(`SELECT * FROM read_csv('${join(allowed, "..", "outside.csv")}')`, /Permission Error: Cannot access file/);
    symlinkSync("/etc/passwd", join(allowed, "link.csv"));
    await fails(`SELECT * FROM read_csv('${join(allowed, "link.csv")}')`, /Permission Error: Cannot access file .*link\.csv/);
  });

  test("read_csv('/etc/passwd') fails", async () => {
    await fails(
      "SELECT * FROM read_csv('/etc/passwd')",
      /Permission Error: Cannot access file "\/etc\/passwd" - file system operations are disabled by configuration/,
    );
  });

  test("glob and read_text outside fail", async () => {
    await fails("SELECT * FROM glob('/etc/*')", /Permission Error/);
    await fails("SELECT * FROM read_text('/etc/hostname')", /Permission Error/);
  });

  test("COPY … TO outside fails", async () => {
    await fails(
      "COPY (SELECT 1) TO '/tmp/x.csv'",
      /Permission Error: Cannot access file "\/tmp\/x\.csv" - file system operations are disabled by configuration/,
    );
    await fails(`EXPORT DATABASE '${join(root, "exp")}'`, /Permission Error: Cannot access directory/);
  });

  test("ATTACH of a file fails", async () => {
    await fails(`ATTACH '${join(root, "x.db")}' AS x`, /Permission Error: Cannot access file .*x\.db.* file system operations are disabled by configuration/);
  });

  test("INSTALL and LOAD fail", async () => {
    await fails("INSTALL httpfs", /Permission Error: Cannot access directory .*extensions.* file system operations are disabled by configuration/);
    await fails("LOAD httpfs", /Permission Error: Loading external extensions is disabled through configuration/);
  });

  test("SET, RESET and PRAGMA of any setting fail", async () => {
    await fails("SET threads=1", /Invalid Input Error: Cannot change configuration option "threads" - the configuration has been locked/);
    await fails("RESET threads", /configuration has been locked/);
    await fails("PRAGMA threads=1", /configuration has been locked/);
    await fails("SET enable_external_access=true", /configuration has been locked/);
    await fails("SET allowed_directories=['/']", /configuration has been locked/);
    await fails("SET lock_configuration=false", /configuration has been locked/);
  });

  test("getenv is not available", async () => {
    await fails("SELECT getenv('HOME')", /Catalog Error: Scalar Function with name getenv does not exist/);
  });

  test("queries that exceed memory spill to the temp folder and succeed", async () => {
    // ~150 MB of strings sorted under a 128 MB limit: DuckDB must spill into `temp`.
    let spilled = 0;
    const poll = setInterval(() => {
      // DuckDB creates the folder when it first spills.
      if (existsSync(temp)) spilled = Math.max(spilled, readdirSync(temp).filter((f) => f.startsWith("duckdb_temp_storage")).length);
    }, 10);
    const [row] = await duck
      .all("SELECT count(*) AS n, max(s) AS m FROM (SELECT md5(range::VARCHAR) || md5((range + 1)::VARCHAR) AS s FROM range(2000000) ORDER BY s DESC)")
      .finally(() => clearInterval(poll));
    expect(row.n).toBe(2000000n);
    expect(spilled).toBeGreaterThan(0);
  }, 60_000);

  test("caution: the sandbox lets COPY write inside an allowed folder; assertReadOnly refuses it", async () => {
    const target = join(allowed, "written.csv");
    await duck.run(`COPY (SELECT 1 AS x) TO '${target}'`);
    expect(readFileSync(target, "utf8")).toBe("x\n1\n");
    await expect(assertReadOnly(duck, `COPY (SELECT 1) TO '${target}'`)).rejects.toThrow("only SELECT queries are allowed, not COPY");
    await expect(assertReadOnly(duck, "SELECT 1; ATTACH ':memory:' AS m")).rejects.toThrow("not ATTACH");
    await assertReadOnly(duck, "WITH t AS (SELECT 1 AS a) SELECT * FROM t");
    await assertReadOnly(duck, "FROM v");
    await assertReadOnly(duck, "EXPLAIN SELECT * FROM v");
  });
});
