/**
 * The common counters every stage publishes in /health and /metrics: WORK_CYCLES counts duty
 * cycles that did work (HeartbeatAgent), PARKS counts each sleep of ParkIdle and of the
 * EventLoopRunner when they are handed the stage's counters. Method: scripted agents, a doorbell
 * whose waitSync records instead of blocking, and a runner parked on a real doorbell. No timing.
 */

import { describe, expect, it } from 'vitest';
import type { Agent } from './agent.ts';
import { ManualClock } from './clock.ts';
import { CommonCounter, StageCounters } from './counters.ts';
import { Doorbell } from './doorbell.ts';
import { CycleClock, CycleStartAgent, HeartbeatAgent } from './heartbeat.ts';
import { CompositeAgent } from './composite-agent.ts';
import { ParkIdle, createIdleStrategy } from './idle.ts';
import { EventLoopRunner } from './runner.ts';
import { until } from './wait.fixture.ts';

class ScriptedAgent implements Agent {
  readonly script: number[];
  constructor(script: number[] = []) {
    this.script = script;
  }
  doWork(): number {
    return this.script.shift() ?? 0;
  }
}

class NonBlockingDoorbell extends Doorbell {
  waits = 0;
  constructor() {
    super(Doorbell.create().sab);
  }
  override waitSync(_seq0: number, _timeoutMs: number): void {
    this.waits++;
  }
}

describe('common stage counters', () => {
  it('HeartbeatAgent counts the duty cycles that did work, not the empty ones', () => {
    const counters = StageCounters.create();
    const clock = new ManualClock(0, 0);
    const agent = new HeartbeatAgent(new ScriptedAgent([3, 0, 1, 0, 0, 7]), counters, clock);
    const works: number[] = [];
    for (let i = 0; i < 8; i++) works.push(agent.doWork());
    expect(works).toEqual([3, 0, 1, 0, 0, 7, 0, 0]);
    expect(counters.get(CommonCounter.WORK_CYCLES)).toBe(3);
    expect(counters.get(CommonCounter.PARKS)).toBe(0);
  });

  it('stages sharing a thread stamp their heartbeats from one clock read per duty cycle', () => {
    let reads = 0;
    const manual = new ManualClock(5_000_000, 0);
    const counted = { nowNs: () => { reads++; return manual.nowNs(); }, epochMs: () => manual.epochMs() };
    const cycle = new CycleClock(counted);
    const a = StageCounters.create();
    const b = StageCounters.create();
    const agent = new CompositeAgent([new CycleStartAgent(cycle), new HeartbeatAgent(new ScriptedAgent([1]), a, cycle), new HeartbeatAgent(new ScriptedAgent([0, 2]), b, cycle)]);
    reads = 0;
    manual.advanceNs(3_000_000);
    expect(agent.doWork()).toBe(1);
    expect(reads).toBe(1);
    expect([a.get(CommonCounter.HEARTBEAT_MS), b.get(CommonCounter.HEARTBEAT_MS)]).toEqual([8, 8]);
    manual.advanceNs(1_000_000);
    expect(agent.doWork()).toBe(2);
    expect(reads).toBe(2);
    expect([a.get(CommonCounter.HEARTBEAT_MS), b.get(CommonCounter.HEARTBEAT_MS)]).toEqual([9, 9]);
    expect([a.get(CommonCounter.WORK_CYCLES), b.get(CommonCounter.WORK_CYCLES)]).toEqual([1, 1]);
  });

  it('ParkIdle adds each park to PARKS (and keeps parkCount); none without counters', () => {
    const counters = StageCounters.create();
    const bell = new NonBlockingDoorbell();
    const idle = createIdleStrategy('park', bell, new ScriptedAgent(), { spins: 1, maxSleepMs: 5 }, counters) as ParkIdle;
    expect(idle).toBeInstanceOf(ParkIdle);
    for (let i = 0; i < 5; i++) idle.idle(0); // 1 spin, then 4 parks
    expect(bell.waits).toBe(4);
    expect(idle.parkCount).toBe(4);
    expect(counters.get(CommonCounter.PARKS)).toBe(4);
    idle.idle(2); // work resets the spin; the next empty cycle spins again
    idle.idle(0);
    expect(counters.get(CommonCounter.PARKS)).toBe(4);

    const bare = new ParkIdle(new NonBlockingDoorbell(), new ScriptedAgent(), { spins: 0, maxSleepMs: 5 });
    bare.idle(0);
    expect(bare.parkCount).toBe(1);
  });

  it('a last look that finds work is not a park', () => {
    const counters = StageCounters.create();
    const bell = new NonBlockingDoorbell();
    const idle = new ParkIdle(bell, new ScriptedAgent([1]), { spins: 0, maxSleepMs: 5 }, counters);
    idle.idle(0);
    expect(bell.waits).toBe(0);
    expect(counters.get(CommonCounter.PARKS)).toBe(0);
  });

  it('EventLoopRunner adds each park to PARKS', async () => {
    const counters = StageCounters.create();
    const bell = Doorbell.create();
    const agent = new ScriptedAgent();
    const runner = new EventLoopRunner(agent, bell, 'park', { spins: 2, maxSleepMs: 60_000 }, counters);
    runner.start();
    try {
      await until(() => runner.parkCount === 1, 'the runner to park');
      expect(counters.get(CommonCounter.PARKS)).toBe(1);
      bell.ring(); // woken with no work: it spins, then parks again
      await until(() => runner.parkCount === 2, 'the runner to park again');
      expect(counters.get(CommonCounter.PARKS)).toBe(2);
    } finally {
      runner.stop();
      bell.ring();
    }
  });
});

describe('StageCounters setAtomic / getAtomic', () => {
  it('round-trip any double whole, and read what set wrote (one memory, two ways in)', () => {
    const c = StageCounters.create();
    const other = new StageCounters(c.values.buffer as SharedArrayBuffer);
    for (const v of [0, 1, 2 ** 31, 2 ** 53 - 1, -7, 0.5, 123_456_789_012]) {
      c.setAtomic(5, v);
      expect(other.getAtomic(5)).toBe(v);
      expect(other.get(5)).toBe(v);
      c.set(6, v);
      expect(other.getAtomic(6)).toBe(v);
    }
  });
});
