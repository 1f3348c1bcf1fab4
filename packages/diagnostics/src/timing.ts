import { logger as defaultLogger, type Logger } from "./log.ts";

/**
 * Times `fn` and logs `event` at debug level with its duration in ms.
 * Returns what `fn` returns; errors pass through untouched.
 */
export async function timed<T>(event: string, fn: () => Promise<T>, log: Logger = defaultLogger): Promise<T> {
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    if (log.enabled("debug")) log.debug(event, { ms: Math.round((performance.now() - t0) * 10) / 10 });
  }
}

/** A started span; `end()` logs it once (with `at`, ms since the process started) and returns the elapsed ms. */
export function span(event: string, log: Logger = defaultLogger): { end(fields?: Record<string, unknown>): number } {
  const t0 = performance.now();
  let done = false;
  return {
    end(fields = {}) {
      const ms = performance.now() - t0;
      if (!done && log.enabled("debug")) log.debug(event, { ms: Math.round(ms * 10) / 10, at: Math.round(performance.now()), ...fields });
      done = true;
      return ms;
    },
  };
}
