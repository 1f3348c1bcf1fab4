// Streaming ingest through the real server: the compiled `pond serve` on 127.0.0.1, its ingest
// part mounted by parts.ts; what it committed read back with `pond query` and `pond log`.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { latestLogVersion, newPond, pond, pondOk } from "./support/pond-cli.ts";
import { seededRandom } from "./support/kit.ts";
import { promSamples, type ServeProcess, startServe } from "./support/serve.ts";

let ctx: Awaited<ReturnType<typeof newPond>>;
beforeAll(async () => {
  ctx = await newPond();
  await pondOk(["mkdir", "/dev"], { pond: ctx.pondDir });
});
afterAll(() => ctx.cleanup());

interface Answer {
  status: number;
  json: Record<string, unknown> & { error?: { code: string; message: string; data?: Record<string, unknown> } };
}

async function post(base: string, path: string, body: string, contentType?: string): Promise<Answer> {
  const r = await fetch(`${base}${path}`, { method: "POST", body, headers: contentType ? { "Content-Type": contentType } : {} });
  return { status: r.status, json: (await r.json()) as Answer["json"] };
}

async function query(sql: string): Promise<Record<string, unknown>[]> {
  return JSON.parse((await pondOk(["query", "--format", "json", sql], { pond: ctx.pondDir })).stdout);
}

async function count(path: string): Promise<number> {
  return (await query(`SELECT count(*)::INT AS n FROM '${path}'`))[0]!.n as number;
}

const T0 = Date.parse("2025-03-01T00:00:00Z");
const row = (i: number, device = "a") => ({ timestamp: new Date(T0 + i * 1000).toISOString(), device, temp: 10 + i / 4 });
const jsonl = (rows: object[]) => rows.map((r) => `${JSON.stringify(r)}\n`).join("");

async function withServer<T>(args: string[], body: (s: ServeProcess) => Promise<T>): Promise<T> {
  const s = await startServe(ctx.pondDir, args);
  try {
    return await body(s);
  } finally {
    if (s.proc.exitCode === null) expect(await s.stop("SIGTERM")).toBe(0);
  }
}

