/**
 * Goal: the samplers put real GC pauses, heap sizes and event-loop stalls into shared memory.
 * Method: GcPollingAgent wraps an agent that allocates enough garbage to force scavenges and is
 * polled with a zero period; the loop sampler watches this thread while the test blocks its
 * event loop for 100 ms (the recorded max delay must show the stall: a honesty check of the
 * measurement, not a latency assertion).
 */
import { describe, expect, it } from 'vitest';
import { MetricsViews, Runtime, createMetricsMemory } from './metrics-memory.ts';
import { GcPollingAgent, startLoopSampler } from './runtime-sampler.ts';

describe('GcPollingAgent (blocking threads)', () => {
  it('records the GC pauses of the cycles it wraps, and the heap', () => {
    const memory = createMetricsMemory();
    let keep: object[] = [];
    const garbage = {
      doWork(): number {
        for (let i = 0; i < 50_000; i++) {
          keep.push({ i });
          if (keep.length > 10_000) keep = [];
        }
        return 1;
      },
    };
    const agent = new GcPollingAgent(garbage, memory, 'risk', 0);
    for (let i = 0; i < 2048; i++) agent.doWork(); // busy cycles check the clock every 1024
    agent.close();
    const views = new MetricsViews(memory);
    expect(views.gcHistogram('risk').count()).toBeGreaterThan(0);
    expect(views.gcHistogram('sor').count()).toBe(0);
    const base = views.runtimeBase('risk');
    expect(views.runtime[base + Runtime.HEAP_USED_BYTES]).toBeGreaterThan(100_000);
    expect(Number.isNaN(views.runtime[base + Runtime.LOOP_DELAY_P99_S])).toBe(true);
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
    // Polls until a sample period that saw the stall has been written.
    let max = 0;
    for (let i = 0; i < 100 && max < 0.05; i++) {
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
