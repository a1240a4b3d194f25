// Goal: the risk stage, driven by hand on one thread, answers every client command and venue
// event as documented: accepts or rejects (with the reason) new orders, reports to the client
// ring the order came from and journals every command and report, routes accepted orders,
// applies fills to the order and the position, cancels and replaces through the children, and
// never loses a record under back-pressure.
// Method: six real rings (createRingMemory), commands and venue events written with the record
// flyweights, stage.doWork() until idle, outputs decoded from the outbound rings; ManualClock.
import { describe, expect, it } from 'vitest';
import { EXEC_REPORT_LENGTH, RecordType } from '../../codecs/records.ts';
import { RiskCounter } from '../../engine/counters.ts';
import { OrdType, Side, Source, Tif } from '../../engine/domain.ts';
import { MAX_PRICE_TICKS, MAX_QTY, PRICE_SCALE } from '../../engine/fixed-point.ts';
import { ExecType, OrderState, isTerminal } from '../../engine/order-state.ts';
import { Reason } from '../../engine/reasons.ts';
import { FULL } from '../../engine/ring.ts';
import {
  BASE_CHILD,
  type OrderArgs,
  type CancelArgs,
  ORDER_DEFAULTS,
  defaultConfig,
  Harness,
  accept,
  route,
  tableOf,
} from './risk-harness.fixture.ts';

function expectReject(h: Harness, args: Partial<OrderArgs>, reason: number): void {
  const next = h.stage.orders.peekNextOrderId();
  const rejected = h.counters.get(RiskCounter.ORDERS_REJECTED);
  h.newOrder(args);
  const command = h.lastCommand;
  const out = h.step();
  const reports = args.source === Source.FIX ? out.fixClients : out.ingest;
  const other = args.source === Source.FIX ? out.ingest : out.fixClients;
  expect(other).toEqual([]);
  expect(reports.length).toBe(1);
  const r = reports[0];
  expect(r.reason).toBe(reason);
  expect(r.execType).toBe(ExecType.REJECTED);
  expect(r.state).toBe(OrderState.REJECTED);
  expect(r.orderId).toBe(0);
  expect(r.leavesQty).toBe(0);
  expect(r.clOrdId).toBe(args.clOrdId ?? ORDER_DEFAULTS.clOrdId);
  expect(r.connId).toBe(args.conn ?? ORDER_DEFAULTS.conn);
  expect(r.requestId).toBe(args.request ?? ORDER_DEFAULTS.request);
  expect(out.sor).toEqual([]);
  expect(out.journal.map((j) => j.typeId)).toEqual([RecordType.NEW_ORDER, RecordType.EXEC_REPORT]);
  expect(Buffer.from(out.journal[0].raw).equals(command)).toBe(true);
  expect(Buffer.from(out.journal[1].raw).equals(r.raw)).toBe(true);
  expect(h.stage.orders.peekNextOrderId()).toBe(next);
  expect(h.counters.get(RiskCounter.ORDERS_REJECTED)).toBe(rejected + 1);
}

