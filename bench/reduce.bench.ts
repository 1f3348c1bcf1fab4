// Issue 16: `pond reduce` of a year of minutely readings (525,600 rows, 5 DOUBLE columns,
// stored as one series version a day) into 1h, 6h, 1d and 7d with every aggregation, against
// the same GROUP BY run by raw DuckDB over the same Parquet files (compiled as pond is, see
// sql.bench.ts), in the same run; then an incremental run after one more day against the
// full run, read above the fixed floor of a DuckDB process (raw DuckDB's SELECT 1).
// Run: node_modules/.bin/bun bench/reduce.bench.ts [days=365] [rounds=7]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseReduceConfig, reductionSql, type OutputAggregate } from "@pond/present";
import { openDuckDB, sqlString } from "@pond/tlogfs/duckdb";
import { POND_BIN, interleaved, report, run, type Run } from "./lib.ts";

/** `run`, with the child's CPU time (user + system) as well. */
async function runCpu(argv: string[], env?: Record<string, string>): Promise<Run & { cpuMs: number }> {
  const t0 = performance.now();
  const p = Bun.spawn(argv, { env: { ...(process.env as Record<string, string>), ...env }, stdout: "ignore", stderr: "pipe" });
  const code = await p.exited;
  const ms = performance.now() - t0;
  if (code !== 0) throw new Error(`${argv.join(" ")} exited ${code}: ${await new Response(p.stderr).text()}`);
  const ru = p.resourceUsage();
  const cpuMs = ru ? Number(ru.cpuTime.user + ru.cpuTime.system) / 1000 : Number.NaN;
  return { ms, maxRssMiB: ru ? Number(ru.maxRSS) / (1024 * 1024) : Number.NaN, code, cpuMs };
}

