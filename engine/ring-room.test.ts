/**
 * Waking a producer that waits for room (engine/ring.ts ROOM_WAITING): every check that finds the
 * ring full flags it (tryClaim FULL, inputsThatFit 0, hasRoomFor false; freeBytes does not), a
 * consumer made with the producer's doorbell takes the flag at its next release and rings that
 * doorbell (a parked producer is woken, an awake one only loses the flag), counted as ROOM_WAKES;
 * a release that frees nothing, or a consumer without the doorbell, leaves the flag. Then a
 * property: under any sequence of producer runs (write until full, then park by the doorbell
 * protocol) and consumer takes, a producer asleep with no wake pending has no room for the record
 * it waits to write and its flag is up, and it is woken once the consumer drains. Method: both
 * ends on one thread, the shared words read directly. Each operation is whole, so the property
 * checks the bookkeeping (every check kind flags, every release answers), not the races: the
 * flag taken while the producer is awake is the unit case below, and the cross-thread
 * interleavings are engine/ring.threads.test.ts's "a producer parked on a full ring".
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CommonCounter, StageCounters } from './counters.ts';
import { Doorbell } from './doorbell.ts';
import {
  FULL, HEADER_LENGTH, HEAD_OFFSET_FROM_END, HEAD_ROOM_WAITING, RingConsumer, RingGate, RingProducer, TAIL_OFFSET_FROM_END,
  TRAILER_LENGTH, alignRecord, createRingMemory, type GatedRecordHandler, type RecordHandler, type RingMemory,
} from './ring.ts';

const BODY = 56; // 64-byte records: 16 fill a 1024-byte ring

const ignore: RecordHandler = { onRecord(): void {} };

function words(memory: RingMemory): Int32Array {
  return new Int32Array(memory.sab, memory.capacity, TRAILER_LENGTH >>> 2);
}

function roomWaiting(memory: RingMemory): number {
  return Atomics.load(words(memory), (HEAD_OFFSET_FROM_END >>> 2) + HEAD_ROOM_WAITING);
}

function setup(withBell = true) {
  const memory = createRingMemory(1024);
  const producerBell = Doorbell.create();
  const counters = StageCounters.create();
  const producer = new RingProducer(memory, null);
  const consumer = new RingConsumer(memory, withBell ? producerBell : null, counters);
  return { memory, producerBell, counters, producer, consumer };
}

/** Claims and commits records until the ring refuses one. Returns how many fit. */
function fill(producer: RingProducer): number {
  let n = 0;
  while (producer.tryClaim(1, BODY) !== FULL) n++;
  producer.commit();
  return n;
}

