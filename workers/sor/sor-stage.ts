/**
 * The SOR stage: turns a route request into child orders across venues, follows each child to
 * its end, re-routes what a venue refused or a staged fallback freed, records every decision,
 * and passes the risk stage's child cancels through on the same ring as the child orders, so a
 * cancel never overtakes its order.
 *
 *   risk --ROUTE_REQUEST, CHILD_CANCEL--------> +-----+ --CHILD_NEW, CHILD_CANCEL, ROUTE_DONE--> fix
 *   risk --SOR_CONFIG (admin change)----------> | sor | --ROUTE_AUDIT--> persistence (journal)
 *   fix  --VENUE_STATUS, QUOTE, CHILD_EVENT---> +-----+ --ROUTE_AUDIT--> ingest (GET /v1/orders/{id}/route)
 *
 * Inputs of a decision (seed 000, section 5.2), per venue: top of book (market-book.ts; stale
 * or crossed quotes excluded), learned latency and fill probability (venue-stats.ts, from the
 * CHILD_EVENT copies fix sends here), fee, and constraints: venue down, venue disallowed for the
 * account, minimum quantity, lot size. The decision itself is venue-score.ts (pure); route-plan.ts
 * keeps routes in progress. ROUTE_DONE goes to risk once the SOR will send no more children for
 * the request (route-plan.ts says when), so risk never settles an order the SOR still works on.
 *
 * Every decision (the first and each re-route or fallback) writes one ROUTE_AUDIT record with
 * all features, every venue's scores and the children, to persistence (back-pressure: the stage
 * waits for room, never drops an audit) and to ingest (dropped and counted when that ring is full;
 * the journal has it). The audit names its children (id, venue, quantity, price), and each
 * CHILD_NEW carries the journal mark of its audit: fix holds the child until the journal has it
 * (write-ahead), so after a crash recovery knows every child a venue may hold. Nothing allocated
 * per message.
 */

import type { SharedHistogram } from '../../engine/shared-histogram.ts';
import type { Agent } from '../../engine/agent.ts';
import type { Clock } from '../../engine/clock.ts';
import { OrdType, Side, Tif } from '../../engine/domain.ts';
import { Reason } from '../../engine/reasons.ts';
import { FULL, HEADER_LENGTH, alignRecord, type RingConsumer, type RingProducer, RingDispatch, type RingRecordHandler } from '../../engine/ring.ts';
import { SorCounter, type StageCounters } from '../../engine/counters.ts';
import {
  CHILD_ORDER_LENGTH,
  ChildEventFlyweight,
  ChildEventKind,
  ChildOrderFlyweight,
  QuoteFlyweight,
  ROUTE_DONE_LENGTH,
  RecordType,
  RouteAuditFlyweight,
  RouteDoneFlyweight,
  RouteRequestFlyweight,
  SorConfigFlyweight,
  VenueStatusFlyweight,
  WEIGHT_SCALE,
  routeAuditLength,
} from '../../codecs/records.ts';
import { MarketBook, QuoteState } from './market-book.ts';
import { ChildTable, FallbackQueue, NO_PLAN, PlanTable } from './route-plan.ts';
import { RouteFeatures, SorMode, VenueExclusion, decide } from './venue-score.ts';
import { VenueStats } from './venue-stats.ts';

export { SorMode } from './venue-score.ts';

export const SOR_BATCH = 256;

export interface VenueProfile {
  /** Fee in hundredths of a basis point of notional (integer). */
  feeCentiBps: number;
  /** Prior of the round trip to the venue, in microseconds (learned from then on). */
  latencyUs: number;
  /** Prior of the fill probability in [0, 1] (learned from then on). */
  fillProbability: number;
  /** Smallest child the venue takes (shares); 0 = any. */
  minQty?: number;
  /** Children are whole multiples of this (shares); 0 or 1 = any. */
  lotSize?: number;
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
  /** Quotes older than this are stale. */
  quoteStaleNs: number;
  /** Child ids are issued from childIdBase + 1 upwards. */
  childIdBase: number;
  /** SorMode. Default SINGLE_BEST. */
  mode?: number;
  /** Staged: how long a venue has before the rest falls back to the next one. Default 50 ms. */
  stagedFallbackNs?: number;
  /** Decisions per request at most (the first, re-routes, fallbacks). Default 4. */
  maxSteps?: number;
  /** Market orders: limit price = NBBO touch +/- this many basis points. Default 50. */
  collarBps?: number;
  /** Price increment every venue accepts, in ticks (0.01 = 10,000). Default 10,000. */
  tickTicks?: number;
  /** EWMA weight of a new latency / fill sample. Default 0.1. */
  statsAlpha?: number;
  /** Routes in progress at most. Default 65,536. */
  planCapacity?: number;
  /** Children followed at most (slots by child id). Default 262,144. */
  childCapacity?: number;
  /**
   * Lowest child id the child table can hold, less one. Default childIdBase: this boot's children
   * only. A SOR that recovers earlier boots' children (recovery.ts) passes 0: a slot depends on
   * the id modulo the capacity only, so every base gives the same slots up to a rotation.
   */
  childTableBase?: number;
  /** Account id -> venue ids the account may not trade on. */
  disallowed?: Map<number, number[]>;
}

