import { rmSync } from "node:fs";
import { join } from "node:path";
import { logger, silentProgress, type Progress } from "@pond/diagnostics";
import { WD, listPattern, type NodeId, type VersionInfo } from "@pond/tinyfs";
import {
  AdoptableFile,
  RESERVED_COLUMNS,
  TLogPersistence,
  largeFileKey,
  stageContent,
  writeMergedFile,
  type MergeInput,
  type SeriesSummary,
  type TLogTransaction,
  type TLogView,
  type VerifiedPayloads,
} from "@pond/tlogfs";
import type { Pond } from "../pond.ts";
import type { MaintenanceStep } from "./operations.ts";
import { StepItems, type StepItem } from "./step-items.ts";

/**
 * `pond maintain merge`: rewrites runs of adjacent small versions of a series into fewer
 * Parquet files (see tlogfs merged-payload.ts for how each version keeps its identity).
 *
 * What is merged, and when (the plan is a value, `planRuns`, tested without IO):
 * - A series is a row of segments, oldest first: a version's own payload, or a merged
 *   file holding a run of adjacent versions. The newest version is never merged: it
 *   keeps its own file, so a copy of the series out (its newest version) stays byte-exact.
 * - A segment weighs the bytes of its versions' own payloads (additive, unlike the
 *   merged files' sizes, which share one footer and compress better).
 * - A run is merged when it has two segments or more, weighs at most the target size,
 *   and no segment in it weighs more than half the run. So a file is only rewritten
 *   when the data around it at least doubles it: each byte is rewritten at most
 *   log2(target / smallest version) times, and a long series is not rewritten whole each
 *   time (tiers: small files into a file, files of similar size into a larger one, up to
 *   the target). A file of half the target or more is never rewritten.
 * - Versions whose columns were not recorded, that use a hidden column's name, or whose
 *   columns or time column differ in type from their neighbours' break a run.
 * - At most `maxInputFiles` files are read in one call, oldest first (a backlog is merged
 *   over several calls); DuckDB rewrites with a memory limit, spilling its sort.
 */
export interface MergeOptions {
  /** A pond path or glob of series (default every series). */
  pattern?: string;
  targetBytes: number;
  maxInputFiles: number;
  dryRun?: boolean;
  /** Only these series (auto maintenance: the ones a write appended to). */
  nodes?: { parentId: NodeId; nodeId: NodeId }[];
  /** Stop starting new runs after this time (ms since the epoch); what is done commits. */
  deadline?: number;
  /** The command line recorded in the control log. */
  command?: string[];
  /** Told each run's input files and the bytes of their versions as it is merged (a bar on a terminal). */
  progress?: Progress;
}

/**
 * One segment of a series: a version's own file, or a merged file of adjacent versions
 * (`first`..`last`, every version between them).
 */
export interface Segment {
  first: number;
  last: number;
  /** Bytes of the versions' own payloads. */
  weight: number;
  /** Where its rows are: the version's own payload, or the merged file. */
  stored: { sha256: string; size: number };
  /** A merged file. */
  merged?: true;
  /** The time column and each column's type (by lowercase name); undefined: never merged. */
  schema?: SegmentSchema;
  /** Its versions' column names, each once (whatever its case), in the order they first appear: the merged file's columns. */
  columns: string[];
}

/** What segments in one merged file must agree on: the time column, and the type of every column two of them share. */
export interface SegmentSchema {
  timestampColumn: string | null;
  types: Record<string, string>;
}

/** `b` added to `a` when they agree (the union of their columns), else undefined. */
export function unionSchema(a: SegmentSchema, b: SegmentSchema): SegmentSchema | undefined {
  if (a.timestampColumn !== b.timestampColumn) return undefined;
  const types = { ...a.types };
  for (const [name, type] of Object.entries(b.types)) {
    if (types[name] !== undefined && types[name] !== type) return undefined;
    types[name] = type;
  }
  return { timestampColumn: a.timestampColumn, types };
}

/** A planned merge: segments [from, to] of one series. */
export interface Run {
  from: number;
  to: number;
}

/**
 * The runs to merge in `segments` (oldest first), within `maxInputs` input files in all.
 * Greedy from the oldest: the longest run from each segment that fits the target and in
 * which no segment weighs more than half the run.
 */
