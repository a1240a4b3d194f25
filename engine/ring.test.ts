/**
 * Unit tests of the SPSC ring on one thread: claim/commit/poll, record alignment, the padding
 * record at the end, FULL and recovery, the room and depth queries, the 32-bit position wrap, and
 * the arguments it refuses. Method: drive both ends by hand and read the shared words directly.
 */

import { describe, expect, it } from 'vitest';
import { Doorbell, PARKED_INDEX } from './doorbell.ts';
import {
  FULL,
  HEADER_LENGTH,
  HEAD_OFFSET_FROM_END,
  MAX_CAPACITY,
  MIN_CAPACITY,
  PADDING_TYPE,
  RECORD_ALIGNMENT,
  RingConsumer,
  RingProducer,
  TAIL_OFFSET_FROM_END,
  TRAILER_LENGTH,
  alignRecord,
  createRingMemory,
  maxBodyLength,
  type RecordHandler,
  type RingMemory,
} from './ring.ts';

interface Seen {
  typeId: number;
  offset: number;
  length: number;
  body: number[];
}

/** Collects every record with a copy of its body (allocates: tests only). */
class Collector implements RecordHandler {
  readonly bytes: Uint8Array;
  readonly seen: Seen[] = [];
  constructor(consumer: RingConsumer) {
    this.bytes = consumer.bytes;
  }
  onRecord(typeId: number, offset: number, length: number): void {
    this.seen.push({ typeId, offset, length, body: Array.from(this.bytes.subarray(offset, offset + length)) });
  }
}

function counters(memory: RingMemory): Int32Array {
  return new Int32Array(memory.sab, memory.capacity, TRAILER_LENGTH >>> 2);
}

function headOf(memory: RingMemory): number {
  return Atomics.load(counters(memory), HEAD_OFFSET_FROM_END >>> 2) >>> 0;
}

function tailOf(memory: RingMemory): number {
  return Atomics.load(counters(memory), TAIL_OFFSET_FROM_END >>> 2) >>> 0;
}

/** Memory whose head and tail both start at `position`, as if that many bytes had passed. */
function memoryAt(capacity: number, position: number): RingMemory {
  const memory = createRingMemory(capacity);
  const words = counters(memory);
  words[HEAD_OFFSET_FROM_END >>> 2] = position | 0;
  words[TAIL_OFFSET_FROM_END >>> 2] = position | 0;
  return memory;
}

function writeBody(producer: RingProducer, offset: number, length: number, seed: number): void {
  for (let i = 0; i < length; i++) producer.bytes[offset + i] = (seed * 31 + i * 7) & 0xff;
}

function expectedBody(length: number, seed: number): number[] {
  return Array.from({ length }, (_, i) => (seed * 31 + i * 7) & 0xff);
}

function ends(capacity = 1024, doorbell: Doorbell | null = null) {
  const memory = createRingMemory(capacity);
  const producer = new RingProducer(memory, doorbell);
  const consumer = new RingConsumer(memory);
  return { memory, producer, consumer, collector: new Collector(consumer) };
}

describe('ring: claim, commit, poll', () => {
  it('delivers a committed record with its type, offset and aligned length', () => {
    const { producer, consumer, collector } = ends();
    const offset = producer.tryClaim(42, 5);
    expect(offset).toBe(HEADER_LENGTH);
    writeBody(producer, offset, 5, 1);
    producer.commit();
    expect(consumer.poll(collector, 10)).toBe(1);
    expect(collector.seen).toHaveLength(1);
    const [record] = collector.seen;
    expect(record.typeId).toBe(42);
    expect(record.offset).toBe(HEADER_LENGTH);
    expect(record.length).toBe(8);
    expect(record.body.slice(0, 5)).toEqual(expectedBody(5, 1));
  });

  it('hides claimed records until commit, then publishes the whole batch at once', () => {
    const { memory, producer, consumer, collector } = ends();
    for (let i = 0; i < 3; i++) writeBody(producer, producer.tryClaim(i, 16), 16, i);
    expect(tailOf(memory)).toBe(0);
    expect(consumer.hasRecords()).toBe(false);
    expect(consumer.poll(collector, 10)).toBe(0);
    producer.commit();
    expect(tailOf(memory)).toBe(3 * 24);
    expect(consumer.hasRecords()).toBe(true);
    expect(consumer.poll(collector, 10)).toBe(3);
    expect(collector.seen.map((r) => r.typeId)).toEqual([0, 1, 2]);
    collector.seen.forEach((r, i) => expect(r.body).toEqual(expectedBody(16, i)));
  });

  it('commit without claims publishes nothing and is harmless', () => {
    const { memory, producer } = ends();
    producer.commit();
    expect(tailOf(memory)).toBe(0);
  });

  it('poll honours its limit and releases head once per batch', () => {
    const { memory, producer, consumer, collector } = ends();
    for (let i = 0; i < 5; i++) producer.tryClaim(i, 8);
    producer.commit();
    expect(consumer.poll(collector, 2)).toBe(2);
    expect(headOf(memory)).toBe(2 * 16);
    expect(consumer.poll(collector, 2)).toBe(2);
    expect(consumer.poll(collector, 2)).toBe(1);
    expect(consumer.poll(collector, 2)).toBe(0);
    expect(headOf(memory)).toBe(5 * 16);
    expect(collector.seen.map((r) => r.typeId)).toEqual([0, 1, 2, 3, 4]);
  });

  it('accepts an empty body', () => {
    const { producer, consumer, collector } = ends();
    expect(producer.tryClaim(3, 0)).toBe(HEADER_LENGTH);
    producer.commit();
    expect(consumer.poll(collector, 10)).toBe(1);
    expect(collector.seen[0]).toMatchObject({ typeId: 3, length: 0 });
  });
});

