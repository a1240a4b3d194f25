// Goal: under any interleaving of new orders, cancels, replaces, routing answers, child fills,
// venue cancels and refused cancels, the risk stage never throws, never fills an order beyond
// its quantity, keeps positions equal to the signed sum of fills, and leaves every order either
// terminal or with something still working (a live child or a route in flight); once the venues
// answer everything, every order ends. Method: fast-check op sequences against a small venue
// model, the stage stepped by hand on real rings (same harness as risk-stage.test.ts).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  CANCEL_ORDER_LENGTH,
  CHILD_EVENT_LENGTH,
  CancelOrderFlyweight,
  ChildEventFlyweight,
  ChildEventKind,
  ChildOrderFlyweight,
  EXEC_REPORT_LENGTH,
  ExecReportFlyweight,
  NEW_ORDER_LENGTH,
  NewOrderFlyweight,
  ROUTE_DONE_LENGTH,
  RecordType,
  RouteDoneFlyweight,
  RouteRequestFlyweight,
} from '../../codecs/records.ts';
import { ManualClock } from '../../engine/clock.ts';
import { RiskCounter, StageCounters } from '../../engine/counters.ts';
import { OrdType, Side, Source, Tif } from '../../engine/domain.ts';
import { MAX_PRICE_TICKS, MAX_QTY, PRICE_SCALE } from '../../engine/fixed-point.ts';
import { ExecType, OrderState, isTerminal } from '../../engine/order-state.ts';
import { Reason } from '../../engine/reasons.ts';
import { FULL, RingConsumer, RingProducer, createRingMemory, type RecordHandler } from '../../engine/ring.ts';
import { RiskStage, type RiskConfig, type RiskRings } from './risk-stage.ts';

// ---------------------------------------------------------------------------------------------
// Harness: the stage on one thread, its six rings made here, commands written with the record
// flyweights, outputs decoded into plain objects (tests may allocate).
// ---------------------------------------------------------------------------------------------
const SCALE = PRICE_SCALE;
const BASE_CHILD = 5000;

interface Report {
  eventSeq: number; orderId: number; timeNs: number; recvNs: number; qty: number; price: number;
  lastQty: number; lastPx: number; cumQty: number; leavesQty: number; cumNotional: number;
  connId: number; accountId: number; symbolId: number; requestId: number; reason: number;
  venueId: number; execType: number; state: number; side: number; ordType: number; tif: number;
  source: number; clOrdId: string; origClOrdId: string; raw: Uint8Array;
}
interface SorRecord {
  typeId: number; orderId: number; qty: number; price: number; accountId: number; symbolId: number;
  side: number; ordType: number; tif: number; recvNs: number; childId: number; venueId: number;
  decisionNs: number;
}
interface Journaled { typeId: number; raw: Uint8Array }

class ReportCollector implements RecordHandler {
  readonly items: Report[] = [];
  private readonly fw = new ExecReportFlyweight();
  private readonly consumer: RingConsumer;
  constructor(consumer: RingConsumer) { this.consumer = consumer; }
  onRecord(typeId: number, offset: number, length: number): void {
    expect(typeId).toBe(RecordType.EXEC_REPORT);
    expect(length).toBeGreaterThanOrEqual(EXEC_REPORT_LENGTH);
    const c = this.consumer;
    const r = this.fw.wrap(c.view, c.bytes, offset);
    const cl = new Uint8Array(40);
    const clText = Buffer.from(cl.subarray(0, r.copyClOrdId(cl, 0))).toString('latin1');
    const origText = Buffer.from(cl.subarray(0, r.copyOrigClOrdId(cl, 0))).toString('latin1');
    this.items.push({
      eventSeq: r.eventSeq(), orderId: r.orderId(), timeNs: r.timeNs(), recvNs: r.recvTimeNs(), qty: r.qty(),
      price: r.priceTicks(), lastQty: r.lastQty(), lastPx: r.lastPxTicks(), cumQty: r.cumQty(),
      leavesQty: r.leavesQty(), cumNotional: r.cumNotionalTicks(), connId: r.connId(), accountId: r.accountId(),
      symbolId: r.symbolId(), requestId: r.requestId(), reason: r.reason(), venueId: r.venueId(),
      execType: r.execType(), state: r.state(), side: r.side(), ordType: r.ordType(), tif: r.tif(),
      source: r.source(), clOrdId: clText, origClOrdId: origText,
      raw: c.bytes.slice(offset, offset + EXEC_REPORT_LENGTH),
    });
  }
}

