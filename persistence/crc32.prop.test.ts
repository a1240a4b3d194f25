import fc from 'fast-check';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CRC32_INIT, crc32Byte, crc32Final, crc32OfView, crc32UpdateView, crc32Words } from './crc32.ts';

/** Bytes at an offset inside a larger buffer, so views and ranges do not start at 0. */
const slice = fc.record({ pad: fc.integer({ min: 0, max: 11 }), bytes: fc.uint8Array({ minLength: 0, maxLength: 600 }), tail: fc.integer({ min: 0, max: 9 }) });

describe('crc32 (slicing-by-8)', () => {
  it('equals zlib over any range, at any alignment, through a view at the range or over the whole buffer', () => {
    fc.assert(fc.property(slice, ({ pad, bytes, tail }) => {
      const buf = new Uint8Array(pad + bytes.length + tail).fill(0xa5);
      buf.set(bytes, pad);
      const want = zlibCrc32(bytes);
      expect(crc32OfView(new DataView(buf.buffer, pad), 0, bytes.length)).toBe(want);
      expect(crc32OfView(new DataView(buf.buffer), pad, pad + bytes.length)).toBe(want);
    }), { numRuns: 500 });
  });

  it('is the same state split anywhere: words, bytes and a view range compose', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 8, maxLength: 200 }), fc.nat(), (bytes, cut) => {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const at = cut % (bytes.length - 7);
      let c = CRC32_INIT;
      for (let i = 0; i < at; i++) c = crc32Byte(c, bytes[i]);
      c = crc32Words(c, view.getInt32(at, true), view.getInt32(at + 4, true));
      c = crc32UpdateView(c, view, at + 8, bytes.length);
      expect(crc32Final(c)).toBe(zlibCrc32(bytes));
    }), { numRuns: 300 });
  });

  it('known values: the empty range and "123456789"', () => {
    expect(crc32OfView(new DataView(new ArrayBuffer(0)), 0, 0)).toBe(0);
    const check = new TextEncoder().encode('123456789');
    expect(crc32OfView(new DataView(check.buffer), 0, check.length)).toBe(0xcbf43926);
  });
});