export interface SorRings {
  fromRisk: RingConsumer;
  fromFix: RingConsumer;
  toFix: RingProducer;
  /** ROUTE_AUDIT to the journal; null: not recorded (unit tests only). */
  toPersistence?: RingProducer | null;
  /** ROUTE_AUDIT to ingest's route view; null: not sent. */
  toIngest?: RingProducer | null;
}

export class SorStage implements Agent, RingRecordHandler {
  private readonly config: SorConfig;
  private readonly rings: SorRings;
  private readonly clock: Clock;
  private readonly counters: StageCounters;
  private readonly venueCount: number;
  /** 1 while the venue's session is logged on. */
  readonly venueUp: Uint8Array;
  readonly book: MarketBook;
  readonly stats: VenueStats;
  readonly features: RouteFeatures;
  readonly plans: PlanTable;
  readonly children: ChildTable;
  private readonly fallbacks: FallbackQueue;
  /** account * venueCount + venue -> 1 when disallowed. */
  private readonly disallowed: Uint8Array;
  private readonly disallowedAccounts: number;
  mode: number;
  configVersion: number;
  private nextChildId: number;
  private readonly fromRisk: RingDispatch;
  private readonly fromFix: RingDispatch;
  private readonly request = new RouteRequestFlyweight();
  private readonly child = new ChildOrderFlyweight();
  private readonly done = new RouteDoneFlyweight();
  private readonly status = new VenueStatusFlyweight();
  private readonly quote = new QuoteFlyweight();
  private readonly event = new ChildEventFlyweight();
  private readonly audit = new RouteAuditFlyweight();
  private readonly configChange = new SorConfigFlyweight();
  private readonly auditLength: number;
  /** Word views of the audit rings' memory, for copying an audit record. */
  private readonly persistWords: Int32Array | null;
  private readonly ingestWords: Int32Array | null;
  /** Child ids of the current decision, by venue. */
  private readonly childIdScratch: Float64Array;
  /** Ring bytes one decision may write to fix, and to each audit ring. */
  private readonly worstOut: number;
  private readonly worstAudit: number;

  /**
   * Ingest -> routing decision of each order's first decision (engine clock, ns: the order's
   * receive time is stamped by ingest), into a shared-memory histogram, or null.
   */
  ingestToDecision: SharedHistogram | null = null;

  /** The optional settings of SorConfig with their defaults, resolved once. */
  private readonly maxSteps: number;
  private readonly stagedFallbackNs: number;
  private readonly collarBps: number;
  private readonly tickTicks: number;

  constructor(config: SorConfig, rings: SorRings, clock: Clock, counters: StageCounters) {
    this.config = config;
    this.maxSteps = config.maxSteps ?? 4;
    this.stagedFallbackNs = config.stagedFallbackNs ?? 50e6;
    this.collarBps = config.collarBps ?? 50;
    this.tickTicks = config.tickTicks ?? 10_000;
    this.rings = rings;
    this.clock = clock;
    this.counters = counters;
    this.venueCount = config.venues.length;
    this.venueUp = new Uint8Array(this.venueCount);
    this.book = new MarketBook(this.venueCount, config.symbolCount);
    this.stats = venueStatsFor(config);
    this.features = new RouteFeatures(Math.max(2, this.venueCount));
    this.plans = new PlanTable(config.planCapacity ?? 65_536, this.venueCount);
    this.children = new ChildTable(config.childCapacity ?? 262_144, (config.childTableBase ?? config.childIdBase) + 1);
    this.fallbacks = new FallbackQueue(this.children.capacity);
    let maxAccount = 0;
    for (const a of config.disallowed?.keys() ?? []) maxAccount = Math.max(maxAccount, a);
    this.disallowedAccounts = maxAccount + 1;
    this.disallowed = new Uint8Array(this.disallowedAccounts * this.venueCount);
    for (const [a, vs] of config.disallowed ?? []) for (const v of vs) if (v > 0 && v < this.venueCount) this.disallowed[a * this.venueCount + v] = 1;
    this.mode = config.mode ?? SorMode.SINGLE_BEST;
    this.configVersion = 0;
    this.nextChildId = config.childIdBase + 1;
    this.fromRisk = new RingDispatch(this, rings.fromRisk);
    this.fromFix = new RingDispatch(this, rings.fromFix);
    this.auditLength = routeAuditLength(this.venueCount - 1);
    this.childIdScratch = new Float64Array(this.venueCount);
    const words = (r: RingProducer | null | undefined) => (r == null ? null : new Int32Array(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength >>> 2));
    this.persistWords = words(rings.toPersistence);
    this.ingestWords = words(rings.toIngest);
    if (this.auditLength % 8 !== 0) throw new Error('Invariant: audit records are whole words');
    // One input yields at most one child per venue, a forwarded or fallback cancel and a ROUTE_DONE.
    this.worstOut = alignRecord(HEADER_LENGTH + CHILD_ORDER_LENGTH) * (this.venueCount + 1) + alignRecord(HEADER_LENGTH + ROUTE_DONE_LENGTH);
    this.worstAudit = alignRecord(HEADER_LENGTH + this.auditLength) * 2;
  }

