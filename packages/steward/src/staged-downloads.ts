/**
 * The fast path of restore and pull for large objects: from a store that downloads
 * natively (`downloadTo`: S3, a folder) into a local folder store, in two phases.
 *
 * Why two: on a small machine the S3 server and this process share the CPU (s3rver
 * on 127.0.0.1 takes a whole core of two), so every cycle spent per byte while objects
 * download slows the download. So `download` only has each object written into a temp
 * file beside its final path, natively: no chunk passes through JavaScript. As each
 * download ends, its fsync is queued: one at a time, on the thread pool. Flushing is
 * I/O wait, not CPU (measured: `sync` of 1 GiB took 0.81 s of which 0.09 s was CPU), so
 * the disk writes back while later objects download, and `settle` no longer waits
 * ~0.85 s per GiB for it. Once all downloads are done and the server is idle, `settle`
 * has hashing threads (file-hasher.ts) read each file back from the page cache; it
 * checks size and sha256 against what is expected (`mismatch`), waits for the fsyncs,
 * and only when every object passed renames each into place (the payloads fetched are
 * those the local store lacks).
 *
 * Measured at 1 GiB, 12 interleaved rounds against the raw download (median ms):
 * fsync all after the downloads 3345, each as its download ends and all at once 3446,
 * one at a time as downloads end 3232 (raw 2521). Hashing each object as it arrives (on
 * one or two threads) was no faster: the raw download alone keeps s3rver and this
 * process 172% busy of 200%.
 *
 * Nothing is published before it is checked and durable; a mismatch throws the
 * caller's error naming the key. `cleanup` removes every temp file still there (a
 * published one has been renamed away); callers run it
 * whether or not anything failed.
 */
import { mkdirSync, rmSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname } from "node:path";
import type { Progress } from "@pond/diagnostics";
import type { ObjectMeta, ObjectStore } from "@pond/oplog";
import { FileHasher } from "./file-hasher.ts";
import { fsyncFile, mapLimit, publishFileSync, tempPathFor } from "@pond/oplog";
import { mismatch, type Expectation } from "./transfer.ts";

/** Objects above this size take this path (smaller ones are read whole, as copyObject does). */
export const STAGE_ABOVE = 1024 * 1024;
/** Threads that hash at once: every core, as the server is idle by then (a few at most). */
const HASH_THREADS = Math.max(1, Math.min(4, availableParallelism()));

interface Staged {
  meta: ObjectMeta;
  expect?: Expectation;
  tmp: string;
  final: string;
  /** The fsync started when its download ended. */
  synced?: Promise<void>;
}

export interface StagedDownloadOptions {
  progress: Progress;
  /** Builds the error for an object that does not match (names the key and the store). */
  corrupt: (key: string, detail: string) => Error;
  /** Folders the caller fsyncs once after `settle` (see `syncDirs`), so published names survive a crash. */
  dirsToSync: Set<string>;
}

export class StagedDownloads {
  private readonly staged: Staged[] = [];
  /** The newest fsync started; each starts when the one before ends. */
  private lastSync: Promise<void> = Promise.resolve();

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
    await this.src.downloadTo!(meta.key, s.tmp);
    // One fsync at a time, in the order downloads end: up to eight at once slowed the
    // downloads by more than they saved (see the measurements above).
    const sync = () => fsyncFile(s.tmp);
    s.synced = this.lastSync.then(sync, sync);
    this.lastSync = s.synced;
    s.synced.catch(() => {}); // awaited in settle
    this.opts.progress.tick(0, meta.size);
  }

  /**
   * Fsyncs, checks and publishes everything downloaded (see the module comment). Every
   * object is checked before any is published, so a mismatch publishes nothing.
   */
  async settle(): Promise<void> {
    if (this.staged.length === 0) return;
    const synced = Promise.all(this.staged.map((s) => s.synced ?? fsyncFile(s.tmp)));
    const threads = Math.min(HASH_THREADS, this.staged.length);
    const hasher = new FileHasher(threads);
    try {
      await mapLimit(this.staged, threads, async (s) => {
        const got = await hasher.hash(s.tmp);
        const detail = mismatch(s.meta.key, s.meta.size, s.expect, got.size, got.sha256);
        if (detail !== null) throw this.opts.corrupt(s.meta.key, detail);
      });
    } finally {
      hasher.close();
      await Promise.allSettled([synced]); // no fsync still running on a file the caller removes
    }
    await synced;
    for (const s of this.staged) {
      publishFileSync(s.tmp, s.final, { deferDirSync: true });
      this.opts.dirsToSync.add(dirname(s.final));
      this.opts.progress.tick(1, 0);
    }
  }

  /** Removes every temp file this instance made. */
  cleanup(): void {
    for (const s of this.staged) rmSync(s.tmp, { force: true });
  }
}
