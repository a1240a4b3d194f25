/**
 * Goal: the engine's first complete path works against real peers: venue simulators as separate
 * processes speaking FIX 4.4 over TCP, the real uWebSockets.js server, and real WebSocket and
 * HTTP clients. Method: start the stack on ephemeral ports, enter orders as a trader would, and
 * read what comes back. No timing is asserted; every wait has a timeout.
 * The whole file runs once per threading mode (workers/topology.ts): a stage behaves the same
 * whether it has a thread of its own or shares one with others.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineConfig } from './config.ts';
import { STAGES, THREADING_MODES, threadGroups, type StageName, type ThreadingMode } from './topology.ts';
import type { Stack } from '../scripts/stack.ts';
import { startTestStack, waitFor, type TestStack } from './test-stack.fixture.ts';
import { readJournal } from '../persistence/journal.ts';
import { RecordType } from '../codecs/records.ts';
import { Trader, type Msg } from './ws-client.fixture.ts';

const KEY1 = 'demo-key-trader1';
const KEY2 = 'demo-key-trader2';

const marketable = (clOrdId: string, qty = 100) => ({ type: 'new', clOrdId, symbol: 'AAPL', side: 'BUY', qty, price: '190', ordType: 'LIMIT', tif: 'DAY' });
const resting = (clOrdId: string) => ({ type: 'new', clOrdId, symbol: 'MSFT', side: 'BUY', qty: 10, price: '300', ordType: 'LIMIT', tif: 'DAY' });

/** A stage whose thread does not also run ingest: killing it leaves intake up to refuse orders. */
function victimBesideIngest(mode: ThreadingMode): StageName {
  const ingestThread = threadGroups(mode).find((g) => g.includes('ingest'))!;
  return ingestThread.includes('sor') ? 'persistence' : 'sor';
}

