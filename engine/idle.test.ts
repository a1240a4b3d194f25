/**
 * Idle strategies, the doorbell and the EventLoopRunner's parking. Goal: a parked consumer is
 * woken by a producer's ring from another thread (and only then pays for a notify); the park
 * protocol reads the sequence before announcing and looks once more before sleeping, so no
 * wake-up is lost; backoff never asks producers to notify; an EventLoopRunner parked with
 * waitAsync wakes on kick() (without a notify of its own, keeping its one waitAsync for the next
 * park) and on restart. Method: a doorbell subclass that records waits
 * instead of blocking for the sequencing, and real worker threads (engine/idle.fixture.ts) with
 * sleeps so long (60 s) that only a ring can end them within the test's timeout. No test asserts
 * a timing.
 */

import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import type { Agent } from './agent.ts';
import { Doorbell, PARKED_INDEX, SEQ_INDEX } from './doorbell.ts';
import type { IdleConsumerResult, IdleConsumerRole } from './idle.fixture.ts';
import { BackoffIdle, BusySpinIdle, DEFAULT_IDLE_OPTIONS, ParkIdle, createIdleStrategy, isIdleKind, type IdleKind } from './idle.ts';
import { RingProducer, createRingMemory } from './ring.ts';
import { EventLoopRunner } from './runner.ts';
import { until } from './wait.fixture.ts';

interface RecordedWait {
  seq0: number;
  seqNow: number;
  parked: number;
  timeoutMs: number;
}

/** A doorbell that records each wait (and the words at that moment) instead of blocking. */
class RecordingDoorbell extends Doorbell {
  readonly waits: RecordedWait[] = [];
  constructor() {
    super(Doorbell.create().sab);
  }
  override waitSync(seq0: number, timeoutMs: number): void {
    this.waits.push({ seq0, seqNow: Atomics.load(this.words, SEQ_INDEX), parked: Atomics.load(this.words, PARKED_INDEX), timeoutMs });
  }
}

/** An agent whose doWork returns scripted counts (0 once the script runs out), optionally acting. */
class ScriptedAgent implements Agent {
  calls = 0;
  readonly script: number[];
  onCall: (call: number) => void = () => {};
  constructor(script: number[] = []) {
    this.script = script;
  }
  doWork(): number {
    this.onCall(this.calls++);
    return this.script.shift() ?? 0;
  }
}

describe('doorbell', () => {
  it('ring() does not notify (notifyCount stays 0) while the consumer is not parked', () => {
    const bell = Doorbell.create();
    const seq = bell.sequence();
    for (let i = 0; i < 10; i++) bell.ring();
    expect(bell.notifyCount).toBe(0);
    expect(bell.sequence()).toBe(seq);
  });

  it('ring() bumps the sequence and notifies while parked, and stops once the park is cleared', () => {
    const bell = Doorbell.create();
    const seq = bell.sequence();
    bell.announcePark();
    bell.ring();
    expect(bell.notifyCount).toBe(1);
    expect(bell.sequence()).toBe(seq + 1);
    bell.clearPark();
    bell.ring();
    expect(bell.notifyCount).toBe(1);
  });

  it('ring() notifies once per park, however many commits land before the consumer runs again', () => {
    const consumerBell = Doorbell.create();
    const producerBell = new Doorbell(consumerBell.sab);
    const seq = consumerBell.sequence();
    consumerBell.announcePark();
    for (let i = 0; i < 5; i++) producerBell.ring();
    expect(producerBell.notifyCount).toBe(1);
    expect(consumerBell.sequence()).toBe(seq + 1);
    // The waker took PARKED back to 0; the next park is announced afresh and rung afresh.
    expect(Atomics.load(consumerBell.words, PARKED_INDEX)).toBe(0);
    consumerBell.announcePark();
    producerBell.ring();
    expect(producerBell.notifyCount).toBe(2);
    expect(consumerBell.sequence()).toBe(seq + 2);
  });

  it('a second producer sharing the doorbell does not notify a park another already woke', () => {
    const consumerBell = Doorbell.create();
    const first = new Doorbell(consumerBell.sab);
    const second = new Doorbell(consumerBell.sab);
    consumerBell.announcePark();
    first.ring();
    second.ring();
    expect(first.notifyCount + second.notifyCount).toBe(1);
  });

  it('refuses a buffer of the wrong length', () => {
    expect(() => new Doorbell(new SharedArrayBuffer(128))).toThrow(/Condition failed/);
  });
});

