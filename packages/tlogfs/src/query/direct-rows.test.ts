// readRowsDirect must print exactly what DuckDB prints, or decline. Each test runs both
// readers on the same files and compares every cell.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { IntegrityError, sha256Hex } from "@pond/tinyfs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDuckDB, sqlString, type Duck } from "../sql/duckdb.ts";
import { formatDouble, readRowsDirect } from "./direct-rows.ts";
import type { ResolvedSource } from "./pond-sources.ts";
import { QuerySession } from "./query-session.ts";
import type { TimeRange } from "./time-bounds.ts";
import { FIXTURES } from "../../../../test/support/fixtures.ts";
import { seededRandom } from "../../../../test/support/kit.ts";

let duck: Duck;
let dir: string;

beforeAll(async () => {
  duck = await openDuckDB();
  await duck.run("SET TimeZone='UTC'");
  dir = mkdtempSync(join(tmpdir(), "pond-direct-"));
});
afterAll(() => {
  duck.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A series or table source over host Parquet files, with columns as ingest records them. */
async function source(files: string[], opts: { entryType?: "file:table" | "file:series"; timestampColumn?: string } = {}): Promise<ResolvedSource> {
  const out: ResolvedSource = { path: "/t", entryType: opts.entryType ?? "file:series", files: [], skipped: [], timestampColumn: opts.timestampColumn };
  for (const [i, f] of files.entries()) {
    const columns = await duck.columns(`SELECT * FROM read_parquet(${sqlString(f)}, hive_partitioning=false)`);
    out.files.push({
      hostPath: f,
      version: i + 1,
      size: statSync(f).size,
      sha256: sha256Hex(readFileSync(f)),
      columns,
      minEventTime: null,
      maxEventTime: null,
    });
  }
  return out;
}

/** DuckDB's text for the same view, as `pond cat` gets it from a session. */
async function viaDuckDB(src: ResolvedSource, range?: TimeRange): Promise<(string | null)[][]> {
  const s = await QuerySession.open();
  try {
    await s.addPondView("source", [src], range);
    await s.lock();
    const cols = await s.prepare("SELECT * FROM source");
    const rows: (string | null)[][] = [];
    for await (const chunk of s.streamText("SELECT * FROM source", cols)) rows.push(...(chunk.rows as (string | null)[][]));
    return rows;
  } finally {
    s.close();
  }
}

async function parquet(name: string, select: string): Promise<string> {
  const f = join(dir, `${name}.parquet`);
  await duck.run(`COPY (${select}) TO ${sqlString(f)} (FORMAT parquet)`);
  return f;
}

describe("formatDouble", () => {
  test("matches CAST(DOUBLE AS VARCHAR) on edge values and 20,000 random doubles", async () => {
    const values: number[] = [
      0,
      -0,
      0.1,
      1,
      -1,
      100,
      1e15,
      1e16,
      1e17,
      1.5e17,
      1e20,
      1e21,
      1e22,
      1e100,
      1.5e300,
      1e-4,
      1e-5,
      1.5e-5,
      1e-7,
      5e-324,
      2.2250738585072014e-308,
      1.7976931348623157e308,
      -1.7976931348623157e308,
      0.30000000000000004,
      123456789.123,
      // biome-ignore lint/correctness/noPrecisionLoss: a literal no double holds exactly, on purpose
      9007199254740993,
      // biome-ignore lint/correctness/noPrecisionLoss: a literal no double holds exactly, on purpose
      12345678901234567890,
      999999999999999.9,
      9999999999999998,
      0.00009999999999999999,
      NaN,
      Infinity,
      -Infinity,
    ];
    const bits = new DataView(new ArrayBuffer(8));
    const rnd = seededRandom("formatDouble doubles");
    for (let i = 0; i < 10_000; i++) {
      bits.setUint32(0, (rnd.next() * 2 ** 32) >>> 0);
      bits.setUint32(4, (rnd.next() * 2 ** 32) >>> 0);
      values.push(bits.getFloat64(0)); // any bit pattern: every exponent
      values.push((rnd.next() - 0.5) * 10 ** Math.floor(rnd.next() * 40 - 20)); // everyday magnitudes
    }
    const literal = (v: number) =>
      Number.isNaN(v) ? "'nan'" : v === Infinity ? "'inf'" : v === -Infinity ? "'-inf'" : Object.is(v, -0) ? "'-0.0'" : sqlString(String(v));
    const rows = await duck.rows(
      `SELECT CAST(CAST(s AS DOUBLE) AS VARCHAR) FROM (VALUES ${values.map((v, i) => `(${i}, ${literal(v)})`).join(", ")}) t(i, s) ORDER BY i`,
    );
    const mismatches = values.map((v, i) => [v, formatDouble(v), rows.rows[i]![0]] as const).filter(([, mine, theirs]) => mine !== theirs);
    expect(mismatches.slice(0, 10)).toEqual([]);
  });
});

describe("readRowsDirect agrees with DuckDB", () => {
  test("every Parquet fixture: same text, or it declines", async () => {
    const files = [...new Bun.Glob("**/*.parquet").scanSync({ cwd: join(FIXTURES, "parquet") })].map((f) => join(FIXTURES, "parquet", f)).sort();
    expect(files.length).toBeGreaterThan(20);
    const direct: string[] = [];
    for (const f of files) {
      let src: ResolvedSource;
      try {
        src = await source([f], { entryType: "file:table" });
      } catch {
        continue; // DuckDB cannot read it at all (not a pond-storable table)
      }
      const mine = await readRowsDirect([src]);
      if (mine === null) continue;
      direct.push(f.split("/").pop()!);
      expect({ f, rows: mine.rows }).toEqual({ f, rows: await viaDuckDB(src) });
      expect(mine.columns).toEqual(src.files[0]!.columns as never);
    }
    // Those whose columns are all of the types read here; the others have FLOAT, DECIMAL,
    // BLOB or nested columns.
    expect(direct.sort()).toEqual([
      "datapage_v1-snappy-compressed-checksum.parquet",
      "delta_binary_packed.parquet",
      "pandas-date.parquet",
      "timestamp-ms.parquet",
      "timestamp.parquet",
      "tz.parquet",
    ]);
  });

  test("timestamps of every unit and zone, dates, and edge values", async () => {
    const f = await parquet(
      "times",
      `SELECT * FROM (VALUES
        (TIMESTAMP '2020-01-01 00:00:00', TIMESTAMP_MS '2020-01-01 00:00:00.12', TIMESTAMP_NS '2020-01-01 00:00:00.000000001', TIMESTAMPTZ '2020-01-01 12:00:00.5+00', DATE '2020-02-29', TIMESTAMP_S '2020-01-01 00:00:01'),
        (TIMESTAMP '1969-12-31 23:59:59.999999', TIMESTAMP_MS '1900-06-30 01:02:03.004', TIMESTAMP_NS '1969-12-31 23:59:59.1', TIMESTAMPTZ '1950-01-01 00:00:00+00', DATE '0001-01-01', TIMESTAMP_S '1960-01-01 00:00:00'),
        (TIMESTAMP '9999-12-31 23:59:59.999999', NULL, TIMESTAMP_NS '2262-04-11 23:47:16.854775', TIMESTAMPTZ '2000-02-29 23:59:59.000001+00', DATE '9999-12-31', NULL),
        (TIMESTAMP '0001-01-01 00:00:00', TIMESTAMP_MS '2020-01-01 00:00:00', NULL, NULL, NULL, TIMESTAMP_S '2038-01-19 03:14:08')
      ) t(ts, ms, ns, tz, d, s)`,
    );
    const src = await source([f]);
    const mine = await readRowsDirect([src]);
    expect(mine).not.toBeNull();
    expect(mine!.rows).toEqual(await viaDuckDB(src));
  });

  test("integers of every width, booleans, strings with quotes, commas and newlines, NULLs", async () => {
    const f = await parquet(
      "scalars",
      `SELECT * FROM (VALUES
        (CAST(-128 AS TINYINT), CAST(-32768 AS SMALLINT), CAST(-2147483648 AS INTEGER), CAST(-9223372036854775808 AS BIGINT), CAST(255 AS UTINYINT), CAST(65535 AS USMALLINT), CAST(4294967295 AS UINTEGER), CAST(18446744073709551615 AS UBIGINT), true, 'a "quoted", value', -0.0::DOUBLE),
        (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
        (CAST(127 AS TINYINT), CAST(7 AS SMALLINT), CAST(0 AS INTEGER), CAST(9223372036854775807 AS BIGINT), CAST(0 AS UTINYINT), CAST(1 AS USMALLINT), CAST(2 AS UINTEGER), CAST(3 AS UBIGINT), false, E'two\\nlines, ünïcödé ✓', 'nan'::DOUBLE)
      ) t(i8, i16, i32, i64, u8, u16, u32, u64, b, s, d)`,
    );
    const src = await source([f]);
    const mine = await readRowsDirect([src]);
    expect(mine).not.toBeNull();
    expect(mine!.rows).toEqual(await viaDuckDB(src));
  });

  test("a series of several versions, whole and kept to a time range", async () => {
    const versions: string[] = [];
    for (let i = 0; i < 3; i++) {
      versions.push(
        await parquet(
          `v${i}`,
          `SELECT TIMESTAMP '2024-01-01' + INTERVAL (${i}) DAY + INTERVAL (j * 7) MINUTE AS timestamp, j AS n, j / 7 AS v FROM range(300) t(j)`,
        ),
      );
    }
    const src = await source(versions, { timestampColumn: "timestamp" });
    const whole = await readRowsDirect([src]);
    expect(whole!.rows.length).toBe(900);
    expect(whole!.rows).toEqual(await viaDuckDB(src));
    const us = (iso: string) => BigInt(Date.parse(iso)) * 1000n;
    for (const range of [
      { start: us("2024-01-02T05:00:00Z"), end: us("2024-01-03T01:03:00Z") },
      { start: us("2024-01-02T00:00:00Z") },
      { end: us("2024-01-01T00:07:00Z") },
    ] as TimeRange[]) {
      const mine = await readRowsDirect([src], range);
      expect(mine!.rows.length).toBeGreaterThan(0);
      expect(mine!.rows).toEqual(await viaDuckDB(src, range));
    }
  });
});

describe("readRowsDirect declines", () => {
  test("types it does not print (FLOAT, DECIMAL, BLOB, lists, structs, TIME, INTERVAL)", async () => {
    for (const [name, select] of [
      ["float", "SELECT 1.5::FLOAT AS x"],
      ["decimal", "SELECT 1.50::DECIMAL(10,2) AS x"],
      ["blob", "SELECT 'ab'::BLOB AS x"],
      ["list", "SELECT [1, 2] AS x"],
      ["struct", "SELECT {'a': 1} AS x"],
      ["time", "SELECT TIME '12:00:00' AS x"],
      ["interval", "SELECT INTERVAL 1 DAY AS x"],
    ]) {
      const src = await source([await parquet(name!, select!)]);
      expect({ name, rows: await readRowsDirect([src]) }).toEqual({ name, rows: null });
    }
  });

  test("versions with different columns, and reads over the limits", async () => {
    const a = await parquet("a", "SELECT 1 AS x");
    const b = await parquet("b", "SELECT 1 AS x, 2 AS y");
    expect(await readRowsDirect([await source([a, b])])).toBeNull();
    const big = await parquet("big", "SELECT j AS x FROM range(1000) t(j)");
    const src = await source([big]);
    expect(await readRowsDirect([src], undefined, { maxBytes: 100, maxRows: 1e6 })).toBeNull();
    expect(await readRowsDirect([src], undefined, { maxBytes: 1e9, maxRows: 999 })).toBeNull();
    expect((await readRowsDirect([src], undefined, { maxBytes: 1e9, maxRows: 1000 }))!.rows.length).toBe(1000);
  });

  test("a timestamp before year 1 or an infinite one", async () => {
    const inf = await source([await parquet("inf", "SELECT 'infinity'::TIMESTAMP AS t")]);
    expect(await readRowsDirect([inf])).toBeNull();
  });
});

describe("readRowsDirect checks each payload against the log", () => {
  test("a payload of another size or hash is an IntegrityError naming the version and the file", async () => {
    const f = await parquet("checked", "SELECT 1 AS x");
    const src = await source([f]);
    expect((await readRowsDirect([src]))!.rows).toEqual([["1"]]);
    const bytes = readFileSync(f);
    bytes[bytes.length - 10] ^= 0xff; // inside the footer
    writeFileSync(f, bytes);
    const err = await readRowsDirect([src]).catch((e) => e);
    expect(err).toBeInstanceOf(IntegrityError);
    expect(err.message).toContain("/t version 1");
    expect(err.message).toContain(f);
    const shorter = await source([await parquet("short", "SELECT 2 AS x")]);
    shorter.files[0]!.size += 1;
    await expect(readRowsDirect([shorter])).rejects.toThrow(IntegrityError);
  });
});
