/**
 * Hashes host files (size and sha256) on threads of their own, so several files are
 * hashed at once, on every core, and the event loop stays free. Restore and pull hash
 * every large payload they download this way, after the downloads (staged-downloads.ts).
 */
import type { HashReply, HashRequest } from "./hash-worker.ts";

export interface FileDigest {
  size: number;
  sha256: string;
}

export class FileHasher {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly waiting: ((w: Worker) => void)[] = [];
  private readonly pending = new Map<number, { resolve: (d: FileDigest) => void; reject: (e: Error) => void }>();
  private nextId = 0;

  /** Starts `threads` hashing threads; `close` stops them. */
  constructor(threads: number) {
    for (let i = 0; i < threads; i++) {
      // In the binary the worker is an entry point built beside this chunk (packages/cmd/build.ts).
      const w = new Worker(new URL("./hash-worker.ts", import.meta.url).href);
      w.onmessage = (ev: MessageEvent<HashReply>) => this.answered(w, ev.data);
      // A thread that dies (or never loads) fails every request in flight instead of leaving it hanging.
      w.onerror = (ev: ErrorEvent) => this.failAll(new Error(`a hashing thread failed: ${ev.message}`));
      this.workers.push(w);
      this.idle.push(w);
    }
  }

  /** Size and sha256 of the file at `path`, hashed on the next free thread. */
  async hash(path: string): Promise<FileDigest> {
    const w = this.idle.pop() ?? (await new Promise<Worker>((resolve) => this.waiting.push(resolve)));
    const id = this.nextId++;
    return new Promise<FileDigest>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      w.postMessage({ id, path } satisfies HashRequest);
    });
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
    else p.resolve({ size: reply.size, sha256: reply.sha256 });
  }
}