describe('RiskStage: new orders', () => {
  it('accepts an order: NEW report to the ingest ring, ROUTE_REQUEST to sor, journal copies', () => {
    const h = new Harness();
    h.clock.advanceNs(250);
    h.newOrder({ qty: 300, price: 12_340_000, clOrdId: 'ABC-1', conn: 11, request: 42, recvNs: 777 });
    const command = h.lastCommand;
    const out = h.step();
    expect(out.fixClients).toEqual([]);
    expect(out.ingest.length).toBe(1);
    const r = out.ingest[0];
    expect(r).toMatchObject({
      eventSeq: 1, orderId: 1, timeNs: h.clock.nowNs(), recvNs: 777, qty: 300, price: 12_340_000,
      lastQty: 0, lastPx: 0, cumQty: 0, leavesQty: 300, cumNotional: 0, connId: 11, accountId: 1,
      symbolId: 0, requestId: 42, reason: Reason.NONE, venueId: 0, execType: ExecType.NEW,
      state: OrderState.NEW, side: Side.BUY, ordType: OrdType.LIMIT, tif: Tif.DAY, source: Source.INGEST,
      clOrdId: 'ABC-1', origClOrdId: '',
    });
    expect(out.sor).toEqual([{
      typeId: RecordType.ROUTE_REQUEST, orderId: 1, qty: 300, price: 12_340_000, accountId: 1, symbolId: 0,
      side: Side.BUY, ordType: OrdType.LIMIT, tif: Tif.DAY, recvNs: 777, childId: 0, venueId: 0, decisionNs: 0,
    }]);
    expect(out.journal.map((j) => j.typeId)).toEqual([RecordType.NEW_ORDER, RecordType.EXEC_REPORT]);
    expect(Buffer.from(out.journal[0].raw).equals(command)).toBe(true);
    expect(Buffer.from(out.journal[1].raw).equals(r.raw)).toBe(true);
    expect(h.state(1)).toBe(OrderState.NEW);
    expect(h.stage.orders.routing[h.slot(1)]).toBe(1);
    expect(h.counters.get(RiskCounter.ORDERS_RECEIVED)).toBe(1);
    expect(h.counters.get(RiskCounter.ORDERS_ACCEPTED)).toBe(1);
  });

  it('an order from a FIX client is reported on the FIX clients ring', () => {
    const h = new Harness();
    h.newOrder({ source: Source.FIX, side: Side.SELL, tif: Tif.IOC });
    const out = h.step();
    expect(out.ingest).toEqual([]);
    expect(out.fixClients.length).toBe(1);
    expect(out.fixClients[0]).toMatchObject({ execType: ExecType.NEW, orderId: 1, source: Source.FIX, side: Side.SELL, tif: Tif.IOC });
    expect(out.sor.length).toBe(1);
    expect(out.sor[0].side).toBe(Side.SELL);
  });

  it('a market order carries no price; ids and event sequence numbers increase', () => {
    const h = new Harness();
    const a = accept(h, { ordType: OrdType.MARKET, price: 5 * PRICE_SCALE, clOrdId: 'M1' });
    h.newOrder({ clOrdId: 'L2' });
    const out = h.step();
    expect(a).toBe(1);
    expect(out.ingest[0].orderId).toBe(2);
    expect(out.ingest[0].eventSeq).toBe(2);
    expect(h.stage.orders.priceTicks[h.slot(1)]).toBe(0);
    expect(h.sor.items[0].price).toBe(0);
    expect(h.sor.items[0].ordType).toBe(OrdType.MARKET);
  });

  it('rejects an unknown account', () => {
    const h = new Harness();
    expectReject(h, { account: 0 }, Reason.UNKNOWN_ACCOUNT);
    expectReject(h, { account: 9, clOrdId: 'C9' }, Reason.UNKNOWN_ACCOUNT);
  });

  it('rejects a disabled account', () => {
    expectReject(new Harness(), { account: 3 }, Reason.ACCOUNT_HALTED);
  });

  it('rejects an unknown symbol', () => {
    expectReject(new Harness(), { symbol: 2 }, Reason.UNKNOWN_SYMBOL);
  });

  it('rejects a bad side, order type, time in force or ClOrdID', () => {
    const h = new Harness();
    expectReject(h, { side: 3 }, Reason.INVALID_SIDE);
    expectReject(h, { ordType: 3 }, Reason.INVALID_ORD_TYPE);
    expectReject(h, { tif: 2 }, Reason.INVALID_TIF);
    expectReject(h, { clOrdId: '' }, Reason.INVALID_CL_ORD_ID);
  });

  it('rejects a bad quantity', () => {
    const h = new Harness();
    for (const qty of [0, -5, 1.5, NaN, MAX_QTY + 1, Infinity]) expectReject(h, { qty }, Reason.INVALID_QTY);
  });

  it('rejects a bad limit price; a market order needs none', () => {
    const h = new Harness();
    for (const price of [0, -1, 1.5, NaN, MAX_PRICE_TICKS + 1]) expectReject(h, { price }, Reason.INVALID_PRICE);
    accept(h, { ordType: OrdType.MARKET, price: 0, symbol: 1 });
  });

  it('rejects above the account max quantity; accepts at it', () => {
    const h = new Harness();
    expectReject(h, { qty: 50_001, price: 1 }, Reason.MAX_QTY_EXCEEDED);
    accept(h, { qty: 50_000, price: 1 });
  });

  it('rejects above the account max notional (limit: qty * price); accepts at it', () => {
    const h = new Harness();
    expectReject(h, { qty: 10_000, price: 100 * PRICE_SCALE + 1 }, Reason.MAX_NOTIONAL_EXCEEDED);
    accept(h, { qty: 10_000, price: 100 * PRICE_SCALE });
  });

  it('a market order is checked at the symbol reference price, not its price field', () => {
    const h = new Harness();
    // Symbol 0 reference 100.00: 10,001 * 100 > 1,000,000 even with a tiny price field.
    expectReject(h, { ordType: OrdType.MARKET, qty: 10_001, price: 1 }, Reason.MAX_NOTIONAL_EXCEEDED);
    accept(h, { ordType: OrdType.MARKET, qty: 10_000, price: 0, clOrdId: 'M0' });
    // Symbol 1 reference 20.00: 10,001 * 20 is well inside the limit.
    accept(h, { ordType: OrdType.MARKET, qty: 10_001, price: 0, symbol: 1, clOrdId: 'M1' });
  });

  it('a duplicate ClOrdID answers with the ORIGINAL order and creates nothing', () => {
    const h = new Harness();
    const id = accept(h, { clOrdId: 'DUP', qty: 100, conn: 7, request: 1 });
    h.newOrder({ clOrdId: 'DUP', qty: 999, conn: 8, request: 99, source: Source.FIX });
    const out = h.step();
    expect(out.ingest).toEqual([]);
    expect(out.fixClients.length).toBe(1);
    const r = out.fixClients[0];
    expect(r.orderId).toBe(id);
    expect(r.reason).toBe(Reason.DUPLICATE_CL_ORD_ID);
    expect(r.qty).toBe(100);
    expect(r.connId).toBe(8);
    expect(r.requestId).toBe(99);
    expect(r.clOrdId).toBe('DUP');
    expect(out.sor).toEqual([]);
    expect(h.stage.orders.peekNextOrderId()).toBe(2);
    expect(h.counters.get(RiskCounter.DUPLICATES)).toBe(1);
    // The original still reports to its own client.
    expect(h.stage.orders.connId[h.slot(id)]).toBe(7);
  });

  it('ClOrdIDs are per account: the same id in another account is a new order', () => {
    const h = new Harness();
    expect(accept(h, { account: 1, clOrdId: 'SAME' })).toBe(1);
    expect(accept(h, { account: 2, clOrdId: 'SAME' })).toBe(2);
  });

  it('refuses new orders with ORDER_TABLE_FULL when every order in the table is live', () => {
    const h = new Harness(tableOf(16));
    for (let i = 0; i < 16; i++) accept(h, { clOrdId: `F${i}` });
    expectReject(h, { clOrdId: 'F16' }, Reason.ORDER_TABLE_FULL);
  });

  it('a full table takes orders again as soon as one ends, or a filled order\'s last live child ends', () => {
    const h = new Harness(tableOf(16));
    const ids: number[] = [];
    for (let i = 0; i < 16; i++) ids.push(accept(h, { clOrdId: `F${i}`, qty: 100 }));
    expectReject(h, { clOrdId: 'R1' }, Reason.ORDER_TABLE_FULL);
    expectReject(h, { clOrdId: 'R2' }, Reason.ORDER_TABLE_FULL);
    expect(h.stage.orders.fullScans).toBe(1); // the second refusal knew nothing had ended
    // Order 3's only child fills: the order ends, and its slot takes the next order.
    route(h, ids[2], BASE_CHILD + 1, 100, 10 * PRICE_SCALE);
    h.fill(BASE_CHILD + 1, ids[2], 100, 10 * PRICE_SCALE, 2);
    h.step();
    expect(h.state(ids[2])).toBe(OrderState.FILLED);
    expect(h.slot(accept(h, { clOrdId: 'A1' }))).toBe(2);
    expectReject(h, { clOrdId: 'R3' }, Reason.ORDER_TABLE_FULL);
    // Order 5 fills while a child decided before the fill is sent: that child is canceled, and
    // the order keeps its slot until the child's end.
    route(h, ids[4], BASE_CHILD + 2, 100, 10 * PRICE_SCALE);
    h.fill(BASE_CHILD + 2, ids[4], 100, 10 * PRICE_SCALE, 2);
    h.step();
    h.sent(BASE_CHILD + 3, ids[4], 100, 10 * PRICE_SCALE, 1);
    expect(h.step().sor.filter((r) => r.typeId === RecordType.CHILD_CANCEL).map((r) => r.childId)).toEqual([BASE_CHILD + 3]);
    expect(h.state(ids[4])).toBe(OrderState.FILLED);
    expectReject(h, { clOrdId: 'R4' }, Reason.ORDER_TABLE_FULL);
    h.childCanceled(BASE_CHILD + 3, ids[4]);
    h.step();
    expect(h.slot(accept(h, { clOrdId: 'A2' }))).toBe(4);
    expectReject(h, { clOrdId: 'R5' }, Reason.ORDER_TABLE_FULL);
    // One read of the table per refusal after something ended (R1, R3, R4 after order 5's fill,
    // R5), none for R2.
    expect(h.stage.orders.fullScans).toBe(4);
  });

  it('counts an unknown record type and goes on', () => {
    const h = new Harness();
    const at = h.ingest.tryClaim(77, 16);
    expect(at).not.toBe(FULL);
    h.ingest.commit();
    h.newOrder();
    const out = h.step();
    expect(h.counters.get(RiskCounter.UNKNOWN_RECORDS)).toBe(1);
    expect(out.ingest.length).toBe(1);
  });
});

