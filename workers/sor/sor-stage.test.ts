// Goal: the SOR picks the venue the documented score ranks first (price, latency, fill
// probability, fee; buy against asks, sell against bids; stale quotes ignored; venues down
// excluded; ties to the lower venue id), answers every route request with one ROUTE_DONE (0
// children and NO_VENUE_AVAILABLE when no venue can take it), issues child ids from
// childIdBase + 1, and passes CHILD_CANCEL through byte for byte, in order.
// Method: the stage stepped by hand on real rings; expected scores worked out by hand.
import { describe, expect, it } from 'vitest';
import {
  CHILD_ORDER_LENGTH,
  ChildOrderFlyweight,
  QUOTE_LENGTH,
  QuoteFlyweight,
  ROUTE_REQUEST_LENGTH,
  RecordType,
  RouteDoneFlyweight,
  RouteRequestFlyweight,
  VENUE_STATUS_LENGTH,
  VenueStatusFlyweight,
} from '../../codecs/records.ts';
import { ManualClock } from '../../engine/clock.ts';
import { SorCounter, StageCounters } from '../../engine/counters.ts';
import { OrdType, Side, Tif } from '../../engine/domain.ts';
import { PRICE_SCALE } from '../../engine/fixed-point.ts';
import { Reason } from '../../engine/reasons.ts';
import { FULL, RingConsumer, RingProducer, createRingMemory, type RecordHandler } from '../../engine/ring.ts';
import { SorStage, type SorConfig, type SorWeights, type VenueProfile } from './sor-stage.ts';

const BASE = 9000;
const STALE_NS = 1_000_000;
const px = (units: number): number => Math.round(units * PRICE_SCALE);

interface Out {
  typeId: number; childId: number; orderId: number; qty: number; price: number; recvNs: number;
  decisionNs: number; venueId: number; symbolId: number; accountId: number; side: number;
  ordType: number; tif: number; routedQty: number; childCount: number; reason: number; raw: Uint8Array;
}

class OutCollector implements RecordHandler {
  readonly items: Out[] = [];
  private readonly consumer: RingConsumer;
  private readonly child = new ChildOrderFlyweight();
  private readonly done = new RouteDoneFlyweight();
  constructor(consumer: RingConsumer) { this.consumer = consumer; }
  onRecord(typeId: number, offset: number, length: number): void {
    const c = this.consumer;
    const raw = c.bytes.slice(offset, offset + length);
    if (typeId === RecordType.ROUTE_DONE) {
      const d = this.done.wrap(c.view, c.bytes, offset);
      this.items.push({
        typeId, childId: 0, orderId: d.orderId(), qty: 0, price: 0, recvNs: d.recvTimeNs(), decisionNs: d.decisionTimeNs(),
        venueId: 0, symbolId: 0, accountId: 0, side: 0, ordType: 0, tif: 0, routedQty: d.routedQty(),
        childCount: d.childCount(), reason: d.reason(), raw,
      });
      return;
    }
    const ch = this.child.wrap(c.view, c.bytes, offset);
    this.items.push({
      typeId, childId: ch.childId(), orderId: ch.orderId(), qty: ch.qty(), price: ch.priceTicks(), recvNs: ch.recvTimeNs(),
      decisionNs: ch.decisionTimeNs(), venueId: ch.venueId(), symbolId: ch.symbolId(), accountId: ch.accountId(),
      side: ch.side(), ordType: ch.ordType(), tif: ch.tif(), routedQty: 0, childCount: 0, reason: 0, raw,
    });
  }
}

function venue(feeCentiBps: number, latencyUs: number, fillProbability: number): VenueProfile {
  return { feeCentiBps, latencyUs, fillProbability };
}

class Harness {
  readonly clock = new ManualClock(10_000_000, 1_700_000_000_000);
  readonly counters = StageCounters.create();
  readonly stage: SorStage;
  readonly risk: RingProducer;
  readonly fix: RingProducer;
  readonly out: RingConsumer;
  readonly collector: OutCollector;
  private readonly rq = new RouteRequestFlyweight();
  private readonly vs = new VenueStatusFlyweight();
  private readonly qt = new QuoteFlyweight();
  private readonly ch = new ChildOrderFlyweight();
  private nextOrderId = 1;

