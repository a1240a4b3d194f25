/**
 * Each thread's runtime figures (event-loop delay, GC pauses, heap, on-CPU time) into shared
 * memory, sampled off the hot path:
 *
 * - Event-loop threads (ingest, fix, persistence, and the main thread): perf_hooks'
 *   monitorEventLoopDelay and a PerformanceObserver on 'gc' entries. Both run in the thread's
 *   own event loop; a once-per-period timer copies percentiles into shared memory and resets.
 * - Blocking threads (risk, sor) never return to their event loop, so observers and timers never
 *   fire there. GcPollingAgent wraps the stage's agent: at most once per period, and only between
 *   duty cycles, it takes the GC events V8's GCProfiler collected since the last poll (one
 *   allocation burst per period, none per message) and records their pauses. Event-loop delay is
 *   meaningless for them and is reported as NaN.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { monitorEventLoopDelay, performance, PerformanceObserver, type EventLoopUtilization } from 'node:perf_hooks';
import v8 from 'node:v8';
import type { Agent } from '../../engine/agent.ts';
import type { SharedHistogram } from '../../engine/shared-histogram.ts';
import { MetricsViews, Runtime, type MetricsMemory, type MetricsWorkerData, type ThreadName } from './metrics-memory.ts';

export const SAMPLE_PERIOD_MS = 1000;

/**
 * The on-CPU time of the thread that built it, in seconds: the first field of
 * /proc/thread-self/schedstat (nanoseconds), opened once on that thread (the file stays that
 * thread's) and re-read from offset 0 into a buffer of its own: no allocation per read. NaN
 * where there is no such file.
 */
export class ThreadCpuClock {
  private fd: number;
  private readonly buf = new Uint8Array(64);

  constructor() {
    try {
      this.fd = openSync('/proc/thread-self/schedstat', 'r');
    } catch {
      this.fd = -1;
    }
  }

  seconds(): number {
    if (this.fd < 0) return NaN;
    const n = readSync(this.fd, this.buf, 0, this.buf.length, 0);
    let ns = 0;
    let i = 0;
    for (; i < n && this.buf[i] >= 0x30 && this.buf[i] <= 0x39; i++) ns = ns * 10 + (this.buf[i] - 0x30);
    return i > 0 ? ns / 1e9 : NaN;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

export interface Sampler {
  stop(): void;
}

/** Starts sampling this thread's event loop and GC; the timer does not keep the thread alive. */
export function startLoopSampler(memory: MetricsMemory, thread: ThreadName, periodMs: number = SAMPLE_PERIOD_MS): Sampler {
  const views = new MetricsViews(memory);
  const rt = views.runtime;
  const base = views.runtimeBase(thread);
  const gc = views.gcHistogram(thread);
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gc.record(entry.duration * 1e6);
  });
  observer.observe({ entryTypes: ['gc'] });
  let elu: EventLoopUtilization = performance.eventLoopUtilization();
  const cpu = new ThreadCpuClock();
  rt[base + Runtime.SAMPLING] = 1;
  const sample = () => {
    // The histogram is in ns; an empty one (no loop turn yet) answers NaN-free zeros.
    rt[base + Runtime.LOOP_DELAY_P50_S] = delay.count > 0 ? delay.percentile(50) / 1e9 : 0;
    rt[base + Runtime.LOOP_DELAY_P99_S] = delay.count > 0 ? delay.percentile(99) / 1e9 : 0;
    rt[base + Runtime.LOOP_DELAY_MAX_S] = delay.count > 0 ? delay.max / 1e9 : 0;
    delay.reset();
    const now = performance.eventLoopUtilization();
    rt[base + Runtime.LOOP_UTILIZATION] = performance.eventLoopUtilization(now, elu).utilization;
    elu = now;
    rt[base + Runtime.HEAP_USED_BYTES] = v8.getHeapStatistics().used_heap_size;
    rt[base + Runtime.CPU_SECONDS] = cpu.seconds();
    rt[base + Runtime.SAMPLED_AT_MS] = Date.now();
  };
  sample();
  const timer = setInterval(sample, periodMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      observer.disconnect();
      delay.disable();
      cpu.close();
    },
  };
}

