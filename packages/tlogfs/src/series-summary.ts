import { readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isSystemError, logger } from "@pond/diagnostics";
import { sizeOf, writeCache, type CachePrune } from "./cache-write.ts";
import type { VersionInfo } from "@pond/tinyfs";
import { storedOf } from "./merged-payload.ts";

/**
 * What a read of a whole series needs, without its versions: the payload files it
 * scans, in version order (a version's own payload, or a merged file once, at its first
 * version), each with the event-time range of its versions and, for an own payload, the
 * columns that version recorded; and the series' newest version's settings.
 *
 * A collector's series has one version a minute and, once merged, a handful of files:
 * a query over all of it reads the few files, but building every version's record first
 * cost ~15 µs a version in each command (30 ms at 2,000 versions, 1.5 s at 100,000). The
 * summary is O(files) and is kept between processes (see `SeriesSummaryCache`).
 */
export interface SeriesSummary {
  /** The newest version number, its own payload's size and its time (µs, decimal text), as `list -l` shows them. */
  lastVersion: number;
  newestSize: number;
  newestTimestamp: string;
  files: SummaryFile[];
  /** The newest version's `timestamp_column` attribute, when it is a string. */
  timestampColumn?: string;
  /** The newest version's `newest_row_per_time` attribute is true. */
  newestRowPerTime?: boolean;
  /** What an append is checked against: `seriesSchemaOf` of every version. */
  schema: { columns: { name: string; type: string }[]; timestampColumn?: string };
  /**
   * The first HASH_PREFIX hex digits of every version's own payload sha256 and recorded
   * `source_sha256`, one after another: an append's duplicate check reads every version
   * only when one of its hashes starts so (a collector's new version never does).
   */
  hashPrefixes: string;
}

/** Hex digits of a hash kept in `SeriesSummary.hashPrefixes` (48 bits: a false match once in ~10^14 per pair). */
export const HASH_PREFIX = 12;

/** True when `s` may hold a version whose own payload or recorded source has hash `sha256` (a prefix matched; false means none does). */
export function mayHoldHash(s: SeriesSummary, sha256: string): boolean {
  const p = sha256.slice(0, HASH_PREFIX);
  for (let i = s.hashPrefixes.indexOf(p); i >= 0; i = s.hashPrefixes.indexOf(p, i + 1)) if (i % HASH_PREFIX === 0) return true;
  return false;
}

/** One payload file of a summary: see `PayloadFile` (query/pond-sources.ts), which is built from it. */
export interface SummaryFile {
  /** The version whose payload it is, or a merged file's first version. */
  version: number;
  sha256: string;
  size: number;
  /** The version's recorded columns (a merged file: its first version's). */
  columns?: unknown;
  /** A merged file whose versions did not all record the same columns: a time range then needs them one by one. */
  mixedColumns?: true;
  /** µs as decimal text (JSON has no bigint); null when a version did not record it. */
  minEventTime: string | null;
  maxEventTime: string | null;
  /** A merged file (see merged-payload.ts): read with its version column hidden. */
  merged?: true;
  /** A merged file: how many of the series' versions it holds (what `patchSummary` checks before it replaces the file). */
  count?: number;
  /** A merged file: the bytes of its versions' own payloads, in all (what a merge weighs it as, see steward's merge.ts). */
  weight?: number;
  /** The version's `timestamp_column` attribute, when a string (a merged file: its first version's). */
  timestampColumn?: string;
  /**
   * A merged file whose versions did not all record the same columns and `timestamp_column`:
   * each pair they recorded, once, in the order of the versions that first did (what a merge
   * of the file must agree with; a collector's series changes its columns seldom, if ever).
   */
  variants?: { columns?: unknown; timestampColumn?: string }[];
}

/** The summary of a series' versions (ascending), as `resolveSources` would read them whole. */
export function summarize(versions: readonly VersionInfo[]): SeriesSummary {
  const s: SeriesSummary = { lastVersion: 0, newestSize: 0, newestTimestamp: "0", files: [], schema: { columns: [] }, hashPrefixes: "" };
  extendSummary(s, versions, new Map());
  return s;
}

/**
 * Adds `versions` (ascending, all newer than `s.lastVersion`) to `s`; `mergedAt` maps a
 * merged file's hash to its entry in `s.files` (filled as merged files are met).
 */
