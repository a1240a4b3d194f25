/**
 * Smoke test of bench/sor.bench.ts, so the benchmark cannot rot. Goal: every figure the benchmark
 * reports exists with positive, finite percentiles, the 5-venue figure carries the goal and a
 * same-run naive baseline, and the stage really routed (children and audits written: the checksum
 * of work). Method: runSorBench with the quick settings (100 ms per task). Asserts no speed.
 */
import { describe, expect, it } from 'vitest';
import { GOAL_5, QUICK_CONFIG, VENUE_COUNTS, runSorBench } from './sor.bench.ts';

const positive = (x: unknown) => typeof x === 'number' && Number.isFinite(x) && x > 0;

describe('sor bench (smoke)', () => {
  it('reports decision percentiles for 3, 5 and 10 venues beside the naive baseline', async () => {
    const r = await runSorBench(QUICK_CONFIG);
    for (const n of VENUE_COUNTS) {
      const f = r.figures[`decision_p99_us_${n}_venues`];
      expect(positive(f.value)).toBe(true);
      expect(positive(f.baseline)).toBe(true);
      expect(f.p50 as number).toBeLessThanOrEqual(f.value);
      expect(positive(r.figures[`decision_single_best_p99_us_${n}_venues`].value)).toBe(true);
    }
    expect(r.figures.decision_p99_us_5_venues.goal).toBe(GOAL_5);
    expect(typeof r.figures.decision_p99_us_5_venues.met).toBe('boolean');
    // SPLIT over n venues at the touch: n children per order, one audit per order.
    for (const row of r.table as { venues: number; childrenPerSplitOrder: number }[]) expect(row.childrenPerSplitOrder).toBe(row.venues);
    expect(r.checksum).toBeGreaterThan(0);
  }, 60_000);
});
