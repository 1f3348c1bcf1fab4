import { WD, childPath, parsePath } from "@pond/tinyfs";
import { commandLine, openPond } from "../context.ts";
import type { IO } from "../io.ts";
import type { ArgsOf } from "../args.ts";
import type { lnCommand } from "../commands.ts";
import { UsageError } from "../errors.ts";

type Args = ArgsOf<typeof lnCommand>;

/**
 * `pond ln -s TARGET LINK`: a symbolic link, in one transaction. TARGET is stored as
 * written (absolute, or relative to the link's directory) and need not exist yet; when
 * LINK is an existing directory the link goes inside it under TARGET's name, as ln(1).
 */
export async function run(args: Args, io: IO): Promise<number> {
  if (!args.symbolic) {
    throw new UsageError("pond makes only symbolic links", "ln", `Use \`pond ln -s ${args.target} ${args.link}\`.`);
  }
  const target = args.target;
  const pond = openPond(args, io);
  await pond.write(commandLine(args), async ({ txn, note }) => {
    const wd = new WD(txn);
    let link = parsePath(args.link, wd.cwd).absolute;
    const at = await wd.resolve(link, { followSymlinks: true });
    if (at?.entryType === "directory") {
      const name = target.replace(/\/+$/, "").slice(target.replace(/\/+$/, "").lastIndexOf("/") + 1);
      if (name === "" || name === "." || name === "..")
        throw new UsageError(
          `"${link}" is a directory and "${target}" has no name to give the link`,
          "ln",
          `Name the link: pond ln -s ${target} ${childPath(at.path, "name")}`,
        );
      link = childPath(at.path, name);
    }
    const r = await wd.symlink(target, link);
    note(`symlink ${r.path} -> ${target}`);
  });
  return 0;
}
