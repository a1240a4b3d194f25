/**
 * The ExecIDs (17) of fills already applied, per venue, so a fill that arrives twice (a resend
 * after a reconnect, a venue replaying its reports) is applied once. Bounded and allocation-free:
 * two generations of an open-addressing table (linear probing) over preallocated typed arrays.
 * Inserts go to the young generation; when it is half full the old one is cleared and the two
 * swap, so at least the last `capacity / 2` ExecIDs are always remembered, and memory is fixed.
 *
 *   entry i of a generation:  hash f64 | venue u8 | length u8 | bytes[MAX_EXEC_ID]   (exact compare)
 *
 * ExecIDs longer than MAX_EXEC_ID bytes are compared on their first MAX_EXEC_ID bytes, their
 * length and a hash of the whole: a false match needs a 52-bit hash collision on top.
 */

export const MAX_EXEC_ID = 48;

class Generation {
  readonly hashes: Float64Array;
  readonly venues: Uint8Array;
  readonly lengths: Uint8Array;
  readonly bytes: Uint8Array;
  /** 0 = empty slot, else 1. */
  readonly used: Uint8Array;
  count: number;

  constructor(capacity: number) {
    this.hashes = new Float64Array(capacity);
    this.venues = new Uint8Array(capacity);
    this.lengths = new Uint8Array(capacity);
    this.bytes = new Uint8Array(capacity * MAX_EXEC_ID);
    this.used = new Uint8Array(capacity);
    this.count = 0;
  }

  clear(): void {
    this.used.fill(0);
    this.count = 0;
  }
}

export class ExecIdSet {
  private readonly mask: number;
  private young: Generation;
  private old: Generation;

  /** capacity: slots per generation, a power of two. */
  constructor(capacity: number = 1 << 15) {
    if (!(Number.isInteger(capacity) && capacity >= 16 && (capacity & (capacity - 1)) === 0)) throw new Error('Condition failed: capacity a power of two >= 16');
    this.mask = capacity - 1;
    this.young = new Generation(capacity);
    this.old = new Generation(capacity);
  }

  /**
   * Adds buf[start, end) for venue; returns false when it was already there (a duplicate).
   * Allocates nothing.
   */
  add(venue: number, buf: Uint8Array, start: number, end: number): boolean {
    const hash = hashBytes(venue, buf, start, end);
    if (this.find(this.young, hash, venue, buf, start, end) >= 0) return false;
    if (this.find(this.old, hash, venue, buf, start, end) >= 0) return false;
    if (this.young.count * 2 >= this.mask + 1) {
      const g = this.old;
      this.old = this.young;
      this.young = g;
      g.clear();
    }
    this.insert(this.young, hash, venue, buf, start, end);
    return true;
  }

  /** True when buf[start, end) of venue was added (and is still remembered). */
  has(venue: number, buf: Uint8Array, start: number, end: number): boolean {
    const hash = hashBytes(venue, buf, start, end);
    return this.find(this.young, hash, venue, buf, start, end) >= 0 || this.find(this.old, hash, venue, buf, start, end) >= 0;
  }

  private find(g: Generation, hash: number, venue: number, buf: Uint8Array, start: number, end: number): number {
    const length = end - start;
    const kept = length < MAX_EXEC_ID ? length : MAX_EXEC_ID;
    let i = hash & this.mask;
    // A generation is never more than half full, so an empty slot ends every probe.
    while (g.used[i] !== 0) {
      if (g.hashes[i] === hash && g.venues[i] === venue && g.lengths[i] === (length < 255 ? length : 255)) {
        const at = i * MAX_EXEC_ID;
        let k = 0;
        while (k < kept && g.bytes[at + k] === buf[start + k]) k++;
        if (k === kept) return i;
      }
      i = (i + 1) & this.mask;
    }
    return -1;
  }

  private insert(g: Generation, hash: number, venue: number, buf: Uint8Array, start: number, end: number): void {
    const length = end - start;
    const kept = length < MAX_EXEC_ID ? length : MAX_EXEC_ID;
    let i = hash & this.mask;
    while (g.used[i] !== 0) i = (i + 1) & this.mask;
    g.used[i] = 1;
    g.hashes[i] = hash;
    g.venues[i] = venue;
    g.lengths[i] = length < 255 ? length : 255;
    const at = i * MAX_EXEC_ID;
    for (let k = 0; k < kept; k++) g.bytes[at + k] = buf[start + k];
    g.count++;
  }
}

/** 52 bits from two 32-bit FNV-1a style mixes (the venue seeds both); an exact integer. */
function hashBytes(venue: number, buf: Uint8Array, start: number, end: number): number {
  let a = (0x811c9dc5 ^ venue) >>> 0;
  let b = (0x01000193 + venue * 0x9e3779b1) >>> 0;
  for (let k = start; k < end; k++) {
    a = Math.imul(a ^ buf[k], 0x01000193) >>> 0;
    b = Math.imul(b ^ buf[k], 0x5bd1e995) >>> 0;
    b ^= b >>> 15;
  }
  return (a & 0xfffff) * 0x100000000 + (b >>> 0);
}
