/**
 * Summaries of repeated open-loop trials of one target at one rate. These 2-core VMs are noisy,
 * so each percentile is quoted as the median over trials (the figure is the median of the
 * trials' p99), beside the percentiles of all trials' samples merged, whose max is the worst
 * order seen in any trial.
 */

import type { Settled } from './machine.ts';
import { mergeEncoded, percentilesUs, type PercentilesUs } from './histogram-us.ts';
import type { OpenLoopCounts } from './open-loop.ts';
import { medianUsage, type TargetUsage } from './proc-usage.ts';
import { medianOf, medianOrNull } from './stats.ts';

/**
 * CPU microseconds per order of a process at `cpuPct` (100 = one core) under `rate` orders/s;
 * rounded to 1 us. The same arithmetic turns a run-queue share into wait per order.
 */
export function cpuUsPerOrder(cpuPct: number | null, rate: number): number | null {
  return cpuPct === null ? null : Math.round((cpuPct / 100) * 1e6 / rate);
}

/** One trial: its latencies and counts, and the target's CPU and memory over its measured window. */
export interface TrialResult extends TargetUsage {
  latencyUs: PercentilesUs;
  sendLagUs: PercentilesUs;
  counts: OpenLoopCounts;
  rejectReasons: Record<string, number>;
  threads: number;
  /** The trial's order -> ack histogram, encoded (bench/lib/histogram-us.ts). */
  histogram: string;
  /**
   * The engine's thread parks over the measured window per order offered in it, in all and by stage
   * (bench/lib/engine-parks.ts); null for a target without them (naive, stub) or when /health
   * was not read at both ends (parksProblem says why).
   */
  parksPerOrder: number | null;
  parksByStage: Record<string, number> | null;
  parksProblem: string | null;
  /** Before the trial: how long the machine took to be quiet, and whether it was (bench/lib/machine.ts settle). */
  settle?: Settled;
}

export interface TargetSummary {
  trials: TrialResult[];
  medianUs: { p50: number; p90: number; p99: number; p999: number; max: number };
  mergedUs: PercentilesUs;
  orders: number;
  acked: number;
  /** Every order of every trial was acked: none rejected, timed out or left unsent. */
  allAcked: boolean;
  cpuPct: number | null;
  helpersCpuPct: number | null;
  rssMaxMiB: number | null;
  sendLagP99Us: number;
  /** The load generator's own CPU (this process, % of one core; median of the trials). */
  generatorCpuPct: number | null;
  /** The same per measured order, microseconds. */
  generatorCpuUsPerOrder: number | null;
  otherCpuPct: number | null;
  /** The hypervisor's steal during the trials (median, % of one core). */
  stealPct: number | null;
  /** Median over the trials that read it (to 0.01: at high rates it is a fraction of one); null when none did. */
  parksPerOrder: number | null;
  /** The target's CPU per measured order, in microseconds (cpuPct at the rate); null without cpuPct. */
  cpuUsPerOrder: number | null;
  /** Its threads' run-queue wait (median share of the window); null where unreadable. */
  runQueuePct: number | null;
  /** The same per measured order, microseconds summed over its threads (runQueuePct at the rate). */
  runQueueUsPerOrder: number | null;
}

export function summarizeTrials(trials: TrialResult[], rate: number): TargetSummary {
  if (trials.length === 0) throw new Error('Condition failed: at least one trial');
  const merged = mergeEncoded(trials.map((t) => t.histogram));
  const mergedUs = percentilesUs(merged);
  merged.destroy();
  const pick = (key: 'p50' | 'p90' | 'p99' | 'p999' | 'max'): number => medianOf(trials.map((t) => t.latencyUs[key]));
  const usage = medianUsage(trials);
  return {
    trials,
    medianUs: { p50: pick('p50'), p90: pick('p90'), p99: pick('p99'), p999: pick('p999'), max: pick('max') },
    mergedUs,
    orders: trials.reduce((n, t) => n + t.counts.orders, 0),
    acked: trials.reduce((n, t) => n + t.counts.acked, 0),
    allAcked: trials.every((t) => t.counts.acked === t.counts.orders),
    cpuPct: usage.cpuPct,
    helpersCpuPct: usage.helpersCpuPct,
    rssMaxMiB: usage.rssMaxMiB,
    sendLagP99Us: medianOf(trials.map((t) => t.sendLagUs.p99)),
    generatorCpuPct: usage.generatorCpuPct,
    generatorCpuUsPerOrder: cpuUsPerOrder(usage.generatorCpuPct, rate),
    otherCpuPct: usage.otherCpuPct,
    stealPct: usage.stealPct,
    parksPerOrder: medianOrNull(trials.map((t) => t.parksPerOrder), 2),
    cpuUsPerOrder: cpuUsPerOrder(usage.cpuPct, rate),
    runQueuePct: usage.runQueuePct,
    runQueueUsPerOrder: cpuUsPerOrder(usage.runQueuePct, rate),
  };
}
