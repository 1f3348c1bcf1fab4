import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { isSystemError, logger } from "@pond/diagnostics";
import { writeCache } from "./cache-write.ts";
import type { Snapshot } from "@pond/oplog";

/**
 * A place to keep the newest snapshot between processes, so that opening a pond replays
 * only the commits since, instead of decoding the checkpoint each time (measured: ~55 ms
 * for 1,100 files in the compiled binary, against ~2 ms to parse this JSON). It is
 * derived data: `loadSnapshot` uses it only when it is of the same table, at or after the
 * newest checkpoint and not past the version asked for; a missing or unreadable cache
 * just means the checkpoint is read.
 */
export interface SnapshotCache {
  load(): Snapshot | undefined;
  save(snapshot: Snapshot): void;
}

/**
 * 2: files keep their slim stats (see `save`). 1: without stats (ignored now, so read once
 * from the checkpoint and the log): a format-1 cache kept its entry files stat-less for as
 * long as they lived, and without stats no read can tell which entry files hold a version,
 * so a one-day range on a 100,000-version pond grown by the build before read every
 * version from the row cache (83 MB; 0.8 s, 450 MB peak RSS, against 0.13 s once rebuilt).
 */
const FORMAT = 2;

/** A snapshot cache in one JSON file, replaced atomically; only snapshots of table `tableId` count. */
export function fileSnapshotCache(path: string, tableId: string): SnapshotCache {
  return {
    load() {
      let text: string;
      try {
        text = readFileSync(path, "utf8");
      } catch (e) {
        if (isSystemError(e, "ENOENT")) return undefined;
        throw e;
      }
      try {
        const j = JSON.parse(text) as { format: number; snapshot: Snapshot };
        return j.format === FORMAT && j.snapshot?.metadata?.id === tableId ? j.snapshot : undefined;
      } catch (e) {
        // A torn or foreign cache file is not an error of the pond: read the log instead.
        if (!(e instanceof SyntaxError)) throw e;
        logger.debug("snapshot cache unreadable, ignored", { path });
        return undefined;
      }
    },
    save(snapshot) {
      const tmp = `${path}.${process.pid}.tmp`;
      // Stats are cut to the row count and the node ids' and versions' ranges: whole, they are
      // most of the bytes (914 KB of 1,100 files with them), and these are what prunes which
      // entry files a merge of a series' newest versions reads (compaction.ts' mayHold).
      const slim = {
        ...snapshot,
        files: snapshot.files.map(({ stats, ...f }) => {
          const kept = stats == null ? undefined : slimStats(stats);
          return kept === undefined ? f : { ...f, stats: kept };
        }),
      };
      writeCache(
        "snapshot cache",
        path,
        () => {
          writeFileSync(tmp, JSON.stringify({ format: FORMAT, snapshot: slim }));
          renameSync(tmp, path);
        },
        tmp,
      );
    },
  };
}

/** Of an entry file's stats (JSON text), the row count and the min and max of `node_id` and `version`; undefined when none is there or the text does not parse. */
export function slimStats(stats: string): string | undefined {
  let j: { numRecords?: unknown; minValues?: Record<string, unknown>; maxValues?: Record<string, unknown> };
  try {
    j = JSON.parse(stats) as typeof j;
  } catch (e) {
    if (e instanceof SyntaxError) return undefined;
    throw e;
  }
  const pick = (v: Record<string, unknown> | undefined) =>
    v && typeof v === "object"
      ? { ...(v.node_id === undefined ? {} : { node_id: v.node_id }), ...(v.version === undefined ? {} : { version: v.version }) }
      : {};
  const out = {
    ...(typeof j.numRecords === "number" ? { numRecords: j.numRecords } : {}),
    minValues: pick(j.minValues),
    maxValues: pick(j.maxValues),
  };
  return out.numRecords === undefined && Object.keys(out.minValues).length === 0 && Object.keys(out.maxValues).length === 0 ? undefined : JSON.stringify(out);
}
