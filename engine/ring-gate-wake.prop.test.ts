/**
 * Property: with a producer that leaves a parked consumer to the gate (engine/ring.ts
 * GateMarkReader), no wake-up is lost. Under any interleaving of commits (batches that start
 * stamped or unstamped, wrapping the ring), gate publishes and consumer runs (drain, then park by
 * the doorbell protocol), whenever the consumer sleeps with no wake pending, it could take nothing
 * (the next record is stamped above the gate), and WAITING is flagged so the publish that passes
 * it rings. And a commit wakes a sleeping consumer exactly when it can take the batch's first
 * record (a batch starting with one that waits for nothing rings, even behind a held one). Method: fast-check
 * commands over one ring on one thread, a reference list of the marks written; each operation is
 * whole (the cross-thread interleavings inside them are engine/ring-gate.threads.test.ts's).
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Doorbell } from './doorbell.ts';
import {
  FULL, GATE_OFFSET_FROM_END, GATE_WAITING, RingConsumer, RingGate, RingProducer, TRAILER_LENGTH, createRingMemory,
  type GatedRecordHandler,
} from './ring.ts';
// The threads test's mark reader: a STAMPED record's mark is its first 8 bytes, a PLAIN one waits for nothing.
import { GATE_MARKS as MARKS, PLAIN_TYPE as PLAIN, RECORD_TYPE as STAMPED } from './ring-gate-stress.fixture.ts';

type Op =
  | { kind: 'write'; stamps: boolean[]; step: number }
  | { kind: 'publish'; step: number }
  | { kind: 'run' };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('write' as const), stamps: fc.array(fc.boolean(), { minLength: 1, maxLength: 6 }), step: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ kind: fc.constant('publish' as const), step: fc.integer({ min: 0, max: 5 }) }),
  fc.record({ kind: fc.constant('run' as const) }),
);

class Consumer implements GatedRecordHandler {
  readonly ring: RingConsumer;
  readonly got: number[] = [];
  constructor(ring: RingConsumer) {
    this.ring = ring;
  }
  accept(typeId: number, offset: number): boolean {
    return this.ring.gatePasses(MARKS.markOf(this.ring.view, typeId, offset));
  }
  onRecord(_typeId: number, offset: number): void {
    this.got.push(this.ring.view.getFloat64(offset + 8, true));
  }
}

describe('ring gate: the producer leaving a parked consumer to the gate (property)', () => {
  it('never leaves the consumer asleep with a record it could take or a wait nobody will answer', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 150 }), (ops) => {
        const memory = createRingMemory(1024);
        const bell = Doorbell.create();
        const producer = new RingProducer(memory, bell, MARKS);
        const consumer = new Consumer(new RingConsumer(memory));
        const gate = new RingGate(memory, bell);
        gate.arm();
        const waiting = new Int32Array(memory.sab, memory.capacity + GATE_OFFSET_FROM_END, (TRAILER_LENGTH - GATE_OFFSET_FROM_END) >>> 2);
        const marks: number[] = []; // per record written: its mark (0: waits for nothing)
        let mark = 0;
        let value = 0;
        let asleep = false;
        let seq0 = 0;
        const drain = (): void => {
          while (consumer.ring.pollWhile(consumer, 16) > 0);
        };
        // The consumer's run: drain, then park as ParkIdle does (announce, last look, sleep).
        const run = (): void => {
          if (asleep) {
            if (bell.sequence() === seq0) return; // still asleep: nobody rang
            asleep = false;
            bell.clearPark();
          }
          drain();
          seq0 = bell.sequence();
          bell.announcePark();
          if (consumer.ring.pollWhile(consumer, 16) > 0) {
            bell.clearPark();
            drain();
            return run();
          }
          asleep = true;
        };
        const takeable = (): boolean => {
          const next = consumer.got.length;
          return next < marks.length && marks[next] <= value;
        };
        for (const o of ops) {
          if (o.kind === 'write') {
            const rungBefore = bell.sequence();
            let first = -1;
            for (const stamped of o.stamps) {
              const at = producer.tryClaim(stamped ? STAMPED : PLAIN, 16);
              if (at === FULL) break;
              mark += o.step + (stamped ? 1 : 0);
              producer.view.setFloat64(at, stamped ? mark : 0, true);
              producer.view.setFloat64(at + 8, marks.length, true);
              if (first < 0) first = marks.length;
              marks.push(stamped ? mark : 0);
            }
            producer.commit();
            // A commit rings a sleeping consumer (no wake pending) exactly when it can take the batch's first record.
            if (asleep && first >= 0 && rungBefore === seq0) expect(bell.sequence() !== rungBefore).toBe(marks[first] <= value);
          } else if (o.kind === 'publish') {
            value = Math.min(mark, value + o.step);
            gate.publish(value);
          } else {
            run();
          }
          expect(consumer.got).toEqual(marks.map((_, i) => i).slice(0, consumer.got.length));
          // Asleep with no wake pending: nothing it could take, and a wait the publisher will answer.
          if (asleep && bell.sequence() === seq0) {
            expect(takeable()).toBe(false);
            if (consumer.got.length < marks.length) expect(Atomics.load(waiting, GATE_WAITING)).toBe(1);
          }
        }
        // Open the gate all the way: the consumer is woken (or awake) and takes everything.
        value = mark;
        gate.publish(value);
        run();
        expect(consumer.got.length).toBe(marks.length);
      }),
      { numRuns: 300 },
    );
  });
});
