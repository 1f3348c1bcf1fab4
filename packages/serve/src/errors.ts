/**
 * The errors of `pond serve`. Those a request causes carry the HTTP status they answer
 * with (`status`); the body is always `{error: {code, message, hint, data}}` (see http-body.ts). Those raised
 * when the server starts (a bad --listen, a token missing or given literally) are usage
 * errors the CLI prints.
 */
import { PondError } from "@pond/diagnostics";

/** An error a request gets back, with its HTTP status. */
export interface HttpFailure {
  readonly status: number;
}

/** No route at this path. */
export class RouteNotFoundError extends PondError implements HttpFailure {
  readonly status = 404;
  constructor(path: string) {
    super("route_not_found", `No route ${JSON.stringify(path)}`, {
      data: { path },
      hint: "Routes: GET /health, /status, /metrics, / (the site); POST /sql, /ingest/<pond path>, /flush.",
    });
  }
}

/** The route exists but not for this method. */
export class MethodNotAllowedError extends PondError implements HttpFailure {
  readonly status = 405;
  constructor(
    method: string,
    path: string,
    readonly allow: string[],
  ) {
    super("method_not_allowed", `${method} is not allowed on ${path}; use ${allow.join(" or ")}`, { data: { method, path, allow } });
  }
}

/** A body over the server's limit. */
export class BodyTooLargeError extends PondError implements HttpFailure {
  readonly status = 413;
  constructor(limit: number) {
    super("body_too_large", `The request body is larger than ${limit} bytes`, {
      data: { limit },
      hint: "Send a smaller body: one SQL text, or the rows in several requests (each is acknowledged on its own).",
    });
  }
}

/** A missing or wrong `Authorization: Bearer` token (the token itself is never named). */
export class UnauthorizedError extends PondError implements HttpFailure {
  readonly status = 401;
  constructor(why: "missing" | "wrong") {
    super("unauthorized", why === "missing" ? "This server needs Authorization: Bearer <token>" : "The bearer token is wrong", {
      data: { why },
      hint: "Send the token the server was started with (--token) as Authorization: Bearer <token>.",
    });
  }
}

/** A request body that is not what the route takes (not JSON, no sql, a bad time). */
export class BadRequestError extends PondError implements HttpFailure {
  readonly status = 400;
  constructor(message: string, hint?: string) {
    super("bad_request", message, hint === undefined ? {} : { hint });
  }
}

/** An Accept header naming no format /sql writes. */
export class NotAcceptableError extends PondError implements HttpFailure {
  readonly status = 406;
  constructor(accept: string) {
    super("not_acceptable", `No result format matches Accept: ${accept}`, {
      data: { accept },
      hint: "Accept application/json, application/x-ndjson, text/csv, application/vnd.apache.arrow.stream or application/vnd.apache.parquet.",
    });
  }
}

/** A query that ran past --query-timeout and was interrupted. */
export class QueryTimeoutError extends PondError implements HttpFailure {
  readonly status = 408;
  constructor(timeoutMs: number) {
    super("query_timeout", `The query ran longer than the server's limit of ${timeoutMs / 1000} s and was cancelled`, {
      data: { timeoutMs },
      hint: "Narrow it (a time range, fewer columns, an aggregate), or start the server with a larger --query-timeout.",
    });
  }
}

/** The pond cannot be read right now (its folder removed or damaged under the server). */
export class PondUnavailableError extends PondError implements HttpFailure {
  readonly status = 503;
  constructor(dir: string, reason: string) {
    super("pond_unavailable", `The pond at ${dir} cannot be read: ${reason}`, {
      data: { dir },
      hint: "Check the pond folder (pond fsck); the server answers again as soon as it can read it.",
    });
  }
}

/** The server is shutting down. */
export class ShuttingDownError extends PondError implements HttpFailure {
  readonly status = 503;
  constructor() {
    super("shutting_down", "The server is shutting down", { hint: "Retry against the server's next start." });
  }
}

/** `--listen` that is not HOST:PORT. */
export class BadListenError extends PondError {
  constructor(value: string) {
    super("bad_listen", `--listen "${value}" is not HOST:PORT`, {
      kind: "usage",
      data: { value },
      hint: "Give e.g. --listen 127.0.0.1:8080, --listen [::1]:8080, or port 0 for any free port.",
    });
  }
}

/** `--idle-timeout` that is not a whole number of seconds from 1 to 255 (Bun's limit for HTTP). */
export class BadIdleTimeoutError extends PondError {
  constructor(value: string) {
    super("bad_idle_timeout", `--idle-timeout "${value}" is not a duration of 1 to 255 whole seconds`, {
      kind: "usage",
      data: { value },
      hint: "Give e.g. --idle-timeout 10s or --idle-timeout 2m; leave it out for the query timeout plus 5 s.",
    });
  }
}

/** A non-loopback bind with no --token, or a --token that is not a `${env:NAME}` reference, or names an unset variable. */
export class BadTokenError extends PondError {
  constructor(message: string, hint: string) {
    super("bad_token", message, { kind: "usage", hint });
  }
}

/** The HTTP status of an error a request caused: its own, else 400 for a user's error, 500 for a bug. */
export function httpStatus(e: unknown): number {
  if (e instanceof PondError) {
    const s = (e as Partial<HttpFailure>).status;
    if (typeof s === "number") return s;
    if (e.kind === "integrity") return 500;
    return e.kind === "bug" ? 500 : 400;
  }
  return 500;
}

/** `GET /` while the site cannot be built (a bad /etc/site.yaml, a series that cannot be read). */
export class SiteBuildFailedError extends PondError implements HttpFailure {
  readonly status = 500;
  constructor(seq: number, reason: string, hint?: string) {
    super("site_build_failed", `The site cannot be built at transaction ${seq}: ${reason}`, {
      data: { seq },
      hint: hint ?? "Fix what the message names (`pond site build host:///tmp/x` shows the same error); the next request builds it again.",
    });
  }
}