export function planRuns(segments: readonly Segment[], targetBytes: number, maxInputs: number): Run[] {
  const runs: Run[] = [];
  let budget = maxInputs;
  let i = 0;
  while (i < segments.length - 1 && budget >= 2) {
    const first = segments[i]!;
    if (first.schema === undefined) {
      i++;
      continue;
    }
    let sum = 0;
    let max = 0;
    let best = -1;
    let schema: SegmentSchema | undefined = first.schema;
    for (let j = i; j < segments.length && j - i < budget; j++) {
      const s = segments[j]!;
      schema = s.schema && schema && unionSchema(schema, s.schema);
      if (!schema || sum + s.weight > targetBytes) break;
      sum += s.weight;
      max = Math.max(max, s.weight);
      if (j > i && max * 2 <= sum) best = j;
    }
    if (best < 0) {
      i++;
      continue;
    }
    runs.push({ from: i, to: best });
    budget -= best - i + 1;
    i = best + 1;
  }
  return runs;
}

/** A series' versions as segments, the newest left out: the plan from every version's record, when its summary cannot tell (`segmentsOfSummary`). */
export function segmentsOf(view: TLogView, versions: readonly VersionInfo[]): Segment[] {
  const out: Segment[] = [];
  const seen = new Set<string>();
  for (const v of versions.slice(0, -1)) {
    const stored = view.storedPayload(v);
    const last = out[out.length - 1];
    if (stored.mergedVersion !== undefined && last?.merged && last.stored.sha256 === stored.sha256) {
      last.last = v.version;
      last.weight += v.size;
      // A merged file whose versions do not agree (never written so) is left alone.
      const b = schemaOf(v.attributes.columns, v.attributes.timestamp_column);
      last.schema = last.schema && b && unionSchema(last.schema, b);
      if (!last.schema) delete last.schema;
      addColumns(last.columns, seen, v.attributes.columns);
      continue;
    }
    seen.clear();
    const seg: Segment = { first: v.version, last: v.version, weight: v.size, stored: { sha256: stored.sha256, size: stored.size }, columns: [] };
    const schema = schemaOf(v.attributes.columns, v.attributes.timestamp_column);
    if (schema) seg.schema = schema;
    if (stored.mergedVersion !== undefined) seg.merged = true;
    addColumns(seg.columns, seen, v.attributes.columns);
    out.push(seg);
  }
  return out;
}

/**
 * The segments `segmentsOf` makes of a series' versions, from its summary alone: O(files),
 * not O(versions), since automatic maintenance plans after every write that appends to a
 * series. Undefined when the summary cannot tell them exactly (a merged file that is not one
 * of consecutive versions, a summary kept before merged files' weights were): the caller
 * plans from the versions then.
 */
export function segmentsOfSummary(s: SeriesSummary): Segment[] | undefined {
  const out: Segment[] = [];
  for (const [i, f] of s.files.entries()) {
    const next = s.files[i + 1]?.version ?? s.lastVersion + 1;
    const count = f.merged ? f.count : 1;
    if (count === undefined || f.version + count !== next) return undefined;
    if (f.merged && f.weight === undefined) return undefined;
    // The newest version is left out: never merged, it is in the last file, its own.
    if (next - 1 === s.lastVersion) {
      if (f.merged) return undefined;
      break;
    }
    const seg: Segment = { first: f.version, last: next - 1, weight: f.merged ? f.weight! : f.size, stored: { sha256: f.sha256, size: f.size }, columns: [] };
    // What its versions recorded: one pair of columns and time column, or (a merged file of
    // versions that differ) each pair once, whose union is the union over every version.
    const variants = f.variants ?? [{ columns: f.columns, timestampColumn: f.timestampColumn }];
    let schema = schemaOf(variants[0]!.columns, variants[0]!.timestampColumn);
    const seen = new Set<string>();
    for (const [k, v] of variants.entries()) {
      if (k > 0) {
        const b = schemaOf(v.columns, v.timestampColumn);
        schema = schema && b && unionSchema(schema, b);
      }
      addColumns(seg.columns, seen, v.columns);
    }
    if (schema) seg.schema = schema;
    if (f.merged) seg.merged = true;
    out.push(seg);
  }
  return out;
}

/** Adds to `into` the names of recorded `columns` not in `seen` (compared in lowercase), in order; returns `into`. */
function addColumns(into: string[], seen: Set<string>, columns: unknown): string[] {
  if (!Array.isArray(columns)) return into;
  for (const c of columns as { name?: unknown }[]) {
    if (typeof c?.name !== "string" || seen.has(c.name.toLowerCase())) continue;
    seen.add(c.name.toLowerCase());
    into.push(c.name);
  }
  return into;
}

