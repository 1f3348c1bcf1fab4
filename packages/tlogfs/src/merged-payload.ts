/**
 * Merged series payloads: how a version whose rows were rewritten into a merged file
 * keeps its identity.
 *
 * A merged file is one Parquet file holding the rows of several adjacent versions of one
 * series, sorted by the time column, each row marked with its version in the hidden
 * column `__pond_version` (readers never show it). The version's row in the log then
 * names the merged file (its `sha256` and `size` are the merged file's, so everything
 * that follows payloads by their rows — push, restore, verify, fsck, cleanup's
 * reachability — follows the merged file with no change), and its attributes keep a
 * record of the payload the version was first written as (`pond_merge`: that payload's
 * sha256 and size), which is what `describe`, `list -l` and `diff` show: the version
 * looks exactly as before. Rows of snapshots before the merge still name the old files.
 */
import type { VersionInfo } from "@pond/tinyfs";

/** The attribute key of a merged version's record. */
export const MERGE_ATTRIBUTE = "pond_merge";

/** The hidden column of a merged file that holds each row's version. */
export const VERSION_COLUMN = "__pond_version";

/** Column names a series must not use for its versions to be merged (the hidden ones). */
export const RESERVED_COLUMNS: ReadonlySet<string> = new Set([VERSION_COLUMN, "__pond_file"]);

/** The payload a merged version was first written as. */
export interface MergeRecord {
  sha256: string;
  size: number;
}

/** Where a version's rows are: its own payload, or a merged file (then `mergedVersion` is the value of the hidden column). */
export interface StoredPayload {
  sha256: string;
  size: number;
  mergedVersion?: number;
}

const STORED = Symbol("pond.storedPayload");

/** `info` with where its rows are stored (kept beside it, not among its fields). */
export function withStored(info: VersionInfo, stored: StoredPayload): VersionInfo {
  Object.defineProperty(info, STORED, { value: stored, enumerable: true });
  return info;
}

/** Where the rows of version `info` are stored (its own payload unless it was merged). */
export function storedOf(info: VersionInfo): StoredPayload {
  return (info as { [STORED]?: StoredPayload })[STORED] ?? { sha256: info.sha256, size: info.size };
}

const MARK = `"${MERGE_ATTRIBUTE}"`;

/**
 * The merge record in a row's attributes text, and the attributes without it; undefined
 * for a version that was never merged (a substring test first: most rows are not).
 */
export function readMergeRecord(attributes: string): { record: MergeRecord; attributes: Record<string, unknown> } | undefined {
  if (!attributes.includes(MARK)) return undefined;
  const all = JSON.parse(attributes) as Record<string, unknown>;
  const rec = all[MERGE_ATTRIBUTE] as Partial<MergeRecord> | undefined;
  if (!rec || typeof rec.sha256 !== "string" || typeof rec.size !== "number") return undefined;
  const { [MERGE_ATTRIBUTE]: _, ...rest } = all;
  return { record: { sha256: rec.sha256, size: rec.size }, attributes: rest };
}

/** The attributes of a row moved into a merged file: its own, plus the record of its first payload (kept from an earlier merge). */
export function mergedRowAttributes(attributes: string, own: MergeRecord): string {
  if (readMergeRecord(attributes)) return attributes;
  const all = attributes ? (JSON.parse(attributes) as Record<string, unknown>) : {};
  return JSON.stringify({ ...all, [MERGE_ATTRIBUTE]: { sha256: own.sha256, size: own.size } });
}
