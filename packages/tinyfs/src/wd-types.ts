/** The values the working-directory API (wd.ts) takes and returns. */
import type { ReadView, Transaction, VersionOptions } from "./persistence.ts";
import type { DirEntry, EntryType, NodeId, VersionInfo } from "./types.ts";

/**
 * Where a path leads. `path` is canonical: the absolute path of the node with every
 * followed symlink replaced by its target. For a directory `versionLastModified` is
 * the one recorded in its parent's entry (1 for the root).
 */
export interface Resolved {
  path: string;
  parentId: NodeId;
  nodeId: NodeId;
  entryType: EntryType;
  versionLastModified: number;
}

/** `stat`'s answer: `versions` for files and symlinks (ascending), none for directories. */
export type Stat = Resolved & { versions?: VersionInfo[] };

/** A directory child, with its absolute path (under the directory path as given) and parent id. */
export type ListedEntry = DirEntry & { path: string; parentId: NodeId };

/** One entry met by `walk`. */
export interface WalkEntry {
  path: string;
  parentId: NodeId;
  entry: DirEntry;
}

export interface ResolveOptions {
  /**
   * Follow a symlink in the last name too (names before it are always followed).
   * Defaults to false for `resolve` (like lstat) and true for `stat` (like stat).
   */
  followSymlinks?: boolean;
}

export interface WalkOptions {
  /** Return false to skip a directory's contents (it is still yielded itself). */
  descend?: (w: WalkEntry) => boolean;
}

export type CreateFileOptions = VersionOptions & {
  /** Create missing parent directories (`-p`). */
  parents?: boolean;
};

export interface CreateFileResult {
  resolved: Resolved;
  version: VersionInfo;
  /** True when the path was new (version 1); false when a version was added. */
  created: boolean;
}

/** True when `view` can write: a Transaction rather than a plain ReadView. */
export function isTransaction(view: ReadView): view is Transaction {
  const t = view as Partial<Transaction>;
  return typeof t.writeDir === "function" && typeof t.addVersion === "function" && typeof t.commit === "function";
}
