/**
 * Hashes host files (size and sha256) on threads of their own, so several files are
 * hashed at once, on every core, and the event loop stays free. Restore and pull hash
 * every large payload they download this way (staged-downloads.ts): each is followed
 * while it downloads (hashed as its bytes land in the file, see hash-worker.ts) on
 * background threads, which go back to normal priority once the downloads are done.
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

/** A file being hashed while it is written (`FileHasher.follow`). */
export interface Followed {
  /** Size and sha256 of the whole file, once `ended` was called and the thread read to its end. */
  digest: Promise<FileDigest | "abandoned">;
  /** The writer has finished: the file is whole. */
  ended(): void;
}

export class FileHasher {
  private readonly workers: Worker[] = [];
  /** Requests in flight per thread: a new one goes to the thread with fewest. */
  private readonly load = new Map<Worker, number>();
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
      this.load.set(w, 0);
    }
  }

  /**
   * Size and sha256 of the file at `path`. A background hasher answers `"abandoned"` for
   * a file it gave up after `hurry` (its thread could not get back to normal priority);
   * a normal one never does.
   */
  hash(path: string): Promise<FileDigest | "abandoned"> {
    return this.request(path, false).digest;
  }

  /**
   * Hashes the file at `path` while another writer still appends to it (it may not exist
   * yet); the digest comes once `ended` is called and the rest is read. Call `hurry` only
   * after every followed file has ended.
   */
  follow(path: string): Followed {
    return this.request(path, true);
  }

  private request(path: string, follow: boolean): Followed {
    const w = this.workers.reduce((a, b) => (this.load.get(b)! < this.load.get(a)! ? b : a));
    const id = this.nextId++;
    const digest = new Promise<FileDigest | "abandoned">((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.load.set(w, this.load.get(w)! + 1);
      w.postMessage({ id, path, follow } satisfies HashRequest);
    });
    let ended = !follow;
    return {
      digest,
      ended: () => {
        if (ended) return;
        ended = true;
        if (this.pending.has(id)) w.postMessage({ ended: id } satisfies HashRequest);
      },
    };
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
    this.load.set(w, this.load.get(w)! - 1);
    if ("error" in reply) p.reject(Object.assign(new Error(reply.error.message), { code: reply.error.code }));
    else if ("abandoned" in reply) p.resolve("abandoned");
    else p.resolve({ size: reply.size, sha256: reply.sha256 });
  }
}