/** The time column and column types a version recorded; undefined when it cannot be merged (no record, a hidden column's name, a name twice). */
function schemaOf(cols: unknown, ts: unknown): SegmentSchema | undefined {
  if (!Array.isArray(cols) || cols.length === 0) return undefined;
  const types: Record<string, string> = {};
  for (const c of cols as { name?: unknown; type?: unknown }[]) {
    if (typeof c?.name !== "string" || typeof c.type !== "string" || RESERVED_COLUMNS.has(c.name)) return undefined;
    // DuckDB matches names without regard to case: two that differ only so are one column.
    const name = c.name.toLowerCase();
    if (types[name] !== undefined) return undefined;
    types[name] = c.type;
  }
  return { timestampColumn: typeof ts === "string" ? ts : null, types };
}

/** One series and its planned runs. */
interface SeriesPlan {
  path: string;
  parentId: NodeId;
  nodeId: NodeId;
  segments: Segment[];
  runs: Run[];
}

/** How many series plans were made from a summary and how many from every version, in this process (tests read it). */
export const planSources = { summary: 0, versions: 0 };

/** The segments of series `t` to plan from; undefined for a series never merged (a reduction's). */
async function seriesSegments(view: TLogView, t: { parentId: NodeId; nodeId: NodeId }): Promise<Segment[] | undefined> {
  const summary = await view.seriesSummary(t.parentId, t.nodeId);
  // A reduction's versions replace earlier rows at the same time, in version order
  // (`newest_row_per_time`, see present's reduce.ts); a merged file would lose that order.
  if (summary.newestRowPerTime) return undefined;
  const fromSummary = segmentsOfSummary(summary);
  if (fromSummary) {
    planSources.summary++;
    return fromSummary;
  }
  planSources.versions++;
  return segmentsOf(view, await view.versions(t.parentId, t.nodeId));
}

async function planPond(view: TLogView, opts: MergeOptions): Promise<SeriesPlan[]> {
  const wd = new WD(view);
  let targets = await listPattern(wd, opts.pattern ?? "/**", { dot: true });
  if (opts.nodes) {
    // Named by node (automatic maintenance): found in the tree for their paths, which the log shows.
    const want = new Set(opts.nodes.map((n) => `${n.parentId}/${n.nodeId}`));
    targets = targets.filter((t) => want.has(`${t.parentId}/${t.nodeId}`));
  }
  const plans: SeriesPlan[] = [];
  let budget = opts.maxInputFiles;
  for (const t of targets) {
    if (t.entryType !== "file:series" || budget < 2) continue;
    const segments = await seriesSegments(view, t);
    if (!segments) continue;
    const runs = planRuns(segments, opts.targetBytes, budget);
    if (runs.length === 0) continue;
    for (const r of runs) budget -= r.to - r.from + 1;
    plans.push({ path: t.path, parentId: t.parentId, nodeId: t.nodeId, segments, runs });
  }
  return plans;
}

function describeRun(p: SeriesPlan, r: Run): { segments: Segment[]; versions: number[]; files: number; bytes: number; label: string } {
  const segs = p.segments.slice(r.from, r.to + 1);
  const first = segs[0]!.first;
  const last = segs[segs.length - 1]!.last;
  const versions = Array.from({ length: last - first + 1 }, (_, i) => first + i);
  const bytes = segs.reduce((n, s) => n + s.weight, 0);
  const label = `${p.path} versions ${first}..${last} (${segs.length} files, ${bytes} bytes of versions)`;
  return { segments: segs, versions, files: segs.length, bytes, label };
}

/**
 * Merges what `planRuns` picks in every series matching the options, as one transaction
 * (atomic; a conflict replans it on the new state and retries, as any write). Payloads
 * are written and fsynced before the commit: a crash leaves only unreferenced files,
 * which cleanup and recover remove. A dry run plans and reports, and changes nothing.
 */