describe('ring: record alignment', () => {
  it('aligns every record, and so every body, to 8 bytes', () => {
    expect(RECORD_ALIGNMENT).toBe(8);
    for (let n = 0; n <= 64; n++) {
      const aligned = alignRecord(n);
      expect(aligned % 8).toBe(0);
      expect(aligned).toBeGreaterThanOrEqual(n);
      expect(aligned - n).toBeLessThan(8);
    }
    const { producer, consumer, collector } = ends();
    const sizes = [0, 1, 7, 8, 9, 15, 16, 17, 33];
    let expectedOffset = HEADER_LENGTH;
    for (const size of sizes) {
      const offset = producer.tryClaim(size, size);
      expect(offset).toBe(expectedOffset);
      expect(offset % 8).toBe(0);
      expectedOffset += alignRecord(HEADER_LENGTH + size);
    }
    producer.commit();
    consumer.poll(collector, 100);
    expect(collector.seen.map((r) => r.length)).toEqual(sizes.map((s) => alignRecord(s)));
  });

  it('writes the header as [length | typeId], length counting header and padding', () => {
    const { memory, producer } = ends();
    producer.tryClaim(9, 13);
    const view = new DataView(memory.sab);
    expect(view.getInt32(0, true)).toBe(alignRecord(HEADER_LENGTH + 13));
    expect(view.getInt32(4, true)).toBe(9);
  });
});

describe('ring: padding at the end', () => {
  it('pads to the end and starts the record at index 0 when it would straddle the end', () => {
    const capacity = 1024;
    const { memory, producer, consumer, collector } = ends(capacity);
    // 8 records of 120 bytes = 960; the next 120-byte record has only 64 bytes before the end.
    for (let i = 0; i < 8; i++) producer.tryClaim(i, 112);
    producer.commit();
    expect(consumer.poll(collector, 100)).toBe(8);
    const offset = producer.tryClaim(100, 112);
    expect(offset).toBe(HEADER_LENGTH);
    writeBody(producer, offset, 112, 100);
    producer.commit();
    const view = new DataView(memory.sab);
    expect(view.getInt32(960, true)).toBe(64);
    expect(view.getInt32(964, true)).toBe(PADDING_TYPE);
    expect(tailOf(memory)).toBe(capacity + 120);
    // The padding is skipped and not counted.
    expect(consumer.poll(collector, 100)).toBe(1);
    expect(collector.seen[8]).toMatchObject({ typeId: 100, offset: HEADER_LENGTH, length: 112 });
    expect(collector.seen[8].body).toEqual(expectedBody(112, 100));
    expect(headOf(memory)).toBe(capacity + 120);
  });

  it('fills exactly to the end without padding when the record fits', () => {
    const { memory, producer, consumer, collector } = ends(1024);
    for (let i = 0; i < 8; i++) producer.tryClaim(i, 120);
    producer.commit();
    consumer.poll(collector, 100);
    expect(producer.tryClaim(8, 120)).toBe(HEADER_LENGTH);
    producer.commit();
    expect(tailOf(memory)).toBe(1024 + 128);
    expect(consumer.poll(collector, 100)).toBe(1);
  });

  it('counts the padding as needed room when deciding FULL', () => {
    const { producer, consumer, collector } = ends(1024);
    // Fill 960 bytes, drain 120 of them: 184 free, but 64 of them are the tail end that a
    // 120-byte record cannot use, so a record needs 64 + 120 = 184 — it just fits.
    for (let i = 0; i < 8; i++) producer.tryClaim(i, 112);
    producer.commit();
    expect(consumer.poll(collector, 1)).toBe(1);
    expect(producer.freeBytes()).toBe(184);
    expect(producer.tryClaim(8, 112)).toBe(HEADER_LENGTH);
    expect(producer.freeBytes()).toBe(0);
  });

  it('refuses a record when the free bytes are only enough without the padding', () => {
    const { producer, consumer, collector } = ends(1024);
    for (let i = 0; i < 8; i++) producer.tryClaim(i, 112);
    producer.commit();
    expect(consumer.poll(collector, 1)).toBe(1);
    // 184 free; a 128-byte record needs 64 (padding) + 128 = 192.
    expect(producer.tryClaim(8, 120)).toBe(FULL);
    expect(producer.fullCount).toBe(1);
    // A record that fits before the end needs no padding.
    expect(producer.tryClaim(9, 56)).toBe(960 + HEADER_LENGTH);
  });
});

