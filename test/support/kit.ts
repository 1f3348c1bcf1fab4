/**
 * The test kit every test uses, in packages and end to end: temp folders with inline
 * `{path: contents}` fixtures, the seeded random generator (printed, replayable; it lives
 * in tinyfs/src/random.ts so the persistence contract shares it), and the sha256 of some
 * bytes. One way to do each, so a failure reads the same everywhere.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { sha256Hex } from "@pond/tinyfs";

export { SEED_VARIABLE, randomBytes, randomFrom, seededRandom, type Random } from "@pond/tinyfs/testing";

export interface TempFolder {
  /** The folder's absolute path. */
  dir: string;
  /** An absolute path inside the folder. */
  path(...parts: string[]): string;
  /** Removes the folder and everything in it. */
  cleanup(): void;
  [Symbol.dispose](): void;
}

/**
 * A fresh temp folder holding `files`: `{ "a/b.csv": "x,y\n1,2\n", "raw": bytes }`, parents made.
 * `using t = tempFolder({...})` removes it at the end of the scope; or call `cleanup()`.
 */
export function tempFolder(files: Record<string, string | Uint8Array> = {}, prefix = "pond-test-"): TempFolder {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  for (const [rel, contents] of Object.entries(files)) {
    const p = join(dir, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, contents);
  }
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  return { dir, path: (...parts) => join(dir, ...parts), cleanup, [Symbol.dispose]: cleanup };
}

/** Lowercase hex sha256 of bytes or of a string's UTF-8 (the product's own `sha256Hex`). */
export function sha256(data: Uint8Array | string): string {
  return sha256Hex(typeof data === "string" ? new TextEncoder().encode(data) : data);
}
