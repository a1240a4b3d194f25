// Goal: the venue's order lifecycle — New then fills across levels at maker prices, IOC
// remainder canceled, FOK all-or-nothing, market orders, resting limits filled later by the
// market maker's walk, cancels and cancel rejects, fees, rejects — and determinism by seed.
// Method: a VenueCore with a recording sink; books seeded by makerQuote or the market maker.
import { describe, expect, it } from 'vitest';
import { MarketMaker } from './market-maker.ts';
import { Side } from './order-book.ts';
import { CxlRejReason, ExecType, OrdStatus, OrdType, TimeInForce, VenueCore, type CancelRejectEvent, type ExecEvent, type ExecutionSink } from './venue-core.ts';

const PX = 1_000_000; // one currency unit in ticks
const TICK = 10_000;

class Sink implements ExecutionSink {
  execs: ExecEvent[] = [];
  cancelRejects: CancelRejectEvent[] = [];
  onExecution(e: ExecEvent): void {
    this.execs.push(e);
  }
  onCancelReject(e: CancelRejectEvent): void {
    this.cancelRejects.push(e);
  }
  kinds(): string[] {
    return this.execs.map((e) => String.fromCharCode(e.execType) + String.fromCharCode(e.ordStatus));
  }
}

function core(opts: { feeBps?: number; rejectProbability?: number; seed?: number } = {}) {
  const sink = new Sink();
  const c = new VenueCore({ name: 'V1', symbols: [{ symbol: 'AAPL', startPriceTicks: 100 * PX }], feeBps: opts.feeBps ?? 0, rejectProbability: opts.rejectProbability ?? 0, tickSizeTicks: TICK, seed: opts.seed ?? 1 }, sink);
  return { c, sink };
}

/** Asks of 100 at 100.01, 100.02, 100.03 and bids of 100 at 99.99, 99.98, 99.97. */
function ladder(c: VenueCore): void {
  for (let k = 1; k <= 3; k++) {
    c.makerQuote(0, Side.SELL, 100 * PX + k * TICK, 100);
    c.makerQuote(0, Side.BUY, 100 * PX - k * TICK, 100);
  }
}