  doWork(): number {
    // An empty cycle (the last before a park, and every spin poll when idle.spins > 0) reads two ring
    // counters and the fallback clock, not the output rings' free space.
    if (!this.rings.fromFix.hasRecords() && !this.rings.fromRisk.hasRecords() && (this.fallbacks.size === 0 || !this.fallbacks.hasDue(this.clock.nowNs()))) return 0;
    const limit = this.roomFor();
    if (limit === 0) {
      this.counters.add(SorCounter.BACKPRESSURE_STALLS, 1);
      return 0;
    }
    // Venue state and child outcomes first, so a decision sees the freshest book.
    const fromFix = this.rings.fromFix.poll(this.fromFix, limit);
    let work = fromFix + this.fireFallbacks(this.roomFor());
    // Work from risk only in a cycle that emptied the ring from the fix stage: while child events
    // wait for this stage, routing more would only add to them (the fix stage holds what the
    // ring cannot, fix-stage.ts VENUE_INPUT_PAUSE_EVENTS), and the backlog pushes back on risk
    // and the edge instead.
    if (fromFix < limit) work += this.rings.fromRisk.poll(this.fromRisk, this.roomFor());
    if (work > 0) this.commitAll();
    return work;
  }

  /** How many inputs fit in the output rings' free space (each input at its worst). */
  private roomFor(): number {
    let limit = Math.min(SOR_BATCH, this.rings.toFix.inputsThatFit(this.worstOut, CHILD_ORDER_LENGTH > ROUTE_DONE_LENGTH ? CHILD_ORDER_LENGTH : ROUTE_DONE_LENGTH));
    const p = this.rings.toPersistence;
    if (p != null) limit = Math.min(limit, p.inputsThatFit(this.worstAudit, this.auditLength));
    return limit;
  }

  private commitAll(): void {
    // Ingest's copy of the audits first: its ring is quiet (no wake, workers/topology.ts
    // QUIET_RINGS), and once published before the journal's, a decision is in ingest's ring
    // before any of its children can reach a venue, so GET /v1/orders/{id}/route (which drains
    // that ring) shows it to whoever saw a fill or a venue's acknowledgement.
    if (this.rings.toIngest != null) this.rings.toIngest.commit();
    // Then the journal: a child leaves for its venue only once its ROUTE_AUDIT is durable
    // (engine/ring.ts gate), so persistence is woken before fix (which, parked, the commit of a
    // child the gate holds leaves asleep until persistence publishes).
    if (this.rings.toPersistence != null) this.rings.toPersistence.commit();
    this.rings.toFix.commit();
  }

  onRecord(view: DataView, bytes: Uint8Array, typeId: number, offset: number, _length: number): void {
    switch (typeId) {
      case RecordType.ROUTE_REQUEST:
        this.onRouteRequest(this.request.wrap(view, bytes, offset));
        return;
      case RecordType.CHILD_CANCEL:
        this.onRiskCancel(bytes, offset);
        return;
      case RecordType.CHILD_EVENT:
        this.onChildEvent(this.event.wrap(view, bytes, offset));
        return;
      case RecordType.VENUE_STATUS: {
        const s = this.status.wrap(view, bytes, offset);
        if (s.venueId() < this.venueCount) this.venueUp[s.venueId()] = s.up() ? 1 : 0;
        return;
      }
      case RecordType.QUOTE: {
        const q = this.quote.wrap(view, bytes, offset);
        if (this.book.update(q.venueId(), q.symbolId(), q.bidTicks(), q.bidQty(), q.askTicks(), q.askQty(), q.timeNs())) {
          this.counters.add(SorCounter.QUOTES, 1);
        }
        return;
      }
      case RecordType.SOR_CONFIG:
        this.onConfig(this.configChange.wrap(view, bytes, offset));
        return;
    }
  }

  /** An admin's change, validated at the edge: in force from the next decision. */
  private onConfig(c: SorConfigFlyweight): void {
    const w = this.config.weights;
    w.price = c.priceWeight() / WEIGHT_SCALE;
    w.latency = c.latencyWeight() / WEIGHT_SCALE;
    w.fillprob = c.fillprobWeight() / WEIGHT_SCALE;
    w.fee = c.feeWeight() / WEIGHT_SCALE;
    this.config.quoteStaleNs = c.quoteStaleMs() * 1e6;
    if (c.mode() <= SorMode.STAGED) this.mode = c.mode();
    this.configVersion = c.version();
    this.counters.set(SorCounter.CONFIG_VERSION, c.version());
  }