  constructor(venues: (VenueProfile | null)[], weights: SorWeights, symbolCount = 2) {
    const m = { fromRisk: createRingMemory(1 << 16), fromFix: createRingMemory(1 << 16), toFix: createRingMemory(1 << 16) };
    this.risk = new RingProducer(m.fromRisk, null);
    this.fix = new RingProducer(m.fromFix, null);
    this.out = new RingConsumer(m.toFix);
    const config: SorConfig = { venues, symbolCount, weights, quoteStaleNs: STALE_NS, childIdBase: BASE };
    this.stage = new SorStage(config, { fromRisk: new RingConsumer(m.fromRisk), fromFix: new RingConsumer(m.fromFix), toFix: new RingProducer(m.toFix, null) }, this.clock, this.counters);
    this.collector = new OutCollector(this.out);
  }

  up(...venueIds: number[]): this {
    for (const v of venueIds) this.status(v, true);
    return this;
  }

  status(venueId: number, up: boolean): void {
    const at = this.fix.tryClaim(RecordType.VENUE_STATUS, VENUE_STATUS_LENGTH);
    expect(at).not.toBe(FULL);
    this.vs.wrap(this.fix.view, this.fix.bytes, at).setTimeNs(this.clock.nowNs()).setVenueId(venueId).setUp(up);
    this.fix.commit();
  }

  quote(venueId: number, symbol: number, bid: number, bidQty: number, ask: number, askQty: number, timeNs = this.clock.nowNs()): void {
    const at = this.fix.tryClaim(RecordType.QUOTE, QUOTE_LENGTH);
    expect(at).not.toBe(FULL);
    this.qt.wrap(this.fix.view, this.fix.bytes, at).setTimeNs(timeNs).setBidTicks(bid).setBidQty(bidQty)
      .setAskTicks(ask).setAskQty(askQty).setVenueId(venueId).setSymbolId(symbol);
    this.fix.commit();
  }

  request(side: number, qty = 100, symbol = 0, price = px(10)): number {
    const orderId = this.nextOrderId++;
    const at = this.risk.tryClaim(RecordType.ROUTE_REQUEST, ROUTE_REQUEST_LENGTH);
    expect(at).not.toBe(FULL);
    this.rq.wrap(this.risk.view, this.risk.bytes, at).setOrderId(orderId).setRecvTimeNs(1234).setQty(qty)
      .setPriceTicks(price).setAccountId(6).setSymbolId(symbol).setSide(side).setOrdType(OrdType.LIMIT).setTif(Tif.IOC);
    this.risk.commit();
    return orderId;
  }

  /** Writes a CHILD_CANCEL with every byte set; returns the body bytes written. */
  childCancel(childId: number): Uint8Array {
    const at = this.risk.tryClaim(RecordType.CHILD_CANCEL, CHILD_ORDER_LENGTH);
    expect(at).not.toBe(FULL);
    for (let i = 0; i < CHILD_ORDER_LENGTH; i++) this.risk.bytes[at + i] = (i * 37 + 11) & 0xff;
    this.ch.wrap(this.risk.view, this.risk.bytes, at).setChildId(childId);
    const body = this.risk.bytes.slice(at, at + CHILD_ORDER_LENGTH);
    this.risk.commit();
    return body;
  }

  step(): Out[] {
    const from = this.collector.items.length;
    for (let i = 0; i < 100 && this.stage.doWork() > 0; i++);
    this.out.poll(this.collector, 1 << 20);
    return this.collector.items.slice(from);
  }

  /** Routes one request; returns the venue of its single child (or -1 when unroutable). */
  route(side: number, symbol = 0): number {
    const orderId = this.request(side, 100, symbol);
    const out = this.step();
    const done = out[out.length - 1];
    expect(done.typeId).toBe(RecordType.ROUTE_DONE);
    expect(done.orderId).toBe(orderId);
    if (done.childCount === 0) return -1;
    expect(out.length).toBe(2);
    return out[0].venueId;
  }
}

const PRICE_ONLY: SorWeights = { price: 1, latency: 0, fillprob: 0, fee: 0 };
const LATENCY_ONLY: SorWeights = { price: 0, latency: 1, fillprob: 0, fee: 0 };
const FILL_ONLY: SorWeights = { price: 0, latency: 0, fillprob: 1, fee: 0 };
const FEE_ONLY: SorWeights = { price: 0, latency: 0, fillprob: 0, fee: 1 };
const SAME = venue(10, 100, 0.5);