class SorCollector implements RecordHandler {
  readonly items: SorRecord[] = [];
  private readonly rq = new RouteRequestFlyweight();
  private readonly ch = new ChildOrderFlyweight();
  private readonly consumer: RingConsumer;
  constructor(consumer: RingConsumer) { this.consumer = consumer; }
  onRecord(typeId: number, offset: number): void {
    const c = this.consumer;
    if (typeId === RecordType.ROUTE_REQUEST) {
      const r = this.rq.wrap(c.view, c.bytes, offset);
      this.items.push({
        typeId, orderId: r.orderId(), qty: r.qty(), price: r.priceTicks(), accountId: r.accountId(),
        symbolId: r.symbolId(), side: r.side(), ordType: r.ordType(), tif: r.tif(), recvNs: r.recvTimeNs(),
        childId: 0, venueId: 0, decisionNs: 0,
      });
      return;
    }
    expect(typeId).toBe(RecordType.CHILD_CANCEL);
    const r = this.ch.wrap(c.view, c.bytes, offset);
    this.items.push({
      typeId, orderId: r.orderId(), qty: r.qty(), price: r.priceTicks(), accountId: r.accountId(),
      symbolId: r.symbolId(), side: r.side(), ordType: r.ordType(), tif: r.tif(), recvNs: r.recvTimeNs(),
      childId: r.childId(), venueId: r.venueId(), decisionNs: r.decisionTimeNs(),
    });
  }
}

class JournalCollector implements RecordHandler {
  readonly items: Journaled[] = [];
  private readonly consumer: RingConsumer;
  constructor(consumer: RingConsumer) { this.consumer = consumer; }
  onRecord(typeId: number, offset: number, length: number): void {
    this.items.push({ typeId, raw: this.consumer.bytes.slice(offset, offset + length) });
  }
}

interface OrderArgs {
  account: number; symbol: number; side: number; ordType: number; tif: number; qty: number;
  price: number; clOrdId: string; conn: number; request: number; source: number; recvNs: number;
}
interface CancelArgs {
  orderId: number; account: number; qty: number; price: number; clOrdId: string; origClOrdId: string;
  conn: number; request: number; source: number; recvNs: number;
}

const ORDER_DEFAULTS: OrderArgs = {
  account: 1, symbol: 0, side: Side.BUY, ordType: OrdType.LIMIT, tif: Tif.DAY, qty: 100,
  price: 10 * SCALE, clOrdId: 'C1', conn: 7, request: 1, source: Source.INGEST, recvNs: 500,
};

function defaultConfig(): RiskConfig {
  return {
    orderCapacity: 64,
    childCapacity: 64,
    firstOrderId: 1,
    childIdBase: BASE_CHILD,
    accounts: [
      null,
      { maxOrderQty: 50_000, maxOrderNotionalTicks: 1_000_000 * SCALE, enabled: true },
      { maxOrderQty: 50_000, maxOrderNotionalTicks: 1_000_000 * SCALE, enabled: true },
      { maxOrderQty: 50_000, maxOrderNotionalTicks: 1_000_000 * SCALE, enabled: false },
    ],
    // Symbol 0: reference 100.00; symbol 1: reference 20.00.
    referencePriceTicks: [100 * SCALE, 20 * SCALE],
  };
}

interface Capacities { toIngest: number; toFixClients: number; toSor: number; toPersistence: number }

class Harness {
  readonly clock = new ManualClock(1_000_000, 1_700_000_000_000);
  readonly counters = StageCounters.create();
  readonly stage: RiskStage;
  readonly ingest: RingProducer;
  readonly fix: RingProducer;
  readonly outIngest: RingConsumer;
  readonly outFixClients: RingConsumer;
  readonly outSor: RingConsumer;
  readonly outPersist: RingConsumer;
  readonly reportsIngest: ReportCollector;
  readonly reportsFix: ReportCollector;
  readonly sor: SorCollector;
  readonly journal: JournalCollector;
  /** Body bytes of the last command written, as the journal should copy them. */
  lastCommand: Uint8Array = new Uint8Array(0);
  private readonly newOrderFw = new NewOrderFlyweight();
  private readonly cancelFw = new CancelOrderFlyweight();
  private readonly eventFw = new ChildEventFlyweight();
  private readonly doneFw = new RouteDoneFlyweight();

