// Issue 17's ingest target: 100 clients each sending 1,000 rows in batches of 10 over
// keep-alive connections to 127.0.0.1: ≥ 50,000 rows/s sustained with the default
// thresholds (10,000 rows, 32 MiB, 60 s), p99 request latency < 50 ms, peak RSS of the
// server < 512 MiB, and the series then holds exactly the rows sent (checked with the
// compiled `pond query`).
//
// The product is the compiled binary: `pond serve --listen 127.0.0.1:0` (mode `serve`). The
// clients run here. Each client first opens its connection with one untimed request (to
// another series): the figures are the sustained load. Modes, measured in the same run, in turns:
//   serve      the compiled `pond serve` (auth check, routing, metrics, the ingest part; default thresholds)
//   ingest     the ingest part alone behind a bare Bun.serve in a child running from source
//              (`bun bench/ingest.bench.ts --serve POND ingest`): what the server around it costs
//   nogroup    that with one fsync per request (group commit off): what group commit buys (--only)
//   baseline   Bun.serve that parses each body as JSON lines and answers 200: the HTTP floor
// The targets are checked on the median `serve` round (every round is listed).
// Run: node_modules/.bin/bun bench/ingest.bench.ts [--clients 100] [--rows 1000] [--batch 10] [--rounds 1] [--only serve,baseline]
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { POND_BIN, report } from "./lib.ts";

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};

if (process.argv[2] === "--serve") await serveMode(process.argv[3]!, process.argv[4]!);
else await main();

/** The server child: prints its port, serves until SIGTERM, then flushes and exits. */
async function serveMode(pondDir: string, mode: string): Promise<void> {
  const { INGEST_DEFAULTS, Registry, createIngestPart } = await import("@pond/serve");
  let handle: (req: Request) => Promise<Response>;
  let close = async () => {};
  let syncs = () => 0;
  if (mode === "baseline") {
    handle = async (req) => {
      const text = await req.text();
      let n = 0;
      for (const l of text.split("\n")) if (l.trim()) JSON.parse(l) && n++;
      return Response.json({ accepted: n, deduplicated: 0, durable: false, destination: "/b.series" });
    };
  } else {
    const part = await createIngestPart({ pondDir, metrics: new Registry() }, { ...INGEST_DEFAULTS });
    if (mode === "nogroup") part.ingester.wal.groupCommit = false;
    handle = async (req) => (await part.handle(req, new URL(req.url))) ?? new Response("not found", { status: 404 });
    close = () => part.close();
    syncs = () => part.ingester.walSyncs;
  }
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: handle });
  // BENCH_VERBOSE: the server's event-loop stalls over 10 ms, to tell its own pauses from the machine's.
  const stalls: string[] = [];
  if (process.env.BENCH_VERBOSE) {
    let last = performance.now();
    setInterval(() => {
      const now = performance.now();
      if (now - last > 12) stalls.push(`${Math.round(now - last)}`);
      last = now;
    }, 2);
  }
  process.on("SIGTERM", async () => {
    server.stop();
    await close();
    if (stalls.length) console.error(`event-loop stalls (ms): ${stalls.join(" ")}`);
    console.error(JSON.stringify({ walSyncs: syncs() }));
    process.exit(0);
  });
  console.log(server.port);
}

interface Load {
  rowsPerSec: number;
  p50: number;
  p99: number;
  wallMs: number;
  rssMiB: number;
  walSyncs: number;
  rows: number;
  /** The server process's CPU time (user + system, all threads, start to exit). */
  cpuMs: number;
  /** The server's CPU time during the timed load only (from /proc: 10 ms ticks). */
  loadCpuMs: number;
}

