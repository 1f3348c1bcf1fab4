import { silentProgress, terminalProgress } from "@pond/diagnostics";
import type { ReduceOutputSummary, ReduceSummary } from "@pond/present";
import type { Pond } from "@pond/steward";
import { WD } from "@pond/tinyfs";
import type { ArgsOf } from "../args.ts";
import type { reduceCommand } from "../commands.ts";
import { commandLine, openPond } from "../context.ts";
import type { IO } from "../io.ts";
import { NoReductionsError } from "../errors.ts";

type Args = ArgsOf<typeof reduceCommand>;

/**
 * `pond reduce [CONFIG]`: runs one reduction config, or every one under /etc/reduce/,
 * each in its own transaction (see packages/present/src/reduce.ts). One line per output
 * and one per config on stdout (or JSON); a failure's cause also goes to stderr. Exit 1
 * when any failed.
 */
export async function run(args: Args, io: IO): Promise<number> {
  const pond = openPond(args, io);
  process.env.POND_LOCK_TIMEOUT = String(args.wait);
  return reduce(pond, { config: args.config, dryRun: Boolean(args.dryRun), json: args.format === "json", command: commandLine(args) }, io);
}

/** Runs reductions and prints their summaries; `pond collect --then-reduce` calls it too. */
export async function reduce(pond: Pond, opts: { config?: string; dryRun: boolean; json: boolean; command: string[] }, io: IO): Promise<number> {
  const present = await import("@pond/present");
  const paths = await present.reduceConfigPaths(new WD(await pond.view()), opts.config);
  if (paths.length === 0) {
    throw new NoReductionsError(present.REDUCE_CONFIG_DIR);
  }
  const progress = io.errIsTTY && !opts.dryRun ? terminalProgress("reduce") : silentProgress;
  let summaries: ReduceSummary[];
  try {
    summaries = await present.runReductions(pond, paths, { command: opts.command, dryRun: opts.dryRun, progress });
  } finally {
    progress.done();
  }
  if (opts.json) io.out.write(JSON.stringify(summaries, null, 2) + "\n");
  for (const s of summaries) {
    if (!opts.json) {
      for (const o of s.outputs) io.out.write(`${s.file}: ${outputLine(o, s.dryRun)}\n`);
      io.out.write(configLine(s) + "\n");
    }
    if (!s.ok) io.err.write(`pond: ${s.error}\n`);
    else if (!opts.json) for (const n of s.notes) io.err.write(`pond: ${s.file}: ${n}\n`);
  }
  return summaries.every((s) => s.ok) ? 0 : 1;
}

function outputLine(o: ReduceOutputSummary, dryRun: boolean): string {
  const head = `${o.input} -> ${o.output}: `;
  if (o.mode === "up to date") return head + "up to date";
  const why = o.reason ? ` (${o.reason})` : "";
  if (dryRun) {
    const what =
      o.mode === "incremental" ? `${o.versionsRead} new input version(s), and the older ones their buckets need` : `all ${o.versionsTotal} input version(s)`;
    return `${head}would run ${o.mode}${why}: ${what}`;
  }
  return `${head}${o.mode}${why}: read ${o.versionsRead} of ${o.versionsTotal} input version(s), wrote ${o.buckets} bucket(s) as v${o.version}`;
}

function configLine(s: ReduceSummary): string {
  if (!s.ok) return `${s.file}: FAILED, nothing written`;
  const counts = new Map<string, number>();
  for (const o of s.outputs) counts.set(o.mode, (counts.get(o.mode) ?? 0) + 1);
  const modes = [...counts].map(([m, n]) => `${n} ${m}`).join(", ");
  if (s.dryRun) return `${s.file}: dry run, ${s.outputs.length} output(s)${modes ? ` (${modes})` : ""}, nothing written`;
  return `${s.file}: ${s.outputs.length} output(s)${modes ? ` (${modes})` : ""}${s.seq !== undefined ? `, transaction ${s.seq}` : ", nothing written"}`;
}
