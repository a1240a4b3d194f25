/**
 * Goal: positions follow the average-cost method exactly, in integer ticks. Method: scripted
 * fills with known answers, then a property: for any sequence of fills, cash flows reconcile
 * with realized P&L and the cost of what is still held, to the tick.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PositionBook } from './positions.ts';

const T = 1_000_000; // ticks per currency unit

describe('PositionBook', () => {
  it('buys accumulate quantity and cost; the average is cost over quantity', () => {
    const b = new PositionBook(2, 1);
    const c = b.applyFill(1, 0, 100, 10 * T);
    b.applyFill(1, 0, 100, 12 * T);
    expect(b.qty[c]).toBe(200);
    expect(b.costTicks[c]).toBe(2200 * T);
    expect(b.avgCostTicks(c)).toBe(11 * T);
    expect(b.realizedTicks[c]).toBe(0);
  });

  it('a partial sell realizes (price - average) per share and keeps the average of the rest', () => {
    const b = new PositionBook(2, 1);
    const c = b.applyFill(1, 0, 200, 11 * T);
    b.applyFill(1, 0, -50, 15 * T);
    expect(b.qty[c]).toBe(150);
    expect(b.realizedTicks[c]).toBe(200 * T);
    expect(b.avgCostTicks(c)).toBe(11 * T);
  });

  it('a sell through flat closes the long and opens a short at the fill price', () => {
    const b = new PositionBook(2, 1);
    const c = b.applyFill(1, 0, 100, 10 * T);
    b.applyFill(1, 0, -150, 9 * T);
    expect(b.qty[c]).toBe(-50);
    expect(b.realizedTicks[c]).toBe(-100 * T);
    expect(b.costTicks[c]).toBe(450 * T);
    expect(b.avgCostTicks(c)).toBe(9 * T);
  });

  it('a short covered below its sale price is a gain', () => {
    const b = new PositionBook(2, 1);
    const c = b.applyFill(1, 0, -100, 20 * T);
    b.applyFill(1, 0, 100, 18 * T);
    expect(b.qty[c]).toBe(0);
    expect(b.realizedTicks[c]).toBe(200 * T);
    expect(b.costTicks[c]).toBe(0);
    expect(b.avgCostTicks(c)).toBe(0);
  });

  it('accounts and symbols are separate cells', () => {
    const b = new PositionBook(3, 2);
    b.applyFill(1, 1, 10, T);
    expect(b.qty[b.cell(1, 0)]).toBe(0);
    expect(b.qty[b.cell(2, 1)]).toBe(0);
    expect(b.qty[b.cell(1, 1)]).toBe(10);
  });

  it('property: cash reconciles with realized P&L and held cost to the tick; flat means cost 0', () => {
    const fill = fc.record({ qty: fc.integer({ min: 1, max: 10_000 }), buy: fc.boolean(), px: fc.integer({ min: 1, max: 1_000 * T }) });
    fc.assert(
      fc.property(fc.array(fill, { minLength: 1, maxLength: 200 }), (fills) => {
        const b = new PositionBook(2, 1);
        let cash = 0; // sells bring cash in, buys pay it out
        let net = 0;
        let cell = 0;
        for (const f of fills) {
          const signed = f.buy ? f.qty : -f.qty;
          cell = b.applyFill(1, 0, signed, f.px);
          cash += f.buy ? -f.qty * f.px : f.qty * f.px;
          net += signed;
          expect(Number.isSafeInteger(b.costTicks[cell])).toBe(true);
          expect(b.costTicks[cell]).toBeGreaterThanOrEqual(0);
        }
        expect(b.qty[cell]).toBe(net);
        // Long: realized = cash + cost still held. Short: realized = cash - cost owed.
        const held = net > 0 ? b.costTicks[cell] : net < 0 ? -b.costTicks[cell] : 0;
        expect(b.realizedTicks[cell]).toBe(cash + held);
        if (net === 0) expect(b.costTicks[cell]).toBe(0);
      }),
      { numRuns: 300 },
    );
  });
});
