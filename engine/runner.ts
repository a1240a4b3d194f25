/**
 * Runners own a thread's loop; the stage (an Agent) only does bounded units of work.
 *
 * - runBlocking: for pure compute stages. Loops doWork + idle on this thread until the stop
 *   word is set; the thread never returns to its event loop while it runs.
 *   runBlockingWithTurns (risk, sor in the engine) is the same loop, leaving for one event-loop
 *   turn a few times a second so that the runtime's own queued work runs.
 * - EventLoopRunner: for stages that own sockets or timers (ingest, fix, persistence). A thread
 *   that spins or parks synchronously never runs its event loop, so its sockets and timers would
 *   stall: this runner drains in setImmediate ticks while there is work and, when idle, parks
 *   with Atomics.waitAsync on the doorbell, so I/O callbacks keep running.
 */

import type { Agent } from './agent.ts';
import { CommonCounter, type StageCounters } from './counters.ts';
import { SEQ_INDEX, type Doorbell } from './doorbell.ts';
import type { IdleKind, IdleOptions, IdleStrategy } from './idle.ts';

export const STOP_RUNNING = 0;
export const STOP_REQUESTED = 1;

/**
 * Longest an EventLoopRunner spins (empty ticks) before it parks, whatever idle.spins says. An
 * empty tick here is a whole event-loop turn (microseconds, not the ~0.1 us of runBlocking's
 * poll), so 200 of them kept ingest, fix and persistence spinning for milliseconds: at 1,000
 * orders/s they never parked and the engine took 1.5 cores. 50 us is about what 200 of
 * runBlocking's polls take (the engine's idle.spins is 0 by default: no spin at all).
 */
export const EVENT_LOOP_SPIN_BUDGET_MS = 0.05;

/** Node's timers take whole milliseconds from 1 to 2^31-1: the sleep bound's period is clamped to them. */
const TIMER_MIN_MS = 1;
const TIMER_MAX_MS = 2 ** 31 - 1;

/** Runs agent until stopWord[0] becomes STOP_REQUESTED. */
export function runBlocking(agent: Agent, idle: IdleStrategy, stopWord: Int32Array): void {
  while (Atomics.load(stopWord, 0) === STOP_RUNNING) {
    idle.idle(agent.doWork());
  }
}

/**
 * runBlocking on a worker thread whose runtime still needs its event loop now and then: every
 * turnEveryMs (checked on idle cycles, and every TURN_CHECK_EVERY busy ones) the loop leaves for
 * one event-loop turn (setImmediate) and comes back. What Node queues for the loop (GC performance
 * entries, a sampler's timer) then runs and is released, instead of piling up on a thread that
 * never returns to it. One turn costs tens of microseconds, a few times a second. Resolves when
 * stopWord[0] becomes STOP_REQUESTED.
 */
export function runBlockingWithTurns(agent: Agent, idle: IdleStrategy, stopWord: Int32Array, turnEveryMs: number): Promise<void> {
  return new Promise((resolve) => {
    // One closure for the whole run, not one per turn.
    const slice = (): void => {
      const turnAtMs = performance.now() + turnEveryMs;
      let untilCheck = TURN_CHECK_EVERY;
      while (Atomics.load(stopWord, 0) === STOP_RUNNING) {
        const work = agent.doWork();
        idle.idle(work);
        if ((work === 0 || --untilCheck <= 0) && performance.now() >= turnAtMs) {
          setImmediate(slice);
          return;
        }
        if (untilCheck <= 0) untilCheck = TURN_CHECK_EVERY;
      }
      resolve();
    };
    slice();
  });
}

/** Busy duty cycles between two reads of the clock in runBlockingWithTurns. */
const TURN_CHECK_EVERY = 1024;

/**
 * A compute stage on an event-loop thread (a shared threading mode): runs it until stopWord[0]
 * becomes STOP_REQUESTED, then does nothing, so it leaves off where runBlocking would have
 * (after the rings drained, before the fix stage logs out and the journal closes).
 */
export class UntilStopAgent implements Agent {
  private readonly inner: Agent;
  private readonly stopWord: Int32Array;

  constructor(inner: Agent, stopWord: Int32Array) {
    this.inner = inner;
    this.stopWord = stopWord;
  }

  doWork(): number {
    return Atomics.load(this.stopWord, 0) === STOP_RUNNING ? this.inner.doWork() : 0;
  }
}

export class EventLoopRunner {
  private readonly agent: Agent;
  private readonly doorbell: Doorbell;
  private readonly spin: boolean;
  private readonly spins: number;
  private empty: number;
  /** performance.now() at the first empty tick of the current spin. */
  private spinStartMs: number;
  private stopped: boolean;
  /** Parked: the runner waits for a producer's ring, a kick or the sleep bound. */
  private parked: boolean;
  /**
   * An Atomics.waitAsync of this runner is pending. A kick or the sleep bound resumes the runner
   * without ending it (no notify); it stays registered and answers the next park's ring, so a
   * park never adds a second waiter.
   */
  private waiting: boolean;
  private immediate: NodeJS.Immediate | null;
  /**
   * Every maxSleepMs (at least 1 ms: timer resolution), ends the pending park if there is one
   * (bounding every sleep, as a timeout on each wait did). It also holds the thread's event loop
   * open while the runner runs: a pending Atomics.waitAsync does not, so a worker with no socket
   * or timer of its own would exit at its first park. One timer for the run instead of a timeout
   * per park: a waitAsync with a timeout posts a delayed task per park. Measured with bench:ring's
   * wake pair, alternating the two runners (bench/results/archive/park-sleep-bound/): the pong's
   * CPU per message fell from 17-25 us to 11-14 us.
   */
  private sleepBoundTimer: NodeJS.Timeout | null;
  private readonly sleepBoundMs: number;
  // Bound once: no closure per tick.
  private readonly tickBound: () => void;
  private readonly wakeBound: () => void;
  private readonly endLongParkBound: () => void;
  /** The stage's counters: each park is added to CommonCounter.PARKS (null: not published). */
  private readonly counters: StageCounters | null;
  /** Times the runner parked (for counters). */
  parkCount: number;