  constructor(config: RiskConfig = defaultConfig(), caps: Partial<Capacities> = {}) {
    const big = 1 << 16;
    const mem = {
      fromIngest: createRingMemory(big),
      fromFix: createRingMemory(big),
      toIngest: createRingMemory(caps.toIngest ?? big),
      toFixClients: createRingMemory(caps.toFixClients ?? big),
      toSor: createRingMemory(caps.toSor ?? big),
      toPersistence: createRingMemory(caps.toPersistence ?? big),
    };
    this.ingest = new RingProducer(mem.fromIngest, null);
    this.fix = new RingProducer(mem.fromFix, null);
    this.outIngest = new RingConsumer(mem.toIngest);
    this.outFixClients = new RingConsumer(mem.toFixClients);
    this.outSor = new RingConsumer(mem.toSor);
    this.outPersist = new RingConsumer(mem.toPersistence);
    const rings: RiskRings = {
      fromIngest: new RingConsumer(mem.fromIngest),
      fromFix: new RingConsumer(mem.fromFix),
      toIngest: new RingProducer(mem.toIngest, null),
      toFixClients: new RingProducer(mem.toFixClients, null),
      toSor: new RingProducer(mem.toSor, null),
      toPersistence: new RingProducer(mem.toPersistence, null),
    };
    this.stage = new RiskStage(config, rings, this.clock, this.counters);
    this.reportsIngest = new ReportCollector(this.outIngest);
    this.reportsFix = new ReportCollector(this.outFixClients);
    this.sor = new SorCollector(this.outSor);
    this.journal = new JournalCollector(this.outPersist);
  }

  /** Commands from a FIX client arrive on the fix ring, the others on the ingest ring. */
  private commandRing(source: number): RingProducer {
    return source === Source.FIX ? this.fix : this.ingest;
  }

  newOrder(args: Partial<OrderArgs> = {}): void {
    const a = { ...ORDER_DEFAULTS, ...args };
    const ring = this.commandRing(a.source);
    const at = ring.tryClaim(RecordType.NEW_ORDER, NEW_ORDER_LENGTH);
    expect(at).not.toBe(FULL);
    const cl = Buffer.from(a.clOrdId, 'latin1');
    const fw = this.newOrderFw.wrap(ring.view, ring.bytes, at)
      .setRecvTimeNs(a.recvNs).setQty(a.qty).setPriceTicks(a.price).setConnId(a.conn).setAccountId(a.account)
      .setSymbolId(a.symbol).setRequestId(a.request).setSource(a.source).setSide(a.side).setOrdType(a.ordType)
      .setTif(a.tif);
    expect(fw.setClOrdId(cl, 0, cl.length)).toBe(true);
    this.lastCommand = ring.bytes.slice(at, at + NEW_ORDER_LENGTH);
    ring.commit();
  }

  private cancelLike(type: number, args: Partial<CancelArgs>): void {
    const a: CancelArgs = {
      orderId: 0, account: 1, qty: 0, price: 0, clOrdId: 'X1', origClOrdId: '', conn: 7, request: 2,
      source: Source.INGEST, recvNs: 600, ...args,
    };
    const ring = this.commandRing(a.source);
    const at = ring.tryClaim(type, CANCEL_ORDER_LENGTH);
    expect(at).not.toBe(FULL);
    const cl = Buffer.from(a.clOrdId, 'latin1');
    const orig = Buffer.from(a.origClOrdId, 'latin1');
    const fw = this.cancelFw.wrap(ring.view, ring.bytes, at)
      .setRecvTimeNs(a.recvNs).setOrderId(a.orderId).setQty(a.qty).setPriceTicks(a.price).setConnId(a.conn)
      .setAccountId(a.account).setRequestId(a.request).setSource(a.source);
    expect(fw.setClOrdId(cl, 0, cl.length)).toBe(true);
    expect(fw.setOrigClOrdId(orig, 0, orig.length)).toBe(true);
    this.lastCommand = ring.bytes.slice(at, at + CANCEL_ORDER_LENGTH);
    ring.commit();
  }

  cancel(args: Partial<CancelArgs>): void {
    this.cancelLike(RecordType.CANCEL_ORDER, args);
  }

  replace(args: Partial<CancelArgs>): void {
    this.cancelLike(RecordType.REPLACE_ORDER, args);
  }

