/**
 * Checks that a payload file on disk still holds the bytes the log recorded, without
 * hashing every payload on every read.
 *
 * Contract: a payload passes when its sha256 matches the log. Hashing is skipped only
 * when a record says this exact file (device, inode, size, mtime and ctime, all in ns)
 * already hashed to that value. Every in-place change to a file moves its ctime (which
 * no user call can set back), and a replaced file has another inode, so a file that
 * changed since it was hashed is hashed again before it is read. What this cannot see
 * is bit rot below the file system (the disk returning other bytes for an unchanged
 * inode): that is what `pond fsck` and `verify --deep` are for.
 *
 * The record is derived data: a missing, torn or unwritable record only means the
 * payload is hashed again (a read-only or full disk still reads, at hashing speed).
 */
import { appendFileSync, closeSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync, type BigIntStats } from "node:fs";
import { dirname } from "node:path";
import { isSystemError, isWriteRefused, logger } from "@pond/diagnostics";
import { writeFileDurable } from "@pond/oplog";
import { IntegrityError, newSha256 } from "@pond/tinyfs";

/** The record's file name in the pond's control folder. */
export const VERIFIED_PAYLOADS_FILE = "verified-payloads.txt";

/** Where verified payloads are remembered between processes. */
export interface VerifiedPayloads {
  /** True when `sha256` was verified for a file of exactly this identity. */
  has(sha256: string, identity: string): boolean;
  /** Remembers a verification (best effort: a refused write is skipped). */
  record(sha256: string, identity: string): void;
  /**
   * Drops what is remembered of these payloads (best effort, as `record`), so the record
   * holds the payloads reads still use: a merge forgets its inputs, which only reads of
   * snapshots before it still name. Dropping a line can only cost a hash, never let a
   * changed file pass.
   */
  forget(sha256s: Iterable<string>): void;
}

/** One payload to check: where it is, what the log says, and how to name it in an error. */
export interface PayloadRef {
  hostPath: string;
  sha256: string;
  size: number;
  /** The pond path and version, for messages: `"/a/b.series" version 3`. */
  label: string;
}

/** The identity of a file as this module compares it. */
export function fileIdentity(st: BigIntStats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}

/** How many payloads were hashed (not taken from the record) in this process: tests read it. */
export const payloadHashCount = { value: 0 };

/**
 * Checks each payload against the log (see the module comment); throws IntegrityError
 * naming the pond path, the version and the payload file for the first one that is
 * missing, of another size, or of another hash.
 */
export function checkPayloads(refs: readonly PayloadRef[], verified: VerifiedPayloads | undefined): void {
  for (const r of refs) checkPayload(r, verified);
}

export function checkPayload(r: PayloadRef, verified: VerifiedPayloads | undefined): void {
  let st: BigIntStats;
  try {
    st = statSync(r.hostPath, { bigint: true });
  } catch (e) {
    if (isSystemError(e, "ENOENT")) throw payloadError(r, "the payload file is missing");
    if (isSystemError(e, "EACCES")) throw payloadError(r, "the payload file cannot be read (permission denied)");
    throw e;
  }
  if (!st.isFile()) throw payloadError(r, "the payload path is not a regular file");
  if (st.size !== BigInt(r.size)) throw payloadError(r, `the log records ${r.size} bytes, the file has ${st.size}`);
  const identity = fileIdentity(st);
  if (verified?.has(r.sha256, identity)) return;
  const got = hashFile(r);
  if (got !== r.sha256) throw payloadError(r, `the log records sha256 ${r.sha256}, the file hashes to ${got}`);
  verified?.record(r.sha256, identity);
}

