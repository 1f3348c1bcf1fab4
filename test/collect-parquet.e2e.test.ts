// HydroVu runs write each device's Parquet file with the Parquet codec, not DuckDB. These
// tests hold that file and what its version records to what the DuckDB path gives for the
// same readings: the readings converted by DuckDB (JSON Lines → Parquet, the conversion the
// collector used before) and stored by `pond copy host+series:`, whose ingest has DuckDB
// read the file and record its columns, row count and event-time range.
import { afterEach, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeRowsParquet } from "@pond/tlogfs";
import { parquetMetadata } from "hyparquet";
import { FakeHydroVu, extendLocation, generateLocation } from "./support/fake-hydrovu.ts";
import { newPond, pondOk } from "./support/pond-cli.ts";

const ENV = { HV_ID: "fake-id", HV_SECRET: "fake-secret" };
const T0 = 1_700_000_000;

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.reverse()) c();
  cleanups = [];
});

/** `describe --format json` without what names the stored bytes and the moment (ids, hash, size, write time). */
async function describeRecords(pondDir: string, path: string): Promise<unknown> {
  const d = JSON.parse((await pondOk(["describe", path, "--format", "json"], { pond: pondDir })).stdout) as Record<string, unknown> & {
    versions: Record<string, unknown>[];
  };
  const { node_id: _n, parent_id: _p, ...rest } = d;
  return {
    ...rest,
    versions: d.versions.map(({ sha256: _s, size: _z, time: _t, txn: _x, ...v }) => v),
  };
}

/** The readings as a DuckDB-written Parquet file, as the collector's DuckDB path converted them. */
async function duckdbParquet(dir: string, rows: Map<number, Record<string, number>>, name: string): Promise<string> {
  const columns = [...new Set([...rows.values()].flatMap((r) => Object.keys(r)))].sort();
  const jsonl = join(dir, `${name}.jsonl`);
  writeFileSync(jsonl, [...rows].map(([t, r]) => JSON.stringify({ timestamp: t, ...r })).join("\n") + "\n");
  const out = join(dir, `${name}.parquet`);
  await writeRowsParquet(jsonl, out, [{ name: "timestamp", type: "epoch_s" }, ...columns.map((c) => ({ name: c, type: "DOUBLE" as const }))], "timestamp");
  return out;
}

