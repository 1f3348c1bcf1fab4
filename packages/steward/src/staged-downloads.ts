/**
 * The fast path of restore and pull for large objects: from a store that downloads
 * natively (`downloadTo`: S3, a folder) into a local folder store.
 *
 * On a small machine the S3 server and this process share the CPU (s3rver on 127.0.0.1
 * takes a whole core of two), so every cycle spent per byte at normal priority while
 * objects download slows the download. So `download` has each object written into a
 * temp file beside its final path natively (no chunk passes through JavaScript), and:
 * - while it downloads, a background thread at idle priority (SCHED_IDLE; file-hasher.ts,
 *   hash-worker.ts) follows the temp file: it hashes each block once it has landed
 *   (read from the page cache right behind the writer, using only CPU nothing else
 *   wants) and starts the writeback of what it hashed, so the disk writes during the
 *   download;
 * - as the download ends, its fsync is queued, one at a time, on the thread pool.
 *   Flushing is I/O wait, not CPU (`sync` of 1 GiB took 0.81 s of which 0.09 s was CPU).
 * Once all downloads are done, `settle` hurries the background threads back to normal
 * priority (a thread that may not raise its priority gives its files up, and they are
 * hashed on normal threads), checks size and sha256 against what is expected
 * (`mismatch`; a followed hash that does not match is taken again from the whole file
 * before the object is called corrupt, in case its writer did not only append), waits
 * for the fsyncs, and only when every object passed renames each into place (the
 * payloads fetched are those the local store lacks). The tail after the last byte
 * arrives is then the last block of each object and the rest of its fsync.
 *
 * Hashing in JavaScript each chunk as it arrives (a stream of the body, each chunk
 * hashed, then written) costs more CPU than the native write and the read back from the
 * page cache: 1 GiB from s3rver, 8 at once, CPU of the client (2 runs each): native
 * write 0.72–0.83 s, native write then hash read back 1.33–1.48 s, streamed and hashed
 * in JavaScript 1.68–1.91 s (the sha256 itself is 0.61 s). Following the file keeps the
 * cheap path and removes the tail: settle took 93–171 ms when each file was hashed after
 * its download, 1–7 ms following (load 8–10).
 *
 * Measured at 1 GiB before the background threads, 12 interleaved rounds against the raw
 * download (median ms): fsync all after the downloads 3345, each as its download ends
 * and all at once 3446, one at a time as downloads end 3232 (raw 2521). Hashing each
 * object as it arrived at normal priority (one or two threads) was no faster than
 * hashing after the downloads: it took its CPU from the server. With the idle-priority
 * threads (7 interleaved rounds, load 13–15): settle 1.5–2.7 s → 0.14–0.5 s, restore
 * 4.77 → 3.74 s median, 0.51× → 0.64× the raw download (README, issue 18).
 *
 * Nothing is published before it is checked and durable; a mismatch throws the
 * caller's error naming the key. `cleanup` stops the hashing threads and removes every
 * temp file still there (a published one has been renamed away); callers run it
 * whether or not anything failed.
 */
import { mkdirSync, rmSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname } from "node:path";
import type { Progress } from "@pond/diagnostics";
import type { ObjectMeta, ObjectStore } from "@pond/oplog";
import { FileHasher, type FileDigest } from "./file-hasher.ts";
import { fsyncFile, publishFileSync, tempPathFor } from "@pond/oplog";
import { mismatch, type Expectation } from "./transfer.ts";

/** Objects above this size take this path (smaller ones are read whole, as copyObject does). */
export const STAGE_ABOVE = 1024 * 1024;
/** Threads that hash at once: every core (a few at most); in the background they take only idle CPU. */
const HASH_THREADS = Math.max(1, Math.min(4, availableParallelism()));

interface Staged {
  meta: ObjectMeta;
  expect?: Expectation;
  tmp: string;
  final: string;
  /** The fsync started when its download ended. */
  synced?: Promise<void>;
  /** The background hash started when its download ended. */
  digest?: Promise<FileDigest | "abandoned">;
}

export interface StagedDownloadOptions {
  progress: Progress;
  /** Builds the error for an object that does not match (names the key and the store). */
  corrupt: (key: string, detail: string) => Error;
  /** Folders the caller fsyncs once after `settle` (see `syncDirs`), so published names survive a crash. */
  dirsToSync: Set<string>;
  /** Tests: the background threads act as if they may not go back to normal priority. */
  unprivilegedHashing?: boolean;
}

/** What `settle` did, for the debug log. */
export interface SettleReport {
  objects: number;
  /** Objects the background threads gave up (hashed again on normal threads). */
  abandoned: number;
  /** Objects whose followed hash did not match, hashed again whole (see hash-worker.ts). */
  rehashed: number;
  /** Milliseconds from the start of `settle` until every hash was checked, then until every fsync was done. */
  hashWaitMs: number;
  syncWaitMs: number;
}

