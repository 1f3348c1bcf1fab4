import { logger, span } from "@pond/diagnostics";
import { LocalObjectStore, loadSnapshot } from "@pond/oplog";
import { WD, type Resolved } from "@pond/tinyfs";
import { NotParquetError, QuerySession, hasParquetMagic, readRowsDirect, resolveSources, timeRange, type CsvOptions, type TLogView } from "@pond/tlogfs";
import type { Endpoint } from "../endpoint.ts";
import { statHost } from "../host-files.ts";
import type { IO } from "../io.ts";
import { renderQuery, renderText } from "./render-rows.ts";
import { join } from "node:path";
import { UsageError, type ArgsOf } from "../args.ts";
import { asOfOption } from "../context.ts";
import type { catCommand } from "../commands.ts";

/** The CSV reading options `cat` and `copy` share. */
export interface CsvArgs {
  delimiter?: string | undefined;
  header?: boolean | undefined;
  skip?: number | undefined;
  nullString?: string | undefined;
  timestampFormat?: string | undefined;
  timezone?: string | undefined;
}

/**
 * `pond cat` of a table or series: its rows (a series: every version, unioned by name).
 * `opening` is a session the caller started early and closes itself.
 */
export async function catRows(
  view: TLogView,
  st: Resolved,
  args: ArgsOf<typeof catCommand>,
  io: IO,
  opening?: Promise<QuerySession>,
  wd: WD = new WD(view),
): Promise<number> {
  const range = timeRange(args);
  const version = args.version;
  const resolving = span("sources_resolved");
  const sources = await resolveSources(view, wd, st.path, { range, version, summary: true });
  resolving.end({ files: sources.reduce((n, s) => n + s.files.length, 0) });
  // Without --sql, a small table or series is printed without starting DuckDB (~100 ms),
  // when every value can be written exactly as DuckDB would (see direct-rows.ts).
  const fmt = args.format ?? (io.outIsTTY ? "table" : "csv");
  if (args.sql === undefined && (fmt === "csv" || fmt === "table")) {
    const direct = await readRowsDirect(sources, range);
    logger.debug(direct ? "rows_read_directly" : "rows_read_by_duckdb", { path: st.path, ...(direct ? { rows: direct.rows.length } : {}) });
    if (direct) return renderText(direct.columns, [direct], fmt, io);
  }
  const waiting = span("duckdb_wait");
  const session = await (opening ?? QuerySession.open());
  waiting.end();
  try {
    const viewing = span("duckdb_views");
    await session.addPondView("source", sources, range);
    await session.lock();
    viewing.end();
    const querying = span("query_rendered");
    const code = await renderQuery(session, args.sql ?? "SELECT * FROM source", args.format, io);
    querying.end();
    return code;
  } finally {
    if (!opening) session.close({ last: true });
  }
}

/** Host mode: `pond cat host+csv:… | host+table:… | host+delta:…` with no pond. */
export async function catHost(target: Extract<Endpoint, { kind: "host" }>, args: ArgsOf<typeof catCommand>, io: IO): Promise<number> {
  const st = statHost(target.path, target.raw);
  // --as-of means a version: a Delta table has them (a sequence or a time, checked as for a
  // pond); a plain file has none, so the option there is a mistake to name, not to ignore.
  const asOf = asOfOption(args);
  if (asOf !== undefined && target.format !== "delta") {
    throw new UsageError(
      `--as-of reads a version, and "${target.raw}" is a single ${target.format === "csv" || target.format === "series+csv" ? "CSV" : "Parquet"} file with none`,
      "cat",
    );
  }
  const session = await QuerySession.open();
  try {
    if (target.format === "csv" || target.format === "series+csv") {
      await session.addCsvView("source", target.path, csvOptions(args), target.raw);
    } else if (target.format === "table" || target.format === "series") {
      if (!hasParquetMagic(target.path)) {
        throw new NotParquetError(target.raw, `Read raw bytes with cat(1), or a CSV with host+csv://${target.path}.`);
      }
      await session.addParquetView("source", [{ path: target.path }]);
    } else if (target.format === "delta") {
      if (!st.isDirectory) throw new UsageError(`"${target.raw}" is a file; host+delta: takes a Delta table's folder`, "cat");
      const snap = await loadSnapshot(
        new LocalObjectStore(target.path),
        asOf === undefined ? undefined : "seq" in asOf ? { version: asOf.seq } : { timestamp: asOf.timeMs },
      );
      await session.addParquetView(
        "source",
        snap.files.map((f) => ({ path: join(target.path, decodeURIComponent(f.path)), partitionValues: f.partitionValues })),
      );
    } else {
      throw new UsageError(
        `"${target.raw}" is raw bytes; pond cat reads host files as host+csv:, host+table: or host+delta:`,
        "cat",
        "Use cat(1) for raw host files.",
      );
    }
    await session.lock();
    return await renderQuery(session, args.sql ?? "SELECT * FROM source", args.format, io);
  } finally {
    session.close({ last: true });
  }
}

/** The CSV reader options given on the command line. */
export function csvOptions(args: CsvArgs): CsvOptions {
  return {
    delimiter: args.delimiter,
    header: args.header,
    skip: args.skip,
    nullString: args.nullString,
    timestampFormat: args.timestampFormat,
    timezone: args.timezone,
  };
}
