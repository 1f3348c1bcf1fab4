// Issue 15, the year-long collector: a pond built as a collector builds it (one version of 10
// rows a minute into one series, automatic maintenance on), through the CLI for the first
// `--cli` versions, then through the library (steward's Pond.write, the same code path the
// CLI runs, automatic maintenance included, without the process start) up to `--versions`.
// At 1k, 10k and 100k versions (those not above --versions) and at --versions, each figure
// is compared with the same command on a pond holding only the last day (1,440 versions),
// measured in the same run, interleaved:
//   one more append (≤ 1.5×), a one-day time-range query (≤ 1.5×), `list -l` of the folder
//   (≤ 1.5×), `describe` per version printed (≤ 2×); then, after
//   `pond maintain full --keep-last 1 --retention 0s`, the full query against raw DuckDB over
//   one Parquet file of the same rows (≤ 1.2×) and the pond's disk use against that file
//   (≤ 1.3× plus the fixed overhead printed: the log, the control folder).
// Run: node_modules/.bin/bun bench/collector.bench.ts [--versions 10000] [--cli 2000] [--keep-before-full DIR]
// (--keep-before-full copies the big pond at the last point to DIR before `maintain full`, to
// measure maintenance again on the same pond.)
// The defaults took 12-16 min on this shared machine (2,000 CLI appends are most of it).
// --versions 100000 took 42 min here in run 11 (the pond 1,544 s to grow; library appends cost
// 10-32 ms a version throughout, with tiered entry files and merges planned from the series
// summary); see README.md, "The year-long collector".
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { Pond } from "@pond/steward";
import { WD } from "@pond/tinyfs";
import { openDuckDB } from "@pond/tlogfs/duckdb";
import { T0, appendVersion, versionFile } from "./collector-pond.ts";
import { POND_BIN, interleaved, report, run } from "./lib.ts";

const { values } = parseArgs({
  options: { versions: { type: "string", default: "10000" }, cli: { type: "string", default: "2000" }, "keep-before-full": { type: "string" } },
});
const total = Number(values.versions);
const viaCli = Math.min(total, Number(values.cli));
const DAY = 1440;
const BUN = process.execPath;
const root = mkdtempSync(join(tmpdir(), "pond-bench-collector-"));
const duck = await openDuckDB();
const BASELINE = join(root, "duckdb-baseline");
await run([BUN, resolve(import.meta.dir, "../packages/cmd/build.ts"), "--entry", resolve(import.meta.dir, "duckdb-baseline.ts"), "--outfile", BASELINE]);
const srcDir = join(root, "src");
mkdirSync(srcDir);

function du(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) if (e.isFile()) n += statSync(join(e.parentPath, e.name)).size;
  return n;
}

/** A pond with versions [from, to) of the collector, the first `cli` of them through the CLI. */
async function grow(pondDir: string, from: number, to: number, cli: number, attrs: { value?: Record<string, unknown> }): Promise<void> {
  const env = { POND: pondDir };
  for (let i = from; i < Math.min(to, from + cli); i++)
    await run([POND_BIN, "copy", `host+series://${await versionFile(duck, srcDir, i)}`, "/data/lake.series", "-p"], { env });
  if (from + cli >= to) return;
  const pond = Pond.open(pondDir);
  if (!attrs.value) {
    const wd = new WD(await pond.view());
    const st = await wd.stat("/data/lake.series");
    attrs.value = st.versions!.at(-1)!.attributes;
  }
  let lap = performance.now();
  let since = 0;
  for (let i = Math.max(from, from + cli); i < to; i++, since++) {
    if (i % 1000 === 0 && since > 0) {
      // The library path's rate as the series grows: what an estimate of a longer run rests on.
      console.log(`  ${pondDir.endsWith("big") ? "" : "day pond: "}library appends to ${i}: ${((performance.now() - lap) / since).toFixed(1)} ms a version`);
      lap = performance.now();
      since = 0;
    }
    const f = await versionFile(duck, srcDir, i);
    await appendVersion(pond, i, f, attrs.value);
  }
}

