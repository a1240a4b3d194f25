/**
 * Goal: journal.retention in the running engine. With 'archive', a start whose stages have
 * saved their snapshots moves the journal's segments no start can need any more into
 * journal.archiveDir, and the next start still recovers every order, fill and position from the
 * snapshots and the journal that is left. A start that would need an archived segment (the
 * snapshots no longer fit: orderCapacity changed) refuses, says why and exits non-zero, and
 * starts once the archived segments are moved back, recovering the same state by a full replay.
 * Method: scripts/engine.ts as a child process on a config file (journal.snapshotMinEvents 0,
 * the smallest segments, retention 'archive', a check every second) against venue simulators
 * that keep running; orders over REST. Five boots on one journal directory, each stopped
 * cleanly:
 *   1. a load of IOC orders (filled against the venues) and resting DAY orders;
 *   2. recovers by a full replay (boot 1's snapshots stand at sequence 1): each stage keeps two
 *      snapshots, the older at 1, so nothing is pruned; one more order;
 *   3. recovers from boot 2's snapshots; now the oldest kept is boot 2's, so boot 1's segments
 *      but its last are archived;
 *   4. orderCapacity changed: the snapshots do not hold, the whole journal is needed: refused;
 *   5. the archived segments moved back: a full replay under the new capacity; with one snapshot
 *      per stage that fits it, nothing is pruned.
 * What each recovered (orders, open orders, fills, next order id) and the positions must be the
 * same at boots 3 and 5 (and boot 2's, but for its one order). No timing is asserted; every wait has a generous timeout.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIN_SEGMENT_BYTES, listSegments, segmentFileName } from '../persistence/journal.ts';
import type { VenueProcess } from '../scripts/stack.ts';
import { defaultVenuesOn, getJson, positionsOf, postOrder, stageCounters, startDefaultVenues, startEngineProcess, stopEngineProcess, venuesUp, waitFor, writeEngineConfigFile, type EngineProcess } from './test-stack.fixture.ts';

const KEY = 'demo-key-trader1';
const IOC_ORDERS = 120;
const DAY_ORDERS = 40;

let work: string;
let journalDir: string;
let archiveDir: string;
let configPath: string;
let venues: VenueProcess[] = [];
let engine: ChildProcess | null = null;

function writeConfig(extra: Record<string, unknown> = {}): void {
  writeEngineConfigFile(configPath, journalDir, defaultVenuesOn(venues), {
    snapshotMinEvents: 0, segmentBytes: MIN_SEGMENT_BYTES, retention: 'archive', retentionCheckMs: 1000,
  }, extra);
  // extra: top-level settings over those (boot 4's orderCapacity).
}

/** Starts the engine; `lines` gets its log lines (what a start that fails logged). */
async function startEngine(lines: Record<string, any>[][] = []): Promise<EngineProcess> {
  return startEngineProcess(configPath, (child, logged) => {
    engine = child;
    lines.push(logged);
  });
}

async function stop(): Promise<void> {
  await stopEngineProcess(engine);
  engine = null;
}

/** What risk recovered, as its start logged it. */
function recovered(e: EngineProcess): Record<string, number> {
  const r = e.lines.find((l) => l.msg === 'risk recovered from the journal')!.recovery as Record<string, number>;
  return { orders: r.orders, openOrders: r.openOrders, fills: r.fills, nextOrderId: r.nextOrderId };
}

/** The first 'journal retention' log line of a boot (the start's pass runs before 'engine running'). */
function retentionLine(e: EngineProcess): Record<string, any> {
  const line = e.lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('journal retention'));
  expect(line, 'a journal retention line').toBeDefined();
  return line!;
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'oms-retention-e2e-'));
  journalDir = join(work, 'journal');
  archiveDir = join(journalDir, 'archive');
  configPath = join(work, 'engine.json');
  venues.push(...(await startDefaultVenues(31)));
  writeConfig();
}, 60_000);

afterAll(async () => {
  await stop();
  for (const v of venues) if (v.child.exitCode === null) v.child.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
});

