/**
 * `pond push`: uploads what a remote lacks, so that it mirrors `data/`. Runs under the
 * pond's write lock, so the local log does not move while it is copied.
 *
 * Order (each step only starts when the one before has finished):
 * 1. the identity object, put-if-absent: the remote is this pond's, or the push stops;
 * 2. payloads: large files and entry files the remote lacks (by key and size);
 * 3. the manifest of this push (sizes and hashes of everything it uploads);
 * 4. commits, in version order, each put-if-absent (an existing one must be equal);
 * 5. checkpoints, then `_last_checkpoint`;
 * 6. the new part of the control log.
 * A push cut off anywhere leaves a remote whose every commit has its files; the next
 * push lists both sides again and sends what is still missing.
 */
import { logger, silentProgress, type Progress } from "@pond/diagnostics";
import { commitKey, limiter, mapLimit, type ObjectStore } from "@pond/oplog";
import { IntegrityError, WD } from "@pond/tinyfs";
import { BadRemoteError, NoRemoteError, RemoteDivergedError } from "./errors.ts";
import type { Pond } from "./pond.ts";
import { findRemote, readRemotes, updateRemote, type RemoteConfig } from "./remote-config.ts";
import { claimRemote, pushControlLog, REMOTE_META_PREFIX, writeManifest, type ManifestEntry } from "./remote-layout.ts";
import { openRemoteStore, type RemoteStoreTuning } from "./remote-store.ts";
import { planReplication } from "./replication-plan.ts";
import { contentHash, copyObject, sha256Of, type Copied } from "./transfer.ts";

/**
 * Objects larger than this are streamed (smaller ones are read whole, 8 at a time), and
 * at most BIG_CONCURRENCY of them are in flight, each a multipart upload of parts of
 * PART_SIZE bytes with PART_QUEUE parts in flight. Bun's S3 client holds about four
 * times a part's bytes for each part in flight: with 4 uploads of 4 parts of 8 MiB a push
 * of 1 GiB in 32 MiB payloads peaked at 371–410 MiB; one upload of 2 parts keeps it
 * under 128 MiB, and s3rver (one Node process beside it on 2 cores) took the bytes no
 * slower.
 */
const BIG_OBJECT = 1024 * 1024;
const BIG_CONCURRENCY = 1;
const PART_SIZE = 5 * 1024 * 1024;
const PART_QUEUE = 2;

export interface PushOptions {
  env?: Record<string, string | undefined>;
  progress?: Progress;
  tuning?: RemoteStoreTuning;
  /** Objects uploaded at once (each large one also sends parts in parallel). Default 8. */
  concurrency?: number;
}

export interface PushReport {
  remote: string;
  url: string;
  /** The remote's newest version before the push (null: it had none). */
  fromVersion: number | null;
  /** The newest version on the remote now: the local tip. */
  toVersion: number;
  /** Data objects uploaded (payloads, commits, checkpoints) and their bytes. */
  files: number;
  bytes: number;
  /** Bytes of control log history uploaded. */
  controlBytes: number;
}

/**
 * Pushes to the remote `name`, or with no name to every remote that is not a pull
 * source. Takes the write lock.
 */
export async function push(pond: Pond, name: string | undefined, opts: PushOptions = {}): Promise<PushReport[]> {
  const remotes = readRemotes(pond.paths);
  const targets = name !== undefined ? [findRemote(remotes, name)] : remotes.filter((r) => r.mode !== "pull");
  if (targets.length === 0) throw new NoRemoteError("push to");
  for (const r of targets) {
    if (r.mode === "pull")
      throw new BadRemoteError(
        `remote "${r.name}"`,
        "this pond is a mirror that pulls from it",
        "A mirror follows its remote; push from the pond that owns it.",
      );
  }
  return pond.withLock(`pond push ${targets.map((t) => t.name).join(" ")}`, async () => {
    const out: PushReport[] = [];
    for (const r of targets) out.push(await pushLocked(pond, r, opts));
    return out;
  });
}

