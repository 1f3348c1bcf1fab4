import { WD } from "@pond/tinyfs";
import { QuerySession, extractPondSources, resolveSources } from "@pond/tlogfs";
import { openPond, readWD } from "../context.ts";
import type { IO } from "../io.ts";
import { timeRange } from "../query/cat-rows.ts";
import { renderQuery, type RowFormat } from "../query/render-rows.ts";

/**
 * `pond query "SQL"`: quoted pond paths and globs after FROM/JOIN are tables (a glob
 * reads the union by name of every match). Sandboxed: the query reads only those files.
 */
export async function run(args: Record<string, unknown>, io: IO): Promise<number> {
  const pond = openPond(args, io);
  const range = timeRange(args);
  const { sql, sources } = extractPondSources(args.sql as string);
  const opening = openEarly();
  try {
    const { view } = await readWD(pond, args);
    const wd = new WD(view);
    const resolved = [];
    for (const s of sources) resolved.push({ view: s.view, sources: await resolveSources(view, wd, s.path, { range }) });
    const session = await opening;
    for (const r of resolved) await session.addPondView(r.view, r.sources, range);
    await session.lock();
    return await renderQuery(session, sql, args.format as RowFormat | undefined, io);
  } finally {
    (await opening.catch(() => undefined))?.close();
  }
}

/**
 * Starts a DuckDB session now, to be awaited once the pond has been read: after the
 * library's synchronous load, the instance starts on a worker thread (~40 ms) while
 * this thread reads the log and directories. An error surfaces where it is awaited.
 */
export function openEarly(): Promise<QuerySession> {
  const opening = QuerySession.open();
  opening.catch(() => {});
  return opening;
}
