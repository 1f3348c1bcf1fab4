/**
 * What changed between two views of a pond, matched by node id (not by path), so a move
 * is a move and not a remove plus a create. Backend independent: it reads both trees
 * through the ReadView interface.
 */
import { childPath, comparePaths } from "./path.ts";
import type { ReadView } from "./persistence.ts";
import { ROOT_ID, type EntryType, type NodeId } from "./types.ts";

export type ChangeKind = "created" | "changed" | "removed" | "moved";

/** One change from the `from` view to the `to` view. Sizes and versions are of the newest version in each view (files and symlinks). */
export interface TreeChange {
  change: ChangeKind;
  /** The path in `to` (for removed: in `from`). */
  path: string;
  /** For moved: the path in `from`. */
  fromPath?: string;
  entryType: EntryType;
  fromVersion?: number;
  toVersion?: number;
  fromSize?: number;
  toSize?: number;
}

/** One entry of a tree, by node id. */
interface Placed {
  path: string;
  dirId: NodeId;
  name: string;
  entryType: EntryType;
  version: number;
}

/** Every entry below the root of `view`, keyed by node id (the first path met wins for a node listed twice). */
async function placeAll(view: ReadView): Promise<Map<NodeId, Placed>> {
  const out = new Map<NodeId, Placed>();
  const walk = async (dirId: NodeId, dirPath: string, depth: number): Promise<void> => {
    for (const e of await view.listDir(dirId)) {
      if (out.has(e.childNodeId)) continue;
      const path = childPath(dirPath, e.name);
      out.set(e.childNodeId, { path, dirId, name: e.name, entryType: e.entryType, version: e.versionLastModified });
      if (e.entryType === "directory") await walk(e.childNodeId, path, depth + 1);
    }
  };
  await walk(ROOT_ID, "/", 0);
  return out;
}

/**
 * The changes from `from` to `to`, sorted by path: created and removed entries (every
 * one, below a created or removed directory too), files whose newest version differs
 * (changed), and entries whose own name or directory differs (moved; what is inside a
 * moved directory moves with it and is not listed). `under` keeps only changes at or
 * below those paths (either side of a move).
 */
export async function diffTrees(from: ReadView, to: ReadView, under?: readonly string[]): Promise<TreeChange[]> {
  const [a, b] = await Promise.all([placeAll(from), placeAll(to)]);
  const out: TreeChange[] = [];
  const size = async (view: ReadView, p: Placed, id: NodeId) => {
    if (p.entryType === "directory") return undefined;
    const vs = await view.versions(p.dirId, id);
    return vs.find((v) => v.version === p.version)?.size ?? vs[vs.length - 1]?.size;
  };
  for (const [id, pb] of b) {
    const pa = a.get(id);
    if (!pa) {
      out.push({
        change: "created",
        path: pb.path,
        entryType: pb.entryType,
        ...(pb.entryType === "directory" ? {} : { toVersion: pb.version, toSize: await size(to, pb, id) }),
      });
      continue;
    }
    if (pa.dirId !== pb.dirId || pa.name !== pb.name) out.push({ change: "moved", path: pb.path, fromPath: pa.path, entryType: pb.entryType });
    if (pb.entryType !== "directory" && pa.version !== pb.version) {
      out.push({
        change: "changed",
        path: pb.path,
        entryType: pb.entryType,
        fromVersion: pa.version,
        toVersion: pb.version,
        fromSize: await size(from, pa, id),
        toSize: await size(to, pb, id),
      });
    }
  }
  for (const [id, pa] of a) {
    if (b.has(id)) continue;
    out.push({
      change: "removed",
      path: pa.path,
      entryType: pa.entryType,
      ...(pa.entryType === "directory" ? {} : { fromVersion: pa.version, fromSize: await size(from, pa, id) }),
    });
  }
  const inScope = (p: string) => !under || under.some((u) => u === "/" || p === u || p.startsWith(u + "/"));
  return out
    .filter((c) => inScope(c.path) || (c.fromPath !== undefined && inScope(c.fromPath)))
    .sort((x, y) => comparePaths(x.path, y.path) || x.change.localeCompare(y.change));
}
