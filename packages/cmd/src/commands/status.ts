import { pondStatus } from "@pond/steward";
import { openPond } from "../context.ts";
import type { IO } from "../io.ts";
import type { ArgsOf } from "../args.ts";
import type { statusCommand } from "../commands.ts";

type Args = ArgsOf<typeof statusCommand>;

/** `pond status`: pond id, newest transaction, remotes and how far each is behind. */
export async function run(args: Args, io: IO): Promise<number> {
  const s = await pondStatus(openPond(args, io));
  if (args.format === "json") {
    io.out.write(JSON.stringify(s, null, 2) + "\n");
    return 0;
  }
  io.out.write(`pond     ${s.pondId}\n`);
  io.out.write(`folder   ${s.dir}\n`);
  if (s.mirrorOf) io.out.write(`mirror   read-only mirror of remote ${s.mirrorOf} (\`pond pull\` updates it)\n`);
  const t = s.lastTransaction;
  io.out.write(
    `version  ${s.version}${t ? `  (last transaction${t.seq !== undefined ? ` ${t.seq}` : ""}, ${t.status}: ${t.command.join(" ")} at ${t.startedAt} by ${t.user})` : ""}\n`,
  );
  if (s.remotes.length === 0) {
    io.out.write("remotes  none (add one with `pond remote add NAME s3://bucket/prefix`)\n");
    return 0;
  }
  io.out.write("remotes\n");
  for (const r of s.remotes) {
    let state: string;
    if (r.mode === "pull") state = r.lastPulled ? `last pulled version ${r.lastPulled.version} at ${r.lastPulled.at}` : "never pulled";
    else if (!r.lastPushed) state = `never pushed: ${r.behind} version(s) behind`;
    else
      state =
        r.behind === 0
          ? `up to date (version ${r.lastPushed.version} pushed at ${r.lastPushed.at})`
          : `${r.behind} version(s) behind (last pushed version ${r.lastPushed.version} at ${r.lastPushed.at})`;
    io.out.write(`  ${r.name}  ${r.url}${r.endpoint ? ` at ${r.endpoint}` : ""}  mode ${r.mode}  ${state}\n`);
  }
  return 0;
}
