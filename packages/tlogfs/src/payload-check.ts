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
import {
  appendFileSync,
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  type BigIntStats,
} from "node:fs";
import { join } from "node:path";
import { isSystemError, isWriteRefused, logger } from "@pond/diagnostics";
import { IntegrityError, newSha256 } from "@pond/tinyfs";

/**
 * The record's folder in the pond's control folder: one shard file per first two hex digits
 * of the payload's sha256 (`verified-payloads/3f.txt`), so that checking or recording one
 * payload reads 1/256 of the record and parses only that payload's own lines.
 */
export const VERIFIED_PAYLOADS_DIR = "verified-payloads";
/** The single-file record of the builds before (`verified-payloads.txt` beside the folder), split into shards by the first write. */
export const VERIFIED_PAYLOADS_LEGACY_FILE = "verified-payloads.txt";

/** Where verified payloads are remembered between processes. */
export interface VerifiedPayloads {
  /** True when `sha256` was verified for a file of exactly this identity (any line saying so is proof: see the module comment). */
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

/** How many record lines lookups parsed in this process (`has`, and the legacy file's fallback): tests read it. */
export const recordLinesParsed = { value: 0 };

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
const IDENTITY = /^\d+:\d+:\d+:\d+:\d+$/;
const SHARD = /^[0-9a-f]{2}\.txt$/;

const shardName = (sha256: string): string => `${sha256.slice(0, 2)}.txt`;

/** A file's text, or "" when it is missing or unreadable (the record is derived data). */
function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    if (isSystemError(e, "ENOENT") || isSystemError(e, "EACCES")) return "";
    throw e;
  }
}

/**
 * The identities that whole lines of `text` record for `sha256`, found by searching the
 * text for the hash at a line start: only those lines are parsed (and counted), so the
 * cost of a lookup does not grow with other payloads' lines. A torn last line (no newline
 * after it) is skipped.
 */
function identitiesIn(text: string, sha256: string): string[] {
  const out: string[] = [];
  const key = `${sha256} `;
  for (let i = text.indexOf(key); i !== -1; i = text.indexOf(key, i + key.length)) {
    if (i > 0 && text[i - 1] !== "\n") continue;
    const end = text.indexOf("\n", i);
    if (end === -1) break;
    recordLinesParsed.value++;
    const identity = text.slice(i + key.length, end);
    if (IDENTITY.test(identity)) out.push(identity);
  }
  return out;
}

/** The whole lines of `text` as [sha256, identity], in order, skipping anything else. */
function parseLines(text: string): [string, string][] {
  const out: [string, string][] = [];
  for (const line of text.split("\n")) {
    const m = LINE.exec(line);
    if (m) out.push([m[1]!, m[2]!]);
  }
  return out;
}

/** One line per hash (the newest), as record text. */
function newestPerHash(lines: readonly [string, string][]): string {
  return [...new Map(lines)].map(([h, id]) => `${h} ${id}\n`).join("");
}

