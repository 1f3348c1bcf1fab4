import type * as Yaml from "yaml";
import type { ConfigDocCache } from "./config-cache.ts";
import { checkObject, type Schema } from "./config-schema.ts";
import { CollectConfigError } from "./errors.ts";
import { HYDROVU_SCHEMA, type HydroVuConfig } from "./hydrovu-config.ts";
import { INBOX_SCHEMA, type InboxConfig } from "./inbox-config.ts";

/** Where collector configs live in a pond; `pond collect` without a path runs every one. */
export const CONFIG_DIR = "/etc/collect";

export type CollectorConfig = HydroVuConfig | InboxConfig;

const KINDS: Record<string, Schema> = { hydrovu: HYDROVU_SCHEMA, inbox: INBOX_SCHEMA };

/** True when a pond path is one `pond collect` reads as a config (so writing it must validate it). */
export function isConfigPath(pondPath: string): boolean {
  return pondPath.startsWith(CONFIG_DIR + "/") && pondPath.length > CONFIG_DIR.length + 1;
}

let yamlModule: typeof Yaml | undefined;
function yaml(): typeof Yaml {
  // Loaded on first use: a run whose configs are in the cache (config-cache.ts) never needs it.
  yamlModule ??= require("yaml") as typeof Yaml;
  return yamlModule;
}

/**
 * Parses and checks a collector config. `file` names it in every error (a pond path).
 * Secrets are checked to be references here; they are resolved only when the run starts.
 * With `cache`, a text parsed before is not parsed again (the document is still checked).
 */
export function parseConfig(text: string, file: string, cache?: ConfigDocCache): CollectorConfig {
  let doc: unknown;
  const cached = cache?.get(text);
  if (cached?.hit) doc = cached.doc;
  else {
    const { parse, YAMLParseError } = yaml();
    try {
      doc = parse(text);
    } catch (e) {
      if (e instanceof YAMLParseError) throw new CollectConfigError(file, undefined, `not valid YAML: ${e.message.split("\n")[0]}`);
      throw e;
    }
  }
  const parsed = cached && !cached.hit ? structuredClone(doc) : undefined; // as parsed, whatever the check does
  const config = checkConfig(doc, file);
  if (cached && !cached.hit) cache!.set(cached.key, parsed);
  return config;
}

function checkConfig(doc: unknown, file: string): CollectorConfig {
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new CollectConfigError(
      file,
      undefined,
      "expected a YAML mapping with a kind: key",
      `Start the file with kind: (${Object.keys(KINDS).join(" or ")}).`,
    );
  }
  const kind = (doc as Record<string, unknown>).kind;
  if (kind === undefined) throw new CollectConfigError(file, "kind", `missing; it is required (one of ${Object.keys(KINDS).join(", ")})`);
  const schema = typeof kind === "string" ? KINDS[kind] : undefined;
  if (!schema) throw new CollectConfigError(file, "kind", `${JSON.stringify(kind)} is not a collector; allowed: ${Object.keys(KINDS).join(", ")}`);
  const rec = checkObject(file, doc, schema);
  if (kind === "inbox") {
    if ((rec.profile === undefined) === (rec.sql === undefined)) throw new CollectConfigError(file, "profile", "give exactly one of profile: and sql:");
  }
  return { ...(rec as object), file } as CollectorConfig;
}
