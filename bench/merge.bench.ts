// Issue 15: `pond maintain merge` on the SQL benchmark's series (1,000 versions of 1,000
// rows, one day each): the full query after the merge against raw DuckDB over the
// original 1,000 files (target ≤ 1.0×: fewer, larger files should beat it), measured in
// the same run, interleaved; and the merge's own time and peak RSS, also on a larger
// series (target: peak RSS under 512 MiB whatever the size: DuckDB sorts within a memory
// limit and spills).
// Run: node_modules/.bin/bun bench/merge.bench.ts [versions=1000] [bigRowsM=20]
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { openDuckDB } from "@pond/tlogfs/duckdb";
import { POND_BIN, interleaved, report, run } from "./lib.ts";

const BUN = process.execPath;
const versions = Number(process.argv[2] ?? 1000);
const bigRowsM = Number(process.argv[3] ?? 20);
const root = mkdtempSync(join(tmpdir(), "pond-bench-merge-"));
const pondDir = join(root, "pond");
const env = { POND: pondDir };
const duck = await openDuckDB();
// Raw DuckDB compiled exactly as pond is (see sql.bench.ts): the ratio is what pond adds.
const BASELINE = join(root, "duckdb-baseline");
await run([BUN, resolve(import.meta.dir, "../packages/cmd/build.ts"), "--entry", resolve(import.meta.dir, "duckdb-baseline.ts"), "--outfile", BASELINE]);

function largeFiles(): { n: number; bytes: number } {
  const dir = join(pondDir, "data/_large_files");
  const names = readdirSync(dir).filter((f) => f.startsWith("sha256="));
  return { n: names.length, bytes: names.reduce((s, f) => s + statSync(join(dir, f)).size, 0) };
}

try {
  await run([POND_BIN, "init", "--pond", pondDir]);
  // Automatic maintenance would merge the series while it is built: off, to measure both states.
  await run([POND_BIN, "config", "set", "maintain.auto", "off"], { env });
  const dir = join(root, "versions");
  mkdirSync(dir);
  const files: string[] = [];
  for (let i = 0; i < versions; i++) {
    const f = join(dir, `v${String(i).padStart(4, "0")}.parquet`);
    await duck.run(
      `COPY (SELECT TIMESTAMP '2020-01-01' + INTERVAL (${i}) DAY + INTERVAL (j * 60) SECOND AS timestamp, j AS sensor, random() AS v FROM range(1000) t(j)) TO '${f}' (FORMAT parquet)`,
    );
    files.push(f);
  }
  for (let b = 0; b < versions; b += 100) await run([POND_BIN, "copy", ...files.slice(b, b + 100).map((f) => `host+series://${f}`), "/s.series"], { env });
  const list = `[${files.map((f) => `'${f}'`).join(",")}]`;
  const query = ["cat", "/s.series", "--sql", "SELECT avg(v) FROM source"];
  const range = ["cat", "/s.series", "--sql", "SELECT avg(v) FROM source", "--time-start", "2021-01-01", "--time-end", "2021-01-11"];
  Bun.spawnSync(["sync"]);
  const before = await interleaved(7, {
    raw: () => run([BASELINE, `SELECT avg(v) FROM read_parquet(${list})`]),
    pond: () => run([POND_BIN, ...query], { env }),
    pondRange: () => run([POND_BIN, ...range], { env }),
  });
  const filesBefore = largeFiles();
  const merging = await run([POND_BIN, "maintain", "merge"], { env });
  const filesAfter = largeFiles();
  Bun.spawnSync(["sync"]);
  const after = await interleaved(9, {
    raw: () => run([BASELINE, `SELECT avg(v) FROM read_parquet(${list})`]),
    pond: () => run([POND_BIN, ...query], { env }),
    pondRange: () => run([POND_BIN, ...range], { env }),
  });
  console.log(
    `${versions} versions: before the merge pond ${before.pond.ms.toFixed(0)} ms (1% range ${before.pondRange.ms.toFixed(0)} ms) vs raw ${before.raw.ms.toFixed(0)} ms; ` +
      `merge ${merging.ms.toFixed(0)} ms, peak RSS ${merging.maxRssMiB.toFixed(0)} MiB, payload files ${filesBefore.n} (${(filesBefore.bytes / 1048576).toFixed(1)} MiB) -> ${filesAfter.n} on disk (the old ones stay until expired and cleaned up); ` +
      `after: pond ${after.pond.ms.toFixed(0)} ms (1% range ${after.pondRange.ms.toFixed(0)} ms) vs raw ${after.raw.ms.toFixed(0)} ms`,
  );

  // A larger series: 40 versions, bigRowsM million rows in all, merged in one run.
  const bigDir = join(root, "big");
  mkdirSync(bigDir);
  const parts = 40;
  const per = Math.round((bigRowsM * 1e6) / parts);
  const big: string[] = [];
  for (let i = 0; i < parts; i++) {
    const f = join(bigDir, `p${i}.parquet`);
    // Versions overlap in time (every other one shifted back), so the merge really sorts.
    await duck.run(
      `COPY (SELECT TIMESTAMP '2022-01-01' + INTERVAL (${(i - (i % 2) * 1) * per} + j) SECOND AS timestamp, hash(j + ${i}) AS h, random() AS v FROM range(${per}) t(j)) TO '${f}' (FORMAT parquet)`,
    );
    big.push(f);
  }
  const bigBytes = big.reduce((s, f) => s + statSync(f).size, 0);
  await run([POND_BIN, "copy", ...big.map((f) => `host+series://${f}`), "/big.series"], { env });
  const bigMerge = await run([POND_BIN, "maintain", "merge", "/big.series", "--target-size", "4GiB"], { env });
  console.log(
    `big series: ${parts} versions, ${(per * parts) / 1e6}M rows, ${(bigBytes / 1048576).toFixed(0)} MiB: merge ${bigMerge.ms.toFixed(0)} ms, peak RSS ${bigMerge.maxRssMiB.toFixed(0)} MiB`,
  );

  report(`full query after merge / raw DuckDB over the original ${versions} files`, after.pond.ms / after.raw.ms, 1.0, "x");
  report(`full query before merge / raw DuckDB (same run, for reference)`, before.pond.ms / before.raw.ms, 1.5, "x");
  report("1% range after merge / before", after.pondRange.ms / before.pondRange.ms, 1.0, "x");
  report(`merge of ${versions} versions, peak RSS`, merging.maxRssMiB, 512, " MiB");
  report(`merge of ${(per * parts) / 1e6}M rows (${(bigBytes / 1048576).toFixed(0)} MiB), peak RSS`, bigMerge.maxRssMiB, 512, " MiB");
} finally {
  duck.close();
  rmSync(root, { recursive: true, force: true });
}
