/**
 * Reduction configs: `/etc/reduce/NAME.yaml` in the pond, checked when copied there (a bad
 * one is refused and nothing is stored) and again before each run, like collector configs.
 *
 *   in: /stations/*.series          # a pond path or glob of series
 *   out: /reduced                   # /reduced/<name>/res=<dur>.series for each input
 *   resolutions: [1h, 6h, 1d, 7d]   # whole numbers of s, m, h, d or w
 *   aggregations: [avg, min, max]   # every numeric column; or per column:
 *   # aggregations: {temp: [avg, max], rain: [sum]}
 *   lateness: 1d                    # optional, default 1d (see reduce.ts)
 *
 * Every error names the file, the key and what is allowed; unknown keys are refused.
 */
import { ReduceConfigError } from "./errors.ts";
import { parse as parseYaml, YAMLParseError } from "yaml";

/** Where reduction configs live; `pond reduce` without a name runs every one. */
export const REDUCE_CONFIG_DIR = "/etc/reduce";

export const AGGREGATIONS = ["avg", "min", "max", "count", "sum", "first", "last"] as const;
export type Aggregation = (typeof AGGREGATIONS)[number];

/** A bucket width, parsed once: `spelling` is how the config wrote it (the `res=` name). */
export interface Resolution {
  spelling: string;
  micros: bigint;
  /** DuckDB interval literal for time_bucket (days for d/w, so buckets are whole days from 2000-01-03, a Monday). */
  interval: string;
}

export interface ReduceConfig {
  /** The config's pond path; names it in every message. */
  file: string;
  in: string;
  out: string;
  resolutions: Resolution[];
  /** `all`: these aggregations of every numeric column; `columns`: per named column, in config order. */
  aggregations: { all: Aggregation[] } | { columns: [string, Aggregation[]][] };
  lateness: Resolution;
}

const KEYS = ["in", "out", "resolutions", "aggregations", "lateness"] as const;
const UNITS: Record<string, { micros: bigint; days?: number; name: string }> = {
  s: { micros: 1_000_000n, name: "SECOND" },
  m: { micros: 60_000_000n, name: "MINUTE" },
  h: { micros: 3_600_000_000n, name: "HOUR" },
  d: { micros: 86_400_000_000n, days: 1, name: "DAY" },
  w: { micros: 7n * 86_400_000_000n, days: 7, name: "DAY" },
};
const DURATION_HELP = "a whole number and a unit s, m, h, d or w, like 15m, 1h, 6h, 1d, 7d";

/** True when a pond path is one `pond reduce` reads as a config (so writing it must validate it). */
export function isReduceConfigPath(pondPath: string): boolean {
  return (
    pondPath.startsWith(REDUCE_CONFIG_DIR + "/") &&
    pondPath.length > REDUCE_CONFIG_DIR.length + 1 &&
    !pondPath.slice(REDUCE_CONFIG_DIR.length + 1).includes("/")
  );
}

/** Parses `1h`, `7d`… or returns undefined. */
export function parseResolution(s: string): Resolution | undefined {
  const m = /^([1-9][0-9]{0,6})([smhdw])$/.exec(s);
  if (!m) return undefined;
  const n = Number(m[1]);
  const u = UNITS[m[2]!]!;
  return { spelling: s, micros: BigInt(n) * u.micros, interval: u.days ? `INTERVAL ${n * u.days} DAY` : `INTERVAL ${n} ${u.name}` };
}

