/**
 * Unit tests of the ring's gate (engine/ring.ts: pollWhile, gatePasses, RingGate): a record the
 * handler refuses stays in the ring with everything behind it, and is delivered once the gate's
 * value passes its mark; an unarmed gate lets everything through; the value survives the 2^32
 * carry of its two words; the publisher rings the consumer's doorbell only when the consumer
 * flagged that it waits, and only if it is parked; a producer made with a GateMarkReader leaves a
 * parked consumer asleep when the gate holds its batch's first record, flagging the wait itself,
 * and rings otherwise. Method: both ends and the publisher driven by hand on one thread, records
 * whose body's first 8 bytes hold their mark.
 */

import { describe, expect, it } from 'vitest';
import { Doorbell, PARKED_INDEX } from './doorbell.ts';
import {
  GATE_OFFSET_FROM_END, GATE_VALUE_HI, GATE_VALUE_LO, GATE_WAITING, RingConsumer, RingGate, RingProducer, TRAILER_LENGTH,
  createRingMemory, type GateMarkReader, type GatedRecordHandler, type RingMemory,
} from './ring.ts';

const STAMPED = 7;
const PLAIN = 8;

/** Accepts a STAMPED record when the consumer's gate passes its mark; PLAIN ones always. */
class MarkHandler implements GatedRecordHandler {
  readonly consumer: RingConsumer;
  readonly seen: { typeId: number; mark: number }[] = [];
  asked = 0;
  constructor(consumer: RingConsumer) {
    this.consumer = consumer;
  }
  accept(typeId: number, offset: number): boolean {
    this.asked++;
    if (typeId !== STAMPED) return true;
    return this.consumer.gatePasses(this.consumer.view.getFloat64(offset, true));
  }
  onRecord(typeId: number, offset: number): void {
    this.seen.push({ typeId, mark: this.consumer.view.getFloat64(offset, true) });
  }
}

function write(producer: RingProducer, typeId: number, mark: number): void {
  const at = producer.tryClaim(typeId, 16);
  if (at < 0) throw new Error('full');
  producer.view.setFloat64(at, mark, true);
  producer.view.setFloat64(at + 8, 0, true);
}

function gateWords(memory: RingMemory): Int32Array {
  return new Int32Array(memory.sab, memory.capacity + GATE_OFFSET_FROM_END, (TRAILER_LENGTH - GATE_OFFSET_FROM_END) >>> 2);
}

function setup(armed = true) {
  const memory = createRingMemory(4096);
  const producer = new RingProducer(memory, null);
  const consumer = new RingConsumer(memory);
  const bell = Doorbell.create();
  const gate = new RingGate(memory, bell);
  if (armed) gate.arm();
  return { memory, producer, consumer, gate, bell, handler: new MarkHandler(consumer) };
}

describe('ring gate: pollWhile holds a record until the gate passes its mark', () => {
  it('delivers nothing past the gate, then the held records in order once the value reaches them', () => {
    const { producer, consumer, gate, handler } = setup();
    write(producer, STAMPED, 1);
    write(producer, STAMPED, 2);
    write(producer, PLAIN, 0);
    write(producer, STAMPED, 3);
    producer.commit();
    expect(consumer.pollWhile(handler, 100)).toBe(0);
    expect(handler.seen).toEqual([]);
    expect(consumer.depthBytes()).toBe(4 * 24);
    gate.publish(1);
    expect(consumer.pollWhile(handler, 100)).toBe(1);
    expect(handler.seen.map((s) => s.mark)).toEqual([1]);
    // The PLAIN record behind the held mark-2 record waits with it: order is kept.
    expect(consumer.pollWhile(handler, 100)).toBe(0);
    gate.publish(2);
    expect(consumer.pollWhile(handler, 100)).toBe(2);
    expect(handler.seen.map((s) => s.typeId)).toEqual([STAMPED, STAMPED, PLAIN]);
    gate.publish(10);
    expect(consumer.pollWhile(handler, 100)).toBe(1);
    expect(handler.seen.map((s) => s.mark)).toEqual([1, 2, 0, 3]);
    expect(consumer.depthBytes()).toBe(0);
    expect(consumer.recordsConsumed).toBe(4);
    expect(producer.recordsClaimed).toBe(4);
  });

  it('releases only the space of what it consumed: the producer sees the held bytes as used', () => {
    const { producer, consumer, gate, handler } = setup();
    write(producer, STAMPED, 1);
    write(producer, STAMPED, 5);
    producer.commit();
    const free0 = producer.freeBytes();
    gate.publish(1);
    expect(consumer.pollWhile(handler, 100)).toBe(1);
    expect(producer.freeBytes()).toBe(free0 + 24);
    expect(producer.depthBytes()).toBe(24);
  });

  it('honours its limit like poll', () => {
    const { producer, consumer, gate, handler } = setup();
    for (let i = 1; i <= 5; i++) write(producer, STAMPED, i);
    producer.commit();
    gate.publish(5);
    expect(consumer.pollWhile(handler, 2)).toBe(2);
    expect(consumer.pollWhile(handler, 2)).toBe(2);
    expect(consumer.pollWhile(handler, 2)).toBe(1);
    expect(handler.seen.map((s) => s.mark)).toEqual([1, 2, 3, 4, 5]);
  });

  it('lets every record through while the gate is not armed (no publisher)', () => {
    const { producer, consumer, handler } = setup(false);
    write(producer, STAMPED, 1e12);
    write(producer, PLAIN, 0);
    producer.commit();
    expect(consumer.pollWhile(handler, 100)).toBe(2);
    expect(consumer.gateWaits).toBe(0);
  });

  it('steps over a padding record before a held record, and holds the record at index 0', () => {
    const memory = createRingMemory(1024);
    const producer = new RingProducer(memory, null);
    const consumer = new RingConsumer(memory);
    const gate = new RingGate(memory, null);
    gate.arm();
    const handler = new MarkHandler(consumer);
    // 1024 / 24 = 42 records of 24 bytes end 16 bytes short of the end: the next one pads.
    for (let i = 0; i < 42; i++) write(producer, PLAIN, 0);
    producer.commit();
    expect(consumer.pollWhile(handler, 100)).toBe(42);
    write(producer, STAMPED, 1);
    producer.commit();
    expect(consumer.pollWhile(handler, 100)).toBe(0);
    gate.publish(1);
    expect(consumer.pollWhile(handler, 100)).toBe(1);
    expect(handler.seen[42]).toEqual({ typeId: STAMPED, mark: 1 });
    expect(consumer.depthBytes()).toBe(0);
  });
});