  private childEvent(kind: number, childId: number, orderId: number, f: { qty?: number; price?: number; lastQty?: number; lastPx?: number; venue?: number; reason?: number }): void {
    const at = this.fix.tryClaim(RecordType.CHILD_EVENT, CHILD_EVENT_LENGTH);
    expect(at).not.toBe(FULL);
    this.eventFw.wrap(this.fix.view, this.fix.bytes, at)
      .setChildId(childId).setOrderId(orderId).setTimeNs(this.clock.nowNs()).setLastQty(f.lastQty ?? 0)
      .setLastPxTicks(f.lastPx ?? 0).setQty(f.qty ?? 0).setPriceTicks(f.price ?? 0).setVenueId(f.venue ?? 0)
      .setReason(f.reason ?? Reason.NONE).setKind(kind);
    this.lastCommand = this.fix.bytes.slice(at, at + CHILD_EVENT_LENGTH);
    this.fix.commit();
  }

  sent(childId: number, orderId: number, qty: number, price: number, venue: number): void {
    this.childEvent(ChildEventKind.SENT, childId, orderId, { qty, price, venue });
  }
  fill(childId: number, orderId: number, lastQty: number, lastPx: number, venue = 0): void {
    this.childEvent(ChildEventKind.FILL, childId, orderId, { lastQty, lastPx, venue });
  }
  childCanceled(childId: number, orderId: number, reason: number = Reason.NONE): void {
    this.childEvent(ChildEventKind.CANCELED, childId, orderId, { reason });
  }
  childRejected(childId: number, orderId: number, reason: number): void {
    this.childEvent(ChildEventKind.REJECTED, childId, orderId, { reason });
  }
  childCancelRejected(childId: number, orderId: number): void {
    this.childEvent(ChildEventKind.CANCEL_REJECTED, childId, orderId, {});
  }

  routeDone(orderId: number, childCount: number, reason: number = Reason.NONE, routedQty = 0): void {
    const at = this.fix.tryClaim(RecordType.ROUTE_DONE, ROUTE_DONE_LENGTH);
    expect(at).not.toBe(FULL);
    this.doneFw.wrap(this.fix.view, this.fix.bytes, at)
      .setOrderId(orderId).setRecvTimeNs(0).setDecisionTimeNs(this.clock.nowNs()).setRoutedQty(routedQty)
      .setChildCount(childCount).setReason(reason);
    this.lastCommand = this.fix.bytes.slice(at, at + ROUTE_DONE_LENGTH);
    this.fix.commit();
  }

  /** Steps the stage until it is idle; returns the records handled. */
  run(): number {
    let total = 0;
    for (let i = 0; i < 1000; i++) {
      const n = this.stage.doWork();
      if (n === 0) return total;
      total += n;
    }
    throw new Error('stage never went idle');
  }

  /** Runs, then drains every outbound ring; returns what came out since the last call. */
  step(): { ingest: Report[]; fixClients: Report[]; sor: SorRecord[]; journal: Journaled[] } {
    this.run();
    return this.drain();
  }

  drain(): { ingest: Report[]; fixClients: Report[]; sor: SorRecord[]; journal: Journaled[] } {
    const from = [this.reportsIngest.items.length, this.reportsFix.items.length, this.sor.items.length, this.journal.items.length];
    this.outIngest.poll(this.reportsIngest, 1 << 20);
    this.outFixClients.poll(this.reportsFix, 1 << 20);
    this.outSor.poll(this.sor, 1 << 20);
    this.outPersist.poll(this.journal, 1 << 20);
    return {
      ingest: this.reportsIngest.items.slice(from[0]),
      fixClients: this.reportsFix.items.slice(from[1]),
      sor: this.sor.items.slice(from[2]),
      journal: this.journal.items.slice(from[3]),
    };
  }

  slot(orderId: number): number {
    const s = this.stage.orders.slotOf(orderId);
    expect(s).toBeGreaterThanOrEqual(0);
    return s;
  }
  state(orderId: number): number {
    return this.stage.orders.state[this.slot(orderId)];
  }
  position(account: number, symbol: number): number {
    return this.stage.positions[account * 2 + symbol];
  }
}

// ---------------------------------------------------------------------------------------------
// The venue side, modelled: route requests and child cancels read from the sor ring wait in
// queues; children live at the venue until filled or canceled.
// ---------------------------------------------------------------------------------------------
interface ModelChild { orderId: number; qty: number; cum: number; live: boolean }

