// POST /ingest and POST /flush through a real HTTP server on 127.0.0.1: the ingest part
// mounted on Bun.serve in this process (until `pond serve` mounts it), answers checked
// with the compiled binary (`pond query`, `pond diff --rows`).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { INGEST_DEFAULTS, Registry, createIngestPart } from "@pond/serve";
import type { IngestOptions, ServerPart } from "@pond/serve";
import { latestLogVersion, newPond, pond, pondOk } from "./support/pond-cli.ts";
import { seededRandom } from "./support/kit.ts";

let ctx: Awaited<ReturnType<typeof newPond>>;
beforeAll(async () => {
  ctx = await newPond();
  await pondOk(["mkdir", "/dev"], { pond: ctx.pondDir });
});
afterAll(() => ctx.cleanup());

interface Harness {
  base: string;
  part: ServerPart & { status(): Record<string, unknown> };
  metrics: Registry;
  stop(): Promise<void>;
}

/** The ingest part behind Bun.serve on 127.0.0.1:0. */
async function serve(options: Partial<IngestOptions> = {}): Promise<Harness> {
  const metrics = new Registry();
  const part = await createIngestPart({ pondDir: ctx.pondDir, metrics }, { ...INGEST_DEFAULTS, ...options });
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    maxRequestBodySize: 128 * 1024 * 1024,
    fetch: async (req) => (await part.handle(req, new URL(req.url))) ?? new Response("not found", { status: 404 }),
  });
  return {
    base: `http://127.0.0.1:${server.port}`,
    part,
    metrics,
    async stop() {
      await part.close();
      server.stop(true);
    },
  };
}

async function post(h: Harness, path: string, body: string, contentType?: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await fetch(`${h.base}${path}`, { method: "POST", body, headers: contentType ? { "Content-Type": contentType } : {} });
  return { status: r.status, json: (await r.json()) as Record<string, unknown> };
}

async function query(sql: string): Promise<Record<string, unknown>[]> {
  return JSON.parse((await pondOk(["query", "--format", "json", sql], { pond: ctx.pondDir })).stdout);
}

const T0 = Date.parse("2025-03-01T00:00:00Z") / 1000;
const row = (i: number, device = "a") => ({ timestamp: new Date((T0 + i) * 1000).toISOString(), device, temp: 10 + i / 4 });
const jsonl = (rows: object[]) => rows.map((r) => `${JSON.stringify(r)}\n`).join("");

