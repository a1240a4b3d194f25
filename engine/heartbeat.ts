/**
 * Wraps a stage so every duty cycle stamps its heartbeat counter: the supervisor's watchdog
 * halts the engine when a stage's heartbeat grows older than watchdogMs. Idle strategies sleep
 * at most maxSleepMs, so a healthy idle stage still beats. Cycles that did work are counted in
 * CommonCounter.WORK_CYCLES.
 */
import type { Agent } from './agent.ts';
import type { Clock } from './clock.ts';
import { CommonCounter, type StageCounters } from './counters.ts';

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
