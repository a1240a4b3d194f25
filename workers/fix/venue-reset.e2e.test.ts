/**
 * Goal: a venue configured with `venues[].resetOnLogon` gets ResetSeqNumFlag (141=Y) and
 * MsgSeqNum 1 on every Logon, and a cancel (35=F) the engine wrote just before the link dropped,
 * which the venue never got, is not lost with the reset: the status request after the new Logon
 * (35=H, 790 echoed) shows the child still working, the cancel is written again, and the order
 * ends CANCELED, once.
 *
 * Method: the whole engine (every worker thread, config through validateConfig) and the venue
 * simulator as a separate process (sim/venue.ts) over real TCP, with the TCP proxy fixture
 * between them (proxied-venue.fixture.ts), which swallows the cancel and then cuts the link. No timing is asserted; every
 * wait polls with a timeout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixCounters, getJson, postOrderAnswer, waitFor } from '../test-stack.fixture.ts';
import { startProxiedVenueStack, type ProxiedVenueStack } from './proxied-venue.fixture.ts';
import { messages } from './tcp-proxy.fixture.ts';

const KEY = 'demo-key-trader1';
let stack: ProxiedVenueStack;

const until = <T>(what: string, probe: () => Promise<T | null | undefined | false>): Promise<T> => waitFor(what, probe, 20_000);

beforeAll(async () => {
  stack = await startProxiedVenueStack('OMS', { resetOnLogon: true });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

describe('a venue that resets sequence numbers at every Logon', () => {
  it('a cancel lost on the wire before the link dropped is written again after the reset Logon: the order ends CANCELED once', async () => {
    const { proxy, base } = stack;
    const res = await postOrderAnswer(KEY, base, { clOrdId: 'rs-a', symbol: 'AAPL', side: 'BUY', qty: 10, price: '189.00', ordType: 'LIMIT', tif: 'DAY' });
    expect(res.status).toBe(202);
    const orderId = res.answer.orderId as number;
    const status = async (): Promise<string> => ((await getJson(base, `/v1/orders/${orderId}`, KEY)) as { status: string }).status;
    await until('resting at the venue', async () => (await fixCounters(base)).EXEC_REPORTS >= 1 && (await status()) === 'NEW');

    // The cancel leaves the engine and is swallowed by the proxy; then the link drops.
    proxy.swallow = true;
    const del = await fetch(`http://${base}/v1/orders/${orderId}`, { method: 'DELETE', headers: { authorization: `Bearer ${KEY}` } });
    expect(del.status).toBe(202);
    await until('cancel swallowed at the proxy', async () => messages(proxy.toVenue).some((m) => m.get(35) === 'F'));
    proxy.refuse = true;
    proxy.cut();
    proxy.swallow = false;
    await until('venue session down', async () => (await fixCounters(base)).SESSIONS_UP === 0);
    expect(await status()).toBe('PENDING_CANCEL');

    proxy.refuse = false;
    await until('order canceled', async () => (await status()) === 'CANCELED');
    const c = await fixCounters(base);
    expect(c.CANCELS_RESENT).toBe(1);
    expect(c.CANCELS_SENT).toBe(2);
    expect(c.STATUS_ANSWERS_UNNAMED).toBe(0);

    // On the wire: every Logon reset (141=Y, 34=1); after the second, a 35=H with 790 and the cancel again.
    const out = messages(proxy.toVenue);
    const logons = out.filter((m) => m.get(35) === 'A');
    expect(logons.length).toBeGreaterThanOrEqual(2);
    for (const l of logons) expect([l.get(141), l.get(34)]).toEqual(['Y', '1']);
    const cancels = out.filter((m) => m.get(35) === 'F');
    expect(cancels).toHaveLength(2);
    expect(cancels.every((m) => m.get(43) !== 'Y')).toBe(true); // written again, not a session resend
    const requests = out.filter((m) => m.get(35) === 'H');
    expect(requests.length).toBeGreaterThanOrEqual(1);
    expect(requests.every((m) => /^R\d+$/.test(m.get(790) ?? ''))).toBe(true);
    const back = messages(proxy.toEngine);
    expect(back.filter((m) => m.get(35) === '8' && m.get(150) === '4')).toHaveLength(1);
  });
});
