// Goal: the patched kafkajs (patches/kafkajs+2.2.4.patch) is what the Kafka sink runs, and its
// mended parts keep Kafka's encoding and kafkajs's grouping exactly: a varint is the protocol's
// zigzag LEB128, an encoder that grows past its first buffer keeps every byte it wrote (its
// buffers are no longer zero-filled), and messages grouped by partition keep their order and lose
// none, and a whole record batch (what a produce request carries) reads back as written.
// Method: fast-check against a reference written from the protocol's definition, and kafkajs's
// own decoders reading back what its encoders wrote.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);

interface KafkaEncoder {
  writeVarInt(v: number): KafkaEncoder;
  writeUVarInt(v: number): KafkaEncoder;
  writeVarIntString(s: string): KafkaEncoder;
  writeVarIntBytes(b: Buffer): KafkaEncoder;
  writeInt32(v: number): KafkaEncoder;
  writeInt8(v: number): KafkaEncoder;
  writeVarLong(v: number): KafkaEncoder;
  writeVarIntArray(a: KafkaEncoder[]): KafkaEncoder;
  buffer: Buffer;
}
interface KafkaDecoder {
  readVarInt(): number;
  readUVarInt(): number;
  readVarIntString(): string;
  readVarIntBytes(): Buffer;
  readInt32(): number;
  canReadBytes(n: number): boolean;
}
const Encoder = require('kafkajs/src/protocol/encoder.js') as { new (initialSize?: number): KafkaEncoder; sizeOfVarInt(v: number): number };
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (b: Buffer) => KafkaDecoder;
type Group = (a: { topic: string; partitionMetadata: unknown[]; messages: Msg[]; partitioner: (a: { message: Msg }) => number }) => Record<string, Msg[]>;
const groupMessagesPerPartition = require('kafkajs/src/producer/groupMessagesPerPartition.js') as Group;
interface DecodedRecord { offset: string; timestamp: string; key: Buffer; value: Buffer; headers: Record<string, Buffer> }
const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (r: { offsetDelta: number; timestampDelta: number; key: Buffer; value: Buffer; headers: Record<string, string> }) => KafkaEncoder;
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as { RecordBatch: (b: { firstTimestamp: number; maxTimestamp: number; lastOffsetDelta: number; records: KafkaEncoder[] }) => Promise<KafkaEncoder> };
const decodeRecordBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as (d: KafkaDecoder) => Promise<{ records: DecodedRecord[] }>;
const decodeRecord = require('kafkajs/src/protocol/recordBatch/record/v0/decoder.js') as (d: KafkaDecoder, batch: { firstOffset: string; firstTimestamp: string }) => DecodedRecord;
const crc32C = require('kafkajs/src/protocol/recordBatch/crc32C/index.js') as (b: Buffer) => number;
// Not patched: the encoders the released record encoder used for each header.
const Header = require('kafkajs/src/protocol/recordBatch/header/v0/index.js') as (h: { key: string; value: unknown }) => KafkaEncoder;

type RecordArgs = { offsetDelta: number; timestampDelta: number; key: Buffer | string | null; value: Buffer | string | null; headers: Record<string, unknown> };
/** kafkajs 2.2.4's record encoder as released (src/protocol/recordBatch/record/v0/index.js), over the (byte-identical) patched Encoder. */
function releasedRecord({ offsetDelta, timestampDelta, key, value, headers }: RecordArgs): KafkaEncoder {
  const headersArray = Object.keys(headers).flatMap((headerKey) => !Array.isArray(headers[headerKey])
    ? [{ key: headerKey, value: headers[headerKey] }]
    : (headers[headerKey] as unknown[]).map((headerValue) => ({ key: headerKey, value: headerValue })));
  let headersSize = Encoder.sizeOfVarInt(headersArray.length);
  for (const header of headersArray) {
    const keySize = Buffer.byteLength(header.key);
    const valueSize = Buffer.byteLength(header.value as string);
    headersSize += Encoder.sizeOfVarInt(keySize) + keySize + (header.value === null ? Encoder.sizeOfVarInt(-1) : Encoder.sizeOfVarInt(valueSize) + valueSize);
  }
  const E = Encoder as unknown as { sizeOfVarLong(v: number): number; sizeOfVarIntBytes(v: unknown): number; new (): KafkaEncoder };
  const sizeOfBody = 1 + E.sizeOfVarLong(timestampDelta) + Encoder.sizeOfVarInt(offsetDelta) + E.sizeOfVarIntBytes(key) + E.sizeOfVarIntBytes(value) + headersSize;
  return new E().writeVarInt(sizeOfBody).writeInt8(0).writeVarLong(timestampDelta).writeVarInt(offsetDelta)
    .writeVarIntBytes(key as Buffer).writeVarIntBytes(value as Buffer).writeVarIntArray(headersArray.map(Header));
}
interface Msg { partition: number; n: number }

