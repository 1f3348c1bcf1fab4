/**
 * `pond serve`: one process holding the pond open, answering over HTTP (Bun.serve).
 *
 *   GET  /health   200 {status, pondId, seq, committedAt} while the pond can be read, else 503
 *   GET  /status   connections (an upper bound: connection-tracker.ts), requests, the last commit seen, the parts' status
 *   GET  /metrics  the Prometheus text format (metrics.ts)
 *   POST /sql      a query, streamed (sql-route.ts)
 *   GET  /…        the static site, rebuilt lazily when the pond changed (site-route.ts)
 *   …              whatever the parts own (parts.ts: streaming ingest)
 *
 * Every failure is `{error: {code, message, hint, data}}` JSON at its status: 401 without the right bearer token
 * (when the server has one), 404 unknown route, 405 wrong method, 413 body too large, 400
 * a bad query. `close()` stops accepting, lets requests in flight finish, then closes each
 * part (which flushes and commits what it holds).
 */
import { logger, PondError } from "@pond/diagnostics";
import { checkBearer, type ListenAddress } from "./auth.ts";
import { ConnectionTracker } from "./connection-tracker.ts";
import { MethodNotAllowedError, RouteNotFoundError, ShuttingDownError, httpStatus } from "./errors.ts";
import { errorResponse, jsonResponse } from "./http-body.ts";
import { METRICS_CONTENT_TYPE, Registry } from "./metrics.ts";
import type { IngestOptions, ServerPart } from "./part.ts";
import { createParts } from "./parts.ts";
import { PondState } from "./pond-state.ts";
import { SessionPool } from "./session-pool.ts";
import { SiteRoute } from "./site-route.ts";
import { cachingResolver } from "./source-cache.ts";
import { handleSql } from "./sql-route.ts";

export interface ServeOptions {
  /** The pond's folder. */
  pondDir: string;
  listen: ListenAddress;
  /** The bearer token every request must carry; none on a loopback bind without --token. */
  token?: string;
  /** A query running longer is interrupted (ms). */
  queryTimeoutMs: number;
  /**
   * Bun closes a keep-alive connection idle this long (1 to 255 s; it also cuts a request that
   * sends nothing for this long, so the default is the query timeout plus 5 s, at least 10 s).
   */
  idleTimeoutSeconds?: number;
  /** Thresholds and dedup settings handed to the parts. */
  ingest: IngestOptions;
  /** The command line that started the server, recorded by the parts' commits (default `pond serve`). */
  command?: readonly string[];
  /** The parts (default: parts.ts). */
  makeParts?: typeof createParts;
}

export interface RunningServer {
  /** `http://HOST:PORT` as actually bound (port 0 resolved). */
  readonly url: string;
  /** Stops accepting, finishes requests in flight, closes the parts. Idempotent. */
  close(): Promise<void>;
}

/** Requests this server has not finished answering may run this long after `close()` before their connections are cut. */
const DRAIN_MS = 10_000;
/** Bun's own cap on a body (the routes apply smaller limits of their own: 413 `{error: {code, …}}`). */
const MAX_BODY = 256 * 1024 * 1024;

const BUILTIN: Record<string, string> = { "/health": "GET", "/status": "GET", "/metrics": "GET", "/sql": "POST" };

