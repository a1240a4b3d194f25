/**
 * Summaries of repeated runs. These shared VMs are noisy, so a throughput figure is the median of
 * several runs, reported with its min and max so the spread is visible.
 */

export interface RunSummary {
  median: number;
  min: number;
  max: number;
  runs: number;
}

export function summarize(samples: readonly number[]): RunSummary {
  if (samples.length === 0) throw new Error('Condition failed: at least one sample');
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >>> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], runs: sorted.length };
}

export function medianOf(values: readonly number[]): number {
  return summarize(values).median;
}

/** x rounded to `decimals` places. */
export function roundTo(x: number, decimals: number): number {
  const scale = 10 ** decimals;
  return Math.round(x * scale) / scale;
}

/** The median of the known values, to `decimals` places (0.1 by default); null when none is known. */
export function medianOrNull(values: readonly (number | null)[], decimals: number = 1): number | null {
  const known = values.filter((v): v is number => v !== null);
  return known.length === 0 ? null : roundTo(medianOf(known), decimals);
}

/** 12345678 -> "12.35 M"; 4321 -> "4.32 k". */
export function formatRate(perSecond: number): string {
  if (perSecond >= 1e9) return `${(perSecond / 1e9).toFixed(2)} G`;
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(2)} M`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(2)} k`;
  return perSecond.toFixed(0);
}

/** Microseconds with sensible precision: 0.183, 12.4, 1532. */
export function formatMicros(us: number): string {
  if (us < 10) return us.toFixed(3);
  if (us < 1000) return us.toFixed(1);
  return us.toFixed(0);
}
