/**
 * The SOR stage: turns a route request into child orders, one per chosen venue, and passes the
 * risk stage's child cancels through on the same ring as the child orders, so a cancel never
 * overtakes its order.
 *
 *   risk --ROUTE_REQUEST, CHILD_CANCEL--> +-----+ --CHILD_NEW, CHILD_CANCEL, ROUTE_DONE--> fix
 *   fix  --VENUE_STATUS, QUOTE----------> | sor |
 *                                         +-----+
 *
 * Scoring follows the seed (000, section 5.3): score(v) = w_price * price + w_latency * latency
 * + w_fillprob * fillprob + w_fee * fee, each in [0, 1]:
 *   price    = best price across venues / this venue's (buy: best ask / ask; sell: bid / best
 *              bid); 1 for every venue when no venue has a fresh quote, 0 for a venue without one
 *              when others have.
 *   latency  = lowest expected latency / this venue's (1 for a venue at zero latency).
 *   fillprob = the venue's fill probability.
 *   fee      = (lowest fee + 1) / (this venue's fee + 1), fees in hundredths of a basis point.
 * Single-best routing sends the whole quantity to the top score; ties go to the lower venue id,
 * so a decision is reproducible. Split and staged routing, learned latency and fill statistics,
 * trade-through protection and the route audit belong to the SOR issue and plug in here.
 */

import type { Agent } from '../../engine/agent.ts';
import type { Clock } from '../../engine/clock.ts';
import { Side } from '../../engine/domain.ts';
import { Reason } from '../../engine/reasons.ts';
import { FULL, HEADER_LENGTH, alignRecord, type RingConsumer, type RingProducer, RingDispatch, type RingRecordHandler } from '../../engine/ring.ts';
import { SorCounter, type StageCounters } from '../../engine/counters.ts';
import {
  CHILD_ORDER_LENGTH,
  ChildOrderFlyweight,
  QuoteFlyweight,
  ROUTE_DONE_LENGTH,
  RecordType,
  RouteDoneFlyweight,
  RouteRequestFlyweight,
  SorConfigFlyweight,
  VenueStatusFlyweight,
  WEIGHT_SCALE,
} from '../../codecs/records.ts';

export const SOR_BATCH = 256;

export interface VenueProfile {
  /** Fee in hundredths of a basis point of notional (integer). */
  feeCentiBps: number;
  /** Expected round trip to the venue, in microseconds (prior; learned later). */
  latencyUs: number;
  /** Expected fill probability in [0, 1] (prior; learned later). */
  fillProbability: number;
}

export interface SorWeights {
  price: number;
  latency: number;
  fillprob: number;
  fee: number;
}

export interface SorConfig {
  /** Indexed by venue id (0 unused). */
  venues: (VenueProfile | null)[];
  symbolCount: number;
  weights: SorWeights;
  /** Quotes older than this are ignored. */
  quoteStaleNs: number;
  /** Child ids are issued from childIdBase + 1 upwards. */
  childIdBase: number;
}

export interface SorRings {
  fromRisk: RingConsumer;
  fromFix: RingConsumer;
  toFix: RingProducer;
}

export class SorStage implements Agent, RingRecordHandler {
  private readonly config: SorConfig;
  private readonly rings: SorRings;
  private readonly clock: Clock;
  private readonly counters: StageCounters;
  private readonly venueCount: number;
  /** 1 while the venue's session is logged on. */
  readonly venueUp: Uint8Array;
  /** Top of book per (venue, symbol): index venue * symbolCount + symbol. */
  readonly bid: Float64Array;
  readonly ask: Float64Array;
  readonly bidQty: Float64Array;
  readonly askQty: Float64Array;
  readonly quoteTimeNs: Float64Array;
  /** Scratch: each candidate venue's score for the current decision. */
  readonly scores: Float64Array;
  private nextChildId: number;
  private readonly fromRisk: RingDispatch;
  private readonly fromFix: RingDispatch;
  private readonly request = new RouteRequestFlyweight();
  private readonly child = new ChildOrderFlyweight();
  private readonly done = new RouteDoneFlyweight();
  private readonly status = new VenueStatusFlyweight();
  private readonly quote = new QuoteFlyweight();
  private readonly configChange = new SorConfigFlyweight();
  private readonly worstOut: number;

