import { recover } from "@pond/steward";
import { openPond } from "../context.ts";
import type { IO } from "../io.ts";
import type { ArgsOf } from "../args.ts";
import type { recoverCommand } from "../commands.ts";

type Args = ArgsOf<typeof recoverCommand>;

/** `pond recover`: settles unfinished transactions; says what it did. */
export async function run(args: Args, io: IO): Promise<number> {
  const pond = openPond(args, io);
  const report = await recover(pond);
  if (args.format === "json") {
    io.out.write(JSON.stringify(report, null, 2) + "\n");
    return 0;
  }
  if (report.reconciled.length === 0 && report.removed.length === 0) {
    io.out.write("Nothing to recover: every transaction ended and no stray files were found.\n");
    return 0;
  }
  for (const r of report.reconciled) {
    io.out.write(
      `transaction ${r.txnId} (${r.command.join(" ")}): ${r.outcome === "committed" ? `had committed as version ${r.seq}` : "never committed; nothing of it is visible"}\n`,
    );
  }
  if (report.removed.length) {
    const bytes = report.removed.reduce((a, r) => a + r.size, 0);
    io.out.write(`removed ${report.removed.length} unreferenced file(s), ${bytes} bytes (left by a command that failed or was killed before its commit):\n`);
    // Each file by name, so a user who wondered where the space went sees it; a long list is cut.
    for (const r of report.removed.slice(0, 20)) io.out.write(`  ${r.key} (${r.size} bytes)\n`);
    if (report.removed.length > 20) io.out.write(`  … and ${report.removed.length - 20} more (--format json lists all)\n`);
  }
  return 0;
}
