// Goal: ingest's route view serves each order's decisions as the SOR recorded them (features,
// scores, exclusions, chosen routes, weights, version), to the order's account or an admin only,
// and forgets the oldest orders beyond its capacity. Method: real audit records made by the SOR
// (sor-harness.fixture.ts) delivered over a real ring into the view.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ChildEventKind, RouteAuditFlyweight, routeAuditLength } from '../../codecs/records.ts';
import { Side, Tif } from '../../engine/domain.ts';
import { RingConsumer, RingProducer, createRingMemory } from '../../engine/ring.ts';
import { BASE, SorHarness, px, venue } from '../sor/sor-harness.fixture.ts';
import { RouteAuditView } from './route-audit-view.ts';

function routed(orders: number) {
  const h = new SorHarness([null, venue(30, 300, 0.9), venue(20, 500, 0.85), venue(25, 400, 0.8)], { price: 0.5, latency: 0.2, fillprob: 0.2, fee: 0.1 }, {
    disallowed: new Map([[2, [3]]]),
  }).up(1, 2, 3);
  h.quote(1, 0, px(189.99), 300, px(190.01), 300).quote(2, 0, px(189.98), 200, px(190.02), 200);
  const ids: number[] = [];
  for (let i = 0; i < orders; i++) ids.push(h.request(Side.BUY, { qty: 50, price: px(195), tif: Tif.IOC, account: 1 + (i % 2) }));
  h.step();
  return { h, ids };
}

function view(capacity: number, bodies: Uint8Array[]): RouteAuditView {
  const mem = createRingMemory(1 << 20);
  const p = new RingProducer(mem, null);
  for (const b of bodies) {
    const at = p.tryClaim(22, b.length);
    p.bytes.set(b, at);
  }
  p.commit();
  const v = new RouteAuditView(new RingConsumer(mem), capacity, routeAuditLength(3), ['', 'V1', 'V2', 'V3'], ['AAPL', 'MSFT']);
  while (v.drain() > 0);
  return v;
}

