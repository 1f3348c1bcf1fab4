/**
 * The seeded random generator of every random test and fixture (one implementation):
 * `seededRandom(name)` prints its seed and takes $POND_SEED back, `randomFrom(seed)` and
 * `randomBytes(n, seed)` give the same values for the same seed.
 */
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

/** `n` bytes determined by `seed` (the same seed, the same bytes). */
export function randomBytes(n: number, seed: number): Uint8Array {
  return randomFrom(seed).bytes(n);
}
