/**
 * UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then version 7, a 12-bit `rand_a`
 * and, after the variant bits, 62 bits of `rand_b`. Ids made in this process sort in
 * the order they were made: within one millisecond `rand_a` and the top 30 bits of
 * `rand_b` form a 42-bit counter (RFC 9562 method 1, "fixed bit-length dedicated
 * counter") that starts at a random value with its top bit clear and is incremented;
 * the remaining 32 bits are fresh random bits each time.
 */

const MAX_MS = 2 ** 48 - 1;
const COUNTER_BITS = 42;
const COUNTER_MAX = 2 ** COUNTER_BITS - 1;
/** A backward step of the system clock smaller than this keeps the last time. */
const CLOCK_STEP_MS = 10_000;

let lastMs = -1;
let counter = 0;

function randomCounter(): number {
  const r = new Uint32Array(2);
  crypto.getRandomValues(r);
  // 41 random bits: top bit clear leaves 2^41 increments before overflow.
  return (r[0]! & 0x1ff_ffff) * 2 ** 16 + (r[1]! & 0xffff);
}

/**
 * A new UUIDv7 string, canonical lowercase 8-4-4-4-12 hex. `nowMs` (ms since the epoch,
 * default `Date.now()`) lets callers with an injected clock stamp ids with it. Ids are
 * strictly increasing while the time does not go back. If the system clock steps back
 * a little (under 10 s) the last time is reused, so order holds; an explicit earlier
 * `nowMs`, or a larger step, is honoured as given (ids stay unique, by their random bits).
 */
export function uuid7(nowMs?: number): string {
  let ms = Math.floor(nowMs ?? Date.now());
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_MS) throw new RangeError(`uuid7: time ${nowMs} is outside 0..2^48-1 ms`);
  if (ms < lastMs && nowMs === undefined && lastMs - ms < CLOCK_STEP_MS) ms = lastMs;
  if (ms === lastMs) {
    counter++;
    if (counter > COUNTER_MAX) {
      // 2^41 ids in one millisecond: borrow the next millisecond rather than repeat.
      ms++;
      counter = randomCounter();
    }
  } else {
    counter = randomCounter();
  }
  lastMs = ms;

  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes.subarray(12));
  // 48-bit timestamp, big-endian.
  const hi = Math.floor(ms / 2 ** 16);
  bytes[0] = (hi >>> 24) & 0xff;
  bytes[1] = (hi >>> 16) & 0xff;
  bytes[2] = (hi >>> 8) & 0xff;
  bytes[3] = hi & 0xff;
  bytes[4] = (ms >>> 8) & 0xff;
  bytes[5] = ms & 0xff;
  // Counter: 12 bits in rand_a, 30 bits at the top of rand_b after the variant.
  const cHi = Math.floor(counter / 2 ** 30); // 12 bits
  const cLo = counter % 2 ** 30; // 30 bits
  bytes[6] = 0x70 | (cHi >>> 8);
  bytes[7] = cHi & 0xff;
  bytes[8] = 0x80 | (cLo >>> 24);
  bytes[9] = (cLo >>> 16) & 0xff;
  bytes[10] = (cLo >>> 8) & 0xff;
  bytes[11] = cLo & 0xff;
  return format(bytes);
}

function format(b: Uint8Array): string {
  let hex = "";
  for (const x of b) hex += x.toString(16).padStart(2, "0");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const UUID7_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** True for a canonical lowercase UUIDv7 string. */
export function isUuid7(s: string): boolean {
  return UUID7_RE.test(s);
}

/** The Unix milliseconds stamped into a UUIDv7. */
export function uuid7Time(id: string): number {
  if (!isUuid7(id)) throw new RangeError(`"${id}" is not a UUIDv7`);
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}
