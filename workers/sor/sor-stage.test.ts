// Goal: the SOR decides as documented (workers/sor/venue-score.ts, sor-stage.ts): scores and
// their normalization, the three modes against scripted books, trade-through protection and the
// market-order collar, stale/crossed/disallowed/lot constraints, staged fallback timing, re-routes
// of refused children, learned latency and fill probability, ROUTE_DONE only when the SOR is done,
// and one audit record per decision that reproduces it.
// Method: the stage stepped by hand on real rings (sor-harness.fixture.ts) with a ManualClock;
// expected values worked out by hand; reproduction checked by deciding again from each record.
import { describe, expect, it } from 'vitest';
import { ChildEventKind, RecordType } from '../../codecs/records.ts';
import { SorCounter } from '../../engine/counters.ts';
import { OrdType, Side, Tif } from '../../engine/domain.ts';
import { Reason } from '../../engine/reasons.ts';
import { auditToFeatures } from './route-audit.ts';
import { BASE, SorHarness, px, venue, type OutRecord } from './sor-harness.fixture.ts';
import { RouteFeatures, SorMode, VenueExclusion, decide, scoreVenues } from './venue-score.ts';
import { SOR_BATCH } from './sor-stage.ts';

const PRICE_ONLY = { price: 1, latency: 0, fillprob: 0, fee: 0 };
const LATENCY_ONLY = { price: 0, latency: 1, fillprob: 0, fee: 0 };
const FEE_ONLY = { price: 0, latency: 0, fillprob: 0, fee: 1 };
const MIXED = { price: 0.5, latency: 0.2, fillprob: 0.2, fee: 0.1 };
const SAME = venue(10, 100, 0.5);
const MS = 1_000_000;

const kinds = (out: OutRecord[]) => out.map((o) => o.typeId);
const children = (out: OutRecord[]) => out.filter((o) => o.typeId === RecordType.CHILD_NEW);
/** A child as venue, quantity, price and TIF. */
const row = (c: OutRecord) => [c.venueId, c.qty, c.price, c.tif];

describe('venue-score: scores and normalization', () => {
  function features(n: number): RouteFeatures {
    const f = new RouteFeatures(n + 1);
    for (let v = 1; v <= n; v++) {
      f.latencyUs[v] = 100;
      f.fillProb[v] = 0.5;
      f.feeCentiBps[v] = 10;
      f.lotSize[v] = 1;
    }
    f.qty = 100;
    return f;
  }

  it('price: best / own for a buy, own / best for a sell; 0 without a quote when others quote', () => {
    const f = features(3);
    f.side = Side.BUY;
    f.px[1] = px(10);
    f.px[2] = px(12.5);
    scoreVenues(f, PRICE_ONLY);
    expect(f.priceScore[1]).toBe(1);
    expect(f.priceScore[2]).toBeCloseTo(0.8, 12);
    expect(f.priceScore[3]).toBe(0);
    f.side = Side.SELL;
    scoreVenues(f, PRICE_ONLY);
    expect(f.priceScore[2]).toBe(1);
    expect(f.priceScore[1]).toBeCloseTo(0.8, 12);
  });

  it('price 1 for all when nobody quotes; latency inverse; fee (min+1)/(own+1); fill as learned; weighted sum', () => {
    const f = features(2);
    f.latencyUs[2] = 400;
    f.feeCentiBps[1] = 29;
    f.fillProb[2] = 0.9;
    scoreVenues(f, MIXED);
    expect(f.priceScore[1]).toBe(1);
    expect(f.priceScore[2]).toBe(1);
    expect(f.latencyScore[1]).toBe(1);
    expect(f.latencyScore[2]).toBe(0.25);
    expect(f.feeScore[1]).toBeCloseTo(11 / 30, 12);
    expect(f.feeScore[2]).toBe(1);
    expect(f.fillScore[2]).toBe(0.9);
    expect(f.score[1]).toBeCloseTo(0.5 + 0.2 + 0.2 * 0.5 + 0.1 * (11 / 30), 12);
    expect(f.score[2]).toBeCloseTo(0.5 + 0.2 * 0.25 + 0.2 * 0.9 + 0.1, 12);
  });

  it('an excluded venue scores -1 and does not set the minimums', () => {
    const f = features(2);
    f.excluded[1] = VenueExclusion.DOWN;
    f.latencyUs[1] = 1;
    f.latencyUs[2] = 50;
    scoreVenues(f, LATENCY_ONLY);
    expect(f.score[1]).toBe(-1);
    expect(f.latencyScore[2]).toBe(1);
  });

  it('lot size and minimum quantity shape every child', () => {
    const f = features(2);
    f.lotSize[1] = 100;
    f.minQty[2] = 0;
    f.latencyUs[2] = 200; // venue 1 ranks first
    f.qty = 250;
    f.limitTicks = px(10);
    expect(decide(f, LATENCY_ONLY, SorMode.SINGLE_BEST, 50, 10_000)).toBe(250);
    expect(f.childQty[1]).toBe(200);
    expect(f.childQty[2]).toBe(50);
    f.minQty[2] = 60;
    expect(decide(f, LATENCY_ONLY, SorMode.SINGLE_BEST, 50, 10_000)).toBe(200);
    expect(f.childQty[2]).toBe(0);
  });
});

