/**
 * Goal: in the running engine, venue market data reaches risk (QUOTE records on the fix -> risk
 * ring), positions are marked from it (GET /v1/positions carries markPx and unrealizedPnl), and a
 * collar set at runtime by an admin refuses a far-off price against that live reference while a
 * price near it is accepted. No timing is asserted: every wait polls with a timeout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../test-stack.fixture.ts';
import { connect, type Msg } from '../ws-client.fixture.ts';

const KEY1 = 'demo-key-trader1';
const ADMIN = 'demo-key-admin';
let t0: TestStack;
let base: string;
const headers = (key: string) => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json' });

async function riskCounter(name: string): Promise<number> {
  const h = (await (await fetch(`http://${base}/health`)).json()) as { stages: { risk: { counters: Record<string, number> } } };
  return h.stages.risk.counters[name];
}

/** Polls probe until it answers; the limit is a time, and only guards against a hang (it was 400 looks, about 10 s). */
async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  for (const end = Date.now() + 30_000; Date.now() < end;) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeAll(async () => {
  t0 = await startTestStack({}, 66);
  base = t0.base;
});

afterAll(async () => {
  await t0?.cleanup();
});

describe('risk in the running engine', () => {
  it('venue quotes reach risk; a filled position is marked with markPx and unrealizedPnl', async () => {
    await until('quotes at risk', async () => ((await riskCounter('QUOTES')) > 0 ? true : undefined));
    const t = await connect(`ws://${base}/v1/ws?token=${KEY1}`);
    // DAY, not IOC: should every sweep step miss a moving quote, the rest rests as a DAY child and fills.
    t.send({ type: 'new', clOrdId: 'mk-1', symbol: 'AAPL', side: 'BUY', qty: 10, price: '190', ordType: 'LIMIT', tif: 'DAY' });
    const fill = await t.next((m) => m.clOrdId === 'mk-1' && m.type === 'execution' && (m.execType === 'FILL' || m.execType === 'PARTIAL_FILL'), 10_000);
    expect(Number(fill.lastQty)).toBeGreaterThan(0);
    const pos = await until('a marked AAPL position', async () => {
      const body = (await (await fetch(`http://${base}/v1/positions`, { headers: headers(KEY1) })).json()) as { positions: Msg[] };
      return body.positions.find((p) => p.symbol === 'AAPL' && p.markPx !== null && p.markPx !== undefined);
    });
    expect(pos.markPx).toMatch(/^\d+(\.\d{1,6})?$/);
    expect(Number(pos.markPx)).toBeGreaterThan(100);
    expect(Number(pos.markPx)).toBeLessThan(260);
    expect(pos.unrealizedPnl).toMatch(/^-?\d+(\.\d{1,6})?$/);
    t.ws.close();
  });

  it('an admin collar applies to the next order against the live reference price', async () => {
    const res = await fetch(`http://${base}/v1/admin/limits/TRADER1`, {
      method: 'POST', headers: headers(ADMIN),
      body: JSON.stringify({ symbols: { AAPL: { priceBandPct: '10', priceBandOutsidePct: '20' } } }),
    });
    expect(res.status).toBe(200);
    const t = await connect(`ws://${base}/v1/ws?token=${KEY1}`);
    t.send({ type: 'new', clOrdId: 'cl-far', symbol: 'AAPL', side: 'BUY', qty: 1, price: '400', ordType: 'LIMIT', tif: 'GTC' });
    expect((await t.next((m) => m.clOrdId === 'cl-far')).reasonName).toBe('PRICE_OUTSIDE_COLLAR');
    t.send({ type: 'new', clOrdId: 'cl-near', symbol: 'AAPL', side: 'BUY', qty: 1, price: '170', ordType: 'LIMIT', tif: 'GTC' });
    expect((await t.next((m) => m.clOrdId === 'cl-near')).type).toBe('ack');
    t.ws.close();
  });
});