describe('RiskStage: routing and fills', () => {
  it('child SENT -> partial fill -> full fill: reports and positions', () => {
    const h = new Harness();
    const id = accept(h, { qty: 100, price: 10 * PRICE_SCALE });
    const child = BASE_CHILD + 1;
    route(h, id, child, 100, 10 * PRICE_SCALE, 3);
    expect(h.state(id)).toBe(OrderState.ROUTED);
    expect(h.stage.orders.liveChildren[h.slot(id)]).toBe(1);
    expect(h.stage.orders.routing[h.slot(id)]).toBe(0);

    h.clock.advanceNs(1000);
    h.fill(child, id, 40, 9_990_000, 3);
    const command = h.lastCommand;
    let out = h.step();
    expect(out.ingest.length).toBe(1);
    expect(out.ingest[0]).toMatchObject({
      orderId: id, execType: ExecType.PARTIAL_FILL, state: OrderState.PARTIALLY_FILLED, lastQty: 40,
      lastPx: 9_990_000, cumQty: 40, leavesQty: 60, cumNotional: 40 * 9_990_000, venueId: 3,
      timeNs: h.clock.nowNs(), qty: 100,
    });
    expect(out.journal.map((j) => j.typeId)).toEqual([RecordType.CHILD_EVENT, RecordType.EXEC_REPORT]);
    expect(Buffer.from(out.journal[0].raw).equals(command)).toBe(true);
    expect(Buffer.from(out.journal[1].raw).equals(out.ingest[0].raw)).toBe(true);
    expect(h.position(1, 0)).toBe(40);

    h.fill(child, id, 60, 10 * PRICE_SCALE, 3);
    out = h.step();
    expect(out.ingest.length).toBe(1);
    expect(out.ingest[0]).toMatchObject({
      orderId: id, execType: ExecType.FILL, state: OrderState.FILLED, lastQty: 60, lastPx: 10 * PRICE_SCALE,
      cumQty: 100, leavesQty: 0, cumNotional: 40 * 9_990_000 + 60 * 10 * PRICE_SCALE,
    });
    expect(out.sor).toEqual([]);
    expect(h.position(1, 0)).toBe(100);
    expect(h.state(id)).toBe(OrderState.FILLED);
    expect(h.stage.orders.liveChildren[h.slot(id)]).toBe(0);
    expect(h.counters.get(RiskCounter.FILLS)).toBe(2);
  });

  it('a sell fill lowers the position of its account and symbol only', () => {
    const h = new Harness();
    const buy = accept(h, { account: 2, symbol: 1, side: Side.BUY, qty: 10, clOrdId: 'B' });
    route(h, buy, BASE_CHILD + 1, 10, 10 * PRICE_SCALE);
    h.fill(BASE_CHILD + 1, buy, 10, 10 * PRICE_SCALE);
    h.step();
    const sell = accept(h, { account: 2, symbol: 1, side: Side.SELL, qty: 25, clOrdId: 'S' });
    route(h, sell, BASE_CHILD + 2, 25, 10 * PRICE_SCALE);
    h.fill(BASE_CHILD + 2, sell, 25, 10 * PRICE_SCALE);
    h.step();
    expect(h.position(2, 1)).toBe(-15);
    expect(h.position(1, 1)).toBe(0);
    expect(h.position(2, 0)).toBe(0);
  });

  it('ROUTE_DONE with no child: the order is CANCELED with NO_VENUE_AVAILABLE', () => {
    const h = new Harness();
    const id = accept(h);
    h.routeDone(id, 0, Reason.NO_VENUE_AVAILABLE);
    const out = h.step();
    expect(out.ingest.length).toBe(1);
    expect(out.ingest[0]).toMatchObject({
      orderId: id, execType: ExecType.CANCELED, state: OrderState.CANCELED, reason: Reason.NO_VENUE_AVAILABLE,
      leavesQty: 0, cumQty: 0,
    });
    expect(out.journal.map((j) => j.typeId)).toEqual([RecordType.ROUTE_DONE, RecordType.EXEC_REPORT]);
    expect(h.state(id)).toBe(OrderState.CANCELED);
  });

  it('a child refused before it was sent: the parent is canceled with the venue reason at ROUTE_DONE', () => {
    const h = new Harness();
    const id = accept(h);
    h.childRejected(BASE_CHILD + 1, id, Reason.VENUE_DOWN);
    h.routeDone(id, 1, Reason.NONE, 100);
    const out = h.step();
    expect(out.ingest.length).toBe(1);
    expect(out.ingest[0]).toMatchObject({ execType: ExecType.CANCELED, state: OrderState.CANCELED, reason: Reason.VENUE_DOWN });
  });

  it('a venue cancel of the only child after a partial fill ends the order (rest canceled)', () => {
    const h = new Harness();
    const id = accept(h, { qty: 100 });
    route(h, id, BASE_CHILD + 1, 100, 10 * PRICE_SCALE);
    h.fill(BASE_CHILD + 1, id, 30, 10 * PRICE_SCALE);
    h.childCanceled(BASE_CHILD + 1, id);
    const out = h.step();
    expect(out.ingest.map((r) => r.execType)).toEqual([ExecType.PARTIAL_FILL, ExecType.CANCELED]);
    expect(out.ingest[1]).toMatchObject({ state: OrderState.CANCELED, cumQty: 30, leavesQty: 0, reason: Reason.VENUE_CANCELED });
  });

  it('a venue overfill is counted, not applied', () => {
    const h = new Harness();
    const id = accept(h, { qty: 100 });
    route(h, id, BASE_CHILD + 1, 100, 10 * PRICE_SCALE);
    h.fill(BASE_CHILD + 1, id, 60, 10 * PRICE_SCALE);
    h.step();
    h.fill(BASE_CHILD + 1, id, 50, 10 * PRICE_SCALE);
    h.fill(BASE_CHILD + 1, id, 0, 10 * PRICE_SCALE);
    h.fill(BASE_CHILD + 1, id, -5, 10 * PRICE_SCALE);
    const out = h.step();
    expect(out.ingest).toEqual([]);
    expect(h.counters.get(RiskCounter.OVERFILLS)).toBe(3);
    const s = h.slot(id);
    expect(h.stage.orders.cumQty[s]).toBe(60);
    expect(h.position(1, 0)).toBe(60);
    expect(h.state(id)).toBe(OrderState.PARTIALLY_FILLED);
    // The rest can still fill.
    h.fill(BASE_CHILD + 1, id, 40, 10 * PRICE_SCALE);
    expect(h.step().ingest[0]).toMatchObject({ execType: ExecType.FILL, cumQty: 100, leavesQty: 0 });
  });

  it('events for unknown children or orders are counted and change nothing', () => {
    const h = new Harness();
    const id = accept(h);
    h.fill(BASE_CHILD + 9, id, 10, 1);
    h.routeDone(99, 0, Reason.NO_VENUE_AVAILABLE);
    h.sent(BASE_CHILD + 1, 99, 10, 1, 1);
    const out = h.step();
    expect(out.ingest).toEqual([]);
    expect(h.counters.get(RiskCounter.UNKNOWN_RECORDS)).toBe(3);
    expect(h.state(id)).toBe(OrderState.NEW);
  });
});

