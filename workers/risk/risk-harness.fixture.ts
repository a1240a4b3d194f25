/**
 * The hand-stepped harness shared by the risk stage's unit and property tests: real rings,
 * the stage driven by doWork(), outputs decoded from the outbound rings.
 */
import { expect } from 'vitest';
import {
  MASS_CANCEL_LENGTH,
  MassCancelFlyweight,
  CANCEL_ORDER_LENGTH,
  childEventLength,
  CancelOrderFlyweight,
  ChildEventFlyweight,
  ChildEventKind,
  ChildOrderFlyweight,
  EXEC_REPORT_LENGTH,
  ExecReportFlyweight,
  NEW_ORDER_LENGTH,
  NewOrderFlyweight,
  PositionFlyweight,
  QUOTE_LENGTH,
  QuoteFlyweight,
  RISK_LIMIT_LENGTH,
  RiskLimitFlyweight,
  ROUTE_DONE_LENGTH,
  RecordType,
  RouteDoneFlyweight,
  RouteRequestFlyweight,
} from '../../codecs/records.ts';
import { ManualClock } from '../../engine/clock.ts';
import { StageCounters } from '../../engine/counters.ts';
import { OrdType, Side, Source, Tif } from '../../engine/domain.ts';
import { PRICE_SCALE } from '../../engine/fixed-point.ts';
import { ExecType } from '../../engine/order-state.ts';
import { Reason } from '../../engine/reasons.ts';
import { FULL, RingConsumer, RingProducer, createRingMemory, type RecordHandler } from '../../engine/ring.ts';
import { execIdHash } from '../fix/exec-id-set.ts';
import { KillBoard } from './kill-board.ts';
import { RiskStage, type RiskConfig, type RiskRings } from './risk-stage.ts';

// ---------------------------------------------------------------------------------------------
// Harness: the stage on one thread, its six rings made here, commands written with the record
// flyweights, outputs decoded into plain objects (tests may allocate).
// ---------------------------------------------------------------------------------------------
export const SCALE = PRICE_SCALE;
export const BASE_CHILD = 5000;

export interface Report {
  eventSeq: number; orderId: number; timeNs: number; recvNs: number; qty: number; price: number;
  lastQty: number; lastPx: number; cumQty: number; leavesQty: number; cumNotional: number;
  connId: number; accountId: number; symbolId: number; requestId: number; reason: number;
  venueId: number; execType: number; state: number; side: number; ordType: number; tif: number;
  source: number; clOrdId: string; origClOrdId: string; venueExecIdHash: number; execRefSeq: number; raw: Uint8Array;
}
export interface SorRecord {
  typeId: number; orderId: number; qty: number; price: number; accountId: number; symbolId: number;
  side: number; ordType: number; tif: number; recvNs: number; childId: number; venueId: number;
  decisionNs: number;
}
export interface Journaled { typeId: number; raw: Uint8Array }

export interface PositionRecord {
  accountId: number; symbolId: number; qty: number; costTicks: number; realizedTicks: number; eventSeq: number;
  markTicks: number; unrealizedTicks: number;
}

export class ReportCollector implements RecordHandler {
  readonly items: Report[] = [];
  readonly positions: PositionRecord[] = [];
  private readonly fw = new ExecReportFlyweight();
  private readonly pos = new PositionFlyweight();
  private readonly consumer: RingConsumer;
  constructor(consumer: RingConsumer) { this.consumer = consumer; }
  onRecord(typeId: number, offset: number, length: number): void {
    if (typeId === RecordType.POSITION) {
      const p = this.pos.wrap(this.consumer.view, this.consumer.bytes, offset);
      this.positions.push({
        accountId: p.accountId(), symbolId: p.symbolId(), qty: p.qty(), costTicks: p.costTicks(),
        realizedTicks: p.realizedTicks(), eventSeq: p.eventSeq(), markTicks: p.markTicks(), unrealizedTicks: p.unrealizedTicks(),
      });
      return;
    }
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
      source: r.source(), clOrdId: clText, origClOrdId: origText, venueExecIdHash: r.venueExecIdHash(), execRefSeq: r.execRefSeq(),
      raw: c.bytes.slice(offset, offset + EXEC_REPORT_LENGTH),
    });
  }
}

