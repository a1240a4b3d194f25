/**
 * Each thread's runtime figures (event-loop delay, GC pauses, heap, on-CPU time) into shared
 * memory, sampled off the hot path: perf_hooks' monitorEventLoopDelay and a PerformanceObserver
 * on 'gc' entries, both run by the thread's own event loop; a once-per-period timer copies
 * percentiles into shared memory and resets.
 *
 * Blocking threads (risk, sor) turn their event loop a few times a second between duty cycles
 * (engine/runner.ts runBlockingWithTurns), which is when their GC entries and the timer run. Their
 * event-loop delay and utilisation would only measure the gap between turns and are reported as
 * NaN (loopDelay false).
 *
 * Not V8's GCProfiler, which these threads used to poll with stop() and start() once a period: on
 * Node 22 that never clears the profiler's JSON buffer, so it grew without bound and each stop()
 * copied all of it (heaptrack: 32 MiB more native heap after four 7,000-order runs at 1,000
 * orders/s than after one; a stand-alone loop of 1,200 stop/start periods grew RSS by 420 MiB).
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { monitorEventLoopDelay, performance, PerformanceObserver, type EventLoopUtilization } from 'node:perf_hooks';
import v8 from 'node:v8';
import { MetricsViews, Runtime, type MetricsMemory, type MetricsWorkerData, type ThreadName } from './metrics-memory.ts';

export const SAMPLE_PERIOD_MS = 1000;

/**
 * The on-CPU time of the calling thread, in seconds: the first field of
 * /proc/thread-self/schedstat (nanoseconds), read into a buffer of its own. The file is opened and
 * closed per read (once a sample period, off the hot path), so no descriptor outlives a thread
 * whose sampler was never stopped (threads ended by terminate()). NaN where there is no such file.
 */
export class ThreadCpuClock {
  private readonly buf = new Uint8Array(64);

  seconds(): number {
    let fd: number;
    try {
      fd = openSync('/proc/thread-self/schedstat', 'r');
    } catch {
      return NaN;
    }
    let n: number;
    try {
      n = readSync(fd, this.buf, 0, this.buf.length, 0);
    } finally {
      closeSync(fd);
    }
    let ns = 0;
    let i = 0;
    for (; i < n && this.buf[i] >= 0x30 && this.buf[i] <= 0x39; i++) ns = ns * 10 + (this.buf[i] - 0x30);
    return i > 0 ? ns / 1e9 : NaN;
  }
}

export interface Sampler {
  stop(): void;
}

/**
 * Starts sampling this thread's GC, heap and CPU, and its event loop unless loopDelay is false
 * (then delay and utilisation are NaN); the timer does not keep the thread alive.
 */
export function startLoopSampler(memory: MetricsMemory, thread: ThreadName, periodMs: number = SAMPLE_PERIOD_MS, loopDelay: boolean = true): Sampler {
  const views = new MetricsViews(memory);
  const rt = views.runtime;
  const base = views.runtimeBase(thread);
  const gc = views.gcHistogram(thread);
  const delay = loopDelay ? monitorEventLoopDelay({ resolution: 10 }) : null;
  delay?.enable();
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gc.record(entry.duration * 1e6);
  });
  observer.observe({ entryTypes: ['gc'] });
  let elu: EventLoopUtilization = performance.eventLoopUtilization();
  const cpu = new ThreadCpuClock();
  rt[base + Runtime.SAMPLING] = 1;
  if (delay === null) {
    rt[base + Runtime.LOOP_DELAY_P50_S] = NaN;
    rt[base + Runtime.LOOP_DELAY_P99_S] = NaN;
    rt[base + Runtime.LOOP_DELAY_MAX_S] = NaN;
    rt[base + Runtime.LOOP_UTILIZATION] = NaN;
  }
  const sample = () => {
    if (delay !== null) {
      // The histogram is in ns; an empty one (no loop turn yet) answers NaN-free zeros.
      rt[base + Runtime.LOOP_DELAY_P50_S] = delay.count > 0 ? delay.percentile(50) / 1e9 : 0;
      rt[base + Runtime.LOOP_DELAY_P99_S] = delay.count > 0 ? delay.percentile(99) / 1e9 : 0;
      rt[base + Runtime.LOOP_DELAY_MAX_S] = delay.count > 0 ? delay.max / 1e9 : 0;
      delay.reset();
      const now = performance.eventLoopUtilization();
      rt[base + Runtime.LOOP_UTILIZATION] = performance.eventLoopUtilization(now, elu).utilization;
      elu = now;
    }
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
      delay?.disable();
    },
  };
}

/**
 * For a thread entry: samples this thread when the supervisor passed metrics memory (loopDelay
 * false on a blocking thread, whose loop only turns between duty cycles).
 */
export function sampleThisThread(workerData: object, thread: ThreadName, loopDelay: boolean = true): Sampler | null {
  const memory = (workerData as MetricsWorkerData).metrics;
  return memory === undefined ? null : startLoopSampler(memory, thread, SAMPLE_PERIOD_MS, loopDelay);
}
