import { NotFoundError, isGlob, type VersionInfo, type WD } from "@pond/tinyfs";
import type { TLogView } from "../tlog-view.ts";
import type { SeriesSummary, SummaryFile } from "../series-summary.ts";
import { overlaps, type TimeRange } from "./time-bounds.ts";
import { NotLocalError, NotQueryableError } from "../errors.ts";

/** One stored Parquet payload a query may scan. */
export interface PayloadFile {
  /** Host path of the payload, scanned in place. */
  hostPath: string;
  version: number;
  size: number;
  /** Lowercase hex sha256 of the payload, as the log records it. */
  sha256: string;
  /** The columns recorded when the version was stored, if any. */
  columns?: unknown;
  minEventTime: bigint | null;
  maxEventTime: bigint | null;
  /**
   * Set for a merged file (see merged-payload.ts): the versions in it this source reads
   * (their own hash and recorded columns), and whether they are all it holds; when not,
   * a reader keeps only their rows, by the hidden version column.
   */
  merged?: { versions: MergedPart[]; all: boolean };
}

/** One version read from a merged file. */
export interface MergedPart {
  version: number;
  /** The version's own payload hash (its identity, not the merged file's). */
  sha256: string;
  columns?: unknown;
}

/** A pond table or series resolved to the payloads a query reads. */
export interface ResolvedSource {
  path: string;
  entryType: "file:table" | "file:series";
  /** Payloads to scan (series versions outside the time range are left out). */
  files: PayloadFile[];
  /** Versions left out by the time range. */
  skipped: number[];
  timestampColumn?: string;
  /**
   * The series' versions carry `newest_row_per_time: true` (written by `pond reduce`): a
   * row replaces the rows of earlier versions at the same time, so a query sees, for each
   * value of the time column, the row of the newest version that has one.
   */
  newestRowPerTime?: boolean;
  /**
   * Built from the series' summary (`resolveSources`' `summary` option): its merged files
   * list no versions (`merged.versions` is empty, `merged.all` true), so it cannot be
   * split by version (`sourceVersionKeys`, `selectVersions` refuse it).
   */
  summarized?: true;
}

/**
 * Resolves a pond path or glob to the Parquet payloads of the tables and series it
 * names. A table contributes its newest version (or `version`); a series every version
 * whose event-time range overlaps `range`. Files of other types are refused.
 *
 * `summary`: the caller reads what it gets as a whole and never splits it by version, so
 * a series read whole (no `range`, no `version`) comes from its summary (see
 * series-summary.ts), without building a record of every version: the same files, in
 * the same order, with merged files' version lists left out.
 */
