import { closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, writeSync } from "node:fs";
import { ControlFileError } from "@pond/oplog";
import { ControlHistory } from "./control-archive.ts";

/**
 * The steward's own record of write transactions: `control/transactions.jsonl`, one
 * JSON object a line, appended (and fsynced) under the write lock. A torn last line
 * (a crash mid-append) is ignored on read. `pond maintain cleanup` moves old lines into
 * compressed archives (control-archive.ts, control-rotate.ts); an append never reads them.
 */
export type ControlRecord =
  | { type: "begin"; txnId: string; baseSeq: number; command: string[]; user: string; startedAt: number; pid: number }
  | { type: "committed"; txnId: string; seq: number; endedAt: number; durationMs: number; changes: string[] }
  | { type: "failed"; txnId: string; endedAt: number; durationMs: number; error: string; code: string }
  | { type: "recovered"; txnId: string; endedAt: number; outcome: "committed" | "failed"; seq?: number; detail: string };

/**
 * Appends one record and fsyncs it. The caller holds the write lock. A torn last line (a
 * crash mid-append; readers skip it) is cut off first: appended to, it would swallow this
 * record and become a damaged line in the middle. Checking costs one fstat and a one-byte
 * read; the tail is read back only when it is torn.
 */
export function appendControl(path: string, rec: ControlRecord): void {
  const fd = openSync(path, "a+");
  try {
    const size = fstatSync(fd).size;
    const last = new Uint8Array(1);
    if (size > 0 && readSync(fd, last, 0, 1, size - 1) === 1 && last[0] !== 0x0a) ftruncateSync(fd, wholeLinesEnd(fd, size));
    writeSync(fd, JSON.stringify(rec) + "\n");
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The offset just past the file's last newline (0: none), read backwards in blocks. */
function wholeLinesEnd(fd: number, size: number): number {
  const block = new Uint8Array(4096);
  for (let end = size; end > 0; ) {
    const start = Math.max(0, end - block.length);
    const n = readSync(fd, block, 0, end - start, start);
    const at = block.subarray(0, n).lastIndexOf(0x0a);
    if (at >= 0) return start + at + 1;
    end = start;
  }
  return 0;
}

/**
 * Every record of the history, oldest first: the archives (control-archive.ts), then the
 * live file at `path`. A damaged archive, a gap in them, or a damaged line of the live file
 * before its last is ControlFileError naming the file and the fix.
 */
export function readControl(path: string): ControlRecord[] {
  const { archived, live } = readControlParts(path);
  return archived.length === 0 ? live : [...archived, ...live];
}

/**
 * The newest part of the history: the live file's records, then as many archives as it takes
 * (newest first, each decompressed only when needed) to hold the last `count` begin records
 * and everything after them. So the last `count` transactions of `foldControl` of it are those
 * of the whole history, and `pond log --limit N` does not read years of archives.
 */
export function readControlTail(path: string, count: number): ControlRecord[] {
  using h = ControlHistory.open(path);
  let records: ControlRecord[] = [];
  parseLines(h.live(), path, h.headerBytes > 0 ? 1 : 0, true, records);
  let begins = records.filter((r) => r.type === "begin").length;
  for (let i = h.chain.length - 1; i >= 0 && begins < count; i--) {
    if (h.gap) throw h.gapError(); // the archives just before the live file are missing
    const a = h.chain[i]!;
    const older: ControlRecord[] = [];
    parseLines(h.archive(a), h.archivePath(a), 0, false, older);
    begins += older.filter((r) => r.type === "begin").length;
    records = [...older, ...records];
  }
  return records;
}

/** The history in its two parts: the archives' records, and the live file's with its base offset. */
export function readControlParts(path: string): { archived: ControlRecord[]; base: number; live: ControlRecord[] } {
  using h = ControlHistory.open(path);
  if (h.gap) throw h.gapError();
  const archived: ControlRecord[] = [];
  for (const a of h.chain) parseLines(h.archive(a), h.archivePath(a), 0, false, archived);
  const live: ControlRecord[] = [];
  parseLines(h.live(), path, h.headerBytes > 0 ? 1 : 0, true, live);
  return { archived, base: h.base, live };
}

/**
 * Every damage in the history, each as the ControlFileError a read would meet, for fsck: a
 * bad base header, a gap in the archives, each archive that does not decode or has a line
 * that is not JSON, the live file's damaged lines, and archives past the live file's base
 * that are not a killed rotation's leftover (history the live file does not continue).
 */
export function checkControlHistory(path: string): ControlFileError[] {
  const found: ControlFileError[] = [];
  const collect = (fn: () => void) => {
    try {
      fn();
    } catch (e) {
      if (!(e instanceof ControlFileError)) throw e;
      found.push(e);
    }
  };
  let opened: ControlHistory | undefined;
  collect(() => {
    opened = ControlHistory.open(path);
  });
  if (!opened) return found;
  const h: ControlHistory = opened;
  try {
    if (h.gap) found.push(h.gapError());
    for (const a of h.chain) collect(() => parseLines(h.archive(a), h.archivePath(a), 0, false, []));
    collect(() => parseLines(h.live(), path, h.headerBytes > 0 ? 1 : 0, true, []));
    const live = h.live();
    for (const a of h.unused) {
      if (a.to <= h.base) continue;
      let leftover = false;
      collect(() => {
        const bytes = h.archive(a);
        leftover = a.from === h.base && Buffer.from(bytes).equals(live.subarray(0, bytes.length));
      });
      if (!leftover && found.every((e) => (e.data as { path?: string }).path !== h.archivePath(a)))
        found.push(
          new ControlFileError(
            h.archivePath(a),
            `it holds history bytes [${a.from}, ${a.to}), past the start of ${path} (byte ${h.base}), which does not continue it`,
            `If ${path} was replaced, put the old one back; else move this archive out of ${h.archiveDir} (\`pond log\` does not show its lines either way).`,
          ),
        );
    }
  } finally {
    h.close();
  }
  return found;
}

/** Appends the records of `bytes` (JSON lines) to `out`; `firstLine` lines precede them in the file. */
function parseLines(bytes: Uint8Array, path: string, firstLine: number, tornTailAllowed: boolean, out: ControlRecord[]): void {
  const lines = new TextDecoder().decode(bytes).split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line) continue;
    try {
      out.push(JSON.parse(line) as ControlRecord);
    } catch (e) {
      if (!(e instanceof SyntaxError)) throw e;
      // Only the live file's last line can be torn by a crash mid-append; anything else is damage.
      if (tornTailAllowed && i >= lines.length - 2) continue;
      throw new ControlFileError(
        path,
        `line ${firstLine + i + 1} is not JSON (${e.message})`,
        tornTailAllowed
          ? `The data log, not this file, is the record of what was committed: restore ${path} from a backup, or fix or delete that line by hand (keep the first line if it is {"type":"base",…}).`
          : `The data log, not this file, is the record of what was committed: copy ${path} back from a backup of the pond.`,
      );
    }
  }
}

/** One write transaction as the control log tells it. */
export interface TxnHistory {
  txnId: string;
  status: "committed" | "failed" | "incomplete";
  seq?: number;
  baseSeq: number;
  command: string[];
  user: string;
  startedAt: number;
  durationMs?: number;
  changes: string[];
  error?: string;
  recovered?: string;
}

/** Folds the records into one entry per transaction, in begin order. */
export function foldControl(records: ControlRecord[]): TxnHistory[] {
  const byId = new Map<string, TxnHistory>();
  for (const r of records) {
    if (r.type === "begin") {
      byId.set(r.txnId, { txnId: r.txnId, status: "incomplete", baseSeq: r.baseSeq, command: r.command, user: r.user, startedAt: r.startedAt, changes: [] });
      continue;
    }
    const t = byId.get(r.txnId);
    if (!t) continue;
    if (r.type === "committed") Object.assign(t, { status: "committed", seq: r.seq, durationMs: r.durationMs, changes: r.changes });
    else if (r.type === "failed") Object.assign(t, { status: "failed", durationMs: r.durationMs, error: r.error });
    else Object.assign(t, { status: r.outcome, seq: r.seq, recovered: r.detail });
  }
  return [...byId.values()];
}
