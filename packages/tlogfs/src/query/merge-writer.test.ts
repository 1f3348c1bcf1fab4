import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readParquetColumns } from "@pond/oplog";
import { VERSION_COLUMN } from "../merged-payload.ts";
import { openDuckDB, type Duck } from "../sql/duckdb.ts";
import { writeMergedFile } from "./merge-writer.ts";

describe("writeMergedFile()", () => {
  let dir: string;
  let duck: Duck;
  const T0 = 1_735_689_600_000_000n; // 2025-01-01, µs
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "pond-merge-writer-"));
    duck = await openDuckDB();
    // Three versions of 4,096 rows a minute apart, written out of time order (version 2 is the oldest).
    for (const [v, minute] of [
      [1, 4096],
      [2, 0],
      [3, 8192],
    ] as const)
      await duck.run(
        `COPY (SELECT make_timestamptz(${T0}::BIGINT + (${minute} + i) * 60000000) AS ts, ${v} * 1000 + i + random() / 10 AS v FROM range(4096) t(i)) TO '${join(dir, `v${v}.parquet`)}' (FORMAT parquet)`,
      );
  });
  afterAll(() => {
    duck.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("rows sorted by time with their versions, in Parquet 2's encodings (delta timestamps, byte-stream-split doubles)", async () => {
    const out = join(dir, "merged.parquet");
    const rows = await writeMergedFile(
      [1, 2, 3].map((v) => ({ hostPath: join(dir, `v${v}.parquet`), versions: [v] })),
      out,
      { columns: ["ts", "v"], timestampColumn: "ts", rowGroupSize: 4096 },
    );
    expect(rows).toBe(3 * 4096);
    const enc = await duck.all(
      `SELECT path_in_schema AS col, list_distinct(flatten(list(string_split(encodings, ', ')))) AS e, count(*)::INT AS groups, bool_and(stats_min IS NOT NULL) AS stats FROM parquet_metadata('${out}') GROUP BY 1 ORDER BY 1`,
    );
    const byCol = Object.fromEntries(enc.map((r) => [r.col, r]));
    expect(byCol.ts!.e).toContain("DELTA_BINARY_PACKED");
    expect(byCol.v!.e).toContain("BYTE_STREAM_SPLIT");
    // Row groups of 4,096 rows (DuckDB's are whole vectors of 2,048) keep min/max statistics, which prune a time range.
    expect(byCol.ts!.groups).toBe(3);
    expect(byCol.ts!.stats).toBe(true);
    // Sorted by time: version 2's rows first, then 1's, then 3's; every row kept.
    const cols = await readParquetColumns(new Uint8Array(await Bun.file(out).arrayBuffer()), ["ts", VERSION_COLUMN]);
    const ts = cols.values.get("ts")! as bigint[];
    const versions = cols.values.get(VERSION_COLUMN)! as number[];
    expect(ts.every((t, i) => i === 0 || ts[i - 1]! < t)).toBe(true);
    expect([versions[0], versions[4096], versions[8192], versions[3 * 4096 - 1]]).toEqual([2, 1, 3, 3]);
    const [same] = await duck.all(
      `SELECT count(*)::INT AS n FROM (SELECT ts, v FROM read_parquet('${join(dir, "v*.parquet")}') EXCEPT ALL SELECT ts, v FROM read_parquet('${out}'))`,
    );
    expect(same!.n).toBe(0);
  });
});
