/**
 * Shared memory for metrics that do not fit the per-stage counters (engine/counters.ts): latency
 * histograms, reject counts per reason code, and each thread's runtime figures (event-loop
 * delay, GC pauses, heap). Stages write; the supervisor's /metrics reads at scrape time, so a
 * scrape costs the hot path nothing.
 *
 *   histograms  SharedArrayBuffer: HISTOGRAM_COUNT x HISTOGRAM_BYTES (engine/shared-histogram.ts)
 *   reasons     SharedArrayBuffer: Int32 (lo, hi) pair per (edge, reason code):
 *               [edge 0: codes 0 .. REASON_SLOTS - 1][edge 1: ...] ... (REJECT_EDGES edges)
 *   runtime     SharedArrayBuffer: Float64 x RUNTIME_FIELDS per thread (THREADS), single writer
 *                                  each (the thread itself)
 *
 * Handed to workers beside WorkerData (MetricsWorkerData.metrics); absent in stage unit tests,
 * where nothing records.
 */
import { HISTOGRAM_BYTES, HISTOGRAM_WORDS, SharedHistogram } from '../../engine/shared-histogram.ts';

/** Latency histograms, each with one writer thread. Names are the Prometheus label values. */
export const Histogram = {
  /** ingest: an order's receipt at the edge to its ack (or risk reject) coming back to ingest. */
  INGEST_ORDER_TO_ACK: 0,
  /** ingest: an order's receipt at the edge to each fill report coming back to ingest. */
  INGEST_ORDER_TO_FILL: 1,
  /** risk: an order's receipt at the edge to risk handling it (ring hop + queueing). */
  RISK_INGEST_TO_RISK: 2,
  /** sor: an order's receipt at the edge to the routing decision. */
  SOR_INGEST_TO_DECISION: 3,
  /** fix: the routing decision to the NewOrderSingle written to the venue socket. */
  FIX_DECISION_TO_WIRE: 4,
  /** GC pauses, one histogram per thread (THREADS order), from GC_HISTOGRAM_BASE. */
  GC_BASE: 5,
} as const;

export const HISTOGRAM_NAMES = ['ingest_order_to_ack', 'ingest_order_to_fill', 'risk_ingest_to_risk', 'sor_ingest_to_decision', 'fix_decision_to_wire'] as const;
/** Which thread writes each latency histogram (a label for the dashboard). */
export const HISTOGRAM_STAGES = ['ingest', 'ingest', 'risk', 'sor', 'fix'] as const;

/**
 * Threads with runtime figures: every stage, the supervisor's main thread, the sinks thread
 * (only when a sink is configured) and the snapshot thread (only while it runs: journal.snapshots
 * on and journal.snapshotEveryEvents not 0); a thread that does not run has no series. A stage
 * that shares a thread reports under the thread's first stage (README, Threads).
 */
export const THREADS = ['ingest', 'risk', 'sor', 'fix', 'persistence', 'main', 'sinks', 'snapshots'] as const;
export type ThreadName = (typeof THREADS)[number];

export const HISTOGRAM_COUNT = Histogram.GC_BASE + THREADS.length;

/** Runtime figures per thread, Float64 slots; written by the thread's sampler. */
export const Runtime = {
  /** 1 once the thread's sampler runs. */
  SAMPLING: 0,
  /** Event-loop delay over the last sample period, seconds (event-loop threads only; NaN otherwise). */
  LOOP_DELAY_P50_S: 1,
  LOOP_DELAY_P99_S: 2,
  LOOP_DELAY_MAX_S: 3,
  /** Event-loop utilization over the last period, 0..1 (event-loop threads). */
  LOOP_UTILIZATION: 4,
  /** V8 heap in use, bytes, at the last sample. */
  HEAP_USED_BYTES: 5,
  /** Engine-clock ms of the last sample. */
  SAMPLED_AT_MS: 6,
  /** On-CPU time of the thread since it started, seconds, at the last sample (Linux; NaN elsewhere). */
  CPU_SECONDS: 7,
  /**
   * Time the thread spent runnable but waiting for a core since it started, seconds, at the last
   * sample (Linux schedstat; NaN elsewhere).
   */
  RUN_QUEUE_SECONDS: 8,
} as const;
export const RUNTIME_FIELDS = 9;