describe('SorStage: single best', () => {
  it('the top score gets the whole order at its limit; ties to the lower id; ROUTE_DONE once the venue acks (DAY)', () => {
    const h = new SorHarness([null, SAME, SAME], PRICE_ONLY).up(1, 2);
    const orderId = h.request(Side.BUY, { qty: 250, price: px(12.5), symbol: 1 });
    const out = h.step();
    expect(kinds(out)).toEqual([RecordType.CHILD_NEW]);
    expect(out[0]).toMatchObject({ childId: BASE + 1, orderId, qty: 250, price: px(12.5), venueId: 1, symbolId: 1, accountId: 6, ordType: OrdType.LIMIT, tif: Tif.DAY });
    h.event(ChildEventKind.SENT, BASE + 1, orderId, 1);
    expect(h.step()).toEqual([]);
    h.event(ChildEventKind.ACKED, BASE + 1, orderId, 1);
    const done = h.step();
    expect(done).toHaveLength(1);
    expect(done[0]).toMatchObject({ typeId: RecordType.ROUTE_DONE, orderId, routedQty: 250, childCount: 1, reason: Reason.NONE });
    expect(h.stage.plans.openCount).toBe(0);
  });

  it('a bust or correction of a fill (TRADE_CANCEL, TRADE_CORRECT) changes nothing for routing: the child, its plan and the venue statistics stand', () => {
    const h = new SorHarness([null, SAME, SAME], PRICE_ONLY).up(1, 2);
    const orderId = h.request(Side.BUY, { qty: 250, price: px(12.5) });
    expect(kinds(h.step())).toEqual([RecordType.CHILD_NEW]);
    h.event(ChildEventKind.SENT, BASE + 1, orderId, 1);
    h.step();
    // Nor is one an answer to the child: it neither times the venue's first response nor closes the route.
    const samples = h.stage.stats.latencySamples[1];
    h.clock.advanceNs(200_000);
    h.event(ChildEventKind.TRADE_CORRECT, BASE + 1, orderId, 1, 10, px(12.5));
    expect(h.step()).toEqual([]);
    expect(h.stage.stats.latencySamples[1]).toBe(samples);
    h.clock.advanceNs(200_000);
    h.event(ChildEventKind.FILL, BASE + 1, orderId, 1, 100, px(12.5));
    h.step();
    expect(h.stage.stats.latencySamples[1]).toBe(samples + 1);
    const slot = h.stage.children.slotOf(BASE + 1);
    const state = () => JSON.stringify({
      stats: [h.stage.stats.latencyUs, h.stage.stats.fillProb, h.stage.stats.sent, h.stage.stats.latencySamples, h.stage.stats.ended, h.stage.stats.filledQty, h.stage.stats.sentQty].map((a) => Array.from(a)),
      open: h.stage.plans.openCount, cum: h.stage.children.cumQty[slot], live: h.stage.children.live[slot],
    });
    const before = state();
    expect(h.stage.children.cumQty[slot]).toBe(100);
    h.clock.advanceNs(1_000_000);
    h.event(ChildEventKind.TRADE_CANCEL, BASE + 1, orderId, 1, 100, px(12.5));
    h.event(ChildEventKind.TRADE_CORRECT, BASE + 1, orderId, 1, 60, px(12.4));
    expect(h.step()).toEqual([]);
    expect(state()).toBe(before);
    // The child's fills still count as before the bust: the rest fills it and ends it.
    const ended = h.stage.stats.ended[1];
    h.event(ChildEventKind.FILL, BASE + 1, orderId, 1, 150, px(12.5));
    h.step();
    expect(h.stage.stats.ended[1]).toBe(ended + 1);
    expect(h.stage.children.live[slot]).toBe(0);
  });

  it('a non-marketable IOC child (no quotes): the route ends once the venue answered; its remainder is not re-routed', () => {
    const h = new SorHarness([null, SAME, SAME], PRICE_ONLY).up(1, 2);
    const orderId = h.request(Side.SELL, { qty: 100, tif: Tif.IOC });
    expect(children(h.step())[0]).toMatchObject({ venueId: 1, tif: Tif.IOC });
    h.event(ChildEventKind.FILL, BASE + 1, orderId, 1, 40, px(10));
    const out = h.step();
    expect(kinds(out)).toEqual([RecordType.ROUTE_DONE]);
    expect(out[0]).toMatchObject({ routedQty: 100, childCount: 1 });
    h.event(ChildEventKind.CANCELED, BASE + 1, orderId, 1, 0, 0, Reason.VENUE_CANCELED);
    expect(h.step()).toEqual([]);
    expect(h.stage.stats.fillProb[1]).toBeCloseTo(0.5 + 0.1 * (0.4 - 0.5), 12);
  });

  it('a venue reject is re-routed to a venue not yet tried, with its own audit step', () => {
    const h = new SorHarness([null, SAME, SAME, SAME], PRICE_ONLY).up(1, 2, 3);
    const orderId = h.request(Side.BUY, { qty: 100 });
    expect(children(h.step())[0].venueId).toBe(1);
    h.event(ChildEventKind.REJECTED, BASE + 1, orderId, 1, 0, 0, Reason.VENUE_REJECT);
    const second = h.step();
    expect(kinds(second)).toEqual([RecordType.CHILD_NEW]);
    expect(second[0]).toMatchObject({ childId: BASE + 2, venueId: 2, qty: 100 });
    h.event(ChildEventKind.ACKED, BASE + 2, orderId, 2);
    expect(h.step()[0]).toMatchObject({ typeId: RecordType.ROUTE_DONE, childCount: 2, routedQty: 200 });
    const audits = h.audits();
    expect(audits.map((a) => [a.step(), a.vExcluded(1)])).toEqual([[0, VenueExclusion.NONE], [1, VenueExclusion.TRIED]]);
    expect(h.counters.get(SorCounter.REROUTES)).toBe(1);
  });

  it('a child fix refused for its slot (CHILD_TABLE_FULL) is re-routed under the next id and teaches the venue nothing', () => {
    const h = new SorHarness([null, SAME, SAME], PRICE_ONLY).up(1, 2);
    const orderId = h.request(Side.BUY, { qty: 100 });
    expect(children(h.step())[0]).toMatchObject({ childId: BASE + 1, venueId: 1 });
    const prob = h.stage.stats.fillProb[1];
    h.event(ChildEventKind.REJECTED, BASE + 1, orderId, 1, 0, 0, Reason.CHILD_TABLE_FULL);
    const again = h.step();
    expect(kinds(again)).toEqual([RecordType.CHILD_NEW]);
    // The venue did not refuse: it is not excluded, and the best venue is asked again.
    expect(again[0]).toMatchObject({ childId: BASE + 2, venueId: 1, qty: 100 });
    expect(h.counters.get(SorCounter.REROUTES)).toBe(1);
    expect(h.stage.stats.sent[1]).toBe(1);
    expect(h.stage.stats.sentQty[1]).toBe(100);
    expect(h.stage.stats.ended[1]).toBe(0);
    expect(h.stage.stats.fillProb[1]).toBe(prob);
    h.event(ChildEventKind.ACKED, BASE + 2, orderId, 1);
    expect(h.step()[0]).toMatchObject({ typeId: RecordType.ROUTE_DONE, childCount: 2 });
  });

  it('the same in staged mode, for a FOK too (which a venue\'s refusal does not re-route there)', () => {
    for (const tif of [Tif.DAY, Tif.FOK]) {
      const h = new SorHarness([null, SAME, SAME], PRICE_ONLY, { mode: SorMode.STAGED }).up(1, 2);
      const orderId = h.request(Side.BUY, { qty: 100, tif });
      expect(children(h.step())[0]).toMatchObject({ childId: BASE + 1, venueId: 1 });
      h.event(ChildEventKind.REJECTED, BASE + 1, orderId, 1, 0, 0, Reason.CHILD_TABLE_FULL);
      // Venue 1 never saw it: staged mode asks it again, not the next venue.
      expect(children(h.step())[0], `tif ${tif}`).toMatchObject({ childId: BASE + 2, venueId: 1, qty: 100 });
      expect(h.stage.stats.sent[1]).toBe(1);
    }
  });

  it('no venue up -> ROUTE_DONE with 0 children and NO_VENUE_AVAILABLE, audited; no child id used', () => {
    const h = new SorHarness([null, SAME, SAME], PRICE_ONLY);
    const orderId = h.request(Side.BUY, { qty: 300 });
    const out = h.step();
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ typeId: RecordType.ROUTE_DONE, orderId, childCount: 0, routedQty: 0, reason: Reason.NO_VENUE_AVAILABLE });
    expect(h.audits()[0].vExcluded(1)).toBe(VenueExclusion.DOWN);
    h.up(2);
    h.request(Side.BUY);
    expect(h.step()[0]).toMatchObject({ typeId: RecordType.CHILD_NEW, childId: BASE + 1, venueId: 2 });
  });

  it('a resting child keeps its slot: later children skip it (ids passed over, counted); CHILD_TABLE_FULL only when all are live', () => {
    // Four child slots. Order 1's child rests at its venue for the whole test.
    const h = new SorHarness([null, SAME], PRICE_ONLY, { childCapacity: 4 }).up(1);
    const resting = h.request(Side.BUY);
    expect(h.step()[0]).toMatchObject({ typeId: RecordType.CHILD_NEW, childId: BASE + 1 });
    h.event(ChildEventKind.ACKED, BASE + 1, resting, 1);
    h.step();
    // Ten orders whose children fill at once pass the resting child's slot twice.
    const ids: number[] = [];
    for (let n = 0; n < 10; n++) {
      const orderId = h.request(Side.BUY);
      const child = h.step()[0];
      expect(child).toMatchObject({ typeId: RecordType.CHILD_NEW, orderId });
      ids.push(child.childId);
      h.event(ChildEventKind.FILL, child.childId, orderId, 1, 100, px(10));
      h.step();
    }
    expect(ids).toEqual([2, 3, 4, 6, 7, 8, 10, 11, 12, 14].map((k) => BASE + k));
    expect(h.counters.get(SorCounter.CHILD_IDS_SKIPPED)).toBe(3);
    expect(h.stage.children.slotOf(BASE + 1)).toBe(0);
    expect(h.stage.children.liveCount).toBe(1);
    // Three more children rest: every slot is live, so the next order gets no child and no id.
    for (let n = 0; n < 3; n++) {
      const orderId = h.request(Side.BUY);
      const child = h.step()[0];
      h.event(ChildEventKind.ACKED, child.childId, orderId, 1);
      h.step();
    }
    const refused = h.request(Side.BUY);
    expect(h.step()).toEqual([expect.objectContaining({ typeId: RecordType.ROUTE_DONE, orderId: refused, childCount: 0, reason: Reason.CHILD_TABLE_FULL })]);
    expect(h.stage.children.liveCount).toBe(4);
    // Its decision is the one counted unroutable; the 14 before it routed.
    expect([h.counters.get(SorCounter.DECISIONS_ROUTED), h.counters.get(SorCounter.UNROUTABLE), h.counters.get(SorCounter.AUDITS)]).toEqual([14, 1, 15]);
    expect(h.counters.get(SorCounter.CHILD_TABLE_FULL)).toBe(1);
    expect(h.audits().at(-1)!.reason()).toBe(Reason.CHILD_TABLE_FULL);
    // The first resting child ends: its slot takes the next child.
    h.event(ChildEventKind.FILL, BASE + 1, resting, 1, 100, px(10));
    h.step();
    h.request(Side.BUY);
    const next = h.step()[0];
    expect(next.typeId).toBe(RecordType.CHILD_NEW);
    expect(h.stage.children.slotOf(next.childId)).toBe(0);
    expect(h.stage.children.liveCount).toBe(4);
  });

  it('a venue disallowed for the account is excluded for it only', () => {
    const h = new SorHarness([null, SAME, SAME], PRICE_ONLY, { disallowed: new Map([[7, [1]]]) }).up(1, 2);
    h.request(Side.BUY, { account: 7 });
    h.request(Side.BUY, { account: 6 });
    expect(children(h.step()).map((c) => c.venueId)).toEqual([2, 1]);
    expect(h.audits()[0].vExcluded(1)).toBe(VenueExclusion.DISALLOWED);
  });
});

