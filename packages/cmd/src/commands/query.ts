import { WD } from "@pond/tinyfs";
import { extractPondSources, resolveSources } from "@pond/tlogfs";
import { openPond, readWD } from "../context.ts";
import type { IO } from "../io.ts";
import { openSessionEarly, timeRange } from "../query/cat-rows.ts";
import { renderQuery } from "../query/render-rows.ts";
import type { ArgsOf } from "../args.ts";
import type { queryCommand } from "../commands.ts";

type Args = ArgsOf<typeof queryCommand>;

/**
 * `pond query "SQL"`: quoted pond paths and globs after FROM/JOIN are tables (a glob
 * reads the union by name of every match). Sandboxed: the query reads only those files.
 */
export async function run(args: Args, io: IO): Promise<number> {
  const pond = openPond(args, io);
  const range = timeRange(args);
  const { sql, sources } = extractPondSources(args.sql);
  const opening = openSessionEarly();
  try {
    const { view } = await readWD(pond, args);
    const wd = new WD(view);
    const resolved = [];
    for (const s of sources) resolved.push({ view: s.view, sources: await resolveSources(view, wd, s.path, { range, summary: true }) });
    const session = await opening;
    for (const r of resolved) await session.addPondView(r.view, r.sources, range);
    await session.lock();
    return await renderQuery(session, sql, args.format, io);
  } finally {
    (await opening.catch(() => undefined))?.close({ last: true });
  }
}
