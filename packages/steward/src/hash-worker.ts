/**
 * The body of a hashing thread of `FileHasher` (file-hasher.ts): hashes host files by
 * path, reading them in blocks, and answers each request with size and sha256.
 * It is an entry point of the binary's build (packages/cmd/build.ts) of its own.
 *
 * A thread hashes several files at once, a few MiB of each in turn. A file may still be
 * being written (`follow`): the thread hashes what has been written so far, waits for
 * more while less than a block is new, and answers once the caller says the writer has
 * finished (`{ended}`) and it has read to the end. A writer that only appends (Bun's
 * native download does) leaves in the file exactly the bytes hashed; one that wrote
 * elsewhere would make the hash differ from the file's, and the caller, on a mismatch,
 * hashes the finished file again before calling it corrupt (staged-downloads.ts). As it
 * goes, the thread starts writeback of what it hashed (`startWriteback`), so the caller's
 * fsync after the download finds little left to write.
 *
 * A background thread (the first message is `{background}`) moves itself to idle
 * priority (SCHED_IDLE, Linux), so it only uses CPU that nothing else wants. Once the
 * shared flag is raised (`hurry`), it goes back to normal priority before its next
 * block; where it may not (that needs the privilege), it abandons the files it has and
 * every later one, answering `abandoned`, so the caller hashes them on a normal thread
 * instead of leaving them to a thread that other work could starve. The caller hurries
 * only once every writer has finished.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { isSystemError, setThreadIdle, startWriteback } from "@pond/diagnostics";
import { newSha256, type Sha256 } from "@pond/tinyfs";

declare const self: Worker;

export type HashRequest =
  /** Hash `path`; with `follow`, the file is still being written until `{ended: id}` comes. */
  | { id: number; path: string; follow?: boolean }
  /** The writer of followed request `ended` has finished: the file is whole. */
  | { ended: number }
  /** `unprivileged`: act as a thread that may not go back to normal priority (tests the fallback as root). */
  | { background: SharedArrayBuffer; unprivileged?: boolean };

export type HashReply =
  | { id: number; size: number; sha256: string }
  | { id: number; abandoned: true }
  | { id: number; error: { message: string; code?: string } };

/** 1 MiB: the block stays in the CPU cache between the read and the hash. */
const BLOCK = 1024 * 1024;
const buf = Buffer.allocUnsafe(BLOCK);
/** At most this much of one file per turn, so files being written are hashed alike. */
const TURN_BYTES = 4 * BLOCK;
/** Writeback of a followed file is started once this much more of it has been hashed. */
const WRITEBACK_BYTES = 8 * BLOCK;
/** How long the thread sleeps when no file it follows has a block more. */
const POLL_MS = 3;

interface Job {
  id: number;
  path: string;
  /** Whether the file is whole (always, unless followed). */
  ended: boolean;
  follow: boolean;
  fd: number | null;
  hasher: Sha256;
  size: number;
  /** Bytes whose writeback was started; -1 once the file cannot take the hint. */
  hinted: number;
}

/** Requests in hand, in arrival order. */
const jobs = new Map<number, Job>();
/** Whether `pump` is running. */
let pumping = false;

/** Set for a background thread: index 0 becomes 1 when the caller hurries. */
let hurry: Int32Array | null = null;
/** Whether this thread runs below normal priority now. */
let lowered = false;
/** Whether it may go back to normal priority (see `unprivileged`). */
let mayRaise = true;
/** Whether this thread, told to hurry, could not get back to normal priority. */
let stuck = false;

/** False when the thread must give up its files (see the module comment). */
function mayGoOn(): boolean {
  if (stuck) return false;
  if (!lowered || hurry === null || Atomics.load(hurry, 0) === 0) return true;
  if (mayRaise && setThreadIdle(false).ok) lowered = false;
  else stuck = true;
  return !stuck;
}

/** Hashes the next bytes of `job`: "moved" if it read any, "waiting" if none are there yet, "done" at the end of a whole file. */
function step(job: Job): "moved" | "waiting" | "done" {
  // Read before the file is: when `ended` was already true, an empty read is the end.
  const ended = job.ended;
  if (job.fd === null) {
    try {
      job.fd = openSync(job.path, "r");
    } catch (e) {
      if (!ended && isSystemError(e, "ENOENT")) return "waiting"; // the writer has not made it yet
      throw e;
    }
  }
  // A followed file is read a block at a time: many small reads would cost more than they hash.
  if (!ended && fstatSync(job.fd).size - job.size < BLOCK) return "waiting";
  let got = 0;
  while (got < TURN_BYTES) {
    const n = readSync(job.fd, buf, 0, BLOCK, job.size);
    if (n === 0) break;
    job.hasher.update(buf.subarray(0, n));
    job.size += n;
    got += n;
    if (!ended && n < BLOCK) break; // the rest is still being written
  }
  if (job.follow && job.hinted >= 0 && (job.size - job.hinted >= WRITEBACK_BYTES || (got === 0 && ended))) {
    job.hinted = startWriteback(job.fd, job.hinted, job.size - job.hinted) ? job.size : -1;
  }
  if (got === 0 && ended) return "done";
  return got > 0 ? "moved" : "waiting";
}

function finish(job: Job, reply: HashReply): void {
  jobs.delete(job.id);
  if (job.fd !== null) closeSync(job.fd);
  postMessage(reply);
}

/** Hashes the files in hand in turns until there are none; sleeps while none has a block more. */
async function pump(): Promise<void> {
  if (pumping) return;
  pumping = true;
  try {
    while (jobs.size > 0) {
      let moved = false;
      for (const job of [...jobs.values()]) {
        if (!mayGoOn()) {
          finish(job, { id: job.id, abandoned: true });
          continue;
        }
        try {
          const r = step(job);
          if (r === "done") finish(job, { id: job.id, size: job.size, sha256: job.hasher.hex() });
          else if (r === "moved") moved = true;
        } catch (e) {
          // Sent back as data: the caller rebuilds the error (an Error does not cross threads whole).
          finish(job, { id: job.id, error: { message: e instanceof Error ? e.message : String(e), code: (e as { code?: string }).code } });
        }
      }
      // A macrotask between turns, so `{ended}` and new requests come in.
      await new Promise((resolve) => setTimeout(resolve, moved ? 0 : POLL_MS));
    }
  } finally {
    pumping = false;
  }
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
  if ("ended" in req) {
    const job = jobs.get(req.ended);
    if (job) job.ended = true;
    return;
  }
  const follow = req.follow === true;
  jobs.set(req.id, { id: req.id, path: req.path, ended: !follow, follow, fd: null, hasher: newSha256(), size: 0, hinted: 0 });
  void pump();
};
