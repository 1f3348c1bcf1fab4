/**
 * DuckDB sessions for `POST /sql`. Sandboxing stays per query, as `pond query` does it:
 * each query gets a fresh session that allows only the payload files it names and is
 * then locked (a locked session cannot be reopened to other files), and is closed after.
 * What the server keeps resident is the next session, already started: opening DuckDB
 * (~40 ms on this machine, see README "pond serve") is then paid between requests, not
 * inside one. One spare is kept; concurrent queries beyond it open their own.
 */
import { openSessionEarly, type QuerySession } from "@pond/tlogfs";

/**
 * Queries running at once. Each has a DuckDB of its own, with DuckDB's default threads (the
 * cores) and memory limit (80% of RAM): without a bound, a burst of heavy queries would
 * oversubscribe both. Beyond it a query waits its turn (the wait counts toward its time limit).
 */
export const MAX_RUNNING_QUERIES = 4;

export class SessionPool {
  private spare: Promise<QuerySession> | undefined;
  private closed = false;
  private running = 0;
  private readonly waiting: (() => void)[] = [];

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

  /** Closes the spare; sessions taken are their takers' to close. */
  async close(): Promise<void> {
    this.closed = true;
    const s = this.spare;
    this.spare = undefined;
    (await s?.catch(() => undefined))?.close();
  }
}