/** Reason codes are below 600 (engine/reasons.ts: 1xx .. 5xx). */
export const REASON_SLOTS = 600;

/**
 * Where a refusal was counted: the `edge` label of oms_rejects_total. ENGINE: rejects made after
 * the edge (risk, routing, venue) reported back to WebSocket and REST clients, as ingest sees
 * them; WS, REST, FIX: input refused at that edge before it reached risk.
 */
export const RejectEdge = {
  ENGINE: 0,
  WS: 1,
  REST: 2,
  FIX: 3,
} as const;
export const REJECT_EDGE_NAMES = ['engine', 'ws', 'rest', 'fix'] as const;
export const REJECT_EDGES = REJECT_EDGE_NAMES.length;

export interface MetricsMemory {
  histograms: SharedArrayBuffer;
  reasons: SharedArrayBuffer;
  runtime: SharedArrayBuffer;
}

/** What the supervisor adds to every worker's WorkerData. */
export interface MetricsWorkerData {
  metrics?: MetricsMemory;
}

export function createMetricsMemory(): MetricsMemory {
  return {
    histograms: new SharedArrayBuffer(HISTOGRAM_COUNT * HISTOGRAM_BYTES),
    reasons: new SharedArrayBuffer(REJECT_EDGES * REASON_SLOTS * 8),
    runtime: new SharedArrayBuffer(THREADS.length * RUNTIME_FIELDS * 8),
  };
}

/** One thread's (or the reader's) views over the metrics memory. */
export class MetricsViews {
  readonly memory: MetricsMemory;
  private readonly histogramWords: Int32Array;
  private readonly reasonWords: Int32Array;
  readonly runtime: Float64Array;

  constructor(memory: MetricsMemory) {
    this.memory = memory;
    this.histogramWords = new Int32Array(memory.histograms);
    this.reasonWords = new Int32Array(memory.reasons);
    this.runtime = new Float64Array(memory.runtime);
  }

  histogram(id: number): SharedHistogram {
    if (!(id >= 0 && id < HISTOGRAM_COUNT)) throw new Error(`Condition failed: histogram id ${id}`);
    return new SharedHistogram(this.histogramWords, id * HISTOGRAM_WORDS);
  }

  gcHistogram(thread: ThreadName): SharedHistogram {
    return this.histogram(Histogram.GC_BASE + THREADS.indexOf(thread));
  }

  /** The thread runs and samples itself (a stage sharing a thread, or no sinks thread: false). */
  sampling(thread: ThreadName): boolean {
    return this.runtime[this.runtimeBase(thread) + Runtime.SAMPLING] === 1;
  }

  runtimeBase(thread: ThreadName): number {
    const i = THREADS.indexOf(thread);
    if (i < 0) throw new Error(`Condition failed: unknown thread ${thread}`);
    return i * RUNTIME_FIELDS;
  }

  /** Counts one refusal with this reason code at this edge (RejectEdge; any thread; allocation-free). */
  countReason(code: number, edge: number): void {
    if (!(code > 0 && code < REASON_SLOTS)) return;
    if (!(edge >= 0 && edge < REJECT_EDGES)) return;
    const i = (edge * REASON_SLOTS + code) * 2;
    const old = Atomics.add(this.reasonWords, i, 1) >>> 0;
    if (old === 0xffffffff) Atomics.add(this.reasonWords, i + 1, 1);
  }

  /** Refusals with this reason code at one edge. */
  reasonCount(code: number, edge: number): number {
    const w = this.reasonWords;
    const i = (edge * REASON_SLOTS + code) * 2;
    for (;;) {
      const hi1 = Atomics.load(w, i + 1) >>> 0;
      const lo = Atomics.load(w, i) >>> 0;
      if (Atomics.load(w, i + 1) >>> 0 === hi1) return hi1 * 4294967296 + lo;
    }
  }
}
