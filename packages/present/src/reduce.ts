/**
 * `pond reduce`: downsampled series from the configs under /etc/reduce/ (reduce-config.ts).
 * For each input series and resolution, `<out>/<name>/res=<dur>.series` holds one row per
 * bucket: `timestamp` (the bucket's start, UTC) and `<column>.<agg>` (reduce-sql.ts).
 *
 * How re-computed buckets supersede earlier rows. Each run appends one version per output
 * holding only the buckets it recomputed; every version is marked `newest_row_per_time`,
 * and the pond's query view of such a series keeps, for each timestamp, the row of the
 * newest version (tlogfs `QuerySession.addPondView`). So `pond cat`, `pond query`,
 * `pond export` and the site read one row per bucket, the newest, which equals a full
 * recompute; `pond cat --version N` still shows what run N wrote. Appending (instead of
 * rewriting the output) keeps a run's work and a backup's upload proportional to what
 * changed, and the output's history shows what each run recomputed.
 *
 * Where "the last run" is recorded: in the pond, on the output itself. Each output
 * version's attributes carry `reduce`: the config, the input's path, node id, the
 * newest input version read and its sha256, and a fingerprint of what is computed
 * (resolution, time column, every `<column>.<agg>` with its type). It is committed in the
 * same transaction as the rows it describes, so it travels with backups, is restored with
 * them and follows `--as-of` and `pond revert`, and a crash can never leave the two apart.
 *
 * A run, per output: no output yet → full; the input was replaced (another node), lost
 * versions (revert) or changed the version last read, or the fingerprint changed (another
 * aggregation, a new column under "all numeric columns") → the output is replaced by a
 * full recompute (a new node: columns no longer computed must not linger); no input
 * version newer than the last read → up to date, nothing written; otherwise incremental:
 * the buckets the new versions' rows fall in are found from those rows, and recomputed
 * from every row in them: the new versions plus the older versions whose recorded
 * event-time range overlaps those buckets (a time filter lets DuckDB skip row groups).
 *
 * `lateness` never decides correctness: a row arriving any time later is reduced exactly,
 * since its bucket is found from the row itself. It is the delay a config expects: rows
 * more than `lateness` older than the newest time already reduced are counted in the
 * run's notes, so a collector whose clock or backlog is off shows up instead of silently
 * making each run recompute old buckets (and read older versions).
 */
import { createHash } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PondError, silentProgress, span, type Progress } from "@pond/diagnostics";
import type { Pond } from "@pond/steward";
import { WD, configFilesIn, basename, type VersionInfo } from "@pond/tinyfs";
import { AdoptableFile, QuerySession, resolveSources, type PayloadFile, type ResolvedSource, type TLogView } from "@pond/tlogfs";
import { sqlString } from "@pond/tlogfs/duckdb";
import {
  ReduceConfigError,
  ReduceNameClashError,
  ReduceNoColumnsError,
  ReduceNoTimeColumnError,
  ReduceNotSeriesError,
  ReduceOfReductionError,
  ReduceOutputExistsError,
  ReduceOutputOwnedError,
} from "./errors.ts";
import { REDUCE_CONFIG_DIR, parseReduceConfig, type ReduceConfig, type Resolution } from "./reduce-config.ts";
import { reduceDirect, type DirectCache } from "./reduce-direct.ts";
import { isNumericType, outputName, reductionSql, touchedBucketsSql, type InputColumn, type OutputAggregate } from "./reduce-sql.ts";

export type OutputMode = "full" | "replace" | "incremental" | "up to date";

/** One output of one run. */
export interface ReduceOutputSummary {
  input: string;
  output: string;
  resolution: string;
  mode: OutputMode;
  /** Why a full recompute replaced the output. */
  reason?: string;
  /** Input versions read (of `versionsTotal`). */
  versionsRead: number;
  versionsTotal: number;
  /** Buckets written (rows of the new output version). */
  buckets: number;
  /** The output version written. */
  version?: number;
  /** Computed without DuckDB (an incremental run of DOUBLE columns; see reduce-direct.ts). */
  direct?: boolean;
}

/** One config's run: one transaction, one summary. */
export interface ReduceSummary {
  file: string;
  ok: boolean;
  dryRun: boolean;
  outputs: ReduceOutputSummary[];
  seq?: number;
  notes: string[];
  error?: string;
}