describe("POST /ingest", () => {
  test("JSON lines, a JSON array and CSV go into one series; ?sync=true answers after the commit", async () => {
    const h = await serve();
    try {
      const a = await post(h, "/ingest/dev/fmt.series", jsonl([row(0), row(1)]), "application/x-ndjson");
      expect(a).toEqual({ status: 200, json: { accepted: 2, deduplicated: 0, durable: false, destination: "/dev/fmt.series" } });
      const b = await post(h, "/ingest/dev/fmt.series", JSON.stringify([row(2), row(3)]), "application/json");
      expect(b.json.accepted).toBe(2);
      const csv = `timestamp,device,temp\n${new Date((T0 + 4) * 1000).toISOString()},b,11.5\n`;
      const c = await post(h, "/ingest/dev/fmt.series?sync=true", csv, "text/csv");
      expect(c).toEqual({ status: 200, json: { accepted: 1, deduplicated: 0, durable: true, destination: "/dev/fmt.series", version: 1 } });
      // Committed: another process sees all five rows in one version.
      expect(await query("SELECT count(*)::INT AS n, count(DISTINCT device)::INT AS d, sum(temp) AS s FROM '/dev/fmt.series'")).toEqual([
        { n: 5, d: 2, s: 10 + 10.25 + 10.5 + 10.75 + 11.5 },
      ]);
      // The version's rows are in time order (sent 0,1 then 2,3 then 4: in order here; see below for out of order).
      await post(h, "/ingest/dev/order.series?sync=true", jsonl([row(5), row(3), row(9), row(1)]));
      expect(await query("SELECT (epoch(timestamp) - " + T0 + ")::INT AS i FROM '/dev/order.series'")).toEqual([{ i: 1 }, { i: 3 }, { i: 5 }, { i: 9 }]);
      const log = await pondOk(["log", "-n", "2"], { pond: ctx.pondDir });
      expect(log.stdout).toContain("ingested 5 rows into /dev/fmt.series (file:series v1)");
    } finally {
      await h.stop();
    }
  }, 30_000);

  test("bad input is a 4xx naming the line and the problem, and nothing of that request is taken", async () => {
    const h = await serve();
    try {
      await post(h, "/ingest/dev/bad.series?sync=true", jsonl([row(0)]));
      const malformed = await post(h, "/ingest/dev/bad.series", `${JSON.stringify(row(1))}\n{"timestamp": "2025-03-01T00:00:02Z", "temp": \n`);
      expect(malformed.status).toBe(400);
      expect(malformed.json.error).toMatchObject({ code: "bad_ingest_input", data: { line: 2 } });
      expect(String((malformed.json.error as { message: string }).message)).toStartWith("Line 2: not valid JSON");
      const wrongType = await post(h, "/ingest/dev/bad.series", jsonl([row(2), { ...row(3), temp: "warm" }]));
      expect(wrongType.status).toBe(400);
      expect(wrongType.json.error).toMatchObject({
        code: "bad_ingest_input",
        message: 'Line 2, column "temp": "warm" is not a number',
        data: { line: 2, column: "temp" },
      });
      const noTime = await post(h, "/ingest/dev/bad.series", jsonl([row(4), { device: "a", temp: 1 }]));
      expect(noTime.status).toBe(400);
      expect((noTime.json.error as { message: string }).message).toBe('Line 2, column "timestamp": has no time');
      const unknown = await post(h, "/ingest/nowhere/x.series", jsonl([row(0)]));
      expect(unknown.status).toBe(404);
      expect(unknown.json.error).toMatchObject({
        code: "ingest_unknown_destination",
        message: 'Cannot ingest into "/nowhere/x.series": directory "/nowhere" does not exist',
      });
      const dir = await post(h, "/ingest/dev", jsonl([row(0)]));
      expect(dir.status).toBe(409);
      const big = await fetch(`${h.base}/ingest/dev/bad.series`, { method: "POST", body: new Uint8Array(65 * 1024 * 1024).fill(0x20) });
      expect(big.status).toBe(413);
      expect(((await big.json()) as { error: { code: string } }).error.code).toBe("body_too_large");
      // Nothing of the refused requests is buffered or committed.
      const flushed = await post(h, "/flush", "");
      expect(flushed.json).toEqual({ flushed: [] });
      expect(await query("SELECT count(*)::INT AS n FROM '/dev/bad.series'")).toEqual([{ n: 1 }]);
      expect(h.metrics.render()).toContain('pond_ingest_errors_total{code="bad_ingest_input"} 3');
    } finally {
      await h.stop();
    }
  }, 30_000);

  test("dedup by ?key=device,timestamp: repeats in a request, across requests, across a flush and a restart are dropped and counted", async () => {
    let h = await serve();
    try {
      const r1 = await post(h, "/ingest/dev/dd.series?key=device,timestamp", jsonl([row(0), row(1), row(1), row(0, "b")]));
      expect(r1.json).toMatchObject({ accepted: 3, deduplicated: 1 });
      const r2 = await post(h, "/ingest/dev/dd.series?key=device,timestamp", jsonl([row(1), row(2)]));
      expect(r2.json).toMatchObject({ accepted: 1, deduplicated: 1 });
      expect((await post(h, "/flush?path=/dev/other.series", "")).json).toEqual({ flushed: [] });
      expect((await post(h, "/flush?path=/dev/dd.series", "")).json).toMatchObject({ flushed: [{ destination: "/dev/dd.series", rows: 4, version: 1 }] });
      const r3 = await post(h, "/ingest/dev/dd.series?key=device,timestamp", jsonl([row(2), row(3)]));
      expect(r3.json).toMatchObject({ accepted: 1, deduplicated: 1 });
      expect(h.metrics.render()).toContain('pond_ingest_rows_deduplicated_total{destination="/dev/dd.series"} 3');
      // A restart: row 3 only in the write-ahead file (replayed and flushed), rows 0-2 committed.
      await h.stop();
      h = await serve();
      const r4 = await post(h, "/ingest/dev/dd.series?key=device,timestamp", jsonl([row(0), row(3), row(0, "b"), row(4)]));
      expect(r4.json).toMatchObject({ accepted: 1, deduplicated: 3 });
      await post(h, "/flush", "");
      expect(await query("SELECT count(*)::INT AS n, count(DISTINCT (device, timestamp))::INT AS k FROM '/dev/dd.series'")).toEqual([{ n: 6, k: 6 }]);
    } finally {
      await h.stop();
    }
  }, 30_000);

  test("dedup by a sequence number per source (?key=device&sequence=n): re-sent and older numbers are dropped, across a flush and a restart", async () => {
    const r = (n: number, device: string) => ({ ...row(n, device), n });
    let h = await serve();
    try {
      const a = await post(h, "/ingest/dev/seq.series?key=device&sequence=n", jsonl([r(1, "a"), r(2, "a"), r(1, "b"), r(2, "a")]));
      expect(a.json).toMatchObject({ accepted: 3, deduplicated: 1 });
      await post(h, "/flush", "");
      const b = await post(h, "/ingest/dev/seq.series?key=device&sequence=n", jsonl([r(2, "a"), r(3, "a"), r(1, "b"), r(2, "b")]));
      expect(b.json).toMatchObject({ accepted: 2, deduplicated: 2 });
      const bad = await post(h, "/ingest/dev/seq.series?key=device&sequence=n", jsonl([{ ...r(4, "a"), n: 4.5 }]));
      expect(bad.json.error).toMatchObject({ code: "bad_ingest_input", message: 'Line 1, column "n": 4.5 is not a whole number (the sequence)' });
      // Restart: a=3 is committed (its number recorded on the version), b=2 only in the write-ahead file.
      await post(h, "/flush?path=/dev/seq.series", "");
      await post(h, "/ingest/dev/seq.series?key=device&sequence=n", jsonl([r(3, "b")]));
      await h.stop();
      h = await serve();
      const c = await post(h, "/ingest/dev/seq.series?key=device&sequence=n", jsonl([r(3, "a"), r(3, "b"), r(4, "b"), r(4, "a")]));
      expect(c.json).toMatchObject({ accepted: 2, deduplicated: 2 });
      await post(h, "/flush", "");
      expect(await query("SELECT device, list(n::INT ORDER BY n) AS ns FROM '/dev/seq.series' GROUP BY device ORDER BY device")).toEqual([
        { device: "a", ns: [1, 2, 3, 4] },
        { device: "b", ns: [1, 2, 3, 4] },
      ]);
    } finally {
      await h.stop();
    }
  }, 30_000);

  test("a crash after the commit but before the write-ahead segment is removed: the replay skips the committed rows", async () => {
    const walDir = join(ctx.pondDir, "control", "ingest");
    let h = await serve();
    await post(h, "/ingest/dev/once.series", jsonl([row(0), row(1), row(2)]));
    const segments = readdirSync(walDir).filter((n) => n.endsWith(".wal"));
    expect(segments.length).toBe(1);
    const saved = join(ctx.dir, "saved.wal");
    copyFileSync(join(walDir, segments[0]!), saved);
    await post(h, "/flush", "");
    expect(readdirSync(walDir).filter((n) => n.endsWith(".wal"))).toEqual([]);
    await h.stop();
    copyFileSync(saved, join(walDir, segments[0]!)); // as if the removal never happened
    h = await serve();
    try {
      expect(readdirSync(walDir).filter((n) => n.endsWith(".wal"))).toEqual([]);
      expect(await query("SELECT count(*)::INT AS n FROM '/dev/once.series'")).toEqual([{ n: 3 }]);
    } finally {
      await h.stop();
    }
  }, 30_000);

  test("a torn last write-ahead record (killed mid-write) is dropped; the records before it are replayed", async () => {
    const walDir = join(ctx.pondDir, "control", "ingest");
    const cols = [
      ["timestamp", "TIMESTAMP WITH TIME ZONE"],
      ["temp", "DOUBLE"],
    ];
    const rec = (s: number, i: number) => JSON.stringify({ s, b: 10, t: "timestamp", c: cols, r: [[(T0 + i) * 1e6, i]] });
    writeFileSync(
      join(walDir, "0000000000000000-000000000000001-000000.wal"),
      `${JSON.stringify({ dest: "/dev/torn.series" })}\n${rec(1, 1)}\n${rec(2, 2)}\n${rec(3, 3).slice(0, 25)}`,
    );
    const h = await serve();
    try {
      expect(await query("SELECT epoch(timestamp)::BIGINT - " + T0 + " AS i, temp FROM '/dev/torn.series' ORDER BY 1")).toEqual([
        { i: 1, temp: 1 },
        { i: 2, temp: 2 },
      ]);
      expect(readdirSync(walDir).filter((n) => n.endsWith(".wal"))).toEqual([]);
    } finally {
      await h.stop();
    }
  }, 30_000);

  test("write-ahead records for a destination that is gone stop the start with ingest_replay_failed naming the files", async () => {
    const walDir = join(ctx.pondDir, "control", "ingest");
    const file = join(walDir, "0000000000000000-000000000000002-000000.wal");
    const rec = JSON.stringify({ s: 1, b: 10, t: "timestamp", c: [["timestamp", "TIMESTAMP WITH TIME ZONE"]], r: [[T0 * 1e6]] });
    writeFileSync(file, `${JSON.stringify({ dest: "/gone/x.series" })}\n${rec}\n`);
    try {
      const err = await serve().then(
        () => undefined,
        (e) => e as { code: string; message: string; hint: string },
      );
      expect(err?.code).toBe("ingest_replay_failed");
      expect(err?.message).toBe(
        'Cannot replay the write-ahead file of "/gone/x.series": Cannot ingest into "/gone/x.series": directory "/gone" does not exist',
      );
      expect(err?.hint).toContain(file);
    } finally {
      rmSync(file);
    }
  }, 30_000);

  test("flush by rows and by interval; /status shows the buffer and the last flush; other pond commands write meanwhile", async () => {
    const h = await serve({ flushRows: 5, flushIntervalMs: 300 });
    try {
      await post(h, "/ingest/dev/th.series", jsonl([0, 1, 2, 3, 4, 5].map((i) => row(i))));
      await pondOk(["mkdir", "/dev/other"], { pond: ctx.pondDir }); // another writer between flushes
      await post(h, "/ingest/dev/th.series", jsonl([row(6)]));
      const st = h.part.status() as { destinations: { destination: string; bufferedRows: number }[] };
      expect(st.destinations.find((d) => d.destination === "/dev/th.series")?.bufferedRows).toBe(1);
      // The interval flush comes by itself.
      const deadline = Date.now() + 5000;
      // (The first flush may not have committed yet: the series does not exist until it has.)
      const rows = async () => {
        const r = await pond(["query", "--format", "json", "SELECT count(*)::INT AS n FROM '/dev/th.series'"], { pond: ctx.pondDir });
        return r.code === 0 ? JSON.parse(r.stdout)[0].n : -1;
      };
      while (Date.now() < deadline && (await rows()) !== 7) await Bun.sleep(100);
      expect(await query("SELECT count(*)::INT AS n FROM '/dev/th.series'")).toEqual([{ n: 7 }]);
      const text = h.metrics.render();
      expect(text).toContain('pond_ingest_flushes_total{reason="rows"} 1');
      expect(text).toContain('pond_ingest_flushes_total{reason="interval"} 1');
      expect(text).toContain('pond_ingest_commits_total{destination="/dev/th.series"} 2');
    } finally {
      await h.stop();
    }
  }, 30_000);
});

