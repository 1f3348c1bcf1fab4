import { expect, test } from "bun:test";
import { closeSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync, writeSync } from "node:fs";
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

/** The scheduling policy of each thread of this process, by thread id (Linux: /proc/self/task). */
function threadPolicies(): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync("/proc/self/task")) {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces) start at field 3; the policy is field 41.
    out.set(Number(tid), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[38]));
  }
  return out;
}

const SCHED_IDLE = 5;

test.skipIf(process.platform !== "linux")(
  "setThreadIdle() moves only the calling thread: a worker to SCHED_IDLE, the main thread stays, and back",
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "pond-libc-"));
    try {
      const body = join(dir, "idle-worker.ts");
      writeFileSync(
        body,
        `import { readlinkSync } from "node:fs";
       import { setThreadIdle } from ${JSON.stringify(join(import.meta.dir, "libc.ts"))};
       declare const self: Worker;
       // /proc/thread-self names this thread: PID/task/TID.
       self.onmessage = (ev) => postMessage({ tid: Number(readlinkSync("/proc/thread-self").split("/").pop()), result: setThreadIdle(ev.data) });`,
      );
      const w = new Worker(body);
      const ask = (idle: boolean) =>
        new Promise<{ tid: number; result: unknown }>((resolve) => {
          w.onmessage = (ev) => resolve(ev.data);
          w.postMessage(idle);
        });
      try {
        const lowered = await ask(true);
        expect(lowered.result).toEqual({ ok: true });
        expect(lowered.tid).not.toBe(process.pid);
        expect(threadPolicies().get(lowered.tid)).toBe(SCHED_IDLE);
        expect(threadPolicies().get(process.pid)).toBe(0);
        // Back to normal: only with the privilege (root here; EPERM, 1, without it).
        const privileged = process.getuid?.() === 0;
        const raised = await ask(false);
        expect(raised.result).toEqual(privileged ? { ok: true } : { ok: false, errno: 1 });
        expect(threadPolicies().get(raised.tid)).toBe(privileged ? 0 : SCHED_IDLE);
      } finally {
        w.terminate();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
