/**
 * Stress of the SPSC ring across real threads. Goal: with a producer and a consumer on their own
 * worker threads, no record is lost, duplicated, reordered or corrupted, whichever idle strategy
 * the consumer uses, while a small ring wraps thousands of times, the producer meets FULL over
 * and over, and the 32-bit positions wrap mid-run; nothing is written outside the ring's words.
 * Method: engine/ring-stress.fixture.ts writes seeded random-size records carrying a sequence
 * number and a checksum of the body; the consumer replays the size stream and checks each one.
 * Both sides pause now and then so the consumer idles (and parks) and the producer fills the
 * ring. Canary bytes fill the padding around the head and tail words and the doorbell's words.
 * No test asserts a timing: every wait is bounded only so a hang fails instead of stalling.
 */

import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { DOORBELL_LENGTH, Doorbell, PARKED_INDEX, SEQ_INDEX } from './doorbell.ts';
import { DEFAULT_IDLE_OPTIONS, IDLE_KINDS, type IdleKind, type IdleOptions } from './idle.ts';
import { HEAD_OFFSET_FROM_END, HEAD_ROOM_WAITING, TAIL_OFFSET_FROM_END, TRAILER_LENGTH, createRingMemory, type RingMemory } from './ring.ts';
import { CONTROL_LENGTH, GO_INDEX, STOP_INDEX, type StressResult, type StressRole } from './ring-stress.fixture.ts';

const FIXTURE = new URL('./ring-stress.fixture.ts', import.meta.url);
const CANARY = 0xa5;
const SEED = 0x1234abcd;

const live = new Set<Worker>();

afterEach(async () => {
  await Promise.all([...live].map((w) => w.terminate()));
  live.clear();
});

/** Byte ranges of a ring's trailer that no end may write: all but the head, ROOM_WAITING and tail words. */
function trailerCanaryRanges(capacity: number): [number, number][] {
  const head = capacity + HEAD_OFFSET_FROM_END;
  const room = head + HEAD_ROOM_WAITING * 4;
  const tail = capacity + TAIL_OFFSET_FROM_END;
  return [
    [head + 4, room],
    [room + 4, tail],
    [tail + 4, capacity + TRAILER_LENGTH],
  ];
}

/** Byte ranges of a doorbell that nobody may write: all but the PARKED and SEQ words. */
function doorbellCanaryRanges(): [number, number][] {
  return [
    [PARKED_INDEX * 4 + 4, SEQ_INDEX * 4],
    [SEQ_INDEX * 4 + 4, DOORBELL_LENGTH],
  ];
}

function fillCanaries(sab: SharedArrayBuffer, ranges: [number, number][]): void {
  const bytes = new Uint8Array(sab);
  for (const [from, to] of ranges) bytes.fill(CANARY, from, to);
}

function damagedCanaries(sab: SharedArrayBuffer, ranges: [number, number][]): number[] {
  const bytes = new Uint8Array(sab);
  const damaged: number[] = [];
  for (const [from, to] of ranges) for (let i = from; i < to; i++) if (bytes[i] !== CANARY) damaged.push(i);
  return damaged;
}

function startWorker(role: StressRole): { worker: Worker; result: Promise<StressResult>; exit: Promise<number> } {
  const worker = new Worker(FIXTURE, { workerData: role });
  live.add(worker);
  const exit = new Promise<number>((resolve) => worker.once('exit', resolve));
  const result = new Promise<StressResult>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`${role.role} worker exited (code ${code}) without a result`)));
  });
  // A failed run terminates the workers before anyone awaits this: not an unhandled rejection.
  result.catch(() => {});
  return { worker, result, exit };
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

interface StressRun {
  memory: RingMemory;
  doorbell: SharedArrayBuffer;
  producer: StressResult;
  consumer: StressResult;
  consumerExit: Promise<number>;
}

interface StressOptions {
  consumerRole: 'consumer' | 'event-loop-consumer';
  strategy: IdleKind;
  total: number;
  capacity: number;
  /** Where head and tail start (e.g. just below 2^32, so the counters wrap mid-run). */
  start: number;
  producerPauseEvery: number;
  consumerPauseEvery: number;
  pauseMs: number;
  idleOptions: IdleOptions;
  noTimer: boolean;
  /** Delay before the producer is told to go (the consumer idles meanwhile). */
  goDelayMs: number;
  timeoutMs: number;
  /** The producer parks on a full ring (its own doorbell), woken only by the consumer's release. */
  producerParks?: boolean;
  /** The event-loop consumer's own kicks (StressRole.kickEveryMs). */
  kickEveryMs?: number;
}

