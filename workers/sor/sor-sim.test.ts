// Goal: a seeded session of thousands of orders routed by the real SOR across several simulated
// venues (real price-time books, a shared seeded random walk with depth, fees, venue rejects,
// outages, partial fills, resting children filled later by the walk, client cancels, runtime
// mode changes between SINGLE_BEST, SPLIT and STAGED) keeps the routing invariants:
//   - no overfill: per child, venue fills <= child qty; per order, fills <= order qty, and at every
//     step fills + quantity still working at venues <= order qty;
//   - every child accounted for: each CHILD_NEW reaches its venue or is refused, ends (filled,
//     canceled, rejected) by the end, with the SOR's view of its fills equal to the venue's;
//   - order quantity = fills + remainder (the remainder never traded), every request answered by
//     exactly one ROUTE_DONE whose routedQty / childCount are the sum / count of its children;
//   - every child appears in exactly one audit record's chosen routes;
//   - the SOR ends with no route in progress; the same seed gives the same digest.
// Method: SorStage on real rings, stepped on one thread with a ManualClock; a bridge plays the fix
// stage (CHILD_NEW -> VenueCore.submit, execution events -> CHILD_EVENT, books -> QUOTE) and
// risk (route requests, client cancels). Prints the seed and the digest.
import { describe, expect, it } from 'vitest';
import {
  CHILD_EVENT_LENGTH, CHILD_ORDER_LENGTH, ChildEventFlyweight, ChildEventKind, ChildOrderFlyweight, QUOTE_LENGTH, QuoteFlyweight,
  ROUTE_REQUEST_LENGTH, RecordType, RouteAuditFlyweight, RouteDoneFlyweight, RouteRequestFlyweight, SOR_CONFIG_LENGTH, SorConfigFlyweight,
  VENUE_STATUS_LENGTH, VenueStatusFlyweight,
} from '../../codecs/records.ts';
import { ManualClock } from '../../engine/clock.ts';
import { SorCounter, StageCounters } from '../../engine/counters.ts';
import { OrdType, Side, Tif } from '../../engine/domain.ts';
import { Reason } from '../../engine/reasons.ts';
import { FULL, RingConsumer, RingProducer, createRingMemory } from '../../engine/ring.ts';
import { MarketMaker } from '../../sim/market-maker.ts';
import { Mulberry32 } from '../../engine/prng.ts';
import { ExecType, VenueCore, type CancelRejectEvent, type ExecEvent, type ExecutionSink } from '../../sim/venue-core.ts';
import { SorStage } from './sor-stage.ts';
import { venue } from './sor-harness.fixture.ts';
import { SorMode } from './venue-score.ts';

const PX = 1_000_000;
const TICK = 10_000;
const SYMBOLS = ['AAPL', 'MSFT'];
const VENUES = 4;
const BASE = 1_000_000;

interface ChildRec { childId: number; orderId: number; venue: number; qty: number; venueCum: number; sorCum: number; ended: boolean; reachedVenue: boolean }
interface ParentRec { orderId: number; qty: number; fills: number; done: number; routedQty: number; childCount: number; children: number[] }

function w(ring: RingProducer, type: number, length: number): number {
  const at = ring.tryClaim(type, length);
  if (at === FULL) throw new Error('sim ring full');
  return at;
}

