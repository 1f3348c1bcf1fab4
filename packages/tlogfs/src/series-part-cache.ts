import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isSystemError, logger } from "@pond/diagnostics";
import type { VersionInfo } from "@pond/tinyfs";
import { cacheFiles, sizeOf, writeCache, type CachePrune } from "./cache-write.ts";

/**
 * A kind of per-series data derived from a series' versions and kept per partition between
 * processes: the summary whole-series reads need (series-summary.ts), and the hash prefixes
 * appends' duplicate checks need (series-hashes.ts). TLogView keeps every kind in step the
 * same way (tlog-view.ts): `of` the versions when built from the rows, `extend`ed by the
 * versions an append added, `patch`ed for versions a merge re-pointed.
 */
export interface SeriesDerivation<T extends { lastVersion: number }> {
  /** What it is called in logs. */
  what: string;
  /** Of a series' versions, ascending from version 1. */
  of(versions: readonly VersionInfo[]): T;
  /** Adds `versions` (ascending, following `t.lastVersion` with no gap) to `t`, in place. */
  extend(t: T, versions: readonly VersionInfo[]): void;
  /** `t` after versions `before` became `after` (same numbers, re-pointed by a merge); undefined to rebuild. `t` is left as it was. */
  patch(t: T, before: readonly VersionInfo[], after: readonly VersionInfo[]): T | undefined;
}

/** One kind of derived data of a partition's series, valid for exactly the entry files it names. */
export interface PartSeries<T> {
  /** The partition's active entry file paths, sorted. */
  entryFiles: string[];
  /** By node id: each file:series node of the partition. */
  series: Record<string, T>;
}

/**
 * A place to keep one kind of partitions' series data between processes. Derived data, as
 * the row cache is: it counts only for the very set of entry files it names (files are
 * immutable, so that set fixes every row), and a missing, torn or foreign one only means
 * the rows are read.
 */
export interface PartSeriesCache<T> {
  load(partId: string): PartSeries<T> | undefined;
  save(partId: string, data: PartSeries<T>): void;
}

/** The file name endings of the kinds kept in `control/row-cache/` (a row cache's own files are `<part>.json` and `<part>.jsonl`). */
export const SERIES_SUMMARY_FILE = ".series.json";
export const SERIES_HASHES_FILE = ".series-hashes.json";

/** True for a series summary or hashes file (not a row cache's). */
export function isSeriesCacheFile(name: string): boolean {
  return name.endsWith(SERIES_SUMMARY_FILE) || name.endsWith(SERIES_HASHES_FILE);
}

/** What a kept file holds besides the data: its format, table and partition. */
export type PartSeriesFile = { format: number; table: string; part: string; entryFiles: string[]; series: Record<string, unknown> };

/**
 * A cache of one kind in `dir`, one `<part><ending>` per partition, replaced atomically;
 * only files of table `tableId` in format `format` count. `older` may read a file of
 * another format (an upgrade); what it returns undefined for is rebuilt.
 */
export function filePartSeriesCache<T>(opts: {
  what: string;
  dir: string;
  ending: string;
  tableId: string;
  format: number;
  older?: (file: PartSeriesFile) => PartSeries<T> | undefined;
}): PartSeriesCache<T> {
  const path = (partId: string) => join(opts.dir, `${partId.replace(/[^0-9A-Za-z-]/g, "_")}${opts.ending}`);
  return {
    load(partId) {
      let text: string;
      try {
        text = readFileSync(path(partId), "utf8");
      } catch (e) {
        if (isSystemError(e, "ENOENT")) return undefined;
        throw e;
      }
      let j: PartSeriesFile;
      try {
        j = JSON.parse(text) as PartSeriesFile;
      } catch (e) {
        // A torn or foreign file is not an error of the pond: the rows are read instead.
        if (!(e instanceof SyntaxError)) throw e;
        logger.debug(`${opts.what} unreadable, ignored`, { path: path(partId) });
        return undefined;
      }
      if (j === null || j.table !== opts.tableId || j.part !== partId || !Array.isArray(j.entryFiles) || typeof j.series !== "object" || j.series === null)
        return undefined;
      if (j.format === opts.format) return { entryFiles: j.entryFiles, series: j.series as Record<string, T> };
      return opts.older?.(j);
    },
    save(partId, data) {
      const p = path(partId);
      const tmp = `${p}.${process.pid}.tmp`;
      writeCache(
        opts.what,
        p,
        () => {
          writeFileSync(tmp, JSON.stringify({ format: opts.format, table: opts.tableId, part: partId, ...data }));
          renameSync(tmp, p);
        },
        tmp,
      );
    },
  };
}

/**
 * Deletes the series summaries and hash files in `dir` (table `tableId`) that name an entry
 * file `keep` refuses (one cleanup deleted): each counts only for the very set of entry
 * files it names, and a deleted file never comes back (names are unique), so such a file
 * can never be used again; the next command that needs one rebuilds it from the rows. A dry
 * run only measures; foreign and torn files are left alone.
 */
export function pruneSeriesSummaries(dir: string, tableId: string, keep: (entryFile: string) => boolean, dryRun: boolean): CachePrune[] {
  const names = cacheFiles(dir);
  const out: CachePrune[] = [];
  for (const n of names.filter(isSeriesCacheFile).sort()) {
    const p = join(dir, n);
    let j: { table?: unknown; entryFiles?: unknown };
    try {
      j = JSON.parse(readFileSync(p, "utf8")) as typeof j;
    } catch (e) {
      if (isSystemError(e, "ENOENT") || e instanceof SyntaxError) continue;
      throw e;
    }
    if (j === null || j.table !== tableId || !Array.isArray(j.entryFiles)) continue;
    const gone = j.entryFiles.filter((f) => typeof f === "string" && !keep(f)).length;
    if (gone === 0) continue;
    const before = sizeOf(p);
    if (!dryRun) rmSync(p, { force: true });
    out.push({ path: p, dropped: gone, before, after: 0 });
  }
  return out;
}
