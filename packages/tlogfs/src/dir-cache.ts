import { appendFileSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { isSystemError, logger } from "@pond/diagnostics";
import { sizeOf, writeCache, type CachePrune } from "./cache-write.ts";
import type { OplogEntry } from "@pond/oplog";
import { isEntryType, type DirEntry } from "@pond/tinyfs";

/**
 * The newest directory snapshot row of each entry file, kept between processes. Listing
 * a tree reads every directory's newest snapshot, and each lives in its own entry file
 * (Parquet): `pond list '/**'` of 1,000 folders decoded 1,000 Parquet files, ~0.4 s of
 * CPU, against a few ms to parse them from one JSON file.
 *
 * It is derived data, keyed by entry file path: entry files are immutable and their
 * names unique, so what a path holds never changes. A path maps to the directory row it
 * holds for its partition's directory (entry files are partitioned by directory, and a
 * directory's own row lives in its own partition), or to null when it holds none. A path
 * not in the cache is read from its file; a missing, torn or foreign cache only means the
 * files are read. As the row cache (row-cache.ts): a base file rewritten whole, and a
 * journal of the paths added since, one line each, appended.
 */
export interface DirCache {
  /** Every cached path's row (null: the file holds no directory row), and how many of them came from the journal. */
  load(): { rows: DirRows; journaled: number };
  /** Keeps `rows` as the cache: a new base, and an empty journal. */
  save(rows: DirRows | ReadonlyMap<string, OplogEntry | null>): void;
  /** Adds `rows` to the cache, as one line appended to its journal. */
  append(rows: DirRows | ReadonlyMap<string, OplogEntry | null>): void;
}

/** 2: each row with its entries decoded; 1: rows only (ignored now, rebuilt from the entry files once). */
const FORMAT = 2;

/** One entry of a snapshot: [name, child node id, entry type, version last modified]. */
type CachedEntry = [string, string, string, number];

/**
 * [version, timestamp (a JSON number when exact, else text), sha256, size, content
 * (base64), attributes, the snapshot's entries (when they were decoded)], or null.
 * The entries spare a reader decoding the Arrow snapshot: that was 37–59 ms of listing
 * 1,000 folders, against parsing them here as JSON.
 */
type CachedDirRow = [number, number | string, string, number, string, string, CachedEntry[]?] | null;

/** path → row; the partition (= directory) id is the path's `part_id=` folder. */
interface Encoded {
  format: number;
  table: string;
  rows: Record<string, CachedDirRow>;
}

const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER);

function toCached(r: OplogEntry | null, entries?: readonly DirEntry[]): CachedDirRow {
  if (r === null) return null;
  if (r.content === null) throw new TypeError(`directory ${r.node_id} version ${r.version}: no inline snapshot to cache`);
  const t = r.timestamp >= -MAX_EXACT && r.timestamp <= MAX_EXACT ? Number(r.timestamp) : r.timestamp.toString();
  const c: CachedDirRow = [
    r.version,
    t,
    r.sha256,
    r.size,
    Buffer.from(r.content.buffer, r.content.byteOffset, r.content.byteLength).toString("base64"),
    r.attributes,
  ];
  if (entries) c.push(entries.map((e) => [e.name, e.childNodeId, e.entryType, e.versionLastModified]));
  return c;
}

/** Cached entries as DirEntry values; a malformed one is a TypeError (the entry is then read from its file). */
function entriesFrom(c: CachedEntry[]): DirEntry[] {
  if (!Array.isArray(c)) throw new TypeError("dir cache: entries are not a list");
  return c.map((e) => {
    if (
      !Array.isArray(e) ||
      typeof e[0] !== "string" ||
      typeof e[1] !== "string" ||
      typeof e[2] !== "string" ||
      !isEntryType(e[2]) ||
      !Number.isSafeInteger(e[3])
    ) {
      throw new TypeError("dir cache: a malformed entry");
    }
    return { name: e[0], childNodeId: e[1], entryType: e[2], versionLastModified: e[3] };
  });
}

