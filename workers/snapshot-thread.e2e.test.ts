/**
 * Goal: recovery snapshots saved while the engine runs (workers/snapshot-thread.ts). In a
 * running engine the snapshot thread saves each stage's snapshot at segment starts every
 * journal.snapshotEveryEvents events; journal.retention archives what they make unneeded without
 * a restart; what a start builds from the newest of them plus the journal after it is, byte for
 * byte, what a replay of the whole journal builds (risk, SOR, fix); and the next start recovers
 * from it on the pruned journal, with every order, fill and position.
 * Method: scripts/engine.ts as a child process (the smallest segments, snapshotEveryEvents 200,
 * a look every 100 ms, saves paced at 128 MiB/s, retention 'archive') against venue
 * simulators; IOC orders (filled) and resting DAY orders over REST, in batches, each followed by
 * a wait for the thread's next save
 * (its log line). Stopped cleanly, then, in this process: each file the thread kept is compared,
 * byte for byte, with what the stages' start-up recoveries (recoverRisk, recoverSorStage,
 * recoverFixStage) save at the same boundary on a copy of the journal up to it (archived
 * segments back) opened by a new boot's writer; and the replays as the thread builds them, from
 * its newest snapshots plus the journal after them, against the same from the whole journal.
 * Then a second start on the pruned journal. No timing is asserted.
 */
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JournalWriter, MIN_SEGMENT_BYTES, journalHeaders, listSegments, segmentFileName } from '../persistence/journal.ts';
import { replayJournal } from '../persistence/journal-reader.ts';
import { KEEP_SNAPSHOTS, SNAPSHOT_DIR, SnapshotStore, decodeSnapshot, snapshotFingerprint, written } from '../persistence/snapshot.ts';
import type { VenueProcess } from '../scripts/stack.ts';
import { validateConfig, type EngineConfig } from './config.ts';
import { SystemClock } from '../engine/clock.ts';
import { recoverFixStage } from './fix/recovery.ts';
import { riskConfigFrom } from './risk/risk-config.ts';
import { recoverRisk } from './risk/recovery.ts';
import { recoverSorStage } from './sor/recovery.ts';
import { followedStages, replayFixStage, replayRiskStage, replaySorStage } from './snapshot-stages.ts';
import { defaultVenuesOn, getJson, positionsOf, postOrder, startDefaultVenues, startEngineProcess, stopEngineProcess, venuesUp, waitFor, writeEngineConfigFile, type EngineProcess } from './test-stack.fixture.ts';

const KEY = 'demo-key-trader1';
const BATCHES = 4;
const IOC_PER_BATCH = 80;
const DAY_ORDERS = 20;
const EVERY = 200;

let work: string;
let journalDir: string;
let archiveDir: string;
let configPath: string;
let config: EngineConfig;
const venues: VenueProcess[] = [];
let engine: ChildProcess | null = null;

const savedLines = (e: EngineProcess): Record<string, any>[] => e.lines.filter((l) => l.msg === 'recovery snapshots saved while running');

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'oms-snapthread-e2e-'));
  journalDir = join(work, 'journal');
  archiveDir = join(journalDir, 'archive');
  configPath = join(work, 'engine.json');
  venues.push(...(await startDefaultVenues(41)));
  // Saves paced (journal.snapshotWriteMiBPerS) as in production, faster than the default 32 MiB/s to keep the test short.
  const journal = { segmentBytes: MIN_SEGMENT_BYTES, snapshotEveryEvents: EVERY, snapshotCheckMs: 100, snapshotWriteMiBPerS: 128, retention: 'archive', retentionCheckMs: 1000 };
  writeEngineConfigFile(configPath, journalDir, defaultVenuesOn(venues), journal);
  config = validateConfig(JSON.parse(readFileSync(configPath, 'utf8')));
}, 60_000);

afterAll(async () => {
  await stopEngineProcess(engine);
  for (const v of venues) if (v.child.exitCode === null) v.child.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
});

async function start(): Promise<EngineProcess> {
  return startEngineProcess(configPath, (child) => {
    engine = child;
  });
}

/**
 * The three replays over `dir` as the snapshot thread builds them (from the newest snapshot that
 * holds, if any), fed the journal to its end; each stage's snapshot payload, and what it loaded.
 */
function replayed(dir: string): { payloads: Record<string, Uint8Array>; loaded: Record<string, string | null> } {
  const store = new SnapshotStore(dir, snapshotFingerprint(config));
  // A later start's clock-derived child base: above every id in the journal.
  const start = followedStages({ ...config, journal: { ...config.journal, dir } }, store, Date.now() * 1000, 0);
  const payloads: Record<string, Uint8Array> = {};
  for (const s of start.stages) {
    replayJournal(dir, s.handler, s.boundary);
    payloads[s.name] = written((w) => s.snapshot(w)).payload;
  }
  return { payloads, loaded: start.loaded };
}

