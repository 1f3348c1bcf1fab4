import { appendFileSync, closeSync, fstatSync, openSync, readFileSync, readSync, renameSync, rmSync, writeFileSync, writeSync } from "node:fs";
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
function partOfCacheFile(bytes: Bytes): string | undefined {
  let part: string | undefined;
  eachLine(bytes, (from, to) => {
    try {
      const m = members(bytes, from, to).find((m) => m.key === "part");
      const v = m === undefined ? undefined : (JSON.parse(bytes.text(m.start, m.end)) as unknown);
      if (typeof v === "string") part = v;
    } catch (e) {
      if (!(e instanceof SyntaxError)) throw e;
    }
    return part === undefined;
  });
  return part;
}

/** Calls `fn` with each non-empty line's span of `bytes`, while it returns true. */
function eachLine(bytes: Bytes, fn: (from: number, to: number) => boolean): void {
  for (let at = 0; at < bytes.length; ) {
    let end = at;
    while (end < bytes.length && bytes.byte(end) !== NL) end++;
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
    // Read a window at a time, never whole: a collector's cache is a row and a string a
    // version (55 MB at 100,000 versions), and is only scanned, never parsed whole.
    const baseBytes = openIfAny(base);
    try {
      const journalBytes = openIfAny(journal);
      try {
        pruneOne(baseBytes, journalBytes, stem, base, journal);
      } finally {
        journalBytes?.close();
      }
    } finally {
      baseBytes?.close();
    }
  }
  return out;

  function pruneOne(baseBytes: Bytes | undefined, journalBytes: Bytes | undefined, stem: string, base: string, journal: string): void {
    let partId: string | undefined;
    for (const b of [baseBytes, journalBytes]) if (partId === undefined && b !== undefined) partId = partOfCacheFile(b);
    if (partId === undefined || partId.replace(/[^0-9A-Za-z-]/g, "_") !== stem) return;
    // The rows as cached (arrays naming a string table), not as OplogEntry objects: a
    // collector's partition holds a row per version, and decoding them all took ~2 KB a row.
    const { files, dropped } = loadRaw(baseBytes, journalBytes, partId, tableId, keep);
    collectGarbage();
    if (dropped === 0) return;
    const before = sizeOf(base) + sizeOf(journal);
    if (files.size === 0) {
      if (!dryRun) {
        rmSync(journal, { force: true });
        rmSync(base, { force: true });
      }
      out.push({ path: base, dropped, before, after: 0 });
      return;
    }
    const after = dryRun ? writeRawBase(files, partId, tableId, () => {}) : saveRawBase(dir, files, partId, tableId);
    out.push({ path: base, dropped, before, after });
  }
}

/** A cached file's rows as stored: where their JSON array is (UTF-8 bytes), and the string table they index. */
interface RawFile {
  bytes: Bytes;
  start: number;
  end: number;
  table: StringTable;
}

/**
 * Parsed or written bytes between collections (garbageEvery): a few ms each. On run 11's
 * 55 MB cache the prune alone peaked 35 MiB over its start with 2 MiB (1.76 s), 59 with 8
 * (1.60 s), 65 with 32: a row's garbage is a few times its bytes.
 */
const GARBAGE_BYTES = 2 << 20;
/** What the prune writes at once: pieces are gathered to this many characters, then written. */
const WRITE_CHARS = 1 << 16;

const NL = 0x0a;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * What `load` reads (the base, then the journal's files it lacks) of the files `keep`
 * accepts, left as cached rows. The others' bytes are stepped over (`members`), and the kept
 * ones are checked a row at a time (each row parsed, checked and dropped, as are the strings
 * they name), so pruning a collector's cache costs its bytes, not its rows or its text (its
 * string table holds a distinct attributes string a version, and its compacted entry file a
 * row a version). A base or journal line that is not this table's and partition's, or does
 * not scan, is ignored as `load` ignores it.
 */
