// Goal: every ring-record flyweight reads back what its setters wrote, at the byte offsets drawn
// in the layout diagrams of codecs/records.ts, without touching a byte outside
// [offset, offset + LENGTH); ClOrdID byte fields take up to 40 bytes and refuse 41.
// Method: each flyweight is wrapped at a non-zero, odd offset inside a larger buffer filled with
// canary bytes; fields are described once in RECORDS (name, kind, documented offset).
import { describe, expect, it } from 'vitest';
import { CL_ORD_ID_CAPACITY } from '../engine/domain.ts';
import {
  CANCEL_ORDER_LENGTH,
  CHILD_EVENT_JOURNALED_MIN_LENGTH,
  CHILD_EVENT_LENGTH,
  CHILD_EVENT_MAX_LENGTH,
  ChildEventFlyweight,
  EXEC_ID_CAPACITY,
  childEventLength,
  CHILD_ORDER_LENGTH,
  ChildOrderFlyweight,
  EXEC_REPORT_LENGTH,
  MAX_RECORD_LENGTH,
  NEW_ORDER_LENGTH,
  POSITION_LENGTH,
  QUOTE_LENGTH,
  REPLACE_ORDER_LENGTH,
  ROUTE_DONE_LENGTH,
  ROUTE_REQUEST_LENGTH,
  RecordType,
  VENUE_STATUS_LENGTH,
  ExecReportFlyweight,
  PositionFlyweight,
  journalMarkOf,
} from './records.ts';

import {
  type FieldSpec,
  type RecordSpec,
  RECORDS,
  fieldAccess,
  bytesAccess,
} from './records.fixture.ts';

/** A distinct value per field index, using the high bit so sign/width mistakes show. */
function sampleValue(f: FieldSpec, i: number): number | boolean {
  switch (f.kind) {
    case 'f64': return (i + 1) * 1_234_567_891_011 + 0.25;
    case 'u32': return 0x80000000 + i * 0x01010101;
    case 'u16': return 0x8000 + i * 257;
    case 'u8': return 0x80 + i;
    case 'bool': return true;
  }
  throw new Error('no sample for bytes');
}

/** Reads a scalar straight from the buffer at an absolute byte offset, little-endian. */
function readRaw(view: DataView, at: number, f: FieldSpec): number | boolean {
  switch (f.kind) {
    case 'f64': return view.getFloat64(at, true);
    case 'u32': return view.getUint32(at, true);
    case 'u16': return view.getUint16(at, true);
    case 'u8': return view.getUint8(at);
    case 'bool': return view.getUint8(at) === 1;
  }
  throw new Error('no raw read for bytes');
}

const CANARY = 0xa5;
const MARGIN = 37;

function makeBuffer(spec: RecordSpec, offset: number): { view: DataView; bytes: Uint8Array } {
  const buf = new ArrayBuffer(offset + spec.length + MARGIN);
  const bytes = new Uint8Array(buf);
  bytes.fill(CANARY);
  return { view: new DataView(buf), bytes };
}

function expectCanaries(bytes: Uint8Array, offset: number, length: number): void {
  for (let i = 0; i < offset; i++) if (bytes[i] !== CANARY) expect.fail(`byte ${i} before the record was written`);
  for (let i = offset + length; i < bytes.length; i++) if (bytes[i] !== CANARY) expect.fail(`byte ${i} after the record was written`);
}

