/**
 * Steps shared by the fix crash tests (fix-recovery.e2e, write-ahead.e2e): after the engine was
 * killed with a resting buy of 10 AAPL at 177.25 live at a still venue and started again on the
 * same journal, its venue session comes back with a reconciliation, and another participant then
 * hits that bid: the order must fill once, at the venue's price, into the position, with no
 * execution report the engine could not place.
 */
import { expect } from 'vitest';
import { ChildEventFlyweight, RecordType } from '../../codecs/records.ts';
import { replayJournal } from '../../persistence/journal-reader.ts';
import { fixCounters, getJson, waitFor } from '../test-stack.fixture.ts';
import { FixClient } from './fix-client.fixture.ts';

/** Until the restarted engine's venue session is up and it has asked the venue about its children (35=H). */
export async function awaitReconciled(base: string): Promise<void> {
  await waitFor('venue session and its reconciliation', async () => {
    const c = await fixCounters(base);
    return c.SESSIONS_UP === 1 && c.STATUS_REQUESTS_SENT >= 1 ? c : undefined;
  });
}

/**
 * A participant (HITTER) sells 10 AAPL at 177.25 to the venue on venuePort; the engine on base
 * (account of key) must book order orderId FILLED. onHitter gets the client before its logon, so
 * the caller can stop it whatever happens.
 */
export async function expectRestingBuyFilled(venuePort: number, base: string, orderId: number, key: string, onHitter: (c: FixClient) => void): Promise<void> {
  const hitter = new FixClient(venuePort, 'HITTER', 'V1');
  onHitter(hitter);
  await hitter.logon();
  hitter.newOrder('hit-1', 'AAPL', '2', 10, '177.25');
  const hit = await hitter.next((m) => m[11] === 'hit-1' && m[150] === 'F', 15_000);
  expect(hit[32]).toBe('10');
  const filled = await waitFor('the pre-crash order filled', async () => {
    const o = await getJson(base, `/v1/orders/${orderId}`, key);
    return o.status === 'FILLED' ? o : undefined;
  });
  expect(filled.cumQty).toBe(10);
  expect(filled.avgPx).toBe('177.25');
  const positions = await getJson(base, '/v1/positions', key);
  expect((positions.positions as Record<string, any>[]).find((p) => p.symbol === 'AAPL')?.qty).toBe(10);
  expect((await fixCounters(base)).UNKNOWN_EXEC_REPORTS).toBe(0);
}

/** The journal's CHILD_EVENT kinds of an order's children, or of one child, in journal order (a test's own reading of the journal). */
export function journalChildKinds(journalDir: string, of: { orderId: number } | { childId: number }): number[] {
  const ev = new ChildEventFlyweight();
  const kinds: number[] = [];
  replayJournal(journalDir, {
    onFrame(typeId, _seq, _epochMs, view, bytes, offset) {
      if (typeId !== RecordType.CHILD_EVENT) return;
      const e = ev.wrap(view, bytes, offset);
      if ('orderId' in of ? e.orderId() === of.orderId : e.childId() === of.childId) kinds.push(e.kind());
    },
  });
  return kinds;
}
