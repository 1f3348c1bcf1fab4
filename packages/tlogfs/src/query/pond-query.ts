/**
 * `pond query`'s SQL over a pond, shared by the CLI and `POST /sql` (one implementation):
 * quoted pond paths and globs after FROM/JOIN become views over their payload files, then
 * the session is locked (see QuerySession) so the query reads only those files.
 */
import { WD } from "@pond/tinyfs";
import type { TLogView } from "../tlog-view.ts";
import { resolveSources, type ResolvedSource } from "./pond-sources.ts";
import { QuerySession } from "./query-session.ts";
import { extractPondSources } from "./sql-sources.ts";
import { parseTimeBound, type TimeRange } from "./time-bounds.ts";

/**
 * `--time-start`/`--time-end` (or the names given) as a half-open range in µs; undefined
 * when neither is given. A value that is not a time is BadTimeError naming the option.
 */
export function timeRange(
  args: { timeStart?: string | undefined; timeEnd?: string | undefined },
  names: { start: string; end: string } = { start: "--time-start", end: "--time-end" },
): TimeRange | undefined {
  const s = args.timeStart,
    e = args.timeEnd;
  if (s === undefined && e === undefined) return undefined;
  return { start: s === undefined ? undefined : parseTimeBound(s, names.start), end: e === undefined ? undefined : parseTimeBound(e, names.end) };
}

/**
 * Starts a DuckDB session now, to be awaited once the pond has been read: after the
 * library's synchronous load, the instance starts on a worker thread (~40 ms) while
 * this thread reads the log and directories. An error surfaces where it is awaited;
 * whoever starts it closes it.
 */
export function openSessionEarly(): Promise<QuerySession> {
  const opening = QuerySession.open();
  opening.catch(() => {});
  return opening;
}

/** How a pond path or glob becomes payload files (`resolveSources`, or a cache in front of it). */
export type SourceResolver = (view: TLogView, wd: WD, pattern: string, opts: { range?: TimeRange; summary?: boolean }) => Promise<ResolvedSource[]>;

/**
 * Registers the pond sources `text` names (each kept to `range`) in `session` and locks
 * it; returns the SQL to run, with every pond path replaced by its view's name. The
 * session may still be opening (see `openSessionEarly`): the pond is read meanwhile.
 */
export async function preparePondQuery(
  session: QuerySession | Promise<QuerySession>,
  view: TLogView,
  text: string,
  range?: TimeRange,
  resolve: SourceResolver = resolveSources,
): Promise<string> {
  const { sql, sources } = extractPondSources(text);
  const wd = new WD(view);
  const resolved = [];
  // A query reads each source whole (never split by version): a series comes from its summary (see resolveSources).
  for (const s of sources) resolved.push({ view: s.view, path: s.path, sources: await resolve(view, wd, s.path, { range, summary: true }) });
  const ready = await session;
  for (const r of resolved) await ready.addPondView(r.view, r.sources, range, r.path);
  await ready.lock();
  return sql;
}
