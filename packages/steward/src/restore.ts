/**
 * `pond restore URL`: a whole pond, history included, from a remote into a new folder.
 *
 * The restored pond is a read-only mirror of the remote unless `writable` is set.
 * Why mirror by default: a remote belongs to one pond and must have one writer. A
 * copy restored to a second machine while the original still runs (the common case:
 * reading the data elsewhere) must not write, or the two would diverge at the remote.
 * When the original is truly lost, `--writable` makes the copy the pond that owns the
 * remote: it keeps the pond id and pushes to the same remote.
 *
 * Everything is downloaded into a hidden temp folder beside the target and checked
 * (see fetch-remote.ts), then the folder is renamed into place: a failed restore
 * leaves no half pond.
 */
import { isSystemError, span, type Progress } from "@pond/diagnostics";
import { LocalObjectStore, listCommits, loadSnapshot, fsyncDir, writeFileDurable } from "@pond/oplog";
import { existsSync, mkdirSync, readdirSync, renameSync, rmdirSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { PondExistsError, RestoreTargetError } from "./errors.ts";
import { fetchFromRemote } from "./fetch-remote.ts";
import { completeHistory, writeControlLog } from "./history-rebuild.ts";
import { pondPaths, type PondIdentity } from "./pond.ts";
import { checkRemoteName, locationFromFlags, writeRemotes, type CredentialRefs, type RemoteConfig } from "./remote-config.ts";
import { openRemoteStore, type RemoteStoreTuning } from "./remote-store.ts";

export interface RestoreOptions {
  endpoint?: string;
  region?: string;
  credentials?: CredentialRefs;
  /** The name the remote gets in the restored pond. Default "origin". */
  name?: string;
  /** A normal, writable pond instead of a mirror (see the module comment). */
  writable?: boolean;
  env?: Record<string, string | undefined>;
  progress?: Progress;
  tuning?: RemoteStoreTuning;
  concurrency?: number;
}

export interface RestoreReport {
  pondId: string;
  dir: string;
  version: number;
  files: number;
  bytes: number;
  mirror: boolean;
  remote: string;
  /** Temp folders of earlier restores into the same target that were killed, now removed. */
  removedLeftovers: { path: string; bytes: number }[];
}

export async function restore(url: string, dir: string, opts: RestoreOptions = {}): Promise<RestoreReport> {
  const name = opts.name ?? "origin";
  checkRemoteName(name);
  const location = locationFromFlags(url, { endpoint: opts.endpoint, region: opts.region, credentials: opts.credentials });
  const target = pondPaths(dir);
  checkTarget(target.dir);

  const cfg: RemoteConfig = {
    name,
    ...location,
    mode: opts.writable ? "manual" : "pull",
  };
  const remote = openRemoteStore(name, cfg, opts.env ?? process.env, opts.tuning);

  mkdirSync(dirname(target.dir), { recursive: true });
  const removedLeftovers = removeKilledRestores(target.dir);
  const tmpDir = join(dirname(target.dir), `${restoreTempPrefix(target.dir)}${process.pid}-${Date.now().toString(36)}`);
  const tmp = pondPaths(tmpDir);
  mkdirSync(tmp.data, { recursive: true });
  mkdirSync(tmp.control, { recursive: true });
  try {
    const local = new LocalObjectStore(tmp.data);
    const rep = await fetchFromRemote(remote, local, { progress: opts.progress, concurrency: opts.concurrency });
    const finish = span("restore_finish");
    await loadSnapshot(local); // the restored table opens: protocol, metadata, every file of the tip
    const identity: PondIdentity = { pondId: rep.identity.pondId, createdAt: rep.identity.createdAt, format: 1, ...(opts.writable ? {} : { mirrorOf: name }) };
    writeFileDurable(tmp.identity, JSON.stringify(identity, null, 2) + "\n");
    writeControlLog(tmp.controlLog, completeHistory(rep.control, await listCommits(local)));
    const at = new Date().toISOString();
    writeRemotes(tmp, [{ ...cfg, lastPulled: { version: rep.toVersion, at }, ...(opts.writable ? { lastPushed: { version: rep.toVersion, at } } : {}) }]);
    checkTarget(target.dir); // again: someone may have made it meanwhile
    if (existsSync(target.dir)) rmdirSync(target.dir); // empty (checked): rename needs it gone
    renameSync(tmpDir, target.dir);
    await fsyncDir(dirname(target.dir)); // the restored pond's name survives a crash
    finish.end();
    return {
      pondId: identity.pondId,
      dir: target.dir,
      version: rep.toVersion,
      files: rep.files,
      bytes: rep.bytes,
      mirror: !opts.writable,
      remote: name,
      removedLeftovers,
    };
  } catch (e) {
    rmSync(tmpDir, { recursive: true, force: true });
    throw e;
  }
}

/** The target must not hold a pond, and must be missing or an empty folder. */
function checkTarget(dir: string): void {
  const p = pondPaths(dir);
  if (existsSync(p.identity) || existsSync(join(p.data, "_delta_log"))) throw new PondExistsError(p.dir);
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) throw new RestoreTargetError(resolve(dir), "it is a file");
  if (readdirSync(dir).length > 0) throw new RestoreTargetError(resolve(dir), "the folder is not empty");
}

/** The hidden temp folder of a restore into `dir` is `<parent>/.<name>.restore-<pid>-<time>`. */
function restoreTempPrefix(dir: string): string {
  return `.${basename(dir)}.restore-`;
}

/**
 * Removes the temp folders that restores into `dir` left when they were killed (a restore
 * that fails on its own removes its folder). A folder whose pid is still alive belongs to
 * a restore running now and is kept; a reused pid keeps a leftover one run longer, never
 * deletes a live one.
 */
export function removeKilledRestores(dir: string): { path: string; bytes: number }[] {
  const parent = dirname(dir);
  const prefix = restoreTempPrefix(dir);
  const removed: { path: string; bytes: number }[] = [];
  for (const name of readdirSync(parent)) {
    if (!name.startsWith(prefix)) continue;
    const m = /^(\d+)-[0-9a-z]+$/.exec(name.slice(prefix.length));
    if (!m || processAlive(Number(m[1]))) continue;
    const path = join(parent, name);
    const bytes = folderBytes(path);
    rmSync(path, { recursive: true, force: true });
    removed.push({ path, bytes });
  }
  return removed;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    if (isSystemError(e, "ESRCH")) return false;
    if (isSystemError(e, "EPERM")) return true; // alive, another user's
    throw e;
  }
}

function folderBytes(dir: string): number {
  let bytes = 0;
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) if (e.isFile()) bytes += statSync(join(e.parentPath, e.name)).size;
  return bytes;
}
