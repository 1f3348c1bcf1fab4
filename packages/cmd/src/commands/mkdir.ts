import { WD } from "@pond/tinyfs";
import { commandLine, openPond } from "../context.ts";
import type { IO } from "../io.ts";

/** `pond mkdir [-p] PATH...`: all directories in one transaction, or none. */
export async function run(args: Record<string, unknown>, io: IO): Promise<number> {
  const pond = openPond(args, io);
  const paths = args.paths as string[];
  const parents = Boolean(args.parents);
  await pond.write(commandLine(args), async ({ txn, note }) => {
    const wd = new WD(txn);
    for (const p of paths) {
      await wd.mkdir(p, { parents });
      note(`mkdir ${p}`);
    }
  });
  return 0;
}
