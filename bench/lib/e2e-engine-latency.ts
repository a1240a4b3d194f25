/**
 * One trial's figures from the engine's own latency histograms (engine/shared-histogram.ts,
 * read by bench/ws-target-host.ts): the difference of a snapshot taken as the measured window
 * opens and one taken after the drain holds exactly what the engine recorded in between.
 *
 * Resolution: the engine's buckets are log-linear with 4 sub-buckets per octave, so a
 * percentile is the upper bound of its bucket, up to 25 % above the true value (never below:
 * like HDR's highest-equivalent value). The maximum is that of the highest non-empty bucket of
 * the difference (the engine's own max word is since start, not per window).
 */

import { BUCKET_COUNT, quantileNs, type HistogramSnapshot } from '../../engine/shared-histogram.ts';
import type { PercentilesUs } from './histogram-us.ts';
import type { EngineHistograms } from './target-protocol.ts';

/** The percentiles of bench/lib/histogram-us.ts, without a mean (bucketed counts give none exactly). */
export type EngineLatencyUs = Omit<PercentilesUs, 'mean'>;

/** after - before, bucket by bucket. */
export function diffSnapshot(before: HistogramSnapshot, after: HistogramSnapshot): HistogramSnapshot {
  if (before.buckets.length !== BUCKET_COUNT || after.buckets.length !== BUCKET_COUNT) throw new Error('Condition failed: snapshots have BUCKET_COUNT buckets');
  const buckets = after.buckets.map((n, i) => Math.max(0, n - before.buckets[i]));
  return { count: Math.max(0, after.count - before.count), sumNs: Math.max(0, after.sumNs - before.sumNs), maxUs: after.maxUs, buckets };
}

function toUs(ns: number): number {
  return Math.round(ns / 100) / 10;
}

export function latencyOf(s: HistogramSnapshot): EngineLatencyUs {
  const total = s.buckets.reduce((a, b) => a + b, 0);
  return {
    count: total,
    p50: toUs(quantileNs(s, 0.5)),
    p90: toUs(quantileNs(s, 0.9)),
    p99: toUs(quantileNs(s, 0.99)),
    p999: toUs(quantileNs(s, 0.999)),
    max: toUs(quantileNs(s, 1)),
  };
}

/** Every histogram of the window [before, after], by name; empty when either is missing. */
export function windowLatencies(before: EngineHistograms | null, after: EngineHistograms | null): Record<string, EngineLatencyUs> {
  const out: Record<string, EngineLatencyUs> = {};
  if (before === null || after === null) return out;
  for (const [name, a] of Object.entries(after)) {
    const b = before[name];
    if (b !== undefined) out[name] = latencyOf(diffSnapshot(b, a));
  }
  return out;
}
