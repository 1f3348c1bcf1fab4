/**
 * DuckDB sessions for `POST /sql`. Sandboxing stays per query, as `pond query` does it:
 * each query gets a fresh session that allows only the payload files it names and is
 * then locked (a locked session cannot be reopened to other files), and is closed after.
 * What the server keeps resident is the next session, already started: opening DuckDB
 * (~40 ms on this machine, see README "pond serve") is then paid between requests, not
 * inside one. One spare is kept; concurrent queries beyond it open their own.
 *
 * A locked session is also kept after a query that went well, under the key of what it
 * was locked to (the transaction, the pond paths in their order, the time range): a later
 * query naming exactly those sources may run in it, since it is allowed exactly the files
 * that query names, as a fresh one would be. A dashboard polling the same sources then
 * skips opening, registering and locking, and DuckDB's own file cache stays warm. A
 * session is used by one query at a time; at most MAX_PARKED are kept, the oldest closed.
 */
import { openSessionEarly, type QuerySession } from "@pond/tlogfs";

/**
 * Queries running at once. Each has a DuckDB of its own, with DuckDB's default threads (the
 * cores) and memory limit (80% of RAM): without a bound, a burst of heavy queries would
 * oversubscribe both. Beyond it a query waits its turn (the wait counts toward its time limit).
 */
export const MAX_RUNNING_QUERIES = 4;

/** Locked sessions kept for a next query over the same sources. */
export const MAX_PARKED = 4;

export class SessionPool {
  private spare: Promise<QuerySession> | undefined;
  private closed = false;
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly parked: { key: string; session: QuerySession }[] = [];
  /** Queries that ran in a kept session / in a fresh one. */
  reused = 0;
  fresh = 0;

  constructor(
    private readonly keepSpare = true,
    private readonly maxRunning = MAX_RUNNING_QUERIES,
  ) {
    if (keepSpare) this.spare = openSessionEarly();
  }

  /** Waits for a turn to run a query; call the returned function once when it is over. */
  async slot(): Promise<() => void> {
    if (this.running >= this.maxRunning) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next)
        next(); // the turn passes on: `running` stays the same
      else this.running--;
    };
  }

  /** Queries running now, and waiting for a turn. */
  load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }

  /** A fresh, unlocked session (possibly still opening); the caller closes it. */
  take(): Promise<QuerySession> {
    const s = this.spare ?? openSessionEarly();
    this.spare = undefined;
    // The next one starts opening after this request's own work has begun.
    if (this.keepSpare && !this.closed) setTimeout(() => this.refill(), 0);
    return s;
  }

  private refill(): void {
    if (!this.closed && !this.spare) this.spare = openSessionEarly();
  }

  /** A kept session locked to `key`, taken out of the pool (the caller parks or closes it after). */
  takeParked(key: string): QuerySession | undefined {
    for (let i = this.parked.length - 1; i >= 0; i--) {
      if (this.parked[i]!.key !== key) continue;
      const [p] = this.parked.splice(i, 1);
      this.reused++;
      return p!.session;
    }
    this.fresh++;
    return undefined;
  }

  /**
   * Keeps a session locked to `key` (which starts with its transaction and a NUL) after a
   * query that went well; sessions of other transactions, and the oldest past MAX_PARKED, are closed.
   */
  park(key: string, session: QuerySession): void {
    if (this.closed) {
      session.close();
      return;
    }
    // Keys start with the transaction: sessions of an older one will never match again.
    const txn = key.slice(0, key.indexOf("\u0000") + 1);
    for (let i = this.parked.length - 1; i >= 0; i--) if (!this.parked[i]!.key.startsWith(txn)) this.parked.splice(i, 1)[0]!.session.close();
    this.parked.push({ key, session });
    while (this.parked.length > MAX_PARKED) this.parked.shift()!.session.close();
  }

  /** Sessions kept now. */
  parkedCount(): number {
    return this.parked.length;
  }

  /** Closes the spare and the kept sessions; sessions taken are their takers' to close. */
  async close(): Promise<void> {
    for (const p of this.parked.splice(0)) p.session.close();
    this.closed = true;
    const s = this.spare;
    this.spare = undefined;
    (await s?.catch(() => undefined))?.close();
  }
}
