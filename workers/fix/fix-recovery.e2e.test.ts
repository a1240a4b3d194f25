/**
 * Goal: a child resting at a venue when the engine crashed is still the engine's after the
 * restart: the venue's fill for it, arriving after the new boot logged on, is booked to its order
 * and position. Method: one venue simulator process (sim/venue.ts, FIX 4.4 over TCP, its market
 * maker still: --mm-step-ms one hour) that keeps running; the engine as a child process
 * (scripts/engine.ts) on a journal directory; a trader over WebSocket places a buy limit inside
 * the venue's spread (it rests there, the venue's best bid). Once the journal holds the child's
 * ACKED event the engine is killed with SIGKILL and started again on the same journal. Then
 * another participant (a FIX client of the venue, HITTER) sells at that price: the venue fills
 * the pre-crash child, and the restarted engine must book it (status FILLED, cumQty, position).
 * Before workers/fix/recovery.ts, the fix stage counted that report as unknown and dropped it.
 * No timing is asserted; every wait has a generous timeout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChildEventKind } from '../../codecs/records.ts';
import { getJson, waitFor } from '../test-stack.fixture.ts';
import { Trader } from '../ws-client.fixture.ts';
import { journalChildKinds } from '../../persistence/journal-probe.fixture.ts';
import { CrashScene, awaitReconciled, awaitVenueSessionUp, expectRestingBuyFilled, restingBuy } from './crash-restart.fixture.ts';

const KEY = 'demo-key-trader1';

const scene = new CrashScene();
const get = (base: string, path: string) => getJson(base, path, KEY);

beforeAll(() => scene.setUp('fix-recovery'), 60_000);
afterAll(() => scene.tearDown());

describe('fix stage recovery, end to end', () => {
  it('books a venue fill, after a SIGKILL and restart, for a child resting since before the crash', async () => {
    // ---- first boot: one resting buy at the venue ----------------------------------------
    const first = await scene.startEngine();
    await awaitVenueSessionUp(first.base);
    const t = new Trader(`ws://${first.base}/v1/ws?token=${KEY}`);
    await t.opened();
    t.send(restingBuy('rest-1'));
    const ack = await t.next((m) => m.clOrdId === 'rest-1' && m.type === 'ack', 30_000);
    const orderId = ack.orderId as number;
    expect(orderId).toBeGreaterThan(0);
    // The child is acknowledged by the venue and that is in the journal: then the crash.
    await waitFor('the child ACKED in the journal', async () => (journalChildKinds(scene.journalDir, { orderId }).includes(ChildEventKind.ACKED) ? true : undefined));
    expect(journalChildKinds(scene.journalDir, { orderId }).filter((k) => k === ChildEventKind.FILL)).toEqual([]);
    t.ws.close();
    const killed = new Promise((r) => first.child.once('exit', r));
    first.child.kill('SIGKILL');
    await killed;

    // ---- second boot on the same journal ---------------------------------------------------
    const second = await scene.startEngine();
    expect(second.running.fix.recovery).toMatchObject({ children: 1, liveChildren: 1, unnamed: 0, conflicts: 0, problem: null });
    await awaitReconciled(second.base);
    const reopened = await get(second.base, `/v1/orders/${orderId}`);
    expect(reopened.status).toBe('ROUTED');

    // ---- another participant hits the resting bid at the venue ------------------------------
    await expectRestingBuyFilled(scene.venue!.port, second.base, orderId, KEY, (c) => { scene.hitter = c; });
    // The journal now holds the fill of the pre-crash child, booked once.
    expect(journalChildKinds(scene.journalDir, { orderId }).filter((k) => k === ChildEventKind.FILL)).toHaveLength(1);
  }, 120_000);
});