describe.each(THREADING_MODES)('threading %s', (mode) => {
  let t0: TestStack;
  let stack: Stack;
  let journalDir: string;
  let base: string;
  let config: EngineConfig;

  beforeAll(async () => {
    t0 = await startTestStack({ threading: mode }, 11);
    ({ stack, config, base, journalDir } = t0);
    expect(config.threading).toBe(mode);
    // One worker per thread of the mode, each running exactly its stages.
    expect(new Set(STAGES.map((s) => stack.engine.stageWorker(s))).size).toBe(threadGroups(mode).length);
    for (const group of threadGroups(mode)) for (const s of group) expect(stack.engine.stageWorker(s)).toBe(stack.engine.stageWorker(group[0]));
  });

  afterAll(async () => {
    await t0?.cleanup();
  });

  describe('engine end to end', () => {
    it('an order entered over WebSocket is acknowledged, routed over FIX to a venue, and filled', async () => {
      const t = new Trader(`ws://${base}/v1/ws?token=${KEY1}`);
      await t.opened();
      await t.next((m) => m.type === 'hello');
      t.send(marketable('ws-1'));
      const ack = await t.next((m) => m.clOrdId === 'ws-1' && m.type === 'ack');
      expect(ack.status).toBe('NEW');
      expect(typeof ack.orderId).toBe('number');
      const fill = await t.next((m) => m.clOrdId === 'ws-1' && m.status === 'FILLED');
      expect(fill.cumQty).toBe(100);
      expect(fill.leavesQty).toBe(0);
      expect(fill.orderId).toBe(ack.orderId);
      // A buy limit at 190 never fills above 190: the venue gave its book price.
      expect(Number(fill.avgPx)).toBeLessThanOrEqual(190);
      t.ws.close();
    });

    it('a resting order is canceled at the venue on request', async () => {
      const t = new Trader(`ws://${base}/v1/ws?token=${KEY1}`);
      await t.opened();
      t.send(resting('ws-rest-1'));
      const ack = await t.next((m) => m.clOrdId === 'ws-rest-1' && m.type === 'ack');
      // Cancel once the child is at the venue (the venue acknowledges it; no fill at 300 for MSFT).
      t.send({ type: 'cancel', clOrdId: 'ws-cxl-1', origClOrdId: 'ws-rest-1' });
      const done = await t.next((m) => m.orderId === ack.orderId && m.status === 'CANCELED');
      expect(done.cumQty).toBe(0);
      t.ws.close();
    });

    it('bad input gets a reason code and the connection keeps working', async () => {
      const t = new Trader(`ws://${base}/v1/ws?token=${KEY1}`);
      await t.opened();
      t.ws.send('{not json');
      expect((await t.next((m) => m.type === 'reject')).reasonName).toBe('MALFORMED');
      t.send({ ...marketable('bad-qty'), qty: 0 });
      expect((await t.next((m) => m.clOrdId === 'bad-qty')).reasonName).toBe('INVALID_QTY');
      t.send({ ...marketable('bad-sym'), symbol: 'NOPE' });
      expect((await t.next((m) => m.clOrdId === 'bad-sym')).reasonName).toBe('UNKNOWN_SYMBOL');
      t.send({ ...marketable('bad-px'), price: -1 });
      expect((await t.next((m) => m.clOrdId === 'bad-px')).reasonName).toBe('INVALID_PRICE');
      t.send({ type: 'teleport', clOrdId: 'x' });
      expect((await t.next((m) => m.clOrdId === 'x')).reasonName).toBe('UNKNOWN_MESSAGE_TYPE');
      t.send({ ...marketable('too-big'), qty: 1_000_000 });
      expect((await t.next((m) => m.clOrdId === 'too-big')).reasonName).toBe('MAX_QTY_EXCEEDED');
      // Still usable afterwards.
      t.send(marketable('after-bad'));
      expect((await t.next((m) => m.clOrdId === 'after-bad' && m.type === 'ack')).status).toBe('NEW');
      t.ws.close();
    });

    it('a repeated client order id returns the original order and creates no second one', async () => {
      const t = new Trader(`ws://${base}/v1/ws?token=${KEY1}`);
      await t.opened();
      t.send(resting('dup-1'));
      const first = await t.next((m) => m.clOrdId === 'dup-1' && m.type === 'ack');
      t.send(resting('dup-1'));
      const second = await t.next((m) => m.clOrdId === 'dup-1' && m.reasonName === 'DUPLICATE_CL_ORD_ID');
      expect(second.orderId).toBe(first.orderId);
      t.ws.close();
    });

    it('REST: order, status, cancel; unauthenticated and cross-account requests change nothing', async () => {
      const auth = { authorization: `Bearer ${KEY1}`, 'content-type': 'application/json' };
      const post = await fetch(`http://${base}/v1/orders`, { method: 'POST', headers: auth, body: JSON.stringify(resting('rest-1')) });
      expect(post.status).toBe(202);
      const ack = (await post.json()) as Msg;
      expect(ack.type).toBe('ack');
      const get = await fetch(`http://${base}/v1/orders/${ack.orderId}`, { headers: auth });
      expect(get.status).toBe(200);
      expect(((await get.json()) as Msg).clOrdId).toBe('rest-1');

      const noAuth = await fetch(`http://${base}/v1/orders`, { method: 'POST', body: JSON.stringify(resting('rest-2')) });
      expect(noAuth.status).toBe(401);
      const other = { authorization: `Bearer ${KEY2}` };
      expect((await fetch(`http://${base}/v1/orders/${ack.orderId}`, { headers: other })).status).toBe(404);
      const otherCancel = await fetch(`http://${base}/v1/orders/${ack.orderId}`, { method: 'DELETE', headers: other });
      expect(otherCancel.status).toBe(404);
      expect(((await otherCancel.json()) as Msg).reasonName).toBe('UNKNOWN_ORDER');

      const badBody = await fetch(`http://${base}/v1/orders`, { method: 'POST', headers: auth, body: '{"qty":' });
      expect(badBody.status).toBe(400);

      const del = await fetch(`http://${base}/v1/orders/${ack.orderId}`, { method: 'DELETE', headers: auth });
      expect(del.status).toBe(202);
      const status = await waitFor('the order CANCELED', async () => {
        const s = ((await (await fetch(`http://${base}/v1/orders/${ack.orderId}`, { headers: auth })).json()) as Msg).status as string;
        return s === 'CANCELED' ? s : null;
      });
      expect(status).toBe('CANCELED');
    });
  });

  describe('journal after a clean stop', () => {
    it('holds every command taken and every report made, checksummed and in sequence', async () => {
      await stack.stop();
      const { frames, stoppedBecause } = readJournal(join(journalDir, 'journal-000001.log'));
      expect(stoppedBecause).toBeNull();
      const types = new Set(frames.map((f) => f.typeId));
      expect(types.has(RecordType.NEW_ORDER)).toBe(true);
      expect(types.has(RecordType.EXEC_REPORT)).toBe(true);
      expect(types.has(RecordType.CHILD_EVENT)).toBe(true);
      for (let i = 1; i < frames.length; i++) expect(frames[i].sequence).toBe(frames[i - 1].sequence + 1);
    });
  });

  // On a stack of its own: it halts the engine on purpose (the clean stop above needs a live one).
  describe('a dead thread', () => {
    let h: TestStack;
    beforeAll(async () => {
      h = await startTestStack({ threading: mode }, 12);
    });
    afterAll(async () => {
      await h?.cleanup();
    });

    it('a worker that dies puts the engine in a safe state: intake refused, health 503', async () => {
      const before = await fetch(`http://${h.base}/health`);
      expect(before.status).toBe(200);
      expect(((await before.json()) as { stalledRings: unknown[] }).stalledRings).toEqual([]);
      const victim = victimBesideIngest(mode);
      await h.stack.engine.stageWorker(victim)!.terminate();
      expect(h.stack.engine.haltReason).toMatch(new RegExp(victim));
      const t = new Trader(`ws://${h.base}/v1/ws?token=${KEY1}`);
      await t.opened();
      t.send(marketable('after-halt'));
      expect((await t.next((m) => m.clOrdId === 'after-halt')).reasonName).toBe('ENGINE_HALTED');
      expect((await fetch(`http://${h.base}/health`)).status).toBe(503);
      t.ws.close();
    });
  });
});
