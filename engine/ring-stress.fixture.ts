/**
 * Worker script for engine/ring.threads.test.ts: one end of a ring under stress, on its own
 * thread. Plain Node, no vitest imports (the worker does not run inside vitest).
 *
 * Roles (workerData.role):
 * - 'producer': writes `total` records of seeded random sizes, committing in seeded random
 *   batches, retrying on FULL, pausing now and then so the consumer goes idle. With a
 *   `producerDoorbell` it parks on FULL instead of retrying at once, with no timeout to speak of
 *   (PRODUCER_PARK_MS): only the consumer's release, answering ROOM_WAITING, wakes it.
 * - 'consumer': drains with runBlocking and an idle strategy, checking every record; pauses now
 *   and then inside a batch so the producer meets FULL.
 * - 'event-loop-consumer': the same checks, driven by EventLoopRunner; counts the ticks of a
 *   setInterval (and those that fire while the runner is parked) unless `noTimer` is set.
 *
 * Record body (bodyLength bytes, bodyLength in [BODY_MIN, maxBody]):
 *
 *   0       4            8          12      16                    bodyLength
 *   +-------+------------+----------+-------+---------------------+
 *   | seq   | bodyLength | checksum | ~seq  | payload (seeded)    |
 *   +-------+------------+----------+-------+---------------------+
 *
 * checksum = FNV-1a of the payload. typeId = seq % TYPE_MODULUS. Both sides draw the sizes from
 * the same seeded generator, so the consumer knows each record's length before it reads it.
 */

import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { Agent } from './agent.ts';
import { Doorbell, PARKED_INDEX } from './doorbell.ts';
import { ParkIdle, createIdleStrategy, type IdleKind, type IdleOptions } from './idle.ts';
import { FULL, RingConsumer, RingProducer, alignRecord, maxBodyLength, type RecordHandler, type RingMemory } from './ring.ts';
import { EventLoopRunner, runBlocking } from './runner.ts';
import { Mulberry32 } from './prng.ts';

export const SEQ_OFFSET = 0;
export const LENGTH_OFFSET = SEQ_OFFSET + 4;
export const CHECKSUM_OFFSET = LENGTH_OFFSET + 4;
export const GUARD_OFFSET = CHECKSUM_OFFSET + 4;
export const PAYLOAD_OFFSET = GUARD_OFFSET + 4;
export const BODY_MIN = PAYLOAD_OFFSET;
export const TYPE_MODULUS = 1000;

/* Control words: go (set by the test), stop (set by the consumer when done, or by the test). */
export const GO_INDEX = 0;
export const STOP_INDEX = 32;
export const CONTROL_LENGTH = 4 * 64;

export interface StressRole {
  role: 'producer' | 'consumer' | 'event-loop-consumer';
  memory: RingMemory;
  doorbell: SharedArrayBuffer;
  control: SharedArrayBuffer;
  total: number;
  seed: number;
  /** Producer: pause after about this many records (0 = never); consumer: likewise. */
  pauseEvery: number;
  pauseMs: number;
  strategy: IdleKind;
  idleOptions: IdleOptions;
  /** event-loop-consumer: run no timer of its own (only the runner keeps the thread alive). */
  noTimer: boolean;
  /** The producer's own doorbell: it parks on a full ring, and the consumer rings it when it frees room. */
  producerDoorbell?: SharedArrayBuffer;
  /**
   * event-loop-consumer: kick the runner every this many ms (as a socket callback does) until
   * half the records have arrived, then never again; 0 or absent: no kicks.
   */
  kickEveryMs?: number;
}

/** A producer parked on a full ring sleeps this long unless rung: a lost wake stalls the run past any test timeout. */
export const PRODUCER_PARK_MS = 120_000;

export interface StressResult {
  role: StressRole['role'];
  /** Producer: records written; consumer: records received. */
  count: number;
  errors: number;
  firstError: string;
  /** Sum of all bodies' checksums (int32), the same on both sides when nothing was corrupted. */
  checksumSum: number;
  fullCount: number;
  notifyCount: number;
  parkCount: number;
  timerTicks: number;
  timerTicksWhileParked: number;
  /** event-loop-consumer: kicks that found the runner parked (kickEveryMs). */
  kicksWhileParked: number;
  /** Consumer: releases that rang the producer waiting for room (RingConsumer.roomWakes). */
  roomWakes: number;
}

/** A seeded generator (engine/prng.ts); both threads replay the same stream. */
export class Random {
  private readonly m: Mulberry32;
  constructor(seed: number) {
    this.m = new Mulberry32(seed | 0);
  }
  next(): number {
    return this.m.nextU32();
  }
  /** An integer in [min, max]. */
  between(min: number, max: number): number {
    return min + (this.next() % (max - min + 1));
  }
}

