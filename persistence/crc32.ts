/**
 * CRC-32 (IEEE 802.3, as zlib) over a byte range, allocation-free. Written here rather than
 * zlib.crc32 because that one takes a whole buffer, and a view per record would allocate.
 *
 * Slicing-by-8: eight 256-entry tables, one step per eight bytes read as two little-endian
 * 32-bit words through a DataView, so the chain of dependent table loads is an eighth of the
 * bytewise loop's (bench/journal.bench.ts measures it against that loop). Equal to zlib's bit for
 * bit (crc32.prop.test.ts).
 */
const T = new Uint32Array(8 * 256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  T[n] = c >>> 0;
}
for (let n = 0; n < 256; n++) {
  for (let t = 1; t < 8; t++) {
    const prev = T[(t - 1) * 256 + n];
    T[t * 256 + n] = (prev >>> 8) ^ T[prev & 0xff];
  }
}

/** The running state before any byte (crc32Final turns a state into the checksum). */
export const CRC32_INIT = 0xffffffff | 0;

/** The state after eight bytes given as two little-endian 32-bit words (w0 the first four). */
export function crc32Words(state: number, w0: number, w1: number): number {
  const a = state ^ w0;
  return T[1792 + (a & 0xff)] ^ T[1536 + ((a >>> 8) & 0xff)] ^ T[1280 + ((a >>> 16) & 0xff)] ^ T[1024 + (a >>> 24)]
    ^ T[768 + (w1 & 0xff)] ^ T[512 + ((w1 >>> 8) & 0xff)] ^ T[256 + ((w1 >>> 16) & 0xff)] ^ T[w1 >>> 24];
}

/** The state after one byte. */
export function crc32Byte(state: number, byte: number): number {
  return T[(state ^ byte) & 0xff] ^ (state >>> 8);
}

/** The checksum of a state. */
export function crc32Final(state: number): number {
  return (state ^ 0xffffffff) >>> 0;
}

/** The state after view's bytes [start, end). */
export function crc32UpdateView(state: number, view: DataView, start: number, end: number): number {
  let c = state;
  let i = start;
  const steps = end - 7;
  while (i < steps) {
    c = crc32Words(c, view.getInt32(i, true), view.getInt32(i + 4, true));
    i += 8;
  }
  while (i < end) c = crc32Byte(c, view.getUint8(i++));
  return c;
}

/** The checksum of view's bytes [start, end). */
export function crc32OfView(view: DataView, start: number, end: number): number {
  return crc32Final(crc32UpdateView(CRC32_INIT, view, start, end));
}
