/**
 * The control log's whole history: compressed archives, then the live file.
 *
 * The history is one sequence of bytes, every record ever appended as a JSON line; a
 * "logical offset" is an offset in it. It is stored in two parts:
 *
 * - Archives: `control/transactions/<from>-<to>.jsonl.zst`, Zstandard frames holding the
 *   complete lines of logical bytes [from, to) (both numbers 20 digits, so the names sort
 *   in order). Written once, durably, and never rewritten.
 * - The live file `control/transactions.jsonl`, where appends go: logical bytes from its
 *   base on. A file whose first line is `{"type":"base","offset":N}` starts at N; one
 *   without it (every pond before rotation existed, and one never rotated) starts at 0.
 *   The header is not part of the history: offsets count from the line after it.
 *
 * The archives that make up the history are the chain [0, a), [a, b), … [x, base). Any
 * other archive is not read: one whose range passes the live file's base is what a
 * rotation killed between writing its archive and replacing the live file leaves (see
 * control-rotate.ts, which removes it once it has checked it holds the live file's first
 * bytes). A rotation writes the archive before the live file that starts after it, and
 * archives of the chain are never removed, so a reader that opens the live file first and
 * lists the archives after always finds the chain its base needs, whatever a rotation does
 * meanwhile (readers take no lock).
 */
import { closeSync, existsSync, fstatSync, openSync, readdirSync, readFileSync, readSync } from "node:fs";
import { join } from "node:path";
import { ControlFileError } from "@pond/oplog";

/** An archive's file name, parsed once: the logical bytes [from, to) it holds. */
export interface ArchiveName {
  file: string;
  from: number;
  to: number;
}

const ARCHIVE_NAME = /^(\d{20})-(\d{20})\.jsonl\.zst$/;
const BASE_PREFIX = '{"type":"base"';

/** `<from>-<to>.jsonl.zst`, or null for any other name (temp files, foreign files). */
export function parseArchiveName(file: string): ArchiveName | null {
  const m = ARCHIVE_NAME.exec(file);
  if (!m) return null;
  const from = Number(m[1]);
  const to = Number(m[2]);
  return to > from ? { file, from, to } : null;
}

export function archiveFileName(from: number, to: number): string {
  return `${String(from).padStart(20, "0")}-${String(to).padStart(20, "0")}.jsonl.zst`;
}

/** The archive folder of a live file: `transactions.jsonl` → `transactions/`. */
export function archiveDirOf(livePath: string): string {
  return livePath.endsWith(".jsonl") ? livePath.slice(0, -".jsonl".length) : `${livePath}.archive`;
}

/** The live file's first line when it starts at `offset`. */
export function baseHeader(offset: number): string {
  return `{"type":"base","offset":${offset}}\n`;
}

/** Archives in `dir` by their names, sorted by `from` then `to` (none when the folder does not exist). */
export function listArchives(dir: string): ArchiveName[] {
  if (!existsSync(dir)) return [];
  const out: ArchiveName[] = [];
  for (const f of readdirSync(dir)) {
    const a = parseArchiveName(f);
    if (a) out.push(a);
  }
  return out.sort((a, b) => a.from - b.from || a.to - b.to);
}

/**
 * What the history is made of at one moment: the live file (held open, so a rotation
 * renaming another over it changes nothing here) and the archives before its base.
 * Close it (or `using` it) when done.
 */
export class ControlHistory implements Disposable {
  /** The archives of [0, base), in order. */
  readonly chain: ArchiveName[];
  /** Archives not in the chain: crash leftovers (from == base) and anything unexplained. */
  readonly unused: ArchiveName[];
  /** The first logical byte the chain lacks, when it does not reach the base. */
  readonly gap: { from: number; to: number } | undefined;
  private readonly decoded = new Map<string, Uint8Array>();

  private constructor(
    readonly livePath: string,
    readonly archiveDir: string,
    private fd: number | undefined,
    /** Logical offset of the live file's first byte after its header. */
    readonly base: number,
    /** Bytes of the header line (0: none). */
    readonly headerBytes: number,
    /** Bytes of the live file after its header. */
    readonly liveBytes: number,
  ) {
    const all = listArchives(archiveDir);
    const chain: ArchiveName[] = [];
    let at = 0;
    for (;;) {
      // Of two archives from one offset (never written by rotation), the longer that fits.
      const next = all.filter((a) => a.from === at && a.to <= base).at(-1);
      if (!next) break;
      chain.push(next);
      at = next.to;
    }
    this.chain = chain;
    this.unused = all.filter((a) => !chain.includes(a));
    this.gap = at < base ? { from: at, to: all.find((a) => a.from > at && a.to <= base)?.from ?? base } : undefined;
  }