describe('RiskStage: cancel', () => {
  it('cancel before routing is done -> PENDING_CANCEL; ROUTE_DONE without child -> CANCELED', () => {
    const h = new Harness();
    const id = accept(h);
    h.cancel({ orderId: id, clOrdId: 'X1' });
    let out = h.step();
    expect(out.ingest.length).toBe(1);
    expect(out.ingest[0]).toMatchObject({ orderId: id, execType: ExecType.PENDING_CANCEL, state: OrderState.PENDING_CANCEL });
    expect(out.sor).toEqual([]);
    h.routeDone(id, 0, Reason.NO_VENUE_AVAILABLE);
    out = h.step();
    expect(out.ingest.length).toBe(1);
    expect(out.ingest[0]).toMatchObject({ orderId: id, execType: ExecType.CANCELED, state: OrderState.CANCELED, leavesQty: 0 });
  });

  it('cancel before routing is done; the child sent meanwhile is canceled at once', () => {
    const h = new Harness();
    const id = accept(h);
    h.cancel({ orderId: id });
    h.step();
    h.sent(BASE_CHILD + 1, id, 100, 10 * PRICE_SCALE, 4);
    h.routeDone(id, 1, Reason.NONE, 100);
    let out = h.step();
    expect(out.ingest).toEqual([]);
    expect(out.sor.length).toBe(1);
    expect(out.sor[0]).toMatchObject({ typeId: RecordType.CHILD_CANCEL, childId: BASE_CHILD + 1, orderId: id, venueId: 4 });
    expect(h.state(id)).toBe(OrderState.PENDING_CANCEL);
    h.childCanceled(BASE_CHILD + 1, id);
    out = h.step();
    expect(out.ingest.length).toBe(1);
    expect(out.ingest[0]).toMatchObject({ execType: ExecType.CANCELED, state: OrderState.CANCELED });
  });

  it('cancel of a routed order: PENDING_CANCEL + CHILD_CANCEL, then child CANCELED -> CANCELED', () => {
    const h = new Harness();
    const id = accept(h, { qty: 100, side: Side.SELL, symbol: 1, recvNs: 321 });
    route(h, id, BASE_CHILD + 1, 100, 10 * PRICE_SCALE, 5);
    h.clock.advanceNs(5000);
    h.cancel({ orderId: id, clOrdId: 'CXL-1', conn: 9, request: 77 });
    let out = h.step();
    expect(out.ingest.length).toBe(1);
    expect(out.ingest[0]).toMatchObject({
      orderId: id, execType: ExecType.PENDING_CANCEL, state: OrderState.PENDING_CANCEL, connId: 9, requestId: 77,
      leavesQty: 100,
    });
    expect(out.sor).toEqual([{
      typeId: RecordType.CHILD_CANCEL, orderId: id, qty: 100, price: 10 * PRICE_SCALE, accountId: 1, symbolId: 1,
      side: Side.SELL, ordType: OrdType.LIMIT, tif: Tif.DAY, recvNs: 321, childId: BASE_CHILD + 1, venueId: 5,
      decisionNs: h.clock.nowNs(),
    }]);
    expect(out.journal.map((j) => j.typeId)).toEqual([RecordType.CANCEL_ORDER, RecordType.EXEC_REPORT]);
    h.childCanceled(BASE_CHILD + 1, id);
    out = h.step();
    expect(out.ingest.length).toBe(1);
    expect(out.ingest[0]).toMatchObject({ execType: ExecType.CANCELED, state: OrderState.CANCELED, leavesQty: 0, connId: 9 });
    expect(h.counters.get(RiskCounter.CANCELS_RECEIVED)).toBe(1);
  });

  it('cancel by OrigClOrdID; reports go to the client that asked (FIX)', () => {
    const h = new Harness();
    const id = accept(h, { clOrdId: 'ORIG-7' });
    route(h, id, BASE_CHILD + 1, 100, 10 * PRICE_SCALE);
    h.cancel({ orderId: 0, origClOrdId: 'ORIG-7', source: Source.FIX, conn: 3 });
    const out = h.step();
    expect(out.ingest).toEqual([]);
    expect(out.fixClients.length).toBe(1);
    expect(out.fixClients[0]).toMatchObject({ orderId: id, execType: ExecType.PENDING_CANCEL, connId: 3 });
    expect(out.sor.length).toBe(1);
  });

  it('a fill during PENDING_CANCEL still counts; the last fill ends the order FILLED', () => {
    const h = new Harness();
    const id = accept(h, { qty: 100 });
    route(h, id, BASE_CHILD + 1, 100, 10 * PRICE_SCALE);
    h.cancel({ orderId: id });
    h.step();
    h.fill(BASE_CHILD + 1, id, 30, 10 * PRICE_SCALE);
    let out = h.step();
    expect(out.ingest[0]).toMatchObject({ execType: ExecType.PARTIAL_FILL, state: OrderState.PENDING_CANCEL, cumQty: 30 });
    h.fill(BASE_CHILD + 1, id, 70, 10 * PRICE_SCALE);
    out = h.step();
    expect(out.ingest.length).toBe(1);
    expect(out.ingest[0]).toMatchObject({ execType: ExecType.FILL, state: OrderState.FILLED, cumQty: 100 });
    expect(h.position(1, 0)).toBe(100);
  });

  it('a cancel refused by the venue keeps the order pending until the child ends', () => {
    const h = new Harness();
    const id = accept(h, { qty: 100 });
    route(h, id, BASE_CHILD + 1, 100, 10 * PRICE_SCALE);
    h.cancel({ orderId: id });
    h.step();
    h.childCancelRejected(BASE_CHILD + 1, id);
    expect(h.step().ingest).toEqual([]);
    expect(h.counters.get(RiskCounter.CHILD_CANCEL_REJECTS)).toBe(1);
    expect(h.state(id)).toBe(OrderState.PENDING_CANCEL);
  });

  it('cancel of an unknown order -> CANCEL_REJECT UNKNOWN_ORDER', () => {
    const h = new Harness();
    h.cancel({ orderId: 99, clOrdId: 'CX', origClOrdId: 'NOPE', conn: 5, request: 6 });
    const out = h.step();
    expect(out.ingest.length).toBe(1);
    expect(out.ingest[0]).toMatchObject({
      orderId: 99, execType: ExecType.CANCEL_REJECT, reason: Reason.UNKNOWN_ORDER, connId: 5, requestId: 6,
      clOrdId: 'CX', origClOrdId: 'NOPE',
    });
    expect(out.journal.map((j) => j.typeId)).toEqual([RecordType.CANCEL_ORDER, RecordType.EXEC_REPORT]);
    expect(Buffer.from(out.journal[1].raw).equals(out.ingest[0].raw)).toBe(true);
    h.cancel({ orderId: 0, origClOrdId: 'NOPE' });
    expect(h.step().ingest[0]).toMatchObject({ execType: ExecType.CANCEL_REJECT, reason: Reason.UNKNOWN_ORDER });
  });

  it("cancel of another account's order -> CANCEL_REJECT UNKNOWN_ORDER, order untouched", () => {
    const h = new Harness();
    const id = accept(h, { account: 1, clOrdId: 'MINE' });
    route(h, id, BASE_CHILD + 1, 100, 10 * PRICE_SCALE);
    h.cancel({ orderId: id, account: 2 });
    h.cancel({ orderId: 0, origClOrdId: 'MINE', account: 2 });
    const out = h.step();
    expect(out.ingest.map((r) => [r.execType, r.reason])).toEqual([
      [ExecType.CANCEL_REJECT, Reason.UNKNOWN_ORDER],
      [ExecType.CANCEL_REJECT, Reason.UNKNOWN_ORDER],
    ]);
    expect(out.sor).toEqual([]);
    expect(h.state(id)).toBe(OrderState.ROUTED);
  });

  it('cancel of a finished order -> ORDER_NOT_CANCELABLE naming both ClOrdIDs; journal copy matches', () => {
    const h = new Harness();
    const id = accept(h, { clOrdId: 'DONE-1' });
    h.routeDone(id, 0, Reason.NO_VENUE_AVAILABLE);
    h.step();
    h.cancel({ orderId: id, clOrdId: 'CXL-2' });
    const out = h.step();
    expect(out.ingest.length).toBe(1);
    const r = out.ingest[0];
    expect(r).toMatchObject({
      orderId: id, execType: ExecType.CANCEL_REJECT, reason: Reason.ORDER_NOT_CANCELABLE, state: OrderState.CANCELED,
      clOrdId: 'CXL-2', origClOrdId: 'DONE-1',
    });
    expect(out.journal.map((j) => j.typeId)).toEqual([RecordType.CANCEL_ORDER, RecordType.EXEC_REPORT]);
    expect(Buffer.from(out.journal[1].raw).equals(r.raw)).toBe(true);
  });

  it('a second cancel while one is pending -> CANCEL_PENDING', () => {
    const h = new Harness();
    const id = accept(h);
    route(h, id, BASE_CHILD + 1, 100, 10 * PRICE_SCALE);
    h.cancel({ orderId: id, clOrdId: 'A' });
    h.cancel({ orderId: id, clOrdId: 'B' });
    const out = h.step();
    expect(out.ingest.map((r) => [r.execType, r.reason])).toEqual([
      [ExecType.PENDING_CANCEL, Reason.NONE],
      [ExecType.CANCEL_REJECT, Reason.CANCEL_PENDING],
    ]);
    expect(out.sor.length).toBe(1);
  });
});

