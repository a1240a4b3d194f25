/**
 * Goal: the order-entry edge does what traders and admins rely on, against the real
 * uWebSockets.js server inside the running engine (venue simulators as processes, real WebSocket
 * and HTTP clients): the order lifecycle over WebSocket (new, replace, cancel, fills, positions),
 * subscriptions, authentication and isolation, idempotency, the admin API, rate limits, frame,
 * body and connection limits. Limits are set low in this file's config so they are reached with
 * a handful of messages. No timing is asserted: every wait has a timeout.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type EngineConfig } from '../config.ts';
import type { Stack } from '../../scripts/stack.ts';
import { startTestStack, waitFor, type TestStack } from '../test-stack.fixture.ts';
import { Trader, connect, type Msg } from '../ws-client.fixture.ts';
import { decodeServerFrame, encodeClientFrame } from './order-fb.ts';

/** A trader speaking FlatBuffers: the hello arrives already in binary. */
async function connectFb(url: string): Promise<Trader> {
  const t = new Trader(url);
  t.decodeBinary = (bytes) => decodeServerFrame(bytes) as unknown as Msg;
  await t.opened();
  await t.next((m) => m.type === 'hello');
  return t;
}

let t0: TestStack;
let stack: Stack;
let base: string;
let config: EngineConfig;
const KEY1 = 'demo-key-trader1';
const KEY2 = 'demo-key-trader2';
const ADMIN = 'demo-key-admin';
/** An account of its own for the rate-limit tests, so its buckets are not shared. */
const KEY_LIMITED = 'key-limited-44';

const json = { 'content-type': 'application/json' };
const bearer = (key: string) => ({ authorization: `Bearer ${key}`, ...json });
const ws = (key: string, extra = '') => `ws://${base}/v1/ws?token=${key}${extra}`;

beforeAll(async () => {
  t0 = await startTestStack({
    http: {
      maxConnectionsPerAccount: 4,
      maxFrameBytes: 4096,
      maxBodyBytes: 2048,
      heartbeatS: 1,
      rateLimit: { connectionMsgsPerS: 10, connectionBurst: 60, accountMsgsPerS: 1000, accountBurst: 40, floodDisconnectAfter: 200 },
    },
    accounts: [
      ...DEFAULT_CONFIG.accounts,
      { id: 4, name: 'LIMITED', apiKey: KEY_LIMITED, maxOrderQty: 1000, maxOrderNotional: '1000000', enabled: true },
    ],
  }, 5);
  ({ stack, config, base } = t0);
});

afterAll(async () => {
  await t0?.cleanup();
});

const marketable = (clOrdId: string, qty = 100): Msg => ({ type: 'new', clOrdId, symbol: 'AAPL', side: 'BUY', qty, price: '190', ordType: 'LIMIT', tif: 'DAY' });
const resting = (clOrdId: string, qty = 10): Msg => ({ type: 'new', clOrdId, symbol: 'MSFT', side: 'BUY', qty, price: '300', ordType: 'LIMIT', tif: 'DAY' });

/** Status and body of a raw WebSocket upgrade request (fetch may not send Upgrade headers). */
function upgrade(path: string): Promise<{ status: number; body: Msg }> {
  return new Promise((resolve, reject) => {
    const req = request(`http://${base}${path}`, {
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' },
    });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Msg }));
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 101, body: {} });
    });
    req.on('error', reject);
    req.end();
  });
}

async function health(): Promise<{ stages: Record<string, { counters: Record<string, number> }> }> {
  return (await (await fetch(`http://${base}/health`)).json()) as { stages: Record<string, { counters: Record<string, number> }> };
}