/** Mostly small bodies, some up to the ring's maximum. */
export function nextBodyLength(sizes: Random, maxBody: number): number {
  return sizes.next() % 10 < 7 ? sizes.between(BODY_MIN, BODY_MIN + 48) : sizes.between(BODY_MIN, maxBody);
}

export function fnv1a(bytes: Uint8Array, start: number, end: number): number {
  let hash = 0x811c9dc5;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ bytes[i], 0x01000193);
  return hash | 0;
}

function emptyResult(role: StressRole['role']): StressResult {
  return { role, count: 0, errors: 0, firstError: '', checksumSum: 0, fullCount: 0, notifyCount: 0, parkCount: 0, timerTicks: 0, timerTicksWhileParked: 0, kicksWhileParked: 0, roomWakes: 0 };
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function waitForGo(control: Int32Array): void {
  while (Atomics.load(control, GO_INDEX) === 0) Atomics.wait(control, GO_INDEX, 0, 100);
}

/** The producer's one claim as an Agent, so a full ring parks it through the stages' own ParkIdle (its last look is this claim, which flags ROOM_WAITING). */
class ClaimAgent implements Agent {
  typeId = 0;
  bodyLength = 0;
  offset: number = FULL;
  private readonly producer: RingProducer;
  constructor(producer: RingProducer) {
    this.producer = producer;
  }
  doWork(): number {
    this.offset = this.producer.tryClaim(this.typeId, this.bodyLength);
    return this.offset === FULL ? 0 : 1;
  }
}

function runProducer(role: StressRole): StressResult {
  const doorbell = new Doorbell(role.doorbell);
  const producer = new RingProducer(role.memory, doorbell);
  const claim = new ClaimAgent(producer);
  const park = role.producerDoorbell !== undefined ? new ParkIdle(new Doorbell(role.producerDoorbell), claim, { spins: 0, maxSleepMs: PRODUCER_PARK_MS }) : null;
  const control = new Int32Array(role.control);
  const sizes = new Random(role.seed);
  const batches = new Random(role.seed ^ 0x5bd1e995);
  const payload = new Random(role.seed ^ 0x1b873593);
  const result = emptyResult('producer');
  const { bytes, view } = producer;
  waitForGo(control);
  let batchLeft = batches.between(1, 32);
  let untilPause = role.pauseEvery > 0 ? batches.between(1, 2 * role.pauseEvery) : -1;
  for (let seq = 0; seq < role.total; seq++) {
    if (Atomics.load(control, STOP_INDEX) !== 0) break;
    const bodyLength = nextBodyLength(sizes, producer.maxBodyLength);
    let offset = producer.tryClaim(seq % TYPE_MODULUS, bodyLength);
    if (offset === FULL) {
      // Publish what is claimed, or the consumer could never make room: then retry.
      producer.commit();
      while (offset === FULL) {
        if (Atomics.load(control, STOP_INDEX) !== 0) return result;
        if (park !== null) {
          // Park as a stage does (ParkIdle): announce, look once more, sleep.
          claim.typeId = seq % TYPE_MODULUS;
          claim.bodyLength = bodyLength;
          park.idle(0);
          offset = claim.offset;
          result.parkCount = park.parkCount;
          continue;
        }
        offset = producer.tryClaim(seq % TYPE_MODULUS, bodyLength);
      }
    }
    for (let i = offset + PAYLOAD_OFFSET; i < offset + bodyLength; i++) bytes[i] = payload.next() & 0xff;
    const checksum = fnv1a(bytes, offset + PAYLOAD_OFFSET, offset + bodyLength);
    view.setUint32(offset + SEQ_OFFSET, seq, true);
    view.setUint32(offset + LENGTH_OFFSET, bodyLength, true);
    view.setInt32(offset + CHECKSUM_OFFSET, checksum, true);
    view.setInt32(offset + GUARD_OFFSET, ~seq, true);
    result.checksumSum = (result.checksumSum + checksum) | 0;
    result.count++;
    if (--batchLeft === 0) {
      producer.commit();
      batchLeft = batches.between(1, 32);
    }
    if (--untilPause === 0) {
      producer.commit();
      sleepMs(role.pauseMs);
      untilPause = batches.between(1, 2 * role.pauseEvery);
    }
  }
  producer.commit();
  result.fullCount = producer.fullCount;
  result.notifyCount = doorbell.notifyCount;
  return result;
}

/** Checks each record against the replayed size stream; stops the run at the last record. */
class CheckingConsumer implements Agent, RecordHandler {
  readonly consumer: RingConsumer;
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly control: Int32Array;
  readonly sizes: Random;
  readonly pauses: Random;
  readonly role: StressRole;
  readonly maxBody: number;
  readonly result: StressResult;
  /** Called once, when the last record has been checked. */
  onDone: () => void;
  private untilPause: number;

  constructor(role: StressRole, kind: StressResult['role']) {
    this.role = role;
    this.consumer = new RingConsumer(role.memory, role.producerDoorbell !== undefined ? new Doorbell(role.producerDoorbell) : null);
    this.bytes = this.consumer.bytes;
    this.view = this.consumer.view;
    this.control = new Int32Array(role.control);
    this.sizes = new Random(role.seed);
    this.pauses = new Random(role.seed ^ 0x2545f491);
    this.maxBody = maxBodyLength(role.memory.capacity);
    this.result = emptyResult(kind);
    this.onDone = () => {};
    this.untilPause = role.pauseEvery > 0 ? this.pauses.between(1, 2 * role.pauseEvery) : -1;
  }

  doWork(): number {
    return this.consumer.poll(this, 64);
  }

  private fail(message: string): void {
    if (this.result.errors++ === 0) this.result.firstError = message;
  }

  onRecord(typeId: number, offset: number, length: number): void {
    const result = this.result;
    const seq = result.count;
    const bodyLength = nextBodyLength(this.sizes, this.maxBody);
    const view = this.view;
    const gotSeq = view.getUint32(offset + SEQ_OFFSET, true);
    if (gotSeq !== seq) this.fail(`record ${seq}: seq ${gotSeq} (lost, duplicated or reordered)`);
    else if (typeId !== seq % TYPE_MODULUS) this.fail(`record ${seq}: typeId ${typeId}`);
    else if (length !== alignRecord(bodyLength)) this.fail(`record ${seq}: length ${length}, expected ${alignRecord(bodyLength)}`);
    else if (view.getUint32(offset + LENGTH_OFFSET, true) !== bodyLength) this.fail(`record ${seq}: body length field`);
    else if (view.getInt32(offset + GUARD_OFFSET, true) !== ~seq) this.fail(`record ${seq}: guard word`);
    else {
      const checksum = fnv1a(this.bytes, offset + PAYLOAD_OFFSET, offset + bodyLength);
      if (checksum !== view.getInt32(offset + CHECKSUM_OFFSET, true)) this.fail(`record ${seq}: checksum (body corrupt)`);
      result.checksumSum = (result.checksumSum + checksum) | 0;
    }
    result.count++;
    if (--this.untilPause === 0) {
      // Hold the batch (its space is not released yet) so the producer fills the ring.
      sleepMs(this.role.pauseMs);
      this.untilPause = this.pauses.between(1, 2 * this.role.pauseEvery);
    }
    if (result.count === this.role.total || result.errors > 0) {
      Atomics.store(this.control, STOP_INDEX, 1);
      this.onDone();
    }
  }
}

function runBlockingConsumer(role: StressRole): StressResult {
  const doorbell = new Doorbell(role.doorbell);
  const agent = new CheckingConsumer(role, 'consumer');
  const idle = createIdleStrategy(role.strategy, doorbell, agent, role.idleOptions);
  const control = new Int32Array(role.control);
  waitForGo(control);
  runBlocking(agent, idle, new Int32Array(role.control, STOP_INDEX * 4, 1));
  if (idle instanceof ParkIdle) agent.result.parkCount = idle.parkCount;
  agent.result.roomWakes = agent.consumer.roomWakes;
  return agent.result;
}

function runEventLoopConsumer(role: StressRole, done: (result: StressResult) => void): void {
  const doorbell = new Doorbell(role.doorbell);
  const agent = new CheckingConsumer(role, 'event-loop-consumer');
  const runner = new EventLoopRunner(agent, doorbell, role.strategy, role.idleOptions);
  const result = agent.result;
  const timer = role.noTimer
    ? null
    : setInterval(() => {
        result.timerTicks++;
        if (Atomics.load(doorbell.words, PARKED_INDEX) !== 0) result.timerTicksWhileParked++;
      }, 1);
  const kickEveryMs = role.kickEveryMs ?? 0;
  const kicker = kickEveryMs === 0
    ? null
    : setInterval(() => {
        if (result.count >= role.total / 2) {
          clearInterval(kicker!);
          return;
        }
        if (Atomics.load(doorbell.words, PARKED_INDEX) !== 0) result.kicksWhileParked++;
        runner.kick();
      }, kickEveryMs);
  agent.onDone = () => {
    runner.stop();
    if (timer !== null) clearInterval(timer);
    if (kicker !== null) clearInterval(kicker);
    result.parkCount = runner.parkCount;
    result.roomWakes = agent.consumer.roomWakes;
    // Report from a fresh tick: onDone runs inside the runner's duty cycle.
    setImmediate(() => done(result));
  };
  runner.start();
}

if (!isMainThread && (workerData as StressRole | null)?.role !== undefined) {
  const role = workerData as StressRole;
  const port = parentPort!;
  if (role.role === 'producer') port.postMessage(runProducer(role));
  else if (role.role === 'consumer') port.postMessage(runBlockingConsumer(role));
  else runEventLoopConsumer(role, (result) => port.postMessage(result));
}
