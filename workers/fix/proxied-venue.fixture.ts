/**
 * The stack of the venue-link e2e tests: the venue simulator as a separate process
 * (sim/venue.ts; one symbol, AAPL at 190.00, its market maker's walk frozen so prices are known),
 * the TCP proxy fixture in front of it, and the whole engine (every worker thread) connected to
 * the venue through the proxy, with a fast reconnect back-off. Resolves once the venue session is
 * up.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startVenue, type VenueProcess } from '../../scripts/stack.ts';
import { validateConfig } from '../config.ts';
import { Engine } from '../supervisor.ts';
import { fixCounters, waitFor } from '../test-stack.fixture.ts';
import { FixProxy } from './tcp-proxy.fixture.ts';

export interface ProxiedVenueStack {
  venue: VenueProcess;
  proxy: FixProxy;
  engine: Engine;
  /** host:port of the engine's HTTP server. */
  base: string;
  /** Stops the engine, the proxy and the venue, and removes the journal. */
  stop(): Promise<void>;
}

/** clients: the CompIDs the venue accepts (OMS is the engine); venueExtra: more venues[0] settings. */
export async function startProxiedVenueStack(clients: string, venueExtra: Record<string, unknown> = {}): Promise<ProxiedVenueStack> {
  const journalDir = mkdtempSync(join(tmpdir(), 'oms-venue-link-'));
  let venue: VenueProcess | null = null;
  let proxy: FixProxy | null = null;
  let engine: Engine | null = null;
  const stop = async (): Promise<void> => {
    await engine?.stop();
    await proxy?.close();
    const child = venue?.child;
    if (child !== undefined && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(journalDir, { recursive: true, force: true });
  };
  try {
    venue = await startVenue(['--port', '0', '--name', 'V1', '--comp-id', 'V1', '--clients', clients, '--seed', '5',
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
        reconnectMinMs: 50, reconnectMaxMs: 400, reconnectJitter: 0.5, reconnectSeed: 7, ...venueExtra }],
    });
    engine = new Engine(config, (level, msg, fields) => { if (level === 'error') console.error('engine:', msg, JSON.stringify(fields)); });
    const base = `127.0.0.1:${(await engine.start()).httpPort}`;
    await waitFor('venue session up', async () => (await fixCounters(base)).SESSIONS_UP === 1, 20_000);
    return { venue, proxy, engine, base, stop };
  } catch (err) {
    await stop(); // what started so far: no venue process or journal left behind
    throw err;
  }
}
