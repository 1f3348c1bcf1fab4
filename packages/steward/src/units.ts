/**
 * Sizes and durations as people type them in flags and settings (`32MiB`, `64MB`, `10s`,
 * `30d`): one reading for every command; each caller names its own error.
 */

const SIZE_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
};

/** Bytes of a size like `128MiB`, `64MB`, `1g` or a bare number of bytes; undefined when it is not one (or under 1 byte). */
export function sizeBytes(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined || Number(m[1]) * unit < 1) return undefined;
  return Math.floor(Number(m[1]) * unit);
}

const TIME_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * Milliseconds of a duration like `500ms`, `10s`, `5m`, `1h`, `30d`, `2w`; undefined when it
 * is not one. A bare number is read in `bare` (e.g. "s") when given, else refused.
 */
export function durationMs(text: string, opts: { bare?: "s" } = {}): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)?$/.exec(text.trim());
  if (!m) return undefined;
  const unit = m[2] ?? opts.bare;
  return unit === undefined ? undefined : Number(m[1]) * TIME_UNITS[unit]!;
}
