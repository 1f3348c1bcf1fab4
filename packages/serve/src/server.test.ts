import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { PondError } from "@pond/diagnostics";
import { Pond } from "@pond/steward";
import { WD } from "@pond/tinyfs";
import { tempFolder } from "../../../test/support/kit.ts";
import { ingestOptionsFrom } from "./ingest/options.ts";
import type { IngestOptions, PartContext, ServerPart } from "./part.ts";
import { type RunningServer, startServer } from "./server.ts";

/** A part as the ingest part plugs in: owns POST /probe, reports a count, records its close. */
class ProbePart implements ServerPart {
  readonly name = "probe";
  handled = 0;
  closed = false;
  async handle(req: Request, url: URL): Promise<Response | undefined> {
    if (url.pathname !== "/probe") return undefined;
    this.handled++;
    return new Response(`probe ${req.method}`);
  }
  status(): Record<string, unknown> {
    return { handled: this.handled };
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function serve(token?: string) {
  const t = tempFolder({}, "pond-serve-test-");
  cleanups.push(() => t.cleanup());
  const pondDir = join(t.dir, "pond");
  await Pond.init(pondDir, ["pond", "init"]);
  const part = new ProbePart();
  let given: { ctx: PartContext; options: IngestOptions } | undefined;
  const server: RunningServer = await startServer({
    pondDir,
    listen: { hostname: "127.0.0.1", port: 0 },
    ...(token ? { token } : {}),
    queryTimeoutMs: 5000,
    ingest: ingestOptionsFrom({ flushInterval: "10s" }),
    makeParts: async (ctx, options) => {
      given = { ctx, options };
      ctx.metrics.counter("pond_probe_total", "Probe").inc(undefined, 3);
      return [part];
    },
  });
  cleanups.push(() => server.close());
  return { server, part, pondDir, given: given! };
}

describe("startServer", () => {
  test("startServer() hands the parts the pond, the metrics and the ingest options, and asks them after auth", async () => {
    const { server, part, pondDir, given } = await serve("sekret");
    expect(given.ctx.pondDir).toBe(pondDir);
    expect(given.options).toEqual({ flushRows: 10_000, flushBytes: 32 * 1024 * 1024, flushIntervalMs: 10_000, dedupWindowMs: 300_000 });
    const denied = await fetch(`${server.url}/probe`, { method: "POST" });
    expect(denied.status).toBe(401);
    expect(part.handled).toBe(0);
    const ok = await fetch(`${server.url}/probe`, { method: "POST", headers: { authorization: "Bearer sekret" } });
    expect([ok.status, await ok.text()]).toEqual([200, "probe POST"]);
    expect(part.handled).toBe(1);
    const auth = { headers: { authorization: "Bearer sekret" } };
    const status = (await (await fetch(`${server.url}/status`, auth)).json()) as { parts: Record<string, unknown> };
    expect(status.parts).toEqual({ probe: { handled: 1 } });
    const metrics = await (await fetch(`${server.url}/metrics`, auth)).text();
    expect(metrics).toContain("pond_probe_total 3");
    expect(metrics).toContain('pond_http_requests_total{method="POST",route="probe",status="200"} 1');
  });

  test("close() stops accepting and closes every part", async () => {
    const { server, part } = await serve();
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    await server.close();
    expect(part.closed).toBe(true);
    expect(
      await fetch(`${server.url}/health`).then(
        () => "answered",
        () => "refused",
      ),
    ).toBe("refused");
  });

  test("a commit by another Pond on the same folder is seen by the next request", async () => {
    const { server, pondDir } = await serve();
    const before = ((await (await fetch(`${server.url}/health`)).json()) as { seq: number }).seq;
    const other = Pond.open(pondDir);
    await other.write(["pond", "test"], async ({ txn }) => {
      await new WD(txn).createFile("/x.txt", "file:data", new TextEncoder().encode("x"));
    });
    const after = ((await (await fetch(`${server.url}/health`)).json()) as { seq: number }).seq;
    expect(after).toBe(before + 1);
  });

  test("ingestOptionsFrom() (the one parser of the ingest flags of pond serve and pond ingest) reads sizes and durations and refuses bad ones naming the flag", () => {
    expect(ingestOptionsFrom({ flushRows: 5, flushBytes: "1KiB", flushInterval: "2m", dedupKey: "device, ts", dedupWindow: "1h" })).toEqual({
      flushRows: 5,
      flushBytes: 1024,
      flushIntervalMs: 120_000,
      dedupKey: ["device", "ts"],
      dedupWindowMs: 3_600_000,
    });
    expect(ingestOptionsFrom({ flushInterval: "500ms", flushBytes: "64MB" })).toMatchObject({ flushIntervalMs: 500, flushBytes: 64_000_000 });
    for (const [flags, flag] of [
      [{ flushBytes: "lots" }, "flush-bytes"],
      [{ flushInterval: "soon" }, "flush-interval"],
      [{ flushInterval: "0s" }, "flush-interval"],
      [{ dedupWindow: "5 minutes" }, "dedup-window"],
      [{ dedupKey: " , " }, "dedup-key"],
    ] as const) {
      const e = (() => {
        try {
          ingestOptionsFrom(flags);
        } catch (e) {
          return e as PondError;
        }
      })();
      expect([e?.code, e?.kind, e?.message]).toEqual(["bad_ingest_option", "usage", expect.stringContaining(`--${flag} `)]);
    }
  });
});
