/**
 * What the `_delta_log/` folder holds, from one or a few list requests. Listing is
 * the cost every command pays (a local store stats each listed file), so when
 * `_last_checkpoint` names checkpoint `c`, only the keys of versions from `c`'s
 * hundred onwards are listed, by prefix: a 10,000-commit log lists ~100 names.
 */
import { CorruptLogError, ObjectNotFoundError } from "./errors.ts";
import { LAST_CHECKPOINT_KEY, LOG_DIR, parseLogFileName } from "./log-file-name.ts";
import type { ObjectMeta, ObjectStore } from "./object-store.ts";

/**
 * Invariant: `commits` and `checkpoints` hold every log file of each version from
 * `from` on (all versions when `from` is 0). `checkpoints` holds complete checkpoints
 * only (every part of a multi-part one present), each as its parts in order.
 */
export interface LogListing {
  from: number;
  commits: Map<number, ObjectMeta>;
  checkpoints: Map<number, ObjectMeta[]>;
  /** Highest version with a commit or a checkpoint; null when the log is empty. */
  latest: number | null;
}

/** Versions per listed block: the last two digits of the 20-digit name vary within one prefix. */
const BLOCK = 100;

/**
 * Lists the log. With `from`, lists only the blocks of 100 versions starting at
 * `from`'s, moving to the next block while the current one is full (versions are
 * contiguous, so a block that ends short is the last).
 */
export async function listLog(store: ObjectStore, from = 0): Promise<LogListing> {
  const collector = new Collector();
  if (from === 0) {
    for await (const meta of store.list(LOG_DIR)) collector.add(meta);
  } else {
    for (let block = Math.floor(from / BLOCK); ; block++) {
      const last = block * BLOCK + BLOCK - 1;
      let full = false;
      for await (const meta of store.list(LOG_DIR + String(block).padStart(20 - 2, "0"))) {
        if (collector.add(meta) === last) full = true;
      }
      if (!full) break;
    }
  }
  return collector.finish(from);
}

/**
 * The listing to replay the latest version (or a version at or after the last
 * checkpoint): narrowed by `_last_checkpoint` when it names a checkpoint that exists,
 * else the whole log (the file is only a hint, as the Delta protocol says).
 */
export async function listLogForLatest(store: ObjectStore, atLeast?: number): Promise<LogListing> {
  const hint = await readLastCheckpoint(store);
  if (hint !== null && hint > 0 && (atLeast === undefined || atLeast >= hint)) {
    const narrow = await listLog(store, hint);
    if (narrow.checkpoints.has(hint)) return narrow;
  }
  return listLog(store);
}

/** The version `_last_checkpoint` names, or null when there is none. */
export async function readLastCheckpoint(store: ObjectStore): Promise<number | null> {
  let bytes: Uint8Array;
  try {
    bytes = await store.get(LAST_CHECKPOINT_KEY);
  } catch (e) {
    if (e instanceof ObjectNotFoundError) return null;
    throw e;
  }
  let v: unknown;
  try {
    v = (JSON.parse(new TextDecoder().decode(bytes)) as { version?: unknown }).version;
  } catch (e) {
    if (e instanceof SyntaxError) throw new CorruptLogError(LAST_CHECKPOINT_KEY, `is not valid JSON (${e.message})`, e);
    throw e;
  }
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) throw new CorruptLogError(LAST_CHECKPOINT_KEY, `has no valid version (${JSON.stringify(v)})`);
  return v;
}

class Collector {
  private readonly commits = new Map<number, ObjectMeta>();
  private readonly singles = new Map<number, ObjectMeta>();
  private readonly multi = new Map<string, { version: number; total: number; parts: (ObjectMeta | undefined)[] }>();
  private latest: number | null = null;

  /** Records one listed object; returns its version, or null when it is not a log file. */
  add(meta: ObjectMeta): number | null {
    const name = parseLogFileName(meta.key);
    if (!name || name.kind === "last_checkpoint") return null;
    if (name.kind === "commit") this.commits.set(name.version, meta);
    else if (!name.parts) this.singles.set(name.version, meta);
    else {
      const id = `${name.version}/${name.parts.total}`;
      let m = this.multi.get(id);
      if (!m) this.multi.set(id, (m = { version: name.version, total: name.parts.total, parts: [] }));
      m.parts[name.parts.index - 1] = meta;
    }
    if (this.latest === null || name.version > this.latest) this.latest = name.version;
    return name.version;
  }

  finish(from: number): LogListing {
    const checkpoints = new Map<number, ObjectMeta[]>();
    for (const m of this.multi.values()) {
      const complete = m.parts.filter((p): p is ObjectMeta => p !== undefined);
      if (complete.length === m.total && !checkpoints.has(m.version)) checkpoints.set(m.version, complete);
    }
    for (const [v, meta] of this.singles) checkpoints.set(v, [meta]);
    return { from, commits: this.commits, checkpoints, latest: this.latest };
  }
}
