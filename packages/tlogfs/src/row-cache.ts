import { appendFileSync, closeSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { collectGarbage, garbageEvery, isSystemError, logger } from "@pond/diagnostics";
import { cacheFiles, sizeOf, writeCache, type CachePrune } from "./cache-write.ts";
import { isSeriesCacheFile } from "./series-part-cache.ts";
import type { OplogEntry } from "@pond/oplog";

/**
 * The file rows (every row that is not a directory snapshot) of a partition's entry
 * files, kept between processes. A collector that appends a series version every few
 * minutes makes one entry file per commit in the series' parent partition, and listing
 * the series' versions reads them all: 1,000 one-row files took ~290 ms of every query
 * in the compiled binary, against a few ms to parse them from one JSON file.
 *
 * It is derived data, keyed by entry file path. Entry files are immutable and their
 * names unique, so a path's rows never change; a path not in the cache is read from its
 * file, and a missing, torn or foreign cache only means the files are read.
 *
 * A partition's cache is a base file, rewritten whole, and a journal of the files added
 * since, one line each, appended: a new entry file costs one short append instead of a
 * rewrite of everything, so no command has to read more than the files of the last few
 * commits (with only a base, rewritten once 1/16 was new, a 2,000-version series left up
 * to 125 entry files to read on every command).
 */
export interface RowCache {
  /** The cached file rows of `partId`'s entry files, by entry file path, and the weight of those in the journal (see `cacheWeight`). */
  load(partId: string): { files: Map<string, OplogEntry[]>; journaled: number };
  /** Keeps `files` as `partId`'s cache: a new base, and an empty journal. */
  save(partId: string, files: Map<string, OplogEntry[]>): void;
  /** Adds `files` to `partId`'s cache, as lines appended to its journal. */
  append(partId: string, files: Map<string, OplogEntry[]>): void;
}

/**
 * 2: rows as arrays, with node ids, file types and attributes once in a string table,
 * times as JSON numbers while they are exact in a double, and entry file names without
 * their `part_id=<part>/` folder: 4.85 → 1.94 MB for a series of 10,000 one-version
 * commits, and `describe` of it 410 → 371 ms (medians of 9 interleaved runs). 1: rows as
 * objects (ignored now, rebuilt from the entry files once).
 */
const FORMAT = 2;

/** [node_id, file_type, version, timestamp, content (base64), sha256, size, min_event_time, max_event_time, attributes]; strings that repeat are indexes into the string table. */
type CachedRow = [number, number, number, number | string, string | null, string, number, number | string | null, number | string | null, number];

/** A string table: each distinct string once, rows name it by index. */
class Strings {
  readonly list: string[] = [];
  private readonly index = new Map<string, number>();
  of(s: string): number {
    let i = this.index.get(s);
    if (i === undefined) this.index.set(s, (i = this.list.push(s) - 1));
    return i;
  }
}

/** A µs time as a JSON number when a double holds it exactly, else as decimal text. */
const timeOut = (t: bigint): number | string => (t >= -MAX_EXACT && t <= MAX_EXACT ? Number(t) : t.toString());
const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER);

function toCached(r: OplogEntry, strings: Strings): CachedRow {
  return [
    strings.of(r.node_id),
    strings.of(r.file_type),
    r.version,
    timeOut(r.timestamp),
    r.content === null ? null : Buffer.from(r.content.buffer, r.content.byteOffset, r.content.byteLength).toString("base64"),
    r.sha256,
    r.size,
    r.min_event_time === null ? null : timeOut(r.min_event_time),
    r.max_event_time === null ? null : timeOut(r.max_event_time),
    strings.of(r.attributes),
  ];
}