describe('ring: a producer waiting for room', () => {
  it('is flagged by a claim refused FULL, and rung by the next release, which takes the flag', () => {
    const { memory, producerBell, counters, producer, consumer } = setup();
    expect(fill(producer)).toBe(16);
    expect(roomWaiting(memory)).toBe(1);
    expect(producer.roomWaits).toBe(1);
    producerBell.announcePark();
    const seq0 = producerBell.sequence();
    expect(consumer.poll(ignore, 1)).toBe(1);
    expect(producerBell.sequence()).toBe(seq0 + 1);
    expect(producerBell.isParked()).toBe(false);
    expect(producerBell.notifyCount).toBe(1);
    expect(roomWaiting(memory)).toBe(0);
    expect(consumer.roomWakes).toBe(1);
    expect(counters.get(CommonCounter.ROOM_WAKES)).toBe(1);
    // Answered once: the next release rings nobody.
    producerBell.announcePark();
    expect(consumer.poll(ignore, 1)).toBe(1);
    expect(producerBell.sequence()).toBe(seq0 + 1);
    expect(consumer.roomWakes).toBe(1);
  });

  it('is flagged by inputsThatFit returning 0 and by hasRoomFor returning false, not when they find room', () => {
    const { memory, producer, consumer } = setup();
    expect(producer.inputsThatFit(64, BODY)).toBeGreaterThan(0);
    expect(producer.hasRoomFor(4, BODY)).toBe(true);
    expect(roomWaiting(memory)).toBe(0);
    for (let i = 0; i < 15; i++) expect(producer.tryClaim(1, BODY)).not.toBe(FULL);
    producer.commit();
    expect(roomWaiting(memory)).toBe(0);
    // 64 bytes free: one record, less the reserve for a wrap's padding: no input fits.
    expect(producer.inputsThatFit(64, BODY)).toBe(0);
    expect(roomWaiting(memory)).toBe(1);
    consumer.poll(ignore, 1);
    expect(roomWaiting(memory)).toBe(0);
    expect(producer.hasRoomFor(3, BODY)).toBe(false);
    expect(roomWaiting(memory)).toBe(1);
    expect(producer.roomWaits).toBe(2);
  });

  it('is not flagged by freeBytes, a plain look for producers that reject rather than retry', () => {
    const { memory, producer } = setup();
    fill(producer);
    Atomics.store(words(memory), (HEAD_OFFSET_FROM_END >>> 2) + HEAD_ROOM_WAITING, 0);
    expect(producer.freeBytes()).toBe(0);
    expect(roomWaiting(memory)).toBe(0);
  });

  it('loses only the flag when the producer is awake: no notify, and its next check flags again', () => {
    const { memory, producerBell, producer, consumer } = setup();
    fill(producer);
    consumer.poll(ignore, 1);
    expect(roomWaiting(memory)).toBe(0);
    expect(producerBell.notifyCount).toBe(0);
    expect(consumer.roomWakes).toBe(1);
    // The room it freed is seen: the claim succeeds without a flag.
    expect(producer.tryClaim(1, BODY)).not.toBe(FULL);
    expect(roomWaiting(memory)).toBe(0);
    expect(producer.tryClaim(1, BODY)).toBe(FULL);
    expect(roomWaiting(memory)).toBe(1);
  });

  it('stays flagged when the consumer has no doorbell for the producer, or frees nothing (a gate holding, or a poll with limit 0)', () => {
    const bare = setup(false);
    fill(bare.producer);
    bare.consumer.poll(ignore, 4);
    expect(roomWaiting(bare.memory)).toBe(1);
    expect(bare.consumer.roomWakes).toBe(0);

    // A poll with limit 0 frees nothing: the flag waits for a release that does.
    const zero = setup();
    fill(zero.producer);
    zero.producerBell.announcePark();
    expect(zero.consumer.poll(ignore, 0)).toBe(0);
    expect(roomWaiting(zero.memory)).toBe(1);
    expect(zero.producerBell.isParked()).toBe(true);

    // A gated consumer whose first record the gate holds releases nothing.
    const { memory, producerBell, producer, consumer } = setup();
    const gate = new RingGate(memory, Doorbell.create());
    gate.arm();
    fill(producer);
    const held: GatedRecordHandler = { accept: () => consumer.gatePasses(1), onRecord(): void {} };
    producerBell.announcePark();
    expect(consumer.pollWhile(held, 16)).toBe(0);
    expect(roomWaiting(memory)).toBe(1);
    expect(producerBell.isParked()).toBe(true);
    gate.publish(1);
    expect(consumer.pollWhile(held, 16)).toBe(16);
    expect(roomWaiting(memory)).toBe(0);
    expect(producerBell.isParked()).toBe(false);
  });
});

type Op = { kind: 'produce'; count: number; size: number; check: 0 | 1 | 2 } | { kind: 'take'; count: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('produce' as const),
    count: fc.integer({ min: 1, max: 12 }),
    size: fc.integer({ min: 0, max: 120 }),
    check: fc.constantFrom(0 as const, 1 as const, 2 as const),
  }),
  fc.record({ kind: fc.constant('take' as const), count: fc.integer({ min: 1, max: 20 }) }),
);

