/**
 * What to copy from one copy of a pond's `data/` to another (push: local → remote;
 * pull and restore: remote → local), planned from the two listings alone, before any
 * byte moves, so the plan is a value tests can check without IO.
 *
 * The order is what keeps the destination consistent at every moment: payloads
 * (large files, Parquet entry files, anything outside `_delta_log/`) first, then
 * commits in version order, then checkpoints, then `_last_checkpoint`. A reader of
 * the destination never meets a commit whose files are missing, nor a
 * `_last_checkpoint` naming a checkpoint that is not there.
 */
import { parseLogFileName, type ObjectMeta } from "@pond/oplog";
import { REMOTE_META_PREFIX } from "./remote-layout.ts";

export interface ReplicationPlan {
  /** Newest commit version at the source / destination, null when there is none. */
  srcTip: number | null;
  dstTip: number | null;
  /** Objects outside `_delta_log/` the destination lacks or has with another size. */
  payloads: ObjectMeta[];
  /** Commit files the destination lacks, oldest first. */
  commits: { version: number; meta: ObjectMeta }[];
  /** Checkpoint files the destination lacks. */
  checkpoints: ObjectMeta[];
  /** The source's `_last_checkpoint`, when the destination's may differ (other size, or new commits or checkpoints). */
  lastCheckpoint: ObjectMeta | null;
  files: number;
  bytes: number;
}

/**
 * Whether a key is part of the replicated table: not the remote's own `_pond/`
 * objects, not a hidden temp file (a path segment starting with "."), and inside
 * `_delta_log/` only names the log knows.
 */
export function isReplicated(key: string): boolean {
  if (key.startsWith(REMOTE_META_PREFIX)) return false;
  if (key.split("/").some((seg) => seg.startsWith("."))) return false;
  if (key.startsWith("_delta_log/")) return parseLogFileName(key) !== null;
  return true;
}

/** Plans copying `src` to `dst` from their full listings (keys relative to each root). */
export function planReplication(src: readonly ObjectMeta[], dst: readonly ObjectMeta[]): ReplicationPlan {
  const have = new Map<string, number>();
  let dstTip: number | null = null;
  for (const m of dst) {
    if (!isReplicated(m.key)) continue;
    have.set(m.key, m.size);
    const name = parseLogFileName(m.key);
    if (name?.kind === "commit" && (dstTip === null || name.version > dstTip)) dstTip = name.version;
  }
  const plan: ReplicationPlan = { srcTip: null, dstTip, payloads: [], commits: [], checkpoints: [], lastCheckpoint: null, files: 0, bytes: 0 };
  let srcLastCheckpoint: ObjectMeta | null = null;
  for (const m of src) {
    if (!isReplicated(m.key)) continue;
    const name = parseLogFileName(m.key);
    if (name?.kind === "commit" && (plan.srcTip === null || name.version > plan.srcTip)) plan.srcTip = name.version;
    if (name?.kind === "last_checkpoint") {
      srcLastCheckpoint = m;
      continue;
    }
    if (have.get(m.key) === m.size) continue;
    if (name === null) plan.payloads.push(m);
    else if (name.kind === "commit") {
      // A commit the destination has with another size is a divergence, found by the caller's tip check; never overwrite one.
      if (!have.has(m.key)) plan.commits.push({ version: name.version, meta: m });
    } else plan.checkpoints.push(m);
  }
  plan.commits.sort((a, b) => a.version - b.version);
  if (srcLastCheckpoint && (have.get(srcLastCheckpoint.key) !== srcLastCheckpoint.size || plan.checkpoints.length > 0 || plan.commits.length > 0))
    plan.lastCheckpoint = srcLastCheckpoint;
  const all = [...plan.payloads, ...plan.commits.map((c) => c.meta), ...plan.checkpoints, ...(plan.lastCheckpoint ? [plan.lastCheckpoint] : [])];
  plan.files = all.length;
  plan.bytes = all.reduce((n, m) => n + m.size, 0);
  return plan;
}
