import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { cacheRoots, extractEmbedded, type EmbeddedFile } from "./embedded-duckdb.ts";

// The real files, as the compiled binary embeds them (there, paths are /$bunfs/…).
const pkgDir = dirname(Bun.resolveSync(`@duckdb/node-bindings-${process.platform}-${process.arch}/package.json`, import.meta.dir));
const files: EmbeddedFile[] = ["libduckdb.so", "duckdb.node"].map((name) => {
  const path = join(pkgDir, name);
  return { name, path, size: statSync(path).size };
});

describe("extractEmbedded", () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "pond-embedded-"));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  test("extracts once, then reuses; repairs a file of the wrong size", () => {
    const cache = join(root, "cache");
    const dir = extractEmbedded("duckdb-test", files, [cache]);
    expect(dir).toBe(join(cache, "duckdb-test"));
    expect(readdirSync(dir).sort()).toEqual(["duckdb.node", "libduckdb.so"]);
    for (const f of files) expect(statSync(join(dir, f.name)).size).toBe(f.size);
    const before = statSync(join(dir, "libduckdb.so")).ino;
    extractEmbedded("duckdb-test", files, [cache]);
    expect(statSync(join(dir, "libduckdb.so")).ino).toBe(before);
    truncateSync(join(dir, "libduckdb.so"), 10);
    extractEmbedded("duckdb-test", files, [cache]);
    expect(statSync(join(dir, "libduckdb.so")).size).toBe(files[0].size);
    expect(readdirSync(dir).sort()).toEqual(["duckdb.node", "libduckdb.so"]);
  });

  test("skips a cache root writable by others and uses the next one", () => {
    const open = join(root, "open");
    mkdirSync(open);
    chmodSync(open, 0o777);
    const next = join(root, "next");
    expect(extractEmbedded("duckdb-test", files, [open, next])).toBe(join(next, "duckdb-test"));
  });

  test("says what to do when no cache root works", () => {
    const file = join(root, "a-file");
    writeFileSync(file, "x");
    expect(() => extractEmbedded("duckdb-test", files, [file])).toThrow(/cannot extract DuckDB's native library.*XDG_CACHE_HOME or POND_CACHE_DIR/s);
  });

  test("cache roots: POND_CACHE_DIR, XDG_CACHE_HOME, ~/.cache, then the temp dir", () => {
    const roots = cacheRoots({ POND_CACHE_DIR: "/p", XDG_CACHE_HOME: "/x", HOME: "/h" });
    expect(roots.slice(0, 3)).toEqual(["/p", "/x/pond", "/h/.cache/pond"]);
    expect(roots[3]).toStartWith(tmpdir());
    expect(cacheRoots({ XDG_CACHE_HOME: "relative", HOME: "/h" })[0]).toBe("/h/.cache/pond");
  });

  test("the extracted addon loads with process.dlopen and finds libduckdb.so beside it ($ORIGIN)", () => {
    // In a child process, so this test process does not load a second copy of DuckDB.
    const cache = join(root, "load");
    const script = `
      const { loadEmbeddedDuckDB } = require(${JSON.stringify(join(import.meta.dir, "embedded-duckdb.ts"))});
      const b = loadEmbeddedDuckDB("duckdb-test", ${JSON.stringify(files)});
      const maps = require("node:fs").readFileSync("/proc/self/maps", "utf8");
      console.log(b.library_version(), maps.includes(${JSON.stringify(join(cache, "duckdb-test", "libduckdb.so"))}));
    `;
    const r = Bun.spawnSync([process.execPath, "-e", script], { env: { ...process.env, POND_CACHE_DIR: cache }, stderr: "pipe" });
    expect(r.stderr.toString()).toBe("");
    expect(r.stdout.toString().trim()).toMatch(/^v1\.\d+\.\d+ true$/);
  });
});