function fromCached(c: CachedRow, strings: readonly string[], partId: string): OplogEntry {
  const str = (i: number): string => {
    const s = strings[i];
    if (typeof s !== "string") throw new TypeError(`row cache: no string ${i}`);
    return s;
  };
  return {
    part_id: partId,
    node_id: str(c[0]),
    file_type: str(c[1]),
    version: c[2],
    timestamp: BigInt(c[3]),
    content: c[4] === null ? null : new Uint8Array(Buffer.from(c[4], "base64")),
    sha256: c[5],
    size: c[6],
    min_event_time: c[7] === null ? null : BigInt(c[7]),
    max_event_time: c[8] === null ? null : BigInt(c[8]),
    attributes: str(c[9]),
  };
}

/** Entry file paths without the partition's own folder, which every one of them has. */
function shortPath(path: string, partId: string): string {
  const folder = `part_id=${partId}/`;
  return path.startsWith(folder) ? path.slice(folder.length) : `/${path}`;
}
function fullPath(short: string, partId: string): string {
  return short.startsWith("/") ? short.slice(1) : `part_id=${partId}/${short}`;
}

/** Rows of entry files, by short path, with their string table. */
interface Encoded {
  strings: string[];
  files: Record<string, CachedRow[]>;
}

function encode(files: Map<string, OplogEntry[]>, partId: string): Encoded {
  const strings = new Strings();
  const out: Record<string, CachedRow[]> = {};
  for (const [p, rows] of files) out[shortPath(p, partId)] = rows.map((r) => toCached(r, strings));
  return { strings: strings.list, files: out };
}

/** What a file weighs in the cache: its rows, plus one for the file (a file may have none). */
export function cacheWeight(rows: readonly unknown[]): number {
  return rows.length + 1;
}

/** Adds the files of `e` to `into`; returns their weight. */
function decodeInto(into: Map<string, OplogEntry[]>, e: Encoded, partId: string, skipKnown: boolean): number {
  let added = 0;
  for (const [short, rows] of Object.entries(e.files)) {
    const p = fullPath(short, partId);
    if (skipKnown && into.has(p)) continue;
    into.set(
      p,
      rows.map((r) => fromCached(r, e.strings, partId)),
    );
    added += cacheWeight(rows);
  }
  return added;
}

interface JournalLine extends Encoded {
  format: number;
  table: string;
  part: string;
}

/** The text of a partition's base file. */
function baseText(files: Map<string, OplogEntry[]>, partId: string, tableId: string): string {
  return JSON.stringify({ format: FORMAT, table: tableId, part: partId, ...encode(files, partId) });
}

/** The partition a base or journal file is for (its `part`), or undefined when no line of it scans as an object naming one. */
function partOfCacheFile(bytes: Buffer): string | undefined {
  let part: string | undefined;
  eachLine(bytes, (from, to) => {
    try {
      const m = members(bytes, from, to).find((m) => m.key === "part");
      const v = m === undefined ? undefined : (JSON.parse(bytes.toString("utf8", m.start, m.end)) as unknown);
      if (typeof v === "string") part = v;
    } catch (e) {
      if (!(e instanceof SyntaxError)) throw e;
    }
    return part === undefined;
  });
  return part;
}

/** Calls `fn` with each non-empty line's span of `bytes`, while it returns true. */
function eachLine(bytes: Buffer, fn: (from: number, to: number) => boolean): void {
  for (let at = 0; at < bytes.length; ) {
    let end = bytes.indexOf(NL, at);
    if (end < 0) end = bytes.length;
    if (end > at && !fn(at, end)) return;
    at = end + 1;
  }
}

/**
 * Drops from the row caches in `dir` (table `tableId`) the rows of entry files `keep`
 * refuses (files cleanup deleted): a partition's cache that loses any is rewritten as a
 * base without them and an empty journal, or deleted when none is left. Changes nothing
 * on a dry run (it only measures). A cache is derived data: a file it no longer holds is
 * read from the log when a command needs it, so this can cost a read, never an answer.
 * Foreign, torn or old-format caches are left alone (they are ignored anyway).
 */
