// pond serve end to end: the compiled binary, real HTTP on 127.0.0.1, real DuckDB, and
// `pond query` from other processes as the reference for every answer.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { tableFromIPC } from "apache-arrow";
import { latestLogVersion, newPond, pond, pondOk } from "./support/pond-cli.ts";
import { promSamples, startServe, type ServeProcess } from "./support/serve.ts";

let dir: string;
let pondDir: string;
let cleanup: () => void;
let srv: ServeProcess;

/** Three versions of a series, one day each, 24 hourly rows a day; and a table. */
function dayCsv(day: number): string {
  let s = "timestamp,sensor,value\n";
  for (let h = 0; h < 24; h++) s += `2024-01-${String(day).padStart(2, "0")}T${String(h).padStart(2, "0")}:00:00Z,s${h % 3},${day * 100 + h}.5\n`;
  return s;
}

beforeAll(async () => {
  ({ dir, pondDir, cleanup } = await newPond());
  for (const d of [1, 2, 3]) {
    writeFileSync(join(dir, `d${d}.csv`), dayCsv(d));
    await pondOk(["copy", `host+series+csv://${join(dir, `d${d}.csv`)}`, "/lake.series"], { pond: pondDir });
  }
  writeFileSync(join(dir, "sites.csv"), 'site,name,opened\n1,"North, upper",2020-05-01\n2,South "B",\n');
  await pondOk(["copy", `host+csv://${join(dir, "sites.csv")}`, "/sites.table"], { pond: pondDir });
  srv = await startServe(pondDir);
});

afterAll(async () => {
  if (srv && srv.proc.exitCode === null) await srv.stop("SIGKILL");
  cleanup?.();
});

