// Issue 17, queries through `pond serve`: over a series of 1,000 versions (1,000 rows each,
// one day each, as in bench/sql.bench.ts), POST /sql of the full query, the same query kept
// to a 1% time range (10 of the 1,000 days), and raw DuckDB resident in this process over
// the same payload files; all measured in turns (lib.ts `interleaved`), in the same run.
// The full and 1% queries repeat, so after the first each runs in the session kept for its
// sources (session-pool.ts), as a polling dashboard's would; the full query is also measured
// in a fresh session each time. The servers' own CPU a full query (from /proc) is printed
// beside the times: on this shared machine the load inflates wall time, not CPU. Also: what the server pays per request to see other processes' commits (a stat of the log
// folder, against listing it), and the DuckDB start the spare session keeps out of a request.
// Run: node_modules/.bin/bun bench/serve-query.bench.ts [versions=1000] [rounds=15]
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { LocalObjectStore, latestVersion } from "@pond/oplog";
import { openDuckDB, sandbox } from "@pond/tlogfs/duckdb";
import { POND_BIN, interleaved, report, run, type Run } from "./lib.ts";

const versions = Number(process.argv[2] ?? 1000);
const rounds = Number(process.argv[3] ?? 15);
const root = mkdtempSync(join(tmpdir(), "pond-bench-serve-"));
const pondDir = join(root, "pond");
const env = { POND: pondDir };
const duck = await openDuckDB();
let server: ReturnType<typeof Bun.spawn> | undefined;
let rawServer: ReturnType<typeof Bun.spawn> | undefined;

/** The median of timings, as a Run for `interleaved`. */
async function timed(fn: () => Promise<void>): Promise<Run> {
  const t0 = performance.now();
  await fn();
  return { ms: performance.now() - t0, cpuMs: Number.NaN, maxRssMiB: Number.NaN, code: 0 };
}

/**
 * A process's CPU time so far (user + system, every thread), in ms, from /proc: what one
 * request cost a server, which the machine's load does not inflate as it does wall time.
 * Ticks are 10 ms (CLK_TCK 100), so it is read as a sum over all rounds.
 */
function processCpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(f[11]) + Number(f[12])) * 10;
}

