/**
 * Where a series' reductions are: `pond reduce` writes `<out>/<name>/res=<dur>.series`
 * for every input series matched by a config's `in` glob (`/etc/reduce/NAME.yaml`). The
 * site reads only the `in` and `out` keys of those configs (the reduce command owns and
 * checks the rest), and `/etc/site.yaml` may name a series' reductions folder directly.
 */
import { basename, type WD } from "@pond/tinyfs";
import { parseYamlDoc } from "./site-config.ts";
import { SiteConfigError } from "./errors.ts";

export const REDUCE_CONFIG_DIR = "/etc/reduce";

/** One reduction series of a source series. */
export interface ReductionLevel {
  /** Pond path of the reduction series. */
  path: string;
  /** As written in the file name: "1h", "7d". */
  label: string;
  resolutionMs: number;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Milliseconds of a duration like `15m`, `1h`, `7d`; undefined when it is not one. */
export function parseDurationMs(text: string): number | undefined {
  const m = /^(\d+)(ms|s|min|m|h|d|w)$/.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  return n > 0 ? n * UNIT_MS[m[2]!]! : undefined;
}

/** The `in` glob and `out` folder of a reduction config (its other keys are the reduce command's). */
export function parseReduceInOut(text: string, file: string): { in: string; out: string } {
  const doc = parseYamlDoc(text, file);
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) throw new SiteConfigError(file, undefined, "expected a mapping with in: and out: keys");
  const rec = doc as Record<string, unknown>;
  for (const key of ["in", "out"] as const) {
    const v = rec[key];
    if (typeof v !== "string" || !v.startsWith("/")) {
      throw new SiteConfigError(file, key, `expected an absolute pond ${key === "in" ? "glob of series" : "folder"}, got ${JSON.stringify(v ?? null)}`);
    }
  }
  return { in: rec.in as string, out: (rec.out as string).replace(/\/+$/, "") || "/" };
}

/** Every reduction config's `in`/`out`, read from the pond. */
export async function readReduceConfigs(wd: WD): Promise<{ file: string; in: string; out: string }[]> {
  const dir = await wd.resolve(REDUCE_CONFIG_DIR, { followSymlinks: true });
  if (dir?.entryType !== "directory") return [];
  const out: { file: string; in: string; out: string }[] = [];
  for (const e of await wd.list(REDUCE_CONFIG_DIR)) {
    if (e.entryType !== "file:data" || !/\.ya?ml$/.test(e.name)) continue;
    const text = new TextDecoder().decode(await wd.readAll(e.path));
    out.push({ file: e.path, ...parseReduceInOut(text, e.path) });
  }
  return out;
}

/** The `res=<dur>.series` files in a reductions folder, finest first (none when the folder is missing). */
export async function levelsIn(wd: WD, folder: string): Promise<ReductionLevel[]> {
  const dir = await wd.resolve(folder, { followSymlinks: true });
  if (dir?.entryType !== "directory") return [];
  const levels: ReductionLevel[] = [];
  for (const e of await wd.list(folder)) {
    const m = /^res=(.+)\.series$/.exec(e.name);
    if (!m || e.entryType !== "file:series") continue;
    const ms = parseDurationMs(m[1]!);
    if (ms !== undefined) levels.push({ path: e.path, label: m[1]!, resolutionMs: ms });
  }
  return levels.sort((a, b) => a.resolutionMs - b.resolutionMs);
}

/** The folder `pond reduce` writes a series' reductions to, under a config's `out`. */
export function reductionFolder(out: string, seriesPath: string): string {
  return `${out === "/" ? "" : out}/${basename(seriesPath).replace(/\.series$/, "")}`;
}
