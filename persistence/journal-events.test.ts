// Goal: journal readers (the Postgres and Kafka sinks) decode EXEC_REPORT and POSITION records
// written before the journal mark was appended to them (200 and 64 bytes), and CHILD_EVENT records
// written before execIdHash was (64 bytes), exactly as the current ones, and refuse a body
// shorter than that; CHILD_EVENT's venue identifiers are read only when the record holds them. Method: real flyweights, decoded at full and at the old length.
import { describe, expect, it } from 'vitest';
import {
  CHILD_EVENT_JOURNALED_MIN_LENGTH, CHILD_EVENT_LENGTH, CHILD_EVENT_MAX_LENGTH, ChildEventFlyweight, ChildEventKind, childEventLength,
  EXEC_REPORT_JOURNALED_MIN_LENGTH, EXEC_REPORT_LENGTH, ExecReportFlyweight, POSITION_JOURNALED_MIN_LENGTH, POSITION_LENGTH,
  PositionFlyweight, RecordType,
} from '../codecs/records.ts';
import { EventDecoder, childKindName } from './journal-events.ts';

const names = { symbols: ['AAPL', 'MSFT'], venues: new Map([[1, 'V1']]) };

describe('EventDecoder and records journaled before the journal mark', () => {
  it('decodes a 200-byte EXEC_REPORT as the 208-byte one, and refuses 199 bytes', () => {
    expect(EXEC_REPORT_JOURNALED_MIN_LENGTH).toBe(200);
    const bytes = new Uint8Array(EXEC_REPORT_LENGTH);
    const view = new DataView(bytes.buffer);
    new ExecReportFlyweight().wrap(view, bytes, 0).setEventSeq(7).setOrderId(42).setAccountId(1).setSymbolId(1).setQty(100).setCumQty(40).setJournalMark(99);
    const d = new EventDecoder(names);
    const full = d.decode(RecordType.EXEC_REPORT, 1, 0, view, bytes, 0, EXEC_REPORT_LENGTH);
    const old = d.decode(RecordType.EXEC_REPORT, 1, 0, view, bytes, 0, EXEC_REPORT_JOURNALED_MIN_LENGTH);
    expect(full).not.toBeNull();
    expect(old).toEqual(full);
    expect(d.decode(RecordType.EXEC_REPORT, 1, 0, view, bytes, 0, EXEC_REPORT_JOURNALED_MIN_LENGTH - 1)).toBeNull();
  });

  it('decodes a 64-byte POSITION as the 72-byte one', () => {
    expect(POSITION_JOURNALED_MIN_LENGTH).toBe(64);
    const bytes = new Uint8Array(POSITION_LENGTH);
    const view = new DataView(bytes.buffer);
    new PositionFlyweight().wrap(view, bytes, 0).setAccountId(2).setSymbolId(0).setQty(-5).setJournalMark(3);
    const d = new EventDecoder(names);
    const full = d.decode(RecordType.POSITION, 1, 0, view, bytes, 0, POSITION_LENGTH);
    expect(full).not.toBeNull();
    expect(d.decode(RecordType.POSITION, 1, 0, view, bytes, 0, POSITION_JOURNALED_MIN_LENGTH)).toEqual(full);
    expect(d.decode(RecordType.POSITION, 1, 0, view, bytes, 0, POSITION_JOURNALED_MIN_LENGTH - 1)).toBeNull();
  });

  it('decodes a 64-byte CHILD_EVENT (before execIdHash) as the 72-byte one, and refuses 63 bytes', () => {
    expect(CHILD_EVENT_JOURNALED_MIN_LENGTH).toBe(64);
    const bytes = new Uint8Array(CHILD_EVENT_LENGTH);
    const view = new DataView(bytes.buffer);
    new ChildEventFlyweight().wrap(view, bytes, 0).setKind(ChildEventKind.FILL).setChildId(1001).setOrderId(1).setVenueId(1)
      .setQty(10).setLastQty(4).setLastPxTicks(99_000_000).setExecIdHash(2 ** 51 + 5);
    const d = new EventDecoder(names);
    const full = d.decode(RecordType.CHILD_EVENT, 1, 0, view, bytes, 0, CHILD_EVENT_LENGTH);
    expect(full).toMatchObject({ type: 'CHILD_EVENT', childId: 1001, kind: 'FILL', lastQty: 4, venue: 'V1' });
    expect(d.decode(RecordType.CHILD_EVENT, 1, 0, view, bytes, 0, CHILD_EVENT_JOURNALED_MIN_LENGTH)).toEqual(full);
    expect(d.decode(RecordType.CHILD_EVENT, 1, 0, view, bytes, 0, CHILD_EVENT_JOURNALED_MIN_LENGTH - 1)).toBeNull();
    expect(full).toMatchObject({ execId: null, execRefId: null });
  });

  it('decodes a CHILD_EVENT\'s venue identifiers (ExecID, ExecRefID) past the fixed part; a record too short for what its lengths claim gets neither', () => {
    const bytes = new Uint8Array(CHILD_EVENT_MAX_LENGTH + 8);
    const view = new DataView(bytes.buffer);
    const src = Buffer.from('BUST-9E-1', 'latin1');
    const length = childEventLength(6, 3);
    new ChildEventFlyweight().wrap(view, bytes, 0).setKind(ChildEventKind.TRADE_CANCEL).setChildId(1001).setOrderId(1).setVenueId(1).setIds(src, 0, 6, 6, 9);
    const d = new EventDecoder(names);
    expect(d.decode(RecordType.CHILD_EVENT, 1, 0, view, bytes, 0, length)).toMatchObject({ kind: 'TRADE_CANCEL', execId: 'BUST-9', execRefId: 'E-1' });
    // Ring lengths are rounded up to 8: the padding is not read.
    expect(d.decode(RecordType.CHILD_EVENT, 1, 0, view, bytes, 0, 88)).toMatchObject({ execId: 'BUST-9', execRefId: 'E-1' });
    expect(d.decode(RecordType.CHILD_EVENT, 1, 0, view, bytes, 0, length - 1)).toMatchObject({ kind: 'TRADE_CANCEL', execId: null, execRefId: null });
    expect(d.decode(RecordType.CHILD_EVENT, 1, 0, view, bytes, 0, CHILD_EVENT_LENGTH)).toMatchObject({ execId: null, execRefId: null });
 
    // Both at their 64 bytes.
    const id = 'I'.repeat(63) + '1';
    const ref = 'R'.repeat(63) + '2';
    const both = Buffer.from(id + ref, 'latin1');
    new ChildEventFlyweight().wrap(view, bytes, 0).setKind(ChildEventKind.TRADE_CORRECT).setIds(both, 0, 64, 64, 128);
    expect(d.decode(RecordType.CHILD_EVENT, 1, 0, view, bytes, 0, childEventLength(64, 64))).toMatchObject({ kind: 'TRADE_CORRECT', execId: id, execRefId: ref });
  });
});

describe('child event kinds in the sinks', () => {
  it('every ChildEventKind has its name, and it fits child_events.kind (VARCHAR(16))', () => {
    for (const [name, value] of Object.entries(ChildEventKind)) {
      expect(childKindName(value)).toBe(name);
      expect(name.length).toBeLessThanOrEqual(16);
    }
    expect(childKindName(99)).toBe('KIND_99');
  });
});
