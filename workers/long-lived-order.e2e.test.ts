/**
 * Goal: an order that rests at its venue while many newer orders come and go keeps working. Risk's
 * order table, the SOR's, fix's and risk's child tables and the edge's order view are keyed by id
 * modulo their capacity; a live entry keeps its slot, and new ids skip it (workers/risk/
 * order-table.ts allocate, workers/sor/route-plan.ts claim). Before, one order live after
 * `orderCapacity` newer ones refused every new order (ORDER_TABLE_FULL), and its child blocked
 * every new child (CHILD_TABLE_FULL).
 * Method: the real stack (venue simulators over FIX, uWebSockets.js, WebSocket and HTTP clients)
 * with 16-slot order and child tables: a GTC order rests, 40 orders fill past it (the tables wrap
 * more than twice), then the GTC is still listed as open, new orders are still accepted, and its
 * cancel still reaches its venue. No timing is asserted; every wait has a timeout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from './test-stack.fixture.ts';
import { Trader, type Msg } from './ws-client.fixture.ts';

const KEY1 = 'demo-key-trader1';
const CAPACITY = 16;

interface Health { stages: Record<string, { counters: Record<string, number> }> }

describe('a long-lived order with small order and child tables', () => {
  let t0: TestStack;

  beforeAll(async () => {
    t0 = await startTestStack({ orderCapacity: CAPACITY, childCapacity: CAPACITY }, 23);
  });

  afterAll(async () => {
    await t0?.cleanup();
  });

  it('rests while the tables wrap, stays listed, and is canceled at its venue; new orders never see a full table', async () => {
    const base = t0.base;
    const t = new Trader(`ws://${base}/v1/ws?token=${KEY1}`);
    await t.opened();
    t.send({ type: 'new', clOrdId: 'gtc-1', symbol: 'MSFT', side: 'BUY', qty: 10, price: '300', ordType: 'LIMIT', tif: 'GTC' });
    const gtc = await t.next((m) => m.clOrdId === 'gtc-1' && m.type === 'ack');
    expect(gtc.status).toBe('NEW');

    const ids: number[] = [];
    for (let n = 0; n < 40; n++) {
      const clOrdId = `fill-${n}`;
      t.send({ type: 'new', clOrdId, symbol: 'AAPL', side: 'BUY', qty: 10, price: '190', ordType: 'LIMIT', tif: 'DAY' });
      const ack = await t.next((m) => m.clOrdId === clOrdId && (m.type === 'ack' || m.type === 'reject'));
      expect(ack.type, `${clOrdId}: ${String(ack.reasonName)}`).toBe('ack');
      ids.push(ack.orderId as number);
      const done = await t.next((m) => m.clOrdId === clOrdId && (m.status === 'FILLED' || m.status === 'CANCELED' || m.status === 'REJECTED'));
      expect(done.status, `${clOrdId}: ${String(done.reasonName)}`).toBe('FILLED');
    }
    // Ids increase and never take the GTC's slot.
    for (let i = 1; i < ids.length; i++) expect(ids[i]).toBeGreaterThan(ids[i - 1]);
    const gtcId = gtc.orderId as number;
    for (const id of ids) expect(id % CAPACITY).not.toBe(gtcId % CAPACITY);

    const health = (await (await fetch(`http://${base}/health`)).json()) as Health;
    expect(health.stages.risk.counters.ORDER_IDS_SKIPPED).toBeGreaterThan(0);
    expect(health.stages.sor.counters.CHILD_IDS_SKIPPED).toBeGreaterThan(0);
    expect(health.stages.fix.counters.CHILDREN_REFUSED_SLOT_LIVE).toBe(0);

    const auth = { authorization: `Bearer ${KEY1}` };
    const open = (await (await fetch(`http://${base}/v1/orders?status=OPEN`, { headers: auth })).json()) as Msg[] | { orders: Msg[] };
    const openIds = (Array.isArray(open) ? open : open.orders).map((m) => m.orderId);
    expect(openIds).toContain(gtcId);
    const one = (await (await fetch(`http://${base}/v1/orders/${gtcId}`, { headers: auth })).json()) as Msg;
    expect(one.status).toBe('NEW');

    // Its child is still known at the venue side: the cancel goes out and the venue confirms it.
    t.send({ type: 'cancel', clOrdId: 'gtc-1-cxl', origClOrdId: 'gtc-1' });
    const canceled = await t.next((m) => m.orderId === gtcId && (m.status === 'CANCELED' || m.type === 'cancelReject'));
    expect(canceled.status).toBe('CANCELED');
    expect(canceled.cumQty).toBe(0);
    t.ws.close();
  });
});