describe('order lifecycle over WebSocket', () => {
  it('replace changes quantity and price at the venue; then cancel; reports carry each step', async () => {
    const t = await connect(ws(KEY1));
    t.send(resting('life-1'));
    const ack = await t.next((m) => m.clOrdId === 'life-1' && m.type === 'ack');
    t.send({ type: 'replace', clOrdId: 'life-1r', origClOrdId: 'life-1', qty: 20, price: '301.5' });
    const replaced = await t.next((m) => m.execType === 'REPLACED');
    expect(replaced.orderId).toBe(ack.orderId);
    expect(replaced.qty).toBe(20);
    expect(replaced.price).toBe('301.5');
    expect(replaced.origClOrdId).toBe('life-1');
    t.send({ type: 'cancel', clOrdId: 'life-1c', origClOrdId: 'life-1r' });
    const canceled = await t.next((m) => m.orderId === ack.orderId && m.status === 'CANCELED');
    expect(canceled.leavesQty).toBe(0);
    // A second cancel of a finished order is refused with a reason, as a cancel reject.
    t.send({ type: 'cancel', clOrdId: 'life-1c2', orderId: ack.orderId as number });
    const cxlRej = await t.next((m) => m.type === 'cancelReject');
    expect(typeof cxlRej.reason).toBe('number');
    t.ws.close();
  });

  it('a subscriber sees its account\'s orders from other connections and REST, fills and position updates', async () => {
    const watcher = await connect(ws(KEY2));
    watcher.send({ type: 'subscribe' });
    await watcher.next((m) => m.type === 'subscribed' && m.subscribed === true);
    const entry = await connect(ws(KEY2));
    entry.send(marketable('sub-ws-1', 50));
    const fill = await watcher.next((m) => m.clOrdId === 'sub-ws-1' && m.status === 'FILLED');
    expect(fill.lastQty).toBe(50);
    const pos = await watcher.next((m) => m.type === 'position' && m.symbol === 'AAPL');
    expect(pos.qty).toBe(50);
    expect(typeof pos.avgPx).toBe('string');
    expect(pos.realizedPnl).toBe('0');
    const post = await fetch(`http://${base}/v1/orders`, { method: 'POST', headers: bearer(KEY2), body: JSON.stringify(resting('sub-rest-1')) });
    expect(post.status).toBe(202);
    await watcher.next((m) => m.clOrdId === 'sub-rest-1' && m.type === 'ack');
    // Another account's activity never reaches this subscriber.
    const other = await connect(ws(KEY1));
    other.send(resting('not-yours-1'));
    await other.next((m) => m.clOrdId === 'not-yours-1' && m.type === 'ack');
    entry.send({ type: 'positions' });
    const snap = await entry.next((m) => m.type === 'positions');
    expect((snap.positions as Msg[]).find((p) => p.symbol === 'AAPL')?.qty).toBe(50);
    const rest = (await (await fetch(`http://${base}/v1/positions`, { headers: bearer(KEY2) })).json()) as Msg;
    expect((rest.positions as Msg[]).find((p) => p.symbol === 'AAPL')?.qty).toBe(50);
    watcher.send({ type: 'unsubscribe' });
    await watcher.next((m) => m.type === 'subscribed' && m.subscribed === false);
    expect(watcher.pending().some((m) => m.clOrdId === 'not-yours-1')).toBe(false);
    for (const t of [watcher, entry, other]) t.ws.close();
  });

  it('FlatBuffers binary frames carry the same protocol: ack, fill, reject with a reason', async () => {
    const t = await connectFb(ws(KEY1, '&format=fb'));
    t.ws.send(encodeClientFrame({ ...marketable('fb-1', 5) }));
    const ack = await t.next((m) => m.clOrdId === 'fb-1' && m.type === 'ack');
    expect(typeof ack.orderId).toBe('number');
    const fill = await t.next((m) => m.clOrdId === 'fb-1' && m.status === 'FILLED');
    expect(fill.cumQty).toBe(5);
    t.ws.send(encodeClientFrame({ ...marketable('fb-bad'), qty: 0 }));
    expect((await t.next((m) => m.clOrdId === 'fb-bad')).reasonName).toBe('INVALID_QTY');
    t.ws.send(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]));
    expect((await t.next((m) => m.type === 'reject' && m.reasonName === 'MALFORMED')).text).toMatch(/malformed FlatBuffers frame: file identifier/);
    // A text frame switches the connection's replies to JSON.
    t.send(resting('fb-then-json'));
    expect((await t.next((m) => m.clOrdId === 'fb-then-json')).type).toBe('ack');
    t.ws.close();
  });

  it('the server sends heartbeats; a client heartbeat is accepted silently', async () => {
    const t = await connect(ws(KEY1));
    t.send({ type: 'heartbeat' });
    const hb = await t.next((m) => m.type === 'heartbeat', 5000);
    expect(typeof hb.time).toBe('number');
    expect(t.pending().some((m) => m.type === 'reject')).toBe(false);
    t.ws.close();
  });
});

