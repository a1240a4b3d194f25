/**
 * The ExecIDs (17) of fills already applied, per venue, so a fill that arrives twice (a resend
 * after a reconnect, a venue replaying its reports, also across an engine restart) is applied once. Bounded and allocation-free:
 * two generations of an open-addressing table (linear probing) over preallocated typed arrays.
 * Inserts go to the young generation; when it is half full the old one is cleared and the two
 * swap, so at least the last `capacity / 2` ExecIDs are always remembered, and memory is fixed.
 *
 *   entry i of a generation:  hash f64 | venue u8 | length u8 | bytes[MAX_EXEC_ID]   (exact compare)
 *
 * ExecIDs longer than MAX_EXEC_ID bytes are compared on their first MAX_EXEC_ID bytes, their
 * length and a hash of the whole: a false match needs a 52-bit hash collision on top.
 *
 * Entries known only by their hash: after a restart the set is rebuilt from the journal
 * (workers/fix/recovery.ts), whose fill CHILD_EVENTs carry the ExecID's hash (execIdHash) but
 * not its bytes. restore(venue, hash) records such an entry (used = HASH_ONLY); add() counts an
 * ExecID of that venue whose hash equals it as a duplicate. No exact compare is possible there:
 * a distinct ExecID is wrongly taken for a restored one only on a 52-bit hash collision with one
 * of the remembered entries of its venue (about n / 2^52 per fill for n remembered: ~7e-12 at the
 * default 32 768), and that fill would be dropped (counted in DUPLICATE_EXEC_IDS, and visible at
 * reconciliation as a CumQty above ours).
 *
 * Recovery snapshots (persistence/snapshot.ts): snapshot() / restoreSnapshot() carry the whole set
 * (both generations, which one is young included) from a start's replay to the next start, so
 * that one does not replay the fills before the snapshot's boundary (workers/fix/recovery.ts).
 */
import { SnapshotMismatch, type SnapshotArray, type SnapshotReader, type SnapshotWriter } from '../../persistence/snapshot.ts';

export const MAX_EXEC_ID = 48;

const EMPTY = 0;
const EXACT = 1;
const HASH_ONLY = 2;

class Generation {
  readonly hashes: Float64Array;
  readonly venues: Uint8Array;
  readonly lengths: Uint8Array;
  readonly bytes: Uint8Array;
  /** EMPTY, EXACT (hash, venue, length and bytes held) or HASH_ONLY (hash and venue only). */
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

  /** The slot arrays with their snapshot tags (one list for both directions). */
  private slotArrays(prefix: string): [string, SnapshotArray][] {
    return [[`${prefix}.used`, this.used], [`${prefix}.hashes`, this.hashes], [`${prefix}.venues`, this.venues], [`${prefix}.lengths`, this.lengths]];
  }

  /**
   * Into a recovery snapshot: the slot arrays whole (their lengths are the capacity: a set of
   * another capacity does not take them back, SnapshotReader.arrayInto), the count, and the bytes
   * of the EXACT entries only, MAX_EXEC_ID per entry by increasing slot (the only slots whose bytes
   * are read; a set rebuilt by recovery holds HASH_ONLY entries alone, so this is empty there).
   */
  snapshot(w: SnapshotWriter, prefix: string): void {
    let exact = 0;
    for (let i = 0; i < this.used.length; i++) if (this.used[i] === EXACT) exact++;
    const bytes = new Uint8Array(exact * MAX_EXEC_ID);
    let at = 0;
    for (let i = 0; i < this.used.length; i++) {
      if (this.used[i] !== EXACT) continue;
      bytes.set(this.bytes.subarray(i * MAX_EXEC_ID, (i + 1) * MAX_EXEC_ID), at);
      at += MAX_EXEC_ID;
    }
    for (const [tag, a] of this.slotArrays(prefix)) w.array(tag, a);
    w.number(`${prefix}.count`, this.count);
    w.bytes(`${prefix}.exactBytes`, bytes);
  }

