import { type Dirent, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { collectGarbage, garbageEvery } from "@pond/diagnostics";
import {
  CorruptLogError,
  decodeDirectory,
  eachCommit,
  listLog,
  loadSnapshot,
  parseLogFileName,
  readEntryRefs,
  type AddAction,
  type EntryRefs,
} from "@pond/oplog";
import { ROOT_ID } from "@pond/tinyfs";
import { largeFileKey } from "@pond/tlogfs";
import type { Pond } from "../pond.ts";
import { expiredSince, readExpiry, type ExpiryState } from "./expiry.ts";
import { FileTable, REASON } from "./file-table.ts";

export type { FileKind, PondFile } from "./file-table.ts";
export { FileTable, REASON } from "./file-table.ts";

/**
 * Which files of a pond's `data/` folder an unexpired snapshot can reach, and since when
 * each of the others has been unneeded. This is the one place that decides: cleanup
 * deletes only what it marks unreachable, recover and fsck use the same sets.
 *
 * Reachable, for a horizon H (the oldest unexpired snapshot):
 * - an entry file active in snapshot H, or added by any commit after H (every snapshot
 *   from H on is H's files plus adds minus removes, so this is their union);
 * - a large file that a row of a reachable entry file names;
 * - the log from the newest checkpoint at or before H on, and `_last_checkpoint`.
 * Not a snapshot's file, so unneeded since: its removing commit fell behind the horizon
 * (the expiry's time); a file no commit names (a crash before its commit) or a temp file:
 * its mtime.
 */
/** What a dry run of expire and checkpoint would have written, for the dry run of the cleanup after them (`full --dry-run`). */
export interface ScanPlan {
  expiry?: ExpiryState;
  checkpoint?: { version: number; mtimeMs: number };
}

/** A commit still in the log: what reachability keeps of it (its actions are read once and dropped). */
export interface CommitSummary {
  version: number;
  /** Commit time, ms. */
  timestamp: number;
  /** The pond transaction id its commitInfo names; kept only when scanPond is asked for it (fsck). */
  txnId?: string;
}

/** An entry file as reachability keeps it: what reading it needs, without the add's stats and tags. */
export type EntryFileRef = Pick<AddAction, "path" | "size" | "partitionValues">;

/** A directory version a reachable entry file holds, with that file's path. */
export interface DirectoryRow {
  entryFile: string;
  nodeId: string;
  version: number;
  /** Row time, µs. */
  timestamp: number;
  content: Uint8Array | null;
}

/** A payload that rows of reachable entry files name. */
export interface LargeFileRef {
  size: number;
  sha256: string;
  /** The first row that names it (for messages). */
  first: { nodeId: string; version: number };
  /** Every node whose rows name it (a few: a payload is content-addressed, shared only by copies). */
  nodes: string[];
  /** Some row naming it is a table or a series version (a Parquet file). */
  parquet: boolean;
}

export interface PondScan {
  horizon: number;
  latest: number;
  expiry: ExpiryState;
  /** Every commit still in the log, oldest first. */
  commits: CommitSummary[];
  /** Reachable entry files, by path. */
  entryFiles: Map<string, EntryFileRef>;
  /** Large-file keys that reachable rows name, with the rows' expected size and hash. */
  largeFiles: Map<string, LargeFileRef>;
  /** Every file of `data/`, the log's listed last (file-table.ts). */
  files: FileTable;
  /** Payloads only nodes no unexpired snapshot reaches name: no snapshot reads them (those left in `largeFiles` cleanup keeps, as it cannot date their removal). */
  unreachedPayloads: Set<string>;
  /** Every directory row of the reachable entry files (a pond's directories have few versions; its series' rows are not kept). */
  directories: DirectoryRow[];
}

/** Temp files writers leave: staged large files, the store's half-written puts, half-saved caches. */
export const TEMP_FILE = /^(\.tmp-.*|\.pond-put-[0-9a-f]{16}\.tmp|.*\.\d+\.tmp)$/;

/** Reads the log, the horizon and the folder; decodes every reachable entry file once. */
export async function scanPond(
  pond: Pond,
  opts: {
    now?: number;
    onEntryError?: (add: EntryFileRef, e: CorruptLogError) => void /** Treat snapshots from this one on as unexpired (what a remote still lacks). */;
    horizonCap?: number;
    /** A dry run's plan: what the expire and checkpoint before it would have written. */
    plan?: ScanPlan;
    /** Keep each commit's transaction id in `commits` (fsck compares them with the control log). */
    txnIds?: boolean;
  } = {},
): Promise<PondScan> {
  const store = pond.persistence.store;
  const now = opts.now ?? Date.now();
  const expiry = opts.plan?.expiry ?? readExpiry(pond.paths.control);
  // Every file of `data/` is walked first, the log's the table's first rows: the read of the
  // log below notes each removal on its file's row, not in a map of every path it removed. A
  // file a commit after the walk adds is not in the table, so nothing here deletes it.
  const files = new FileTable();
  walkInto(files, join(pond.paths.data, "_delta_log"), { prefix: "_delta_log/" });
  const checkpoints = new Set<number>();
  const planned = opts.plan?.checkpoint;
  const plannedName = planned ? `${String(planned.version).padStart(20, "0")}.checkpoint.parquet` : undefined;
  let plannedListed = false;
  for (let i = 0; i < files.length; i++) {
    const key = files.key(i);
    const p = parseLogFileName(key);
    if (p?.kind === "checkpoint") checkpoints.add(p.version);
    if (key === `_delta_log/${plannedName}`) plannedListed = true;
  }
  if (planned) {
    checkpoints.add(planned.version);
    if (!plannedListed) files.add("_delta_log/", plannedName!, 0, planned.mtimeMs);
  }
  files.logRows = files.length;
  walkInto(files, pond.paths.data, { skip: "_delta_log" });
  collectGarbage();
  // The listing only feeds the read of the log below: it is dropped after it.
  let log: Awaited<ReturnType<typeof listLog>> | undefined = await listLog(store);
  const listed = [...log.commits.keys()];
  const latest = listed.length ? Math.max(...listed) : Math.max(-1, ...checkpoints);
  const earliest = log.commits.has(0) ? 0 : Math.min(...checkpoints, latest);
  const horizon = Math.max(earliest, Math.min(expiry.horizon, latest, opts.horizonCap ?? Infinity));

  // One pass over the log, each commit dropped once read: what the sets below need of it.
  const commits: CommitSummary[] = [];
  const added: EntryFileRef[] = [];
  // Entry files keep the rows of nodes removed before the horizon too: their payloads are
  // needed only while a tree of an unexpired snapshot reaches the node.
  const laterAdded = new Set<string>();
  await eachCommit(
    store,
    ({ version, timestamp, actions }) => {
      const c: CommitSummary = { version, timestamp };
      for (const a of actions) {
        if ("add" in a) {
          if (version <= horizon) continue;
          added.push({ path: a.add.path, size: a.add.size, partitionValues: a.add.partitionValues });
          laterAdded.add(a.add.path);
        } else if ("remove" in a) {
          if (version > horizon) continue;
          // The commit that removed a file still on disk (the last one, if several did).
          const row = files.find(a.remove.path, files.logRows, files.length);
          if (row >= 0) files.setCommit(row, version);
        } else if ("commitInfo" in a && opts.txnIds) {
          const txnId = (a.commitInfo.pond as { txnId?: unknown } | undefined)?.txnId;
          if (typeof txnId === "string") c.txnId = txnId;
        }
      }
      commits.push(c);
    },
    { log },
  );
  log = undefined;

  collectGarbage();
  const base = await loadSnapshot(store, { version: horizon });
  const entryFiles = new Map<string, EntryFileRef>();
  for (const f of base.files) entryFiles.set(f.path, { path: f.path, size: f.size, partitionValues: f.partitionValues });
  for (const a of added) entryFiles.set(a.path, a);
  added.length = 0;

  const directories: DirectoryRow[] = [];
  const largeFiles = new Map<string, LargeFileRef>();
  for (const add of entryFiles.values()) {
    let refs: EntryRefs;
    try {
      refs = await readEntryRefs(store, add);
    } catch (e) {
      // fsck reports each damaged file and goes on; everyone else stops here.
      if (!(e instanceof CorruptLogError) || !opts.onEntryError) throw e;
      opts.onEntryError(add, e);
      continue;
    }
    for (let i = 0; i < refs.rows; i++) {
      if (refs.fileType[i] === "directory")
        directories.push({
          entryFile: add.path,
          nodeId: refs.nodeId[i]!,
          version: refs.version[i]!,
          timestamp: refs.timestamp[i]!,
          content: refs.content[i]!,
        });
      noteLarge(largeFiles, refs, i);
    }
  }
  const unreachedPayloads = new Set<string>();
  const removedNodes = removedNodePayloads(directories, laterAdded, largeFiles, commits, expiry, unreachedPayloads);

  // The newest checkpoint at or before the horizon: the log before it is needed by no unexpired snapshot.
  let keepFrom = 0;
  for (const v of checkpoints) if (v <= horizon && v > keepFrom) keepFrom = v;

  files.horizon = horizon;
  files.keepFrom = keepFrom;
  const unreachableEntries: number[] = [];
  for (let i = files.logRows; i < files.length; i++) {
    const key = files.key(i);
    const name = key.slice(key.lastIndexOf("/") + 1);
    if (TEMP_FILE.test(name)) {
      files.mark(i, { kind: "temp", reachable: false, unneededSince: files.mtimeMs(i), reason: REASON.temp });
    } else if (key.startsWith("_large_files/")) {
      const named = largeFiles.has(key);
      files.mark(i, { kind: "large", reachable: named, reason: named ? REASON.largeNamed : REASON.largeUndecided });
    } else if (key.endsWith(".parquet") && key.startsWith("part_id=")) {
      if (entryFiles.has(key)) files.mark(i, { kind: "entry", reachable: true, reason: REASON.entryReachable });
      else {
        const r = files.commit(i);
        const since = r === undefined ? undefined : expiredSince(expiry, r - 1);
        files.mark(i, {
          kind: "entry",
          reachable: false,
          unneededSince: since ?? files.mtimeMs(i),
          orphan: r === undefined,
          reason: r === undefined ? REASON.entryOrphan : REASON.entryRemoved,
          ...(r === undefined ? {} : { commit: r }),
        });
        unreachableEntries.push(i);
      }
    } else {
      files.mark(i, { kind: "other", reachable: true, reason: REASON.other });
    }
  }
  collectGarbage();
  // A large file only unreachable entry files name has been unneeded since the newest of them:
  // noted on its row (an unreachable large file's time is not set before the loop after this).
  // Each decoded file leaves tens of KB of garbage (the Parquet footer's objects, the columns).
  const tick = garbageEvery(1_000);
  for (const e of unreachableEntries) {
    tick();
    const key = files.key(e);
    const add: EntryFileRef = {
      path: key,
      size: files.size(e),
      partitionValues: { part_id: decodeURIComponent(key.slice("part_id=".length, key.indexOf("/"))) },
    };
    let refs: EntryRefs;
    try {
      refs = await readEntryRefs(store, add);
    } catch (e) {
      // An unreadable unreachable file names nothing we can trust; its large files fall back to their mtime.
      if (e instanceof CorruptLogError) continue;
      throw e;
    }
    const since = files.unneededSince(e)!;
    for (let i = 0; i < refs.rows; i++) {
      if (refs.content[i] !== null || refs.size[i] === 0) continue;
      const row = files.find(largeFileKey(refs.sha256[i]!), files.logRows, files.length);
      if (row >= 0 && files.kind(row) === "large" && !files.reachable(row)) files.raiseSince(row, since);
    }
  }
  unreachableEntries.length = 0;
  collectGarbage();
  for (let i = files.logRows; i < files.length; i++) {
    if (files.kind(i) !== "large" || files.reachable(i)) continue;
    const key = files.key(i);
    const r = removedNodes.get(key);
    const named = files.unneededSince(i);
    const s = r === undefined ? named : Math.max(r, named ?? 0);
    files.mark(i, {
      kind: "large",
      reachable: false,
      unneededSince: s ?? files.mtimeMs(i),
      orphan: s === undefined,
      reason: s === undefined ? REASON.largeOrphan : r !== undefined ? REASON.largeRemovedNode : REASON.largeExpired,
    });
  }
  const lastCheckpoint = readLastCheckpoint(join(pond.paths.data, "_delta_log", "_last_checkpoint"));
  // The same for every log file before the checkpoint: found once (finding it for each was
  // O(log files²): hours of regex at 100,000 commits).
  const oldSince = Math.max(expiredSince(expiry, keepFrom - 1) ?? now, mtimeOf(files, keepFrom));
  for (let i = 0; i < files.logRows; i++) {
    const p = parseLogFileName(files.key(i));
    // The checkpoint `_last_checkpoint` names stays while it does (a checkpoint whose pointer a
    // kill left behind): a Delta reader starts from it.
    const old = p !== null && p.kind !== "last_checkpoint" && p.version < keepFrom && !(p.kind === "checkpoint" && p.version === lastCheckpoint);
    files.mark(i, { kind: "log", reachable: !old, reason: old ? REASON.logOld : REASON.logKept, ...(old ? { unneededSince: oldSince } : {}) });
  }
  return { horizon, latest, expiry, commits, entryFiles, largeFiles, unreachedPayloads, files, directories };
}

/**
 * The payloads that only nodes no unexpired snapshot reaches name (all added to `unreached`),
 * each with since when it has been unneeded (ms), removed from `largeFiles` when that is known. A directory version is seen by an unexpired
 * snapshot when it is the newest one in the horizon's entry files or is in an entry file added
 * after the horizon; a node is reached when such a version of a reached directory lists it
 * (from the root). An unreached node was removed when the directory that listed it last got
 * its next version (or, if that directory is gone too, when it was removed): the first commit
 * after that row's time, and it has been unneeded since the expiry that passed the commit before.
 * A removal it cannot date counts from the horizon's last move; wherever it cannot tell (a
 * directory that does not decode, no expiry yet) the payload stays needed: a file is deleted
 * only when this proves no unexpired snapshot reaches it.
 */
function removedNodePayloads(
  directories: readonly DirectoryRow[],
  laterAdded: Set<string>,
  largeFiles: PondScan["largeFiles"],
  commits: CommitSummary[],
  expiry: ExpiryState,
  unreached: Set<string>,
): Map<string, number> {
  const out = new Map<string, number>();
  const dirs = new Map<string, Map<number, DirectoryRow>>();
  const live = new Map<string, Set<number>>();
  const baseNewest = new Map<string, number>();
  const addLive = (node: string, version: number) => {
    const l = live.get(node);
    if (l) l.add(version);
    else live.set(node, new Set([version]));
  };
  for (const r of directories) {
    const m = dirs.get(r.nodeId) ?? new Map<number, DirectoryRow>();
    dirs.set(r.nodeId, m);
    m.set(r.version, r);
    if (laterAdded.has(r.entryFile)) addLive(r.nodeId, r.version);
    else baseNewest.set(r.nodeId, Math.max(baseNewest.get(r.nodeId) ?? 0, r.version));
  }
  for (const [node, v] of baseNewest) addLive(node, v);
  if (!live.has(ROOT_ID)) return out;
  // Every directory version's children; one that does not decode: give up (keep everything).
  const children = new Map<string, Map<number, Set<string>>>();
  try {
    for (const [node, versions] of dirs) {
      const byVersion = new Map<number, Set<string>>();
      for (const [v, r] of versions) {
        if (!r.content) return out;
        byVersion.set(v, new Set(decodeDirectory(r.content, `directory ${node} version ${v}`).map((e) => e.childNodeId)));
      }
      children.set(node, byVersion);
    }
  } catch (e) {
    if (e instanceof CorruptLogError) return out;
    throw e;
  }
  const reached = new Set([ROOT_ID]);
  const queue = [ROOT_ID];
  while (queue.length) {
    const d = queue.pop()!;
    for (const v of live.get(d) ?? []) {
      for (const c of children.get(d)?.get(v) ?? []) {
        if (reached.has(c)) continue;
        reached.add(c);
        if (dirs.has(c)) queue.push(c);
      }
    }
  }
  // Each node → the directories that ever listed it, with the last version that did.
  const lastListed = new Map<string, Map<string, number>>();
  for (const [d, byVersion] of children) {
    for (const [v, cs] of byVersion) {
      for (const c of cs) {
        const m = lastListed.get(c) ?? new Map<string, number>();
        lastListed.set(c, m);
        if ((m.get(d) ?? -1) < v) m.set(d, v);
      }
    }
  }
  const lastMove = expiry.history.at(-1)?.at;
  const removedMemo = new Map<string, number | null>();
  /** When `node` left the last tree that held it (µs), or null when that cannot be told. */
  const removedAt = (node: string): number | null => {
    if (removedMemo.has(node)) return removedMemo.get(node)!;
    removedMemo.set(node, null); // a cycle cannot be dated
    let when = -1;
    for (const [d, last] of lastListed.get(node) ?? []) {
      const next = [...dirs.get(d)!.keys()].filter((v) => v > last).sort((a, b) => a - b)[0];
      const t = next !== undefined ? Number(dirs.get(d)!.get(next)!.timestamp) : reached.has(d) ? null : removedAt(d);
      if (t === null || !Number.isFinite(t)) return null;
      when = Math.max(when, t);
    }
    const result = when < 0 ? null : when;
    removedMemo.set(node, result);
    return result;
  };
  for (const [key, ref] of largeFiles) {
    if (ref.nodes.some((n) => reached.has(n))) continue;
    unreached.add(key);
    let since = 0;
    for (const n of ref.nodes) {
      const t = removedAt(n);
      // The first commit after the row that dropped the node is at or after its removal. When
      // that cannot be told (the directory's old versions were merged away), the last move of
      // the horizon: no snapshot a reader may still use has reached the node since then.
      const c = t === null ? undefined : commits.find((c) => c.timestamp * 1000 > t);
      const s = (c === undefined ? undefined : expiredSince(expiry, c.version - 1)) ?? lastMove;
      if (s === undefined) {
        since = -1;
        break;
      }
      since = Math.max(since, s);
    }
    if (since < 0) continue;
    out.set(key, since);
    largeFiles.delete(key);
  }
  return out;
}

/** The version `_last_checkpoint` names, or undefined when there is none or it does not parse. */
function readLastCheckpoint(path: string): number | undefined {
  try {
    const v = (JSON.parse(readFileSync(path, "utf8")) as { version?: unknown }).version;
    return typeof v === "number" ? v : undefined;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT" || e instanceof SyntaxError) return undefined;
    throw e;
  }
}

function noteLarge(into: PondScan["largeFiles"], refs: EntryRefs, i: number): void {
  if (refs.content[i] !== null || refs.size[i] === 0) return;
  const k = largeFileKey(refs.sha256[i]!);
  const node = refs.nodeId[i]!;
  const parquet = refs.fileType[i] === "file:table" || refs.fileType[i] === "file:series";
  const e = into.get(k);
  if (!e) {
    into.set(k, { size: refs.size[i]!, sha256: refs.sha256[i]!, first: { nodeId: node, version: refs.version[i]! }, nodes: [node], parquet });
    return;
  }
  if (!e.nodes.includes(node)) e.nodes.push(node);
  if (parquet) e.parquet = true;
}

/** The mtime of the log's checkpoint of `checkpoint` (its first file, in the table's log rows), or 0. */
function mtimeOf(files: FileTable, checkpoint: number): number {
  for (let i = 0; i < files.logRows; i++) {
    const p = parseLogFileName(files.key(i));
    if (p?.kind === "checkpoint" && p.version === checkpoint) return files.mtimeMs(i);
  }
  return 0;
}

/** Every regular file under `dir`, as walkInto lists them: `{ key, size, mtimeMs }` records, sorted by key. */
export function walk(dir: string, opts: { prefix?: string; skip?: string } = {}): { key: string; size: number; mtimeMs: number }[] {
  const table = new FileTable();
  walkInto(table, dir, opts);
  const out: { key: string; size: number; mtimeMs: number }[] = [];
  for (let i = 0; i < table.length; i++) out.push({ key: table.key(i), size: table.size(i), mtimeMs: table.mtimeMs(i) });
  return out;
}

/**
 * Adds every regular file under `dir` (recursively) to `table`, keyed relative to it (after
 * `prefix`), in the order of their keys; `skip` names a folder directly under `dir` left out.
 * A folder is read at a time, its entries sorted by name with a `/` after a folder's (so the
 * rows come out in key order with no sort of the whole list), and garbage is collected every
 * few thousand stats: at 100,000 versions a pond's `data/` holds 300,000 files, and their
 * stats' garbage grew the heap by more than the list it makes.
 */
export function walkInto(table: FileTable, dir: string, opts: { prefix?: string; skip?: string } = {}): void {
  const tick = garbageEvery(10_000);
  const visit = (folder: string, rel: string) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(folder, { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
      throw e;
    }
    const sorted = entries.map((e) => ({ e, by: e.isDirectory() ? `${e.name}/` : e.name }));
    sorted.sort((a, b) => (a.by < b.by ? -1 : a.by > b.by ? 1 : 0));
    entries = [];
    // The folder's files at once: the table's columns grow once, to their size, not by doubling.
    let rows = 0;
    let bytes = 0;
    for (const { e } of sorted) {
      if (!e.isFile()) continue;
      rows++;
      bytes += Buffer.byteLength(e.name);
    }
    table.reserve(rows, bytes);
    const prefix = `${opts.prefix ?? ""}${rel}`;
    for (const { e } of sorted) {
      if (rel === "" && e.name === opts.skip) continue;
      const full = join(folder, e.name);
      if (e.isDirectory()) visit(full, `${rel}${e.name}/`);
      else if (e.isFile()) {
        const st = statSync(full);
        table.add(prefix, e.name, st.size, st.mtimeMs);
        tick();
      }
    }
  };
  visit(dir, "");
}
