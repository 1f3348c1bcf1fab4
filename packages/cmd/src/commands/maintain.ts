import { checkpoint, cleanup, configValue, expire, listSnapshots, merge, parseDuration, parseSize, StepItems, type MaintenanceStep } from "@pond/steward";
import { commandLine, openPond } from "../context.ts";
import { bufferedSink, type IO } from "../io.ts";
import { writeJson } from "../json-stream.ts";
import { progressFor } from "../remote-cli.ts";
import { renderRows } from "../render-table.ts";
import type { ArgsOf } from "../args.ts";
import type { maintainCommand } from "../commands.ts";
import { MaintainOptionError } from "../command-errors.ts";

type Args = ArgsOf<typeof maintainCommand>;

/** `pond maintain ACTION`: snapshots, expire, merge, cleanup, checkpoint, full. */
export async function run(args: Args, io: IO): Promise<number> {
  const action = args.action;
  const pond = openPond(args, io);
  const dryRun = args.dryRun;
  if (args.pattern !== undefined && action !== "merge" && action !== "full") {
    throw new MaintainOptionError(
      `pond maintain ${action} takes no PATTERN ("${args.pattern}"); only merge and full do`,
      "PATTERN",
      args.pattern,
      `e.g. \`pond maintain merge ${args.pattern}\`.`,
    );
  }
  if (action === "snapshots") {
    const snaps = await listSnapshots(pond);
    const format = args.format;
    if (format === "json") {
      io.out.write(JSON.stringify(snaps, null, 2) + "\n");
      return 0;
    }
    const rows = snaps.map((s) => ({
      seq: s.seq,
      time: s.time,
      user: s.user,
      command: s.command,
      created: s.changes.created.join(" "),
      appended: s.changes.appended.join(" "),
      removed: s.changes.removed.join(" "),
      files_added: s.filesAdded,
      bytes_added: s.bytesAdded,
      expired: s.expired,
    }));
    renderRows(io, rows, ["seq", "time", "user", "command", "created", "appended", "removed", "files_added", "bytes_added", "expired"], format);
    return 0;
  }
  const steps: MaintenanceStep[] = [];
  const expireRule = () => {
    // Neither flag given: the pond's configured defaults (`pond config`).
    const flagged = args.olderThan !== undefined || args.keepLast !== undefined;
    const olderThan = flagged ? args.olderThan : configValue(pond.paths.control, "maintain.older-than");
    const configuredKeep = configValue(pond.paths.control, "maintain.keep-last");
    const keepLast = flagged ? args.keepLast : configuredKeep === undefined ? undefined : Number(configuredKeep);
    return {
      ...(olderThan === undefined ? {} : { olderThanMs: parseDuration("--older-than", olderThan) }),
      ...(keepLast === undefined ? {} : { keepLast }),
      label: [olderThan && `--older-than ${olderThan}`, keepLast && `--keep-last ${keepLast}`].filter(Boolean).join(" "),
      dryRun,
    };
  };
  const mergeOptions = () => ({
    ...(args.pattern === undefined ? {} : { pattern: args.pattern }),
    targetBytes: parseSize("--target-size", args.targetSize ?? configValue(pond.paths.control, "maintain.target-size") ?? "128MiB"),
    maxInputFiles: args.maxInputFiles ?? Number(configValue(pond.paths.control, "maintain.max-input-files") ?? "1000"),
    dryRun,
    command: commandLine(args),
    progress: progressFor(io, "merge"),
  });
  const retentionMs = () => parseDuration("--retention", args.retention ?? configValue(pond.paths.control, "maintain.retention") ?? "7d");
  if (action === "expire" || action === "full") {
    const rule = expireRule();
    if (rule.olderThanMs === undefined && rule.keepLast === undefined) {
      throw new MaintainOptionError(
        `pond maintain ${action} needs --older-than DURATION or --keep-last N`,
        "--older-than",
        "",
        "e.g. `pond maintain expire --older-than 30d` or `--keep-last 100`.",
      );
    }
    const retention = retentionMs(); // parsed before anything changes
    const merging = action === "full" ? mergeOptions() : undefined;
    steps.push(await expire(pond, rule));
    if (merging) {
      const merged = await merge(pond, merging);
      steps.push(merged);
      // The merge is a new snapshot: with the same rule again, the one before it (which
      // still names the merged-away files) goes too, so cleanup can remove them now.
      if (merged.items.length > 0 && !dryRun) steps.push(await expire(pond, rule));
      steps.push(await checkpoint(pond, { dryRun }));
      steps.push(await cleanup(pond, { retentionMs: retention, dryRun, progress: progressFor(io, "cleanup") }));
    }
  } else if (action === "merge") {
    steps.push(await merge(pond, mergeOptions()));
  } else if (action === "checkpoint") {
    steps.push(await checkpoint(pond, { dryRun }));
  } else if (action === "cleanup") {
    steps.push(await cleanup(pond, { retentionMs: retentionMs(), dryRun, progress: progressFor(io, "cleanup") }));
  }
  // The report goes out 64 KiB at a time, its items made as they are written (step-items.ts):
  // a cleanup at 100,000 versions reports 300,000 files.
  const out = bufferedSink(io.out);
  if (args.format === "json") {
    writeJson(out, { dryRun, steps }, (v) => (v instanceof StepItems ? v : undefined));
    out.flush();
    return 0;
  }
  for (const s of steps) {
    out.write(`${s.step}${s.dryRun ? " (dry run)" : ""}: ${s.files} file(s), ${s.bytes} bytes: ${s.detail}\n`);
    for (const i of s.items)
      out.write(
        `  ${i.action === "archived" ? (s.dryRun ? "would archive" : "archived") : s.step === "cleanup" ? (s.dryRun ? "would delete" : "deleted") : s.dryRun ? "would write" : "wrote"} ${i.key} (${i.size} bytes): ${i.why}\n`,
      );
  }
  out.flush();
  return 0;
}
