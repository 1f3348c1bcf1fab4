import { join } from "node:path";
import { sizeBytes } from "../units.ts";
import { readJsonControlFile, writeFileDurable } from "@pond/oplog";
import { BadMaintenanceOptionError, UnknownConfigKeyError } from "../errors.ts";
import { parseDuration } from "./expiry.ts";

/**
 * Pond-wide settings in `control/config.json`: they describe this copy of the pond (how
 * it is maintained), not its data, so they do not travel with backups. Every key is
 * declared here with its validation; `pond config set` refuses anything else.
 */
export interface ConfigKey {
  key: string;
  describe: string;
  /** The default shown by `pond config`; undefined: unset unless given. */
  default?: string;
  /** Throws a usage error naming the key when `value` is not valid. */
  check(value: string): void;
}

const duration = (key: string) => (v: string) => void parseDuration(key, v);

export const CONFIG_KEYS: readonly ConfigKey[] = [
  {
    key: "maintain.retention",
    describe: "Default of cleanup's --retention: how long an unneeded file is kept",
    default: "7d",
    check: duration("maintain.retention"),
  },
  { key: "maintain.older-than", describe: "Default of expire's and full's --older-than", check: duration("maintain.older-than") },
  {
    key: "maintain.keep-last",
    describe: "Default of expire's and full's --keep-last",
    check: (v) => {
      if (!/^[1-9]\d*$/.test(v)) throw new BadMaintenanceOptionError("maintain.keep-last", v, "a whole number of at least 1");
    },
  },
  {
    key: "maintain.target-size",
    describe: "Default of merge's --target-size: the largest merged file, in bytes of the versions it holds",
    default: "128MiB",
    check: (v) => void parseSize("maintain.target-size", v),
  },
  {
    key: "maintain.max-input-files",
    describe: "Default of merge's --max-input-files: files one merge reads at most",
    default: "1000",
    check: wholeNumber("maintain.max-input-files", 2),
  },
  {
    key: "maintain.auto",
    describe: "After a write that appends to a series, merge its small files when maintain.auto-merge-after of them wait (on|off)",
    default: "on",
    check: (v) => {
      if (v !== "on" && v !== "off") throw new BadMaintenanceOptionError("maintain.auto", v, "on or off");
    },
  },
  {
    key: "maintain.auto-merge-after",
    describe: "Automatic maintenance merges a series once this many of its versions are not merged",
    default: "100",
    check: wholeNumber("maintain.auto-merge-after", 2),
  },
  {
    key: "maintain.auto-budget",
    describe: "Automatic maintenance starts no new merge after this much time (the write it follows is already committed)",
    default: "10s",
    check: duration("maintain.auto-budget"),
  },
  {
    key: "maintain.control-archive-after",
    describe:
      "Cleanup moves the control log's lines (control/transactions.jsonl, what `pond log` shows) into a compressed archive in control/transactions/ once the file is larger than this",
    default: "1MiB",
    check: (v) => void parseSize("maintain.control-archive-after", v),
  },
];

function wholeNumber(key: string, min: number): (v: string) => void {
  return (v) => {
    if (!/^\d+$/.test(v) || Number(v) < min) throw new BadMaintenanceOptionError(key, v, `a whole number of at least ${min}`);
  };
}

/** Parses a size like `128MiB`, `64MB`, `1g`, `500000` into bytes. */
export function parseSize(what: string, text: string): number {
  const bytes = sizeBytes(text);
  if (bytes === undefined) throw new BadMaintenanceOptionError(what, text, "a size like 128MiB, 64MB, 1GiB or a number of bytes");
  return bytes;
}

export function configPath(controlDir: string): string {
  return join(controlDir, "config.json");
}

/** The values set in this pond (keys not set are absent). A damaged file is ControlFileError naming it and the fix. */
export function readConfig(controlDir: string): Record<string, string> {
  const values = readJsonControlFile<Record<string, string>>(
    configPath(controlDir),
    'Fix the JSON by hand (an object of setting names to string values, e.g. {"maintain.retention": "7d"}), or remove the file and set the settings again with `pond config set KEY VALUE`.',
    (v) =>
      typeof v === "object" && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === "string")
        ? undefined
        : "it must be an object whose values are strings",
  );
  return values ?? {};
}

/** A key's value: set, else its default, else undefined. */
export function configValue(controlDir: string, key: string): string | undefined {
  return readConfig(controlDir)[key] ?? CONFIG_KEYS.find((k) => k.key === key)?.default;
}

/** Validates and stores one key. An unknown key or a bad value is a usage error; the file is then unchanged. */
export function setConfig(controlDir: string, key: string, value: string): void {
  const decl = CONFIG_KEYS.find((k) => k.key === key);
  if (!decl)
    throw new UnknownConfigKeyError(
      key,
      CONFIG_KEYS.map((k) => k.key),
    );
  decl.check(value);
  const next = { ...readConfig(controlDir), [key]: value };
  writeFileDurable(configPath(controlDir), JSON.stringify(next, null, 2) + "\n");
}
