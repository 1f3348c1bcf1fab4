/**
 * Writing local files so that a crash leaves either the old file or the new one, whole.
 * This is the one place Pond's layers do it; nobody else renames a temp file into place.
 *
 * The protocol (POSIX, ext4/xfs semantics): write a temp file in the target's folder,
 * fsync it, then publish it by `rename` (replace) or `link` (put-if-absent: an existing
 * target is never touched), then fsync the folder so the new name itself survives a
 * power cut. A temp file a crash leaves behind has a name no reader takes for data
 * (`TEMP_PREFIX`), and `pond recover` removes it.
 */
import { closeSync, fsync, fsyncSync, linkSync, openSync, readFileSync, renameSync, rmSync, write, writeFileSync, writeSync, writev } from "node:fs";
import { open } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { PondError, isSystemError } from "@pond/diagnostics";

/** Names of temp files: readers skip them, recovery removes them. */
export const TEMP_PREFIX = ".tmp-";

/** A fresh temp path beside `target` (same folder, so publishing is a rename, never a copy). */
export function tempPathFor(target: string): string {
  const rand = crypto.getRandomValues(new Uint32Array(2));
  return join(dirname(target), `${TEMP_PREFIX}${rand[0]!.toString(16)}${rand[1]!.toString(16)}.tmp`);
}

/**
 * fsyncs a folder, so names created, renamed or removed in it survive a crash. The fsync
 * is handed to another thread at the call: opening the folder first on one would leave
 * the fsync waiting for this thread's next turn (a commit encoding its entry files).
 */
export async function fsyncDir(dir: string): Promise<void> {
  const fd = openSync(dir, "r");
  try {
    await new Promise<void>((done, fail) => fsync(fd, (e) => (e ? fail(e) : done())));
  } finally {
    closeSync(fd);
  }
}

/** `fsyncDir` for callers that are synchronous (small control files, content staging). */
export function fsyncDirSync(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** fsyncs a file's bytes (a staged download written by another writer). */
export async function fsyncFile(path: string): Promise<void> {
  const fh = await open(path, "r+");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export interface PublishOptions {
  /** Put-if-absent: link instead of rename, and leave an existing target as it is. */
  ifAbsent?: boolean;
  /** Keep `staged` where it is (it is linked, not moved); only with ifAbsent. */
  keepStaged?: boolean;
  /** Skip the folder fsync: the caller fsyncs the folder once for many files. */
  deferDirSync?: boolean;
}

/**
 * Publishes a staged file, already written and fsynced, at `target` (see the module
 * comment). "exists" when `ifAbsent` found a file there (the staged file is then
 * removed unless kept). The staged file never outlives a failed publish.
 */
export function publishFileSync(staged: string, target: string, opts: PublishOptions = {}): "created" | "exists" {
  let result: "created" | "exists" = "created";
  try {
    if (opts.ifAbsent) {
      try {
        linkSync(staged, target);
      } catch (e) {
        if (!isSystemError(e, "EEXIST")) throw e;
        result = "exists";
      }
    } else {
      renameSync(staged, target);
    }
  } finally {
    if (!opts.keepStaged) rmSync(staged, { force: true });
  }
  if (result === "created" && !opts.deferDirSync) fsyncDirSync(dirname(target));
  return result;
}

/** `publishFileSync` whose folder fsync does not block the event loop (many files in flight). */
export async function publishFile(staged: string, target: string, opts: PublishOptions = {}): Promise<"created" | "exists"> {
  const result = publishFileSync(staged, target, { ...opts, deferDirSync: true });
  if (result === "created" && !opts.deferDirSync) await fsyncDir(dirname(target));
  return result;
}

/**
 * Replaces `path` with `data` atomically (temp file, rename) but without any fsync: for a
 * cache, which a crash may leave old, or empty, and whose reader then rebuilds it. Cheap
 * enough for a command that only reads the pond.
 */
export function replaceCacheFile(path: string, data: string | Uint8Array): void {
  const tmp = tempPathFor(path);
  try {
    writeFileSync(tmp, data, { flag: "wx", mode: 0o644 });
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  publishFileSync(tmp, path, { deferDirSync: true });
}

/**
 * Writes `bytes` (or its parts, in order) as a new file at `path` (a temp name: it must
 * not exist) and fsyncs it, with the writes and the fsync on the thread pool, so the
 * caller's event loop goes on meanwhile (a collector fetches the next device while the
 * last one's file is synced). The file is removed when that fails. Publishing it is the
 * caller's next step.
 */
export async function writeNewFileSynced(path: string, bytes: Uint8Array | readonly Uint8Array[]): Promise<void> {
  const parts = bytes instanceof Uint8Array ? [bytes] : bytes;
  const fd = openSync(path, "wx", 0o644);
  try {
    try {
      // One writev for all parts; a short write (rare for a regular file) goes on part by part.
      let done = await new Promise<number>((resolve, reject) => writev(fd, parts as Uint8Array[], (e, n) => (e ? reject(e) : resolve(n))));
      for (const part of parts) {
        let off = Math.min(done, part.length);
        done -= off;
        while (off < part.length) {
          off += await new Promise<number>((resolve, reject) => write(fd, part, off, part.length - off, null, (e, n) => (e ? reject(e) : resolve(n))));
        }
      }
      await new Promise<void>((resolve, reject) => fsync(fd, (e) => (e ? reject(e) : resolve())));
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    rmSync(path, { force: true });
    throw e;
  }
}

/**
 * Replaces `path` with `data`, atomically and durably: a crash leaves the old content or
 * the new, never a torn or empty file. For control files (pond.json, remotes.json).
 */
export function writeFileDurable(path: string, data: string | Uint8Array): void {
  const tmp = tempPathFor(path);
  const fd = openSync(tmp, "wx", 0o644);
  try {
    try {
      const bytes = typeof data === "string" ? Buffer.from(data) : data;
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  publishFileSync(tmp, path);
}

/** A control file that exists but cannot be read as what it must be. */
export class ControlFileError extends PondError {
  constructor(path: string, problem: string, fix: string) {
    super("control_file_damaged", `Control file "${path}" is damaged: ${problem}`, { kind: "integrity", data: { path, problem }, hint: fix });
  }
}

/**
 * Reads a JSON control file, or undefined when it does not exist. A file that is empty,
 * torn or not JSON, or that `check` rejects, is ControlFileError naming the file, what
 * is wrong and `fix`: never a parse exception that reads as a bug.
 */
export function readJsonControlFile<T>(path: string, fix: string, check: (v: unknown) => string | undefined = () => undefined): T | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if (isSystemError(e, "ENOENT")) return undefined;
    throw e;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    if (!(e instanceof SyntaxError)) throw e;
    throw new ControlFileError(path, text.trim() === "" ? "it is empty" : `it is not valid JSON (${e.message})`, fix);
  }
  const problem = check(value);
  if (problem) throw new ControlFileError(path, problem, fix);
  return value as T;
}

/** The file name part of a temp path, for tests and recovery. */
export function isTempName(name: string): boolean {
  return basename(name).startsWith(TEMP_PREFIX);
}