  constructor(config: SorConfig, rings: SorRings, clock: Clock, counters: StageCounters) {
    this.config = config;
    this.rings = rings;
    this.clock = clock;
    this.counters = counters;
    this.venueCount = config.venues.length;
    const cells = this.venueCount * config.symbolCount;
    this.venueUp = new Uint8Array(this.venueCount);
    this.bid = new Float64Array(cells);
    this.ask = new Float64Array(cells);
    this.bidQty = new Float64Array(cells);
    this.askQty = new Float64Array(cells);
    this.quoteTimeNs = new Float64Array(cells);
    this.scores = new Float64Array(this.venueCount);
    this.nextChildId = config.childIdBase + 1;
    this.fromRisk = new RingDispatch(this, rings.fromRisk);
    this.fromFix = new RingDispatch(this, rings.fromFix);
    // One route request yields at most one child per venue and a ROUTE_DONE.
    this.worstOut = alignRecord(HEADER_LENGTH + CHILD_ORDER_LENGTH) * this.venueCount + alignRecord(HEADER_LENGTH + ROUTE_DONE_LENGTH);
  }

  doWork(): number {
    // Venue state first, so a decision sees the freshest book.
    let work = this.rings.fromFix.poll(this.fromFix, SOR_BATCH);
    const limit = Math.min(SOR_BATCH, Math.floor(this.rings.toFix.freeBytes() / this.worstOut));
    if (limit === 0) {
      this.counters.add(SorCounter.BACKPRESSURE_STALLS, 1);
    } else {
      work += this.rings.fromRisk.poll(this.fromRisk, limit);
    }
    if (work > 0) this.rings.toFix.commit();
    return work;
  }

  onRecord(view: DataView, bytes: Uint8Array, typeId: number, offset: number, _length: number): void {
    switch (typeId) {
      case RecordType.ROUTE_REQUEST:
        this.route(this.request.wrap(view, bytes, offset));
        return;
      case RecordType.CHILD_CANCEL:
        this.forwardCancel(bytes, offset);
        return;
      case RecordType.VENUE_STATUS: {
        const s = this.status.wrap(view, bytes, offset);
        if (s.venueId() < this.venueCount) this.venueUp[s.venueId()] = s.up() ? 1 : 0;
        return;
      }
      case RecordType.QUOTE:
        this.onQuote(this.quote.wrap(view, bytes, offset));
        return;
      case RecordType.SOR_CONFIG:
        this.onConfig(this.configChange.wrap(view, bytes, offset));
        return;
    }
  }

  /** An admin's change, validated at the edge: in force from the next route request. */
  private onConfig(c: SorConfigFlyweight): void {
    const w = this.config.weights;
    w.price = c.priceWeight() / WEIGHT_SCALE;
    w.latency = c.latencyWeight() / WEIGHT_SCALE;
    w.fillprob = c.fillprobWeight() / WEIGHT_SCALE;
    w.fee = c.feeWeight() / WEIGHT_SCALE;
    this.config.quoteStaleNs = c.quoteStaleMs() * 1e6;
    this.counters.set(SorCounter.CONFIG_VERSION, c.version());
  }

  private onQuote(q: QuoteFlyweight): void {
    const venue = q.venueId();
    const symbol = q.symbolId();
    if (!(venue < this.venueCount && symbol < this.config.symbolCount)) return;
    const cell = venue * this.config.symbolCount + symbol;
    this.bid[cell] = q.bidTicks();
    this.bidQty[cell] = q.bidQty();
    this.ask[cell] = q.askTicks();
    this.askQty[cell] = q.askQty();
    this.quoteTimeNs[cell] = q.timeNs();
    this.counters.add(SorCounter.QUOTES, 1);
  }

  /** Decides and emits the children of one route request, then its ROUTE_DONE. */
  private route(req: RouteRequestFlyweight): void {
    this.counters.add(SorCounter.ROUTE_REQUESTS, 1);
    const best = this.scoreVenues(req.symbolId(), req.side());
    const decisionNs = this.clock.nowNs();
    if (best < 0) {
      this.counters.add(SorCounter.UNROUTABLE, 1);
      this.emitDone(req, decisionNs, 0, 0, Reason.NO_VENUE_AVAILABLE);
      return;
    }
    this.emitChild(req, best, req.qty(), decisionNs);
    this.emitDone(req, decisionNs, req.qty(), 1, Reason.NONE);
  }

