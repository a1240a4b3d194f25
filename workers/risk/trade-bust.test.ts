// Goal: a venue's bust (ExecType H) or correction (G) of a fill is applied by the risk stage, as
// RiskStage.onTradeCorrection documents: the fill named by ExecRefID is taken back from its order
// (cumQty, notional, state by the machine's TRADE_BUST / TRADE_REPRICE) and its position, the
// corrected trade booked in its place, and the client told with ExecType TRADE_CANCEL /
// TRADE_CORRECT whose execRefSeq is the busted fill's report's eventSeq; what cannot be applied
// (unknown fill, already busted, another order's fill, a correction raising the quantity or
// without a valid trade) changes nothing and is counted.
// Method: the risk harness (real rings, real stage), a fill's ExecID and a bust's ExecRefID
// carried as the fix stage carries them.
import { describe, expect, it } from 'vitest';
import { ChildEventKind, RecordType } from '../../codecs/records.ts';
import { RiskCounter } from '../../engine/counters.ts';
import { Side } from '../../engine/domain.ts';
import { PRICE_SCALE } from '../../engine/fixed-point.ts';
import { ExecType, OrderState } from '../../engine/order-state.ts';
import { Reason } from '../../engine/reasons.ts';
import { execIdHash } from '../fix/exec-id-set.ts';
import { BASE_CHILD, Harness, accept, route } from './risk-harness.fixture.ts';

const VENUE = 2;
const PX = 10 * PRICE_SCALE;

/** A fill with the venue's ExecID; returns its report's eventSeq. */
function fill(h: Harness, childId: number, orderId: number, qty: number, px: number, execId: string): number {
  h.fill(childId, orderId, qty, px, VENUE, execId);
  const r = h.step().ingest;
  expect(r.length).toBe(1);
  expect(r[0].venueExecIdHash).toBe(hashOf(execId));
  expect(r[0].execRefSeq).toBe(0);
  return r[0].eventSeq;
}

function hashOf(execId: string): number {
  const b = Buffer.from(execId, 'latin1');
  return execIdHash(VENUE, b, 0, b.length);
}

function cell(h: Harness, account = 1, symbol = 0) {
  const p = h.stage.positions;
  const c = p.cell(account, symbol);
  return { qty: p.qty[c], cost: p.costTicks[c], realized: p.realizedTicks[c] };
}

const unapplied = (h: Harness) => h.counters.get(RiskCounter.TRADE_CORRECTIONS_UNAPPLIED);

