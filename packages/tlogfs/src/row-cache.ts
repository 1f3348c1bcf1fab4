import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isSystemError, logger } from "@pond/diagnostics";
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
 */
export interface RowCache {
  /** The cached file rows of `partId`'s entry files, by entry file path. */
  load(partId: string): Map<string, OplogEntry[]>;
  /** Keeps `files` as `partId`'s cache (replacing what was kept). */
  save(partId: string, files: Map<string, OplogEntry[]>): void;
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

/** A row cache in `dir`, one JSON file a partition, replaced atomically; only caches of table `tableId` count. */
export function fileRowCache(dir: string, tableId: string): RowCache {
  const pathOf = (partId: string) => join(dir, `${partId.replace(/[^0-9A-Za-z-]/g, "_")}.json`);
  return {
    load(partId) {
      const path = pathOf(partId);
      let text: string;
      try {
        text = readFileSync(path, "utf8");
      } catch (e) {
        if (isSystemError(e, "ENOENT")) return new Map();
        throw e;
      }
      try {
        const j = JSON.parse(text) as { format: number; table: string; part: string; files: Record<string, CachedRow[]> };
        if (j.format !== FORMAT || j.table !== tableId || j.part !== partId) return new Map();
        return new Map(Object.entries(j.files).map(([p, rows]) => [p, rows.map((r) => fromCached(r, partId))]));
      } catch (e) {
        // A torn or foreign cache file is not an error of the pond: read the entry files.
        if (!(e instanceof SyntaxError) && !(e instanceof TypeError)) throw e;
        logger.debug("row cache unreadable, ignored", { path });
        return new Map();
      }
    },
    save(partId, files) {
      const path = pathOf(partId);
      const tmp = `${path}.${process.pid}.tmp`;
      try {
        mkdirSync(dir, { recursive: true });
        const out: Record<string, CachedRow[]> = {};
        for (const [p, rows] of files) out[p] = rows.map(toCached);
        writeFileSync(tmp, JSON.stringify({ format: FORMAT, table: tableId, part: partId, files: out }));
        renameSync(tmp, path);
      } catch (e) {
        // A pond on a read-only disk still reads; it just reads the entry files each time.
        if (!isSystemError(e, "EACCES") && !isSystemError(e, "EROFS")) throw e;
        logger.debug("row cache not written", { path, error: (e as Error).message });
      }
    },
  };
}
