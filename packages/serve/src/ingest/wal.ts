/**
 * The write-ahead file of streaming ingest: `control/ingest/`, one folder per pond, held
 * by one process at a time (an flock on `control/ingest/lock`, dropped by the kernel when
 * the process dies, even by SIGKILL).
 *
 * Contract:
 * - Each destination has its own segment files, `<key>-<time>-<n>.wal`: a header line
 *   `{"dest": PATH}`, then one JSON record a line, then zeros (space written ahead, so
 *   an fsync has no size change to journal). `append` resolves only once the
 *   record's bytes and (for a new segment) its name are fsynced: a request is answered
 *   after that, so an answered request survives SIGKILL and power loss.
 * - Group commit: appends that arrive while an fsync is in flight are written together
 *   and share the next fsync (one `fdatasync` per segment per round, not per request).
 * - `seal(dest)` closes the destination's current segment: later appends go to a new one.
 *   A flush seals, commits the rows it took, then `remove`s the sealed segments. A crash
 *   anywhere in between leaves them; replay skips what the pond already holds (see
 *   ingester.ts), so nothing is counted twice.
 * - Reading after a crash: a last line that is torn (no newline, or not JSON) is what a
 *   kill mid-write leaves and is dropped; a bad line before the last is damage
 *   (IngestWalDamagedError). A segment is never appended to after a restart.
 */