export class SorCollector implements RecordHandler {
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

export class JournalCollector implements RecordHandler {
  readonly items: Journaled[] = [];
  private readonly consumer: RingConsumer;
  constructor(consumer: RingConsumer) { this.consumer = consumer; }
  onRecord(typeId: number, offset: number, length: number): void {
    this.items.push({ typeId, raw: this.consumer.bytes.slice(offset, offset + length) });
  }
}

export interface OrderArgs {
  account: number; symbol: number; side: number; ordType: number; tif: number; qty: number;
  price: number; clOrdId: string; conn: number; request: number; source: number; recvNs: number;
}
export interface CancelArgs {
  orderId: number; account: number; qty: number; price: number; clOrdId: string; origClOrdId: string;
  conn: number; request: number; source: number; recvNs: number;
}

export const ORDER_DEFAULTS: OrderArgs = {
  account: 1, symbol: 0, side: Side.BUY, ordType: OrdType.LIMIT, tif: Tif.DAY, qty: 100,
  price: 10 * SCALE, clOrdId: 'C1', conn: 7, request: 1, source: Source.INGEST, recvNs: 500,
};

export function defaultConfig(): RiskConfig {
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

/** defaultConfig() with an order table of orderCapacity slots (and a child table of childCapacity, when given). */
export function tableOf(orderCapacity: number, childCapacity?: number): RiskConfig {
  const config = defaultConfig();
  config.orderCapacity = orderCapacity;
  if (childCapacity !== undefined) config.childCapacity = childCapacity;
  return config;
}

/**
 * An 8192-slot order table; with firstOrderId 5000 the orders sit past the 4096 slots one
 * cycle's mass-cancel scan examines (a recovering stage takes the journal's ids: leave it 1).
 */
export function bigTable(firstOrderId = 1): RiskConfig {
  const config = tableOf(8192);
  config.firstOrderId = firstOrderId;
  return config;
}

export interface Capacities { toIngest: number; toFixClients: number; toSor: number; toPersistence: number }

export class Harness {
  readonly clock = new ManualClock(1_000_000, 1_700_000_000_000);
  readonly counters = StageCounters.create();
  readonly stage: RiskStage;
  readonly ingest: RingProducer;
  readonly killBoard: KillBoard;
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
      killBoard: this.killBoard = KillBoard.create(config.accounts.length),
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

  /** A mass cancel from the edge: account 0 = all, symbol ALL_SYMBOLS = all, conn 0 = any. */
  massCancel(account: number, symbol: number, conn: number, reason: number): void {
    const ring = this.commandRing(Source.INGEST);
    const at = ring.tryClaim(RecordType.MASS_CANCEL, MASS_CANCEL_LENGTH);
    expect(at).not.toBe(FULL);
    new MassCancelFlyweight().wrap(ring.view, ring.bytes, at).setAccountId(account).setSymbolId(symbol).setConnId(conn).setReason(reason);
    ring.commit();
  }

  /** The kill switch as the admin API sets it (on the kill board, not a ring): account 0 = every account. */
  accountControl(account: number, mode: number, admin = 9): void {
    expect(this.killBoard.request(account, mode, admin)).toBe(true);
  }

  /** One venue's top of book (fix -> risk); a side with qty 0 is absent. */
  quote(symbol: number, venue: number, bid: number, bidQty: number, ask: number, askQty: number): void {
    const at = this.fix.tryClaim(RecordType.QUOTE, QUOTE_LENGTH);
    expect(at).not.toBe(FULL);
    new QuoteFlyweight().wrap(this.fix.view, this.fix.bytes, at).setTimeNs(this.clock.nowNs()).setBidTicks(bid).setBidQty(bidQty)
      .setAskTicks(ask).setAskQty(askQty).setVenueId(venue).setSymbolId(symbol);
    this.fix.commit();
  }

  /** An admin's limit change (ingest -> risk); symbol ALL_SYMBOLS for an account-wide key. */
  limit(key: number, account: number, symbol: number, value: number, version = 1, admin = 9): void {
    const at = this.ingest.tryClaim(RecordType.RISK_LIMIT, RISK_LIMIT_LENGTH);
    expect(at).not.toBe(FULL);
    new RiskLimitFlyweight().wrap(this.ingest.view, this.ingest.bytes, at).setTimeNs(this.clock.nowNs()).setValue(value)
      .setVersion(version).setAdminAccountId(admin).setAccountId(account).setSymbolId(symbol).setKey(key);
    this.lastCommand = this.ingest.bytes.slice(at, at + RISK_LIMIT_LENGTH);
    this.ingest.commit();
  }

  cancel(args: Partial<CancelArgs>): void {
    this.cancelLike(RecordType.CANCEL_ORDER, args);
  }

  replace(args: Partial<CancelArgs>): void {
    this.cancelLike(RecordType.REPLACE_ORDER, args);
  }

  /** execId, execRefId: the venue's ExecID (17) and ExecRefID (19), carried as the fix stage carries them (with execIdHash of the ExecID). */
  private childEvent(
    kind: number, childId: number, orderId: number,
    f: { qty?: number; price?: number; lastQty?: number; lastPx?: number; venue?: number; reason?: number; execId?: string; execRefId?: string },
  ): void {
    const id = Buffer.from(f.execId ?? '', 'latin1');
    const ref = Buffer.from(f.execRefId ?? '', 'latin1');
    const length = childEventLength(id.length, ref.length);
    const at = this.fix.tryClaim(RecordType.CHILD_EVENT, length);
    expect(at).not.toBe(FULL);
    const venue = f.venue ?? 0;
    const both = Buffer.concat([id, ref]);
    this.eventFw.wrap(this.fix.view, this.fix.bytes, at)
      .setChildId(childId).setOrderId(orderId).setTimeNs(this.clock.nowNs()).setLastQty(f.lastQty ?? 0)
      .setLastPxTicks(f.lastPx ?? 0).setQty(f.qty ?? 0).setPriceTicks(f.price ?? 0).setVenueId(venue)
      .setReason(f.reason ?? Reason.NONE).setKind(kind)
      .setExecIdHash(id.length > 0 ? execIdHash(venue, id, 0, id.length) : 0)
      .setIds(both, 0, id.length, id.length, both.length);
    this.lastCommand = this.fix.bytes.slice(at, at + length);
    this.fix.commit();
  }

  sent(childId: number, orderId: number, qty: number, price: number, venue: number): void {
    this.childEvent(ChildEventKind.SENT, childId, orderId, { qty, price, venue });
  }
  fill(childId: number, orderId: number, lastQty: number, lastPx: number, venue = 0, execId = ''): void {
    this.childEvent(ChildEventKind.FILL, childId, orderId, { lastQty, lastPx, venue, execId });
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
  /** A venue's bust (TRADE_CANCEL) or correction (TRADE_CORRECT) of the fill of the child whose ExecID was execRefId. */
  tradeCorrection(kind: number, childId: number, orderId: number, lastQty: number, lastPx: number, venue = 0, execId = '', execRefId = ''): void {
    this.childEvent(kind, childId, orderId, { lastQty, lastPx, venue, execId, execRefId });
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

  /** Reads the journal ring alone (the SOR's and the edges' stay unread); returns the journal's length. */
  drainJournalOnly(): number {
    this.outPersist.poll(this.journal, 1 << 20);
    return this.journal.items.length;
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
    return this.stage.positions.qty[this.stage.positions.cell(account, symbol)];
  }
}

/** Submits an order and runs; returns its order id (the report's) after checking it was accepted. */
export function accept(h: Harness, args: Partial<OrderArgs> = {}): number {
  h.newOrder(args);
  const out = h.step();
  const reports = args.source === Source.FIX ? out.fixClients : out.ingest;
  expect(reports.length).toBe(1);
  expect(reports[0].execType).toBe(ExecType.NEW);
  expect(reports[0].reason).toBe(Reason.NONE);
  return reports[0].orderId;
}

/** The SOR sent one child for the whole quantity to venue, then its ROUTE_DONE came back. */
export function route(h: Harness, orderId: number, childId: number, qty: number, price: number, venue = 2): void {
  h.sent(childId, orderId, qty, price, venue);
  h.routeDone(orderId, 1, Reason.NONE, qty);
  const out = h.step();
  expect(out.ingest).toEqual([]);
  expect(out.fixClients).toEqual([]);
}