const sql = (url: string, body: string | object, accept?: string, headers: Record<string, string> = {}) =>
  fetch(`${url}/sql`, {
    method: "POST",
    headers: {
      ...(typeof body === "string" ? { "content-type": "text/plain" } : { "content-type": "application/json" }),
      ...(accept ? { accept } : {}),
      ...headers,
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

/** One HTTP/1.1 keep-alive connection, by hand: requests go one after another on the same socket. */
class KeepAlive {
  private buf = Buffer.alloc(0);
  private waiting: (() => void) | undefined;
  /** Resolves with the time (performance.now()) the server closed the connection. */
  readonly closed: Promise<number>;
  private constructor(private readonly socket: Socket) {
    socket.on("data", (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.waiting?.();
    });
    this.closed = new Promise((resolve) => socket.on("close", () => resolve(performance.now())));
  }

  static open(port: number): Promise<KeepAlive> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, "127.0.0.1", () => resolve(new KeepAlive(socket)));
      socket.once("error", reject);
    });
  }

  /** Sends GET `path` and reads its answer (Content-Length framed). */
  async get(path: string): Promise<{ status: number; body: string }> {
    this.socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n`);
    for (;;) {
      const end = this.buf.indexOf("\r\n\r\n");
      if (end >= 0) {
        const head = this.buf.subarray(0, end).toString();
        const length = Number(/content-length: *(\d+)/i.exec(head)?.[1]);
        if (!Number.isFinite(length)) throw new Error(`no Content-Length in ${head}`);
        if (this.buf.length >= end + 4 + length) {
          const body = this.buf.subarray(end + 4, end + 4 + length).toString();
          this.buf = this.buf.subarray(end + 4 + length);
          return { status: Number(head.split(" ")[1]), body };
        }
      }
      await new Promise<void>((r) => {
        this.waiting = r;
      });
    }
  }

  close(): void {
    this.socket.end();
  }
}

const Q = "SELECT timestamp, sensor, value FROM '/lake.series' ORDER BY timestamp";

describe("pond serve", () => {
  test("--help lists every option", async () => {
    const r = await pondOk(["serve", "--help"]);
    for (const o of ["--listen", "--token", "--query-timeout", "--flush-rows", "--flush-bytes", "--flush-interval", "--dedup-key", "--dedup-window"])
      expect(r.stdout).toContain(o);
    expect(r.stdout).toContain("127.0.0.1:8080");
  });

  test("GET /health answers the pond id and the newest transaction", async () => {
    const r = await fetch(`${srv.url}/health`);
    expect(r.status).toBe(200);
    const body = (await r.json()) as { status: string; pondId: string; seq: number; committedAt: string };
    const id = JSON.parse(readFileSync(join(pondDir, "control", "pond.json"), "utf8")).pondId;
    const seq = await latestLogVersion(pondDir);
    expect(body).toEqual({ status: "ok", pondId: id, seq, committedAt: body.committedAt });
    const commitTime = JSON.parse(
      readFileSync(join(pondDir, "data", "_delta_log", `${String(seq).padStart(20, "0")}.json`), "utf8")
        .split("\n")
        .find((l) => l.includes('"commitInfo"'))!,
    ).commitInfo.timestamp;
    expect(body.committedAt).toBe(new Date(commitTime).toISOString());
  });

  test("POST /sql answers JSON (the default) exactly as pond query --format json", async () => {
    const want = await pondOk(["query", Q, "--format", "json"], { pond: pondDir });
    const r = await sql(srv.url, Q);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("application/json");
    const text = await r.text();
    expect(text).toBe(want.stdout);
    expect((JSON.parse(text) as unknown[]).length).toBe(72);
  });

  test("POST /sql with Accept: text/csv answers pond query --format csv, quoting included", async () => {
    const q = "SELECT * FROM '/sites.table' ORDER BY site";
    const want = await pondOk(["query", q, "--format", "csv"], { pond: pondDir });
    const r = await sql(srv.url, q, "text/csv");
    expect(r.headers.get("content-type")).toStartWith("text/csv");
    expect(await r.text()).toBe(want.stdout);
    expect(want.stdout).toContain('"North, upper"');
  });

  test("POST /sql with Accept: application/x-ndjson answers pond query --format jsonl", async () => {
    const want = await pondOk(["query", Q, "--format", "jsonl"], { pond: pondDir });
    expect(await (await sql(srv.url, Q, "application/x-ndjson")).text()).toBe(want.stdout);
  });

  test("POST /sql with Accept: Parquet answers the same rows as pond query", async () => {
    const r = await sql(srv.url, Q, "application/vnd.apache.parquet");
    expect(r.status).toBe(200);
    const bytes = new Uint8Array(await r.arrayBuffer());
    expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe("PAR1");
    const f = join(dir, "answer.parquet");
    writeFileSync(f, bytes);
    const got = await pondOk(["cat", `host+table://${f}`, "--format", "csv"]);
    const want = await pondOk(["query", Q, "--format", "csv"], { pond: pondDir });
    expect(got.stdout).toBe(want.stdout);
  });

  test("POST /sql with Accept: Arrow IPC stream answers the same rows, typed", async () => {
    const q = "SELECT timestamp, sensor, value, CAST(value AS BIGINT) AS n FROM '/lake.series' ORDER BY timestamp";
    const r = await sql(srv.url, q, "application/vnd.apache.arrow.stream");
    expect(r.headers.get("content-type")).toBe("application/vnd.apache.arrow.stream");
    const table = tableFromIPC(new Uint8Array(await r.arrayBuffer()));
    const want = JSON.parse((await pondOk(["query", q, "--format", "json"], { pond: pondDir })).stdout) as { sensor: string; value: number; n: number }[];
    expect(table.numRows).toBe(want.length);
    expect(table.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual(["timestamp:Timestamp<MICROSECOND, UTC>", "sensor:Utf8", "value:Float64", "n:Int64"]);
    const rows = table.toArray().map((row) => row.toJSON());
    expect(rows.map((x) => x.sensor)).toEqual(want.map((w) => w.sensor));
    expect(rows.map((x) => x.value)).toEqual(want.map((w) => w.value));
    expect(rows.map((x) => Number(x.n))).toEqual(want.map((w) => w.n));
    expect(rows[0]!.timestamp).toBe(Date.parse("2024-01-01T00:00:00Z"));
  });

  test("POST /sql JSON {sql, time_start, time_end, as_of} answers as pond query --time-start/--time-end/--as-of", async () => {
    const q = "SELECT count(*) AS n, min(timestamp) AS lo FROM '/lake.series'";
    const want = await pondOk(["query", q, "--format", "json", "--time-start", "2024-01-02", "--time-end", "2024-01-03"], { pond: pondDir });
    const r = await sql(srv.url, { sql: q, time_start: "2024-01-02", time_end: "2024-01-03" });
    expect(await r.text()).toBe(want.stdout);
    expect(JSON.parse(want.stdout)[0].n).toBe(24);
    const asOf = await pondOk(["query", q, "--format", "json", "--as-of", "1"], { pond: pondDir });
    expect(await (await sql(srv.url, { sql: q, as_of: 1 })).text()).toBe(asOf.stdout);
    expect(JSON.parse(asOf.stdout)[0].n).toBe(24);
  });

  test("a query error is 400 with DuckDB's message and the code; the sandbox refuses host files", async () => {
    const before = await latestLogVersion(pondDir);
    const r = await sql(srv.url, "SELECT nope FROM '/lake.series'");
    expect(r.status).toBe(400);
    const body = (await r.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("query_error");
    expect(body.error.message).toContain('Referenced column "nope" not found');
    // The path as written, not the view the query was rewritten to, with the caret under "nope".
    expect(body.error.message).toContain("LINE 1: SELECT nope FROM '/lake.series'\n               ^");
    expect(body.error.message).not.toContain("__pond_source");
    const write = await sql(srv.url, "COPY (SELECT 1) TO '/tmp/x.csv'");
    expect(write.status).toBe(400);
    expect(((await write.json()) as { error: { message: string } }).error.message).toMatch(/only SELECT|Permission Error/);
    expect(existsSync("/tmp/x.csv")).toBe(false);
    const host = await sql(srv.url, "SELECT * FROM read_csv('/etc/passwd')");
    expect(host.status).toBe(400);
    expect(((await host.json()) as { error: { code: string } }).error.code).toBe("query_error");
    expect(await latestLogVersion(pondDir)).toBe(before);
  });

  test("bad requests: 404 unknown route, 405 wrong method, 413 body too large, 406 Accept, 400 bad JSON: all {error: {code, message}}", async () => {
    const cases: [Promise<Response>, number, string][] = [
      [fetch(`${srv.url}/nope`), 404, "route_not_found"],
      [fetch(`${srv.url}/nope`, { method: "POST", body: "x" }), 404, "route_not_found"],
      [fetch(`${srv.url}/sql`), 405, "method_not_allowed"],
      [fetch(`${srv.url}/health`, { method: "DELETE" }), 405, "method_not_allowed"],
      [fetch(`${srv.url}/`, { method: "PUT", body: "x" }), 405, "method_not_allowed"],
      [sql(srv.url, `SELECT '${"x".repeat(2 << 20)}'`), 413, "body_too_large"],
      [sql(srv.url, "SELECT 1", "image/png"), 406, "not_acceptable"],
      [fetch(`${srv.url}/sql`, { method: "POST", headers: { "content-type": "application/json" }, body: "{" }), 400, "bad_request"],
    ];
    for (const [p, status, code] of cases) {
      const r = await p;
      const body = (await r.json()) as { error: { code: string; message: string } };
      expect([r.status, body.error.code, typeof body.error.message]).toEqual([status, code, "string"]);
    }
    expect((await fetch(`${srv.url}/sql`)).headers.get("allow")).toBe("POST");
  });

  test("GET / serves the site; missing files and escaping paths are 404", async () => {
    const r = await fetch(`${srv.url}/`);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toStartWith("text/html");
    const html = await r.text();
    expect(html).toContain("/lake.series");
    const page = /href="(series\/[^"]+\.html)"/.exec(html)![1]!;
    expect((await fetch(`${srv.url}/${page}`)).status).toBe(200);
    expect((await fetch(`${srv.url}/nothing-here.html`)).status).toBe(404);
    for (const p of ["/..%2f..%2fetc%2fpasswd", "/%2e%2e/%2e%2e/etc/passwd", "/.pond-site.json", "/series/..%5c..%5cx"]) {
      const esc = await fetch(`${srv.url}${p}`);
      expect([p, esc.status]).toEqual([p, 404]);
    }
  });

  test("commits by another pond process are seen without a restart: /health, /sql, the site, /metrics", async () => {
    const metricsBefore = promSamples(await (await fetch(`${srv.url}/metrics`)).text());
    const seq0 = ((await (await fetch(`${srv.url}/health`)).json()) as { seq: number }).seq;
    await fetch(`${srv.url}/`); // the site at seq0
    writeFileSync(join(dir, "d4.csv"), dayCsv(4));
    await pondOk(["copy", `host+series+csv://${join(dir, "d4.csv")}`, "/lake.series"], { pond: pondDir });
    const health = (await (await fetch(`${srv.url}/health`)).json()) as { seq: number };
    expect(health.seq).toBe(seq0 + 1);
    expect(health.seq).toBe(await latestLogVersion(pondDir));
    const n = (await (await sql(srv.url, "SELECT count(*) AS n FROM '/lake.series'")).json()) as { n: number }[];
    expect(n[0]!.n).toBe(96);
    await fetch(`${srv.url}/`);
    const status = (await (await fetch(`${srv.url}/status`)).json()) as {
      pond: { seq: number; commitsSeen: number; lastCommitSeenAt: string };
      site: { builtAtSeq: number };
    };
    expect(status.pond.seq).toBe(seq0 + 1);
    expect(status.site.builtAtSeq).toBe(seq0 + 1);
    expect(status.pond.commitsSeen).toBeGreaterThanOrEqual(1);
    const metrics = promSamples(await (await fetch(`${srv.url}/metrics`)).text());
    expect(metrics.get("pond_last_commit_seq")).toBe(seq0 + 1);
    expect(metrics.get("pond_commits_seen_total")! - (metricsBefore.get("pond_commits_seen_total") ?? 0)).toBe(1);
  });

  test("GET /metrics: request counters, latency histograms by route, query latency and errors by code move", async () => {
    const before = promSamples(await (await fetch(`${srv.url}/metrics`)).text());
    await fetch(`${srv.url}/health`);
    await fetch(`${srv.url}/health`);
    await (await sql(srv.url, "SELECT 1 AS x")).text();
    await (await sql(srv.url, "SELECT nope")).text();
    const after = promSamples(await (await fetch(`${srv.url}/metrics`)).text());
    const d = (k: string) => (after.get(k) ?? 0) - (before.get(k) ?? 0);
    expect(d('pond_http_requests_total{method="GET",route="/health",status="200"}')).toBe(2);
    expect(d('pond_http_requests_total{method="POST",route="/sql",status="200"}')).toBe(1);
    expect(d('pond_http_requests_total{method="POST",route="/sql",status="400"}')).toBe(1);
    expect(d('pond_http_request_duration_seconds_count{route="/health"}')).toBe(2);
    expect(d('pond_http_request_duration_seconds_bucket{route="/health",le="+Inf"}')).toBe(2);
    expect(d('pond_query_duration_seconds_count{format="json",outcome="ok"}')).toBe(1);
    expect(d('pond_query_duration_seconds_count{format="json",outcome="error"}')).toBe(1);
    expect(d('pond_errors_total{code="query_error"}')).toBe(1);
  });

  test("a large answer streams: 8 M rows of CSV (~230 MB) pass through with the server's peak RSS growing far less", async () => {
    const hwm = () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${srv.proc.pid}/status`, "utf8"))![1]) * 1024;
    const before = hwm();
    const r = await sql(srv.url, "SELECT i, i * 2 AS j, 'row-' || i AS s FROM range(8000000) t(i)", "text/csv");
    expect(r.status).toBe(200);
    let bytes = 0;
    let lines = 0;
    for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.byteLength;
      for (const b of chunk) if (b === 10) lines++;
    }
    expect(lines).toBe(8_000_001);
    expect(bytes).toBeGreaterThan(200 * 1024 * 1024);
    const grew = hwm() - before;
    expect(grew).toBeLessThan(bytes / 2);
  }, 60_000);

  test("a query over the same sources as the last runs in its kept session, with the same sandbox", async () => {
    type Q = { server: { queries: { ranInKeptSession: number; ranInFreshSession: number } } };
    const status = async () => ((await (await fetch(`${srv.url}/status`)).json()) as Q).server.queries;
    const q = "SELECT sensor, count(*) AS n FROM '/lake.series' GROUP BY sensor ORDER BY sensor";
    const first = await (await sql(srv.url, q)).text();
    const before = await status();
    const again = await (await sql(srv.url, `${q} -- again`)).text();
    const after = await status();
    expect(again).toBe(first);
    expect(after.ranInKeptSession - before.ranInKeptSession).toBe(1);
    expect(after.ranInFreshSession).toBe(before.ranInFreshSession);
    // The kept session allows exactly the files of those sources: nothing else on the host.
    const escaped = await sql(srv.url, "SELECT count(*)::VARCHAR AS n FROM '/lake.series' UNION ALL SELECT column0 FROM read_csv('/etc/passwd')");
    expect(escaped.status).toBe(400);
    expect(((await escaped.json()) as { error: { message: string } }).error.message).toMatch(/Permission Error|disabled/);
    const other = await (await sql(srv.url, "SELECT count(*) AS n FROM '/sites.table'")).json();
    expect(other).toEqual([{ n: 2 }]);
  });

  test("the same query asked again and again in its kept session (its statements kept bound) answers as pond query, in each format, every time", async () => {
    type S = { server: { queries: { ranInKeptSession: number } } };
    const kept = async () => ((await (await fetch(`${srv.url}/status`)).json()) as S).server.queries.ranInKeptSession;
    const q = "SELECT sensor, count(*) AS n, sum(value) AS s FROM '/lake.series' WHERE value > 150 GROUP BY sensor ORDER BY sensor";
    const before = await kept();
    for (const [format, accept] of [
      ["json", "application/json"],
      ["csv", "text/csv"],
      ["jsonl", "application/x-ndjson"],
    ] as const) {
      const want = (await pondOk(["query", q, "--format", format], { pond: pondDir })).stdout;
      for (let i = 0; i < 3; i++) {
        const r = await sql(srv.url, q, accept);
        expect(r.status).toBe(200);
        expect(await r.text()).toBe(want);
      }
    }
    // Every one after the first ran in the session kept for '/lake.series'.
    expect((await kept()) - before).toBeGreaterThanOrEqual(8);
  });

  test("concurrent queries (more than run at once) all get their own right answers", async () => {
    const answers = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const r = await sql(srv.url, { sql: `SELECT ${i} AS i, count(*) AS n FROM '/lake.series' WHERE value > ${i}` });
        return [r.status, await r.json()];
      }),
    );
    const n = (
      JSON.parse((await pondOk(["query", "SELECT count(*) AS n FROM '/lake.series'", "--format", "json"], { pond: pondDir })).stdout) as { n: number }[]
    )[0]!.n;
    expect(answers).toEqual(Array.from({ length: 10 }, (_, i) => [200, [{ i, n }]]));
  });

  test("GET /status shows requests, the pond and the parts", async () => {
    const s = (await (await fetch(`${srv.url}/status`)).json()) as {
      server: { requests: number; inFlight: number; url: string };
      pond: { id: string };
      parts: object;
    };
    expect(s.server.requests).toBeGreaterThan(10);
    expect(s.server.inFlight).toBe(1);
    expect(s.server.url).toBe(srv.url);
    expect(typeof s.pond.id).toBe("string");
    expect(typeof s.parts).toBe("object");
  });

  test("/health is 503 while the pond folder is gone, and 200 again when it is back", async () => {
    const away = `${pondDir}-away`;
    renameSync(pondDir, away);
    try {
      const r = await fetch(`${srv.url}/health`);
      expect(r.status).toBe(503);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe("pond_unavailable");
      expect((await sql(srv.url, "SELECT 1")).status).toBe(503);
    } finally {
      renameSync(away, pondDir);
    }
    expect((await fetch(`${srv.url}/health`)).status).toBe(200);
    // A damaged newest commit: 503 too, until it is repaired.
    const seq = await latestLogVersion(pondDir);
    const commit = join(pondDir, "data", "_delta_log", `${String(seq).padStart(20, "0")}.json`);
    const good = readFileSync(commit);
    writeFileSync(commit, "{ not json");
    try {
      const bad = await fetch(`${srv.url}/health`);
      expect(bad.status).toBe(503);
    } finally {
      writeFileSync(commit, good);
    }
    expect((await fetch(`${srv.url}/health`)).status).toBe(200);
  });
});

describe("pond serve: limits, auth, shutdown", () => {
  test("/status counts keep-alive connections: each client's connection once however many requests, and none after the idle timeout", async () => {
    const s = await startServe(pondDir, ["--idle-timeout", "1s"]);
    try {
      const port = Number(new URL(s.url).port);
      // Three keep-alive clients, three requests each, concurrently: three connections.
      const clients = await Promise.all([0, 1, 2].map(() => KeepAlive.open(port)));
      const lastAnswer: number[] = [];
      await Promise.all(
        clients.map(async (c, k) => {
          for (let i = 0; i < 3; i++) expect((await c.get("/health")).status).toBe(200);
          lastAnswer[k] = performance.now();
        }),
      );
      const watcher = await KeepAlive.open(port);
      const st = JSON.parse((await watcher.get("/status")).body) as { server: { connections: Record<string, number>; requests: number } };
      // The three clients and the watcher's own connection, which is answering this request.
      expect(st.server.connections).toEqual({ openAtMost: 4, answering: 1, idleTimeoutSeconds: 1, countedForSeconds: 5 });
      expect(st.server.requests).toBe(10);
      const m = promSamples((await watcher.get("/metrics")).body);
      expect(m.get("pond_http_connections_open_at_most")).toBe(4);
      const watcherLast = performance.now();
      // Idle for the timeout (Bun's 4 s tick), the server closes them, within the counted window.
      const closedAfter = await Promise.all(clients.map(async (c, k) => ((await c.closed) - lastAnswer[k]!) / 1000));
      for (const secs of closedAfter) {
        expect(secs).toBeGreaterThan(1);
        expect(secs).toBeLessThan(5);
      }
      await watcher.closed;
      // Past the window only the connection asking is counted.
      await Bun.sleep(Math.max(0, Math.max(...lastAnswer, watcherLast) + 5000 - performance.now()));
      const fresh = await KeepAlive.open(port);
      const after = JSON.parse((await fresh.get("/status")).body) as { server: { connections: Record<string, number> } };
      expect(after.server.connections).toMatchObject({ openAtMost: 1, answering: 1 });
      fresh.close();
    } finally {
      expect(await s.stop()).toBe(0);
    }
    expect((await pond(["serve", "--idle-timeout", "300s"], { pond: pondDir })).stderr).toContain(
      '--idle-timeout "300s" is not a duration of 1 to 255 whole seconds',
    );
  }, 30_000);

  test("--query-timeout interrupts a long query: 408 with a clear message, and the server goes on", async () => {
    const s = await startServe(pondDir, ["--query-timeout", "1s"]);
    try {
      const t0 = performance.now();
      const r = await sql(s.url, "SELECT sum(i * i) FROM range(1000000000000) t(i)");
      const ms = performance.now() - t0;
      expect(r.status).toBe(408);
      const body = (await r.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe("query_timeout");
      expect(body.error.message).toContain("cancelled");
      expect(ms).toBeLessThan(5000);
      expect((await sql(s.url, "SELECT 42 AS x")).status).toBe(200);
    } finally {
      expect(await s.stop()).toBe(0);
    }
  });

  test("failed queries leave no DuckDB behind: their sessions are closed", async () => {
    const tmp = join(dir, "serve-tmp");
    mkdirSync(tmp);
    const s = await startServe(pondDir, [], { TMPDIR: tmp });
    try {
      for (let i = 0; i < 8; i++) expect((await sql(s.url, `SELECT * FROM '/missing-${i}.series'`)).status).toBe(400);
      for (let i = 0; i < 4; i++) expect((await sql(s.url, `SELECT nope${i} FROM '/lake.series'`)).status).toBe(400);
      // One spare session stays open (two while the next is opening); no failed query's remains.
      const open = () => readdirSync(tmp).filter((n) => n.startsWith("pond-duckdb-")).length;
      for (let i = 0; open() > 2 && i < 200; i++) await Bun.sleep(10);
      expect(open()).toBeLessThanOrEqual(2);
    } finally {
      expect(await s.stop()).toBe(0);
    }
  });

  test("a non-loopback bind needs a token reference; requests need Authorization: Bearer; the token is never logged", async () => {
    const noToken = await pond(["serve", "--listen", "0.0.0.0:0"], { pond: pondDir });
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain("needs a token");
    const literal = await pond(["serve", "--listen", "0.0.0.0:0", "--token", "hunter2-literal"], { pond: pondDir });
    expect(literal.code).toBe(2);
    expect(literal.stderr).not.toContain("hunter2-literal");
    const token = "tok-e2e-7f3a9c";
    const s = await startServe(pondDir, ["--listen", "0.0.0.0:0", "--token", "${env:POND_TOKEN}"], { POND_TOKEN: token, POND_LOG: "warn" });
    try {
      const none = await fetch(`${s.url}/health`);
      expect(none.status).toBe(401);
      expect(((await none.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
      expect((await fetch(`${s.url}/health`, { headers: { authorization: "Bearer wrong-token-xyz" } })).status).toBe(401);
      expect((await sql(s.url, "SELECT 1", undefined, { authorization: "Bearer wrong-token-xyz" })).status).toBe(401);
      const ok = await fetch(`${s.url}/health`, { headers: { authorization: `Bearer ${token}` } });
      expect(ok.status).toBe(200);
      expect((await sql(s.url, "SELECT 1 AS x", undefined, { authorization: `Bearer ${token}` })).status).toBe(200);
    } finally {
      expect(await s.stop()).toBe(0);
    }
    expect(s.stderr()).toContain("unauthorized");
    expect(s.stderr()).not.toContain(token);
    expect(s.stderr()).not.toContain("wrong-token-xyz");
  });

  test("SIGTERM and SIGINT: stop accepting, exit 0", async () => {
    for (const sig of ["SIGTERM", "SIGINT"] as const) {
      const s = await startServe(pondDir);
      expect((await fetch(`${s.url}/health`)).status).toBe(200);
      expect(await s.stop(sig)).toBe(0);
      expect(s.stderr()).toContain("pond serve: stopped");
      expect(
        await fetch(`${s.url}/health`).then(
          () => "answered",
          () => "refused",
        ),
      ).toBe("refused");
    }
  });

  test("SIGTERM lets a query in flight finish before exiting 0", async () => {
    const s = await startServe(pondDir);
    const answer = sql(s.url, "SELECT sum(i) AS s FROM range(300000000) t(i)").then(async (r) => [r.status, await r.text()] as const);
    // Wait until the server counts it in flight (the /status request itself is the other one).
    for (let i = 0; ; i++) {
      const st = (await (await fetch(`${s.url}/status`)).json()) as { server: { inFlight: number } };
      if (st.server.inFlight >= 2) break;
      if (i > 500) throw new Error("the query never showed in flight");
      await Bun.sleep(5);
    }
    s.proc.kill("SIGTERM");
    const [status, text] = await answer;
    expect(status).toBe(200);
    expect(text).toBe('[\n{"s":44999999850000000}\n]\n');
    // A second SIGTERM while closing is not fatal.
    s.proc.kill("SIGTERM");
    expect(await s.proc.exited).toBe(0);
    expect(s.stderr()).toContain("finishing requests");
  });

  test("a folder that is not a pond is refused at start", async () => {
    const r = await pond(["serve", "--listen", "127.0.0.1:0"], { pond: join(dir, "no-such-pond") });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("no-such-pond");
    expect(existsSync(join(dir, "no-such-pond"))).toBe(false);
  });
});
