/**
 * Which payload files are known to hold the bytes the log says, so a read hashes each
 * payload once after it is written or changes on disk, not on every query.
 *
 * Contract:
 * - A record binds a payload's sha256 to the identity of the file that was hashed:
 *   device, inode, size, mtime and ctime (ns). Any write to the file, a replacement, a
 *   rename over it or a chmod changes its ctime, which no user call can set back, so a
 *   file whose identity still matches its record still holds the bytes that were hashed.
 * - Payloads pond writes are recorded when written: their hash is computed from the
 *   bytes written (content-store.ts). Anything else is hashed before use, and recorded.
 * - What this cannot see: bit rot under an unchanged identity (the disk changed a byte
 *   with no write call). `pond verify --deep` / fsck re-hashes every payload for that; a
 *   read that streams the bytes (cat, copy out, push) still hashes them as they pass.
 * - The record is derived data. Missing, torn, another pond's or unwritable (a read-only
 *   pond, a full disk), it is ignored and payloads are hashed: it never stops a read.
 * - Concurrency: each process reads the record once, and on flush re-reads it, merges
 *   its own entries and replaces it atomically (temp file + rename). Two processes
 *   flushing at once can lose one's new entries (they are hashed again next time), never
 *   make a wrong one: each entry is checked against the file's current identity.
 * - "Racy" files (as git calls them): a file changed within the clock tick of the stat
 *   could change again unseen (ctime is kept at the kernel's coarse clock), so a file
 *   whose ctime is less than RACY_MS old is hashed but not recorded.
 */
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { isSystemError, isWriteRefused, logger } from "@pond/diagnostics";
import { IntegrityError } from "@pond/tinyfs";

const FORMAT = 1;
const RACY_MS = 1000;

/** Where verified-payload records are kept (a file in the pond's control folder, or memory). */
export interface VerifiedPayloads {
  /** The identity recorded for `sha256`, if any. */
  get(sha256: string): string | undefined;
  /** Records `sha256` as verified for a file of identity `id` (kept until `flush`). */
  set(sha256: string, id: string): void;
  /** Writes what `set` added since the last flush; a write the disk refuses is skipped. */
  flush(): void;
}

/** Records in memory only (tests, or a pond without a control folder). */
export function memoryVerifiedPayloads(): VerifiedPayloads {
  const m = new Map<string, string>();
  return { get: (s) => m.get(s), set: (s, id) => void m.set(s, id), flush() {} };
}

/** Records in one JSON file, bound to pond `pondId`, merged and replaced atomically on flush. */
export function fileVerifiedPayloads(path: string, pondId: string): VerifiedPayloads {
  let loaded: Map<string, string> | undefined;
  const added = new Map<string, string>();
  const read = (): Map<string, string> => {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (e) {
      // Unreadable (gone, or no permission): hash instead.
      if (isSystemError(e, "ENOENT") || isSystemError(e, "EACCES")) return new Map();
      throw e;
    }
    try {
      const j = JSON.parse(text) as { format?: number; pond?: string; payloads?: Record<string, string> };
      if (j.format !== FORMAT || j.pond !== pondId || typeof j.payloads !== "object" || j.payloads === null) return new Map();
      return new Map(Object.entries(j.payloads).filter(([, v]) => typeof v === "string"));
    } catch (e) {
      if (!(e instanceof SyntaxError)) throw e;
      logger.debug("verified-payload record unreadable, ignored", { path });
      return new Map();
    }
  };
  return {
    get(sha256) {
      return added.get(sha256) ?? (loaded ??= read()).get(sha256);
    },
    set(sha256, id) {
      added.set(sha256, id);
    },
    flush() {
      if (added.size === 0) return;
      // Merge with what other processes recorded since this one read the file.
      const merged = read();
      for (const [k, v] of added) merged.set(k, v);
      const tmp = `${path}.${process.pid}.${crypto.randomUUID()}.tmp`;
      try {
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(tmp, JSON.stringify({ format: FORMAT, pond: pondId, payloads: Object.fromEntries(merged) }));
        renameSync(tmp, path);
        loaded = merged;
        added.clear();
      } catch (e) {
        rmSync(tmp, { force: true });
        if (!isWriteRefused(e)) throw e;
        logger.debug("verified-payload record not written", { path, error: (e as Error).message });
      }
    },
  };
}

/** One payload a read is about to use, and what the log says about it. */
export interface PayloadToCheck {
  hostPath: string;
  sha256: string;
  size: number;
  /** The pond path that uses it, for messages. */
  path: string;
  version: number;
}