describe('ring: FULL and recovery', () => {
  it('returns FULL when full, keeps every committed record, and recovers once drained', () => {
    const { producer, consumer, collector } = ends(1024);
    let accepted = 0;
    while (producer.tryClaim(accepted, 24) !== FULL) accepted++;
    expect(accepted).toBe(1024 / 32);
    expect(producer.fullCount).toBe(1);
    expect(producer.tryClaim(999, 0)).toBe(FULL);
    expect(producer.fullCount).toBe(2);
    producer.commit();
    expect(consumer.poll(collector, 1000)).toBe(accepted);
    expect(collector.seen.map((r) => r.typeId)).toEqual(Array.from({ length: accepted }, (_, i) => i));
    // Drained: room again, and the next records wrap to index 0.
    expect(producer.tryClaim(accepted, 24)).toBe(HEADER_LENGTH);
    producer.commit();
    expect(consumer.poll(collector, 1000)).toBe(1);
    expect(collector.seen[accepted].typeId).toBe(accepted);
  });

  it('sees room freed by a partial drain only when it looks full (cached head)', () => {
    const { memory, producer, consumer, collector } = ends(1024);
    for (let i = 0; i < 32; i++) producer.tryClaim(i, 24);
    producer.commit();
    expect(consumer.poll(collector, 4)).toBe(4);
    expect(headOf(memory)).toBe(128);
    for (let i = 0; i < 4; i++) expect(producer.tryClaim(32 + i, 24)).not.toBe(FULL);
    expect(producer.tryClaim(36, 24)).toBe(FULL);
  });
});

describe('ring: room and depth', () => {
  it('reports freeBytes, depthBytes on both ends, and hasRoomFor', () => {
    const { producer, consumer, collector } = ends(1024);
    expect(producer.freeBytes()).toBe(1024);
    expect(producer.depthBytes()).toBe(0);
    expect(consumer.depthBytes()).toBe(0);
    producer.tryClaim(1, 24);
    producer.tryClaim(2, 24);
    // Claimed but uncommitted: free space shrinks, depth does not.
    expect(producer.freeBytes()).toBe(1024 - 64);
    expect(producer.depthBytes()).toBe(0);
    expect(consumer.depthBytes()).toBe(0);
    producer.commit();
    expect(producer.depthBytes()).toBe(64);
    expect(consumer.depthBytes()).toBe(64);
    consumer.poll(collector, 1);
    expect(producer.depthBytes()).toBe(32);
    expect(consumer.depthBytes()).toBe(32);
    expect(producer.freeBytes()).toBe(1024 - 32);
    consumer.poll(collector, 1);
    expect(producer.depthBytes()).toBe(0);
    expect(producer.freeBytes()).toBe(1024);
  });

  it('hasRoomFor keeps one extra record of slack for the padding at the end', () => {
    const { producer } = ends(1024);
    // (count + 1) * 32 bytes must be free.
    expect(producer.hasRoomFor(31, 24)).toBe(true);
    expect(producer.hasRoomFor(32, 24)).toBe(false);
    for (let i = 0; i < 10; i++) producer.tryClaim(i, 24);
    expect(producer.hasRoomFor(21, 24)).toBe(true);
    expect(producer.hasRoomFor(22, 24)).toBe(false);
  });

  it('hasRoomFor rereads the head when the cached one says no', () => {
    const { producer, consumer, collector } = ends(1024);
    for (let i = 0; i < 31; i++) producer.tryClaim(i, 24);
    producer.commit();
    expect(producer.hasRoomFor(1, 24)).toBe(false);
    consumer.poll(collector, 10);
    expect(producer.hasRoomFor(1, 24)).toBe(true);
  });

  it('when hasRoomFor(n) is true, n claims succeed wherever the tail is', () => {
    for (let start = 0; start < 1024; start += 8) {
      const memory = memoryAt(1024, start);
      const producer = new RingProducer(memory, null);
      const n = 20;
      expect(producer.hasRoomFor(n, 40)).toBe(true);
      for (let i = 0; i < n; i++) expect(producer.tryClaim(i, 40)).not.toBe(FULL);
    }
  });
});

