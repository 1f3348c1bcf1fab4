import { logger } from "@pond/diagnostics";
import { HttpRequestError } from "./errors.ts";

/**
 * The one module that talks HTTP for collectors. It owns what every API client gets
 * wrong once: per-attempt timeouts, retries with exponential backoff and full jitter
 * (sleep = random(0, min(cap, base·2^attempt)), so many field stations that failed
 * together do not retry together), `Retry-After` on 429 (seconds or an HTTP date,
 * capped), and a client-side rate limit (at most N requests in any 60 s window).
 *
 * Contract for callers: `request` resolves with the status, headers and whole body of
 * a 2xx, 401 or 404 response (the caller decides what those mean: re-authenticate, "no
 * data"). 5xx, 429, resets, dropped connections and timeouts are retried up to
 * `maxRetries` times, then HttpRequestError. Any other 4xx is HttpRequestError at once.
 * Errors name the request (method and path, never the query's secrets or headers).
 */
export interface HttpClientOptions {
  /** Seconds per attempt (default 30). */
  timeoutSeconds?: number;
  /** Retries after the first attempt (default 5). */
  maxRetries?: number;
  /** Requests allowed in any 60 s window (default 1000). */
  requestsPerMinute?: number;
  /** Backoff base and cap, ms (defaults 250 ms and 30 s). */
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /** Longest Retry-After honoured, ms (default 120 s): a server asking for an hour is a failure to report. */
  retryAfterCapMs?: number;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  now?: () => number;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  text: string;
}

export class HttpClient {
  /** Requests sent, retries included: reported in the summary line. */
  requests = 0;
  private readonly sent: number[] = [];
  private readonly o: Required<HttpClientOptions>;

  constructor(opts: HttpClientOptions = {}) {
    this.o = {
      timeoutSeconds: 30,
      maxRetries: 5,
      requestsPerMinute: 1000,
      backoffBaseMs: 250,
      backoffCapMs: 30_000,
      retryAfterCapMs: 120_000,
      fetch: (...a) => fetch(...a),
      sleep: (ms) => Bun.sleep(ms),
      random: Math.random,
      now: Date.now,
      ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)),
    } as Required<HttpClientOptions>;
  }

  /** `what` names the request in errors, e.g. "GET /v1/locations/7/data". */
  async request(what: string, url: string, init: RequestInit = {}): Promise<HttpResponse> {
    let lastCause = "";
    for (let attempt = 0; ; attempt++) {
      if (attempt > this.o.maxRetries) {
        throw new HttpRequestError(what, `gave up after ${attempt} attempts; last: ${lastCause}`);
      }
      await this.takeSlot();
      this.requests++;
      let res: Response;
      let text: string;
      try {
        res = await this.o.fetch(url, { ...init, signal: AbortSignal.timeout(this.o.timeoutSeconds * 1000) });
        // The body is read inside the attempt: a connection dropped mid-body is retried too.
        text = await res.text();
      } catch (e) {
        lastCause = describeNetworkError(e, this.o.timeoutSeconds);
        await this.backoff(attempt, what, lastCause);
        continue;
      }
      if (res.ok || res.status === 401 || res.status === 404) return { status: res.status, headers: res.headers, text };
      if (res.status === 429) {
        const wait = retryAfterMs(res.headers.get("retry-after"), this.o.now());
        lastCause = "HTTP 429 Too Many Requests";
        if (wait !== undefined && wait > this.o.retryAfterCapMs) {
          throw new HttpRequestError(what, `HTTP 429: the server asks to wait ${Math.round(wait / 1000)} s, more than ${this.o.retryAfterCapMs / 1000} s`, 429);
        }
        if (wait === undefined) await this.backoff(attempt, what, lastCause);
        else {
          logger.info("rate limited, waiting", { request: what, ms: wait });
          await this.o.sleep(wait);
        }
        continue;
      }
      if (res.status >= 500) {
        lastCause = `HTTP ${res.status}${res.statusText ? " " + res.statusText : ""}`;
        await this.backoff(attempt, what, lastCause);
        continue;
      }
      throw new HttpRequestError(what, `HTTP ${res.status}${res.statusText ? " " + res.statusText : ""}${text ? ": " + text.slice(0, 200) : ""}`, res.status);
    }
  }

  private async backoff(attempt: number, what: string, cause: string): Promise<void> {
    if (attempt >= this.o.maxRetries) return; // the loop reports it; no point sleeping first
    const ms = this.o.random() * Math.min(this.o.backoffCapMs, this.o.backoffBaseMs * 2 ** attempt);
    logger.info("request failed, retrying", { request: what, cause, attempt: attempt + 1, ms: Math.round(ms) });
    await this.o.sleep(ms);
  }

  /** Waits until sending one more request keeps the last 60 s within the limit. */
  private async takeSlot(): Promise<void> {
    const window = 60_000;
    for (;;) {
      const now = this.o.now();
      while (this.sent.length && this.sent[0]! <= now - window) this.sent.shift();
      if (this.sent.length < this.o.requestsPerMinute) {
        this.sent.push(now);
        return;
      }
      await this.o.sleep(this.sent[0]! + window - now);
    }
  }
}

/** Retry-After as ms from now: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now: number): number | undefined {
  if (header === null || header.trim() === "") return undefined;
  const s = header.trim();
  if (/^\d+$/.test(s)) return Number(s) * 1000;
  const t = Date.parse(s);
  if (Number.isNaN(t)) return undefined;
  return Math.max(0, t - now);
}

function describeNetworkError(e: unknown, timeoutSeconds: number): string {
  if (e instanceof DOMException && (e.name === "TimeoutError" || e.name === "AbortError")) return `no answer within ${timeoutSeconds} s`;
  const err = e as { code?: string; message?: string };
  return `${err.code ? err.code + ": " : ""}${err.message ?? String(e)}`;
}
