/**
 * Property: under any interleaving of writes (stamped with growing marks, or unstamped), gate
 * publishes (growing values) and gated polls (any limit), the consumer receives exactly the
 * records written, in order, none twice; no stamped record is handed over while the published
 * value is below its mark; and when a poll stops early, the record it stopped at is a stamped
 * one above the value. Once the last mark is published, everything arrives. Method: fast-check
 * commands over one ring on one thread, a reference list of what was written.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FULL, RingConsumer, RingGate, RingProducer, createRingMemory, type GatedRecordHandler } from './ring.ts';

const STAMPED = 1;
const PLAIN = 2;

type Op =
  | { kind: 'write'; stamped: boolean; step: number; count: number }
  | { kind: 'publish'; step: number }
  | { kind: 'poll'; limit: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('write' as const), stamped: fc.boolean(), step: fc.integer({ min: 0, max: 3 }), count: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('publish' as const), step: fc.integer({ min: 0, max: 6 }) }),
  fc.record({ kind: fc.constant('poll' as const), limit: fc.integer({ min: 1, max: 20 }) }),
);

class Checker implements GatedRecordHandler {
  readonly consumer: RingConsumer;
  readonly gate: RingGate;
  readonly got: number[] = [];
  refusedMark = -1;
  constructor(consumer: RingConsumer, gate: RingGate) {
    this.consumer = consumer;
    this.gate = gate;
  }
  accept(typeId: number, offset: number): boolean {
    if (typeId !== STAMPED) return true;
    const mark = this.consumer.view.getFloat64(offset, true);
    const ok = this.consumer.gatePasses(mark);
    if (!ok) this.refusedMark = mark;
    return ok;
  }
  onRecord(typeId: number, offset: number): void {
    const mark = this.consumer.view.getFloat64(offset, true);
    const id = this.consumer.view.getFloat64(offset + 8, true);
    if (typeId === STAMPED && mark > this.gate.published()) throw new Error(`record ${id} (mark ${mark}) passed a gate at ${this.gate.published()}`);
    this.got.push(id);
  }
}

describe('ring gate (property)', () => {
  it('keeps order, loses and repeats nothing, and never hands over a record above the gate', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 120 }), fc.integer({ min: 0, max: 2 ** 33 }), (ops, base) => {
        const memory = createRingMemory(2048);
        const producer = new RingProducer(memory, null);
        const consumer = new RingConsumer(memory);
        const gate = new RingGate(memory, null);
        gate.arm();
        gate.publish(base);
        const checker = new Checker(consumer, gate);
        const written: number[] = [];
        let mark = base;
        let value = base;
        let nextId = 1;
        for (const o of ops) {
          if (o.kind === 'write') {
            for (let i = 0; i < o.count; i++) {
              const at = producer.tryClaim(o.stamped ? STAMPED : PLAIN, 16);
              if (at === FULL) break;
              mark += o.step;
              producer.view.setFloat64(at, o.stamped ? mark : 0, true);
              producer.view.setFloat64(at + 8, nextId, true);
              written.push(nextId++);
            }
            producer.commit();
          } else if (o.kind === 'publish') {
            value = Math.min(mark, value + o.step);
            gate.publish(value);
          } else {
            const before = checker.got.length;
            checker.refusedMark = -1;
            const n = consumer.pollWhile(checker, o.limit);
            expect(checker.got.length - before).toBe(n);
            // Stopped before the limit with records left: a stamped record above the gate.
            if (n < o.limit && consumer.hasRecords()) expect(checker.refusedMark).toBeGreaterThan(value);
          }
          expect(checker.got).toEqual(written.slice(0, checker.got.length));
        }
        gate.publish(mark);
        while (consumer.pollWhile(checker, 64) > 0);
        expect(checker.got).toEqual(written);
        expect(consumer.recordsConsumed).toBe(producer.recordsClaimed);
      }),
      { numRuns: 300 },
    );
  });
});
