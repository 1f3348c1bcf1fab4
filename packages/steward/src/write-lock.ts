import { dlopen, FFIType } from "bun:ffi";
import { closeSync, ftruncateSync, openSync, readFileSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { PondLockedError } from "./errors.ts";

const LOCK_EX = 2;
const LOCK_NB = 4;
const EWOULDBLOCK_RESULT = -1;

let libc: { symbols: { flock(fd: number, op: number): number } } | undefined;
function flock(fd: number, op: number): number {
  libc ??= dlopen("libc.so.6", { flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 } });
  return libc.symbols.flock(fd, op);
}

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
  while (flock(fd, LOCK_EX | LOCK_NB) === EWOULDBLOCK_RESULT) {
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
  if (!Number.isFinite(n) || n < 0) throw new Error(`POND_LOCK_TIMEOUT="${v}" is not a number of seconds`);
  return n * 1000;
}
