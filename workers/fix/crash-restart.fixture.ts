/**
 * Steps shared by the fix crash tests (fix-recovery.e2e, write-ahead.e2e): after the engine was
 * killed with a resting buy of 10 AAPL at 177.25 live at a still venue and started again on the
 * same journal, its venue session comes back with a reconciliation, and another participant then
 * hits that bid: the order must fill once, at the venue's price, into the position, with no
 * execution report the engine could not place.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { VenueProcess } from '../../scripts/stack.ts';
import {
  fixCounters, getJson, startEngineProcess, startStillVenue, stopEngineProcess, waitFor, writeEngineConfigFile, type EngineProcess,
} from '../test-stack.fixture.ts';
import { FixClient } from './fix-client.fixture.ts';

/**
 * What both crash tests stand on: a temporary directory with the engine's journal and config
 * file, one still venue simulator (startStillVenue: HITTER may trade there too), and the engine as
 * a child process on that config, started (and killed) by the test. setUp's `enginePort` gives the
 * port the engine dials for the venue (the venue's own, or a proxy's in front of it).
 */
export class CrashScene {
  work = '';
  journalDir = '';
  venue: VenueProcess | null = null;
  /** The HITTER client of expectRestingBuyFilled, stopped by tearDown. */
  hitter: FixClient | null = null;
  private configPath = '';
  private engine: ChildProcess | null = null;

  async setUp(name: string, enginePort: (venue: VenueProcess) => Promise<number> = async (v) => v.port): Promise<void> {
    this.work = mkdtempSync(join(tmpdir(), `oms-${name}-e2e-`));
    this.journalDir = join(this.work, 'journal');
    const still = await startStillVenue(['HITTER']);
    this.venue = still.venue;
    this.configPath = join(this.work, 'engine.json');
    writeEngineConfigFile(this.configPath, this.journalDir, [{ ...still.config, host: '127.0.0.1', port: await enginePort(still.venue) }]);
  }

  /** Starts scripts/engine.ts on the config file; resolves with its 'engine running' log line. */
  startEngine(): Promise<EngineProcess> {
    return startEngineProcess(this.configPath, (child) => { this.engine = child; });
  }

  async tearDown(): Promise<void> {
    if (this.hitter !== null) await this.hitter.stop().catch(() => {});
    await stopEngineProcess(this.engine);
    if (this.venue !== null && this.venue.child.exitCode === null) this.venue.child.kill('SIGTERM');
    if (this.work !== '') rmSync(this.work, { recursive: true, force: true });
  }
}

/** The resting buy both tests leave at the venue before the crash (its fill is expectRestingBuyFilled's). */
export function restingBuy(clOrdId: string): Record<string, unknown> {
  return { type: 'new', clOrdId, symbol: 'AAPL', side: 'BUY', qty: 10, price: '177.25', ordType: 'LIMIT', tif: 'DAY' };
}

/** Until the engine's one venue session is up. */
export async function awaitVenueSessionUp(base: string): Promise<void> {
  await waitFor('venue session', async () => ((await fixCounters(base)).SESSIONS_UP === 1 ? true : undefined));
}

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
