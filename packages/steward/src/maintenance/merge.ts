import { rmSync } from "node:fs";
import { join } from "node:path";
import { logger } from "@pond/diagnostics";
import { WD, listPattern, type NodeId, type VersionInfo } from "@pond/tinyfs";
import {
  AdoptableFile,
  RESERVED_COLUMNS,
  TLogPersistence,
  largeFileKey,
  stageContent,
  writeMergedFile,
  type MergeInput,
  type TLogTransaction,
  type TLogView,
} from "@pond/tlogfs";
import type { Pond } from "../pond.ts";
import type { MaintenanceStep } from "./operations.ts";

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
}

/** One segment of a series: a version's own file, or a merged file of adjacent versions. */
export interface Segment {
  versions: VersionInfo[];
  /** Bytes of the versions' own payloads. */
  weight: number;
  /** The merged file's sha256, when this is one. */
  merged?: string;
  /** The time column and each column's type (by lowercase name); undefined: never merged. */
  schema?: SegmentSchema;
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

/** A series' versions as segments, the newest left out. */
export function segmentsOf(view: TLogView, versions: readonly VersionInfo[]): Segment[] {
  const out: Segment[] = [];
  for (const v of versions.slice(0, -1)) {
    const stored = view.storedPayload(v);
    const last = out[out.length - 1];
    if (stored.mergedVersion !== undefined && last?.merged === stored.sha256) {
      last.versions.push(v);
      last.weight += v.size;
      continue;
    }
    const seg: Segment = { versions: [v], weight: v.size };
    const schema = schemaOf(v);
    if (schema) seg.schema = schema;
    if (stored.mergedVersion !== undefined) seg.merged = stored.sha256;
    out.push(seg);
  }
  // A merged file whose versions do not agree (never written so) is left alone.
  for (const s of out) {
    for (const v of s.versions.slice(1)) {
      const b = schemaOf(v);
      s.schema = s.schema && b && unionSchema(s.schema, b);
    }
    if (!s.schema) delete s.schema;
  }
  return out;
}

/** The time column and column types a version recorded; undefined when it cannot be merged (no record, a hidden column's name, a name twice). */
function schemaOf(v: VersionInfo): SegmentSchema | undefined {
  const cols = v.attributes.columns;
  if (!Array.isArray(cols) || cols.length === 0) return undefined;
  const types: Record<string, string> = {};
  for (const c of cols as { name?: unknown; type?: unknown }[]) {
    if (typeof c?.name !== "string" || typeof c.type !== "string" || RESERVED_COLUMNS.has(c.name)) return undefined;
    // DuckDB matches names without regard to case: two that differ only so are one column.
    const name = c.name.toLowerCase();
    if (types[name] !== undefined) return undefined;
    types[name] = c.type;
  }
  const ts = v.attributes.timestamp_column;
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
    const segments = segmentsOf(view, await view.versions(t.parentId, t.nodeId));
    const runs = planRuns(segments, opts.targetBytes, budget);
    if (runs.length === 0) continue;
    for (const r of runs) budget -= r.to - r.from + 1;
    plans.push({ path: t.path, parentId: t.parentId, nodeId: t.nodeId, segments, runs });
  }
  return plans;
}

function describeRun(p: SeriesPlan, r: Run): { versions: VersionInfo[]; files: number; bytes: number; label: string } {
  const segs = p.segments.slice(r.from, r.to + 1);
  const versions = segs.flatMap((s) => s.versions);
  const bytes = segs.reduce((n, s) => n + s.weight, 0);
  const label = `${p.path} versions ${versions[0]!.version}..${versions[versions.length - 1]!.version} (${segs.length} files, ${bytes} bytes of versions)`;
  return { versions, files: segs.length, bytes, label };
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
      items,
    };
  }
  // Merged files written by an attempt that lost its commit: a retry that plans the same run reuses them.
  const written = new Map<string, { sha256: string; size: number }>();
  let report: MaintenanceStep = { step: "merge", dryRun, files: 0, bytes: 0, detail: "nothing to merge", items: [] };
  const plans0 = await planPond(await pond.view(), opts);
  if (plans0.length === 0) return report;
  await pond.write(opts.command ?? ["pond", "maintain", "merge"], async ({ txn, note }) => {
    const items: MaintenanceStep["items"] = [];
    let files = 0;
    for (const p of await planPond(txn, opts)) {
      for (const r of p.runs) {
        if (opts.deadline !== undefined && Date.now() > opts.deadline && items.length > 0) break;
        const d = describeRun(p, r);
        const key = `${p.nodeId}:${d.versions.map((v) => `${v.version}=${txn.storedPayload(v).sha256}`).join(",")}`;
        let out = written.get(key);
        if (!out) {
          out = await writeRun(txn, p, r);
          written.set(key, out);
        }
        await txn.mergeVersions(
          p.parentId,
          p.nodeId,
          d.versions.map((v) => v.version),
          out,
        );
        note(`merged ${d.label} into 1 file of ${out.size} bytes`);
        items.push({ key: largeFileKey(out.sha256), size: out.size, why: d.label });
        files += d.files;
      }
    }
    const bytes = items.reduce((n, i) => n + i.size, 0);
    report = {
      step: "merge",
      dryRun,
      files,
      bytes,
      detail: items.length ? `${files} file(s) merged into ${items.length} (${bytes} bytes written)` : "nothing to merge",
      items,
    };
  });
  return report;
}

/** Writes the merged file of run `r` of series `p` with DuckDB and stores it as a large file. */
async function writeRun(txn: TLogTransaction, p: SeriesPlan, r: Run): Promise<{ sha256: string; size: number }> {
  const segs = p.segments.slice(r.from, r.to + 1);
  const inputs: MergeInput[] = [];
  const columns: string[] = [];
  const seen = new Set<string>();
  for (const s of segs) {
    for (const v of s.versions) {
      for (const c of v.attributes.columns as { name: string }[]) {
        if (!seen.has(c.name.toLowerCase())) {
          seen.add(c.name.toLowerCase());
          columns.push(c.name);
        }
      }
    }
    const hostPath = txn.payloadPath(s.versions[0]!);
    if (hostPath === undefined) throw new Error("BUG: merge needs a local pond");
    if (s.merged) inputs.push({ hostPath, versions: [] });
    else inputs.push({ hostPath, versions: s.versions.map((v) => v.version) });
  }
  // DuckDB reads the inputs in place: check them against the log first, as every read does.
  txn.checkPayloads(
    segs.map((s) => {
      const st = txn.storedPayload(s.versions[0]!);
      return { hostPath: txn.payloadPath(s.versions[0]!)!, sha256: st.sha256, size: st.size, label: `"${p.path}" version ${s.versions[0]!.version}` };
    }),
  );
  const ts = segs[0]!.versions[0]!.attributes.timestamp_column;
  const dir = join(txn.payloadPath(segs[0]!.versions[0]!)!, "..");
  // `.tmp-` names are skipped by replication and removed by cleanup and `pond recover`.
  const tmp = join(dir, `.tmp-merge-${crypto.randomUUID()}.parquet`);
  try {
    const rows = await writeMergedFile(inputs, tmp, { columns, ...(typeof ts === "string" ? { timestampColumn: ts } : {}) });
    const staged = await stageContent(txn.store, new AdoptableFile(tmp), { forceLarge: true, verified: txn.verified });
    logger.debug("merged_file_written", { path: p.path, inputs: inputs.length, rows, size: staged.size });
    return { sha256: staged.sha256, size: staged.size };
  } finally {
    rmSync(tmp, { force: true });
  }
}
