/**
 * The names of `_delta_log` files, parsed once into a typed value. Nothing else in
 * Pond splits or formats these names. Only direct children of `_delta_log/` count:
 * a writer's scratch folder (`_delta_log/.tmp/…`) is not part of the log.
 */

export const LOG_DIR = "_delta_log/";
export const LAST_CHECKPOINT_KEY = "_delta_log/_last_checkpoint";

export type LogFileName =
  | { kind: "commit"; version: number; key: string }
  /** `parts` is set for a multi-part checkpoint: this file is part `index` of `total`. */
  | { kind: "checkpoint"; version: number; key: string; parts?: { index: number; total: number } }
  | { kind: "last_checkpoint"; key: string };

const COMMIT = /^(\d{20})\.json$/;
const CHECKPOINT = /^(\d{20})\.checkpoint\.parquet$/;
const CHECKPOINT_PART = /^(\d{20})\.checkpoint\.(\d{10})\.(\d{10})\.parquet$/;

/**
 * Parses a store key. Returns null for anything outside the naming scheme (CRC files,
 * V2 checkpoints, log compactions, temp files, nested folders): readers ignore those.
 */
export function parseLogFileName(key: string): LogFileName | null {
  if (!key.startsWith(LOG_DIR)) return null;
  const name = key.slice(LOG_DIR.length);
  if (name === "_last_checkpoint") return { kind: "last_checkpoint", key };
  let m = COMMIT.exec(name);
  if (m) return { kind: "commit", version: Number(m[1]), key };
  m = CHECKPOINT.exec(name);
  if (m) return { kind: "checkpoint", version: Number(m[1]), key };
  m = CHECKPOINT_PART.exec(name);
  if (m) {
    const index = Number(m[2]);
    const total = Number(m[3]);
    if (index < 1 || index > total) return null;
    return { kind: "checkpoint", version: Number(m[1]), key, parts: { index, total } };
  }
  return null;
}

/** `_delta_log/00000000000000000007.json` */
export function commitKey(version: number): string {
  return `${LOG_DIR}${pad(version)}.json`;
}

/** `_delta_log/00000000000000000100.checkpoint.parquet` (single-file checkpoints only). */
export function checkpointKey(version: number): string {
  return `${LOG_DIR}${pad(version)}.checkpoint.parquet`;
}

function pad(version: number): string {
  if (!Number.isSafeInteger(version) || version < 0) throw new RangeError(`Delta log version must be a non-negative integer, got ${version}`);
  return String(version).padStart(20, "0");
}