export function pruneRowCache(dir: string, tableId: string, keep: (entryFile: string) => boolean, dryRun: boolean): CachePrune[] {
  const names = cacheFiles(dir);
  const stems = new Set<string>();
  for (const n of names) {
    if (isSeriesCacheFile(n)) continue;
    if (n.endsWith(".jsonl")) stems.add(n.slice(0, -".jsonl".length));
    else if (n.endsWith(".json")) stems.add(n.slice(0, -".json".length));
  }
  const out: CachePrune[] = [];
  for (const stem of [...stems].sort()) {
    const base = join(dir, `${stem}.json`);
    const journal = join(dir, `${stem}.jsonl`);
    // Bytes, not text: a collector's cache is tens of MB, and is only scanned, never parsed whole.
    const baseBytes = readIfAny(base);
    const journalBytes = readIfAny(journal);
    let partId: string | undefined;
    for (const b of [baseBytes, journalBytes]) if (partId === undefined && b !== undefined) partId = partOfCacheFile(b);
    if (partId === undefined || partId.replace(/[^0-9A-Za-z-]/g, "_") !== stem) continue;
    // The rows as cached (arrays naming a string table), not as OplogEntry objects: a
    // collector's partition holds a row per version, and decoding them all took ~2 KB a row.
    const { files, dropped } = loadRaw(baseBytes, journalBytes, partId, tableId, keep);
    collectGarbage();
    if (dropped === 0) continue;
    const before = sizeOf(base) + sizeOf(journal);
    if (files.size === 0) {
      if (!dryRun) {
        rmSync(journal, { force: true });
        rmSync(base, { force: true });
      }
      out.push({ path: base, dropped, before, after: 0 });
      continue;
    }
    const after = dryRun ? writeRawBase(files, partId, tableId, () => {}) : saveRawBase(dir, files, partId, tableId);
    out.push({ path: base, dropped, before, after });
  }
  return out;
}

/** A cached file's rows as stored: where their JSON is (UTF-8 bytes), and the string table they index. */
interface RawFile {
  bytes: Buffer;
  start: number;
  end: number;
  str: (i: number) => string | undefined;
}

/** Parsed or written bytes between collections (garbageEvery): tens of ms each, a few per prune. */
const GARBAGE_BYTES = 8 << 20;

const NL = 0x0a;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * What `load` reads (the base, then the journal's files it lacks) of the files `keep`
 * accepts, left as cached rows. Only their rows, and the strings they name, are parsed: the
 * others' bytes are stepped over (`members`), so pruning a collector's cache, where most
 * files are ones cleanup deleted, costs the files' bytes (not their text: a collector's
 * string table holds a distinct attributes string a version) and the kept rows. A base or
 * journal line that is not this table's and partition's, or does not scan, is ignored as
 * `load` ignores it.
 */
function loadRaw(
  base: Buffer | undefined,
  journal: Buffer | undefined,
  partId: string,
  tableId: string,
  keep: (entryFile: string) => boolean,
): { files: Map<string, RawFile>; dropped: number } {
  const files = new Map<string, RawFile>();
  const dropped = new Set<string>();
  const collect = garbageEvery(GARBAGE_BYTES);
  /** Adds the kept files of the cache object `bytes` spans; a file already there stays. */
  const add = (bytes: Buffer, from: number, to: number) => {
    const top = new Map(members(bytes, from, to).map((m) => [m.key, m]));
    const value = (k: string): unknown => {
      const m = top.get(k);
      return m === undefined ? undefined : JSON.parse(bytes.toString("utf8", m.start, m.end));
    };
    if (value("format") !== FORMAT || value("table") !== tableId || value("part") !== partId) return;
    const f = top.get("files");
    if (f === undefined) throw new TypeError("row cache: no files");
    let str: RawFile["str"] | undefined;
    eachMember(bytes, f.start, f.end, (key, start, end) => {
      const p = fullPath(key, partId);
      if (files.has(p)) return;
      if (!keep(p)) {
        dropped.add(p);
        return;
      }
      str ??= stringTable(bytes, top.get("strings"));
      // Checked here, as `load` checks every row; parsed again, one file at a time, when written.
      const rows = JSON.parse(bytes.toString("utf8", start, end)) as CachedRow[];
      for (const r of rows) for (const i of [0, 1, 9] as const) if (typeof str(r[i]) !== "string") throw new TypeError(`row cache: no string ${r[i]}`);
      files.set(p, { bytes, start, end, str });
      collect(end - start);
    });
  };
  if (base !== undefined) {
    try {
      add(base, 0, base.length);
    } catch (e) {
      if (!(e instanceof SyntaxError) && !(e instanceof TypeError)) throw e;
      files.clear();
      dropped.clear();
    }
  }
  if (journal !== undefined) {
    eachLine(journal, (from, to) => {
      try {
        add(journal, from, to);
      } catch (e) {
        if (!(e instanceof SyntaxError) && !(e instanceof TypeError)) throw e;
      }
      return true;
    });
  }
  for (const p of files.keys()) dropped.delete(p);
  return { files, dropped: dropped.size };
}

