/**
 * Brings a local `data/` up to a remote's tip: the common core of `pond pull` (into
 * a mirror) and `pond restore` (into an empty folder). Every object is checked on the
 * way in (large files against their names, everything else against the push
 * manifests and the log's sizes), and the log's references are checked before any
 * new commit is written, so a damaged remote never yields a damaged local pond: the
 * error names the remote object.
 *
 * Local order is the push order: payloads, then commits oldest first, then
 * checkpoints and `_last_checkpoint`, so a reader of the local pond (a mirror in use)
 * never meets a commit whose files are missing.
 */
import { silentProgress, span, type Progress } from "@pond/diagnostics";
import { commitKey, mapLimit, parseActions, type ObjectStore } from "@pond/oplog";
import type { ControlRecord } from "./control-log.ts";
import { NotAPondRemoteError, RemoteDivergedError, RemoteObjectCorruptError, RemoteObjectMissingError } from "./errors.ts";
import { addKey, addsOf, largeFilesOf } from "./log-references.ts";
import { checkSamePond, readManifests, readRemoteControl, REMOTE_META_PREFIX, requireRemoteIdentity, type RemoteIdentity } from "./remote-layout.ts";
import { planReplication } from "./replication-plan.ts";
import { StagedDownloads, type SettleReport } from "./staged-downloads.ts";
import { copyObject, mismatch, sha256Of, syncDirs, type Expectation } from "./transfer.ts";

export interface FetchOptions {
  /** The pond id the remote must hold (pull); restore takes whatever it holds. */
  expectPondId?: string;
  progress?: Progress;
  /** Objects downloaded at once. Default 8. */
  concurrency?: number;
}

export interface FetchReport {
  identity: RemoteIdentity;
  /** The local tip before (null: empty) and after. */
  fromVersion: number | null;
  toVersion: number;
  files: number;
  bytes: number;
  /** The remote's control history (what `pond log` shows), in order. */
  control: ControlRecord[];
}