describe('idle strategies, sequencing (no blocking)', () => {
  it('park: spins `spins` empty cycles, then reads seq, announces, looks once more, waits, clears', () => {
    const bell = new RecordingDoorbell();
    const agent = new ScriptedAgent();
    const idle = new ParkIdle(bell, agent, { spins: 3, maxSleepMs: 7 });
    for (let i = 0; i < 3; i++) idle.idle(0);
    expect(bell.waits).toHaveLength(0);
    expect(agent.calls).toBe(0);
    idle.idle(0);
    expect(agent.calls).toBe(1); // the last look
    expect(bell.waits).toEqual([{ seq0: 0, seqNow: 0, parked: 1, timeoutMs: 7 }]);
    expect(Atomics.load(bell.words, PARKED_INDEX)).toBe(0);
    expect(idle.parkCount).toBe(1);
    // Work resets the spin count.
    idle.idle(5);
    for (let i = 0; i < 3; i++) idle.idle(0);
    expect(bell.waits).toHaveLength(1);
  });

  it('park: does not sleep when the last look after announcing finds work', () => {
    const bell = new RecordingDoorbell();
    const agent = new ScriptedAgent([1]);
    const idle = new ParkIdle(bell, agent, { spins: 0, maxSleepMs: 7 });
    idle.idle(0);
    expect(agent.calls).toBe(1);
    expect(bell.waits).toHaveLength(0);
    expect(idle.parkCount).toBe(0);
    expect(Atomics.load(bell.words, PARKED_INDEX)).toBe(0);
  });

  it('park: a ring between the announcement and the wait makes the wait return at once', () => {
    // The producer publishes just after the last look and sees PARKED = 1: it bumps SEQ, so
    // the wait on the sequence read before the announcement cannot sleep (Atomics.wait returns
    // "not-equal").
    const bell = new RecordingDoorbell();
    const producerBell = new Doorbell(bell.sab);
    const agent = new ScriptedAgent();
    agent.onCall = () => producerBell.ring();
    const idle = new ParkIdle(bell, agent, { spins: 0, maxSleepMs: 7 });
    idle.idle(0);
    expect(producerBell.notifyCount).toBe(1);
    expect(bell.waits).toHaveLength(1);
    expect(bell.waits[0].seqNow).not.toBe(bell.waits[0].seq0);
    const words = new Int32Array(new SharedArrayBuffer(4));
    expect(Atomics.wait(words, 0, bell.waits[0].seq0 + 1, 60_000)).toBe('not-equal');
  });

  it('backoff: never announces a park, sleeps doubling from 20 us up to maxSleepMs, resets on work', () => {
    const bell = new RecordingDoorbell();
    const idle = new BackoffIdle(bell, { spins: 2, maxSleepMs: 0.1 });
    for (let i = 0; i < 2 + 5; i++) idle.idle(0);
    expect(bell.waits.map((w) => w.parked)).toEqual([0, 0, 0, 0, 0]);
    expect(bell.waits.map((w) => w.timeoutMs)).toEqual([0.02, 0.04, 0.08, 0.1, 0.1]);
    idle.idle(1);
    for (let i = 0; i < 3; i++) idle.idle(0);
    expect(bell.waits.map((w) => w.timeoutMs).slice(5)).toEqual([0.02]);
  });

  it('spin: never waits', () => {
    const idle = new BusySpinIdle();
    for (let i = 0; i < 1000; i++) idle.idle(0);
  });

  it('createIdleStrategy and isIdleKind know the three kinds', () => {
    const bell = Doorbell.create();
    const agent = new ScriptedAgent();
    expect(createIdleStrategy('spin', bell, agent, DEFAULT_IDLE_OPTIONS)).toBeInstanceOf(BusySpinIdle);
    expect(createIdleStrategy('backoff', bell, agent, DEFAULT_IDLE_OPTIONS)).toBeInstanceOf(BackoffIdle);
    expect(createIdleStrategy('park', bell, agent, DEFAULT_IDLE_OPTIONS)).toBeInstanceOf(ParkIdle);
    expect(['spin', 'backoff', 'park'].every(isIdleKind)).toBe(true);
    expect(isIdleKind('yield')).toBe(false);
    expect(isIdleKind(1)).toBe(false);
  });
});

