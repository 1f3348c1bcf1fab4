import { AmbiguousTimestampColumnError, BadTimeError, BadTimestampColumnError, NoTimestampColumnError } from "../errors.ts";

/** Column names tried, in order, when a series does not name its time column. */
export const TIMESTAMP_CANDIDATES = ["timestamp", "Timestamp", "time", "ts", "datetime", "event_time"] as const;

/**
 * Parses a `--time-start`/`--time-end` value to µs since the epoch (UTC): ISO 8601
 * with or without an offset (without one it is UTC), a date, or epoch seconds.
 */
export function parseTimeBound(s: string, flag: string): bigint {
  if (/^-?\d+(\.\d+)?$/.test(s)) return BigInt(Math.round(Number(s) * 1e6));
  let iso = s.trim();
  // No offset and not a bare date: read it as UTC, not the machine's local time.
  if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(iso)) iso = iso.replace(" ", "T") + "Z";
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) {
    throw new BadTimeError(flag, s);
  }
  const frac = /\.(\d+)/.exec(iso.split(/[T ]/)[1] ?? "")?.[1] ?? "";
  const extraMicros = frac.length > 3 ? BigInt(frac.slice(3, 6).padEnd(3, "0")) : 0n;
  return BigInt(ms) * 1000n + extraMicros;
}

/** A half-open event-time range [start, end) in µs; either end may be open. */
export interface TimeRange {
  start?: bigint;
  end?: bigint;
}

/** True when a version whose events span [min, max] can hold rows in `r`. */
export function overlaps(r: TimeRange, min: bigint | null | undefined, max: bigint | null | undefined): boolean {
  if (min == null || max == null) return true; // no recorded range: it must be read
  if (r.start !== undefined && max < r.start) return false;
  if (r.end !== undefined && min >= r.end) return false;
  return true;
}

/** Picks the time column: the one named, else the first candidate present. */
export function detectTimestampColumn(columns: { name: string; type: string }[], explicit: string | undefined, what: string): { name: string; type: string } {
  if (explicit !== undefined) {
    const c = columns.find((c) => c.name === explicit);
    if (!c) {
      throw new NoTimestampColumnError(
        `${what} has no column "${explicit}"`,
        columns.map((c) => c.name),
        `Its columns are: ${columns.map((c) => c.name).join(", ")}.`,
      );
    }
    return checkTimeType(c, what);
  }
  for (const name of TIMESTAMP_CANDIDATES) {
    const c = columns.find((c) => c.name === name);
    if (c) return checkTimeType(c, what);
  }
  // No known name: the one column of a time type is the event time; several need a choice.
  const timed = columns.filter((c) => TIME_TYPES.test(c.type));
  if (timed.length === 1) return timed[0]!;
  if (timed.length > 1) {
    throw new AmbiguousTimestampColumnError(what, timed);
  }
  throw new NoTimestampColumnError(
    `${what} has no timestamp column (looked for ${TIMESTAMP_CANDIDATES.join(", ")}, and for any DATE or TIMESTAMP column)`,
    columns.map((c) => c.name),
    `Its columns are: ${columns.map((c) => c.name).join(", ")}. Name one with --timestamp-column NAME.`,
  );
}

const TIME_TYPES = /^(TIMESTAMP|TIMESTAMP WITH TIME ZONE|TIMESTAMP_S|TIMESTAMP_MS|TIMESTAMP_NS|TIMESTAMPTZ|DATE)$/;

function checkTimeType(c: { name: string; type: string }, what: string): { name: string; type: string } {
  if (!TIME_TYPES.test(c.type)) {
    throw new BadTimestampColumnError(what, c.name, c.type);
  }
  return c;
}