describe('authentication and isolation', () => {
  it('a WebSocket upgrade without a valid key is refused with 401 and opens nothing', async () => {
    for (const path of ['/v1/ws', '/v1/ws?token=wrong-key-123']) {
      const res = await upgrade(path);
      expect(res.status).toBe(401);
      expect(res.body.reasonName).toBe('UNAUTHENTICATED');
    }
  });

  it('REST without a key is 401 and changes nothing; another account\'s order is invisible', async () => {
    const before = (await health()).stages.ingest.counters.ORDERS_IN;
    for (const [method, path] of [['POST', '/v1/orders'], ['GET', '/v1/orders'], ['GET', '/v1/orders/1'], ['DELETE', '/v1/orders/1'], ['GET', '/v1/positions']]) {
      const res = await fetch(`http://${base}${path}`, { method, headers: json, body: method === 'POST' ? JSON.stringify(resting('noauth')) : undefined });
      expect(res.status, `${method} ${path}`).toBe(401);
    }
    expect((await health()).stages.ingest.counters.ORDERS_IN).toBe(before);
    const post = await fetch(`http://${base}/v1/orders`, { method: 'POST', headers: bearer(KEY1), body: JSON.stringify(resting('iso-1')) });
    const ack = (await post.json()) as Msg;
    const list2 = (await (await fetch(`http://${base}/v1/orders`, { headers: bearer(KEY2) })).json()) as { orders: Msg[] };
    expect(list2.orders.some((o) => o.orderId === ack.orderId)).toBe(false);
    // A WebSocket cancel of another account's order is refused and the order stays open.
    const t = await connect(ws(KEY2));
    t.send({ type: 'cancel', clOrdId: 'steal-1', orderId: ack.orderId as number });
    expect((await t.next((m) => m.clOrdId === 'steal-1')).reasonName).toBe('UNKNOWN_ORDER');
    const mine = (await (await fetch(`http://${base}/v1/orders/${ack.orderId}`, { headers: bearer(KEY1) })).json()) as Msg;
    expect(['NEW', 'ROUTED']).toContain(mine.status);
    t.ws.close();
  });

  it('admin routes need the admin role: 403 for a trader, 200 for the admin', async () => {
    expect((await fetch(`http://${base}/v1/admin/sor/config`, { headers: bearer(KEY1) })).status).toBe(403);
    const post = await fetch(`http://${base}/v1/admin/sor/config`, { method: 'POST', headers: bearer(KEY1), body: JSON.stringify({ weights: { price: 1, latency: 0, fillprob: 0, fee: 0 } }) });
    expect(post.status).toBe(403);
    expect(((await post.json()) as Msg).reasonName).toBe('FORBIDDEN');
    const get = await fetch(`http://${base}/v1/admin/sor/config`, { headers: bearer(ADMIN) });
    expect(get.status).toBe(200);
    expect(((await get.json()) as { current: { version: number } }).current.version).toBe(0);
  });
});

