import { silentProgress, terminalProgress } from "@pond/diagnostics";
import type { CollectContext, CollectSummary } from "@pond/collect";
import { WD } from "@pond/tinyfs";
import { commandLine, openPond } from "../context.ts";
import type { IO } from "../io.ts";
import type { ArgsOf } from "../args.ts";
import type { collectCommand } from "../commands.ts";
import { NoCollectorsError, UsageError } from "../errors.ts";

type Args = ArgsOf<typeof collectCommand>;

/**
 * How many times more reluctant JavaScriptCore's JIT is during `pond collect`
 * (Bun.unsafe.setJITPolicy; 1 is normal). Measured on bench (a), CPU of a run, medians of
 * 10 interleaved runs at load 8-10: 469 ms at 1, 433 at 6, 431 at 12 (the JIT thread
 * 90 -> 50-60 ms); an earlier round: 453 at 1, 411 at 4, 428 at 16, 445 at 64 (much
 * higher leaves the hot loops interpreted for longer). With those loops in leaf
 * functions (small to compile), means of 10 at load 11-13: 403 at 1, 375 at 3, 376 at 6,
 * 381 at 12.
 */
const COLLECT_JIT_POLICY = 6;

/**
 * `pond collect [CONFIG]`: runs one collector config, or every one under /etc/collect/,
 * each in its own transaction. One summary line per collector on stdout (or JSON);
 * a failure's cause also goes to stderr. Exit 1 when any failed.
 */
export async function run(args: Args, io: IO): Promise<number> {
  // A run is short and mostly code that runs once or a few hundred times (loading, the
  // plan, each request's handling, each device's staging, the commit); JavaScriptCore's
  // normal tier-up thresholds compile much of it in the background, which cost a 10-device
  // HydroVu run ~90 ms of JIT-thread CPU. Scaled thresholds leave that code interpreted;
  // the per-reading loops still reach the optimizing tiers within the first pages.
  Bun.unsafe.setJITPolicy(COLLECT_JIT_POLICY);
  const collect = await import("@pond/collect");
  const pond = openPond(args, io);
  // The write lock's wait: steward reads it from POND_LOCK_TIMEOUT, so --wait sets that
  // for this process only (a cron run overlapping a long command just starts late).
  process.env.POND_LOCK_TIMEOUT = String(args.wait);
  const progress = io.errIsTTY && !args.dryRun ? terminalProgress("collect") : silentProgress;
  const ctx: CollectContext = { pond, env: io.env, command: commandLine(args), dryRun: Boolean(args.dryRun), progress };
  const wd = new WD(await pond.view());
  const json = args.format === "json";

  if (args.listLocations) {
    if (args.config === undefined)
      throw new UsageError("--list-locations needs a hydrovu config", "collect", "pond collect --list-locations /etc/collect/hydrovu.yaml");
    const cfg = await collect.readConfig(wd, args.config);
    if (cfg.kind !== "hydrovu") throw new UsageError(`"${cfg.file}" is a ${cfg.kind} collector; --list-locations is for hydrovu`, "collect");
    const locations = await collect.listHydroVuLocations(cfg, ctx);
    if (json) io.out.write(JSON.stringify(locations, null, 2) + "\n");
    else for (const l of locations) io.out.write(`${l.id}\t${l.name}\t${l.gps?.latitude ?? ""}\t${l.gps?.longitude ?? ""}\t${l.description ?? ""}\n`);
    return 0;
  }

  const paths = await collect.configPaths(wd, args.config);
  if (paths.length === 0) {
    throw new NoCollectorsError(collect.CONFIG_DIR);
  }
  let summaries: CollectSummary[];
  try {
    summaries = await collect.runConfigs(paths, ctx);
  } finally {
    progress.done();
  }
  if (json) io.out.write(JSON.stringify(summaries, null, 2) + "\n");
  for (const s of summaries) {
    if (!json) io.out.write(summaryLine(s) + "\n");
    if (!s.ok) io.err.write(`pond: ${s.error}\n`);
    else if (!json) for (const n of s.notes) io.err.write(`pond: ${s.file}: ${n}\n`);
  }
  const collected = summaries.every((s) => s.ok) ? 0 : 1;
  if (!args.thenReduce || args.dryRun) return collected;
  // Reductions run after the collectors, on whatever they stored (a failed collector stored nothing),
  // with the normal JIT policy: their loops were not what the scaled one was measured on.
  Bun.unsafe.setJITPolicy(1);
  const { reduce } = await import("./reduce.ts");
  const reduced = await reduce(pond, { dryRun: false, json, command: commandLine(args) }, io);
  return Math.max(collected, reduced);
}

function summaryLine(s: CollectSummary): string {
  if (!s.ok) return `${s.file}: ${s.kind}: FAILED, nothing written, ${s.requests} requests`;
  if (s.plan) return [`${s.file}: ${s.kind}: dry run, would fetch:`, ...s.plan.map((p) => `  ${p}`)].join("\n");
  const range = s.rowsAdded > 0 ? `, ${s.start} .. ${s.end}` : "";
  const txn = s.seq !== undefined && (s.versionsAdded > 0 || (s.files?.skipped ?? 0) > 0) ? `, transaction ${s.seq}` : "";
  const work = s.files ? `${s.files.imported} files imported, ${s.files.skipped} skipped, ${s.files.known} already imported` : `${s.requests} requests`;
  return `${s.file}: ${s.kind}: ${s.rowsAdded} rows added in ${s.versionsAdded} versions${range}, ${work}${txn}`;
}