/** Pushes to one remote; the caller holds the write lock. */
export async function pushLocked(pond: Pond, cfg: RemoteConfig, opts: PushOptions = {}): Promise<PushReport> {
  const progress = opts.progress ?? silentProgress;
  const local = pond.persistence.store;
  const remote = openRemoteStore(cfg.name, cfg, opts.env ?? process.env, { partSize: PART_SIZE, queueSize: PART_QUEUE, ...opts.tuning });
  const [localList, remoteList] = await Promise.all([Array.fromAsync(local.list("")), Array.fromAsync(remote.list(""))]);
  const plan = planReplication(localList, remoteList);
  if (plan.srcTip === null) throw new IntegrityError(`pond ${pond.dir}`, "its data log has no commits");
  await claimRemote(remote, pond.identity, plan.dstTip !== null);
  await checkNotDiverged(local, remote, plan.srcTip, plan.dstTip, cfg.name);

  progress.total(plan.files, plan.bytes);
  const corrupt = (key: string, detail: string) => new IntegrityError(`${key} in ${local.url}`, detail, { key, detail });
  const manifest: ManifestEntry[] = [];
  const concurrency = opts.concurrency ?? 8;

  // 2. Payloads. Many small ones go 8 at a time (each is a round trip); big ones one at a
  // time (see BIG_OBJECT).
  const big = limiter(BIG_CONCURRENCY);
  let copied: Copied[];
  try {
    copied = await mapLimit(plan.payloads, concurrency, (m) =>
      m.size > BIG_OBJECT ? big(() => copyObject(local, remote, m, { progress, corrupt })) : copyObject(local, remote, m, { progress, corrupt }),
    );
  } catch (e) {
    throw await namedByPondPath(pond, e);
  }
  for (const c of copied) manifest.push({ key: c.key, size: c.size, sha256: c.sha256 });

  // 3. The manifest, naming the commits and checkpoints too, before any of them is visible.
  const commitBytes = await mapLimit(plan.commits, 16, (c) => local.get(c.meta.key));
  for (const [i, c] of plan.commits.entries()) manifest.push({ key: c.meta.key, size: commitBytes[i]!.length, sha256: sha256Of(commitBytes[i]!) });
  const checkpointBytes = await mapLimit(plan.checkpoints, 4, (m) => local.get(m.key));
  for (const [i, m] of plan.checkpoints.entries()) manifest.push({ key: m.key, size: checkpointBytes[i]!.length, sha256: sha256Of(checkpointBytes[i]!) });
  if (manifest.length) await writeManifest(remote, plan.srcTip, manifest);

  // 4. Commits, oldest first, one at a time.
  for (let i = 0; i < plan.commits.length; i++) {
    const { version, meta } = plan.commits[i]!;
    const bytes = commitBytes[i]!;
    if ((await remote.put(meta.key, bytes, { ifAbsent: true })) === "exists") {
      const theirs = await remote.get(meta.key);
      if (sha256Of(theirs) !== sha256Of(bytes)) {
        throw new RemoteDivergedError(remote.url, `it already has a different version ${version}`, divergedHint(cfg.name), { version });
      }
    }
    progress.tick(1, bytes.length);
  }

  // 5. Checkpoints, then the pointer to the newest one.
  for (let i = 0; i < plan.checkpoints.length; i++) {
    await remote.put(plan.checkpoints[i]!.key, checkpointBytes[i]!);
    progress.tick(1, checkpointBytes[i]!.length);
  }
  if (plan.lastCheckpoint) await copyObject(local, remote, plan.lastCheckpoint, { progress, corrupt });

  // 6. History.
  const controlBytes = await pushControlLog(
    remote,
    remoteList.filter((m) => m.key.startsWith(REMOTE_META_PREFIX)),
    pond.paths.controlLog,
  );
  progress.done();

  updateRemote(pond.paths, cfg.name, (r) => {
    r.lastPushed = { version: plan.srcTip!, at: new Date().toISOString() };
  });
  return { remote: cfg.name, url: remote.url, fromVersion: plan.dstTip, toVersion: plan.srcTip, files: plan.files, bytes: plan.bytes, controlBytes };
}

