/**
 * Disk benchmark: what the journal's group commit costs on this machine's disk, the floor under
 * every acknowledgement with journal.fsync 'batch' (the default: a report leaves the process only
 * once its event is fdatasynced; docs/TUNING.md "The disk").
 *
 *   ours:     JournalWriter.flush() of one appended frame under 'batch': one write, one fdatasync
 *   baseline: the same flush under 'none': the write into the page cache alone
 *
 * Each trial writes for `seconds`, one frame of `frameBytes` per flush and a pause of `gapMs`
 * between flushes (the persistence thread flushes whenever a ring has records; at light load,
 * one small batch at a time), timing each flush into an HDR histogram (µs). Trials alternate
 * the two policies, and which goes first alternates too, so drift on a shared VM falls on both. Then the same again beside a Postgres
 * write load on the same disk (a throwaway server from scripts/postgres.ts with fsync on, in its
 * temp directory, and bench/lib/pg-insert-load.ts inserting as fast as it can): the Postgres sink
 * shares the machine's disk with the journal. --no-postgres leaves that part out.
 *
 * Figures: the median over trials of each trial's p50 and p99, baseline the 'none' trials' (and
 * for the Postgres part, the same figure alone). No goal of DESIGN.md speaks of the disk; the
 * note compares its p99 with the 1 ms ack budget of bench:ws.
 *
 * Run: `npm run bench:disk` (writes bench/results/disk.json); --quick (one short trial each, no
 * Postgres; writes only with --out), --out DIR, --trials N, --seconds S, --dir D (default: a
 * directory under data/, the disk of the default journal.dir). runDiskBench is exported for the
 * smoke test.
 */
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { JournalWriter, type FsyncPolicy } from '../persistence/journal.ts';
import { startPostgres } from '../scripts/postgres.ts';
import { BenchArgs } from './lib/args.ts';
import { createUsHistogram, percentilesUs, recordLatencyMs, type PercentilesUs } from './lib/histogram-us.ts';
import { formatMachineInfo, machineInfo, watchCpu, type CpuShare } from './lib/machine.ts';
import { isMainModule } from './lib/main.ts';
import { figure, writeResults, type Figure } from './lib/results.ts';
import { summarize } from './lib/stats.ts';
import { printTable } from './lib/table.ts';

export interface DiskBenchConfig {
  trials: number;
  seconds: number;
  frameBytes: number;
  gapMs: number;
  postgres: boolean;
  /** Where the trial journals are written (a fresh directory inside it per trial). */
  dir: string;
}

const DATA_DIR = fileURLToPath(new URL('../data/', import.meta.url));
export const FULL_CONFIG: DiskBenchConfig = { trials: 3, seconds: 5, frameBytes: 512, gapMs: 1, postgres: true, dir: DATA_DIR };
export const QUICK_CONFIG: DiskBenchConfig = { trials: 1, seconds: 0.3, frameBytes: 512, gapMs: 1, postgres: false, dir: DATA_DIR };