  /**
   * Replaces its contents with a snapshot's (written by snapshot() with the same prefix). The bytes
   * of slots not EXACT are zeroed (never read). Throws SnapshotMismatch when the parts disagree
   * (a count or byte length that does not match the slots in use).
   */
  restoreSnapshot(r: SnapshotReader, prefix: string): void {
    for (const [tag, a] of this.slotArrays(prefix)) r.arrayInto(tag, a);
    const count = r.number(`${prefix}.count`);
    const bytes = r.bytes(`${prefix}.exactBytes`);
    let inUse = 0;
    let exact = 0;
    for (let i = 0; i < this.used.length; i++) {
      const u = this.used[i];
      if (u !== EMPTY && u !== EXACT && u !== HASH_ONLY) throw new SnapshotMismatch(`${prefix}.used: slot ${i} is ${u}`);
      if (u !== EMPTY) inUse++;
      if (u === EXACT) exact++;
    }
    // A generation is never more than half full (rotateIfHalfFull), so every probe ends.
    if (count !== inUse || inUse * 2 > this.used.length) throw new SnapshotMismatch(`${prefix}.count: ${count} for ${inUse} slots in use of ${this.used.length}`);
    if (bytes === null || bytes.length !== exact * MAX_EXEC_ID) throw new SnapshotMismatch(`${prefix}.exactBytes: not ${MAX_EXEC_ID} bytes for each of ${exact} exact entries`);
    this.count = count;
    this.bytes.fill(0);
    let at = 0;
    for (let i = 0; i < this.used.length; i++) {
      if (this.used[i] !== EXACT) continue;
      this.bytes.set(bytes.subarray(at, at + MAX_EXEC_ID), i * MAX_EXEC_ID);
      at += MAX_EXEC_ID;
    }
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
    return this.addHashed(venue, execIdHash(venue, buf, start, end), buf, start, end);
  }

  /**
   * As add(), with `hash` = execIdHash(venue, buf, start, end) already computed by the caller
   * (the fix stage stamps it on the fill's CHILD_EVENT). Allocates nothing.
   */
  addHashed(venue: number, hash: number, buf: Uint8Array, start: number, end: number): boolean {
    if (this.find(this.young, hash, venue, buf, start, end) >= 0) return false;
    if (this.find(this.old, hash, venue, buf, start, end) >= 0) return false;
    this.rotateIfHalfFull();
    this.insert(this.young, hash, venue, buf, start, end);
    return true;
  }

  /**
   * Recovery: an ExecID of `venue` known only by its hash (a journaled fill's execIdHash), as
   * added before the restart. Later add()s of an ExecID with this venue and hash report a
   * duplicate (see the header: no exact compare). Returns false when it was already there (a
   * hash-only entry, or an exact one whose hash it is). hash must be a positive execIdHash value.
   */
  restore(venue: number, hash: number): boolean {
    if (!(Number.isSafeInteger(hash) && hash > 0)) throw new Error('Condition failed: a restored ExecID hash is a positive integer');
    if (this.findHash(this.young, hash, venue) >= 0 || this.findHash(this.old, hash, venue) >= 0) return false;
    this.rotateIfHalfFull();
    const g = this.young;
    let i = hash & this.mask;
    while (g.used[i] !== EMPTY) i = (i + 1) & this.mask;
    g.used[i] = HASH_ONLY;
    g.hashes[i] = hash;
    g.venues[i] = venue;
    g.lengths[i] = 0;
    g.count++;
    return true;
  }

  /** Recovery snapshot (persistence/snapshot.ts): the young generation, then the old one. Start-up only: allocates. */
  snapshot(w: SnapshotWriter, prefix: string): void {
    this.young.snapshot(w, `${prefix}.young`);
    this.old.snapshot(w, `${prefix}.old`);
  }