export interface ReduceOptions {
  /** The command line recorded in the pond's history. */
  command: string[];
  dryRun?: boolean;
  progress?: Progress;
}

/** What an output version records about the run that wrote it (its `reduce` attribute). */
interface ReduceState {
  config: string;
  input: string;
  input_node: string;
  input_version: number;
  input_sha256: string;
  fingerprint: string;
}

/** The configs `pond reduce` runs: one (a pond path, or a name under /etc/reduce/), or every file under /etc/reduce/ (sorted). */
export async function reduceConfigPaths(wd: WD, config?: string): Promise<string[]> {
  if (config !== undefined) {
    const path = config.includes("/") ? config : `${REDUCE_CONFIG_DIR}/${/\.ya?ml$/.test(config) ? config : `${config}.yaml`}`;
    await wd.stat(path); // NotFoundError names it
    return [path];
  }
  return configFilesIn(wd, REDUCE_CONFIG_DIR);
}

/** Reads and checks one config from the pond. */
export async function readReduceConfig(wd: WD, path: string): Promise<ReduceConfig> {
  return parseReduceConfig(new TextDecoder().decode(await wd.readAll(path)), path);
}

/**
 * Runs each config in its own transaction; one failing does not stop the others. A
 * PondError becomes a failed summary; anything else is a bug and propagates.
 */
export async function runReductions(pond: Pond, paths: string[], opts: ReduceOptions): Promise<ReduceSummary[]> {
  const out: ReduceSummary[] = [];
  for (const path of paths) {
    try {
      out.push(await runReduction(pond, path, opts));
    } catch (e) {
      if (!(e instanceof PondError)) throw e;
      out.push({ file: path, ok: false, dryRun: Boolean(opts.dryRun), outputs: [], notes: [], error: e.message + (e.hint ? ` (${e.hint})` : "") });
    }
  }
  return out;
}

/** Runs one config (a pond path): every output it names, in one transaction. */
export async function runReduction(pond: Pond, path: string, opts: ReduceOptions): Promise<ReduceSummary> {
  const progress = opts.progress ?? silentProgress;
  // The plan first, without the write lock: a dry run is just this, and a run with
  // nothing new starts no transaction (nothing to commit, nothing in `pond log`).
  const planning = span("reduce_planned");
  const view = await pond.view();
  const cfg = await readReduceConfig(new WD(view), path);
  const plan: ReduceSummary = { file: cfg.file, ok: true, dryRun: Boolean(opts.dryRun), outputs: [], notes: [] };
  const planned = await reduceAll(view, new WD(view), cfg, plan, opts.dryRun ? progress : silentProgress, undefined);
  planning.end();
  if (opts.dryRun || plan.outputs.every((o) => o.mode === "up to date")) return plan;
  const writing = span("reduce_written");
  const staging = join(pond.paths.data, "_large_files");
  mkdirSync(staging, { recursive: true });
  let summary!: ReduceSummary;
  const { seq } = await pond.write(opts.command, async ({ txn, note }) => {
    // Planned inside the transaction: a rerun after a commit conflict plans again on the new state.
    const wd = new WD(txn);
    // Nothing committed since the plan (the usual case): its inputs are still the inputs.
    const same = txn.seq === view.seq;
    const current = same ? cfg : await readReduceConfig(wd, path);
    summary = { file: current.file, ok: true, dryRun: false, outputs: [], notes: [] };
    await reduceAll(txn, wd, current, summary, progress, { staging, note }, same ? planned : undefined);
    writing.end();
  });
  if (summary.outputs.some((o) => o.version !== undefined)) summary.seq = seq;
  return summary;
}

interface Writer {
  staging: string;
  note(change: string): void;
}