describe('RouteAuditView', () => {
  it('renders the decision: inputs, NBBO, per-venue features and scores, exclusions, chosen routes', () => {
    const { h, ids } = routed(2);
    const v = view(10, h.ingestCollector.audits);
    const doc = v.get(1, false, ids[0], 1_700_000_000_000) as any;
    expect(doc.orderId).toBe(String(ids[0]));
    const d = doc.decisions[0];
    expect(d).toMatchObject({ step: 0, mode: 'SINGLE_BEST', configVersion: 0, weights: { price: 0.5, latency: 0.2, fillprob: 0.2, fee: 0.1 }, routedQty: 50, reason: null });
    expect(d.inputFeatures).toEqual({ symbol: 'AAPL', side: 'BUY', ordType: 'LIMIT', tif: 'IOC', parentQty: 50, qty: 50, limitPrice: '195', nbbo: { bid: '189.99', bidQty: 300, ask: '190.01', askQty: 300 } });
    expect(d.venues.map((x: any) => [x.venue, x.excluded])).toEqual([['V1', null], ['V2', 'AWAY_FROM_NBBO'], ['V3', 'STALE']]);
    expect(d.venues[0].scores.total).toBeGreaterThan(0);
    expect(d.venues[2].scores).toBeNull();
    expect(d.chosenRoutes).toEqual([{ venue: 'V1', qty: 50, childId: BASE + 1, price: '190.01', tif: 'IOC' }]);
    const other = v.get(2, false, ids[1], 0) as any;
    expect(other.decisions[0].venues[2].excluded).toBe('DISALLOWED');
  });

  it('get() answers with decisions still waiting in its ring (the SOR does not wake ingest for them: a quiet ring)', () => {
    const { h, ids } = routed(2);
    const mem = createRingMemory(1 << 20);
    const p = new RingProducer(mem, null);
    const v = new RouteAuditView(new RingConsumer(mem), 10, routeAuditLength(3), ['', 'V1', 'V2', 'V3'], ['AAPL', 'MSFT']);
    for (const b of h.ingestCollector.audits) p.bytes.set(b, p.tryClaim(22, b.length));
    p.commit();
    // No duty cycle drained the ring: the answer does.
    expect((v.get(1, false, ids[0], 0) as any).decisions[0].chosenRoutes).toHaveLength(1);
    expect(v.get(2, false, ids[1], 0)).toBeDefined();
    expect(v.drain()).toBe(0);
  });

  it('account isolation: another account sees nothing, an admin sees every order', () => {
    const { h, ids } = routed(2);
    const v = view(10, h.ingestCollector.audits);
    expect(v.get(2, false, ids[0], 0)).toBeUndefined();
    expect(v.get(2, true, ids[0], 0)).toBeDefined();
    expect(v.get(1, false, 999, 0)).toBeUndefined();
  });

  it('keeps every decision of an order (re-routes) and forgets the oldest orders beyond capacity', () => {
    const { h, ids } = routed(5);
    h.event(ChildEventKind.REJECTED, BASE + 5, ids[4], 1, 0, 0, 400);
    h.step();
    const v = view(3, h.ingestCollector.audits);
    expect(v.evicted).toBe(2);
    expect(v.get(1, true, ids[0], 0)).toBeUndefined();
    const last = v.get(1, true, ids[4], 0) as any;
    expect(last.decisions.map((d: any) => d.step)).toEqual([0, 1]);
    expect(last.decisions[1].venues[0].excluded).toBe('TRIED');
  });

  // Invariant against a model (a Map of every decision per order): whatever the sequence of
  // orders and re-routes, the view returns, for each order id it still knows, exactly that
  // order's newest decisions in arrival order, none skipped; it always knows the order of the last
  // decision; it never holds more
  // than `capacity` orders; and it drains the ring with constant work per record.
  it('property: a known order shows its newest decisions, in order, none skipped; the last one routed is always known', () => {
    const { h } = routed(1);
    const template = h.ingestCollector.audits[0];
    const length = routeAuditLength(3);
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 12 }),
      fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 3 })), { minLength: 1, maxLength: 200 }),
      (capacity, steps) => {
        const mem = createRingMemory(1 << 20);
        const p = new RingProducer(mem, null);
        const v = new RouteAuditView(new RingConsumer(mem), capacity, length, ['', 'V1', 'V2', 'V3'], ['AAPL', 'MSFT']);
        const model = new Map<number, number[]>();
        let nextOrder = 1;
        let seq = 0;
        let lastOrder = 0;
        for (const [newOrder, back] of steps) {
          // A new order, or a re-route of one of the last few orders.
          const orderId = newOrder || nextOrder === 1 ? nextOrder++ : Math.max(1, nextOrder - 1 - back);
          const at = p.tryClaim(22, template.length);
          p.bytes.set(template, at);
          // The decision time carries a sequence number the model checks.
          new RouteAuditFlyweight().wrap(p.view, p.bytes, at).setOrderId(orderId).setDecisionTimeNs(++seq * 1e6);
          p.commit();
          while (v.drain() > 0);
          const list = model.get(orderId) ?? [];
          list.push(seq);
          model.set(orderId, list);
          lastOrder = orderId;
        }
        let known = 0;
        for (const [orderId, seqs] of model) {
          const doc = v.get(1, true, orderId, 0) as any;
          if (doc === undefined) continue;
          known++;
          const got = doc.decisions.map((d: any) => Date.parse(d.decidedAt));
          // What it shows is the newest decisions of that order, oldest first, none missing in between.
          expect(got).toEqual(seqs.slice(seqs.length - got.length));
        }
        expect(known).toBeLessThanOrEqual(capacity);
        expect(v.get(1, true, lastOrder, 0)).toBeDefined();
        expect(v.received).toBe(steps.length);
      },
    ), { seed: 20261121, numRuns: 300 });
  });
});