/** User + system CPU of process `pid` so far, in ms (/proc/PID/stat, clock ticks of 10 ms). */
function procCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function main(): Promise<void> {
  const CLIENTS = arg("--clients", 100);
  const ROWS = arg("--rows", 1000);
  const BATCH = arg("--batch", 10);
  const ROUNDS = arg("--rounds", 1);
  console.log(`load: ${CLIENTS} clients × ${ROWS} rows in batches of ${BATCH}, keep-alive, 127.0.0.1; ${ROUNDS} round(s) of each mode in turns`);
  const only = (() => {
    const i = process.argv.indexOf("--only");
    return i > 0 ? process.argv[i + 1]!.split(",") : ["baseline", "serve", "ingest"];
  })();
  const results: Record<string, Load[]> = { baseline: [], nogroup: [], ingest: [], serve: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const order = [...only];
    for (let k = 0; k < round % 3; k++) order.push(order.shift()!);
    for (const mode of order) results[mode]!.push(await load(mode, CLIENTS, ROWS, BATCH));
  }
  for (const mode of only) {
    for (const r of results[mode]!) {
      console.log(
        `${mode.padEnd(9)} ${Math.round(r.rowsPerSec).toLocaleString()} rows/s, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, wall ${Math.round(r.wallMs)} ms, server peak RSS ${Math.round(r.rssMiB)} MiB, server CPU ${Math.round(r.loadCpuMs)} ms during the load (${Math.round(r.cpuMs)} ms start to exit), WAL fsyncs ${r.walSyncs}`,
      );
    }
  }
  const median = (mode: string, f: (l: Load) => number) => {
    const xs = results[mode]!.map(f).sort((x, y) => x - y);
    return xs.length === 0 ? Number.NaN : xs[Math.floor(xs.length / 2)]!;
  };
  const rate = (mode: string) => median(mode, (l) => l.rowsPerSec);
  for (const mode of only.filter((m) => m !== "serve")) console.log(`ratio serve / ${mode} throughput (medians): ${(rate("serve") / rate(mode)).toFixed(2)}`);
  console.log("(targets: the median serve round of each figure)");
  let ok = report("pond serve ingest throughput", rate("serve"), 50_000, " rows/s", false);
  ok =
    report(
      "pond serve ingest p99 request latency",
      median("serve", (l) => l.p99),
      50,
      " ms",
    ) && ok;
  ok =
    report(
      "pond serve peak RSS",
      median("serve", (l) => l.rssMiB),
      512,
      " MiB",
    ) && ok;
  if (!ok) process.exitCode = 1;
}

/** The compiled `pond serve --listen 127.0.0.1:0` on `pondDir` (default thresholds); its address from its stderr line. */
async function startPondServe(pondDir: string) {
  const child = Bun.spawn([POND_BIN, "serve", "--listen", "127.0.0.1:0"], { env: { ...process.env, POND: pondDir }, stdout: "ignore", stderr: "pipe" });
  const reader = child.stderr.getReader();
  let err = "";
  let m: RegExpExecArray | null = null;
  while (!(m = /listening on (http:\/\/\S+)/.exec(err))) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`pond serve did not start: ${err}`);
    err += new TextDecoder().decode(value);
  }
  // Keep reading its stderr (a full pipe would stall the server); the text is read after it exits.
  const rest = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return err;
      err += new TextDecoder().decode(value);
    }
  })();
  return { child, base: m[1]!, stderr: () => rest };
}

