import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { POND_BIN, newPond, pond, pondOk } from "./support/pond-cli.ts";
import { seededRandom } from "./support/kit.ts";

let ctx: Awaited<ReturnType<typeof newPond>>;
beforeAll(async () => {
  ctx = await newPond();
});
afterAll(() => ctx.cleanup());

const BASE = 1_700_000_000;
const line = (i: number) => `{"timestamp": ${BASE + i}, "id": ${i}, "v": ${i * 0.5}}\n`;

async function count(path: string): Promise<{ n: number; distinct: number; lo: number; hi: number }> {
  const r = await pondOk(
    ["query", "--format", "json", `SELECT count(*) AS n, count(DISTINCT id) AS distinct_ids, min(id) AS lo, max(id) AS hi FROM '${path}'`],
    { pond: ctx.pondDir },
  );
  const row = JSON.parse(r.stdout)[0];
  return { n: Number(row.n), distinct: Number(row.distinct_ids), lo: Number(row.lo), hi: Number(row.hi) };
}

function walFiles(): string[] {
  return readdirSync(join(ctx.pondDir, "control", "ingest")).filter((n) => n.endsWith(".wal"));
}

/** Reads `pond ingest --ack` lines from a stdout stream, calling `onAck` with each. */
async function readAcks(stdout: ReadableStream<Uint8Array>, onAck: (a: { lines: number }) => void): Promise<void> {
  const dec = new TextDecoder();
  let buf = "";
  for await (const chunk of stdout) {
    buf += dec.decode(chunk, { stream: true });
    for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
      onAck(JSON.parse(buf.slice(0, nl)));
      buf = buf.slice(nl + 1);
    }
  }
}

