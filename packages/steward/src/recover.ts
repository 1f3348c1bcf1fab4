import { listCommits, type ObjectStore } from "@pond/oplog";
import { largeFileKey } from "@pond/tlogfs";
import { appendControl, readControl, foldControl } from "./control-log.ts";
import type { Pond } from "./pond.ts";

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
    report.removed = await removeUnreferenced(pond, store);
    return report;
  });
}

async function removeUnreferenced(pond: Pond, store: ObjectStore): Promise<{ key: string; size: number }[]> {
  const view = await pond.persistence.view();
  const referenced = new Set<string>();
  for (const f of view.snapshot.files) referenced.add(f.path);
  const largeRefs = new Set<string>();
  for (const f of view.index.allFiles) {
    for (const r of await view.index.rows(f)) if (r.content === null && r.size > 0) largeRefs.add(largeFileKey(r.sha256));
  }
  const removed: { key: string; size: number }[] = [];
  for await (const o of store.list("")) {
    const name = o.key.slice(o.key.lastIndexOf("/") + 1);
    if (o.key.startsWith("_delta_log/")) continue;
    const orphan = name.startsWith(".tmp-")
      || (o.key.startsWith("_large_files/") ? !largeRefs.has(o.key) : o.key.endsWith(".parquet") && !referenced.has(o.key));
    if (orphan) {
      await store.delete(o.key);
      removed.push({ key: o.key, size: o.size });
    }
  }
  return removed;
}
