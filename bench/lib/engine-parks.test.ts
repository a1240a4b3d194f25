/**
 * Goal: parks per order is the engine's parks over the window divided by the orders measured in
 * it, and a reading that cannot be right (counters going back, no orders, /health without
 * counters) is refused rather than reported. Method: the arithmetic on known readings; the
 * window against a real HTTP server answering /health documents, including a 503 (an engine
 * that is not ok still counts) and one without PARKS.
 */

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ParksWindow, parksPerOrder, readParks } from './engine-parks.ts';
import { ReadingWindow } from './engine-health.ts';

let server: Server | null = null;
afterEach(async () => {
  server?.closeAllConnections(); // fetch keeps its connection alive
  await new Promise<void>((resolve) => (server === null ? resolve() : server.close(() => resolve())));
  server = null;
});

/** Requests the /health server has answered. */
let answered = 0;

/** Requests the /health server has refused (closed without an answer). */
let refused = 0;

/**
 * A /health server answering the documents in turn (the last one repeated), with `status`; it
 * first refuses `refuse` requests (closes the connection unanswered, as an overloaded peer may).
 */
async function healthServer(docs: unknown[], status = 200, refuse = 0): Promise<number> {
  answered = 0;
  refused = 0;
  server = createServer((req, res) => {
    expect(req.url).toBe('/health');
    if (refused < refuse) {
      refused++;
      req.socket.destroy();
      return;
    }
    const doc = docs[Math.min(answered, docs.length - 1)];
    res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(doc), () => answered++);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** Until the server has answered n requests (the window's readings then come in order); fails after 10 s. */
async function answeredAtLeast(n: number): Promise<void> {
  const until = Date.now() + 10_000;
  while (answered < n) {
    if (Date.now() > until) throw new Error(`the /health server answered ${answered} of ${n} requests`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

const doc = (parks: Record<string, number>) => ({ ok: true, stages: Object.fromEntries(Object.entries(parks).map(([s, p]) => [s, { heartbeatAgeMs: 1, counters: { WORK_CYCLES: 0, PARKS: p } }])) });

describe('parksPerOrder', () => {
  it('sums the stages\' parks over the window and divides by the orders, in all and by stage', () => {
    const r = parksPerOrder({ ingest: 100, risk: 50, sor: 7 }, { ingest: 400, risk: 250, sor: 7 }, 100);
    expect(r).toEqual({ perOrder: 5, byStage: { ingest: 3, risk: 2, sor: 0 } });
    expect(parksPerOrder({ risk: 0 }, { risk: 1 }, 3).perOrder).toBe(0.33);
  });

  it('refuses a window with no orders or a counter that went back', () => {
    expect(() => parksPerOrder({ risk: 0 }, { risk: 1 }, 0)).toThrow(/orders 0/);
    expect(() => parksPerOrder({ risk: 5 }, { risk: 4 }, 10)).toThrow(/risk PARKS went back/);
  });

});

describe('ParksWindow against a /health server', () => {
  it('reads PARKS at both ends; a 503 document still counts', async () => {
    const port = await healthServer([doc({ ingest: 10, risk: 4 }), doc({ ingest: 40, risk: 24 })], 503);
    const w = new ParksWindow(port);
    w.start();
    await answeredAtLeast(1);
    w.end();
    expect(await w.result(10)).toEqual({ parks: { perOrder: 5, byStage: { ingest: 3, risk: 2 } }, problem: null });
    expect(await w.result(0)).toEqual({ parks: null, problem: 'no orders in the window' });
  });

  it('reads once more at once when the connection of a reading fails, and reports a second failure', async () => {
    const port = await healthServer([doc({ ingest: 10, risk: 4 }), doc({ ingest: 40, risk: 24 })], 200, 1);
    const w = new ParksWindow(port);
    w.start();
    await answeredAtLeast(1);
    w.end();
    expect(await w.result(10)).toEqual({ parks: { perOrder: 5, byStage: { ingest: 3, risk: 2 } }, problem: null });
    expect(refused).toBe(1);
    server?.closeAllConnections();
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    const always = await healthServer([doc({ risk: 1 })], 200, Number.MAX_SAFE_INTEGER);
    const failing = new ParksWindow(always);
    failing.start();
    failing.end();
    expect(await failing.result(10)).toMatchObject({ parks: null, problem: expect.stringMatching(/\(read twice; first: .+\)$/) });
    expect(refused).toBe(4);
    expect(answered).toBe(0);
  });

  it('reads again only a reading whose connection failed (a TypeError from fetch), never a wrong document', async () => {
    for (const [error, reads] of [[new Error('no PARKS counter'), 2], [new SyntaxError('bad JSON'), 2], [new TypeError('fetch failed'), 4]] as const) {
      let calls = 0;
      const w = new ReadingWindow<number>(async () => {
        calls++;
        throw error;
      });
      w.start();
      w.end();
      await expect(w.readings()).rejects.toThrow(error.message);
      await new Promise((r) => setImmediate(r)); // both readings settled
      expect(calls, error.name).toBe(reads);
    }
  });

  it('a window not closed, or a /health without PARKS, gives no figure and says why', async () => {
    const port = await healthServer([{ ok: true, stages: { risk: { counters: { WORK_CYCLES: 3 } } } }]);
    await expect(readParks(port)).rejects.toThrow(/stage risk has no PARKS counter/);
    const open = new ParksWindow(port);
    open.start();
    expect(await open.result(10)).toEqual({ parks: null, problem: 'window not read at both ends' });
    const w = new ParksWindow(port);
    w.start();
    w.end();
    expect(await w.result(10)).toMatchObject({ parks: null, problem: expect.stringMatching(/no PARKS counter$/) });
  });
});
