/**
 * The test kit every test uses, in packages and end to end: temp folders with inline
 * `{path: contents}` fixtures, a seeded random generator (printed, replayable), and the
 * sha256 of some bytes. One way to do each, so a failure reads the same everywhere.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { sha256Hex } from "@pond/tinyfs";

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

/** A generator of reproducible random values (mulberry32). */
export interface Random {
  readonly seed: number;
  /** A float in [0, 1). */
  next(): number;
  /** A whole number in [0, n). */
  int(n: number): number;
  /** One of `xs`. */
  pick<T>(xs: readonly T[]): T;
  /** `n` random bytes. */
  bytes(n: number): Uint8Array;
}

/** The variable that replays a random test: `POND_SEED=N bun test FILE -t NAME`. */
export const SEED_VARIABLE = "POND_SEED";

/**
 * A seeded generator for the random test `name`: the seed is $POND_SEED when set, else a
 * fresh one, and it is printed either way, so any failing run can be replayed exactly.
 */
export function seededRandom(name: string, env: Record<string, string | undefined> = process.env): Random {
  const given = env[SEED_VARIABLE];
  if (given !== undefined && !/^\d+$/.test(given)) throw new Error(`${SEED_VARIABLE}=${JSON.stringify(given)} is not a whole number`);
  const seed = given !== undefined ? Number(given) >>> 0 : Math.floor(Math.random() * 2 ** 31);
  console.log(`${name}: seed ${seed} (replay with ${SEED_VARIABLE}=${seed})`);
  return randomFrom(seed);
}

/** A generator from a fixed seed (no printing): the same seed gives the same values. */
export function randomFrom(seed: number): Random {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return {
    seed,
    next,
    int,
    pick: (xs) => xs[int(xs.length)]!,
    bytes(n) {
      const out = new Uint8Array(n);
      let i = 0;
      for (; i + 4 <= n; i += 4) {
        const v = (next() * 4294967296) >>> 0;
        out[i] = v & 0xff;
        out[i + 1] = (v >>> 8) & 0xff;
        out[i + 2] = (v >>> 16) & 0xff;
        out[i + 3] = v >>> 24;
      }
      for (; i < n; i++) out[i] = int(256);
      return out;
    },
  };
}

/** Lowercase hex sha256 of bytes or of a string's UTF-8 (the product's own `sha256Hex`). */
export function sha256(data: Uint8Array | string): string {
  return sha256Hex(typeof data === "string" ? new TextEncoder().encode(data) : data);
}