describe("HydroVu Parquet files written without DuckDB", () => {
  test("two runs record the same describe and cat as DuckDB's conversion + ingest of the same readings; DuckDB reads TIMESTAMP WITH TIME ZONE and DOUBLE", async () => {
    // A parameter appears mid-history (pH), pages overlap and arrive out of order (the fake's defaults).
    const loc = generateLocation(41, "d41", { start: T0, count: 1500, step: 60, withPh: true });
    const fake = new FakeHydroVu([loc], { pageSize: 100 });
    const direct = await newPond();
    const viaDuck = await newPond();
    cleanups.push(direct.cleanup, viaDuck.cleanup, () => fake.stop());
    const yaml = join(direct.dir, "hv.yaml");
    writeFileSync(
      yaml,
      `kind: hydrovu\nclient_id: \${env:HV_ID}\nclient_secret: \${env:HV_SECRET}\nbase_url: ${fake.url}\ndestination: /data/hv\ndevices:\n  - {id: 41, name: d41}\n`,
    );
    await pondOk(["copy", "-p", `host://${yaml}`, "/etc/collect/hv.yaml"], { pond: direct.pondDir });

    // Run 1, then more readings and run 2: two versions. The DuckDB pond gets the same two batches.
    await pondOk(["collect"], { pond: direct.pondDir, env: ENV });
    const first = fake.expectedRows(41);
    extendLocation(loc, 700, 60);
    await pondOk(["collect"], { pond: direct.pondDir, env: ENV });
    const second = new Map([...fake.expectedRows(41)].filter(([t]) => !first.has(t)));
    expect(first.size).toBe(1500);
    expect(second.size).toBe(700);
    await pondOk(["copy", "-p", `host+series://${await duckdbParquet(viaDuck.dir, first, "v1")}`, "/data/hv/d41.series"], { pond: viaDuck.pondDir });
    await pondOk(["copy", `host+series://${await duckdbParquet(viaDuck.dir, second, "v2")}`, "/data/hv/d41.series"], { pond: viaDuck.pondDir });

    const path = "/data/hv/d41.series";
    const recorded = await describeRecords(direct.pondDir, path);
    expect(recorded).toEqual(await describeRecords(viaDuck.pondDir, path));
    // What is compared is real: two versions, the union's columns, 2,200 rows, each version's range.
    expect(recorded).toMatchObject({
      schema: {
        columns: [
          { name: "timestamp", type: "TIMESTAMP WITH TIME ZONE" },
          { name: "Specific Conductance.uS/cm", type: "DOUBLE" },
          { name: "Temperature.C", type: "DOUBLE" },
          { name: "pH.pH", type: "DOUBLE" },
        ],
        rows: 2200,
        timestampColumn: "timestamp",
      },
      versions: [
        {
          version: 1,
          rows: 1500,
          min_event_time: new Date(T0 * 1000).toISOString().replace(".000", ""),
          max_event_time: new Date((T0 + 1499 * 60) * 1000).toISOString().replace(".000", ""),
        },
        { version: 2, rows: 700, min_event_time: new Date((T0 + 1500 * 60) * 1000).toISOString().replace(".000", "") },
      ],
    });

    const cat = (p: string) => pondOk(["cat", path], { pond: p }).then((r) => r.stdout);
    const directCat = await cat(direct.pondDir);
    expect(directCat).toBe(await cat(viaDuck.pondDir));
    expect(directCat.trim().split("\n")).toHaveLength(2201);

    // DuckDB reads the file's own types, not the recorded ones.
    const types = await pondOk(["query", `SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM '${path}')`, "--format", "json"], {
      pond: direct.pondDir,
    });
    expect(JSON.parse(types.stdout)).toEqual([
      { column_name: "timestamp", column_type: "TIMESTAMP WITH TIME ZONE" },
      { column_name: "Specific Conductance.uS/cm", column_type: "DOUBLE" },
      { column_name: "Temperature.C", column_type: "DOUBLE" },
      { column_name: "pH.pH", column_type: "DOUBLE" },
    ]);
    // A time range reads the same rows from both.
    const range = (p: string) =>
      pondOk(
        [
          "query",
          `SELECT * FROM '${path}' ORDER BY timestamp`,
          "--time-start",
          String(T0 + 1400 * 60),
          "--time-end",
          String(T0 + 1600 * 60),
          "--format",
          "csv",
        ],
        {
          pond: p,
        },
      ).then((r) => r.stdout);
    const directRange = await range(direct.pondDir);
    expect(directRange.trim().split("\n")).toHaveLength(201);
    expect(directRange).toBe(await range(viaDuck.pondDir));
  });

  test("the file has row groups with min/max statistics on timestamp (UTC micros), rows sorted by time, nulls for missing readings", async () => {
    const loc = generateLocation(42, "d42", { start: T0, count: 25_000, step: 60, withPh: true });
    const fake = new FakeHydroVu([loc], { pageSize: 1000 });
    const p = await newPond();
    cleanups.push(p.cleanup, () => fake.stop());
    const yaml = join(p.dir, "hv.yaml");
    writeFileSync(
      yaml,
      `kind: hydrovu\nclient_id: \${env:HV_ID}\nclient_secret: \${env:HV_SECRET}\nbase_url: ${fake.url}\ndestination: /hv\ndevices:\n  - {id: 42, name: d42}\n`,
    );
    await pondOk(["copy", "-p", `host://${yaml}`, "/etc/collect/hv.yaml"], { pond: p.pondDir });
    await pondOk(["collect"], { pond: p.pondDir, env: ENV });
    const large = join(p.pondDir, "data", "_large_files");
    const files = readdirSync(large).filter((f) => f.startsWith("sha256="));
    expect(files).toHaveLength(1);
    const bytes = readFileSync(join(large, files[0]!));
    // Timestamps stay raw µs (bigint), as stored.
    const meta = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer, {
      parsers: { timestampFromMicroseconds: (v: bigint) => v },
    });
    expect(Number(meta.num_rows)).toBe(25_000);
    const ts = meta.schema.find((e) => e.name === "timestamp")!;
    expect(ts.type).toBe("INT64");
    expect(ts.logical_type).toEqual({ type: "TIMESTAMP", isAdjustedToUTC: true, unit: "MICROS" });
    expect(meta.row_groups.length).toBeGreaterThan(1);
    let previousMax = -1n;
    let total = 0;
    for (const rg of meta.row_groups) {
      const stats = rg.columns[0]!.meta_data!.statistics!;
      const lo = stats.min_value as bigint;
      const hi = stats.max_value as bigint;
      // Sorted: each group's range starts after the previous one's.
      expect(lo).toBeGreaterThan(previousMax);
      expect(hi - lo).toBe(BigInt((Number(rg.num_rows) - 1) * 60) * 1_000_000n);
      previousMax = hi;
      total += Number(rg.num_rows);
    }
    expect(total).toBe(25_000);
    expect(meta.row_groups[0]!.columns[0]!.meta_data!.statistics!.min_value).toBe(BigInt(T0) * 1_000_000n);
    // pH appears mid-history: the early rows read null there.
    const nulls = await pondOk(
      ["query", 'SELECT count(*) FILTER (WHERE "pH.pH" IS NULL) AS n, count("pH.pH") AS v FROM \'/hv/d42.series\'', "--format", "json"],
      {
        pond: p.pondDir,
      },
    );
    const [{ n, v }] = JSON.parse(nulls.stdout) as { n: number; v: number }[];
    expect(n).toBeGreaterThan(0);
    expect(v).toBeGreaterThan(0);
    expect(n + v).toBe(25_000);
  });
});
