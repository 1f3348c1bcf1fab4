/**
 * Runs flushes on a thread of their own (flush-worker.ts), one at a time: encoding 10,000
 * rows as Parquet and committing them takes tens of milliseconds of CPU, which on the
 * event loop would stall every request in flight (measured: p99 request latency 87 ms
 * with the flush inline, see README "Streaming ingest").
 */
import type { FlushReply, FlushRequest } from "./flush-worker.ts";
import { IngestFlushError } from "./errors.ts";
import type { VersionWrite } from "./version-writer.ts";

export class Flusher {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, { resolve: (r: { version: number; seq: number }) => void; reject: (e: Error) => void }>();
  private nextId = 0;

  constructor(
    private readonly pondDir: string,
    private readonly command: string[],
  ) {}

  /** Starts the thread and has it open the pond and load what a flush needs, so the first flush is not slow. */
  async warm(): Promise<void> {
    await this.write(undefined);
  }

  /** Writes `w` as a new version on the flush thread. */
  write(w: VersionWrite | undefined): Promise<{ version: number; seq: number }> {
    const worker = this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, pondDir: this.pondDir, command: this.command, ...(w ? { write: w } : {}) } satisfies FlushRequest);
    });
  }

  /** Stops the thread (after the flushes in flight were answered: the caller waits for them). */
  close(): void {
    this.worker?.terminate();
    this.worker = undefined;
    this.failAll(new Error("the flush thread was closed"));
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    // In the binary the worker is an entry point built beside this chunk (packages/cmd/build.ts).
    const w = new Worker(new URL("./flush-worker.ts", import.meta.url).href);
    w.onmessage = (ev: MessageEvent<FlushReply>) => {
      const r = ev.data;
      const p = this.pending.get(r.id)!;
      this.pending.delete(r.id);
      if ("error" in r) p.reject(new IngestFlushError(r.error.code ?? "internal", r.error.message, r.error.hint));
      else p.resolve({ version: r.version, seq: r.seq });
    };
    // A thread that dies (or never loads) fails every flush in flight instead of leaving it hanging.
    w.onerror = (ev: ErrorEvent) => {
      this.failAll(new Error(`the flush thread failed: ${ev.message}`));
      this.worker = undefined;
    };
    this.worker = w;
    return w;
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}
