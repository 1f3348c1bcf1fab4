/**
 * Copies one object between stores, hashing as it streams and checking what is known
 * about it: a content-addressed large file must hash to its name, an object a
 * manifest names must have that size and hash, a listed object must have the listed
 * size. A mismatch is found before the last chunk is handed over, so the put fails
 * and the destination never holds the bad object (both stores publish atomically).
 */
import { mkdirSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import type { Progress } from "@pond/diagnostics";
import { fsyncDir, fsyncFile, publishFile, tempPathFor, type ObjectMeta, type ObjectStore } from "@pond/oplog";
import { concatBytes, newSha256, sha256Hex } from "@pond/tinyfs";

/** What an object must be; any field may be unknown. */
export interface Expectation {
  size?: number;
  sha256?: string;
  /** Where the expectation comes from, for messages ("the manifest", "its add action"). */
  source?: string;
}

export interface Copied {
  key: string;
  size: number;
  sha256: string;
  result: "created" | "exists";
}

/** Objects up to this size are read whole; larger ones stream, in blocks of BLOCK bytes. */
const WHOLE_LIMIT = 1024 * 1024;
const BLOCK = 1024 * 1024;
const LARGE_FILE_RE = /^_large_files\/sha256=([0-9a-f]{64})$/;

/** The hash a content-addressed key names (`_large_files/sha256=<hex>`), else null. */
export function contentHash(key: string): string | null {
  return LARGE_FILE_RE.exec(key)?.[1] ?? null;
}

export interface CopyOptions {
  expect?: Expectation;
  ifAbsent?: boolean;
  progress: Progress;
  /** Builds the error for an object that does not match (names the key and the store). */
  corrupt: (key: string, detail: string) => Error;
  /**
   * Folders of a local destination whose fsync the caller does once for many objects
   * (see `syncDirs`); without it each object's folder is fsynced after it is published.
   */
  dirsToSync?: Set<string>;
}

/** Copies `meta.key` from `src` to `dst`, verifying it on the way (see the module comment). */
export async function copyObject(src: ObjectStore, dst: ObjectStore, meta: ObjectMeta, opts: CopyOptions): Promise<Copied> {
  const { key } = meta;
  const check = (size: number, sha256: string): void => {
    const problem = mismatch(key, meta.size, opts.expect, size, sha256);
    if (problem) throw opts.corrupt(key, problem);
  };
  const hostPath = dst.localPath?.(key);
  if (meta.size > WHOLE_LIMIT && hostPath !== undefined) return streamToFile(src, hostPath, meta, check, opts);
  if (meta.size <= WHOLE_LIMIT) {
    const bytes = await src.get(key);
    const sha256 = sha256Of(bytes);
    check(bytes.length, sha256);
    const result = await dst.put(key, bytes, { ifAbsent: opts.ifAbsent });
    opts.progress.tick(1, bytes.length);
    return { key, size: bytes.length, sha256, result };
  }
  const hasher = newSha256();
  let size = 0;
  let sha256 = "";
  async function* verified(): AsyncIterable<Uint8Array> {
    // Network reads arrive in ~64 KiB pieces; gather them into blocks of BLOCK bytes so
    // the destination writes (or sends) big blocks: per-write costs dominate otherwise.
    let parts: Uint8Array[] = [];
    let partBytes = 0;
    let pending: Uint8Array | undefined;
    for await (const chunk of src.getStream(key)) {
      hasher.update(chunk);
      size += chunk.length;
      parts.push(chunk);
      partBytes += chunk.length;
      if (partBytes < BLOCK) continue;
      // Hold one block back: the last one is released only after the check passes.
      if (pending) {
        opts.progress.tick(0, pending.length);
        yield pending;
      }
      pending = concatBytes(parts, partBytes);
      parts = [];
      partBytes = 0;
    }
    sha256 = hasher.hex();
    check(size, sha256);
    for (const block of [pending, partBytes ? concatBytes(parts, partBytes) : undefined]) {
      if (!block) continue;
      opts.progress.tick(0, block.length);
      yield block;
    }
  }
  const result = await dst.put(key, verified(), { ifAbsent: opts.ifAbsent });
  if (result === "exists" && sha256 === "") {
    // The destination had it and did not read the body: hash nothing, trust the name.
    return { key, size: meta.size, sha256: contentHash(key) ?? "", result };
  }
  opts.progress.tick(1, 0);
  return { key, size, sha256, result };
}

/**
 * The fast path of a large copy into a local folder store (push to a folder remote;
 * restore and pull take staged-downloads.ts instead when the source has `downloadTo`):
 * chunks go from the source stream into a native file writer beside the target while
 * they are hashed (one pass, no read-back), then the file is checked, fsynced, and
 * published with link (put-if-absent) or rename, as LocalObjectStore publishes. Going
 * through `put` with a stream costs an awaited write per 64 KiB network chunk, about
 * twice the CPU.
 */
async function streamToFile(
  src: ObjectStore,
  final: string,
  meta: ObjectMeta,
  check: (size: number, sha256: string) => void,
  opts: CopyOptions,
): Promise<Copied> {
  const dir = dirname(final);
  mkdirSync(dir, { recursive: true });
  // Temp names (`.tmp-…`) are skipped by replication and removed by `pond recover`.
  const tmp = tempPathFor(final);
  const sink = Bun.file(tmp).writer({ highWaterMark: 4 * BLOCK });
  let ended = false;
  try {
    const hasher = newSha256();
    let size = 0;
    for await (const chunk of src.getStream(meta.key)) {
      hasher.update(chunk);
      size += chunk.length;
      const w = sink.write(chunk);
      if (w instanceof Promise) await w;
      opts.progress.tick(0, chunk.length);
    }
    ended = true;
    await sink.end();
    const sha256 = hasher.hex();
    check(size, sha256);
    await fsyncFile(tmp);
    const result = await publishFile(tmp, final, { ifAbsent: opts.ifAbsent, deferDirSync: opts.dirsToSync !== undefined });
    if (opts.dirsToSync) opts.dirsToSync.add(dir);
    opts.progress.tick(1, 0);
    return { key: meta.key, size, sha256, result };
  } finally {
    if (!ended) await Promise.resolve(sink.end()).catch(() => {}); // closing after a failed read: the read's error is the one to report
    rmSync(tmp, { force: true });
  }
}

/** Fsyncs each folder once, so the names published in them survive a crash. */
export async function syncDirs(dirs: Iterable<string>): Promise<void> {
  await Promise.all([...dirs].map(fsyncDir));
}

/** Why an object of `size` bytes with `sha256` is not what it must be, or null. */
export function mismatch(key: string, listedSize: number | undefined, expect: Expectation | undefined, size: number, sha256: string): string | null {
  const named = contentHash(key);
  if (named !== null && named !== sha256) return `its content hashes to ${sha256}, not to the ${named} its name says`;
  if (expect?.sha256 !== undefined && expect.sha256 !== sha256)
    return `its content hashes to ${sha256}; ${expect.source ?? "the manifest"} says ${expect.sha256}`;
  if (expect?.size !== undefined && expect.size !== size) return `it has ${size} bytes; ${expect.source ?? "the manifest"} says ${expect.size}`;
  if (listedSize !== undefined && listedSize !== size) return `it has ${size} bytes; the store listed ${listedSize}`;
  return null;
}

export function sha256Of(bytes: Uint8Array): string {
  return sha256Hex(bytes);
}