/** Parses and checks a reduction config; `file` (a pond path) names it in every error. */
export function parseReduceConfig(text: string, file: string): ReduceConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    if (e instanceof YAMLParseError) throw new ReduceConfigError(file, undefined, `not valid YAML: ${e.message.split("\n")[0]}`);
    throw e;
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new ReduceConfigError(file, undefined, `expected a YAML mapping with the keys ${KEYS.join(", ")}`);
  }
  const rec = doc as Record<string, unknown>;
  for (const k of Object.keys(rec)) {
    if (!(KEYS as readonly string[]).includes(k)) throw new ReduceConfigError(file, k, `unknown key; allowed: ${KEYS.join(", ")}`);
  }
  const required = (k: string, what: string) => {
    if (rec[k] === undefined || rec[k] === null) throw new ReduceConfigError(file, k, `missing; it is required (${what})`);
    return rec[k];
  };
  const inPattern = required("in", "a pond path or glob of series, like /stations/*.series");
  if (typeof inPattern !== "string" || !inPattern.startsWith("/"))
    throw new ReduceConfigError(file, "in", `expected an absolute pond path or glob like /stations/*.series, got ${show(inPattern)}`);
  const out = required("out", "a pond folder, like /reduced");
  if (typeof out !== "string" || !out.startsWith("/") || /[*?[\]{}]/.test(out))
    throw new ReduceConfigError(file, "out", `expected an absolute pond folder like /reduced (no glob), got ${show(out)}`);

  const rawRes = required("resolutions", `a list of durations, ${DURATION_HELP}`);
  if (!Array.isArray(rawRes) || rawRes.length === 0)
    throw new ReduceConfigError(file, "resolutions", `expected a non-empty list of durations (${DURATION_HELP}), got ${show(rawRes)}`);
  const resolutions: Resolution[] = [];
  rawRes.forEach((r, i) => {
    const res = typeof r === "string" ? parseResolution(r) : undefined;
    if (!res) throw new ReduceConfigError(file, `resolutions[${i}]`, `expected ${DURATION_HELP}, got ${show(r)}`);
    const same = resolutions.find((x) => x.micros === res.micros);
    if (same) throw new ReduceConfigError(file, `resolutions[${i}]`, `${r} is the same width as ${same.spelling}; list each width once`);
    resolutions.push(res);
  });

  const aggregations = parseAggregations(file, required("aggregations", `a list of ${AGGREGATIONS.join(", ")}, or a mapping column: [list]`));

  let lateness = parseResolution("1d")!;
  if (rec.lateness !== undefined && rec.lateness !== null) {
    const l = typeof rec.lateness === "string" ? parseResolution(rec.lateness) : undefined;
    if (!l) throw new ReduceConfigError(file, "lateness", `expected ${DURATION_HELP}, got ${show(rec.lateness)}`);
    lateness = l;
  }
  return { file, in: inPattern, out: out.replace(/\/+$/, "") || "/", resolutions, aggregations, lateness };
}

function parseAggregations(file: string, v: unknown): ReduceConfig["aggregations"] {
  if (Array.isArray(v)) return { all: aggList(file, "aggregations", v) };
  if (typeof v === "object" && v !== null) {
    const entries = Object.entries(v as Record<string, unknown>);
    if (entries.length === 0) throw new ReduceConfigError(file, "aggregations", "expected at least one column");
    return { columns: entries.map(([col, list]) => [col, aggList(file, `aggregations.${col}`, list)]) };
  }
  throw new ReduceConfigError(file, "aggregations", `expected a list of ${AGGREGATIONS.join(", ")}, or a mapping column: [list], got ${show(v)}`);
}

function aggList(file: string, key: string, v: unknown): Aggregation[] {
  if (!Array.isArray(v) || v.length === 0) throw new ReduceConfigError(file, key, `expected a non-empty list of ${AGGREGATIONS.join(", ")}, got ${show(v)}`);
  const out: Aggregation[] = [];
  v.forEach((a, i) => {
    if (typeof a !== "string" || !(AGGREGATIONS as readonly string[]).includes(a))
      throw new ReduceConfigError(file, `${key}[${i}]`, `expected one of ${AGGREGATIONS.join(", ")}, got ${show(a)}`);
    if (out.includes(a as Aggregation)) throw new ReduceConfigError(file, `${key}[${i}]`, `${a} is listed twice`);
    out.push(a as Aggregation);
  });
  return out;
}

function show(v: unknown): string {
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object" && v !== null) return "a mapping";
  return JSON.stringify(v);
}
