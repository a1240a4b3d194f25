/**
 * Smoke test of bench/e2e.bench.ts, so the benchmark cannot rot: `bench:e2e --quick` (one low
 * fixed rate and one sweep rate, short runs, few WebSocket connections and FIX sessions) runs as
 * a command against the real engine with its venue simulators and the naive pipeline, writing
 * into a temporary directory. The file must have the shape /work/shared/BENCH.md fixes, every
 * figure a finite number, every order accounted for, and the mixed workload must really have
 * filled and canceled orders through both transports. Asserts no speed.
 */

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { NAIVE_BASELINE_OF, QUICK_CONFIG, medianRun, rateOrder, sustainedRate, type RunRow } from './e2e.bench.ts';
import { createUsHistogram, encodeHistogram, mergeEncoded } from './lib/histogram-us.ts';
import { rateLabel } from './ws.bench.ts';

const BENCH = fileURLToPath(new URL('./e2e.bench.ts', import.meta.url));

interface Counts { orders: number; sent: number; acked: number; rejected: number; timedOut: number; unsent: number; fillOrders: number; filled: number; unfilled: number; fillTimedOut: number; cancelsSent: number; canceled: number; cancelRejected: number; cancelTimedOut: number }

describe('e2e bench (smoke)', () => {
  it('sustained rate: the highest rate below which every run held', () => {
    expect(sustainedRate([{ rate: 2000, held: true }, { rate: 1000, held: true }, { rate: 5000, held: false }, { rate: 10000, held: true }])).toBe(2000);
    expect(sustainedRate([{ rate: 1000, held: false }, { rate: 2000, held: true }])).toBe(0);
    expect(rateOrder({ ...QUICK_CONFIG, rates: [10, 30], sweepRates: [20, 30] })).toEqual([10, 20, 30]);
  });

  it('trials: a row of medians, counts summed, held by the median trial and only if every order of every trial was answered', () => {
    const hist = (us: number): string => {
      const h = createUsHistogram();
      h.recordValue(us);
      const out = encodeHistogram(h);
      h.destroy();
      return out;
    };
    const zero = { orders: 0, sent: 0, acked: 0, rejected: 0, timedOut: 0, unsent: 0, duplicates: 0, unmatched: 0, connectErrors: 0, disconnects: 0,
      fillOrders: 0, filled: 0, unfilled: 0, fillTimedOut: 0, cancelsSent: 0, canceled: 0, cancelRejected: 0, cancelTimedOut: 0, cancelsUnsent: 0 };
    const pct = (p99: number) => ({ count: 10, p50: p99 / 10, p90: p99 / 2, p99, p999: p99 * 2, max: p99 * 3, mean: p99 / 8 });
    const row = (p99: number, over: Partial<RunRow> = {}, counts: Partial<typeof zero> = {}): RunRow => ({
      rate: 1000, target: 'engine', workload: 'mixed', ackUs: pct(p99), fillUs: pct(p99 * 4), cancelUs: pct(p99 * 2), sendLagUs: pct(10),
      counts: { ...zero, orders: 10, sent: 10, acked: 10, ...counts }, rejectReasons: { X: 1 },
      byTransport: { ws: { latencyUs: pct(p99), counts: { ...zero, orders: 10, acked: 10 } } },
      engineUs: { sor_ingest_to_decision: { count: 10, p50: 1, p90: 2, p99: p99 / 100, p999: 4, max: 5 } },
      usage: { cpuPct: p99 / 100, runQueuePct: p99 / 50, rssMaxMiB: p99 / 10, helpersCpuPct: null, generatorCpuPct: p99 / 20, otherCpuPct: 1, stealPct: p99 / 1000 }, allAcked: (counts.acked ?? 10) === 10,
      held: p99 <= 5000, heldSeedBound: true, hist: { ack: hist(p99), fill: hist(p99 * 4), cancel: hist(p99 * 2) }, ...over,
    });
    const bounds = { boundUs: 5000, seedBoundUs: 250_000 };
    // One slow trial of three does not move the figure or fail the rate; two do.
    const m = medianRun([row(3000), row(90_000), row(4000)], bounds);
    expect(m.ackUs.p99).toBe(4000);
    expect(m.ackUs.max).toBe(270_000); // the worst of any trial, not a median
    expect(m.ackUs.count).toBe(30);
    expect(m.fillUs.p99).toBe(16_000);
    expect(m.engineUs.sor_ingest_to_decision.p99).toBe(40);
    expect(m.engineUs.sor_ingest_to_decision.count).toBe(30);
    expect(m.counts.orders).toBe(30);
    expect(m.byTransport.ws.counts.acked).toBe(30);
    expect(m.rejectReasons).toEqual({ X: 3 });
    expect(m.usage).toEqual({ cpuPct: 40, runQueuePct: 80, rssMaxMiB: 9000, helpersCpuPct: null, generatorCpuPct: 200, otherCpuPct: 1, stealPct: 4 });
    expect([m.held, m.heldSeedBound]).toEqual([true, true]);
    expect(m.trials!.map((t) => t.ackP99Us)).toEqual([3000, 90_000, 4000]);
    const merged = mergeEncoded([m.hist.ack]);
    expect(merged.totalCount).toBe(3);
    merged.destroy();
    expect(medianRun([row(3000), row(90_000), row(6000)], bounds).held).toBe(false);
    // An unanswered order or fill in any trial fails the rate, whatever the latencies.
    expect(medianRun([row(3000), row(3000, {}, { acked: 9, timedOut: 1 }), row(3000)], bounds).held).toBe(false);
    expect(medianRun([row(3000), row(3000, {}, { fillTimedOut: 1 }), row(3000)], bounds).held).toBe(false);
    expect(medianRun([row(3000), row(3000, {}, { fillTimedOut: 1 }), row(3000)], bounds).heldSeedBound).toBe(false);
    expect(() => medianRun([row(3000), row(3000, { rate: 2000 })], bounds)).toThrow(/one rate/);
    expect(() => medianRun([], bounds)).toThrow(/at least one/);
    // A trial that recorded no fill is left out of the fill percentiles, not counted as 0.
    const noFill = row(3000);
    noFill.fillUs = { count: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 };
    expect(medianRun([noFill, row(3000), row(3000)], bounds).fillUs.p99).toBe(12_000);
    // A transport seen only in a later trial is kept.
    const withFix = row(3000);
    withFix.byTransport = { ...withFix.byTransport, fix: { latencyUs: pct(2000), counts: { ...zero, orders: 4, acked: 4 } } };
    expect(medianRun([row(3000), withFix], bounds).byTransport.fix.counts.acked).toBe(4);
  });

  it('--quick measures engine (WebSocket + FIX) and naive pipeline, and writes e2e.json in the BENCH.md format', () => {
    const dir = mkdtempSync(join(tmpdir(), 'e2e-bench-smoke-'));
    try {
      const run = spawnSync(process.execPath, [BENCH, '--quick', '--out', dir], { encoding: 'utf8', timeout: 110_000 });
      expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
      expect(run.stdout).toMatch(/^machine: \d+ cpus/m);
      const results = JSON.parse(readFileSync(join(dir, 'e2e.json'), 'utf8'));
      expect(results.name).toBe('e2e');
      expect(results.runAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(Object.keys(results.machine).sort()).toEqual(['cpuModel', 'cpus', 'memGiB', 'node', 'os']);
      expect(results.params.rates).toEqual(QUICK_CONFIG.rates);

      const label = rateLabel(QUICK_CONFIG.rates[0]);
      const ids = Object.keys(results.figures);
      for (const id of [`ingest_to_route_p99_us_at_${label}`, `order_to_fill_p99_us_at_${label}`, `cancel_to_canceled_p99_us_at_${label}`,
        `mixed_order_ack_p99_us_at_${label}`, `order_ack_p99_us_at_${label}`, 'sustained_orders_per_s', 'sustained_orders_per_s_at_seed_bound']) expect(ids).toContain(id);
      expect(ids.some((id) => id.startsWith('seed_target_ingest_to_route_p99_ms_at_'))).toBe(true);
      for (const [id, f] of Object.entries(results.figures) as [string, Record<string, unknown>][]) {
        expect(Number.isFinite(f.value), id).toBe(true);
        expect(typeof f.unit, id).toBe('string');
        expect(typeof f.goal, id).toBe('string');
        expect(f.met === null || typeof f.met === 'boolean', id).toBe(true);
        expect(f.baseline === null || Number.isFinite(f.baseline), id).toBe(true);
      }
      expect(results.figures.sustained_orders_per_s.goal).toBe('>= 50000');
      expect(results.figures.sustained_orders_per_s.baseline).toBe(results.figures.sustained_orders_per_s_at_seed_bound.value);
      expect(results.figures.sustained_orders_per_s.baselineOf).toMatch(/seeds' bound/);
      expect(results.figures[`order_ack_p99_us_at_${label}`].baselineOf).toBe(NAIVE_BASELINE_OF);
      expect(results.figures[`order_ack_p99_us_at_${label}`].baseline).toBeGreaterThan(0);
      const route = results.figures[`ingest_to_route_p99_us_at_${label}`];
      expect(route.value).toBeGreaterThan(0);
      // Beside it, the naive pipeline's own ingest -> routing decision, and the engine's on the same ack-only workload.
      expect(route.baseline).toBeGreaterThan(0);
      expect(route.baselineOf).toMatch(/^postMessage\+JSON pipeline, ingest -> routing decision/);
      expect(route.engineAckOnlyP99).toBeGreaterThan(0);
      // The engine's run-queue wait per order: the mixed run's share of the window over its rate
      // (absent where /proc gives no schedstat).
      const rate0 = QUICK_CONFIG.rates[0];
      const engineMixed = (results.runs as { rate: number; target: string; workload: string; usage: { runQueuePct: number | null } }[])
        .find((r) => r.target === 'engine' && r.workload === 'mixed' && r.rate === rate0)!;
      const wait = results.figures[`engine_run_queue_us_per_order_at_${label}`];
      if (engineMixed.usage.runQueuePct === null) expect(wait).toBeUndefined();
      else {
        expect(wait.unit).toBe('us');
        expect(wait.rate).toBe(rate0);
        expect(wait.runQueuePct).toBe(engineMixed.usage.runQueuePct);
        expect(Math.abs(wait.value - (engineMixed.usage.runQueuePct * 10_000) / rate0)).toBeLessThanOrEqual(0.5);
      }

      const runs = results.runs as { rate: number; target: string; workload: string; counts: Counts; byTransport: Record<string, { counts: Counts }>; ackUs: Record<string, number>; engineUs: Record<string, { count: number }> }[];
      expect(runs.filter((r) => r.workload === 'ack').map((r) => r.target).sort()).toEqual(['engine', 'naive']);
      for (const r of runs) {
        const c = r.counts;
        // Every order is accounted for: acked, refused, timed out or never sent.
        expect(c.acked + c.rejected + c.timedOut + c.unsent).toBe(c.orders);
        expect(c.orders).toBeGreaterThan(0);
        expect(r.ackUs.max).toBeGreaterThanOrEqual(r.ackUs.p99);
        expect(c.filled + c.unfilled + c.fillTimedOut).toBeLessThanOrEqual(c.fillOrders);
        expect(c.canceled + c.cancelRejected + c.cancelTimedOut).toBeLessThanOrEqual(c.cancelsSent);
      }
      const mixed = runs.find((r) => r.target === 'engine' && r.workload === 'mixed' && r.rate === QUICK_CONFIG.rates[0])!;
      expect(Object.keys(mixed.byTransport).sort()).toEqual(['fix', 'ws']);
      for (const t of ['ws', 'fix']) {
        const c = mixed.byTransport[t].counts;
        expect(c.acked, t).toBeGreaterThan(0);
        expect(c.filled, t).toBeGreaterThan(0); // marketable orders really trade at the simulators
        expect(c.canceled, t).toBeGreaterThan(0);
      }
      expect(mixed.engineUs.sor_ingest_to_decision.count).toBeGreaterThan(0);

      // The HDR percentile plot: one line per rate (order -> ack, first fill; naive).
      const html = readFileSync(join(dir, 'e2e-plot.html'), 'utf8');
      const rate = QUICK_CONFIG.rates[0];
      for (const series of [`engine ack ${rate}/s`, `engine fill ${rate}/s`, `naive ack ${rate}/s`]) expect(html).toContain(`data-label="${series}"`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000); // a shared 2-core machine can take several times the run's ~10 s
});
