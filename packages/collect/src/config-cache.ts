/**
 * Parsed collector configs, kept beside the pond's control files and keyed by the sha256
 * of the config's text, so a run whose configs did not change reads JSON instead of
 * parsing YAML. The `yaml` package's first parse in a fresh process costs 9-55 ms on
 * this machine (its code runs before the JIT has compiled it), about a fifth of a run
 * that finds nothing new; reading this file well under 1 ms.
 *
 * Only the YAML document is cached, never the checked config: every run still checks it
 * (unknown keys, types, secret references), so what a run accepts is exactly what a run
 * without the cache accepts. A document JSON cannot hold exactly (`.inf`, `.nan`) is
 * never cached. The file is a cache: a damaged one is read as empty and rewritten.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isSystemError } from "@pond/diagnostics";
import { replaceCacheFile } from "@pond/oplog";
import { sha256Hex } from "@pond/tinyfs";

/** Documents by the sha256 of their text. */
export interface ConfigDocCache {
  get(text: string): { hit: true; doc: unknown } | { hit: false; key: string };
  set(key: string, doc: unknown): void;
}

/** Entries kept: far more than a pond's configs; the oldest go first. */
const MAX_ENTRIES = 64;

/** The cache file of a pond whose control folder is `controlDir`. */
export function configDocCache(controlDir: string): ConfigDocCache {
  const path = join(controlDir, "collect-config-cache.json");
  let entries: Record<string, unknown> | undefined;
  const load = (): Record<string, unknown> => {
    if (entries) return entries;
    entries = {};
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (e) {
      if (isSystemError(e, "ENOENT")) return entries;
      throw e;
    }
    try {
      const v = JSON.parse(text) as { entries?: unknown };
      if (v && typeof v.entries === "object" && v.entries !== null && !Array.isArray(v.entries)) entries = v.entries as Record<string, unknown>;
    } catch (e) {
      if (!(e instanceof SyntaxError)) throw e; // a damaged cache is rebuilt
    }
    return entries;
  };
  return {
    get(text) {
      const key = sha256Hex(new TextEncoder().encode(text));
      const all = load();
      return Object.hasOwn(all, key) ? { hit: true, doc: structuredClone(all[key]) } : { hit: false, key };
    },
    set(key, doc) {
      if (!exactInJson(doc)) return;
      const all = load();
      delete all[key];
      all[key] = doc;
      const keys = Object.keys(all);
      for (const k of keys.slice(0, Math.max(0, keys.length - MAX_ENTRIES))) delete all[k];
      replaceCacheFile(path, JSON.stringify({ entries: all }));
    },
  };
}

/** True when JSON holds `v` exactly: strings, finite numbers, booleans, null, arrays and plain objects of those. */
function exactInJson(v: unknown): boolean {
  if (v === null || typeof v === "string" || typeof v === "boolean") return true;
  if (typeof v === "number") return Number.isFinite(v) && !Object.is(v, -0);
  if (Array.isArray(v)) return v.every(exactInJson);
  if (typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) return Object.values(v as object).every(exactInJson);
  return false;
}
