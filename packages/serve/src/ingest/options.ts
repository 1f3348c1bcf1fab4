/**
 * The ingest flags (`pond ingest`, and `pond serve` for its ingest part) as IngestOptions:
 * sizes like 32MiB, durations like 60s or 5m, key columns as a comma list.
 */
import { durationMs, sizeBytes } from "@pond/steward";
import type { IngestOptions } from "../part.ts";
import { IngestOptionError } from "./errors.ts";

export const INGEST_DEFAULTS = { flushRows: 10_000, flushBytes: 32 * 1024 * 1024, flushIntervalMs: 60_000, dedupWindowMs: 5 * 60_000 } as const;

/** The flags as typed (strings), each optional. */
export interface IngestFlags {
  flushRows?: number;
  flushBytes?: string;
  flushInterval?: string;
  dedupKey?: string;
  dedupWindow?: string;
}

export function ingestOptionsFrom(f: IngestFlags): IngestOptions {
  const key = f.dedupKey === undefined ? undefined : parseKey(f.dedupKey, "dedup-key");
  return {
    flushRows: f.flushRows ?? INGEST_DEFAULTS.flushRows,
    flushBytes: f.flushBytes === undefined ? INGEST_DEFAULTS.flushBytes : parseBytes("flush-bytes", f.flushBytes),
    flushIntervalMs: f.flushInterval === undefined ? INGEST_DEFAULTS.flushIntervalMs : parseMs("flush-interval", f.flushInterval),
    dedupWindowMs: f.dedupWindow === undefined ? INGEST_DEFAULTS.dedupWindowMs : parseMs("dedup-window", f.dedupWindow),
    ...(key ? { dedupKey: key } : {}),
  };
}

/** Key columns from "a,b"; an empty list is an error naming the flag. */
export function parseKey(text: string, flag: string): string[] {
  const cols = text
    .split(",")
    .map((c) => c.trim())
    .filter((c) => c !== "");
  if (cols.length === 0) throw new IngestOptionError(flag, text, "a comma-separated list of column names");
  return cols;
}

/** A duration like 500ms, 10s, 5m, 1h (a bare number is seconds). */
export function parseMs(flag: string, text: string): number {
  const ms = durationMs(text, { bare: "s" });
  if (ms === undefined) throw new IngestOptionError(flag, text, "a duration like 500ms, 10s, 5m or 1h");
  if (!(ms > 0)) throw new IngestOptionError(flag, text, "a duration above 0");
  return ms;
}

/** A size like 32MiB, 64MB, 1g or a number of bytes. */
export function parseBytes(flag: string, text: string): number {
  const bytes = sizeBytes(text);
  if (bytes === undefined) throw new IngestOptionError(flag, text, "a size like 32MiB, 64MB or a number of bytes");
  return bytes;
}
