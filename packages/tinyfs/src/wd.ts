/**
 * The working-directory API: pond paths over any Persistence. A WD wraps one ReadView
 * (read-only) or one Transaction (read-write); `FS` (fs.ts) makes them. Every error names
 * the path the caller gave and says what to do; backends only ever see node ids. The
 * values it takes and returns are in wd-types.ts.
 */
import {
  AlreadyExistsError,
  InvalidMoveError,
  InvalidPathError,
  IsDirectoryError,
  NotFoundError,
  ReadOnlyError,
  SymlinkLoopError,
  TypeChangeError,
  WrongTypeError,
} from "./errors.ts";
import { compileGlob } from "./glob.ts";
import { childPath, comparePaths, parsePath, validateNewName } from "./path.ts";
import { concatBytes } from "./bytes.ts";
import type { ReadView, Transaction, VersionOptions } from "./persistence.ts";
import { ROOT_ID, type ContentSource, type DirEntry, type EntryType, type NodeId, type VersionInfo } from "./types.ts";
import {
  isTransaction,
  type CreateFileOptions,
  type CreateFileResult,
  type ListedEntry,
  type ResolveOptions,
  type Resolved,
  type Stat,
  type WalkEntry,
  type WalkOptions,
} from "./wd-types.ts";

/** How many symlinks one resolution may follow before it is called a loop (as Linux's ELOOP). */
export const SYMLINK_LIMIT = 40;

const ROOT: Resolved = Object.freeze({ path: "/", parentId: ROOT_ID, nodeId: ROOT_ID, entryType: "directory", versionLastModified: 1 });

/** Where `lookup` stopped. Missing kinds carry canonical paths, so callers never re-follow links. */
type Lookup =
  | { kind: "found"; resolved: Resolved }
  | { kind: "missing"; parent: Resolved; name: string; path: string }
  | { kind: "missingParent"; parentPath: string; path: string }
  | { kind: "notDir"; at: Resolved; path: string };

/** Reads shared by a WD and the WDs made from it with `cd`; valid while their view is. */
interface Caches {
  dirs: Map<NodeId, Promise<readonly DirEntry[]>>;
  versions: Map<string, Promise<VersionInfo[]>>;
  links: Map<string, Promise<string>>;
}

/**
 * A working directory over one view or transaction. Paths are pond paths; relative ones
 * are taken from `cwd`. Directory listings, version lists and symlink targets are cached
 * for the WD's life (a view never changes; a transaction WD updates its cache on each
 * write it makes, so write through the WD, not beside it).
 */
export class WD {
  readonly cwd: string;
  private caches: Caches = { dirs: new Map(), versions: new Map(), links: new Map() };

  constructor(
    readonly view: ReadView,
    cwd: string = "/",
  ) {
    this.cwd = parsePath(cwd).absolute;
  }

  /** True when this WD can write. */
  get writable(): boolean {
    return isTransaction(this.view);
  }

  /** A WD at `path` (a directory, symlinks followed) sharing this one's view and caches. */
  async cd(path: string): Promise<WD> {
    const abs = this.abs(path);
    const st = await this.stat(abs);
    if (st.entryType !== "directory") throw new WrongTypeError(abs, st.entryType, "directory");
    const wd = new WD(this.view, abs);
    wd.caches = this.caches;
    return wd;
  }

  /** The entry at `path`, or null when it (or a directory on the way) does not exist. */
  async resolve(path: string, opts: ResolveOptions = {}): Promise<Resolved | null> {
    const p = parsePath(path, this.cwd);
    const l = await this.lookup(p.names, opts.followSymlinks ?? false, p.absolute);
    return l.kind === "found" ? l.resolved : null;
  }

  /** True when `path` names an entry (a dangling symlink counts: it exists). */
  async exists(path: string): Promise<boolean> {
    return (await this.resolve(path)) !== null;
  }