async function runStress(options: StressOptions): Promise<StressRun> {
  const memory = createRingMemory(options.capacity);
  const counters = new Int32Array(memory.sab, options.capacity, TRAILER_LENGTH >>> 2);
  counters[HEAD_OFFSET_FROM_END >>> 2] = options.start | 0;
  counters[TAIL_OFFSET_FROM_END >>> 2] = options.start | 0;
  const doorbell = Doorbell.create().sab;
  const producerDoorbell = options.producerParks === true ? Doorbell.create().sab : undefined;
  const control = new Int32Array(new SharedArrayBuffer(CONTROL_LENGTH));
  fillCanaries(memory.sab, trailerCanaryRanges(options.capacity));
  fillCanaries(doorbell, doorbellCanaryRanges());
  if (producerDoorbell !== undefined) fillCanaries(producerDoorbell, doorbellCanaryRanges());
  const common = {
    memory,
    doorbell,
    control: control.buffer as SharedArrayBuffer,
    total: options.total,
    seed: SEED,
    pauseMs: options.pauseMs,
    strategy: options.strategy,
    idleOptions: options.idleOptions,
    noTimer: options.noTimer,
    producerDoorbell,
    kickEveryMs: options.kickEveryMs,
  };
  const consumer = startWorker({ ...common, role: options.consumerRole, pauseEvery: options.consumerPauseEvery });
  const producer = startWorker({ ...common, role: 'producer', pauseEvery: options.producerPauseEvery });
  const go = setTimeout(() => {
    Atomics.store(control, GO_INDEX, 1);
    Atomics.notify(control, GO_INDEX);
  }, options.goDelayMs);
  try {
    const [p, c] = await withTimeout(Promise.all([producer.result, consumer.result]), options.timeoutMs, `${options.strategy} stress run`);
    expect(damagedCanaries(memory.sab, trailerCanaryRanges(options.capacity))).toEqual([]);
    expect(damagedCanaries(doorbell, doorbellCanaryRanges())).toEqual([]);
    if (producerDoorbell !== undefined) expect(damagedCanaries(producerDoorbell, doorbellCanaryRanges())).toEqual([]);
    return { memory, doorbell, producer: p, consumer: c, consumerExit: consumer.exit };
  } finally {
    clearTimeout(go);
    // On failure, stop both loops before the workers are terminated.
    Atomics.store(control, STOP_INDEX, 1);
  }
}

function expectEveryRecordIntact(run: StressRun, total: number): void {
  const { producer, consumer } = run;
  expect(consumer.firstError).toBe('');
  expect(consumer.errors).toBe(0);
  expect(producer.count).toBe(total);
  expect(consumer.count).toBe(total);
  expect(consumer.checksumSum).toBe(producer.checksumSum);
  // Everything published was consumed and released.
  const counters = new Int32Array(run.memory.sab, run.memory.capacity, TRAILER_LENGTH >>> 2);
  expect(Atomics.load(counters, HEAD_OFFSET_FROM_END >>> 2)).toBe(Atomics.load(counters, TAIL_OFFSET_FROM_END >>> 2));
}

describe('ring across threads: producer worker -> consumer worker', () => {
  const total = 400_000;
  for (const strategy of IDLE_KINDS) {
    it(`delivers ${total} random-size records intact with a ${strategy} consumer (seed 0x${SEED.toString(16)})`, async () => {
      const run = await runStress({
        consumerRole: 'consumer',
        strategy,
        total,
        capacity: 4096,
        // ~45 MB pass through: the counters cross 2^32 about halfway.
        start: 2 ** 32 - 20 * 2 ** 20,
        producerPauseEvery: 20_000,
        consumerPauseEvery: 25_000,
        pauseMs: 2,
        idleOptions: { spins: 50, maxSleepMs: 20 },
        noTimer: true,
        goDelayMs: 0,
        timeoutMs: 50_000,
      });
      expectEveryRecordIntact(run, total);
      // The consumer held batches while the producer ran on: the ring filled and refused claims.
      expect(run.producer.fullCount).toBeGreaterThan(0);
      if (strategy === 'park') {
        // The producer paused while the consumer was idle: it parked and was rung awake.
        expect(run.consumer.parkCount).toBeGreaterThan(0);
        expect(run.producer.notifyCount).toBeGreaterThan(0);
      } else {
        // Spin and backoff never announce a park, so the producer never pays for a notify.
        expect(run.producer.notifyCount).toBe(0);
      }
    }, 60_000);
  }
});

