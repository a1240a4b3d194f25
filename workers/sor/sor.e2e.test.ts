/**
 * Goal: routing works end to end on the real stack: venue simulators (separate processes, one
 * seeded market) publish their top of book as FIX 35=W, the engine turns it into QUOTEs for the
 * SOR, a marketable order is routed at the NBBO and fills, its decision is readable at
 * GET /v1/orders/{id}/route (owner and admins only), and the admin API switches the routing mode
 * for the next order. No timing is asserted: every wait polls with a timeout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../test-stack.fixture.ts';
import { connect } from '../ws-client.fixture.ts';

let t0: TestStack;
let base: string;
const KEY1 = 'demo-key-trader1';
const KEY2 = 'demo-key-trader2';
const ADMIN = 'demo-key-admin';
const headers = (key: string) => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json' });

async function health(): Promise<{ stages: Record<string, { counters: Record<string, number> }> }> {
  return (await (await fetch(`http://${base}/health`)).json()) as { stages: Record<string, { counters: Record<string, number> }> };
}

async function until<T>(what: string, f: () => Promise<T | undefined>): Promise<T> {
  // The deadline only guards against a hang: stages parked for up to idle.maxSleepMs on a loaded machine take their time.
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const v = await f();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeAll(async () => {
  // Parks of up to a second: ingest's sleep bound does not drain the SOR's audits for it while a test looks.
  t0 = await startTestStack({ idle: { kind: 'park', spins: 0, maxSleepMs: 1000 } }, 11);
  base = t0.base;
}, 60_000);

afterAll(async () => {
  await t0?.cleanup();
});

describe('SOR end to end', () => {
  it('a resting order\'s decision is in GET /v1/orders/{id}/route as soon as its child is at the venue (the route drains the SOR\'s quiet ring)', async () => {
    // First in the file: no position is open yet, so no re-mark of one wakes ingest meanwhile.
    const t = await connect(`ws://${base}/v1/ws?token=${KEY1}`);
    const sent0 = (await health()).stages.fix.counters.CHILDREN_SENT;
    t.send({ type: 'new', clOrdId: 'sor-e2e-rest', symbol: 'AAPL', side: 'BUY', qty: 10, price: '1.00', ordType: 'LIMIT', tif: 'DAY' });
    const ack = await t.next((m) => m.clOrdId === 'sor-e2e-rest' && m.type === 'ack');
    await until('the child sent', async () => ((await health()).stages.fix.counters.CHILDREN_SENT > sent0 ? true : undefined));
    // One look, no retry: the SOR published the audit to ingest before the journal's copy, which the child waited for.
    const r = await fetch(`http://${base}/v1/orders/${ack.orderId}/route`, { headers: headers(KEY1) });
    expect(r.status).toBe(200);
    const route = (await r.json()) as Record<string, any>;
    expect(route.decisions[0].inputFeatures).toMatchObject({ symbol: 'AAPL', side: 'BUY', parentQty: 10, limitPrice: '1' });
    t.send({ type: 'cancel', clOrdId: 'sor-e2e-rest-c', origClOrdId: 'sor-e2e-rest' });
    await t.next((m) => m.orderId === ack.orderId && m.status === 'CANCELED');
    t.ws.close();
  });

  it('venue quotes reach the SOR; a marketable order is routed at the NBBO, fills, and its decision is audited', async () => {
    const venues = t0.config.venues.length;
    const symbols = t0.config.symbols.length;
    await until('quotes from every venue', async () => {
      const h = await health();
      return h.stages.sor.counters.QUOTES >= venues * symbols && h.stages.fix.counters.MD_SNAPSHOTS >= venues * symbols ? true : undefined;
    });
    const t = await connect(`ws://${base}/v1/ws?token=${KEY1}`);
    t.send({ type: 'new', clOrdId: 'sor-e2e-1', symbol: 'AAPL', side: 'BUY', qty: 50, price: '195', ordType: 'LIMIT', tif: 'IOC' });
    const ack = await t.next((m) => m.clOrdId === 'sor-e2e-1' && m.type === 'ack');
    const orderId = Number(ack.orderId);
    await t.next((m) => m.clOrdId === 'sor-e2e-1' && (m.type === 'fill' || m.status === 'FILLED' || m.status === 'PARTIALLY_FILLED' || m.status === 'CANCELED'));
    const route = await until('the route audit', async () => {
      const r = await fetch(`http://${base}/v1/orders/${orderId}/route`, { headers: headers(KEY1) });
      return r.status === 200 ? ((await r.json()) as Record<string, any>) : undefined;
    });
    expect(route.orderId).toBe(String(orderId));
    const d = route.decisions[0];
    expect(d.mode).toBe('SINGLE_BEST');
    expect(d.inputFeatures).toMatchObject({ symbol: 'AAPL', side: 'BUY', parentQty: 50, limitPrice: '195' });
    expect(d.venues).toHaveLength(venues);
    expect(d.venues.every((v: any) => v.features.price !== null)).toBe(true);
    expect(d.chosenRoutes.length).toBeGreaterThan(0);
    // Trade-through protection: every child carries the NBB ask, not the client's 195.
    for (const c of d.chosenRoutes) expect(c.price).toBe(d.inputFeatures.nbbo.ask);
    expect(Number(d.inputFeatures.nbbo.ask)).toBeLessThan(195);
    // Account isolation: another trader cannot see it, an admin can.
    expect((await fetch(`http://${base}/v1/orders/${orderId}/route`, { headers: headers(KEY2) })).status).toBe(404);
    expect((await fetch(`http://${base}/v1/orders/${orderId}/route`, { headers: headers(ADMIN) })).status).toBe(200);
    t.ws.close();
  });

  it('the admin API switches the mode for the next order, and the audit records the new version', async () => {
    const post = await fetch(`http://${base}/v1/admin/sor/config`, { method: 'POST', headers: headers(ADMIN), body: JSON.stringify({ mode: 'SPLIT' }) });
    expect(post.status).toBe(200);
    const bad = await fetch(`http://${base}/v1/admin/sor/config`, { method: 'POST', headers: headers(ADMIN), body: JSON.stringify({ mode: 'RANDOM' }) });
    expect(bad.status).toBe(400);
    await until('the new version at the SOR', async () => ((await health()).stages.sor.counters.CONFIG_VERSION >= 1 ? true : undefined));
    const t = await connect(`ws://${base}/v1/ws?token=${KEY1}`);
    t.send({ type: 'new', clOrdId: 'sor-e2e-2', symbol: 'MSFT', side: 'SELL', qty: 30, price: '300', ordType: 'LIMIT', tif: 'IOC' });
    const ack = await t.next((m) => m.clOrdId === 'sor-e2e-2' && m.type === 'ack');
    const route = await until('the route audit', async () => {
      const r = await fetch(`http://${base}/v1/orders/${ack.orderId}/route`, { headers: headers(KEY1) });
      return r.status === 200 ? ((await r.json()) as Record<string, any>) : undefined;
    });
    expect(route.decisions[0].mode).toBe('SPLIT');
    expect(route.decisions[0].configVersion).toBeGreaterThanOrEqual(1);
    t.ws.close();
  });
});