/** The directory id of an entry file path (`part_id=<id>/…`); undefined for any other path. */
function partOf(path: string): string | undefined {
  const m = /^part_id=([^/]+)\//.exec(path);
  return m?.[1];
}

function fromCached(path: string, c: CachedDirRow): OplogEntry | null {
  if (c === null) return null;
  const part = partOf(path);
  if (part === undefined || !Array.isArray(c) || (c.length !== 6 && c.length !== 7)) throw new TypeError(`dir cache: bad entry for ${path}`);
  return {
    part_id: part,
    node_id: part,
    file_type: "directory",
    version: c[0],
    timestamp: BigInt(c[1]),
    content: new Uint8Array(Buffer.from(c[4], "base64")),
    sha256: c[2],
    size: c[3],
    min_event_time: null,
    max_event_time: null,
    attributes: c[5],
  };
}

function encode(rows: DirRows | ReadonlyMap<string, OplogEntry | null>, tableId: string): Encoded {
  const out: Record<string, CachedDirRow> = {};
  if (rows instanceof DirRows) for (const p of rows.paths()) out[p] = rows.cached(p);
  else for (const [p, r] of rows) out[p] = toCached(r);
  return { format: FORMAT, table: tableId, rows: out };
}

/**
 * Cached rows by entry file path, decoded on first use: a command that reads a few
 * directories (`cat` of one file) parses the cache but decodes only their rows.
 */
export class DirRows {
  private readonly raw = new Map<string, CachedDirRow | OplogEntry>();
  private readonly decoded = new Set<string>();
  /** Decoded snapshots' entries, by the row they belong to. */
  private readonly entriesByRow = new WeakMap<OplogEntry, DirEntry[]>();

  get size(): number {
    return this.raw.size;
  }

  paths(): IterableIterator<string> {
    return this.raw.keys();
  }

  /** The row `path` holds (null: none), or undefined when the cache does not know it. A malformed entry is forgotten: the file is read. */
  get(path: string): OplogEntry | null | undefined {
    const v = this.raw.get(path);
    if (v === undefined || v === null || this.decoded.has(path)) return v as OplogEntry | null | undefined;
    try {
      const c = v as CachedDirRow;
      const row = fromCached(path, c)!;
      const entries = c![6] === undefined ? undefined : entriesFrom(c![6]);
      this.raw.set(path, row);
      this.decoded.add(path);
      if (entries) this.entriesByRow.set(row, entries);
      return row;
    } catch (e) {
      if (!(e instanceof TypeError) && !(e instanceof SyntaxError)) throw e;
      logger.debug("dir cache entry unreadable, ignored", { path });
      this.raw.delete(path);
      return undefined;
    }
  }

  /** Keeps `row` (and its snapshot's `entries`, when decoded) for `path`. */
  set(path: string, row: OplogEntry | null, entries?: DirEntry[]): void {
    this.raw.set(path, row);
    this.decoded.add(path);
    if (row && entries) this.entriesByRow.set(row, entries);
  }

  /** The decoded entries of a row this cache handed out or was given, when it has them. */
  entriesOf(row: OplogEntry): DirEntry[] | undefined {
    return this.entriesByRow.get(row);
  }

  delete(path: string): void {
    this.raw.delete(path);
    this.decoded.delete(path);
  }

  /** @internal entries as they are written */
  cached(path: string): CachedDirRow {
    const v = this.raw.get(path);
    if (v === undefined) throw new TypeError(`dir cache: no entry for ${path}`);
    if (!this.decoded.has(path)) return v as CachedDirRow;
    const row = v as OplogEntry | null;
    return toCached(row, row ? this.entriesByRow.get(row) : undefined);
  }

  /** @internal entries read from the cache file */
  setCached(path: string, c: CachedDirRow): void {
    this.raw.set(path, c);
    this.decoded.delete(path);
  }
}

