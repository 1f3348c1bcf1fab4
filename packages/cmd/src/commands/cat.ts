import { span } from "@pond/diagnostics";
import { NotFoundError, WrongTypeError } from "@pond/tinyfs";
import { openPond, readWD } from "../context.ts";
import { parseEndpoint } from "../endpoint.ts";
import type { IO } from "../io.ts";
import type { QuerySession } from "@pond/tlogfs";
import type { ArgsOf } from "../args.ts";
import type { catCommand } from "../commands.ts";
import { CatNotQueryableError } from "../command-errors.ts";

type Args = ArgsOf<typeof catCommand>;

/**
 * `pond cat PATH`: a data file's bytes, byte-exact and streamed; a table's or series'
 * rows (see query/cat-rows.ts). Host mode (`host+csv:` …) needs no pond.
 */
export async function run(args: Args, io: IO): Promise<number> {
  const target = parseEndpoint(args.path, io.cwd);
  if (target.kind === "host") {
    const { catHost } = await import("../query/cat-rows.ts");
    return catHost(target, args, io);
  }
  const pond = openPond(args, io);
  // With --sql the rows come from DuckDB: start it while the pond is read.
  const opening = args.sql !== undefined ? (await import("@pond/tlogfs")).openSessionEarly() : undefined;
  try {
    return await catPond(target.path, args, io, pond, opening);
  } finally {
    if (opening) {
      const closing = span("duckdb_closed");
      (await opening.catch(() => undefined))?.close({ last: true });
      closing.end();
    }
  }
}

async function catPond(path: string, args: Args, io: IO, pond: ReturnType<typeof openPond>, opening: Promise<QuerySession> | undefined): Promise<number> {
  const reading = span("pond_read");
  const { view, wd } = await readWD(pond, args);
  // Rows of a whole series are read from its summary, not its versions (see resolveSources'
  // `summary`): only a read that may print one version's bytes, or names one, needs them.
  const rowsOnly =
    (args.format !== "parquet" || args.sql !== undefined || args.timeStart !== undefined || args.timeEnd !== undefined) && args.version === undefined;
  const found = rowsOnly ? await wd.resolve(path, { followSymlinks: true }) : null;
  if (found && (found.entryType === "file:table" || found.entryType === "file:series")) {
    reading.end({ versionLastModified: found.versionLastModified });
    const { catRows } = await import("../query/cat-rows.ts");
    return catRows(view, found, args, io, opening, wd);
  }
  const st = await wd.stat(path);
  if (st.entryType === "directory") {
    throw new WrongTypeError(st.path, "directory", "file", `List it with \`pond list ${st.path === "/" ? "/" : st.path + "/"}\`.`);
  }
  const versions = st.versions ?? (await view.versions(st.parentId, st.nodeId));
  reading.end({ versions: versions.length });
  const version = args.version;
  if (version !== undefined && !versions.some((v) => v.version === version)) {
    throw new NotFoundError(
      `Version ${version} of "${st.path}"`,
      `It has versions 1 to ${versions[versions.length - 1]!.version}; see \`pond describe ${st.path}\`.`,
    );
  }
  if (st.entryType === "file:table" || st.entryType === "file:series") {
    // Parquet bytes of one stored version go out as they are; everything else is rows.
    const oneVersion = st.entryType === "file:table" || version !== undefined || versions.length === 1;
    const raw = args.format === "parquet" && oneVersion && !args.sql && !args.timeStart && !args.timeEnd;
    if (!raw) {
      const { catRows } = await import("../query/cat-rows.ts");
      return catRows(view, st, args, io, opening, wd);
    }
  } else if (args.sql) {
    throw new CatNotQueryableError(st.path, st.entryType);
  }
  for await (const chunk of view.readPath(st.path, st.parentId, st.nodeId, version)) io.out.write(chunk);
  return 0;
}