function runSession(seed: number, orders: number): { digest: string; parents: ParentRec[]; children: Map<number, ChildRec>; stage: SorStage; audits: number; auditsChoosingNone: number; problems: string[]; counters: StageCounters; auditChildren: Map<number, { venue: number; qty: number; count: number }> } {
  const rng = new Mulberry32(seed);
  const clock = new ManualClock(1_000_000_000, 1_700_000_000_000);
  const counters = StageCounters.create();
  const mem = { risk: createRingMemory(1 << 20), fix: createRingMemory(1 << 20), out: createRingMemory(1 << 20), audit: createRingMemory(1 << 22) };
  const toSorRisk = new RingProducer(mem.risk, null);
  const toSorFix = new RingProducer(mem.fix, null);
  const fromSor = new RingConsumer(mem.out);
  const auditRing = new RingConsumer(mem.audit);
  const profiles = [null, venue(30, 300, 0.9), venue(20, 500, 0.85), venue(25, 400, 0.8, 0, 10), venue(0, 900, 0.6, 20, 1)];
  const stage = new SorStage(
    { venues: profiles, symbolCount: SYMBOLS.length, weights: { price: 0.5, latency: 0.2, fillprob: 0.2, fee: 0.1 }, quoteStaleNs: 500e6, childIdBase: BASE,
      mode: SorMode.SINGLE_BEST, stagedFallbackNs: 20e6, maxSteps: 4, collarBps: 50, tickTicks: TICK, planCapacity: 4096, childCapacity: 1 << 16,
      disallowed: new Map([[3, [4]]]) },
    { fromRisk: new RingConsumer(mem.risk), fromFix: new RingConsumer(mem.fix), toFix: new RingProducer(mem.out, null), toPersistence: new RingProducer(mem.audit, null), toIngest: null },
    clock, counters,
  );
  const children = new Map<number, ChildRec>();
  const parents = new Map<number, ParentRec>();
  const problems: string[] = [];
  const ev = new ChildEventFlyweight();
  const emit = (kind: number, childId: number, orderId: number, v: number, lastQty: number, lastPx: number, reason: number) => {
    const at = w(toSorFix, RecordType.CHILD_EVENT, CHILD_EVENT_LENGTH);
    ev.wrap(toSorFix.view, toSorFix.bytes, at).setChildId(childId).setOrderId(orderId).setTimeNs(clock.nowNs()).setLastQty(lastQty)
      .setLastPxTicks(lastPx).setQty(0).setPriceTicks(0).setVenueId(v).setReason(reason).setKind(kind);
  };
  // The venues: one book engine each, one shared walk (market seed), own depth, fees, rejects.
  const cores: VenueCore[] = [];
  const makers: MarketMaker[] = [];
  const up = [0, 1, 1, 1, 1];
  for (let v = 1; v <= VENUES; v++) {
    const sink: ExecutionSink = {
      onExecution: (e: ExecEvent) => {
        const c = children.get(Number(e.clOrdId.split('C')[0]));
        if (c === undefined) return;
        if (e.execType === ExecType.NEW) emit(ChildEventKind.ACKED, c.childId, c.orderId, v, 0, 0, 0);
        else if (e.execType === ExecType.TRADE) {
          c.venueCum += e.lastQty;
          parents.get(c.orderId)!.fills += e.lastQty;
          emit(ChildEventKind.FILL, c.childId, c.orderId, v, e.lastQty, e.lastPxTicks, 0);
          if (e.leavesQty === 0) c.ended = true;
        } else if (e.execType === ExecType.CANCELED) {
          c.ended = true;
          emit(ChildEventKind.CANCELED, c.childId, c.orderId, v, 0, 0, Reason.VENUE_CANCELED);
        } else if (e.execType === ExecType.REJECTED) {
          c.ended = true;
          emit(ChildEventKind.REJECTED, c.childId, c.orderId, v, 0, 0, Reason.VENUE_REJECT);
        }
      },
      onCancelReject: (e: CancelRejectEvent) => {
        const c = children.get(Number(e.origClOrdId));
        if (c !== undefined) emit(ChildEventKind.CANCEL_REJECTED, c.childId, c.orderId, v, 0, 0, 0);
      },
    };
    const core = new VenueCore({ name: `V${v}`, symbols: SYMBOLS.map((s, i) => ({ symbol: s, startPriceTicks: (100 + 50 * i) * PX }) ), feeBps: 0.2, rejectProbability: v === 2 ? 0.05 : 0.01, tickSizeTicks: TICK, seed: seed + v }, sink);
    const mm = new MarketMaker(core, { seed: seed * 7 + v, marketSeed: seed, levels: 4, levelQty: 50 * v, halfSpreadTicks: v === 4 ? 2 : 1, maxStepTicks: 2 });
    mm.quoteAll();
    cores[v] = core;
    makers[v] = mm;
  }
  const client = { name: 'OMS' };
  const childFw = new ChildOrderFlyweight();
  const doneFw = new RouteDoneFlyweight();
  const bridge = {
    onRecord(type: number, offset: number): void {
      const c = childFw.wrap(fromSor.view, fromSor.bytes, offset);
      if (type === RecordType.CHILD_NEW) {
        const rec: ChildRec = { childId: c.childId(), orderId: c.orderId(), venue: c.venueId(), qty: c.qty(), venueCum: 0, sorCum: 0, ended: false, reachedVenue: false };
        children.set(rec.childId, rec);
        const p = parents.get(rec.orderId)!;
        p.children.push(rec.childId);
        if (up[rec.venue] === 0) {
          rec.ended = true;
          emit(ChildEventKind.REJECTED, rec.childId, rec.orderId, rec.venue, 0, 0, Reason.VENUE_DOWN);
          return;
        }
        rec.reachedVenue = true;
        emit(ChildEventKind.SENT, rec.childId, rec.orderId, rec.venue, 0, 0, 0);
        cores[rec.venue].submit(client, String(rec.childId), SYMBOLS[c.symbolId()], c.side() as 1, c.ordType() as 2, c.tif() as 0, c.qty(), c.priceTicks());
      } else if (type === RecordType.CHILD_CANCEL) {
        const rec = children.get(c.childId());
        if (rec === undefined || rec.ended) return;
        // As the fix stage does: a cancel for a venue that is down is refused with VENUE_DOWN.
        if (up[rec.venue] === 0) return emit(ChildEventKind.CANCEL_REJECTED, rec.childId, rec.orderId, rec.venue, 0, 0, Reason.VENUE_DOWN);
        cores[rec.venue].cancel(client, `${rec.childId}C${rng.nextU32()}`, String(rec.childId));
      } else if (type === RecordType.ROUTE_DONE) {
        const d = doneFw.wrap(fromSor.view, fromSor.bytes, offset);
        const p = parents.get(d.orderId())!;
        p.done++;
        p.routedQty = d.routedQty();
        p.childCount = d.childCount();
      }
    },
  };
  const rq = new RouteRequestFlyweight();
  const qt = new QuoteFlyweight();
  const vs = new VenueStatusFlyweight();
  const sc = new SorConfigFlyweight();
  const cancelFw = new ChildOrderFlyweight();
  const publish = () => {
    for (let v = 1; v <= VENUES; v++) {
      if (up[v] === 0) continue;
      for (let s = 0; s < SYMBOLS.length; s++) {
        const b = cores[v].books[s];
        const at = w(toSorFix, RecordType.QUOTE, QUOTE_LENGTH);
        qt.wrap(toSorFix.view, toSorFix.bytes, at).setTimeNs(clock.nowNs()).setBidTicks(Math.max(0, b.bestBid())).setBidQty(b.bestBid() > 0 ? b.levelQty(Side.BUY, 0) : 0)
          .setAskTicks(Math.max(0, b.bestAsk())).setAskQty(b.bestAsk() > 0 ? b.levelQty(Side.SELL, 0) : 0).setVenueId(v).setSymbolId(s);
      }
    }
  };
  const status = (v: number, isUp: boolean) => {
    up[v] = isUp ? 1 : 0;
    const at = w(toSorFix, RecordType.VENUE_STATUS, VENUE_STATUS_LENGTH);
    vs.wrap(toSorFix.view, toSorFix.bytes, at).setTimeNs(clock.nowNs()).setVenueId(v).setUp(isUp);
  };
  const pump = () => {
    for (let i = 0; i < 50; i++) {
      toSorRisk.commit();
      toSorFix.commit();
      const n = stage.doWork() + fromSor.poll(bridge, 1 << 16);
      auditRing.poll(auditReader, 1 << 16);
      if (n === 0 && toSorFix.depthBytes() === 0) return;
    }
  };
  let audits = 0;
  let auditsChoosingNone = 0;
  const auditChildren = new Map<number, { venue: number; qty: number; count: number }>();
  const auditFw = new RouteAuditFlyweight();
  const auditReader = {
    onRecord(type: number, offset: number): void {
      if (type !== RecordType.ROUTE_AUDIT) return;
      audits++;
      const a = auditFw.wrap(auditRing.view, auditRing.bytes, offset);
      let chosen = 0;
      for (let v = 1; v <= a.venueCount(); v++) {
        if (a.vChildQty(v) <= 0) continue;
        chosen++;
        const prev = auditChildren.get(a.vChildId(v));
        auditChildren.set(a.vChildId(v), { venue: v, qty: a.vChildQty(v), count: (prev?.count ?? 0) + 1 });
      }
      if (chosen === 0) auditsChoosingNone++;
    },
  };
  for (let v = 1; v <= VENUES; v++) status(v, true);
  publish();
  pump();
  let nextOrder = 1;
  for (let tick = 0; tick < orders; tick++) {
    clock.advanceNs((1 + rng.nextInt(5)) * 1e6);
    if (tick % 7 === 0) for (let v = 1; v <= VENUES; v++) makers[v].step();
    if (tick % 500 === 250) status(1 + rng.nextInt(VENUES), false);
    if (tick % 500 === 400) for (let v = 1; v <= VENUES; v++) if (up[v] === 0) status(v, true);
    if (tick % 300 === 0) {
      const at = w(toSorRisk, RecordType.SOR_CONFIG, SOR_CONFIG_LENGTH);
      sc.wrap(toSorRisk.view, toSorRisk.bytes, at).setVersion(tick + 1).setPriceWeight(500_000).setLatencyWeight(200_000).setFillprobWeight(200_000)
        .setFeeWeight(100_000).setQuoteStaleMs(500).setMode(rng.nextInt(3));
    }
    publish();
    const orderId = nextOrder++;
    const qty = 1 + rng.nextInt(600);
    const side = rng.nextInt(2) === 0 ? Side.BUY : Side.SELL;
    const s = rng.nextInt(SYMBOLS.length);
    const mid = makers[1].refTicks[s];
    const ordType = rng.nextInt(8) === 0 ? OrdType.MARKET : OrdType.LIMIT;
    const price = mid + (rng.nextInt(9) - 4) * TICK;
    const tifs = [Tif.DAY, Tif.DAY, Tif.IOC, Tif.FOK];
    parents.set(orderId, { orderId, qty, fills: 0, done: 0, routedQty: 0, childCount: 0, children: [] });
    const at = w(toSorRisk, RecordType.ROUTE_REQUEST, ROUTE_REQUEST_LENGTH);
    rq.wrap(toSorRisk.view, toSorRisk.bytes, at).setOrderId(orderId).setRecvTimeNs(clock.nowNs()).setQty(qty).setPriceTicks(price)
      .setAccountId(1 + rng.nextInt(4)).setSymbolId(s).setSide(side).setOrdType(ordType).setTif(tifs[rng.nextInt(4)]);
    // Now and then a client cancels an earlier order: risk cancels its live children.
    if (rng.nextInt(10) === 0 && orderId > 10) {
      const victim = parents.get(orderId - 1 - rng.nextInt(10))!;
      for (const id of victim.children) {
        const c = children.get(id)!;
        if (c.ended || !c.reachedVenue) continue;
        const a = w(toSorRisk, RecordType.CHILD_CANCEL, CHILD_ORDER_LENGTH);
        cancelFw.wrap(toSorRisk.view, toSorRisk.bytes, a).setChildId(id).setOrderId(c.orderId).setVenueId(c.venue);
      }
    }
    pump();
    checkWorking(parents, children, problems);
  }
  // Close the session: venues back up, walk on (fallbacks fire), then every child still resting is canceled.
  for (let v = 1; v <= VENUES; v++) if (up[v] === 0) status(v, true);
  for (let i = 0; i < 20; i++) {
    clock.advanceNs(30e6);
    publish();
    pump();
  }
  for (const c of children.values()) {
    if (c.ended || !c.reachedVenue) continue;
    const a = w(toSorRisk, RecordType.CHILD_CANCEL, CHILD_ORDER_LENGTH);
    cancelFw.wrap(toSorRisk.view, toSorRisk.bytes, a).setChildId(c.childId).setOrderId(c.orderId).setVenueId(c.venue);
  }
  pump();
  for (let i = 0; i < 5; i++) {
    clock.advanceNs(30e6);
    pump();
  }
  for (const c of children.values()) {
    const s = stage.children.slotOf(c.childId);
    c.sorCum = s < 0 ? -1 : stage.children.cumQty[s];
  }
  let h = 0x811c9dc5;
  const mix = (x: number) => { h = Math.imul(h ^ (x >>> 0), 0x01000193) >>> 0; h = Math.imul(h ^ Math.floor(x / 2 ** 32), 0x01000193) >>> 0; };
  for (const p of parents.values()) { mix(p.orderId); mix(p.fills); mix(p.routedQty); mix(p.childCount); }
  for (const c of children.values()) { mix(c.childId); mix(c.venue); mix(c.qty); mix(c.venueCum); }
  return { digest: h.toString(16), parents: [...parents.values()], children, stage, audits, auditsChoosingNone, problems, counters, auditChildren };
}