describe('journal.retention archive, in the engine', () => {
  it('archives the segments no start needs, recovers the same from what is left, refuses a start that needs them and recovers once they are back', async () => {
    // ---- boot 1: the load ------------------------------------------------------------------
    const first = await startEngine();
    await venuesUp(first.base, venues.length);
    for (let i = 0; i < IOC_ORDERS; i++) {
      // Marketable (the venues quote about 177.2-177.3): filled, or the rest canceled. Terminal either way.
      const ack = await postOrder(KEY, first.base, { clOrdId: `ioc-${i}`, symbol: 'AAPL', side: 'BUY', qty: 100, price: '180.00', ordType: 'LIMIT', tif: 'IOC' });
      expect(ack.status, JSON.stringify(ack)).toBe('NEW');
    }
    for (let i = 0; i < DAY_ORDERS; i++) {
      const ack = await postOrder(KEY, first.base, { clOrdId: `day-${i}`, symbol: 'MSFT', side: 'BUY', qty: 10, price: '300.00', ordType: 'LIMIT', tif: 'DAY' });
      expect(ack.status, JSON.stringify(ack)).toBe('NEW');
    }
    // Every IOC has ended: only the DAY orders are open.
    await waitFor('the IOC orders ended', async () => {
      const open = (await getJson(first.base, '/v1/orders?status=OPEN&limit=1000', KEY)).orders as Record<string, any>[];
      return open.length === DAY_ORDERS && open.every((o) => String(o.clOrdId).startsWith('day-'));
    }, 60_000);
    await stop();
    const boot1Segments = listSegments(journalDir);
    expect(boot1Segments.length, 'boot 1 wrote several segments').toBeGreaterThanOrEqual(3);

    // ---- boot 2: full replay; two snapshots per stage, the older at 1: nothing to prune ----------
    const second = await startEngine();
    const state = recovered(second);
    expect(state.orders).toBe(IOC_ORDERS + DAY_ORDERS);
    expect(state.openOrders).toBe(DAY_ORDERS);
    expect(state.fills).toBeGreaterThan(0);
    expect(retentionLine(second)).toMatchObject({ msg: 'journal retention: nothing to prune', floor: 1 });
    expect(listSegments(journalDir).slice(0, boot1Segments.length)).toEqual(boot1Segments);
    // One more order, so boot 2 journals something: a boot that journals nothing leaves its
    // segment to the next, whose snapshots then replace its own (the same boundary).
    await venuesUp(second.base, venues.length);
    expect((await postOrder(KEY, second.base, { clOrdId: 'boot-2', symbol: 'AAPL', side: 'BUY', qty: 100, price: '180.00', ordType: 'LIMIT', tif: 'IOC' })).status).toBe('NEW');
    await waitFor('boot 2\'s order ended', async () => ((await getJson(second.base, '/v1/orders?status=CLOSED&limit=1', KEY)).orders as Record<string, any>[])[0]?.clOrdId === 'boot-2');
    await stop();

    // ---- boot 3: from boot 2's snapshots; boot 1's segments (but its last) archived ------------
    const third = await startEngine();
    const after = recovered(third);
    expect(after).toEqual({ ...state, orders: state.orders + 1, nextOrderId: state.nextOrderId + 1, fills: after.fills });
    expect(after.fills).toBeGreaterThanOrEqual(state.fills);
    const held = await positionsOf(KEY, third.base);
    const pass = retentionLine(third);
    const archived = boot1Segments.slice(0, -1);
    expect(pass).toMatchObject({ msg: 'journal retention: archived ' + archived.length + ' segment(s)', segments: archived, heldBy: 'snapshot risk', archiveDir });
    for (const i of archived) {
      expect(existsSync(join(journalDir, segmentFileName(i)))).toBe(false);
      expect(existsSync(join(archiveDir, segmentFileName(i)))).toBe(true);
    }
    const counters = await stageCounters(third.base, 'persistence');
    expect(counters.SEGMENTS_PRUNED).toBe(archived.length);
    expect(counters.BYTES_PRUNED).toBeGreaterThan(0);
    expect(counters.JOURNAL_FIRST_SEQUENCE).toBe(pass.firstSequence);
    expect(counters.JOURNAL_FIRST_SEQUENCE).toBeGreaterThan(1);
    expect(await positionsOf(KEY, third.base)).toEqual(held);
    await stop();

    // ---- boot 4: another orderCapacity: the snapshots do not fit, the journal is short: refused --
    writeConfig({ orderCapacity: 4096 });
    const logged: Record<string, any>[][] = [];
    await expect(startEngine(logged)).rejects.toThrow(/engine exited with 1/);
    const lines = logged[0];
    const refusal = lines.find((l) => l.msg === 'engine did not start');
    expect(refusal, JSON.stringify(lines.slice(-5))).toBeDefined();
    expect(refusal!.error).toMatch(/the journal in .* starts at sequence \d+ \(the segments before it were pruned by journal.retention\), but this start must replay from sequence 1/);
    // The refused start archived nothing and saved no snapshot: the archive is as boot 3 left it.
    expect(readdirSync(archiveDir).sort()).toEqual(archived.map(segmentFileName).sort());

    // ---- boot 5: the archived segments back: a full replay under the new capacity ------------
    for (const name of readdirSync(archiveDir)) renameSync(join(archiveDir, name), join(journalDir, name));
    const fifth = await startEngine();
    expect(recovered(fifth)).toEqual(after);
    // Its snapshots are the only ones that fit the new capacity: until a second start saves more,
    // the fallback is the whole journal, and nothing is pruned.
    expect(retentionLine(fifth)).toMatchObject({ msg: 'journal retention: nothing to prune', floor: 1, heldBy: 'snapshot risk (1 of 2 hold)' });
    expect(listSegments(journalDir)[0]).toBe(1);
    expect(await positionsOf(KEY, fifth.base)).toEqual(held);
    await stop();
  }, 300_000);
});
