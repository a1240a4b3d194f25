/**
 * RingPositions.depthBytes: the bytes committed and not yet consumed, read from the ring memory
 * alone (the supervisor's drain and /health), agree with both ends' own view, across wrap-around. Property
 * test with fast-check over seeded sequences of writes and partial drains.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RingConsumer, RingProducer, createRingMemory, maxBodyLength, RingPositions, type RecordHandler } from './ring.ts';

const noop: RecordHandler = { onRecord() {} };

describe('RingPositions.depthBytes', () => {
  it('is 0 on a fresh ring, counts committed records only, and returns to 0 once drained', () => {
    const memory = createRingMemory(1024);
    const producer = new RingProducer(memory, null);
    const consumer = new RingConsumer(memory);
    expect(new RingPositions(memory).depthBytes()).toBe(0);
    expect(producer.tryClaim(7, 20)).toBeGreaterThanOrEqual(0);
    expect(new RingPositions(memory).depthBytes()).toBe(0); // claimed, not committed
    producer.commit();
    expect(new RingPositions(memory).depthBytes()).toBe(32); // 8-byte header + 20 bytes, aligned to 8
    expect(consumer.poll(noop, 10)).toBe(1);
    expect(new RingPositions(memory).depthBytes()).toBe(0);
  });

  it('matches the producer and consumer depths over any sequence of writes and drains', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: maxBodyLength(1024) }), fc.integer({ min: 0, max: 6 })), { maxLength: 200 }), (steps) => {
        const memory = createRingMemory(1024);
        const producer = new RingProducer(memory, null);
        const consumer = new RingConsumer(memory);
        for (const [bodyLength, drain] of steps) {
          if (producer.tryClaim(1, bodyLength) >= 0) producer.commit();
          consumer.poll(noop, drain);
          const depth = new RingPositions(memory).depthBytes();
          expect(depth).toBe(producer.depthBytes());
          expect(depth).toBe(consumer.depthBytes());
          expect(depth).toBeLessThanOrEqual(1024);
        }
      }),
      { seed: 0x5eed, numRuns: 200 },
    );
  });
});
