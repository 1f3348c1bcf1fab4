/**
 * The body of a hashing thread of `FileHasher` (file-hasher.ts): hashes host files by
 * path, reading them in blocks, and answers each request with size and sha256.
 * It is an entry point of the binary's build (packages/cmd/build.ts) of its own.
 *
 * A background thread (the first message is `{background}`) moves itself to idle
 * priority (SCHED_IDLE, Linux), so it only uses CPU that nothing else wants. Once the
 * shared flag is raised (`hurry`), it goes back to normal priority before its next
 * block; where it may not (that needs the privilege), it abandons the file it is on
 * and every later one, answering `abandoned`, so the caller hashes them on a normal
 * thread instead of leaving them to a thread that other work could starve.
 */
import { closeSync, openSync, readSync } from "node:fs";
import { setThreadIdle } from "@pond/diagnostics";
import { newSha256 } from "@pond/tinyfs";

declare const self: Worker;

export type HashRequest =
  | { id: number; path: string }
  /** `unprivileged`: act as a thread that may not go back to normal priority (tests the fallback as root). */
  | { background: SharedArrayBuffer; unprivileged?: boolean };

export type HashReply =
  | { id: number; size: number; sha256: string }
  | { id: number; abandoned: true }
  | { id: number; error: { message: string; code?: string } };

/** 1 MiB: the block stays in the CPU cache between the read and the hash. */
const buf = Buffer.allocUnsafe(1024 * 1024);

/** Set for a background thread: index 0 becomes 1 when the caller hurries. */
let hurry: Int32Array | null = null;
/** Whether this thread runs below normal priority now. */
let lowered = false;
/** Whether it may go back to normal priority (see `unprivileged`). */
let mayRaise = true;
/** Whether this thread, told to hurry, could not get back to normal priority. */
let stuck = false;

/** False when the thread must give up its file (see the module comment). */
function mayGoOn(): boolean {
  if (!lowered || hurry === null || Atomics.load(hurry, 0) === 0) return true;
  if (mayRaise && setThreadIdle(false).ok) lowered = false;
  else stuck = true;
  return !stuck;
}

function hashFile(path: string): { size: number; sha256: string } | null {
  if (stuck || !mayGoOn()) return null;
  const hasher = newSha256();
  const fd = openSync(path, "r");
  let size = 0;
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hasher.update(buf.subarray(0, n));
      size += n;
      if (!mayGoOn()) return null;
    }
  } finally {
    closeSync(fd);
  }
  return { size, sha256: hasher.hex() };
}

self.onmessage = (ev: MessageEvent<HashRequest>) => {
  const req = ev.data;
  if ("background" in req) {
    hurry = new Int32Array(req.background);
    // Where the thread cannot be lowered (not Linux), it hashes at normal priority.
    mayRaise = req.unprivileged !== true;
    lowered = setThreadIdle(true).ok;
    return;
  }
  const { id, path } = req;
  let reply: HashReply;
  try {
    const digest = hashFile(path);
    reply = digest === null ? { id, abandoned: true } : { id, ...digest };
  } catch (e) {
    // Sent back as data: the caller rebuilds the error (an Error does not cross threads whole).
    reply = { id, error: { message: e instanceof Error ? e.message : String(e), code: (e as { code?: string }).code } };
  }
  postMessage(reply);
};