describe('REST', () => {
  it('a repeated client order id returns the original order (200), over REST and WebSocket alike', async () => {
    const body = JSON.stringify(resting('idem-1'));
    const first = await fetch(`http://${base}/v1/orders`, { method: 'POST', headers: bearer(KEY1), body });
    expect(first.status).toBe(202);
    const ack = (await first.json()) as Msg;
    const again = await fetch(`http://${base}/v1/orders`, { method: 'POST', headers: bearer(KEY1), body });
    expect(again.status).toBe(200);
    expect(((await again.json()) as Msg).orderId).toBe(ack.orderId);
    const t = await connect(ws(KEY1));
    t.send(resting('idem-1'));
    const viaWs = await t.next((m) => m.clOrdId === 'idem-1');
    expect(viaWs.type).toBe('ack');
    expect(viaWs.orderId).toBe(ack.orderId);
    expect(viaWs.reasonName).toBe('DUPLICATE_CL_ORD_ID');
    // The same id in another account is another order.
    const other = await fetch(`http://${base}/v1/orders`, { method: 'POST', headers: bearer(KEY2), body });
    expect(other.status).toBe(202);
    expect(((await other.json()) as Msg).orderId).not.toBe(ack.orderId);
    t.ws.close();
  });

  it('GET /v1/orders filters by status, newest first; bad filters are 400 with a reason', async () => {
    const post = await fetch(`http://${base}/v1/orders`, { method: 'POST', headers: bearer(KEY1), body: JSON.stringify(marketable('list-fill-1', 10)) });
    const filled = (await post.json()) as Msg;
    expect(post.status, JSON.stringify(filled)).toBe(202);
    // A child the venue does not fill at once (fillProbability < 1) leaves the DAY order working
    // until a later one does: waited for by condition, not by a count of polls.
    const closed = await waitFor('the marketable order listed as FILLED', async () => {
      const list = ((await (await fetch(`http://${base}/v1/orders?status=FILLED`, { headers: bearer(KEY1) })).json()) as { orders: Msg[] }).orders;
      return list.some((o) => o.orderId === filled.orderId) ? list : null;
    });
    expect(closed.every((o) => o.status === 'FILLED')).toBe(true);
    const open = ((await (await fetch(`http://${base}/v1/orders?status=OPEN&limit=500`, { headers: bearer(KEY1) })).json()) as { orders: Msg[] }).orders;
    expect(open.some((o) => o.orderId === filled.orderId)).toBe(false);
    const ids = open.map((o) => o.orderId as number);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    for (const q of ['status=NOPE', 'limit=0', 'limit=5000', 'limit=abc']) {
      const res = await fetch(`http://${base}/v1/orders?${q}`, { headers: bearer(KEY1) });
      expect(res.status, q).toBe(400);
      expect(((await res.json()) as Msg).reasonName).toBe('INVALID_FIELD');
    }
  });

  it('bad bodies get 400/413 with a reason code; unknown routes 404', async () => {
    const cases: [string, number, string][] = [
      ['{"qty":', 400, 'MALFORMED'],
      ['[]', 400, 'MALFORMED'],
      [JSON.stringify({ ...resting('b1'), qty: 1.5 }), 400, 'INVALID_QTY'],
      [JSON.stringify({ ...resting('b2'), price: 'NaN' }), 400, 'INVALID_PRICE'],
      [JSON.stringify({ ...resting('b3'), symbol: 'ZZZZ' }), 400, 'UNKNOWN_SYMBOL'],
      [JSON.stringify({ type: 'cancel', clOrdId: 'b4', orderId: 1 }), 400, 'UNKNOWN_MESSAGE_TYPE'],
      [JSON.stringify({ ...resting('b5'), pad: 'x'.repeat(4000) }), 413, 'FRAME_TOO_LARGE'],
    ];
    for (const [body, status, reason] of cases) {
      const res = await fetch(`http://${base}/v1/orders`, { method: 'POST', headers: bearer(KEY1), body });
      expect(res.status, body.slice(0, 40)).toBe(status);
      expect(((await res.json()) as Msg).reasonName).toBe(reason);
    }
    expect((await fetch(`http://${base}/v1/nothing`, { headers: bearer(KEY1) })).status).toBe(404);
    expect((await fetch(`http://${base}/v1/orders/abc`, { method: 'DELETE', headers: bearer(KEY1) })).status).toBe(400);
  });
});

describe('admin: routing configuration', () => {
  it('a valid change is versioned, recorded with who made it, and reaches the SOR', async () => {
    const body = JSON.stringify({ weights: { price: 0.7, latency: 0.1, fillprob: 0.1, fee: 0.1 }, quoteStaleMs: 1500 });
    const res = await fetch(`http://${base}/v1/admin/sor/config`, { method: 'POST', headers: bearer(ADMIN), body });
    expect(res.status).toBe(200);
    const change = (await res.json()) as { version: number; changedBy: string; settings: { weights: { price: number } } };
    expect(change.version).toBe(1);
    expect(change.changedBy).toBe('OPS');
    expect(change.settings.weights.price).toBe(0.7);
    let version = 0;
    for (const end = Date.now() + 30_000; Date.now() < end && version !== 1;) {
      version = (await health()).stages.sor.counters.CONFIG_VERSION;
      if (version !== 1) await new Promise((r) => setTimeout(r, 20));
    }
    expect(version).toBe(1);
    const view = (await (await fetch(`http://${base}/v1/admin/sor/config`, { headers: bearer(ADMIN) })).json()) as { current: { version: number }; history: unknown[] };
    expect(view.current.version).toBe(1);
    expect(view.history.length).toBe(2);
  });

  it('an invalid change is 400 with a reason and changes nothing', async () => {
    const before = ((await (await fetch(`http://${base}/v1/admin/sor/config`, { headers: bearer(ADMIN) })).json()) as { current: { version: number } }).current.version;
    for (const body of ['{', JSON.stringify({ weights: { price: 2 } }), JSON.stringify({ mode: 'TELEPORT' }), JSON.stringify({ weights: { price: 0.9 } })]) {
      const res = await fetch(`http://${base}/v1/admin/sor/config`, { method: 'POST', headers: bearer(ADMIN), body });
      expect(res.status, body).toBe(400);
      expect(typeof ((await res.json()) as Msg).reason).toBe('number');
    }
    const after = ((await (await fetch(`http://${base}/v1/admin/sor/config`, { headers: bearer(ADMIN) })).json()) as { current: { version: number } }).current.version;
    expect(after).toBe(before);
  });
});

