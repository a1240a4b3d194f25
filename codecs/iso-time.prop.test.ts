// Goal: isoMillis writes exactly what Date.prototype.toISOString writes, for every time it may
// be given (whole milliseconds, fractions, the edges of the 4-digit years, beyond them, in any
// order so the kept second is stale, equal or new), and throws where Date throws; and that
// journal times (fractional milliseconds) within one second take the kept text, not a Date each.
// Method: fast-check against new Date(ms).toISOString().
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { isoMillis } from './iso-time.ts';

const EDGES = [-1.5, -0.5, 0.5, 999.9999, 1_763_800_000_123.999_999, -62_167_219_200_001, -62_167_219_200_000, -1, 0, 999, 1000, 253_402_300_799_999, 253_402_300_800_000, 8.64e15, -8.64e15];

describe('isoMillis', () => {
  it('equals toISOString for any sequence of times', () => {
    const near = fc.integer({ min: 1_700_000_000_000, max: 1_700_000_005_000 }); // repeats seconds
    const any = fc.integer({ min: -8.64e15, max: 8.64e15 });
    const fraction = fc.double({ min: -1e13, max: 1e13, noNaN: true });
    fc.assert(fc.property(fc.array(fc.oneof(near, any, fraction, fc.constantFrom(...EDGES)), { maxLength: 50 }), (times) => {
      for (const ms of times) expect(isoMillis(ms)).toBe(new Date(ms).toISOString());
    }), { numRuns: 2000 });
  });

  it('formats the journal times of one second (epoch ms + ns / 1e6) from the kept text', () => {
    const toIso = vi.spyOn(Date.prototype, 'toISOString');
    try {
      const epochMs = 1_763_800_000_000;
      const times = Array.from({ length: 1000 }, (_, i) => epochMs + 2_000 + (i * 999_999 + 7) / 1e6); // within one second
      const texts = times.map((ms) => isoMillis(ms));
      expect(toIso.mock.calls.length).toBeLessThanOrEqual(1); // the second's prefix, once
      toIso.mockRestore();
      for (let i = 0; i < times.length; i++) expect(texts[i]).toBe(new Date(times[i]).toISOString());
    } finally {
      toIso.mockRestore();
    }
  });

  it('throws RangeError where Date does', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, 8.64e15 + 1]) expect(() => isoMillis(bad)).toThrow(RangeError);
  });
});
