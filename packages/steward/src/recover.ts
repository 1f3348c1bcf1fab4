import { readdirSync, rmSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { listCommits, type ObjectStore } from "@pond/oplog";
import { appendControl, readControl, foldControl } from "./control-log.ts";
import type { Pond } from "./pond.ts";
import { scanPond } from "./maintenance/reachability.ts";

/** What `recover` found and did. */
export interface RecoveryReport {
  /** Transactions begun and never ended, and how each was settled. */
  reconciled: { txnId: string; command: string[]; outcome: "committed" | "failed"; seq?: number }[];
  /** Files no commit refers to (left by a crash before its commit), now deleted. */
  removed: { key: string; size: number }[];
}

/**
 * Reconciles every transaction that began and never ended (the process died), and
 * deletes what such crashes leave behind: temp files, data files no commit names, and
 * large files no row refers to. Holds the write lock, so no writer is mid-transaction.
 */
export async function recover(pond: Pond): Promise<RecoveryReport> {
  return pond.withLock("pond recover", async () => {
    const store = pond.persistence.store;
    const report: RecoveryReport = { reconciled: [], removed: [] };
    const commits = await listCommits(store);
    const open = foldControl(readControl(pond.paths.controlLog)).filter((t) => t.status === "incomplete");
    for (const t of open) {
      const hit = commits.find((c) => (c.commitInfo?.pond as { txnId?: string } | undefined)?.txnId === t.txnId);
      const outcome = hit ? "committed" : "failed";
      const detail = hit
        ? `the process stopped after its commit (data log version ${hit.version}); recorded it as committed`
        : "the process stopped before its commit; nothing of it is visible";
      appendControl(pond.paths.controlLog, { type: "recovered", txnId: t.txnId, endedAt: Date.now(), outcome, seq: hit?.version, detail });
      report.reconciled.push({ txnId: t.txnId, command: t.command, outcome, seq: hit?.version });
    }
    report.removed = [...(await removeUnreferenced(pond, store)), ...removeTempFiles(pond.paths.data), ...removeTempFiles(pond.paths.control)];
    return report;
  });
}

/**
 * Temp files a killed writer left: staged large files (`.tmp-<uuid>`), the object
 * store's own half-written puts (`.pond-put-<hex>.tmp`, which its listing hides) and a
 * half-saved snapshot cache (`….<pid>.tmp`). No writer is running: we hold the lock.
 */
const TEMP_FILE = /^(\.tmp-.*|\.pond-put-[0-9a-f]{16}\.tmp|.*\.\d+\.tmp)$/;

function removeTempFiles(dir: string): { key: string; size: number }[] {
  const removed: { key: string; size: number }[] = [];
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile() || !TEMP_FILE.test(e.name)) continue;
    const full = join(e.parentPath, e.name);
    const size = statSync(full).size;
    rmSync(full);
    removed.push({ key: relative(dir, full), size });
  }
  return removed;
}

/**
 * Entry and large files no commit or row in the log names (see reachability.ts, which
 * also keeps every file an unexpired snapshot can reach, including files of a
 * checkpoint whose earlier commits were cleaned up). Files only expired snapshots need
 * are left to `pond maintain cleanup` and its retention.
 */
async function removeUnreferenced(pond: Pond, store: ObjectStore): Promise<{ key: string; size: number }[]> {
  const scan = await scanPond(pond);
  const removed: { key: string; size: number }[] = [];
  for (const f of scan.files) {
    if (f.reachable || !f.orphan || (f.kind !== "entry" && f.kind !== "large")) continue;
    await store.delete(f.key);
    removed.push({ key: f.key, size: f.size });
  }
  return removed;
}
