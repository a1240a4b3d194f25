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
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChildEventKind } from '../../codecs/records.ts';
import type { VenueProcess } from '../../scripts/stack.ts';
import { fixCounters, getJson, startEngineProcess, startStillVenue, stopEngineProcess, waitFor, writeEngineConfigFile, type EngineProcess } from '../test-stack.fixture.ts';
import { Trader } from '../ws-client.fixture.ts';
import { awaitReconciled, expectRestingBuyFilled, journalChildKinds } from './crash-restart.fixture.ts';
import type { FixClient } from './fix-client.fixture.ts';

const KEY = 'demo-key-trader1';

let work: string;
let journalDir: string;
let configPath: string;
let venue: VenueProcess | null = null;
let engine: ChildProcess | null = null;
let hitter: FixClient | null = null;

/** Starts scripts/engine.ts on the config file; resolves with its 'engine running' log line. */
function startEngine(): Promise<EngineProcess> {
  return startEngineProcess(configPath, (child) => { engine = child; });
}

const get = (base: string, path: string) => getJson(base, path, KEY);

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'oms-fix-recovery-e2e-'));
  journalDir = join(work, 'journal');
  const still = await startStillVenue(['HITTER']);
  venue = still.venue;
  const v = still.config;
  configPath = join(work, 'engine.json');
  writeEngineConfigFile(configPath, journalDir, [{ ...v, port: venue.port }]);
}, 60_000);

afterAll(async () => {
  if (hitter !== null) await hitter.stop().catch(() => {});
  await stopEngineProcess(engine);
  if (venue !== null && venue.child.exitCode === null) venue.child.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
});

describe('fix stage recovery, end to end', () => {
  it('books a venue fill, after a SIGKILL and restart, for a child resting since before the crash', async () => {
    // ---- first boot: one resting buy at the venue ----------------------------------------
    const first = await startEngine();
    await waitFor('venue session', async () => ((await fixCounters(first.base)).SESSIONS_UP === 1 ? true : undefined));
    const t = new Trader(`ws://${first.base}/v1/ws?token=${KEY}`);
    await t.opened();
    t.send({ type: 'new', clOrdId: 'rest-1', symbol: 'AAPL', side: 'BUY', qty: 10, price: '177.25', ordType: 'LIMIT', tif: 'DAY' });
    const ack = await t.next((m) => m.clOrdId === 'rest-1' && m.type === 'ack', 30_000);
    const orderId = ack.orderId as number;
    expect(orderId).toBeGreaterThan(0);
    // The child is acknowledged by the venue and that is in the journal: then the crash.
    await waitFor('the child ACKED in the journal', async () => (journalChildKinds(journalDir, { orderId }).includes(ChildEventKind.ACKED) ? true : undefined));
    expect(journalChildKinds(journalDir, { orderId }).filter((k) => k === ChildEventKind.FILL)).toEqual([]);
    t.ws.close();
    const killed = new Promise((r) => first.child.once('exit', r));
    first.child.kill('SIGKILL');
    await killed;

    // ---- second boot on the same journal ---------------------------------------------------
    const second = await startEngine();
    expect(second.running.fix.recovery).toMatchObject({ children: 1, liveChildren: 1, unnamed: 0, conflicts: 0, problem: null });
    await awaitReconciled(second.base);
    const reopened = await get(second.base, `/v1/orders/${orderId}`);
    expect(reopened.status).toBe('ROUTED');

    // ---- another participant hits the resting bid at the venue ------------------------------
    await expectRestingBuyFilled(venue!.port, second.base, orderId, KEY, (c) => { hitter = c; });
    // The journal now holds the fill of the pre-crash child, booked once.
    expect(journalChildKinds(journalDir, { orderId }).filter((k) => k === ChildEventKind.FILL)).toHaveLength(1);
  }, 120_000);
});