type Op =
  | { k: 'new'; account: number; symbol: number; side: number; market: boolean; qty: number; fix: boolean }
  | { k: 'cancel'; pick: number }
  | { k: 'replace'; pick: number; qty: number }
  | { k: 'route'; pick: number; venueOk: boolean }
  | { k: 'fill'; pick: number; amount: number; over: boolean }
  | { k: 'venueCancel'; pick: number }
  | { k: 'answerCancel'; pick: number; refuse: boolean };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ k: fc.constant('new' as const), account: fc.constantFrom(1, 2), symbol: fc.constantFrom(0, 1), side: fc.constantFrom(Side.BUY, Side.SELL), market: fc.boolean(), qty: fc.integer({ min: 1, max: 60 }), fix: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('cancel' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('replace' as const), pick: fc.nat(), qty: fc.integer({ min: 1, max: 80 }) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('route' as const), pick: fc.nat(), venueOk: fc.boolean() }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('fill' as const), pick: fc.nat(), amount: fc.nat(), over: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('venueCancel' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('answerCancel' as const), pick: fc.nat(), refuse: fc.boolean() }) },
);

class Model {
  readonly h: Harness;
  readonly children = new Map<number, ModelChild>();
  readonly routeQueue: { orderId: number; qty: number; price: number }[] = [];
  readonly cancelQueue: number[] = [];
  readonly orderIds: number[] = [];
  /** Expected position per account * 2 + symbol, from the fills the venue made. */
  readonly expectedPosition = new Map<number, number>();
  private nextChildId = BASE_CHILD + 1;
  private nextCl = 0;

  constructor() {
    const config = defaultConfig();
    config.orderCapacity = 256;
    config.childCapacity = 256;
    this.h = new Harness(config);
  }

  liveChildren(): number[] {
    return [...this.children.entries()].filter(([, c]) => c.live).map(([id]) => id);
  }

  apply(op: Op): void {
    const h = this.h;
    switch (op.k) {
      case 'new':
        h.newOrder({
          account: op.account, symbol: op.symbol, side: op.side, ordType: op.market ? OrdType.MARKET : OrdType.LIMIT,
          qty: op.qty, price: op.market ? 0 : 10 * SCALE, clOrdId: `N${this.nextCl++}`,
          source: op.fix ? Source.FIX : Source.INGEST,
        });
        break;
      case 'cancel': {
        const id = this.orderIds.length === 0 ? 999 : this.orderIds[op.pick % this.orderIds.length];
        h.cancel({ orderId: id, account: this.accountOf(id), clOrdId: `X${this.nextCl++}` });
        break;
      }
      case 'replace': {
        if (this.orderIds.length === 0) return;
        const id = this.orderIds[op.pick % this.orderIds.length];
        h.replace({ orderId: id, account: this.accountOf(id), qty: op.qty, price: 11 * SCALE, clOrdId: `R${this.nextCl++}` });
        break;
      }
      case 'route': {
        if (this.routeQueue.length === 0) return;
        const [req] = this.routeQueue.splice(op.pick % this.routeQueue.length, 1);
        if (op.venueOk) {
          const childId = this.nextChildId++;
          this.children.set(childId, { orderId: req.orderId, qty: req.qty, cum: 0, live: true });
          h.sent(childId, req.orderId, req.qty, req.price, 1);
          h.routeDone(req.orderId, 1, Reason.NONE, req.qty);
        } else {
          h.routeDone(req.orderId, 0, Reason.NO_VENUE_AVAILABLE);
        }
        break;
      }
      case 'fill': {
        const live = this.liveChildren();
        if (live.length === 0) return;
        const childId = live[op.pick % live.length];
        const c = this.children.get(childId) as ModelChild;
        const remaining = c.qty - c.cum;
        if (op.over) {
          h.fill(childId, c.orderId, remaining + 1 + (op.amount % 5), 10 * SCALE);
          break;
        }
        const qty = 1 + (op.amount % remaining);
        c.cum += qty;
        if (c.cum === c.qty) c.live = false;
        const s = h.stage.orders.slotOf(c.orderId);
        const key = h.stage.orders.accountId[s] * 2 + h.stage.orders.symbolId[s];
        const signed = h.stage.orders.side[s] === Side.BUY ? qty : -qty;
        this.expectedPosition.set(key, (this.expectedPosition.get(key) ?? 0) + signed);
        h.fill(childId, c.orderId, qty, 10 * SCALE);
        break;
      }
      case 'venueCancel': {
        const live = this.liveChildren();
        if (live.length === 0) return;
        this.cancelChild(live[op.pick % live.length]);
        break;
      }
      case 'answerCancel': {
        if (this.cancelQueue.length === 0) return;
        const [childId] = this.cancelQueue.splice(op.pick % this.cancelQueue.length, 1);
        const c = this.children.get(childId) as ModelChild;
        if (!c.live) return; // filled before the cancel reached the venue
        if (op.refuse) h.childCancelRejected(childId, c.orderId);
        else this.cancelChild(childId);
        break;
      }
    }
    this.collect();
  }

