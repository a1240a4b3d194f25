/**
 * Goal: the engine writes ahead of the wire, so a crash at the worst moment for a venue order
 * loses nothing. The moment: a NewOrderSingle has reached the venue, and the venue's answer has
 * not reached the engine. Then the journal must already hold the routing decision naming the
 * child (a child reaches its venue only once that ROUTE_AUDIT is durable), and the session store
 * the order's MsgSeqNum (its bytes go to the store before the socket), so after a restart the
 * engine knows the child, asks the venue about it, books its fill, and logs on again past every
 * number the venue saw.
 *
 * Method, deterministic (no kill at a random point of a load): one venue simulator process
 * (sim/venue.ts, its market maker still), a TCP proxy between it and the engine
 * (tcp-proxy.fixture.ts) that passes the engine's first NewOrderSingle on to the venue and from
 * then on holds everything the venue sends, and the engine as a child process
 * (scripts/engine.ts, journal.fsync batch) killed with SIGKILL by the proxy as it passes the order
 * on (from its socket handler, in the same turn). The crash point is chosen, not random; that the
 * journal write comes before the socket's is proven where it is made (persistence/journal-gate.test.ts):
 * here the window after the order left is as narrow as a test can make it. The order, a buy limit inside the venue's spread, rests there. After the restart
 * another participant (HITTER, a FIX client of the venue) sells at that price: the restarted
 * engine must book the fill. No timing is asserted; every wait has a generous timeout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChildEventKind } from '../../codecs/records.ts';
import { getJson, waitFor } from '../test-stack.fixture.ts';
import { Trader } from '../ws-client.fixture.ts';
import { auditedChildren, journalChildKinds } from '../../persistence/journal-probe.fixture.ts';
import { CrashScene, awaitReconciled, awaitVenueSessionUp, expectRestingBuyFilled, restingBuy } from './crash-restart.fixture.ts';
import { FixProxy, messages } from './tcp-proxy.fixture.ts';

const KEY = 'demo-key-trader1';

const scene = new CrashScene();
let proxy: FixProxy | null = null;
const get = (base: string, path: string) => getJson(base, path, KEY);

// The engine dials the proxy, which dials the venue.
beforeAll(() => scene.setUp('write-ahead', async (venue) => {
  proxy = new FixProxy(venue.port);
  await proxy.listen();
  return proxy.port;
}), 60_000);

afterAll(async () => {
  await scene.tearDown();
  await proxy?.close();
});

describe('write-ahead, end to end', () => {
  it('SIGKILL after a NewOrderSingle reached the venue and before its answer reached the engine: the child is known, reconciled and filled after the restart, and the session logs on past its numbers', async () => {
    // ---- first boot: one buy, killed once its NewOrderSingle is at the venue ------------------
    const first = await scene.startEngine();
    await awaitVenueSessionUp(first.base);
    const killed = new Promise((r) => first.child.once('exit', r));
    proxy!.onHold = () => first.child.kill('SIGKILL');
    proxy!.holdAfterNewOrder = true;
    const t = new Trader(`ws://${first.base}/v1/ws?token=${KEY}`);
    await t.opened();
    t.send(restingBuy('wa-1'));
    await killed;
    expect(proxy!.isHolding()).toBe(true);
    t.ws.close();

    const sent = messages(proxy!.toVenue).filter((m) => m.get(35) === 'D');
    expect(sent).toHaveLength(1);
    const childId = Number(sent[0].get(11));
    const orderSeq = Number(sent[0].get(34));
    // The engine never read the venue's answer: it was held at the proxy, and the engine's
    // journal holds nothing the venue said of the child (at most its SENT).
    expect(messages(proxy!.toEngine).filter((m) => m.get(35) === '8')).toEqual([]);
    expect(journalChildKinds(scene.journalDir, { childId }).filter((k) => k !== ChildEventKind.SENT)).toEqual([]);
    await waitFor('the venue acknowledged the order (held)', async () =>
      (messages(proxy!.held).some((m) => m.get(35) === '8' && m.get(11) === String(childId) && m.get(39) === '0') ? true : undefined));
    // Written ahead: the journal named the child (and its order) before the venue had it.
    const orderId = auditedChildren(scene.journalDir).get(childId) ?? 0;
    expect(orderId).toBeGreaterThan(0);

    // ---- second boot on the same journal and session store -----------------------------------
    proxy!.release();
    const toVenueBefore = proxy!.toVenue.length;
    const second = await scene.startEngine();
    expect(second.running.fix.recovery).toMatchObject({ liveChildren: 1, conflicts: 0, problem: null });
    await awaitReconciled(second.base);
    const again = messages(proxy!.toVenue.slice(toVenueBefore));
    const logon = again.find((m) => m.get(35) === 'A');
    expect(Number(logon?.get(34))).toBeGreaterThan(orderSeq);
    // The status request names the pre-crash child; nothing was sent to the venue again as new.
    expect(again.some((m) => m.get(35) === 'H' && m.get(11) === String(childId))).toBe(true);
    expect(again.filter((m) => m.get(35) === 'D')).toEqual([]);
    expect((await get(second.base, `/v1/orders/${orderId}`)).status).toBe('ROUTED');

    // ---- another participant hits the resting bid at the venue -------------------------------
    await expectRestingBuyFilled(scene.venue!.port, second.base, orderId, KEY, (c) => { scene.hitter = c; });
    // The journal reader above sees the venue's answers once the engine has them.
    expect(journalChildKinds(scene.journalDir, { childId })).toContain(ChildEventKind.FILL);
  }, 120_000);
});
