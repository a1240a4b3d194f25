/**
 * Smoke test of bench/ws.bench.ts, so the benchmark cannot rot: `bench:ws --quick` (one low
 * rate, a short run, few connections, one trial) runs as a command against the real engine with
 * its venue simulators, the naive pipeline and the stub, writing its results into a temporary
 * directory; the file must have the shape /work/shared/BENCH.md fixes and account for every
 * order. Asserts no speed.
 */

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BASELINE_OF, QUICK_CONFIG, rateLabel } from './ws.bench.ts';

const BENCH = fileURLToPath(new URL('./ws.bench.ts', import.meta.url));

describe('ws bench (smoke)', () => {
  it('--quick measures engine (and the engine in another threading mode), naive pipeline and stub, and writes ws.json in the BENCH.md format', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ws-bench-smoke-'));
    try {
      // --idle-spins 0 (the default, pinned here): a stage parks at its first empty poll, so at
      // this low rate every stage thread sleeps between orders (the parks asserted below).
      const run = spawnSync(process.execPath, [BENCH, '--quick', '--threading', 'dedicated', '--compare-threading', 'dedicated,shared', '--idle-spins', '0', '--journal-fsync', 'interval', '--compare-journal-fsync', 'interval,batch', '--compare-client', 'true', '--out', dir], { encoding: 'utf8', timeout: 110_000 });
      expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
      expect(run.stdout).toMatch(/^machine: \d+ cpus/m);
      const results = JSON.parse(readFileSync(join(dir, 'ws.json'), 'utf8'));
      expect(results.name).toBe('ws');
      expect(results.runAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(Object.keys(results.machine).sort()).toEqual(['cpuModel', 'cpus', 'memGiB', 'node', 'os']);
      expect(results.params.rates).toEqual(QUICK_CONFIG.rates);
      expect(results.params.idleSpins).toBe(0);
      // --journal-fsync is validated into the engine configuration the targets start with (reported as engine.journalFsync).
      expect(results.params.journalFsync).toBe('interval');
      expect(results.engine.journalFsync).toBe('interval');

      const rate = QUICK_CONFIG.rates[0];
      const f = results.figures[`order_ack_p99_us_at_${rateLabel(rate)}`];
      expect(f).toMatchObject({ unit: 'us', goal: '(report)', met: null, baselineOf: BASELINE_OF, rate, allAcked: true });
      expect(f.value).toBeGreaterThan(0);
      expect(f.baseline).toBeGreaterThan(0);
      expect(results.figures[`engine_cpu_pct_at_${rateLabel(rate)}`].unit).toBe('%');
      // What an order costs the engine: CPU per order beside the naive pipeline's, and thread
      // parks per order beside the shared engine's, read from the engine's own /health counters.
      const cpu = results.figures[`engine_cpu_us_per_order_at_${rateLabel(rate)}`];
      expect(cpu).toMatchObject({ unit: 'us', goal: '(report)', met: null, rate });
      expect(cpu.value).toBeGreaterThan(0);
      expect(cpu.baseline).toBeGreaterThan(0);
      const parks = results.figures[`engine_parks_per_order_at_${rateLabel(rate)}`];
      expect(parks).toMatchObject({ unit: 'parks/order', goal: '(report)', threading: 'dedicated', baselineOf: 'the engine with threading shared, same rate, same run' });
      // Every IOC order passes every stage thread, and each sleeps between orders at this rate.
      expect(parks.value).toBeGreaterThanOrEqual(1);
      // Not null first: toBeGreaterThan(null) throws a TypeError that drops the message (why the parks were not read).
      const sharedParks = `the shared engine's parks: ${results.percentilesUsByRate[rate]['engine-shared']?.trials[0]?.parksProblem}`;
      expect(parks.baseline, sharedParks).not.toBeNull();
      expect(parks.baseline, sharedParks).toBeGreaterThan(0);
      for (const stage of ['ingest', 'risk', 'sor', 'fix', 'persistence']) expect(parks.byStage[stage], stage).toBeGreaterThan(0);
      // The stages add up to the total (each rounded to 0.01), and a window that took in the
      // warm-up or the drain, or a wrong divisor, would not stay within tens per order.
      const sum = Object.values(parks.byStage as Record<string, number>).reduce((a, b) => a + b, 0);
      expect(Math.abs(sum - parks.value)).toBeLessThanOrEqual(0.03);
      expect(parks.value).toBeLessThan(60);
      // The engine in shared threading, measured in the same run as a target of its own; the
      // first engine's mode (dedicated) is not measured twice.
      const shared = results.figures[`order_ack_p99_us_at_${rateLabel(rate)}_shared`];
      expect(shared).toMatchObject({ unit: 'us', goal: '(report)', baselineOf: BASELINE_OF, threading: 'shared', allAcked: true });
      expect(shared.value).toBeGreaterThan(0);
      expect(shared.baseline).toBe(f.baseline);
      expect(results.params.compareThreading).toEqual(['shared']);
      // The engine under journal.fsync batch, in the same run and the first engine's threading;
      // the first engine's policy (interval) is not measured twice.
      const batch = results.figures[`order_ack_p99_us_at_${rateLabel(rate)}_fsync_batch`];
      expect(batch).toMatchObject({ unit: 'us', goal: '(report)', baselineOf: BASELINE_OF, journalFsync: 'batch', defaultEngineP99: f.value, allAcked: true });
      expect(batch.p50).toBeGreaterThan(0);
      expect(batch.baseline).toBe(f.baseline);
      expect(results.params.compareJournalFsync).toEqual(['batch']);

      // The load generator: the native client by default, and the same engine process measured
      // with the Node client too (--compare-client), its p99 beside the native client's.
      expect(results.params.client).toBe('native');
      expect(results.harness.client).toMatch(/ws-load\.c/);
      expect(results.harness.comparedClient).toMatchObject({ id: 'node' });
      expect(results.harness.comparedClient.client).toMatch(/^ws \d/);
      const viaNode = results.figures[`order_ack_p99_us_at_${rateLabel(rate)}_node_client`];
      expect(viaNode).toMatchObject({ unit: 'us', goal: '(report)', client: 'node', baseline: f.value, allAcked: true });
      expect(viaNode.baselineOf).toMatch(/measured with the native client/);
      expect(viaNode.value).toBeGreaterThan(0);

      const orders = Math.round((rate * (QUICK_CONFIG.warmupS + QUICK_CONFIG.durationS)));
      for (const target of ['engine', 'engine-shared', 'engine-fsync-batch', 'engine-node-client', 'naive', 'stub']) {
        const s = results.percentilesUsByRate[rate][target];
        expect(s.trials).toHaveLength(1);
        const t = s.trials[0];
        expect(t.counts).toMatchObject({ orders, sent: orders, acked: orders, rejected: 0, timedOut: 0, unsent: 0 });
        expect(t.latencyUs.count).toBe(Math.round(rate * QUICK_CONFIG.durationS));
        for (const key of ['p50', 'p90', 'p99', 'p999', 'max']) expect(s.medianUs[key]).toBeGreaterThan(0);
        expect(t.latencyUs.max).toBeGreaterThanOrEqual(t.latencyUs.p99);
        // The load generator's own CPU over the window (it sent and read every order): above 0.
        expect(t.generatorCpuPct, 'load generator CPU %').toBeGreaterThan(0);
        expect(s.generatorCpuUsPerOrder).toBeGreaterThan(0);
        // Parks are the engine's: read for both engines, absent for the naive pipeline and the stub.
        if (target.startsWith('engine')) {
          expect(t.parksProblem).toBeNull();
          expect(t.parksPerOrder).toBeGreaterThan(0);
        } else {
          expect(t.parksPerOrder).toBeNull();
        }
      }

      // The HDR percentile plot: one line per rate and target.
      const html = readFileSync(join(dir, 'ws-plot.html'), 'utf8');
      for (const target of ['engine', 'engine-shared', 'naive', 'stub']) expect(html).toContain(`<path class="series" data-label="${target} ${rate}/s"`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('--target-node-args reaches the target processes: --cpu-prof writes a profile per engine thread', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ws-bench-prof-'));
    const prof = join(dir, 'prof');
    try {
      const options = `--cpu-prof --cpu-prof-dir=${prof}`;
      const run = spawnSync(process.execPath, [BENCH, '--quick', '--compare-threading', '', '--floor-trials', '0', '--threading', 'dedicated', '--target-node-args', options, '--out', dir], { encoding: 'utf8', timeout: 80_000 });
      expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
      const pidOf = (label: string): string => {
        const m = new RegExp(`${label} ready on port \\d+ \\(pid (\\d+)`).exec(run.stdout);
        expect(m, run.stdout).not.toBeNull();
        return m![1];
      };
      // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile, written as each thread exits.
      const profiles = (pid: string): number => readdirSync(prof).filter((f) => f.split('.')[3] === pid && f.endsWith('.cpuprofile')).length;
      // dedicated: the main thread and the five stage threads (persistence, risk, sor, fix, ingest).
      expect(profiles(pidOf('engine'))).toBeGreaterThanOrEqual(6);
      expect(profiles(pidOf('naive \\(postMessage\\+JSON\\)'))).toBeGreaterThanOrEqual(1);
      expect(JSON.parse(readFileSync(join(dir, 'ws.json'), 'utf8')).params.targetNodeOptions).toEqual(['--cpu-prof', `--cpu-prof-dir=${prof}`]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