/** Replaces `path` with `text` (temp file, rename; an empty record is removed). */
function rewriteShard(path: string, text: string): void {
  if (text === "") {
    rmSync(path, { force: true });
    return;
  }
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * Splits the single-file record of the builds before (`<dir>.txt`) into `dir`'s shards,
 * appending its lines to theirs, then removes it. Returns undefined when there is none
 * (or it was split), else (a refused write: read-only or full disk) its entries, which
 * lookups then consult as before. Two processes splitting at once, or a split killed
 * midway and done again, only repeat lines: any line whose identity is the file's is
 * proof, and the next rewrite of a shard keeps one line per hash.
 */
function splitLegacy(dir: string): Map<string, string> | undefined {
  const legacy = `${dir}.txt`;
  const text = readText(legacy);
  if (text === "") return undefined;
  const byShard = new Map<string, string[]>();
  const lines = parseLines(text);
  for (const [h, id] of lines) {
    const name = shardName(h);
    let list = byShard.get(name);
    if (!list) byShard.set(name, (list = []));
    list.push(`${h} ${id}\n`);
  }
  try {
    mkdirSync(dir, { recursive: true });
    for (const [name, lines] of byShard) {
      const path = join(dir, name);
      const cur = readText(path);
      appendFileSync(path, `${cur !== "" && !cur.endsWith("\n") ? "\n" : ""}${lines.join("")}`);
    }
    rmSync(legacy, { force: true });
    logger.debug("verified-payload record split into shards", { path: legacy, lines: lines.length, shards: byShard.size });
    return undefined;
  } catch (e) {
    if (!isWriteRefused(e)) throw e;
    logger.debug("verified-payload record not split", { path: legacy, error: (e as Error).message });
    return new Map(lines);
  }
}

/**
 * A record in shard files under `dir` (see VERIFIED_PAYLOADS_DIR), each loaded when a
 * payload of its prefix is first checked or recorded. Appends are single `write`s of one
 * short line (O_APPEND), so two processes appending at once never interleave within a
 * line. A hash recorded again (its file got a new identity: a copied pond, a restored
 * file) has its shard rewritten (temp file, rename) without its older lines, so a shard
 * holds about one line per payload; an append another process makes to that shard
 * meanwhile is lost, which costs that payload one more hash.
 *
 * The legacy single file (`<dir>.txt`, up to a line per payload ever written) is split
 * into the shards by the first write (`record` or `forget`); until then lookups read it
 * as before, so a read, or a `--dry-run`, changes nothing of it.
 */
export function fileVerifiedPayloads(dir: string): VerifiedPayloads {
  const shards = new Map<string, string>();
  // The legacy file's entries while it is not split: undefined when it is missing.
  let legacy: Map<string, string> | undefined;
  let legacyLoaded = false;
  let split = false;
  const legacyEntries = (): Map<string, string> | undefined => {
    if (!legacyLoaded) {
      legacyLoaded = true;
      const text = readText(`${dir}.txt`);
      if (text !== "") {
        const lines = parseLines(text);
        recordLinesParsed.value += lines.length;
        legacy = new Map(lines);
      }
    }
    return legacy;
  };
  const splitOnce = (): void => {
    if (split) return;
    split = true;
    legacy = splitLegacy(dir);
    legacyLoaded = true;
    shards.clear(); // they may have gained the legacy lines
  };
  const shardText = (name: string): string => {
    let text = shards.get(name);
    if (text === undefined) shards.set(name, (text = readText(join(dir, name))));
    return text;
  };
  const refused = (e: unknown, what: string): void => {
    if (!isWriteRefused(e)) throw e;
    logger.debug(`verified-payload record not ${what}`, { path: dir, error: (e as Error).message });
  };
  return {
    has(sha256, identity) {
      if (identitiesIn(shardText(shardName(sha256)), sha256).includes(identity)) return true;
      return legacyEntries()?.get(sha256) === identity;
    },
    record(sha256, identity) {
      const name = shardName(sha256);
      const path = join(dir, name);
      try {
        splitOnce();
        mkdirSync(dir, { recursive: true });
        const text = shardText(name);
        const line = `${sha256} ${identity}\n`;
        if (identitiesIn(text, sha256).length > 0) {
          const next = newestPerHash(parseLines(text).filter(([h]) => h !== sha256)) + line;
          rewriteShard(path, next);
          shards.set(name, next);
        } else {
          // A torn last line (a process killed mid-append) would swallow this append: start it on a new line.
          const add = `${text !== "" && !text.endsWith("\n") ? "\n" : ""}${line}`;
          appendFileSync(path, add);
          shards.set(name, text + add);
        }
      } catch (e) {
        refused(e, "written");
      }
    },
    forget(sha256s) {
      try {
        splitOnce();
        const byShard = new Map<string, Set<string>>();
        for (const sha of sha256s) {
          const name = shardName(sha);
          let set = byShard.get(name);
          if (!set) byShard.set(name, (set = new Set()));
          set.add(sha);
        }
        for (const [name, drop] of byShard) {
          const text = shardText(name);
          if (![...drop].some((sha) => text.includes(`${sha} `))) continue;
          const next = newestPerHash(parseLines(text).filter(([h]) => !drop.has(h)));
          rewriteShard(join(dir, name), next);
          shards.set(name, next);
        }
      } catch (e) {
        refused(e, "rewritten");
      }
    },
  };
}

/**
 * Rewrites the record under `dir` (its shards, after splitting a legacy file) without the
 * lines of payloads `keep` rejects (by sha256), one line per kept hash (the newest),
 * dropping torn lines; for cleanup, after it deleted payload files. Each shard it changes
 * is replaced as `record` and `forget` replace one (rewriteShard: atomically, not fsynced,
 * as a record that is lost only costs hashes), or removed when nothing is left in it; the
 * others are left alone. Readers append without any lock: an append between
 * this read and the rename is lost, which only costs that payload a hash on its next read.
 * Lines are only ever dropped, never added, so a prune cannot make anything pass unhashed.
 * A missing record, or a refused write (read-only disk), is not an error: the record is
 * derived data.
 */
export function pruneVerifiedPayloads(dir: string, keep: (sha256: string) => boolean): { kept: number; dropped: number } {
  if (splitLegacy(dir) !== undefined) return { kept: 0, dropped: 0 }; // a refused write: leave it all
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => SHARD.test(n));
  } catch (e) {
    if (isSystemError(e, "ENOENT") || isSystemError(e, "EACCES")) return { kept: 0, dropped: 0 };
    throw e;
  }
  let kept = 0,
    dropped = 0;
  for (const name of names.sort()) {
    const path = join(dir, name);
    const text = readText(path);
    const lines = text.split("\n").filter((l) => l !== "").length;
    const entries = new Map(parseLines(text).filter(([h]) => keep(h)));
    if (entries.size === lines) {
      kept += lines;
      continue;
    }
    try {
      rewriteShard(path, newestPerHash([...entries]));
    } catch (e) {
      if (!isWriteRefused(e)) throw e;
      logger.debug("verified-payload record not pruned", { path, error: (e as Error).message });
      kept += lines;
      continue;
    }
    kept += entries.size;
    dropped += lines - entries.size;
  }
  return { kept, dropped };
}
