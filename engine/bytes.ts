/** Byte helpers for the hot path: loops instead of subarray(), which allocates a view. */

/**
 * Copies src[srcOffset, srcOffset + length) to dst at dstOffset. Past 1 KiB one subarray view
 * (a small allocation) and a native copy beat the loop.
 */
export function copyBytes(src: Uint8Array, srcOffset: number, dst: Uint8Array, dstOffset: number, length: number): void {
  if (length > 1024) {
    dst.set(src.subarray(srcOffset, srcOffset + length), dstOffset);
    return;
  }
  for (let i = 0; i < length; i++) dst[dstOffset + i] = src[srcOffset + i];
}

/** True when a[aOffset, +length) equals b[bOffset, +length). */
export function equalBytes(a: Uint8Array, aOffset: number, b: Uint8Array, bOffset: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (a[aOffset + i] !== b[bOffset + i]) return false;
  return true;
}

/** FNV-1a over bytes, mixed with a seed (e.g. an account id). */
export function hashBytes(seed: number, bytes: Uint8Array, offset: number, length: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < length; i++) {
    h ^= bytes[offset + i];
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
