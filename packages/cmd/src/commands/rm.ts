import { NotFoundError, WD, compileGlob, parsePath, type Resolved } from "@pond/tinyfs";
import { commandLine, openPond } from "../context.ts";
import type { IO } from "../io.ts";
import type { ArgsOf } from "../args.ts";
import type { rmCommand } from "../commands.ts";

type Args = ArgsOf<typeof rmCommand>;

/**
 * `pond rm [-r] [-f] PATH...`: removes files, symlinks and (with -r) directories, all in
 * one transaction or none. Paths may be globs; a path or pattern that matches nothing is
 * an error unless -f. Removed entries stay readable with --as-of an earlier transaction.
 */
export async function run(args: Args, io: IO): Promise<number> {
  const pond = openPond(args, io);
  const paths = args.paths;
  const recursive = args.recursive;
  const force = args.force;
  // With -f and nothing to remove, write no transaction at all.
  if (force && (await targets(new WD(await pond.view()), paths, true)).length === 0) return 0;
  await pond.write(commandLine(args), async ({ txn, note }) => {
    const wd = new WD(txn);
    for (const t of await targets(wd, paths, force)) {
      const r = await wd.remove(t.path, { recursive });
      note(`removed ${r.path} (${r.entryType})`);
    }
  });
  return 0;
}

/**
 * What the patterns name, sorted, without entries below a directory that is itself
 * named (removing it removes them). Missing literal paths and empty globs throw
 * NotFoundError unless `force`.
 */
async function targets(wd: WD, patterns: string[], force: boolean): Promise<Resolved[]> {
  const found = new Map<string, Resolved>();
  for (const pattern of patterns) {
    const g = compileGlob(pattern, { cwd: wd.cwd, dot: true });
    if (!g.hasMagic) {
      const abs = parsePath(pattern, wd.cwd).absolute;
      const r = await wd.resolve(abs);
      if (r) found.set(r.path, r);
      else if (!force)
        throw new NotFoundError(`"${abs}"`, `See what is there with \`pond list ${parentOf(abs)}\`, or pass -f to ignore missing paths.`, { path: abs });
      continue;
    }
    const matches = await wd.globAll(pattern, { dot: true });
    if (matches.length === 0 && !force) {
      throw new NotFoundError(`Anything matching "${pattern}"`, "Check the pattern with `pond list`, or pass -f to ignore patterns that match nothing.", {
        pattern,
      });
    }
    for (const m of matches) found.set(m.path, m);
  }
  const sorted = [...found.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const out: Resolved[] = [];
  for (const r of sorted) {
    const inside = out.some((o) => o.entryType === "directory" && r.path.startsWith(o.path === "/" ? "/" : o.path + "/"));
    if (!inside) out.push(r);
  }
  return out;
}

function parentOf(abs: string): string {
  const p = abs.slice(0, abs.lastIndexOf("/"));
  return p === "" ? "/" : p + "/";
}