/** Plans (no `writer`) or runs every output of a config; returns the inputs it resolved, for a run on the same snapshot to reuse. */
async function reduceAll(
  view: TLogView,
  wd: WD,
  cfg: ReduceConfig,
  summary: ReduceSummary,
  progress: Progress,
  writer: Writer | undefined,
  resolved?: ResolvedSource[],
): Promise<ResolvedSource[]> {
  const sources = resolved ?? (await resolveSources(view, wd, cfg.in));
  const names = new Map<string, string>();
  for (const s of sources) {
    if (s.entryType !== "file:series") throw new ReduceNotSeriesError(cfg.file, s.path);
    if (s.newestRowPerTime) throw new ReduceOfReductionError(cfg.file, s.path);
    const name = basename(s.path).replace(/\.series$/, "");
    const other = names.get(name);
    if (other) throw new ReduceNameClashError(cfg.file, other, s.path, `${cfg.out}/${name}/`);
    names.set(name, s.path);
  }
  progress.total(sources.length * cfg.resolutions.length, undefined);
  // DuckDB is started only when an output needs it: most incremental runs are reduced without it (reduce-direct.ts).
  const session = writer ? new LazySession() : undefined;
  try {
    for (const s of sources) await reduceSeries(view, wd, cfg, s, summary, progress, session, writer);
  } finally {
    session?.close();
  }
  return sources;
}

async function reduceSeries(
  view: TLogView,
  wd: WD,
  cfg: ReduceConfig,
  src: ResolvedSource,
  summary: ReduceSummary,
  progress: Progress,
  session: LazySession | undefined,
  writer: Writer | undefined,
): Promise<void> {
  const st = await wd.stat(src.path, { followSymlinks: true });
  const versions = st.versions ?? (await view.versions(st.parentId, st.nodeId));
  const ts = src.timestampColumn;
  if (!ts) throw new ReduceNoTimeColumnError(cfg.file, src.path);
  const name = basename(src.path).replace(/\.series$/, "");
  const newest = versions[versions.length - 1]!;
  let columns: InputColumn[] | undefined;
  let outColumns: InputColumn[] | undefined;
  const direct: DirectCache = new Map();
  for (const res of cfg.resolutions) {
    const outPath = `${cfg.out === "/" ? "" : cfg.out}/${name}/res=${res.spelling}.series`;
    const existing = await wd.resolve(outPath, { followSymlinks: true });
    if (existing && existing.entryType !== "file:series") throw new ReduceOutputExistsError(cfg.file, outPath, `is a ${existing.entryType}, not a series`);
    const outVersions = existing ? await view.versions(existing.parentId, existing.nodeId) : [];
    const state = outVersions.length ? stateOf(outVersions[outVersions.length - 1]!) : undefined;
    if (existing && !state) throw new ReduceOutputExistsError(cfg.file, outPath, "exists and was not written by pond reduce");
    if (state && state.config !== cfg.file) throw new ReduceOutputOwnedError(cfg.file, outPath, state.config);
    columns ??= await inputColumns(src, session);
    const aggs = outputAggregates(cfg, src, ts, columns);
    const fingerprint = fingerprintOf(res, ts, aggs);

    const out: ReduceOutputSummary = {
      input: src.path,
      output: outPath,
      resolution: res.spelling,
      mode: "full",
      versionsRead: versions.length,
      versionsTotal: versions.length,
      buckets: 0,
    };
    let readFrom = 0; // input versions after this one are new
    if (state) {
      const last = versions.find((v) => v.version === state.input_version);
      if (state.input_node !== st.nodeId) out.reason = `${src.path} is another series than the one reduced before`;
      else if (!last || last.sha256 !== state.input_sha256) out.reason = `${src.path} no longer has the version ${state.input_version} read last time`;
      else if (state.fingerprint !== fingerprint) out.reason = "the config or the input's columns changed";
      else if (state.input_version === newest.version) out.mode = "up to date";
      else {
        out.mode = "incremental";
        readFrom = state.input_version;
      }
      if (out.reason) out.mode = "replace";
    }
    if (out.mode === "up to date") {
      out.versionsRead = 0;
      summary.outputs.push(out);
      progress.tick(1, 0);
      continue;
    }
    const newFiles = src.files.filter((f) => f.version > readFrom);
    if (!session || !writer) {
      // Dry run: what would be read; old versions overlapping the new rows' buckets are only known by reading them.
      out.versionsRead = newFiles.length;
      summary.outputs.push(out);
      progress.tick(1, 0);
      continue;
    }
    const tmp = join(writer.staging, `.tmp-reduce-${crypto.randomUUID()}.parquet`);
    const computing = span("reduce_output_computed");
    try {
      let read: PayloadFile[] = newFiles;
      let info: OutputInfo | undefined;
      if (out.mode === "incremental") {
        const plan = incrementalPlan(src, res, cfg, readFrom, newFiles, summary);
        const d = plan ? await reduceDirect(plan.read, newFiles, ts, res, aggs, columns, direct) : null;
        if (d) {
          writeFileSync(tmp, d.bytes);
          info = d;
          read = plan!.read;
          out.direct = true;
        } else {
          const r = await computeIncremental(await session.get(), src, ts, res, plan, readFrom, newFiles, aggs, tmp);
          if (!r) {
            out.mode = "up to date";
            out.versionsRead = newFiles.length;
            summary.outputs.push(out);
            progress.tick(1, 0);
            continue;
          }
          read = r;
        }
      } else {
        const duck = await session.get();
        await duck.addPondView("__pond_in", [src]);
        await threads(duck, undefined);
        try {
          await duck.all(`COPY (${reductionSql("__pond_in", ts, res, aggs)}) TO ${sqlString(tmp)} (FORMAT parquet, COMPRESSION zstd)`);
        } finally {
          await duck.all("DROP VIEW __pond_in");
        }
      }
      out.versionsRead = read.length;
      computing.end({ res: res.spelling, direct: Boolean(out.direct) });
      info ??= await parquetInfo(await session.get(), tmp, outColumns);
      const storing = span("reduce_output_stored");
      outColumns = info.columns; // the same aggregates at every resolution: the same columns
      out.buckets = info.rows;
      if (out.mode === "replace") await wd.remove(outPath);
      const reduceState: ReduceState = {
        config: cfg.file,
        input: src.path,
        input_node: st.nodeId,
        input_version: newest.version,
        input_sha256: newest.sha256,
        fingerprint,
      };
      const r = await wd.createFile(outPath, "file:series", new AdoptableFile(tmp), {
        parents: true,
        attributes: {
          rows: info.rows,
          columns: info.columns,
          timestamp_column: "timestamp",
          newest_row_per_time: true,
          reduce: reduceState,
        },
        minEventTime: info.min,
        maxEventTime: info.max,
      });
      storing.end();
      out.version = r.version.version;
      writer.note(`reduced ${src.path} into ${outPath} (v${r.version.version}, ${out.mode}, ${info.rows} buckets)`);
      summary.outputs.push(out);
      progress.tick(1, 0);
    } finally {
      rmSync(tmp, { force: true });
    }
  }
}

