/**
 * Goal: the gate's wake-up protocol holds across real threads: a consumer on an event loop
 * (EventLoopRunner, parking on its doorbell with Atomics.waitAsync) receives every record, in
 * order, none above the gate's value when handed over, while a producer thread writes stamped
 * records and a publisher thread opens the gate in random steps with pauses. A lost wake-up would
 * leave the consumer parked until its (long) sleep limit: the run would not finish in time.
 * Twice: with a producer that rings on every commit, and with one that leaves a parked consumer
 * to the gate when the gate holds its batch's first record (some records waiting for nothing, so
 * both kinds of commit interleave), where a lost wake would be the producer's.
 * Method: producer and publisher in worker threads (engine/ring-gate-stress.fixture.ts), the
 * consumer on this thread; seeded; generous timeout; no timing asserted.
 */

import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import type { Agent } from './agent.ts';
import { Doorbell } from './doorbell.ts';
import { RingConsumer, RingGate, createRingMemory, type GatedRecordHandler } from './ring.ts';
import { EventLoopRunner } from './runner.ts';
import { CONTROL_WORDS, GATE_MARKS, PLAIN_TYPE, RECORD_TYPE, type GateStressRole } from './ring-gate-stress.fixture.ts';

const FIXTURE = new URL('./ring-gate-stress.fixture.ts', import.meta.url);
const live = new Set<Worker>();
afterEach(async () => {
  await Promise.all([...live].map((w) => w.terminate()));
  live.clear();
});

class GatedConsumer implements Agent, GatedRecordHandler {
  readonly ring: RingConsumer;
  readonly total: number;
  received = 0;
  errors = 0;
  firstError = '';
  done: () => void = () => {};
  constructor(ring: RingConsumer, total: number) {
    this.ring = ring;
    this.total = total;
  }
  doWork(): number {
    return this.ring.pollWhile(this, 64);
  }
  accept(typeId: number, offset: number): boolean {
    return this.ring.gatePasses(GATE_MARKS.markOf(this.ring.view, typeId, offset));
  }
  onRecord(typeId: number, offset: number): void {
    const index = this.ring.view.getFloat64(offset, true);
    const check = this.ring.view.getFloat64(offset + 8, true);
    this.received++;
    if ((typeId !== RECORD_TYPE && typeId !== PLAIN_TYPE) || index !== this.received || check !== index * 3) this.fail(`record ${this.received}: type ${typeId} index ${index} check ${check}`);
    if (this.received === this.total) this.done();
  }
  private fail(msg: string): void {
    this.errors++;
    if (this.firstError === '') this.firstError = msg;
  }
}

function start(role: GateStressRole): Promise<number> {
  const worker = new Worker(FIXTURE, { workerData: role });
  live.add(worker);
  return new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

describe('ring gate across threads', () => {
  it.each([
    { producer: 'rings on every commit', gateMarks: false, plainShare: 0 },
    { producer: 'leaves a parked consumer to the gate', gateMarks: true, plainShare: 0.1 },
  ])('a parked event-loop consumer is woken by the publisher and receives everything in order (producer $producer)', async ({ gateMarks, plainShare }) => {
    const total = 50_000;
    const memory = createRingMemory(4096);
    const bell = Doorbell.create();
    const control = new SharedArrayBuffer(CONTROL_WORDS * 4);
    const consumer = new GatedConsumer(new RingConsumer(memory), total);
    // Armed before anything is written, as the persistence stage does at start.
    new RingGate(memory, null).arm();
    // A long sleep limit: only a publish (or a commit) wakes the consumer in time.
    const runner = new EventLoopRunner(consumer, bell, 'park', { spins: 5, maxSleepMs: 20_000 });
    const finished = new Promise<void>((resolve) => { consumer.done = resolve; });
    runner.start();
    const common = { memory, doorbell: bell.sab, control, total, seed: 0x2545f491, gateMarks, plainShare };
    const producer = start({ ...common, role: 'producer' });
    const publisher = start({ ...common, role: 'publisher' });
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        Promise.all([finished, producer, publisher]),
        new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`stalled at ${consumer.received} of ${total}`)), 50_000); }),
      ]);
    } finally {
      clearTimeout(timer);
      runner.stop();
    }
    expect(consumer.firstError).toBe('');
    expect(consumer.received).toBe(total);
    expect(consumer.ring.depthBytes()).toBe(0);
    // The consumer did wait for the gate, parked, and was woken by publishes.
    expect(consumer.ring.gateWaits).toBeGreaterThan(0);
    expect(runner.parkCount).toBeGreaterThan(0);
    expect(await publisher).toBeGreaterThan(0);
    // The producer did leave the consumer asleep behind the gate (and only when asked to).
    if (gateMarks) expect(await producer).toBeGreaterThan(0);
    else expect(await producer).toBe(0);
  }, 60_000);
});
