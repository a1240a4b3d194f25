/**
 * Each thread's runtime figures (event-loop delay, GC pauses, heap, on-CPU time, run-queue wait) into shared
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
 * The calling thread's scheduler times, from /proc/thread-self/schedstat: on-CPU time (its first
 * field) and run-queue wait (its second: time spent runnable, waiting for a core), both
 * nanoseconds in the file, seconds here. The wait is what more threads than cores cost: a stage
 * woken for a message that finds both cores busy waits there before it runs, and that wait is in
 * every latency it touches. read() fills `cpuS` and `waitS` (NaN where there is no such file:
 * not Linux, or a kernel without schedstats). The file is opened and closed per read (once a
 * sample period, off the hot path), so no descriptor outlives a thread whose sampler was never
 * stopped (threads ended by terminate()).
 */
export class ThreadCpuClock {
  private readonly buf = new Uint8Array(96);
  /** On-CPU seconds at the last read(). */
  cpuS = NaN;
  /** Run-queue wait, seconds, at the last read(). */
  waitS = NaN;

  /** Reads both times; false (and both NaN) when the file is missing or not two numbers. */
  read(): boolean {
    this.cpuS = NaN;
    this.waitS = NaN;
    let fd: number;
    try {
      fd = openSync('/proc/thread-self/schedstat', 'r');
    } catch {
      return false;
    }
    let n: number;
    try {
      n = readSync(fd, this.buf, 0, this.buf.length, 0);
    } finally {
      closeSync(fd);
    }
    return this.parse(this.buf, n);
  }

  /** Parses `<cpu ns> <wait ns> ...` from the first n bytes of buf into cpuS and waitS. */
  parse(buf: Uint8Array, n: number): boolean {
    let i = 0;
    let cpu = 0;
    const cpuStart = i;
    for (; i < n && buf[i] >= 0x30 && buf[i] <= 0x39; i++) cpu = cpu * 10 + (buf[i] - 0x30);
    if (i === cpuStart || i >= n || buf[i] !== 0x20) return false;
    i++;
    let wait = 0;
    const waitStart = i;
    for (; i < n && buf[i] >= 0x30 && buf[i] <= 0x39; i++) wait = wait * 10 + (buf[i] - 0x30);
    if (i === waitStart) return false;
    this.cpuS = cpu / 1e9;
    this.waitS = wait / 1e9;
    return true;
  }

  /** On-CPU seconds (NaN where unreadable). */
  seconds(): number {
    this.read();
    return this.cpuS;
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
    cpu.read();
    rt[base + Runtime.CPU_SECONDS] = cpu.cpuS;
    rt[base + Runtime.RUN_QUEUE_SECONDS] = cpu.waitS;
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
