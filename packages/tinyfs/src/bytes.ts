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

/** Lowercase hex sha256 of `bytes`. */
export function sha256Hex(bytes: Uint8Array): string {
  return new Bun.CryptoHasher("sha256").update(bytes).digest("hex") as string;
}
