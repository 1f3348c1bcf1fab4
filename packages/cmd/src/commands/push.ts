import { push } from "@pond/steward";
import { openPond } from "../context.ts";
import type { IO } from "../io.ts";
import { amount, progressFor, versions } from "../remote-cli.ts";
import type { ArgsOf } from "../args.ts";
import type { pushCommand } from "../commands.ts";

type Args = ArgsOf<typeof pushCommand>;

/** `pond push [NAME]`: uploads what the remote (or every push remote) lacks. */
export async function run(args: Args, io: IO): Promise<number> {
  const pond = openPond(args, io);
  const name = args.name;
  const reports = await push(pond, name, { env: io.env, progress: progressFor(io, `push${name ? " " + name : ""}`) });
  if (args.format === "json") {
    io.out.write(JSON.stringify(reports, null, 2) + "\n");
    return 0;
  }
  for (const r of reports) {
    if (r.files === 0 && r.fromVersion === r.toVersion) io.out.write(`${r.remote} (${r.url}) is up to date at version ${r.toVersion}\n`);
    else io.out.write(`Pushed ${versions(r.fromVersion, r.toVersion)} to ${r.remote} (${r.url}): ${amount(r.files, r.bytes)}\n`);
  }
  return 0;
}