  /**
   * The entry at `path` with its versions. Follows symlinks unless told not to (like
   * stat(2)). Throws NotFoundError naming the path, or WrongTypeError when a name on the
   * way is a file.
   */
  async stat(path: string, opts: ResolveOptions = {}): Promise<Stat> {
    const p = parsePath(path, this.cwd);
    const r = this.found(await this.lookup(p.names, opts.followSymlinks ?? true, p.absolute), p.absolute);
    if (r.entryType === "directory") return { ...r };
    return { ...r, versions: await this.versionsOf(r) };
  }

  /**
   * Creates a directory. Throws AlreadyExistsError when `path` exists (with `parents`, an
   * existing directory is fine and an existing file is WrongTypeError) and NotFoundError
   * naming the parent when it is missing and `parents` is not set.
   */
  async mkdir(path: string, opts: { parents?: boolean } = {}): Promise<Resolved> {
    const p = parsePath(path, this.cwd);
    const txn = this.txn(p.absolute, "create directory");
    const parents = opts.parents ?? false;
    const l = await this.lookup(p.names, parents, p.absolute);
    switch (l.kind) {
      case "found":
        if (!parents) {
          const hint = l.resolved.entryType === "directory" ? `Use \`pond mkdir -p ${p.absolute}\` to accept an existing directory.` : "Choose another name.";
          throw new AlreadyExistsError(p.absolute, hint);
        }
        if (l.resolved.entryType !== "directory") throw new WrongTypeError(p.absolute, l.resolved.entryType, "directory");
        return l.resolved;
      case "missing": {
        const nodeId = txn.newNodeId();
        await txn.writeDir(nodeId, []);
        this.caches.dirs.set(nodeId, Promise.resolve([]));
        const entry: DirEntry = { name: l.name, childNodeId: nodeId, entryType: "directory", versionLastModified: 1 };
        await this.putEntry(l.parent.nodeId, entry);
        return { path: l.path, parentId: l.parent.nodeId, nodeId, entryType: "directory", versionLastModified: 1 };
      }
      case "missingParent":
        if (!parents) {
          throw new NotFoundError(`Directory "${l.parentPath}"`, `Create it first, or use \`pond mkdir -p ${p.absolute}\`.`, { path: l.parentPath });
        }
        await this.mkdir(l.parentPath, { parents: true });
        return this.mkdir(l.path, { parents: true });
      case "notDir":
        throw notADirectory(l.at, p.absolute);
    }
  }

  /**
   * Writes `content` at `path`: a new path creates the node (version 1); an existing file
   * of the same type gets the next version. An existing directory is WrongTypeError, a
   * file of another type TypeChangeError, a missing parent NotFoundError (unless
   * `parents`). A symlink at `path` is followed unless `entryType` is "symlink". The
   * parent's snapshot is rewritten with the entry's new `versionLastModified`.
   */
  async createFile(path: string, entryType: EntryType, content: ContentSource, opts: CreateFileOptions = {}): Promise<CreateFileResult> {
    const p = parsePath(path, this.cwd);
    const txn = this.txn(p.absolute, `write ${entryType}`);
    if (entryType === "directory") throw new TypeError("BUG: createFile() cannot make a directory; use mkdir()");
    if (p.names.length === 0) throw new WrongTypeError("/", "directory", entryType, "Write to a path inside it, e.g. /name.");
    if (p.trailingSlash) throw new InvalidPathError(path, `it ends with "/", so it names a directory, not a ${entryType}`);
    const { parents, ...versionOpts } = opts;
    const l = await this.lookup(p.names, entryType !== "symlink", p.absolute);
    switch (l.kind) {
      case "found": {
        const r = l.resolved;
        if (r.entryType === "directory") {
          throw new WrongTypeError(r.path, "directory", entryType, `Write to a path inside it, e.g. ${childPath(r.path, "name")}.`);
        }
        if (r.entryType !== entryType) throw new TypeChangeError(r.path, r.entryType, entryType);
        const version = await this.addVersion(txn, r.parentId, r.nodeId, entryType, content, versionOpts);
        const name = r.path.slice(r.path.lastIndexOf("/") + 1);
        await this.putEntry(r.parentId, { name, childNodeId: r.nodeId, entryType, versionLastModified: version.version });
        return { resolved: { ...r, versionLastModified: version.version }, version, created: false };
      }
      case "missing": {
        const nodeId = txn.newNodeId();
        const version = await this.addVersion(txn, l.parent.nodeId, nodeId, entryType, content, versionOpts);
        await this.putEntry(l.parent.nodeId, { name: l.name, childNodeId: nodeId, entryType, versionLastModified: version.version });
        const resolved = { path: l.path, parentId: l.parent.nodeId, nodeId, entryType, versionLastModified: version.version };
        return { resolved, version, created: true };
      }
      case "missingParent":
        if (!parents) {
          throw new NotFoundError(`Directory "${l.parentPath}"`, `Create it first with \`pond mkdir -p ${l.parentPath}\`, or pass -p.`, { path: l.parentPath });
        }
        await this.mkdir(l.parentPath, { parents: true });
        return this.createFile(l.path, entryType, content, versionOpts);
      case "notDir":
        throw notADirectory(l.at, p.absolute);
    }
  }

