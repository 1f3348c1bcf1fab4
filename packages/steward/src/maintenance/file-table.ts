/**
 * The files of a pond's `data/` folder as cleanup's scan keeps them: one row a file, in
 * columns (typed arrays), not an object a file. At 100,000 versions a pond holds ~300,000
 * files; as objects (a record, its key, a `why` text made for each) they were ~110 MB of live
 * heap, growing with every version never cleaned. Here a row is its name's UTF-8 bytes in one
 * shared buffer, the index of its folder (a folder's path is kept once), four numbers and three
 * bytes: ~45 bytes plus the name. The reason a file is kept or unneeded is a code (REASON);
 * its text is made when asked for (`why`), from the code, the row's commit and the scan's
 * horizon and checkpoint, so it reads exactly as the record's text did.
 */

export type FileKind = "entry" | "large" | "log" | "temp" | "other";

const KINDS: readonly FileKind[] = ["entry", "large", "log", "temp", "other"];

/** Why a file is reachable or since when it is not: an index into the texts below. */
export const REASON = {
  temp: 0,
  largeNamed: 1,
  largeUndecided: 2,
  entryReachable: 3,
  entryOrphan: 4,
  /** `removed by commit <arg>, behind the horizon <horizon>` */
  entryRemoved: 5,
  other: 6,
  largeOrphan: 7,
  largeRemovedNode: 8,
  largeExpired: 9,
  /** `log before checkpoint <keepFrom>, …` */
  logOld: 10,
  logKept: 11,
} as const;
export type Reason = (typeof REASON)[keyof typeof REASON];

const FIXED: Record<number, string> = {
  [REASON.temp]: "a temp file a writer left",
  [REASON.largeNamed]: "named by a row of an unexpired snapshot",
  [REASON.largeUndecided]: "",
  [REASON.entryReachable]: "an entry file of an unexpired snapshot",
  [REASON.entryOrphan]: "no commit in the log names it (a crash before its commit)",
  [REASON.other]: "not a pond file; left alone",
  [REASON.largeOrphan]: "no row names it (a crash before its commit)",
  [REASON.largeRemovedNode]: "a payload of files removed before the horizon",
  [REASON.largeExpired]: "named only by rows of expired snapshots",
  [REASON.logKept]: "log of unexpired snapshots",
};

const REACHABLE = 1;
const ORPHAN = 2;

/** A file of the table as a record (made on each call: for the few callers that want objects). */
export interface PondFile {
  /** Key under `data/`, with `/` separators. */
  key: string;
  size: number;
  mtimeMs: number;
  kind: FileKind;
  reachable: boolean;
  /** ms since the epoch; set when not reachable. */
  unneededSince?: number;
  /** Unreachable and named by no commit or row still in the log: what a crash before a commit leaves. */
  orphan?: boolean;
  why: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class FileTable implements Iterable<PondFile> {
  /** Rows added so far. */
  length = 0;
  /** The horizon and the checkpoint the log is kept from, for the texts of REASON.entryRemoved and REASON.logOld. */
  horizon = 0;
  keepFrom = 0;
  /** The first rows are the log's (walked first); they are listed after the others (`rows`). */
  logRows = 0;
  private folders: string[] = [];
  private folderIds = new Map<string, number>();
  private names = new Uint8Array(1 << 16);
  private namesUsed = 0;
  private nameEnd = new Uint32Array(1024);
  private folderOf = new Uint32Array(1024);
  private sizes = new Float64Array(1024);
  private mtimes = new Float64Array(1024);
  /** NaN: not set. */
  private since = new Float64Array(1024);
  /** The commit of REASON.entryRemoved. */
  private arg = new Float64Array(1024);
  private kinds = new Uint8Array(1024);
  private flags = new Uint8Array(1024);
  private reasons = new Uint8Array(1024);

  /** Makes room for `rows` more rows whose names take `nameBytes` bytes of UTF-8, exactly (a folder's, before they are added). */
  reserve(rows: number, nameBytes: number): void {
    if (this.length + rows > this.sizes.length) this.resize(this.length + rows);
    if (this.namesUsed + nameBytes > this.names.length) {
      const next = new Uint8Array(this.namesUsed + nameBytes);
      next.set(this.names.subarray(0, this.namesUsed));
      this.names = next;
    }
  }

  /** Adds a file `folder + name` (folder ends with `/` or is empty); returns its row. */
  add(folder: string, name: string, size: number, mtimeMs: number): number {
    const i = this.length;
    if (i === this.sizes.length) this.resize(i * 2);
    let f = this.folderIds.get(folder);
    if (f === undefined) {
      f = this.folders.length;
      this.folders.push(folder);
      this.folderIds.set(folder, f);
    }
    // UTF-8 is at most 3 bytes a UTF-16 unit.
    if (this.namesUsed + name.length * 3 > this.names.length) this.reserve(0, Math.max(this.names.length, name.length * 3));
    this.namesUsed += encoder.encodeInto(name, this.names.subarray(this.namesUsed)).written;
    this.nameEnd[i] = this.namesUsed;
    this.folderOf[i] = f;
    this.sizes[i] = size;
    this.mtimes[i] = mtimeMs;
    this.since[i] = Number.NaN;
    this.arg[i] = Number.NaN;
    this.length = i + 1;
    return i;
  }

  private resize(n: number): void {
    const more = <T extends Uint32Array | Float64Array | Uint8Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(n);
      b.set(a.subarray(0, Math.min(a.length, n)));
      return b;
    };
    this.nameEnd = more(this.nameEnd);
    this.folderOf = more(this.folderOf);
    this.sizes = more(this.sizes);
    this.mtimes = more(this.mtimes);
    this.since = more(this.since);
    this.arg = more(this.arg);
    this.kinds = more(this.kinds);
    this.flags = more(this.flags);
    this.reasons = more(this.reasons);
  }