/** What an incremental run of one output reads: the new versions and the older ones overlapping their buckets' time span. */
interface IncrementalPlan {
  /** Rows of every touched bucket lie in [lo, hi) (µs). */
  lo: bigint;
  hi: bigint;
  /** The versions to read, older first, the new ones last. */
  read: PayloadFile[];
}

/**
 * The versions an incremental run of one output reads; undefined when a new version
 * recorded no time range (then only a query of its rows tells). Notes rows older than
 * `lateness` (once, at the first resolution).
 */
function incrementalPlan(
  src: ResolvedSource,
  res: Resolution,
  cfg: ReduceConfig,
  readFrom: number,
  newFiles: PayloadFile[],
  summary: ReduceSummary,
): IncrementalPlan | undefined {
  // Rows later than lateness behind what was reduced before are reduced exactly all the same, and reported (once, at the first resolution).
  let reduced: bigint | null = null;
  for (const f of src.files) if (f.version <= readFrom && f.maxEventTime !== null && (reduced === null || f.maxEventTime > reduced)) reduced = f.maxEventTime;
  if (reduced !== null && res === cfg.resolutions[0]) {
    const horizon = reduced - cfg.lateness.micros;
    const late = newFiles.filter((f) => f.minEventTime !== null && f.minEventTime < horizon).map((f) => f.version);
    if (late.length)
      summary.notes.push(
        `${src.path}: version(s) ${late.join(", ")} hold rows more than lateness ${cfg.lateness.spelling} older than the newest time reduced before; their buckets were recomputed`,
      );
  }
  // Every bucket holding a new row t starts after t - width and ends by t + width, so
  // [min - width, max + width) of the new versions' recorded event times holds every row
  // of every touched bucket.
  if (!newFiles.every((f) => f.minEventTime !== null && f.maxEventTime !== null)) return undefined;
  let lo = newFiles[0]!.minEventTime!;
  let hi = newFiles[0]!.maxEventTime!;
  for (const f of newFiles) {
    if (f.minEventTime! < lo) lo = f.minEventTime!;
    if (f.maxEventTime! > hi) hi = f.maxEventTime!;
  }
  return oldAndNew(src, readFrom, newFiles, lo - res.micros, hi + res.micros);
}