  /** Creates a symlink at `path` pointing at `target` (a pond path, absolute or relative to the link's directory). */
  async symlink(target: string, path: string): Promise<Resolved> {
    const p = parsePath(path, this.cwd);
    const txn = this.txn(p.absolute, "create symlink");
    if (target === "") throw new InvalidPathError(target, "a symlink target cannot be empty");
    if (target.includes("\0")) throw new InvalidPathError(target, "a symlink target cannot contain NUL");
    if (p.names.length === 0) throw new AlreadyExistsError("/", "Choose a path inside it.");
    const l = await this.lookup(p.names, false, p.absolute);
    switch (l.kind) {
      case "found":
        throw new AlreadyExistsError(p.absolute, `Remove it first with \`pond rm ${p.absolute}\`, or choose another name for the link.`);
      case "missing": {
        const nodeId = txn.newNodeId();
        const version = await this.addVersion(txn, l.parent.nodeId, nodeId, "symlink", new TextEncoder().encode(target), {});
        await this.putEntry(l.parent.nodeId, { name: l.name, childNodeId: nodeId, entryType: "symlink", versionLastModified: version.version });
        return { path: l.path, parentId: l.parent.nodeId, nodeId, entryType: "symlink", versionLastModified: version.version };
      }
      case "missingParent":
        throw new NotFoundError(`Directory "${l.parentPath}"`, `Create it first with \`pond mkdir -p ${l.parentPath}\`.`, { path: l.parentPath });
      case "notDir":
        throw notADirectory(l.at, p.absolute);
    }
  }

  /**
   * Removes the entry at `path` (a symlink itself, not its target) from its directory.
   * A directory needs `recursive` (IsDirectoryError otherwise) and goes whole: one
   * snapshot of its parent is written, nothing below it is read or rewritten, and every
   * version stays readable in earlier views. A missing path is NotFoundError; the root
   * cannot be removed (InvalidPathError).
   */
  async remove(path: string, opts: { recursive?: boolean } = {}): Promise<Resolved> {
    const p = parsePath(path, this.cwd);
    this.txn(p.absolute, "remove");
    if (p.names.length === 0) throw new InvalidPathError(path, "the root directory cannot be removed; remove what is inside it, e.g. `pond rm -r '/*'`");
    const r = this.found(await this.lookup(p.names, false, p.absolute), p.absolute);
    if (r.entryType === "directory" && !opts.recursive) {
      throw new IsDirectoryError(p.absolute, "remove", `Use \`pond rm -r ${p.absolute}\` to remove it and everything in it.`);
    }
    await this.dropEntry(r.parentId, baseName(r.path));
    return r;
  }

