import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readSync, statSync, unlinkSync, writeSync } from "node:fs";
import { open } from "node:fs/promises";
import { dirname } from "node:path";
import { isSystemError, span } from "@pond/diagnostics";
import { fsyncDirSync, publishFile, tempPathFor, type ObjectStore } from "@pond/oplog";
import { IntegrityError, concatBytes, newSha256, sha256Hex, type ContentSource, type Sha256 } from "@pond/tinyfs";
import { fileIdentity, type VerifiedPayloads } from "./payload-check.ts";
import { FileContent, copyFileHashing } from "./file-content.ts";

/** Content at or above this size is stored in `_large_files/`, below it inline in the row. */
export const LARGE_FILE_THRESHOLD = 64 * 1024;

/** The object-store key of a large payload: the path is the hash. */
export function largeFileKey(sha256: string): string {
  return `_large_files/sha256=${sha256}`;
}

/** Where staged content ended up: inline bytes, or a content-addressed large file. */
export type StagedContent = { kind: "inline"; bytes: Uint8Array; sha256: string; size: number } | { kind: "large"; sha256: string; size: number };

function hex(h: Sha256): string {
  return h.hex();
}

/**
 * Reads `content` once, hashing as it goes. Content under the threshold is returned
 * inline; larger content is written to `_large_files/sha256=<hex>` (streamed, fsynced,
 * published with an atomic link so an existing object is never rewritten).
 * `forceLarge` stores even small content as a large file (Parquet payloads, which
 * DuckDB must scan in place). A large file this call creates is recorded as verified
 * in `opts.verified` (its hash is the one computed while writing it), so the first read
 * does not hash it again. With `opts.dirSyncs`, the folder an adopted file is linked
 * into is added to it instead of fsynced at once: the caller fsyncs each folder once,
 * before it commits anything that names the file (a transaction of many files).
 */
export async function stageContent(
  store: ObjectStore,
  content: ContentSource,
  opts: { forceLarge?: boolean; verified?: VerifiedPayloads; dirSyncs?: Set<string> } = {},
): Promise<StagedContent> {
  if (content instanceof AdoptableFile) {
    const adopted = await adoptFile(store, content.path, content.known, opts);
    if (adopted) return adopted;
  }
  if (content instanceof FileContent && store.localPath) return stageFile(store, content, opts);
  const hasher = newSha256();
  if (content instanceof Uint8Array) {
    hasher.update(content);
    const sha256 = hex(hasher);
    // Keep a copy: the caller may reuse its buffer once addVersion resolves.
    if (content.length < LARGE_FILE_THRESHOLD && !opts.forceLarge) return { kind: "inline", bytes: new Uint8Array(content), sha256, size: content.length };
    if (await publishBytes(store, sha256, content)) recordLocal(store, sha256, opts.verified);
    return { kind: "large", sha256, size: content.length };
  }
  // Stream: buffer up to the threshold; past it, spill to a temp object.
  const head: Uint8Array[] = [];
  let size = 0;
  const it = content[Symbol.asyncIterator]();
  let spill: Spill | undefined;
  try {
    for (;;) {
      const { value, done } = await it.next();
      if (done) break;
      if (value.length === 0) continue;
      hasher.update(value);
      size += value.length;
      if (spill) {
        spill.write(value);
      } else {
        head.push(new Uint8Array(value)); // a copy: the caller may reuse its chunk buffers (Buffer.slice would not copy)
        if (size >= LARGE_FILE_THRESHOLD || opts.forceLarge) {
          spill = openSpill(store);
          for (const c of head) spill.write(c);
          head.length = 0;
        }
      }
    }
  } catch (e) {
    spill?.discard();
    throw e;
  }
  const sha256 = hex(hasher);
  if (!spill) {
    const bytes = concatBytes(head, size);
    if (opts.forceLarge) {
      if (await publishBytes(store, sha256, bytes)) recordLocal(store, sha256, opts.verified);
      return { kind: "large", sha256, size };
    }
    return { kind: "inline", bytes, sha256, size };
  }
  if (await spill.publish(sha256)) recordLocal(store, sha256, opts.verified);
  return { kind: "large", sha256, size };
}

