/**
 * `/etc/site.yaml`: what `pond site build` shows. Every key is optional; without the file
 * the site shows every series of the pond (except reduction outputs) with every numeric
 * column.
 *
 *   title: Lake station                # the index page's heading
 *   units: { temp: "°C" }             # units by column name, for every series
 *   groups: [Lake, River]              # order of the groups on the index page
 *   series:                            # which series, in this order (default: all)
 *     - path: /st/lake.series          # a pond path or glob of series
 *       title: Lake buoy               # default: the path
 *       group: Lake                    # a heading on the index page
 *       columns: [temp, do]            # default: every numeric column
 *       units: { do: "mg/L" }          # overrides the top-level units
 *       reductions: /reduced/lake      # a folder of res=<dur>.series (default: found
 *                                      # through /etc/reduce/*.yaml)
 *
 * Checked when copied into the pond and again when used; each error names the file, the
 * key and what is allowed, and an unknown key (a typo) is refused, not ignored.
 */
import { YAMLParseError, parse as parseYaml } from "yaml";
import { SiteConfigError } from "./errors.ts";

/** Where the site's config lives in a pond. */
export const SITE_CONFIG_PATH = "/etc/site.yaml";

export interface SiteSeriesConfig {
  path: string;
  title?: string;
  group?: string;
  columns?: string[];
  units?: Record<string, string>;
  reductions?: string;
}

export interface SiteConfig {
  file: string;
  title?: string;
  units: Record<string, string>;
  groups: string[];
  /** Undefined: every series in the pond. */
  series?: SiteSeriesConfig[];
}

const TOP_KEYS = ["title", "units", "groups", "series"] as const;
const SERIES_KEYS = ["path", "title", "group", "columns", "units", "reductions"] as const;

/** A YAML document (the one place the site reads YAML); a syntax error names `file`. */
export function parseYamlDoc(text: string, file: string): unknown {
  try {
    return parseYaml(text);
  } catch (e) {
    if (e instanceof YAMLParseError) throw new SiteConfigError(file, undefined, `not valid YAML: ${e.message.split("\n")[0]}`);
    throw e;
  }
}

/** Parses and checks a site config; `file` (a pond path) names it in every error. */
export function parseSiteConfig(text: string, file: string = SITE_CONFIG_PATH): SiteConfig {
  const doc = parseYamlDoc(text, file);
  if (doc === null || doc === undefined) return { file, units: {}, groups: [] };
  const top = mapping(file, undefined, doc, TOP_KEYS);
  const cfg: SiteConfig = {
    file,
    title: optString(file, "title", top.title),
    units: unitsMap(file, "units", top.units),
    groups: optStringList(file, "groups", top.groups) ?? [],
  };
  if (top.series !== undefined && top.series !== null) {
    if (!Array.isArray(top.series))
      throw new SiteConfigError(file, "series", `expected a list of mappings (keys ${SERIES_KEYS.join(", ")}), got ${kindOf(top.series)}`);
    cfg.series = top.series.map((item, i) => {
      const key = `series[${i}]`;
      const s = mapping(file, key, item, SERIES_KEYS);
      const path = optString(file, `${key}.path`, s.path);
      if (path === undefined) throw new SiteConfigError(file, `${key}.path`, "missing; it is required (a pond path or glob of series, e.g. /st/*.series)");
      if (!path.startsWith("/")) throw new SiteConfigError(file, `${key}.path`, `${JSON.stringify(path)} is not an absolute pond path (start it with /)`);
      const reductions = optString(file, `${key}.reductions`, s.reductions);
      if (reductions !== undefined && !reductions.startsWith("/")) {
        throw new SiteConfigError(file, `${key}.reductions`, `${JSON.stringify(reductions)} is not an absolute pond folder (start it with /)`);
      }
      const group = optString(file, `${key}.group`, s.group);
      if (group !== undefined && cfg.groups.length > 0 && !cfg.groups.includes(group)) {
        throw new SiteConfigError(file, `${key}.group`, `${JSON.stringify(group)} is not one of groups: ${cfg.groups.join(", ")}`);
      }
      return {
        path,
        title: optString(file, `${key}.title`, s.title),
        group,
        columns: optStringList(file, `${key}.columns`, s.columns),
        units: unitsMap(file, `${key}.units`, s.units),
        reductions,
      };
    });
  }
  return cfg;
}

function kindOf(v: unknown): string {
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object" && v !== null) return "a mapping";
  return JSON.stringify(v);
}

function mapping(file: string, key: string | undefined, v: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new SiteConfigError(file, key, `expected a mapping with keys ${allowed.join(", ")}, got ${kindOf(v)}`);
  }
  const rec = v as Record<string, unknown>;
  for (const k of Object.keys(rec)) {
    if (!allowed.includes(k)) throw new SiteConfigError(file, key ? `${key}.${k}` : k, `unknown key; allowed here: ${allowed.join(", ")}`);
  }
  return rec;
}

function optString(file: string, key: string, v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string" || v === "") throw new SiteConfigError(file, key, `expected a non-empty string, got ${kindOf(v)}`);
  return v;
}

function optStringList(file: string, key: string, v: unknown): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.length === 0 || v.some((x) => typeof x !== "string" || x === "")) {
    throw new SiteConfigError(file, key, `expected a non-empty list of names, e.g. [temp, do], got ${kindOf(v)}`);
  }
  return v as string[];
}

function unitsMap(file: string, key: string, v: unknown): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (typeof v !== "object" || Array.isArray(v))
    throw new SiteConfigError(file, key, `expected a mapping of column to unit, e.g. { temp: "°C" }, got ${kindOf(v)}`);
  const out: Record<string, string> = {};
  for (const [k, u] of Object.entries(v as Record<string, unknown>)) {
    if (typeof u !== "string") throw new SiteConfigError(file, `${key}.${k}`, `expected a unit as text, e.g. "°C", got ${kindOf(u)}`);
    out[k] = u;
  }
  return out;
}
