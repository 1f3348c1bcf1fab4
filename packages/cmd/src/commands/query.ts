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
  const { view } = await readWD(pond, args);
  const range = timeRange(args);
  const { sql, sources } = extractPondSources(args.sql as string);
  const session = await QuerySession.open();
  try {
    const wd = new WD(view);
    for (const s of sources) await session.addPondView(s.view, await resolveSources(view, wd, s.path, { range }), range);
    await session.lock();
    return await renderQuery(session, sql, args.format as RowFormat | undefined, io);
  } finally {
    session.close();
  }
}
