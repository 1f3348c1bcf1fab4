import { parseAsOf } from "@pond/steward";
import { NotFoundError, WD, diffTrees, parsePath, revertPaths, revertTree } from "@pond/tinyfs";
import { commandLine, openPond } from "../context.ts";
import type { IO } from "../io.ts";
import type { ArgsOf } from "../args.ts";
import type { revertCommand } from "../commands.ts";
import { describeChange, renderChanges } from "./diff.ts";

/**
 * `pond revert SEQ [PATH...]`: one new transaction that makes the pond (or the paths) as
 * it was at SEQ. Nothing of the history is lost: the revert is itself reverted the same
 * way. `--dry-run` prints the changes it would make and writes nothing.
 */
export async function run(args: ArgsOf<typeof revertCommand>, io: IO): Promise<number> {
  const pond = openPond(args, io);
  const old = await pond.view(parseAsOf(args.seq));
  const paths = (args.paths ?? []).map((p) => parsePath(p).absolute);
  const scope = paths.length > 0 ? paths : undefined;
  const format = args.format === "json" ? "json" : "text";
  const now = await pond.view();
  for (const p of paths) {
    if (!(await new WD(old).exists(p)) && !(await new WD(now).exists(p))) {
      throw new NotFoundError(`"${p}"`, `It exists neither now nor at ${old.seq}; check it with \`pond list --as-of ${old.seq}\`.`, { path: p });
    }
  }
  const planned = await diffTrees(now, old, scope);
  if (args.dryRun) {
    renderChanges(planned, format, io);
    return 0;
  }
  if (planned.length === 0) {
    io.err.write(`pond: nothing to revert: ${scope ? scope.join(", ") : "the pond"} is already as it was at ${old.seq}\n`);
    return 0;
  }
  await pond.write(commandLine(args), async ({ txn, note }) => {
    const before = await pond.view();
    if (scope) await revertPaths(txn, old, scope);
    else await revertTree(txn, old);
    note(`revert to ${old.seq}`);
    for (const c of await diffTrees(before, txn, scope)) note(describeChange(c));
  });
  return 0;
}