export async function resolveSources(
  view: TLogView,
  wd: WD,
  pattern: string,
  opts: { range?: TimeRange; version?: number; summary?: boolean } = {},
): Promise<ResolvedSource[]> {
  const whole = opts.summary === true && opts.version === undefined;
  const matches = isGlob(pattern)
    ? await wd.globAll(pattern)
    : // stat reads the versions; a whole read may not need them (resolve's null is stat's error).
      [(whole ? await wd.resolve(pattern, { followSymlinks: true }) : null) ?? (await wd.stat(pattern, { followSymlinks: true }))];
  if (matches.length === 0) throw new NotFoundError(`"${pattern}"`, "Check it with `pond list`.");
  const out: ResolvedSource[] = [];
  for (const m of matches) {
    if (m.entryType !== "file:table" && m.entryType !== "file:series") {
      if (isGlob(pattern) && m.entryType === "directory") continue;
      throw new NotQueryableError(m.path, m.entryType);
    }
    let versions = (m as { versions?: VersionInfo[] }).versions;
    let newest: { timestampColumn?: string; newestRowPerTime?: true } | undefined;
    if (whole && m.entryType === "file:series") {
      // Under a time range a merged file is read whole when it overlaps, as below, if its
      // versions all recorded the same columns (else the versions' own columns decide).
      const summary = await view.seriesSummary(m.parentId, m.nodeId);
      const src = summarySource(view, m.path, summary, opts.range);
      if (src) {
        out.push(src);
        continue;
      }
      // Else the versions decide, but only those of the files whose span overlaps the range:
      // no other version can (a version's range is within its file's span). A day of a long
      // series then reads a few thousand rows, not every version's.
      if (opts.range && versions === undefined) {
        versions = await versionsInRange(view, m, summary, opts.range);
        if (versions)
          newest = {
            ...(summary.timestampColumn === undefined ? {} : { timestampColumn: summary.timestampColumn }),
            ...(summary.newestRowPerTime ? { newestRowPerTime: true } : {}),
          };
      }
    }
    // A stat already read the versions; a glob match did not.
    versions ??= await view.versions(m.parentId, m.nodeId);
    let chosen = versions;
    if (m.entryType === "file:table" || opts.version !== undefined) {
      const v = opts.version === undefined ? versions[versions.length - 1] : versions.find((x) => x.version === opts.version);
      if (!v) throw new NotFoundError(`Version ${opts.version} of "${m.path}"`, `It has versions 1 to ${versions[versions.length - 1]!.version}.`);
      chosen = [v];
    }
    const files: PayloadFile[] = [];
    const skipped: number[] = [];
    // Each merged file read, with the chosen versions it holds (in or out of the range).
    const merged = new Map<string, { file: PayloadFile; overlaps: boolean; held: VersionInfo[] }>();
    for (const v of chosen) {
      const stored = view.storedPayload(v);
      if (stored.mergedVersion !== undefined) {
        // A merged file is read whole once any of its versions is in range: the rows of
        // the others fall outside the range and the time filter drops them.
        let g = merged.get(stored.sha256);
        if (!g) {
          const hostPath = view.payloadPath(v);
          if (hostPath === undefined) throw new NotLocalError(m.path, v.version);
          const file: PayloadFile = {
            hostPath,
            version: v.version,
            size: stored.size,
            sha256: stored.sha256,
            minEventTime: null,
            maxEventTime: null,
            merged: { versions: [], all: false },
          };
          g = { file, overlaps: false, held: [] };
          merged.set(stored.sha256, g);
          files.push(file);
        }
        g.held.push(v);
        const f = g.file;
        if (m.entryType === "file:series" && opts.range && !overlaps(opts.range, v.minEventTime, v.maxEventTime)) {
          // Left out as it would be unmerged: its rows, and its columns, are not read.
          skipped.push(v.version);
          continue;
        }
        if (!g.overlaps) {
          f.version = v.version;
          f.minEventTime = v.minEventTime ?? null;
          f.maxEventTime = v.maxEventTime ?? null;
        }
        g.overlaps = true;
        f.merged!.versions.push({ version: v.version, sha256: v.sha256, columns: v.attributes.columns });
        f.minEventTime = f.minEventTime === null || v.minEventTime == null ? null : v.minEventTime < f.minEventTime ? v.minEventTime : f.minEventTime;
        f.maxEventTime = f.maxEventTime === null || v.maxEventTime == null ? null : v.maxEventTime > f.maxEventTime ? v.maxEventTime : f.maxEventTime;
        continue;
      }
      if (m.entryType === "file:series" && opts.range && !overlaps(opts.range, v.minEventTime, v.maxEventTime)) {
        skipped.push(v.version);
        continue;
      }
      const hostPath = view.payloadPath(v);
      if (hostPath === undefined) throw new NotLocalError(m.path, v.version);
      files.push({
        hostPath,
        version: v.version,
        size: v.size,
        sha256: v.sha256,
        columns: v.attributes.columns,
        minEventTime: v.minEventTime ?? null,
        maxEventTime: v.maxEventTime ?? null,
      });
    }
    // Every version each merged file holds: those chosen when all were (a series read
    // whole or by time range), else one pass over the versions (not one per merged file).
    const heldBy = new Map<string, VersionInfo[]>();
    if (chosen === versions) for (const [sha, g] of merged) heldBy.set(sha, g.held);
    else if (merged.size > 0) {
      for (const v of versions) {
        const sha = view.storedPayload(v).sha256;
        if (!merged.has(sha)) continue;
        const list = heldBy.get(sha);
        if (list) list.push(v);
        else heldBy.set(sha, [v]);
      }
    }
    for (const [sha, g] of merged) {
      const held = heldBy.get(sha) ?? [];
      const wanted = g.file.merged!.versions;
      // Versions left out by the time range hold only rows outside it, which the time filter
      // drops: the file is read whole when they add no column the others lack.
      g.file.merged!.all =
        wanted.length === held.length ||
        (opts.version === undefined &&
          sameColumns(
            wanted.map((p) => p.columns),
            held.map((v) => v.attributes.columns),
          ));
      if (!g.overlaps) files.splice(files.indexOf(g.file), 1);
    }
    view.checkPayloads(files.map((f) => ({ hostPath: f.hostPath, sha256: f.sha256, size: f.size, label: `"${m.path}" version ${f.version}` })));
    // The newest version's settings: of the series' summary when only some versions were read.
    const tsCol = newest ? newest.timestampColumn : chosen[chosen.length - 1]?.attributes.timestamp_column;
    const rowPerTime = newest ? newest.newestRowPerTime === true : chosen[chosen.length - 1]?.attributes.newest_row_per_time === true;
    out.push({
      path: m.path,
      entryType: m.entryType,
      files,
      skipped,
      timestampColumn: typeof tsCol === "string" ? tsCol : undefined,
      ...(m.entryType === "file:series" && rowPerTime ? { newestRowPerTime: true } : {}),
    });
  }
  if (out.length === 0) throw new NotFoundError(`A table or series matching "${pattern}"`, "Check it with `pond list -l`.");
  return out;
}