describe('SorStage: market data, trade-through, collar', () => {
  function book(h: SorHarness): void {
    // V1 ask 10.00 x 300, V2 ask 10.00 x 100, V3 ask 10.01 x 1000 (cheapest fees at V3).
    h.quote(1, 0, px(9.99), 500, px(10), 300).quote(2, 0, px(9.98), 500, px(10), 100).quote(3, 0, px(9.99), 500, px(10.01), 1000);
  }
  const fees = [null, venue(30, 100, 0.5), venue(30, 100, 0.5), venue(0, 100, 0.5)];

  it('routes nothing new while records from the fix stage remain unread, so a decision sees the freshest book', () => {
    const h = new SorHarness(fees, FEE_ONLY).up(1, 2, 3);
    book(h);
    h.step();
    // A batch and more of V1 quotes, its ask rising to 10.02; the request arrives meanwhile.
    for (let i = 1; i <= SOR_BATCH + 10; i++) h.quote(1, 0, px(9.99), 500, px(10) + (i === SOR_BATCH + 10 ? px(0.02) : 0), 300);
    h.request(Side.BUY, { qty: 100, price: px(10.05) });
    h.stage.doWork();
    h.out.poll(h.collector, 1 << 20);
    expect(children(h.collector.items)).toHaveLength(0);
    const c = children(h.step());
    expect(c).toHaveLength(1);
    // Routed after the last quote: V1 now asks 10.02, so V2 at 10.00 has the best price.
    expect(c[0]).toMatchObject({ venueId: 2, price: px(10) });
  });

  it('a marketable limit is priced at the NBBO, not its limit, and never sent to a venue away from it', () => {
    const h = new SorHarness(fees, FEE_ONLY).up(1, 2, 3);
    book(h);
    h.request(Side.BUY, { qty: 200, price: px(10.05) });
    const c = children(h.step());
    expect(c).toHaveLength(1);
    expect(c[0]).toMatchObject({ venueId: 1, price: px(10), qty: 200 });
    const a = h.audits()[0];
    expect(a.vExcluded(3)).toBe(VenueExclusion.AWAY_FROM_NBBO);
    expect(a.nbbAskTicks()).toBe(px(10));
    expect(a.nbbAskQty()).toBe(400);
  });

  it('a marketable DAY order sweeps level by level at the NBBO (IOC), then rests at its own limit', () => {
    const h = new SorHarness([null, SAME, SAME], PRICE_ONLY).up(1, 2);
    h.quote(1, 0, px(9.99), 100, px(10), 300).quote(2, 0, px(9.98), 100, px(10.05), 100);
    const o = h.request(Side.BUY, { qty: 500, price: px(10.02) });
    expect(children(h.step()).map(row)).toEqual([[1, 500, px(10), Tif.IOC]]);
    h.quote(1, 0, px(9.99), 100, px(10.01), 100);
    h.event(ChildEventKind.FILL, BASE + 1, o, 1, 300, px(10)).event(ChildEventKind.CANCELED, BASE + 1, o, 1, 0, 0, Reason.VENUE_CANCELED);
    expect(children(h.step()).map(row)).toEqual([[1, 200, px(10.01), Tif.IOC]]);
    h.quote(1, 0, px(9.99), 100, px(10.03), 100);
    h.event(ChildEventKind.FILL, BASE + 2, o, 1, 100, px(10.01)).event(ChildEventKind.CANCELED, BASE + 2, o, 1, 0, 0, Reason.VENUE_CANCELED);
    // Nothing displayed at or under 10.02 any more: the rest rests at the client's limit.
    expect(children(h.step()).map((c) => [c.qty, c.price, c.tif])).toEqual([[100, px(10.02), Tif.DAY]]);
    h.event(ChildEventKind.ACKED, BASE + 3, o, 1);
    expect(h.step()[0]).toMatchObject({ typeId: RecordType.ROUTE_DONE, childCount: 3, routedQty: 800 });
    expect(h.audits().map((a) => a.step())).toEqual([0, 1, 2]);
  });

  it('an IOC limit that missed because the quote moved is swept at the new NBBO; once passive, one IOC at its limit, then done', () => {
    const h = new SorHarness([null, SAME, SAME], PRICE_ONLY).up(1, 2);
    h.quote(1, 0, px(9.99), 100, px(10), 300).quote(2, 0, px(9.98), 100, px(10.05), 100);
    const o = h.request(Side.BUY, { qty: 100, price: px(10.02), tif: Tif.IOC });
    expect(children(h.step()).map(row)).toEqual([[1, 100, px(10), Tif.IOC]]);
    // The ask moved before the child arrived: nothing filled.
    h.quote(1, 0, px(9.99), 100, px(10.01), 100);
    h.event(ChildEventKind.CANCELED, BASE + 1, o, 1, 0, 0, Reason.VENUE_CANCELED);
    expect(children(h.step()).map(row)).toEqual([[1, 100, px(10.01), Tif.IOC]]);
    h.quote(1, 0, px(9.99), 100, px(10.03), 100);
    h.event(ChildEventKind.FILL, BASE + 2, o, 1, 40, px(10.01)).event(ChildEventKind.CANCELED, BASE + 2, o, 1, 0, 0, Reason.VENUE_CANCELED);
    // 10.03 and 10.05 are beyond the limit: one IOC at the client's 10.02 (the venue decides), no more.
    expect(children(h.step()).map(row)).toEqual([[1, 60, px(10.02), Tif.IOC]]);
    h.event(ChildEventKind.CANCELED, BASE + 3, o, 1, 0, 0, Reason.VENUE_CANCELED);
    expect(h.step()).toMatchObject([{ typeId: RecordType.ROUTE_DONE, orderId: o, childCount: 3, routedQty: 260 }]);
    expect(h.audits().map((a) => a.step())).toEqual([0, 1, 2]);
    expect(h.counters.get(SorCounter.REROUTES)).toBe(2);
  });

  it('an IOC child that missed, with no newer quote, takes that quote off the book: the rest goes to the next price, then rests at the client\'s limit', () => {
    const h = new SorHarness([null, SAME, SAME], PRICE_ONLY).up(1, 2);
    h.quote(1, 0, px(9.99), 100, px(10), 300).quote(2, 0, px(9.98), 100, px(10.01), 100);
    const o = h.request(Side.BUY, { qty: 100, price: px(10.02) });
    expect(children(h.step()).map(row)).toEqual([[1, 100, px(10), Tif.IOC]]);
    // V1 had less than it showed and no quote came since: 40 filled, the rest canceled.
    h.event(ChildEventKind.FILL, BASE + 1, o, 1, 40, px(10)).event(ChildEventKind.CANCELED, BASE + 1, o, 1, 0, 0, Reason.VENUE_CANCELED);
    expect(children(h.step()).map(row)).toEqual([[2, 60, px(10.01), Tif.IOC]]);
    h.event(ChildEventKind.CANCELED, BASE + 2, o, 2, 0, 0, Reason.VENUE_CANCELED);
    // No ask left that routing can trust: the rest rests at the client's 10.02, where a venue
    // whose real ask is at or under it fills it, never at a stale 10.00 under the market.
    expect(children(h.step()).map(row)).toEqual([[1, 60, px(10.02), Tif.DAY]]);
    expect(h.counters.get(SorCounter.QUOTES_CONSUMED)).toBe(2);
    const a = h.audits();
    expect(a.map((x) => x.nbbAskTicks())).toEqual([px(10), px(10.01), 0]);
    // The venue's next quote puts its side back.
    h.quote(1, 0, px(9.99), 100, px(10.01), 100);
    h.request(Side.BUY, { qty: 50, price: px(10.02) });
    expect(children(h.step()).map(row)).toEqual([[1, 50, px(10.01), Tif.IOC]]);
  });

  it('the same for a sell (its bid taken off); a quote received after the decision stands', () => {
    const h = new SorHarness([null, SAME, SAME], PRICE_ONLY).up(1, 2);
    h.quote(1, 0, px(10), 200, px(10.01), 100);
    const o = h.request(Side.SELL, { qty: 100, price: px(9.98) });
    expect(children(h.step())).toMatchObject([{ venueId: 1, price: px(10), tif: Tif.IOC }]);
    h.event(ChildEventKind.CANCELED, BASE + 1, o, 1, 0, 0, Reason.VENUE_CANCELED);
    expect(children(h.step())).toMatchObject([{ venueId: 1, qty: 100, price: px(9.98), tif: Tif.DAY }]);
    expect(h.counters.get(SorCounter.QUOTES_CONSUMED)).toBe(1);
    h.quote(1, 0, px(9.9), 200, px(10.01), 100);
    // A bid of 10.00 received after the IOC was decided stands: the venue quoted after the miss.
    const o2 = h.request(Side.SELL, { qty: 10, price: px(9.9) });
    expect(children(h.step())).toMatchObject([{ venueId: 1, price: px(9.9), tif: Tif.IOC }]);
    h.quote(1, 0, px(10), 200, px(10.01), 100);
    h.event(ChildEventKind.CANCELED, BASE + 3, o2, 1, 0, 0, Reason.VENUE_CANCELED);
    expect(children(h.step())).toMatchObject([{ venueId: 1, qty: 10, price: px(10), tif: Tif.IOC }]);
    expect(h.counters.get(SorCounter.QUOTES_CONSUMED)).toBe(1);
  });

  it('a market order that missed is swept, never beyond its first collar price, at most maxSteps decisions', () => {
    const h = new SorHarness([null, SAME, SAME], PRICE_ONLY, { collarBps: 50, maxSteps: 3 }).up(1, 2);
    h.quote(1, 0, px(9.99), 100, px(10), 300);
    const o = h.request(Side.BUY, { ordType: OrdType.MARKET, qty: 50 });
    const seen: [number, number][] = [];
    for (const [i, nextAsk] of [px(10.02), px(10.04), px(10.04)].entries()) {
      const c = children(h.step());
      expect(c).toHaveLength(1);
      expect(c[0]).toMatchObject({ qty: 50, ordType: OrdType.LIMIT });
      seen.push([c[0].price, c[0].tif]);
      h.quote(1, 0, px(9.99), 100, nextAsk, 300);
      h.event(ChildEventKind.CANCELED, BASE + 1 + i, o, 1, 0, 0, Reason.VENUE_CANCELED);
    }
    // 10 + 50 bp = 10.05; the asks of 10.02 and 10.04 would give 10.07 and 10.09: capped at 10.05.
    expect(seen).toEqual([[px(10.05), Tif.IOC], [px(10.05), Tif.IOC], [px(10.05), Tif.IOC]]);
    expect(h.step()).toMatchObject([{ typeId: RecordType.ROUTE_DONE, orderId: o, childCount: 3 }]);
    // The market ran past the first collar: one IOC at it (the venue decides), then done.
    const o2 = h.request(Side.BUY, { ordType: OrdType.MARKET, qty: 50 });
    expect(children(h.step())).toMatchObject([{ price: px(10.09), tif: Tif.IOC }]);
    h.quote(1, 0, px(10.19), 100, px(10.2), 300);
    h.event(ChildEventKind.CANCELED, BASE + 4, o2, 1, 0, 0, Reason.VENUE_CANCELED);
    expect(children(h.step())).toMatchObject([{ price: px(10.09), tif: Tif.IOC }]);
    h.event(ChildEventKind.CANCELED, BASE + 5, o2, 1, 0, 0, Reason.VENUE_CANCELED);
    expect(h.step()).toMatchObject([{ typeId: RecordType.ROUTE_DONE, orderId: o2, childCount: 2 }]);
  });

  it('a FOK, limit or market, is one all-or-none attempt: whole to one venue, never swept', () => {
    const h = new SorHarness([null, SAME, SAME], PRICE_ONLY, { mode: SorMode.SPLIT, collarBps: 50 }).up(1, 2);
    h.quote(1, 0, px(9.99), 30, px(10), 30).quote(2, 0, px(9.99), 30, px(10), 30);
    const fok = h.request(Side.BUY, { qty: 50, price: px(20), tif: Tif.FOK });
    expect(children(h.step())).toMatchObject([{ qty: 50, tif: Tif.FOK }]);
    h.event(ChildEventKind.CANCELED, BASE + 1, fok, 1, 0, 0, Reason.VENUE_CANCELED);
    expect(h.step()).toMatchObject([{ typeId: RecordType.ROUTE_DONE, orderId: fok, childCount: 1 }]);
    const mkt = h.request(Side.BUY, { ordType: OrdType.MARKET, qty: 50, tif: Tif.FOK });
    expect(children(h.step())).toMatchObject([{ qty: 50, tif: Tif.FOK, price: px(10.05) }]);
    h.event(ChildEventKind.CANCELED, BASE + 2, mkt, 1, 0, 0, Reason.VENUE_CANCELED);
    expect(h.step()).toMatchObject([{ typeId: RecordType.ROUTE_DONE, orderId: mkt, childCount: 1 }]);
  });

  it('a passive limit keeps its price and every venue competes (fee weight picks V3)', () => {
    const h = new SorHarness(fees, FEE_ONLY).up(1, 2, 3);
    book(h);
    h.request(Side.BUY, { qty: 200, price: px(9.95) });
    expect(children(h.step())[0]).toMatchObject({ venueId: 3, price: px(9.95) });
  });

  it('a market order becomes an IOC limit at the collar (NBB ask + 50 bp, to the tick); no NBBO -> NO_MARKET_REFERENCE', () => {
    const h = new SorHarness(fees, FEE_ONLY, { collarBps: 50 }).up(1, 2, 3);
    h.request(Side.BUY, { ordType: OrdType.MARKET });
    expect(h.step()[0]).toMatchObject({ typeId: RecordType.ROUTE_DONE, childCount: 0, reason: Reason.NO_MARKET_REFERENCE });
    book(h);
    h.request(Side.BUY, { ordType: OrdType.MARKET, qty: 50 });
    h.request(Side.SELL, { ordType: OrdType.MARKET, qty: 50 });
    const c = children(h.step());
    expect(c[0]).toMatchObject({ price: px(10.05), tif: Tif.IOC, ordType: OrdType.LIMIT });
    // 9.99 - floor(9.99 * 0.005 ticks) = 9.94005 -> rounded up to the tick: 9.95.
    expect(c[1]).toMatchObject({ price: px(9.95), tif: Tif.IOC });
    // The audit keeps the decision's own input: no limit on a market order's first step (the
    // collar caps only its later steps).
    expect(h.audits().slice(-2).map((a) => [a.ordType(), a.limitTicks(), a.childPxTicks()])).toEqual([[OrdType.MARKET, 0, px(10.05)], [OrdType.MARKET, 0, px(9.95)]]);
  });

  it('crossed and stale quotes are excluded; the NBBO ignores them', () => {
    const h = new SorHarness([null, SAME, SAME, SAME], PRICE_ONLY, { quoteStaleNs: 100 * MS }).up(1, 2, 3);
    h.quote(1, 0, px(10.02), 100, px(10), 100); // crossed
    h.quote(2, 0, px(9.9), 100, px(9.95), 100, h.clock.nowNs() - 200 * MS); // stale
    h.quote(3, 0, px(9.99), 100, px(10.03), 100);
    h.request(Side.BUY, { qty: 100, price: px(10.1) });
    const c = children(h.step());
    expect(c[0]).toMatchObject({ venueId: 3, price: px(10.03) });
    const a = h.audits()[0];
    expect([a.vExcluded(1), a.vExcluded(2), a.vExcluded(3)]).toEqual([VenueExclusion.CROSSED, VenueExclusion.STALE, VenueExclusion.NONE]);
    expect(a.nbbAskTicks()).toBe(px(10.03));
    expect(h.stage.book.crossedQuotes).toBe(1);
  });
});