export interface PayloadCheckerOptions {
  /** Called for each payload that is hashed in full (tests count these). */
  onHash?: (hostPath: string) => void;
  /** ms since the epoch (racy-file rule); injectable for tests. */
  now?: () => number;
}

/**
 * Checks payload files against the log before a read uses them, hashing only those
 * whose identity is not recorded as verified (see the module comment).
 */
export class PayloadChecker {
  private readonly now: () => number;
  private readonly written: { hostPath: string; sha256: string }[] = [];

  constructor(
    private readonly record: VerifiedPayloads | undefined,
    private readonly opts: PayloadCheckerOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
  }

  /**
   * Throws IntegrityError naming the pond path, version and payload file of the first
   * payload that is missing, unreadable, or whose size or sha256 differs from the log.
   * Payloads verified here are recorded (one flush for the batch).
   */
  verify(items: PayloadToCheck[]): void {
    try {
      const seen = new Set<string>();
      for (const it of items) {
        if (seen.has(it.hostPath)) continue;
        seen.add(it.hostPath);
        this.verifyOne(it);
      }
    } finally {
      this.flush();
    }
  }

  /**
   * Records a payload pond itself just wrote (its hash was computed from the bytes
   * written). The file is stat'ed at `flush`, after the writer has unlinked its temp
   * name (which changes the inode's ctime).
   */
  recordWritten(hostPath: string, sha256: string): void {
    if (this.record) this.written.push({ hostPath, sha256 });
  }

  /** Writes pending records (call after the payloads written are in place: after a commit). */
  flush(): void {
    if (!this.record) return;
    for (const w of this.written.splice(0)) {
      // Not held to the racy rule: pond hashed the bytes it wrote, and nothing else
      // writes a content-addressed file.
      try {
        this.record.set(w.sha256, identityOf(statSync(w.hostPath, { bigint: true })));
      } catch (e) {
        if (!isSystemError(e, "ENOENT")) throw e; // removed since (recover): nothing to record
      }
    }
    this.record.flush();
  }

  private isRacy(ctimeNs: bigint): boolean {
    return BigInt(this.now()) * 1_000_000n - ctimeNs < BigInt(RACY_MS) * 1_000_000n;
  }

  private verifyOne(it: PayloadToCheck): void {
    const where = `"${it.path}" version ${it.version}`;
    let fd: number;
    try {
      fd = openSync(it.hostPath, "r");
    } catch (e) {
      if (isSystemError(e, "ENOENT")) throw new IntegrityError(where, `its payload ${it.hostPath} is missing`, { path: it.path, version: it.version, payload: it.hostPath });
      if (isSystemError(e, "EACCES") || isSystemError(e, "EISDIR")) {
        throw new IntegrityError(where, `its payload ${it.hostPath} cannot be read (${(e as NodeJS.ErrnoException).code})`, { path: it.path, version: it.version, payload: it.hostPath });
      }
      throw e;
    }
    try {
      const before = fstatSync(fd, { bigint: true });
      const id = identityOf(before);
      if (Number(before.size) === it.size && this.record?.get(it.sha256) === id) return;
      this.opts.onHash?.(it.hostPath);
      logger.debug("payload_hashed", { payload: it.hostPath, path: it.path, version: it.version });
      const { size, sha256 } = hashFd(fd);
      if (size !== it.size || sha256 !== it.sha256) {
        throw new IntegrityError(where, `its payload ${it.hostPath} has ${size} bytes with sha256 ${sha256}; the log says ${it.size} bytes with sha256 ${it.sha256}`, {
          path: it.path,
          version: it.version,
          payload: it.hostPath,
        });
      }
      // Record only when nothing changed while it was hashed, and not in the racy tick.
      const after = fstatSync(fd, { bigint: true });
      if (identityOf(after) === id && !this.isRacy(after.ctimeNs)) this.record?.set(it.sha256, id);
    } finally {
      closeSync(fd);
    }
  }
}

/** dev:ino:size:mtimeNs:ctimeNs — what changes when a file's bytes can have changed. */
function identityOf(st: { dev: bigint; ino: bigint; size: bigint; mtimeNs: bigint; ctimeNs: bigint }): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}

function hashFd(fd: number): { size: number; sha256: string } {
  const hasher = new Bun.CryptoHasher("sha256");
  const buf = new Uint8Array(1 << 20);
  let size = 0;
  let pos = 0;
  for (;;) {
    const n = readSync(fd, buf, 0, buf.length, pos);
    if (n === 0) break;
    hasher.update(buf.subarray(0, n));
    size += n;
    pos += n;
  }
  return { size, sha256: hasher.digest("hex") as string };
}
