/**
 * `POST /sql`: one SELECT over the pond, the same sandbox and path syntax as `pond query`
 * (tlogfs pond-query.ts and query-output.ts are the one implementation). The body is the
 * SQL as text, or JSON `{sql, as_of, time_start, time_end}`. `Accept` picks the format.
 * The answer streams chunk by chunk from DuckDB; headers are sent once the first chunk
 * exists, so a query that fails (even while running) is a 400 `{error: {code, message}}` with DuckDB's
 * message. A query running past the time limit is interrupted (DuckDB's interrupt) and
 * answered 408; one that passes it after its answer began is cut off.
 */
import { isAsOfText, parseAsOf, type AsOf } from "@pond/steward";
import {
  extractPondSources,
  preparePondQuery,
  queryOutput,
  timeRange,
  type QueryOutputFormat,
  type QuerySession,
  type SourceResolver,
  type TimeRange,
} from "@pond/tlogfs";
import type { Histogram } from "./metrics.ts";
import type { PondNow } from "./pond-state.ts";
import { BadRequestError, NotAcceptableError, QueryTimeoutError } from "./errors.ts";
import { readBody } from "./http-body.ts";
import type { SessionPool } from "./session-pool.ts";

/** A SQL body larger than this is refused (413): a query is text, not data. */
export const SQL_BODY_LIMIT = 1 << 20;

/** Media types /sql writes, by the format name `queryOutput` takes. */
export const SQL_MEDIA_TYPES: Record<QueryOutputFormat, string> = {
  json: "application/json",
  jsonl: "application/x-ndjson",
  csv: "text/csv; charset=utf-8",
  arrow: "application/vnd.apache.arrow.stream",
  parquet: "application/vnd.apache.parquet",
};

const ACCEPTED: Record<string, QueryOutputFormat> = {
  "application/json": "json",
  "application/x-ndjson": "jsonl",
  "application/jsonl": "jsonl",
  "text/csv": "csv",
  "application/vnd.apache.arrow.stream": "arrow",
  "application/vnd.apache.parquet": "parquet",
  "application/x-parquet": "parquet",
  "*/*": "json",
  "application/*": "json",
  "text/*": "csv",
};

/** The format an `Accept` header asks for: the highest q the server writes (JSON when absent). */
export function formatFor(accept: string | null): QueryOutputFormat {
  if (accept === null || accept.trim() === "") return "json";
  const offers = accept
    .split(",")
    .map((part, i) => {
      const [type, ...params] = part.split(";").map((s) => s.trim().toLowerCase());
      const q = params.find((p) => p.startsWith("q="));
      return { type: type!, q: q === undefined ? 1 : Number(q.slice(2)), i };
    })
    .filter((o) => o.q > 0 && ACCEPTED[o.type] !== undefined)
    .sort((a, b) => b.q - a.q || a.i - b.i);
  if (offers.length === 0) throw new NotAcceptableError(accept);
  return ACCEPTED[offers[0]!.type]!;
}

export interface SqlRequest {
  sql: string;
  asOf?: AsOf;
  range?: TimeRange;
}

