/**
 * Smoke test of bench/ring.bench.ts, so the benchmark cannot rot: its measuring functions run
 * with tiny inputs across real workers, and the checks they make (every record's sequence number
 * and body, the checksum of the whole stream) are asserted here. Writes no results file, asserts
 * no speed: a ping-pong's maxMs (after which it stops short of its iterations) and every
 * timeoutMs are hang guards, far above what these tiny inputs take even on a loaded machine, where
 * each round trip waits for both threads to get a core.
 */

/** Ends a ping-pong short of its iterations only if it hangs. */
const MAX_MS = 40_000;
/** A measuring run that has not finished by then failed. */
const TIMEOUT_MS = 50_000;

import { describe, expect, it } from 'vitest';
import {
  QUICK_CONFIG,
  expectedChecksum,
  measurePostMessagePingPong,
  measurePostMessageThroughput,
  measureRingPingPong,
  measureRingThroughput,
  runRingBench,
} from './ring.bench.ts';
import { IDLE_KINDS } from '../engine/idle.ts';

describe('ring bench (smoke)', () => {
  for (const strategy of IDLE_KINDS) {
    it(`one hop with a ${strategy} consumer verifies every record and the checksum`, async () => {
      const records = 20_000;
      for (const batch of [64, 1]) {
        const run = await measureRingThroughput({ strategy, records, warmup: 1_000, batch, capacity: 4096, timeoutMs: TIMEOUT_MS });
        expect(run.seqErrors).toBe(0);
        expect(run.verified).toBe(records);
        expect(run.checksum).toBe(expectedChecksum(records));
        expect(run.msgsPerS).toBeGreaterThan(0);
      }
    }, 2 * TIMEOUT_MS + 10_000);

    it(`ping-pong with ${strategy} idling records every round trip`, async () => {
      const run = await measureRingPingPong({ strategy, iterations: 500, warmup: 50, maxMs: MAX_MS, capacity: 4096, timeoutMs: TIMEOUT_MS });
      expect(run.seqErrors).toBe(0);
      expect(run.iterations).toBe(500);
      expect(run.rttUs.count).toBe(450);
      expect(run.rttUs.p50).toBeGreaterThan(0);
      expect(run.rttUs.max).toBeGreaterThanOrEqual(run.rttUs.p99);
    }, TIMEOUT_MS + 10_000);
  }

  for (const pongRunner of ['blocking', 'event-loop'] as const) {
    it(`ping-pong with the pong parked ${pongRunner === 'blocking' ? 'in Atomics.wait' : 'on its event loop'}, no spin, echoes every message and reports its CPU per message`, async () => {
      const run = await measureRingPingPong({ strategy: 'park', spins: 0, pongRunner, iterations: 500, warmup: 50, maxMs: MAX_MS, capacity: 4096, timeoutMs: TIMEOUT_MS });
      expect(run.seqErrors).toBe(0);
      expect(run.iterations).toBe(500);
      expect(run.rttUs.count).toBe(450);
      expect(run).toMatchObject({ spins: 0, pongRunner });
      expect(run.pongCpuUsPerMsg).toBeGreaterThan(0);
    }, TIMEOUT_MS + 10_000);
  }

  it('postMessage baselines verify their sequence too', async () => {
    const one = await measurePostMessageThroughput({ records: 5_000, warmup: 500, timeoutMs: TIMEOUT_MS });
    expect(one.seqErrors).toBe(0);
    expect(one.verified).toBe(5_000);
    expect(one.checksum).toBe(expectedChecksum(5_000));
    const ping = await measurePostMessagePingPong({ iterations: 300, warmup: 30, maxMs: MAX_MS, timeoutMs: TIMEOUT_MS });
    expect(ping.seqErrors).toBe(0);
    expect(ping.rttUs.count).toBe(270);
  }, 2 * TIMEOUT_MS + 10_000);

  it('the whole --quick run produces every figure BENCH.md asks of ring.json', async () => {
    const report = await runRingBench(QUICK_CONFIG);
    expect(Object.keys(report.figures)).toEqual(expect.arrayContaining(['one_hop_msgs_per_s', 'ratio_vs_postmessage']));
    const oneHop = report.figures.one_hop_msgs_per_s;
    expect(oneHop.goal).toBe('>= 10000000');
    expect(typeof oneHop.met).toBe('boolean');
    expect(IDLE_KINDS).toContain(oneHop.strategy);
    expect(report.figures.ratio_vs_postmessage.goal).toBe('>= 5');
    expect(report.throughput.every((s) => s.verified)).toBe(true);
    expect(report.latency).toHaveLength(IDLE_KINDS.length + 1);
    expect(report.wake.map((l) => l.pongRunner)).toEqual(['blocking', 'event-loop']);
    const wake = report.figures.wake_cpu_us_event_loop;
    expect(wake).toMatchObject({ unit: 'us', goal: '(report)' });
    expect(wake.value).toBeGreaterThan(0);
    expect(wake.baseline).toBeGreaterThan(0);
  }, 60_000);
});
