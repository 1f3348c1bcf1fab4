import { existsSync, rmSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { collectGarbage, garbageEvery, silentProgress, type Progress } from "@pond/diagnostics";
import { CHECKPOINT_FIELDS, checkpointKey, eachCommit, LAST_CHECKPOINT_KEY, latestVersion, loadSnapshot, writeCheckpoint } from "@pond/oplog";
import { largeFileKey, pruneDirCache, pruneRowCache, pruneSeriesSummaries, pruneVerifiedPayloads, VERIFIED_PAYLOADS_DIR, type CachePrune } from "@pond/tlogfs";
import { MirrorReadOnlyError } from "../errors.ts";
import type { Pond } from "../pond.ts";
import { planHorizon, readExpiry, writeExpiry } from "./expiry.ts";
import { scanPond, type FileTable, type ScanPlan } from "./reachability.ts";
import { StepItems, type ItemSource, type StepItem } from "./step-items.ts";
import { readRemotes } from "../remote-config.ts";
import { rotateControl } from "../control-rotate.ts";
import { configValue, parseSize } from "./pond-config.ts";

/** The remote (not a pull source) pushed least far, and the newest version it has (-1: none yet). */
function pushFloor(pond: Pond): { name: string; version: number } | undefined {
  let floor: { name: string; version: number } | undefined;
  for (const r of readRemotes(pond.paths)) {
    if (r.mode === "pull") continue;
    const version = r.lastPushed?.version ?? -1;
    if (floor === undefined || version < floor.version) floor = { name: r.name, version };
  }
  return floor;
}

/** What one maintenance step did (or, with dryRun, would do): the files and bytes it touched. */
export interface MaintenanceStep {
  step: "expire" | "merge" | "checkpoint" | "cleanup";
  dryRun: boolean;
  files: number;
  bytes: number;
  detail: string;
  /** The files, in order (step-items.ts: cleanup's are made from its file table as they are read). */
  items: StepItems;
}

/** Maintenance changes the pond's own files: refused on a mirror, like any write. */
function checkWritable(pond: Pond): void {
  if (pond.identity.mirrorOf) throw new MirrorReadOnlyError(pond.dir, pond.identity.mirrorOf);
}

/**
 * What the dry runs of expire and checkpoint so far would have written, per pond: the dry run
 * of a cleanup after them in the same command (`full --dry-run`) plans against it, so that it
 * reports what the real `full` would delete.
 */
const dryRunPlans = new WeakMap<Pond, ScanPlan>();

/** Runs `fn` under the write lock, or without it on a dry run (which must change no byte, not even a lock file). */
function locked<T>(pond: Pond, what: string, dryRun: boolean, fn: () => Promise<T>): Promise<T> {
  return dryRun ? fn() : pond.withLock(what, fn);
}

/**
 * Moves the horizon: snapshots older than `olderThanMs` (by commit time) or all but the
 * newest `keepLast` can no longer be read. Logical: deletes nothing. The newest snapshot
 * is never expired and an expired one never comes back.
 */
export async function expire(
  pond: Pond,
  rule: { olderThanMs?: number; keepLast?: number; label: string; dryRun?: boolean; now?: number },
): Promise<MaintenanceStep> {
  checkWritable(pond);
  const dryRun = rule.dryRun ?? false;
  return locked(pond, "pond maintain expire", dryRun, async () => {
    const now = rule.now ?? Date.now();
    const state = readExpiry(pond.paths.control);
    // Each commit's version and time only: the commits themselves are read a window at a time and dropped.
    const commits: { version: number; timestamp: number }[] = [];
    await eachCommit(pond.persistence.store, ({ version, timestamp }) => void commits.push({ version, timestamp }));
    const horizon = planHorizon(commits, state.horizon, { ...rule, now });
    const newly = commits.filter((c) => c.version >= state.horizon && c.version < horizon);
    if (horizon > state.horizon) {
      const next = { horizon, history: [...state.history, { horizon, at: now, rule: rule.label }] };
      if (dryRun) dryRunPlans.set(pond, { ...dryRunPlans.get(pond), expiry: next });
      else writeExpiry(pond.paths.control, next);
    }
    return {
      step: "expire",
      dryRun,
      files: 0,
      bytes: 0,
      detail:
        horizon > state.horizon
          ? `${newly.length} snapshot(s) ${dryRun ? "would be" : ""} expired (${state.horizon}..${horizon - 1}); the oldest readable is now ${horizon}`.replace(
              "  ",
              " ",
            )
          : `nothing to expire; the oldest readable snapshot is ${state.horizon}`,
      items: new StepItems(),
    };
  });
}

/** The version `_last_checkpoint` names (undefined: none, or unreadable). */
async function lastCheckpointVersion(store: Pond["persistence"]["store"]): Promise<number | undefined> {
  try {
    const v = (JSON.parse(new TextDecoder().decode(await store.get(LAST_CHECKPOINT_KEY))) as { version?: unknown }).version;
    return typeof v === "number" ? v : undefined;
  } catch (e) {
    if (e instanceof SyntaxError) return undefined;
    if (!(await store.head(LAST_CHECKPOINT_KEY))) return undefined;
    throw e;
  }
}

/** Writes a Delta checkpoint of the newest version now (one Parquet file in `_delta_log/`). */
export async function checkpoint(pond: Pond, opts: { dryRun?: boolean } = {}): Promise<MaintenanceStep> {
  checkWritable(pond);
  const dryRun = opts.dryRun ?? false;
  return locked(pond, "pond maintain checkpoint", dryRun, async () => {
    const store = pond.persistence.store;
    const version = (await latestVersion(store)) ?? 0;
    const snap = await loadSnapshot(store, { version });
    const key = checkpointKey(version);
    const existing = await store.head(key);
    if (existing) {
      // A kill between the checkpoint and its pointer leaves `_last_checkpoint` naming an older one: point it here.
      const last = await lastCheckpointVersion(store);
      if (last === version || dryRun)
        return { step: "checkpoint", dryRun, files: 0, bytes: 0, detail: `version ${version} already has a checkpoint (${key})`, items: new StepItems() };
      await writeCheckpoint(store, snap); // the checkpoint is left alone; _last_checkpoint is rewritten
      return {
        step: "checkpoint",
        dryRun,
        files: 1,
        bytes: (await store.head(LAST_CHECKPOINT_KEY))?.size ?? 0,
        detail: `version ${version} already has a checkpoint (${key}); _last_checkpoint named ${last ?? "none"}, now ${version}`,
        items: new StepItems([
          { key: LAST_CHECKPOINT_KEY, size: (await store.head(LAST_CHECKPOINT_KEY))?.size ?? 0, why: `pointer to the checkpoint of version ${version}` },
        ]),
      };
    }
    if (dryRun) {
      dryRunPlans.set(pond, { ...dryRunPlans.get(pond), checkpoint: { version, mtimeMs: Date.now() } });
      return {
        step: "checkpoint",
        dryRun,
        files: 1,
        bytes: 0,
        detail: `would write ${key} (${snap.files.length} active files, ${CHECKPOINT_FIELDS.length} columns)`,
        items: new StepItems([{ key, size: 0, why: "checkpoint" }]),
      };
    }
    await writeCheckpoint(store, snap);
    const size = (await store.head(key))?.size ?? 0;
    return {
      step: "checkpoint",
      dryRun,
      files: 1,
      bytes: size,
      detail: `wrote ${key} (${snap.files.length} active files)`,
      items: new StepItems([{ key, size, why: `checkpoint of version ${version}` }]),
    };
  });
}

/**
 * Deletes the files of `data/` that no unexpired snapshot can reach (see reachability.ts)
 * and that have been unneeded for longer than `retentionMs`: a grace period for readers
 * still running on an old snapshot, and for a writer's staged files. Holds the write
 * lock, so no writer is between staging and committing. Log files go last: a crash
 * midway leaves a log that still names nothing deleted. The verified-payloads record then
 * loses the lines of payloads no longer on disk, and the control log's live file, once it is
 * larger than `maintain.control-archive-after`, moves into a compressed archive (its whole
 * history kept: control-rotate.ts). A dry run after dry runs of expire
 * and checkpoint on the same Pond (`full --dry-run`) plans against what they would have written.
 */
export async function cleanup(
  pond: Pond,
  opts: { retentionMs: number; dryRun?: boolean; now?: number /** Told each file as it is deleted (a bar on a terminal). */; progress?: Progress },
): Promise<MaintenanceStep> {
  checkWritable(pond);
  const dryRun = opts.dryRun ?? false;
  const control = pond.paths.control;
  const archiveAfter = parseSize("maintain.control-archive-after", configValue(control, "maintain.control-archive-after") ?? "1MiB");
  return locked(pond, "pond maintain cleanup", dryRun, async () => {
    const now = opts.now ?? Date.now();
    // What an earlier step of the same command loaded (a merge's rows) is not needed here.
    pond.persistence.forgetLoaded();
    collectGarbage();
    // A remote keeps the full history: what one has not received yet (its pushes
    // continue from its last pushed version) stays, expired or not.
    const floor = pushFloor(pond);
    const plan = dryRun ? dryRunPlans.get(pond) : undefined;
    // The scan is let go before the caches are pruned, which reads the row cache whole: the two
    // peaks of memory do not add up. Only its file table stays, for the report's items.
    const gone = await deleteUnneeded(pond, {
      now,
      retentionMs: opts.retentionMs,
      dryRun,
      floor,
      ...(plan ? { plan } : {}),
      ...(opts.progress ? { progress: opts.progress } : {}),
    });
    const { bytes, horizon, heldBack } = gone;
    collectGarbage();
    // The verified-payloads record keeps a line per payload ever hashed: drop those whose
    // file is gone (these, and any an older cleanup left), so reads stop parsing them.
    if (!dryRun) pruneVerifiedPayloads(join(pond.paths.control, VERIFIED_PAYLOADS_DIR), (sha) => existsSync(join(pond.paths.data, largeFileKey(sha))));
    const pruned = pruneCaches(pond, gone.staying, dryRun);
    // The prune's garbage, before the report is built and printed.
    collectGarbage();
    const cacheBytes = pruned.reduce((s, c) => s + c.before - c.after, 0);
    const cacheRecords = pruned.reduce((s, c) => s + c.dropped, 0);
    const would = dryRun ? "would be " : "";
    // The control log: history is kept whole, its old lines compressed (control-rotate.ts).
    const rotation = rotateControl(pond.paths.controlLog, { thresholdBytes: archiveAfter, dryRun });
    const archived = rotation.archived;
    const controlItems: StepItem[] = [
      ...(archived
        ? [
            {
              key: `control/transactions/${archived.file}`,
              size: archived.bytes,
              why: `control log bytes [${archived.from}, ${archived.to}) moved from transactions.jsonl (${archived.to - archived.from} bytes) into this archive (${archived.bytes} bytes)`,
              action: "archived" as const,
            },
          ]
        : []),
      ...rotation.removed.map((r) => ({
        key: `control/transactions/${r.file}`,
        size: r.bytes,
        why: "control log archive a killed rotation left (the live file still holds its lines)",
      })),
    ];
    const controlFreed = (archived ? archived.to - archived.from - archived.bytes : 0) + rotation.removed.reduce((s, r) => s + r.bytes, 0);
    const controlDetail = archived
      ? `; control log: ${archived.to - archived.from} bytes of transactions.jsonl ${would}archived as ${archived.bytes} bytes`
      : rotation.refused
        ? `; control log not archived: ${rotation.refused}`
        : "";
    return {
      step: "cleanup",
      dryRun,
      files: gone.items.length + pruned.length + controlItems.length,
      bytes: bytes + cacheBytes + controlFreed,
      detail:
        `${gone.items.length} file(s), ${bytes} bytes ${would}deleted; ${gone.waiting} unneeded file(s) kept until the retention passes; horizon ${horizon}${heldBack}` +
        (pruned.length
          ? `; derived caches: ${cacheRecords} record(s) of removed entry files ${would}pruned from ${pruned.length} file(s), ${cacheBytes} bytes`
          : "") +
        controlDetail,
      items: new StepItems(
        controlItems,
        gone.items,
        pruned.map((c) => ({
          key: `control/${relative(pond.paths.control, c.path).split(sep).join("/")}`,
          size: c.before - c.after,
          why: `derived cache: ${c.dropped} record(s) of entry files no longer on disk ${c.after === 0 ? "(file deleted)" : `(${c.before} → ${c.after} bytes)`}`,
        })),
      ),
    };
  });
}

/**
 * Scans the pond and deletes (unless `dryRun`) the files no unexpired snapshot needs whose
 * retention has passed, log files last: a crash midway leaves a log that still names nothing
 * deleted. Returns what the report needs, and the entry files that stay (for pruneCaches).
 * The scan but its file table is dropped before the deletions start, and their garbage (a
 * path and a call's objects a file) collected every few thousand: at 100,000 versions cleanup
 * deletes 300,000 files, and holding the scan and that garbage at once was its peak of memory.
 */
async function deleteUnneeded(
  pond: Pond,
  opts: { now: number; retentionMs: number; dryRun: boolean; floor: { name: string; version: number } | undefined; plan?: ScanPlan; progress?: Progress },
): Promise<Unneeded> {
  const unneeded = await findUnneeded(pond, opts);
  collectGarbage();
  if (!opts.dryRun) {
    const progress = unneeded.items.length > 0 ? (opts.progress ?? silentProgress) : silentProgress;
    progress.total(unneeded.items.length, unneeded.bytes);
    const tick = garbageEvery(20_000);
    for (const f of unneeded.items.keysAndSizes()) {
      rmSync(join(pond.paths.data, f.key), { force: true });
      tick();
      progress.tick(1, f.size);
    }
    progress.done();
  }
  return unneeded;
}

/**
 * The files cleanup deletes, as rows of the scan's file table (the log's last): its items
 * are made when read, so the report holds the table's columns, not an object a file.
 */
export class DeletedFiles implements ItemSource {
  constructor(
    private readonly files: FileTable,
    private readonly rows: Uint32Array,
  ) {}
  get length(): number {
    return this.rows.length;
  }
  at(i: number): StepItem | undefined {
    const r = this.rows[i];
    return r === undefined ? undefined : { key: this.files.key(r), size: this.files.size(r), why: this.files.why(r) };
  }
  /** Each file's key and size, without the reason's text. */
  *keysAndSizes(): Generator<{ key: string; size: number }> {
    for (const r of this.rows) yield { key: this.files.key(r), size: this.files.size(r) };
  }
}

interface Unneeded {
  /** The files to delete, log files last. */
  items: DeletedFiles;
  bytes: number;
  waiting: number;
  staying: Set<string>;
  horizon: number;
  heldBack: string;
}

/** What deleteUnneeded deletes: the scan but its file table is dropped when this returns. */
async function findUnneeded(
  pond: Pond,
  opts: { now: number; retentionMs: number; floor: { name: string; version: number } | undefined; plan?: ScanPlan },
): Promise<Unneeded> {
  const { now, floor } = opts;
  const scan = await scanPond(pond, { now, ...(floor === undefined ? {} : { horizonCap: floor.version + 1 }), ...(opts.plan ? { plan: opts.plan } : {}) });
  const heldBack =
    floor !== undefined && scan.horizon < scan.expiry.horizon
      ? `; snapshots from ${scan.horizon} kept until remote "${floor.name}" has them (\`pond push ${floor.name}\`)`
      : "";
  const files = scan.files;
  // Rows in the table's order, the log's last: a crash midway leaves a log naming nothing deleted.
  let doomed = new Uint32Array(1024);
  let count = 0;
  let bytes = 0;
  let waiting = 0;
  const staying = new Set<string>();
  for (const i of files.rows()) {
    const since = files.unneededSince(i);
    const dies = !files.reachable(i) && since !== undefined && since + opts.retentionMs <= now;
    if (!dies) {
      if (!files.reachable(i)) waiting++;
      if (files.kind(i) === "entry") staying.add(files.key(i));
      continue;
    }
    if (count === doomed.length) {
      const more = new Uint32Array(count * 2);
      more.set(doomed);
      doomed = more;
    }
    doomed[count++] = i;
    bytes += files.size(i);
  }
  return {
    items: new DeletedFiles(files, doomed.slice(0, count)),
    bytes,
    waiting,
    staying,
    horizon: scan.horizon,
    heldBack,
  };
}

/**
 * Drops the derived caches' records (row cache, series summaries, directory cache: see
 * tlogfs) of entry files that are not on disk once the deletions are done: they name files no
 * unexpired snapshot reads, so no command will look them up again (names are unique). Only
 * records of files the scan saw under `data/` and that stay (`staying`) are kept; a record dropped
 * wrongly would cost one read of its file, never a different answer, as a missing record
 * is read from the log. Runs after the deletions (a crash between leaves records of
 * deleted files: harmless, and the next cleanup drops them). `collect-config-cache.json`
 * is keyed by config text, not entry files, and bounded (64 entries): left alone.
 */
function pruneCaches(pond: Pond, staying: ReadonlySet<string>, dryRun: boolean): CachePrune[] {
  const keep = (entryFile: string) => staying.has(entryFile);
  const table = pond.identity.pondId;
  const rowDir = join(pond.paths.control, "row-cache");
  return [
    ...pruneRowCache(rowDir, table, keep, dryRun),
    ...pruneSeriesSummaries(rowDir, table, keep, dryRun),
    ...pruneDirCache(join(pond.paths.control, "dir-cache.json"), table, keep, dryRun),
  ];
}