/** A host file into a local store: one read and one write, hashed as it is written (see copyFileHashing). */
async function stageFile(store: ObjectStore, file: FileContent, opts: { forceLarge?: boolean; verified?: VerifiedPayloads }): Promise<StagedContent> {
  const finalOf = (sha256: string) => store.localPath!(largeFileKey(sha256))!;
  const dir = dirname(finalOf("x"));
  mkdirSync(dir, { recursive: true });
  const tmp = tempPathFor(finalOf("x"));
  const r = await copyFileHashing(file, tmp, { inlineBelow: opts.forceLarge ? 0 : LARGE_FILE_THRESHOLD, payloadDir: dir, storedAs: finalOf });
  if (r.kind === "inline") return r;
  // Same content already stored ("exists"): the path is the hash, never rewrite it.
  if (r.kind === "written" && (await publishFile(tmp, finalOf(r.sha256), { ifAbsent: true })) === "created") recordLocal(store, r.sha256, opts.verified);
  return { kind: "large", sha256: r.sha256, size: r.size };
}

/**
 * Records a large file this process just created (its hash is the one computed from the
 * bytes written) as verified, with the identity it has now that its temp name is gone,
 * so the first read does not hash it again (local stores only).
 */
function recordLocal(store: ObjectStore, sha256: string, verified: VerifiedPayloads | undefined): void {
  const p = store.localPath?.(largeFileKey(sha256));
  if (p !== undefined && verified) verified.record(sha256, fileIdentity(statSync(p, { bigint: true })));
}

interface Spill {
  write(chunk: Uint8Array): void;
  /** True when this call created the large file (false: it was already stored). */
  publish(sha256: string): Promise<boolean>;
  discard(): void;
}

/**
 * Content in a host file the writer made for this purpose and gives up (a CSV converted
 * to Parquet). Read as a stream it is just the file's bytes; a local store on the same
 * filesystem takes the file itself as the large file (hashed, fsynced, linked into
 * place) instead of copying it, and then unlinks `path`. The caller removes its path
 * afterwards either way (ignoring a missing file).
 *
 * `known`: the file's sha256 and size, from a writer that computed them from the very
 * bytes it wrote and fsynced the file (oplog's `writeNewFileSynced`). Adopting it then
 * neither reads nor fsyncs it again; a wrong hash would store bytes under another
 * content's address, so only the writer of the bytes may give it.
 */
export class AdoptableFile implements AsyncIterable<Uint8Array> {
  constructor(
    readonly path: string,
    readonly known?: { sha256: string; size: number },
  ) {}

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    const fd = openSync(this.path, "r");
    try {
      yield* chunksOf(fd, () => new Uint8Array(1 << 20));
    } finally {
      closeSync(fd);
    }
  }
}

/** The rest of `fd`'s bytes, read into `buffer()` (a new one a chunk, or one reused). */
function* chunksOf(fd: number, buffer: () => Uint8Array): Generator<Uint8Array> {
  for (;;) {
    const buf = buffer();
    const n = readSync(fd, buf, 0, buf.length, null);
    if (n === 0) return;
    yield buf.subarray(0, n);
  }
}

/**
 * Stores `path` as a large file without copying it: hash and fsync it, then link it to
 * its content address. Undefined when it cannot (no local store, a file small enough to
 * go inline, another filesystem): the caller streams it instead.
 * Measured on a 100 MB CSV (20 MB of Parquet): copying it into the pond took ~100 ms.
 * The fsync runs on another thread while this one hashes (the bytes were written by
 * DuckDB, so both wait on nothing else): 20 MB took 13-20 ms to hash and 10-21 ms to sync,
 * one after the other. The file is linked into place only once both are done.
 */
