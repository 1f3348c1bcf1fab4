/**
 * Hashes host files (size and sha256) on threads of their own, so several files are
 * hashed at once, on every core, and the event loop stays free. Restore and pull hash
 * every large payload they download this way (staged-downloads.ts): on background
 * threads while downloads go on, then at normal priority once they are done.
 */
import type { HashReply, HashRequest } from "./hash-worker.ts";

export interface FileDigest {
  size: number;
  sha256: string;
}

export interface FileHasherOptions {
  /**
   * Threads at idle priority (SCHED_IDLE, Linux; elsewhere normal), which only use CPU
   * nothing else wants, until `hurry` is called (see hash-worker.ts).
   */
  background?: boolean;
  /** Background threads act as if they may not go back to normal priority (tests the fallback as root). */
  unprivileged?: boolean;
}

export class FileHasher {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly waiting: ((w: Worker) => void)[] = [];
  private readonly pending = new Map<number, { resolve: (d: FileDigest | "abandoned") => void; reject: (e: Error) => void }>();
  private readonly hurryFlag: Int32Array | null;
  private nextId = 0;

  /** Starts `threads` hashing threads; `close` stops them. */
  constructor(threads: number, opts: FileHasherOptions = {}) {
    const shared = opts.background ? new SharedArrayBuffer(4) : null;
    this.hurryFlag = shared ? new Int32Array(shared) : null;
    for (let i = 0; i < threads; i++) {
      // In the binary the worker is an entry point built beside this chunk (packages/cmd/build.ts).
      const w = new Worker(new URL("./hash-worker.ts", import.meta.url).href);
      w.onmessage = (ev: MessageEvent<HashReply>) => this.answered(w, ev.data);
      // A thread that dies (or never loads) fails every request in flight instead of leaving it hanging.
      w.onerror = (ev: ErrorEvent) => this.failAll(new Error(`a hashing thread failed: ${ev.message}`));
      if (shared) w.postMessage({ background: shared, unprivileged: opts.unprivileged } satisfies HashRequest);
      this.workers.push(w);
      this.idle.push(w);
    }
  }

  /**
   * Size and sha256 of the file at `path`, hashed on the next free thread. A background
   * hasher answers `"abandoned"` for a file it gave up after `hurry` (its thread could not
   * get back to normal priority); a normal one never does.
   */
  async hash(path: string): Promise<FileDigest | "abandoned"> {
    const w = this.idle.pop() ?? (await new Promise<Worker>((resolve) => this.waiting.push(resolve)));
    const id = this.nextId++;
    return new Promise<FileDigest | "abandoned">((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      w.postMessage({ id, path } satisfies HashRequest);
    });
  }

  /** Background threads go back to normal priority (or give their files up): the work is wanted now. */
  hurry(): void {
    if (this.hurryFlag) Atomics.store(this.hurryFlag, 0, 1);
  }

  /** Stops the threads; requests still in flight fail. */
  close(): void {
    for (const w of this.workers) w.terminate();
    this.failAll(new Error("the file hasher was closed"));
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  private answered(w: Worker, reply: HashReply): void {
    const p = this.pending.get(reply.id)!;
    this.pending.delete(reply.id);
    const next = this.waiting.shift();
    if (next) next(w);
    else this.idle.push(w);
    if ("error" in reply) p.reject(Object.assign(new Error(reply.error.message), { code: reply.error.code }));
    else if ("abandoned" in reply) p.resolve("abandoned");
    else p.resolve({ size: reply.size, sha256: reply.sha256 });
  }
}