export async function fetchFromRemote(remote: ObjectStore, local: ObjectStore, opts: FetchOptions = {}): Promise<FetchReport> {
  const progress = opts.progress ?? silentProgress;
  // POND_LOG=debug times each phase (fetch_plan, fetch_commits, fetch_payloads, fetch_settle, fetch_publish_log).
  let phase = span("fetch_plan");
  const identity = await requireRemoteIdentity(remote);
  if (opts.expectPondId !== undefined) checkSamePond(remote.url, identity, opts.expectPondId, "pull from");
  const [remoteList, localList] = await Promise.all([Array.fromAsync(remote.list("")), Array.fromAsync(local.list(""))]);
  const plan = planReplication(remoteList, localList);
  if (plan.srcTip === null) throw new NotAPondRemoteError(remote.url, "it has an identity but no commits yet (push to it first)");
  if (plan.dstTip !== null) await checkFastForward(remote, local, plan.srcTip, plan.dstTip);
  const corrupt = (key: string, detail: string) => new RemoteObjectCorruptError(remote.url, key, detail);
  const meta = remoteList.filter((m) => m.key.startsWith(REMOTE_META_PREFIX));
  const { expected } = await readManifests(remote, meta, plan.dstTip ?? -1);
  progress.total(plan.files, plan.bytes);
  phase.end({ objects: remoteList.length });

  // The new commits, checked and parsed first: they say what the payloads must be.
  phase = span("fetch_commits");
  const commitBytes = await mapLimit(plan.commits, 16, async ({ meta: m }) => {
    const bytes = await remote.get(m.key);
    const problem = mismatch(m.key, m.size, expected.get(m.key), bytes.length, sha256Of(bytes));
    if (problem) throw corrupt(m.key, problem);
    return bytes;
  });
  const addsByVersion = plan.commits.map((c, i) => ({ version: c.version, adds: addsOf(parseActions(commitBytes[i]!, c.meta.key)) }));
  const fromLog = new Map<string, Expectation>();
  for (const { version, adds } of addsByVersion) for (const a of adds) fromLog.set(addKey(a), { size: a.size, source: `its add action in version ${version}` });

  // Payloads. Large ones from a store that downloads natively are staged: each is
  // downloaded into a temp file, then fsynced and hashed (on idle-priority threads) while
  // the others download; all are checked before any is published (staged-downloads.ts).
  const concurrency = opts.concurrency ?? 8;
  // Folders are fsynced once, after all payloads and before any commit names them.
  const dirsToSync = new Set<string>();
  phase.end({ commits: plan.commits.length });
  phase = span("fetch_payloads");
  const staged = new StagedDownloads(remote, local, { progress, corrupt, dirsToSync });
  let settled: SettleReport | undefined;
  try {
    await mapLimit(plan.payloads, concurrency, async (m): Promise<void> => {
      const expect = expected.get(m.key) ?? fromLog.get(m.key);
      if (staged.takes(m)) await staged.download(m, expect);
      else await copyObject(remote, local, m, { expect, progress, corrupt, dirsToSync });
    });
    phase.end({ payloads: plan.payloads.length });
    phase = span("fetch_settle");
    settled = await staged.settle();
  } finally {
    staged.cleanup();
  }
  await syncDirs(dirsToSync);
  phase.end({ ...settled });
  phase = span("fetch_publish_log");

  // Everything the new commits refer to must now be here.
  const present = new Set<string>(localList.map((m) => m.key));
  for (const m of plan.payloads) present.add(m.key);
  const needs: { key: string; version: number; add: (typeof addsByVersion)[number]["adds"][number] }[] = [];
  for (const { version, adds } of addsByVersion) {
    for (const add of adds) {
      const key = addKey(add);
      if (!present.has(key)) throw new RemoteObjectMissingError(remote.url, key, `version ${version} adds it`);
      needs.push({ key, version, add });
    }
  }
  await mapLimit(needs, 8, async ({ key, version, add }) => {
    for (const large of await largeFilesOf(local, add)) {
      if (!present.has(large.key)) throw new RemoteObjectMissingError(remote.url, large.key, `a row of ${key} (version ${version}) refers to it`);
    }
  });

  // Commits, oldest first; then checkpoints and the pointer to the newest.
  for (let i = 0; i < plan.commits.length; i++) {
    const { meta: m } = plan.commits[i]!;
    if ((await local.put(m.key, commitBytes[i]!, { ifAbsent: true })) === "exists" && sha256Of(await local.get(m.key)) !== sha256Of(commitBytes[i]!)) {
      throw new RemoteDivergedError(
        remote.url,
        `this pond already has a different version ${plan.commits[i]!.version}`,
        "Restore the pond again from the remote into a new folder.",
      );
    }
    progress.tick(1, m.size);
  }
  for (const m of plan.checkpoints) await copyObject(remote, local, m, { expect: expected.get(m.key), progress, corrupt });
  if (plan.lastCheckpoint) await copyObject(remote, local, plan.lastCheckpoint, { progress, corrupt });
  progress.done();
  phase.end();

  const control = await readRemoteControl(remote, meta);
  return { identity, fromVersion: plan.dstTip, toVersion: plan.srcTip, files: plan.files, bytes: plan.bytes, control };
}

/** The local log must be a prefix of the remote's: not ahead, and equal at the local tip. */
async function checkFastForward(remote: ObjectStore, local: ObjectStore, remoteTip: number, localTip: number): Promise<void> {
  const hint = "This copy has commits the remote does not. Restore a fresh mirror from the remote (`pond restore`) into a new folder.";
  if (localTip > remoteTip)
    throw new RemoteDivergedError(remote.url, `this pond has version ${localTip} and the remote only ${remoteTip}`, hint, { localTip, remoteTip });
  const [mine, theirs] = await Promise.all([local.get(commitKey(localTip)), remote.get(commitKey(localTip))]);
  if (sha256Of(mine) !== sha256Of(theirs))
    throw new RemoteDivergedError(remote.url, `its version ${localTip} is not this pond's version ${localTip}`, hint, { version: localTip });
}
