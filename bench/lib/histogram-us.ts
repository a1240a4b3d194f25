/**
 * Microsecond latency histograms for the load generator: 1 µs to 60 s at 3 significant digits
 * (HDR). Load workers record into their own and send it home encoded (compressed base64, the
 * HdrHistogram interchange format); the main thread decodes and adds them up.
 */

import * as hdr from 'hdr-histogram-js';
import type { LatencySummaryUs } from './latency.ts';

export const LOWEST_US = 1;
export const HIGHEST_US = 60_000_000;
export const SIGNIFICANT_DIGITS = 3;

/** Count, percentiles, max and mean in µs: the same shape as latency.ts's summary. */
export type PercentilesUs = LatencySummaryUs;

/** Allocates: build at start-up, never per message. */
export function createUsHistogram(): hdr.Histogram {
  return hdr.build({
    bitBucketSize: 32,
    lowestDiscernibleValue: LOWEST_US,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: SIGNIFICANT_DIGITS,
    useWebAssembly: false,
  });
}

/** Records a latency given in milliseconds, clamped into [LOWEST_US, HIGHEST_US]. */
export function recordLatencyMs(histogram: hdr.Histogram, ms: number): void {
  let us = Math.round(ms * 1000);
  if (us < LOWEST_US) us = LOWEST_US;
  else if (us > HIGHEST_US) us = HIGHEST_US;
  histogram.recordValue(us);
}

export function encodeHistogram(histogram: hdr.Histogram): string {
  return hdr.encodeIntoCompressedBase64(histogram);
}

/** Decodes every encoded histogram and adds them into one fresh histogram. */
export function mergeEncoded(encoded: readonly string[]): hdr.Histogram {
  const total = createUsHistogram();
  for (const text of encoded) {
    const part = hdr.decodeFromCompressedBase64(text, 32, false);
    total.add(part);
    part.destroy();
  }
  return total;
}

/** Percentiles in µs; all zero for an empty histogram. */
export function percentilesUs(histogram: hdr.Histogram): PercentilesUs {
  if (histogram.totalCount === 0) return { count: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 };
  return {
    count: histogram.totalCount,
    p50: histogram.getValueAtPercentile(50),
    p90: histogram.getValueAtPercentile(90),
    p99: histogram.getValueAtPercentile(99),
    p999: histogram.getValueAtPercentile(99.9),
    max: histogram.maxValue,
    mean: Math.round(histogram.mean * 10) / 10,
  };
}
