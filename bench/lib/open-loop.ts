/**
 * Open-loop load generator for the JSON WebSocket order protocol: orders leave at a fixed rate
 * on a schedule fixed in advance, spread over worker threads (piscina, one long task per
 * thread) and many connections, and each order's latency runs from its INTENDED send time to
 * its ack, recorded in HDR histograms that the workers send home encoded and this thread merges.
 *
 *   main thread                pacer thread                 load workers (piscina)
 *   -----------                ------------                 ----------------------
 *   start tasks, pacer  --->   waits for GO                 open K sockets each, READY++
 *   wait READY == W
 *   set t0, GO = 1      --->   sleep to next intended  -->  PUBLISHED[w] = due; waitAsync wakes
 *   progress from counters     time (Atomics.wait),         send orders [sent, due) now
 *                              publish, notify              ack: record now - intended(seq)
 *   merge histograms   <-------------------------------    drain, timeouts, encode, return
 *
 * Why it cannot hide a stall (coordinated omission): no send waits for a reply, and latency is
 * never measured from the actual send. If the server stops for 200 ms, every order intended in
 * those 200 ms is still sent on time and waits, so the histogram holds ~rate*0.2 samples spread
 * from 0 to 200 ms, as a user arriving at a random moment would see it. The generator's own
 * lateness (actual - intended send) is recorded apart as sendLag, so it can be told apart.
 */

import { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { Histogram } from 'hdr-histogram-js';
import { mergeEncoded, percentilesUs, type PercentilesUs } from './histogram-us.ts';
import { monoNowMs } from './mono-clock.ts';
import {
  Counter, GO, GO_ABORT, GO_RUN, READY, SLEEP, T0_F64_INDEX,
  controlBytes, counterIndex, publishedIndex, type Schedule,
} from './open-loop-layout.ts';
import type { PacerData } from './open-loop-pacer.ts';
import type { FixTarget, MixedCounts, OpenLoopCounts, OpenLoopTask, OpenLoopWorkerResult } from './open-loop-worker.ts';
export type { MixedCounts, OpenLoopCounts } from './open-loop-worker.ts';
import type { MixedWorkload } from './e2e-replies.ts';
import { DEFAULT_ORDER, type OrderShape } from './ws-order-protocol.ts';

const WORKER_FILE = new URL('./open-loop-worker.ts', import.meta.url).href;
const PACER_FILE = new URL('./open-loop-pacer.ts', import.meta.url);

export interface OpenLoopOptions {
  /** ws://host:port/path of the order-entry WebSocket. */
  url: string;
  /** API keys; connection c uses tokens[c % tokens.length]. */
  tokens: string[];
  /** Orders per second, all connections together. */
  rate: number;
  /** Measured time, after the warm-up. */
  durationMs: number;
  warmupMs: number;
  /** How long to wait for replies after the last intended send. */
  drainMs: number;
  /** Connections in total, spread evenly over the workers. */
  connections: number;
  order?: OrderShape;
  connectTimeoutMs?: number;
  /** Shortest sleep of the pacer between two wakes (batches sends at high rates). */
  pacerGapMs?: number;
  /**
   * The mixed workload (marketable IOCs and resting orders canceled later, bench/lib/e2e-replies.ts);
   * absent: every order is `order`. Its cancelAfter counts orders of one worker.
   */
  workload?: MixedWorkload;
  /**
   * FIX 4.4 sessions to the engine's acceptor: the last `workers` load workers use FIX instead of
   * WebSockets, `sessionsPerWorker` sessions each, CompIDs compIds[0..]. They carry their share of
   * the rate (workers/W of it) like any worker.
   */
  fix?: { port: number; targetCompId: string; compIds: string[]; workers: number; sessionsPerWorker: number };
  /**
   * The measured window, as the latencies count it: start() at t0 + warmupMs, end() at t0 +
   * warmupMs + durationMs (t0: the first intended send, once every connection is open). Timers
   * the run clears however it ends, so a failed run calls neither late.
   */
  onWindow?: { start(): void; end(): void };
  onProgress?: (p: OpenLoopProgress) => void;
  progressIntervalMs?: number;
}

export interface OpenLoopProgress {
  elapsedMs: number;
  /** Warm-up plus measured time. */
  scheduledMs: number;
  sent: number;
  acked: number;
  rejected: number;
  unsent: number;
}

export interface OpenLoopResult {
  rate: number;
  durationMs: number;
  warmupMs: number;
  connections: number;
  workers: number;
  /** Merged order -> ack histogram (µs, measured orders only); the caller may destroy() it. */
  histogram: Histogram;
  latencyUs: PercentilesUs;
  sendLagUs: PercentilesUs;
  counts: OpenLoopCounts;
  mixedCounts: MixedCounts;
  rejectReasons: Record<string, number>;
  /** Distinct threads that ran a load task (should equal workers). */
  threads: number;
  /** Mixed workload: order -> first fill, and cancel -> canceled (µs; empty otherwise); the caller may destroy() them. */
  fillHistogram: Histogram;
  cancelHistogram: Histogram;
  /** Order -> ack and counts per transport (ws, fix), for the transports that ran. */
  byTransport: Record<string, { latencyUs: PercentilesUs; counts: OpenLoopCounts & MixedCounts; histogram: Histogram }>;
}

let runCounter = 0;

/** A pool of load-worker threads, reused across runs. */
export class OpenLoopGenerator {
  readonly workers: number;
  private readonly pool: Piscina;

  constructor(workers: number) {
    if (!(Number.isInteger(workers) && workers >= 1)) throw new Error(`Condition failed: workers ${workers} >= 1`);
    this.workers = workers;
    this.pool = new Piscina({ filename: WORKER_FILE, minThreads: workers, maxThreads: workers, idleTimeout: 60_000, atomics: 'disabled', concurrentTasksPerWorker: 1 });
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }

  async run(options: OpenLoopOptions): Promise<OpenLoopResult> {
    const W = this.workers;
    if (!(options.rate > 0)) throw new Error(`Condition failed: rate ${options.rate} > 0`);
    const schedule: Schedule = { rate: options.rate, workers: W, total: Math.round((options.rate * (options.warmupMs + options.durationMs)) / 1000) };
    const control = new SharedArrayBuffer(controlBytes(W));
    const words = new Int32Array(control);
    const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    const tasks = this.startTasks(options, schedule, control, connectTimeoutMs);
    const pacer = new Worker(PACER_FILE, { workerData: { control, schedule, minGapMs: options.pacerGapMs ?? 0.1 } satisfies PacerData });
    const pacerExit = new Promise<void>((resolve) => pacer.once('exit', () => resolve()));
    let failure: unknown = null;
    const failed = (err: unknown): void => {
      if (failure === null) failure = err;
      abort(words, W);
    };
    pacer.once('error', failed);
    tasks.forEach((t) => t.catch(failed));
    let progress: NodeJS.Timeout | null = null;
    const windowTimers: NodeJS.Timeout[] = [];
    try {
      await waitReady(words, W, connectTimeoutMs + 5_000, () => failure);
      const t0 = monoNowMs() + 20;
      new Float64Array(control)[T0_F64_INDEX] = t0;
      Atomics.store(words, GO, GO_RUN);
      Atomics.notify(words, GO);
      const window = options.onWindow;
      // Each edge once: by its timer, or at the end of the run if its timer had not fired (a
      // loaded machine can run it later than the senders' last order and drain).
      let windowEdges = 0;
      const windowEdge = (edge: number): void => {
        while (window !== undefined && windowEdges < edge) {
          if (windowEdges++ === 0) window.start();
          else window.end();
        }
      };
      if (window !== undefined) {
        const startIn = Math.max(0, t0 + options.warmupMs - monoNowMs());
        windowTimers.push(setTimeout(() => windowEdge(1), startIn), setTimeout(() => windowEdge(2), startIn + options.durationMs));
      }
      const scheduledMs = options.warmupMs + options.durationMs;
      if (options.onProgress !== undefined) {
        const report = options.onProgress;
        progress = setInterval(() => report(progressOf(words, W, monoNowMs() - t0, scheduledMs)), options.progressIntervalMs ?? 250);
      }
      const results = await Promise.all(tasks);
      windowEdge(2);
      return summarize(options, W, results);
    } catch (err) {
      failed(err);
      await Promise.allSettled(tasks);
      throw failure;
    } finally {
      if (progress !== null) clearInterval(progress);
      for (const t of windowTimers) clearTimeout(t);
      abort(words, W);
      await Promise.race([pacerExit, new Promise((r) => setTimeout(r, 1000))]);
      await pacer.terminate();
    }
  }

  private startTasks(options: OpenLoopOptions, schedule: Schedule, control: SharedArrayBuffer, connectTimeoutMs: number): Promise<OpenLoopWorkerResult>[] {
    const W = this.workers;
    const runTag = `b${Date.now().toString(36)}${(runCounter++).toString(36)}`;
    const fix = options.fix;
    const wsWorkers = fix === undefined ? W : W - fix.workers;
    if (fix !== undefined && !(fix.workers >= 0 && fix.workers <= W && fix.compIds.length >= fix.workers * fix.sessionsPerWorker)) {
      throw new Error('Condition failed: FIX workers <= workers, one CompID per FIX session');
    }
    if (wsWorkers > 0 && options.connections < wsWorkers) throw new Error(`Condition failed: connections ${options.connections} >= WebSocket workers ${wsWorkers}`);
    let firstConnection = 0;
    return Array.from({ length: W }, (_, w) => {
      const fixTarget: FixTarget | null = fix === undefined || w < wsWorkers ? null
        : { port: fix.port, targetCompId: fix.targetCompId, compIds: fix.compIds.slice((w - wsWorkers) * fix.sessionsPerWorker, (w - wsWorkers + 1) * fix.sessionsPerWorker) };
      const connections = fixTarget !== null ? fixTarget.compIds.length : Math.floor(options.connections / wsWorkers) + (w < options.connections % wsWorkers ? 1 : 0);
      const task: OpenLoopTask = {
        workerIndex: w,
        control,
        schedule,
        warmupOrders: Math.round((options.rate * options.warmupMs) / 1000),
        url: options.url,
        tokens: options.tokens,
        connections,
        firstConnection,
        runTag,
        order: options.order ?? DEFAULT_ORDER,
        drainMs: options.drainMs,
        connectTimeoutMs,
        workload: options.workload ?? null,
        fix: fixTarget,
      };
      if (fixTarget === null) firstConnection += connections;
      return this.pool.run(task) as Promise<OpenLoopWorkerResult>;
    });
  }
}

/** Tells the pacer and every worker to stop where they are. Idempotent. */
function abort(words: Int32Array, workers: number): void {
  Atomics.store(words, GO, GO_ABORT);
  Atomics.notify(words, GO);
  Atomics.notify(words, SLEEP);
  for (let w = 0; w < workers; w++) Atomics.notify(words, publishedIndex(w));
}

async function waitReady(words: Int32Array, workers: number, timeoutMs: number, failure: () => unknown): Promise<void> {
  const deadline = monoNowMs() + timeoutMs;
  while (Atomics.load(words, READY) < workers) {
    if (failure() !== null) throw failure();
    if (monoNowMs() > deadline) throw new Error(`open loop: ${Atomics.load(words, READY)} of ${workers} workers connected within ${timeoutMs} ms`);
    const r = Atomics.waitAsync(words, READY, Atomics.load(words, READY), 50);
    if (r.async) await r.value;
  }
}

function progressOf(words: Int32Array, workers: number, elapsedMs: number, scheduledMs: number): OpenLoopProgress {
  const p: OpenLoopProgress = { elapsedMs, scheduledMs, sent: 0, acked: 0, rejected: 0, unsent: 0 };
  for (let w = 0; w < workers; w++) {
    p.sent += Atomics.load(words, counterIndex(w, Counter.SENT));
    p.acked += Atomics.load(words, counterIndex(w, Counter.ACKED));
    p.rejected += Atomics.load(words, counterIndex(w, Counter.REJECTED));
    p.unsent += Atomics.load(words, counterIndex(w, Counter.FAILED));
  }
  return p;
}

function zeroCounts(): OpenLoopCounts {
  return { orders: 0, sent: 0, acked: 0, rejected: 0, timedOut: 0, unsent: 0, duplicates: 0, unmatched: 0, connectErrors: 0, disconnects: 0 };
}

function zeroMixedCounts(): MixedCounts {
  return { fillOrders: 0, filled: 0, unfilled: 0, fillTimedOut: 0, cancelsSent: 0, canceled: 0, cancelRejected: 0, cancelTimedOut: 0, cancelsUnsent: 0 };
}

function addCounts<K extends keyof OpenLoopCounts | keyof MixedCounts>(counts: Record<K, number>, r: OpenLoopWorkerResult): void {
  for (const key of Object.keys(counts) as K[]) counts[key] += r[key];
}

function summarize(options: OpenLoopOptions, workers: number, results: OpenLoopWorkerResult[]): OpenLoopResult {
  const counts = zeroCounts();
  const mixedCounts = zeroMixedCounts();
  const rejectReasons: Record<string, number> = {};
  for (const r of results) {
    addCounts(counts, r);
    addCounts(mixedCounts, r);
    for (const [reason, n] of Object.entries(r.rejectReasons)) rejectReasons[reason] = (rejectReasons[reason] ?? 0) + n;
  }
  const byTransport: OpenLoopResult['byTransport'] = {};
  for (const transport of ['ws', 'fix']) {
    const mine = results.filter((r) => r.transport === transport);
    if (mine.length === 0) continue;
    const c = { ...zeroCounts(), ...zeroMixedCounts() };
    for (const r of mine) addCounts(c, r);
    const h = mergeEncoded(mine.map((r) => r.histogram));
    byTransport[transport] = { latencyUs: percentilesUs(h), counts: c, histogram: h };
  }
  const histogram = mergeEncoded(results.map((r) => r.histogram));
  const sendLag = mergeEncoded(results.map((r) => r.sendLag));
  const sendLagUs = percentilesUs(sendLag);
  sendLag.destroy();
  return {
    rate: options.rate,
    durationMs: options.durationMs,
    warmupMs: options.warmupMs,
    connections: options.connections,
    workers,
    histogram,
    latencyUs: percentilesUs(histogram),
    sendLagUs,
    counts,
    mixedCounts,
    rejectReasons,
    threads: new Set(results.map((r) => r.threadId)).size,
    fillHistogram: mergeEncoded(results.map((r) => r.fillHistogram)),
    cancelHistogram: mergeEncoded(results.map((r) => r.cancelHistogram)),
    byTransport,
  };
}