describe("CDC into a table", () => {
  test("a stream replayed with repeats and reorderings gives the source's final table; pond diff --rows shows the changes", async () => {
    const rnd = seededRandom("cdc stream");
    // The source: 300 changes to rows 1..40.
    const state = new Map<number, { name: string; qty: number }>();
    const events: object[] = [];
    for (let seq = 1; seq <= 300; seq++) {
      const id = 1 + rnd.int(40);
      const old = state.get(id);
      if (!old) {
        const after = { name: `item${id}`, qty: rnd.int(100) };
        state.set(id, after);
        events.push({ sequence: seq, operation: "INSERT", rowId: id, before: null, after });
      } else if (rnd.int(4) === 0) {
        state.delete(id);
        events.push({ sequence: seq, operation: "DELETE", rowId: id, before: old, after: null });
      } else {
        const after = { ...old, qty: rnd.int(100) };
        state.set(id, after);
        events.push({ sequence: seq, operation: "UPDATE", rowId: id, before: old, after });
      }
    }
    // Sent in batches, each a shuffled window, with a third of the events sent twice.
    const sendOrder: object[] = [];
    for (let i = 0; i < events.length; i += 25) {
      const win = events.slice(i, i + 25);
      for (const e of [...win]) if (rnd.int(3) === 0) win.push(e);
      for (let k = win.length - 1; k > 0; k--) {
        const j = rnd.int(k + 1);
        [win[k], win[j]] = [win[j]!, win[k]!];
      }
      sendOrder.push(...win);
    }
    const h = await serve();
    let accepted = 0;
    let dropped = 0;
    let firstSeq: number | undefined;
    try {
      const before = await latestLogVersion(ctx.pondDir);
      for (let i = 0; i < sendOrder.length; i += 17) {
        const r = await post(h, "/ingest/dev/items.table", jsonl(sendOrder.slice(i, i + 17)));
        expect(r.status).toBe(200);
        accepted += r.json.accepted as number;
        dropped += r.json.deduplicated as number;
        if (rnd.int(5) === 0 || i === 136) {
          const f = await post(h, "/flush", "");
          const mine = (f.json.flushed as { destination: string; seq: number }[]).find((x) => x.destination === "/dev/items.table");
          if (mine && firstSeq === undefined) firstSeq = mine.seq;
        }
      }
      await post(h, "/flush", "");
      expect(accepted).toBe(300);
      expect(dropped).toBe(sendOrder.length - 300);
      const got = await query("SELECT _row_id, name, qty FROM '/dev/items.table' ORDER BY _row_id::INT");
      const want = [...state.entries()].sort((a, b) => a[0] - b[0]).map(([id, r]) => ({ _row_id: String(id), name: r.name, qty: r.qty }));
      expect(got).toEqual(want);
      // From nothing to now, every row is an insert.
      const all = JSON.parse((await pondOk(["diff", "--rows", String(before), "/dev/items.table", "--format", "json"], { pond: ctx.pondDir })).stdout) as {
        change_type: string;
      }[];
      expect(all.filter((c) => c.change_type === "insert").length).toBe(want.length);
      // Between the first flush mid-stream and now: the rows of the multiset difference, as inserts and deletes.
      expect(firstSeq).toBeDefined();
      const key = (r: Record<string, unknown>) => `${r._row_id}|${r.name}|${r.qty}`;
      const then = (
        await pondOk(["query", "--as-of", String(firstSeq), "--format", "json", "SELECT _row_id, name, qty FROM '/dev/items.table'"], { pond: ctx.pondDir })
      ).stdout;
      const thenKeys = new Set((JSON.parse(then) as Record<string, unknown>[]).map(key));
      const nowKeys = new Set(want.map(key));
      const changes = JSON.parse(
        (await pondOk(["diff", "--rows", String(firstSeq), "/dev/items.table", "--format", "json"], { pond: ctx.pondDir })).stdout,
      ) as Record<string, unknown>[];
      const inserted = changes
        .filter((c) => c.change_type === "insert")
        .map(key)
        .sort();
      const deleted = changes
        .filter((c) => c.change_type === "delete")
        .map(key)
        .sort();
      expect(inserted).toEqual([...nowKeys].filter((k) => !thenKeys.has(k)).sort());
      expect(deleted).toEqual([...thenKeys].filter((k) => !nowKeys.has(k)).sort());
      expect(inserted.length + deleted.length).toBeGreaterThan(0);
    } finally {
      await h.stop();
    }
  }, 60_000);
});
