/**
 * A latency histogram in shared memory: hot-path stages record into it with a few Atomics.add
 * and no allocation; the supervisor reads it at scrape time (Prometheus /metrics) from another
 * thread. Buckets are log-linear, fixed at compile time, so every reader and writer agrees on
 * the layout without talking.
 *
 * Buckets (values in nanoseconds, integers): bucket 0 holds [0, 256]; above that every octave
 * (2^e, 2^(e+1)] for e = 8 .. 35 is split into SUB_BUCKETS equal linear parts, so the relative
 * error of a bucket bound is at most 1/SUB_BUCKETS (25 %); the last bucket also takes everything
 * above 2^36 ns (about 68.7 s). A bucket holds (lower, upper]: Prometheus' `le` semantics.
 *
 * Layout of one histogram, in 32-bit words (Int32Array over a SharedArrayBuffer):
 *
 *   word  0..1   count        (lo, hi): 64-bit as two 32-bit words, hi carried by the writer
 *   word  2..3   sum of ns    (lo, hi)
 *   word  4      max, in µs   (clamped to 2^31 - 1)
 *   word  5..7   reserved (alignment)
 *   word  8 + 2i, 9 + 2i      bucket i (lo, hi)
 *
 * Why lo/hi words: Atomics.add on a BigInt64Array returns a BigInt (an allocation per record)
 * and a 32-bit count wraps after 4.3 billion records. The writer adds to lo and, when the add
 * carried past 2^32, adds the carry to hi; several writers may share one histogram. A reader
 * reads hi, lo, hi and retries when hi moved. The one window left: between a writer's lo wrap
 * and its hi increment a reader can see a value 2^32 too small (once per 4.3 billion records in
 * one bucket, for one instruction's time).
 */

export const SUB_BUCKET_BITS = 2;
export const SUB_BUCKETS = 1 << SUB_BUCKET_BITS;
/** Values up to 2^MIN_EXP ns go to bucket 0. */
export const MIN_EXP = 8;
/** Octaves split into sub-buckets: (2^e, 2^(e+1)] for e in [MIN_EXP, MAX_EXP). */
export const MAX_EXP = 36;
export const BUCKET_COUNT = 1 + (MAX_EXP - MIN_EXP) * SUB_BUCKETS;

const COUNT_LO = 0;
const COUNT_HI = 1;
const SUM_LO = 2;
const SUM_HI = 3;
const MAX_US = 4;
const BUCKETS_WORD = 8;
/** 32-bit words per histogram. */
export const HISTOGRAM_WORDS = BUCKETS_WORD + 2 * BUCKET_COUNT;
export const HISTOGRAM_BYTES = HISTOGRAM_WORDS * 4;

const TWO_32 = 4294967296;
const MAX_INT32 = 0x7fffffff;

if (BUCKET_COUNT !== 113) throw new Error(`Invariant: 113 buckets, got ${BUCKET_COUNT}`);
if (HISTOGRAM_BYTES % 8 !== 0) throw new Error('Invariant: histograms are 8-byte aligned');

/** The bucket index of a value in ns (non-negative integer; larger than 2^53 is clamped). */
export function bucketIndex(valueNs: number): number {
  if (valueNs <= 2 ** MIN_EXP) return 0;
  // Index from v - 1, so a bucket holds (lower, upper]: exact powers of two close their octave.
  const v = valueNs - 1;
  const hi = Math.floor(v / TWO_32);
  const exp = hi > 0 ? 63 - Math.clz32(hi) : 31 - Math.clz32(v);
  if (exp >= MAX_EXP) return BUCKET_COUNT - 1;
  const sub = Math.floor(v / 2 ** (exp - SUB_BUCKET_BITS)) - SUB_BUCKETS;
  return 1 + (exp - MIN_EXP) * SUB_BUCKETS + sub;
}

/** Upper bound (inclusive) of bucket i in ns; the last bucket is unbounded (Infinity). */
export function bucketUpperNs(i: number): number {
  if (i === 0) return 2 ** MIN_EXP;
  if (i >= BUCKET_COUNT - 1) return Infinity;
  const k = i - 1;
  const exp = MIN_EXP + Math.floor(k / SUB_BUCKETS);
  const sub = k % SUB_BUCKETS;
  return 2 ** exp + (sub + 1) * 2 ** (exp - SUB_BUCKET_BITS);
}

/** Lower bound (exclusive) of bucket i in ns. */
export function bucketLowerNs(i: number): number {
  return i === 0 ? 0 : bucketUpperNs(i - 1);
}

