/**
 * Disk benchmark: what the journal's group commit costs on this machine's disk, the floor under
 * every acknowledgement with journal.fsync 'batch' (the default: a report leaves the process only
 * once its event is fdatasynced; docs/TUNING.md "The disk").
 *
 *   ours:     JournalWriter.flush() of one frame under 'batch': one write, one fdatasync, into a
 *             preallocated segment (journal.preallocate, the default: frames written over zeros)
 *   baseline: the same flush under 'none': the write into the page cache alone
 *
 * Then the same 'batch' flush into a preallocated segment against an appended one
 * (journal.preallocate false: each fdatasync also commits the file's new size), alone and beside
 * two threads that keep both cores busy (the engine under load: ext4 commits a size change from a
 * kernel thread of its own, which then waits for a core).
 *
 * Each trial writes for `seconds`, one frame of `frameBytes` per flush and a pause of `gapMs`
 * between flushes (the persistence thread flushes whenever a ring has records; at light load,
 * one small batch at a time), timing each flush into an HDR histogram (µs). Trials alternate
 * the two policies, and which goes first alternates too, so drift on a shared VM falls on both. Then the same again beside a Postgres
 * write load on the same disk (a throwaway server from scripts/postgres.ts with fsync on, in its
 * temp directory, and bench/lib/pg-insert-load.ts inserting as fast as it can): the Postgres sink
 * shares the machine's disk with the journal. --no-postgres leaves that part out.
 *
 * Then, under 'batch', beside recovery-snapshot saves on the same disk (bench/lib/
 * snapshot-save-load.ts: a file of `snapshotMiB`, the size of the three stages' snapshots at the
 * default capacities, saved through writeFileDurably again and again), paced as the snapshot
 * thread paces them (journal.snapshotWriteMiBPerS at its default) and, alternating with it, at
 * once (the whole file then one fsync, as before the pacing): what a save while trading costs an
 * acknowledgement, and what the pacing buys.
 *
 * Figures: the median over trials of each trial's p50 and p99, baseline the 'none' trials' (and
 * for the Postgres and snapshot parts, the same figure alone). No goal of DESIGN.md speaks of the
 * disk; the note compares its p99 with the 1 ms ack budget of bench:ws.
 *
 * Run: `npm run bench:disk` (writes bench/results/disk.json); --quick (one short trial each, no
 * Postgres, no snapshot saves; writes only with --out), --out DIR, --trials N, --seconds S,
 * --snapshot-mib N (0: leave the snapshot part out), --dir D (default: a directory under data/,
 * the disk of the default journal.dir). runDiskBench is exported for the smoke test.
 */
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { JournalWriter, PACED_CHUNK_BYTES, requestStop, type FsyncPolicy } from '../persistence/journal.ts';
import { DEFAULT_CONFIG } from '../workers/config.ts';
import { startPostgres } from '../scripts/postgres.ts';
import { BenchArgs } from './lib/args.ts';
import { createUsHistogram, percentilesUs, recordLatencyMs, type PercentilesUs } from './lib/histogram-us.ts';
import { formatMachineInfo, machineInfo, watchCpu, type CpuShare } from './lib/machine.ts';
import { isMainModule } from './lib/main.ts';
import { figure, writeResults, type Figure } from './lib/results.ts';
import { roundTo, summarize } from './lib/stats.ts';
import { printTable } from './lib/table.ts';

export interface DiskBenchConfig {
  trials: number;
  seconds: number;
  frameBytes: number;
  gapMs: number;
  postgres: boolean;
  /** Size of the snapshot saves beside the snapshot part's trials, MiB; 0: no snapshot part. */
  snapshotMiB: number;
  /** Where the trial journals are written (a fresh directory inside it per trial). */
  dir: string;
}

