import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sha256Hex } from "@pond/tinyfs";
import { configDocCache } from "./config-cache.ts";
import { parseConfig } from "./config.ts";

const TEXT = "kind: hydrovu\nclient_id: ${env:ID}\nclient_secret: ${env:S}\ndestination: /hv\ndevices:\n  - {id: 7, name: lake}\n";
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "config-cache-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const file = () => join(dir, "collect-config-cache.json");
const key = (text: string) => sha256Hex(new TextEncoder().encode(text));

describe("configDocCache", () => {
  test("parseConfig() with a cache stores the parsed document by the text's hash, then reads it from there, still checking it", () => {
    const first = parseConfig(TEXT, "/etc/collect/a.yaml", configDocCache(dir));
    const stored = JSON.parse(readFileSync(file(), "utf8")) as { entries: Record<string, unknown> };
    expect(Object.keys(stored.entries)).toEqual([key(TEXT)]);
    expect(parseConfig(TEXT, "/etc/collect/a.yaml", configDocCache(dir))).toEqual(first);
    // What the cache holds is what is used (not the YAML again), and it is checked like a parsed document.
    stored.entries[key(TEXT)] = { kind: "hydrovu", client_id: "${env:ID}", client_secret: "${env:S}", destination: "/other", devices: [] };
    writeFileSync(file(), JSON.stringify(stored));
    expect(parseConfig(TEXT, "/etc/collect/a.yaml", configDocCache(dir))).toMatchObject({ destination: "/other" });
    stored.entries[key(TEXT)] = { kind: "hydrovu", oops: 1 };
    writeFileSync(file(), JSON.stringify(stored));
    expect(() => parseConfig(TEXT, "/etc/collect/a.yaml", configDocCache(dir))).toThrow(/oops/);
  });

  test("a document JSON cannot hold exactly is not cached; a damaged cache file is read as empty and rewritten", () => {
    const inf = TEXT + "request_timeout: .inf\n";
    expect(() => parseConfig(inf, "/f", configDocCache(dir))).toThrow(); // .inf is refused by the check…
    expect(existsSync(file())).toBe(false); // …and nothing was cached
    const cache = configDocCache(dir);
    cache.set(key("x"), { n: Number.POSITIVE_INFINITY });
    expect(existsSync(file())).toBe(false);
    writeFileSync(file(), "{ not json");
    expect(parseConfig(TEXT, "/f", configDocCache(dir))).toMatchObject({ destination: "/hv" });
    expect(Object.keys((JSON.parse(readFileSync(file(), "utf8")) as { entries: object }).entries)).toEqual([key(TEXT)]);
  });
});
