/**
 * Bounded concurrency for IO-bound work (log reads, object transfers): the one place
 * Pond limits how many promises run at once, with one failure rule.
 *
 * The failure rule: after the first failure no new work starts; the work already in
 * flight is waited for; then the first error is thrown. So when `mapLimit` returns or
 * throws, nothing it started is still running (no read or write continues behind a
 * caller that has moved on, e.g. to remove a staging folder).
 */

/** Runs `fn` over `items`, at most `limit` at a time, results in input order (see the failure rule above). */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  if (!(limit >= 1)) throw new RangeError(`BUG: mapLimit limit must be at least 1, not ${limit}`);
  const out = new Array<R>(items.length);
  let next = 0;
  let firstError: { e: unknown } | undefined;
  const worker = async () => {
    while (next < items.length && !firstError) {
      const i = next++;
      try {
        out[i] = await fn(items[i]!, i);
      } catch (e) {
        firstError ??= { e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (firstError) throw firstError.e;
  return out;
}

/**
 * At most `n` calls of the returned function's argument run at once; the rest wait their
 * turn, first come first served. A call's failure is its own: it frees its slot and the
 * others go on.
 */
export function limiter(n: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (fn) => {
    if (active >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}