describe('ring gate: the value in two words', () => {
  it('passes marks above 2^32 exactly at the value, not before', () => {
    const { producer, consumer, gate, handler } = setup();
    const big = 2 ** 32 + 5;
    write(producer, STAMPED, big);
    producer.commit();
    gate.publish(big - 1);
    expect(consumer.pollWhile(handler, 10)).toBe(0);
    gate.publish(big);
    expect(consumer.pollWhile(handler, 10)).toBe(1);
    expect(handler.seen[0].mark).toBe(big);
  });

  it('reads a torn carry (new LO, old HI) as less than the value, never more', () => {
    const { memory, consumer } = setup();
    const words = gateWords(memory);
    // Published 2^32 - 1, then a publish of 2^32 + 3 that has stored LO but not yet HI.
    Atomics.store(words, GATE_VALUE_HI, 0);
    Atomics.store(words, GATE_VALUE_LO, 3);
    expect(consumer.gatePasses(2 ** 32 - 1)).toBe(false);
    expect(consumer.gatePasses(3)).toBe(true);
    Atomics.store(words, GATE_VALUE_HI, 1);
    expect(consumer.gatePasses(2 ** 32 + 3)).toBe(true);
  });

  it('refuses a value that goes back or is not an integer', () => {
    const { gate } = setup();
    gate.publish(10);
    expect(() => gate.publish(9)).toThrow(/Invariant/);
    expect(() => gate.publish(10.5)).toThrow(/Invariant/);
    expect(() => gate.publish(2 ** 53)).toThrow(/Invariant/);
    gate.publish(10);
    expect(gate.published()).toBe(10);
  });
});

describe('ring gate: waking the consumer', () => {
  it('rings the doorbell only when the consumer flagged that it waits, and it is parked', () => {
    const { memory, producer, consumer, gate, bell, handler } = setup();
    const words = gateWords(memory);
    // Nobody waits: publishing costs no wake.
    gate.publish(1);
    expect(gate.wakeCount).toBe(0);
    write(producer, STAMPED, 3);
    producer.commit();
    expect(consumer.pollWhile(handler, 10)).toBe(0);
    expect(Atomics.load(words, GATE_WAITING)).toBe(1);
    // The consumer parks (doorbell protocol); a publish that does not reach the mark still wakes
    // it once (it re-checks and flags again).
    const seq0 = bell.sequence();
    bell.announcePark();
    gate.publish(2);
    expect(gate.wakeCount).toBe(1);
    expect(Atomics.load(words, GATE_WAITING)).toBe(0);
    expect(bell.sequence()).toBe(seq0 + 1);
    expect(Atomics.load(bell.words, PARKED_INDEX)).toBe(0);
    // Not flagged again yet: the next publish wakes nobody.
    bell.announcePark();
    gate.publish(3);
    expect(gate.wakeCount).toBe(1);
    expect(bell.sequence()).toBe(seq0 + 1);
    bell.clearPark();
    expect(consumer.pollWhile(handler, 10)).toBe(1);
  });

  it('takes the flag without a notify when the consumer is awake (it re-polls by itself)', () => {
    const { producer, consumer, gate, bell, handler } = setup();
    write(producer, STAMPED, 2);
    producer.commit();
    expect(consumer.pollWhile(handler, 10)).toBe(0);
    const seq0 = bell.sequence();
    gate.publish(2);
    expect(gate.wakeCount).toBe(1);
    expect(bell.sequence()).toBe(seq0);
    expect(bell.notifyCount).toBe(0);
    expect(consumer.pollWhile(handler, 10)).toBe(1);
  });

  it('a gate value already in the words passes without flagging a wait', () => {
    const { memory, consumer } = setup();
    const words = gateWords(memory);
    // The value words hold 5 and WAITING is 0: the first look passes. (The second look, after
    // flagging, covers a store landing between the two; a single thread cannot interleave it,
    // and ring-gate.threads.test.ts exercises it only statistically.)
    Atomics.store(words, GATE_VALUE_LO, 5);
    expect(consumer.gatePasses(5)).toBe(true);
    expect(consumer.gateWaits).toBe(0);
  });
});

