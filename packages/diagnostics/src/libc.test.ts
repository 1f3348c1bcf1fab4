import { expect, test } from "bun:test";
import { closeSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EWOULDBLOCK, LOCK_EX, LOCK_NB, LOCK_UN, flock, isattyLibc } from "./libc.ts";

test("flock() takes a free lock, reports EWOULDBLOCK when another descriptor holds it, and a bad descriptor's own errno", () => {
  const dir = mkdtempSync(join(tmpdir(), "pond-libc-"));
  try {
    const a = openSync(join(dir, "lock"), "a+");
    const b = openSync(join(dir, "lock"), "a+");
    expect(flock(a, LOCK_EX | LOCK_NB)).toEqual({ ok: true });
    expect(flock(b, LOCK_EX | LOCK_NB)).toEqual({ ok: false, errno: EWOULDBLOCK });
    expect(flock(a, LOCK_UN)).toEqual({ ok: true });
    expect(flock(b, LOCK_EX | LOCK_NB)).toEqual({ ok: true });
    closeSync(a);
    closeSync(b);
    // EBADF (9): a failure that is not "somebody else holds it".
    expect(flock(b, LOCK_EX | LOCK_NB)).toEqual({ ok: false, errno: 9 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("isattyLibc() is false for a regular file", () => {
  const dir = mkdtempSync(join(tmpdir(), "pond-libc-"));
  try {
    const fd = openSync(join(dir, "f"), "w");
    expect(isattyLibc(fd)).toBe(false);
    closeSync(fd);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