/** Starts the server (see the module comment). */
export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const metrics = new Registry();
  const requests = metrics.counter("pond_http_requests_total", "HTTP requests answered, by route, method and status");
  const latency = metrics.histogram("pond_http_request_duration_seconds", "Time to the response's headers, by route (a streamed body continues after)");
  const errors = metrics.counter("pond_errors_total", "Requests answered with an error, by error code");
  const queryLatency = metrics.histogram(
    "pond_query_duration_seconds",
    "POST /sql from the request to the last byte of the answer, by format and outcome (ok, error, timeout, cancelled)",
  );
  const inFlightGauge = metrics.gauge("pond_http_requests_in_flight", "Requests being answered now");
  const connectionsGauge = metrics.gauge(
    "pond_http_connections_open_at_most",
    "Client connections answering a request or that answered one within the idle timeout (an upper bound on those open; see /status)",
  );
  const seqGauge = metrics.gauge("pond_last_commit_seq", "The newest transaction sequence the server has seen");
  const commits = metrics.counter("pond_commits_seen_total", "Commits the server has seen (its own parts' and other pond commands')");
  const siteBuilds = metrics.counter("pond_site_builds_total", "Rebuilds of the static site");
  const startedAt = Date.now();

  const state = new PondState(opts.pondDir);
  const pool = new SessionPool();
  const site = new SiteRoute();
  // Only the newest view is cached: as_of views are new objects per request.
  let newestView: unknown;
  const resolve = cachingResolver((view) => view === newestView);
  let commitsCounted = 0;
  const current = async (deep = false) => {
    const now = await (deep ? state.check() : state.current());
    newestView = now.view;
    seqGauge.set(now.seq);
    if (state.commitsSeen > commitsCounted) {
      commits.inc(undefined, state.commitsSeen - commitsCounted);
      commitsCounted = state.commitsSeen;
    }
    return now;
  };

  // The pond as it is at the start: commits from now on (the parts' flushes included, even when no
  // request comes between) are counted in /status and pond_commits_seen_total.
  await current().catch((e: unknown) => {
    if (!(e instanceof PondError)) throw e;
  });
  const parts: ServerPart[] = await (opts.makeParts ?? createParts)(
    { pondDir: opts.pondDir, metrics, ...(opts.command === undefined ? {} : { command: opts.command }) },
    opts.ingest,
  );
  let total = 0;
  let inFlight = 0;
  const idleTimeout = opts.idleTimeoutSeconds ?? defaultIdleTimeoutSeconds(opts.queryTimeoutMs);
  const connections = new ConnectionTracker(idleTimeout);
  let closing: Promise<void> | undefined;

  /** `answered` is called when the answer is done; /sql calls it when its streamed body ends. */
  const route = async (req: Request, url: URL, answered: () => void): Promise<{ route: string; response: Response }> => {
    const path = url.pathname;
    const want = BUILTIN[path];
    if (want !== undefined) {
      if (req.method !== want && !(want === "GET" && req.method === "HEAD")) throw new MethodNotAllowedError(req.method, path, [want]);
      if (path === "/health") return { route: path, response: await health() };
      if (path === "/status") return { route: path, response: jsonResponse(await status()) };
      if (path === "/metrics") {
        inFlightGauge.set(inFlight);
        connectionsGauge.set(connections.counts().openAtMost);
        // Fresh commit figures (a stat of the log when nothing changed), even when no other request came.
        await current().catch((e: unknown) => {
          if (!(e instanceof PondError)) throw e;
        });
        return { route: path, response: new Response(metrics.render(), { headers: { "content-type": METRICS_CONTENT_TYPE } }) };
      }
      return {
        route: path,
        response: await handleSql(req, { current: () => current(), pool, resolve, timeoutMs: opts.queryTimeoutMs, queryLatency, onFinished: answered }),
      };
    }
    for (const part of parts) {
      const r = await part.handle(req, url);
      if (r) {
        // A part answers its refusals itself ({error: {code}}): counted with the server's own errors.
        if (r.status >= 400) errors.inc({ code: await errorCodeOf(r) });
        return { route: part.name, response: r };
      }
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      if (path === "/") throw new MethodNotAllowedError(req.method, path, ["GET"]);
      throw new RouteNotFoundError(path);
    }
    const before = site.status().builds;
    const response = await site.handle(path, await current());
    if (site.status().builds > before) siteBuilds.inc();
    return { route: "site", response };
  };

  const health = async (): Promise<Response> => {
    try {
      const now = await current(true);
      return jsonResponse({ status: "ok", pondId: now.pond.id, seq: now.seq, committedAt: new Date(now.view.snapshot.timestamp).toISOString() });
    } catch (e) {
      if (!(e instanceof PondError)) throw e;
      return jsonResponse({ status: "unavailable", error: { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) } }, 503);
    }
  };

  const status = async () => {
    let pond: Record<string, unknown>;
    try {
      const now = await current();
      pond = { dir: state.dir, id: now.pond.id, seq: now.seq, committedAt: new Date(now.view.snapshot.timestamp).toISOString() };
    } catch (e) {
      if (!(e instanceof PondError)) throw e;
      pond = { dir: state.dir, error: e.message, code: e.code };
    }
    const partStatus: Record<string, unknown> = {};
    for (const p of parts) partStatus[p.name] = p.status();
    return {
      pond: {
        ...pond,
        commitsSeen: state.commitsSeen,
        lastCommitSeenAt: state.lastCommitSeenAt === undefined ? null : new Date(state.lastCommitSeenAt).toISOString(),
      },
      server: {
        url: base,
        startedAt: new Date(startedAt).toISOString(),
        uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
        requests: total,
        inFlight,
        // Bun exposes no count of open connections: an upper bound from the clients' address:port (connection-tracker.ts).
        connections: connections.counts(),
        pendingRequests: server.pendingRequests,
        queries: { ...pool.load(), sessionsKept: pool.parkedCount(), ranInKeptSession: pool.reused, ranInFreshSession: pool.fresh },
        queryTimeoutMs: opts.queryTimeoutMs,
        auth: opts.token === undefined ? "none" : "bearer",
      },
      site: site.status(),
      parts: partStatus,
    };
  };

  const server = Bun.serve({
    hostname: opts.listen.hostname,
    port: opts.listen.port,
    maxRequestBodySize: MAX_BODY,
    idleTimeout: idleTimeout,
    fetch: async (req, srv) => {
      const t0 = performance.now();
      total++;
      inFlight++;
      const ip = srv.requestIP(req);
      const conn = ip === null ? undefined : `${ip.address}:${ip.port}`;
      if (conn !== undefined) connections.begin(conn);
      let ended = false;
      const answered = () => {
        if (ended || conn === undefined) return;
        ended = true;
        connections.end(conn);
      };
      const url = new URL(req.url);
      let routeName = "unknown";
      let response: Response;
      try {
        if (closing) throw new ShuttingDownError();
        if (opts.token !== undefined) {
          try {
            checkBearer(req.headers.get("authorization"), opts.token);
          } catch (e) {
            // The header's value is never logged.
            logger.warn("unauthorized", { method: req.method, path: url.pathname, remote: srv.requestIP(req)?.address, why: (e as PondError).data.why });
            throw e;
          }
        }
        const r = await route(req, url, answered);
        routeName = r.route;
        response = r.response;
      } catch (e) {
        response = errorResponse(e);
        if (routeName === "unknown") routeName = knownRoute(url.pathname);
        errors.inc({ code: e instanceof PondError ? e.code : "internal" });
        if (httpStatus(e) >= 500 && !(e instanceof PondError && e.kind !== "bug"))
          logger.error("request_failed", { method: req.method, path: url.pathname, error: String(e), stack: (e as Error)?.stack });
        else logger.info("request_refused", { method: req.method, path: url.pathname, status: response.status, code: (e as PondError).code });
      } finally {
        inFlight--;
      }
      // A query's answer streams on after this: it calls `answered` when its body ends.
      if (!(routeName === "/sql" && response.status === 200)) answered();
      const seconds = (performance.now() - t0) / 1000;
      requests.inc({ route: routeName, method: req.method, status: String(response.status) });
      latency.observe(seconds, { route: routeName });
      logger.debug("request", { method: req.method, path: url.pathname, route: routeName, status: response.status, ms: Math.round(seconds * 1000) });
      return response;
    },
  });
  const base = `http://${server.hostname?.includes(":") ? `[${server.hostname}]` : server.hostname}:${server.port}`;

  const close = (): Promise<void> => {
    closing ??= (async () => {
      const stopping = server.stop(false);
      const drained = await Promise.race([stopping.then(() => true), Bun.sleep(DRAIN_MS).then(() => false)]);
      if (!drained) await server.stop(true);
      for (const p of parts) await p.close();
      await pool.close();
      site.close();
    })();
    return closing;
  };
  return { url: base, close };
}

/** The idle timeout when none is given: a query may send nothing until its time limit, and Bun would cut it. */
function defaultIdleTimeoutSeconds(queryTimeoutMs: number): number {
  return Math.min(255, Math.max(10, Math.ceil(queryTimeoutMs / 1000) + 5));
}

/** The `error.code` of a part's error answer (read from a copy; "unknown" when it has none). */
async function errorCodeOf(r: Response): Promise<string> {
  try {
    const code = ((await r.clone().json()) as { error?: { code?: unknown } }).error?.code;
    return typeof code === "string" && /^[a-z_]{1,64}$/.test(code) ? code : "unknown";
  } catch {
    return "unknown";
  }
}

/** The metrics label of a path no route answered (bounded: never the raw path). */
function knownRoute(path: string): string {
  return BUILTIN[path] !== undefined ? path : "unknown";
}