describe("pond serve: POST /ingest", () => {
  test("JSON lines, a JSON array and CSV into one series; ?sync=true answers durable after the commit; POST /flush", async () => {
    await withServer([], async (s) => {
      const a = await post(s.url, "/ingest/dev/fmt.series", jsonl([row(0), row(1)]), "application/x-ndjson");
      expect(a).toEqual({ status: 200, json: { accepted: 2, deduplicated: 0, durable: false, destination: "/dev/fmt.series" } });
      const b = await post(s.url, "/ingest/dev/fmt.series", JSON.stringify([row(2), row(3)]), "application/json");
      expect([b.status, b.json.accepted, b.json.durable]).toEqual([200, 2, false]);
      const csv = `timestamp,device,temp\n${new Date(T0 + 4000).toISOString()},b,11.5\n`;
      const before = await latestLogVersion(ctx.pondDir);
      const c = await post(s.url, "/ingest/dev/fmt.series?sync=true", csv, "text/csv");
      expect(c).toEqual({ status: 200, json: { accepted: 1, deduplicated: 0, durable: true, destination: "/dev/fmt.series", version: 1 } });
      // Answered after the commit: another process sees the five rows in one new version.
      expect(await latestLogVersion(ctx.pondDir)).toBe(before + 1);
      expect(await query("SELECT count(*)::INT AS n, count(DISTINCT device)::INT AS d, sum(temp) AS t FROM '/dev/fmt.series'")).toEqual([
        { n: 5, d: 2, t: 10 + 10.25 + 10.5 + 10.75 + 11.5 },
      ]);
      // Buffered rows are not in the pond until POST /flush commits them.
      expect((await post(s.url, "/ingest/dev/fmt.series", jsonl([row(5), row(6), row(7)]))).json.durable).toBe(false);
      expect(await count("/dev/fmt.series")).toBe(5);
      const f = await post(s.url, "/flush", "");
      expect(f.status).toBe(200);
      expect(f.json.flushed).toEqual([expect.objectContaining({ destination: "/dev/fmt.series", reason: "request", rows: 3, version: 2 })]);
      expect(await count("/dev/fmt.series")).toBe(8);
      const log = (await pondOk(["log", "-n", "1"], { pond: ctx.pondDir })).stdout;
      expect(log).toContain("ingested 3 rows into /dev/fmt.series (file:series v2)");
      expect(log).toContain("command: pond serve --listen 127.0.0.1:0");
      // The server counts its own part's two commits (no other request read the pond between them).
      const m = promSamples(await (await fetch(`${s.url}/metrics`)).text());
      expect([m.get("pond_commits_seen_total"), m.get("pond_last_commit_seq")]).toEqual([2, await latestLogVersion(ctx.pondDir)]);
      expect(m.get('pond_ingest_flushes_total{reason="sync"}')).toBe(1);
      expect(m.get('pond_ingest_flushes_total{reason="request"}')).toBe(1);
      const st = (await (await fetch(`${s.url}/status`)).json()) as { pond: { commitsSeen: number; seq: number } };
      expect([st.pond.commitsSeen, st.pond.seq]).toEqual([2, await latestLogVersion(ctx.pondDir)]);
    });
  });

  test('a CSV body whose quoted fields hold newlines (LF and CRLF) and "" escapes: one row each, lines counted through them', async () => {
    await withServer([], async (s) => {
      const t = (i: number) => new Date(T0 + i * 1000).toISOString();
      const csv = `timestamp,device,note\r\n${t(0)},a,"one\ntwo"\r\n${t(1)},b,"say ""hi""\r\nbye"\r\n${t(2)},c,plain\r\n`;
      const c = await post(s.url, "/ingest/dev/quoted.series?sync=true", csv, "text/csv");
      expect([c.status, c.json.accepted]).toEqual([200, 3]);
      expect(await query("SELECT device, note FROM '/dev/quoted.series' ORDER BY timestamp")).toEqual([
        { device: "a", note: "one\ntwo" },
        { device: "b", note: 'say "hi"\r\nbye' },
        { device: "c", note: "plain" },
      ]);
      // A bad row after a multi-line one is named by the line it starts on: the header is line 1, d's row 2-3, e's 4.
      const bad = await post(s.url, "/ingest/dev/quoted.series", `timestamp,device,note\n${t(3)},d,"x\ny"\n${t(4)},e\n`, "text/csv");
      expect(bad.status).toBe(400);
      expect(JSON.stringify(bad.json)).toContain("Line 4");
    });
  });

  test("bad input is a 4xx naming the line and column (the server's error shape) and nothing of the request is taken", async () => {
    await withServer([], async (s) => {
      await post(s.url, "/ingest/dev/bad.series?sync=true", jsonl([row(0)]));
      const cases: [string, string, number, string, Record<string, unknown>][] = [
        ["/ingest/dev/bad.series", `${JSON.stringify(row(1))}\n{"timestamp": oops}\n`, 400, "bad_ingest_input", { line: 2 }],
        ["/ingest/dev/bad.series", jsonl([row(1), row(2), { ...row(3), temp: "warm" }]), 400, "bad_ingest_input", { line: 3, column: "temp" }],
        ["/ingest/nowhere/x.series", jsonl([row(1)]), 404, "ingest_unknown_destination", { missing: "/nowhere" }],
        ["/ingest/dev", jsonl([row(1)]), 409, "ingest_wrong_destination", {}],
      ];
      for (const [path, body, status, code, data] of cases) {
        const r = await post(s.url, path, body);
        expect([r.status, r.json.error?.code]).toEqual([status, code]);
        expect(r.json.error?.data).toMatchObject(data);
        expect(typeof r.json.error?.message).toBe("string");
      }
      const typed = await post(s.url, "/ingest/dev/bad.series", jsonl([row(1), row(2), { ...row(3), temp: "warm" }]));
      expect(typed.json.error?.message).toBe('Line 3, column "temp": "warm" is not a number');
      expect(await post(s.url, "/ingest/dev/bad.series", "")).toMatchObject({ status: 200, json: { accepted: 0 } });
      // Rows 1 and 2 of the refused requests were not buffered: a flush commits nothing new.
      expect((await post(s.url, "/flush", "")).json.flushed).toEqual([]);
      expect(await count("/dev/bad.series")).toBe(1);
      const metrics = promSamples(await (await fetch(`${s.url}/metrics`)).text());
      expect(metrics.get('pond_ingest_errors_total{code="bad_ingest_input"}')).toBe(3);
      expect(metrics.get('pond_ingest_errors_total{code="ingest_unknown_destination"}')).toBe(1);
      // ... and with the server's own errors by code.
      expect(metrics.get('pond_errors_total{code="bad_ingest_input"}')).toBe(3);
      expect(metrics.get('pond_errors_total{code="ingest_wrong_destination"}')).toBe(1);
      // GET on an ingest route: 405 naming POST.
      const get = await fetch(`${s.url}/ingest/dev/bad.series`);
      expect([get.status, get.headers.get("allow")]).toEqual([405, "POST"]);
    });
  });

  test("dedup with ?key=device,timestamp: repeats within a request and across requests are dropped and counted", async () => {
    await withServer([], async (s) => {
      const key = "?key=device,timestamp";
      const first = await post(s.url, `/ingest/dev/dedup.series${key}`, jsonl([row(0), row(1), row(1), row(2, "b")]));
      expect(first.json).toMatchObject({ accepted: 3, deduplicated: 1 });
      const again = await post(s.url, `/ingest/dev/dedup.series${key}`, jsonl([row(0), row(1), row(2), row(2, "b")]));
      expect(again.json).toMatchObject({ accepted: 1, deduplicated: 3 });
      // Without a key nothing is deduplicated.
      expect((await post(s.url, "/ingest/dev/dedup.series", jsonl([row(0)]))).json).toMatchObject({ accepted: 1, deduplicated: 0 });
      await post(s.url, "/flush", "");
      expect(await query("SELECT device, count(*)::INT AS n FROM '/dev/dedup.series' GROUP BY device ORDER BY device")).toEqual([
        { device: "a", n: 4 },
        { device: "b", n: 1 },
      ]);
      const m = promSamples(await (await fetch(`${s.url}/metrics`)).text());
      expect(m.get('pond_ingest_rows_deduplicated_total{destination="/dev/dedup.series"}')).toBe(4);
      expect(m.get('pond_ingest_rows_total{destination="/dev/dedup.series"}')).toBe(5);
    });
  });

  test("/status shows the ingest part's buffers, /metrics its series; SIGTERM flushes and commits the buffered rows and exits 0", async () => {
    const s = await startServe(ctx.pondDir, []);
    try {
      const r = await post(s.url, "/ingest/dev/term.series", jsonl(Array.from({ length: 250 }, (_, i) => row(i))));
      expect(r.json).toMatchObject({ accepted: 250, durable: false });
      const st = (await (await fetch(`${s.url}/status`)).json()) as {
        parts: { ingest: { destinations: Record<string, unknown>[]; options: Record<string, unknown> } };
      };
      expect(st.parts.ingest.destinations).toEqual([expect.objectContaining({ destination: "/dev/term.series", bufferedRows: 250, accepted: 250 })]);
      expect(st.parts.ingest.options).toMatchObject({ flushRows: 10_000, flushBytes: 32 * 1024 * 1024, flushIntervalMs: 60_000, dedupWindowMs: 300_000 });
      const m = promSamples(await (await fetch(`${s.url}/metrics`)).text());
      expect(m.get('pond_ingest_rows_total{destination="/dev/term.series"}')).toBe(250);
      expect(m.get('pond_http_requests_total{method="POST",route="ingest",status="200"}')).toBe(1);
      expect(m.get("pond_ingest_wal_syncs_total")).toBeGreaterThanOrEqual(1);
      expect(await pondOk(["list", "/dev"], { pond: ctx.pondDir }).then((x) => x.stdout)).not.toContain("term.series");
    } finally {
      expect(await s.stop("SIGTERM")).toBe(0);
    }
    expect(s.stderr()).toContain("pond serve: stopped");
    expect(await count("/dev/term.series")).toBe(250);
    expect((await pondOk(["log", "-n", "1"], { pond: ctx.pondDir })).stdout).toContain("ingested 250 rows into /dev/term.series");
  });

  test("a second pond serve on the same pond answers queries, and ingest with 503 ingest_locked", async () => {
    await withServer([], async (first) => {
      await withServer([], async (second) => {
        const r = await post(second.url, "/ingest/dev/locked.series", jsonl([row(0)]));
        expect([r.status, r.json.error?.code]).toEqual([503, "ingest_locked"]);
        const q = await fetch(`${second.url}/sql`, { method: "POST", body: "SELECT 42 AS x" });
        expect(await q.json()).toEqual([{ x: 42 }]);
        expect(((await (await fetch(`${second.url}/status`)).json()) as { parts: Record<string, { available?: boolean }> }).parts.ingest?.available).toBe(
          false,
        );
        expect((await post(first.url, "/ingest/dev/locked.series?sync=true", jsonl([row(0)]))).status).toBe(200);
      });
    });
    expect(await count("/dev/locked.series")).toBe(1);
  });
});

