/**
 * `pond verify NAME [--deep]`: compares this pond with a remote and says what
 * matches, what is behind, and what is wrong.
 *
 * Always: both hold the same pond; their tips; every commit both have has the same
 * size on both sides; every object the log refers to (entry files, and the large
 * files their rows point at) is on the remote with the right size; the manifests
 * agree with each other.
 * `--deep` also downloads every remote object and re-hashes it: a large file must hash
 * to its name, any other object to what its push manifest recorded, a commit to this
 * pond's commit of the same version.
 */
import { silentProgress, type Progress } from "@pond/diagnostics";
import { commitKey, mapLimit, parseLogFileName, readCommit, type ObjectMeta, type ObjectStore } from "@pond/oplog";
import { newSha256 } from "@pond/tinyfs";
import { NoRemoteError } from "./errors.ts";
import { addKey, addsOf, largeFilesOf } from "./log-references.ts";
import type { Pond } from "./pond.ts";
import { findRemote, readRemotes } from "./remote-config.ts";
import { readManifests, readRemoteIdentity, REMOTE_META_PREFIX } from "./remote-layout.ts";
import { openRemoteStore } from "./remote-store.ts";
import { isReplicated, planReplication } from "./replication-plan.ts";
import { contentHash, mismatch, sha256Of } from "./transfer.ts";

export interface VerifyFinding {
  key?: string;
  problem: string;
}

export interface VerifyReport {
  remote: string;
  url: string;
  deep: boolean;
  localPondId: string;
  remotePondId: string | null;
  localTip: number;
  remoteTip: number | null;
  matches: string[];
  behind: string[];
  wrong: VerifyFinding[];
}

export interface VerifyOptions {
  deep?: boolean;
  env?: Record<string, string | undefined>;
  progress?: Progress;
}

/** Verifies against `name`, or with no name the pond's only (or mirrored) remote. Holds the write lock so the local side is still. */
export async function verify(pond: Pond, name: string | undefined, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const remotes = readRemotes(pond.paths);
  const chosen = name ?? pond.identity.mirrorOf ?? (remotes.length === 1 ? remotes[0]!.name : undefined);
  if (chosen === undefined) throw new NoRemoteError("verify");
  const cfg = findRemote(remotes, chosen);
  return pond.withLock(`pond verify ${cfg.name}`, () => verifyLocked(pond, cfg.name, openRemoteStore(cfg.name, cfg, opts.env ?? process.env), opts));
}

