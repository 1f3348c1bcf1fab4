import { statSync } from "node:fs";
import { logger } from "@pond/diagnostics";
import type { NodeId } from "@pond/tinyfs";
import type { Pond } from "../pond.ts";
import { parseDuration } from "./expiry.ts";
import { merge } from "./merge.ts";
import { configValue, parseSize } from "./pond-config.ts";
import { rotateControl } from "../control-rotate.ts";

/**
 * Automatic maintenance, after a write that appended to series (`maintain.auto`, on by
 * default): each series with `maintain.auto-merge-after` versions or more not yet in a
 * merged file (the newest never counts) is merged as `pond maintain merge` would, with the
 * configured target size and input cap, starting no new run after `maintain.auto-budget`.
 * The merge is a transaction of its own, after the write's, under the write lock again.
 * It never fails the write it follows: the write is committed already, and an error here
 * is logged (a warning on stderr) and left for the next write or `pond maintain merge`.
 * Checkpoints need nothing here: the log writes one every 100 commits. The control log is
 * archived as cleanup would once it is over `maintain.control-archive-after` (one stat a
 * write until then), so a collector that never runs cleanup keeps it small too.
 */
export async function autoMaintain(pond: Pond, series: readonly { parentId: NodeId; nodeId: NodeId }[]): Promise<void> {
  try {
    const control = pond.paths.control;
    if (configValue(control, "maintain.auto") !== "on") return;
    const after = Number(configValue(control, "maintain.auto-merge-after") ?? "100");
    const view = await pond.view();
    const due: { parentId: NodeId; nodeId: NodeId }[] = [];
    for (const s of series) {
      // From the series' summary (its files, not its versions: O(files) after an append):
      // the versions in their own payload, the newest not counted, as segmentsOf counts them.
      const summary = await view.seriesSummary(s.parentId, s.nodeId);
      const own = summary.files.filter((f) => !f.merged);
      const loose = own.length - (own[own.length - 1]?.version === summary.lastVersion ? 1 : 0);
      if (loose >= after) due.push(s);
    }
    if (due.length > 0) await mergeDue(pond, due);
    await archiveControlLog(pond);
  } catch (e) {
    logger.warn("automatic maintenance failed; the write stands (run `pond maintain merge` or `pond maintain cleanup` to retry)", {
      error: e instanceof Error ? e.message : String(e),
    });
  }
}

/** Merges the series that are due, as `pond maintain merge` would, within `maintain.auto-budget`. */
async function mergeDue(pond: Pond, due: { parentId: NodeId; nodeId: NodeId }[]): Promise<void> {
  const control = pond.paths.control;
  const started = Date.now();
  const step = await merge(pond, {
    nodes: due,
    targetBytes: parseSize("maintain.target-size", configValue(control, "maintain.target-size") ?? "128MiB"),
    maxInputFiles: Number(configValue(control, "maintain.max-input-files") ?? "1000"),
    deadline: started + parseDuration("maintain.auto-budget", configValue(control, "maintain.auto-budget") ?? "10s"),
    command: ["pond", "maintain", "merge", "(automatic)"],
  });
  logger.info("automatic merge", { files: step.files, bytes: step.bytes, ms: Date.now() - started });
}

/** Archives the control log's lines (control-rotate.ts) under the write lock when the live file is over its threshold. */
async function archiveControlLog(pond: Pond): Promise<void> {
  const threshold = parseSize("maintain.control-archive-after", configValue(pond.paths.control, "maintain.control-archive-after") ?? "1MiB");
  if ((statSync(pond.paths.controlLog, { throwIfNoEntry: false })?.size ?? 0) <= threshold) return;
  const r = await pond.withLock("pond maintain cleanup (automatic: the control log)", async () =>
    rotateControl(pond.paths.controlLog, { thresholdBytes: threshold }),
  );
  if (r.archived)
    logger.info("automatic control log archive", { file: r.archived.file, bytes: r.archived.to - r.archived.from, archiveBytes: r.archived.bytes });
  if (r.refused) logger.warn("the control log was not archived", { reason: r.refused });
}