describe('ring across threads: EventLoopRunner consumer', () => {
  it('keeps a timer ticking while parked and still receives every record', async () => {
    const total = 100_000;
    const run = await runStress({
      consumerRole: 'event-loop-consumer',
      strategy: 'park',
      total,
      capacity: 4096,
      start: 0,
      producerPauseEvery: 2_000,
      consumerPauseEvery: 0,
      pauseMs: 3,
      idleOptions: { spins: 20, maxSleepMs: 1_000 },
      noTimer: false,
      goDelayMs: 20,
      timeoutMs: 50_000,
    });
    expectEveryRecordIntact(run, total);
    expect(run.consumer.parkCount).toBeGreaterThan(0);
    expect(run.producer.notifyCount).toBeGreaterThan(0);
    // The setInterval of the consumer's thread fired, some of it while the runner was parked:
    // parking with waitAsync leaves the event loop free.
    expect(run.consumer.timerTicks).toBeGreaterThan(0);
    expect(run.consumer.timerTicksWhileParked).toBeGreaterThan(0);
  }, 60_000);

  it('kicked while parked (as socket callbacks do) and then left to producer rings alone, loses no wake-up', async () => {
    // Kicks resume the runner without ending its waitAsync, which then answers later parks; once
    // the kicks stop (half the records in), only rings can wake it, and the sleep bound (120 s)
    // is past the test's timeout: a ring that missed the kept waiter stalls the run.
    const total = 100_000;
    const run = await runStress({
      consumerRole: 'event-loop-consumer',
      strategy: 'park',
      total,
      capacity: 4096,
      start: 0,
      producerPauseEvery: 500,
      consumerPauseEvery: 0,
      pauseMs: 1,
      idleOptions: { spins: 0, maxSleepMs: 120_000 },
      noTimer: true,
      goDelayMs: 20,
      timeoutMs: 50_000,
      kickEveryMs: 1,
    });
    expectEveryRecordIntact(run, total);
    // Preconditions of the scenario (kicks did reach a parked runner; rings did wake it), not timings.
    expect(run.consumer.kicksWhileParked).toBeGreaterThan(0);
    expect(run.producer.notifyCount).toBeGreaterThan(0);
  }, 60_000);

  it('keeps its thread alive while parked with no socket or timer of its own, and lets it exit after stop()', async () => {
    const total = 20_000;
    const run = await runStress({
      consumerRole: 'event-loop-consumer',
      strategy: 'park',
      total,
      capacity: 4096,
      start: 0,
      producerPauseEvery: 0,
      consumerPauseEvery: 0,
      pauseMs: 0,
      idleOptions: { ...DEFAULT_IDLE_OPTIONS, maxSleepMs: 1_000 },
      noTimer: true,
      // The runner parks long before the first record arrives.
      goDelayMs: 300,
      timeoutMs: 30_000,
    });
    expectEveryRecordIntact(run, total);
    expect(run.consumer.parkCount).toBeGreaterThan(0);
    // After stop() nothing holds the worker: it ends by itself.
    expect(await withTimeout(run.consumerExit, 10_000, 'consumer worker exit')).toBe(0);
  }, 60_000);
});

describe('ring across threads: a producer parked on a full ring', () => {
  // The producer sleeps on its own doorbell when the ring is full, with a bound far beyond the
  // test's timeout (PRODUCER_PARK_MS): only the consumer's release, answering ROOM_WAITING
  // (engine/ring.ts), wakes it, so a lost wake stalls the run and fails it.
  for (const consumerRole of ['consumer', 'event-loop-consumer'] as const) {
    it(`is rung awake by the ${consumerRole === 'consumer' ? 'blocking' : 'event-loop'} consumer each time it frees room, and every record arrives intact`, async () => {
      const total = 200_000;
      const run = await runStress({
        consumerRole,
        strategy: 'park',
        total,
        capacity: 4096,
        start: 2 ** 32 - 10 * 2 ** 20,
        producerPauseEvery: 0,
        consumerPauseEvery: 5_000,
        pauseMs: 1,
        idleOptions: { spins: 20, maxSleepMs: 1_000 },
        noTimer: true,
        goDelayMs: 0,
        timeoutMs: 50_000,
        producerParks: true,
      });
      expectEveryRecordIntact(run, total);
      // The producer outran the consumer, parked on the full ring, and was rung from the release.
      expect(run.producer.parkCount).toBeGreaterThan(0);
      expect(run.consumer.roomWakes).toBeGreaterThan(0);
    }, 60_000);
  }
});