  // ------------------------------------------------------------------------------------------
  // Decisions
  // ------------------------------------------------------------------------------------------

  private onRouteRequest(req: RouteRequestFlyweight): void {
    this.counters.add(SorCounter.ROUTE_REQUESTS, 1);
    const p = this.plans.allocate();
    const nowNs = this.clock.nowNs();
    if (p === NO_PLAN) {
      this.counters.add(SorCounter.UNROUTABLE, 1);
      this.writeDone(req.orderId(), req.recvTimeNs(), nowNs, 0, 0, Reason.ROUTE_TABLE_FULL);
      return;
    }
    const t = this.plans;
    t.orderId[p] = req.orderId();
    t.recvNs[p] = req.recvTimeNs();
    t.decisionNs[p] = nowNs;
    t.qty[p] = req.qty();
    t.limitTicks[p] = req.ordType() === OrdType.MARKET ? 0 : req.priceTicks();
    t.account[p] = req.accountId();
    t.symbol[p] = req.symbolId();
    t.side[p] = req.side();
    t.ordType[p] = req.ordType();
    t.tif[p] = req.tif();
    t.mode[p] = this.mode;
    this.decideAndSend(p, req.qty());
    if (this.ingestToDecision !== null) this.ingestToDecision.record(this.clock.nowNs() - t.recvNs[p]);
    this.closeIfDone(p);
  }

  /** One decision for `qty` of plan p: features, decide, audit, children. */
  private decideAndSend(p: number, qty: number): void {
    const t = this.plans;
    const f = this.features;
    // The first decision is stamped with the plan's time, which ROUTE_DONE carries: the audit
    // record and the ROUTE_DONE of one route request then name it alike (persistence/pg-sink.ts).
    const nowNs = t.step[p] === 0 ? t.decisionNs[p] : this.clock.nowNs();
    this.fillFeatures(p, qty, nowNs);
    const routed = decide(f, this.config.weights, t.mode[p], this.collarBps, this.tickTicks);
    // A market order's first collar price caps its later steps (venue-score.ts, priceChildren).
    if (t.ordType[p] === OrdType.MARKET && t.limitTicks[p] === 0 && f.childPx > 0) t.limitTicks[p] = f.childPx;
    let reason: number = Reason.NONE;
    if (routed === 0) {
      reason = f.childPx < 0 ? Reason.NO_MARKET_REFERENCE : f.rankCount === 0 ? Reason.NO_VENUE_AVAILABLE : Reason.QTY_NOT_ROUTABLE;
      t.reason[p] = reason;
    }
    // Children are claimed first (their ids go into the audit), then the audit of this step is
    // written, then the children go to fix stamped with the audit's place in the journal feed:
    // fix sends none to its venue before the audit that names it is durable (write-ahead), so
    // recovery knows every child a venue may hold (workers/risk/recovery.ts, fix/recovery.ts).
    let sent = 0;
    for (let v = 1; v < this.venueCount; v++) {
      const q = f.childQty[v];
      if (q === 0) continue;
      const childId = this.claimChild(p, v, q, nowNs);
      this.childIdScratch[v] = childId;
      if (childId !== 0) sent++;
      else {
        // No free slot, not sent: counted, and the audit names why not everything (or nothing) was routed.
        f.childQty[v] = 0;
        f.routedQty -= q;
        this.counters.add(SorCounter.CHILD_TABLE_FULL, 1);
        t.reason[p] = Reason.CHILD_TABLE_FULL;
        if (reason === Reason.NONE) reason = Reason.CHILD_TABLE_FULL;
      }
    }
    // Every decision counts once, as routed or as unroutable (its audit says why), whatever the
    // step: a sweep's later step that finds no touch is unroutable though the order routed before.
    this.counters.add(sent > 0 ? SorCounter.DECISIONS_ROUTED : SorCounter.UNROUTABLE, 1);
    this.writeAudit(p, qty, nowNs, reason, sent);
    const mark = this.rings.toPersistence == null ? 0 : this.rings.toPersistence.recordsClaimed;
    for (let v = 1; v < this.venueCount && sent > 0; v++) {
      if (f.childQty[v] === 0) continue;
      this.writeChildRecord(RecordType.CHILD_NEW, this.children.slotOf(this.childIdScratch[v]), nowNs, mark);
      this.counters.add(SorCounter.CHILDREN, 1);
    }
    t.step[p]++;
  }

