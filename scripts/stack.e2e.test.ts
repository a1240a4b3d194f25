/**
 * Goal: the stack as `npm start` runs it (venue simulators keeping their sessions, venueStores)
 * stopped and started again on the same journal directory trades again: both sides of each FIX
 * session resume their sequence numbers, so the engine's Logon is answered in step.
 * Method: real venue processes and engine on ephemeral ports; an order filled before and after
 * a whole-stack stop and start; FIX session status read from /health. No timing asserted.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startTestStack, waitFor, type TestStack } from '../workers/test-stack.fixture.ts';
import { simulatorStoreDir } from './stack.ts';

const AUTH = { Authorization: 'Bearer demo-key-trader1', 'content-type': 'application/json' };

interface VenueStatus { venue: string; state: string; nextSenderSeqNum: number; nextTargetSeqNum: number; logons: number }

async function venues(base: string): Promise<VenueStatus[]> {
  const h = (await (await fetch(`http://${base}/health`)).json()) as { fixSessions: { venues: VenueStatus[] } };
  return h.fixSessions.venues;
}

/** A marketable DAY order over REST (it rests until a simulator's market maker quotes, if none does yet), polled until FILLED. */
async function fillOne(base: string, clOrdId: string): Promise<void> {
  const post = await fetch(`http://${base}/v1/orders`, {
    method: 'POST', headers: AUTH,
    body: JSON.stringify({ clOrdId, symbol: 'AAPL', side: 'BUY', qty: 100, price: '190', ordType: 'LIMIT', tif: 'DAY' }),
  });
  expect(post.status).toBe(202);
  const { orderId } = (await post.json()) as { orderId: number };
  const order = await waitFor(`order ${clOrdId} filled`, async () => {
    const o = (await (await fetch(`http://${base}/v1/orders/${orderId}`, { headers: AUTH })).json()) as { status: string; reason?: string };
    return o.status === 'FILLED' || o.status === 'CANCELED' || o.status === 'REJECTED' ? o : undefined;
  });
  expect(order, JSON.stringify(order)).toMatchObject({ status: 'FILLED' });
}

describe('the stack stopped and started again on its journal directory', () => {
  it('resumes every venue session in step (no sequence reset) and fills orders again', async () => {
    const first: TestStack = await startTestStack({}, 5, undefined, true);
    let second: TestStack | null = null;
    try {
      const allUp = (base: string) => waitFor('every venue session logged on', async () => {
        const now = await venues(base);
        return now.length > 0 && now.every((v) => v.state === 'ACTIVE') ? now : undefined;
      });
      await allUp(first.base);
      await fillOne(first.base, 'before-restart');
      const before = await venues(first.base);
      await first.stack.stop();
      for (const v of first.config.venues) expect(existsSync(join(simulatorStoreDir(first.config, v.name), v.senderCompId))).toBe(true);

      second = await startTestStack({}, 5, first.journalDir, true);
      const s = second;
      const after = await allUp(s.base);
      for (const v of after) {
        const was = before.find((b) => b.venue === v.venue)!;
        // Both directions carried on from where the first run left them (a reset would restart at 1 or 2).
        expect(v.nextSenderSeqNum).toBeGreaterThan(was.nextSenderSeqNum);
        expect(v.nextTargetSeqNum).toBeGreaterThan(was.nextTargetSeqNum);
      }
      await fillOne(s.base, 'after-restart');
    } finally {
      await (second ?? first).cleanup();
    }
  }, 120_000);
});