const DATA_DIR = fileURLToPath(new URL('../data/', import.meta.url));
/** The three stages' snapshots at the default capacities (bench:persist: risk 70.1 MiB, fix 18.8, SOR under 0.1). */
const SNAPSHOT_MIB = 89;
export const FULL_CONFIG: DiskBenchConfig = { trials: 3, seconds: 5, frameBytes: 512, gapMs: 1, postgres: true, snapshotMiB: SNAPSHOT_MIB, dir: DATA_DIR };
export const QUICK_CONFIG: DiskBenchConfig = { trials: 1, seconds: 0.3, frameBytes: 512, gapMs: 1, postgres: false, snapshotMiB: 0, dir: DATA_DIR };

/**
 * 'snapshot': beside saves paced as the engine paces them; 'snapshot-unpaced': beside saves written
 * at once; 'busy': beside two threads spinning (both cores busy).
 */
type Part = 'alone' | 'postgres' | 'snapshot' | 'snapshot-unpaced' | 'busy';
/** How the trial's segment was laid out: zero-filled ahead (the default) or appended (journal.preallocate false). */
type Layout = 'preallocated' | 'appended';
export interface DiskTrial {
  part: Part;
  policy: FsyncPolicy;
  layout: Layout;
  flush: PercentilesUs;
  cpu: CpuShare;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** One trial: `seconds` of one-frame flushes under `policy` into a fresh journal in `root`. */
function trial(root: string, policy: FsyncPolicy, config: DiskBenchConfig, layout: Layout = 'preallocated'): PercentilesUs {
  mkdirSync(root, { recursive: true });
  const dir = mkdtempSync(join(root, 'bench-disk-'));
  const h = createUsHistogram();
  try {
    const w = new JournalWriter(dir, policy, 10, 1 << 20, { engineEpochMs: Date.now(), preallocate: layout === 'preallocated' });
    const body = new Uint8Array(config.frameBytes).fill(0x5a);
    const end = performance.now() + config.seconds * 1000;
    while (performance.now() < end) {
      w.append(9, body, 0, body.length);
      const t0 = performance.now();
      w.flush(Date.now());
      recordLatencyMs(h, performance.now() - t0);
      if (config.gapMs > 0) Atomics.wait(sleeper, 0, 0, config.gapMs);
    }
    w.close();
    return percentilesUs(h);
  } finally {
    h.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

type Variant = [FsyncPolicy, Layout];

/**
 * `config.trials` rounds of `variants`, the order rotating each round (batch, none; none, batch;
 * ...), so drift on a shared VM falls on all of them.
 */
function trials(part: Part, config: DiskBenchConfig, log: (line: string) => void, variants: Variant[] = [['batch', 'preallocated'], ['none', 'appended']]): DiskTrial[] {
  const out: DiskTrial[] = [];
  for (let i = 0; i < config.trials; i++) {
    for (let k = 0; k < variants.length; k++) {
      const [policy, layout] = variants[(i + k) % variants.length];
      log(`${part}: trial ${i + 1}/${config.trials}, journal.fsync ${policy}, ${layout} segment`);
      const cpu = watchCpu();
      const flush = trial(config.dir, policy, config, layout);
      out.push({ part, policy, layout, flush, cpu: cpu() });
    }
  }
  return out;
}

/** The 'batch' flush into a preallocated segment and into an appended one. */
const LAYOUTS: Variant[] = [['batch', 'preallocated'], ['batch', 'appended']];

/** Two threads spinning for the duration of `during` (the two cores busy, as under load); returns what it returns. */
async function besideBusyCores<T>(during: () => T, log: (line: string) => void): Promise<T> {
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const spin = 'const { workerData, parentPort } = require("node:worker_threads"); const s = new Int32Array(workerData); parentPort.postMessage("started"); while (Atomics.load(s, 0) === 0);';
  const workers = [0, 1].map(() => new Worker(spin, { eval: true, workerData: stop.buffer }));
  try {
    await Promise.all(workers.map((w) => once(w, 'message')));
    log('two spinning threads running');
    return during();
  } finally {
    Atomics.store(stop, 0, 1);
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/**
 * A load worker's next message, which must be of `type` (the load workers post 'started', then
 * 'stopped' only once told to stop: in order, one at a time; once() rejects on the worker's 'error').
 */
async function nextMessage<M extends { type: string }>(worker: Worker, name: string, type: string): Promise<M> {
  const [m] = (await once(worker, 'message')) as [M];
  if (m.type !== type) throw new Error(`${name}: expected '${type}', got '${m.type}'`);
  return m;
}

/** A Postgres write load on this disk for the duration of `during`; returns what `during` returns and the rows/s. */
async function besidePostgres<T>(during: () => T, log: (line: string) => void): Promise<{ result: T; rowsPerS: number }> {
  const db = await startPostgres({ durable: true });
  try {
    const worker = new Worker(new URL('./lib/pg-insert-load.ts', import.meta.url), { workerData: { url: db.url } });
    type Msg = { type: string; rows?: number; seconds?: number };
    try {
      await nextMessage<Msg>(worker, 'pg-insert-load', 'started');
      log('postgres write load running');
      // The measurement blocks this thread; the load runs on the worker's.
      const result = during();
      worker.postMessage('stop');
      const done = await nextMessage<Msg>(worker, 'pg-insert-load', 'stopped');
      return { result, rowsPerS: Math.round((done.rows ?? 0) / (done.seconds ?? 1)) };
    } finally {
      await worker.terminate();
    }
  } finally {
    await db.stop();
  }
}

/** What the snapshot-save worker wrote over one trial: saves finished before its stop, and their rate. */
export interface SaveLoad { part: Part; saves: number; mibPerS: number }

/**
 * One 'batch' trial beside recovery-snapshot saves of `config.snapshotMiB` on the trial's disk,
 * paced at `mibPerS` (0: at once), run on a worker thread for the trial's length.
 */
async function besideSaves(part: Part, mibPerS: number, config: DiskBenchConfig, log: (line: string) => void): Promise<{ trial: DiskTrial; load: SaveLoad }> {
  mkdirSync(config.dir, { recursive: true });
  const dir = mkdtempSync(join(config.dir, 'bench-disk-snap-'));
  const stopWord = new SharedArrayBuffer(4);
  const stop = new Int32Array(stopWord);
  const worker = new Worker(new URL('./lib/snapshot-save-load.ts', import.meta.url), { workerData: { dir, mib: config.snapshotMiB, mibPerS, stopWord } });
  try {
    type Msg = { type: string; saves?: number; bytes?: number; seconds?: number };
    await nextMessage<Msg>(worker, 'snapshot-save-load', 'started');
    log(`${part}: journal.fsync batch beside ${config.snapshotMiB} MiB snapshot saves, ${mibPerS > 0 ? `paced at ${mibPerS} MiB/s` : 'written at once'}`);
    const cpu = watchCpu();
    // The measurement blocks this thread; the saves run on the worker's.
    const flush = trial(config.dir, 'batch', config);
    const share = cpu();
    requestStop(stop);
    const done = await nextMessage<Msg>(worker, 'snapshot-save-load', 'stopped');
    // Over the saves finished before the stop (none: 0).
    const mibPerSWritten = done.seconds ? roundTo((done.bytes ?? 0) / 2 ** 20 / done.seconds, 1) : 0;
    return { trial: { part, policy: 'batch', layout: 'preallocated', flush, cpu: share }, load: { part, saves: done.saves ?? 0, mibPerS: mibPerSWritten } };
  } finally {
    await worker.terminate();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The snapshot part: paced and unpaced saves in turn (which goes first alternates), `config.trials` of each. */
async function snapshotTrials(config: DiskBenchConfig, log: (line: string) => void): Promise<{ trials: DiskTrial[]; loads: SaveLoad[] }> {
  const trials: DiskTrial[] = [];
  const loads: SaveLoad[] = [];
  const paced = DEFAULT_CONFIG.journal.snapshotWriteMiBPerS;
  for (let i = 0; i < config.trials; i++) {
    const order: [Part, number][] = i % 2 === 0 ? [['snapshot', paced], ['snapshot-unpaced', 0]] : [['snapshot-unpaced', 0], ['snapshot', paced]];
    for (const [part, mibPerS] of order) {
      const r = await besideSaves(part, mibPerS, config, log);
      trials.push(r.trial);
      loads.push(r.load);
    }
  }
  return { trials, loads };
}

export interface DiskBenchReport {
  config: DiskBenchConfig;
  trials: DiskTrial[];
  postgresRowsPerS: number | null;
  /** The snapshot-save worker's saves and write rate per snapshot trial, in run order (empty without the part). */
  saveLoads: SaveLoad[];
  figures: Record<string, Figure>;
}

/** One percentile of the trials of `part` under `policy`: their median, and the spread as a figure's details. */
function over(ts: DiskTrial[], part: Part, policy: FsyncPolicy, key: 'p50' | 'p99' | 'p999', layout: Layout = 'preallocated'): { median: number; spread: { min: number; max: number; trials: number } } {
  const s = summarize(ts.filter((t) => t.part === part && t.policy === policy && t.layout === layout).map((t) => t.flush[key]));
  return { median: s.median, spread: { min: s.min, max: s.max, trials: s.runs } };
}

export async function runDiskBench(config: DiskBenchConfig, log: (line: string) => void = () => {}): Promise<DiskBenchReport> {
  const all = trials('alone', config, log, [...LAYOUTS, ['none', 'appended']]);
  all.push(...await besideBusyCores(() => trials('busy', config, log, LAYOUTS), log));
  let postgresRowsPerS: number | null = null;
  if (config.postgres) {
    const { result, rowsPerS } = await besidePostgres(() => trials('postgres', config, log), log);
    all.push(...result);
    postgresRowsPerS = rowsPerS;
  }
  let saveLoads: SaveLoad[] = [];
  if (config.snapshotMiB > 0) {
    const r = await snapshotTrials(config, log);
    all.push(...r.trials);
    saveLoads = r.loads;
  }
  const baselineOf = "the same flush under journal.fsync 'none' (a write into the page cache; nothing preallocated under 'none'), same run";
  const note = "each acknowledgement under journal.fsync 'batch' waits for at least one such flush (up to two: the one in flight when its event arrived, then its own): a p99 above 1000 us is above bench:ws's ack budget by itself";
  const alone50 = over(all, 'alone', 'batch', 'p50');
  const alone99 = over(all, 'alone', 'batch', 'p99');
  const figures: Record<string, Figure> = {
    journal_flush_fdatasync_p50_us: figure(alone50.median, 'us', '(report)', over(all, 'alone', 'none', 'p50', 'appended').median, baselineOf, alone50.spread),
    journal_flush_fdatasync_p99_us: figure(alone99.median, 'us', '(report)', over(all, 'alone', 'none', 'p99', 'appended').median, baselineOf, { ...alone99.spread, note }),
  };
  // Preallocated against appended segments, alone and with both cores busy.
  const ofAppended = 'the same flush into an appended segment (journal.preallocate false), same run';
  for (const [part, suffix] of [['alone', ''], ['busy', '_busy_cores']] as const) {
    for (const key of ['p50', 'p99'] as const) {
      const pre = over(all, part, 'batch', key);
      figures[`journal_flush_fdatasync_${key}_us_preallocated${suffix}`] = figure(pre.median, 'us', '(report)', over(all, part, 'batch', key, 'appended').median, ofAppended, {
        ...pre.spread, ...(part === 'busy' ? { note: 'beside two threads spinning at nice 0 for the whole trial (both cores busy, as the engine under load)' } : {}),
      });
    }
  }
  if (config.postgres) {
    const ofAlone = 'the same figure without the Postgres load, same run';
    const pg50 = over(all, 'postgres', 'batch', 'p50');
    const pg99 = over(all, 'postgres', 'batch', 'p99');
    figures.journal_flush_fdatasync_p50_us_beside_postgres = figure(pg50.median, 'us', '(report)', alone50.median, ofAlone, pg50.spread);
    figures.journal_flush_fdatasync_p99_us_beside_postgres = figure(pg99.median, 'us', '(report)', alone99.median, ofAlone, {
      ...pg99.spread, nosyncBaseline: over(all, 'postgres', 'none', 'p99', 'appended').median, postgresRowsPerS,
    });
  }
  if (config.snapshotMiB > 0) {
    const ofAlone = "the same figure alone (no snapshot saves), same run";
    const written = (part: Part): number => summarize(saveLoads.filter((l) => l.part === part).map((l) => l.mibPerS)).median;
    for (const [part, id, how] of [
      ['snapshot', 'journal_flush_fdatasync_p99_us_beside_snapshot_save', `saves paced as the snapshot thread paces them (journal.snapshotWriteMiBPerS ${DEFAULT_CONFIG.journal.snapshotWriteMiBPerS}, fdatasynced every ${PACED_CHUNK_BYTES / 1024} KiB)`],
      ['snapshot-unpaced', 'journal_flush_fdatasync_p99_us_beside_unpaced_snapshot_save', 'saves written at once, then one fsync (journal.snapshotWriteMiBPerS 0; how a start writes its saves, before trading)'],
    ] as const) {
      const p99 = over(all, part, 'batch', 'p99');
      figures[id] = figure(p99.median, 'us', '(report)', alone99.median, ofAlone, {
        ...p99.spread, p999: over(all, part, 'batch', 'p999').median, aloneP999: over(all, 'alone', 'batch', 'p999').median,
        snapshotMiB: config.snapshotMiB, savesMiBPerS: written(part), note: `${how}, one save after another for the whole trial`,
      });
    }
  }
  return { config, trials: all, postgresRowsPerS, saveLoads, figures };
}

async function main(): Promise<void> {
  const args = new BenchArgs(process.argv.slice(2));
  const quick = args.has('--quick');
  const config: DiskBenchConfig = { ...(quick ? QUICK_CONFIG : FULL_CONFIG) };
  config.trials = args.num('--trials', config.trials, 1);
  config.seconds = args.num('--seconds', config.seconds, 0.1);
  config.dir = args.value('--dir') ?? config.dir;
  if (args.has('--no-postgres')) config.postgres = false;
  config.snapshotMiB = args.num('--snapshot-mib', config.snapshotMiB, 0);
  const out = args.value('--out') ?? null;
  args.rejectUnknown();
  console.log(`machine: ${formatMachineInfo(machineInfo())}`);
  console.log(`disk bench: ${config.trials} trial(s) x ${config.seconds} s per policy, one ${config.frameBytes}-byte frame per flush, ${config.gapMs} ms apart, in ${config.dir}${config.postgres ? ', then beside a Postgres write load' : ''}` +
    `${config.snapshotMiB > 0 ? `, then beside ${config.snapshotMiB} MiB snapshot saves (paced, and at once)` : ''}`);
  const report = await runDiskBench(config, (line) => console.log(line));
  printTable('Journal flush (us)', ['part', 'journal.fsync', 'segment', 'flushes', 'p50', 'p90', 'p99', 'p99.9', 'max', 'steal s'],
    report.trials.map((t) => [t.part, t.policy, t.layout, t.flush.count, t.flush.p50, t.flush.p90, t.flush.p99, t.flush.p999, t.flush.max, t.cpu.stealS ?? '-']));
  if (report.postgresRowsPerS !== null) console.log(`postgres load: ${report.postgresRowsPerS} rows/s inserted during its trials`);
  for (const l of report.saveLoads) console.log(`${l.part}: ${l.saves} saves of ${config.snapshotMiB} MiB, ${l.mibPerS} MiB/s written`);
  if (quick && out === null) return;
  const path = writeResults('disk', { ...config }, report.figures, { trials: report.trials, postgresRowsPerS: report.postgresRowsPerS, saveLoads: report.saveLoads }, out ?? undefined);
  console.log(`wrote ${path}`);
}

if (isMainModule(import.meta.url)) await main();
