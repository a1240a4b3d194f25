/** Goal: token buckets allow the burst, refill at the rate, and count refusals in a row. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TokenBucket } from './rate-limit.ts';

describe('TokenBucket', () => {
  it('allows the burst at once, then refuses until time refills it', () => {
    const b = new TokenBucket(10, 3, 0);
    expect([b.take(0), b.take(0), b.take(0), b.take(0)]).toEqual([true, true, true, false]);
    expect(b.refusedInARow).toBe(1);
    expect(b.take(50)).toBe(false); // half a token
    expect(b.take(100)).toBe(true); // 10/s: one token per 100 ms
    expect(b.refusedInARow).toBe(2); // let through, but still pushing at the limit
    expect(b.take(1000)).toBe(true); // backed off: the bucket refilled past half
    expect(b.refusedInARow).toBe(0);
  });

  it('a client that keeps pushing keeps counting refusals even when a token trickles in', () => {
    const b = new TokenBucket(1000, 10, 0);
    let now = 0;
    for (let i = 0; i < 1000; i++) {
      b.take(now);
      now += 0.5; // twice the rate
    }
    expect(b.refusedInARow).toBeGreaterThan(400);
  });

  it('never holds more than the burst after a long idle', () => {
    const b = new TokenBucket(1000, 5, 0);
    let allowed = 0;
    for (let i = 0; i < 100; i++) if (b.take(1_000_000)) allowed++;
    expect(allowed).toBe(5);
  });

  it('property: over any schedule, allowed <= burst + rate x elapsed', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: 100 }), fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 500 }), (rate, burst, gaps) => {
        const b = new TokenBucket(rate, burst, 0);
        let now = 0;
        let allowed = 0;
        for (const g of gaps) {
          now += g;
          if (b.take(now)) allowed++;
        }
        expect(allowed).toBeLessThanOrEqual(burst + (rate * now) / 1000 + 1e-9);
      }),
    );
  });
});