describe("pond ingest", () => {
  test("SIGKILL of `pond ingest` at random moments mid-stream: every acknowledged row is in the series exactly once", async () => {
    const N = 10_000;
    const KILLS = 8;
    const rnd = seededRandom("ingest kill moments");
    let next = 0; // the first line not acknowledged: a restarted sender re-sends from here
    let kills = 0;
    for (let round = 0; next < N; round++) {
      const last = round >= KILLS;
      const start = next;
      const p = Bun.spawn([POND_BIN, "ingest", "/k.series", "--ack", "--dedup-key", "id", "--flush-rows", "500", "--flush-interval", "300ms"], {
        env: { ...process.env, POND: ctx.pondDir },
        stdin: "pipe",
        stdout: "pipe",
        stderr: "pipe",
      });
      let acked = start;
      const acks = readAcks(p.stdout, (a) => {
        acked = start + a.lines;
      });
      // Killed after a random number of lines, a random few ms after the last write: mid-batch, mid-flush or between.
      const killAfter = start + 200 + rnd.int(1000);
      let sent = start;
      try {
        while (sent < N && (last || sent < killAfter)) {
          const n = 1 + rnd.int(40);
          let text = "";
          for (let i = sent; i < Math.min(N, sent + n); i++) text += line(i);
          p.stdin.write(text);
          await p.stdin.flush();
          sent = Math.min(N, sent + n);
          await Bun.sleep(rnd.int(8));
        }
      } catch {
        // the process died under the writer: the next round re-sends
      }
      if (last) {
        await p.stdin.end();
        const code = await p.exited;
        if (code !== 0) throw new Error(`pond ingest exited ${code}: ${await new Response(p.stderr).text()}`);
      } else {
        await Bun.sleep(rnd.pick([0, 0, 1, 3, 10, 40]));
        p.kill(9);
        await p.exited;
        kills++;
      }
      await acks;
      expect(acked).toBeGreaterThanOrEqual(start);
      if (!last) console.log(`kill ${round + 1}: lines ${start}..${sent} sent, ${acked - start} acknowledged, ${sent - acked} to re-send`);
      next = acked;
    }
    expect(kills).toBe(KILLS);
    expect(await count("/k.series")).toEqual({ n: N, distinct: N, lo: 0, hi: N - 1 });
    expect(walFiles()).toEqual([]);
  }, 120_000);

  test("a sender whose acknowledgements were lost re-sends rows reaching back past the dedup window: each is in the series once, and older new rows still go in", async () => {
    // The rows are a second apart, so 1,000 of them reach back 999 s: three times the 5-minute window.
    const rows = (from: number, to: number, t0 = BASE) => {
      let text = "";
      for (let i = from; i < to; i++) text += `{"timestamp": ${t0 + i}, "id": ${i}, "v": ${i * 0.5}}\n`;
      return new TextEncoder().encode(text);
    };
    const ingest = (stdin: Uint8Array) => pondOk(["ingest", "/resend.series", "--ack", "--dedup-key", "id"], { pond: ctx.pondDir, stdin });
    await ingest(rows(0, 1000));
    // The same 1,000 lines again, and 200 more after them: only the new 200 are taken.
    const again = await ingest(rows(0, 1200));
    expect(again.stderr).toContain("200 rows accepted, 1000 deduplicated");
    expect(await count("/resend.series")).toEqual({ n: 1200, distinct: 1200, lo: 0, hi: 1199 });
    // New keys from before the window (a backfill an hour earlier) are not duplicates.
    const backfill = await ingest(rows(5000, 5300, BASE - 3600 - 5000));
    expect(backfill.stderr).toContain("300 rows accepted, 0 deduplicated");
    expect(await count("/resend.series")).toEqual({ n: 1500, distinct: 1500, lo: 0, hi: 5299 });
    // ... and re-sending that backfill finds them too.
    const backfillAgain = await ingest(rows(5000, 5300, BASE - 3600 - 5000));
    expect(backfillAgain.stderr).toContain("0 rows accepted, 300 deduplicated");
    expect((await count("/resend.series")).n).toBe(1500);
    expect(walFiles()).toEqual([]);
  });

  test("SIGTERM with standard input still open: `pond ingest` flushes, commits and exits 0", async () => {
    const p = Bun.spawn([POND_BIN, "ingest", "/term.series", "--ack"], {
      env: { ...process.env, POND: ctx.pondDir },
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
    });
    let acked = 0;
    let resolveAck: () => void;
    const first = new Promise<void>((r) => {
      resolveAck = r;
    });
    const acks = readAcks(p.stdout, (a) => {
      acked = a.lines;
      resolveAck();
    });
    p.stdin.write(`${line(0)}${line(1)}${line(2)}`);
    await p.stdin.flush();
    await first;
    p.kill("SIGTERM");
    expect(await p.exited).toBe(0);
    await acks;
    expect(acked).toBe(3);
    expect(await new Response(p.stderr).text()).toContain("flushed 3 rows into /term.series");
    expect((await count("/term.series")).n).toBe(3);
    expect(walFiles()).toEqual([]);
  }, 30_000);

  test("a second `pond ingest` into the same pond while one runs: ingest_locked, exit 3, nothing written", async () => {
    const first = Bun.spawn([POND_BIN, "ingest", "/lock.series", "--ack"], {
      env: { ...process.env, POND: ctx.pondDir },
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
    });
    let resolveAck: () => void;
    const acked = new Promise<void>((r) => {
      resolveAck = r;
    });
    const acks = readAcks(first.stdout, () => resolveAck());
    first.stdin.write(line(0));
    await first.stdin.flush();
    await acked; // the first one holds the write-ahead lock now
    const second = await pond(["ingest", "/other.series"], { pond: ctx.pondDir, stdin: new TextEncoder().encode(line(1)) });
    expect(second.code).toBe(3);
    expect(second.stderr).toContain("Another process is ingesting into this pond");
    await first.stdin.end();
    expect(await first.exited).toBe(0);
    await acks;
    expect((await pond(["list", "/other.series"], { pond: ctx.pondDir })).code).not.toBe(0);
  }, 30_000);

  test("a bad line stops `pond ingest` with exit 1 naming the line and column; batches before it are kept", async () => {
    const input = `${line(0)}${line(1)}`;
    const r1 = await pond(["ingest", "/bad.series", "--ack"], { pond: ctx.pondDir, stdin: new TextEncoder().encode(input) });
    expect(r1.code).toBe(0);
    const r = await pond(["ingest", "/bad.series"], {
      pond: ctx.pondDir,
      stdin: new TextEncoder().encode(`${line(2)}{"timestamp": ${BASE + 3}, "id": 3, "v": "high"}\n`),
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Line 2, column "v": "high" is not a number');
    // The whole batch (both lines) was refused: nothing half-applied.
    expect((await count("/bad.series")).n).toBe(2);
  }, 30_000);

  test("into a series `pond copy` made from CSV (TIMESTAMP without a zone): the column stays TIMESTAMP, times with an offset land in UTC", async () => {
    const csv = join(ctx.dir, "naive.csv");
    await Bun.write(csv, "timestamp,temp\n2024-01-01 00:00:00,1.5\n");
    await pondOk(["copy", `host+series+csv://${csv}`, "/naive.series"], { pond: ctx.pondDir });
    const input = '{"timestamp": "2024-01-02 00:00:00", "temp": 3}\n{"timestamp": "2024-01-02T03:00:00+02:00", "temp": 4}\n';
    await pondOk(["ingest", "/naive.series"], { pond: ctx.pondDir, stdin: new TextEncoder().encode(input) });
    const r = await pondOk(
      ["query", "--format", "json", "SELECT strftime(timestamp, '%Y-%m-%d %H:%M') AS t, typeof(timestamp) AS ty, temp FROM '/naive.series' ORDER BY temp"],
      {
        pond: ctx.pondDir,
      },
    );
    expect(JSON.parse(r.stdout)).toEqual([
      { t: "2024-01-01 00:00", ty: "TIMESTAMP", temp: 1.5 },
      { t: "2024-01-02 00:00", ty: "TIMESTAMP", temp: 3 },
      { t: "2024-01-02 01:00", ty: "TIMESTAMP", temp: 4 },
    ]);
  }, 30_000);

  test("CSV from standard input into a new series, then a second run appends a version", async () => {
    const csv = "time,site,temp\n2024-05-01T00:00:00Z,a,10.5\n2024-05-01T00:01:00Z,b,11\n";
    await pondOk(["ingest", "/csv.series", "--format", "csv"], { pond: ctx.pondDir, stdin: new TextEncoder().encode(csv) });
    await pondOk(["ingest", "/csv.series", "--format", "csv"], {
      pond: ctx.pondDir,
      stdin: new TextEncoder().encode("time,site,temp\n2024-05-01T00:02:00Z,c,12\n"),
    });
    const r = await pondOk(["query", "--format", "json", "SELECT site, temp FROM '/csv.series' ORDER BY time"], { pond: ctx.pondDir });
    expect(JSON.parse(r.stdout)).toEqual([
      { site: "a", temp: 10.5 },
      { site: "b", temp: 11 },
      { site: "c", temp: 12 },
    ]);
    const d = await pondOk(["describe", "/csv.series", "--format", "json"], { pond: ctx.pondDir });
    expect(d.stdout).toContain("TIMESTAMP WITH TIME ZONE");
  }, 30_000);

  test('CSV from standard input whose quoted field (a newline, a "" escape, CRLF) is split across two reads is one record', async () => {
    const p = Bun.spawn([POND_BIN, "ingest", "/split.series", "--format", "csv", "--ack"], {
      env: { ...process.env, POND: ctx.pondDir },
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
    });
    const acks: number[] = [];
    let firstAck: () => void;
    const first = new Promise<void>((r) => {
      firstAck = r;
    });
    const reading = readAcks(p.stdout, (a) => {
      acks.push(a.lines);
      firstAck();
    });
    // One write (atomic on a pipe: under PIPE_BUF) ending inside the quoted field, between the two
    // quotes of its "" escape. The ack for the row before it shows the command has read that write,
    // so the rest arrives in a later read.
    p.stdin.write('time,site,"no\nte"\r\n2024-05-01T00:00:00Z,a,plain\r\n2024-05-01T00:01:00Z,b,"first\r\nsec"');
    await p.stdin.flush();
    await Promise.race([first, p.exited]); // a command that fails exits without an ack
    expect(acks).toEqual([3]); // the header (two lines: its quoted name holds a newline) and row a
    p.stdin.write('"ond, with a comma"\r\n2024-05-01T00:02:00Z,c,"""x"""\n');
    await p.stdin.end();
    expect(await p.exited).toBe(0);
    await reading;
    expect(acks).toEqual([3, 6]);
    const r = await pondOk(["query", "--format", "json", `SELECT site, "no\nte" AS note FROM '/split.series' ORDER BY time`], { pond: ctx.pondDir });
    expect(JSON.parse(r.stdout)).toEqual([
      { site: "a", note: "plain" },
      { site: "b", note: 'first\r\nsec"ond, with a comma' },
      { site: "c", note: '"x"' },
    ]);
    expect(await new Response(p.stderr).text()).toContain("3 rows accepted, 0 deduplicated, into /split.series");
  }, 30_000);

  test("a quoted CSV field left open at the end of standard input: exit 1 naming its line, nothing written", async () => {
    const r = await pond(["ingest", "/open.series", "--format", "csv"], {
      pond: ctx.pondDir,
      stdin: new TextEncoder().encode('time,v\n2024-05-01T00:00:00Z,"1\n2024-05-01T00:01:00Z,2\n'),
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Line 2: a quoted field is not closed");
    expect((await pond(["describe", "/open.series"], { pond: ctx.pondDir })).code).not.toBe(0);
  }, 30_000);
});
