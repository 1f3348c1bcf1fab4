/**
 * DuckDB sessions for `POST /sql`. Sandboxing stays per query, as `pond query` does it:
 * each query gets a fresh session that allows only the payload files it names and is
 * then locked (a locked session cannot be reopened to other files), and is closed after.
 * What the server keeps resident is the next session, already started: opening DuckDB
 * (~40 ms on this machine, see README "pond serve") is then paid between requests, not
 * inside one. One spare is kept; concurrent queries beyond it open their own.
 */
import { openSessionEarly, type QuerySession } from "@pond/tlogfs";

export class SessionPool {
  private spare: Promise<QuerySession> | undefined;
  private closed = false;

  constructor(private readonly keepSpare = true) {
    if (keepSpare) this.spare = openSessionEarly();
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
