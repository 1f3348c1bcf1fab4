import { PondError } from "@pond/diagnostics";
import { NotFoundError, isGlob, type VersionInfo, type WD } from "@pond/tinyfs";
import type { TLogView } from "../tlog-persistence.ts";
import { overlaps, type TimeRange } from "./time-bounds.ts";

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
}

/**
 * Resolves a pond path or glob to the Parquet payloads of the tables and series it
 * names. A table contributes its newest version (or `version`); a series every version
 * whose event-time range overlaps `range`. Files of other types are refused.
 */
export async function resolveSources(view: TLogView, wd: WD, pattern: string, opts: { range?: TimeRange; version?: number } = {}): Promise<ResolvedSource[]> {
  const matches = isGlob(pattern) ? await wd.globAll(pattern) : [await wd.stat(pattern, { followSymlinks: true })];
  if (matches.length === 0) throw new NotFoundError(`"${pattern}"`, "Check it with `pond list`.");
  const out: ResolvedSource[] = [];
  for (const m of matches) {
    if (m.entryType !== "file:table" && m.entryType !== "file:series") {
      if (isGlob(pattern) && m.entryType === "directory") continue;
      throw new PondError("not_queryable", `"${m.path}" is a ${m.entryType}; SQL reads tables and series`, {
        data: { path: m.path },
        hint: "Store data as a table with host+table: or host+csv:, or as a series with host+series:.",
      });
    }
    // A stat already read the versions; a glob match did not.
    const versions = (m as { versions?: VersionInfo[] }).versions ?? (await view.versions(m.parentId, m.nodeId));
    let chosen = versions;
    if (m.entryType === "file:table" || opts.version !== undefined) {
      const v = opts.version === undefined ? versions[versions.length - 1] : versions.find((x) => x.version === opts.version);
      if (!v) throw new NotFoundError(`Version ${opts.version} of "${m.path}"`, `It has versions 1 to ${versions[versions.length - 1]!.version}.`);
      chosen = [v];
    }
    const files: PayloadFile[] = [];
    const skipped: number[] = [];
    for (const v of chosen) {
      if (m.entryType === "file:series" && opts.range && !overlaps(opts.range, v.minEventTime, v.maxEventTime)) {
        skipped.push(v.version);
        continue;
      }
      const hostPath = view.payloadPath(v);
      if (hostPath === undefined) throw new PondError("not_local", `"${m.path}" version ${v.version} has no payload file to scan`, { kind: "integrity" });
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
    view.checkPayloads(files.map((f) => ({ hostPath: f.hostPath, sha256: f.sha256, size: f.size, label: `"${m.path}" version ${f.version}` })));
    const tsCol = chosen[chosen.length - 1]?.attributes.timestamp_column;
    const newest = chosen[chosen.length - 1]?.attributes;
    out.push({
      path: m.path,
      entryType: m.entryType,
      files,
      skipped,
      timestampColumn: typeof tsCol === "string" ? tsCol : undefined,
      ...(m.entryType === "file:series" && newest?.newest_row_per_time === true ? { newestRowPerTime: true } : {}),
    });
  }
  if (out.length === 0) throw new NotFoundError(`A table or series matching "${pattern}"`, "Check it with `pond list -l`.");
  return out;
}
