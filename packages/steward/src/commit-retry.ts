/**
 * How a write retries when another writer committed first: exponential backoff with full
 * jitter (AWS's "full jitter": sleep a uniform random time in [0, min(max, base·2^(n-1))]),
 * so writers that collided once do not collide again in lockstep.
 */
import { BadSettingError } from "./errors.ts";

export interface RetryPolicy {
  /** Attempts in all, the first included (≥ 1). */
  attempts: number;
  /** The first backoff's upper bound, ms. */
  baseMs: number;
  /** No backoff is longer than this, ms. */
  maxMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseMs: 25, maxMs: 2000 };

/** The backoff before attempt `attempt + 1`, after `attempt` attempts failed (attempt ≥ 1). */
export function backoffMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const cap = Math.min(policy.maxMs, policy.baseMs * 2 ** (attempt - 1));
  return Math.floor(random() * cap);
}

/**
 * The policy from the environment: POND_COMMIT_ATTEMPTS, POND_COMMIT_BACKOFF_MS (base)
 * and POND_COMMIT_BACKOFF_MAX_MS override the defaults; a value that is not a whole
 * number in range is a usage error naming the variable.
 */
export function retryPolicyFromEnv(env: Record<string, string | undefined> = process.env): RetryPolicy {
  const read = (name: string, dflt: number, min: number): number => {
    const v = env[name];
    if (v === undefined || v === "") return dflt;
    if (!/^\d+$/.test(v) || Number(v) < min) throw new BadSettingError(name, v, `a whole number of at least ${min}`, String(dflt));
    return Number(v);
  };
  const p = {
    attempts: read("POND_COMMIT_ATTEMPTS", DEFAULT_RETRY.attempts, 1),
    baseMs: read("POND_COMMIT_BACKOFF_MS", DEFAULT_RETRY.baseMs, 0),
    maxMs: read("POND_COMMIT_BACKOFF_MAX_MS", DEFAULT_RETRY.maxMs, 0),
  };
  return p;
}