  private fillFeatures(p: number, qty: number, nowNs: number): void {
    const t = this.plans;
    const f = this.features;
    const symbol = t.symbol[p];
    const account = t.account[p];
    const buy = t.side[p] === Side.BUY;
    const freshAfter = nowNs - this.config.quoteStaleNs;
    this.book.nbbo(symbol, freshAfter, this.venueUp);
    const anyFresh = this.book.nbbBid > 0 || this.book.nbbAsk > 0;
    f.side = t.side[p];
    f.ordType = t.ordType[p];
    f.tif = t.tif[p];
    f.qty = qty;
    f.limitTicks = t.limitTicks[p];
    f.lastStep = t.step[p] + 1 >= this.maxSteps;
    f.nbbBid = this.book.nbbBid;
    f.nbbBidQty = this.book.nbbBidQty;
    f.nbbAsk = this.book.nbbAsk;
    f.nbbAskQty = this.book.nbbAskQty;
    const symbols = this.config.symbolCount;
    for (let v = 1; v < this.venueCount; v++) {
      const prof = this.config.venues[v];
      const cell = v * symbols + symbol;
      const state = symbol < symbols ? this.book.state(v, symbol, freshAfter) : QuoteState.STALE;
      let ex: number = VenueExclusion.NONE;
      if (prof === null) ex = VenueExclusion.NO_PROFILE;
      else if (this.venueUp[v] === 0) ex = VenueExclusion.DOWN;
      else if (account < this.disallowedAccounts && this.disallowed[account * this.venueCount + v] === 1) ex = VenueExclusion.DISALLOWED;
      else if (t.tried[p * this.venueCount + v] === 1) ex = VenueExclusion.TRIED;
      else if (state === QuoteState.CROSSED) ex = VenueExclusion.CROSSED;
      else if (state === QuoteState.STALE && anyFresh) ex = VenueExclusion.STALE;
      f.excluded[v] = ex;
      const ok = state === QuoteState.OK && symbol < symbols;
      f.px[v] = ok ? (buy ? this.book.ask[cell] : this.book.bid[cell]) : 0;
      f.dispQty[v] = ok ? (buy ? this.book.askQty[cell] : this.book.bidQty[cell]) : 0;
      f.quoteAgeNs[v] = symbol < symbols && this.book.timeNs[cell] > 0 ? nowNs - this.book.timeNs[cell] : -1;
      f.latencyUs[v] = this.stats.latencyUs[v];
      f.fillProb[v] = this.stats.fillProb[v];
      f.feeCentiBps[v] = prof === null ? 0 : prof.feeCentiBps;
      f.minQty[v] = prof === null ? 0 : (prof.minQty ?? 0);
      f.lotSize[v] = prof === null ? 1 : (prof.lotSize ?? 1);
    }
  }

  /** Claims one child (its CHILD_NEW is written after the audit); returns its id, or 0 when the child table has no free slot. */
  private claimChild(p: number, venue: number, qty: number, nowNs: number): number {
    const t = this.plans;
    const c = this.children;
    const f = this.features;
    const slot = c.claim(this.nextChildId);
    if (slot < 0) return 0;
    const childId = c.childId[slot];
    if (childId !== this.nextChildId) this.counters.add(SorCounter.CHILD_IDS_SKIPPED, childId - this.nextChildId);
    this.nextChildId = childId + 1;
    c.plan[slot] = p;
    c.venue[slot] = venue;
    c.qty[slot] = qty;
    c.cumQty[slot] = 0;
    c.priceTicks[slot] = f.childPx;
    c.quotesAtDecision[slot] = this.book.quotes;
    c.sentNs[slot] = -1;
    c.tif[slot] = f.childTif;
    c.markLive(slot);
    c.answered[slot] = 0;
    // Staged: a DAY child falls back after the delay (1); a staged IOC child's rest goes on to the
    // next venue at once, and so does a sweep's (3).
    const staged = t.mode[p] === SorMode.STAGED && !f.lastStep;
    c.fallback[slot] = f.sweep ? 3 : !staged ? 0 : f.childTif === Tif.DAY ? 1 : f.childTif === Tif.IOC ? 3 : 0;
    if (c.fallback[slot] === 1 && !this.fallbacks.push(childId, nowNs + this.stagedFallbackNs)) c.fallback[slot] = 0;
    t.childCount[p]++;
    t.liveChildren[p]++;
    t.unanswered[p]++;
    if (c.fallback[slot] !== 0) t.fallbackPending[p]++;
    t.routedQty[p] += qty;
    t.outstandingQty[p] += qty;
    c.nextSibling[slot] = t.firstChild[p];
    t.firstChild[p] = childId;
    if (t.mode[p] === SorMode.STAGED) t.tried[p * this.venueCount + venue] = 1;
    if (!(t.filledQty[p] + t.outstandingQty[p] <= t.qty[p])) throw new Error('Invariant: children never exceed the parent quantity');
    this.stats.onSent(venue, qty);
    return childId;
  }

  // ------------------------------------------------------------------------------------------
  // Children's fate
  // ------------------------------------------------------------------------------------------

