import { Pond, resolvePondDir } from "@pond/steward";
import { commandLine } from "../context.ts";
import type { IO } from "../io.ts";
import type { ArgsOf } from "../args.ts";
import type { initCommand } from "../commands.ts";

type Args = ArgsOf<typeof initCommand>;

/** `pond init`: creates a pond; refuses a folder that already holds one. */
export async function run(args: Args, io: IO): Promise<number> {
  const dir = resolvePondDir(args.pond, io.env);
  const pond = await Pond.init(dir, commandLine(args));
  io.out.write(`Created pond ${pond.id} in ${pond.dir}\n`);
  return 0;
}
