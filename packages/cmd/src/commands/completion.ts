import type { completionCommand } from "../commands.ts";
import type { ArgsOf } from "../args.ts";
import { completionScript } from "../completion.ts";
import type { IO } from "../io.ts";

/** `pond completion bash|zsh|fish`: the shell's completion script on stdout. */
export async function run(args: ArgsOf<typeof completionCommand>, io: IO): Promise<number> {
  io.out.write(completionScript(args.shell));
  return 0;
}