  private onChildEvent(ev: ChildEventFlyweight): void {
    const c = this.children;
    const s = c.slotOf(ev.childId());
    if (s < 0 || c.live[s] === 0) return;
    const venue = c.venue[s];
    const kind = ev.kind();
    if (kind === ChildEventKind.SENT) {
      c.sentNs[s] = ev.timeNs();
      return;
    }
    if (kind === ChildEventKind.TRADE_CANCEL || kind === ChildEventKind.TRADE_CORRECT) return; // after a fill: nothing for routing
    if (kind === ChildEventKind.CANCEL_REJECTED) {
      // The SOR's own fallback cancel did not land (venue down, or too late): try again later;
      // a client's cancel is no longer held back meanwhile.
      if (c.fallback[s] === 2) {
        c.fallback[s] = 1;
        if (!this.fallbacks.push(c.childId[s], this.clock.nowNs() + this.stagedFallbackNs)) c.fallback[s] = 2;
      }
      return;
    }
    // The child's plan while it is open for this order (else NO_PLAN); nothing below, before
    // childEnded, opens or closes a plan.
    const planned = this.planOf(s, ev.orderId());
    if (c.answered[s] === 0) {
      c.answered[s] = 1;
      if (c.sentNs[s] >= 0) this.stats.onFirstResponse(venue, ev.timeNs() - c.sentNs[s]);
      if (planned !== NO_PLAN) this.plans.unanswered[planned]--;
    }
    if (kind === ChildEventKind.ACKED) {
      if (planned !== NO_PLAN) this.closeIfDone(planned);
      return;
    }
    if (kind === ChildEventKind.FILL) {
      const q = ev.lastQty();
      if (!(q > 0 && c.cumQty[s] + q <= c.qty[s])) return; // risk counts the overfill
      c.cumQty[s] += q;
      if (planned !== NO_PLAN) {
        this.plans.filledQty[planned] += q;
        this.plans.outstandingQty[planned] -= q;
      }
      if (c.cumQty[s] === c.qty[s]) this.childEnded(s, ev.orderId(), Reason.NONE);
      else if (planned !== NO_PLAN) this.closeIfDone(planned);
      return;
    }
    if (kind === ChildEventKind.CANCELED || kind === ChildEventKind.REJECTED || kind === ChildEventKind.EXPIRED) {
      this.childEnded(s, ev.orderId(), kind === ChildEventKind.REJECTED ? ev.reason() || Reason.VENUE_REJECT : ev.reason());
    }
  }

  private planOf(s: number, orderId: number): number {
    const p = this.children.plan[s];
    return p !== NO_PLAN && this.plans.open[p] === 1 && this.plans.orderId[p] === orderId ? p : NO_PLAN;
  }

  /** A child ended: learn from it, re-route its rest when the plan says so, close the plan when done. */
  private childEnded(s: number, orderId: number, reason: number): void {
    const c = this.children;
    const t = this.plans;
    c.markEnded(s);
    // Refused by fix before sending (its slot there still held an older live child, one restored
    // from its audit at a restart): the venue never saw it, so it teaches nothing, and its
    // claim's count is taken back (as the statistics' replay never counts it).
    if (reason === Reason.CHILD_TABLE_FULL) this.stats.onWithdrawn(c.venue[s], c.qty[s]);
    else this.stats.onEnded(c.venue[s], c.qty[s], c.cumQty[s]);
    const p = this.planOf(s, orderId);
    if (p === NO_PLAN) return;
    t.liveChildren[p]--;
    if (c.answered[s] === 0) {
      c.answered[s] = 1;
      t.unanswered[p]--;
    }
    const continues = c.fallback[s] === 3;
    if (c.fallback[s] !== 0) t.fallbackPending[p]--;
    c.fallback[s] = 0;
    // A venue that refused is not asked again for this order; one that never saw the child (fix
    // refused it for its slot) may be, in staged mode too (which marks a venue tried as it claims).
    if (reason === Reason.VENUE_REJECT || reason === Reason.VENUE_DOWN) t.tried[p * this.venueCount + c.venue[s]] = 1;
    else if (reason === Reason.CHILD_TABLE_FULL) t.tried[p * this.venueCount + c.venue[s]] = 0;
    const rest = c.qty[s] - c.cumQty[s];
    t.outstandingQty[p] -= rest;
    if (rest > 0) {
      // An IOC child whose rest the venue canceled found less than the quote it was priced on:
      // the next decision must not send the rest to the same stale price (it would miss again,
      // and a marketable order's last step would rest below the market instead of at its limit).
      if (reason === Reason.VENUE_CANCELED && c.tif[s] === Tif.IOC &&
        this.book.consume(c.venue[s], t.symbol[p], t.side[p] === Side.BUY, c.priceTicks[s], c.quotesAtDecision[s])) {
        this.counters.add(SorCounter.QUOTES_CONSUMED, 1);
      }
      if (t.cancelRequested[p] === 0 && (continues || this.reroutes(p, s, reason)) && t.step[p] < this.maxSteps) {
        this.counters.add(SorCounter.REROUTES, 1);
        this.decideAndSend(p, rest);
      }
    }
    this.closeIfDone(p);
  }