describe('SorStage: routing output', () => {
  it('one CHILD_NEW for the whole quantity, then ROUTE_DONE; child ids from childIdBase + 1', () => {
    const h = new Harness([null, SAME, SAME], PRICE_ONLY).up(1, 2);
    h.clock.advanceNs(777);
    const orderId = h.request(Side.BUY, 250, 1, px(12.5));
    const out = h.step();
    expect(out.map((o) => o.typeId)).toEqual([RecordType.CHILD_NEW, RecordType.ROUTE_DONE]);
    expect(out[0]).toMatchObject({
      childId: BASE + 1, orderId, qty: 250, price: px(12.5), recvNs: 1234, decisionNs: h.clock.nowNs(),
      venueId: 1, symbolId: 1, accountId: 6, side: Side.BUY, ordType: OrdType.LIMIT, tif: Tif.IOC,
    });
    expect(out[1]).toMatchObject({
      orderId, recvNs: 1234, decisionNs: h.clock.nowNs(), routedQty: 250, childCount: 1, reason: Reason.NONE,
    });
    h.request(Side.SELL);
    h.request(Side.BUY);
    const more = h.step().filter((o) => o.typeId === RecordType.CHILD_NEW);
    expect(more.map((o) => o.childId)).toEqual([BASE + 2, BASE + 3]);
    expect(h.counters.get(SorCounter.ROUTE_REQUESTS)).toBe(3);
    expect(h.counters.get(SorCounter.CHILDREN)).toBe(3);
  });

  it('no venue up -> ROUTE_DONE with 0 children and NO_VENUE_AVAILABLE; no child id used', () => {
    const h = new Harness([null, SAME, SAME], PRICE_ONLY);
    const orderId = h.request(Side.BUY, 300);
    const out = h.step();
    expect(out.length).toBe(1);
    expect(out[0]).toMatchObject({ typeId: RecordType.ROUTE_DONE, orderId, childCount: 0, routedQty: 0, reason: Reason.NO_VENUE_AVAILABLE });
    expect(h.counters.get(SorCounter.UNROUTABLE)).toBe(1);
    h.up(2);
    h.request(Side.BUY);
    expect(h.step()[0]).toMatchObject({ typeId: RecordType.CHILD_NEW, childId: BASE + 1, venueId: 2 });
  });

  it('no venue configured (all null) -> NO_VENUE_AVAILABLE', () => {
    const h = new Harness([null, null], PRICE_ONLY).up(1);
    expect(h.route(Side.BUY)).toBe(-1);
  });

  it('CHILD_CANCEL is passed through byte-identical, in order with the route requests', () => {
    const h = new Harness([null, SAME], PRICE_ONLY).up(1);
    const a = h.request(Side.BUY);
    const body = h.childCancel(BASE + 1);
    const b = h.request(Side.SELL);
    const out = h.step();
    expect(out.map((o) => [o.typeId, o.orderId])).toEqual([
      [RecordType.CHILD_NEW, a], [RecordType.ROUTE_DONE, a],
      [RecordType.CHILD_CANCEL, out[2].orderId],
      [RecordType.CHILD_NEW, b], [RecordType.ROUTE_DONE, b],
    ]);
    expect(Buffer.from(out[2].raw).equals(body)).toBe(true);
    expect(h.counters.get(SorCounter.CANCELS_FORWARDED)).toBe(1);
  });
});