async function adoptFile(
  store: ObjectStore,
  path: string,
  known: { sha256: string; size: number } | undefined,
  opts: { forceLarge?: boolean; verified?: VerifiedPayloads; dirSyncs?: Set<string> },
): Promise<StagedContent | undefined> {
  const probe = store.localPath?.(largeFileKey("x"));
  if (probe === undefined) return undefined;
  let sha256: string;
  let size = 0;
  if (known) {
    if (known.size < LARGE_FILE_THRESHOLD && !opts.forceLarge) return undefined;
    ({ sha256, size } = known);
  } else {
    const small = !opts.forceLarge && statSync(path).size < LARGE_FILE_THRESHOLD;
    if (small) return undefined;
    const fh = await open(path, "r");
    try {
      const synced = fh.sync();
      synced.catch(() => {}); // awaited below, after the hash; a failure meanwhile must not go unhandled
      const hashing = span("payload_adopt_hashed");
      const hasher = newSha256();
      const buf = new Uint8Array(1 << 20);
      for (const chunk of chunksOf(fh.fd, () => buf)) {
        hasher.update(chunk);
        size += chunk.length;
      }
      hashing.end({ size });
      const syncing = span("payload_adopt_synced"); // the wait for the fsync beyond the hash
      await synced;
      syncing.end();
      sha256 = hex(hasher);
    } finally {
      await fh.close();
    }
    // The size checked above is the one the caller's writer left; the bytes hashed must agree.
    if (size < LARGE_FILE_THRESHOLD && !opts.forceLarge) return undefined;
  }
  const dir = dirname(probe);
  mkdirSync(dir, { recursive: true });
  const final = store.localPath!(largeFileKey(sha256))!;
  try {
    linkSync(path, final);
    // The file is given up (see AdoptableFile): drop its temp name now, so the identity
    // recorded is the one the large file keeps (an unlink moves the inode's ctime).
    unlinkSync(path);
    if (opts.dirSyncs) opts.dirSyncs.add(dir);
    else fsyncDirSync(dir);
    recordLocal(store, sha256, opts.verified);
  } catch (e) {
    if (isSystemError(e, "EXDEV")) return undefined;
    // Same content already stored: the path is the hash, never rewrite it.
    if (!isSystemError(e, "EEXIST")) throw e;
    // Perhaps linked by a transaction that ended before its folder fsync: this one does it.
    opts.dirSyncs?.add(dir);
  }
  return { kind: "large", sha256, size };
}

/** A temp file beside the large files (local stores), or a memory buffer (others). */
function openSpill(store: ObjectStore): Spill {
  const probe = store.localPath?.(largeFileKey("x"));
  if (probe === undefined) {
    const chunks: Uint8Array[] = [];
    let n = 0;
    return {
      write(c) {
        chunks.push(new Uint8Array(c));
        n += c.length;
      },
      async publish(sha256) {
        return publishBytes(store, sha256, concatBytes(chunks, n));
      },
      discard() {
        chunks.length = 0;
      },
    };
  }
  const dir = dirname(probe);
  mkdirSync(dir, { recursive: true });
  const tmp = tempPathFor(probe);
  const fd = openSync(tmp, "wx");
  let closed = false;
  const close = () => {
    if (!closed) {
      closed = true;
      closeSync(fd);
    }
  };
  return {
    write(c) {
      let off = 0;
      while (off < c.length) off += writeSync(fd, c, off, c.length - off);
    },
    async publish(sha256) {
      fsyncSync(fd);
      close();
      // Same content already stored ("exists"): the path is the hash, never rewrite it.
      return (await publishFile(tmp, store.localPath!(largeFileKey(sha256))!, { ifAbsent: true })) === "created";
    },
    discard() {
      close();
      try {
        unlinkSync(tmp);
      } catch (e) {
        if (!isSystemError(e, "ENOENT")) throw e;
      }
    },
  };
}

async function publishBytes(store: ObjectStore, sha256: string, bytes: Uint8Array): Promise<boolean> {
  return (await store.put(largeFileKey(sha256), bytes, { ifAbsent: true })) === "created";
}

/**
 * Streams a large file, checking its size and hash as it goes; throws IntegrityError
 * at the end when they do not match (the bytes already yielded cannot be taken back,
 * so the caller must treat the error as fatal). With `reuse`, a chunk is valid only
 * until the next is asked for (ObjectStore.getStream).
 */
export async function* readLargeFile(store: ObjectStore, sha256: string, size: number, opts: { reuse?: boolean } = {}): AsyncIterable<Uint8Array> {
  const hasher = newSha256();
  let n = 0;
  for await (const chunk of store.getStream(largeFileKey(sha256), opts)) {
    hasher.update(chunk);
    n += chunk.length;
    yield chunk;
  }
  const got = hex(hasher);
  if (n !== size || got !== sha256) {
    throw new IntegrityError(largeFileKey(sha256), `expected ${size} bytes with sha256 ${sha256}, found ${n} bytes with sha256 ${got}`, {
      key: largeFileKey(sha256),
    });
  }
}

/** Checks inline content against its recorded hash. */
export function checkInline(bytes: Uint8Array, sha256: string, what: string): Uint8Array {
  const got = sha256Hex(bytes);
  if (got !== sha256) throw new IntegrityError(what, `inline content has sha256 ${got}, the log says ${sha256}`);
  return bytes;
}