function oldAndNew(src: ResolvedSource, readFrom: number, newFiles: PayloadFile[], lo: bigint, hi: bigint): IncrementalPlan {
  const oldFiles = src.files.filter(
    (f) => f.version <= readFrom && (f.minEventTime === null || f.maxEventTime === null || (f.minEventTime < hi && f.maxEventTime >= lo)),
  );
  return { lo, hi, read: [...oldFiles, ...newFiles] };
}

/**
 * The incremental computation of one output into `tmp` by DuckDB: the buckets the new
 * versions' rows fall in, recomputed from every row in them. Returns the versions read,
 * or undefined when the new versions hold no rows.
 */
async function computeIncremental(
  session: QuerySession,
  src: ResolvedSource,
  ts: string,
  res: Resolution,
  planned: IncrementalPlan | undefined,
  readFrom: number,
  newFiles: PayloadFile[],
  aggs: OutputAggregate[],
  tmp: string,
): Promise<PayloadFile[] | undefined> {
  await session.addPondView("__pond_new", [{ ...src, files: newFiles }]);
  try {
    // A version that recorded no range (no rows) is asked; the IN below keeps exactly the touched buckets.
    let plan = planned;
    if (!plan) {
      const span = (
        await session.all(
          `SELECT epoch_us(min(b))::BIGINT AS lo, epoch_us(max(b))::BIGINT AS hi, count(*)::BIGINT AS n FROM (${touchedBucketsSql("__pond_new", ts, res)})`,
        )
      )[0]!;
      if (Number(span.n) === 0) return undefined;
      plan = oldAndNew(src, readFrom, newFiles, span.lo as bigint, (span.hi as bigint) + res.micros);
    }
    const { lo, hi, read } = plan;
    await session.addPondView("__pond_in", [{ ...src, files: read }]);
    // A few MB: one thread. DuckDB's parallel hash aggregate costs more in setting up and
    // combining per-thread tables than it saves on a day of rows (CPU per query about halved).
    await threads(session, read.reduce((n, f) => n + f.size, 0) < SMALL_READ ? 1 : undefined);
    try {
      const where =
        `__pond_t >= make_timestamp(${lo}::BIGINT) AND __pond_t < make_timestamp(${hi}::BIGINT) ` +
        `AND __pond_bucket IN (${touchedBucketsSql("__pond_new", ts, res)})`;
      await session.all(`COPY (${reductionSql("__pond_in", ts, res, aggs, where)}) TO ${sqlString(tmp)} (FORMAT parquet, COMPRESSION zstd)`);
    } finally {
      await session.all("DROP VIEW __pond_in");
    }
    return read;
  } finally {
    await session.all("DROP VIEW __pond_new");
  }
}

/** A DuckDB session opened on first use, closed by `close()` if it was. */
class LazySession {
  private opened: Promise<QuerySession> | undefined;

  get(): Promise<QuerySession> {
    this.opened ??= QuerySession.open();
    return this.opened;
  }

  close(): void {
    // Opened or failed to open: a failed open rejects here too and is left to its caller's error.
    void this.opened?.then(
      (s) => s.close(),
      () => {},
    );
  }
}

const SMALL_READ = 8 << 20;
const sessionThreads = new WeakMap<QuerySession, number | undefined>();

/** Sets DuckDB's worker threads for the next queries (undefined: its default, every core), when not already so. */
async function threads(session: QuerySession, n: number | undefined): Promise<void> {
  if (sessionThreads.get(session) === n) return;
  await session.all(n === undefined ? "RESET threads" : `SET threads = ${n}`);
  sessionThreads.set(session, n);
}

