import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sha256Hex } from "@pond/tinyfs";
import { seededRandom, type Random } from "@pond/tinyfs/testing";
import type { PayloadFile } from "@pond/tlogfs";
import { openDuckDB, sqlString, type Duck } from "@pond/tlogfs/duckdb";
import { AGGREGATIONS, parseResolution, type Resolution } from "./reduce-config.ts";
import { reduceDirect } from "./reduce-direct.ts";
import { reductionSql, touchedBucketsSql, type InputColumn, type OutputAggregate } from "./reduce-sql.ts";

// The direct reducer against the SQL it stands in for, run by DuckDB over the same files:
// every value as DuckDB's text (a DOUBLE's shortest round-trip form, so bit for bit).

let root: string;
let duck: Duck;
let files = 0;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "pond-reduce-direct-"));
  duck = await openDuckDB();
  await duck.run("SET TimeZone='UTC'");
});

afterAll(() => {
  duck?.close();
  rmSync(root, { recursive: true, force: true });
});

type Row = { t: bigint; a?: number | null; b?: number | null };

/** A payload as `pond copy host+series:` stores one: DuckDB's Parquet, `timestamp` TIMESTAMPTZ, DOUBLE columns (or `types`). */
async function payload(rows: Row[], columns: string[], types: Record<string, string> = {}, time = "make_timestamp(t)::TIMESTAMPTZ"): Promise<PayloadFile> {
  const path = join(root, `f${files++}.parquet`);
  const lit = (v: number | null | undefined) => (v === null || v === undefined ? "NULL" : `${sqlString(Object.is(v, -0) ? "-0.0" : String(v))}::DOUBLE`);
  const values = rows.map((r) => `(${r.t}::BIGINT, ${columns.map((c) => lit(r[c as "a" | "b"])).join(", ")})`).join(", ");
  const select = columns.map((c) => `${c}::${types[c] ?? "DOUBLE"} AS ${c}`).join(", ");
  await duck.run(
    `COPY (SELECT ${time} AS "timestamp"${select ? `, ${select}` : ""} FROM (VALUES ${values}) v(t${columns.map((c) => `, ${c}`).join("")})) TO ${sqlString(path)} (FORMAT parquet, COMPRESSION zstd)`,
  );
  const bytes = readFileSync(path);
  const ts = rows.map((r) => r.t).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    hostPath: path,
    version: files,
    size: bytes.length,
    sha256: sha256Hex(bytes),
    minEventTime: ts[0]!,
    maxEventTime: ts[ts.length - 1]!,
  };
}

const DOUBLES: InputColumn[] = [
  { name: "a", type: "DOUBLE" },
  { name: "b", type: "DOUBLE" },
];
const RECORDED: InputColumn[] = [{ name: "timestamp", type: "TIMESTAMP WITH TIME ZONE" }, ...DOUBLES];
const ALL: OutputAggregate[] = DOUBLES.flatMap((column) => AGGREGATIONS.map((agg) => ({ column, agg })));

/** Every row of a Parquet file (or query) as text, in time order. */
async function text(relation: string): Promise<string[]> {
  const rows = await duck.all(`SELECT * FROM ${relation} ORDER BY "timestamp"`);
  return rows.map((r) => JSON.stringify(Object.entries(r).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : String(v)])));
}

/** What the SQL of an incremental run computes (reduce.ts's query, without its time window) over `read`, new files last. */
async function bySql(read: PayloadFile[], newFiles: PayloadFile[], res: Resolution, aggs: OutputAggregate[]): Promise<string[]> {
  const rel = (fs: PayloadFile[]) => `read_parquet([${fs.map((f) => sqlString(f.hostPath)).join(", ")}], union_by_name=true)`;
  const where = `__pond_bucket IN (${touchedBucketsSql(rel(newFiles), "timestamp", res)})`;
  return text(`(${reductionSql(rel(read), "timestamp", res, aggs, where)})`);
}

async function direct(read: PayloadFile[], newFiles: PayloadFile[], res: Resolution, aggs: OutputAggregate[] = ALL, recorded = RECORDED) {
  return reduceDirect(read, newFiles, "timestamp", res, aggs, recorded, new Map());
}

async function directText(read: PayloadFile[], newFiles: PayloadFile[], res: Resolution, aggs: OutputAggregate[] = ALL): Promise<string[]> {
  const d = await direct(read, newFiles, res, aggs);
  if (!d) throw new Error("declined");
  const path = join(root, `out${files++}.parquet`);
  writeFileSync(path, d.bytes);
  const described = await duck.all(`DESCRIBE SELECT * FROM read_parquet(${sqlString(path)})`);
  expect(described.map((r) => ({ name: r.column_name, type: r.column_type }))).toEqual(d.columns);
  const rows = await text(`read_parquet(${sqlString(path)})`);
  expect(d.rows).toBe(rows.length);
  return rows;
}