/**
 * What a start saves at `boundary` (a segment start of the whole journal in `full`): the segments
 * before it copied to a directory of their own, a new boot's writer opened there (its segment
 * starts at the boundary), and each stage's start-up recovery run with snapshots on; each
 * stage's saved payload.
 */
function startSaves(full: string, boundary: number): Record<string, Uint8Array> {
  const dir = join(work, `start-${boundary}`);
  mkdirSync(dir);
  for (const h of journalHeaders(full)) if (h.firstSequence < boundary) copyFileSync(join(full, segmentFileName(h.index)), join(dir, segmentFileName(h.index)));
  const epochMs = Date.now();
  const writer = new JournalWriter(dir, 'none', 10, 1 << 20, { engineEpochMs: epochMs, segmentBytes: MIN_SEGMENT_BYTES });
  expect(writer.sequence).toBe(boundary);
  writer.close();
  const cfg = { ...config, journal: { ...config.journal, dir } };
  const store = new SnapshotStore(dir, snapshotFingerprint(cfg), 0, epochMs);
  const clock = new SystemClock(epochMs);
  const base = Date.now() * 1000;
  const outcomes = [
    recoverRisk(dir, riskConfigFrom(cfg, base), store, replayRiskStage(cfg, clock)).recovery.snapshot,
    recoverSorStage(replaySorStage(cfg, base, clock), dir, store).snapshot,
    recoverFixStage(replayFixStage(cfg, clock), dir, cfg.orderCapacity, store).snapshot,
  ];
  const out: Record<string, Uint8Array> = {};
  for (const [i, stage] of ['risk', 'sor', 'fix'].entries()) {
    expect(outcomes[i].saved, `${stage}: ${outcomes[i].error}`).toMatch(new RegExp(`${stage}-0*${boundary}\\.snap$`));
    out[stage] = decodeSnapshot(new Uint8Array(readFileSync(outcomes[i].saved!))).payload;
  }
  return out;
}

const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));

