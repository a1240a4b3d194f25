// Goal: decimal <-> tick conversion is exact and total: every safe tick value survives
// write -> parse, arbitrary bytes never make the parsers throw, and the fast parser agrees with a
// naive BigInt reference on generated decimals. Method: fast-check.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  INVALID,
  MAX_PRICE_TICKS,
  MAX_QTY,
  missedFillPriceTicks,
  PRICE_SCALE,
  parseDecimalTicks,
  parseUint,
  ticksFromDecimalString,
  ticksFromJsonNumber,
  ticksToDecimalString,
  writeDecimalTicks,
  writeUint,
} from './fixed-point.ts';

const MAX = Number.MAX_SAFE_INTEGER;
const ticksArb = fc.oneof(
  fc.integer({ min: 0, max: 10_000_000 }),
  fc.integer({ min: 0, max: MAX_PRICE_TICKS }),
  fc.maxSafeNat(),
);

/** Naive reference: a BigInt parse of /^\d*(\.\d*)?$/ with at least one digit. */
function referenceParse(text: string, maxTicks: number): number {
  if (!/^\d*(\.\d*)?$/.test(text) || !/\d/.test(text)) return INVALID;
  const [intPart, fracPart = ''] = text.split('.');
  const significant = fracPart.replace(/0+$/, '');
  if (significant.length > 6) return INVALID;
  const ticks = BigInt(intPart === '' ? '0' : intPart) * 1_000_000n + BigInt((fracPart.slice(0, 6) + '000000').slice(0, 6));
  return ticks > BigInt(maxTicks) ? INVALID : Number(ticks);
}

describe('fixed-point properties', () => {
  it('decimal text agrees with the reference on any string: past ASCII it is INVALID, never a low byte read as a digit', () => {
    const charArb = fc.oneof(
      fc.constantFrom('0', '1', '5', '9', '.'),
      fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
      // Characters whose low byte is a digit or '.': what latin1 encoding alone would let through.
      fc.integer({ min: 1, max: 0xff }).chain((hi) => fc.constantFrom(0x2e, 0x30, 0x31, 0x39).map((lo) => String.fromCharCode(hi * 256 + lo))),
    );
    fc.assert(
      fc.property(fc.array(charArb, { maxLength: 12 }).map((cs) => cs.join('')), (text) => {
        expect(ticksFromDecimalString(text, MAX)).toBe(referenceParse(text, MAX));
      }),
      { numRuns: 5000 },
    );
  });

  it('write -> parse returns the same ticks (non-negative safe values)', () => {
    const bytes = new Uint8Array(64);
    fc.assert(
      fc.property(ticksArb, fc.integer({ min: 0, max: 16 }), (ticks, offset) => {
        const end = writeDecimalTicks(bytes, offset, ticks);
        expect(parseDecimalTicks(bytes, offset, end, MAX)).toBe(ticks);
      }),
      { numRuns: 5000 },
    );
  });

  it('a negative value is written as "-" followed by its absolute value', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX }), (ticks) => {
        const text = ticksToDecimalString(-ticks);
        expect(text).toBe('-' + ticksToDecimalString(ticks));
        const bytes = Buffer.from(text.slice(1), 'latin1');
        expect(parseDecimalTicks(bytes, 0, bytes.length, MAX)).toBe(ticks);
      }),
      { numRuns: 2000 },
    );
  });

  it('written text has no trailing fractional zeros and at most 6 decimals', () => {
    fc.assert(
      fc.property(ticksArb, (ticks) => {
        const text = ticksToDecimalString(ticks);
        expect(text).toMatch(/^(0|[1-9]\d*)(\.\d{0,5}[1-9])?$/);
      }),
      { numRuns: 2000 },
    );
  });

  it('writeUint -> parseUint round trip', () => {
    const bytes = new Uint8Array(32);
    fc.assert(
      fc.property(fc.maxSafeNat(), (value) => {
        const end = writeUint(bytes, 1, value);
        expect(end - 1).toBe(String(value).length);
        expect(parseUint(bytes, 1, end, MAX)).toBe(value);
      }),
      { numRuns: 2000 },
    );
  });

  it('agrees with a naive reference on generated decimal text', () => {
    const textArb = fc.tuple(
      fc.stringMatching(/^\d{0,12}$/),
      fc.boolean(),
      fc.stringMatching(/^\d{0,10}$/),
      fc.constantFrom(MAX, MAX_PRICE_TICKS, 1_000_000, 0),
    );
    fc.assert(
      fc.property(textArb, ([intPart, dot, fracPart, maxTicks]) => {
        const text = dot ? `${intPart}.${fracPart}` : intPart + fracPart;
        const bytes = Buffer.from(text, 'latin1');
        expect(parseDecimalTicks(bytes, 0, bytes.length, maxTicks)).toBe(referenceParse(text, maxTicks));
      }),
      { numRuns: 5000 },
    );
  });

  it('arbitrary bytes never throw and yield INVALID or an integer in [0, max]', () => {
    const alphabet = fc.constantFrom(...'0123456789.-+e '.split('').map((c) => c.charCodeAt(0)), 0, 255);
    fc.assert(
      fc.property(fc.array(fc.oneof(alphabet, fc.integer({ min: 0, max: 255 })), { maxLength: 30 }), fc.constantFrom(MAX, MAX_PRICE_TICKS), (arr, max) => {
        const bytes = Uint8Array.from(arr);
        const t = parseDecimalTicks(bytes, 0, bytes.length, max);
        expect(t === INVALID || (Number.isSafeInteger(t) && t >= 0 && t <= max)).toBe(true);
        const u = parseUint(bytes, 0, bytes.length, max);
        expect(u === INVALID || (Number.isSafeInteger(u) && u >= 0 && u <= max)).toBe(true);
        expect(t).toBe(referenceParse(Buffer.from(bytes).toString('latin1'), max));
      }),
      { numRuns: 5000 },
    );
  });

  it('missedFillPriceTicks recovers a lost fill\'s price from the venue\'s AvgPx, to 18 decimals', () => {
    const fillArb = fc.tuple(fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 1, max: 1_000_000_000 }));
    fc.assert(
      fc.property(fc.array(fillArb, { maxLength: 8 }), fillArb, (known, [lostQty, lostPx]) => {
        let knownQty = 0;
        let knownNotional = 0;
        for (const [q, p] of known) {
          knownQty += q;
          knownNotional += q * p;
        }
        const cum = knownQty + lostQty;
        fc.pre(cum <= MAX_QTY && Number.isSafeInteger(knownNotional + lostQty * lostPx));
        // The venue's average, in units of 10^-18, rounded half up: the text it would send.
        const total = BigInt(knownNotional) + BigInt(lostQty) * BigInt(lostPx);
        const atto = (2n * total * 10n ** 12n + BigInt(cum)) / (2n * BigInt(cum));
        const text = `${atto / 10n ** 18n}.${(atto % 10n ** 18n).toString().padStart(18, '0')}`;
        const bytes = Buffer.from(text, 'latin1');
        expect(missedFillPriceTicks(bytes, 0, bytes.length, cum, lostQty, knownNotional, MAX_PRICE_TICKS)).toBe(lostPx);
      }),
      { numRuns: 3000 },
    );
  });

  it('ticksFromJsonNumber(t / 1e6) = t for every price in range', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_PRICE_TICKS }), (ticks) => {
        expect(ticksFromJsonNumber(ticks / PRICE_SCALE, MAX_PRICE_TICKS)).toBe(ticks);
      }),
      { numRuns: 5000 },
    );
  });
});
