import { expect, test } from "bun:test";
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EWOULDBLOCK, LOCK_EX, LOCK_NB, LOCK_UN, flock, isattyLibc, startWriteback } from "./libc.ts";

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

test("startWriteback() starts writeback of a regular file's range, and is false for a descriptor that cannot take it", () => {
  const dir = mkdtempSync(join(tmpdir(), "pond-libc-"));
  try {
    const fd = openSync(join(dir, "f"), "w");
    writeSync(fd, new Uint8Array(1 << 20));
    expect(startWriteback(fd, 0, 1 << 20)).toBe(process.platform === "linux");
    closeSync(fd);
    expect(startWriteback(fd, 0, 1 << 20)).toBe(false); // closed: EBADF
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