  constructor(agent: Agent, doorbell: Doorbell, kind: IdleKind, options: IdleOptions, counters: StageCounters | null = null) {
    this.agent = agent;
    this.doorbell = doorbell;
    this.spin = kind === 'spin';
    this.spins = kind === 'spin' ? 0 : options.spins;
    this.empty = 0;
    this.spinStartMs = 0;
    this.stopped = true;
    this.parked = false;
    this.waiting = false;
    this.immediate = null;
    this.sleepBoundTimer = null;
    this.sleepBoundMs = Math.min(TIMER_MAX_MS, Math.max(TIMER_MIN_MS, options.maxSleepMs));
    this.tickBound = () => this.tick();
    this.wakeBound = () => this.wake();
    this.endLongParkBound = () => this.endLongPark();
    this.counters = counters;
    this.parkCount = 0;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.sleepBoundTimer = setInterval(this.endLongParkBound, this.sleepBoundMs);
    // Restarted while a park from before stop() is still pending: resume now.
    if (this.parked) this.resume();
    else this.schedule();
  }

  /** A park pending at stop() stays pending (PARKED set) until rung or start() kicks it; the thread can still exit. */
  stop(): void {
    this.stopped = true;
    if (this.immediate !== null) clearImmediate(this.immediate);
    this.immediate = null;
    if (this.sleepBoundTimer !== null) clearInterval(this.sleepBoundTimer);
    this.sleepBoundTimer = null;
  }

  /**
   * Runs a duty cycle now (e.g. after a socket callback queued work) if not already queued. From
   * a park it resumes at once, on this thread: no notify of its own waitAsync, which would cost a
   * futex call, V8's wait-list lock and an eventfd write plus an event-loop turn to come back
   * (twice a message on the ingest and fix threads, whose socket callbacks kick).
   */
  kick(): void {
    if (this.stopped) return;
    if (this.parked) this.resume();
    else if (this.immediate === null) this.schedule();
  }

  /**
   * Leaves a park (or the last look before one) without its waitAsync: PARKED goes back to 0
   * (producers stop ringing; the duty cycle polls every ring anyway) and a duty cycle is queued
   * unless stopped. A pending waitAsync stays registered (waiting) for the next park: a producer
   * that takes that park's PARKED notifies it. Its answer to a notify taken before this resume
   * arrives later: it does nothing while the runner is awake, and ends the park early (one extra
   * duty cycle) if the runner has parked again meanwhile.
   */
  private resume(): void {
    this.parked = false;
    this.doorbell.clearPark();
    this.empty = 0;
    if (!this.stopped && this.immediate === null) this.schedule();
  }

  private schedule(): void {
    this.immediate = setImmediate(this.tickBound);
  }

  private tick(): void {
    this.immediate = null;
    if (this.stopped) return;
    // A few cycles per tick amortise the setImmediate hop; sockets run between ticks.
    let work = 0;
    for (let i = 0; i < 4; i++) {
      const w = this.agent.doWork();
      work += w;
      if (w === 0) break;
    }
    if (work > 0 || this.spin) {
      this.empty = 0;
      this.schedule();
      return;
    }
    if (this.empty === 0) this.spinStartMs = performance.now();
    if (++this.empty <= this.spins && performance.now() - this.spinStartMs < EVENT_LOOP_SPIN_BUDGET_MS) {
      this.schedule();
      return;
    }
    this.park();
  }

  /** Allocates at most one Promise per park (none when a kick left one pending; never per message). */
  private park(): void {
    const bell = this.doorbell;
    const seq0 = bell.sequence();
    bell.announcePark();
    if (this.agent.doWork() > 0) {
      this.resume();
      return;
    }
    this.parkCount++;
    if (this.counters !== null) this.counters.add(CommonCounter.PARKS, 1);
    this.parked = true;
    // A waitAsync left pending by a kick answers this park: it was registered before PARKED was
    // announced, so the ring of any producer that takes PARKED reaches it.
    if (this.waiting) return;
    const result = Atomics.waitAsync(bell.words, SEQ_INDEX, seq0);
    if (result.async) {
      this.waiting = true;
      result.value.then(this.wakeBound);
    } else {
      this.wake();
    }
  }

  /** The sleep bound's timer (cleared by stop()): ends the current park, if any (so no park outlasts the period; a young one ends early, harmlessly). */
  private endLongPark(): void {
    if (this.parked) this.resume();
  }

  /** The waitAsync ended (notified, or the value had already moved on). */
  private wake(): void {
    this.waiting = false;
    // Resumed by a kick or the sleep bound since it began: a duty cycle ran or is queued.
    if (this.parked) this.resume();
  }
}