/** The input's columns: as recorded with each version when every version recorded them (no footer read), else as DuckDB reads them. */
async function inputColumns(src: ResolvedSource, session: LazySession | undefined): Promise<InputColumn[]> {
  const seen = new Map<string, string>();
  let recorded = src.files.length > 0;
  // A merged file records no columns of its own: the versions read from it did.
  for (const list of src.files.flatMap((f) => (!f.merged ? [f.columns] : f.merged.versions.length ? f.merged.versions.map((p) => p.columns) : [undefined]))) {
    if (!Array.isArray(list)) {
      recorded = false;
      break;
    }
    for (const c of list as InputColumn[]) if (!seen.has(c.name)) seen.set(c.name, c.type);
  }
  if (recorded) return [...seen].map(([name, type]) => ({ name, type }));
  const own = session ? await session.get() : await QuerySession.open();
  try {
    await own.addPondView("__pond_cols", [src]);
    const rows = await own.all("DESCRIBE SELECT * FROM __pond_cols");
    await own.all("DROP VIEW __pond_cols");
    return rows.map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
  } finally {
    if (!session) own.close();
  }
}

/** The `<column>.<agg>` outputs of one input: every numeric column, or the columns the config names that it has. */
function outputAggregates(cfg: ReduceConfig, src: ResolvedSource, ts: string, columns: InputColumn[]): OutputAggregate[] {
  const out: OutputAggregate[] = [];
  if ("all" in cfg.aggregations) {
    for (const c of columns) if (c.name !== ts && isNumericType(c.type)) for (const agg of cfg.aggregations.all) out.push({ column: c, agg });
    if (out.length === 0)
      throw new ReduceNoColumnsError(
        cfg.file,
        src.path,
        `has no numeric column besides its time "${ts}"`,
        "Name columns under aggregations: (count, min, max, first and last work on any type), or narrow in:.",
      );
    return out;
  }
  for (const [name, aggs] of cfg.aggregations.columns) {
    const c = columns.find((x) => x.name === name);
    if (!c) continue; // a glob's series need not all have every column; a column that appears later is picked up then
    if (name === ts) throw new ReduceConfigError(cfg.file, `aggregations.${name}`, `"${name}" is the time column of "${src.path}"`, undefined, "Reduction");
    for (const agg of aggs) {
      if ((agg === "avg" || agg === "sum") && !isNumericType(c.type))
        throw new ReduceConfigError(
          cfg.file,
          `aggregations.${name}`,
          `${agg} needs a numeric column; "${name}" of "${src.path}" is ${c.type}`,
          "Use count, min, max, first or last for it.",
          "Reduction",
        );
      out.push({ column: c, agg });
    }
  }
  if (out.length === 0)
    throw new ReduceNoColumnsError(
      cfg.file,
      src.path,
      "has none of the columns under aggregations:",
      `Its columns: ${columns.map((c) => c.name).join(", ")}.`,
      { columns: columns.map((c) => c.name) },
    );
  return out;
}

function fingerprintOf(res: Resolution, ts: string, aggs: OutputAggregate[]): string {
  const text = JSON.stringify({ res: String(res.micros), ts, aggs: aggs.map((a) => [outputName(a), a.column.type]) });
  return createHash("sha256").update(text).digest("hex").slice(0, 32);
}

function stateOf(v: VersionInfo): ReduceState | undefined {
  const r = v.attributes.reduce as ReduceState | undefined;
  return typeof r === "object" && r !== null && typeof r.fingerprint === "string" ? r : undefined;
}

interface OutputInfo {
  rows: number;
  columns: InputColumn[];
  min: bigint | null;
  max: bigint | null;
}

async function parquetInfo(session: QuerySession, file: string, known?: InputColumn[]): Promise<OutputInfo> {
  const rel = `read_parquet(${sqlString(file)})`;
  const columns = known ?? (await session.all(`DESCRIBE SELECT * FROM ${rel}`)).map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
  const r = (
    await session.all(`SELECT count(*)::BIGINT AS n, epoch_us(min("timestamp"))::BIGINT AS lo, epoch_us(max("timestamp"))::BIGINT AS hi FROM ${rel}`)
  )[0]!;
  return { rows: Number(r.n), columns, min: (r.lo as bigint | null) ?? null, max: (r.hi as bigint | null) ?? null };
}
