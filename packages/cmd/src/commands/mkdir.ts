import { WD } from "@pond/tinyfs";
import { commandLine, openPond } from "../context.ts";
import type { IO } from "../io.ts";
import type { ArgsOf } from "../args.ts";
import type { mkdirCommand } from "../commands.ts";

type Args = ArgsOf<typeof mkdirCommand>;

/** `pond mkdir [-p] PATH...`: all directories in one transaction, or none. */
export async function run(args: Args, io: IO): Promise<number> {
  const pond = openPond(args, io);
  const paths = args.paths;
  const parents = args.parents;
  await pond.write(commandLine(args), async ({ txn, note }) => {
    const wd = new WD(txn);
    for (const p of paths) {
      await wd.mkdir(p, { parents });
      note(`mkdir ${p}`);
    }
  });
  return 0;
}
