// Loads DuckDB's native addon in the compiled `bin/pond`, where there is no node_modules.
//
// packages/cmd/build.ts replaces the module `@duckdb/node-bindings` with a small generated
// module that imports `duckdb.node` and `libduckdb.so` as file assets (so they are
// embedded in the binary) and calls `loadEmbeddedDuckDB` with their paths. This runs only
// when `@duckdb/node-api` is first imported, i.e. on the first SQL query.
//
// The files are extracted once to a cache folder named after the DuckDB version and a
// hash of both files, then `process.dlopen`ed from there. `duckdb.node` has
// RUNPATH=$ORIGIN and needs `libduckdb.so`, so both live in the same folder.
//
// Extraction is safe when several processes start at once: each writes to its own temp
// name in the target folder and renames it into place (atomic on one filesystem; the
// last rename wins with identical bytes, and a process that already dlopen'ed a file
// keeps its own inode). A file that is already there with the expected size is reused.
import { chmodSync, closeSync, copyFileSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBUnavailableError } from "../errors.ts";

export interface EmbeddedFile {
  /** File name in the cache folder, e.g. "libduckdb.so". */
  name: string;
  /** Path of the embedded asset (`/$bunfs/…` in a compiled binary). */
  path: string;
  /** Expected size in bytes (known at build time). */
  size: number;
}

/** Candidate cache roots, best first: $XDG_CACHE_HOME/pond, ~/.cache/pond, then $TMPDIR/pond-<uid>. */
export function cacheRoots(env: Record<string, string | undefined> = process.env): string[] {
  const roots: string[] = [];
  if (env.POND_CACHE_DIR) roots.push(env.POND_CACHE_DIR);
  if (env.XDG_CACHE_HOME?.startsWith("/")) roots.push(join(env.XDG_CACHE_HOME, "pond"));
  const home = env.HOME || safeHomedir();
  if (home) roots.push(join(home, ".cache", "pond"));
  roots.push(join(tmpdir(), `pond-${process.getuid?.() ?? "user"}`));
  return roots;
}

function safeHomedir(): string | undefined {
  try {
    return homedir() || undefined;
  } catch {
    return undefined;
  }
}

/** True if `dir` is a real directory owned by us and not writable by others. */
function trustworthy(dir: string): boolean {
  const st = lstatSync(dir);
  if (!st.isDirectory()) return false;
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) return false;
  return (st.mode & 0o022) === 0;
}

/** The file's size, or -1 when there is none yet; any other stat failure is the caller's to report. */
function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException)?.code === "ENOENT") return -1;
    throw e;
  }
}

function extractOne(file: EmbeddedFile, dir: string): void {
  const target = join(dir, file.name);
  if (sizeOf(target) === file.size) return;
  const tmp = join(dir, `.${file.name}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  try {
    try {
      copyFileSync(file.path, tmp);
    } catch {
      // Fallback if the embedded path cannot be copied directly.
      const bytes = readFileSync(file.path);
      const fd = openSync(tmp, "w", 0o755);
      try {
        let off = 0;
        while (off < bytes.length) off += writeSync(fd, bytes, off);
      } finally {
        closeSync(fd);
      }
    }
    chmodSync(tmp, 0o755);
    const got = sizeOf(tmp);
    if (got !== file.size) throw new Error(`wrote ${got} bytes, expected ${file.size}`);
    renameSync(tmp, target);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** Extracts `files` into `<cache root>/<dirName>/` (first root that works) and returns that folder. */
export function extractEmbedded(dirName: string, files: EmbeddedFile[], roots: string[] = cacheRoots()): string {
  const problems: string[] = [];
  for (const root of roots) {
    const dir = join(root, dirName);
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      // Both levels: whoever controls the folder controls the code we are about to load.
      for (const d of [root, dir]) if (!trustworthy(d)) throw new Error(`${d} is not a directory owned by this user, or is writable by others`);
      for (const f of files) extractOne(f, dir);
      return dir;
    } catch (e) {
      problems.push(`${dir}: ${(e as Error).message}`);
    }
  }
  throw new DuckDBUnavailableError(
    `cannot extract DuckDB's native library to a cache folder (set XDG_CACHE_HOME or POND_CACHE_DIR to a writable folder):\n  ${problems.join("\n  ")}`,
    "Set POND_CACHE_DIR (or XDG_CACHE_HOME) to a folder of yours that others cannot write, on a file system that allows executables.",
  );
}

/**
 * Extracts the embedded DuckDB files and loads the addon. `files` must include
 * "duckdb.node" (loaded) and the libraries it links against (e.g. "libduckdb.so").
 * Returns the addon's exports: what `@duckdb/node-bindings` exports.
 */
export function loadEmbeddedDuckDB(dirName: string, files: EmbeddedFile[]): unknown {
  const dir = extractEmbedded(dirName, files);
  const addon = join(dir, "duckdb.node");
  const mod = { exports: {} as unknown };
  try {
    process.dlopen(mod, addon);
  } catch (e) {
    const msg = (e as Error).message;
    const hint = /noexec|map segment|Operation not permitted/i.test(msg)
      ? " (the cache folder may be on a noexec filesystem: set XDG_CACHE_HOME or POND_CACHE_DIR elsewhere)"
      : /GLIBC|GLIBCXX|CXXABI|not found/i.test(msg)
        ? " (DuckDB needs glibc >= 2.25 and libstdc++.so.6 from GCC >= 6; musl is not supported by this build)"
        : "";
    throw new DuckDBUnavailableError(
      `cannot load DuckDB from ${addon}: ${msg}${hint}`,
      "Set POND_CACHE_DIR to a folder on a file system that allows executables, on a glibc Linux.",
      e,
    );
  }
  return mod.exports;
}
