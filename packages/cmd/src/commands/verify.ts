import { verify } from "@pond/steward";
import { openPond } from "../context.ts";
import type { IO } from "../io.ts";
import { progressFor } from "../remote-cli.ts";
import type { ArgsOf } from "../args.ts";
import type { verifyCommand } from "../commands.ts";

type Args = ArgsOf<typeof verifyCommand>;

/** `pond verify [NAME] [--deep]`: what matches, what is behind, what is wrong. Exit 4 when something is wrong. */
export async function run(args: Args, io: IO): Promise<number> {
  const pond = openPond(args, io);
  const name = args.name;
  const r = await verify(pond, name, { deep: args.deep, env: io.env, progress: progressFor(io, "verify") });
  if (args.format === "json") {
    io.out.write(JSON.stringify(r, null, 2) + "\n");
    return r.wrong.length ? 4 : 0;
  }
  io.out.write(`Verified ${r.remote} (${r.url})${r.deep ? ", deep" : ""}\n`);
  if (r.matches.length) {
    io.out.write("matches:\n");
    for (const m of r.matches) io.out.write(`  ok      ${m}\n`);
  }
  if (r.behind.length) {
    io.out.write("behind:\n");
    for (const b of r.behind) io.out.write(`  behind  ${b}\n`);
  }
  if (r.wrong.length) {
    io.out.write("wrong:\n");
    for (const w of r.wrong) io.out.write(`  WRONG   ${w.key ? `${w.key}: ` : ""}${w.problem}\n`);
    io.err.write(
      `pond: ${r.wrong.length} problem(s) found on ${r.remote}\n  Push again from the original pond to repair the remote (\`pond push ${r.remote}\`).\n`,
    );
    return 4;
  }
  io.out.write(r.behind.length ? "No damage found; see what is behind above.\n" : "Clean: the remote matches this pond.\n");
  return 0;
}