describe('idle strategies across threads', () => {
  const live = new Set<Worker>();
  afterEach(async () => {
    await Promise.all([...live].map((w) => w.terminate()));
    live.clear();
  });

  function startConsumer(strategy: IdleKind, sleepMs: number, total: number) {
    const memory = createRingMemory(1024);
    const bell = Doorbell.create();
    const stop = new SharedArrayBuffer(8);
    const role: IdleConsumerRole = { memory, doorbell: bell.sab, stop, total, strategy, options: { spins: 0, maxSleepMs: sleepMs } };
    const worker = new Worker(new URL('./idle.fixture.ts', import.meta.url), { workerData: role });
    live.add(worker);
    const result = new Promise<IdleConsumerResult>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`consumer exited (code ${code}) without a result`)));
    });
    // A failed test terminates the worker before anyone awaits this: not an unhandled rejection.
    result.catch(() => {});
    const received = (): number => Atomics.load(new Int32Array(stop), 1);
    return { producer: new RingProducer(memory, bell), bell, result, received };
  }

  function send(producer: RingProducer, typeId: number): void {
    expect(producer.tryClaim(typeId, 8)).toBeGreaterThan(0);
    producer.commit();
  }

  it('park: a consumer parked on a 60 s wait wakes when a producer on another thread rings', async () => {
    const { producer, bell, result } = startConsumer('park', 60_000, 1);
    // Only a ring can end the consumer's sleep within this test's timeout.
    await until(() => Atomics.load(bell.words, PARKED_INDEX) === 1, 'the consumer to park');
    send(producer, 11);
    expect(bell.notifyCount).toBe(1);
    const got = await result;
    expect(got.typeIds).toEqual([11]);
    expect(got.parkCount).toBeGreaterThanOrEqual(1);
  });

  it('park: wakes again for each record sent while it sleeps', async () => {
    const { producer, bell, result, received } = startConsumer('park', 60_000, 3);
    for (let i = 0; i < 3; i++) {
      // PARKED is cleared after a wake, before the record is handled: once record i - 1 is
      // counted, PARKED = 1 means the next park.
      await until(() => received() === i && Atomics.load(bell.words, PARKED_INDEX) === 1, `park ${i}`);
      send(producer, 20 + i);
      expect(bell.notifyCount).toBe(i + 1);
    }
    const got = await result;
    expect(got.typeIds).toEqual([20, 21, 22]);
    expect(got.parkCount).toBeGreaterThanOrEqual(3);
  });

  it('backoff: receives without the producer ever notifying', async () => {
    const { producer, bell, result } = startConsumer('backoff', 5, 2);
    await new Promise((resolve) => setTimeout(resolve, 30));
    send(producer, 1);
    await new Promise((resolve) => setTimeout(resolve, 30));
    send(producer, 2);
    expect((await result).typeIds).toEqual([1, 2]);
    expect(bell.notifyCount).toBe(0);
  });

  it('spin: the producer never notifies a spinning consumer', async () => {
    // 30 records of 16 bytes fit the 1 KiB ring without waiting for the consumer.
    const { producer, bell, result } = startConsumer('spin', 5, 30);
    for (let i = 0; i < 30; i++) {
      send(producer, i);
      if (i % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    }
    expect((await result).typeIds).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(bell.notifyCount).toBe(0);
  });
});