function loadRaw(
  base: Bytes | undefined,
  journal: Bytes | undefined,
  partId: string,
  tableId: string,
  keep: (entryFile: string) => boolean,
): { files: Map<string, RawFile>; dropped: number } {
  const files = new Map<string, RawFile>();
  const dropped = new Set<string>();
  const collect = garbageEvery(GARBAGE_BYTES);
  /** Adds the kept files of the cache object `bytes` spans; a file already there stays. */
  const add = (bytes: Bytes, from: number, to: number) => {
    const top = new Map(members(bytes, from, to).map((m) => [m.key, m]));
    const value = (k: string): unknown => {
      const m = top.get(k);
      return m === undefined ? undefined : JSON.parse(bytes.text(m.start, m.end));
    };
    if (value("format") !== FORMAT || value("table") !== tableId || value("part") !== partId) return;
    const f = top.get("files");
    if (f === undefined) throw new TypeError("row cache: no files");
    let table: StringTable | undefined;
    eachMember(bytes, f.start, f.end, (key, start, end) => {
      const p = fullPath(key, partId);
      if (files.has(p)) return;
      if (!keep(p)) {
        dropped.add(p);
        return;
      }
      const t = (table ??= new StringTable(bytes, top.get("strings")));
      // Checked here, as `load` checks every row: each row parsed on its own, and dropped.
      eachRow(
        bytes,
        start,
        end,
        (r) => {
          for (const i of [0, 1, 9] as const) t.check(r[i]);
        },
        collect,
      );
      files.set(p, { bytes, start, end, table: t });
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
 * Calls `fn` with each row (parsed) of the JSON array of rows `bytes` spans, one at a time:
 * the same values as `JSON.parse` of the whole array, without holding them all (a
 * collector's compacted entry file has a row a version). SyntaxError when the span is not
 * one array; TypeError when a row is not an array, as iterating a parsed non-array fails.
 */
function eachRow(bytes: Bytes, from: number, to: number, fn: (row: CachedRow) => void, collect: (bytes: number) => void): void {
  eachElement(bytes, from, to, (start, end) => {
    const r = JSON.parse(bytes.text(start, end)) as unknown;
    if (r === null || typeof r !== "object") throw new TypeError("row cache: a row that is not an array");
    fn(r as CachedRow);
    // A row's garbage (its text, values and output) is a few times its bytes: collected
    // every few MiB of rows, not once a file (a collector's file holds a row a version).
    collect(end - start);
  });
}

/** Calls `fn` with where each element of the JSON array `bytes` spans starts and ends, without parsing them. SyntaxError when the span is not one array. */
function eachElement(bytes: Bytes, from: number, to: number, fn: (start: number, end: number) => void): void {
  let i = skipWs(bytes, from, to);
  if (bytes.byte(i) !== 0x5b) {
    // Not an array: what JSON.parse of it would have thrown (SyntaxError), or TypeError for a
    // value that parses but is not rows (iterating it fails in `load`).
    JSON.parse(bytes.text(from, to));
    throw new TypeError("row cache: rows that are not an array");
  }
  i = skipWs(bytes, i + 1, to);
  if (bytes.byte(i) !== 0x5d) {
    for (;;) {
      const start = i;
      i = skipValue(bytes, i, to);
      fn(start, i);
      i = skipWs(bytes, i, to);
      if (bytes.byte(i) === 0x2c) {
        i = skipWs(bytes, i + 1, to);
        continue;
      }
      if (bytes.byte(i) === 0x5d) break;
      throw new SyntaxError(`row cache: no comma at ${i}`);
    }
  }
  if (skipWs(bytes, i + 1, to) !== to) throw new SyntaxError(`row cache: text after the rows at ${i}`);
}

/**
 * A string table (a JSON array of strings) as where each element is in the bytes: found once
 * (a scan), parsed only when asked for, and never kept parsed: a collector's table holds a
 * distinct attributes string a version (~36 MB at 100,000 versions).
 */
class StringTable {
  readonly starts: Uint32Array;
  readonly ends: Uint32Array;
  /** 1 where the element was parsed once (`check`). */
  private readonly checked: Uint8Array;
  constructor(
    readonly bytes: Bytes,
    m: { start: number; end: number } | undefined,
  ) {
    if (m === undefined || bytes.byte(m.start) !== 0x5b) throw new TypeError("row cache: no string table");
    const starts: number[] = [];
    const ends: number[] = [];
    eachElement(bytes, m.start, m.end, (s, e) => {
      if (bytes.byte(s) !== QUOTE) throw new TypeError(`row cache: a string table element that is not a string at ${s}`);
      starts.push(s);
      ends.push(e);
    });
    this.starts = Uint32Array.from(starts);
    this.ends = Uint32Array.from(ends);
    this.checked = new Uint8Array(starts.length);
  }
  has(k: unknown): k is number {
    return typeof k === "number" && Number.isInteger(k) && k >= 0 && k < this.starts.length;
  }
  /** TypeError unless `k` names a string of the table (SyntaxError when that string does not parse), as `load`'s lookup fails. */
  check(k: unknown): void {
    if (!this.has(k)) throw new TypeError(`row cache: no string ${String(k)}`);
    if (this.checked[k] === 1) return;
    this.parse(k);
    this.checked[k] = 1;
  }
  parse(k: number): string {
    return JSON.parse(this.bytes.text(this.starts[k]!, this.ends[k]!)) as string;
  }
}

function skipWs(bytes: Bytes, i: number, to: number): number {
  while (i < to && (bytes.byte(i) === 0x20 || bytes.byte(i) === NL || bytes.byte(i) === 0x0d || bytes.byte(i) === 0x09)) i++;
  return i;
}

/** Where the string starting at `i` (a quote) ends (after its closing quote). UTF-8 continuation bytes are ≥ 0x80, never a quote or a backslash. */
function skipString(bytes: Bytes, i: number, to: number): number {
  for (i++; i < to; i++) {
    if (bytes.byte(i) === BACKSLASH) i++;
    else if (bytes.byte(i) === QUOTE) return i + 1;
  }
  throw new SyntaxError(`row cache: an unterminated string at ${i}`);
}

/** Where the JSON value starting at `i` ends, stepped over without parsing it (a scalar is not checked: its parse does). */
function skipValue(bytes: Bytes, i: number, to: number): number {
  const c = bytes.byte(i);
  if (c === QUOTE) return skipString(bytes, i, to);
  if (c === 0x7b || c === 0x5b) {
    let depth = 0;
    while (i < to) {
      const d = bytes.byte(i);
      if (d === QUOTE) {
        i = skipString(bytes, i, to);
        continue;
      }
      if (d === 0x7b || d === 0x5b) depth++;
      else if (d === 0x7d || d === 0x5d) depth--;
      i++;
      if (depth === 0) return i;
    }
    throw new SyntaxError(`row cache: an unterminated value at ${i}`);
  }
  const s = i;
  while (i < to && bytes.byte(i) !== 0x2c && bytes.byte(i) !== 0x7d && bytes.byte(i) !== 0x5d) i++;
  if (i === s) throw new SyntaxError(`row cache: a missing value at ${i}`);
  return i;
}

/**
 * The members of the JSON object that `bytes` spans from `from` to `to`: each key, and where
 * its value's JSON starts and ends, without parsing the values. SyntaxError when the span is
 * not one object.
 */
function members(bytes: Bytes, from: number, to: number): { key: string; start: number; end: number }[] {
  const out: { key: string; start: number; end: number }[] = [];
  eachMember(bytes, from, to, (key, start, end) => void out.push({ key, start, end }));
  return out;
}

/** Calls `fn` with each member of the object `bytes` spans (see `members`), one at a time: a collector's cache has a member a version. */
function eachMember(bytes: Bytes, from: number, to: number, fn: (key: string, start: number, end: number) => void): void {
  let i = from;
  const bad = (what: string): never => {
    throw new SyntaxError(`row cache: ${what} at ${i}`);
  };
  i = skipWs(bytes, i, to);
  if (bytes.byte(i) !== 0x7b) bad("no object");
  i = skipWs(bytes, i + 1, to);
  if (bytes.byte(i) !== 0x7d) {
    for (;;) {
      i = skipWs(bytes, i, to);
      if (bytes.byte(i) !== QUOTE) bad("no key");
      const ks = i;
      i = skipString(bytes, i, to);
      const key = JSON.parse(bytes.text(ks, i)) as string;
      i = skipWs(bytes, i, to);
      if (bytes.byte(i) !== 0x3a) bad("no colon");
      i = skipWs(bytes, i + 1, to);
      const start = i;
      i = skipValue(bytes, i, to);
      fn(key, start, i);
      i = skipWs(bytes, i, to);
      if (bytes.byte(i) === 0x2c) {
        i++;
        continue;
      }
      if (bytes.byte(i) === 0x7d) break;
      bad("no comma");
    }
  }
  i = skipWs(bytes, i + 1, to);
  if (i !== to) bad("text after the object");
}

/** FNV-1a of a string's UTF-16 code units: the prune's string table is a hash of its strings, not the strings. */
function hashOf(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * The new string table of a prune, numbered as `encode`'s `Strings` numbers it (in order of
 * first use) but holding no string: each entry is where its first use's string is in the
 * cache's bytes (a table and an index), found again by a hash of its value; an old table's
 * index is mapped to its new one once. Two strings are the same entry when their values are
 * equal, as in `Strings`, also across the base's and the journal lines' tables.
 */
class RawStrings {
  private readonly tables: StringTable[] = [];
  private readonly indexes: number[] = [];
  /** Hash → the first entry with it; `next[n]` the next entry with the same hash, -1 none. */
  private readonly byHash = new Map<number, number>();
  private readonly next: number[] = [];
  private readonly maps = new Map<StringTable, Int32Array>();
  get size(): number {
    return this.indexes.length;
  }
  /** The new index of string `k` of `table`. */
  of(table: StringTable, k: number): number {
    let map = this.maps.get(table);
    if (map === undefined) this.maps.set(table, (map = new Int32Array(table.starts.length).fill(-1)));
    const known = map[k]!;
    if (known >= 0) return known;
    const s = table.parse(k);
    const h = hashOf(s);
    const first = this.byHash.get(h);
    let n = first ?? -1;
    while (n >= 0 && this.string(n) !== s) n = this.next[n]!;
    if (n < 0) {
      n = this.indexes.push(k) - 1;
      this.tables.push(table);
      // Newest first in the chain: order does not matter, an entry's number is its place.
      this.next.push(first ?? -1);
      this.byHash.set(h, n);
    }
    map[k] = n;
    return n;
  }
  /** The string of new entry `n`. */
  string(n: number): string {
    return this.tables[n]!.parse(this.indexes[n]!);
  }
}

/**
 * Emits, in pieces, the base text `save` would write for these files (their rows re-indexed
 * into one fresh string table, numbered as `encode` numbers it); returns its length in bytes.
 * Two passes over the files, each parsing one row at a time: the first numbers the strings
 * (which come first in the text), the second writes the strings, then the rows. What it
 * holds is a few numbers a kept string and the pieces not yet emitted: not the rows, not the
 * strings (at 100,000 versions both grew to ~150 MiB of RSS).
 */
function writeRawBase(files: Map<string, RawFile>, partId: string, tableId: string, emit: (piece: string) => void): number {
  let bytes = 0;
  let pending = "";
  const collect = garbageEvery(GARBAGE_BYTES);
  const flush = () => {
    if (pending === "") return;
    bytes += Buffer.byteLength(pending);
    emit(pending);
    collect(pending.length);
    pending = "";
  };
  const out = (piece: string) => {
    pending += piece;
    if (pending.length >= WRITE_CHARS) flush();
  };
  const strings = new RawStrings();
  for (const f of files.values())
    eachRow(
      f.bytes,
      f.start,
      f.end,
      (r) => {
        strings.of(f.table, r[0]);
        strings.of(f.table, r[1]);
        strings.of(f.table, r[9]);
      },
      collect,
    );
  collectGarbage();
  // The same text as JSON.stringify of the object `save` writes: each array is "[" + its
  // elements' JSON joined by "," + "]".
  out(`{"format":${JSON.stringify(FORMAT)},"table":${JSON.stringify(tableId)},"part":${JSON.stringify(partId)},"strings":[`);
  for (let n = 0; n < strings.size; n++) out((n === 0 ? "" : ",") + JSON.stringify(strings.string(n)));
  out(`],"files":{`);
  let first = true;
  for (const [p, f] of files) {
    out(`${first ? "" : ","}${JSON.stringify(shortPath(p, partId))}:[`);
    let firstRow = true;
    eachRow(
      f.bytes,
      f.start,
      f.end,
      (r) => {
        r[0] = strings.of(f.table, r[0]);
        r[1] = strings.of(f.table, r[1]);
        r[9] = strings.of(f.table, r[9]);
        out((firstRow ? "" : ",") + JSON.stringify(r));
        firstRow = false;
      },
      // Counted as written (`flush`).
      () => {},
    );
    out("]");
    first = false;
  }
  out("}}");
  flush();
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

/** The bytes of `path`, read a window at a time (`Bytes`), or undefined when there is none. */
function openIfAny(path: string): Bytes | undefined {
  try {
    return new Bytes(openSync(path, "r"));
  } catch (e) {
    if (isSystemError(e, "ENOENT")) return undefined;
    throw e;
  }
}

/**
 * A file's bytes as the prune scans them, read a window at a time: `byte` reads forward
 * through a 1 MiB window, `text` a span's UTF-8 (a row, a string, a key) through a second,
 * smaller one, so that parsing the strings a row names, far back in the string table, does
 * not move the scan's window. What it holds is the windows, whatever the file's size. The
 * length is the file's when opened: a journal line appended after is not seen (the journal
 * is then deleted with it, as it was when the prune read the file whole).
 */
class Bytes {
  readonly length: number;
  private readonly window = Buffer.allocUnsafe(1 << 20);
  private from = 0;
  private to = 0;
  private readonly textWindow = Buffer.allocUnsafe(1 << 16);
  private textFrom = 0;
  private textTo = 0;
  constructor(private readonly fd: number) {
    this.length = fstatSync(fd).size;
  }
  /** The byte at `i`, -1 past the end. */
  byte(i: number): number {
    if (i < this.from || i >= this.to) {
      if (i < 0 || i >= this.length) return -1;
      this.from = i;
      this.to = i + this.fill(this.window, i);
    }
    return this.window[i - this.from]!;
  }
  /** The UTF-8 text from `start` to `end`. */
  text(start: number, end: number): string {
    if (start >= this.from && end <= this.to) return this.window.toString("utf8", start - this.from, end - this.from);
    if (end - start > this.textWindow.length) {
      const b = Buffer.allocUnsafe(end - start);
      this.read(b, b.length, start);
      return b.toString("utf8");
    }
    if (start < this.textFrom || end > this.textTo) {
      this.textFrom = start;
      this.textTo = start + this.fill(this.textWindow, start);
      if (end > this.textTo) throw new SyntaxError(`row cache: text past the end at ${this.textTo}`);
    }
    return this.textWindow.toString("utf8", start - this.textFrom, end - this.textFrom);
  }
  close(): void {
    closeSync(this.fd);
  }
  /** Fills `b` from `at`, as far as the file goes; returns how much. */
  private fill(b: Buffer, at: number): number {
    return this.read(b, Math.min(b.length, this.length - at), at);
  }
  private read(b: Buffer, n: number, at: number): number {
    let done = 0;
    while (done < n) {
      const got = readSync(this.fd, b, done, n - done, at + done);
      if (got === 0) throw new SyntaxError(`row cache: the file ended at ${at + done}, before ${at + n}`);
      done += got;
    }
    return n;
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
