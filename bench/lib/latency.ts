/**
 * Latency histograms: HDR histograms recording nanoseconds as integers, summarised in
 * microseconds. Record from the intended send time where the scenario is open loop.
 */

import * as hdr from 'hdr-histogram-js';

export interface LatencySummaryUs {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

/** 1 ns to 100 s at 3 significant digits. Allocates: build at startup, never per message. */
export function createLatencyHistogram(): hdr.Histogram {
  return hdr.build({
    bitBucketSize: 'packed',
    lowestDiscernibleValue: 1,
    highestTrackableValue: 100_000_000_000,
    numberOfSignificantValueDigits: 3,
  });
}

/** Records a latency given in milliseconds (performance.now() differences) as whole nanoseconds. */
export function recordMs(histogram: hdr.Histogram, ms: number): void {
  const ns = Math.round(ms * 1e6);
  histogram.recordValue(ns < 1 ? 1 : ns);
}

export function summarizeLatencyUs(histogram: hdr.Histogram): LatencySummaryUs {
  const us = (ns: number): number => Math.round(ns) / 1000;
  return {
    count: histogram.totalCount,
    p50: us(histogram.getValueAtPercentile(50)),
    p90: us(histogram.getValueAtPercentile(90)),
    p99: us(histogram.getValueAtPercentile(99)),
    p999: us(histogram.getValueAtPercentile(99.9)),
    max: us(histogram.maxValue),
    mean: Math.round(histogram.mean) / 1000,
  };
}
