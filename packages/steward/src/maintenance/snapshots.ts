import { listCommits } from "@pond/oplog";
import type { Pond } from "../pond.ts";
import { readExpiry } from "./expiry.ts";

/** One snapshot (one write transaction, one data log version), as `pond maintain snapshots` lists it. */
export interface SnapshotInfo {
  seq: number;
  time: string;
  user: string | null;
  command: string | null;
  txnId: string | null;
  /** Paths each kind of change touched, from the transaction's record in the control log. */
  changes: { created: string[]; appended: string[]; removed: string[]; other: string[] };
  filesAdded: number;
  filesRemoved: number;
  bytesAdded: number;
  expired: boolean;
}

/** Every snapshot still in the log, oldest first, joined with the control log's description of its changes. */
export async function listSnapshots(pond: Pond): Promise<SnapshotInfo[]> {
  const expiry = readExpiry(pond.paths.control);
  const changesByTxn = new Map<string, string[]>();
  for (const t of pond.history()) changesByTxn.set(t.txnId, t.changes);
  const commits = await listCommits(pond.persistence.store);
  return commits.map((c) => {
    const p = (c.commitInfo?.pond ?? {}) as { txnId?: string; command?: string[]; user?: string };
    return {
      seq: c.version,
      time: new Date(c.timestamp).toISOString(),
      user: p.user ?? null,
      command: p.command?.join(" ") ?? (c.commitInfo?.operation as string | undefined) ?? null,
      txnId: p.txnId ?? null,
      changes: classifyChanges((p.txnId && changesByTxn.get(p.txnId)) || []),
      filesAdded: c.actions.add,
      filesRemoved: c.actions.remove,
      bytesAdded: c.actions.bytesAdded,
      expired: c.version < expiry.horizon,
    };
  });
}

/**
 * Sorts the control log's change lines ("created /a (file:series v1, 10 bytes)", "mkdir /d",
 * "moved /a -> /b (file:series)", "symlink /l -> /a", …) by kind. A move removes its source
 * and creates its destination; a symlink creates its path.
 */
function classifyChanges(lines: readonly string[]): SnapshotInfo["changes"] {
  const out: SnapshotInfo["changes"] = { created: [], appended: [], removed: [], other: [] };
  for (const line of lines) {
    const m = /^(\S+)\s+(\S+)(?:\s+->\s+(\S+))?/.exec(line);
    const verb = m?.[1] ?? "";
    const path = m?.[2] ?? line;
    if (verb === "created" || verb === "mkdir" || verb === "symlink") out.created.push(path);
    else if (verb === "updated" || verb === "appended") out.appended.push(path);
    else if ((verb === "moved" || verb === "renamed") && m?.[3] !== undefined) {
      out.removed.push(path);
      out.created.push(m[3]);
    } else if (/^(removed|remove|rm|deleted)$/.test(verb)) out.removed.push(path);
    else out.other.push(line);
  }
  return out;
}