/** CRC32-C by its definition: the reflected Castagnoli polynomial, one bit at a time. */
function crc32cBitwise(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

/** Unsigned LEB128 of a 32-bit value: 7 bits a byte, low first, the high bit set on all but the last. */
function uleb128(u: number): number[] {
  const out: number[] = [];
  let v = u >>> 0;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return out;
}
/** Kafka's varint: the zigzag of a signed 32-bit value, then unsigned LEB128. */
const varint = (v: number): number[] => uleb128(((v << 1) ^ (v >> 31)) >>> 0);

describe('kafkajs as patched (patches/kafkajs+2.2.4.patch)', () => {
  it('is the patched code that is installed (postinstall ran patch-package)', () => {
    expect(String(new Encoder().writeUVarInt)).not.toContain('byteArray');
    expect(String(Encoder)).toContain('Buffer.allocUnsafe(Encoder.nextPowerOfTwo(initialSize))');
    expect(String(Encoder)).toContain('const newBuffer = Buffer.allocUnsafe(newLength)');
    expect(String(Encoder)).not.toContain('Buffer.alloc(');
    expect(String(groupMessagesPerPartition)).not.toContain('...current');
    expect(String(Record)).not.toContain('headersArray');
    expect(readFileSync(require.resolve('kafkajs/src/protocol/recordBatch/crc32C/crc32C.js'), 'utf8')).toContain('slicing-by-8');
  });

  it('takes the CRC32-C of any bytes as the bitwise definition does', () => {
    expect(crc32C(Buffer.from('123456789'))).toBe(0xe3069283); // the polynomial's check value
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      expect(crc32C(Buffer.from(bytes))).toBe(crc32cBitwise(bytes));
    }), { numRuns: 500 });
  });

  it('encodes a record of any timestamp delta, key, value and headers (repeated ones too) as its decoder reads it', () => {
    const value = fc.oneof(fc.string({ maxLength: 40 }), fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)));
    const headers = fc.dictionary(fc.stringMatching(/^h-[a-z0-9-]{0,10}$/), fc.oneof(value, fc.array(value, { minLength: 1, maxLength: 3 })), { maxKeys: 4 });
    const delta = fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.integer({ min: -(2 ** 52), max: 2 ** 52 }));
    fc.assert(fc.property(delta, fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.string({ maxLength: 30 }), value, headers, fc.boolean(), (timestampDelta, offsetDelta, key, v, h, keyAsString) => {
      const args = { offsetDelta, timestampDelta, key: keyAsString ? key : Buffer.from(key), value: v, headers: h };
      const encoded = Record(args as Parameters<typeof Record>[0]);
      const bytes = encoded.buffer;
      // The released encoder's bytes, exactly (header order included).
      expect(Buffer.compare(bytes, releasedRecord(args).buffer)).toBe(0);
      // As the batch decoder reads a record: its length, then the record from a batch's first offset and timestamp (0 here).
      const d = new Decoder(bytes);
      const length = d.readVarInt();
      expect(Encoder.sizeOfVarInt(length) + length).toBe(bytes.length); // exactly the record
      const decoded = decodeRecord(d, { firstOffset: '0', firstTimestamp: '0' });
      expect(decoded.offset).toBe(String(offsetDelta));
      expect(decoded.timestamp).toBe(String(timestampDelta));
      expect(decoded.key.toString()).toBe(key);
      expect(decoded.value.toString('latin1')).toBe(Buffer.from(v as Buffer).toString('latin1'));
      // The decoder folds a repeated header into an array, one written once into its value.
      const text = (x: unknown): string => Buffer.from(x as Buffer).toString('latin1');
      const expected = Object.fromEntries(Object.entries(h).map(([k, x]) => [k, Array.isArray(x) ? (x.length === 1 ? text(x[0]) : x.map(text)) : text(x)]));
      const got = decoded.headers as unknown as Record<string, Buffer | Buffer[]>;
      expect(Object.fromEntries(Object.entries(got).map(([k, x]) => [k, Array.isArray(x) ? x.map(text) : text(x)]))).toEqual(expected);
      expect(d.canReadBytes(1)).toBe(false);
    }), { numRuns: 400 });
    // A null key or value is the varint -1, as released; a null header value throws, as released.
    for (const args of [{ key: null, value: 'v' }, { key: 'k', value: null }, { key: null, value: null }]) {
      const full = { offsetDelta: 3, timestampDelta: 0, headers: { 'event-id': '7' }, ...args };
      expect(Buffer.compare(Record(full as unknown as Parameters<typeof Record>[0]).buffer, releasedRecord(full).buffer)).toBe(0);
    }
    for (const value of [null, undefined]) {
      const full = { offsetDelta: 0, timestampDelta: 0, key: 'k', value: 'v', headers: { 'event-id': value } };
      expect(() => releasedRecord(full)).toThrow(TypeError);
      expect(() => Record(full as unknown as Parameters<typeof Record>[0])).toThrow(TypeError);
    }
  });

  it('encodes a record batch that its decoder reads back whole (keys, values, headers, offsets)', async () => {
    // Header names as the sink's ('event-id'): kafkajs's decoder (consumer side, not patched)
    // reads names such as 'constructor' off Object.prototype.
    const header = fc.tuple(fc.stringMatching(/^h-[a-z0-9-]{0,10}$/), fc.string({ maxLength: 40 }));
    const record = fc.record({ key: fc.string({ maxLength: 30 }), value: fc.string({ unit: 'binary', maxLength: 900 }), headers: fc.uniqueArray(header, { maxLength: 3, selector: (h) => h[0] }) });
    await fc.assert(fc.asyncProperty(fc.array(record, { minLength: 1, maxLength: 60 }), async (records) => {
      const now = 1_763_800_000_000;
      const encoded = records.map((r, i) => Record({ offsetDelta: i, timestampDelta: i, key: Buffer.from(r.key), value: Buffer.from(r.value), headers: Object.fromEntries(r.headers) }));
      const batch = await RecordBatch({ firstTimestamp: now, maxTimestamp: now + records.length, lastOffsetDelta: records.length - 1, records: encoded });
      const decoded = await decodeRecordBatch(new Decoder(batch.buffer));
      expect(decoded.records).toHaveLength(records.length);
      decoded.records.forEach((d, i) => {
        expect(d.offset).toBe(String(i));
        expect(d.timestamp).toBe(String(now + i));
        expect(d.key.toString()).toBe(records[i].key);
        expect(d.value.toString()).toBe(records[i].value);
        expect(Object.fromEntries(Object.entries(d.headers).map(([k, v]) => [k, v.toString()]))).toEqual(Object.fromEntries(records[i].headers));
      });
    }), { numRuns: 60 });
  });

  it('writes varints as the protocol defines them, in place', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { maxLength: 200 }), (values) => {
      const e = new Encoder();
      const expected: number[] = [];
      for (const v of values) {
        e.writeVarInt(v);
        expected.push(...varint(v));
        expect(Encoder.sizeOfVarInt(v)).toBe(varint(v).length);
      }
      expect([...e.buffer]).toEqual(expected);
    }));
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 2 ** 32 - 1 }), { maxLength: 200 }), (values) => {
      const e = new Encoder(1); // grows from 2 bytes: every varint may land at a buffer's end
      const expected: number[] = [];
      for (const v of values) {
        e.writeUVarInt(v);
        expected.push(...uleb128(v));
      }
      expect([...e.buffer]).toEqual(expected);
    }));
  });

  it('keeps every byte written while its (unzeroed) buffer grows, as its Decoder reads them back', () => {
    const item = fc.oneof(
      fc.record({ k: fc.constant('varint' as const), v: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }) }),
      fc.record({ k: fc.constant('uvarint' as const), v: fc.integer({ min: 0, max: 2 ** 31 - 1 }) }),
      fc.record({ k: fc.constant('int32' as const), v: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }) }),
      fc.record({ k: fc.constant('string' as const), v: fc.string({ unit: 'binary', maxLength: 700 }) }),
      fc.record({ k: fc.constant('bytes' as const), v: fc.uint8Array({ maxLength: 1500 }) }),
    );
    fc.assert(fc.property(fc.array(item, { maxLength: 40 }), fc.integer({ min: 1, max: 600 }), (items, initial) => {
      const e = new Encoder(initial);
      for (const it of items) {
        if (it.k === 'varint') e.writeVarInt(it.v);
        else if (it.k === 'uvarint') e.writeUVarInt(it.v);
        else if (it.k === 'int32') e.writeInt32(it.v);
        else if (it.k === 'string') e.writeVarIntString(it.v);
        else e.writeVarIntBytes(Buffer.from(it.v));
      }
      const d = new Decoder(e.buffer);
      for (const it of items) {
        if (it.k === 'varint') expect(d.readVarInt()).toBe(it.v);
        else if (it.k === 'uvarint') expect(d.readUVarInt()).toBe(it.v);
        else if (it.k === 'int32') expect(d.readInt32()).toBe(it.v);
        else if (it.k === 'string') expect(d.readVarIntString()).toBe(it.v);
        else expect([...d.readVarIntBytes()]).toEqual([...it.v]);
      }
      expect(d.canReadBytes(1)).toBe(false);
    }));
  });

  it('groups messages by partition in their order, losing none', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 300 }), (partitions) => {
      const messages: Msg[] = partitions.map((partition, n) => ({ partition, n }));
      const groups = groupMessagesPerPartition({ topic: 't', partitionMetadata: [{}], messages, partitioner: ({ message }) => message.partition });
      const keys = Object.keys(groups).map(Number).sort((a, b) => a - b);
      expect(keys).toEqual([...new Set(partitions)].sort((a, b) => a - b));
      for (const p of keys) expect(groups[p]).toEqual(messages.filter((m) => m.partition === p));
    }));
    expect(groupMessagesPerPartition({ topic: 't', partitionMetadata: [], messages: [{ partition: 0, n: 0 }], partitioner: () => 0 })).toEqual({});
  });
});
