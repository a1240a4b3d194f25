/**
 * Goal: a trial's engine-internal percentiles come from what the engine recorded inside the
 * window only. Method: record into a real SharedHistogram before a snapshot, then more values,
 * snapshot again; the difference must hold exactly the later values, and its percentiles must
 * bound them from above within one bucket (25 %).
 */
import { describe, expect, it } from 'vitest';
import { SharedHistogram } from '../../engine/shared-histogram.ts';
import { diffSnapshot, latencyOf, windowLatencies } from './e2e-engine-latency.ts';

describe('engine latency of a window (snapshot difference)', () => {
  it('holds only the values recorded between the snapshots', () => {
    const h = SharedHistogram.create();
    for (let i = 0; i < 1000; i++) h.record(5_000_000); // 5 ms, before the window
    const before = h.snapshot();
    for (let i = 1; i <= 1000; i++) h.record(i * 1000); // 1 .. 1000 us, inside it
    const w = latencyOf(diffSnapshot(before, h.snapshot()));
    expect(w.count).toBe(1000);
    expect(w.p50).toBeGreaterThanOrEqual(500);
    expect(w.p50).toBeLessThanOrEqual(500 * 1.25);
    expect(w.p99).toBeGreaterThanOrEqual(990);
    expect(w.p99).toBeLessThanOrEqual(990 * 1.25);
    expect(w.max).toBeGreaterThanOrEqual(1000);
    expect(w.max).toBeLessThan(5000); // the 5 ms values before the window are not in it
  });

  it('is empty for a target without engine histograms', () => {
    expect(windowLatencies(null, null)).toEqual({});
    const h = SharedHistogram.create();
    const s = h.snapshot();
    expect(windowLatencies({ x: s }, { x: s }).x.count).toBe(0);
  });
});