  /**
   * Replaces the whole set with a snapshot's (written by snapshot() with the same prefix by a set
   * of the same capacity): what it remembers, and which generation is cleared at the next rotation.
   * Throws SnapshotMismatch on a snapshot that does not fit (the set is then partly overwritten).
   */
  restoreSnapshot(r: SnapshotReader, prefix: string): void {
    this.young.restoreSnapshot(r, `${prefix}.young`);
    this.old.restoreSnapshot(r, `${prefix}.old`);
  }

  /** Keeps every generation at most half full: the old one is cleared and the two swap. */
  private rotateIfHalfFull(): void {
    if (this.young.count * 2 >= this.mask + 1) {
      const g = this.old;
      this.old = this.young;
      this.young = g;
      g.clear();
    }
  }

  /** Any entry (exact or hash-only) of venue with this hash, or -1. */
  private findHash(g: Generation, hash: number, venue: number): number {
    let i = hash & this.mask;
    while (g.used[i] !== EMPTY) {
      if (g.hashes[i] === hash && g.venues[i] === venue) return i;
      i = (i + 1) & this.mask;
    }
    return -1;
  }

  /** True when buf[start, end) of venue was added (and is still remembered). */
  has(venue: number, buf: Uint8Array, start: number, end: number): boolean {
    const hash = execIdHash(venue, buf, start, end);
    return this.find(this.young, hash, venue, buf, start, end) >= 0 || this.find(this.old, hash, venue, buf, start, end) >= 0;
  }

  private find(g: Generation, hash: number, venue: number, buf: Uint8Array, start: number, end: number): number {
    const length = end - start;
    const kept = length < MAX_EXEC_ID ? length : MAX_EXEC_ID;
    let i = hash & this.mask;
    // A generation is never more than half full, so an empty slot ends every probe.
    while (g.used[i] !== EMPTY) {
      if (g.hashes[i] === hash && g.venues[i] === venue) {
        // Known by its hash only (restored from the journal): the hash is all there is to compare.
        if (g.used[i] === HASH_ONLY) return i;
        if (g.lengths[i] === (length < 255 ? length : 255)) {
          const at = i * MAX_EXEC_ID;
          let k = 0;
          while (k < kept && g.bytes[at + k] === buf[start + k]) k++;
          if (k === kept) return i;
        }
      }
      i = (i + 1) & this.mask;
    }
    return -1;
  }

  private insert(g: Generation, hash: number, venue: number, buf: Uint8Array, start: number, end: number): void {
    const length = end - start;
    const kept = length < MAX_EXEC_ID ? length : MAX_EXEC_ID;
    let i = hash & this.mask;
    while (g.used[i] !== EMPTY) i = (i + 1) & this.mask;
    g.used[i] = EXACT;
    g.hashes[i] = hash;
    g.venues[i] = venue;
    g.lengths[i] = length < 255 ? length : 255;
    const at = i * MAX_EXEC_ID;
    for (let k = 0; k < kept; k++) g.bytes[at + k] = buf[start + k];
    g.count++;
  }
}

/**
 * The hash the set keys an ExecID buf[start, end) of `venue` by: 52 bits from two 32-bit FNV-1a
 * style mixes (the venue seeds both), an exact integer in [0, 2^52). The fix stage journals it in
 * a fill's CHILD_EVENT (execIdHash), where 0 means "no ExecID": a real ExecID hashes to 0 with
 * probability 2^-52, and such a fill is then just not restored after a restart. Allocates nothing.
 */
export function execIdHash(venue: number, buf: Uint8Array, start: number, end: number): number {
  let a = (0x811c9dc5 ^ venue) >>> 0;
  let b = (0x01000193 + venue * 0x9e3779b1) >>> 0;
  for (let k = start; k < end; k++) {
    a = Math.imul(a ^ buf[k], 0x01000193) >>> 0;
    b = Math.imul(b ^ buf[k], 0x5bd1e995) >>> 0;
    b ^= b >>> 15;
  }
  return (a & 0xfffff) * 0x100000000 + (b >>> 0);
}
