/**
 * Rotation of the control log: the live file's complete lines move into a new archive
 * (control-archive.ts) and the live file starts again after them. The history keeps every
 * byte; only where they are stored changes.
 *
 * The protocol, run under the pond's write lock (every append holds it too):
 * 1. write the archive `<base>-<base+n>.jsonl.zst` durably (temp, fsync, rename, fsync
 *    the folder);
 * 2. replace the live file, durably, by `{"type":"base","offset":base+n}` and whatever
 *    followed those n bytes.
 * A crash between the two leaves the old live file and an archive past its base, which
 * readers do not read; the next rotation removes it once it has checked that it holds the
 * live file's first bytes (then it is that crash's and nothing else's). An archive past the
 * base that does not is left alone and the rotation is refused: it is history that the
 * live file no longer continues (a live file replaced by hand), which fsck reports.
 */
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { ControlFileError, fsyncDirSync, writeFileDurable } from "@pond/oplog";
import { archiveFileName, baseHeader, ControlHistory, type ArchiveName } from "./control-archive.ts";

/** Zstandard level of archives: 9 compresses a mebibyte of history in ~50 ms to ~1/13 (19 takes 2 s for ~20% less). */
export const ARCHIVE_LEVEL = 9;

export interface RotationReport {
  /** The archive written (or, dry, that would be): its file, the logical bytes it holds, its size. */
  archived?: { file: string; from: number; to: number; bytes: number };
  /** Crash leftovers removed (or, dry, that would be). */
  removed: { file: string; bytes: number }[];
  /** Why nothing was archived although the live file is over the threshold. */
  refused?: string;
  /** The live file's bytes after its header, before the rotation. */
  liveBytes: number;
}

/**
 * Archives the live control log at `livePath` when it holds more than `thresholdBytes`
 * after its header. The caller holds the write lock (unless `dryRun`, which changes no
 * byte). A torn last line (a crash mid-append) is not history and is dropped.
 */
export function rotateControl(livePath: string, opts: { thresholdBytes: number; dryRun?: boolean }): RotationReport {
  using h = ControlHistory.open(livePath);
  const report: RotationReport = { removed: [], liveBytes: h.liveBytes };
  // Read only when there is something to do: under the threshold with no stray archive, a stat's worth.
  const live = h.liveBytes > opts.thresholdBytes || h.unused.some((a) => a.to > h.base) ? h.live() : new Uint8Array(0);
  const leftovers: ArchiveName[] = [];
  const strangers: ArchiveName[] = [];
  for (const a of h.unused) {
    if (a.to <= h.base) continue; // beside the chain, before the base: not read, not in the way
    if (a.from === h.base && isPrefix(h, a, live)) leftovers.push(a);
    else strangers.push(a);
  }
  const cut = live.lastIndexOf(0x0a) + 1;
  const rotate = h.liveBytes > opts.thresholdBytes && cut > 0;
  if (strangers.length > 0 && rotate) {
    report.refused = `${strangers.map((a) => h.archivePath(a)).join(", ")} hold(s) history past the live file's start (byte ${h.base}) that the live file does not continue; run \`pond fsck\``;
  }
  const archived = rotate && !report.refused ? { from: h.base, to: h.base + cut } : undefined;
  const compressed = archived ? Bun.zstdCompressSync(live.subarray(0, cut), { level: ARCHIVE_LEVEL }) : undefined;
  if (archived) report.archived = { file: archiveFileName(archived.from, archived.to), ...archived, bytes: compressed!.length };
  // A leftover's bytes are all in the live file still (checked): removing it loses nothing.
  for (const a of leftovers) if (a.file !== report.archived?.file) report.removed.push({ file: a.file, bytes: Bun.file(h.archivePath(a)).size });
  if (opts.dryRun) return report;
  if (archived) {
    if (!existsSync(h.archiveDir)) {
      mkdirSync(h.archiveDir);
      fsyncDirSync(dirname(h.archiveDir));
    }
    writeFileDurable(join(h.archiveDir, report.archived!.file), compressed!);
  }
  for (const r of report.removed) rmSync(join(h.archiveDir, r.file), { force: true });
  // Every complete line is archived; what follows the last one is a torn append, not history.
  if (archived) writeFileDurable(livePath, baseHeader(archived.to));
  return report;
}

/** True when archive `a` (from the base) decodes to the live file's first bytes. */
function isPrefix(h: ControlHistory, a: ArchiveName, live: Uint8Array): boolean {
  if (a.to - a.from > live.length) return false;
  let bytes: Uint8Array;
  try {
    bytes = h.archive(a);
  } catch (e) {
    if (e instanceof ControlFileError) return false; // a damaged archive is no crash's leftover: left for fsck to report
    throw e;
  }
  return Buffer.from(bytes).equals(live.subarray(0, bytes.length));
}