  /** Whether the rest of an ended child is routed again. */
  private reroutes(p: number, s: number, reason: number): boolean {
    const t = this.plans;
    // Fix refused the child for its slot (the next child id has another slot): no venue saw it,
    // so its quantity goes on in every mode and for every TIF, FOK included.
    if (reason === Reason.CHILD_TABLE_FULL) return true;
    if (t.mode[p] === SorMode.STAGED) return t.tif[p] !== Tif.FOK;
    // Other modes: only what a venue refused or dropped (an IOC's rest goes on only as a sweep).
    if (reason === Reason.VENUE_REJECT || reason === Reason.VENUE_DOWN) return true;
    return reason === Reason.VENUE_CANCELED && this.children.tif[s] === Tif.DAY;
  }

  private closeIfDone(p: number): void {
    const t = this.plans;
    if (t.open[p] !== 1) return;
    const idle = t.liveChildren[p] === 0 || (t.cancelRequested[p] === 0 && t.unanswered[p] === 0 && t.fallbackPending[p] === 0);
    if (!idle) return;
    this.writeDone(t.orderId[p], t.recvNs[p], t.decisionNs[p], t.routedQty[p], t.childCount[p], t.childCount[p] === 0 ? t.reason[p] || Reason.NO_VENUE_AVAILABLE : Reason.NONE);
    // Children still resting stay in the child table for the statistics; their plan is gone.
    this.detachChildren(p);
    t.release(p);
  }

  private detachChildren(p: number): void {
    const c = this.children;
    let id = this.plans.firstChild[p];
    for (let n = 0; id !== 0 && n < this.plans.childCount[p]; n++) {
      const s = c.slotOf(id);
      if (s < 0 || c.plan[s] !== p) break;
      c.plan[s] = NO_PLAN;
      id = c.nextSibling[s];
    }
  }

  /** Staged fallbacks that are due: cancel the child, its rest goes on when the cancel lands. */
  private fireFallbacks(limit: number): number {
    const now = this.clock.nowNs();
    let n = 0;
    while (n < limit) {
      const childId = this.fallbacks.popDue(now);
      if (childId === 0) break;
      n++;
      const c = this.children;
      const s = c.slotOf(childId);
      if (s < 0 || c.live[s] === 0 || c.fallback[s] !== 1) continue;
      c.fallback[s] = 2;
      this.writeChildCancel(s);
      this.counters.add(SorCounter.STAGED_FALLBACKS, 1);
    }
    return n;
  }

  private writeChildCancel(s: number): void {
    this.writeChildRecord(RecordType.CHILD_CANCEL, s, this.clock.nowNs(), 0);
  }

  /**
   * Writes a CHILD_NEW or CHILD_CANCEL to the FIX worker for the child in slot s, from the child
   * table and its plan (every child is a LIMIT order at its own price and TIF). journalMark: the
   * journal feed's records the fix stage waits for before it sends (0 for a cancel).
   */
  private writeChildRecord(typeId: number, s: number, decisionNs: number, journalMark: number): void {
    const c = this.children;
    const p = c.plan[s];
    const t = this.plans;
    const out = this.rings.toFix;
    const at = out.claimChecked(typeId, CHILD_ORDER_LENGTH);
    this.child
      .wrap(out.view, out.bytes, at)
      .setChildId(c.childId[s])
      .setOrderId(t.orderId[p])
      .setQty(c.qty[s])
      .setPriceTicks(c.priceTicks[s])
      .setRecvTimeNs(t.recvNs[p])
      .setDecisionTimeNs(decisionNs)
      .setVenueId(c.venue[s])
      .setSymbolId(t.symbol[p])
      .setAccountId(t.account[p])
      .setSide(t.side[p])
      .setOrdType(OrdType.LIMIT)
      .setTif(c.tif[s])
      .setJournalMark(journalMark);
  }

  /** Risk cancels a child (client cancel, replace, kill switch): no more children for its plan. */
  private onRiskCancel(src: Uint8Array, offset: number): void {
    const out = this.rings.toFix;
    const childId = this.child.wrap(this.rings.fromRisk.view, src, offset).childId();
    const s = this.children.slotOf(childId);
    if (s >= 0) {
      const p = this.children.plan[s];
      if (p !== NO_PLAN && this.plans.open[p] === 1) this.plans.cancelRequested[p] = 1;
      if (this.children.fallback[s] === 2) return; // the SOR's own cancel is already on its way
    }
    out.copyChecked(RecordType.CHILD_CANCEL, src, offset, CHILD_ORDER_LENGTH);
    this.counters.add(SorCounter.CANCELS_FORWARDED, 1);
  }

  // ------------------------------------------------------------------------------------------
  // Records out
  // ------------------------------------------------------------------------------------------

