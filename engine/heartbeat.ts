/**
 * Wraps a stage so every duty cycle stamps its heartbeat counter: the supervisor's watchdog
 * halts the engine when a stage's heartbeat grows older than watchdogMs. Idle strategies sleep
 * at most maxSleepMs, so a healthy idle stage still beats. Cycles that did work are counted in
 * CommonCounter.WORK_CYCLES.
 */
import type { Agent } from './agent.ts';
import type { Clock } from './clock.ts';
import { CommonCounter, type StageCounters } from './counters.ts';

/**
 * The heartbeats' clock on a thread of several stages: read once per duty cycle by a
 * CycleStartAgent at the head of the cycle, then handed to each stage's HeartbeatAgent, so a
 * cycle of four stages reads the system clock once, not four times. Only heartbeats use it (a
 * watchdog counts in milliseconds); the stages keep their own clocks for their timestamps.
 */
export class CycleClock implements Clock {
  private readonly source: Clock;
  private ns: number;

  constructor(source: Clock) {
    this.source = source;
    this.ns = source.nowNs();
  }

  /** Reads the source clock: the time of this duty cycle. */
  tick(): void {
    this.ns = this.source.nowNs();
  }

  nowNs(): number {
    return this.ns;
  }

  epochMs(): number {
    return this.source.epochMs();
  }
}

/** First in a several-stage duty cycle: ticks the cycle's clock, does no work. */
export class CycleStartAgent implements Agent {
  private readonly clock: CycleClock;

  constructor(clock: CycleClock) {
    this.clock = clock;
  }

  doWork(): number {
    this.clock.tick();
    return 0;
  }
}

export class HeartbeatAgent implements Agent {
  private readonly inner: Agent;
  private readonly counters: StageCounters;
  private readonly clock: Clock;

  constructor(inner: Agent, counters: StageCounters, clock: Clock) {
    this.inner = inner;
    this.counters = counters;
    this.clock = clock;
  }

  doWork(): number {
    const counters = this.counters;
    counters.set(CommonCounter.HEARTBEAT_MS, this.clock.nowNs() / 1e6);
    const work = this.inner.doWork();
    if (work > 0) counters.add(CommonCounter.WORK_CYCLES, 1);
    return work;
  }
}
