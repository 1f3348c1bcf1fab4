import { appendFileSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isSystemError, isWriteRefused, logger } from "@pond/diagnostics";
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
  /** The cached file rows of `partId`'s entry files, by entry file path, and how many of them are in the journal. */
  load(partId: string): { files: Map<string, OplogEntry[]>; journaled: number };
  /** Keeps `files` as `partId`'s cache: a new base, and an empty journal. */
  save(partId: string, files: Map<string, OplogEntry[]>): void;
  /** Adds `files` to `partId`'s cache, as lines appended to its journal. */
  append(partId: string, files: Map<string, OplogEntry[]>): void;
}

const FORMAT = 1;

interface CachedRow {
  n: string;
  t: string;
  v: number;
  ts: string;
  c: string | null;
  h: string;
  s: number;
  lo: string | null;
  hi: string | null;
  a: string;
}

function toCached(r: OplogEntry): CachedRow {
  return {
    n: r.node_id,
    t: r.file_type,
    v: r.version,
    ts: r.timestamp.toString(),
    c: r.content === null ? null : Buffer.from(r.content.buffer, r.content.byteOffset, r.content.byteLength).toString("base64"),
    h: r.sha256,
    s: r.size,
    lo: r.min_event_time === null ? null : r.min_event_time.toString(),
    hi: r.max_event_time === null ? null : r.max_event_time.toString(),
    a: r.attributes,
  };
}

function fromCached(c: CachedRow, partId: string): OplogEntry {
  return {
    part_id: partId,
    node_id: c.n,
    file_type: c.t,
    version: c.v,
    timestamp: BigInt(c.ts),
    content: c.c === null ? null : new Uint8Array(Buffer.from(c.c, "base64")),
    sha256: c.h,
    size: c.s,
    min_event_time: c.lo === null ? null : BigInt(c.lo),
    max_event_time: c.hi === null ? null : BigInt(c.hi),
    attributes: c.a,
  };
}

interface JournalLine {
  format: number;
  table: string;
  part: string;
  path: string;
  rows: CachedRow[];
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
  /** Writes unless the disk refuses: a pond on a read-only or full disk still reads, it just reads the entry files each time. */
  const writing = (path: string, write: () => void, tmp?: string): void => {
    try {
      mkdirSync(dir, { recursive: true });
      write();
    } catch (e) {
      if (!isWriteRefused(e)) throw e;
      if (tmp) rmSync(tmp, { force: true });
      logger.debug("row cache not written", { path, error: (e as Error).message });
    }
  };
  return {
    load(partId) {
      const files = new Map<string, OplogEntry[]>();
      const base = read(`${stem(partId)}.json`);
      if (base !== undefined) {
        try {
          const j = JSON.parse(base) as { format: number; table: string; part: string; files: Record<string, CachedRow[]> };
          if (j.format === FORMAT && j.table === tableId && j.part === partId) {
            for (const [p, rows] of Object.entries(j.files)) files.set(p, rows.map((r) => fromCached(r, partId)));
          }
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
            if (j.format !== FORMAT || j.table !== tableId || j.part !== partId || files.has(j.path)) continue;
            files.set(j.path, j.rows.map((r) => fromCached(r, partId)));
            journaled++;
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
      writing(path, () => {
        const out: Record<string, CachedRow[]> = {};
        for (const [p, rows] of files) out[p] = rows.map(toCached);
        writeFileSync(tmp, JSON.stringify({ format: FORMAT, table: tableId, part: partId, files: out }));
        renameSync(tmp, path);
        // Lines another process appended after this one loaded are lost with the journal:
        // their files are read again and journaled by the next command that needs them.
        rmSync(`${stem(partId)}.jsonl`, { force: true });
      }, tmp);
    },
    append(partId, files) {
      const path = `${stem(partId)}.jsonl`;
      // Led by a newline, so a line torn by a killed process spoils only itself.
      let text = "\n";
      for (const [p, rows] of files) text += JSON.stringify({ format: FORMAT, table: tableId, part: partId, path: p, rows: rows.map(toCached) } satisfies JournalLine) + "\n";
      // One write with O_APPEND: lines of processes appending at once do not interleave.
      writing(path, () => appendFileSync(path, text));
    },
  };
}