describe('SorStage: split', () => {
  it('shares proportional to score x displayed size at the touch, capped by size; rounding rest to the top', () => {
    const h = new SorHarness([null, SAME, SAME, SAME], PRICE_ONLY, { mode: SorMode.SPLIT }).up(1, 2, 3);
    h.quote(1, 0, px(9.99), 500, px(10), 300).quote(2, 0, px(9.98), 500, px(10), 100).quote(3, 0, px(9.99), 500, px(10.01), 1000);
    h.request(Side.BUY, { qty: 400, price: px(10.02) });
    const c = children(h.step());
    expect(c.map((x) => [x.venueId, x.qty, x.price])).toEqual([[1, 300, px(10)], [2, 100, px(10)]]);
    h.request(Side.BUY, { qty: 7, price: px(10.02) });
    // 7 * 300/400 = 5.25 -> 5; 7 * 100/400 = 1.75 -> 1; the 1 left goes to the top (V1).
    expect(children(h.step()).map((x) => [x.venueId, x.qty])).toEqual([[1, 6], [2, 1]]);
  });

  it('each CHILD_NEW is written after its decision\'s audit and marked with it: fix sends it once that audit is in the journal', () => {
    const h = new SorHarness([null, SAME, SAME, SAME], PRICE_ONLY, { mode: SorMode.SPLIT }).up(1, 2, 3);
    h.quote(1, 0, px(9.99), 500, px(10), 300).quote(2, 0, px(9.98), 500, px(10), 100);
    const first = h.request(Side.BUY, { qty: 400, price: px(10.02) });
    h.request(Side.BUY, { qty: 50, price: px(9) }); // passive: one more decision, its own audit
    const out = children(h.step());
    h.event(ChildEventKind.REJECTED, BASE + 1, first, 1, 0, 0, Reason.VENUE_REJECT); // re-routed: a third audit
    out.push(...children(h.step()));
    const audits = h.audits();
    expect(audits).toHaveLength(3);
    for (const c of out) {
      // The mark counts the audits written so far, its own decision's last: that audit names the child.
      const named = audits[c.journalMark - 1];
      expect(named.orderId()).toBe(c.orderId);
      expect(named.vChildId(c.venueId)).toBe(c.childId);
      expect(named.vChildQty(c.venueId)).toBe(c.qty);
    }
    // Two children of the marketable order, two of the passive one (split by score), one re-route.
    expect(out.map((c) => c.journalMark)).toEqual([1, 1, 2, 2, 3]);
  });

  it('a split decision with room for only some of its children routes them and counts once, as routed', () => {
    const h = new SorHarness([null, SAME, SAME], PRICE_ONLY, { mode: SorMode.SPLIT, childCapacity: 1 }).up(1, 2);
    h.quote(1, 0, px(9.99), 500, px(10), 300).quote(2, 0, px(9.98), 500, px(10), 100);
    const orderId = h.request(Side.BUY, { qty: 400, price: px(10.02) });
    const out = h.step();
    // One child slot: V1's child is claimed, V2's is not; the decision sent a child.
    expect(children(out).map((x) => [x.venueId, x.qty])).toEqual([[1, 300]]);
    expect([h.counters.get(SorCounter.DECISIONS_ROUTED), h.counters.get(SorCounter.UNROUTABLE), h.counters.get(SorCounter.AUDITS)]).toEqual([1, 0, 1]);
    const audit = h.audits()[0];
    expect([audit.vChildQty(1), audit.vChildQty(2)]).toEqual([300, 0]);
    // Not everything was routed, and the audit says why; the refused child is counted.
    expect(audit.reason()).toBe(Reason.CHILD_TABLE_FULL);
    expect(h.counters.get(SorCounter.CHILD_TABLE_FULL)).toBe(1);
    h.event(ChildEventKind.FILL, BASE + 1, orderId, 1, 300, px(10));
    expect(h.step()).toContainEqual(expect.objectContaining({ typeId: RecordType.ROUTE_DONE, orderId, routedQty: 300, childCount: 1, reason: Reason.NONE }));
  });

  it('a passive order with nothing displayed splits by score alone', () => {
    const h = new SorHarness([null, venue(10, 100, 0.5), venue(10, 300, 0.5)], LATENCY_ONLY, { mode: SorMode.SPLIT }).up(1, 2);
    h.request(Side.SELL, { qty: 400 });
    // scores 1 and 1/3: 300 and 100.
    expect(children(h.step()).map((x) => [x.venueId, x.qty])).toEqual([[1, 300], [2, 100]]);
  });

  it('a FOK order goes whole to one venue even in split mode', () => {
    const h = new SorHarness([null, SAME, SAME], PRICE_ONLY, { mode: SorMode.SPLIT }).up(1, 2);
    h.request(Side.SELL, { qty: 400, tif: Tif.FOK });
    const c = children(h.step());
    expect(c.map((x) => [x.venueId, x.qty, x.tif])).toEqual([[1, 400, Tif.FOK]]);
  });
});

