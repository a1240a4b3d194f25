/**
 * Drives a SorStage by hand on real rings: what risk and fix would write (route requests,
 * cancels, venue status, quotes, child events) goes in, what the SOR writes to fix and to the
 * audit rings comes out, decoded. The clock is a ManualClock, so fallback timing is stepped, not
 * waited for.
 */
import {
  CHILD_EVENT_LENGTH,
  CHILD_ORDER_LENGTH,
  ChildEventFlyweight,
  ChildOrderFlyweight,
  QUOTE_LENGTH,
  QuoteFlyweight,
  ROUTE_REQUEST_LENGTH,
  RecordType,
  journalMarkOf,
  RouteAuditFlyweight,
  RouteDoneFlyweight,
  RouteRequestFlyweight,
  SOR_CONFIG_LENGTH,
  SorConfigFlyweight,
  VENUE_STATUS_LENGTH,
  VenueStatusFlyweight,
  WEIGHT_SCALE,
} from '../../codecs/records.ts';
import { ManualClock } from '../../engine/clock.ts';
import { StageCounters } from '../../engine/counters.ts';
import { OrdType, Tif } from '../../engine/domain.ts';
import { PRICE_SCALE } from '../../engine/fixed-point.ts';
import { FULL, RingConsumer, RingProducer, createRingMemory, type RecordHandler, type RingMemory } from '../../engine/ring.ts';
import { SorStage, type SorConfig, type SorWeights, type VenueProfile } from './sor-stage.ts';

export const BASE = 9000;
export const px = (units: number): number => Math.round(units * PRICE_SCALE);

export interface OutRecord {
  typeId: number;
  childId: number;
  orderId: number;
  qty: number;
  price: number;
  decisionNs: number;
  venueId: number;
  symbolId: number;
  accountId: number;
  side: number;
  ordType: number;
  tif: number;
  routedQty: number;
  childCount: number;
  reason: number;
  /** CHILD_NEW: the journal feed's records fix waits for (0 for the others). */
  journalMark: number;
  raw: Uint8Array;
}

export class Collector implements RecordHandler {
  readonly items: OutRecord[] = [];
  /** Copies of every ROUTE_AUDIT body, in order. */
  readonly audits: Uint8Array[] = [];
  private readonly consumer: RingConsumer;
  private readonly child = new ChildOrderFlyweight();
  private readonly done = new RouteDoneFlyweight();
  constructor(consumer: RingConsumer) {
    this.consumer = consumer;
  }
  onRecord(typeId: number, offset: number, length: number): void {
    const c = this.consumer;
    const raw = c.bytes.slice(offset, offset + length);
    if (typeId === RecordType.ROUTE_AUDIT) {
      this.audits.push(raw);
      return;
    }
    const base = { typeId, raw, childId: 0, qty: 0, price: 0, venueId: 0, symbolId: 0, accountId: 0, side: 0, ordType: 0, tif: 0, routedQty: 0, childCount: 0, reason: 0, journalMark: 0 };
    if (typeId === RecordType.ROUTE_DONE) {
      const d = this.done.wrap(c.view, c.bytes, offset);
      this.items.push({ ...base, orderId: d.orderId(), decisionNs: d.decisionTimeNs(), routedQty: d.routedQty(), childCount: d.childCount(), reason: d.reason() });
      return;
    }
    const ch = this.child.wrap(c.view, c.bytes, offset);
    this.items.push({
      ...base, childId: ch.childId(), orderId: ch.orderId(), qty: ch.qty(), price: ch.priceTicks(), decisionNs: ch.decisionTimeNs(),
      venueId: ch.venueId(), symbolId: ch.symbolId(), accountId: ch.accountId(), side: ch.side(), ordType: ch.ordType(), tif: ch.tif(),
      journalMark: journalMarkOf(c.view, typeId, offset),
    });
  }
}

export function venue(feeCentiBps: number, latencyUs: number, fillProbability: number, minQty = 0, lotSize = 1): VenueProfile {
  return { feeCentiBps, latencyUs, fillProbability, minQty, lotSize };
}

export interface RequestOptions {
  qty?: number;
  price?: number;
  symbol?: number;
  ordType?: number;
  tif?: number;
  account?: number;
}

export class SorHarness {
  readonly clock = new ManualClock(10_000_000, 1_700_000_000_000);
  readonly counters = StageCounters.create();
  readonly stage: SorStage;
  readonly config: SorConfig;
  readonly risk: RingProducer;
  readonly fix: RingProducer;
  readonly out: RingConsumer;
  readonly audit: RingConsumer;
  readonly ingest: RingConsumer;
  readonly collector: Collector;
  readonly auditCollector: Collector;
  readonly ingestCollector: Collector;
  private readonly rq = new RouteRequestFlyweight();
  private readonly vs = new VenueStatusFlyweight();
  private readonly qt = new QuoteFlyweight();
  private readonly ce = new ChildEventFlyweight();
  private readonly ch = new ChildOrderFlyweight();
  private readonly sc = new SorConfigFlyweight();
  private nextOrderId = 1;

  /** The stage's ring memories (for gates and other ends). */
  readonly memory: Record<'fromRisk' | 'fromFix' | 'toFix' | 'toPersistence' | 'toIngest', RingMemory>;