type Part = 'alone' | 'postgres';
export interface DiskTrial {
  part: Part;
  policy: FsyncPolicy;
  flush: PercentilesUs;
  cpu: CpuShare;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** One trial: `seconds` of one-frame flushes under `policy` into a fresh journal in `root`. */
function trial(root: string, policy: FsyncPolicy, config: DiskBenchConfig): PercentilesUs {
  mkdirSync(root, { recursive: true });
  const dir = mkdtempSync(join(root, 'bench-disk-'));
  const h = createUsHistogram();
  try {
    const w = new JournalWriter(dir, policy, 10, 1 << 20, { engineEpochMs: Date.now() });
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

function trials(part: Part, config: DiskBenchConfig, log: (line: string) => void): DiskTrial[] {
  const out: DiskTrial[] = [];
  for (let i = 0; i < config.trials; i++) {
    // Who goes first alternates between trials (batch, none; none, batch; ...).
    const order: FsyncPolicy[] = i % 2 === 0 ? ['batch', 'none'] : ['none', 'batch'];
    for (const policy of order) {
      log(`${part}: trial ${i + 1}/${config.trials}, journal.fsync ${policy}`);
      const cpu = watchCpu();
      const flush = trial(config.dir, policy, config);
      out.push({ part, policy, flush, cpu: cpu() });
    }
  }
  return out;
}

/** A Postgres write load on this disk for the duration of `during`; returns what `during` returns and the rows/s. */
async function besidePostgres<T>(during: () => T, log: (line: string) => void): Promise<{ result: T; rowsPerS: number }> {
  const db = await startPostgres({ durable: true });
  try {
    const worker = new Worker(new URL('./lib/pg-insert-load.ts', import.meta.url), { workerData: { url: db.url } });
    type Msg = { type: string; rows?: number; seconds?: number };
    // The worker posts 'started', then 'stopped' only once told to stop: in order, one at a time
    // (once() rejects on the worker's 'error').
    const next = async (type: string): Promise<Msg> => {
      const [m] = (await once(worker, 'message')) as [Msg];
      if (m.type !== type) throw new Error(`pg-insert-load: expected '${type}', got '${m.type}'`);
      return m;
    };
    try {
      await next('started');
      log('postgres write load running');
      // The measurement blocks this thread; the load runs on the worker's.
      const result = during();
      worker.postMessage('stop');
      const done = await next('stopped');
      return { result, rowsPerS: Math.round((done.rows ?? 0) / (done.seconds ?? 1)) };
    } finally {
      await worker.terminate();
    }
  } finally {
    await db.stop();
  }
}

export interface DiskBenchReport {
  config: DiskBenchConfig;
  trials: DiskTrial[];
  postgresRowsPerS: number | null;
  figures: Record<string, Figure>;
}

/** One percentile of the trials of `part` under `policy`: their median, and the spread as a figure's details. */
function over(ts: DiskTrial[], part: Part, policy: FsyncPolicy, key: 'p50' | 'p99'): { median: number; spread: { min: number; max: number; trials: number } } {
  const s = summarize(ts.filter((t) => t.part === part && t.policy === policy).map((t) => t.flush[key]));
  return { median: s.median, spread: { min: s.min, max: s.max, trials: s.runs } };
}

export async function runDiskBench(config: DiskBenchConfig, log: (line: string) => void = () => {}): Promise<DiskBenchReport> {
  const all = trials('alone', config, log);
  let postgresRowsPerS: number | null = null;
  if (config.postgres) {
    const { result, rowsPerS } = await besidePostgres(() => trials('postgres', config, log), log);
    all.push(...result);
    postgresRowsPerS = rowsPerS;
  }
  const baselineOf = "the same flush under journal.fsync 'none' (a write into the page cache), same run";
  const note = "each acknowledgement under journal.fsync 'batch' waits for at least one such flush (up to two: the one in flight when its event arrived, then its own): a p99 above 1000 us is above bench:ws's ack budget by itself";
  const alone50 = over(all, 'alone', 'batch', 'p50');
  const alone99 = over(all, 'alone', 'batch', 'p99');
  const figures: Record<string, Figure> = {
    journal_flush_fdatasync_p50_us: figure(alone50.median, 'us', '(report)', over(all, 'alone', 'none', 'p50').median, baselineOf, alone50.spread),
    journal_flush_fdatasync_p99_us: figure(alone99.median, 'us', '(report)', over(all, 'alone', 'none', 'p99').median, baselineOf, { ...alone99.spread, note }),
  };
  if (config.postgres) {
    const ofAlone = 'the same figure without the Postgres load, same run';
    const pg50 = over(all, 'postgres', 'batch', 'p50');
    const pg99 = over(all, 'postgres', 'batch', 'p99');
    figures.journal_flush_fdatasync_p50_us_beside_postgres = figure(pg50.median, 'us', '(report)', alone50.median, ofAlone, pg50.spread);
    figures.journal_flush_fdatasync_p99_us_beside_postgres = figure(pg99.median, 'us', '(report)', alone99.median, ofAlone, {
      ...pg99.spread, nosyncBaseline: over(all, 'postgres', 'none', 'p99').median, postgresRowsPerS,
    });
  }
  return { config, trials: all, postgresRowsPerS, figures };
}

async function main(): Promise<void> {
  const args = new BenchArgs(process.argv.slice(2));
  const quick = args.has('--quick');
  const config: DiskBenchConfig = { ...(quick ? QUICK_CONFIG : FULL_CONFIG) };
  config.trials = args.num('--trials', config.trials, 1);
  config.seconds = args.num('--seconds', config.seconds, 0.1);
  config.dir = args.value('--dir') ?? config.dir;
  if (args.has('--no-postgres')) config.postgres = false;
  const out = args.value('--out') ?? null;
  args.rejectUnknown();
  console.log(`machine: ${formatMachineInfo(machineInfo())}`);
  console.log(`disk bench: ${config.trials} trial(s) x ${config.seconds} s per policy, one ${config.frameBytes}-byte frame per flush, ${config.gapMs} ms apart, in ${config.dir}${config.postgres ? ', then beside a Postgres write load' : ''}`);
  const report = await runDiskBench(config, (line) => console.log(line));
  printTable('Journal flush (us)', ['part', 'journal.fsync', 'flushes', 'p50', 'p90', 'p99', 'p99.9', 'max', 'steal s'],
    report.trials.map((t) => [t.part, t.policy, t.flush.count, t.flush.p50, t.flush.p90, t.flush.p99, t.flush.p999, t.flush.max, t.cpu.stealS ?? '-']));
  if (report.postgresRowsPerS !== null) console.log(`postgres load: ${report.postgresRowsPerS} rows/s inserted during its trials`);
  if (quick && out === null) return;
  const path = writeResults('disk', { ...config }, report.figures, { trials: report.trials, postgresRowsPerS: report.postgresRowsPerS }, out ?? undefined);
  console.log(`wrote ${path}`);
}

if (isMainModule(import.meta.url)) await main();
