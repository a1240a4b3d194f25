/**
 * Goal: the samplers put real GC pauses, heap sizes and event-loop stalls into shared memory, on
 * event-loop threads and on blocking ones (which turn their loop between duty cycles).
 * Method: a blocking loop (runBlockingWithTurns) runs an agent that allocates enough garbage to
 * force scavenges, and stops itself once GC pauses were recorded in several distinct sample
 * periods; the loop sampler watches this thread while the test
 * blocks its event loop for 100 ms (the recorded max delay must show the stall: a honesty check
 * of the measurement, not a latency assertion).
 */
import { describe, expect, it } from 'vitest';
import { Doorbell } from '../../engine/doorbell.ts';
import { ParkIdle } from '../../engine/idle.ts';
import { STOP_REQUESTED, runBlockingWithTurns } from '../../engine/runner.ts';
import { MetricsViews, Runtime, createMetricsMemory } from './metrics-memory.ts';
import { runSpinners } from './run-queue-spinners.fixture.ts';
import { ThreadCpuClock, startLoopSampler } from './runtime-sampler.ts';

describe('startLoopSampler on a blocking thread (loopDelay false)', () => {
  it('records GC pauses period after period, and the heap; no loop delay', async () => {
    const memory = createMetricsMemory();
    const views = new MetricsViews(memory);
    const base = views.runtimeBase('risk');
    const gc = views.gcHistogram('risk');
    const sampler = startLoopSampler(memory, 'risk', 5, false);
    const stopWord = new Int32Array(new SharedArrayBuffer(4));
    // Sample periods (SAMPLED_AT_MS changes) in which the GC count grew.
    let periodsWithGc = 0;
    let lastSampledAt = views.runtime[base + Runtime.SAMPLED_AT_MS];
    let countAtLastSample = gc.count();
    let cycles = 0;
    let keep: object[] = [];
    const garbage = {
      doWork(): number {
        for (let i = 0; i < 20_000; i++) {
          keep.push({ i });
          if (keep.length > 10_000) keep = [];
        }
        const sampledAt = views.runtime[base + Runtime.SAMPLED_AT_MS];
        if (sampledAt !== lastSampledAt) {
          if (gc.count() > countAtLastSample) periodsWithGc++;
          lastSampledAt = sampledAt;
          countAtLastSample = gc.count();
        }
        // Busy cycles turn the loop every 1024 (about 4,100 cycles for three periods here): the
        // cap fails a loop that never turns in seconds, not minutes.
        if (periodsWithGc >= 3 || ++cycles >= 20_000) Atomics.store(stopWord, 0, STOP_REQUESTED);
        return 1;
      },
    };
    await runBlockingWithTurns(garbage, new ParkIdle(Doorbell.create(), garbage, { spins: 10, maxSleepMs: 1 }), stopWord, 1);
    sampler.stop();
    expect(periodsWithGc).toBeGreaterThanOrEqual(3);
    expect(views.gcHistogram('sor').count()).toBe(0);
    expect(views.runtime[base + Runtime.HEAP_USED_BYTES]).toBeGreaterThan(100_000);
    expect(Number.isNaN(views.runtime[base + Runtime.LOOP_DELAY_P99_S])).toBe(true);
    expect(Number.isNaN(views.runtime[base + Runtime.LOOP_UTILIZATION])).toBe(true);
  });
});

describe('startLoopSampler (event-loop threads)', () => {
  it('shows a blocked event loop in the delay it reports', async () => {
    const memory = createMetricsMemory();
    const sampler = startLoopSampler(memory, 'ingest', 200);
    await new Promise((r) => setTimeout(r, 50));
    const until = performance.now() + 100;
    while (performance.now() < until); // block the loop
    const views = new MetricsViews(memory);
    const base = views.runtimeBase('ingest');
    // Polls until a sample period that saw the stall has been written (the sampler's 200 ms timer
    // can run late on a loaded machine: the limit only guards against a hang).
    let max = 0;
    const end = Date.now() + 30_000;
    while (max < 0.05 && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 50));
      max = Math.max(max, views.runtime[base + Runtime.LOOP_DELAY_MAX_S]);
    }
    sampler.stop();
    expect(max).toBeGreaterThanOrEqual(0.05);
    expect(views.runtime[base + Runtime.SAMPLING]).toBe(1);
    const elu = views.runtime[base + Runtime.LOOP_UTILIZATION];
    expect(elu).toBeGreaterThanOrEqual(0);
    expect(elu).toBeLessThanOrEqual(1);
  });
});

describe('ThreadCpuClock (on-CPU time and run-queue wait of the calling thread)', () => {
  const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

  it('parses schedstat: the first two fields, nanoseconds to seconds', () => {
    const clock = new ThreadCpuClock();
    const line = bytes('1234567890 250000000 42\n');
    expect(clock.parse(line, line.length)).toBe(true);
    expect(clock.cpuS).toBe(1.23456789);
    expect(clock.waitS).toBe(0.25);
  });

  it('refuses what is not two numbers, leaving both NaN', () => {
    for (const text of ['', '12', '12 ', ' 12 34', 'x 34 1', '12 x 1', '12\t34 1']) {
      const clock = new ThreadCpuClock();
      const b = bytes(text);
      expect(clock.parse(b, b.length), JSON.stringify(text)).toBe(false);
      expect(Number.isNaN(clock.cpuS) && Number.isNaN(clock.waitS)).toBe(true);
    }
  });

  it.runIf(process.platform === 'linux')('reads this thread\'s own figures', () => {
    const clock = new ThreadCpuClock();
    expect(clock.read()).toBe(true);
    const until = performance.now() + 20;
    while (performance.now() < until); // on a core
    const before = clock.cpuS;
    expect(clock.read()).toBe(true);
    expect(clock.cpuS).toBeGreaterThan(before);
    expect(clock.waitS).toBeGreaterThanOrEqual(0);
    const prior = clock.cpuS;
    expect(clock.seconds()).toBeGreaterThanOrEqual(prior);
  });

  // An honesty check of the measurement, not a latency assertion: more spinning threads than
  // cores must wait for one. Each spins until it has had 100 ms on a core; with cores + 3 of them
  // the run queue holds about three at any moment, so their waits sum to about
  // (cores + 3) * (cores + 3 - cores) / cores * 100 ms (750 ms on 2 cores); a fifth of the least
  // of it (cores large: 3 * 100 ms) must show.
  it.runIf(process.platform === 'linux')('shows the wait of threads that outnumber the cores', async () => {
    const spinners = await runSpinners(0.1);
    await spinners.stop();
    expect(spinners.totalWaitS).toBeGreaterThan(0.06);
  });
});