/**
 * A series read whole or by time range, from its summary: the files resolveSources would
 * list, merged ones without their version lists (under a range, a merged file's event
 * times and version are its whole file's, not only of its versions in the range).
 * Undefined when the summary cannot tell the same answer under a range: the summary
 * knows a merged file's time span, not its versions', so a file whose span overlaps the
 * range while none of its versions does would be read where resolveSources leaves it out.
 * That adds no row (the time filter drops them all), and no column when the file adds
 * none to the own payloads read beside it, or, with no own payload in range, when every
 * merged file in range recorded the same columns and one of their versions surely overlaps
 * (`someVersionIn`); anything else is left to the versions.
 */
function summarySource(view: TLogView, path: string, s: SeriesSummary, range: TimeRange | undefined): ResolvedSource | undefined {
  const inRange = range
    ? s.files.filter((f) => overlaps(range, f.minEventTime === null ? null : BigInt(f.minEventTime), f.maxEventTime === null ? null : BigInt(f.maxEventTime)))
    : s.files;
  if (range && inRange.some((f) => f.merged)) {
    const own = inRange.filter((f) => !f.merged);
    const have = new Set(own.flatMap((f) => columnKeys(f.columns) ?? []));
    const covered = (f: SummaryFile) => !f.mixedColumns && (columnKeys(f.columns) ?? ["?"]).every((k) => have.has(k));
    const byOwn = own.length > 0 && !own.some((f) => columnKeys(f.columns) === undefined) && inRange.every((f) => !f.merged || covered(f));
    if (!byOwn && !(own.length === 0 && sameColumnsMerged(inRange) && someVersionIn(range, inRange))) return undefined;
  }
  const files: PayloadFile[] = inRange.map((f) => {
    const hostPath = view.payloadPathOf(f.sha256);
    if (hostPath === undefined) throw new NotLocalError(path, f.version);
    return {
      hostPath,
      version: f.version,
      size: f.size,
      sha256: f.sha256,
      ...(f.columns === undefined || f.merged ? {} : { columns: f.columns }),
      minEventTime: f.minEventTime === null ? null : BigInt(f.minEventTime),
      maxEventTime: f.maxEventTime === null ? null : BigInt(f.maxEventTime),
      ...(f.merged ? { merged: { versions: [], all: true } } : {}),
    };
  });
  view.checkPayloads(files.map((f) => ({ hostPath: f.hostPath, sha256: f.sha256, size: f.size, label: `"${path}" version ${f.version}` })));
  return {
    path,
    entryType: "file:series",
    files,
    skipped: [],
    timestampColumn: s.timestampColumn,
    ...(s.newestRowPerTime ? { newestRowPerTime: true } : {}),
    summarized: true,
  };
}

/**
 * The versions of series `m` held by the files of its summary whose span overlaps `range`
 * (ascending), read from the entry files that hold them (see TLogView.versionsBetween);
 * undefined when the summary's files are not runs of consecutive versions, or those
 * versions cannot be read apart from the others.
 */