describe('venue busts and corrections of fills', () => {
  it('a bust of a filled order\'s fill: cumQty and notional fall, FILLED -> CANCELED, the position takes the trade back, the client gets ExecType H naming the fill\'s report', () => {
    const h = new Harness();
    const id = accept(h, { qty: 100 });
    const child = BASE_CHILD + 1;
    route(h, id, child, 100, PX, VENUE);
    const seq1 = fill(h, child, id, 40, 9_990_000, 'X-1');
    fill(h, child, id, 60, PX, 'X-2');
    expect(h.state(id)).toBe(OrderState.FILLED);
    expect(cell(h).qty).toBe(100);

    h.tradeCorrection(ChildEventKind.TRADE_CANCEL, child, id, 40, 9_990_000, VENUE, 'B-1', 'X-1');
    const command = h.lastCommand;
    const out = h.step();
    expect(out.ingest.length).toBe(1);
    expect(out.ingest[0]).toMatchObject({
      orderId: id, execType: ExecType.TRADE_CANCEL, state: OrderState.CANCELED, lastQty: 40, lastPx: 9_990_000,
      cumQty: 60, leavesQty: 0, cumNotional: 60 * PX, venueId: VENUE, execRefSeq: seq1, venueExecIdHash: hashOf('X-1'),
    });
    expect(out.journal.map((j) => j.typeId)).toEqual([RecordType.CHILD_EVENT, RecordType.EXEC_REPORT]);
    expect(Buffer.from(out.journal[0].raw).equals(command)).toBe(true);
    expect(Buffer.from(out.journal[1].raw).equals(out.ingest[0].raw)).toBe(true);
    // The opposite trade at the busted price: the quantity and the total P&L at any mark (realized
    // - cost + qty x mark, long) are those of the 60 at 10.00 alone; average cost moves 0.24 of the
    // 40's cheaper cost into realized.
    expect(h.reportsIngest.positions.at(-1)).toMatchObject({ qty: 60, costTicks: 599_760_000, realizedTicks: -240_000 });
    expect(cell(h)).toEqual({ qty: 60, cost: 599_760_000, realized: -240_000 });
    expect(cell(h).cost - cell(h).realized).toBe(60 * PX);
    expect(h.state(id)).toBe(OrderState.CANCELED);
    expect(h.counters.get(RiskCounter.TRADE_BUSTS)).toBe(1);
    expect(unapplied(h)).toBe(0);

    // The venue busting it again (another ExecID, the same ExecRefID): refused, counted.
    h.tradeCorrection(ChildEventKind.TRADE_CANCEL, child, id, 40, 9_990_000, VENUE, 'B-2', 'X-1');
    expect(h.step().ingest).toEqual([]);
    expect(unapplied(h)).toBe(1);
    expect(cell(h).qty).toBe(60);
    // The other fill can still be busted: the order stays CANCELED with nothing filled.
    h.tradeCorrection(ChildEventKind.TRADE_CANCEL, child, id, 0, 0, VENUE, 'B-3', 'X-2');
    expect(h.step().ingest[0]).toMatchObject({ execType: ExecType.TRADE_CANCEL, state: OrderState.CANCELED, cumQty: 0, cumNotional: 0, lastQty: 60, lastPx: PX });
    expect(cell(h)).toEqual({ qty: 0, cost: 0, realized: 0 }); // the 0.24 comes back with the last 60
  });

  it('a bust while the order works: PARTIALLY_FILLED -> ROUTED when nothing stays filled, leaves grow, and the order ends CANCELED when its child ends', () => {
    const h = new Harness();
    const id = accept(h, { qty: 100 });
    const child = BASE_CHILD + 1;
    route(h, id, child, 100, PX, VENUE);
    fill(h, child, id, 30, PX, 'F-1');
    expect(h.state(id)).toBe(OrderState.PARTIALLY_FILLED);
    h.tradeCorrection(ChildEventKind.TRADE_CANCEL, child, id, 30, PX, VENUE, 'B-1', 'F-1');
    expect(h.step().ingest[0]).toMatchObject({ execType: ExecType.TRADE_CANCEL, state: OrderState.ROUTED, cumQty: 0, leavesQty: 100, lastQty: 30 });
    expect(h.state(id)).toBe(OrderState.ROUTED);
    // The child keeps what the venue executed of it: a later fill of more than its rest is refused.
    h.fill(child, id, 71, PX, VENUE, 'F-2');
    expect(h.step().ingest).toEqual([]);
    expect(h.counters.get(RiskCounter.OVERFILLS)).toBe(1);
    h.fill(child, id, 70, PX, VENUE, 'F-3');
    // The child is done at the venue (30 + 70): the order has 70 of 100 and nothing working.
    expect(h.step().ingest.map((r) => [r.execType, r.state, r.cumQty])).toEqual([
      [ExecType.PARTIAL_FILL, OrderState.PARTIALLY_FILLED, 70], [ExecType.CANCELED, OrderState.CANCELED, 70],
    ]);
    expect(h.stage.orders.cumQty[h.slot(id)]).toBe(70);
    expect(cell(h).qty).toBe(70);
  });

  it('a correction of the price only: the state stays, the notional and the position\'s cost follow the corrected price', () => {
    const h = new Harness();
    const id = accept(h, { qty: 100 });
    const child = BASE_CHILD + 1;
    route(h, id, child, 100, PX, VENUE);
    const seq = fill(h, child, id, 100, PX, 'F-1');
    h.tradeCorrection(ChildEventKind.TRADE_CORRECT, child, id, 100, 9 * PRICE_SCALE, VENUE, 'C-1', 'F-1');
    expect(h.step().ingest[0]).toMatchObject({
      execType: ExecType.TRADE_CORRECT, state: OrderState.FILLED, lastQty: 100, lastPx: 9 * PRICE_SCALE, cumQty: 100,
      cumNotional: 100 * 9 * PRICE_SCALE, execRefSeq: seq,
    });
    expect(cell(h)).toEqual({ qty: 100, cost: 100 * 9 * PRICE_SCALE, realized: 0 });
    expect(h.counters.get(RiskCounter.TRADE_CORRECTIONS)).toBe(1);
    // The ledger holds the trade as corrected: a bust of it now takes back 100 at 9.
    h.tradeCorrection(ChildEventKind.TRADE_CANCEL, child, id, 0, 0, VENUE, 'B-1', 'F-1');
    expect(h.step().ingest[0]).toMatchObject({ execType: ExecType.TRADE_CANCEL, state: OrderState.CANCELED, lastQty: 100, lastPx: 9 * PRICE_SCALE, cumQty: 0 });
    expect(cell(h)).toEqual({ qty: 0, cost: 0, realized: 0 });
  });

  it('a correction to less quantity is a bust of the difference: FILLED -> CANCELED with the corrected trade booked', () => {
    const h = new Harness();
    const id = accept(h, { qty: 100, side: Side.SELL, clOrdId: 'S' });
    const child = BASE_CHILD + 1;
    route(h, id, child, 100, PX, VENUE);
    fill(h, child, id, 100, PX, 'F-1');
    expect(cell(h).qty).toBe(-100);
    h.tradeCorrection(ChildEventKind.TRADE_CORRECT, child, id, 80, 11 * PRICE_SCALE, VENUE, 'C-1', 'F-1');
    expect(h.step().ingest[0]).toMatchObject({ execType: ExecType.TRADE_CORRECT, state: OrderState.CANCELED, lastQty: 80, lastPx: 11 * PRICE_SCALE, cumQty: 80, cumNotional: 80 * 11 * PRICE_SCALE });
    expect(cell(h)).toEqual({ qty: -80, cost: 80 * 11 * PRICE_SCALE, realized: 0 });
  });

  it('refused and counted, nothing changed: an unknown ExecRefID, none, another order\'s fill, a correction raising the quantity or without a trade', () => {
    const h = new Harness();
    const a = accept(h, { qty: 100, clOrdId: 'A' });
    const b = accept(h, { qty: 100, clOrdId: 'B' });
    route(h, a, BASE_CHILD + 1, 100, PX, VENUE);
    route(h, b, BASE_CHILD + 2, 100, PX, VENUE);
    fill(h, BASE_CHILD + 1, a, 50, PX, 'FA');
    fill(h, BASE_CHILD + 2, b, 50, PX, 'FB');
    const before = () => [h.stage.orders.cumQty[h.slot(a)], h.stage.orders.cumNotional[h.slot(a)], h.state(a), cell(h).qty, cell(h).cost];
    const was = before();
    const tries: [number, number, number, string, string][] = [
      [ChildEventKind.TRADE_CANCEL, 50, PX, 'B-1', 'NOPE'],
      [ChildEventKind.TRADE_CANCEL, 50, PX, 'B-2', ''],
      [ChildEventKind.TRADE_CANCEL, 50, PX, 'B-3', 'FB'], // b's fill, reported for a's child
      [ChildEventKind.TRADE_CORRECT, 51, PX, 'C-1', 'FA'],
      [ChildEventKind.TRADE_CORRECT, 0, PX, 'C-2', 'FA'],
      [ChildEventKind.TRADE_CORRECT, 50, 0, 'C-3', 'FA'],
      [ChildEventKind.TRADE_CORRECT, 2.5, PX, 'C-4', 'FA'],
    ];
    for (const [kind, qty, px, execId, ref] of tries) h.tradeCorrection(kind, BASE_CHILD + 1, a, qty, px, VENUE, execId, ref);
    const out = h.step();
    expect(out.ingest).toEqual([]);
    // Each is journaled all the same (the audit trail).
    expect(out.journal.filter((j) => j.typeId === RecordType.CHILD_EVENT).length).toBe(tries.length);
    expect(unapplied(h)).toBe(tries.length);
    expect(before()).toEqual(was);
    // The same ExecRefID at another venue is another fill.
    h.tradeCorrection(ChildEventKind.TRADE_CANCEL, BASE_CHILD + 1, a, 50, PX, VENUE + 1, 'B-4', 'FA');
    expect(h.step().ingest).toEqual([]);
    expect(unapplied(h)).toBe(tries.length + 1);
    expect(h.counters.get(RiskCounter.TRADE_BUSTS) + h.counters.get(RiskCounter.TRADE_CORRECTIONS)).toBe(0);
  });
});
