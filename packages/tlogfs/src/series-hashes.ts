import type { VersionInfo } from "@pond/tinyfs";
import { filePartSeriesCache, SERIES_HASHES_FILE, type PartSeries, type PartSeriesCache, type SeriesDerivation } from "./series-part-cache.ts";

/**
 * What an append's duplicate check needs of a series (see cmd's copy.ts): the first
 * HASH_PREFIX hex digits of every version's own payload sha256 and recorded
 * `source_sha256`, one after another. The check reads every version only when one of its
 * hashes starts so (a collector's new version never does).
 *
 * It grows by 12 to 24 bytes a version (1.2 MB at 100,000 versions, 6 MB at a year of
 * one a minute), and only writers' duplicate checks need it, so it is kept apart from the
 * series summary every whole-series read parses (`<part>.series-hashes.json`, see
 * series-part-cache.ts), kept in step with the summary by the same rules: valid for exactly
 * the entry files it names, extended by an append's entry files, followed after a
 * compaction or merge, rebuilt from the rows otherwise. A merge or compaction changes no
 * version's own hash or attributes (`patchHashes` checks that), so following one only
 * appends the versions it added.
 */
export interface SeriesHashes {
  /** The newest version whose hashes are in `prefixes` (versions 1..lastVersion, all of them). */
  lastVersion: number;
  prefixes: string;
}

/** Hex digits of a hash kept in `SeriesHashes.prefixes` (48 bits: a false match once in ~10^14 per pair). */
export const HASH_PREFIX = 12;

/** True when `h` may hold a version whose own payload or recorded source has hash `sha256` (a prefix matched; false means none does). */
export function mayHoldHash(h: SeriesHashes, sha256: string): boolean {
  const p = sha256.slice(0, HASH_PREFIX);
  for (let i = h.prefixes.indexOf(p); i >= 0; i = h.prefixes.indexOf(p, i + 1)) if (i % HASH_PREFIX === 0) return true;
  return false;
}

/** The hash prefixes of a series' versions (ascending, from version 1). */
export function hashesOf(versions: readonly VersionInfo[]): SeriesHashes {
  const h: SeriesHashes = { lastVersion: 0, prefixes: "" };
  extendHashes(h, versions);
  return h;
}

/** Adds `versions` (ascending, all newer than `h.lastVersion`) to `h`. */
export function extendHashes(h: SeriesHashes, versions: readonly VersionInfo[]): void {
  let prefixes = "";
  for (const v of versions) {
    prefixes += hashPrefix(v.sha256);
    const source = v.attributes.source_sha256;
    if (typeof source === "string" && source !== v.sha256) prefixes += hashPrefix(source);
    h.lastVersion = v.version;
  }
  h.prefixes += prefixes;
}

/**
 * `h` after some of its versions' rows changed where they are stored (a merge): `before`
 * and `after` hold those versions' records as they were and are. A version's own hash and
 * attributes stay what they were, so the prefixes do: `h` itself, or undefined (rebuild)
 * when a version's own hash or recorded source changed after all.
 */
export function patchHashes(h: SeriesHashes, before: readonly VersionInfo[], after: readonly VersionInfo[]): SeriesHashes | undefined {
  if (before.length !== after.length) return undefined;
  for (const [i, a] of before.entries()) {
    const b = after[i]!;
    if (a.version !== b.version || a.sha256 !== b.sha256 || a.attributes.source_sha256 !== b.attributes.source_sha256) return undefined;
  }
  return h;
}

/** A hash's first HASH_PREFIX digits, padded so that prefixes stay aligned. */
function hashPrefix(sha256: string): string {
  return sha256.slice(0, HASH_PREFIX).padEnd(HASH_PREFIX, "-");
}

/** Hash prefixes as a kind of per-series derived data (see tlog-view.ts). */
export const SERIES_HASHES: SeriesDerivation<SeriesHashes> = {
  what: "series hashes",
  of: hashesOf,
  extend: extendHashes,
  patch: patchHashes,
};

/** A partition's series' hash prefixes, valid for exactly the entry files named. */
export type PartHashes = PartSeries<SeriesHashes>;
export type SeriesHashCache = PartSeriesCache<SeriesHashes>;

/** 1: `{lastVersion, prefixes}` a series (before, the prefixes were the summary's `hashPrefixes`). */
const FORMAT = 1;

/** A hash-prefix cache in `dir`, one `<part>.series-hashes.json` per partition, replaced atomically; only those of table `tableId` count. */
export function fileSeriesHashCache(dir: string, tableId: string): SeriesHashCache {
  return filePartSeriesCache<SeriesHashes>({ what: "series hashes", dir, ending: SERIES_HASHES_FILE, tableId, format: FORMAT });
}
