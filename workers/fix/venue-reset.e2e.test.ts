/**
 * Goal: a venue configured with `venues[].resetOnLogon` gets ResetSeqNumFlag (141=Y) and
 * MsgSeqNum 1 on every Logon, and a cancel (35=F) the engine wrote just before the link dropped,
 * which the venue never got, is not lost with the reset: the status request after the new Logon
 * (35=H, 790 echoed) shows the child still working, the cancel is written again, and the order
 * ends CANCELED, once.
 *
 * Method: the whole engine (every worker thread, config through validateConfig) and the venue
 * simulator as a separate process (sim/venue.ts) over real TCP, with the TCP proxy fixture
 * between them, which swallows the cancel and then cuts the link. No timing is asserted; every
 * wait polls with a timeout.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVenue, type VenueProcess } from '../../scripts/stack.ts';
import { validateConfig } from '../config.ts';
import { Engine } from '../supervisor.ts';
import { getJson, waitFor } from '../test-stack.fixture.ts';
import { FixProxy, messages } from './tcp-proxy.fixture.ts';

const KEY = 'demo-key-trader1';
let venue: VenueProcess;
let proxy: FixProxy;
let engine: Engine;
let base: string;
let journalDir: string;

const until = <T>(what: string, probe: () => Promise<T | null | undefined | false>): Promise<T> => waitFor(what, probe, 20_000);

async function fixCounters(): Promise<Record<string, number>> {
  const h = (await (await fetch(`http://${base}/health`)).json()) as { stages: Record<string, { counters: Record<string, number> }> };
  return h.stages.fix.counters;
}

beforeAll(async () => {
  journalDir = mkdtempSync(join(tmpdir(), 'oms-venue-reset-'));
  venue = await startVenue(['--port', '0', '--name', 'V1', '--comp-id', 'V1', '--clients', 'OMS', '--seed', '5',
    '--symbols', 'AAPL:190.00', '--mm-step-ms', '3600000'], 'V1');
  proxy = new FixProxy(venue.port);
  await proxy.listen();
  const config = validateConfig({
    http: { host: '127.0.0.1', port: 0 },
    fixAcceptor: { port: 0 },
    journal: { dir: journalDir, fsync: 'none', fsyncIntervalMs: 10 },
    metrics: { port: 0 },
    symbols: [{ name: 'AAPL', referencePrice: '190.00' }],
    venues: [{ id: 1, name: 'V1', host: '127.0.0.1', port: proxy.port, senderCompId: 'OMS', targetCompId: 'V1', heartBtIntS: 30, feeBps: '0.30', latencyUs: 300, fillProbability: 0.9,
      reconnectMinMs: 50, reconnectMaxMs: 400, reconnectJitter: 0.5, reconnectSeed: 7, resetOnLogon: true }],
  });
  engine = new Engine(config, (level, msg, fields) => { if (level === 'error') console.error('engine:', msg, JSON.stringify(fields)); });
  const info = await engine.start();
  base = `127.0.0.1:${info.httpPort}`;
  await until('venue session up', async () => (await fixCounters()).SESSIONS_UP === 1);
}, 60_000);

afterAll(async () => {
  await engine?.stop();
  await proxy?.close();
  if (venue !== undefined && venue.child.exitCode === null) {
    const exited = new Promise((r) => venue.child.once('exit', r));
    venue.child.kill('SIGTERM');
    await exited;
  }
  rmSync(journalDir, { recursive: true, force: true });
});

describe('a venue that resets sequence numbers at every Logon', () => {
  it('a cancel lost on the wire before the link dropped is written again after the reset Logon: the order ends CANCELED once', async () => {
    const res = await fetch(`http://${base}/v1/orders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ clOrdId: 'rs-a', symbol: 'AAPL', side: 'BUY', qty: 10, price: '189.00', ordType: 'LIMIT', tif: 'DAY' }),
    });
    expect(res.status).toBe(202);
    const { orderId } = (await res.json()) as { orderId: number };
    const status = async (): Promise<string> => ((await getJson(base, `/v1/orders/${orderId}`, KEY)) as { status: string }).status;
    await until('resting at the venue', async () => (await fixCounters()).EXEC_REPORTS >= 1 && (await status()) === 'NEW');

    // The cancel leaves the engine and is swallowed by the proxy; then the link drops.
    proxy.swallow = true;
    const del = await fetch(`http://${base}/v1/orders/${orderId}`, { method: 'DELETE', headers: { authorization: `Bearer ${KEY}` } });
    expect(del.status).toBe(202);
    await until('cancel swallowed at the proxy', async () => messages(proxy.toVenue).some((m) => m.get(35) === 'F'));
    proxy.refuse = true;
    proxy.cut();
    proxy.swallow = false;
    await until('venue session down', async () => (await fixCounters()).SESSIONS_UP === 0);
    expect(await status()).toBe('PENDING_CANCEL');

    proxy.refuse = false;
    await until('order canceled', async () => (await status()) === 'CANCELED');
    const c = await fixCounters();
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
