// An independent reader of a pond's data log, as any Delta client would read it: from the JSON
// commits and the Parquet checkpoint alone, with DuckDB reading the checkpoint (pond's own code
// reads it with another Parquet library). It extends issue 13's reader (test/files-durability)
// to a log whose early commits maintenance deleted after a checkpoint.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";

export interface DeltaTableState {
  /** The version the reader started from: a checkpoint's, or -1 when it replayed from commit 0. */
  checkpoint: number;
  /** The newest version. */
  version: number;
  /** Live files (path → size). */
  live: Map<string, number>;
}

/** A problem that makes the folder not a valid Delta table (thrown, with the path). */
export class DeltaTableError extends Error {}

let instance: DuckDBInstance | undefined;

async function query(sql: string): Promise<Record<string, unknown>[]> {
  instance ??= await DuckDBInstance.create(":memory:");
  const conn = await instance.connect();
  try {
    return (await conn.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
  } finally {
    conn.closeSync();
  }
}

const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;

/**
 * Reads `pondDir/data` as a Delta table and checks what a reader relies on:
 * - `_last_checkpoint`, when present, names a checkpoint that exists and is not newer than the newest commit;
 * - the newest checkpoint (or commit 0) has protocol (reader 1, writer 2) and a metaData whose schemaString parses;
 * - every commit after the starting point is there, numbered without a gap, each with at most one commitInfo;
 * - each remove names a live file; each add has a value for every partition column, stats that parse;
 * - each live file exists with its recorded size and is a Parquet file (PAR1 at both ends).
 * Throws DeltaTableError naming the file otherwise.
 */
export async function readDeltaTable(pondDir: string): Promise<DeltaTableState> {
  const data = join(pondDir, "data");
  const logDir = join(data, "_delta_log");
  const names = readdirSync(logDir);
  const commits = names
    .filter((f) => /^\d{20}\.json$/.test(f))
    .map((f) => Number(f.slice(0, 20)))
    .sort((a, b) => a - b);
  const checkpoints = names
    .filter((f) => /^\d{20}\.checkpoint\.parquet$/.test(f))
    .map((f) => Number(f.slice(0, 20)))
    .sort((a, b) => a - b);
  const fail = (what: string): never => {
    throw new DeltaTableError(what);
  };
  if (commits.length === 0 && checkpoints.length === 0) fail(`${logDir} holds no commit and no checkpoint`);
  const newest = Math.max(commits.at(-1) ?? -1, checkpoints.at(-1) ?? -1);
  if (names.includes("_last_checkpoint")) {
    const last = JSON.parse(readFileSync(join(logDir, "_last_checkpoint"), "utf8")) as { version: number; size?: number };
    if (!checkpoints.includes(last.version)) fail(`_last_checkpoint names version ${last.version}, whose checkpoint is missing`);
    if (last.version > newest) fail(`_last_checkpoint names version ${last.version}, after the newest commit ${newest}`);
  }
  // Start from the newest checkpoint (what a reader does), else from commit 0.
  const start = checkpoints.at(-1) ?? -1;
  const live = new Map<string, number>();
  let partitionColumns: string[] | undefined;
  const checkMeta = (protocol: Record<string, unknown> | undefined, meta: Record<string, unknown> | undefined, where: string) => {
    if (Number(protocol?.minReaderVersion) !== 1 || Number(protocol?.minWriterVersion) !== 2) fail(`${where}: protocol is ${JSON.stringify(protocol)}`);
    const schema = JSON.parse(String(meta?.schemaString)) as { type: string };
    if (schema.type !== "struct") fail(`${where}: schemaString is not a struct`);
    partitionColumns = (meta?.partitionColumns as string[]) ?? fail(`${where}: metaData has no partitionColumns`);
  };
  if (start >= 0) {
    const file = join(logDir, `${String(start).padStart(20, "0")}.checkpoint.parquet`);
    const rows = await query(
      `SELECT to_json(protocol) AS protocol, to_json(metaData) AS meta, add.path AS add_path, add.size AS add_size, add.stats AS add_stats, to_json(add.partitionValues) AS add_pv, remove.path AS remove_path FROM read_parquet(${sqlString(file)})`,
    );
    const protocol = rows.find((r) => r.protocol !== null)?.protocol;
    const meta = rows.find((r) => r.meta !== null)?.meta;
    checkMeta(protocol ? JSON.parse(String(protocol)) : undefined, meta ? JSON.parse(String(meta)) : undefined, file);
    for (const r of rows) {
      if (r.add_path === null) continue;
      const p = decodeURIComponent(String(r.add_path));
      if (r.add_stats !== null) JSON.parse(String(r.add_stats));
      live.set(p, Number(r.add_size));
    }
  }
  const replay = (into: Map<string, number>, from: number) => {
    for (let v = from; v <= newest; v++) {
      if (!commits.includes(v)) fail(`commit ${v} is missing (the log goes from ${from} to ${newest})`);
      const f = `${String(v).padStart(20, "0")}.json`;
      const actions = readFileSync(join(logDir, f), "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, Record<string, unknown>>);
      if (actions.filter((a) => a.commitInfo).length > 1) fail(`${f} has more than one commitInfo`);
      if (v === 0) checkMeta(actions.find((a) => a.protocol)?.protocol, actions.find((a) => a.metaData)?.metaData, f);
      for (const a of actions) {
        if (a.remove) {
          const p = decodeURIComponent(String(a.remove.path));
          if (!into.has(p)) fail(`${f} removes ${p}, which is not live`);
          into.delete(p);
        }
        if (a.add) {
          const p = decodeURIComponent(String(a.add.path));
          const pv = a.add.partitionValues as Record<string, string>;
          if (Object.keys(pv).sort().join() !== [...(partitionColumns ?? [])].sort().join()) fail(`${f}: add ${p} has partition values ${JSON.stringify(pv)}`);
          if (typeof a.add.modificationTime !== "number" || typeof a.add.dataChange !== "boolean") fail(`${f}: add ${p} lacks modificationTime/dataChange`);
          if (!(JSON.parse(String(a.add.stats)).numRecords >= 0)) fail(`${f}: add ${p} has no numRecords`);
          into.set(p, Number(a.add.size));
        }
      }
    }
  };
  replay(live, start + 1);
  // When the whole log is still there, the checkpoint must say what the commits say.
  if (start >= 0 && commits[0] === 0) {
    const fromJson = new Map<string, number>();
    replay(fromJson, 0);
    const a = [...fromJson].sort().join("\n");
    const b = [...live].sort().join("\n");
    if (a !== b) fail(`checkpoint ${start} plus later commits disagrees with the commits from 0`);
  }
  if (partitionColumns === undefined) fail(`${logDir}: no protocol/metaData found`);
  for (const [p, size] of live) {
    const f = join(data, p);
    if (!existsSync(f)) fail(`live file ${p} is missing`);
    if (statSync(f).size !== size) fail(`live file ${p} is ${statSync(f).size} bytes, the log says ${size}`);
    const bytes = readFileSync(f);
    if (bytes.subarray(0, 4).toString() !== "PAR1" || bytes.subarray(bytes.length - 4).toString() !== "PAR1") fail(`live file ${p} is not Parquet`);
  }
  return { checkpoint: start, version: newest, live };
}