describe('ring: 32-bit position wrap', () => {
  it('keeps delivering in order, with exact depth and room, as positions pass 2^32', () => {
    const capacity = 1024;
    const start = 2 ** 32 - 200;
    const memory = memoryAt(capacity, start);
    const producer = new RingProducer(memory, null);
    const consumer = new RingConsumer(memory);
    const collector = new Collector(consumer);
    let sent = 0;
    let received = 0;
    // Push ~8 KiB through in steps of up to 5 records, so the counters cross 2^32 with records
    // in flight and the producer fills the ring more than once.
    for (let step = 0; step < 100; step++) {
      const n = (step % 5) + 1;
      for (let i = 0; i < n; i++) {
        const body = (sent * 13) % 100;
        const offset = producer.tryClaim(sent, body);
        if (offset === FULL) break;
        writeBody(producer, offset, body, sent);
        sent++;
      }
      producer.commit();
      const depth = producer.depthBytes();
      expect(depth).toBe(consumer.depthBytes());
      expect(depth).toBeLessThanOrEqual(capacity);
      if (step % 3 !== 0) received += consumer.poll(collector, 1 + (step % 4));
    }
    received += consumer.poll(collector, 1000);
    expect(received).toBe(sent);
    expect(sent).toBeGreaterThan(80);
    collector.seen.forEach((r, i) => {
      expect(r.typeId).toBe(i);
      const body = (i * 13) % 100;
      expect(r.length).toBe(alignRecord(body));
      expect(r.body.slice(0, body)).toEqual(expectedBody(body, i));
    });
    // The counters wrapped: both are now small again.
    expect(tailOf(memory)).toBeLessThan(start);
    expect(headOf(memory)).toBe(tailOf(memory));
    expect(producer.freeBytes()).toBe(capacity);
    expect(producer.depthBytes()).toBe(0);
  });

  it('pads correctly when the wrap of the index and of the counter coincide', () => {
    // Tail 40 bytes short of 2^32, which is also 40 bytes short of the end of the buffer.
    const memory = memoryAt(1024, 2 ** 32 - 40);
    const producer = new RingProducer(memory, null);
    const consumer = new RingConsumer(memory);
    const collector = new Collector(consumer);
    expect(producer.tryClaim(1, 40)).toBe(HEADER_LENGTH);
    producer.commit();
    expect(tailOf(memory)).toBe(48);
    expect(producer.depthBytes()).toBe(88);
    expect(consumer.poll(collector, 10)).toBe(1);
    expect(collector.seen[0]).toMatchObject({ typeId: 1, offset: HEADER_LENGTH, length: 40 });
    expect(headOf(memory)).toBe(48);
  });

  it('reports FULL across the wrap', () => {
    const memory = memoryAt(1024, 2 ** 32 - 512);
    const producer = new RingProducer(memory, null);
    let accepted = 0;
    while (producer.tryClaim(accepted, 24) !== FULL) accepted++;
    expect(accepted).toBe(32);
    producer.commit();
    expect(producer.depthBytes()).toBe(1024);
    expect(tailOf(memory)).toBe(512);
  });
});

describe('ring: doorbell on commit', () => {
  it('rings the doorbell only when the consumer announced a park', () => {
    const doorbell = Doorbell.create();
    const { producer } = ends(1024, doorbell);
    producer.tryClaim(1, 8);
    producer.commit();
    expect(doorbell.notifyCount).toBe(0);
    Atomics.store(doorbell.words, PARKED_INDEX, 1);
    producer.tryClaim(1, 8);
    producer.commit();
    expect(doorbell.notifyCount).toBe(1);
    // Nothing new to publish: no ring.
    producer.commit();
    expect(doorbell.notifyCount).toBe(1);
  });
});

