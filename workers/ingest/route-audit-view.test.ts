// Goal: ingest's route view serves each order's decisions as the SOR recorded them (features,
// scores, exclusions, chosen routes, weights, version), to the order's account or an admin only,
// and forgets the oldest orders beyond its capacity. Method: real audit records made by the SOR
// (sor-harness.fixture.ts) delivered over a real ring into the view.
import { describe, expect, it } from 'vitest';
import { ChildEventKind } from '../../codecs/records.ts';
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
  const v = new RouteAuditView(new RingConsumer(mem), capacity, ['', 'V1', 'V2', 'V3'], ['AAPL', 'MSFT']);
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
});
