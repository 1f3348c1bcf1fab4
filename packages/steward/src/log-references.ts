/**
 * What a commit refers to: the entry files its `add` actions name, and the large
 * files the rows in those entry files point at. Push, pull, restore and verify use
 * it to check that a copy holds everything its log needs.
 */
import { readEntryFile, type Action, type AddAction, type ObjectStore } from "@pond/oplog";
import { largeFileKey } from "@pond/tlogfs";

/** The store key of an add action's path (paths in the log are URI-encoded). */
export function addKey(add: AddAction): string {
  return decodeURIComponent(add.path);
}

export function addsOf(actions: readonly Action[]): AddAction[] {
  const out: AddAction[] = [];
  for (const a of actions) if ("add" in a) out.push(a.add);
  return out;
}

/** The large files (key and size) the rows of one entry file refer to, read from `store`. */
export async function largeFilesOf(store: ObjectStore, add: AddAction): Promise<{ key: string; size: number }[]> {
  const out: { key: string; size: number }[] = [];
  for (const r of await readEntryFile(store, add)) {
    if (r.content === null && r.size > 0) out.push({ key: largeFileKey(r.sha256), size: r.size });
  }
  return out;
}