describe('RiskStage: replace', () => {
  function partiallyFilled(h: Harness): number {
    const id = accept(h, { qty: 100, price: 10 * PRICE_SCALE, clOrdId: 'R0' });
    route(h, id, BASE_CHILD + 1, 100, 10 * PRICE_SCALE);
    h.fill(BASE_CHILD + 1, id, 30, 10 * PRICE_SCALE);
    h.step();
    return id;
  }

  it('a new quantity below the filled quantity is refused', () => {
    const h = new Harness();
    const id = partiallyFilled(h);
    h.replace({ orderId: id, qty: 20, price: 10 * PRICE_SCALE, clOrdId: 'R1' });
    const out = h.step();
    expect(out.ingest.length).toBe(1);
    expect(out.ingest[0]).toMatchObject({
      execType: ExecType.CANCEL_REJECT, reason: Reason.REPLACE_NOT_ALLOWED, clOrdId: 'R1', origClOrdId: 'R0',
      qty: 100, state: OrderState.PARTIALLY_FILLED,
    });
    expect(out.sor).toEqual([]);
    expect(h.state(id)).toBe(OrderState.PARTIALLY_FILLED);
    expect(h.stage.orders.qty[h.slot(id)]).toBe(100);
  });

  it('replace: children canceled, then REPLACED and a new ROUTE_REQUEST for the leaves', () => {
    const h = new Harness();
    const id = partiallyFilled(h);
    h.replace({ orderId: id, qty: 150, price: 10_500_000, clOrdId: 'R1', conn: 4, request: 8 });
    let out = h.step();
    expect(out.ingest.length).toBe(1);
    expect(out.ingest[0]).toMatchObject({ execType: ExecType.PENDING_REPLACE, state: OrderState.PENDING_REPLACE, connId: 4 });
    expect(out.sor.length).toBe(1);
    expect(out.sor[0]).toMatchObject({ typeId: RecordType.CHILD_CANCEL, childId: BASE_CHILD + 1 });
    expect(out.journal[0].typeId).toBe(RecordType.REPLACE_ORDER);
    h.childCanceled(BASE_CHILD + 1, id);
    out = h.step();
    expect(out.ingest.length).toBe(1);
    expect(out.ingest[0]).toMatchObject({
      orderId: id, execType: ExecType.REPLACED, state: OrderState.PARTIALLY_FILLED, qty: 150, price: 10_500_000,
      cumQty: 30, leavesQty: 120, clOrdId: 'R1', connId: 4, requestId: 8,
    });
    expect(out.sor.length).toBe(1);
    expect(out.sor[0]).toMatchObject({ typeId: RecordType.ROUTE_REQUEST, orderId: id, qty: 120, price: 10_500_000 });
    expect(h.stage.orders.routing[h.slot(id)]).toBe(1);
    expect(h.counters.get(RiskCounter.REPLACES_RECEIVED)).toBe(1);
    // The new ClOrdID now names the order; the old one does not.
    h.cancel({ orderId: 0, origClOrdId: 'R0', clOrdId: 'X1' });
    h.cancel({ orderId: 0, origClOrdId: 'R1', clOrdId: 'X2' });
    out = h.step();
    expect(out.ingest.map((r) => [r.execType, r.reason])).toEqual([
      [ExecType.CANCEL_REJECT, Reason.UNKNOWN_ORDER],
      [ExecType.PENDING_CANCEL, Reason.NONE],
    ]);
  });

  it('replace while the route is in flight: done when ROUTE_DONE comes back, state NEW', () => {
    const h = new Harness();
    const id = accept(h, { qty: 100, clOrdId: 'Q0' });
    h.replace({ orderId: id, qty: 50, price: 9 * PRICE_SCALE, clOrdId: 'Q1' });
    let out = h.step();
    expect(out.ingest[0]).toMatchObject({ execType: ExecType.PENDING_REPLACE });
    expect(out.sor).toEqual([]);
    h.routeDone(id, 0, Reason.NO_VENUE_AVAILABLE);
    out = h.step();
    expect(out.ingest.length).toBe(1);
    expect(out.ingest[0]).toMatchObject({ execType: ExecType.REPLACED, state: OrderState.NEW, qty: 50, price: 9 * PRICE_SCALE, leavesQty: 50 });
    expect(out.sor).toEqual([expect.objectContaining({ typeId: RecordType.ROUTE_REQUEST, qty: 50, price: 9 * PRICE_SCALE })]);
  });

  it('refuses a replace with a bad or duplicate ClOrdID, or above the account limits', () => {
    const h = new Harness();
    accept(h, { clOrdId: 'TAKEN' });
    const id = partiallyFilled(h);
    const cases: Array<[Partial<CancelArgs>, number]> = [
      [{ qty: 0, price: 10 * PRICE_SCALE, clOrdId: 'N1' }, Reason.INVALID_QTY],
      [{ qty: 100, price: -1, clOrdId: 'N2' }, Reason.INVALID_PRICE], // price 0 = unchanged (kept)
      [{ qty: 100, price: 10 * PRICE_SCALE, clOrdId: '' }, Reason.INVALID_CL_ORD_ID],
      [{ qty: 100, price: 10 * PRICE_SCALE, clOrdId: 'TAKEN' }, Reason.DUPLICATE_CL_ORD_ID],
      [{ qty: 50_001, price: 1, clOrdId: 'N3' }, Reason.MAX_QTY_EXCEEDED],
      [{ qty: 20_000, price: 100 * PRICE_SCALE, clOrdId: 'N4' }, Reason.MAX_NOTIONAL_EXCEEDED],
    ];
    for (const [args, reason] of cases) {
      h.replace({ orderId: id, ...args });
      const out = h.step();
      expect(out.ingest.length).toBe(1);
      expect(out.ingest[0].execType).toBe(ExecType.CANCEL_REJECT);
      expect(out.ingest[0].reason, JSON.stringify(args)).toBe(reason);
      expect(out.sor).toEqual([]);
    }
    expect(h.state(id)).toBe(OrderState.PARTIALLY_FILLED);
  });

  it('refuses a replace of a market order whose new quantity breaks the notional limit at the reference price', () => {
    // New market orders are checked at the reference price (100.00 for symbol 0); a replace
    // raising the quantity must be held to the same limit.
    const h = new Harness();
    const id = accept(h, { ordType: OrdType.MARKET, qty: 5_000, price: 0, clOrdId: 'MK0' });
    route(h, id, BASE_CHILD + 1, 5_000, 0);
    h.replace({ orderId: id, qty: 20_000, price: 0, clOrdId: 'MK1' });
    const out = h.step();
    expect(out.ingest.length).toBe(1);
    expect(out.ingest[0]).toMatchObject({ execType: ExecType.CANCEL_REJECT, reason: Reason.MAX_NOTIONAL_EXCEEDED });
    expect(out.sor).toEqual([]);
  });

  it('fills during a pending replace never leave more filled than the order quantity', () => {
    // Order 100, replace down to 50; before the venue cancels the child, 60 more fill there.
    const h = new Harness();
    const id = accept(h, { qty: 100, clOrdId: 'P0' });
    route(h, id, BASE_CHILD + 1, 100, 10 * PRICE_SCALE);
    h.replace({ orderId: id, qty: 50, price: 10 * PRICE_SCALE, clOrdId: 'P1' });
    h.step();
    h.fill(BASE_CHILD + 1, id, 60, 10 * PRICE_SCALE);
    h.childCanceled(BASE_CHILD + 1, id);
    h.step();
    const s = h.slot(id);
    const o = h.stage.orders;
    expect(o.cumQty[s]).toBe(60);
    expect(o.cumQty[s]).toBeLessThanOrEqual(o.qty[s]);
    // Nothing is working for it any more, so it must have ended.
    expect(isTerminal(o.state[s])).toBe(true);
  });

  it('regression (shrunk from risk-stage.prop.test.ts): replace down to what fills during the replace', () => {
    // Order 2, replace to 1 while the route is in flight; the child (qty 2) is sent, 1 fills,
    // then the venue cancels it. The order must not be left working with nothing working.
    const h = new Harness();
    const id = accept(h, { qty: 2, clOrdId: 'G0' });
    h.replace({ orderId: id, qty: 1, price: 11 * PRICE_SCALE, clOrdId: 'G1' });
    h.step();
    h.sent(BASE_CHILD + 1, id, 2, 10 * PRICE_SCALE, 1);
    h.routeDone(id, 1, Reason.NONE, 2);
    h.step();
    h.fill(BASE_CHILD + 1, id, 1, 10 * PRICE_SCALE);
    h.childCanceled(BASE_CHILD + 1, id);
    h.step();
    const s = h.slot(id);
    const o = h.stage.orders;
    expect(o.cumQty[s]).toBeLessThanOrEqual(o.qty[s]);
    const working = !o.idle(s);
    expect(isTerminal(o.state[s]) || working, `state ${o.state[s]}, nothing working`).toBe(true);
  });

  it('a ClOrdID named by a pending replace cannot end up on two orders of the account', () => {
    const h = new Harness();
    const id = accept(h, { qty: 100, clOrdId: 'K0' });
    route(h, id, BASE_CHILD + 1, 100, 10 * PRICE_SCALE);
    h.replace({ orderId: id, qty: 80, price: 10 * PRICE_SCALE, clOrdId: 'K1' });
    h.step();
    h.newOrder({ clOrdId: 'K1' });
    h.step();
    h.childCanceled(BASE_CHILD + 1, id);
    h.step();
    const o = h.stage.orders;
    const live: number[] = [];
    for (let s = 0; s < o.capacity; s++) {
      if (o.orderId[s] === 0 || o.accountId[s] !== 1) continue;
      const cl = Buffer.from(o.clOrdIds.subarray(s * 40, s * 40 + o.clOrdIdLength[s])).toString('latin1');
      if (cl === 'K1') live.push(o.orderId[s]);
    }
    expect(live.length).toBe(1);
  });
});