async function verifyLocked(pond: Pond, name: string, remote: ObjectStore, opts: VerifyOptions): Promise<VerifyReport> {
  const local = pond.persistence.store;
  const progress = opts.progress ?? silentProgress;
  const [localList, remoteList] = await Promise.all([Array.fromAsync(local.list("")), Array.fromAsync(remote.list(""))]);
  const plan = planReplication(localList, remoteList);
  const rep: VerifyReport = {
    remote: name,
    url: remote.url,
    deep: opts.deep ?? false,
    localPondId: pond.id,
    remotePondId: null,
    localTip: plan.srcTip ?? -1,
    remoteTip: plan.dstTip,
    matches: [],
    behind: [],
    wrong: [],
  };

  const identity = await readRemoteIdentity(remote);
  if (!identity) {
    if (remoteList.length === 0) rep.behind.push(`the remote is empty: nothing has been pushed to it (run \`pond push ${name}\`)`);
    else rep.wrong.push({ key: "_pond/identity.json", problem: "missing: the remote holds objects but no pond identity" });
    return rep;
  }
  rep.remotePondId = identity.pondId;
  if (identity.pondId !== pond.id) {
    rep.wrong.push({ key: "_pond/identity.json", problem: `the remote holds pond ${identity.pondId}, and this pond is ${pond.id}` });
    return rep;
  }
  rep.matches.push(`pond id ${pond.id} on both sides`);

  // Tips.
  const localTip = rep.localTip;
  const remoteTip = plan.dstTip;
  if (remoteTip === null) rep.behind.push(`the remote has no commits yet (run \`pond push ${name}\`)`);
  else if (remoteTip === localTip) rep.matches.push(`tip: version ${localTip} on both sides`);
  else if (remoteTip < localTip)
    rep.behind.push(`the remote is ${localTip - remoteTip} version(s) behind: it has ${remoteTip}, this pond ${localTip} (run \`pond push ${name}\`)`);
  else
    rep.behind.push(
      `this pond is ${remoteTip - localTip} version(s) behind the remote: it has ${localTip}, the remote ${remoteTip} (run \`pond pull ${name}\`)`,
    );

  const localSize = new Map(localList.map((m) => [m.key, m.size]));
  const remoteSize = new Map(remoteList.map((m) => [m.key, m.size]));
  const common = Math.min(localTip, remoteTip ?? -1);

  // Commits both sides should have.
  let sameCommits = 0;
  for (let v = 0; v <= common; v++) {
    const key = commitKey(v);
    const mine = localSize.get(key);
    const theirs = remoteSize.get(key);
    if (mine === undefined) continue; // cleaned up locally: nothing to compare with
    if (theirs === undefined) rep.wrong.push({ key, problem: `missing from the remote (version ${v})` });
    else if (theirs !== mine) rep.wrong.push({ key, problem: `${theirs} bytes on the remote, ${mine} in this pond: not the same version ${v}` });
    else sameCommits++;
  }
  if (common >= 0) rep.matches.push(`${sameCommits} commit(s) of versions 0–${common} have the same size on both sides`);

  // Everything the remote's log refers to, with the sizes it must have.
  const referenced = new Map<string, { size: number; by: string }>();
  const refer = (key: string, size: number, by: string) => {
    if (!referenced.has(key)) referenced.set(key, { size, by });
  };
  const versions = remoteTip === null ? [] : Array.from({ length: remoteTip + 1 }, (_, v) => v);
  await mapLimit(versions, 8, async (v) => {
    const fromLocal = v <= common && localSize.has(commitKey(v));
    const from = fromLocal ? local : remote;
    if (!fromLocal && !remoteSize.has(commitKey(v))) return; // missing: reported above, or cleaned up
    for (const add of addsOf(await readCommit(from, v))) {
      const key = addKey(add);
      refer(key, add.size, `version ${v}`);
      // Rows are read locally where this pond has the file; on the remote only in deep mode.
      if (localSize.get(key) === add.size) {
        for (const l of await largeFilesOf(local, add)) refer(l.key, l.size, `a row of ${key}`);
      } else if (opts.deep && remoteSize.get(key) === add.size) {
        for (const l of await largeFilesOf(remote, add)) refer(l.key, l.size, `a row of ${key}`);
      }
    }
  });
  let present = 0;
  for (const [key, { size, by }] of referenced) {
    const theirs = remoteSize.get(key);
    if (theirs === undefined) rep.wrong.push({ key, problem: `missing from the remote (${by} refers to it)` });
    else if (theirs !== size) rep.wrong.push({ key, problem: `${theirs} bytes on the remote; ${by} says ${size}` });
    else present++;
  }
  if (referenced.size) rep.matches.push(`${present} object(s) the log refers to are on the remote with the right size`);

  const meta = remoteList.filter((m) => m.key.startsWith(REMOTE_META_PREFIX));
  const { expected, conflicts } = await readManifests(remote, meta);
  for (const key of conflicts) rep.wrong.push({ key, problem: "two push manifests record different contents for it" });

  if (opts.deep) await deepCheck(rep, local, remote, remoteList, expected, referenced, common, localSize, progress);
  return rep;
}

/** Downloads and re-hashes every replicated remote object. */
async function deepCheck(
  rep: VerifyReport,
  local: ObjectStore,
  remote: ObjectStore,
  remoteList: readonly ObjectMeta[],
  expected: Map<string, { size: number; sha256: string }>,
  referenced: Map<string, { size: number; by: string }>,
  common: number,
  localSize: Map<string, number>,
  progress: Progress,
): Promise<void> {
  const objects = remoteList.filter((m) => isReplicated(m.key));
  progress.total(
    objects.length,
    objects.reduce((n, m) => n + m.size, 0),
  );
  let ok = 0;
  let bytes = 0;
  let sizeOnly = 0;
  await mapLimit(objects, 8, async (m) => {
    const hasher = newSha256();
    let size = 0;
    for await (const chunk of remote.getStream(m.key)) {
      hasher.update(chunk);
      size += chunk.length;
      progress.tick(0, chunk.length);
    }
    progress.tick(1, 0);
    bytes += size;
    const sha256 = hasher.hex();
    const manifest = expected.get(m.key);
    const ref = referenced.get(m.key);
    let problem = mismatch(
      m.key,
      m.size,
      manifest ? { ...manifest, source: "its push manifest" } : ref ? { size: ref.size, source: `${ref.by}` } : undefined,
      size,
      sha256,
    );
    const version = commitVersion(m.key);
    if (!problem && version !== null && version <= common && localSize.has(m.key)) {
      if (sha256Of(await local.get(m.key)) !== sha256) problem = `its content differs from this pond's version ${version}`;
    }
    if (problem) rep.wrong.push({ key: m.key, problem });
    else {
      ok++;
      if (!manifest && contentHash(m.key) === null) sizeOnly++;
    }
  });
  progress.done();
  rep.matches.push(
    `${ok} of ${objects.length} remote object(s) re-hashed (${bytes} bytes) match their names, manifests and the log${sizeOnly ? ` (${sizeOnly} without a recorded hash: size checked only)` : ""}`,
  );
}

function commitVersion(key: string): number | null {
  const name = parseLogFileName(key);
  return name?.kind === "commit" ? name.version : null;
}