  /** The row of `key` among rows [from, to), which must be in key order (a walk's), or -1. */
  find(key: string, from: number, to: number): number {
    let lo = from;
    let hi = to;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const k = this.key(mid);
      if (k === key) return mid;
      if (k < key) lo = mid + 1;
      else hi = mid;
    }
    return -1;
  }

  /** The commit noted for row i (setCommit), or undefined. */
  commit(i: number): number | undefined {
    const c = this.arg[i]!;
    return Number.isNaN(c) ? undefined : c;
  }
  setCommit(i: number, version: number): void {
    this.arg[i] = version;
  }
  /** Moves row i's unneeded-since time up to `t` (sets it when unset). */
  raiseSince(i: number, t: number): void {
    const s = this.since[i]!;
    if (Number.isNaN(s) || s < t) this.since[i] = t;
  }

  /** Key under `data/` of row i (a new string each call). */
  key(i: number): string {
    const start = i === 0 ? 0 : this.nameEnd[i - 1]!;
    return this.folders[this.folderOf[i]!]! + decoder.decode(this.names.subarray(start, this.nameEnd[i]!));
  }
  size(i: number): number {
    return this.sizes[i]!;
  }
  mtimeMs(i: number): number {
    return this.mtimes[i]!;
  }
  kind(i: number): FileKind {
    return KINDS[this.kinds[i]!]!;
  }
  reachable(i: number): boolean {
    return (this.flags[i]! & REACHABLE) !== 0;
  }
  orphan(i: number): boolean {
    return (this.flags[i]! & ORPHAN) !== 0;
  }
  /** ms since the epoch; undefined when not set. */
  unneededSince(i: number): number | undefined {
    const s = this.since[i]!;
    return Number.isNaN(s) ? undefined : s;
  }
  reason(i: number): Reason {
    return this.reasons[i]! as Reason;
  }
  why(i: number): string {
    const r = this.reasons[i]!;
    if (r === REASON.entryRemoved) return `removed by commit ${this.arg[i]}, behind the horizon ${this.horizon}`;
    if (r === REASON.logOld) return `log before checkpoint ${this.keepFrom}, which every unexpired snapshot reads from`;
    return FIXED[r]!;
  }

  /** Sets what the scan decided of row i; `commit` is the removing commit of REASON.entryRemoved. */
  mark(i: number, m: { kind: FileKind; reachable: boolean; reason: Reason; unneededSince?: number; orphan?: boolean; commit?: number }): void {
    this.kinds[i] = KINDS.indexOf(m.kind);
    this.flags[i] = (m.reachable ? REACHABLE : 0) | (m.orphan ? ORPHAN : 0);
    this.reasons[i] = m.reason;
    this.since[i] = m.unneededSince ?? Number.NaN;
    this.arg[i] = m.commit ?? Number.NaN;
  }

  /** Row i as a record. */
  get(i: number): PondFile {
    const f: PondFile = { key: this.key(i), size: this.size(i), mtimeMs: this.mtimeMs(i), kind: this.kind(i), reachable: this.reachable(i), why: this.why(i) };
    const since = this.unneededSince(i);
    if (since !== undefined) f.unneededSince = since;
    if (!f.reachable && (f.kind === "entry" || f.kind === "large")) f.orphan = this.orphan(i);
    return f;
  }

  /** Every row, the log's last: the order of the report (a crash midway leaves a log naming nothing deleted). */
  *rows(): Generator<number> {
    for (let i = this.logRows; i < this.length; i++) yield i;
    for (let i = 0; i < this.logRows; i++) yield i;
  }

  *[Symbol.iterator](): Iterator<PondFile> {
    for (const i of this.rows()) yield this.get(i);
  }
}