describe('SorStage: scoring', () => {
  it('hand-worked mixed score: buy against asks, a venue without a quote scores 0 on price', () => {
    // w = price .4, latency .2, fillprob .2, fee .2
    // v1: fee 30, 100us, .8, ask 100.00 -> .4*.99 + .2*1 + .2*.8 + .2*(1/31)
    // v2: fee 10, 400us, .9, ask  99.00 -> .4*1 + .2*.25 + .2*.9 + .2*(1/11)
    // v3: fee 0,  200us, .5, no quote   -> .4*0 + .2*.5 + .2*.5 + .2*1
    const h = new Harness([null, venue(30, 100, 0.8), venue(10, 400, 0.9), venue(0, 200, 0.5)], { price: 0.4, latency: 0.2, fillprob: 0.2, fee: 0.2 }).up(1, 2, 3);
    h.quote(1, 0, px(99.5), 100, px(100), 100);
    h.quote(2, 0, px(98.5), 100, px(99), 100);
    expect(h.route(Side.BUY)).toBe(1);
    const s = h.stage.scores;
    expect(s[0]).toBe(-1);
    expect(s[1]).toBeCloseTo(0.4 * 0.99 + 0.2 + 0.16 + 0.2 / 31, 12);
    expect(s[2]).toBeCloseTo(0.4 + 0.05 + 0.18 + 0.2 / 11, 12);
    expect(s[3]).toBeCloseTo(0.1 + 0.1 + 0.2, 12);
  });

  it('buy takes the lowest ask, sell the highest bid', () => {
    const h = new Harness([null, SAME, SAME, SAME], PRICE_ONLY).up(1, 2, 3);
    h.quote(1, 0, px(9.9), 10, px(10.2), 10);
    h.quote(2, 0, px(9.7), 10, px(10.1), 10);
    h.quote(3, 0, px(9.8), 10, px(10.3), 10);
    expect(h.route(Side.BUY)).toBe(2);
    expect(h.stage.scores[1]).toBeCloseTo(10.1 / 10.2, 12);
    expect(h.stage.scores[3]).toBeCloseTo(10.1 / 10.3, 12);
    expect(h.route(Side.SELL)).toBe(1);
    expect(h.stage.scores[2]).toBeCloseTo(9.7 / 9.9, 12);
    expect(h.stage.scores[3]).toBeCloseTo(9.8 / 9.9, 12);
  });

  it('a side with no quantity is no quote', () => {
    const h = new Harness([null, SAME, SAME], PRICE_ONLY).up(1, 2);
    h.quote(1, 0, px(9), 10, px(9), 0); // best ask, but no size
    h.quote(2, 0, px(8), 0, px(11), 10);
    expect(h.route(Side.BUY)).toBe(2);
    expect(h.stage.scores[1]).toBe(0);
    expect(h.route(Side.SELL)).toBe(1);
  });

  it('quotes are per symbol', () => {
    const h = new Harness([null, SAME, SAME], PRICE_ONLY).up(1, 2);
    h.quote(1, 0, 0, 0, px(10), 10);
    h.quote(2, 0, 0, 0, px(11), 10);
    h.quote(1, 1, 0, 0, px(21), 10);
    h.quote(2, 1, 0, 0, px(20), 10);
    expect(h.route(Side.BUY, 0)).toBe(1);
    expect(h.route(Side.BUY, 1)).toBe(2);
  });

  it('stale quotes are ignored; a quote exactly quoteStaleNs old is still fresh', () => {
    const h = new Harness([null, SAME, SAME], PRICE_ONLY).up(1, 2);
    const t0 = h.clock.nowNs();
    h.quote(1, 0, 0, 0, px(10), 10, t0);
    h.quote(2, 0, 0, 0, px(9), 10, t0 - 10); // better, and older
    expect(h.route(Side.BUY)).toBe(2);
    h.clock.advanceNs(STALE_NS - 10);
    expect(h.route(Side.BUY)).toBe(2); // venue 2's quote is exactly STALE_NS old
    h.clock.advanceNs(1);
    expect(h.route(Side.BUY)).toBe(1); // venue 2 stale: 0 on price
    expect(h.stage.scores[2]).toBe(0);
    expect(h.stage.scores[1]).toBe(1);
    h.clock.advanceNs(STALE_NS);
    // No fresh quote anywhere: price scores 1 for every venue, tie -> venue 1.
    expect(h.route(Side.BUY)).toBe(1);
    expect(h.stage.scores[1]).toBe(1);
    expect(h.stage.scores[2]).toBe(1);
  });

  it('latency: lowest expected latency wins, score = min / own', () => {
    const h = new Harness([null, venue(0, 300, 0.5), venue(0, 150, 0.5), venue(0, 600, 0.5)], LATENCY_ONLY).up(1, 2, 3);
    expect(h.route(Side.BUY)).toBe(2);
    expect(h.stage.scores[1]).toBeCloseTo(0.5, 12);
    expect(h.stage.scores[2]).toBeCloseTo(1, 12);
    expect(h.stage.scores[3]).toBeCloseTo(0.25, 12);
  });

  it('latency: a venue with zero expected latency is the fastest and scores 1', () => {
    const h = new Harness([null, venue(0, 100, 0.5), venue(0, 0, 0.5)], LATENCY_ONLY).up(1, 2);
    expect(h.route(Side.BUY)).toBe(2);
    expect(h.stage.scores[2]).toBe(1);
  });

  it('fill probability: highest wins', () => {
    const h = new Harness([null, venue(0, 100, 0.6), venue(0, 100, 0.95), venue(0, 100, 0.9)], FILL_ONLY).up(1, 2, 3);
    expect(h.route(Side.SELL)).toBe(2);
    expect(h.stage.scores[3]).toBeCloseTo(0.9, 12);
  });

  it('fees: cheapest wins, score = (min + 1) / (own + 1)', () => {
    const h = new Harness([null, venue(25, 100, 0.5), venue(4, 100, 0.5), venue(9, 100, 0.5)], FEE_ONLY).up(1, 2, 3);
    expect(h.route(Side.BUY)).toBe(2);
    expect(h.stage.scores[1]).toBeCloseTo(5 / 26, 12);
    expect(h.stage.scores[2]).toBeCloseTo(1, 12);
    expect(h.stage.scores[3]).toBeCloseTo(0.5, 12);
  });

  it('a fee difference can outweigh a small price difference with the right weights', () => {
    // v1 ask 10.00 fee 0: price .99, fee 1; v2 ask 9.90 fee 99: price 1, fee .01.
    const h = new Harness([null, venue(0, 100, 0.5), venue(99, 100, 0.5)], { price: 1, latency: 0, fillprob: 0, fee: 0.5 }).up(1, 2);
    h.quote(1, 0, 0, 0, px(10), 10);
    h.quote(2, 0, 0, 0, px(9.9), 10);
    expect(h.route(Side.BUY)).toBe(1);
    const h2 = new Harness([null, venue(0, 100, 0.5), venue(99, 100, 0.5)], { price: 1, latency: 0, fillprob: 0, fee: 0.001 }).up(1, 2);
    h2.quote(1, 0, 0, 0, px(10), 10);
    h2.quote(2, 0, 0, 0, px(9.9), 10);
    expect(h2.route(Side.BUY)).toBe(2);
  });

  it('ties go to the lower venue id', () => {
    const h = new Harness([null, SAME, SAME, SAME], { price: 0.25, latency: 0.25, fillprob: 0.25, fee: 0.25 }).up(3, 2, 1);
    expect(h.route(Side.BUY)).toBe(1);
    h.status(1, false);
    expect(h.route(Side.SELL)).toBe(2);
    // Same best price on 2 and 3.
    h.quote(2, 0, 0, 0, px(10), 5);
    h.quote(3, 0, 0, 0, px(10), 50);
    expect(h.route(Side.BUY)).toBe(2);
  });

  it('venues down are excluded (scored -1), and come back when up again', () => {
    const h = new Harness([null, SAME, SAME], PRICE_ONLY).up(1, 2);
    h.quote(1, 0, 0, 0, px(9), 10);
    h.quote(2, 0, 0, 0, px(10), 10);
    expect(h.route(Side.BUY)).toBe(1);
    h.status(1, false);
    expect(h.route(Side.BUY)).toBe(2);
    expect(h.stage.scores[1]).toBe(-1);
    // Venue 1's quote no longer counts in the best price either.
    expect(h.stage.scores[2]).toBe(1);
    h.status(2, false);
    expect(h.route(Side.BUY)).toBe(-1);
    h.status(1, true);
    expect(h.route(Side.BUY)).toBe(1);
  });

  it('status and quotes for unknown venues or symbols are ignored', () => {
    const h = new Harness([null, SAME], PRICE_ONLY).up(1);
    h.status(7, true);
    h.quote(7, 0, 0, 0, px(1), 10);
    h.quote(1, 5, 0, 0, px(1), 10);
    expect(h.route(Side.BUY)).toBe(1);
    expect(h.counters.get(SorCounter.QUOTES)).toBe(0);
  });
});