/** A consistent copy of one histogram, for readers (allocates: readers are off the hot path). */
export interface HistogramSnapshot {
  count: number;
  sumNs: number;
  maxUs: number;
  /** Count per bucket (not cumulative), BUCKET_COUNT entries. */
  buckets: number[];
}

/**
 * One histogram at a word offset in a shared Int32Array. The writer side (record) allocates
 * nothing; the reader side (snapshot, percentile) allocates its result.
 */
export class SharedHistogram {
  readonly words: Int32Array;
  readonly base: number;

  constructor(words: Int32Array, base: number) {
    if (base < 0 || base + HISTOGRAM_WORDS > words.length) throw new Error('Condition failed: histogram inside the array');
    if (base % 2 !== 0) throw new Error('Condition failed: histogram base is 8-byte aligned');
    this.words = words;
    this.base = base;
  }

  /** A standalone histogram with its own SharedArrayBuffer. */
  static create(): SharedHistogram {
    return new SharedHistogram(new Int32Array(new SharedArrayBuffer(HISTOGRAM_BYTES)), 0);
  }

  /** Records one value in ns (negative values, from clocks of two threads, count as 0). */
  record(valueNs: number): void {
    const v = valueNs > 0 ? Math.round(valueNs) : 0;
    const w = this.words;
    const b = this.base;
    add64(w, b + BUCKETS_WORD + 2 * bucketIndex(v), 1);
    add64(w, b + COUNT_LO, 1);
    addWide(w, b + SUM_LO, v);
    const us = v >= MAX_INT32 * 1000 ? MAX_INT32 : Math.floor(v / 1000);
    let seen = Atomics.load(w, b + MAX_US);
    while (us > seen) {
      const prev = Atomics.compareExchange(w, b + MAX_US, seen, us);
      if (prev === seen) break;
      seen = prev;
    }
  }

  count(): number {
    return read64(this.words, this.base + COUNT_LO);
  }

  sumNs(): number {
    return read64(this.words, this.base + SUM_LO);
  }

  maxUs(): number {
    return Atomics.load(this.words, this.base + MAX_US);
  }

  bucket(i: number): number {
    return read64(this.words, this.base + BUCKETS_WORD + 2 * i);
  }

  /** Allocates the snapshot. Buckets are read after the count, so count <= sum of buckets may lag by in-flight records. */
  snapshot(): HistogramSnapshot {
    const buckets = new Array<number>(BUCKET_COUNT);
    for (let i = 0; i < BUCKET_COUNT; i++) buckets[i] = this.bucket(i);
    return { count: this.count(), sumNs: this.sumNs(), maxUs: this.maxUs(), buckets };
  }
}

/**
 * The value at quantile q (0..1) of a snapshot, in ns: the upper bound of the bucket holding it
 * (an over-estimate by at most one bucket's width, like HDR histograms' highest-equivalent value).
 * 0 when empty; the last bucket answers its lower bound (it is unbounded above).
 */
export function quantileNs(s: HistogramSnapshot, q: number): number {
  let total = 0;
  for (const c of s.buckets) total += c;
  if (total === 0) return 0;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < s.buckets.length; i++) {
    seen += s.buckets[i];
    if (seen >= rank) return i === BUCKET_COUNT - 1 ? bucketLowerNs(i) : bucketUpperNs(i);
  }
  return bucketLowerNs(BUCKET_COUNT - 1);
}

/** Adds a small delta (< 2^31) to the 64-bit word pair at i, carrying into hi. */
function add64(w: Int32Array, i: number, delta: number): void {
  const old = Atomics.add(w, i, delta) >>> 0;
  if (old + delta >= TWO_32) Atomics.add(w, i + 1, 1);
}

/** Adds a value up to 2^53 to the 64-bit word pair at i. */
function addWide(w: Int32Array, i: number, value: number): void {
  const lo = value % TWO_32;
  const hi = (value - lo) / TWO_32;
  const old = Atomics.add(w, i, lo | 0) >>> 0;
  const carry = old + lo >= TWO_32 ? 1 : 0;
  if (hi + carry !== 0) Atomics.add(w, i + 1, (hi + carry) | 0);
}

function read64(w: Int32Array, i: number): number {
  for (;;) {
    const hi1 = Atomics.load(w, i + 1) >>> 0;
    const lo = Atomics.load(w, i) >>> 0;
    const hi2 = Atomics.load(w, i + 1) >>> 0;
    if (hi1 === hi2) return hi1 * TWO_32 + lo;
  }
}
