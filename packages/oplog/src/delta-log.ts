/**
 * The Delta transaction log over an ObjectStore: replay to a snapshot (latest, by
 * version, by time), read and list commits, and commit the next version with an
 * atomic put-if-absent. A lost race is a result (`{kind: "conflict"}`), not an error.
 *
 * Replay lists `_delta_log/` (from the block of `_last_checkpoint` on, see
 * log-listing.ts), picks the newest complete checkpoint at or before the target
 * version, and applies the JSON commits after it, each file read once (commit-reader.ts).
 * Which version a time names, and whether it can still be rebuilt, is time-travel.ts;
 * questions over the whole history (listCommits, everyAddedPath) are log-history.ts.
 */
import { logger as defaultLogger, type Logger } from "@pond/diagnostics";
import { parseActions, serializeActions, type Action, type Metadata, type Protocol } from "./actions.ts";
import { readCheckpoint, writeCheckpoint } from "./checkpoint.ts";
import { CorruptLogError, ObjectNotFoundError, TableNotFoundError, UnsupportedFeatureError, VersionNotFoundError } from "./errors.ts";
import { commitKey } from "./log-file-name.ts";
import { listLog, listLogForLatest, readLastCheckpoint } from "./log-listing.ts";
import type { ObjectStore } from "./object-store.ts";
import { checkReadable } from "./protocol-support.ts";
import type { ActiveFile, Snapshot } from "./snapshot.ts";
import { mapLimit } from "./concurrency.ts";
import { CommitReader, FETCH_CONCURRENCY, filePath } from "./commit-reader.ts";
import { checkReachable, newestCheckpoint, versionAt } from "./time-travel.ts";

export { eachCommit, everyAddedPath, listCommits, type CommitRead } from "./log-history.ts";

/** The newest version in the log, or null when there is no log. Reads `_last_checkpoint` and lists from there. */
export async function latestVersion(store: ObjectStore): Promise<number | null> {
  return (await listLogForLatest(store)).latest;
}

/** The actions of one commit; VersionNotFoundError when its file does not exist. */
export async function readCommit(store: ObjectStore, version: number): Promise<Action[]> {
  const key = commitKey(version);
  let bytes: Uint8Array;
  try {
    bytes = await store.get(key);
  } catch (e) {
    if (e instanceof ObjectNotFoundError) throw new VersionNotFoundError(store.url, `version ${version}`, `has no commit file (${key})`, { version });
    throw e;
  }
  return parseActions(bytes, key);
}

/**
 * Loads the table as of the latest version, `version`, or the newest version whose
 * commit time is at or before `timestamp` (ms). Throws TableNotFoundError when there
 * is no log, VersionNotFoundError for a version or time the log cannot produce, and
 * UnsupportedFeatureError for a protocol this reader does not implement. `base`, a
 * snapshot of the same table the caller kept (e.g. a cache), is replayed forward instead
 * of decoding the checkpoint when it is at or after it and not past the target.
 */
export async function loadSnapshot(store: ObjectStore, opts: { version?: number; timestamp?: number; base?: Snapshot } = {}): Promise<Snapshot> {
  if (opts.version !== undefined && opts.timestamp !== undefined) throw new RangeError("loadSnapshot: give a version or a timestamp, not both");
  // On a local folder, reading the few commits after a kept snapshot costs less than
  // listing the folder; on S3 one listing costs less than a request a commit.
  if (opts.base !== undefined && opts.version === undefined && opts.timestamp === undefined && store.localPath !== undefined) {
    const forward = await replayForward(store, opts.base);
    if (forward) return forward;
  }
  // Time travel by time needs every commit's time; by version, the checkpoint at or before it.
  const log = opts.timestamp === undefined ? await listLogForLatest(store, opts.version) : await listLog(store);
  if (log.latest === null) throw new TableNotFoundError(store.url);
  const latest = log.latest;
  const reader = new CommitReader(store, log);

  let target: number;
  if (opts.version !== undefined) {
    target = opts.version;
    if (!Number.isSafeInteger(target) || target < 0)
      throw new VersionNotFoundError(store.url, `version ${target}`, "is not a version number", { version: target });
    if (target > latest)
      throw new VersionNotFoundError(store.url, `version ${target}`, `does not exist (the latest is ${latest})`, { version: target, latest });
    checkReachable(store, log, target);
  } else if (opts.timestamp !== undefined) {
    target = await versionAt(store, log, reader, opts.timestamp);
  } else {
    target = latest;
    checkReachable(store, log, target);
  }

  const cp = newestCheckpoint(log, target);
  // A base snapshot at or after the checkpoint (and not past the target) saves decoding
  // the checkpoint: replay only the commits after it.
  const base =
    opts.base !== undefined && opts.base.version <= target && opts.base.version >= (cp ?? -1) && opts.base.metadata.id !== undefined ? opts.base : undefined;
  const first = base ? base.version + 1 : cp === null ? 0 : cp + 1;
  const versions: number[] = [];
  for (let v = first; v <= target; v++) versions.push(v);
  const [state, commits] = await Promise.all([
    base ? { protocol: base.protocol, metadata: base.metadata, files: base.files } : cp === null ? null : readCheckpoint(store, log.checkpoints.get(cp) ?? []),
    mapLimit(versions, FETCH_CONCURRENCY, (v) => reader.actions(v)),
  ]);

  const where = base ? `snapshot ${base.version} + commits to ${target}` : cp === null ? commitKey(target) : `checkpoint ${cp} + commits to ${target}`;
  return { ...replay(store, state, versions, commits, where), version: target, timestamp: await reader.time(target) };
}

