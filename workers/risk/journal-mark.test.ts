// Goal: risk stamps every client-facing record with the journal mark the edge must wait for
// (codecs/records.ts journalMark): an EXEC_REPORT's mark is the position of its own journal copy
// in the journal feed (1-based count of feed records), a POSITION's mark covers the report of the
// fill it follows, and marks never go back on a client ring. Whatever the path: accepted and
// rejected orders from WebSocket and FIX clients, fills, cancel rejects.
// Method: the risk harness (real rings, stage stepped by hand); the client rings and the journal
// feed are read here with our own handlers, keeping every record's bytes and mark.
import { describe, expect, it } from 'vitest';
import { EXEC_REPORT_LENGTH, ExecReportFlyweight, PositionFlyweight, RecordType } from '../../codecs/records.ts';
import { Source } from '../../engine/domain.ts';
import { PRICE_SCALE } from '../../engine/fixed-point.ts';
import { ExecType } from '../../engine/order-state.ts';
import type { RecordHandler, RingConsumer } from '../../engine/ring.ts';
import { BASE_CHILD, Harness } from './risk-harness.fixture.ts';

interface Out { typeId: number; mark: number; execType: number; raw: Buffer }

class Marks implements RecordHandler {
  readonly items: Out[] = [];
  private readonly ring: RingConsumer;
  private readonly report = new ExecReportFlyweight();
  private readonly position = new PositionFlyweight();
  constructor(ring: RingConsumer) { this.ring = ring; }
  onRecord(typeId: number, offset: number, length: number): void {
    const { view, bytes } = this.ring;
    const raw = Buffer.from(bytes.slice(offset, offset + length));
    if (typeId === RecordType.EXEC_REPORT) {
      const r = this.report.wrap(view, bytes, offset);
      this.items.push({ typeId, mark: r.journalMark(), execType: r.execType(), raw });
    } else if (typeId === RecordType.POSITION) {
      this.items.push({ typeId, mark: this.position.wrap(view, bytes, offset).journalMark(), execType: -1, raw });
    } else {
      this.items.push({ typeId, mark: -1, execType: -1, raw });
    }
  }
}

function drain(h: Harness, ingest: Marks, fix: Marks, journal: Marks): void {
  h.run();
  h.outIngest.poll(ingest, 1 << 20);
  h.outFixClients.poll(fix, 1 << 20);
  h.outPersist.poll(journal, 1 << 20);
  h.outSor.poll({ onRecord() {} }, 1 << 20);
}

describe('risk: journal marks on client-facing records', () => {
  it('a report waits for its own journal copy; a position for its fill; marks only grow', () => {
    const h = new Harness();
    const ingest = new Marks(h.outIngest);
    const fix = new Marks(h.outFixClients);
    const journal = new Marks(h.outPersist);

    h.newOrder({ clOrdId: 'A1', qty: 100, price: 10 * PRICE_SCALE });
    h.newOrder({ clOrdId: 'F1', source: Source.FIX, conn: 0, qty: 10, price: 10 * PRICE_SCALE });
    h.newOrder({ clOrdId: 'BAD', qty: 0 });
    drain(h, ingest, fix, journal);
    const id = ingest.items.find((o) => o.execType === ExecType.NEW)!.raw.readDoubleLE(8);
    h.sent(BASE_CHILD + 1, id, 100, 10 * PRICE_SCALE, 2);
    h.routeDone(id, 1, 0, 100);
    drain(h, ingest, fix, journal);
    h.fill(BASE_CHILD + 1, id, 40, 10 * PRICE_SCALE, 2);
    drain(h, ingest, fix, journal);
    h.cancel({ orderId: 999, clOrdId: 'X1', origClOrdId: 'NOPE' });
    drain(h, ingest, fix, journal);
    h.fill(BASE_CHILD + 1, id, 60, 10 * PRICE_SCALE, 2);
    drain(h, ingest, fix, journal);

    const reports = [...ingest.items, ...fix.items].filter((o) => o.typeId === RecordType.EXEC_REPORT);
    expect(reports.map((r) => r.execType).sort()).toEqual(
      [ExecType.NEW, ExecType.NEW, ExecType.REJECTED, ExecType.PARTIAL_FILL, ExecType.CANCEL_REJECT, ExecType.FILL].sort(),
    );
    for (const r of reports) {
      // Its own copy is the mark-th record of the feed, byte for byte.
      expect(r.mark).toBeGreaterThanOrEqual(1);
      const copy = journal.items[r.mark - 1];
      expect(copy.typeId).toBe(RecordType.EXEC_REPORT);
      expect(copy.raw.equals(r.raw)).toBe(true);
      expect(copy.raw.length).toBe(EXEC_REPORT_LENGTH);
    }
    const positions = ingest.items.filter((o) => o.typeId === RecordType.POSITION);
    expect(positions.length).toBe(2);
    for (const p of positions) {
      const i = ingest.items.indexOf(p);
      const fill = ingest.items[i - 1];
      expect([ExecType.PARTIAL_FILL, ExecType.FILL]).toContain(fill.execType);
      expect(p.mark).toBeGreaterThanOrEqual(fill.mark);
      expect(p.mark).toBeLessThanOrEqual(journal.items.length);
    }
    for (const ring of [ingest, fix]) {
      const marks = ring.items.map((o) => o.mark);
      expect(marks).toEqual([...marks].sort((a, b) => a - b));
    }
    // The producer's count is the feed's length: the persistence stage counts the same records.
    expect(h.outPersist.recordsConsumed).toBe(journal.items.length);
  });

  it('marks keep growing across many batches (the count is per process, never reset)', () => {
    const h = new Harness();
    const ingest = new Marks(h.outIngest);
    const fix = new Marks(h.outFixClients);
    const journal = new Marks(h.outPersist);
    for (let i = 0; i < 30; i++) {
      h.newOrder({ clOrdId: `N${i}`, qty: 1 + i, price: 10 * PRICE_SCALE });
      drain(h, ingest, fix, journal);
    }
    const marks = ingest.items.map((o) => o.mark);
    expect(marks.length).toBe(30);
    // Each NEW_ORDER is journaled, then its report: marks 2, 4, 6, ...
    expect(marks).toEqual(Array.from({ length: 30 }, (_, i) => 2 * (i + 1)));
  });
});