/**
 * The string table whose JSON array `m` spans, as a lookup that parses an element the first
 * time it is asked for: where each element is is found once (a scan), and only the strings
 * kept rows name are parsed. TypeError when there is no array of strings there.
 */
function stringTable(bytes: Buffer, m: { start: number; end: number } | undefined): (i: number) => string | undefined {
  if (m === undefined || bytes[m.start] !== 0x5b) throw new TypeError("row cache: no string table");
  const starts: number[] = [];
  const ends: number[] = [];
  let i = skipWs(bytes, m.start + 1, m.end);
  if (bytes[i] !== 0x5d) {
    for (;;) {
      if (bytes[i] !== QUOTE) throw new TypeError(`row cache: a string table element that is not a string at ${i}`);
      starts.push(i);
      i = skipString(bytes, i, m.end);
      ends.push(i);
      i = skipWs(bytes, i, m.end);
      if (bytes[i] === 0x2c) {
        i = skipWs(bytes, i + 1, m.end);
        continue;
      }
      if (bytes[i] === 0x5d) break;
      throw new SyntaxError(`row cache: no comma at ${i}`);
    }
  }
  const parsed = new Map<number, string>();
  return (k) => {
    if (!Number.isInteger(k) || k < 0 || k >= starts.length) return undefined;
    let s = parsed.get(k);
    if (s === undefined) parsed.set(k, (s = JSON.parse(bytes.toString("utf8", starts[k], ends[k])) as string));
    return s;
  };
}

function skipWs(bytes: Buffer, i: number, to: number): number {
  while (i < to && (bytes[i] === 0x20 || bytes[i] === NL || bytes[i] === 0x0d || bytes[i] === 0x09)) i++;
  return i;
}

/** Where the string starting at `i` (a quote) ends (after its closing quote). UTF-8 continuation bytes are ≥ 0x80, never a quote or a backslash. */
function skipString(bytes: Buffer, i: number, to: number): number {
  for (i++; i < to; i++) {
    if (bytes[i] === BACKSLASH) i++;
    else if (bytes[i] === QUOTE) return i + 1;
  }
  throw new SyntaxError(`row cache: an unterminated string at ${i}`);
}

/**
 * The members of the JSON object that `bytes` spans from `from` to `to`: each key, and where
 * its value's JSON starts and ends, without parsing the values. SyntaxError when the span is
 * not one object.
 */
function members(bytes: Buffer, from: number, to: number): { key: string; start: number; end: number }[] {
  const out: { key: string; start: number; end: number }[] = [];
  eachMember(bytes, from, to, (key, start, end) => void out.push({ key, start, end }));
  return out;
}

