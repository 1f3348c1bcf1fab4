import { closeSync, ftruncateSync, openSync, readFileSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { EINTR, EWOULDBLOCK, LOCK_EX, LOCK_NB, flock } from "@pond/diagnostics";
import { BadSettingError, LockFailedError, PondLockedError } from "./errors.ts";

/** A held write lock; `release` is idempotent. */
export interface HeldLock {
  release(): void;
}

/**
 * Takes the pond's write lock: an exclusive `flock(2)` on `control/lock`. The kernel
 * drops it when the process dies, even by SIGKILL, so a crash never leaves a stale
 * lock. Correctness does not depend on it (commits are put-if-absent); it only keeps
 * writers from racing needlessly. Waits up to `timeoutMs`, then throws PondLockedError
 * naming the holder recorded in the file.
 */
export async function acquireWriteLock(lockPath: string, pondDir: string, timeoutMs: number, what: string): Promise<HeldLock> {
  const fd = openSync(lockPath, "a+");
  const t0 = Date.now();
  let delay = 5;
  for (;;) {
    const r = flock(fd, LOCK_EX | LOCK_NB);
    if (r.ok) break;
    if (r.errno === EINTR) continue;
    // Only EWOULDBLOCK means another process holds it; anything else (ENOLCK on a network
    // file system, EBADF…) is a failure to name, not a lock to wait for.
    if (r.errno !== EWOULDBLOCK) {
      closeSync(fd);
      throw new LockFailedError(lockPath, r.errno);
    }
    if (Date.now() - t0 >= timeoutMs) {
      const holder = readFileSync(lockPath, "utf8").trim() || "another process";
      closeSync(fd);
      throw new PondLockedError(pondDir, holder, Date.now() - t0);
    }
    await Bun.sleep(delay + Math.random() * delay);
    delay = Math.min(delay * 2, 200);
  }
  ftruncateSync(fd, 0);
  writeSync(fd, `pid ${process.pid} on ${hostname()} (${what}) since ${new Date().toISOString()}\n`, 0);
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      ftruncateSync(fd, 0);
      closeSync(fd); // closing the last descriptor drops the flock
    },
  };
}

/** The lock timeout from $POND_LOCK_TIMEOUT (seconds), default 60 s. */
export function lockTimeoutMs(): number {
  const v = process.env.POND_LOCK_TIMEOUT;
  if (v === undefined || v === "") return 60_000;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new BadSettingError("POND_LOCK_TIMEOUT", v, "a number of seconds, at least 0", "60");
  return n * 1000;
}