async function versionsInRange(
  view: TLogView,
  m: { parentId: string; nodeId: string },
  s: SeriesSummary,
  range: TimeRange,
): Promise<VersionInfo[] | undefined> {
  const runs: { lo: number; hi: number }[] = [];
  for (const [i, f] of s.files.entries()) {
    const next = s.files[i + 1]?.version ?? s.lastVersion + 1;
    if (f.version + (f.merged ? (f.count ?? Number.NaN) : 1) !== next) return undefined;
    if (!overlaps(range, f.minEventTime === null ? null : BigInt(f.minEventTime), f.maxEventTime === null ? null : BigInt(f.maxEventTime))) continue;
    const last = runs[runs.length - 1];
    if (last && last.hi + 1 === f.version) last.hi = next - 1;
    else runs.push({ lo: f.version, hi: next - 1 });
  }
  return view.versionsBetween(m.parentId, m.nodeId, runs);
}

/**
 * True when merged files `files` (none mixed) all recorded the same columns: read whole
 * under a range, any of them adds the columns the others read, and no other.
 */
function sameColumnsMerged(files: readonly SummaryFile[]): boolean {
  const keys = files.map((f) => (f.mixedColumns ? undefined : columnKeys(f.columns)));
  const first = keys[0];
  return first !== undefined && keys.every((k) => k !== undefined && k.length === first.length && k.every((x, i) => x === first[i]));
}

/**
 * True when some version of `files` (each overlapping `range`) surely overlaps it: a file's
 * span starts or ends inside the range (the version that starts it, or ends it, is in), or
 * a version's events are unknown (it is read under any range). Then the files' columns are
 * the answer's, as when the versions decide; without one, none might be read at all.
 */
function someVersionIn(range: TimeRange, files: readonly SummaryFile[]): boolean {
  const inside = (t: bigint) => (range.start === undefined || range.start <= t) && (range.end === undefined || t < range.end);
  return files.some((f) => f.minEventTime === null || f.maxEventTime === null || inside(BigInt(f.minEventTime)) || inside(BigInt(f.maxEventTime)));
}

/** A recorded column list as `name type` keys; undefined when it is not one. */
function columnKeys(columns: unknown): string[] | undefined {
  if (!Array.isArray(columns)) return undefined;
  const out: string[] = [];
  for (const c of columns as { name?: unknown; type?: unknown }[]) {
    if (typeof c?.name !== "string") return undefined;
    out.push(`${c.name}\u0000${String(c.type)}`);
  }
  return out;
}

/** The identity of each version `src` reads (its number and its own payload's hash), merged or not. */
export function sourceVersionKeys(src: ResolvedSource): string[] {
  if (src.summarized) throw new Error(`BUG: "${src.path}" was resolved from its summary and lists no versions`);
  return src.files.flatMap((f) => (f.merged ? f.merged.versions.map((p) => `${p.version}/${p.sha256}`) : [`${f.version}/${f.sha256}`]));
}

/** `src` reading only the versions whose key (see `sourceVersionKeys`) `keep` accepts; a merged file then keeps only their rows. */
export function selectVersions(src: ResolvedSource, keep: (key: string) => boolean): ResolvedSource {
  if (src.summarized) throw new Error(`BUG: "${src.path}" was resolved from its summary and lists no versions`);
  const files: PayloadFile[] = [];
  for (const f of src.files) {
    if (!f.merged) {
      if (keep(`${f.version}/${f.sha256}`)) files.push(f);
      continue;
    }
    const parts = f.merged.versions.filter((p) => keep(`${p.version}/${p.sha256}`));
    if (parts.length === 0) continue;
    files.push(parts.length === f.merged.versions.length ? f : { ...f, version: parts[0]!.version, merged: { versions: parts, all: false } });
  }
  return { ...src, files };
}

/** True when both lists of recorded column lists name the same columns, in the same order of first use. */
function sameColumns(a: unknown[], b: unknown[]): boolean {
  const union = (lists: unknown[]): string | undefined => {
    const seen = new Set<string>();
    const out: string[] = [];
    for (const l of lists) {
      if (!Array.isArray(l)) return undefined;
      for (const c of l as { name?: unknown }[]) {
        if (typeof c?.name !== "string") return undefined;
        if (!seen.has(c.name)) {
          seen.add(c.name);
          out.push(c.name);
        }
      }
    }
    return JSON.stringify(out);
  };
  const x = union(a);
  return x !== undefined && x === union(b);
}