try {
  const big = join(root, "big");
  await run([POND_BIN, "init", "--pond", big]);
  const attrs: { value?: Record<string, unknown> } = {};
  const points = [1000, 10_000, 100_000].filter((n) => n < total).concat([total]);
  let have = 0;
  const ok: boolean[] = [];
  for (const n of points) {
    const t = performance.now();
    await grow(big, have, n, Math.max(0, viaCli - have), attrs);
    have = n;
    console.log(`built ${n} versions (${((performance.now() - t) / 1000).toFixed(0)} s)`);
    // The day pond: the last day's versions only, built the same way (CLI for up to 200 of them).
    const day = join(root, `day-${n}`);
    await run([POND_BIN, "init", "--pond", day]);
    await grow(day, Math.max(0, n - DAY), n, 200, attrs);
    const dayVersions = n - Math.max(0, n - DAY);
    const envB = { POND: big };
    const envD = { POND: day };
    // Both ponds get the same next versions, as the collector would append them.
    let nextBig = n;
    let nextDay = n;
    const start = new Date(T0 + (n - 1440) * 60_000).toISOString();
    const end = new Date(T0 + n * 60_000).toISOString();
    const ranged = ["cat", "/data/lake.series", "--sql", "SELECT count(*), avg(v) FROM source", "--time-start", start, "--time-end", end];
    const m = await interleaved(7, {
      appendBig: async () => run([POND_BIN, "copy", `host+series://${await versionFile(duck, srcDir, nextBig++)}`, "/data/lake.series"], { env: envB }),
      appendDay: async () => run([POND_BIN, "copy", `host+series://${await versionFile(duck, srcDir, nextDay++)}`, "/data/lake.series"], { env: envD }),
      rangeBig: () => run([POND_BIN, ...ranged], { env: envB }),
      rangeDay: () => run([POND_BIN, ...ranged], { env: envD }),
      listBig: () => run([POND_BIN, "list", "-l", "/data/*"], { env: envB }),
      listDay: () => run([POND_BIN, "list", "-l", "/data/*"], { env: envD }),
      describeBig: () => run([POND_BIN, "describe", "/data/lake.series"], { env: envB }),
      describeDay: () => run([POND_BIN, "describe", "/data/lake.series"], { env: envD }),
    });
    have = nextBig; // the interleaved runs appended 8 more (one unmeasured + 7)
    const bigCount = nextBig;
    const dayCount = dayVersions + (nextDay - n);
    console.log(
      `at ${n}: append ${m.appendBig.ms.toFixed(0)} vs ${m.appendDay.ms.toFixed(0)} ms; one-day range ${m.rangeBig.ms.toFixed(0)} vs ${m.rangeDay.ms.toFixed(0)} ms; list -l ${m.listBig.ms.toFixed(0)} vs ${m.listDay.ms.toFixed(0)} ms; describe ${m.describeBig.ms.toFixed(0)} ms (${bigCount} versions) vs ${m.describeDay.ms.toFixed(0)} ms (${dayCount})`,
    );
    ok.push(report(`at ${n}: one more append / day pond`, m.appendBig.ms / m.appendDay.ms, 1.5, "x"));
    ok.push(report(`at ${n}: one-day range query / day pond`, m.rangeBig.ms / m.rangeDay.ms, 1.5, "x"));
    ok.push(report(`at ${n}: list -l / day pond`, m.listBig.ms / m.listDay.ms, 1.5, "x"));
    ok.push(report(`at ${n}: describe per version printed / day pond`, m.describeBig.ms / bigCount / (m.describeDay.ms / dayCount), 2, "x"));

    // After full maintenance: the full query against raw DuckDB over one file of the same rows.
    if (n === total && values["keep-before-full"]) await run(["cp", "-a", big, values["keep-before-full"]]);
    // Peak RSS from GNU time: Bun's resourceUsage() of a child reports the largest of every child so far.
    const timeOut = join(root, "time.txt");
    const full = await run(["/usr/bin/time", "-f", "%M", "-o", timeOut, POND_BIN, "maintain", "full", "--keep-last", "1", "--retention", "0s"], { env: envB });
    full.maxRssMiB = Number(readFileSync(timeOut, "utf8").trim().split("\n").at(-1)) / 1024;
    const one = join(root, `one-${n}.parquet`);
    const all = Array.from({ length: have }, (_, i) => `'${join(srcDir, `v${i}.parquet`)}'`).join(", ");
    await duck.run(`COPY (SELECT * FROM read_parquet([${all}]) ORDER BY timestamp) TO '${one}' (FORMAT parquet, COMPRESSION zstd)`);
    // The same rows with the encodings pond's merged files use (Parquet 2's delta and
    // byte-stream-split): printed beside the target, which is against DuckDB's default writer.
    const oneV2 = join(root, `one-${n}-v2.parquet`);
    await duck.run(`COPY (SELECT * FROM read_parquet('${one}')) TO '${oneV2}' (FORMAT parquet, COMPRESSION zstd, PARQUET_VERSION V2)`);
    const q = await interleaved(7, {
      pond: () => run([POND_BIN, "cat", "/data/lake.series", "--sql", "SELECT count(*), avg(v) FROM source"], { env: envB }),
      raw: () => run([BASELINE, `SELECT count(*), avg(v) FROM read_parquet('${one}')`]),
      rawV2: () => run([BASELINE, `SELECT count(*), avg(v) FROM read_parquet('${oneV2}')`]),
    });
    const payloads = du(join(big, "data/_large_files"));
    const log = du(join(big, "data/_delta_log"));
    const entries = du(join(big, "data")) - payloads - log;
    const control = du(join(big, "control"));
    const history = statSync(join(big, "control/transactions.jsonl")).size;
    const caches = du(join(big, "control/row-cache")) + statSync(join(big, "control/snapshot-cache.json")).size;
    const oneSize = statSync(one).size;
    const oneV2Size = statSync(oneV2).size;
    const nPayloads = readdirSync(join(big, "data/_large_files")).filter((f) => f.startsWith("sha256=")).length;
    console.log(
      `at ${n}: maintain full ${full.ms.toFixed(0)} ms (peak RSS ${full.maxRssMiB.toFixed(0)} MiB); full query ${q.pond.ms.toFixed(0)} vs raw ${q.raw.ms.toFixed(0)} ms; ` +
        `disk: payloads ${payloads} bytes in ${nPayloads} files, entry files (one row a version) ${entries} bytes (${(entries / have).toFixed(0)} a version), log ${log}, control ${control} ` +
        `(transactions.jsonl ${history}, caches ${caches}); one Parquet file ${oneSize} bytes`,
    );
    console.log(
      `at ${n}: beside it, one file with the merged files' encodings (Parquet 2): ${oneV2Size} bytes, raw ${q.rawV2.ms.toFixed(0)} ms; ` +
        `full query ${(q.pond.ms / q.rawV2.ms).toFixed(2)}x, payloads ${(payloads / oneV2Size).toFixed(2)}x, data/ ${((payloads + entries + log) / oneV2Size).toFixed(2)}x of it`,
    );
    ok.push(report(`at ${n}: maintain full peak RSS`, full.maxRssMiB, 512, " MiB"));
    ok.push(report(`at ${n}: full query after maintain full / raw DuckDB over one file`, q.pond.ms / q.raw.ms, 1.2, "x"));
    ok.push(report(`at ${n}: payload bytes / one Parquet file`, payloads / oneSize, 1.3, "x"));
    ok.push(report(`at ${n}: all of data/ (payloads, entry files, log) / one Parquet file`, (payloads + entries + log) / oneSize, 1.3, "x"));
    rmSync(day, { recursive: true, force: true });
  }
  console.log(ok.every(Boolean) ? "all targets met" : "some targets missed (see FAIL lines)");
} finally {
  duck.close();
  rmSync(root, { recursive: true, force: true });
}