describe('protection', () => {
  it('past the account\'s burst, orders are refused RATE_LIMITED (WebSocket) and 429 (REST); the connection stays usable', async () => {
    const t = await connect(ws(KEY_LIMITED));
    try {
      // 100 at once: past the account's burst (40, refilled 1,000/s) unless the server took them
      // over more than 60 ms, and past the connection's (60, refilled 10/s) unless over 4 s, so a
      // loaded machine still sees a refusal; under floodDisconnectAfter (200) either way.
      for (let i = 0; i < 100; i++) t.send({ ...resting(`rl-${i}`, 1), price: '1' });
      // Every one of the 100 is answered (an ack, or a refusal: the connection's carries no
      // clOrdId, its frame is not read) before the refill below starts.
      const answers: Msg[] = [];
      while (answers.length < 100) answers.push(await t.next((x) => x.type === 'ack' || x.type === 'reject'));
      const limited = answers.find((m) => m.reasonName === 'RATE_LIMITED');
      expect(limited?.type).toBe('reject');
      const rest = await fetch(`http://${base}/v1/orders`, { method: 'POST', headers: bearer(KEY_LIMITED), body: JSON.stringify(resting('rl-rest', 1)) });
      expect([202, 429]).toContain(rest.status);
      // Refill (the connection's bucket at 10/s: 10 tokens in 1 s) and the same connection works again.
      await new Promise((r) => setTimeout(r, 1000));
      t.send({ ...resting('rl-after', 1), price: '1' });
      expect((await t.next((m) => m.clOrdId === 'rl-after')).type).toBe('ack');
    } finally {
      // Closed even when it fails: the tests after it count this account's connections.
      t.ws.close();
    }
  });

  it('a flood past the connection limit many times in a row is disconnected with 1008; others keep trading', async () => {
    const bystander = await connect(ws(KEY1));
    const flooder = await connect(ws(KEY_LIMITED));
    const junk = JSON.stringify({ type: 'heartbeat' });
    for (let i = 0; i < 400; i++) flooder.ws.send(junk);
    const closed = await flooder.whenClosed();
    expect(closed.code).toBe(1008);
    bystander.send(resting('after-flood'));
    expect((await bystander.next((m) => m.clOrdId === 'after-flood')).type).toBe('ack');
    expect((await health()).stages.ingest.counters.FLOOD_DISCONNECTS).toBeGreaterThanOrEqual(1);
    bystander.ws.close();
  });

  it('an oversize frame is refused FRAME_TOO_LARGE and the connection kept; a huge one ends the connection', async () => {
    const t = await connect(ws(KEY1));
    t.ws.send(JSON.stringify({ ...resting('big'), pad: 'x'.repeat(5000) }));
    expect((await t.next((m) => m.type === 'reject')).reasonName).toBe('FRAME_TOO_LARGE');
    t.send(resting('after-big'));
    expect((await t.next((m) => m.clOrdId === 'after-big')).type).toBe('ack');
    t.ws.send('x'.repeat(64 * 1024));
    expect([1006, 1009]).toContain((await t.whenClosed()).code);
    const u = await connect(ws(KEY1));
    u.send(resting('after-huge'));
    expect((await u.next((m) => m.clOrdId === 'after-huge')).type).toBe('ack');
    u.ws.close();
  });

  it('connections per account are capped: the next upgrade is refused 503', async () => {
    const open = [];
    for (let i = 0; i < 4; i++) open.push(await connect(ws(KEY_LIMITED)));
    const res = await upgrade(`/v1/ws?token=${KEY_LIMITED}`);
    expect(res.status).toBe(503);
    expect(res.body.reasonName).toBe('ENGINE_BUSY');
    for (const t of open) t.ws.close();
    await Promise.all(open.map((t) => t.whenClosed()));
    // Closing frees the slots.
    const again = await connect(ws(KEY_LIMITED));
    again.ws.close();
  });
});