  private writeDone(orderId: number, recvNs: number, decisionNs: number, routedQty: number, childCount: number, reason: number): void {
    const out = this.rings.toFix;
    const at = out.claimChecked(RecordType.ROUTE_DONE, ROUTE_DONE_LENGTH);
    this.done
      .wrap(out.view, out.bytes, at)
      .setOrderId(orderId)
      .setRecvTimeNs(recvNs)
      .setDecisionTimeNs(decisionNs)
      .setRoutedQty(routedQty)
      .setChildCount(childCount)
      .setReason(reason);
  }

  /** The audit is written once (journal copy) and copied word by word into ingest's ring. */
  private writeAudit(p: number, qty: number, nowNs: number, reason: number, sent: number): void {
    const persist = this.rings.toPersistence;
    const ingest = this.rings.toIngest;
    let from = -1;
    if (persist != null) {
      from = persist.claimChecked(RecordType.ROUTE_AUDIT, this.auditLength);
      this.fillAudit(persist, from, p, qty, nowNs, reason, sent);
    }
    if (ingest != null) {
      const at = ingest.tryClaim(RecordType.ROUTE_AUDIT, this.auditLength);
      if (at === FULL) this.counters.add(SorCounter.AUDITS_DROPPED_INGEST, 1);
      else if (from < 0) this.fillAudit(ingest, at, p, qty, nowNs, reason, sent);
      else {
        // Int32 words, not float64: a copy through doubles could rewrite NaN bit patterns.
        const src = this.persistWords!;
        const dst = this.ingestWords!;
        const a = from >>> 2;
        const b = at >>> 2;
        for (let i = 0, n = this.auditLength >>> 2; i < n; i++) dst[b + i] = src[a + i];
      }
    }
    this.counters.add(SorCounter.AUDITS, 1);
  }

  private fillAudit(ring: RingProducer, at: number, p: number, qty: number, nowNs: number, reason: number, sent: number): void {
    const t = this.plans;
    const f = this.features;
    const w = this.config.weights;
    const a = this.audit.wrap(ring.view, ring.bytes, at);
    a.setOrderId(t.orderId[p]).setDecisionTimeNs(nowNs).setQty(qty).setLimitTicks(f.limitTicks)
      .setNbbBidTicks(f.nbbBid).setNbbBidQty(f.nbbBidQty).setNbbAskTicks(f.nbbAsk).setNbbAskQty(f.nbbAskQty)
      .setChildPxTicks(f.childPx < 0 ? 0 : f.childPx).setRoutedQty(f.routedQty).setParentQty(t.qty[p])
      .setAccountId(t.account[p]).setSymbolId(t.symbol[p]).setConfigVersion(this.configVersion)
      .setPriceWeight(Math.round(w.price * WEIGHT_SCALE)).setLatencyWeight(Math.round(w.latency * WEIGHT_SCALE))
      .setFillprobWeight(Math.round(w.fillprob * WEIGHT_SCALE)).setFeeWeight(Math.round(w.fee * WEIGHT_SCALE))
      .setReason(reason).setSide(t.side[p]).setOrdType(t.ordType[p]).setTif(t.tif[p]).setMode(t.mode[p])
      .setVenueCount(this.venueCount - 1).setChildCount(sent).setStep(t.step[p]).setChildTif(f.childTif).setFlags(f.lastStep ? 1 : 0);
    for (let v = 1; v < this.venueCount; v++) {
      a.setVPx(v, f.px[v]);
      a.setVDispQty(v, f.dispQty[v]);
      a.setVQuoteAgeNs(v, f.quoteAgeNs[v]);
      a.setVLatencyUs(v, f.latencyUs[v]);
      a.setVFillProb(v, f.fillProb[v]);
      a.setVPriceScore(v, f.priceScore[v]);
      a.setVLatencyScore(v, f.latencyScore[v]);
      a.setVFillScore(v, f.fillScore[v]);
      a.setVFeeScore(v, f.feeScore[v]);
      a.setVScore(v, f.score[v]);
      a.setVChildQty(v, f.childQty[v]);
      a.setVChildId(v, f.childQty[v] > 0 ? this.childIdScratch[v] : 0);
      a.setVMinQty(v, f.minQty[v]);
      a.setVLotSize(v, f.lotSize[v]);
      a.setVFeeCentiBps(v, f.feeCentiBps[v]);
      a.setVExcluded(v, f.excluded[v] !== VenueExclusion.NONE ? f.excluded[v] : f.away[v]);
    }
  }
}

/** The venue statistics a fresh SOR starts from: the configured priors (latencyUs, fillProbability) per venue, alpha statsAlpha. */
export function venueStatsFor(config: SorConfig): VenueStats {
  const stats = new VenueStats(config.venues.length, config.statsAlpha ?? 0.1);
  for (let v = 1; v < config.venues.length; v++) {
    const p = config.venues[v];
    if (p !== null) stats.prior(v, p.latencyUs, p.fillProbability);
  }
  return stats;
}
