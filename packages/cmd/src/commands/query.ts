import { openSessionEarly, preparePondQuery, timeRange } from "@pond/tlogfs";
import { openPond, readWD } from "../context.ts";
import type { IO } from "../io.ts";
import { renderQuery } from "../query/render-rows.ts";
import type { ArgsOf } from "../args.ts";
import type { queryCommand } from "../commands.ts";

type Args = ArgsOf<typeof queryCommand>;

/**
 * `pond query "SQL"`: quoted pond paths and globs after FROM/JOIN are tables (a glob
 * reads the union by name of every match). Sandboxed: the query reads only those files.
 * The same code answers `POST /sql` (tlogfs pond-query.ts, query-output.ts).
 */
export async function run(args: Args, io: IO): Promise<number> {
  const pond = openPond(args, io);
  const range = timeRange(args);
  const opening = openSessionEarly();
  try {
    const { view } = await readWD(pond, args);
    const sql = await preparePondQuery(opening, view, args.sql, range);
    return await renderQuery(await opening, sql, args.format, io);
  } finally {
    (await opening.catch(() => undefined))?.close({ last: true });
  }
}