  private cancelChild(childId: number): void {
    const c = this.children.get(childId) as ModelChild;
    c.live = false;
    this.h.childCanceled(childId, c.orderId);
  }

  private accountOf(orderId: number): number {
    const s = this.h.stage.orders.slotOf(orderId);
    return s < 0 ? 1 : this.h.stage.orders.accountId[s];
  }

  /** Steps the stage and moves its outputs into the model's queues. */
  collect(): void {
    const out = this.h.step();
    for (const r of [...out.ingest, ...out.fixClients]) {
      if (r.execType === ExecType.NEW && r.reason === Reason.NONE && !this.orderIds.includes(r.orderId)) this.orderIds.push(r.orderId);
    }
    for (const rec of out.sor) {
      if (rec.typeId === RecordType.ROUTE_REQUEST) this.routeQueue.push({ orderId: rec.orderId, qty: rec.qty, price: rec.price });
      else this.cancelQueue.push(rec.childId);
    }
  }

  /** Invariants that hold whenever the stage is idle. */
  check(): void {
    const o = this.h.stage.orders;
    for (const id of this.orderIds) {
      const s = o.slotOf(id);
      expect(s).toBeGreaterThanOrEqual(0);
      expect(o.cumQty[s], `order ${id} filled within its quantity`).toBeLessThanOrEqual(o.qty[s]);
      if (!isTerminal(o.state[s])) {
        const working = o.liveChildren[s] > 0 || o.routing[s] === 1;
        expect(working, `order ${id} in state ${o.state[s]} has something working`).toBe(true);
      }
      const modelLive = [...this.children.values()].filter((c) => c.orderId === id && c.live).length;
      expect(o.liveChildren[s], `live children of order ${id}`).toBe(modelLive);
    }
    for (let account = 0; account < 4; account++) {
      for (let symbol = 0; symbol < 2; symbol++) {
        const key = account * 2 + symbol;
        expect(this.h.position(account, symbol)).toBe(this.expectedPosition.get(key) ?? 0);
      }
    }
    // Positions also equal the signed sum of the fills reported to clients.
    const reported = new Map<number, number>();
    for (const r of [...this.h.reportsIngest.items, ...this.h.reportsFix.items]) {
      if (r.execType !== ExecType.FILL && r.execType !== ExecType.PARTIAL_FILL) continue;
      const key = r.accountId * 2 + r.symbolId;
      reported.set(key, (reported.get(key) ?? 0) + (r.side === Side.BUY ? r.lastQty : -r.lastQty));
    }
    for (const [key, qty] of this.expectedPosition) expect(reported.get(key) ?? 0).toBe(qty);
  }

  /** The venues answer everything and cancel whatever is left; then every order must be done. */
  finish(): void {
    for (let round = 0; round < 50; round++) {
      if (this.routeQueue.length === 0 && this.liveChildren().length === 0) break;
      while (this.routeQueue.length > 0) {
        const req = this.routeQueue.shift() as { orderId: number };
        this.h.routeDone(req.orderId, 0, Reason.NO_VENUE_AVAILABLE);
      }
      for (const childId of this.liveChildren()) this.cancelChild(childId);
      this.cancelQueue.length = 0;
      this.collect();
    }
    const o = this.h.stage.orders;
    for (const id of this.orderIds) {
      const s = o.slotOf(id);
      expect(isTerminal(o.state[s]), `order ${id} ends terminal (state ${o.state[s]})`).toBe(true);
    }
  }
}

describe('RiskStage properties', () => {
  it('random interleavings: no throw, fills within quantity, positions = signed fills, orders end', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 120 }), (ops) => {
        const m = new Model();
        for (const op of ops) {
          m.apply(op);
          m.check();
        }
        m.finish();
        m.check();
        expect(m.h.counters.get(RiskCounter.ILLEGAL_TRANSITIONS)).toBe(0);
      }),
      { numRuns: 2000 },
    );
  });
});
