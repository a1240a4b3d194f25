/**
 * The line protocol between a benchmark and its target process (bench/ws-target-host.ts, started
 * by bench/lib/target-process.ts), over the child's standard input and output, one line each:
 *
 *   child -> parent   `BENCH_TARGET_READY {...}`   once, when the target listens (TargetReady)
 *   parent -> child   `hist`                       asks for the engine's latency histograms
 *   child -> parent   `BENCH_TARGET_HIST {...}`    the answer, in the order asked (EngineHistograms, or null)
 *
 * Other output lines are ignored by the parent; both sides split lines with node:readline.
 */

import type { HistogramSnapshot } from '../../engine/shared-histogram.ts';

export const READY_PREFIX = 'BENCH_TARGET_READY ';
export const HIST_PREFIX = 'BENCH_TARGET_HIST ';
export const HIST_REQUEST = 'hist';

/** The engine's latency histograms by name (HISTOGRAM_NAMES), as read at one moment. */
export type EngineHistograms = Record<string, HistogramSnapshot>;

export interface TargetReady {
  port: number;
  /** The target's process, and its helpers (venue simulators) by name. */
  pid: number;
  helperPids: Record<string, number>;
  /** The engine's FIX 4.4 acceptor port (engine only). */
  fixPort?: number;
}
