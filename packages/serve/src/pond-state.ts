/**
 * The pond as the server sees it: one `Pond` held open for the process, and the newest
 * committed view, checked on every request so commits made by other `pond` commands are
 * seen without a restart. The check is a stat of `data/_delta_log` (a commit adds a file,
 * which changes the folder's mtime); only when that changed is the log listed and, when
 * its newest version moved, a new view read (the Pond's caches of decoded partitions are
 * kept across views). Measured in bench/serve-query.bench.ts.
 *
 * When the pond cannot be read (its folder removed or damaged under the server) every
 * call fails with PondUnavailableError, and the next call tries again from scratch.
 */
import { statSync } from "node:fs";
import { join } from "node:path";
import { PondError } from "@pond/diagnostics";
import { readCommit } from "@pond/oplog";
import { Pond } from "@pond/steward";
import type { TLogView } from "@pond/tlogfs";
import { PondUnavailableError } from "./errors.ts";

export interface PondNow {
  readonly pond: Pond;
  /** The newest committed transaction sequence (the data log's version). */
  readonly seq: number;
  /** A read-only view at `seq`. */
  readonly view: TLogView;
}

export class PondState {
  private pond: Pond | undefined;
  private now: PondNow | undefined;
  private logStamp = "";
  /** Commits seen since the server started (a new newest version, however many it skipped count as their difference). */
  commitsSeen = 0;
  /** When the newest commit was first seen (ms since the epoch). */
  lastCommitSeenAt: number | undefined;

  constructor(readonly dir: string) {}

  /** The newest committed state; PondUnavailableError when the pond cannot be read. */
  async current(): Promise<PondNow> {
    try {
      return await this.refresh();
    } catch (e) {
      this.pond = undefined;
      this.now = undefined;
      this.logStamp = "";
      if (e instanceof PondUnavailableError) throw e;
      if (e instanceof PondError || isFsError(e)) throw new PondUnavailableError(this.dir, e instanceof Error ? e.message : String(e));
      throw e;
    }
  }

  /**
   * `current()`, then a read of the newest commit file itself (~1 ms): what `/health`
   * asks, so a commit damaged in place (which leaves the folder's stamp alone) is seen.
   */
  async check(): Promise<PondNow> {
    this.logStamp = "";
    const now = await this.current();
    try {
      await readCommit(now.pond.persistence.store, now.seq);
    } catch (e) {
      this.pond = undefined;
      this.now = undefined;
      if (e instanceof PondError || isFsError(e)) throw new PondUnavailableError(this.dir, e instanceof Error ? e.message : String(e));
      throw e;
    }
    return now;
  }

  private async refresh(): Promise<PondNow> {
    this.pond ??= Pond.open(this.dir);
    const pond = this.pond;
    const stamp = logStamp(pond.paths.data, Date.now());
    if (this.now && stamp === this.logStamp) return this.now;
    const seq = await pond.seq();
    if (seq < 0) throw new PondUnavailableError(this.dir, "its data log has no commits (data/_delta_log is missing or empty)");
    if (this.now && seq === this.now.seq) {
      this.logStamp = stamp;
      return this.now;
    }
    const view = await pond.view();
    if (this.now && view.seq > this.now.seq) {
      this.commitsSeen += view.seq - this.now.seq;
      this.lastCommitSeenAt = Date.now();
    }
    this.now = { pond, seq: view.seq, view };
    this.logStamp = stamp;
    return this.now;
  }
}

/**
 * The log folder's identity and mtime: equal while no file was added or removed in it.
 * The kernel stamps mtimes from a coarse clock (ms), so a commit in the same tick as an
 * earlier one can leave it unchanged: a folder changed in the last second gives a stamp
 * that never matches (the log is listed each time until it has been still for a second).
 */
function logStamp(dataDir: string, nowMs: number): string {
  const st = statSync(join(dataDir, "_delta_log"), { bigint: true });
  if (nowMs - Number(st.mtimeMs) < 1000) return `recent:${nowMs}:${Math.random()}`;
  return `${st.dev}:${st.ino}:${st.mtimeNs}:${st.ctimeNs}`;
}

function isFsError(e: unknown): boolean {
  return (
    typeof e === "object" && e !== null && typeof (e as NodeJS.ErrnoException).code === "string" && typeof (e as NodeJS.ErrnoException).syscall === "string"
  );
}
