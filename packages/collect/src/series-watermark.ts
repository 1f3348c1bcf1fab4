import { NotFoundError, type WD } from "@pond/tinyfs";

/**
 * The newest event time a series holds (µs), from the max_event_time each version
 * recorded when it was written: no data is scanned. null when the series does not
 * exist or holds no rows.
 */
export async function seriesWatermark(wd: WD, path: string): Promise<bigint | null> {
  let versions: NonNullable<Awaited<ReturnType<WD["stat"]>>["versions"]>;
  try {
    versions = (await wd.stat(path)).versions ?? [];
  } catch (e) {
    if (e instanceof NotFoundError) return null;
    throw e;
  }
  let max: bigint | null = null;
  for (const v of versions) if (v.maxEventTime != null && (max === null || v.maxEventTime > max)) max = v.maxEventTime;
  return max;
}
