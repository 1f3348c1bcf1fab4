/**
 * Counts the server's client connections as well as Bun lets us. Bun (1.x) exposes no list or
 * count of open connections (`pendingRequests` counts requests being answered, and
 * `closeIdleConnections()` closes them as it counts them). What it does give: each request's
 * client address and port (`server.requestIP`), one port per TCP connection; and it closes a
 * keep-alive connection that has been idle for `idleTimeout` seconds, rounded up to its 4 s
 * timer tick (measured with Bun 1.4.5: idleTimeout 1 or 3 closed after 4.0 s, 5 after 8.0 s,
 * 9 after 12.0 s). So the connections that are answering a request, or finished one less than
 * that rounded time (plus 1 s of slack) ago, are an upper bound on the open connections, and
 * the count is exact for every connection idle longer: a client that closed its connection
 * early is still counted until then. A response body still being sent after its stream was
 * read (a large static file) is counted from when the handler returned it.
 */
import { durationMs } from "@pond/steward";
import { BadIdleTimeoutError } from "./errors.ts";

export interface ConnectionCounts {
  /** Connections answering a request, or that answered one within `countedForSeconds`: an upper bound on those open. */
  openAtMost: number;
  /** Connections with a request being answered now (its body streaming included). */
  answering: number;
  /** The server's idle timeout: a keep-alive connection idle this long is closed. */
  idleTimeoutSeconds: number;
  /** How long after its last answer a connection is still counted (the idle timeout rounded up to Bun's 4 s tick, plus 1 s). */
  countedForSeconds: number;
}

interface Seen {
  /** Requests on it being answered. */
  busy: number;
  /** When its last answer ended (ms, the tracker's clock). */
  last: number;
}

/** `--idle-timeout`: a duration of 1 to 255 whole seconds (Bun's range for HTTP), as seconds. */
export function parseIdleTimeout(text: string): number {
  const ms = durationMs(text);
  if (ms === undefined || ms % 1000 !== 0 || ms < 1000 || ms > 255_000) throw new BadIdleTimeoutError(text);
  return ms / 1000;
}

/** Bun checks idle timeouts on a 4 s tick. */
const TICK_SECONDS = 4;

/** How long after its last answer Bun may still hold a connection open with `idleTimeout` seconds. */
export function closedAfterSeconds(idleTimeoutSeconds: number): number {
  return Math.ceil(idleTimeoutSeconds / TICK_SECONDS) * TICK_SECONDS + 1;
}

/** Tracks client connections by `address:port` (see the module comment). */
export class ConnectionTracker {
  private readonly seen = new Map<string, Seen>();
  private readonly windowMs: number;
  private sincePrune = 0;

  /** `now` is a millisecond clock (injectable for tests). */
  constructor(
    readonly idleTimeoutSeconds: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.windowMs = closedAfterSeconds(idleTimeoutSeconds) * 1000;
  }

  /** A request on connection `key` (`address:port`) starts being answered. */
  begin(key: string): void {
    const s = this.seen.get(key);
    if (s) s.busy++;
    else this.seen.set(key, { busy: 1, last: this.now() });
    // Connections come and go for as long as the server runs: forget the expired now and then.
    if (++this.sincePrune >= 1024) this.prune();
  }

  /** The answer to a request on `key` is done (its body sent or cancelled). */
  end(key: string): void {
    const s = this.seen.get(key);
    if (!s) return;
    s.busy = Math.max(0, s.busy - 1);
    s.last = this.now();
  }

  /** The counts now (forgets connections past the window). */
  counts(): ConnectionCounts {
    this.prune();
    let answering = 0;
    for (const s of this.seen.values()) if (s.busy > 0) answering++;
    return {
      openAtMost: this.seen.size,
      answering,
      idleTimeoutSeconds: this.idleTimeoutSeconds,
      countedForSeconds: this.windowMs / 1000,
    };
  }

  private prune(): void {
    this.sincePrune = 0;
    const t = this.now();
    for (const [k, s] of this.seen) if (s.busy === 0 && t - s.last >= this.windowMs) this.seen.delete(k);
  }
}
