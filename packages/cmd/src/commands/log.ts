import { openPond } from "../context.ts";
import { bufferedSink, type IO } from "../io.ts";
import type { ArgsOf } from "../args.ts";
import type { logCommand } from "../commands.ts";

type Args = ArgsOf<typeof logCommand>;

/** `pond log [--limit N]`: one block per write transaction, newest first. */
export async function run(args: Args, io: IO): Promise<number> {
  const pond = openPond(args, io);
  let history = pond.history(args.limit).reverse();
  if (args.limit !== undefined) history = history.slice(0, args.limit);
  if (args.format === "json") {
    io.out.write(
      JSON.stringify(
        history.map((t) => ({ ...t, startedAt: new Date(t.startedAt).toISOString() })),
        null,
        2,
      ) + "\n",
    );
    return 0;
  }
  // A year of a collector is 500,000 transactions: a write a line was a syscall a line.
  const out = bufferedSink(io.out);
  for (const t of history) {
    out.write(`transaction ${t.seq ?? "-"}  ${t.status}  ${t.txnId}\n`);
    out.write(`  command: ${t.command.join(" ")}\n`);
    out.write(`  when:    ${new Date(t.startedAt).toISOString()}${t.durationMs !== undefined ? ` (${t.durationMs} ms)` : ""} by ${t.user}\n`);
    for (const c of t.changes) out.write(`  ${c}\n`);
    if (t.error) out.write(`  error:   ${t.error}\n`);
    if (t.recovered) out.write(`  recover: ${t.recovered}\n`);
    if (t.status === "incomplete") out.write("  (begun and never ended: run `pond recover`)\n");
    out.write("\n");
  }
  out.flush();
  return 0;
}