export class StagedDownloads {
  private readonly staged: Staged[] = [];
  /** The newest fsync started; each starts when the one before ends. */
  private lastSync: Promise<void> = Promise.resolve();
  /** Started with the first download; hashes each object as its download ends. */
  private background: FileHasher | null = null;

  constructor(
    private readonly src: ObjectStore,
    private readonly dst: ObjectStore,
    private readonly opts: StagedDownloadOptions,
  ) {}

  /** Whether `meta` can take this path: large, from a store that downloads natively, into a folder. */
  takes(meta: ObjectMeta): boolean {
    return meta.size > STAGE_ABOVE && this.src.downloadTo !== undefined && this.dst.localPath?.(meta.key) !== undefined;
  }

  /** Downloads `meta.key` into a temp file beside its final path: not checked, synced or published yet. */
  async download(meta: ObjectMeta, expect?: Expectation): Promise<void> {
    const final = this.dst.localPath!(meta.key)!;
    const dir = dirname(final);
    mkdirSync(dir, { recursive: true });
    // Temp names (`.tmp-…`) are skipped by replication and removed by `pond recover`.
    const s: Staged = { meta, expect, tmp: tempPathFor(final), final };
    this.staged.push(s); // before the download starts: a failed one leaves a file too
    // The threads start with the first download, so their start overlaps it.
    const hasher = (this.background ??= new FileHasher(HASH_THREADS, { background: true, unprivileged: this.opts.unprivilegedHashing }));
    // Hashed as its bytes land in the file (hash-worker.ts), not read back after.
    const followed = hasher.follow(s.tmp);
    s.digest = followed.digest;
    s.digest.catch(() => {}); // awaited in settle
    try {
      await this.src.downloadTo!(meta.key, s.tmp);
    } finally {
      followed.ended();
    }
    // One fsync at a time, in the order downloads end: up to eight at once slowed the
    // downloads by more than they saved (see the measurements above).
    const sync = () => fsyncFile(s.tmp);
    s.synced = this.lastSync.then(sync, sync);
    this.lastSync = s.synced;
    s.synced.catch(() => {}); // awaited in settle
    this.opts.progress.tick(0, meta.size);
  }

  /**
   * Finishes the hashes, checks, fsyncs and publishes everything downloaded (see the
   * module comment). Every object is checked before any is published, so a mismatch
   * publishes nothing.
   */
  async settle(): Promise<SettleReport> {
    const t0 = performance.now();
    let abandoned = 0;
    let rehashed = 0;
    let hashWaitMs = 0;
    if (this.staged.length === 0) return { objects: 0, abandoned, rehashed, hashWaitMs, syncWaitMs: 0 };
    const synced = Promise.all(this.staged.map((s) => s.synced ?? fsyncFile(s.tmp)));
    this.background?.hurry();
    let foreground: FileHasher | null = null;
    try {
      await Promise.all(
        this.staged.map(async (s) => {
          const again = async (): Promise<FileDigest> => {
            foreground ??= new FileHasher(Math.min(HASH_THREADS, this.staged.length));
            const d = await foreground.hash(s.tmp);
            if (d === "abandoned") throw new Error(`bug: a normal hashing thread gave ${s.tmp} up`);
            return d;
          };
          let got = (await s.digest) ?? "abandoned";
          if (got === "abandoned") {
            abandoned++;
            got = await again();
          }
          let detail = mismatch(s.meta.key, s.meta.size, s.expect, got.size, got.sha256);
          // The hash followed the download; had the writer not only appended, it would differ
          // from the file's. The whole file is hashed once more before it is called corrupt.
          if (detail !== null) {
            rehashed++;
            got = await again();
            detail = mismatch(s.meta.key, s.meta.size, s.expect, got.size, got.sha256);
          }
          if (detail !== null) throw this.opts.corrupt(s.meta.key, detail);
        }),
      );
      hashWaitMs = performance.now() - t0;
    } finally {
      (foreground as FileHasher | null)?.close();
      this.closeBackground();
      await Promise.allSettled([synced]); // no fsync still running on a file the caller removes
    }
    await synced;
    const syncWaitMs = performance.now() - t0 - hashWaitMs;
    for (const s of this.staged) {
      publishFileSync(s.tmp, s.final, { deferDirSync: true });
      this.opts.dirsToSync.add(dirname(s.final));
      this.opts.progress.tick(1, 0);
    }
    return { objects: this.staged.length, abandoned, rehashed, hashWaitMs: Math.round(hashWaitMs), syncWaitMs: Math.round(syncWaitMs) };
  }

  /** Stops the hashing threads and removes every temp file this instance made. */
  cleanup(): void {
    this.closeBackground();
    for (const s of this.staged) rmSync(s.tmp, { force: true });
  }

  private closeBackground(): void {
    this.background?.close();
    this.background = null;
  }
}