  /**
   * Moves the entry at `from` to the path `to` (a new name, in the same or another
   * directory), keeping its node id and every version; a symlink moves itself. A
   * directory moves whole: only the two parents' snapshots are written. An existing
   * file at `to` of the same type is replaced (as rename(2)); an existing directory, or a
   * file of another type, is InvalidMoveError, as is moving a directory into itself or
   * moving the root. A missing `from` or missing parent of `to` is NotFoundError.
   */
  async rename(from: string, to: string): Promise<Resolved> {
    const src = parsePath(from, this.cwd);
    const dst = parsePath(to, this.cwd);
    const txn = this.txn(src.absolute, "move");
    if (src.names.length === 0) throw new InvalidMoveError("/", dst.absolute, "the root directory cannot be moved", "Move what is inside it instead.");
    if (dst.names.length === 0) throw new InvalidMoveError(src.absolute, "/", "the root directory already exists", "Name a path inside it, e.g. /name.");
    const r = this.found(await this.lookup(src.names, false, src.absolute), src.absolute);
    const l = await this.lookup(dst.names, false, dst.absolute);
    let parent: Resolved;
    let name: string;
    switch (l.kind) {
      case "found": {
        const d = l.resolved;
        if (d.nodeId === r.nodeId && d.parentId === r.parentId) return r; // the same entry (mv a a)
        if (d.entryType === "directory") {
          throw new InvalidMoveError(
            src.absolute,
            d.path,
            "a directory is already there",
            `Move it inside with \`pond mv ${src.absolute} ${d.path}/\`, or remove the directory first with \`pond rm -r ${d.path}\`.`,
          );
        }
        if (d.entryType !== r.entryType) {
          throw new InvalidMoveError(
            src.absolute,
            d.path,
            `a ${d.entryType} is already there and this is a ${r.entryType}`,
            `Remove it first with \`pond rm ${d.path}\`, or choose another name.`,
          );
        }
        parent = await this.parentOf(d);
        name = baseName(d.path);
        break;
      }
      case "missing":
        parent = l.parent;
        name = l.name;
        break;
      case "missingParent":
        throw new NotFoundError(`Directory "${l.parentPath}"`, `Create it first with \`pond mkdir -p ${l.parentPath}\`.`, { path: l.parentPath });
      case "notDir":
        throw notADirectory(l.at, dst.absolute);
    }
    const target = childPath(parent.path, name);
    if (r.entryType === "directory" && (target === r.path || target.startsWith(r.path === "/" ? "/" : r.path + "/"))) {
      throw new InvalidMoveError(src.absolute, dst.absolute, "a directory cannot move into itself", "Choose a destination outside it.");
    }
    if (r.entryType !== "directory" && parent.nodeId !== r.parentId) {
      await txn.moveNode(r.parentId, parent.nodeId, r.nodeId);
      const k = `${parent.nodeId}/${r.nodeId}`;
      this.caches.versions.delete(k);
      this.caches.links.delete(k);
    }
    const entry: DirEntry = { name, childNodeId: r.nodeId, entryType: r.entryType, versionLastModified: r.versionLastModified };
    await this.dropEntry(r.parentId, baseName(r.path));
    await this.putEntry(parent.nodeId, entry);
    return { path: target, parentId: parent.nodeId, nodeId: r.nodeId, entryType: r.entryType, versionLastModified: r.versionLastModified };
  }

  /** The target of the symlink at `path`, as it was written. */
  async readlink(path: string): Promise<string> {
    const p = parsePath(path, this.cwd);
    const r = this.found(await this.lookup(p.names, false, p.absolute), p.absolute);
    if (r.entryType !== "symlink") throw new WrongTypeError(r.path, r.entryType, "symlink");
    return this.linkTarget(r.parentId, r.nodeId);
  }

