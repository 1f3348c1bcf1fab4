import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BadSettingError, PondLockedError } from "./errors.ts";
import { acquireWriteLock, lockTimeoutMs } from "./write-lock.ts";

const saved = process.env.POND_LOCK_TIMEOUT;
afterEach(() => {
  if (saved === undefined) delete process.env.POND_LOCK_TIMEOUT;
  else process.env.POND_LOCK_TIMEOUT = saved;
});

test("acquireWriteLock() waits for a held lock, then throws PondLockedError naming the holder; release() lets the next one in", async () => {
  const dir = mkdtempSync(join(tmpdir(), "pond-lock-"));
  try {
    const lock = join(dir, "lock");
    const first = await acquireWriteLock(lock, dir, 0, "first");
    const e = await acquireWriteLock(lock, dir, 50, "second").then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(PondLockedError);
    expect([(e as PondLockedError).code, (e as PondLockedError).kind]).toEqual(["pond_locked", "busy"]);
    expect((e as Error).message).toContain(`pid ${process.pid}`);
    first.release();
    (await acquireWriteLock(lock, dir, 0, "third")).release();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("lockTimeoutMs() reads POND_LOCK_TIMEOUT in seconds and names a bad value as BadSettingError", () => {
  process.env.POND_LOCK_TIMEOUT = "2.5";
  expect(lockTimeoutMs()).toBe(2500);
  process.env.POND_LOCK_TIMEOUT = "soon";
  expect(() => lockTimeoutMs()).toThrow(BadSettingError);
  try {
    lockTimeoutMs();
  } catch (e) {
    expect([(e as BadSettingError).code, (e as BadSettingError).kind]).toEqual(["bad_setting", "usage"]);
    expect((e as Error).message).toBe('POND_LOCK_TIMEOUT="soon" is not a number of seconds, at least 0');
  }
});