import { closeSync, existsSync, fdatasync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeSync, ftruncateSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { rm } from "node:fs/promises";
import { promisify } from "node:util";
import { EINTR, EWOULDBLOCK, LOCK_EX, LOCK_NB, flock, isSystemError } from "@pond/diagnostics";
import { fsyncDir } from "@pond/oplog";
import { IngestLockedError, IngestWalDamagedError } from "./errors.ts";

const fdatasyncAsync = promisify(fdatasync);

/** The records of one destination found on disk, oldest first, and the files they came from. */
export interface RecoveredDestination {
  dest: string;
  records: Record<string, unknown>[];
  files: string[];
}

interface Segment {
  path: string;
  fd: number;
  /** Where the next record goes. */
  pos: number;
  /** Bytes of the file allocated (written as zeros) so far. */
  allocated: number;
  /** Its name is not fsynced into the folder yet. */
  fresh: boolean;
  sealed: boolean;
}

interface Pending {
  seg: Segment;
  line: string;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class WriteAheadLog {
  private readonly current = new Map<string, Segment>();
  /** Sealed segments per destination, not yet removed. */
  private readonly sealedFiles = new Map<string, Segment[]>();
  private pending: Pending[] = [];
  private running: Promise<void> | undefined;
  private counter = 0;
  /** fsyncs done (one a segment a round): for tests and the benchmark. */
  syncs = 0;
  /**
   * Group commit (the default): appends waiting while an fsync runs share the next one.
   * Off, each append is written and fsynced alone, in turn (the benchmark's comparison).
   */
  groupCommit = true;
  /** Called after each fsync of a group commit (metrics). */
  onSync: (() => void) | undefined;

  private constructor(
    readonly dir: string,
    private readonly lockFd: number,
  ) {}

  /** Opens (creating) `dir` and takes its lock; IngestLockedError when another process holds it. */
  static open(dir: string): WriteAheadLog {
    mkdirSync(dir, { recursive: true });
    const lockPath = join(dir, "lock");
    const fd = openSync(lockPath, "a+");
    for (;;) {
      const r = flock(fd, LOCK_EX | LOCK_NB);
      if (r.ok) break;
      if (r.errno === EINTR) continue;
      const holder = readFileSync(lockPath, "utf8").trim() || "another process";
      closeSync(fd);
      if (r.errno === EWOULDBLOCK) throw new IngestLockedError(lockPath, holder);
      throw new IngestLockedError(lockPath, `flock failed with errno ${r.errno}`);
    }
    ftruncateSync(fd, 0);
    writeSync(fd, `pid ${process.pid} on ${hostname()} since ${new Date().toISOString()}\n`, 0);
    return new WriteAheadLog(dir, fd);
  }

  /**
   * Every record left by earlier processes, by destination. The files stay until the
   * caller, having committed what they hold, passes them to `remove`.
   */
  recover(): RecoveredDestination[] {
    const byDest = new Map<string, RecoveredDestination>();
    const names = readdirSync(this.dir)
      .filter((n) => n.endsWith(".wal"))
      .sort(bySegmentOrder);
    for (const name of names) {
      const path = join(this.dir, name);
      const { dest, records } = readSegment(path);
      if (dest === undefined) {
        rmSync(path, { force: true }); // torn before its header: it holds nothing acknowledged
        continue;
      }
      let d = byDest.get(dest);
      if (!d) byDest.set(dest, (d = { dest, records: [], files: [] }));
      d.records.push(...records);
      d.files.push(path);
    }
    return [...byDest.values()];
  }

  /** Appends `record` for `dest`; resolves once it is durable (group-committed with others in flight). */
  append(dest: string, record: Record<string, unknown>): Promise<void> {
    const seg = this.segmentFor(dest);
    return new Promise((resolve, reject) => {
      this.pending.push({ seg, line: `${JSON.stringify(record)}\n`, resolve, reject });
      this.running ??= this.drain();
    });
  }

  /**
   * Closes `dest`'s current segment to new appends and waits until every append made to
   * it is durable. Returns the sealed segment files of `dest` (this one and any sealed
   * before and not yet removed), to `remove` once their rows are committed.
   */
  async seal(dest: string): Promise<string[]> {
    const seg = this.current.get(dest);
    if (seg) {
      this.current.delete(dest);
      seg.sealed = true;
      const list = this.sealedFiles.get(dest) ?? [];
      list.push(seg);
      this.sealedFiles.set(dest, list);
    }
    await this.idle();
    return (this.sealedFiles.get(dest) ?? []).map((s) => s.path);
  }

  /** Takes recovered segment files of `dest` as sealed: the next flush of `dest` removes them once it committed. */
  adopt(dest: string, files: readonly string[]): void {
    const list = this.sealedFiles.get(dest) ?? [];
    for (const path of files) list.push({ path, fd: -1, pos: 0, allocated: 0, fresh: false, sealed: true });
    this.sealedFiles.set(dest, list);
  }

  /** Removes segment files whose records are committed (sealed ones of this process, or recovered ones). */
  async remove(dest: string, files: readonly string[]): Promise<void> {
    if (files.length === 0) return;
    const set = new Set(files);
    const left: Segment[] = [];
    for (const s of this.sealedFiles.get(dest) ?? []) {
      if (set.has(s.path)) {
        if (s.fd >= 0) closeSync(s.fd);
      } else left.push(s);
    }
    this.sealedFiles.set(dest, left);
    // Unlinking a segment frees its blocks, which took ~20 ms each under load: off the event loop.
    await Promise.all(files.map((f) => rm(f, { force: true })));
    await fsyncDir(this.dir);
  }

  /** Resolves when no append is waiting or being written. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Waits for appends in flight, closes every file and drops the lock. Segments stay for the next process. */
  async close(): Promise<void> {
    await this.idle();
    for (const s of this.current.values()) closeSync(s.fd);
    for (const list of this.sealedFiles.values()) for (const s of list) if (s.fd >= 0) closeSync(s.fd);
    this.current.clear();
    this.sealedFiles.clear();
    ftruncateSync(this.lockFd, 0);
    closeSync(this.lockFd);
  }

  private segmentFor(dest: string): Segment {
    let seg = this.current.get(dest);
    if (seg) return seg;
    const name = `${destKey(dest)}-${Date.now().toString().padStart(15, "0")}-${String(this.counter++).padStart(6, "0")}.wal`;
    const path = join(this.dir, name);
    const fd = openSync(path, "wx", 0o644);
    const header = Buffer.from(`${JSON.stringify({ dest })}\n`);
    writeAll(fd, header, 0);
    seg = { path, fd, pos: header.length, allocated: header.length, fresh: true, sealed: false };
    this.preallocate(seg, 0);
    this.current.set(dest, seg);
    return seg;
  }

  /**
   * Makes room for `more` bytes at the segment's end by writing zeros ahead, a MiB at a
   * time. Records then overwrite allocated blocks, so an fdatasync has no size change to
   * journal: measured 2-5× faster at p50/p99 than appending on this machine's disk under
   * load. A reader stops at the first zero byte.
   */
  private preallocate(seg: Segment, more: number): void {
    if (seg.pos + more <= seg.allocated) return;
    const grow = Math.max(PREALLOCATE, more);
    writeAll(seg.fd, Buffer.alloc(grow), seg.allocated);
    seg.allocated += grow; // fdatasync persists the new size with the data (it is needed to read them)
  }

  /** The group-commit loop: writes everything pending, one fsync a segment, resolves those, and goes again while more came. */
  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.groupCommit ? this.pending : this.pending.slice(0, 1);
        this.pending = this.groupCommit ? [] : this.pending.slice(1);
        const bySeg = new Map<Segment, Pending[]>();
        for (const p of batch) {
          const list = bySeg.get(p.seg);
          if (list) list.push(p);
          else bySeg.set(p.seg, [p]);
        }
        await Promise.all(
          [...bySeg].map(async ([seg, list]) => {
            try {
              const bytes = Buffer.from(list.map((p) => p.line).join(""));
              this.preallocate(seg, bytes.length);
              writeAll(seg.fd, bytes, seg.pos);
              seg.pos += bytes.length;
              await fdatasyncAsync(seg.fd);
              this.syncs++;
              this.onSync?.();
              if (seg.fresh) {
                await fsyncDir(this.dir);
                seg.fresh = false;
              }
              for (const p of list) p.resolve();
            } catch (e) {
              for (const p of list) p.reject(e);
            }
          }),
        );
      }
    } finally {
      this.running = undefined;
    }
  }
}