export function extendSummary(s: SeriesSummary, versions: readonly VersionInfo[], mergedAt: Map<string, SummaryFile>): void {
  const time = (t: bigint | null | undefined) => (t == null ? null : t.toString());
  const named = new Set(s.schema.columns.map((c) => c.name));
  let prefixes = "";
  for (const v of versions) {
    // As seriesSchemaOf reads them: every column (its first type), the last time column recorded.
    const cols = v.attributes.columns;
    if (Array.isArray(cols))
      for (const c of cols as { name?: unknown; type?: unknown }[])
        if (typeof c?.name === "string" && !named.has(c.name)) {
          named.add(c.name);
          s.schema.columns.push({ name: c.name, type: String(c.type) });
        }
    if (typeof v.attributes.timestamp_column === "string") s.schema.timestampColumn = v.attributes.timestamp_column;
    prefixes += hashPrefix(v.sha256);
    const source = v.attributes.source_sha256;
    if (typeof source === "string" && source !== v.sha256) prefixes += hashPrefix(source);
    const stored = storedOf(v);
    const ts = typeof v.attributes.timestamp_column === "string" ? v.attributes.timestamp_column : undefined;
    if (stored.mergedVersion !== undefined) {
      const f = mergedAt.get(stored.sha256);
      const columns = v.attributes.columns;
      if (!f) {
        const file: SummaryFile = {
          version: v.version,
          sha256: stored.sha256,
          size: stored.size,
          ...(columns === undefined ? {} : { columns }),
          minEventTime: time(v.minEventTime),
          maxEventTime: time(v.maxEventTime),
          merged: true,
          count: 1,
          weight: v.size,
          ...(ts === undefined ? {} : { timestampColumn: ts }),
        };
        mergedAt.set(stored.sha256, file);
        s.files.push(file);
      } else {
        f.count = (f.count ?? 0) + 1;
        f.weight = (f.weight ?? 0) + v.size;
        const cols = JSON.stringify(columns ?? null);
        if (cols !== JSON.stringify(f.columns ?? null)) f.mixedColumns = true;
        if (f.variants || f.mixedColumns || ts !== f.timestampColumn) {
          f.variants ??= [variant(f.columns, f.timestampColumn)];
          if (!f.variants.some((x) => x.timestampColumn === ts && JSON.stringify(x.columns ?? null) === cols)) f.variants.push(variant(columns, ts));
        }
        // Null (unknown) once any version's bound is unknown, as resolveSources widens it.
        f.minEventTime =
          f.minEventTime === null || v.minEventTime == null ? null : BigInt(f.minEventTime) <= v.minEventTime ? f.minEventTime : time(v.minEventTime);
        f.maxEventTime =
          f.maxEventTime === null || v.maxEventTime == null ? null : BigInt(f.maxEventTime) >= v.maxEventTime ? f.maxEventTime : time(v.maxEventTime);
      }
    } else {
      const columns = v.attributes.columns;
      s.files.push({
        version: v.version,
        sha256: v.sha256,
        size: v.size,
        ...(columns === undefined ? {} : { columns }),
        minEventTime: time(v.minEventTime),
        maxEventTime: time(v.maxEventTime),
        ...(ts === undefined ? {} : { timestampColumn: ts }),
      });
    }
    s.lastVersion = v.version;
    s.newestSize = v.size;
    s.newestTimestamp = v.timestamp.toString();
  }
  s.hashPrefixes += prefixes;
  const newest = versions[versions.length - 1]?.attributes;
  if (newest) {
    const ts = newest.timestamp_column;
    if (typeof ts === "string") s.timestampColumn = ts;
    else delete s.timestampColumn;
    if (newest.newest_row_per_time === true) s.newestRowPerTime = true;
    else delete s.newestRowPerTime;
  }
}

/**
 * `s` after the rows of some of its versions changed where they are stored (a merge of
 * payloads re-pointed them to a merged file): `before` and `after` hold those versions'
 * records (ascending, the same version numbers), as they were and as they are. Each run of
 * consecutive changed versions has its entries in `s.files` replaced by the summary of its
 * versions' new records, in place; everything else a summary holds is taken from what a
 * version is (its own payload's hash and size, times, attributes), which a merge keeps, and
 * is checked to be unchanged. Undefined, for a rebuild from every version, when that would
 * not equal one: a changed version's identity differs, a merged file the run used holds
 * versions outside it (its `count` says so), or a merged file it now uses is also used
 * outside it. `s` itself is left as it was.
 */
export function patchSummary(s: SeriesSummary, before: readonly VersionInfo[], after: readonly VersionInfo[]): SeriesSummary | undefined {
  if (before.length !== after.length) return undefined;
  for (const [i, a] of before.entries()) {
    const b = after[i]!;
    if (
      a.version !== b.version ||
      (i > 0 && a.version <= before[i - 1]!.version) ||
      a.sha256 !== b.sha256 ||
      a.size !== b.size ||
      a.timestamp !== b.timestamp ||
      a.minEventTime !== b.minEventTime ||
      a.maxEventTime !== b.maxEventTime ||
      JSON.stringify(a.attributes) !== JSON.stringify(b.attributes)
    )
      return undefined;
  }
  const out: SeriesSummary = structuredClone(s);
  for (let i = 0; i < after.length; ) {
    let j = i;
    while (j + 1 < after.length && after[j + 1]!.version === after[j]!.version + 1) j++;
    const lo = after[i]!.version;
    const hi = after[j]!.version;
    const uses = new Map<string, number>();
    for (const v of before.slice(i, j + 1)) {
      const st = storedOf(v);
      if (st.mergedVersion !== undefined) uses.set(st.sha256, (uses.get(st.sha256) ?? 0) + 1);
    }
    for (const [sha, n] of uses) {
      const f = out.files.find((f) => f.merged && f.sha256 === sha);
      if (!f || f.version < lo || f.version > hi || f.count !== n) return undefined;
    }
    const keep = out.files.filter((f) => f.version < lo || f.version > hi);
    const run = summarize(after.slice(i, j + 1)).files;
    for (const f of run) if (f.merged && keep.some((k) => k.merged && k.sha256 === f.sha256)) return undefined;
    const at = keep.findIndex((f) => f.version > hi);
    out.files = at < 0 ? [...keep, ...run] : [...keep.slice(0, at), ...run, ...keep.slice(at)];
    i = j + 1;
  }
  return out;
}

