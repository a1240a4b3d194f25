/**
 * Goal: the shared histogram puts every value in the bucket whose bounds hold it, keeps exact
 * counts and sums (including across the 32-bit carry), answers quantiles within one bucket of a
 * sorted reference, and loses no record when two threads write into it at once.
 * Method: boundary values by hand, fast-check properties over random values, and two real worker
 * threads recording into one SharedArrayBuffer.
 */
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BUCKET_COUNT,
  HISTOGRAM_BYTES,
  MIN_EXP,
  SharedHistogram,
  bucketIndex,
  bucketLowerNs,
  bucketUpperNs,
  quantileNs,
} from './shared-histogram.ts';

describe('bucket layout', () => {
  it('bucket bounds are contiguous, increasing, and cover 0 to infinity', () => {
    expect(bucketLowerNs(0)).toBe(0);
    expect(bucketUpperNs(0)).toBe(2 ** MIN_EXP);
    for (let i = 1; i < BUCKET_COUNT; i++) {
      expect(bucketLowerNs(i)).toBe(bucketUpperNs(i - 1));
      expect(bucketUpperNs(i)).toBeGreaterThan(bucketLowerNs(i));
    }
    expect(bucketUpperNs(BUCKET_COUNT - 1)).toBe(Infinity);
  });

  it('puts boundary values on the inclusive upper side (Prometheus le)', () => {
    expect(bucketIndex(0)).toBe(0);
    expect(bucketIndex(256)).toBe(0);
    expect(bucketIndex(257)).toBe(1);
    expect(bucketIndex(320)).toBe(1); // 256 + 64: first quarter of (256, 512]
    expect(bucketIndex(321)).toBe(2);
    expect(bucketIndex(512)).toBe(4);
    expect(bucketIndex(513)).toBe(5);
    expect(bucketIndex(2 ** 40)).toBe(BUCKET_COUNT - 1);
    expect(bucketIndex(Number.MAX_SAFE_INTEGER)).toBe(BUCKET_COUNT - 1);
  });

  it('every value lies inside its bucket (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (v) => {
        const i = bucketIndex(v);
        expect(i).toBeGreaterThanOrEqual(0);
        expect(i).toBeLessThan(BUCKET_COUNT);
        expect(v).toBeGreaterThan(i === 0 ? -1 : bucketLowerNs(i));
        expect(v).toBeLessThanOrEqual(bucketUpperNs(i));
      }),
      { numRuns: 5000 },
    );
  });
});

describe('SharedHistogram', () => {
  it('counts, sums and keeps the maximum exactly', () => {
    const h = SharedHistogram.create();
    h.record(1_000);
    h.record(2_500_000);
    h.record(-5); // cross-thread clock skew: counted as 0
    expect(h.count()).toBe(3);
    expect(h.sumNs()).toBe(2_501_000);
    expect(h.maxUs()).toBe(2_500);
    const s = h.snapshot();
    expect(s.buckets.reduce((a, b) => a + b, 0)).toBe(3);
    expect(s.buckets[0]).toBe(1);
  });

  it('carries counts and sums past 2^32', () => {
    const h = SharedHistogram.create();
    // Put the count's low word at 2^32 - 1, as after 4.3 billion records.
    h.words[0] = -1;
    h.record(10);
    expect(h.count()).toBe(2 ** 32);
    const big = SharedHistogram.create();
    big.record(2 ** 33 + 7); // a value wider than 32 bits: its high part goes to the high word
    big.record(2 ** 32 - 1);
    big.record(1);
    expect(big.sumNs()).toBe(2 ** 33 + 7 + 2 ** 32);
  });

  it('quantiles are within one bucket of a sorted reference (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 10 ** 11 }), { minLength: 1, maxLength: 400 }), fc.double({ min: 0.01, max: 1, noNaN: true }), (values, q) => {
        const h = SharedHistogram.create();
        for (const v of values) h.record(v);
        const sorted = [...values].sort((a, b) => a - b);
        const exact = sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)];
        const got = quantileNs(h.snapshot(), q);
        const i = bucketIndex(exact);
        expect(got).toBe(i === BUCKET_COUNT - 1 ? bucketLowerNs(i) : bucketUpperNs(i));
        expect(h.count()).toBe(values.length);
        expect(h.sumNs()).toBe(values.reduce((a, b) => a + b, 0));
      }),
      { numRuns: 300 },
    );
  });

  it('two threads recording into one histogram lose nothing', async () => {
    const sab = new SharedArrayBuffer(HISTOGRAM_BYTES * 2);
    const words = new Int32Array(sab);
    const per = 200_000;
    const code = `
      import { workerData, parentPort } from 'node:worker_threads';
      const { SharedHistogram } = await import(workerData.url);
      const h = new SharedHistogram(new Int32Array(workerData.sab), workerData.base);
      for (let i = 0; i < workerData.per; i++) h.record(1000 + (i % 5000) * 997);
      parentPort.postMessage('done');
    `;
    const url = new URL('./shared-histogram.ts', import.meta.url).href;
    const run = () =>
      new Promise<void>((resolve, reject) => {
        const w = new Worker(new URL(`data:text/javascript,${encodeURIComponent(code)}`), { workerData: { sab, base: HISTOGRAM_BYTES / 4, per, url } });
        w.once('message', () => resolve());
        w.once('error', reject);
      });
    await Promise.all([run(), run()]);
    const h = new SharedHistogram(words, HISTOGRAM_BYTES / 4);
    expect(h.count()).toBe(2 * per);
    const s = h.snapshot();
    expect(s.buckets.reduce((a, b) => a + b, 0)).toBe(2 * per);
    let sum = 0;
    for (let i = 0; i < per; i++) sum += 1000 + (i % 5000) * 997;
    expect(h.sumNs()).toBe(2 * sum);
    // The neighbour (words before base) is untouched: a canary for layout mistakes.
    expect(new SharedHistogram(words, 0).count()).toBe(0);
  });
});
