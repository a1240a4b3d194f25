/**
 * Idle strategies: what a stage does when a duty cycle found no work.
 *
 * On these 2-core machines there are more threads (main, ingest, risk, sor, fix, persistence,
 * the venue simulators) than cores, and a thread that spins takes a core from one that has work:
 * measured here, busy-spinning gives a 0.2 us ring round trip at p50 but 45 ms worst cases once
 * threads outnumber cores. So the default is PARK: spin `spins` polls (catching back-to-back
 * records cheaply; the engine's idle.spins is 0 by default, since on 2 cores even a short spin
 * took a core another thread needed, docs/TUNING.md), then sleep on the doorbell, which a
 * producer rings only while we sleep.
 * SPIN is for pinned cores with nothing else on them. BACKOFF sleeps in short timed waits without
 * asking producers to notify, so producers never pay a futex wake; its latency is up to one sleep.
 */

import type { Agent } from './agent.ts';
import { CommonCounter, type StageCounters } from './counters.ts';
import type { Doorbell } from './doorbell.ts';

export const IDLE_KINDS = ['spin', 'backoff', 'park'] as const;
export type IdleKind = (typeof IDLE_KINDS)[number];

export function isIdleKind(value: unknown): value is IdleKind {
  return typeof value === 'string' && (IDLE_KINDS as readonly string[]).includes(value);
}

export interface IdleStrategy {
  /** Called after every duty cycle with the work it did. */
  idle(workCount: number): void;
}

export interface IdleOptions {
  /** Empty polls before sleeping (backoff, park). */
  spins: number;
  /** Longest single sleep: also bounds how late a stop request or a timer is seen. */
  maxSleepMs: number;
}

/** The ring bench's and the tests' options (the engine's come from its config, workers/config.ts). */
export const DEFAULT_IDLE_OPTIONS: IdleOptions = { spins: 200, maxSleepMs: 50 };

/** Polls without pause: lowest latency, one core per stage. */
export class BusySpinIdle implements IdleStrategy {
  idle(_workCount: number): void {}
}

/** Spins, then sleeps in timed waits that double from 20 us up to maxSleepMs; no notify needed. */
export class BackoffIdle implements IdleStrategy {
  private readonly doorbell: Doorbell;
  private readonly spins: number;
  private readonly maxSleepMs: number;
  private empty: number;
  private sleepMs: number;

  constructor(doorbell: Doorbell, options: IdleOptions) {
    this.doorbell = doorbell;
    this.spins = options.spins;
    this.maxSleepMs = options.maxSleepMs;
    this.empty = 0;
    this.sleepMs = 0.02;
  }

  idle(workCount: number): void {
    if (workCount > 0) {
      this.empty = 0;
      this.sleepMs = 0.02;
      return;
    }
    if (++this.empty <= this.spins) return;
    this.doorbell.waitSync(this.doorbell.sequence(), this.sleepMs);
    this.sleepMs = Math.min(this.sleepMs * 2, this.maxSleepMs);
  }
}

/** Spins, then parks on the doorbell until a producer rings it (or maxSleepMs passes). */
export class ParkIdle implements IdleStrategy {
  private readonly doorbell: Doorbell;
  private readonly agent: Agent;
  private readonly spins: number;
  private readonly maxSleepMs: number;
  private empty: number;
  /** The stage's counters: each park is added to CommonCounter.PARKS (null: not published). */
  private readonly counters: StageCounters | null;
  /** Times this stage went to sleep (for counters). */
  parkCount: number;

  constructor(doorbell: Doorbell, agent: Agent, options: IdleOptions, counters: StageCounters | null = null) {
    this.doorbell = doorbell;
    this.agent = agent;
    this.spins = options.spins;
    this.maxSleepMs = options.maxSleepMs;
    this.empty = 0;
    this.counters = counters;
    this.parkCount = 0;
  }

  idle(workCount: number): void {
    if (workCount > 0) {
      this.empty = 0;
      return;
    }
    if (++this.empty <= this.spins) return;
    const bell = this.doorbell;
    const seq0 = bell.sequence();
    bell.announcePark();
    // The last look after announcing: a record published before the announcement is seen here;
    // one published after it makes its producer ring the bell.
    if (this.agent.doWork() > 0) {
      bell.clearPark();
      this.empty = 0;
      return;
    }
    this.parkCount++;
    if (this.counters !== null) this.counters.add(CommonCounter.PARKS, 1);
    bell.waitSync(seq0, this.maxSleepMs);
    bell.clearPark();
  }
}

/** counters (optional): the stage's counters, where a parking strategy adds its parks to PARKS. */
export function createIdleStrategy(
  kind: IdleKind,
  doorbell: Doorbell,
  agent: Agent,
  options: IdleOptions,
  counters: StageCounters | null = null,
): IdleStrategy {
  switch (kind) {
    case 'spin':
      return new BusySpinIdle();
    case 'backoff':
      return new BackoffIdle(doorbell, options);
    case 'park':
      return new ParkIdle(doorbell, agent, options, counters);
  }
}