describe('ring: a quiet producer', () => {
  it('leaves a parked consumer asleep until half the ring waits, then rings it once', () => {
    const memory = createRingMemory(1024);
    const doorbell = Doorbell.create();
    const producer = new RingProducer(memory, doorbell, null, null, true);
    const consumer = new RingConsumer(memory);
    Atomics.store(doorbell.words, PARKED_INDEX, 1);
    // 64-byte records (8 header + 56 body): the seventh commit leaves 448 bytes waiting, the eighth 512.
    for (let i = 1; i <= 7; i++) {
      producer.tryClaim(1, 56);
      producer.commit();
      expect({ i, rung: doorbell.notifyCount }).toEqual({ i, rung: 0 });
    }
    producer.tryClaim(1, 56);
    producer.commit();
    expect(producer.depthBytes()).toBe(512);
    expect(doorbell.notifyCount).toBe(1);
    // Drained below half: quiet again, parked or not.
    expect(consumer.poll({ onRecord(): void {} }, 64)).toBe(8);
    Atomics.store(doorbell.words, PARKED_INDEX, 1);
    producer.tryClaim(1, 56);
    producer.commit();
    expect(doorbell.notifyCount).toBe(1);
  });
});

describe('ring: bad arguments', () => {
  it('refuses a capacity that is not a power of two or out of range', () => {
    expect(() => createRingMemory(3000)).toThrow(/power of two/);
    expect(() => createRingMemory(1024 + 8)).toThrow(/power of two/);
    expect(() => createRingMemory(MIN_CAPACITY / 2)).toThrow(/Condition failed/);
    expect(() => createRingMemory(MAX_CAPACITY * 2)).toThrow(/Condition failed/);
    expect(() => createRingMemory(1.5)).toThrow(/Condition failed/);
    expect(() => createRingMemory(Number.NaN)).toThrow(/Condition failed/);
    expect(createRingMemory(MIN_CAPACITY).sab.byteLength).toBe(MIN_CAPACITY + TRAILER_LENGTH);
  });

  it('refuses memory whose length or capacity do not match', () => {
    const bad = { sab: new SharedArrayBuffer(1024), capacity: 1024 };
    expect(() => new RingProducer(bad, null)).toThrow(/Condition failed/);
    expect(() => new RingConsumer(bad)).toThrow(/Condition failed/);
    const notPow2 = { sab: new SharedArrayBuffer(1536 + TRAILER_LENGTH), capacity: 1536 };
    expect(() => new RingProducer(notPow2, null)).toThrow(/power of two/);
    expect(() => new RingConsumer(notPow2)).toThrow(/power of two/);
  });

  it('refuses a body larger than an eighth of the ring, or negative', () => {
    const { producer } = ends(1024);
    expect(producer.maxBodyLength).toBe(maxBodyLength(1024));
    expect(maxBodyLength(1024)).toBe(120);
    expect(producer.tryClaim(1, 120)).toBe(HEADER_LENGTH);
    expect(() => producer.tryClaim(1, 121)).toThrow(/body length/);
    expect(() => producer.tryClaim(1, -1)).toThrow(/body length/);
    expect(() => producer.tryClaim(1, Number.NaN)).toThrow(/body length/);
  });

  it('refuses a typeId that is negative (the padding type) or not an int32', () => {
    const { producer, consumer, collector } = ends(1024);
    expect(() => producer.tryClaim(PADDING_TYPE, 8)).toThrow(/typeId/);
    expect(() => producer.tryClaim(-5, 8)).toThrow(/typeId/);
    expect(() => producer.tryClaim(2 ** 31, 8)).toThrow(/typeId/);
    expect(() => producer.tryClaim(1.5, 8)).toThrow(/typeId/);
    // Nothing was claimed by the refused calls.
    expect(producer.freeBytes()).toBe(1024);
    producer.tryClaim(2 ** 31 - 1, 8);
    producer.commit();
    consumer.poll(collector, 10);
    expect(collector.seen.map((r) => r.typeId)).toEqual([2 ** 31 - 1]);
  });

  it('stops with an invariant failure on a corrupt record length instead of reading garbage', () => {
    const { memory, producer, consumer, collector } = ends(1024);
    producer.tryClaim(1, 8);
    producer.commit();
    new DataView(memory.sab).setInt32(0, 4, true);
    expect(() => consumer.poll(collector, 10)).toThrow(/Invariant/);
  });
});
