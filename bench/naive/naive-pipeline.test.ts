/**
 * Goal: the naive baseline does the same work as the engine's order path, not less. Method:
 * start it on a free port with the engine's default configuration and enter orders over a real
 * WebSocket: a valid order is acked with an order id in the engine's reply shape; bad input,
 * unknown symbols, limit breaches and duplicate ClOrdIDs are refused with the engine's reason
 * codes; each accepted order is routed, and its ingest -> routing decision recorded.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { DEFAULT_CONFIG } from '../../workers/config.ts';
import { Reason } from '../../engine/reasons.ts';
import { startNaivePipeline, type NaivePipeline } from './naive-pipeline.ts';

type Msg = Record<string, unknown>;
let naive: NaivePipeline;
let ws: WebSocket;
const inbox: Msg[] = [];
const waiters: (() => void)[] = [];

/** Until `n` orders were routed (by the pipeline's worker threads): the limit only guards against a hang. */
async function routed(n: number, limitMs = 30_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (naive.counts().routed < n && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
}

async function next(): Promise<Msg> {
  while (inbox.length === 0) await new Promise<void>((resolve) => waiters.push(resolve));
  return inbox.shift()!;
}

const order = (clOrdId: string, extra: Msg = {}): string =>
  JSON.stringify({ type: 'new', clOrdId, symbol: 'AAPL', side: 'BUY', qty: 10, price: '1.00', ordType: 'LIMIT', tif: 'IOC', ...extra });

beforeAll(async () => {
  naive = await startNaivePipeline({ ...DEFAULT_CONFIG, http: { ...DEFAULT_CONFIG.http, port: 0 } });
  ws = new WebSocket(`ws://127.0.0.1:${naive.port}/v1/ws?token=demo-key-trader1`);
  ws.on('message', (data: WebSocket.RawData) => {
    inbox.push(JSON.parse(String(data)) as Msg);
    waiters.shift()?.();
  });
  expect(await next()).toMatchObject({ type: 'hello', accountId: 1 });
});

afterAll(async () => {
  ws?.close();
  await naive?.close();
});

describe('naive postMessage+JSON pipeline', () => {
  it('acks a valid order with an order id, in the engine reply shape, and routes it', async () => {
    ws.send(order('n1'));
    expect(await next()).toMatchObject({ type: 'ack', execType: 'NEW', orderId: 1, clOrdId: 'n1', status: 'NEW', symbol: 'AAPL', side: 'BUY', ordType: 'LIMIT', tif: 'IOC', qty: 10, price: '1', cumQty: 0, leavesQty: 10 });
    await routed(1);
    expect(naive.counts().routed).toBe(1);
  });

  it('refuses what the engine refuses, with its reason codes', async () => {
    const cases: [string, number][] = [
      ['{bad json', Reason.MALFORMED],
      [order('n2', { symbol: 'NOPE' }), Reason.UNKNOWN_SYMBOL],
      [order('n3', { qty: 0 }), Reason.INVALID_QTY],
      [order('n4', { qty: 100_001 }), Reason.MAX_QTY_EXCEEDED],
      [order('n5', { qty: 2000, price: '9999.00' }), Reason.MAX_NOTIONAL_EXCEEDED],
      [order('n1'), Reason.DUPLICATE_CL_ORD_ID],
    ];
    for (const [text, reason] of cases) {
      ws.send(text);
      expect(await next()).toMatchObject({ type: 'reject', reason });
    }
    expect(naive.counts()).toMatchObject({ acked: 1, rejected: cases.length });
  });

  it('times ingest -> routing decision once per routed order, as the engine names it, and not for refused ones', async () => {
    const before = naive.histograms().sor_ingest_to_decision;
    ws.send(order('n6'));
    ws.send(order('n7', { qty: 0 }));
    ws.send(order('n8'));
    ws.send(order('n8')); // refused by risk this time (a duplicate ClOrdID): never routed
    // The edge refuses n7 on main at once, so it may answer before the acks.
    const replies: Msg[] = [];
    for (let i = 0; i < 4; i++) replies.push(await next());
    const of = (id: string) => replies.filter((m) => m.clOrdId === id).map((m) => m.type === 'reject' ? m.reason : m.type);
    expect(of('n6')).toEqual(['ack']);
    expect(of('n7')).toEqual([Reason.INVALID_QTY]);
    expect(of('n8')).toEqual(['ack', Reason.DUPLICATE_CL_ORD_ID]);
    await routed(3);
    expect(naive.counts().routed).toBe(3);
    const after = naive.histograms().sor_ingest_to_decision;
    expect(after.count - before.count).toBe(2);
    expect(after.buckets.reduce((a, b) => a + b, 0)).toBe(after.count);
    expect(after.count).toBe(naive.counts().routed);
  });
});
