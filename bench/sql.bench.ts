// Issue 4: CSV → table vs DuckDB's own COPY; a 1,000-version series vs raw read_parquet of
// the same files; a time range touching 1% of versions vs the full query; peak RSS of a
// query over a 1 GB series; `pond cat` of a small table. Baselines run in the same run.
// Run: node_modules/.bin/bun bench/sql.bench.ts [csvMB] [seriesGB]
import { mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { openDuckDB } from "../packages/tlogfs/src/sql/duckdb.ts";
import { POND_BIN, median, report, run } from "./lib.ts";

const BUN = process.execPath;
const BASELINE = resolve(import.meta.dir, "duckdb-baseline.ts");
const csvMB = Number(process.argv[2] ?? 100);
const seriesGB = Number(process.argv[3] ?? 1);
const root = mkdtempSync(join(tmpdir(), "pond-bench-sql-"));
const pondDir = join(root, "pond");
const env = { POND: pondDir };
const duck = await openDuckDB();

try {
  await run([POND_BIN, "init", "--pond", pondDir]);

  // 1. CSV to table.
  const csv = join(root, "big.csv");
  const rowsFor = Math.round((csvMB * 1024 * 1024) / 60);
  await duck.run(`COPY (SELECT TIMESTAMP '2020-01-01' + INTERVAL (i) SECOND AS ts, 'site-' || (i % 50) AS site, random() * 100 AS v, i AS n, (i % 7 = 0) AS flag FROM range(${rowsFor}) t(i)) TO '${csv}' (HEADER)`);
  console.log(`CSV ${(statSync(csv).size / 1048576).toFixed(0)} MB, ${rowsFor} rows`);
  let k = 0;
  const rawCsv = await median(3, () => run([BUN, BASELINE, `COPY (FROM read_csv('${csv}')) TO '${join(root, "raw.parquet")}' (FORMAT parquet, COMPRESSION zstd)`]), 0);
  const pondCsv = await median(3, () => run([POND_BIN, "copy", `host+csv://${csv}`, `/csv${k++}.table`], { env }), 0);
  console.log(`csv→parquet: DuckDB ${rawCsv.ms.toFixed(0)} ms, pond copy ${pondCsv.ms.toFixed(0)} ms`);

  // 2. A series of 1,000 versions of 1,000 rows, one day each.
  const dir = join(root, "versions");
  mkdirSync(dir);
  const files: string[] = [];
  for (let i = 0; i < 1000; i++) {
    const f = join(dir, `v${String(i).padStart(4, "0")}.parquet`);
    await duck.run(`COPY (SELECT TIMESTAMP '2020-01-01' + INTERVAL (${i}) DAY + INTERVAL (j * 60) SECOND AS timestamp, j AS sensor, random() AS v FROM range(1000) t(j)) TO '${f}' (FORMAT parquet)`);
    files.push(f);
  }
  for (let b = 0; b < 1000; b += 100) await run([POND_BIN, "copy", ...files.slice(b, b + 100).map((f) => `host+series://${f}`), "/s.series"], { env });
  const list = `[${files.map((f) => `'${f}'`).join(",")}]`;
  const rawSeries = await median(5, () => run([BUN, BASELINE, `SELECT avg(v) FROM read_parquet(${list})`]));
  const pondSeries = await median(5, () => run([POND_BIN, "cat", "/s.series", "--sql", "SELECT avg(v) FROM source"], { env }));
  const pondRange = await median(5, () => run([POND_BIN, "cat", "/s.series", "--sql", "SELECT avg(v) FROM source", "--time-start", "2021-01-01", "--time-end", "2021-01-11"], { env }));
  console.log(`series avg: DuckDB ${rawSeries.ms.toFixed(0)} ms, pond ${pondSeries.ms.toFixed(0)} ms, pond 1% range ${pondRange.ms.toFixed(0)} ms`);

  // 3. A 1 GB series: peak RSS of a query over all of it.
  const bigDir = join(root, "bigseries");
  mkdirSync(bigDir);
  const parts = 8;
  const rowsPerPart = Math.round((seriesGB * 1024 ** 3) / parts / 24);
  const big: string[] = [];
  for (let i = 0; i < parts; i++) {
    const f = join(bigDir, `p${i}.parquet`);
    await duck.run(`COPY (SELECT TIMESTAMP '2022-01-01' + INTERVAL (${i * rowsPerPart} + j) SECOND AS timestamp, hash(j) AS h, random() AS v FROM range(${rowsPerPart}) t(j)) TO '${f}' (FORMAT parquet, COMPRESSION uncompressed)`);
    big.push(f);
  }
  const bytes = big.reduce((a, f) => a + statSync(f).size, 0);
  await run([POND_BIN, "copy", ...big.map((f) => `host+series://${f}`), "/big.series"], { env });
  const bigQuery = await median(3, () => run([POND_BIN, "cat", "/big.series", "--sql", "SELECT count(*), avg(v), max(h), min(timestamp) FROM source"], { env }), 0);
  console.log(`1 GB series: ${(bytes / 1024 ** 3).toFixed(2)} GiB in ${parts} versions, query ${bigQuery.ms.toFixed(0)} ms, peak RSS ${bigQuery.maxRssMiB.toFixed(0)} MiB`);

  // 4. cat of a small table, end to end.
  await run([POND_BIN, "copy", `host+csv://${resolve(import.meta.dir, "../../shared/fixtures/timeseries/vega-datasets/seattle-weather.csv")}`, "/small.table"], { env });
  const small = await median(9, () => run([POND_BIN, "cat", "/small.table"], { env }));

  report("CSV to table / DuckDB COPY", pondCsv.ms / rawCsv.ms, 1.3, "x");
  report("series avg over 1,000 versions / raw read_parquet", pondSeries.ms / rawSeries.ms, 1.5, "x");
  report("1% time range / full series query", pondRange.ms / pondSeries.ms, 0.2, "x");
  report("query over a 1 GB series, peak RSS", bigQuery.maxRssMiB, 512, " MiB");
  report("pond cat of a small table (1461 rows)", small.ms, 150, " ms");
} finally {
  duck.close();
  rmSync(root, { recursive: true, force: true });
}