describe('VenueCore', () => {
  it('a marketable limit order fills across levels, partially, then rests', () => {
    const { c, sink } = core();
    ladder(c);
    c.submit('cli', 'C1', 'AAPL', Side.BUY, OrdType.LIMIT, TimeInForce.DAY, 250, 100 * PX + 2 * TICK);
    expect(sink.kinds()).toEqual(['00', 'F1', 'F1']);
    const [, f1, f2] = sink.execs;
    expect([f1.lastQty, f1.lastPxTicks, f2.lastQty, f2.lastPxTicks]).toEqual([100, 100_010_000, 100, 100_020_000]);
    expect(f2.leavesQty).toBe(50);
    expect(f2.cumQty).toBe(200);
    expect(f2.avgPxTicks).toBe(100_015_000);
    expect(c.books[0].bestBid()).toBe(100 * PX + 2 * TICK); // the remainder rests
  });

  it('IOC: the remainder is canceled', () => {
    const { c, sink } = core();
    ladder(c);
    c.submit('cli', 'C1', 'AAPL', Side.SELL, OrdType.LIMIT, TimeInForce.IOC, 150, 100 * PX - 1 * TICK);
    expect(sink.kinds()).toEqual(['00', 'F1', '44']);
    expect(sink.execs[2].leavesQty).toBe(0);
    expect(sink.execs[2].cumQty).toBe(100);
    expect(c.books[0].bestBid()).toBe(100 * PX - 2 * TICK);
  });

  it('FOK: nothing trades unless all of it can', () => {
    const { c, sink } = core();
    ladder(c);
    c.submit('cli', 'C1', 'AAPL', Side.BUY, OrdType.LIMIT, TimeInForce.FOK, 250, 100 * PX + 2 * TICK);
    expect(sink.kinds()).toEqual(['00', '44']);
    expect(c.books[0].levelQty(Side.SELL, 0)).toBe(100);
    c.submit('cli', 'C2', 'AAPL', Side.BUY, OrdType.LIMIT, TimeInForce.FOK, 250, 100 * PX + 3 * TICK);
    expect(sink.kinds().slice(2)).toEqual(['00', 'F1', 'F1', 'F2']);
  });

  it('a market order walks the book and cancels what it cannot fill', () => {
    const { c, sink } = core();
    ladder(c);
    c.submit('cli', 'M1', 'AAPL', Side.BUY, OrdType.MARKET, TimeInForce.DAY, 350, 0);
    expect(sink.kinds()).toEqual(['00', 'F1', 'F1', 'F1', '44']);
    expect(sink.execs[4].cumQty).toBe(300);
  });

  it('a resting limit order fills when the market maker quotes through it', () => {
    const { c, sink } = core();
    c.submit('cli', 'P1', 'AAPL', Side.SELL, OrdType.LIMIT, TimeInForce.GTC, 50, 101 * PX);
    expect(sink.kinds()).toEqual(['00']);
    c.makerQuote(0, Side.BUY, 101 * PX + TICK, 80); // the walk reaches it
    expect(sink.kinds()).toEqual(['00', 'F2']);
    expect(sink.execs[1].lastPxTicks).toBe(101 * PX); // at the resting order's price
    expect(c.books[0].bestBid()).toBe(101 * PX + TICK); // the maker's remainder rests
  });

  it('the seeded walk eventually fills a passive order', () => {
    const { c, sink } = core({ seed: 3 });
    const mm = new MarketMaker(c, { seed: 3, levels: 3, maxStepTicks: 2 });
    mm.quoteAll();
    c.submit('cli', 'P1', 'AAPL', Side.BUY, OrdType.LIMIT, TimeInForce.GTC, 10, 100 * PX - 6 * TICK);
    expect(sink.kinds()).toEqual(['00']);
    let steps = 0;
    while (sink.execs.length === 1 && steps < 100_000) {
      mm.step();
      steps++;
    }
    expect(sink.kinds()).toEqual(['00', 'F2']);
  });

  it('cancel: canceled report with both ClOrdIDs, then cancel rejects for done and unknown orders', () => {
    const { c, sink } = core();
    c.submit('cli', 'C1', 'AAPL', Side.BUY, OrdType.LIMIT, TimeInForce.DAY, 10, 99 * PX);
    c.cancel('cli', 'X1', 'C1');
    const x = sink.execs[1];
    expect([String.fromCharCode(x.execType), x.clOrdId, x.origClOrdId, x.leavesQty]).toEqual(['4', 'X1', 'C1', 0]);
    expect(c.books[0].bestBid()).toBe(-1);
    c.cancel('cli', 'X2', 'C1');
    c.cancel('cli', 'X3', 'NOPE');
    c.cancel('other-client', 'X4', 'X1'); // ClOrdIDs are per client
    expect(sink.cancelRejects.map((r) => [r.cxlRejReason, r.orderId])).toEqual([
      [CxlRejReason.TOO_LATE, 'V1-1'],
      [CxlRejReason.UNKNOWN_ORDER, 'NONE'],
      [CxlRejReason.UNKNOWN_ORDER, 'NONE'],
    ]);
    expect(sink.cancelRejects[0].ordStatus).toBe(OrdStatus.CANCELED);
  });

  it('rejects unknown symbols, duplicate ClOrdIDs and off-tick prices', () => {
    const { c, sink } = core();
    c.submit('cli', 'A', 'NOPE', Side.BUY, OrdType.LIMIT, TimeInForce.DAY, 10, 99 * PX);
    c.submit('cli', 'B', 'AAPL', Side.BUY, OrdType.LIMIT, TimeInForce.DAY, 10, 99 * PX);
    c.submit('cli', 'B', 'AAPL', Side.BUY, OrdType.LIMIT, TimeInForce.DAY, 10, 99 * PX);
    c.submit('cli', 'C', 'AAPL', Side.BUY, OrdType.LIMIT, TimeInForce.DAY, 10, 99 * PX + 1);
    expect(sink.kinds()).toEqual(['88', '00', '88', '88']);
    expect(sink.execs.filter((e) => e.execType === ExecType.REJECTED).map((e) => e.text)).toEqual(['unknown symbol', 'duplicate ClOrdID', 'price not a multiple of the tick size']);
  });

  it('charges the fee in basis points of notional', () => {
    const { c, sink } = core({ feeBps: 2 });
    ladder(c);
    c.submit('cli', 'C1', 'AAPL', Side.BUY, OrdType.MARKET, TimeInForce.IOC, 100, 0);
    expect(sink.execs[1].commissionTicks).toBe(Math.round((100 * 100_010_000 * 2) / 10_000)); // 2.0002 units
  });

  it('rejects with the configured probability, deterministically by seed', () => {
    const run = (seed: number) => {
      const { c, sink } = core({ rejectProbability: 0.3, seed });
      for (let i = 0; i < 200; i++) c.submit('cli', `C${i}`, 'AAPL', Side.BUY, OrdType.LIMIT, TimeInForce.DAY, 1, 90 * PX);
      return sink.execs.filter((e) => e.execType === ExecType.REJECTED).map((e) => e.clOrdId);
    };
    const a = run(11);
    expect(a.length).toBeGreaterThan(30);
    expect(a.length).toBeLessThan(90);
    expect(run(11)).toEqual(a);
    expect(run(12)).not.toEqual(a);
  });

  it('the same seed and order sequence give the same reports', () => {
    const run = () => {
      const { c, sink } = core({ seed: 5 });
      const mm = new MarketMaker(c, { seed: 5 });
      mm.quoteAll();
      for (let i = 0; i < 300; i++) {
        mm.step();
        const side = i % 2 === 0 ? Side.BUY : Side.SELL;
        c.submit('cli', `C${i}`, 'AAPL', side, i % 3 === 0 ? OrdType.MARKET : OrdType.LIMIT, TimeInForce.DAY, 50 + i, 100 * PX + ((i % 7) - 3) * TICK);
      }
      return sink.execs.map((e) => `${e.clOrdId}:${e.execType}:${e.lastQty}@${e.lastPxTicks}`).join(',');
    };
    expect(run()).toBe(run());
  });
});