/** Adds the rows of `text` (one encoded object) to `into`; returns how many; 0 for a foreign or unreadable one. */
function decodeInto(into: DirRows, text: string, tableId: string, what: string): number {
  try {
    const j = JSON.parse(text) as Encoded;
    if (j.format !== FORMAT || j.table !== tableId || typeof j.rows !== "object" || j.rows === null) return 0;
    const entries = Object.entries(j.rows);
    for (const [p, c] of entries) {
      if (partOf(p) === undefined || (c !== null && !(Array.isArray(c) && (c.length === 6 || c.length === 7))))
        throw new TypeError(`dir cache: bad entry for ${p}`);
    }
    for (const [p, c] of entries) into.setCached(p, c);
    return entries.length;
  } catch (e) {
    // A torn or foreign cache is not an error of the pond: the entry files are read instead.
    if (!(e instanceof SyntaxError) && !(e instanceof TypeError)) throw e;
    logger.debug("dir cache unreadable, ignored", { what });
    return 0;
  }
}

/**
 * A directory cache at `path` (the base, replaced atomically) and `path` + `l` (the
 * journal, appended to); only caches of table `tableId` count. A torn or foreign journal
 * line is skipped (its files are read instead); lines two processes appended for the same
 * path are equal. A disk that refuses the write (read-only, full) only costs the reads.
 */
export function fileDirCache(path: string, tableId: string): DirCache {
  const journal = `${path}l`;
  const read = (p: string): string | undefined => {
    try {
      return readFileSync(p, "utf8");
    } catch (e) {
      if (isSystemError(e, "ENOENT")) return undefined;
      throw e;
    }
  };
  return {
    load() {
      const rows = new DirRows();
      const base = read(path);
      if (base !== undefined) decodeInto(rows, base, tableId, path);
      let journaled = 0;
      for (const line of read(journal)?.split("\n") ?? []) if (line !== "") journaled += decodeInto(rows, line, tableId, journal);
      return { rows, journaled };
    },
    save(rows) {
      const tmp = `${path}.${process.pid}.tmp`;
      writeCache(
        "dir cache",
        path,
        () => {
          writeFileSync(tmp, JSON.stringify(encode(rows, tableId)));
          renameSync(tmp, path);
          // Lines another process appended after this one loaded are lost with the journal:
          // their files are read again and journaled by the next command that needs them.
          rmSync(journal, { force: true });
        },
        tmp,
      );
    },
    append(rows) {
      // Led by a newline, so a line torn by a killed process spoils only itself; one
      // write with O_APPEND, so lines of processes appending at once do not interleave.
      writeCache("dir cache", journal, () => appendFileSync(journal, `\n${JSON.stringify(encode(rows, tableId))}\n`));
    },
  };
}

/**
 * Drops from the directory cache at `path` (table `tableId`) the rows of entry files
 * `keep` refuses (files cleanup deleted): rewritten as a base without them and an empty
 * journal, or deleted when none is left; a dry run only measures. Derived data: a path it
 * no longer holds is read from its file when a command needs it.
 */
export function pruneDirCache(path: string, tableId: string, keep: (entryFile: string) => boolean, dryRun: boolean): CachePrune[] {
  const journal = `${path}l`;
  const before = sizeOf(path) + sizeOf(journal);
  if (before === 0) return [];
  const cache = fileDirCache(path, tableId);
  const { rows } = cache.load();
  let dropped = 0;
  for (const p of [...rows.paths()]) {
    if (keep(p)) continue;
    rows.delete(p);
    dropped++;
  }
  if (dropped === 0) return [];
  if (rows.size === 0) {
    if (!dryRun) {
      rmSync(journal, { force: true });
      rmSync(path, { force: true });
    }
    return [{ path, dropped, before, after: 0 }];
  }
  const after = Buffer.byteLength(JSON.stringify(encode(rows, tableId)));
  if (!dryRun) cache.save(rows);
  return [{ path, dropped, before, after }];
}
