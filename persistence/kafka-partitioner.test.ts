// Goal: the Kafka sink's partitioner puts every key on the partition kafkajs's DefaultPartitioner
// (the Java client's default) puts it, so consumers and other producers agree on where one
// order's events are; and its murmur2 is Kafka's.
// Method: fast-check against kafkajs's own partitioner over arbitrary keys (ASCII and not,
// strings and bytes) and partition counts; Kafka's published murmur2 values.
import fc from 'fast-check';
import { Partitioners, type PartitionerArgs } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { KeyHashPartitioner, murmur2, murmur2Bytes } from './kafka-partitioner.ts';

const metadata = (n: number): PartitionerArgs['partitionMetadata'] =>
  Array.from({ length: n }, (_, i) => ({ partitionId: i, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));

describe('KeyHashPartitioner', () => {
  it("is Kafka's murmur2 (the values of Kafka's own UtilsTest)", () => {
    const cases: [string, number][] = [
      ['21', -973932308], ['foobar', -790332482], ['a-little-bit-long-string', -985981536], ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971], ['abc', 479470107],
    ];
    for (const [key, hash] of cases) {
      expect(murmur2(key)).toBe(hash);
      expect(murmur2Bytes(Buffer.from(key))).toBe(hash);
    }
  });

  it("puts every key where kafkajs's DefaultPartitioner does", () => {
    const ours = KeyHashPartitioner();
    const theirs = Partitioners.DefaultPartitioner();
    const key = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.string({ unit: 'grapheme', maxLength: 12 }),
      fc.string({ unit: 'binary', maxLength: 12 }),
      fc.integer({ min: 0, max: 2 ** 40 }).map(String),
      fc.integer({ min: 0, max: 99_999 }).map((n) => `account-${n}`),
      fc.string({ unit: fc.constantFrom(...'abcXYZ019-_'), minLength: 60, maxLength: 300 }), // past the reused buffer's first size
    );
    fc.assert(fc.property(key, fc.integer({ min: 1, max: 64 }), (k, n) => {
      const partitionMetadata = metadata(n);
      const args = { topic: 'orders.execution', partitionMetadata, message: { key: k, value: 'v' } };
      expect(ours(args)).toBe(theirs(args));
      const bytes = { topic: 'orders.execution', partitionMetadata, message: { key: Buffer.from(k), value: 'v' } };
      expect(ours(bytes)).toBe(theirs(bytes));
      expect(murmur2(k)).toBe(murmur2Bytes(Buffer.from(k, 'utf8')));
    }), { numRuns: 2000 });
  });

  it('keeps a partition the message names, and spreads keyless messages over the partitions', () => {
    const ours = KeyHashPartitioner();
    const partitionMetadata = metadata(3);
    expect(ours({ topic: 't', partitionMetadata, message: { key: 'abc', value: 'v', partition: 2 } })).toBe(2);
    const seen = new Set<number>();
    for (let i = 0; i < 30; i++) seen.add(ours({ topic: 't', partitionMetadata, message: { value: 'v' } }));
    expect([...seen].sort()).toEqual([0, 1, 2]);
  });
});