  /**
   * Fills `scores` for every venue that can take the order (up; -1 otherwise) and returns the
   * best venue id, or -1 when none can.
   */
  scoreVenues(symbol: number, side: number): number {
    const venues = this.config.venues;
    const w = this.config.weights;
    const symbols = this.config.symbolCount;
    const freshAfter = this.clock.nowNs() - this.config.quoteStaleNs;
    // First pass: the best fresh price, the lowest latency and fee among candidates.
    let bestPrice = side === Side.BUY ? Infinity : 0;
    let minLatency = Infinity;
    let minFee = Infinity;
    let candidates = 0;
    for (let v = 1; v < this.venueCount; v++) {
      const p = venues[v];
      if (p === null || this.venueUp[v] === 0) continue;
      candidates++;
      if (p.latencyUs < minLatency) minLatency = p.latencyUs;
      if (p.feeCentiBps < minFee) minFee = p.feeCentiBps;
      const px = this.quotedPrice(v * symbols + symbol, side, freshAfter);
      if (px > 0) bestPrice = side === Side.BUY ? Math.min(bestPrice, px) : Math.max(bestPrice, px);
    }
    if (candidates === 0) return -1;
    const anyQuote = side === Side.BUY ? bestPrice !== Infinity : bestPrice !== 0;
    let best = -1;
    let bestScore = -Infinity;
    for (let v = 0; v < this.venueCount; v++) {
      const p = venues[v];
      if (v === 0 || p === null || this.venueUp[v] === 0) {
        this.scores[v] = -1;
        continue;
      }
      const px = this.quotedPrice(v * symbols + symbol, side, freshAfter);
      let priceScore = 1;
      if (anyQuote) priceScore = px > 0 ? (side === Side.BUY ? bestPrice / px : px / bestPrice) : 0;
      const latencyScore = p.latencyUs === 0 ? 1 : minLatency / p.latencyUs;
      const feeScore = (minFee + 1) / (p.feeCentiBps + 1);
      const score = w.price * priceScore + w.latency * latencyScore + w.fillprob * p.fillProbability + w.fee * feeScore;
      this.scores[v] = score;
      if (score > bestScore) {
        bestScore = score;
        best = v;
      }
    }
    return best;
  }

  /** The venue's price on the side the order takes (ask for a buy), 0 if none or stale. */
  private quotedPrice(cell: number, side: number, freshAfter: number): number {
    if (this.quoteTimeNs[cell] < freshAfter) return 0;
    if (side === Side.BUY) return this.askQty[cell] > 0 ? this.ask[cell] : 0;
    return this.bidQty[cell] > 0 ? this.bid[cell] : 0;
  }

  private emitChild(req: RouteRequestFlyweight, venueId: number, qty: number, decisionNs: number): void {
    const out = this.rings.toFix;
    const at = out.tryClaim(RecordType.CHILD_NEW, CHILD_ORDER_LENGTH);
    if (at === FULL) throw new Error('Invariant: room checked before the batch');
    this.child
      .wrap(out.view, out.bytes, at)
      .setChildId(this.nextChildId++)
      .setOrderId(req.orderId())
      .setQty(qty)
      .setPriceTicks(req.priceTicks())
      .setRecvTimeNs(req.recvTimeNs())
      .setDecisionTimeNs(decisionNs)
      .setVenueId(venueId)
      .setSymbolId(req.symbolId())
      .setAccountId(req.accountId())
      .setSide(req.side())
      .setOrdType(req.ordType())
      .setTif(req.tif());
    this.counters.add(SorCounter.CHILDREN, 1);
  }

  private emitDone(req: RouteRequestFlyweight, decisionNs: number, routedQty: number, childCount: number, reason: number): void {
    const out = this.rings.toFix;
    const at = out.tryClaim(RecordType.ROUTE_DONE, ROUTE_DONE_LENGTH);
    if (at === FULL) throw new Error('Invariant: room checked before the batch');
    this.done
      .wrap(out.view, out.bytes, at)
      .setOrderId(req.orderId())
      .setRecvTimeNs(req.recvTimeNs())
      .setDecisionTimeNs(decisionNs)
      .setRoutedQty(routedQty)
      .setChildCount(childCount)
      .setReason(reason);
  }

  private forwardCancel(src: Uint8Array, offset: number): void {
    const out = this.rings.toFix;
    const at = out.tryClaim(RecordType.CHILD_CANCEL, CHILD_ORDER_LENGTH);
    if (at === FULL) throw new Error('Invariant: room checked before the batch');
    for (let i = 0; i < CHILD_ORDER_LENGTH; i++) out.bytes[at + i] = src[offset + i];
    this.counters.add(SorCounter.CANCELS_FORWARDED, 1);
  }
}
