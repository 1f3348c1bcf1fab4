import { NotFoundError, WD, childPath, compileGlob, parsePath } from "@pond/tinyfs";
import { commandLine, openPond } from "../context.ts";
import type { IO } from "../io.ts";
import type { ArgsOf } from "../args.ts";
import type { mvCommand } from "../commands.ts";
import { UsageError } from "../errors.ts";
import { MoveDestinationError } from "../command-errors.ts";

type Args = ArgsOf<typeof mvCommand>;

/**
 * `pond mv SRC... DEST`: renames or moves entries, in one transaction. When DEST is an
 * existing directory each source goes inside it under its own name; otherwise there must
 * be one source and DEST is its new path. Node ids and versions are kept; a directory
 * moves whole without touching anything inside it.
 */
export async function run(args: Args, io: IO): Promise<number> {
  const all = args.paths;
  if (all.length < 2) throw new UsageError("mv needs a source and a destination", "mv", "pond mv /old /new, or pond mv /a /b /existing-dir");
  const pond = openPond(args, io);
  await pond.write(commandLine(args), async ({ txn, note }) => {
    const wd = new WD(txn);
    const dest = parsePath(all[all.length - 1]!, wd.cwd);
    const sources: string[] = [];
    for (const s of all.slice(0, -1)) {
      const g = compileGlob(s, { cwd: wd.cwd, dot: true });
      if (!g.hasMagic) {
        sources.push(parsePath(s, wd.cwd).absolute);
        continue;
      }
      const matches = await wd.globAll(s, { dot: true });
      if (matches.length === 0) throw new NotFoundError(`Anything matching "${s}"`, "Check the pattern with `pond list`.", { pattern: s });
      sources.push(...matches.map((m) => m.path));
    }
    const target = await wd.resolve(dest.absolute, { followSymlinks: true });
    const intoDir = target?.entryType === "directory";
    if (!intoDir && (sources.length > 1 || dest.trailingSlash)) {
      const what =
        sources.length > 1 ? `Moving ${sources.length} entries needs an existing directory` : `Moving into "${dest.absolute}/" needs an existing directory`;
      throw new MoveDestinationError(what, dest.absolute, target?.entryType);
    }
    for (const src of sources) {
      const to = intoDir ? childPath(target!.path, src.slice(src.lastIndexOf("/") + 1) || "") : dest.absolute;
      const r = await wd.rename(src, to);
      note(`moved ${src} -> ${r.path} (${r.entryType})`);
    }
  });
  return 0;
}