/** STAMPED records' marks as MarkHandler reads them; PLAIN ones wait for nothing. */
const MARKS: GateMarkReader = {
  markOf(view: DataView, typeId: number, offset: number): number {
    return typeId === STAMPED ? view.getFloat64(offset, true) : 0;
  },
};

/** A gated ring whose producer reads marks, with the consumer's doorbell on both producer and gate. */
function gatedSetup(capacity = 4096, armed = true) {
  const memory = createRingMemory(capacity);
  const bell = Doorbell.create();
  const producer = new RingProducer(memory, bell, MARKS);
  const consumer = new RingConsumer(memory);
  const gate = new RingGate(memory, bell);
  if (armed) gate.arm();
  return { memory, producer, consumer, gate, bell, words: gateWords(memory), handler: new MarkHandler(consumer) };
}

describe('ring gate: a producer leaves a parked consumer to the gate', () => {
  it('does not wake a parked consumer for a record the gate holds; the publish that passes it does', () => {
    const { producer, consumer, gate, bell, words, handler } = gatedSetup();
    gate.publish(1);
    const seq0 = bell.sequence();
    bell.announcePark();
    write(producer, STAMPED, 2);
    write(producer, STAMPED, 3);
    producer.commit();
    expect(bell.sequence()).toBe(seq0);
    expect(bell.isParked()).toBe(true);
    expect(producer.wakesLeftToGate).toBe(1);
    // The producer flagged the wait for the consumer, which never looked.
    expect(Atomics.load(words, GATE_WAITING)).toBe(1);
    expect(consumer.gateWaits).toBe(0);
    gate.publish(2);
    expect(bell.sequence()).toBe(seq0 + 1);
    expect(bell.notifyCount).toBe(1);
    expect(gate.wakeCount).toBe(1);
    bell.clearPark();
    expect(consumer.pollWhile(handler, 10)).toBe(1);
    expect(handler.seen.map((r) => r.mark)).toEqual([2]);
  });

  it.each([
    { when: 'the batch starts with a record that waits for nothing', armed: true, published: 0, batch: [[PLAIN, 0], [STAMPED, 5]] },
    { when: 'the gate already passes its first record', armed: true, published: 4, batch: [[STAMPED, 4], [STAMPED, 9]] },
    { when: 'the gate is not armed (no publisher would)', armed: false, published: 0, batch: [[STAMPED, 1e9]] },
  ])('wakes a parked consumer, flagging no wait, when $when', ({ armed, published, batch }) => {
    const { producer, gate, bell, words } = gatedSetup(4096, armed);
    if (published > 0) gate.publish(published);
    const seq0 = bell.sequence();
    bell.announcePark();
    for (const [typeId, mark] of batch) write(producer, typeId, mark);
    producer.commit();
    expect(bell.sequence()).toBe(seq0 + 1);
    expect(producer.wakesLeftToGate).toBe(0);
    expect(Atomics.load(words, GATE_WAITING)).toBe(0);
  });

  it('leaves the gate words alone while the consumer is awake (it will look by itself)', () => {
    const { producer, bell, words } = gatedSetup();
    write(producer, STAMPED, 7);
    producer.commit();
    expect(Atomics.load(words, GATE_WAITING)).toBe(0);
    expect(producer.wakesLeftToGate).toBe(0);
    expect(bell.notifyCount).toBe(0);
  });

  it('reads the first record at index 0 when the batch starts with padding', () => {
    /** A 1024-byte ring whose next claim pads to the end, its consumer parked: 42 records of 24 bytes end 16 bytes short. */
    const parkedBeforeWrap = () => {
      const r = gatedSetup(1024);
      for (let i = 0; i < 42; i++) write(r.producer, PLAIN, 0);
      r.producer.commit();
      expect(r.consumer.pollWhile(r.handler, 100)).toBe(42);
      const seq0 = r.bell.sequence();
      r.bell.announcePark();
      return { ...r, seq0 };
    };
    const held = parkedBeforeWrap();
    write(held.producer, STAMPED, 1);
    held.producer.commit();
    expect(held.bell.sequence()).toBe(held.seq0);
    expect(held.producer.wakesLeftToGate).toBe(1);
    held.gate.publish(1);
    expect(held.bell.sequence()).toBe(held.seq0 + 1);
    held.bell.clearPark();
    expect(held.consumer.pollWhile(held.handler, 100)).toBe(1);

    const plain = parkedBeforeWrap();
    write(plain.producer, PLAIN, 0);
    plain.producer.commit();
    expect(plain.bell.sequence()).toBe(plain.seq0 + 1);
  });
});