describe('record lengths', () => {
  it('match the layout diagrams', () => {
    expect(NEW_ORDER_LENGTH).toBe(88);
    expect(CANCEL_ORDER_LENGTH).toBe(128);
    expect(REPLACE_ORDER_LENGTH).toBe(128);
    expect(EXEC_REPORT_LENGTH).toBe(224);
    expect(ROUTE_REQUEST_LENGTH).toBe(48);
    expect(CHILD_ORDER_LENGTH).toBe(72);
    expect(ROUTE_DONE_LENGTH).toBe(40);
    expect(CHILD_EVENT_LENGTH).toBe(72);
    expect(CHILD_EVENT_JOURNALED_MIN_LENGTH).toBe(64);
    expect(VENUE_STATUS_LENGTH).toBe(16);
    expect(QUOTE_LENGTH).toBe(48);
    expect(MAX_RECORD_LENGTH).toBe(224);
    expect(POSITION_LENGTH).toBe(72);
  });

  it('are multiples of 8 so records stay aligned', () => {
    for (const spec of RECORDS) expect(spec.length % 8, spec.name).toBe(0);
  });

  it('journalMarkOf reads the journal mark of EXEC_REPORT, POSITION and CHILD_NEW, 0 for other types', () => {
    const bytes = new Uint8Array(512);
    const view = new DataView(bytes.buffer);
    new ExecReportFlyweight().wrap(view, bytes, 8).setJournalMark(2 ** 40 + 3).setEventSeq(9);
    expect(journalMarkOf(view, RecordType.EXEC_REPORT, 8)).toBe(2 ** 40 + 3);
    new PositionFlyweight().wrap(view, bytes, 256).setJournalMark(17).setQty(-5);
    expect(journalMarkOf(view, RecordType.POSITION, 256)).toBe(17);
    expect(journalMarkOf(view, RecordType.ROUTE_AUDIT, 256)).toBe(0);
    expect(journalMarkOf(view, RecordType.NEW_ORDER, 8)).toBe(0);
    new ChildOrderFlyweight().wrap(view, bytes, 400).setJournalMark(2 ** 33 + 1).setChildId(5);
    expect(journalMarkOf(view, RecordType.CHILD_NEW, 400)).toBe(2 ** 33 + 1);
    // A CHILD_CANCEL shares the layout but waits for nothing, whatever its field holds.
    expect(journalMarkOf(view, RecordType.CHILD_CANCEL, 400)).toBe(0);
  });

  it('a CHILD_EVENT carries a venue\'s ExecID and ExecRefID past its fixed part: each cut to 64 bytes, non-printable bytes as ?, none in a record of the fixed length', () => {
    expect(CHILD_EVENT_MAX_LENGTH).toBe(CHILD_EVENT_LENGTH + 2 + 2 * EXEC_ID_CAPACITY);
    expect(childEventLength(0, 0)).toBe(CHILD_EVENT_LENGTH);
    expect(childEventLength(5, 0)).toBe(CHILD_EVENT_LENGTH + 2 + 5);
    expect(childEventLength(0, 3)).toBe(CHILD_EVENT_LENGTH + 2 + 3);
    expect(childEventLength(500, 500)).toBe(CHILD_EVENT_MAX_LENGTH);
    const src = Buffer.from(`E-1|R\x01x${'y'.repeat(70)}`, 'latin1');
    const bytes = new Uint8Array(512).fill(0xee);
    const view = new DataView(bytes.buffer);
    const fw = new ChildEventFlyweight().wrap(view, bytes, 16).setChildId(7).setExecIdHash(3);
    const refEnd = src.length;
    const length = childEventLength(3, refEnd - 4);
    fw.setIds(src, 0, 3, 4, refEnd);
    const text = (at: number, n: number) => Buffer.from(bytes.subarray(at, at + n)).toString('latin1');
    expect(text(fw.execIdOffset(), fw.execIdLength(length))).toBe('E-1');
    expect(text(fw.execRefIdOffset(), fw.execRefIdLength(length))).toBe(`R?x${'y'.repeat(61)}`);
    expect(length).toBe(CHILD_EVENT_LENGTH + 2 + 3 + 64);
    expect([fw.childId(), fw.execIdHash()]).toEqual([7, 3]);
    // The fixed part alone (another kind, an older journal): no identifiers, whatever follows it.
    expect(fw.execIdLength(CHILD_EVENT_LENGTH)).toBe(0);
    expect(fw.execRefIdLength(CHILD_EVENT_LENGTH)).toBe(0);
    // Nothing to write: the bytes past the fixed part are left alone.
    const other = new ChildEventFlyweight().wrap(view, bytes, 320).setIds(src, 0, 0, 0, 0);
    expect(bytes[other.offset + CHILD_EVENT_LENGTH]).toBe(0xee);
  });

  it('an EXEC_REPORT\'s trade fields read as 0 from a record journaled before they existed (208 bytes)', () => {
    const bytes = new Uint8Array(512).fill(0xee);
    const view = new DataView(bytes.buffer);
    const fw = new ExecReportFlyweight().wrap(view, bytes, 8).setVenueExecIdHash(2 ** 52 - 1).setExecRefSeq(41);
    expect([fw.venueExecIdHashIn(EXEC_REPORT_LENGTH), fw.execRefSeqIn(EXEC_REPORT_LENGTH)]).toEqual([2 ** 52 - 1, 41]);
    expect([fw.venueExecIdHashIn(208), fw.execRefSeqIn(208)]).toEqual([0, 0]);
    expect([fw.venueExecIdHashIn(200), fw.execRefSeqIn(200)]).toEqual([0, 0]);
  });

  it('record type ids are distinct', () => {
    const ids = Object.values(RecordType);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

for (const spec of RECORDS) {
  describe(spec.name, () => {
    it('the field table names every accessor of the flyweight', () => {
      const fw = spec.make();
      const proto = Object.getPrototypeOf(fw) as object;
      const methods = Object.getOwnPropertyNames(proto).filter((n) => n !== 'constructor').sort();
      const listed: string[] = [];
      for (const f of spec.fields) {
        if (f.kind === 'bytes') {
          const lower = f.name[0].toLowerCase() + f.name.slice(1);
          listed.push(`set${f.name}`, `copy${f.name}`, `${lower}Length`, `${lower}Offset`);
        } else {
          listed.push(`set${f.name}`, f.name[0].toLowerCase() + f.name.slice(1));
        }
      }
      listed.push(...(spec.derived ?? []));
      expect(methods).toEqual(listed.sort());
    });

    it('fields lie inside the record and do not overlap (documented offsets)', () => {
      const used = new Array<string | null>(spec.length).fill(null);
      const claim = (from: number, size: number, name: string): void => {
        for (let i = from; i < from + size; i++) {
          expect(i < spec.length, `${name} inside the record`).toBe(true);
          expect(used[i], `byte ${i} of ${name}`).toBe(null);
          used[i] = name;
        }
      };
      for (const f of spec.fields) {
        if (f.kind === 'bytes') {
          claim(f.lengthAt, 1, `${f.name}Length`);
          claim(f.at, CL_ORD_ID_CAPACITY, f.name);
        } else {
          claim(f.at, SIZE[f.kind], f.name);
        }
      }
    });

    it('setters at a non-zero offset read back equal, at the documented offsets, canaries intact', () => {
      const offset = 13;
      const { view, bytes } = makeBuffer(spec, offset);
      const fw = spec.make().wrap(view, bytes, offset);
      spec.fields.forEach((f, i) => {
        if (f.kind === 'bytes') {
          const id = Buffer.from(`${f.name}-${i}-`.padEnd(CL_ORD_ID_CAPACITY, 'x'), 'latin1');
          expect(bytesAccess(fw, f).set(id, 0, id.length)).toBe(true);
        } else {
          fieldAccess(fw, f).set(sampleValue(f, i));
        }
      });
      spec.fields.forEach((f, i) => {
        if (f.kind === 'bytes') {
          const id = Buffer.from(`${f.name}-${i}-`.padEnd(CL_ORD_ID_CAPACITY, 'x'), 'latin1');
          const acc = bytesAccess(fw, f);
          expect(acc.length()).toBe(CL_ORD_ID_CAPACITY);
          expect(acc.offset()).toBe(offset + f.at);
          const out = new Uint8Array(CL_ORD_ID_CAPACITY + 4);
          expect(acc.copy(out, 2)).toBe(CL_ORD_ID_CAPACITY);
          expect(Buffer.from(out.subarray(2, 2 + CL_ORD_ID_CAPACITY)).equals(id)).toBe(true);
          expect(bytes[offset + f.lengthAt]).toBe(CL_ORD_ID_CAPACITY);
          expect(Buffer.from(bytes.subarray(offset + f.at, offset + f.at + CL_ORD_ID_CAPACITY)).equals(id)).toBe(true);
        } else {
          expect(fieldAccess(fw, f).get(), f.name).toBe(sampleValue(f, i));
          expect(readRaw(view, offset + f.at, f), `${f.name} at byte ${f.at}`).toBe(sampleValue(f, i));
        }
      });
      expectCanaries(bytes, offset, spec.length);
    });

    it('re-wrapping at another offset reads the other record', () => {
      const buf = new ArrayBuffer(spec.length * 3);
      const view = new DataView(buf);
      const bytes = new Uint8Array(buf);
      const fw = spec.make();
      const first = spec.fields.find((f) => f.kind !== 'bytes') as FieldSpec;
      fw.wrap(view, bytes, 0);
      fieldAccess(fw, first).set(sampleValue(first, 1));
      fw.wrap(view, bytes, spec.length * 2);
      fieldAccess(fw, first).set(sampleValue(first, 2));
      expect(fw.offset).toBe(spec.length * 2);
      expect(fieldAccess(fw, first).get()).toBe(sampleValue(first, 2));
      fw.wrap(view, bytes, 0);
      expect(fieldAccess(fw, first).get()).toBe(sampleValue(first, 1));
    });

    const byteFields = spec.fields.filter((f) => f.kind === 'bytes');
    for (const f of byteFields) {
      it(`${f.name}: 40 bytes fit, 41 are refused and leave the field as it was`, () => {
        const offset = 9;
        const { view, bytes } = makeBuffer(spec, offset);
        const fw = spec.make().wrap(view, bytes, offset);
        const acc = bytesAccess(fw, f);
        const src = Buffer.from('Z'.repeat(3) + 'A'.repeat(41) + 'Z', 'latin1');
        expect(acc.set(src, 3, 3 + 40)).toBe(true);
        expect(acc.length()).toBe(40);
        expect(acc.set(Buffer.from('B'.repeat(41), 'latin1'), 0, 41)).toBe(false);
        expect(acc.length()).toBe(40);
        const out = new Uint8Array(40);
        expect(acc.copy(out, 0)).toBe(40);
        expect(Buffer.from(out).toString('latin1')).toBe('A'.repeat(40));
        expect(acc.set(src, 5, 4)).toBe(false); // end before start
        expect(acc.length()).toBe(40);
        expectCanaries(bytes, offset, spec.length);
      });

      it(`${f.name}: empty and short ids`, () => {
        const offset = 3;
        const { view, bytes } = makeBuffer(spec, offset);
        const fw = spec.make().wrap(view, bytes, offset);
        const acc = bytesAccess(fw, f);
        const src = Buffer.from('ORD-1', 'latin1');
        expect(acc.set(src, 0, 5)).toBe(true);
        expect(acc.length()).toBe(5);
        const out = new Uint8Array(8).fill(0xee);
        expect(acc.copy(out, 1)).toBe(5);
        expect(Array.from(out)).toEqual([0xee, ...src, 0xee, 0xee]);
        expect(acc.set(src, 2, 2)).toBe(true);
        expect(acc.length()).toBe(0);
        expect(acc.copy(out, 0)).toBe(0);
        expectCanaries(bytes, offset, spec.length);
      });
    }
  });
}

const SIZE = { f64: 8, u32: 4, u16: 2, u8: 1, bool: 1 } as const;