function hashFile(r: PayloadRef): string {
  payloadHashCount.value++;
  // A hook tests read through the binary (POND_LOG=debug): each full hash, by payload.
  logger.debug("payload_hashed", { payload: r.hostPath, label: r.label });
  const hasher = newSha256();
  let fd: number;
  try {
    fd = openSync(r.hostPath, "r");
  } catch (e) {
    if (isSystemError(e, "ENOENT")) throw payloadError(r, "the payload file is missing");
    if (isSystemError(e, "EACCES")) throw payloadError(r, "the payload file cannot be read (permission denied)");
    throw e;
  }
  try {
    const buf = new Uint8Array(1 << 20);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hasher.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return hasher.hex();
}

const PAYLOAD_HINT =
  "The file under data/_large_files changed on disk. Restore it from a backup (`pond restore` into a new folder and copy that file back), then read again.";

function payloadError(r: PayloadRef, detail: string): IntegrityError {
  return new IntegrityError(`${r.label} (payload ${r.hostPath})`, detail, { payload: r.hostPath, sha256: r.sha256 }, PAYLOAD_HINT);
}

/** Lines look like `<sha256> <identity>`; anything else (a torn last line) is skipped. */
const LINE = /^([0-9a-f]{64}) (\d+:\d+:\d+:\d+:\d+)$/;

/** Rewrite the record once it holds this many lines and at least twice as many as live entries. */
const COMPACT_FROM_LINES = 4096;

/**
 * A record in one append-only text file. Appends are single `write`s of one short line
 * (O_APPEND), so two processes appending at once never interleave within a line; the
 * newest line for a hash wins. It is rewritten (temp file, rename) when most of its
 * lines are stale.
 */
export function fileVerifiedPayloads(path: string): VerifiedPayloads {
  let entries: Map<string, string> | undefined;
  let lines = 0;
  // A torn last line (a process killed mid-append) would swallow the next append: start it on a new line.
  let torn = false;
  const load = (): Map<string, string> => {
    if (entries) return entries;
    entries = new Map();
    let text = "";
    try {
      text = readFileSync(path, "utf8");
    } catch (e) {
      if (!isSystemError(e, "ENOENT") && !isSystemError(e, "EACCES")) throw e;
    }
    torn = text.length > 0 && !text.endsWith("\n");
    for (const line of text.split("\n")) {
      const m = LINE.exec(line);
      if (!m) continue;
      lines++;
      entries.set(m[1]!, m[2]!);
    }
    return entries;
  };
  // Rewritten whole (temp file, rename), when compacted or when lines are forgotten: an append
  // another process makes meanwhile is lost, which costs that payload one more hash.
  const rewrite = (map: Map<string, string>): void => {
    const tmp = `${path}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, [...map].map(([h, id]) => `${h} ${id}\n`).join(""));
      renameSync(tmp, path);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw e;
    }
    lines = map.size;
    torn = false;
  };
  return {
    has(sha256, identity) {
      return load().get(sha256) === identity;
    },
    record(sha256, identity) {
      const map = load();
      map.set(sha256, identity);
      lines++;
      try {
        mkdirSync(dirname(path), { recursive: true });
        if (lines >= COMPACT_FROM_LINES && lines >= 2 * map.size) {
          rewrite(map);
        } else {
          appendFileSync(path, `${torn ? "\n" : ""}${sha256} ${identity}\n`);
          torn = false;
        }
      } catch (e) {
        if (!isWriteRefused(e)) throw e;
        logger.debug("verified-payload record not written", { path, error: (e as Error).message });
      }
    },
    forget(sha256s) {
      const map = load();
      let dropped = 0;
      for (const sha of sha256s) if (map.delete(sha)) dropped++;
      if (dropped === 0) return;
      try {
        rewrite(map);
      } catch (e) {
        if (!isWriteRefused(e)) throw e;
        logger.debug("verified-payload record not rewritten", { path, error: (e as Error).message });
      }
    },
  };
}

/**
 * Rewrites the record at `path` without the lines of payloads `keep` rejects (by sha256),
 * one line per kept hash (the newest), dropping a torn line; for cleanup, after it deleted
 * payload files. Atomic and durable (writeFileDurable); left alone when nothing changes.
 * Readers append without any lock: an append between this read and the rename is lost,
 * which only costs that payload a hash on its next read. Lines are only ever dropped,
 * never added, so a prune cannot make anything pass unhashed. A missing record, or a
 * refused write (read-only disk), is not an error: the record is derived data.
 */
export function pruneVerifiedPayloads(path: string, keep: (sha256: string) => boolean): { kept: number; dropped: number } {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if (isSystemError(e, "ENOENT") || isSystemError(e, "EACCES")) return { kept: 0, dropped: 0 };
    throw e;
  }
  const entries = new Map<string, string>();
  let lines = 0;
  for (const line of text.split("\n")) {
    if (line === "") continue;
    lines++;
    const m = LINE.exec(line);
    if (m) entries.set(m[1]!, m[2]!);
  }
  for (const sha of [...entries.keys()]) if (!keep(sha)) entries.delete(sha);
  if (entries.size === lines) return { kept: entries.size, dropped: 0 };
  try {
    writeFileDurable(path, [...entries].map(([h, id]) => `${h} ${id}\n`).join(""));
  } catch (e) {
    if (!isWriteRefused(e)) throw e;
    logger.debug("verified-payload record not pruned", { path, error: (e as Error).message });
    return { kept: lines, dropped: 0 };
  }
  return { kept: entries.size, dropped: lines - entries.size };
}