  /** Opens the live file at `livePath` (absent: an empty history at base 0), then lists the archives. */
  static open(livePath: string): ControlHistory {
    let fd: number;
    try {
      fd = openSync(livePath, "r");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      return new ControlHistory(livePath, archiveDirOf(livePath), undefined, 0, 0, 0);
    }
    try {
      const size = fstatSync(fd).size;
      const head = new Uint8Array(Math.min(size, 64));
      readSync(fd, head, 0, head.length, 0);
      const { base, headerBytes } = parseHeader(head, livePath);
      return new ControlHistory(livePath, archiveDirOf(livePath), fd, base, headerBytes, size - headerBytes);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  /** The logical size of the history: one past its last byte. */
  get end(): number {
    return this.base + this.liveBytes;
  }

  archivePath(a: ArchiveName): string {
    return join(this.archiveDir, a.file);
  }

  /** The chain's gap as a ControlFileError naming the folder and the fix (call when `gap` is set). */
  gapError(): ControlFileError {
    const g = this.gap!;
    return new ControlFileError(
      this.archiveDir,
      `no archive holds bytes [${g.from}, ${g.to}) of the history (${this.livePath} starts at byte ${this.base})`,
      `Copy the missing ${archiveFileName(g.from, g.to).replace(/\.jsonl\.zst$/, "")}… archive back from a backup of the pond. The data log, not this history, is the record of what was committed: \`pond fsck\` says whether it is whole.`,
    );
  }

  /** An archive's lines, decompressed and checked against its name; ControlFileError when damaged. */
  archive(a: ArchiveName): Uint8Array {
    const hit = this.decoded.get(a.file);
    if (hit) return hit;
    const path = this.archivePath(a);
    const fix = `Copy ${path} back from a backup of the pond. The data log, not this history, is the record of what was committed: \`pond fsck\` says whether it is whole.`;
    let bytes: Uint8Array;
    try {
      bytes = Bun.zstdDecompressSync(readFileSync(path));
    } catch (e) {
      if ((e as { code?: string }).code !== "ERR_ZSTD") throw e;
      throw new ControlFileError(path, `it is not a whole Zstandard frame (${(e as Error).message})`, fix);
    }
    if (bytes.length !== a.to - a.from) throw new ControlFileError(path, `it holds ${bytes.length} bytes, its name says ${a.to - a.from}`, fix);
    if (bytes[bytes.length - 1] !== 0x0a) throw new ControlFileError(path, "its last line is not whole", fix);
    this.decoded.set(a.file, bytes);
    return bytes;
  }

  /** The live file's bytes after its header, from logical offset `from` (≥ base) to the end. */
  live(from = this.base): Uint8Array {
    const buf = new Uint8Array(Math.max(0, this.end - from));
    let got = 0;
    while (this.fd !== undefined && got < buf.length) {
      const n = readSync(this.fd, buf, got, buf.length - got, this.headerBytes + (from - this.base) + got);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got);
  }

  /**
   * Logical bytes [from, end) as parts: the slices of the chain's archives, then of the
   * live file. ControlFileError when the chain has a gap there or an archive is damaged.
   */
  bytesFrom(from: number): Uint8Array[] {
    const parts: Uint8Array[] = [];
    if (this.gap && from < this.gap.to) throw this.gapError();
    for (const a of this.chain) {
      if (a.to <= from) continue;
      parts.push(this.archive(a).subarray(Math.max(0, from - a.from)));
    }
    parts.push(this.live(Math.max(from, this.base)));
    return parts;
  }

  /** True when logical offset `at` starts a line (0, or the byte before it is a newline). */
  isLineStart(at: number): boolean {
    if (at === 0) return true;
    if (at > this.end) return false;
    if (at === this.base || this.chain.some((a) => a.from === at || a.to === at)) return true;
    if (at > this.base) return this.live(at - 1)[0] === 0x0a;
    const a = this.chain.find((x) => x.from < at && at <= x.to);
    if (!a) return false; // in the gap: nothing to continue from
    return this.archive(a)[at - 1 - a.from] === 0x0a;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** The base and the header's length from the live file's first bytes. */
function parseHeader(head: Uint8Array, path: string): { base: number; headerBytes: number } {
  const text = new TextDecoder().decode(head);
  if (!text.startsWith(BASE_PREFIX)) return { base: 0, headerBytes: 0 };
  const nl = text.indexOf("\n");
  const fix = `The first line must be {"type":"base","offset":N}, N the logical offset where the file starts (the "to" of the newest archive in ${archiveDirOf(path)}); fix it by hand, or restore the pond from a backup.`;
  let offset: unknown;
  try {
    offset = nl < 0 ? undefined : (JSON.parse(text.slice(0, nl)) as { offset?: unknown }).offset;
  } catch (e) {
    if (!(e instanceof SyntaxError)) throw e;
  }
  if (typeof offset !== "number" || !Number.isSafeInteger(offset) || offset < 0)
    throw new ControlFileError(path, "its first line starts a base header but is not one", fix);
  return { base: offset, headerBytes: nl + 1 };
}