function medianOf(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const BUN = process.execPath;
const days = Number(process.argv[2] ?? 365);
const rounds = Number(process.argv[3] ?? 7);
const root = mkdtempSync(join(tmpdir(), "pond-bench-reduce-"));
const env = (p: string) => ({ POND: p });
const BASELINE = join(root, "duckdb-baseline");
await run([BUN, resolve(import.meta.dir, "../packages/cmd/build.ts"), "--entry", resolve(import.meta.dir, "duckdb-baseline.ts"), "--outfile", BASELINE]);

const COLUMNS = ["temp", "cond", "ph", "do", "depth"];
const CONFIG = `in: /st/*.series\nout: /reduced\nresolutions: [1h, 6h, 1d, 7d]\naggregations: [avg, min, max, count, sum, first, last]\n`;

const duck = await openDuckDB();
try {
  await duck.run("SET TimeZone='UTC'");
  const dir = join(root, "days");
  mkdirSync(dir);
  const files: string[] = [];
  const dayFile = (d: number) => join(dir, `d${String(d).padStart(3, "0")}.parquet`);
  const writeDay = async (d: number) => {
    const cols = COLUMNS.map((c, k) => `round(${10 * (k + 1)} + sin((${d} * 1440 + i) / ${500 + k * 77}.0) * ${k + 2} + random(), 3) AS "${c}"`).join(", ");
    await duck.run(
      `COPY (SELECT TIMESTAMPTZ '2025-01-01 00:00:00+00' + INTERVAL (${d} * 1440 + i) MINUTE AS "timestamp", ${cols} FROM range(1440) t(i)) TO ${sqlString(dayFile(d))} (FORMAT parquet, COMPRESSION zstd)`,
    );
  };
  for (let d = 0; d < days; d++) {
    await writeDay(d);
    files.push(dayFile(d));
  }
  await writeDay(days); // the one more day of the incremental run
  console.log(`input: ${days} daily files, ${days * 1440} rows, ${COLUMNS.length} DOUBLE columns`);

  // The raw baseline: the very GROUP BY pond runs (reduce-sql.ts), over the same files, each resolution written to Parquet.
  const cfg = parseReduceConfig(CONFIG, "/etc/reduce/bench.yaml");
  const aggs: OutputAggregate[] = COLUMNS.flatMap((c) =>
    ("all" in cfg.aggregations ? cfg.aggregations.all : []).map((agg) => ({ column: { name: c, type: "DOUBLE" }, agg })),
  );
  const relation = `read_parquet([${files.map(sqlString).join(", ")}], hive_partitioning=false)`;
  const rawSql =
    "SET TimeZone='UTC'; " +
    cfg.resolutions
      .map(
        (r) =>
          `COPY (${reductionSql(relation, "timestamp", r, aggs)}) TO ${sqlString(join(root, `raw-${r.spelling}.parquet`))} (FORMAT parquet, COMPRESSION zstd)`,
      )
      .join("; ");
  writeFileSync(join(root, "raw.sql"), rawSql);

  // Ponds: one the full run reduces from scratch each time (its outputs removed before
  // each run, untimed), one a day behind for the incremental run (a copy of a reduced pond
  // made once; each round restores it and appends the one more day, untimed).
  const base = join(root, "base");
  await run([POND_BIN, "init", "--pond", base]);
  await run([POND_BIN, "mkdir", "/st"], { env: env(base) });
  for (let b = 0; b < files.length; b += 100)
    await run([POND_BIN, "copy", ...files.slice(b, b + 100).map((f) => `host+series://${f}`), "/st/lake.series"], { env: env(base) });
  writeFileSync(join(root, "bench.yaml"), CONFIG);
  await run([POND_BIN, "copy", "-p", `host://${join(root, "bench.yaml")}`, "/etc/reduce/bench.yaml"], { env: env(base) });
  const full = join(root, "full");
  const incrBase = join(root, "incr-base");
  const incr = join(root, "incr");
  await run(["cp", "-a", base, full]);
  await run(["cp", "-a", base, incrBase]);
  await run([POND_BIN, "reduce"], { env: env(incrBase) });

  const fullPrepared = async () => {
    // Untimed: remove the outputs so the run is a full one (a new transaction, as a user's first run after rm).
    await run([POND_BIN, "rm", "-r", "-f", "/reduced"], { env: env(full) });
  };
  const incrPrepared = async () => {
    rmSync(incr, { recursive: true, force: true });
    await run(["cp", "-a", incrBase, incr]);
    // The copy gave every payload a new inode, so control/verified-payloads/ no longer
    // vouches for any of them (it keys each check by device, inode, size and times) and the
    // timed run would hash the ~35 unmerged ones it looks at: a cost of this preparation, not
    // of a station's pond, whose payloads were recorded as verified when written. An untimed
    // read of the series records them again, as in the full run's pond.
    await run([POND_BIN, "cat", "/st/lake.series", "--format", "csv"], { env: env(incr) });
    await run([POND_BIN, "copy", `host+series://${dayFile(days)}`, "/st/lake.series"], { env: env(incr) });
  };
  // Each timed command is preceded by its untimed preparation and a sync, inside its own turn.
  // Beside wall time, each command's CPU time (user + system, all its threads) is kept:
  // on this shared machine wall time mostly measures the other tenants.
  const cpu: Record<string, number[]> = {};
  const timed = async (label: string, prep: () => Promise<void>, argv: string[], opts: Parameters<typeof run>[1] = {}) => {
    await prep();
    Bun.spawnSync(["sync"]);
    const r = await runCpu(argv, opts.env);
    cpu[label] = [...(cpu[label] ?? []), r.cpuMs];
    return r;
  };
  const none = async () => {};
  let k = 0;
  const m = await interleaved(rounds, {
    raw: () => timed("raw", none, [BASELINE, rawSql]),
    pondFull: () => timed("full", fullPrepared, [POND_BIN, "reduce"], { env: env(full) }),
    pondIncr: () => timed("incr", incrPrepared, [POND_BIN, "reduce"], { env: env(incr) }),
    rawStart: () => timed("start", none, [BASELINE, "SELECT 1"]),
    // A pond write's own fixed cost, no DuckDB: lock, begin, commit, control log.
    pondWrite: () => timed("write", none, [POND_BIN, "mkdir", `/w${k++}`], { env: env(full) }),
  });
  const { raw, pondFull, pondIncr, rawStart, pondWrite } = m;
  console.log(
    `medians of ${rounds}: raw DuckDB GROUP BY ${raw.ms.toFixed(0)} ms, pond reduce (full) ${pondFull.ms.toFixed(0)} ms, pond reduce after one more day ${pondIncr.ms.toFixed(0)} ms, raw DuckDB SELECT 1 ${rawStart.ms.toFixed(0)} ms, pond mkdir ${pondWrite.ms.toFixed(0)} ms; peak RSS raw ${raw.maxRssMiB.toFixed(0)} MiB, pond ${pondFull.maxRssMiB.toFixed(0)} MiB`,
  );
  // CPU medians over the measured rounds (the first, unmeasured run of each is left out).
  const c = Object.fromEntries(Object.entries(cpu).map(([k, xs]) => [k, medianOf(xs.slice(1))])) as Record<"raw" | "full" | "incr" | "start" | "write", number>;
  console.log(
    `CPU time, medians: raw GROUP BY ${c.raw.toFixed(0)} ms, pond reduce (full) ${c.full.toFixed(0)} ms, after one more day ${c.incr.toFixed(0)} ms, raw SELECT 1 ${c.start.toFixed(0)} ms, pond mkdir ${c.write.toFixed(0)} ms; ratios full/raw ${(c.full / c.raw).toFixed(2)}x, incremental/full above the floor ${((c.incr - c.start) / (c.full - c.start)).toFixed(3)}x`,
  );
  const above = (x: number) => Math.max(0, x - rawStart.ms);
  console.log(
    `incremental / full: ${(pondIncr.ms / pondFull.ms).toFixed(3)}x end to end; above the floor (${rawStart.ms.toFixed(0)} ms): ${above(pondIncr.ms).toFixed(0)} / ${above(pondFull.ms).toFixed(0)} ms`,
  );
  report("pond reduce (full, 4 resolutions) / raw DuckDB GROUP BY", pondFull.ms / raw.ms, 1.3, "x");
  report("pond reduce after one more day / full run, above DuckDB's start", above(pondIncr.ms) / above(pondFull.ms), 0.05, "x");
} finally {
  duck.close();
  rmSync(root, { recursive: true, force: true });
}