/** This script as the server child in `mode` (the ingest part or the baseline behind a bare Bun.serve). */
async function startChild(pondDir: string, mode: string) {
  const prof = process.env.BENCH_PROFILE ? ["--cpu-prof-md", `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const child = Bun.spawn([process.execPath, ...prof, import.meta.path, "--serve", pondDir, mode], { stdout: "pipe", stderr: "pipe" });
  const reader = child.stdout.getReader();
  const { value } = await reader.read();
  return { child, base: `http://127.0.0.1:${Number(new TextDecoder().decode(value).trim())}`, stderr: () => new Response(child.stderr).text() };
}

/** One load against a fresh pond and a fresh server in `mode`; checks the rows committed (not for the baseline). */
async function load(mode: string, clients: number, rowsEach: number, batch: number): Promise<Load> {
  const dir = mkdtempSync(join(tmpdir(), "pond-ingest-bench-"));
  try {
    const pondDir = join(dir, "pond");
    const init = Bun.spawnSync([POND_BIN, "init", "--pond", pondDir]);
    if (init.exitCode !== 0) throw new Error(`pond init: ${init.stderr}`);
    const { child, base, stderr } = mode === "serve" ? await startPondServe(pondDir) : await startChild(pondDir, mode);
    const url = `${base}/ingest/b.series`;
    const T0 = 1_700_000_000;
    const latencies: number[] = [];
    const timeline: [number, number][] = [];
    // Warm-up, not timed: each client opens its keep-alive connection with one request (to another series).
    await Promise.all(
      Array.from({ length: clients }, async (_, c) => {
        const r = await fetch(url.replace("/b.series", "/warm.series"), { method: "POST", body: `{"timestamp":${T0 + c}}\n` });
        await r.text();
      }),
    );
    const cpu0 = procCpuMs(child.pid);
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: clients }, async (_, c) => {
        for (let i = 0; i < rowsEach; i += batch) {
          let body = "";
          for (let j = i; j < Math.min(rowsEach, i + batch); j++)
            body += `{"timestamp":${T0 + c * rowsEach + j},"client":${c},"seq":${j},"value":${(c * 7 + j) % 100}}\n`;
          const s = performance.now();
          const r = await fetch(url, { method: "POST", body, headers: { "Content-Type": "application/x-ndjson" } });
          const answer = (await r.json()) as { accepted: number };
          latencies.push(performance.now() - s);
          timeline.push([s - t0, performance.now() - s]);
          if (r.status !== 200 || answer.accepted !== Math.min(batch, rowsEach - i)) throw new Error(`${mode}: ${r.status} ${JSON.stringify(answer)}`);
        }
      }),
    );
    const wallMs = performance.now() - t0;
    const loadCpuMs = procCpuMs(child.pid) - cpu0;
    // pond serve: the write-ahead fsyncs from its /metrics, before it stops.
    const served = mode === "serve" ? await (await fetch(`${base}/metrics`)).text() : "";
    child.kill("SIGTERM");
    const code = await child.exited;
    const tail = await stderr();
    if (code !== 0) throw new Error(`${mode}: the server exited ${code}: ${tail}`);
    if (process.env.BENCH_VERBOSE) console.log(tail);
    const walSyncs =
      mode === "baseline"
        ? 0
        : mode === "serve"
          ? Number(/^pond_ingest_wal_syncs_total (\d+)$/m.exec(served)?.[1] ?? Number.NaN)
          : JSON.parse(tail.trim().split("\n").pop()!).walSyncs;
    const usage = child.resourceUsage()!;
    const rssMiB = Number(usage.maxRSS) / (1024 * 1024);
    const cpuMs = Number(usage.cpuTime.total) / 1000;
    if (process.env.BENCH_VERBOSE)
      console.log(`${mode}: server CPU user ${Math.round(Number(usage.cpuTime.user) / 1000)} ms, system ${Math.round(Number(usage.cpuTime.system) / 1000)} ms`);
    latencies.sort((a, b) => a - b);
    if (process.env.BENCH_VERBOSE) {
      // p99 and max latency of the requests started in each 200 ms
      const buckets = new Map<number, number[]>();
      for (const [at, ms] of timeline) buckets.set(Math.floor(at / 200), [...(buckets.get(Math.floor(at / 200)) ?? []), ms]);
      for (const [b, l] of [...buckets].sort((x, y) => x[0] - y[0])) {
        l.sort((x, y) => x - y);
        console.log(
          `  ${b * 200} ms: ${l.length} requests, p50 ${l[Math.floor(l.length / 2)]!.toFixed(1)}, p99 ${l[Math.floor(l.length * 0.99)]!.toFixed(1)}, max ${l[l.length - 1]!.toFixed(1)}`,
        );
      }
    }
    const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
    const total = clients * rowsEach;
    let rows = total;
    if (mode !== "baseline") {
      const r = Bun.spawnSync([
        POND_BIN,
        "query",
        "--pond",
        pondDir,
        "--format",
        "json",
        "SELECT count(*)::BIGINT AS n, count(DISTINCT (client, seq))::BIGINT AS k FROM '/b.series'",
      ]);
      const got = JSON.parse(r.stdout.toString())[0];
      rows = Number(got.n);
      if (Number(got.n) !== total || Number(got.k) !== total)
        throw new Error(`${mode}: the series holds ${got.n} rows (${got.k} distinct), ${total} were sent`);
      console.log(`${mode}: the series holds exactly the ${total.toLocaleString()} rows sent (count and distinct (client, seq) checked)`);
    }
    return { rowsPerSec: total / (wallMs / 1000), p50: q(0.5), p99: q(0.99), wallMs, rssMiB, walSyncs, rows, cpuMs, loadCpuMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
