import { resolvePondDir, restore } from "@pond/steward";
import type { IO } from "../io.ts";
import { amount, credentialOptions, progressFor } from "../remote-cli.ts";
import type { ArgsOf } from "../args.ts";
import type { restoreCommand } from "../commands.ts";

type Args = ArgsOf<typeof restoreCommand>;

/** `pond restore URL --pond DIR [--writable]`: the whole pond from a remote into a new folder. */
export async function run(args: Args, io: IO): Promise<number> {
  const dir = resolvePondDir(args.pond, io.env);
  const r = await restore(args.url, dir, {
    endpoint: args.endpoint,
    region: args.region,
    name: args.name,
    writable: args.writable,
    credentials: credentialOptions(args),
    env: io.env,
    progress: progressFor(io, "restore"),
  });
  if (args.format === "json") {
    io.out.write(JSON.stringify(r, null, 2) + "\n");
    return 0;
  }
  for (const l of r.removedLeftovers) io.err.write(`pond: removed ${l.path} (${l.bytes} bytes), left by a restore that was killed\n`);
  io.out.write(`Restored pond ${r.pondId} at version ${r.version} into ${r.dir} (${amount(r.files, r.bytes)})\n`);
  if (r.mirror)
    io.out.write(
      `It is a read-only mirror of remote ${r.remote}: \`pond pull\` keeps it up to date. If the original is lost, restore with --writable instead.\n`,
    );
  else io.out.write(`It is writable, and pushes to remote ${r.remote} (\`pond push ${r.remote}\`). Keep one writer per remote.\n`);
  return 0;
}