export async function merge(pond: Pond, opts: MergeOptions): Promise<MaintenanceStep> {
  const dryRun = opts.dryRun ?? false;
  if (dryRun) {
    // Read without the caches: a dry run must not change a byte, not even a cache file.
    const plans = await planPond(await new TLogPersistence(pond.persistence.store).view(), opts);
    const items = plans.flatMap((p) => p.runs.map((r) => describeRun(p, r))).map((d) => ({ key: "(new merged file)", size: d.bytes, why: d.label }));
    const files = plans.reduce((n, p) => n + p.runs.reduce((m, r) => m + r.to - r.from + 1, 0), 0);
    return {
      step: "merge",
      dryRun,
      files,
      bytes: items.reduce((n, i) => n + i.size, 0),
      detail: `${files} file(s) of ${plans.length} series would be merged into ${items.length}`,
      items: new StepItems(items),
    };
  }
  // Merged files written by an attempt that lost its commit: a retry that plans the same run reuses them.
  const written = new Map<string, { sha256: string; size: number }>();
  let report: MaintenanceStep = { step: "merge", dryRun, files: 0, bytes: 0, detail: "nothing to merge", items: new StepItems() };
  const plans0 = await planPond(await pond.view(), opts);
  if (plans0.length === 0) return report;
  // The payloads the committed attempt merged away, and the record of verified payloads.
  let inputs: { verified: VerifiedPayloads | undefined; sha256s: string[] } = { verified: undefined, sha256s: [] };
  await pond.write(opts.command ?? ["pond", "maintain", "merge"], async ({ txn, note }) => {
    const items: StepItem[] = [];
    let files = 0;
    const merged: string[] = [];
    const runs = (await planPond(txn, opts)).flatMap((p) => p.runs.map((r) => ({ p, r, d: describeRun(p, r) })));
    // No bar when there is nothing to merge.
    const progress = runs.length > 0 ? (opts.progress ?? silentProgress) : silentProgress;
    progress.total(
      runs.reduce((n, { d }) => n + d.files, 0),
      runs.reduce((n, { d }) => n + d.bytes, 0),
    );
    for (const { p, r, d } of runs) {
      if (opts.deadline !== undefined && Date.now() > opts.deadline && items.length > 0) break;
      const key = `${p.nodeId}:${d.segments.map((s) => `${s.first}-${s.last}=${s.stored.sha256}`).join(",")}`;
      let out = written.get(key);
      if (!out) {
        out = await writeRun(txn, p, r);
        written.set(key, out);
      }
      await txn.mergeVersions(p.parentId, p.nodeId, d.versions, out);
      note(`merged ${d.label} into 1 file of ${out.size} bytes`);
      items.push({ key: largeFileKey(out.sha256), size: out.size, why: d.label });
      files += d.files;
      merged.push(...d.segments.map((s) => s.stored.sha256));
      progress.tick(d.files, d.bytes);
    }
    progress.done();
    inputs = { verified: txn.verified, sha256s: merged };
    const bytes = items.reduce((n, i) => n + i.size, 0);
    report = {
      step: "merge",
      dryRun,
      files,
      bytes,
      detail: items.length ? `${files} file(s) merged into ${items.length} (${bytes} bytes written)` : "nothing to merge",
      items: new StepItems(items),
    };
  });
  // Committed: the inputs are read only by snapshots before the merge now. The record of
  // verified payloads drops them, so it holds about the files reads use, not a line for
  // every version a collector ever appended (which every read and append parsed).
  inputs.verified?.forget(inputs.sha256s);
  return report;
}

/** Writes the merged file of run `r` of series `p` with DuckDB and stores it as a large file. */
async function writeRun(txn: TLogTransaction, p: SeriesPlan, r: Run): Promise<{ sha256: string; size: number }> {
  const segs = p.segments.slice(r.from, r.to + 1);
  const inputs: MergeInput[] = [];
  const columns: string[] = [];
  const seen = new Set<string>();
  const hostPath = (s: Segment): string => {
    const h = txn.payloadPathOf(s.stored.sha256);
    if (h === undefined) throw new Error("BUG: merge needs a local pond");
    return h;
  };
  for (const s of segs) {
    addColumns(
      columns,
      seen,
      s.columns.map((name) => ({ name })),
    );
    // A merged file's rows carry their versions; an own payload's are all of its one version.
    inputs.push({ hostPath: hostPath(s), versions: s.merged ? [] : [s.first] });
  }
  // DuckDB reads the inputs in place: check them against the log first, as every read does.
  txn.checkPayloads(segs.map((s) => ({ hostPath: hostPath(s), sha256: s.stored.sha256, size: s.stored.size, label: `"${p.path}" version ${s.first}` })));
  // Every segment of a run has a schema, all with the same time column (planRuns).
  const ts = segs[0]!.schema?.timestampColumn ?? null;
  const dir = join(hostPath(segs[0]!), "..");
  // `.tmp-` names are skipped by replication and removed by cleanup and `pond recover`.
  const tmp = join(dir, `.tmp-merge-${crypto.randomUUID()}.parquet`);
  try {
    const rows = await writeMergedFile(inputs, tmp, { columns, ...(ts === null ? {} : { timestampColumn: ts }) });
    const staged = await stageContent(txn.store, new AdoptableFile(tmp), { forceLarge: true, verified: txn.verified });
    logger.debug("merged_file_written", { path: p.path, inputs: inputs.length, rows, size: staged.size });
    return { sha256: staged.sha256, size: staged.size };
  } finally {
    rmSync(tmp, { force: true });
  }
}