/** The request body as a query: text/plain SQL, or JSON `{sql, as_of, time_start, time_end}`. */
export function parseSqlBody(bytes: Uint8Array, contentType: string | null): SqlRequest {
  const text = new TextDecoder().decode(bytes);
  if (!(contentType ?? "").toLowerCase().startsWith("application/json")) {
    if (text.trim() === "") throw new BadRequestError('The body is empty: send one SELECT as text/plain, or JSON {"sql": "…"}');
    return { sql: text };
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    if (!(e instanceof SyntaxError)) throw e;
    throw new BadRequestError(
      `The body is not JSON: ${e.message}`,
      'Send {"sql": "SELECT …", "as_of": …, "time_start": …, "time_end": …}, or the SQL as text/plain.',
    );
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new BadRequestError('The JSON body must be an object like {"sql": "SELECT …"}');
  const o = v as Record<string, unknown>;
  const known = new Set(["sql", "as_of", "time_start", "time_end"]);
  const extra = Object.keys(o).filter((k) => !known.has(k));
  if (extra.length)
    throw new BadRequestError(
      `Unknown field${extra.length > 1 ? "s" : ""} ${extra.map((k) => JSON.stringify(k)).join(", ")} in the JSON body`,
      "The fields are sql, as_of, time_start and time_end.",
    );
  if (typeof o.sql !== "string" || o.sql.trim() === "") throw new BadRequestError('The JSON body needs "sql": one SELECT as a string');
  const str = (k: string): string | undefined => {
    const x = o[k];
    if (x === undefined || x === null) return undefined;
    if (typeof x === "number" && Number.isFinite(x)) return String(x);
    if (typeof x === "string") return x;
    throw new BadRequestError(`"${k}" must be a string or a number, not ${JSON.stringify(x)}`);
  };
  const asOf = str("as_of");
  if (asOf !== undefined && !isAsOfText(asOf))
    throw new BadRequestError(
      `"as_of" ${JSON.stringify(asOf)} is neither a transaction sequence nor an ISO 8601 time`,
      "Give a sequence from `pond log` (e.g. 3) or a time like 2026-01-31T12:00:00Z.",
    );
  const range = timeRange({ timeStart: str("time_start"), timeEnd: str("time_end") }, { start: "time_start", end: "time_end" });
  return { sql: o.sql, ...(asOf === undefined ? {} : { asOf: parseAsOf(asOf) }), ...(range ? { range } : {}) };
}

export interface SqlContext {
  /** The pond's newest state (PondUnavailableError when it cannot be read). */
  current(): Promise<PondNow>;
  readonly pool: SessionPool;
  readonly timeoutMs: number;
  readonly queryLatency: Histogram;
  /** How pond paths become payload files (a cache per view, see source-cache.ts). */
  readonly resolve?: SourceResolver;
  /** Called once when the answer is done: its body sent, cancelled, or the query failed. */
  readonly onFinished?: () => void;
}

/** Answers `POST /sql` (see the module comment). */
export async function handleSql(req: Request, ctx: SqlContext): Promise<Response> {
  const format = formatFor(req.headers.get("accept"));
  const q = parseSqlBody(await readBody(req, SQL_BODY_LIMIT), req.headers.get("content-type"));
  const now = await ctx.current();
  const started = performance.now();
  let session: QuerySession | undefined;
  let timedOut = false;
  let finished = false;
  let release: (() => void) | undefined;
  let key: string | undefined;
  let opening: Promise<QuerySession> | undefined;
  const timer = setTimeout(() => {
    timedOut = true;
    session?.interrupt();
  }, ctx.timeoutMs);
  const finish = (outcome: "ok" | "error" | "timeout" | "cancelled") => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    ctx.onFinished?.();
    release?.();
    ctx.queryLatency.observe((performance.now() - started) / 1000, { format, outcome });
    const s = session;
    if (!s) {
      // Failed before the session it was opening arrived (a path not found): close it when it does.
      opening?.then(
        (o) => o.close(),
        () => {},
      );
      return;
    }
    // Kept for the next query over the same sources only after a clean run (see session-pool.ts).
    if (outcome === "ok" && key !== undefined) ctx.pool.park(key, s);
    // Tearing DuckDB down takes 10–20 ms: after this answer, not inside it.
    else setTimeout(() => s.close(), 0);
  };
  let iterator: AsyncIterator<string | Uint8Array>;
  let first: IteratorResult<string | Uint8Array>;
  try {
    const view = q.asOf === undefined ? now.view : await now.pond.view(q.asOf);
    release = await ctx.pool.slot();
    if (timedOut) throw new QueryTimeoutError(ctx.timeoutMs);
    // Only the newest transaction's sessions are kept (as_of views are read per request).
    const extracted = extractPondSources(q.sql);
    if (q.asOf === undefined) key = `${now.seq}\u0000${q.range?.start ?? ""}\u0000${q.range?.end ?? ""}\u0000${JSON.stringify(extracted.sources)}`;
    const kept = key === undefined ? undefined : ctx.pool.takeParked(key);
    let sql: string;
    if (kept) {
      session = kept;
      sql = extracted.sql;
    } else {
      opening = ctx.pool.take();
      opening.then(
        (s) => {
          session = s;
          if (timedOut) s.interrupt();
        },
        () => {},
      );
      sql = await preparePondQuery(opening, view, q.sql, q.range, ctx.resolve);
      session = await opening;
    }
    if (timedOut) throw new QueryTimeoutError(ctx.timeoutMs);
    const out = await queryOutput(session, sql, format);
    iterator = out.chunks[Symbol.asyncIterator]();
    first = await iterator.next();
  } catch (e) {
    finish(timedOut ? "timeout" : "error");
    if (timedOut) throw new QueryTimeoutError(ctx.timeoutMs);
    throw e;
  }
  const enc = new TextEncoder();
  let pending: IteratorResult<string | Uint8Array> | undefined = first;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const r = pending ?? (await iterator.next());
        pending = undefined;
        if (r.done) {
          controller.close();
          finish("ok");
          return;
        }
        controller.enqueue(typeof r.value === "string" ? enc.encode(r.value) : r.value);
      } catch (e) {
        finish(timedOut ? "timeout" : "error");
        controller.error(timedOut ? new QueryTimeoutError(ctx.timeoutMs) : e);
      }
    },
    async cancel() {
      try {
        await iterator.return?.();
      } finally {
        finish("cancelled");
      }
    },
  });
  return new Response(body, { status: 200, headers: { "content-type": SQL_MEDIA_TYPES[format] } });
}