/** Calls `fn` with each member of the object `bytes` spans (see `members`), one at a time: a collector's cache has a member a version. */
function eachMember(bytes: Buffer, from: number, to: number, fn: (key: string, start: number, end: number) => void): void {
  let i = from;
  const bad = (what: string): never => {
    throw new SyntaxError(`row cache: ${what} at ${i}`);
  };
  /** Steps over the value starting at i. */
  const val = () => {
    const c = bytes[i];
    if (c === QUOTE) {
      i = skipString(bytes, i, to);
      return;
    }
    if (c === 0x7b || c === 0x5b) {
      let depth = 0;
      while (i < to) {
        const d = bytes[i];
        if (d === QUOTE) {
          i = skipString(bytes, i, to);
          continue;
        }
        if (d === 0x7b || d === 0x5b) depth++;
        else if (d === 0x7d || d === 0x5d) depth--;
        i++;
        if (depth === 0) return;
      }
      bad("an unterminated value");
    }
    const s = i;
    while (i < to && bytes[i] !== 0x2c && bytes[i] !== 0x7d && bytes[i] !== 0x5d) i++;
    if (i === s) bad("a missing value");
  };
  i = skipWs(bytes, i, to);
  if (bytes[i] !== 0x7b) bad("no object");
  i = skipWs(bytes, i + 1, to);
  if (bytes[i] !== 0x7d) {
    for (;;) {
      i = skipWs(bytes, i, to);
      if (bytes[i] !== QUOTE) bad("no key");
      const ks = i;
      i = skipString(bytes, i, to);
      const key = JSON.parse(bytes.toString("utf8", ks, i)) as string;
      i = skipWs(bytes, i, to);
      if (bytes[i] !== 0x3a) bad("no colon");
      i = skipWs(bytes, i + 1, to);
      const start = i;
      val();
      fn(key, start, i);
      i = skipWs(bytes, i, to);
      if (bytes[i] === 0x2c) {
        i++;
        continue;
      }
      if (bytes[i] === 0x7d) break;
      bad("no comma");
    }
  }
  i = skipWs(bytes, i + 1, to);
  if (i !== to) bad("text after the object");
}

/**
 * Emits, in pieces, the base text `save` would write for these files (their rows re-indexed
 * into one fresh string table, numbered as `encode` numbers it); returns its length in bytes.
 * Two passes over the files, each parsing one file's rows at a time: the first numbers the
 * strings (which come first in the text), the second writes the rows.
 */
function writeRawBase(files: Map<string, RawFile>, partId: string, tableId: string, emit: (piece: string) => void): number {
  let bytes = 0;
  const out = (piece: string) => {
    bytes += Buffer.byteLength(piece);
    emit(piece);
  };
  const strings = new Strings();
  const rowsOf = (f: RawFile) => JSON.parse(f.bytes.toString("utf8", f.start, f.end)) as CachedRow[];
  const collect = garbageEvery(GARBAGE_BYTES);
  for (const f of files.values()) {
    collect(f.end - f.start);
    for (const r of rowsOf(f)) {
      strings.of(f.str(r[0])!);
      strings.of(f.str(r[1])!);
      strings.of(f.str(r[9])!);
    }
  }
  // The rows' garbage, then the string table in pieces (the same text as JSON.stringify of
  // the list): as one piece, it and its UTF-8 copy were twice the table at once.
  collectGarbage();
  out(`{"format":${JSON.stringify(FORMAT)},"table":${JSON.stringify(tableId)},"part":${JSON.stringify(partId)},"strings":[`);
  for (let i = 0; i < strings.list.length; i += 1_000) {
    const piece =
      (i === 0 ? "" : ",") +
      strings.list
        .slice(i, i + 1_000)
        .map((s) => JSON.stringify(s))
        .join(",");
    out(piece);
    collect(piece.length);
  }
  out(`],"files":{`);
  let first = true;
  for (const [p, f] of files) {
    collect(f.end - f.start);
    const rows = rowsOf(f);
    for (const r of rows) {
      r[0] = strings.of(f.str(r[0])!);
      r[1] = strings.of(f.str(r[1])!);
      r[9] = strings.of(f.str(r[9])!);
    }
    out(`${first ? "" : ","}${JSON.stringify(shortPath(p, partId))}:${JSON.stringify(rows)}`);
    first = false;
  }
  out("}}");
  return bytes;
}

