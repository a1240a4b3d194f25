/**
 * Goal: a target's summary over trials quotes what an order cost it: CPU per order from its CPU
 * share at the rate, and the engine's parks per order as the median of the trials that read
 * them, to 0.01 (at high rates it is a fraction of one). Method: known trials.
 */

import { describe, expect, it } from 'vitest';
import { createUsHistogram, encodeHistogram } from './histogram-us.ts';
import { cpuUsPerOrder, summarizeTrials, type TrialResult } from './ws-trials.ts';

function trial(p99: number, cpuPct: number | null, parksPerOrder: number | null, runQueuePct: number | null = null): TrialResult {
  const h = createUsHistogram();
  h.recordValue(p99);
  const latencyUs = { count: 1, p50: p99, p90: p99, p99, p999: p99, max: p99, mean: p99 };
  const t: TrialResult = {
    latencyUs, sendLagUs: latencyUs, counts: { orders: 1, sent: 1, acked: 1, rejected: 0, timedOut: 0, unsent: 0, duplicates: 0, unmatched: 0, connectErrors: 0, disconnects: 0 },
    rejectReasons: {}, threads: 1, histogram: encodeHistogram(h), cpuPct, runQueuePct, rssMaxMiB: 1, helpersCpuPct: null, generatorCpuPct: null, otherCpuPct: null, stealPct: null,
    parksPerOrder, parksByStage: null, parksProblem: parksPerOrder === null ? 'not read' : null,
  };
  h.destroy();
  return t;
}

describe('what an order costs, over trials', () => {
  it('CPU per order: a core\'s share at a rate, in microseconds', () => {
    expect(cpuUsPerOrder(100, 1000)).toBe(1000);
    expect(cpuUsPerOrder(94.4, 10_000)).toBe(94);
    expect(cpuUsPerOrder(null, 1000)).toBeNull();
  });

  it('parks per order: the median of the trials that read it, to 0.01; CPU per order from the median CPU share', () => {
    const s = summarizeTrials([trial(100, 90, 0.07), trial(200, 100, 0.03), trial(300, 110, null), trial(400, 95, 0.05)], 10_000);
    expect(s.parksPerOrder).toBe(0.05);
    expect(s.cpuUsPerOrder).toBe(98); // median CPU share 97.5% at 10,000/s
    expect(summarizeTrials([trial(100, null, null)], 1000)).toMatchObject({ parksPerOrder: null, cpuUsPerOrder: null, runQueueUsPerOrder: null });
  });

  it('run-queue wait per order: the median share of the trials that read it, at the rate', () => {
    const s = summarizeTrials([trial(100, 90, null, 40), trial(200, 90, null, null), trial(300, 90, null, 120), trial(400, 90, null, 60)], 1000);
    expect(s.runQueuePct).toBe(60);
    expect(s.runQueueUsPerOrder).toBe(600); // 0.6 of a thread waiting, 1,000 orders a second
  });
});
