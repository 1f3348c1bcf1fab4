/**
 * `pond pull`: brings a mirror (or any copy whose log is a prefix of the remote's)
 * up to the remote's tip. The remote must hold the same pond; the mirror's own log
 * must not have moved past or away from the remote's.
 */
import type { Progress } from "@pond/diagnostics";
import { listCommits } from "@pond/oplog";
import { readControlParts } from "./control-log.ts";
import { rotateControl } from "./control-rotate.ts";
import { configValue, parseSize } from "./maintenance/pond-config.ts";
import { NoRemoteError } from "./errors.ts";
import { fetchFromRemote } from "./fetch-remote.ts";
import { completeHistory, writeControlLog } from "./history-rebuild.ts";
import type { Pond } from "./pond.ts";
import { findRemote, readRemotes, updateRemote } from "./remote-config.ts";
import { openRemoteStore, type RemoteStoreTuning } from "./remote-store.ts";

export interface PullOptions {
  env?: Record<string, string | undefined>;
  progress?: Progress;
  tuning?: RemoteStoreTuning;
}

export interface PullReport {
  remote: string;
  url: string;
  fromVersion: number;
  toVersion: number;
  files: number;
  bytes: number;
}

/** Pulls from `name`, or with no name from the remote the pond mirrors. Takes the write lock. */
export async function pull(pond: Pond, name: string | undefined, opts: PullOptions = {}): Promise<PullReport> {
  const remotes = readRemotes(pond.paths);
  const chosen = name ?? pond.identity.mirrorOf ?? remotes.find((r) => r.mode === "pull")?.name;
  if (chosen === undefined) throw new NoRemoteError("pull from");
  const cfg = findRemote(remotes, chosen);
  return pond.withLock(`pond pull ${cfg.name}`, async () => {
    const remote = openRemoteStore(cfg.name, cfg, opts.env ?? process.env, opts.tuning);
    const local = pond.persistence.store;
    const before = await pond.seq();
    const rep = await fetchFromRemote(remote, local, { expectPondId: pond.id, progress: opts.progress });
    // History: what this copy had, then what the remote adds (repeats dropped), then any commit still unrecorded.
    // The archives stay as they are: only the live file is rewritten, from the same base.
    const { archived, base, live } = readControlParts(pond.paths.controlLog);
    const mine = [...archived, ...live];
    const seen = new Set(mine.map((r) => JSON.stringify(r)));
    const merged = [...mine, ...rep.control.filter((r) => !seen.has(JSON.stringify(r)))];
    writeControlLog(pond.paths.controlLog, completeHistory(merged, await listCommits(local)).slice(archived.length), base);
    // A mirror is never maintained (no cleanup, no automatic maintenance): its history is archived here.
    const threshold = parseSize("maintain.control-archive-after", configValue(pond.paths.control, "maintain.control-archive-after") ?? "1MiB");
    rotateControl(pond.paths.controlLog, { thresholdBytes: threshold });
    updateRemote(pond.paths, cfg.name, (r) => {
      r.lastPulled = { version: rep.toVersion, at: new Date().toISOString() };
    });
    return { remote: cfg.name, url: remote.url, fromVersion: before, toVersion: rep.toVersion, files: rep.files, bytes: rep.bytes };
  });
}