/** Applies `commits` (of `versions`, in order) to `state`: the table's protocol, metadata and active files. */
function replay(
  store: ObjectStore,
  state: { protocol?: Protocol; metadata?: Metadata; files: readonly ActiveFile[] } | null,
  versions: readonly number[],
  commits: readonly Action[][],
  where: string,
): Pick<Snapshot, "protocol" | "metadata" | "files"> {
  let protocol: Protocol | undefined = state?.protocol;
  let metadata: Metadata | undefined = state?.metadata;
  const files = new Map<string, ActiveFile>();
  if (state) for (const f of state.files) files.set(f.path, f);
  for (let i = 0; i < versions.length; i++) {
    for (const a of commits[i]!) {
      if ("add" in a) files.set(filePath(a.add, "add", versions[i]!), { ...a.add, addedInVersion: versions[i]! });
      else if ("remove" in a) files.delete(filePath(a.remove, "remove", versions[i]!));
      else if ("metaData" in a) metadata = a.metaData;
      else if ("protocol" in a) protocol = a.protocol;
    }
  }
  const target = versions.length ? versions[versions.length - 1] : "the base";
  if (!protocol) throw new CorruptLogError(where, `has no protocol action for version ${target}`);
  if (!metadata) throw new CorruptLogError(where, `has no metaData action for version ${target}`);
  checkReadable(protocol, store.url, where);
  for (const f of files.values()) {
    if (f.deletionVector != null)
      throw new UnsupportedFeatureError(store.url, "deletionVectors", `reader feature "deletionVectors" is not supported (file ${f.path} has one)`);
  }
  return { protocol, metadata, files: [...files.values()] };
}

/**
 * The latest snapshot from a kept one, reading the commits after it one by one until
 * the next is missing, without listing `_delta_log/`: a folder of 10,000 commits took
 * ~17 ms to read each time, more with every commit. Commit files appear whole (put
 * if absent) and in order, so the first missing one ends the log. Undefined (list the
 * log instead) when the base cannot be trusted to lead to the latest version: its own
 * commit is gone, or `_last_checkpoint` names a newer checkpoint (after which older
 * commits may have been cleaned up), or a commit carries no commit time.
 */
async function replayForward(store: ObjectStore, base: Snapshot): Promise<Snapshot | undefined> {
  if (base.metadata.id === undefined) return undefined;
  const [hint, own] = await Promise.all([readLastCheckpoint(store), store.head(commitKey(base.version))]);
  if ((hint !== null && hint > base.version) || own === null) return undefined;
  const versions: number[] = [];
  const commits: Action[][] = [];
  for (let v = base.version + 1; ; v++) {
    let bytes: Uint8Array;
    try {
      bytes = await store.get(commitKey(v));
    } catch (e) {
      if (e instanceof ObjectNotFoundError) break;
      throw e;
    }
    versions.push(v);
    commits.push(parseActions(bytes, commitKey(v)));
  }
  let timestamp = base.timestamp;
  if (commits.length > 0) {
    const info = commits[commits.length - 1]!.find((a) => "commitInfo" in a);
    const t = info && "commitInfo" in info ? info.commitInfo.timestamp : undefined;
    if (typeof t !== "number") return undefined; // the time is the file's: list for it
    timestamp = t;
  }
  const version = versions.length ? versions[versions.length - 1]! : base.version;
  return { ...replay(store, base, versions, commits, `snapshot ${base.version} + commits to ${version}`), version, timestamp };
}

export type CommitResult = { kind: "committed"; version: number } | { kind: "conflict"; version: number };

/**
 * Commits `actions` as `version` with an atomic put-if-absent of its log file. If the
 * file exists another writer got there first: the result is a conflict, and nothing
 * was written. After committing a multiple of `checkpointInterval` (default 100) it
 * writes a checkpoint; a failure there is logged, not thrown: the commit is durable.
 */
export async function commit(
  store: ObjectStore,
  version: number,
  actions: readonly Action[],
  opts: { checkpointInterval?: number; logger?: Logger } = {},
): Promise<CommitResult> {
  const key = commitKey(version);
  if ((await store.put(key, serializeActions(actions), { ifAbsent: true })) === "exists") return { kind: "conflict", version };
  const interval = opts.checkpointInterval ?? 100;
  if (version > 0 && interval > 0 && version % interval === 0) {
    try {
      await writeCheckpoint(store, await loadSnapshot(store, { version }));
    } catch (e) {
      (opts.logger ?? defaultLogger).warn("checkpoint failed", { url: store.url, version, error: e instanceof Error ? e.message : String(e) });
    }
  }
  return { kind: "committed", version };
}