/**
 * A damaged large file found while uploading it, named by the pond paths and versions
 * that use it (found only now, on the failure path: a walk of the pond). Other errors
 * are returned as they are.
 */
async function namedByPondPath(pond: Pond, e: unknown): Promise<unknown> {
  if (!(e instanceof IntegrityError) || typeof e.data.key !== "string") return e;
  const sha256 = contentHash(e.data.key);
  if (sha256 === null) return e;
  const view = await pond.persistence.view();
  const users: string[] = [];
  for await (const w of new WD(view).walk("/")) {
    if (w.entry.entryType === "directory" || w.entry.entryType === "symlink") continue;
    for (const v of await view.versions(w.parentId, w.entry.childNodeId)) if (v.sha256 === sha256) users.push(`"${w.path}" version ${v.version}`);
  }
  const payload = payloadHostPath(pond, e.data.key);
  const detail = (e.data.detail as string | undefined) ?? e.message;
  return new IntegrityError(
    users.length ? users.join(", ") : `a payload no current path uses`,
    `its payload ${payload} is damaged (${detail}); nothing of it was uploaded`,
    {
      key: e.data.key,
      payload,
      paths: users,
    },
  );
}

function payloadHostPath(pond: Pond, key: string): string {
  return pond.persistence.store.localPath?.(key) ?? key;
}

/**
 * Refuses a remote that is ahead of this pond, or whose newest version differs from
 * this pond's version of the same number: someone else wrote to it.
 */
async function checkNotDiverged(local: ObjectStore, remote: ObjectStore, localTip: number, remoteTip: number | null, name: string): Promise<void> {
  if (remoteTip === null) return;
  if (remoteTip > localTip) {
    throw new RemoteDivergedError(remote.url, `it has version ${remoteTip} and this pond only ${localTip}`, divergedHint(name), { remoteTip, localTip });
  }
  const [mine, theirs] = await Promise.all([local.get(commitKey(remoteTip)), remote.get(commitKey(remoteTip))]);
  if (sha256Of(mine) !== sha256Of(theirs)) {
    throw new RemoteDivergedError(remote.url, `its version ${remoteTip} is not this pond's version ${remoteTip}`, divergedHint(name), { version: remoteTip });
  }
}

function divergedHint(name: string): string {
  return `Another copy of this pond (a restored one?) has pushed to it. Keep one writer per remote: restore that copy as a mirror, or push this pond to a new remote (\`pond remote add\`), then \`pond verify ${name}\`.`;
}

/**
 * After a write transaction: pushes to every remote in `push` mode. Never throws: the
 * local commit stands whatever happens; a failure is reported (a warning on stderr)
 * and the next `pond push` catches up. The caller holds the write lock.
 */
export async function autoPush(
  pond: Pond,
  seq: number,
  env: Record<string, string | undefined> = process.env,
): Promise<{ remote: string; ok: boolean; error?: string }[]> {
  const results: { remote: string; ok: boolean; error?: string }[] = [];
  let remotes: RemoteConfig[];
  try {
    remotes = readRemotes(pond.paths).filter((r) => r.mode === "push");
  } catch (e) {
    logger.warn(`cannot read the remotes of ${pond.dir} for auto-push; the commit (version ${seq}) is kept locally`, { error: (e as Error).message });
    return results;
  }
  for (const r of remotes) {
    try {
      const rep = await pushLocked(pond, r, { env });
      logger.info("auto-push done", { remote: r.name, version: rep.toVersion, files: rep.files, bytes: rep.bytes });
      results.push({ remote: r.name, ok: true });
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      logger.warn(
        `auto-push to remote "${r.name}" failed; the commit (version ${seq}) is kept locally, and \`pond push ${r.name}\` will catch up. Cause: ${message}`,
      );
      results.push({ remote: r.name, ok: false, error: message });
    }
  }
  return results;
}