describe('RiskStage: back-pressure', () => {
  it('a nearly full client ring stops intake; nothing is lost once it drains', () => {
    // toIngest holds 2048 bytes; one input may need two 224-byte reports there (448 bytes).
    const h = new Harness(defaultConfig(), { toIngest: 2048 });
    const total = 20;
    for (let i = 0; i < total; i++) h.newOrder({ clOrdId: `BP${i}`, request: i });
    let handled = 0;
    let stalls = 0;
    for (let cycle = 0; cycle < 200 && handled < total; cycle++) {
      const free = 2048 - h.outIngest.depthBytes();
      const n = h.stage.doWork();
      expect(n).toBeLessThanOrEqual(Math.floor(free / (2 * EXEC_REPORT_LENGTH)));
      handled += n;
      if (n === 0) {
        stalls++;
        // The client ring is drained only when the stage is stuck.
        h.outIngest.poll(h.reportsIngest, 1 << 20);
      }
    }
    h.drain();
    expect(handled).toBe(total);
    expect(stalls).toBeGreaterThan(0);
    expect(h.counters.get(RiskCounter.BACKPRESSURE_STALLS)).toBe(stalls);
    const reports = h.reportsIngest.items;
    expect(reports.map((r) => r.requestId)).toEqual(Array.from({ length: total }, (_, i) => i));
    expect(reports.map((r) => r.orderId)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(reports.every((r) => r.execType === ExecType.NEW)).toBe(true);
    expect(h.sor.items.length).toBe(total);
    expect(h.journal.items.length).toBe(2 * total);
  });

  it('a full sor ring stalls the stage with the inputs kept, then resumes', () => {
    // The worst case for sor is 33 child records of 72 bytes: with 4096 bytes, after enough
    // 56-byte route requests the stage must stop.
    const h = new Harness(defaultConfig(), { toSor: 4096 });
    const total = 40;
    for (let i = 0; i < total; i++) h.newOrder({ clOrdId: `S${i}` });
    h.run();
    const taken = h.stage.orders.peekNextOrderId() - 1;
    expect(taken).toBeLessThan(total);
    expect(h.stage.doWork()).toBe(0);
    expect(h.counters.get(RiskCounter.BACKPRESSURE_STALLS)).toBeGreaterThan(0);
    for (let i = 0; i < 100 && h.stage.orders.peekNextOrderId() - 1 < total; i++) h.step();
    expect(h.stage.orders.peekNextOrderId() - 1).toBe(total);
    expect(h.sor.items.map((r) => r.orderId)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(h.reportsIngest.items.length).toBe(total);
  });
});

describe('RiskStage: the ring cycle', () => {
  it('takes venue events while its ring to the SOR is full: what they lead to waits in order, ahead of new work, and goes out once the SOR reads', () => {
    // The SOR and fix each wait for room in the next ring of the cycle risk -> sor -> fix -> risk:
    // were risk to wait for room toward the SOR before taking fix's records, the three could
    // stop for good (workers/ring-cycle.sim.test.ts).
    const h = new Harness(tableOf(256, 256), { toSor: 4096 });
    const n = 40;
    const pending: number[] = [];
    for (let i = 0; i < n; i++) {
      const id = accept(h, { clOrdId: `A${i}`, qty: 100 + i });
      h.cancel({ orderId: id, clOrdId: `XA${i}`, origClOrdId: `A${i}` }); // routing in flight: pending cancel
      h.step();
      expect(h.state(id)).toBe(OrderState.PENDING_CANCEL);
      pending.push(id);
    }
    const routed = h.sor.items.length;
    // New orders until the ring to the SOR has no room for one more (the SOR is not reading).
    for (let i = 0; i < n; i++) h.newOrder({ clOrdId: `F${i}`, qty: 500 + i, request: 100 + i });
    h.run();
    const firstNew = pending[n - 1] + 1;
    const takenBefore = h.stage.orders.peekNextOrderId() - firstNew;
    expect(takenBefore).toBeLessThan(n);
    expect(h.stage.doWork()).toBe(0);
    expect(h.counters.get(RiskCounter.BACKPRESSURE_STALLS)).toBeGreaterThan(0);
    // The venue took each pending order's child: risk takes the events and cancels the children
    // although its ring to the SOR is full; the cancels that do not fit wait in its queue, and
    // the remaining new orders at the edge.
    for (let i = 0; i < n; i++) h.sent(BASE_CHILD + 1 + i, pending[i], 100 + i, 10 * PRICE_SCALE, 1);
    h.stage.doWork();
    expect(h.fix.depthBytes()).toBe(0);
    expect(h.counters.get(RiskCounter.SOR_RECORDS_WAITING)).toBeGreaterThan(0);
    expect(h.counters.get(RiskCounter.SOR_QUEUE_CYCLES)).toBe(1);
    expect(h.stage.orders.peekNextOrderId() - firstNew).toBe(takenBefore);
    // The SOR reads: the cancels go out behind the route requests before them, ahead of the rest.
    for (let i = 0; i < 100 && h.stage.orders.peekNextOrderId() - firstNew < n; i++) h.step();
    expect(h.counters.get(RiskCounter.SOR_RECORDS_WAITING)).toBe(0);
    const sor = h.sor.items.slice(routed);
    const newIds = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => firstNew + from + i);
    expect(sor.map((r) => [r.typeId, r.typeId === RecordType.CHILD_CANCEL ? r.childId : r.orderId])).toEqual([
      ...newIds(0, takenBefore).map((id) => [RecordType.ROUTE_REQUEST, id]),
      ...pending.map((_, i) => [RecordType.CHILD_CANCEL, BASE_CHILD + 1 + i]),
      ...newIds(takenBefore, n).map((id) => [RecordType.ROUTE_REQUEST, id]),
    ]);
  });

  it('refuses a FIX client\'s new order ENGINE_BUSY while the SOR lags (it shares fix\'s ring, read whatever the room toward the SOR), and takes it once there is room', () => {
    const h = new Harness(tableOf(256), { toSor: 4096 });
    for (let i = 0; i < 40; i++) h.newOrder({ clOrdId: `F${i}`, qty: 500 + i });
    h.run();
    const issued = h.stage.orders.peekNextOrderId();
    h.newOrder({ clOrdId: 'FIX1', source: Source.FIX, conn: 3, request: 9 });
    h.run();
    h.outFixClients.poll(h.reportsFix, 1 << 20);
    expect(h.reportsFix.items).toEqual([expect.objectContaining({ clOrdId: 'FIX1', execType: ExecType.REJECTED, reason: Reason.ENGINE_BUSY, connId: 3, requestId: 9 })]);
    expect(h.stage.orders.peekNextOrderId()).toBe(issued);
    for (let i = 0; i < 100 && h.stage.orders.peekNextOrderId() - 1 < 40; i++) h.step();
    h.newOrder({ clOrdId: 'FIX1', source: Source.FIX, conn: 3, request: 10 });
    expect(h.step().fixClients).toEqual([expect.objectContaining({ clOrdId: 'FIX1', execType: ExecType.NEW, requestId: 10 })]);
  });
});

describe('RiskStage: slots held past a table lap', () => {
  function smallTables(): Harness {
    return new Harness(tableOf(16, 16));
  }

  it('a cancel reaches an order\'s resting child after a newer, ended sibling\'s slot went to another child', () => {
    const h = smallTables();
    const gtc = accept(h, { clOrdId: 'G', qty: 100, tif: Tif.GTC });
    h.sent(BASE_CHILD + 1, gtc, 50, 10 * PRICE_SCALE, 1); // rests
    h.sent(BASE_CHILD + 2, gtc, 50, 10 * PRICE_SCALE, 2);
    h.routeDone(gtc, 2);
    h.fill(BASE_CHILD + 2, gtc, 50, 10 * PRICE_SCALE, 2); // the newer sibling ends
    h.step();
    const other = accept(h, { clOrdId: 'O', qty: 1000 });
    // Children of another order, ending at once, go round the table; the SOR skips the resting
    // child's slot (BASE_CHILD + 17), and BASE_CHILD + 18 takes the ended sibling's.
    for (const k of [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18]) {
      h.sent(BASE_CHILD + k, other, 10, 10 * PRICE_SCALE, 1);
      h.fill(BASE_CHILD + k, other, 10, 10 * PRICE_SCALE, 1);
    }
    h.routeDone(other, 15);
    h.step();
    expect(h.stage.children.slotOf(BASE_CHILD + 2)).toBe(-1);
    h.cancel({ clOrdId: 'X', origClOrdId: 'G' });
    const out = h.step();
    expect(out.sor.filter((r) => r.typeId === RecordType.CHILD_CANCEL).map((r) => r.childId)).toEqual([BASE_CHILD + 1]);
    expect(h.state(gtc)).toBe(OrderState.PENDING_CANCEL);
    h.childCanceled(BASE_CHILD + 1, gtc);
    h.step();
    expect(h.state(gtc)).toBe(OrderState.CANCELED);
  });

  it('a filled order keeps its slot while a child of it is still live, so that child\'s end still finds it', () => {
    const h = smallTables();
    const first = accept(h, { clOrdId: 'F', qty: 100 });
    h.sent(BASE_CHILD + 1, first, 100, 10 * PRICE_SCALE, 1);
    h.routeDone(first, 1);
    h.fill(BASE_CHILD + 1, first, 100, 10 * PRICE_SCALE, 1);
    h.step();
    expect(h.state(first)).toBe(OrderState.FILLED);
    // A child decided before the fill completed the order: sent, and canceled at once.
    h.sent(BASE_CHILD + 2, first, 100, 10 * PRICE_SCALE, 2);
    expect(h.step().sor.filter((r) => r.typeId === RecordType.CHILD_CANCEL).map((r) => r.childId)).toEqual([BASE_CHILD + 2]);
    // Twenty orders come and go while that cancel is held (venue down): order 1's slot is skipped.
    for (let i = 0; i < 20; i++) {
      const id = accept(h, { clOrdId: `N${i}` });
      expect(h.slot(id)).not.toBe(h.slot(first));
      h.routeDone(id, 0, Reason.NO_VENUE_AVAILABLE);
      h.step();
      expect(isTerminal(h.state(id))).toBe(true);
    }
    expect(h.stage.orders.slotOf(first)).toBeGreaterThanOrEqual(0);
    h.childCanceled(BASE_CHILD + 2, first);
    h.step();
    expect(h.counters.get(RiskCounter.UNKNOWN_RECORDS)).toBe(0);
    expect(h.stage.orders.liveChildren[h.slot(first)]).toBe(0);
    // Now the slot is free: the next order may take it.
    const ids: number[] = [];
    for (let i = 0; i < 16; i++) ids.push(accept(h, { clOrdId: `M${i}` }));
    expect(ids.map((id) => h.stage.orders.slotOf(id))).toContain((first - 1) % 16);
  });

  it('a child fix sends into a slot that still holds a child live here (a fill refused here, taken by fix) ends the old one, counted; no crash', () => {
    const h = smallTables();
    const first = accept(h, { clOrdId: 'A', qty: 100 });
    h.sent(BASE_CHILD + 1, first, 100, 10 * PRICE_SCALE, 1);
    h.routeDone(first, 1);
    h.fill(BASE_CHILD + 1, first, 100, 0, 1); // price 0: refused here, fix counted the child filled
    h.step();
    expect(h.counters.get(RiskCounter.OVERFILLS)).toBe(1);
    const second = accept(h, { clOrdId: 'B', qty: 10 });
    h.sent(BASE_CHILD + 17, second, 10, 10 * PRICE_SCALE, 1); // the same slot
    h.routeDone(second, 1);
    h.step();
    expect(h.counters.get(RiskCounter.STALE_CHILDREN_ENDED)).toBe(1);
    expect(h.stage.children.slotOf(BASE_CHILD + 17)).toBeGreaterThanOrEqual(0);
    expect(h.stage.orders.liveChildren[h.slot(first)]).toBe(0);
    h.fill(BASE_CHILD + 17, second, 10, 10 * PRICE_SCALE, 1);
    h.step();
    expect(h.state(second)).toBe(OrderState.FILLED);
  });
});
