import { closeSync, openSync, readSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { CorruptLogError, decodeDirectory, describeParquet, loadSnapshot } from "@pond/oplog";
import { hashOpenFile } from "@pond/tlogfs";
import { PondError, silentProgress, type Progress } from "@pond/diagnostics";
import { checkControlHistory } from "../control-log.ts";
import type { Pond } from "../pond.ts";
import { scanPond, type DirectoryRow, type PondScan } from "./reachability.ts";

/** One thing `pond fsck` found wrong: where, what, and what to do about it. */
export interface FsckProblem {
  path: string;
  problem: string;
  fix: string;
}

export interface FsckReport {
  quick: boolean;
  horizon: number;
  latest: number;
  snapshots: number;
  entryFiles: number;
  payloads: number;
  bytesChecked: number;
  problems: FsckProblem[];
}

const RESTORE = "restore the pond from a remote (`pond restore`) or copy the file back from a backup";

/**
 * Checks every unexpired snapshot: the log replays (a valid Delta table), every entry file
 * they name exists with its size and decodes, every directory snapshot decodes, every
 * payload exists with its size and hash (the hash skipped when `quick`), every Parquet
 * payload's footer decodes, and the control log agrees with the data log. Reads only.
 */
export async function fsck(pond: Pond, opts: { quick?: boolean; progress?: Progress } = {}): Promise<FsckReport> {
  const quick = opts.quick ?? false;
  const progress = opts.progress ?? silentProgress;
  const problems: FsckProblem[] = [];
  const report: FsckReport = { quick, horizon: 0, latest: -1, snapshots: 0, entryFiles: 0, payloads: 0, bytesChecked: 0, problems };
  let scan: PondScan;
  try {
    scan = await scanPond(pond, {
      txnIds: true,
      onEntryError: (add, e) => problems.push({ path: `data/${add.path}`, problem: e.message, fix: RESTORE }),
    });
  } catch (e) {
    if (!(e instanceof PondError)) throw e;
    problems.push({
      path: "data/_delta_log",
      problem: `the data log cannot be replayed: ${e.message}`,
      fix: "restore the pond from a remote (`pond restore`)",
    });
    return report;
  }
  Object.assign(report, { horizon: scan.horizon, latest: scan.latest, snapshots: scan.latest - scan.horizon + 1, entryFiles: scan.entryFiles.size });
  try {
    await loadSnapshot(pond.persistence.store, { version: scan.latest });
  } catch (e) {
    if (!(e instanceof PondError)) throw e;
    problems.push({
      path: "data/_delta_log",
      problem: `the newest version does not replay: ${e.message}`,
      fix: "restore the pond from a remote (`pond restore`)",
    });
  }
  for (const d of scan.directories) checkDirectory(d, problems);
  const payloads = [...scan.largeFiles].filter(([key]) => !scan.unreachedPayloads.has(key)); // the others no snapshot reads
  progress.total(
    payloads.length,
    payloads.reduce((n, [, ref]) => n + (quick ? 0 : ref.size), 0),
  );
  // One buffer for every payload: a payload is hashed a chunk at a time, never held whole
  // (a pond's 1 GiB file cost 1 GiB of memory when it was read into one buffer).
  const buf = new Uint8Array(HASH_CHUNK);
  for (const [key, ref] of payloads) {
    progress.tick(1, 0);
    report.payloads++;
    const full = join(pond.paths.data, key);
    const row = ref.first;
    let size: number;
    try {
      size = statSync(full).size;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      problems.push({ path: `data/${key}`, problem: `is missing (node ${row.nodeId} version ${row.version} needs it)`, fix: RESTORE });
      continue;
    }
    if (size !== ref.size) {
      problems.push({ path: `data/${key}`, problem: `is ${size} bytes, the log says ${ref.size}`, fix: RESTORE });
      continue;
    }
    const parquet = ref.parquet;
    if (quick && !parquet) continue;
    const fd = openSync(full, "r");
    try {
      if (!quick) {
        const h = hashOpenFile(fd, size, { buf, onBytes: (n) => progress.tick(0, n) });
        report.bytesChecked += size;
        if (h !== ref.sha256) {
          problems.push({ path: `data/${key}`, problem: `its content hashes to ${h}, not to its name`, fix: RESTORE });
          continue;
        }
      }
      if (parquet) {
        const problem = await parquetProblem(fd, size, (n) => {
          if (quick) report.bytesChecked += n;
        });
        if (problem) problems.push({ path: `data/${key}`, problem, fix: RESTORE });
      }
    } finally {
      closeSync(fd);
    }
  }
  progress.done();
  checkControlLog(pond, scan, problems);
  return report;
}

/** Bytes read a call while hashing a payload. */
const HASH_CHUNK = 1 << 20;

/**
 * What is wrong with the Parquet file open as `fd` (`size` bytes), from its head and footer
 * only (read alone, not the whole file): its magic at both ends, and a footer that decodes;
 * undefined when nothing is. `onRead` is told the bytes read.
 */
async function parquetProblem(fd: number, size: number, onRead: (n: number) => void): Promise<string | undefined> {
  const MAGIC = "PAR1";
  if (size < 12) return `its Parquet footer does not decode (the file has ${size} bytes, fewer than a Parquet file's 12)`;
  const head = Buffer.alloc(4);
  readSync(fd, head, 0, 4, 0);
  const end = Buffer.alloc(8);
  readSync(fd, end, 0, 8, size - 8);
  onRead(12);
  if (head.toString("latin1") !== MAGIC) return `its Parquet header is damaged (the file does not start with ${MAGIC})`;
  const footer = end.readUInt32LE(0);
  // A damaged length is reported by the decoder below, in its words, from the last 8 bytes alone.
  const tail = Buffer.alloc(footer + 8 <= size - 4 ? footer + 8 : 8);
  readSync(fd, tail, 0, tail.length, size - tail.length);
  onRead(tail.length);
  try {
    await describeParquet(tail);
  } catch (e) {
    return `its Parquet footer does not decode (${(e as Error).message})`;
  }
  return undefined;
}

function checkDirectory(r: DirectoryRow, problems: FsckProblem[]): void {
  if (!r.content) {
    problems.push({ path: `data/${r.entryFile}`, problem: `directory ${r.nodeId} version ${r.version} has no inline snapshot`, fix: RESTORE });
    return;
  }
  try {
    decodeDirectory(r.content, `directory ${r.nodeId} version ${r.version}`);
  } catch (e) {
    if (!(e instanceof CorruptLogError) && !(e instanceof Error)) throw e;
    problems.push({ path: `data/${r.entryFile}`, problem: `directory ${r.nodeId} version ${r.version} does not decode (${e.message})`, fix: RESTORE });
  }
}

/** Each committed transaction of the control log is the data log commit it names, and each data commit has its record. */
function checkControlLog(pond: Pond, scan: PondScan, problems: FsckProblem[]): void {
  const damage = checkControlHistory(pond.paths.controlLog);
  for (const e of damage) {
    const path = relative(pond.dir, (e.data as { path: string }).path)
      .split(sep)
      .join("/");
    problems.push({ path, problem: (e.data as { problem: string }).problem, fix: e.hint ?? RESTORE });
  }
  if (damage.length > 0) return; // the history cannot be read whole: its records are not compared with the data log
  const byVersion = new Map(scan.commits.map((c) => [c.version, c]));
  const history = pond.history();
  const recorded = new Set<string>();
  for (const t of history) {
    if (t.status === "incomplete") {
      problems.push({
        path: "control/transactions.jsonl",
        problem: `transaction ${t.txnId} (${t.command.join(" ")}) began and never ended`,
        fix: "run `pond recover`",
      });
      continue;
    }
    if (t.status !== "committed" || t.seq === undefined) continue;
    recorded.add(t.txnId);
    const c = byVersion.get(t.seq);
    if (!c) continue; // before the oldest commit still in the log (cleaned up after a checkpoint)
    const txnId = c.txnId;
    if (t.seq > 0 && txnId !== undefined && txnId !== t.txnId) {
      problems.push({
        path: "control/transactions.jsonl",
        problem: `says transaction ${t.txnId} committed version ${t.seq}, but that commit is transaction ${txnId}`,
        fix: "restore the pond from a remote (`pond restore`)",
      });
    }
  }
  for (const c of scan.commits) {
    const txnId = c.txnId;
    if (c.version === 0 || txnId === undefined || recorded.has(txnId)) continue;
    problems.push({
      path: "control/transactions.jsonl",
      problem: `has no committed record of data log version ${c.version} (transaction ${txnId})`,
      fix: "the data is intact; only `pond log` lacks this transaction (restoring from a remote rebuilds the record)",
    });
  }
}
