/**
 * Goal: the broker's controls work end to end, against the running engine and simulated venues:
 * the kill switch halts an account (its resting orders are canceled AT THE VENUES, new orders
 * refused, another account unaffected) until an admin lifts it; mass cancel by symbol; cancel-on-
 * disconnect; the dead-man's switch. No timing is asserted: every wait has a timeout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineConfig } from '../config.ts';
import type { Stack } from '../../scripts/stack.ts';
import { fixCounters, startTestStack, type TestStack } from '../test-stack.fixture.ts';
import { connect, type Msg } from '../ws-client.fixture.ts';

let t0: TestStack;
let stack: Stack;
let base: string;
let config: EngineConfig;
const KEY1 = 'demo-key-trader1';
const KEY2 = 'demo-key-trader2';
const ADMIN = 'demo-key-admin';

const headers = (key: string) => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json' });
const ws = (key: string, extra = '') => `ws://${base}/v1/ws?token=${key}${extra}`;
const resting = (clOrdId: string, symbol = 'MSFT', price = '300'): Msg => ({ type: 'new', clOrdId, symbol, side: 'BUY', qty: 10, price, ordType: 'LIMIT', tif: 'DAY' });

beforeAll(async () => {
  t0 = await startTestStack({}, 9);
  ({ stack, config, base } = t0);
});

afterAll(async () => {
  await t0?.cleanup();
});

async function killSwitch(account: string, mode: string, key = ADMIN): Promise<Response> {
  return fetch(`http://${base}/v1/admin/kill-switch`, { method: 'POST', headers: headers(key), body: JSON.stringify({ account, mode }) });
}

async function fixCounter(name: string): Promise<number> {
  return (await fixCounters(base))[name];
}

describe('kill switch', () => {
  it('halting an account cancels its resting orders at the venues, refuses new ones, and is lifted only by an admin', async () => {
    const t = await connect(ws(KEY1));
    const bystander = await connect(ws(KEY2));
    const sentBefore = await fixCounter('CHILDREN_SENT');
    t.send(resting('ks-1'));
    t.send(resting('ks-2', 'AAPL', '150'));
    const a1 = await t.next((m) => m.clOrdId === 'ks-1' && m.type === 'ack');
    const a2 = await t.next((m) => m.clOrdId === 'ks-2' && m.type === 'ack');
    bystander.send(resting('bys-1'));
    await bystander.next((m) => m.clOrdId === 'bys-1' && m.type === 'ack');
    // Wait until the three children went out to their venues, so the cancels have to go there.
    // (The limit is a time, and only guards against a hang; it was 500 looks, about 5 s.)
    for (const end = Date.now() + 30_000; Date.now() < end && (await fixCounter('CHILDREN_SENT')) < sentBefore + 3;) await new Promise((r) => setTimeout(r, 10));
    expect(await fixCounter('CHILDREN_SENT')).toBeGreaterThanOrEqual(sentBefore + 3);
    const cancelsBefore = await fixCounter('CANCELS_SENT');
    expect((await killSwitch('TRADER1', 'HALTED', KEY1)).status).toBe(403);
    const res = await killSwitch('TRADER1', 'HALTED');
    expect(res.status).toBe(200);
    expect(((await res.json()) as Msg).changedBy).toBe('OPS');
    for (const id of [a1.orderId, a2.orderId]) {
      const done = await t.next((m) => m.orderId === id && m.status === 'CANCELED');
      expect(done.leavesQty).toBe(0);
    }
    expect(await fixCounter('CANCELS_SENT')).toBeGreaterThanOrEqual(cancelsBefore + 2);
    t.send(resting('ks-3'));
    expect((await t.next((m) => m.clOrdId === 'ks-3')).reasonName).toBe('ACCOUNT_HALTED');
    // The other account still trades, and its resting order was not touched.
    bystander.send(resting('bys-2'));
    expect((await bystander.next((m) => m.clOrdId === 'bys-2')).type).toBe('ack');
    expect(bystander.pending().some((m) => m.clOrdId === 'bys-1' && m.status === 'CANCELED')).toBe(false);
    const view = (await (await fetch(`http://${base}/v1/admin/kill-switch`, { headers: headers(ADMIN) })).json()) as { active: Msg[] };
    expect(view.active.map((c) => [c.account, c.mode])).toEqual([['TRADER1', 'HALTED']]);
    expect((await killSwitch('TRADER1', 'NORMAL')).status).toBe(200);
    t.send(resting('ks-4'));
    expect((await t.next((m) => m.clOrdId === 'ks-4')).type).toBe('ack');
    t.ws.close();
    bystander.ws.close();
  });

  it('bad kill-switch requests are 400 with a reason', async () => {
    for (const [account, mode] of [['NOBODY', 'HALTED'], ['TRADER1', 'PANIC']]) {
      const res = await killSwitch(account, mode);
      expect(res.status).toBe(400);
      expect(typeof ((await res.json()) as Msg).reason).toBe('number');
    }
  });
});

describe('mass cancel, cancel-on-disconnect, dead-man', () => {
  it('DELETE /v1/orders?symbol= cancels only that symbol\'s open orders', async () => {
    const t = await connect(ws(KEY2));
    t.send(resting('mc-msft'));
    t.send(resting('mc-aapl', 'AAPL', '150'));
    const msft = await t.next((m) => m.clOrdId === 'mc-msft' && m.type === 'ack');
    const aapl = await t.next((m) => m.clOrdId === 'mc-aapl' && m.type === 'ack');
    const res = await fetch(`http://${base}/v1/orders?symbol=MSFT`, { method: 'DELETE', headers: headers(KEY2) });
    expect(res.status).toBe(202);
    const done = await t.next((m) => m.orderId === msft.orderId && m.status === 'CANCELED');
    expect(done.orderId).toBe(msft.orderId);
    const other = (await (await fetch(`http://${base}/v1/orders/${aapl.orderId}`, { headers: headers(KEY2) })).json()) as Msg;
    expect(['NEW', 'ROUTED']).toContain(other.status);
    expect((await fetch(`http://${base}/v1/orders?symbol=NOPE`, { method: 'DELETE', headers: headers(KEY2) })).status).toBe(400);
    t.ws.close();
  });

  it('cancel-on-disconnect cancels the closed connection\'s orders only', async () => {
    const keeper = await connect(ws(KEY2));
    keeper.send(resting('cod-keep'));
    const kept = await keeper.next((m) => m.clOrdId === 'cod-keep' && m.type === 'ack');
    const leaver = await connect(ws(KEY2, '&cancelOnDisconnect=true'));
    leaver.send(resting('cod-leave'));
    const left = await leaver.next((m) => m.clOrdId === 'cod-leave' && m.type === 'ack');
    leaver.ws.close();
    let status = '';
    for (const end = Date.now() + 30_000; Date.now() < end && status !== 'CANCELED';) {
      status = ((await (await fetch(`http://${base}/v1/orders/${left.orderId}`, { headers: headers(KEY2) })).json()) as Msg).status as string;
      if (status !== 'CANCELED') await new Promise((r) => setTimeout(r, 20));
    }
    expect(status).toBe('CANCELED');
    const k = (await (await fetch(`http://${base}/v1/orders/${kept.orderId}`, { headers: headers(KEY2) })).json()) as Msg;
    expect(['NEW', 'ROUTED']).toContain(k.status);
    keeper.ws.close();
  });

  it('the dead-man\'s switch cancels the account\'s open orders after the client goes silent', async () => {
    const t = await connect(ws(KEY1, '&deadmanS=1'));
    t.send(resting('dm-1'));
    const ack = await t.next((m) => m.clOrdId === 'dm-1' && m.type === 'ack');
    // Silence: no message from the client from here on.
    const fired = await t.next((m) => m.type === 'error' && m.reasonName === 'DEAD_MAN_SWITCH', 10_000);
    expect(fired.text).toMatch(/canceled/);
    const done = await t.next((m) => m.orderId === ack.orderId && m.status === 'CANCELED', 10_000);
    expect(done.orderId).toBe(ack.orderId);
    t.ws.close();
  });
});
