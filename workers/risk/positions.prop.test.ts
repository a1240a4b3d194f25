// Goal: taking a fill back with the opposite trade at its price (how RiskStage.rebookTrade busts
// a fill) leaves the position's quantity and its total P&L at any mark exactly as if the fill had
// never happened, whatever came between; the split between realized and unrealized may differ.
// Method: fast-check sequences of integer trades on two books, one with a fill busted later.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PositionBook } from './positions.ts';
import { unrealizedTicks } from './risk-stage.ts';

/** Total P&L at mark: realized plus what the open quantity would close at mark. */
function total(p: PositionBook, cell: number, mark: number): number {
  return p.realizedTicks[cell] + unrealizedTicks(p.qty[cell], p.costTicks[cell], mark);
}

const trade = fc.tuple(fc.integer({ min: -500, max: 500 }).filter((q) => q !== 0), fc.integer({ min: 1, max: 2_000_000 }));

describe('a bust as the opposite trade', () => {
  it('quantity and total P&L equal those of the trades without the busted one', () => {
    fc.assert(
      fc.property(fc.array(trade, { minLength: 1, maxLength: 40 }), fc.nat(), fc.nat(), fc.integer({ min: 1, max: 3_000_000 }), (trades, pick, bustAfter, mark) => {
        const busted = pick % trades.length;
        const when = busted + (bustAfter % (trades.length - busted));
        const withBust = new PositionBook(1, 1);
        const without = new PositionBook(1, 1);
        trades.forEach(([q, px], i) => {
          withBust.applyFill(0, 0, q, px);
          if (i !== busted) without.applyFill(0, 0, q, px);
          if (i === when) withBust.applyFill(0, 0, -trades[busted][0], trades[busted][1]);
        });
        expect(withBust.qty[0]).toBe(without.qty[0]);
        expect(total(withBust, 0, mark)).toBe(total(without, 0, mark));
        expect(Number.isSafeInteger(withBust.costTicks[0]) && withBust.costTicks[0] >= 0).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});
