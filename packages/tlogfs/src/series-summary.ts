import type { VersionInfo } from "@pond/tinyfs";
import { storedOf } from "./merged-payload.ts";
import { fileSeriesHashCache, type SeriesHashes } from "./series-hashes.ts";
import { filePartSeriesCache, SERIES_SUMMARY_FILE, type PartSeries, type PartSeriesCache, type SeriesDerivation } from "./series-part-cache.ts";

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
  // Every version's hash prefixes, which only an append's duplicate check needs, are kept
  // apart (series-hashes.ts): they made this 12-24 bytes a version, parsed by every read.
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
  const s: SeriesSummary = { lastVersion: 0, newestSize: 0, newestTimestamp: "0", files: [], schema: { columns: [] } };
  extendSummary(s, versions);
  return s;
}

/** Adds `versions` (ascending, all newer than `s.lastVersion`) to `s`, in place. */
export function extendSummary(s: SeriesSummary, versions: readonly VersionInfo[]): void {
  const time = (t: bigint | null | undefined) => (t == null ? null : t.toString());
  const named = new Set(s.schema.columns.map((c) => c.name));
  // A merged file's hash → its entry in `s.files` (filled as merged files are met).
  const mergedAt = new Map<string, SummaryFile>();
  for (const f of s.files) if (f.merged) mergedAt.set(f.sha256, f);
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

/** The summary as a kind of per-series derived data (see tlog-view.ts). */
export const SERIES_SUMMARY: SeriesDerivation<SeriesSummary> = {
  what: "series summary",
  of: summarize,
  extend: extendSummary,
  patch: patchSummary,
};

/** The summaries of a partition's series, valid for exactly the entry files it names. */
export type PartSummaries = PartSeries<SeriesSummary>;
export type SeriesSummaryCache = PartSeriesCache<SeriesSummary>;

/**
 * 6: without `hashPrefixes` (kept in `<part>.series-hashes.json` since); 5: merged files'
 * `weight` and `variants`, files' `timestampColumn` (what a merge plans from); 4: merged files'
 * `count`; 3: with `schema`, `hashPrefixes`, the newest version's size and time, merged
 * files' columns. A 5 is split into the two files when read; older ones are rebuilt.
 */
const FORMAT = 6;

/** A summary cache in `dir`, one `<part>.series.json` per partition, replaced atomically; only summaries of table `tableId` count. */
export function fileSeriesSummaryCache(dir: string, tableId: string): SeriesSummaryCache {
  const cache: SeriesSummaryCache = filePartSeriesCache<SeriesSummary>({
    what: "series summary",
    dir,
    ending: SERIES_SUMMARY_FILE,
    tableId,
    format: FORMAT,
    older(j) {
      // A pond's summaries from before the split: the prefixes go to their own file, the
      // rest is this format; both for the same entry files. Read once, not rebuilt.
      if (j.format !== 5) return undefined;
      const summaries: PartSummaries = { entryFiles: j.entryFiles, series: {} };
      const hashes: PartSeries<SeriesHashes> = { entryFiles: j.entryFiles, series: {} };
      for (const [id, v] of Object.entries(j.series)) {
        const { hashPrefixes, ...s } = v as SeriesSummary & { hashPrefixes?: unknown };
        if (typeof hashPrefixes !== "string" || typeof s.lastVersion !== "number") return undefined;
        summaries.series[id] = s;
        hashes.series[id] = { lastVersion: s.lastVersion, prefixes: hashPrefixes };
      }
      fileSeriesHashCache(dir, tableId).save(j.part, hashes);
      cache.save(j.part, summaries);
      return summaries;
    },
  });
  return cache;
}
