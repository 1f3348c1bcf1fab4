/**
 * The ingest flags of `pond serve` (and `pond ingest`) as IngestOptions: sizes like
 * `32MiB`, durations like `10s`, parsed by steward's maintenance parsers so every
 * size and duration flag of the CLI reads the same way.
 */
import { parseDuration, parseSize } from "@pond/steward";
import type { IngestOptions } from "./part.ts";
import { BadIngestFlagError } from "./errors.ts";

export const INGEST_DEFAULTS = { flushRows: 10_000, flushBytes: "32MiB", flushInterval: "60s", dedupWindow: "5m" } as const;

export interface IngestFlags {
  flushRows?: number | undefined;
  flushBytes?: string | undefined;
  flushInterval?: string | undefined;
  dedupKey?: string | undefined;
  dedupWindow?: string | undefined;
}

/** The flags (defaults filled in) as IngestOptions; a bad size or duration is a usage error naming the flag. */
export function ingestOptions(flags: IngestFlags): IngestOptions {
  const key = flags.dedupKey
    ?.split(",")
    .map((k) => k.trim())
    .filter((k) => k !== "");
  if (flags.dedupKey !== undefined && key!.length === 0)
    throw new BadIngestFlagError("--dedup-key", flags.dedupKey, "column names separated by commas, e.g. device,timestamp");
  return {
    flushRows: flags.flushRows ?? INGEST_DEFAULTS.flushRows,
    flushBytes: parseSize("--flush-bytes", flags.flushBytes ?? INGEST_DEFAULTS.flushBytes),
    flushIntervalMs: parseDuration("--flush-interval", flags.flushInterval ?? INGEST_DEFAULTS.flushInterval),
    ...(key === undefined ? {} : { dedupKey: key }),
    dedupWindowMs: parseDuration("--dedup-window", flags.dedupWindow ?? INGEST_DEFAULTS.dedupWindow),
  };
}