describe('snapshots while running, in the engine', () => {
  it('saves every stage\'s snapshot as the journal grows, lets retention archive without a restart, and a start from them equals a full replay', async () => {
    const first = await start();
    await venuesUp(first.base, venues.length);
    // The snapshot thread runs under SCHED_IDLE (sinks.schedIdle): on a loaded machine it gets a
    // core only when everything else leaves one. These limits only guard against a hang.
    const ready = await waitFor('the snapshot thread following', async () => first.lines.find((l) => l.msg === 'snapshot thread following the journal'), 50_000)
      .catch((e) => { throw new Error(`${(e as Error).message}: ${JSON.stringify(first.lines.filter((l) => l.level >= 40))}`); });
    expect(ready.from).toBe(1); // a fresh journal: no snapshot yet (fewer than snapshotMinEvents replayed at start)
    for (let b = 0; b < BATCHES; b++) {
      const before = savedLines(first).length;
      for (let i = 0; i < IOC_PER_BATCH; i++) {
        // Marketable (the venues quote about 177.2-177.3): filled, or the rest canceled.
        const ack = await postOrder(KEY, first.base, { clOrdId: `ioc-${b}-${i}`, symbol: 'AAPL', side: 'BUY', qty: 100, price: '180.00', ordType: 'LIMIT', tif: 'IOC' });
        expect(ack.status, JSON.stringify(ack)).toBe('NEW');
      }
      for (let i = 0; i < DAY_ORDERS / BATCHES; i++) {
        const ack = await postOrder(KEY, first.base, { clOrdId: `day-${b}-${i}`, symbol: 'MSFT', side: 'BUY', qty: 10, price: '300.00', ordType: 'LIMIT', tif: 'DAY' });
        expect(ack.status, JSON.stringify(ack)).toBe('NEW');
      }
      // Each batch journals more than a segment: the thread saves again.
      await waitFor(`a save after batch ${b}`, async () => savedLines(first).length > before, 60_000)
        .catch((e) => { throw new Error(`${(e as Error).message}: segments ${JSON.stringify(listSegments(journalDir))}, ${JSON.stringify(first.lines.filter((l) => l.stage === 'snapshots' || l.level >= 40).slice(-5))}`); });
    }
    await waitFor('the IOC orders ended', async () => {
      const open = (await getJson(first.base, '/v1/orders?status=OPEN&limit=1000', KEY)).orders as Record<string, any>[];
      return open.length === DAY_ORDERS && open.every((o) => String(o.clOrdId).startsWith('day-'));
    }, 60_000);
    const held = await positionsOf(KEY, first.base);

    // Retention pruned while the engine ran, held by the snapshots the thread saved.
    const archivedLine = await waitFor('retention archived segments while running', async () =>
      first.lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('journal retention: archived')), 50_000);
    expect(archivedLine.floor).toBeGreaterThan(1);
    await stopEngineProcess(engine);
    engine = null;
    expect(listSegments(journalDir)[0]).toBeGreaterThan(1);
    // Every save, the last ones (while the IOC orders ended) included. The engine's stop may cut
    // the last one short between the stages' saves: then each stage's newest file is its own.
    const saves = savedLines(first);
    expect(saves.length).toBeGreaterThanOrEqual(BATCHES);
    let last = 1;
    const newest: Record<string, number> = { risk: 1, sor: 1, fix: 1 };
    for (const [i, s] of saves.entries()) {
      if (i < saves.length - 1 || !s.stopped) {
        expect(s.level).toBe('info'); // every stage saved
        expect(s.notSaved).toEqual([]);
        expect(s.saved).toHaveLength(3);
        // Written paced, as configured (journal.snapshotWriteMiBPerS): fdatasynced in chunks.
        expect(s.pacedChunks, 'chunks the save fdatasynced on their own').toBeGreaterThan(0);
      } else {
        expect(s.notSaved.every((n: string) => n.endsWith('stopped before its save'))).toBe(true);
      }
      expect(s.boundary - last).toBeGreaterThanOrEqual(EVERY);
      last = s.boundary;
      for (const stage of Object.keys(newest)) if ((s.saved as string[]).some((path) => path.includes(`/${stage}-`))) newest[stage] = s.boundary;
    }
    // The newest snapshots plus the journal after them build what the whole journal builds.
    const full = join(work, 'full');
    mkdirSync(full);
    for (const d of [archiveDir, journalDir]) for (const i of listSegments(d)) copyFileSync(join(d, segmentFileName(i)), join(full, segmentFileName(i)));
    expect(listSegments(full)[0]).toBe(1);
    const fromSnapshots = replayed(journalDir);
    const whole = replayed(full);
    for (const stage of ['risk', 'sor', 'fix']) {
      expect(fromSnapshots.loaded[stage], stage).toMatch(new RegExp(`${stage}-0*${newest[stage]}\\.snap$`));
      expect(whole.loaded[stage], stage).toBeNull();
      expect(same(fromSnapshots.payloads[stage], whole.payloads[stage]), `${stage}: the same state`).toBe(true);
    }
    // Each file kept is, byte for byte, what a start saves at that boundary: the journal up to it
    // (archived segments included), a new boot's writer (its segment starts there), and the three
    // start-up recoveries as the stages run them (recoverRisk, recoverSorStage, recoverFixStage).
    const kept = readdirSync(join(journalDir, SNAPSHOT_DIR)).filter((n) => n.endsWith('.snap'));
    expect(kept).toHaveLength(3 * KEEP_SNAPSHOTS);
    const files = kept.map((n) => { const m = /^(\w+)-(\d+)\.snap$/.exec(n)!; return { name: n, stage: m[1], boundary: Number(m[2]) }; });
    for (const boundary of new Set(files.map((f) => f.boundary))) {
      expect(saves.map((x) => x.boundary)).toContain(boundary);
      const started = startSaves(full, boundary);
      for (const f of files.filter((x) => x.boundary === boundary)) {
        const thread = decodeSnapshot(new Uint8Array(readFileSync(join(journalDir, SNAPSHOT_DIR, f.name)))).payload;
        expect(same(thread, started[f.stage]), `${f.stage} at ${boundary}`).toBe(true);
      }
    }

    // The next start recovers from them, on the pruned journal.
    const second = await start();
    const risk = second.lines.find((l) => l.msg === 'risk recovered from the journal')!.recovery;
    expect(risk.snapshot.loaded).toMatch(new RegExp(`risk-0*${newest.risk}\\.snap$`));
    expect(risk.orders).toBe(BATCHES * IOC_PER_BATCH + DAY_ORDERS);
    expect(risk.openOrders).toBe(DAY_ORDERS);
    expect(risk.fills).toBeGreaterThan(0);
    expect(await positionsOf(KEY, second.base)).toEqual(held);
    await stopEngineProcess(engine);
    engine = null;
  }, 300_000);
});
