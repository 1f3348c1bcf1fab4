import { readFileSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { CorruptLogError, decodeDirectory, describeParquet, loadSnapshot } from "@pond/oplog";
import { PondError } from "@pond/diagnostics";
import { sha256Hex } from "@pond/tinyfs";
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
export async function fsck(pond: Pond, opts: { quick?: boolean } = {}): Promise<FsckReport> {
  const quick = opts.quick ?? false;
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
  for (const [key, ref] of scan.largeFiles) {
    if (scan.unreachedPayloads.has(key)) continue; // no snapshot reads it
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
    const bytes = readFileSync(full);
    report.bytesChecked += bytes.length;
    if (!quick) {
      const h = sha256Hex(bytes);
      if (h !== ref.sha256) {
        problems.push({ path: `data/${key}`, problem: `its content hashes to ${h}, not to its name`, fix: RESTORE });
        continue;
      }
    }
    if (parquet) {
      try {
        await describeParquet(bytes);
      } catch (e) {
        problems.push({ path: `data/${key}`, problem: `its Parquet footer does not decode (${(e as Error).message})`, fix: RESTORE });
      }
    }
  }
  checkControlLog(pond, scan, problems);
  return report;
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
