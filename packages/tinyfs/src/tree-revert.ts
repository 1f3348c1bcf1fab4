/**
 * Making a pond, or some of its paths, as it was in an earlier view, as a new set of
 * writes in a transaction: nothing of the history is rewritten, so reverting the revert
 * brings the later state back. Nodes keep their ids: a removed file comes back as the
 * same node, its versions readable again; a file whose content changed since gets a new
 * version holding the old bytes (the same hash, so a large payload is not stored twice).
 */
import { NotFoundError } from "./errors.ts";
import { parsePath } from "./path.ts";
import type { ReadView, Transaction } from "./persistence.ts";
import { ROOT_ID, type DirEntry, type NodeId } from "./types.ts";

/**
 * Makes the whole tree in `txn` what it was in `old`: every directory's entry list as it
 * was, every file's newest content as it was.
 */
export async function revertTree(txn: Transaction, old: ReadView): Promise<void> {
  await reconcileDir(txn, old, ROOT_ID);
}

/**
 * Makes each of `paths` what it was in `old`: restored (with everything below it) when it
 * existed then, removed when it did not. Its parent directory must exist now or have
 * existed then at the same path; a path that exists in neither is NotFoundError.
 */
export async function revertPaths(txn: Transaction, old: ReadView, paths: readonly string[]): Promise<void> {
  for (const raw of paths) {
    const names = parsePath(raw).names;
    if (names.length === 0) {
      await reconcileDir(txn, old, ROOT_ID);
      continue;
    }
    const abs = "/" + names.join("/");
    const was = await locate(old, names);
    const parentNow = await ensureDirs(txn, old, names.slice(0, -1));
    const name = names[names.length - 1]!;
    const entries = await txn.listDir(parentNow);
    const i = entries.findIndex((e) => e.name === name);
    if (!was.entry && i < 0)
      throw new NotFoundError(`"${abs}"`, "It exists neither now nor at that transaction; check the path with `pond list --as-of`.", { path: abs });
    if (was.entry) {
      const restored = await restoreEntry(txn, old, parentNow, was.entry, was.dirId);
      if (i >= 0) entries[i] = restored;
      else entries.push(restored);
    } else {
      entries.splice(i, 1);
    }
    await txn.writeDir(parentNow, entries);
  }
}

/** Where `names` led in `old`: the directory holding the last name and its entry (if any). */
async function locate(old: ReadView, names: readonly string[]): Promise<{ dirId: NodeId; entry?: DirEntry }> {
  let dirId = ROOT_ID;
  for (let i = 0; i < names.length; i++) {
    const e = (await old.listDir(dirId)).find((x) => x.name === names[i]);
    if (i === names.length - 1) return { dirId, ...(e ? { entry: e } : {}) };
    if (e?.entryType !== "directory") return { dirId };
    dirId = e.childNodeId;
  }
  return { dirId };
}

/** The id of the directory at `names` now, restoring missing ones from `old` (or creating them empty). */
async function ensureDirs(txn: Transaction, old: ReadView, names: readonly string[]): Promise<NodeId> {
  let dirId = ROOT_ID;
  let oldDir: NodeId | undefined = ROOT_ID;
  for (const name of names) {
    const entries = await txn.listDir(dirId);
    const now = entries.find((e) => e.name === name);
    const was: DirEntry | undefined = oldDir === undefined ? undefined : (await old.listDir(oldDir)).find((e) => e.name === name);
    if (now?.entryType === "directory") {
      dirId = now.childNodeId;
      oldDir = was?.entryType === "directory" ? was.childNodeId : undefined;
      continue;
    }
    // Missing now, or not a directory: bring back the directory it was (empty of
    // everything but the reverted path), or a new one.
    const id = was?.entryType === "directory" ? was.childNodeId : txn.newNodeId();
    await txn.writeDir(id, []);
    const entry: DirEntry = { name, childNodeId: id, entryType: "directory", versionLastModified: 1 };
    await txn.writeDir(dirId, [...entries.filter((e) => e.name !== name), entry]);
    dirId = id;
    oldDir = was?.entryType === "directory" ? was.childNodeId : undefined;
  }
  return dirId;
}

/** Makes directory `dirId`'s entries, and everything below, what they were in `old`. */
async function reconcileDir(txn: Transaction, old: ReadView, dirId: NodeId): Promise<void> {
  const was = await old.listDir(dirId);
  const restored: DirEntry[] = [];
  for (const e of was) restored.push(await restoreEntry(txn, old, dirId, e, dirId));
  const now = await listOrNone(txn, dirId);
  if (!now || !sameEntries(now, restored)) await txn.writeDir(dirId, restored);
}

/**
 * Brings back entry `e` (as it was in directory `oldDirId` in `old`) into directory
 * `dirId` now, and returns the entry to list there.
 */
async function restoreEntry(txn: Transaction, old: ReadView, dirId: NodeId, e: DirEntry, oldDirId: NodeId): Promise<DirEntry> {
  if (e.entryType === "directory") {
    await reconcileDir(txn, old, e.childNodeId);
    return { ...e };
  }
  if (dirId !== oldDirId) await txn.moveNode(oldDirId, dirId, e.childNodeId);
  const now = await txn.versions(dirId, e.childNodeId);
  const newest = now[now.length - 1]!.version;
  if (newest === e.versionLastModified) return { ...e };
  const info = (await old.versions(oldDirId, e.childNodeId)).find((v) => v.version === e.versionLastModified);
  if (!info) throw new Error(`BUG: version ${e.versionLastModified} of node ${e.childNodeId} is listed but has no record`);
  const v = await txn.addVersion(dirId, e.childNodeId, e.entryType, old.read(oldDirId, e.childNodeId, e.versionLastModified), {
    minEventTime: info.minEventTime ?? null,
    maxEventTime: info.maxEventTime ?? null,
    attributes: info.attributes,
  });
  return { ...e, versionLastModified: v.version };
}

async function listOrNone(view: ReadView, dirId: NodeId): Promise<DirEntry[] | undefined> {
  try {
    return await view.listDir(dirId);
  } catch (e) {
    if (e instanceof NotFoundError) return undefined;
    throw e;
  }
}

function sameEntries(a: readonly DirEntry[], b: readonly DirEntry[]): boolean {
  if (a.length !== b.length) return false;
  const byName = new Map(a.map((e) => [e.name, e]));
  return b.every((e) => {
    const x = byName.get(e.name);
    return x !== undefined && x.childNodeId === e.childNodeId && x.entryType === e.entryType && x.versionLastModified === e.versionLastModified;
  });
}