function variant(columns: unknown, timestampColumn: string | undefined): { columns?: unknown; timestampColumn?: string } {
  return { ...(columns === undefined ? {} : { columns }), ...(timestampColumn === undefined ? {} : { timestampColumn }) };
}

/** A hash's first HASH_PREFIX digits, padded so that prefixes stay aligned. */
function hashPrefix(sha256: string): string {
  return sha256.slice(0, HASH_PREFIX).padEnd(HASH_PREFIX, "-");
}

/** The summaries of a partition's series, valid for exactly the entry files it names. */
export interface PartSummaries {
  /** The partition's active entry file paths, sorted. */
  entryFiles: string[];
  /** By node id: each file:series node of the partition. */
  series: Record<string, SeriesSummary>;
}

/**
 * A place to keep partitions' series summaries between processes. Derived data, as the
 * row cache is: a summary counts only for the very set of entry files it names (files
 * are immutable, so that set fixes every row), and a missing, torn or foreign one only
 * means the rows are read.
 */
export interface SeriesSummaryCache {
  load(partId: string): PartSummaries | undefined;
  save(partId: string, summaries: PartSummaries): void;
}

/** 5: merged files' `weight` and `variants`, files' `timestampColumn` (what a merge plans from); 4: merged files' `count`; 3: with `schema`, `hashPrefixes`, the newest version's size and time, merged files' columns; older ones are rebuilt. */
const FORMAT = 5;

/** A summary cache in `dir`, one `<part>.series.json` per partition, replaced atomically; only summaries of table `tableId` count. */
export function fileSeriesSummaryCache(dir: string, tableId: string): SeriesSummaryCache {
  const path = (partId: string) => join(dir, `${partId.replace(/[^0-9A-Za-z-]/g, "_")}.series.json`);
  return {
    load(partId) {
      let text: string;
      try {
        text = readFileSync(path(partId), "utf8");
      } catch (e) {
        if (isSystemError(e, "ENOENT")) return undefined;
        throw e;
      }
      try {
        const j = JSON.parse(text) as PartSummaries & { format: number; table: string; part: string };
        if (j.format !== FORMAT || j.table !== tableId || j.part !== partId || !Array.isArray(j.entryFiles) || typeof j.series !== "object") return undefined;
        return { entryFiles: j.entryFiles, series: j.series };
      } catch (e) {
        // A torn or foreign file is not an error of the pond: the rows are read instead.
        if (!(e instanceof SyntaxError)) throw e;
        logger.debug("series summary unreadable, ignored", { path: path(partId) });
        return undefined;
      }
    },
    save(partId, summaries) {
      const p = path(partId);
      const tmp = `${p}.${process.pid}.tmp`;
      writeCache(
        "series summary",
        p,
        () => {
          writeFileSync(tmp, JSON.stringify({ format: FORMAT, table: tableId, part: partId, ...summaries }));
          renameSync(tmp, p);
        },
        tmp,
      );
    },
  };
}

/**
 * Deletes the series summaries in `dir` (table `tableId`) that name an entry file `keep`
 * refuses (one cleanup deleted): a summary counts only for the very set of entry files it
 * names, and a deleted file never comes back (names are unique), so such a summary can
 * never be used again; the next command that needs one rebuilds it from the rows. A dry
 * run only measures; foreign, torn or old-format summaries are left alone.
 */
export function pruneSeriesSummaries(dir: string, tableId: string, keep: (entryFile: string) => boolean, dryRun: boolean): CachePrune[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    if (isSystemError(e, "ENOENT")) return [];
    throw e;
  }
  const out: CachePrune[] = [];
  for (const n of names.filter((n) => n.endsWith(".series.json")).sort()) {
    const p = join(dir, n);
    let j: { format?: unknown; table?: unknown; entryFiles?: unknown };
    try {
      j = JSON.parse(readFileSync(p, "utf8")) as typeof j;
    } catch (e) {
      if (isSystemError(e, "ENOENT") || e instanceof SyntaxError) continue;
      throw e;
    }
    if (j.format !== FORMAT || j.table !== tableId || !Array.isArray(j.entryFiles)) continue;
    const gone = j.entryFiles.filter((f) => typeof f === "string" && !keep(f)).length;
    if (gone === 0) continue;
    const before = sizeOf(p);
    if (!dryRun) rmSync(p, { force: true });
    out.push({ path: p, dropped: gone, before, after: 0 });
  }
  return out;
}
