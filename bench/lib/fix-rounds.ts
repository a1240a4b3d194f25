/**
 * Timed rounds for throughput cases on one thread (our own loops, not tinybench: one call per
 * message is a few hundred nanoseconds, so per-call harness overhead would weigh on the figure).
 *
 * Each case does one "pass" (every message of its stream once) per call and returns a checksum of
 * its work, summed so the optimiser cannot drop it. First every case warms up for warmupMs and is
 * calibrated to the number of passes that take about roundMs; then `rounds` rounds run, each
 * timing every case once, in an order rotated per round so no case always runs right after the
 * same neighbour. A case's figure is the median of its rounds' msgs/s, with min and max.
 */

import { summarize, type RunSummary } from './stats.ts';

export interface ThroughputCase {
  id: string;
  /** Messages one pass handles. */
  messagesPerPass: number;
  /** One pass; returns a checksum of the work. */
  pass(): number;
}

export interface CaseResult {
  id: string;
  passesPerRound: number;
  messagesPerRound: number;
  msgsPerS: RunSummary;
}

export interface RoundsOptions {
  rounds: number;
  roundMs: number;
  warmupMs: number;
}

export interface RoundsReport {
  results: Map<string, CaseResult>;
  /** Sum of every pass's checksum, printed so the work cannot be skipped. */
  checksum: number;
}

export function runRounds(cases: readonly ThroughputCase[], options: RoundsOptions, onCase: (id: string) => void = () => {}): RoundsReport {
  if (!(options.rounds >= 1 && options.roundMs > 0 && options.warmupMs >= 0)) throw new Error('Condition failed: rounds >= 1, roundMs > 0, warmupMs >= 0');
  let checksum = 0;
  const passes: number[] = [];
  for (const c of cases) {
    onCase(c.id);
    // Warm-up doubles as calibration: passes until warmupMs (at least 3), then size the round.
    let n = 0;
    const t0 = performance.now();
    let elapsed = 0;
    while (n < 3 || elapsed < options.warmupMs) {
      checksum = (checksum + c.pass()) | 0;
      n++;
      elapsed = performance.now() - t0;
    }
    passes.push(Math.max(1, Math.round(options.roundMs / (elapsed / n))));
  }
  const samples: number[][] = cases.map(() => []);
  for (let r = 0; r < options.rounds; r++) {
    for (let k = 0; k < cases.length; k++) {
      const i = (k + r) % cases.length;
      const c = cases[i];
      const n = passes[i];
      const t0 = performance.now();
      for (let p = 0; p < n; p++) checksum = (checksum + c.pass()) | 0;
      const seconds = (performance.now() - t0) / 1000;
      samples[i].push((n * c.messagesPerPass) / seconds);
    }
  }
  const results = new Map<string, CaseResult>();
  cases.forEach((c, i) => {
    const s = summarize(samples[i]);
    results.set(c.id, {
      id: c.id,
      passesPerRound: passes[i],
      messagesPerRound: passes[i] * c.messagesPerPass,
      msgsPerS: { median: Math.round(s.median), min: Math.round(s.min), max: Math.round(s.max), runs: s.runs },
    });
  });
  return { results, checksum };
}