/** Replaces `partId`'s base with these files (see writeRawBase) and drops its journal, as `save` does; returns the base's length in bytes. */
function saveRawBase(dir: string, files: Map<string, RawFile>, partId: string, tableId: string): number {
  const path = `${join(dir, partId.replace(/[^0-9A-Za-z-]/g, "_"))}.json`;
  const tmp = `${path}.${process.pid}.tmp`;
  let bytes: number | undefined;
  writeCache(
    "row cache",
    path,
    () => {
      const fd = openSync(tmp, "w");
      try {
        bytes = writeRawBase(files, partId, tableId, (piece) => writeSync(fd, piece));
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, path);
      rmSync(`${path.slice(0, -".json".length)}.jsonl`, { force: true });
    },
    tmp,
  );
  // Not written (a full or read-only disk): the size it would have had.
  return bytes ?? writeRawBase(files, partId, tableId, () => {});
}

function readIfAny(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch (e) {
    if (isSystemError(e, "ENOENT")) return undefined;
    throw e;
  }
}

/**
 * A row cache in `dir`: per partition a base `<part>.json`, replaced atomically, and a
 * journal `<part>.jsonl`, appended to; only caches of table `tableId` count. A torn or
 * foreign journal line is skipped (its file is read instead); lines two processes
 * appended for the same file are equal.
 */
export function fileRowCache(dir: string, tableId: string): RowCache {
  const stem = (partId: string) => join(dir, partId.replace(/[^0-9A-Za-z-]/g, "_"));
  /** The text of `path`, or undefined when there is none. */
  const read = (path: string): string | undefined => {
    try {
      return readFileSync(path, "utf8");
    } catch (e) {
      if (isSystemError(e, "ENOENT")) return undefined;
      throw e;
    }
  };
  return {
    load(partId) {
      const files = new Map<string, OplogEntry[]>();
      const base = read(`${stem(partId)}.json`);
      if (base !== undefined) {
        try {
          const j = JSON.parse(base) as Encoded & { format: number; table: string; part: string };
          if (j.format === FORMAT && j.table === tableId && j.part === partId) decodeInto(files, j, partId, false);
        } catch (e) {
          // A torn or foreign cache file is not an error of the pond: read the entry files.
          if (!(e instanceof SyntaxError) && !(e instanceof TypeError)) throw e;
          logger.debug("row cache unreadable, ignored", { path: `${stem(partId)}.json` });
          files.clear();
        }
      }
      let journaled = 0;
      const journal = read(`${stem(partId)}.jsonl`);
      if (journal !== undefined) {
        for (const line of journal.split("\n")) {
          if (line === "") continue;
          try {
            const j = JSON.parse(line) as JournalLine;
            if (j.format !== FORMAT || j.table !== tableId || j.part !== partId) continue;
            journaled += decodeInto(files, j, partId, true);
          } catch (e) {
            if (!(e instanceof SyntaxError) && !(e instanceof TypeError)) throw e;
            logger.debug("row cache journal line unreadable, skipped", { path: `${stem(partId)}.jsonl` });
          }
        }
      }
      return { files, journaled };
    },
    save(partId, files) {
      const path = `${stem(partId)}.json`;
      const tmp = `${path}.${process.pid}.tmp`;
      writeCache(
        "row cache",
        path,
        () => {
          writeFileSync(tmp, baseText(files, partId, tableId));
          renameSync(tmp, path);
          // Lines another process appended after this one loaded are lost with the journal:
          // their files are read again and journaled by the next command that needs them.
          rmSync(`${stem(partId)}.jsonl`, { force: true });
        },
        tmp,
      );
    },
    append(partId, files) {
      const path = `${stem(partId)}.jsonl`;
      // Led by a newline, so a line torn by a killed process spoils only itself.
      let text = "\n";
      for (const [p, rows] of files)
        text += JSON.stringify({ format: FORMAT, table: tableId, part: partId, ...encode(new Map([[p, rows]]), partId) } satisfies JournalLine) + "\n";
      // One write with O_APPEND: lines of processes appending at once do not interleave.
      writeCache("row cache", path, () => appendFileSync(path, text));
    },
  };
}
