/**
 * What `pond list [PATTERN]` (and `copy` out of the pond) mean by a pattern, in one
 * place so every command agrees.
 */
import { NotFoundError } from "./errors.ts";
import { compileGlob } from "./glob.ts";
import { comparePaths } from "./path.ts";
import type { WD } from "./wd.ts";
import type { Resolved } from "./wd-types.ts";

export interface ListPatternOptions {
  /** Include names starting with "." (`pond list -a`). */
  dot?: boolean;
}

/**
 * The entries a pattern names, sorted by path:
 * - no pattern: every entry in the pond (`/**`);
 * - `/` or `/dir/` (a trailing slash): the children of that directory;
 * - `/dir` (no wildcards): that entry itself, or NotFoundError naming it;
 * - a glob: every entry whose full path matches (none is not an error); a glob ending
 *   in "/" lists the children of each matching directory, like `ls` given those directories.
 * Relative patterns are taken from `wd.cwd`. Names starting with "." are left out of
 * wildcard matches and child listings unless `dot` is set.
 */
export async function listPattern(wd: WD, pattern: string | undefined, opts: ListPatternOptions = {}): Promise<Resolved[]> {
  const dot = opts.dot ?? false;
  if (pattern === undefined) return wd.globAll("/**", { dot });
  const g = compileGlob(pattern, { dot, cwd: wd.cwd });
  if (!g.hasMagic) {
    const abs = "/" + g.literalPrefix.join("/");
    if (g.trailingSlash || abs === "/") return children(wd, abs, dot);
    const r = await wd.resolve(abs);
    if (!r) {
      const parent = abs.slice(0, abs.lastIndexOf("/")) || "/";
      throw new NotFoundError(`"${abs}"`, `See what is there with \`pond list ${parent === "/" ? "/" : parent + "/"}\`.`, { path: abs });
    }
    return [{ ...r, path: abs }];
  }
  const matches = await wd.globAll(pattern, { dot });
  if (!g.trailingSlash) return matches;
  const out: Resolved[] = [];
  for (const m of matches) {
    const target = m.entryType === "symlink" ? await wd.resolve(m.path, { followSymlinks: true }) : m;
    if (target?.entryType === "directory") out.push(...(await children(wd, m.path, dot)));
  }
  return out.sort((a, b) => comparePaths(a.path, b.path));
}

async function children(wd: WD, dir: string, dot: boolean): Promise<Resolved[]> {
  const entries = await wd.list(dir);
  return entries
    .filter((e) => dot || !e.name.startsWith("."))
    .map((e) => ({ path: e.path, parentId: e.parentId, nodeId: e.childNodeId, entryType: e.entryType, versionLastModified: e.versionLastModified }))
    .sort((a, b) => comparePaths(a.path, b.path));
}

/**
 * The config files of a folder such as /etc/collect/ or /etc/reduce/: its visible
 * `file:data` entries, sorted by path; none when the folder does not exist.
 */
export async function configFilesIn(wd: WD, dir: string): Promise<string[]> {
  let entries: Awaited<ReturnType<WD["list"]>>;
  try {
    entries = await wd.list(dir);
  } catch (e) {
    if (e instanceof NotFoundError) return [];
    throw e;
  }
  return entries
    .filter((e) => e.entryType === "file:data" && !e.name.startsWith("."))
    .map((e) => e.path)
    .sort();
}
