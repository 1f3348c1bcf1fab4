/**
 * Deduplication for at-least-once senders: a row whose key (the values of the key
 * columns) was already seen within the window is dropped. The window is of event time:
 * keys are kept while their row's time is within `windowUs` of the newest event time seen
 * for the destination; older keys are forgotten, which bounds the memory. A row older than
 * the window's start is not in it: ingester.ts checks such a row against the committed rows
 * near its event time (`Destination.committedKeysBetween`), because a sender that lost its
 * acknowledgements in a crash re-sends everything after the last one it saw, however far
 * that reaches back in event time. A destination without a time column uses arrival time.
 *
 * What is seen survives a crash: the keys of rows in the write-ahead file come back with
 * its replay, and those of rows already committed from the versions whose event times
 * reach into the window (ingester.ts loads them when a destination is first used).
 */
export class DedupWindow {
  private readonly seen = new Map<string, number>();
  private newest = Number.NEGATIVE_INFINITY;

  constructor(
    readonly columns: readonly string[],
    readonly windowUs: number,
  ) {}

  /** The key of a row of normalized values, by column name. */
  keyOf(row: Record<string, unknown>): string {
    return this.keyOfValues(this.columns.map((c) => row[c] ?? null));
  }

  /** The key of the key columns' normalized values, in the order of `columns`. */
  keyOfValues(values: readonly unknown[]): string {
    return JSON.stringify(values);
  }

  /** True when `key` is within the window (a duplicate). */
  has(key: string): boolean {
    return this.seen.has(key);
  }

  /** Records `key` at event time `timeUs`. */
  add(key: string, timeUs: number): void {
    const old = this.seen.get(key);
    if (old === undefined || old < timeUs) this.seen.set(key, timeUs);
    if (timeUs > this.newest) this.newest = timeUs;
  }

  /** Forgets keys older than the window; called after each flush, so memory is bounded by the window's rows. */
  evict(): void {
    const horizon = this.newest - this.windowUs;
    for (const [k, t] of this.seen) if (t < horizon) this.seen.delete(k);
  }

  get size(): number {
    return this.seen.size;
  }

  /** The newest event time seen (µs), or -Infinity. */
  get newestUs(): number {
    return this.newest;
  }

  /** True when a committed row near event time `timeUs` had this key: `near` maps key → event times. */
  nearCommitted(near: ReadonlyMap<string, readonly number[]>, key: string, timeUs: number): boolean {
    const times = near.get(key);
    return times !== undefined && times.some((t) => Math.abs(t - timeUs) <= this.windowUs);
  }

  /** The start of the window (µs), or -Infinity when nothing was seen. */
  get start(): number {
    return this.newest - this.windowUs;
  }
}