/** `fn` timed, with the CPU `pid` spent meanwhile added to `cpu.ms` (and `cpu.n` counted). */
async function timedCpu(pid: number, cpu: { ms: number; n: number }, fn: () => Promise<void>): Promise<Run> {
  const c0 = processCpuMs(pid);
  const r = await timed(fn);
  cpu.ms += processCpuMs(pid) - c0;
  cpu.n++;
  return r;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

try {
  await run([POND_BIN, "init", "--pond", pondDir]);
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
  // The pond's own payload files: the same bytes DuckDB reads when pond answers.
  const large = join(pondDir, "data", "_large_files");
  const payloads = readdirSync(large).map((n) => join(large, n));
  const list = `[${payloads.map((f) => `'${f}'`).join(",")}]`;
  console.log(`series: ${versions} versions, ${payloads.length} payload files`);

  // Raw DuckDB resident in a process of its own behind the same HTTP server, compiled as pond is.
  const rawBin = join(root, "duckdb-http-baseline");
  await run([
    process.execPath,
    resolve(import.meta.dir, "../packages/cmd/build.ts"),
    "--entry",
    resolve(import.meta.dir, "duckdb-http-baseline.ts"),
    "--outfile",
    rawBin,
  ]);
  rawServer = Bun.spawn([rawBin], { stdout: "pipe", stderr: "inherit" });
  const rawUrl = (await (rawServer.stdout as ReadableStream<Uint8Array>)[Symbol.asyncIterator]().next()).value;
  const rawHttp = new TextDecoder().decode(rawUrl).trim();
  const rawPost = async (text: string) => {
    const r = await fetch(rawHttp, { method: "POST", body: text });
    if (r.status !== 200) throw new Error(`raw DuckDB server ${r.status}`);
    return r.text();
  };

  server = Bun.spawn([POND_BIN, "serve", "--listen", "127.0.0.1:0"], {
    env: { ...(process.env as Record<string, string>), ...env },
    stdout: "ignore",
    stderr: "pipe",
  });
  let err = "";
  const dec = new TextDecoder();
  const reader = server.stderr as ReadableStream<Uint8Array>;
  const it = reader[Symbol.asyncIterator]();
  let m: RegExpExecArray | null = null;
  while (m === null) {
    const c = await it.next();
    if (c.done) throw new Error(`pond serve ended: ${err}`);
    err += dec.decode(c.value);
    m = /listening on (http:\/\/\S+)/.exec(err);
  }
  const url = m[1]!;
  const post = async (body: object) => {
    const r = await fetch(`${url}/sql`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const text = await r.text();
    if (r.status !== 200) throw new Error(`POST /sql ${r.status}: ${text}`);
    return text;
  };
  const Q = "SELECT avg(v) AS a, count(*) AS n FROM '/s.series'";
  const rangeDays = Math.max(1, Math.round(versions / 100));
  const start = new Date(Date.UTC(2020, 0, 1) + Math.floor(versions / 3) * 86_400_000);
  const end = new Date(start.getTime() + rangeDays * 86_400_000);
  const rangeBody = { sql: Q, time_start: start.toISOString(), time_end: end.toISOString() };
  // The answers are checked, not only timed.
  const full = JSON.parse(await post({ sql: Q })) as { a: number; n: number }[];
  const part = JSON.parse(await post(rangeBody)) as { a: number; n: number }[];
  const raw = (await duck.all(`SELECT avg(v) AS a, count(*) AS n FROM read_parquet(${list})`)) as { a: number; n: bigint }[];
  if (full[0]!.n !== versions * 1000 || Number(raw[0]!.n) !== versions * 1000 || Math.abs(full[0]!.a - raw[0]!.a) > 1e-9)
    throw new Error(`answers differ: ${JSON.stringify(full)} ${JSON.stringify(raw, (_k, v) => (typeof v === "bigint" ? Number(v) : v))}`);
  if (part[0]!.n !== rangeDays * 1000) throw new Error(`1% range has ${part[0]!.n} rows, expected ${rangeDays * 1000}`);

  Bun.spawnSync(["sync"]);
  let fresh = 0;
  const t = await interleaved(rounds, {
    serveFull: () => timed(() => post({ sql: Q }).then(() => {})),
    serveRange: () => timed(() => post(rangeBody).then(() => {})),
    // The full query in a fresh session: a time range that keeps every row but differs each
    // time, so no kept session matches (the first query over some sources, as after a commit).
    serveFullFresh: () => timed(() => post({ sql: Q, time_start: new Date(Date.UTC(2019, 0, 1) + ++fresh * 1000).toISOString() }).then(() => {})),
    rawHttp: () => timed(() => rawPost(`SELECT avg(v) AS a, count(*) AS n FROM read_parquet(${list})`).then(() => {})),
    rawResident: () => timed(() => duck.all(`SELECT avg(v) AS a, count(*) AS n FROM read_parquet(${list})`).then(() => {})),
    // Raw DuckDB sandboxed per query as pond does it (a fresh instance, SET allowed_paths to
    // the 1,000 files, locked, the rows streamed): the price of the sandbox without pond's code.
    rawSandboxed: () =>
      timed(async () => {
        const d = await openDuckDB();
        try {
          const split = `string_split('${payloads.join("\n")}', chr(10))`;
          await d.run(`SET allowed_paths=${split}`);
          await sandbox(d, [d.tempDirectory]);
          for await (const c of d.stream(`SELECT avg(v) AS a, count(*) AS n FROM read_parquet(${split}, union_by_name=false, hive_partitioning=false)`)) void c;
        } finally {
          d.close();
        }
      }),
    // What every POST /sql pays besides the query: HTTP, a fresh sandboxed session, no files.
    serveSelect1: () => timed(() => post({ sql: "SELECT 1" }).then(() => {})),
    // What opening a fresh DuckDB costs (the per-query sandbox's price, paid by the spare session between requests).
    duckOpen: () => timed(async () => (await openDuckDB()).close()),
  });
  console.log(
    `POST /sql full ${t.serveFull.ms.toFixed(1)} ms (in a fresh session ${t.serveFullFresh.ms.toFixed(1)} ms), 1% range ${t.serveRange.ms.toFixed(1)} ms, raw DuckDB resident ${t.rawResident.ms.toFixed(1)} ms (in its own process over HTTP ${t.rawHttp.ms.toFixed(1)} ms), raw DuckDB sandboxed per query ${t.rawSandboxed.ms.toFixed(1)} ms; POST /sql SELECT 1 ${t.serveSelect1.ms.toFixed(1)} ms; a fresh DuckDB open+close ${t.duckOpen.ms.toFixed(1)} ms`,
  );

  // The servers' CPU a full query, apart from the rounds above: there a fresh session's close
  // and the spare's reopening (after the answer) would land in the next request's window.
  const serveCpu = { ms: 0, n: 0 };
  const rawCpu = { ms: 0, n: 0 };
  for (let i = 0; i < rounds; i++) {
    await timedCpu(server.pid, serveCpu, () => post({ sql: Q }).then(() => {}));
    await timedCpu(rawServer.pid, rawCpu, () => rawPost(`SELECT avg(v) AS a, count(*) AS n FROM read_parquet(${list})`).then(() => {}));
  }
  console.log(
    `server CPU a request (mean of ${serveCpu.n}): POST /sql full in its kept session ${(serveCpu.ms / serveCpu.n).toFixed(1)} ms, raw DuckDB in its own process over HTTP ${(rawCpu.ms / rawCpu.n).toFixed(1)} ms (${(serveCpu.ms / rawCpu.ms).toFixed(2)}x)`,
  );

  // Seeing other processes' commits: a stat of data/_delta_log per request, against listing the log.
  const logDir = join(pondDir, "data", "_delta_log");
  const store = new LocalObjectStore(join(pondDir, "data"));
  const statUs: number[] = [];
  const listUs: number[] = [];
  for (let i = 0; i < 200; i++) {
    let t0 = performance.now();
    statSync(logDir, { bigint: true });
    statUs.push((performance.now() - t0) * 1000);
    t0 = performance.now();
    await latestVersion(store);
    listUs.push((performance.now() - t0) * 1000);
  }
  console.log(
    `per-request freshness check: stat of the log folder ${median(statUs).toFixed(0)} µs, listing the log for its newest version ${median(listUs).toFixed(0)} µs (${readdirSync(logDir).length} files)`,
  );
  const health: number[] = [];
  for (let i = 0; i < 50; i++) {
    const t0 = performance.now();
    await (await fetch(`${url}/health`)).text();
    health.push(performance.now() - t0);
  }
  console.log(`GET /health (lists the log and reads the newest commit): ${median(health).toFixed(2)} ms`);

  const ok1 = report("1% time range / full query, both through POST /sql", t.serveRange.ms / t.serveFull.ms, 0.2, "x");
  report("full query through POST /sql in a fresh session / raw DuckDB sandboxed per query (information)", t.serveFullFresh.ms / t.rawSandboxed.ms, 1.2, "x");
  report("full query through POST /sql in a fresh session / raw DuckDB resident (information)", t.serveFullFresh.ms / t.rawResident.ms, 1.2, "x");
  report("full query through POST /sql / raw DuckDB resident in its own process over the same HTTP", t.serveFull.ms / t.rawHttp.ms, 1.2, "x");
  const ok2 = report("full query through POST /sql / raw DuckDB resident", t.serveFull.ms / t.rawResident.ms, 1.2, "x");
  console.log(`load: ${(await Bun.file("/proc/loadavg").text()).trim()}`);
  if (!ok1 || !ok2) process.exitCode = 1;
} finally {
  server?.kill("SIGTERM");
  await server?.exited;
  rawServer?.kill("SIGTERM");
  await rawServer?.exited;
  duck.close();
  rmSync(root, { recursive: true, force: true });
}