describe('ring: a producer waiting for room (property)', () => {
  it('one thread, whole operations: never sleeps unflagged or with room for what it waits to write, and the drain wakes it', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), (ops) => {
        const memory = createRingMemory(1024);
        const bell = Doorbell.create();
        const producer = new RingProducer(memory, null);
        const consumer = new RingConsumer(memory, bell, null);
        const w = words(memory);
        let asleep = false;
        let seq0 = 0;
        /** Body length of the record the producer waits to write (-1: none). */
        let pending = -1;
        let pendingCheck: 0 | 1 | 2 = 0;
        let written = 0;
        let taken = 0;
        const counter: RecordHandler = { onRecord: () => void taken++ };
        /** One room check the way a stage makes it: a claim, inputsThatFit or hasRoomFor; writes the record if it fits. */
        const tryWrite = (size: number, check: 0 | 1 | 2): boolean => {
          if (check === 1 && producer.inputsThatFit(alignRecord(HEADER_LENGTH + size), size) === 0) return false;
          if (check === 2 && !producer.hasRoomFor(1, size)) return false;
          if (producer.tryClaim(1, size) === FULL) return false;
          written++;
          return true;
        };
        /** The producer's run: write, and when short of room commit, announce the park, look once more, sleep. */
        const run = (count: number, size: number, check: 0 | 1 | 2): void => {
          if (asleep) {
            if (bell.sequence() === seq0) return;
            asleep = false;
            bell.clearPark();
          }
          if (pending >= 0) {
            count++;
            size = pending;
            check = pendingCheck;
          }
          for (let i = 0; i < count; i++) {
            if (tryWrite(size, check)) continue;
            producer.commit();
            seq0 = bell.sequence();
            bell.announcePark();
            if (tryWrite(size, check)) {
              bell.clearPark();
              continue;
            }
            pending = size;
            pendingCheck = check;
            asleep = true;
            return;
          }
          pending = -1;
          producer.commit();
        };
        /**
         * Whether the check that put the producer to sleep would pass now, from the shared words:
         * tryClaim asks for the record (and a wrap's padding), inputsThatFit and hasRoomFor for
         * twice its length (one input plus the reserve for padding), then claim it.
         */
        const wouldPass = (size: number, check: 0 | 1 | 2): boolean => {
          const tail = Atomics.load(w, TAIL_OFFSET_FROM_END >>> 2) >>> 0;
          const head = Atomics.load(w, HEAD_OFFSET_FROM_END >>> 2) >>> 0;
          const free = memory.capacity - ((tail - head) >>> 0);
          const length = alignRecord(HEADER_LENGTH + size);
          const toEnd = memory.capacity - (tail & (memory.capacity - 1));
          const claimable = free >= (length <= toEnd ? length : toEnd + length);
          return check === 0 ? claimable : free >= 2 * length && claimable;
        };
        for (const o of ops) {
          if (o.kind === 'produce') run(o.count, o.size, o.check);
          else consumer.poll(counter, o.count);
          // Asleep with no wake pending: the ring has no room for its record, and the flag is up,
          // so the release that makes room rings it.
          if (asleep && bell.sequence() === seq0) {
            expect(wouldPass(pending, pendingCheck)).toBe(false);
            expect(Atomics.load(w, (HEAD_OFFSET_FROM_END >>> 2) + HEAD_ROOM_WAITING)).toBe(1);
          }
        }
        // Drain: a sleeping producer is woken, and writes what it waited to write.
        while (consumer.poll(counter, 64) > 0);
        if (asleep) {
          expect(bell.sequence()).not.toBe(seq0);
          run(0, 0, 0);
          expect(asleep).toBe(false);
        }
        while (consumer.poll(counter, 64) > 0);
        expect(taken).toBe(written);
      }),
      { numRuns: 400 },
    );
  });
});