describe('SorStage: staged with time-based fallback (ManualClock)', () => {
  it('cancels the primary after the delay and sends the unfilled rest to the next venue; the last stage rests', () => {
    const h = new SorHarness([null, venue(10, 100, 0.5), venue(10, 200, 0.5), venue(10, 300, 0.5)], LATENCY_ONLY, {
      mode: SorMode.STAGED, stagedFallbackNs: 50 * MS, maxSteps: 3,
    }).up(1, 2, 3);
    const orderId = h.request(Side.BUY, { qty: 300, price: px(9.5) });
    expect(children(h.step())[0]).toMatchObject({ venueId: 1, qty: 300, tif: Tif.DAY });
    h.event(ChildEventKind.ACKED, BASE + 1, orderId, 1);
    h.clock.advanceNs(49 * MS);
    expect(h.step()).toEqual([]);
    h.clock.advanceNs(1 * MS);
    const cancel = h.step();
    expect(cancel.map((o) => [o.typeId, o.childId, o.venueId])).toEqual([[RecordType.CHILD_CANCEL, BASE + 1, 1]]);
    h.event(ChildEventKind.FILL, BASE + 1, orderId, 1, 100, px(9.5));
    h.event(ChildEventKind.CANCELED, BASE + 1, orderId, 1, 0, 0, Reason.VENUE_CANCELED);
    const second = h.step();
    expect(second.map((o) => [o.typeId, o.venueId, o.qty])).toEqual([[RecordType.CHILD_NEW, 2, 200]]);
    h.event(ChildEventKind.ACKED, BASE + 2, orderId, 2);
    h.clock.advanceNs(50 * MS);
    expect(h.step().map((o) => [o.typeId, o.childId])).toEqual([[RecordType.CHILD_CANCEL, BASE + 2]]);
    h.event(ChildEventKind.CANCELED, BASE + 2, orderId, 2, 0, 0, Reason.VENUE_CANCELED);
    expect(children(h.step())[0]).toMatchObject({ venueId: 3, qty: 200 });
    // The third venue is the last stage: no fallback; its ack ends the route.
    h.event(ChildEventKind.ACKED, BASE + 3, orderId, 3);
    const done = h.step();
    expect(done[0]).toMatchObject({ typeId: RecordType.ROUTE_DONE, childCount: 3, routedQty: 700 });
    h.clock.advanceNs(500 * MS);
    expect(h.step()).toEqual([]);
    expect(h.audits().map((a) => [a.step(), a.qty()])).toEqual([[0, 300], [1, 200], [2, 200]]);
    expect(h.counters.get(SorCounter.STAGED_FALLBACKS)).toBe(2);
  });

  it('a fully filled primary needs no fallback; a client cancel stops the stages', () => {
    const h = new SorHarness([null, SAME, SAME], PRICE_ONLY, { mode: SorMode.STAGED, stagedFallbackNs: 10 * MS }).up(1, 2);
    const a = h.request(Side.BUY, { qty: 100 });
    h.step();
    h.event(ChildEventKind.ACKED, BASE + 1, a, 1).event(ChildEventKind.FILL, BASE + 1, a, 1, 100, px(10));
    expect(kinds(h.step())).toEqual([RecordType.ROUTE_DONE]);
    h.clock.advanceNs(20 * MS);
    expect(h.step()).toEqual([]);
    const b = h.request(Side.BUY, { qty: 100 });
    h.step();
    h.event(ChildEventKind.ACKED, BASE + 2, b, 1);
    const body = h.childCancel(BASE + 2);
    const fwd = h.step();
    expect(fwd).toHaveLength(1);
    expect(Array.from(fwd[0].raw)).toEqual(Array.from(body));
    h.event(ChildEventKind.CANCELED, BASE + 2, b, 1, 0, 0, Reason.VENUE_CANCELED);
    expect(h.step().map((o) => [o.typeId, o.childCount])).toEqual([[RecordType.ROUTE_DONE, 1]]);
  });

  it('an IOC order sweeps venue after venue without waiting', () => {
    const h = new SorHarness([null, SAME, SAME, SAME], PRICE_ONLY, { mode: SorMode.STAGED }).up(1, 2, 3);
    const o = h.request(Side.SELL, { qty: 100, tif: Tif.IOC });
    h.step();
    h.event(ChildEventKind.FILL, BASE + 1, o, 1, 30, px(10)).event(ChildEventKind.CANCELED, BASE + 1, o, 1, 0, 0, Reason.VENUE_CANCELED);
    expect(children(h.step())[0]).toMatchObject({ venueId: 2, qty: 70, tif: Tif.IOC });
  });
});

