import { fsck } from "@pond/steward";
import { openPond } from "../context.ts";
import type { IO } from "../io.ts";
import { progressFor } from "../remote-cli.ts";
import type { ArgsOf } from "../args.ts";
import type { fsckCommand } from "../commands.ts";

/** `pond fsck [--quick]`: exit 0 when the pond is whole, 4 when anything is wrong. */
export async function run(args: ArgsOf<typeof fsckCommand>, io: IO): Promise<number> {
  const pond = openPond(args, io);
  const r = await fsck(pond, { quick: args.quick, progress: progressFor(io, "fsck") });
  if (args.format === "json") {
    io.out.write(JSON.stringify(r, null, 2) + "\n");
    return r.problems.length ? 4 : 0;
  }
  for (const p of r.problems) io.out.write(`PROBLEM ${p.path}: ${p.problem}\n  fix: ${p.fix}\n`);
  io.out.write(
    `checked snapshots ${r.horizon}..${r.latest} (${r.snapshots}), ${r.entryFiles} entry file(s), ${r.payloads} payload(s), ${r.bytesChecked} bytes read${r.quick ? " (quick: hashes skipped)" : ""}\n`,
  );
  if (r.problems.length) {
    io.err.write(`pond: fsck found ${r.problems.length} problem(s); see each one's fix above\n`);
    return 4;
  }
  io.out.write("whole: no problems found\n");
  return 0;
}