describe("the ingest flags", () => {
  test("pond serve and pond ingest read them with one parser: a bad value is exit 2 naming the flag, the same message", async () => {
    const serve = await pond(["serve", "--listen", "127.0.0.1:0", "--flush-interval", "soon"], { pond: ctx.pondDir });
    const ingest = await pond(["ingest", "/dev/flags.series", "--flush-interval", "soon"], { pond: ctx.pondDir, stdin: new Uint8Array() });
    for (const r of [serve, ingest]) {
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('--flush-interval "soon" is not a duration like 500ms, 10s, 5m or 1h');
    }
    const bytes = await pond(["serve", "--listen", "127.0.0.1:0", "--flush-bytes", "lots"], { pond: ctx.pondDir });
    expect([bytes.code, bytes.stderr.includes('--flush-bytes "lots" is not a size')]).toEqual([2, true]);
  });
});

describe("pond serve: SIGKILL mid-stream", () => {
  test("the server is killed repeatedly while clients send: every acknowledged row is in the series exactly once", async () => {
    const rnd = seededRandom("serve ingest kills");
    const CLIENTS = 4; // of each kind
    const BATCHES = 120;
    const SIZE = 10;
    const KILLS = 6;
    const args = ["--flush-rows", "300", "--flush-interval", "200ms"];
    // The live server and its generation; a client whose request failed waits for a newer one.
    let live = { srv: await startServe(ctx.pondDir, args), gen: 0 };
    const waiters: (() => void)[] = [];
    const newer = (gen: number) => (live.gen > gen ? Promise.resolve() : new Promise<void>((r) => waiters.push(r)));
    let ackedBatches = 0;
    let lostRequests = 0;
    class Wrong extends Error {}

    /** One request: "ok" only when the whole 200 answer arrived; "lost" when the server died before answering (then waits for the next). */
    const send = async (path: string, body: string): Promise<"ok" | "lost"> => {
      const gen = live.gen;
      let text: string;
      let status: number;
      try {
        const r = await fetch(`${live.srv.url}${path}`, { method: "POST", body });
        status = r.status;
        text = await r.text();
      } catch {
        lostRequests++;
        await newer(gen);
        return "lost";
      }
      if (status !== 200) throw new Wrong(`${status}: ${text}`);
      const j = JSON.parse(text) as { accepted: number; deduplicated: number };
      if (j.accepted + j.deduplicated !== SIZE) throw new Wrong(`answer ${text} for ${SIZE} rows`);
      ackedBatches++;
      return "ok";
    };
    const rows = (client: number, batch: number) =>
      jsonl(
        Array.from({ length: SIZE }, (_, i) => {
          const seq = batch * SIZE + i;
          // Event times within a few seconds: well inside the 5-minute dedup window.
          return { timestamp: new Date(T0 + client * 2000 + seq).toISOString(), client, seq };
        }),
      );
    // Keyed clients re-send a batch until it is acknowledged (?key= makes a re-send idempotent).
    const keyed = async (c: number) => {
      for (let b = 0; b < BATCHES; b++) while ((await send(`/ingest/dev/crash-keyed.series?key=client,seq`, rows(c, b))) !== "ok");
    };
    // Plain clients never re-send: their acknowledged batches must be there exactly once, the others at most once.
    const plainAcked = new Set<string>();
    const plainLost = new Set<string>();
    const plain = async (c: number) => {
      for (let b = 0; b < BATCHES; b++) {
        const r = await send("/ingest/dev/crash-plain.series", rows(c, b));
        (r === "ok" ? plainAcked : plainLost).add(`${c}/${b}`);
      }
    };
    let clientsDone = false;
    const clients = Promise.all([...Array.from({ length: CLIENTS }, (_, c) => keyed(c)), ...Array.from({ length: CLIENTS }, (_, c) => plain(c))]).finally(
      () => {
        clientsDone = true;
      },
    );

    // The killer: each kill after a random share of the stream was acknowledged, a random few ms later.
    const total = 2 * CLIENTS * BATCHES;
    const marks = Array.from({ length: KILLS }, () => Math.floor(total * (0.05 + 0.8 * rnd.next()))).sort((a, b) => a - b);
    const log: string[] = [];
    for (const mark of marks) {
      while (ackedBatches < mark && !clientsDone) await Bun.sleep(2);
      if (clientsDone) break;
      await Bun.sleep(rnd.pick([0, 0, 1, 3, 7, 15]));
      live.srv.proc.kill("SIGKILL");
      await live.srv.proc.exited;
      log.push(`kill at ${ackedBatches} of ${total} batches acknowledged`);
      live = { srv: await startServe(ctx.pondDir, args), gen: live.gen + 1 };
      for (const w of waiters.splice(0)) w();
    }
    await clients;
    expect(await live.srv.stop("SIGTERM")).toBe(0);
    console.log(`${log.join("; ")}; ${lostRequests} requests unanswered, ${plainLost.size} plain batches unacknowledged`);
    expect(log.length).toBe(KILLS);

    // Keyed: every row exactly once.
    expect(await query("SELECT count(*)::INT AS n, count(DISTINCT (client, seq))::INT AS d FROM '/dev/crash-keyed.series'")).toEqual([
      { n: CLIENTS * BATCHES * SIZE, d: CLIENTS * BATCHES * SIZE },
    ]);
    // Plain: per batch, how many times each of its rows is there.
    const got = await query("SELECT client, seq, count(*)::INT AS n FROM '/dev/crash-plain.series' GROUP BY client, seq");
    const times = new Map(got.map((r) => [`${r.client}/${r.seq}`, r.n as number]));
    for (const b of plainAcked)
      for (let i = 0; i < SIZE; i++) expect([b, times.get(`${b.split("/")[0]}/${Number(b.split("/")[1]) * SIZE + i}`)]).toEqual([b, 1]);
    let lostTaken = 0;
    for (const b of plainLost) {
      const [c, k] = b.split("/").map(Number) as [number, number];
      const ns = Array.from({ length: SIZE }, (_, i) => times.get(`${c}/${k * SIZE + i}`) ?? 0);
      // A request is all or nothing: none of its rows, or each once (taken but the answer lost with the server).
      expect([b, ns.every((n) => n === ns[0]) && ns[0]! <= 1]).toEqual([b, true]);
      if (ns[0] === 1) lostTaken++;
    }
    expect(
      got.every(
        (r) => plainAcked.has(`${r.client}/${Math.floor((r.seq as number) / SIZE)}`) || plainLost.has(`${r.client}/${Math.floor((r.seq as number) / SIZE)}`),
      ),
    ).toBe(true);
    expect(plainAcked.size + plainLost.size).toBe(CLIENTS * BATCHES);
    console.log(
      `plain: ${plainAcked.size} batches acknowledged (each once), ${plainLost.size} unanswered (${lostTaken} of them taken once, the rest not at all)`,
    );
  }, 90_000);
});