describe('SorStage: learned statistics', () => {
  it('ack round trips move the latency EWMA and change the decision; fills move the fill probability', () => {
    const h = new SorHarness([null, venue(10, 100, 0.5), venue(10, 600, 0.5)], LATENCY_ONLY, { statsAlpha: 0.5 }).up(1, 2);
    const chosen: number[] = [];
    for (let i = 0; i < 3; i++) {
      const o = h.request(Side.BUY, { qty: 10 });
      const c = children(h.step())[0];
      chosen.push(c.venueId);
      h.event(ChildEventKind.SENT, c.childId, o, c.venueId);
      h.clock.advanceNs(1_000_000); // 1000 us round trip
      h.event(ChildEventKind.ACKED, c.childId, o, c.venueId).event(ChildEventKind.FILL, c.childId, o, c.venueId, i === 2 ? 5 : 10, px(10));
      if (i === 2) h.event(ChildEventKind.CANCELED, c.childId, o, c.venueId, 0, 0, Reason.VENUE_CANCELED);
      h.step();
    }
    // V1: 100 -> 550 (still below V2's 600) -> 775 (above): the third order goes to V2.
    expect(chosen).toEqual([1, 1, 2]);
    expect(h.stage.stats.latencyUs[1]).toBe(775);
    expect(h.stage.stats.latencyUs[2]).toBe(800);
    expect(h.stage.stats.latencySamples[1]).toBe(2);
    // Fill probability: V1 filled whole twice (0.5 -> 0.75 -> 0.875); V2 half (0.5 -> 0.5).
    expect(h.stage.stats.fillProb[1]).toBe(0.875);
    expect(h.stage.stats.fillProb[2]).toBe(0.5);
    h.request(Side.BUY, { qty: 10 });
    expect(children(h.step())[0].venueId).toBe(1);
    const last = h.audits().at(-1)!;
    expect(last.vLatencyUs(1)).toBe(775);
    expect(last.vLatencyScore(2)).toBeCloseTo(775 / 800, 12);
  });
});