/** At every step: fills + quantity working at venues <= order quantity. */
function checkWorking(parents: Map<number, ParentRec>, children: Map<number, ChildRec>, problems: string[]): void {
  for (const p of parents.values()) {
    if (p.done === 1 && p.children.every((id) => children.get(id)!.ended)) continue;
    let working = 0;
    for (const id of p.children) {
      const c = children.get(id)!;
      if (!c.ended) working += c.qty - c.venueCum;
    }
    if (p.fills + working > p.qty) problems.push(`order ${p.orderId}: fills ${p.fills} + working ${working} > ${p.qty}`);
  }
}

describe('SOR seeded session across simulated venues', () => {
  it('3,000 orders keep every routing invariant, and the seed replays the session exactly', () => {
    const seed = Number(process.env.SOR_SIM_SEED ?? 20261121);
    const run = runSession(seed, 3000);
    console.log(`sor-sim seed=${seed} digest=${run.digest} orders=${run.parents.length} children=${run.children.size} audits=${run.audits}`);
    expect(run.problems).toEqual([]);
    let totalChildren = 0;
    let filled = 0;
    for (const p of run.parents) {
      expect(p.done, `order ${p.orderId} ROUTE_DONE count`).toBe(1);
      const kids = p.children.map((id) => run.children.get(id)!);
      expect(p.childCount).toBe(kids.length);
      expect(p.routedQty).toBe(kids.reduce((s, c) => s + c.qty, 0));
      const fills = kids.reduce((s, c) => s + c.venueCum, 0);
      expect(fills).toBe(p.fills);
      expect(p.fills).toBeLessThanOrEqual(p.qty);
      const remainder = p.qty - p.fills;
      expect(p.fills + remainder).toBe(p.qty);
      expect(remainder).toBeGreaterThanOrEqual(0);
      totalChildren += kids.length;
      filled += p.fills;
    }
    for (const c of run.children.values()) {
      expect(c.ended, `child ${c.childId} ended`).toBe(true);
      expect(c.venueCum).toBeLessThanOrEqual(c.qty);
      expect(c.sorCum, `child ${c.childId} SOR view of fills`).toBe(c.venueCum);
    }
    expect(run.stage.plans.openCount).toBe(0);
    expect(totalChildren).toBeGreaterThan(3000);
    expect(filled).toBeGreaterThan(0);
    // Staged fallbacks and re-routes happened; every venue's fill statistics learned something.
    expect(run.counters.get(SorCounter.STAGED_FALLBACKS)).toBeGreaterThan(0);
    expect(run.counters.get(SorCounter.REROUTES)).toBeGreaterThan(0);
    expect(run.stage.stats.ended.slice(1).every((n) => n > 0)).toBe(true);
    expect(run.audits).toBeGreaterThanOrEqual(run.parents.length);
    // Every decision is counted once: routed (it chose a child) or unroutable (it chose none).
    // (Route requests refused for a full plan table count unroutable without an audit: none here.)
    expect(run.counters.get(SorCounter.AUDITS)).toBe(run.audits);
    expect(run.counters.get(SorCounter.DECISIONS_ROUTED)).toBe(run.audits - run.auditsChoosingNone);
    expect(run.counters.get(SorCounter.UNROUTABLE)).toBe(run.auditsChoosingNone);
    expect(run.auditsChoosingNone).toBeGreaterThan(0);
    const again = runSession(seed, 3000);
    expect(again.digest).toBe(run.digest);
  }, 120_000);

  it('every child appears in exactly one audit record, with its venue and quantity', () => {
    // Method: the same kind of session, its audit records decoded; a shorter run with another seed.
    const run = runSession(7, 400);
    for (const c of run.children.values()) expect(run.auditChildren.get(c.childId), `child ${c.childId}`).toEqual({ venue: c.venue, qty: c.qty, count: 1 });
    expect(run.auditChildren.size).toBe(run.children.size);
  }, 60_000);
});