describe('EventLoopRunner parking (this thread)', () => {
  const LONG_SLEEP = { spins: 2, maxSleepMs: 60_000 };

  function parked(bell: Doorbell): boolean {
    return Atomics.load(bell.words, PARKED_INDEX) === 1;
  }

  /** A ScriptedAgent's EventLoopRunner on a fresh doorbell, started. */
  function startedRunner(kind: 'park' | 'spin' = 'park', options = LONG_SLEEP): { bell: Doorbell; agent: ScriptedAgent; runner: EventLoopRunner } {
    const bell = Doorbell.create();
    const agent = new ScriptedAgent();
    const runner = new EventLoopRunner(agent, bell, kind, options);
    runner.start();
    return { bell, agent, runner };
  }

  /** Kicks the runner out of each of its first n parks, then waits for park n + 1 (on the first park's waitAsync). */
  async function kickedParks(runner: EventLoopRunner, bell: Doorbell, n: number): Promise<void> {
    for (let k = 1; k <= n; k++) {
      await until(() => parked(bell) && runner.parkCount === k, `park ${k}`);
      runner.kick();
    }
    await until(() => parked(bell) && runner.parkCount === n + 1, `park ${n + 1}, on the waiter of park 1`);
  }

  it('kick() while parked runs a duty cycle now, not after the sleep bound ends the park', async () => {
    const { bell, agent, runner } = startedRunner();
    try {
      await until(() => parked(bell) && runner.parkCount === 1, 'the runner to park');
      // A socket callback queued work: the script's next doWork finds one item.
      agent.script.push(1);
      const before = agent.calls;
      runner.kick();
      await until(() => agent.script.length === 0 && agent.calls > before, 'the kicked duty cycle');
    } finally {
      runner.stop();
      bell.ring();
    }
  });

  it('kick() while parked resumes on its own thread: no notify (the sequence word does not move)', async () => {
    const { bell, agent, runner } = startedRunner();
    try {
      await until(() => parked(bell) && runner.parkCount === 1, 'the runner to park');
      const seq = bell.sequence();
      agent.script.push(1);
      runner.kick();
      // Resumed at once: PARKED is back to 0 before any duty cycle ran.
      expect(parked(bell)).toBe(false);
      await until(() => agent.script.length === 0 && runner.parkCount === 2, 'the kicked duty cycle, then the next park');
      // Before, the kick notified its own waitAsync through Doorbell.wake(), which bumps the sequence.
      expect(bell.sequence()).toBe(seq);
    } finally {
      runner.stop();
      bell.ring();
    }
  });

  it('the waitAsync a kick left pending answers the next park: a ring then wakes it from a 60 s park', async () => {
    const { bell, agent, runner } = startedRunner();
    try {
      await kickedParks(runner, bell, 3);
      agent.script.push(1);
      bell.ring();
      expect(bell.notifyCount).toBe(1);
      await until(() => agent.script.length === 0 && runner.parkCount === 5, 'the rung duty cycle, then park 5');
      // That waiter was used up: park 5 registered a new one, which the next ring reaches.
      agent.script.push(1);
      bell.ring();
      expect(bell.notifyCount).toBe(2);
      await until(() => agent.script.length === 0 && runner.parkCount === 6, 'the second rung duty cycle, then park 6');
    } finally {
      runner.stop();
      bell.ring();
    }
  });

  // Passes with a kick that notifies too (it ends each waiter); fails when a park after a kick registers another.
  it('parks after kicks add no second waiter: one notify finds exactly one', async () => {
    const { bell, runner } = startedRunner();
    try {
      await kickedParks(runner, bell, 5);
      // Every waiter registered on the word, this thread's included: a park per waitAsync would leave six.
      expect(Atomics.notify(bell.words, SEQ_INDEX)).toBe(1);
    } finally {
      runner.stop();
      bell.ring();
    }
  });

  it('a producer ring wakes it from a 60 s park', async () => {
    const { bell, agent, runner } = startedRunner();
    try {
      await until(() => parked(bell), 'the runner to park');
      agent.script.push(1);
      bell.ring();
      expect(bell.notifyCount).toBe(1);
      await until(() => agent.script.length === 0, 'the woken duty cycle');
    } finally {
      runner.stop();
      bell.ring();
    }
  });

  it('unrung, its parks end by themselves (the maxSleepMs bound) and it parks again', async () => {
    const { bell, runner } = startedRunner('park', { spins: 0, maxSleepMs: 20 });
    try {
      // Nothing rings the bell: every park after the first began when the one before it was ended.
      await until(() => runner.parkCount >= 4, 'parks that end by themselves');
      expect(bell.notifyCount).toBe(0);
    } finally {
      runner.stop();
      bell.wake();
    }
  });

  it('start() after stop() during a park resumes at once', async () => {
    const { bell, agent, runner } = startedRunner();
    try {
      await until(() => parked(bell), 'the runner to park');
      runner.stop();
      agent.script.push(1);
      runner.start();
      await until(() => agent.script.length === 0, 'the restarted duty cycle');
    } finally {
      runner.stop();
      bell.ring();
    }
  });

  it('runs no duty cycle after stop(), even when its park ends', async () => {
    const { bell, agent, runner } = startedRunner();
    await until(() => parked(bell), 'the runner to park');
    runner.stop();
    const calls = agent.calls;
    bell.ring();
    runner.kick();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(agent.calls).toBe(calls);
    expect(parked(bell)).toBe(false);
  });

  it("with kind 'spin' never parks, yet lets timers run between its ticks", async () => {
    const { bell, agent, runner } = startedRunner('spin', LONG_SLEEP);
    try {
      let fired = false;
      setTimeout(() => (fired = true), 5);
      await until(() => fired && agent.calls > 100, 'a timer between spinning ticks');
      expect(runner.parkCount).toBe(0);
      expect(parked(bell)).toBe(false);
    } finally {
      runner.stop();
    }
  });
});