/**
 * Wraps a blocking stage's agent to sample GC and heap between duty cycles (see the header).
 * Per duty cycle it costs one counter decrement; the clock is read every CHECK_EVERY cycles.
 */
export class GcPollingAgent implements Agent {
  private readonly inner: Agent;
  private readonly gc: SharedHistogram;
  private readonly runtime: Float64Array;
  private readonly base: number;
  private readonly periodMs: number;
  private readonly profiler: v8.GCProfiler;
  private readonly cpu = new ThreadCpuClock();
  private nextSampleMs: number;
  private untilCheck: number;

  constructor(inner: Agent, memory: MetricsMemory, thread: ThreadName, periodMs: number = SAMPLE_PERIOD_MS) {
    const views = new MetricsViews(memory);
    this.inner = inner;
    this.gc = views.gcHistogram(thread);
    this.runtime = views.runtime;
    this.base = views.runtimeBase(thread);
    this.periodMs = periodMs;
    this.profiler = new v8.GCProfiler();
    this.profiler.start();
    this.nextSampleMs = performance.now() + periodMs;
    this.untilCheck = CHECK_EVERY;
    this.runtime[this.base + Runtime.SAMPLING] = 1;
    this.runtime[this.base + Runtime.LOOP_DELAY_P50_S] = NaN;
    this.runtime[this.base + Runtime.LOOP_DELAY_P99_S] = NaN;
    this.runtime[this.base + Runtime.LOOP_DELAY_MAX_S] = NaN;
    this.runtime[this.base + Runtime.LOOP_UTILIZATION] = NaN;
    this.runtime[this.base + Runtime.HEAP_USED_BYTES] = v8.getHeapStatistics().used_heap_size;
    this.runtime[this.base + Runtime.CPU_SECONDS] = this.cpu.seconds();
  }

  doWork(): number {
    const work = this.inner.doWork();
    // Idle cycles check the clock at once; busy ones every CHECK_EVERY cycles.
    if (work === 0 || --this.untilCheck <= 0) {
      this.untilCheck = CHECK_EVERY;
      if (performance.now() >= this.nextSampleMs) this.sample();
    }
    return work;
  }

  /** Allocates (the profiler's report): once per period, between duty cycles. */
  sample(): void {
    const report = this.profiler.stop();
    this.profiler.start();
    if (report !== undefined) {
      // GCProfiler reports each pause's cost in microseconds.
      for (const event of report.statistics) this.gc.record(event.cost * 1000);
    }
    this.runtime[this.base + Runtime.HEAP_USED_BYTES] = v8.getHeapStatistics().used_heap_size;
    this.runtime[this.base + Runtime.CPU_SECONDS] = this.cpu.seconds();
    this.runtime[this.base + Runtime.SAMPLED_AT_MS] = Date.now();
    this.nextSampleMs = performance.now() + this.periodMs;
  }

  /** Stops the profiler (the thread is leaving its loop). */
  close(): void {
    this.profiler.stop();
    this.cpu.close();
  }
}

const CHECK_EVERY = 1024;

/** For a thread entry: samples this event-loop thread when the supervisor passed metrics memory. */
export function sampleThisThread(workerData: object, thread: ThreadName): Sampler | null {
  const memory = (workerData as MetricsWorkerData).metrics;
  return memory === undefined ? null : startLoopSampler(memory, thread);
}

/** For a blocking thread entry: the agent wrapped in GC polling when metrics memory was passed. */
export function withGcPolling(inner: Agent, workerData: object, thread: ThreadName): Agent {
  const memory = (workerData as MetricsWorkerData).metrics;
  return memory === undefined ? inner : new GcPollingAgent(inner, memory, thread);
}