/** Zeros written ahead of a segment's records (see `preallocate`). */
const PREALLOCATE = 1024 * 1024;

function writeAll(fd: number, bytes: Uint8Array, position: number): void {
  let off = 0;
  while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off, position + off);
}

/** Segment files in the order they were written: by their time, then their counter (the names sort so). */
function bySegmentOrder(a: string, b: string): number {
  const ka = a.slice(a.indexOf("-") + 1);
  const kb = b.slice(b.indexOf("-") + 1);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** A short stable name for a destination path (its files are found by their header, not this). */
function destKey(dest: string): string {
  return new Bun.CryptoHasher("sha256").update(dest).digest("hex").slice(0, 16);
}

/** A segment's destination and records; a torn last line is dropped, a bad earlier one is damage. */
export function readSegment(path: string): { dest?: string; records: Record<string, unknown>[] } {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if (isSystemError(e, "ENOENT")) return { records: [] };
    throw e;
  }
  // Preallocated zeros follow the last record written.
  const end = text.indexOf("\0");
  const lines = (end < 0 ? text : text.slice(0, end)).split("\n");
  // A complete file ends with "\n", so its last element is "": anything else there is a torn write.
  const complete = lines.slice(0, -1);
  const parsed: Record<string, unknown>[] = [];
  for (let i = 0; i < complete.length; i++) {
    const l = complete[i]!;
    try {
      parsed.push(JSON.parse(l) as Record<string, unknown>);
    } catch (e) {
      if (!(e instanceof SyntaxError)) throw e;
      // A torn write can also leave a line of zeros or half a record followed by a
      // newline only if another write followed it, which a segment never has after a crash.
      if (i === complete.length - 1) break;
      throw new IngestWalDamagedError(path, i + 1, `not JSON (${e.message})`);
    }
  }
  const header = parsed.shift();
  const dest = typeof header?.dest === "string" ? header.dest : undefined;
  return { dest, records: parsed };
}

/** True when `dir` holds segment files (something to replay). */
export function hasSegments(dir: string): boolean {
  return existsSync(dir) && readdirSync(dir).some((n) => n.endsWith(".wal"));
}
