// Goal: no two fields of any ring record overlap and every value survives a write/read at any
// offset: all fields set to random values in a random order, then all read back equal, and the
// bytes around the record keep their canaries. Method: fast-check over every flyweight.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CL_ORD_ID_CAPACITY } from '../engine/domain.ts';
import {
  type Kind,
  RECORDS,
  fieldAccess,
  bytesAccess,
} from './records.fixture.ts';
import { EXEC_REPORT_LENGTH, ExecReportFlyweight } from './records.ts';
import { MAX_PRICE_TICKS, PRICE_SCALE, averagePriceTicks } from '../engine/fixed-point.ts';

type Value = number | boolean | Uint8Array;

function valueArb(kind: Kind): fc.Arbitrary<Value> {
  switch (kind) {
    case 'f64': return fc.oneof(fc.maxSafeInteger(), fc.double({ noNaN: true }));
    case 'u32': return fc.integer({ min: 0, max: 0xffffffff });
    case 'u16': return fc.integer({ min: 0, max: 0xffff });
    case 'u8': return fc.integer({ min: 0, max: 0xff });
    case 'bool': return fc.boolean();
    case 'bytes': return fc.uint8Array({ minLength: 0, maxLength: CL_ORD_ID_CAPACITY });
  }
}

const CANARY = 0x5a;

for (const spec of RECORDS) {
  describe(spec.name, () => {
    it('all fields set in random order at a random offset read back equal; canaries intact', () => {
      const caseArb = fc.record({
        values: fc.tuple(...spec.fields.map((f) => valueArb(f.kind))),
        order: fc.shuffledSubarray(spec.fields.map((_, i) => i), { minLength: spec.fields.length }),
        offset: fc.integer({ min: 1, max: 64 }),
        tail: fc.integer({ min: 1, max: 32 }),
      });
      fc.assert(
        fc.property(caseArb, ({ values, order, offset, tail }) => {
          const buf = new ArrayBuffer(offset + spec.length + tail);
          const bytes = new Uint8Array(buf);
          bytes.fill(CANARY);
          const fw = spec.make().wrap(new DataView(buf), bytes, offset);
          for (const i of order) {
            const f = spec.fields[i];
            const v = values[i];
            if (f.kind === 'bytes') {
              const src = v as Uint8Array;
              expect(bytesAccess(fw, f).set(src, 0, src.length)).toBe(true);
            } else {
              fieldAccess(fw, f).set(v as number | boolean);
            }
          }
          spec.fields.forEach((f, i) => {
            if (f.kind === 'bytes') {
              const src = values[i] as Uint8Array;
              const acc = bytesAccess(fw, f);
              expect(acc.length()).toBe(src.length);
              const out = new Uint8Array(CL_ORD_ID_CAPACITY);
              expect(acc.copy(out, 0)).toBe(src.length);
              expect(Array.from(out.subarray(0, src.length))).toEqual(Array.from(src));
            } else {
              expect(fieldAccess(fw, f).get(), f.name).toBe(values[i]);
            }
          });
          for (let i = 0; i < offset; i++) expect(bytes[i]).toBe(CANARY);
          for (let i = offset + spec.length; i < bytes.length; i++) expect(bytes[i]).toBe(CANARY);
        }),
        { numRuns: 300 },
      );
    });
  });
}

describe('EXEC_REPORT split prices (what the report writer reads)', () => {
  it('units * PRICE_SCALE + fraction is the price, last price and average price, fraction in [0, PRICE_SCALE), both small integers', () => {
    const ticks = fc.oneof(fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), fc.integer({ min: 0, max: MAX_PRICE_TICKS }));
    fc.assert(
      // Average: cumQty shares filled around lastPx (notional within one tick per share of it).
      fc.property(ticks, ticks, fc.integer({ min: 1, max: 500 }), fc.integer({ min: 0, max: 499 }), (price, lastPx, cumQty, extra) => {
        const bytes = new Uint8Array(8 + EXEC_REPORT_LENGTH);
        const r = new ExecReportFlyweight().wrap(new DataView(bytes.buffer), bytes, 8);
        const notional = lastPx * cumQty + (extra % cumQty);
        r.setPriceTicks(price).setLastPxTicks(lastPx).setCumNotionalTicks(notional);
        expect(r.hasPrice()).toBe(price > 0);
        const parts: Array<[number, number, number]> = [
          [r.priceUnits(), r.priceFraction(), price],
          [r.lastPxUnits(), r.lastPxFraction(), lastPx],
          [r.averagePriceUnits(cumQty), r.averagePriceFraction(cumQty), averagePriceTicks(notional, cumQty)],
        ];
        for (const [units, fraction, t] of parts) {
          expect(units * PRICE_SCALE + fraction).toBe(t);
          expect(Number.isInteger(fraction) && fraction >= 0 && fraction < PRICE_SCALE).toBe(true);
          expect(Math.abs(units) < 2 ** 30).toBe(true);
        }
      }),
      { seed: 20261122, numRuns: 2000 },
    );
  });
});
