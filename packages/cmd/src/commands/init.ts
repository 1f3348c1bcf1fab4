import { Pond, resolvePondDir } from "@pond/steward";
import { commandLine } from "../context.ts";
import type { IO } from "../io.ts";

/** `pond init`: creates a pond; refuses a folder that already holds one. */
export async function run(args: Record<string, unknown>, io: IO): Promise<number> {
  const dir = resolvePondDir(args.pond as string | undefined, io.env);
  const pond = await Pond.init(dir, commandLine(args));
  io.out.write(`Created pond ${pond.id} in ${pond.dir}\n`);
  return 0;
}
