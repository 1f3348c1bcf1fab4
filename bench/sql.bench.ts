// Issue 4: CSV → table vs DuckDB's own COPY; a 1,000-version series vs raw read_parquet of
// the same files; a time range touching 1% of versions vs the full query; peak RSS of a
// query over a 1 GB series; `pond cat` of a small table. Baselines run in the same run.
// Run: node_modules/.bin/bun bench/sql.bench.ts [csvMB] [seriesGB] [--csv-only] [--rounds N] [--rt]
// --csv-only runs part 1 alone (CSV to table), with N interleaved rounds (default 5; 9 with --csv-only).
// --rt runs both sides of part 1 at real-time priority (`chrt -f 10`, root): on a shared machine
// at load 10+ the per-round ratios spread 0.6-1.7x; there the other processes' load stays out.
import { mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { openDuckDB } from "@pond/tlogfs/duckdb";
import { POND_BIN, interleaved, median, report, roundRatios, run } from "./lib.ts";

const BUN = process.execPath;
const flags = process.argv.slice(2);
const csvOnly = flags.includes("--csv-only");
const roundsAt = flags.indexOf("--rounds");
const csvRounds = roundsAt >= 0 ? Number(flags[roundsAt + 1]) : csvOnly ? 9 : 5;
const positional = flags.filter((f, i) => !f.startsWith("--") && flags[i - 1] !== "--rounds");
const rt = flags.includes("--rt") ? ["chrt", "-f", "10"] : [];
const csvMB = Number(positional[0] ?? 100);
const seriesGB = Number(positional[1] ?? 1);
const root = mkdtempSync(join(tmpdir(), "pond-bench-sql-"));
const pondDir = join(root, "pond");
const env = { POND: pondDir };
const duck = await openDuckDB();
// The baseline is raw DuckDB compiled exactly as pond is (same Bun, same embedded
// libduckdb, bytecode): its time is DuckDB's start plus the query, so the ratio is what
// pond adds. Run as a Bun script instead it takes ~80 ms more (transpiling and loading
// node-api from node_modules), which flattered pond: 1.31x against it, 1.69x against this.
const BASELINE = join(root, "duckdb-baseline");
await run([BUN, resolve(import.meta.dir, "../packages/cmd/build.ts"), "--entry", resolve(import.meta.dir, "duckdb-baseline.ts"), "--outfile", BASELINE]);

try {
  await run([POND_BIN, "init", "--pond", pondDir]);
  // The 1,000 versions stay unmerged, as measured before automatic maintenance existed;
  // bench/merge.bench.ts measures the same series after `pond maintain merge`.
  await run([POND_BIN, "config", "set", "maintain.auto", "off"], { env });

  // 1. CSV to table.
  const csv = join(root, "big.csv");
  const rowsFor = Math.round((csvMB * 1024 * 1024) / 60);
  await duck.run(
    `COPY (SELECT TIMESTAMP '2020-01-01' + INTERVAL (i) SECOND AS ts, 'site-' || (i % 50) AS site, random() * 100 AS v, i AS n, (i % 7 = 0) AS flag FROM range(${rowsFor}) t(i)) TO '${csv}' (HEADER)`,
  );
  console.log(`CSV ${(statSync(csv).size / 1048576).toFixed(0)} MB, ${rowsFor} rows`);
  let k = 0;
  // Each run starts with nothing dirty in the page cache: pond fsyncs what it stores,
  // and on ext4 (data=ordered) its first fsync would otherwise also wait for the ~20 MB
  // the baseline just wrote without syncing (measured: ~100 ms at pond's first fsync).
  const load = () =>
    loadavg()
      .map((l) => l.toFixed(1))
      .join(" ");
  const loadBefore = load();
  const { rawCsv, pondCsv } = await interleaved(
    csvRounds,
    {
      rawCsv: () => run([...rt, BASELINE, `COPY (FROM read_csv('${csv}')) TO '${join(root, "raw.parquet")}' (FORMAT parquet, COMPRESSION zstd)`]),
      pondCsv: () => run([...rt, POND_BIN, "copy", `host+csv://${csv}`, `/csv${k++}.table`], { env }),
    },
    { before: () => Bun.spawnSync(["sync"]) },
  );
  const csvRatio = roundRatios(pondCsv, rawCsv);
  console.log(
    `csv→parquet, medians of ${csvRounds} interleaved rounds${rt.length ? " at real-time priority" : ""} (load ${loadBefore} before, ${load()} after): DuckDB ${rawCsv.ms.toFixed(0)} ms (CPU ${rawCsv.cpuMedianMs.toFixed(0)} ms), pond copy ${pondCsv.ms.toFixed(0)} ms (CPU ${pondCsv.cpuMedianMs.toFixed(0)} ms); per round pond/DuckDB ${csvRatio.walls.map((r) => r.toFixed(2)).join(" ")}: median ${csvRatio.wall.toFixed(2)}x wall, ${csvRatio.cpu.toFixed(2)}x CPU`,
  );
  report("CSV to table / DuckDB COPY (median per-round ratio)", csvRatio.wall, 1.05, "x");

  if (!csvOnly) await seriesAndTables();
} finally {
  duck.close();
  rmSync(root, { recursive: true, force: true });
}

/** Parts 2-4: a series of 1,000 versions, its 1% time range, a 1 GB series, cat of a small table. */
async function seriesAndTables(): Promise<void> {
  // 2. A series of 1,000 versions of 1,000 rows, one day each.
  const dir = join(root, "versions");
  mkdirSync(dir);
  const files: string[] = [];
  for (let i = 0; i < 1000; i++) {
    const f = join(dir, `v${String(i).padStart(4, "0")}.parquet`);
    await duck.run(
      `COPY (SELECT TIMESTAMP '2020-01-01' + INTERVAL (${i}) DAY + INTERVAL (j * 60) SECOND AS timestamp, j AS sensor, random() AS v FROM range(1000) t(j)) TO '${f}' (FORMAT parquet)`,
    );
    files.push(f);
  }
  for (let b = 0; b < 1000; b += 100) await run([POND_BIN, "copy", ...files.slice(b, b + 100).map((f) => `host+series://${f}`), "/s.series"], { env });
  const list = `[${files.map((f) => `'${f}'`).join(",")}]`;
  // The page cache is flushed first, and the five commands take turns (see `interleaved`).
  Bun.spawnSync(["sync"]);
  const tenFiles = `[${files
    .slice(366, 376)
    .map((f) => `'${f}'`)
    .join(",")}]`;
  const m = await interleaved(9, {
    rawSeries: () => run([BASELINE, `SELECT avg(v) FROM read_parquet(${list})`]),
    pondSeries: () => run([POND_BIN, "cat", "/s.series", "--sql", "SELECT avg(v) FROM source"], { env }),
    pondRange: () =>
      run([POND_BIN, "cat", "/s.series", "--sql", "SELECT avg(v) FROM source", "--time-start", "2021-01-01", "--time-end", "2021-01-11"], { env }),
    // The floor under the 1% query: raw DuckDB over just the 10 files in the range (days
    // 366-375 from 2020-01-01), and raw DuckDB doing nothing (its start alone).
    rawRange: () => run([BASELINE, `SELECT avg(v) FROM read_parquet(${tenFiles})`]),
    rawStart: () => run([BASELINE, "SELECT 1"]),
    // The binary's own start, with no pond and no DuckDB: what any `pond` command pays.
    pondStart: () => run([POND_BIN, "--version"]),
  });
  const { rawSeries, pondSeries, pondRange, rawRange, rawStart, pondStart } = m;
  console.log(`series avg: DuckDB ${rawSeries.ms.toFixed(0)} ms, pond ${pondSeries.ms.toFixed(0)} ms, pond 1% range ${pondRange.ms.toFixed(0)} ms`);
  console.log(
    `the floor: raw DuckDB over the 10 files in range ${rawRange.ms.toFixed(0)} ms (${(rawRange.ms / pondSeries.ms).toFixed(2)}x the full pond query), raw DuckDB running SELECT 1 ${rawStart.ms.toFixed(0)} ms (${(rawStart.ms / pondSeries.ms).toFixed(2)}x), pond --version ${pondStart.ms.toFixed(0)} ms (${(pondStart.ms / pondSeries.ms).toFixed(2)}x)`,
  );
  // Both commands pay one fixed cost C (process, DuckDB and pond start); the rest is the
  // query's own work: f for all 1,000 files, r for the 10 in range. (C + r) <= 0.2 (C + f)
  // needs C <= (0.2 f - r) / 0.8. Estimated here with C = raw DuckDB's SELECT 1 (pond's C
  // is at least that), so f and r are what each pond command took beyond it.
  const f = pondSeries.ms - rawStart.ms,
    r = Math.max(0, pondRange.ms - rawStart.ms);
  console.log(
    `fixed cost allowed by 0.2x: C <= (0.2 * ${f.toFixed(0)} - ${r.toFixed(0)}) / 0.8 = ${((0.2 * f - r) / 0.8).toFixed(0)} ms; raw DuckDB's start is ${rawStart.ms.toFixed(0)} ms, the binary's alone ${pondStart.ms.toFixed(0)} ms`,
  );

  // 3. A 1 GB series: peak RSS of a query over all of it.
  const bigDir = join(root, "bigseries");
  mkdirSync(bigDir);
  const parts = 8;
  const rowsPerPart = Math.round((seriesGB * 1024 ** 3) / parts / 24);
  const big: string[] = [];
  for (let i = 0; i < parts; i++) {
    const f = join(bigDir, `p${i}.parquet`);
    await duck.run(
      `COPY (SELECT TIMESTAMP '2022-01-01' + INTERVAL (${i * rowsPerPart} + j) SECOND AS timestamp, hash(j) AS h, random() AS v FROM range(${rowsPerPart}) t(j)) TO '${f}' (FORMAT parquet, COMPRESSION uncompressed)`,
    );
    big.push(f);
  }
  const bytes = big.reduce((a, f) => a + statSync(f).size, 0);
  await run([POND_BIN, "copy", ...big.map((f) => `host+series://${f}`), "/big.series"], { env });
  const bigQuery = await median(
    3,
    () => run([POND_BIN, "cat", "/big.series", "--sql", "SELECT count(*), avg(v), max(h), min(timestamp) FROM source"], { env }),
    0,
  );
  console.log(
    `1 GB series: ${(bytes / 1024 ** 3).toFixed(2)} GiB in ${parts} versions, query ${bigQuery.ms.toFixed(0)} ms, peak RSS ${bigQuery.maxRssMiB.toFixed(0)} MiB`,
  );

  // 4. cat of a small table, end to end.
  await run(
    [POND_BIN, "copy", `host+csv://${resolve(import.meta.dir, "../../shared/fixtures/timeseries/vega-datasets/seattle-weather.csv")}`, "/small.table"],
    { env },
  );
  const small = await median(9, () => run([POND_BIN, "cat", "/small.table"], { env }));

  report("series avg over 1,000 versions / raw read_parquet", pondSeries.ms / rawSeries.ms, 1.5, "x");
  report("1% time range / full series query", pondRange.ms / pondSeries.ms, 0.2, "x");
  report("query over a 1 GB series, peak RSS", bigQuery.maxRssMiB, 512, " MiB");
  report("pond cat of a small table (1461 rows)", small.ms, 150, " ms");
}
