/**
 * How the server is put together: `pond serve` owns the listener, authentication,
 * `/health`, `/status`, `/metrics`, `/sql` and `/`; other parts (streaming ingest) plug in
 * as a ServerPart and answer the routes they own. `pond ingest` drives the same ingest
 * code without a listener.
 */
import type { Registry } from "./metrics.ts";

export interface ServerPart {
  /** A short name for logs and `/status` ("ingest"). */
  readonly name: string;
  /** Answers a request this part owns; undefined when the route is not its. Authentication is checked before. */
  handle(req: Request, url: URL): Promise<Response | undefined>;
  /** What `/status` shows for this part (buffers, last flush, per-stream counts). */
  status(): Record<string, unknown>;
  /** Graceful shutdown: stop taking work, flush every buffer, commit. */
  close(): Promise<void>;
}

/** What a part is given when the server starts. */
export interface PartContext {
  /** The pond's folder (as `pond --pond` resolves it). */
  readonly pondDir: string;
  /** The server's one metrics registry. */
  readonly metrics: Registry;
  /** The command line the server was started with (what the parts' commits record in `pond log`). */
  readonly command?: readonly string[];
}

/** The ingest thresholds and dedup settings, as the `pond serve` and `pond ingest` flags give them. */
export interface IngestOptions {
  /** Flush a destination's buffer at this many rows (default 10,000). */
  readonly flushRows: number;
  /** ... or this many bytes of accepted input (default 32 MiB). */
  readonly flushBytes: number;
  /** ... or this long after its first unflushed row, in ms (default 60,000). */
  readonly flushIntervalMs: number;
  /** Dedup key columns for every stream (a request's `?key=` overrides); none: no dedup. */
  readonly dedupKey?: readonly string[];
  /** The dedup window in ms of event time (default 5 min). */
  readonly dedupWindowMs: number;
}
