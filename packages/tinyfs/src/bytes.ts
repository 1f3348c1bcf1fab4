/** Byte helpers shared by every layer that handles content. */

/**
 * Joins chunks into one array. A single chunk is returned as it is (no copy), so callers
 * that must own the bytes copy each chunk as they collect it (`new Uint8Array(chunk)`:
 * `Buffer.prototype.slice` would only make a view).
 */
export function concatBytes(parts: readonly Uint8Array[], size = parts.reduce((n, p) => n + p.length, 0)): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * sha256 in Pond: `sha256Hex(bytes)` for bytes in hand, `newSha256()` to hash a stream
 * chunk by chunk. Every content hash (payloads, transfers, checks) goes through these.
 */
export interface Sha256 {
  update(chunk: Uint8Array): Sha256;
  /** Lowercase hex of everything given to `update`; call once. */
  hex(): string;
}

/** A fresh incremental sha256. */
export function newSha256(): Sha256 {
  const h = new Bun.CryptoHasher("sha256");
  const s: Sha256 = {
    update(chunk) {
      h.update(chunk);
      return s;
    },
    hex: () => h.digest("hex") as string,
  };
  return s;
}

/** Lowercase hex sha256 of `bytes`. */
export function sha256Hex(bytes: Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(bytes).digest("hex") as string;
}
