/**
 * Which Delta protocols this reader can replay. A log reader that only lists data
 * files must still refuse features that change what those files mean: deletion
 * vectors hide rows, column mapping renames columns. Reading such a table as if
 * they were absent would return wrong data, so it is an error.
 */
import type { Protocol } from "./actions.ts";
import { CorruptLogError, UnsupportedFeatureError } from "./errors.ts";

export const MAX_READER_VERSION = 3;

/**
 * Reader features (protocol version 3) that do not change how data files are read.
 * `vacuumProtocolCheck` only constrains VACUUM. Everything else, including
 * `timestampNtz` and `v2Checkpoint`, is refused until it is implemented and tested.
 */
export const SUPPORTED_READER_FEATURES: ReadonlySet<string> = new Set(["vacuumProtocolCheck"]);

/** Throws UnsupportedFeatureError unless this reader handles `protocol`; `file` names where it came from. */
export function checkReadable(protocol: Protocol, url: string, file: string): void {
  const v = protocol.minReaderVersion;
  if (!Number.isInteger(v) || v < 1) throw new CorruptLogError(file, `has a protocol with an invalid minReaderVersion (${JSON.stringify(v)})`);
  if (v > MAX_READER_VERSION) {
    throw new UnsupportedFeatureError(
      url,
      `readerVersion${v}`,
      `it needs Delta reader version ${v}, and this reader supports versions 1 to ${MAX_READER_VERSION}`,
    );
  }
  // Reader version 2 exists only for column mapping.
  if (v === 2) throw new UnsupportedFeatureError(url, "columnMapping");
  if (v === 3) {
    const features = protocol.readerFeatures ?? [];
    if (!Array.isArray(features)) throw new CorruptLogError(file, "has a protocol whose readerFeatures is not a list");
    for (const f of features) if (!SUPPORTED_READER_FEATURES.has(f)) throw new UnsupportedFeatureError(url, String(f));
  }
}
