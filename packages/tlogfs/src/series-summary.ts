import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isSystemError, isWriteRefused, logger } from "@pond/diagnostics";
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
  /** The newest version number. */
  lastVersion: number;
  files: SummaryFile[];
  /** The newest version's `timestamp_column` attribute, when it is a string. */
  timestampColumn?: string;
  /** The newest version's `newest_row_per_time` attribute is true. */
  newestRowPerTime?: boolean;
}

/** One payload file of a summary: see `PayloadFile` (query/pond-sources.ts), which is built from it. */
export interface SummaryFile {
  /** The version whose payload it is, or a merged file's first version. */
  version: number;
  sha256: string;
  size: number;
  /** The version's recorded columns (own payloads only). */
  columns?: unknown;
  /** µs as decimal text (JSON has no bigint); null when a version did not record it. */
  minEventTime: string | null;
  maxEventTime: string | null;
  /** A merged file (see merged-payload.ts): read with its version column hidden. */
  merged?: true;
}

/** The summary of a series' versions (ascending), as `resolveSources` would read them whole. */
export function summarize(versions: readonly VersionInfo[]): SeriesSummary {
  const s: SeriesSummary = { lastVersion: 0, files: [] };
  extendSummary(s, versions, new Map());
  return s;
}

/**
 * Adds `versions` (ascending, all newer than `s.lastVersion`) to `s`; `mergedAt` maps a
 * merged file's hash to its entry in `s.files` (filled as merged files are met).
 */
export function extendSummary(s: SeriesSummary, versions: readonly VersionInfo[], mergedAt: Map<string, SummaryFile>): void {
  const time = (t: bigint | null | undefined) => (t == null ? null : t.toString());
  for (const v of versions) {
    const stored = storedOf(v);
    if (stored.mergedVersion !== undefined) {
      const f = mergedAt.get(stored.sha256);
      if (!f) {
        const file: SummaryFile = {
          version: v.version,
          sha256: stored.sha256,
          size: stored.size,
          minEventTime: time(v.minEventTime),
          maxEventTime: time(v.maxEventTime),
          merged: true,
        };
        mergedAt.set(stored.sha256, file);
        s.files.push(file);
      } else {
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
      });
    }
    s.lastVersion = v.version;
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

const FORMAT = 1;

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
      try {
        mkdirSync(dir, { recursive: true });
        writeFileSync(tmp, JSON.stringify({ format: FORMAT, table: tableId, part: partId, ...summaries }));
        renameSync(tmp, p);
      } catch (e) {
        // A pond on a read-only or full disk still reads; it just reads the rows each time.
        if (!isWriteRefused(e)) throw e;
        try {
          rmSync(tmp, { force: true });
        } catch (r) {
          if (!isWriteRefused(r)) throw r;
        }
        logger.debug("series summary not written", { path: p, error: (e as Error).message });
      }
    },
  };
}
