import { PondError } from "@pond/diagnostics";
import type { CollectContext, CollectSummary } from "./collect-run.ts";
import type { InboxConfig } from "./inbox-config.ts";

/** `kind: inbox` runs are not built yet: the config is accepted and checked, a run says so. */
export async function runInbox(cfg: InboxConfig, _ctx: CollectContext): Promise<CollectSummary> {
  throw new PondError("not_implemented", `Collector "${cfg.file}": kind: inbox cannot run yet in this version`, {
    hint: "Import the files with `pond copy host+series+csv:///… DEST` meanwhile.",
  });
}
