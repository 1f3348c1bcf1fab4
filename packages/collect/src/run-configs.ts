import { PondError } from "@pond/diagnostics";
import { WD, configFilesIn } from "@pond/tinyfs";
import { emptySummary, type CollectContext, type CollectSummary } from "./collect-run.ts";
import { CONFIG_DIR, parseConfig, type CollectorConfig } from "./config.ts";
import { configDocCache, type ConfigDocCache } from "./config-cache.ts";
import { runHydroVu } from "./hydrovu.ts";
import { runInbox } from "./inbox.ts";

/** The config files `pond collect` runs: one named path, or every file under /etc/collect/ (sorted). */
export async function configPaths(wd: WD, path?: string): Promise<string[]> {
  if (path !== undefined) {
    await wd.stat(path); // NotFoundError names it
    return [path];
  }
  return configFilesIn(wd, CONFIG_DIR);
}

/** Reads and checks one config from the pond (with `cache`, not parsing a text parsed before). */
export async function readConfig(wd: WD, path: string, cache?: ConfigDocCache): Promise<CollectorConfig> {
  const text = new TextDecoder().decode(await wd.readAll(path));
  return parseConfig(text, path, cache);
}

/**
 * Runs each config in its own transaction; one failing does not stop the others. A
 * PondError becomes a failed summary (its message names the file and cause); any other
 * error is a bug and propagates.
 */
export async function runConfigs(paths: string[], ctx: CollectContext): Promise<CollectSummary[]> {
  const out: CollectSummary[] = [];
  // A dry run writes nothing, also not the cache.
  const cache = ctx.dryRun ? undefined : configDocCache(ctx.pond.paths.control);
  for (const path of paths) {
    let kind = "?";
    try {
      const cfg = await readConfig(new WD(await ctx.pond.view()), path, cache);
      kind = cfg.kind;
      out.push(await runConfig(cfg, ctx));
    } catch (e) {
      if (!(e instanceof PondError)) throw e;
      out.push({
        ...emptySummary(path, kind),
        ok: false,
        error: e.message + (e.hint ? ` (${e.hint})` : ""),
        requests: (e.data.requests as number | undefined) ?? 0,
      });
    }
  }
  return out;
}

export async function runConfig(cfg: CollectorConfig, ctx: CollectContext): Promise<CollectSummary> {
  switch (cfg.kind) {
    case "hydrovu":
      return runHydroVu(cfg, ctx);
    case "inbox":
      return runInbox(cfg, ctx);
  }
}