  /**
   * Streams the bytes of a file (the newest version, or `version`), following symlinks.
   * Throws (on first iteration) NotFoundError for a missing path or version and
   * WrongTypeError for a directory.
   */
  async *read(path: string, opts: { version?: number } = {}): AsyncIterable<Uint8Array> {
    const st = await this.stat(path);
    if (st.entryType === "directory") {
      throw new WrongTypeError(st.path, "directory", "file", `List it with \`pond list ${st.path === "/" ? "/" : st.path + "/"}\`.`);
    }
    const versions = st.versions!;
    if (opts.version !== undefined && !versions.some((v) => v.version === opts.version)) {
      throw new NotFoundError(`Version ${opts.version} of "${st.path}"`, `It has versions 1 to ${versions.length}; see \`pond describe ${st.path}\`.`, {
        path: st.path,
        version: opts.version,
      });
    }
    yield* this.view.read(st.parentId, st.nodeId, opts.version);
  }

  /** All bytes of a file (see read). */
  async readAll(path: string, opts: { version?: number } = {}): Promise<Uint8Array> {
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const c of this.read(path, opts)) {
      chunks.push(c);
      size += c.length;
    }
    return concatBytes(chunks, size);
  }

  /** The children of directory `dirPath` (symlinks followed), sorted by name. */
  async list(dirPath: string): Promise<ListedEntry[]> {
    const p = parsePath(dirPath, this.cwd);
    const r = this.found(await this.lookup(p.names, true, p.absolute), p.absolute);
    if (r.entryType !== "directory") {
      throw new WrongTypeError(p.absolute, r.entryType, "directory", `Show the entry itself with \`pond list ${p.absolute}\`.`);
    }
    const entries = await this.listDir(r.nodeId);
    return entries.map((e) => ({ ...e, path: childPath(p.absolute, e.name), parentId: r.nodeId }));
  }

  /**
   * Every entry below directory `startPath` (not the start itself), depth first, each
   * directory's entries sorted by name. Symlinks inside are yielded, not followed.
   */
  async *walk(startPath: string, opts: WalkOptions = {}): AsyncIterable<WalkEntry> {
    const p = parsePath(startPath, this.cwd);
    const r = this.found(await this.lookup(p.names, true, p.absolute), p.absolute);
    if (r.entryType !== "directory") throw new WrongTypeError(p.absolute, r.entryType, "directory");
    yield* this.walkDir(r.nodeId, p.absolute, opts);
  }

  private async *walkDir(dirId: NodeId, dirPath: string, opts: WalkOptions): AsyncIterable<WalkEntry> {
    for (const e of await this.listDir(dirId)) {
      const w: WalkEntry = { path: childPath(dirPath, e.name), parentId: dirId, entry: { ...e } };
      yield w;
      if (e.entryType === "directory" && (opts.descend?.(w) ?? true)) yield* this.walkDir(e.childNodeId, w.path, opts);
    }
  }

  /**
   * The entries whose full path matches `pattern` (relative patterns from cwd), sorted by
   * path. The walk starts at the pattern's literal prefix (followed if a symlink) and
   * skips directories that cannot hold a match; symlinks below it are not followed.
   */
  async *glob(pattern: string, opts: { dot?: boolean } = {}): AsyncIterable<Resolved> {
    yield* await this.globAll(pattern, opts);
  }

  /** `glob`, collected. */
  async globAll(pattern: string, opts: { dot?: boolean } = {}): Promise<Resolved[]> {
    const g = compileGlob(pattern, { dot: opts.dot, cwd: this.cwd });
    const prefix = g.literalPrefix;
    const startPath = "/" + prefix.join("/");
    const out: Resolved[] = [];
    if (prefix.length > 0 && g.matchNames(prefix)) {
      const self = await this.resolve(startPath);
      if (self) out.push({ ...self, path: startPath });
    }
    const start = await this.lookup(prefix, true, startPath);
    if (!g.hasMagic || start.kind !== "found" || start.resolved.entryType !== "directory") return out;
    if (!g.couldMatchBelow(prefix)) return out;
    // Walk paths start with startPath; their names are the prefix plus the rest.
    const skip = startPath === "/" ? 1 : startPath.length + 1;
    // Each entry's names once: a folder's are asked for twice (match, then descend), and
    // splitting 11,000 paths twice was ~20 ms of listing '/**'.
    let namesFor: WalkEntry | undefined,
      names: string[] = [];
    const namesOf = (w: WalkEntry): string[] => {
      if (w !== namesFor) {
        namesFor = w;
        names = w.path.slice(skip).split("/");
        if (prefix.length > 0) names = prefix.concat(names);
      }
      return names;
    };
    const descend = (w: WalkEntry) => g.couldMatchBelow(namesOf(w));
    for await (const w of this.walkDir(start.resolved.nodeId, startPath, { descend })) {
      if (g.matchNames(namesOf(w))) {
        out.push({
          path: w.path,
          parentId: w.parentId,
          nodeId: w.entry.childNodeId,
          entryType: w.entry.entryType,
          versionLastModified: w.entry.versionLastModified,
        });
      }
    }
    return out.sort((a, b) => comparePaths(a.path, b.path));
  }

  // ---- internals ----

  private abs(path: string): string {
    return parsePath(path, this.cwd).absolute;
  }

  private txn(path: string, operation: string): Transaction {
    if (!isTransaction(this.view)) throw new ReadOnlyError(path, operation);
    return this.view;
  }

  /** The resolved entry, or the NotFoundError/WrongTypeError the lookup calls for. */
  private found(l: Lookup, asked: string): Resolved {
    if (l.kind === "found") return l.resolved;
    if (l.kind === "notDir") throw notADirectory(l.at, asked);
    const leads = l.path !== asked ? ` (it leads to "${l.path}")` : "";
    const parent = asked.slice(0, asked.lastIndexOf("/")) || "/";
    throw new NotFoundError(`"${asked}"${leads}`, `See what is there with \`pond list ${parent === "/" ? "/" : parent + "/"}\`.`, { path: asked });
  }

  /**
   * Walks `names` from the root. Symlinks before the last name are always followed, the
   * last one only with `follow`; a target restarts the walk from the root (relative
   * targets from the link's directory). More than SYMLINK_LIMIT links is a loop.
   */
  private async lookup(names: readonly string[], follow: boolean, asked: string): Promise<Lookup> {
    let queue = names;
    let cur = ROOT;
    let links = 0;
    let i = 0;
    while (i < queue.length) {
      const name = queue[i]!;
      const last = i === queue.length - 1;
      const path = childPath(cur.path, name);
      const e = findEntry(await this.listDir(cur.nodeId), name);
      if (!e) {
        if (last) return { kind: "missing", parent: cur, name, path };
        const rest = queue.slice(i);
        return { kind: "missingParent", parentPath: childPathAll(cur.path, rest.slice(0, -1)), path: childPathAll(cur.path, rest) };
      }
      const r: Resolved = { path, parentId: cur.nodeId, nodeId: e.childNodeId, entryType: e.entryType, versionLastModified: e.versionLastModified };
      if (e.entryType === "symlink" && (!last || follow)) {
        if (++links > SYMLINK_LIMIT) throw new SymlinkLoopError(asked, SYMLINK_LIMIT);
        const target = parsePath(await this.linkTarget(cur.nodeId, e.childNodeId), cur.path);
        queue = [...target.names, ...queue.slice(i + 1)];
        cur = ROOT;
        i = 0;
        continue;
      }
      if (last) return { kind: "found", resolved: r };
      if (e.entryType !== "directory") return { kind: "notDir", at: r, path: childPathAll(cur.path, queue.slice(i)) };
      cur = r;
      i++;
    }
    return { kind: "found", resolved: { ...cur } };
  }

  private listDir(dirId: NodeId): Promise<readonly DirEntry[]> {
    let p = this.caches.dirs.get(dirId);
    if (!p) {
      p = this.view.listDir(dirId).then((entries) => Object.freeze([...entries].sort((a, b) => comparePaths(a.name, b.name))));
      this.caches.dirs.set(dirId, p);
      // Do not remember a failure: the caller sees it, the next call asks again.
      p.catch(() => this.caches.dirs.delete(dirId));
    }
    return p;
  }

  private versionsOf(r: Resolved): Promise<VersionInfo[]> {
    const key = `${r.parentId}/${r.nodeId}`;
    let p = this.caches.versions.get(key);
    if (!p) {
      p = this.view.versions(r.parentId, r.nodeId);
      this.caches.versions.set(key, p);
      p.catch(() => this.caches.versions.delete(key));
    }
    return p.then((vs) => vs.map(copyVersion));
  }

  private linkTarget(parentId: NodeId, nodeId: NodeId): Promise<string> {
    const key = `${parentId}/${nodeId}`;
    let p = this.caches.links.get(key);
    if (!p) {
      p = this.view.readlink(parentId, nodeId);
      this.caches.links.set(key, p);
      p.catch(() => this.caches.links.delete(key));
    }
    return p;
  }

  private async addVersion(
    txn: Transaction,
    parentId: NodeId,
    nodeId: NodeId,
    entryType: EntryType,
    content: ContentSource,
    opts: VersionOptions,
  ): Promise<VersionInfo> {
    const key = `${parentId}/${nodeId}`;
    this.caches.versions.delete(key);
    this.caches.links.delete(key);
    return txn.addVersion(parentId, nodeId, entryType, content, opts);
  }

  /** The directory holding `r` (its canonical parent path, resolved). */
  private async parentOf(r: Resolved): Promise<Resolved> {
    const parentPath = r.path.slice(0, r.path.lastIndexOf("/")) || "/";
    const l = await this.lookup(parsePath(parentPath).names, true, parentPath);
    return this.found(l, parentPath);
  }

  /** Removes entry `name` of a directory and writes its snapshot. */
  private async dropEntry(dirId: NodeId, name: string): Promise<void> {
    const txn = this.view as Transaction;
    const entries = [...(await this.listDir(dirId))];
    const at = lowerBound(entries, name);
    if (entries[at]?.name !== name) throw new Error(`BUG: no entry "${name}" to remove in directory ${dirId}`);
    entries.splice(at, 1);
    await txn.writeDir(dirId, entries);
    this.caches.dirs.set(dirId, Promise.resolve(Object.freeze(entries)));
  }

  /** Adds or replaces one entry of a directory and writes its snapshot. */
  private async putEntry(dirId: NodeId, entry: DirEntry): Promise<void> {
    const txn = this.view as Transaction;
    const entries = [...(await this.listDir(dirId))];
    const at = lowerBound(entries, entry.name);
    if (entries[at]?.name === entry.name) entries[at] = entry;
    else {
      validateNewName(entry.name);
      entries.splice(at, 0, entry);
    }
    await txn.writeDir(dirId, entries);
    this.caches.dirs.set(dirId, Promise.resolve(Object.freeze(entries)));
  }
}

function notADirectory(at: Resolved, asked: string): WrongTypeError {
  return new WrongTypeError(at.path, at.entryType, "directory", `"${asked}" goes through "${at.path}", which is not a directory.`);
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

function childPathAll(dir: string, names: readonly string[]): string {
  return names.reduce((p, n) => childPath(p, n), dir);
}

function lowerBound(entries: readonly DirEntry[], name: string): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (entries[mid]!.name < name) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function findEntry(entries: readonly DirEntry[], name: string): DirEntry | undefined {
  const at = lowerBound(entries, name);
  return entries[at]?.name === name ? entries[at] : undefined;
}

/** A caller's copy of a version record. Attributes parsed on first use (tlogfs) stay so: a spread would parse them. */
function copyVersion(v: VersionInfo): VersionInfo {
  return Object.getOwnPropertyDescriptor(v, "attributes")?.get ? (Object.defineProperties({}, Object.getOwnPropertyDescriptors(v)) as VersionInfo) : { ...v };
}
