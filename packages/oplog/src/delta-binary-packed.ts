/**
 * Parquet's DELTA_BINARY_PACKED encoding of INT64 values, for the time column of series
 * files: times a fixed step apart take a few bytes a block of 128 instead of 8 bytes a
 * value, so Zstandard has next to nothing left to compress (measured: a 10,000-row
 * PLAIN time chunk cost ~0.3 ms of compression and stayed ~30 KB; a quarter of a HydroVu
 * device's compression time).
 *
 * The format (parquet-format Encodings.md): a header <block size> <miniblocks per block>
 * <value count> <first value, zigzag>, then per block of 128 deltas <min delta, zigzag>
 * <one bit width per miniblock> and each miniblock's 32 (delta − min delta) bit-packed
 * LSB first. The last miniblock is padded with zeros; miniblocks past the last value
 * are left out (their widths written as 0).
 *
 * Values are JavaScript numbers, so every delta must be exact: when a delta, or a delta
 * less the block's minimum, is not a safe integer (times more than ~142 years apart
 * within one block), the caller writes the values PLAIN instead.
 */

const BLOCK = 128;
const MINIBLOCKS = 4;
const MINI = BLOCK / MINIBLOCKS; // 32 values, as the format requires a multiple of 32

/** A chunk of times as Parquet values: DELTA_BINARY_PACKED, or PLAIN when a delta is not a safe integer. */
export interface EncodedTimes {
  delta: boolean;
  bytes: Uint8Array;
  /** The smallest and largest value (µs). */
  min: number;
  max: number;
}

/**
 * `values[start..end) × scale` as INT64 values: one DELTA_BINARY_PACKED run, or PLAIN
 * little-endian int64s when a delta (or a delta less its block's minimum) is not a safe
 * integer. Throws when a value × scale is not a safe integer. One pass computes the
 * values, their range and the deltas; the code avoids BigInt and calls per value, so
 * JavaScriptCore compiles it once (a first version with BigInt zigzag was recompiled
 * five times a run, ~40 ms of JIT-thread time).
 */
export function encodeInt64Times(values: Float64Array, start: number, end: number, scale: number): EncodedTimes {
  const n = end - start;
  const deltas = new Float64Array(n);
  const scan = scanTimes(values, start, end, scale, deltas);
  const min = scan[0]!,
    max = scan[1]!,
    exact = scan[2] === 1,
    same = scan[3] === 1;
  const first = n > 0 ? values[start]! * scale : 0;
  const bytes = !exact ? undefined : same && n > 1 ? fixedStep(n, first, deltas[1]!) : packDeltas(deltas, n, first);
  return bytes ? { delta: true, bytes, min, max } : { delta: false, bytes: plainInt64(values, start, end, scale), min, max };
}

/**
 * One pass over values[start..end) × scale: each checked to be a safe integer, deltas[i]
 * set to value i less value i − 1; returns [min, max, every delta safe (1/0), every delta
 * the same (1/0)]. A leaf function: the JIT compiles this loop small, not its callers.
 */
