import { describe, expect, test } from "bun:test";
import { HttpRequestError } from "./errors.ts";
import { HttpClient, retryAfterMs } from "./http-client.ts";

/** A client over scripted responses, with a fake clock: sleeps advance it and are recorded. */
function scripted(responses: (Response | Error)[], opts: ConstructorParameters<typeof HttpClient>[0] = {}) {
  let now = 1_000_000;
  const sleeps: number[] = [];
  const calls: number[] = [];
  const client = new HttpClient({
    fetch: (async () => {
      calls.push(now);
      const r = responses.shift();
      if (r === undefined) throw new Error("script exhausted");
      if (r instanceof Error) throw r;
      return r;
    }) as unknown as typeof fetch,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
    now: () => now,
    random: () => 1, // the top of each jitter range, so the bound is visible
    ...opts,
  });
  return { client, sleeps, calls };
}

describe("HttpClient", () => {
  test("request() retries 5xx and resets with exponential backoff bounded by the cap", async () => {
    const { client, sleeps } = scripted(
      [new Response("", { status: 503 }), Object.assign(new Error("reset"), { code: "ECONNRESET" }), new Response("", { status: 500 }), new Response("ok")],
      { backoffBaseMs: 100, backoffCapMs: 300 },
    );
    const r = await client.request("GET /x", "http://h/x");
    expect(r.text).toBe("ok");
    expect(sleeps).toEqual([100, 200, 300]);
    expect(client.requests).toBe(4);
  });

  test("request() uses full jitter: the sleep is random(0, bound)", async () => {
    const { client, sleeps } = scripted([new Response("", { status: 500 }), new Response("ok")], { backoffBaseMs: 1000, random: () => 0.25 });
    await client.request("GET /x", "http://h/x");
    expect(sleeps).toEqual([250]);
  });

  test("request() gives up after maxRetries naming the request and the last cause", async () => {
    const { client } = scripted(
      Array.from({ length: 3 }, () => new Response("", { status: 502, statusText: "Bad Gateway" })),
      { maxRetries: 2 },
    );
    const e = await client.request("GET /v1/x", "http://h/x").catch((x) => x);
    expect(e).toBeInstanceOf(HttpRequestError);
    expect(e.message).toBe("GET /v1/x: gave up after 3 attempts; last: HTTP 502 Bad Gateway");
  });

  test("request() fails a 4xx other than 401/404/429 at once", async () => {
    const { client } = scripted([new Response("no", { status: 403 })]);
    const e = await client.request("GET /x", "http://h/x").catch((x) => x);
    expect(e.code).toBe("http_failed");
    expect(e.data.status).toBe(403);
    expect(client.requests).toBe(1);
  });

  test("request() hands 401 and 404 back to the caller", async () => {
    const { client } = scripted([new Response("", { status: 401 }), new Response("", { status: 404 })]);
    expect((await client.request("a", "http://h/")).status).toBe(401);
    expect((await client.request("b", "http://h/")).status).toBe(404);
  });

  test("request() waits Retry-After on a 429 (seconds or HTTP date) and refuses one beyond the cap", async () => {
    const { client, sleeps } = scripted([new Response("", { status: 429, headers: { "retry-after": "7" } }), new Response("ok")]);
    await client.request("GET /x", "http://h/x");
    expect(sleeps).toEqual([7000]);
    expect(retryAfterMs("Thu, 01 Jan 1970 00:00:10 GMT", 4000)).toBe(6000);
    expect(retryAfterMs("garbage", 0)).toBeUndefined();
    const capped = scripted([new Response("", { status: 429, headers: { "retry-after": "999" } })], { retryAfterCapMs: 60_000 });
    expect((await capped.client.request("GET /x", "http://h/x").catch((x) => x)).message).toContain("asks to wait 999 s");
  });

  test("request() keeps at most requestsPerMinute requests in any 60 s window", async () => {
    const { client, calls } = scripted(
      Array.from({ length: 5 }, () => new Response("ok")),
      { requestsPerMinute: 2 },
    );
    for (let i = 0; i < 5; i++) await client.request("GET /x", "http://h/x");
    for (let i = 2; i < calls.length; i++) expect(calls[i]! - calls[i - 2]!).toBeGreaterThanOrEqual(60_000);
  });
});
