/**
 * The Kafka sink's partitioner: Kafka's default for a keyed message (the Java client's, and
 * kafkajs's DefaultPartitioner): murmur2 of the key's UTF-8 bytes, its sign bit cleared, modulo
 * the topic's partition count. So one order's (account's, symbol's) messages share a partition,
 * the same one any Java producer or consumer computes for that key.
 *
 * Written here rather than taken from kafkajs because its murmur2 multiplies through a 64-bit
 * Long object per step, allocates a Buffer per key, and its partitioner filters the partition
 * list per message (bench/kafka-encode.ts measures the producer's encoding with it). This one
 * works in 32-bit integer arithmetic (Math.imul) over the key's characters, copied to a reused
 * buffer when they are ASCII (the sink's keys: ids, `account-<n>`, symbols), else over its UTF-8 bytes. Equal to kafkajs's
 * for every key (kafka-partitioner.test.ts). A message without a key, or naming its partition,
 * goes to kafkajs's own partitioner.
 */
import { Partitioners, type ICustomPartitioner, type PartitionerArgs } from 'kafkajs';

const SEED = 0x9747b28c | 0;
const M = 0x5bd1e995 | 0;

/** A string's bytes when all are ASCII (one char, one byte): reused, grown as needed. */
let scratch = new Uint8Array(64);

/** Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2) of a string's UTF-8 bytes, a signed 32-bit result. */
export function murmur2(key: string): number {
  const length = key.length;
  if (length > scratch.length) scratch = new Uint8Array(Math.max(length, 2 * scratch.length));
  for (let i = 0; i < length; i++) {
    const c = key.charCodeAt(i);
    if (c > 0x7f) return murmur2Bytes(Buffer.from(key, 'utf8'));
    scratch[i] = c;
  }
  return murmur2Bytes(scratch, length);
}

/** The same over bytes [0, length). */
export function murmur2Bytes(data: Uint8Array, length: number = data.length): number {
  let h = SEED ^ length;
  const body = length & ~3;
  for (let i = 0; i < body; i += 4) {
    let k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const rest = length & 3;
  if (rest === 3) h ^= data[body + 2] << 16;
  if (rest >= 2) h ^= data[body + 1] << 8;
  if (rest >= 1) h = Math.imul(h ^ data[body], M);
  h ^= h >>> 13;
  h = Math.imul(h, M);
  return h ^ (h >>> 15);
}

/** kafkajs's createPartitioner option: Kafka's default partition of each keyed message. */
export const KeyHashPartitioner: ICustomPartitioner = () => {
  const fallback = Partitioners.DefaultPartitioner();
  return (args: PartitionerArgs): number => {
    const { message, partitionMetadata } = args;
    const key = message.key;
    if (message.partition !== undefined && message.partition !== null) return message.partition;
    if (typeof key === 'string') return (murmur2(key) & 0x7fffffff) % partitionMetadata.length;
    if (Buffer.isBuffer(key)) return (murmur2Bytes(key) & 0x7fffffff) % partitionMetadata.length;
    return fallback(args);
  };
};