function scanTimes(values: Float64Array, start: number, end: number, scale: number, deltas: Float64Array): Float64Array {
  let min = Infinity,
    max = -Infinity,
    prev = 0,
    exact = 1,
    same = 1;
  for (let i = 0; i < end - start; i++) {
    const v = values[start + i]! * scale;
    if (!Number.isSafeInteger(v)) throw new Error(`encodeSeriesParquet: time ${v} is not a whole number of µs`);
    if (v < min) min = v;
    if (v > max) max = v;
    const d = v - prev;
    if (i > 0 && !(d <= MAX_SAFE && d >= -MAX_SAFE)) exact = 0;
    if (i > 1 && d !== deltas[1]) same = 0;
    deltas[i] = d; // deltas[0] is unused
    prev = v;
  }
  return Float64Array.of(min, max, exact, same);
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/**
 * n values `first + i × step` as DELTA_BINARY_PACKED: each block is the step and four
 * zero bit widths. The usual chunk of a logger's times, written without looking at the
 * deltas again (so `packDeltas`, which the JIT compiles at length, stays cold).
 */
function fixedStep(n: number, first: number, step: number): Uint8Array {
  const blocks = Math.ceil((n - 1) / BLOCK);
  const out = new Uint8Array(40 + blocks * (10 + MINIBLOCKS));
  let at = header(out, n, first);
  const stepAt = at;
  at = zigzag(out, at, step);
  const blockBytes = at - stepAt + MINIBLOCKS; // the widths after it are already 0
  for (let b = 1; b < blocks; b++) out.copyWithin(stepAt + b * blockBytes, stepAt, stepAt + blockBytes);
  return out.subarray(0, stepAt + blocks * blockBytes);
}

/** The header: block size, miniblocks a block, value count, first value; returns the next position. */
function header(out: Uint8Array, n: number, first: number): number {
  let at = uvarint(out, 0, BLOCK);
  at = uvarint(out, at, MINIBLOCKS);
  at = uvarint(out, at, n);
  return zigzag(out, at, first);
}

/** deltas[1..n) as DELTA_BINARY_PACKED after the header (n values, the first `first`), or undefined when one less its block's minimum is not safe. */
function packDeltas(deltas: Float64Array, n: number, first: number): Uint8Array | undefined {
  const count = Math.max(0, n - 1);
  const blocks = Math.ceil(count / BLOCK);
  // At most 10 + 10 + 10 + 10 header bytes; a block: 10 bytes of min delta, 4 widths, 4 × 32 values of ≤ 53 bits.
  const out = new Uint8Array(40 + blocks * (10 + MINIBLOCKS + MINIBLOCKS * MINI * 7));
  let at = header(out, n, first);
  for (let b = 1; b < n; b += BLOCK) {
    const blockEnd = Math.min(n, b + BLOCK);
    let min = Infinity;
    for (let i = b; i < blockEnd; i++) if (deltas[i]! < min) min = deltas[i]!;
    at = zigzag(out, at, min);
    const widthsAt = at;
    at += MINIBLOCKS; // widths of miniblocks past the last value stay 0
    for (let m = 0; m < MINIBLOCKS; m++) {
      const from = b + m * MINI;
      if (from >= blockEnd) break; // no miniblock body past the last value
      const to = Math.min(blockEnd, from + MINI);
      let most = 0;
      for (let i = from; i < to; i++) {
        const u = deltas[i]! - min;
        if (u > most) most = u;
      }
      if (!(most <= MAX_SAFE)) return undefined;
      const w = bitWidth(most);
      out[widthsAt + m] = w;
      if (w > 0) {
        let bit = at * 8;
        for (let i = from; i < to; i++) {
          putBits(out, bit, deltas[i]! - min, w);
          bit += w;
        }
      }
      at += (MINI * w) / 8; // the padding of the last miniblock stays zero
    }
  }
  return out.subarray(0, at);
}

/** `values[start..end) × scale` as PLAIN little-endian int64s (each a safe integer). */
export function plainInt64(values: Float64Array, start: number, end: number, scale: number): Uint8Array {
  const rows = end - start;
  const body = new Uint8Array(rows * 8);
  const view = new DataView(body.buffer);
  for (let i = 0; i < rows; i++) {
    const m = values[start + i]! * scale;
    const hi = Math.floor(m / 0x1_0000_0000);
    view.setUint32(i * 8, m - hi * 0x1_0000_0000, true);
    view.setInt32(i * 8 + 4, hi, true);
  }
  return body;
}

/** Bits needed for a non-negative safe integer (0 for 0). */
function bitWidth(u: number): number {
  if (u < 0x1_0000_0000) return u === 0 ? 0 : 32 - Math.clz32(u);
  return 32 + (32 - Math.clz32(Math.floor(u / 0x1_0000_0000)));
}

/** Writes the low `width` bits of the non-negative safe integer `u` at bit `bit` of `out`, LSB first (the bytes there are zero). */
function putBits(out: Uint8Array, bit: number, u: number, width: number): void {
  while (width > 0) {
    const off = bit & 7;
    const take = Math.min(8 - off, width);
    const pow = 1 << take;
    const low = u % pow;
    out[bit >> 3]! |= low << off;
    u = (u - low) / pow;
    width -= take;
    bit += take;
  }
}

/** ULEB128 of a non-negative safe integer at `at`; returns the next position. */
function uvarint(out: Uint8Array, at: number, n: number): number {
  while (n >= 0x80) {
    out[at++] = (n % 0x80) | 0x80;
    n = Math.floor(n / 0x80);
  }
  out[at++] = n;
  return at;
}

/**
 * Zigzag ULEB128 of a safe integer as an int64 (2n for n ≥ 0, −2n − 1 below). Written
 * from the magnitude, so no value above 2^53 is ever formed: the low 7 bits of 2|n| or
 * 2|n| − 1 come from |n|'s low 6 bits, the rest is |n| shifted right by 6 (less one
 * when a borrow crosses: 2|n| − 1 with |n|'s low 6 bits zero).
 */
function zigzag(out: Uint8Array, at: number, n: number): number {
  if (n >= 0 && n < 2 ** 52) return uvarint(out, at, n * 2);
  if (n < 0 && n > -(2 ** 52)) return uvarint(out, at, -n * 2 - 1);
  // |n| ≥ 2^52: z = 2|n| (− 1 when negative) as 7-bit groups: the first from |n|'s low 6 bits.
  const a = Math.abs(n);
  const low6 = a % 64;
  let z0 = low6 * 2;
  let rest = (a - low6) / 64;
  if (n < 0) {
    if (z0 === 0) {
      z0 = 0x80; // 2·0 − 1 borrows: low group 127, the rest one less
      rest -= 1;
    }
    z0 -= 1;
  }
  out[at++] = (z0 & 0x7f) | (rest > 0 ? 0x80 : 0);
  return rest > 0 ? uvarint(out, at, rest) : at;
}
