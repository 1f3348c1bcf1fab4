import { pull } from "@pond/steward";
import { openPond } from "../context.ts";
import type { IO } from "../io.ts";
import { amount, progressFor, versions } from "../remote-cli.ts";
import type { ArgsOf } from "../args.ts";
import type { pullCommand } from "../commands.ts";

type Args = ArgsOf<typeof pullCommand>;

/** `pond pull [NAME]`: brings a mirror up to the remote's tip. */
export async function run(args: Args, io: IO): Promise<number> {
  const pond = openPond(args, io);
  const name = args.name;
  const r = await pull(pond, name, { env: io.env, progress: progressFor(io, `pull${name ? " " + name : ""}`) });
  if (args.format === "json") {
    io.out.write(JSON.stringify(r, null, 2) + "\n");
    return 0;
  }
  if (r.fromVersion === r.toVersion) io.out.write(`Up to date with ${r.remote} (${r.url}) at version ${r.toVersion}\n`);
  else io.out.write(`Pulled ${versions(r.fromVersion, r.toVersion)} from ${r.remote} (${r.url}): ${amount(r.files, r.bytes)}\n`);
  return 0;
}