describe('SorStage: configuration at runtime', () => {
  it('SOR_CONFIG changes weights and mode for the next order, and the audit records the version', () => {
    const h = new SorHarness([null, venue(10, 100, 0.5), venue(0, 300, 0.5)], LATENCY_ONLY).up(1, 2);
    h.request(Side.BUY);
    expect(children(h.step())[0].venueId).toBe(1);
    h.sorConfig(4, FEE_ONLY, 2000, SorMode.SPLIT);
    h.request(Side.BUY);
    // Split by score alone (fees 10 and 0: scores 1/11 and 1): 8 and 91, the 1 left to the top.
    expect(children(h.step()).map((c) => [c.venueId, c.qty])).toEqual([[1, 8], [2, 92]]);
    const a = h.audits().at(-1)!;
    expect([a.configVersion(), a.mode(), a.feeWeight()]).toEqual([4, SorMode.SPLIT, 1_000_000]);
    expect(h.counters.get(SorCounter.CONFIG_VERSION)).toBe(4);
  });
});

describe('SorStage: audit completeness', () => {
  it('every decision has an audit record (journal and ingest copies) from which deciding again gives the same scores and children', () => {
    const venues = [null, venue(10, 100, 0.6, 0, 1), venue(25, 80, 0.7, 0, 10), venue(0, 300, 0.4, 50, 1), venue(5, 150, 0.9, 0, 1)];
    const h = new SorHarness(venues, MIXED, { disallowed: new Map([[3, [2]]]) }).up(1, 2, 3, 4);
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const orders: number[] = [];
    for (let i = 0; i < 300; i++) {
      const v = 1 + rnd(4);
      const mid = 1000 + rnd(20);
      h.quote(v, 0, px(mid / 100 - 0.01), 100 * (1 + rnd(5)), px(mid / 100 + 0.01), 100 * (1 + rnd(5)));
      if (i % 40 === 0) h.sorConfig(i, i % 80 === 0 ? MIXED : PRICE_ONLY, 1000, rnd(3));
      orders.push(h.request(rnd(2) === 0 ? Side.BUY : Side.SELL, {
        qty: 1 + rnd(900), price: px(10 + (rnd(40) - 20) / 100), account: 1 + rnd(4),
        ordType: rnd(5) === 0 ? OrdType.MARKET : OrdType.LIMIT, tif: rnd(3) === 0 ? Tif.IOC : Tif.DAY,
      }));
      h.clock.advanceNs(3 * MS);
      h.step();
    }
    const audits = h.audits();
    expect(new Set(audits.map((a) => a.orderId()))).toEqual(new Set(orders));
    expect(h.ingestCollector.audits.map((r) => Array.from(r))).toEqual(h.auditCollector.audits.map((r) => Array.from(r)));
    const sent = new Map<number, number>();
    for (const c of children(h.collector.items)) sent.set(c.childId, c.qty);
    const f = new RouteFeatures(5);
    for (const a of audits) {
      const w = auditToFeatures(a, f);
      decide(f, w, a.mode(), 50, 10_000);
      for (let v = 1; v <= 4; v++) {
        expect(f.score[v]).toBe(a.vScore(v));
        expect(f.childQty[v]).toBe(a.vChildQty(v));
        if (a.vChildQty(v) > 0) expect(sent.get(a.vChildId(v))).toBe(a.vChildQty(v));
      }
      expect(f.routedQty).toBe(a.routedQty());
      expect(f.childPx < 0 ? 0 : f.childPx).toBe(a.childPxTicks());
    }
    expect(h.counters.get(SorCounter.AUDITS)).toBe(audits.length);
  });
});