const SEC = 1_000_000n;
const res = (s: string) => parseResolution(s)!;

/** Values whose sum depends on the order of adding them, NULLs, repeats. */
function value(r: Random): number | null {
  const k = r.int(10);
  if (k === 0) return null;
  if (k === 1) return r.pick([1e16, -1e16, 3e-17, 1, 0.1, 0.2, 0.3]);
  return (r.next() - 0.4) * 10 ** (r.int(24) - 8);
}

describe("reduceDirect", () => {
  test("reduceDirect() gives DuckDB's rows and types for random files, at widths from 1s to 3w, before 1970 and 2000 too", async () => {
    const r = seededRandom("reduce direct");
    for (const width of ["1s", "7m", "1h", "6h", "1d", "7d", "3w"]) {
      const w = res(width);
      for (const start of [-400n * 86_400n * SEC, BigInt(Date.UTC(1999, 11, 31)) * 1000n, BigInt(Date.UTC(2025, 0, 1)) * 1000n]) {
        const make = async (n: number, withB: boolean) => {
          const rows: Row[] = [];
          for (let i = 0; i < n; i++) {
            // Times in a few buckets, repeats (ties for first and last) and near the bucket edges.
            const t = start + BigInt(r.int(4)) * w.micros + BigInt(r.pick([0, 1, r.int(Number(w.micros)), Number(w.micros) - 1]));
            rows.push({ t, a: value(r), ...(withB ? { b: value(r) } : {}) });
            if (r.int(5) === 0) rows.push({ t, a: value(r), ...(withB ? { b: value(r) } : {}) });
          }
          return payload(rows, withB ? ["a", "b"] : ["a"]);
        };
        const old = [await make(40, false), await make(30, true)];
        const added = [await make(1 + r.int(20), true)];
        const read = [...old, ...added];
        expect(await directText(read, added, w)).toEqual(await bySql(read, added, w, ALL));
      }
    }
  }, 60_000);

  test("reduceDirect() writes a bucket whose column is all NULL as DuckDB does: count 0, the rest NULL", async () => {
    const t0 = BigInt(Date.UTC(2025, 0, 1)) * 1000n;
    const f = await payload(
      [
        { t: t0, a: null, b: 2 },
        { t: t0 + SEC, a: null, b: 1 },
        { t: t0 + 3600n * SEC, a: 5, b: null },
      ],
      ["a", "b"],
    );
    const rows = await directText([f], [f], res("1h"));
    expect(rows).toEqual(await bySql([f], [f], res("1h"), ALL));
    expect(rows[0]).toContain('["a.count","0"],["a.sum","null"]');
  });

  test("reduceDirect() declines what it cannot compute exactly: NaN, infinities, -0, other types, merged files, other time units, a missing payload", async () => {
    const t = BigInt(Date.UTC(2025, 0, 1)) * 1000n;
    const h = res("1h");
    const ok = await payload([{ t, a: 1 }], ["a"]);
    expect(await direct([ok], [ok], h)).not.toBeNull();
    for (const a of [Number.NaN, Number.POSITIVE_INFINITY, -0]) {
      const f = await payload([{ t, a }], ["a"]);
      expect(await direct([ok, f], [f], h)).toBeNull();
    }
    const overflow = await payload(
      [
        { t, a: 1.7e308 },
        { t: t + SEC, a: 1.7e308 },
      ],
      ["a"],
    );
    expect(await direct([overflow], [overflow], h)).toBeNull();
    const ints = await payload([{ t, a: 1 }], ["a"], { a: "INTEGER" });
    expect(await direct([ints], [ints], h, ALL, RECORDED)).toBeNull(); // the footer says INT32, though recorded as DOUBLE
    expect(await direct([ok], [ok], h, [{ column: { name: "a", type: "INTEGER" }, agg: "sum" }])).toBeNull();
    const merged: PayloadFile = { ...ok, merged: { versions: [], all: true } };
    expect(await direct([merged], [merged], h)).toBeNull();
    const nanos = await payload([{ t, a: 1 }], ["a"], {}, "make_timestamp_ns(t * 1000)");
    expect(await direct([nanos], [nanos], h, ALL, [{ name: "timestamp", type: "TIMESTAMP_NS" }, ...DOUBLES])).toBeNull();
    expect(await direct([nanos], [nanos], h)).toBeNull(); // the footer's unit, whatever was recorded
    const missing: PayloadFile = { ...ok, hostPath: join(root, "no-such.parquet") };
    expect(await direct([missing], [missing], h)).toBeNull(); // DuckDB's to report, in its words
    const damaged: PayloadFile = { ...ok, sha256: "0".repeat(64) };
    await expect(direct([damaged], [damaged], h)).rejects.toThrow("the log says");
  });
});