  constructor(venues: (VenueProfile | null)[], weights: SorWeights, extra: Partial<SorConfig> = {}, ringBytes = 1 << 20) {
    const m = this.memory = {
      fromRisk: createRingMemory(ringBytes), fromFix: createRingMemory(ringBytes), toFix: createRingMemory(ringBytes),
      toPersistence: createRingMemory(ringBytes), toIngest: createRingMemory(ringBytes),
    };
    this.risk = new RingProducer(m.fromRisk, null);
    this.fix = new RingProducer(m.fromFix, null);
    this.out = new RingConsumer(m.toFix);
    this.audit = new RingConsumer(m.toPersistence);
    this.ingest = new RingConsumer(m.toIngest);
    this.config = { venues, symbolCount: 2, weights: { ...weights }, quoteStaleNs: 1_000_000_000, childIdBase: BASE, ...extra };
    this.stage = new SorStage(
      this.config,
      {
        fromRisk: new RingConsumer(m.fromRisk), fromFix: new RingConsumer(m.fromFix), toFix: new RingProducer(m.toFix, null),
        toPersistence: new RingProducer(m.toPersistence, null), toIngest: new RingProducer(m.toIngest, null),
      },
      this.clock,
      this.counters,
    );
    this.collector = new Collector(this.out);
    this.auditCollector = new Collector(this.audit);
    this.ingestCollector = new Collector(this.ingest);
  }

  up(...venueIds: number[]): this {
    for (const v of venueIds) this.status(v, true);
    return this;
  }

  status(venueId: number, up: boolean): void {
    const at = this.claim(this.fix, RecordType.VENUE_STATUS, VENUE_STATUS_LENGTH);
    this.vs.wrap(this.fix.view, this.fix.bytes, at).setTimeNs(this.clock.nowNs()).setVenueId(venueId).setUp(up);
    this.fix.commit();
  }

  quote(venueId: number, symbol: number, bid: number, bidQty: number, ask: number, askQty: number, timeNs = this.clock.nowNs()): this {
    const at = this.claim(this.fix, RecordType.QUOTE, QUOTE_LENGTH);
    this.qt.wrap(this.fix.view, this.fix.bytes, at).setTimeNs(timeNs).setBidTicks(bid).setBidQty(bidQty)
      .setAskTicks(ask).setAskQty(askQty).setVenueId(venueId).setSymbolId(symbol);
    this.fix.commit();
    return this;
  }

  request(side: number, o: RequestOptions = {}): number {
    const orderId = this.nextOrderId++;
    const at = this.claim(this.risk, RecordType.ROUTE_REQUEST, ROUTE_REQUEST_LENGTH);
    this.rq.wrap(this.risk.view, this.risk.bytes, at).setOrderId(orderId).setRecvTimeNs(1234).setQty(o.qty ?? 100)
      .setPriceTicks(o.price ?? px(10)).setAccountId(o.account ?? 6).setSymbolId(o.symbol ?? 0).setSide(side)
      .setOrdType(o.ordType ?? OrdType.LIMIT).setTif(o.tif ?? Tif.DAY);
    this.risk.commit();
    return orderId;
  }

  /** What fix would copy to the SOR about a child. */
  event(kind: number, childId: number, orderId: number, venueId: number, lastQty = 0, lastPx = 0, reason = 0): this {
    const at = this.claim(this.fix, RecordType.CHILD_EVENT, CHILD_EVENT_LENGTH);
    this.ce.wrap(this.fix.view, this.fix.bytes, at).setChildId(childId).setOrderId(orderId).setTimeNs(this.clock.nowNs())
      .setLastQty(lastQty).setLastPxTicks(lastPx).setQty(0).setPriceTicks(0).setVenueId(venueId).setReason(reason).setKind(kind);
    this.fix.commit();
    return this;
  }

  /** A CHILD_CANCEL from risk with every byte set; returns the body written. */
  childCancel(childId: number): Uint8Array {
    const at = this.claim(this.risk, RecordType.CHILD_CANCEL, CHILD_ORDER_LENGTH);
    for (let i = 0; i < CHILD_ORDER_LENGTH; i++) this.risk.bytes[at + i] = (i * 37 + 11) & 0xff;
    this.ch.wrap(this.risk.view, this.risk.bytes, at).setChildId(childId);
    const body = this.risk.bytes.slice(at, at + CHILD_ORDER_LENGTH);
    this.risk.commit();
    return body;
  }

  sorConfig(version: number, w: SorWeights, quoteStaleMs: number, mode: number): void {
    const at = this.claim(this.risk, RecordType.SOR_CONFIG, SOR_CONFIG_LENGTH);
    this.sc.wrap(this.risk.view, this.risk.bytes, at).setTimeNs(0).setVersion(version).setAdminAccountId(1)
      .setPriceWeight(Math.round(w.price * WEIGHT_SCALE)).setLatencyWeight(Math.round(w.latency * WEIGHT_SCALE))
      .setFillprobWeight(Math.round(w.fillprob * WEIGHT_SCALE)).setFeeWeight(Math.round(w.fee * WEIGHT_SCALE))
      .setQuoteStaleMs(quoteStaleMs).setMode(mode);
    this.risk.commit();
  }

  step(): OutRecord[] {
    const from = this.collector.items.length;
    for (let i = 0; i < 100 && this.stage.doWork() > 0; i++);
    this.out.poll(this.collector, 1 << 20);
    this.audit.poll(this.auditCollector, 1 << 20);
    this.ingest.poll(this.ingestCollector, 1 << 20);
    return this.collector.items.slice(from);
  }

  /** The decoded audit records so far (journal copies). */
  audits(): RouteAuditFlyweight[] {
    return this.auditCollector.audits.map((raw) => new RouteAuditFlyweight().wrap(new DataView(raw.buffer, raw.byteOffset, raw.byteLength), raw, 0));
  }

  private claim(ring: RingProducer, type: number, length: number): number {
    const at = ring.tryClaim(type, length);
    if (at === FULL) throw new Error('test ring full');
    return at;
  }
}
