// Goal: no report reaches the edge before its event is in the journal. The risk stage stamps its
// client-facing records; the persistence stage publishes, after each flush, how many feed
// records are durable into the gates of the client rings; a gated edge (ingest, the FIX client
// gateway: accept = journalGatePasses(...)) delivers a record only once that count passes
// its mark. Child orders wait the same way for the SOR's ROUTE_AUDIT naming them (last describe).
// Checked for each fsync policy: nothing is delivered before the persistence stage ran;
// when a report is delivered, the journal files on disk already hold it (and under 'batch' an
// fdatasync followed the write); nothing waits when no persistence stage armed the gate; the edge's
// doorbell is rung only when the edge waits.
// Method: the risk harness (real rings, risk stepped by hand), a real JournalStage over a real
// JournalWriter in a temp directory, RingGates on the harness's client rings, an edge handler
// written like ingest's; the journal read back with replayJournal at each delivery.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ChildOrderFlyweight, ExecReportFlyweight, RecordType, journalGatePasses } from '../codecs/records.ts';
import { StageCounters } from '../engine/counters.ts';
import { Doorbell } from '../engine/doorbell.ts';
import { Side, Source } from '../engine/domain.ts';
import { PRICE_SCALE } from '../engine/fixed-point.ts';
import { RingConsumer, RingGate, createRingMemory, type GatedRecordHandler } from '../engine/ring.ts';
import { BASE_CHILD, Harness } from '../workers/risk/risk-harness.fixture.ts';
import { BASE, SorHarness, venue } from '../workers/sor/sor-harness.fixture.ts';
import { JOURNAL_FEEDS } from '../workers/topology.ts';
import { JournalWriter, type FsyncPolicy } from './journal.ts';
import { JournalStage } from './journal-stage.ts';
import { replayJournal } from './journal-reader.ts';
import { auditedChildren } from './journal-probe.fixture.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Event sequence numbers of the EXEC_REPORTs in the journal files now. */
function journaledEventSeqs(dir: string): Set<number> {
  const fw = new ExecReportFlyweight();
  const out = new Set<number>();
  replayJournal(dir, {
    onFrame(typeId, _seq, _epoch, view, bytes, offset) {
      if (typeId === RecordType.EXEC_REPORT) out.add(fw.wrap(view, bytes, offset).eventSeq());
    },
  });
  return out;
}

/** An edge like ingest's: gated accept, and at each delivery a look at the journal on disk. */
class Edge implements GatedRecordHandler {
  readonly ring: RingConsumer;
  readonly dir: string;
  readonly journal: JournalWriter | null;
  readonly delivered: { typeId: number; orderId: number; eventSeq: number; inJournal: boolean; fsyncsBefore: number }[] = [];
  private readonly fw = new ExecReportFlyweight();
  constructor(ring: RingConsumer, dir: string, journal: JournalWriter | null) {
    this.ring = ring;
    this.dir = dir;
    this.journal = journal;
  }
  accept(typeId: number, offset: number): boolean {
    return journalGatePasses(this.ring, typeId, offset);
  }
  onRecord(typeId: number, offset: number): void {
    if (typeId !== RecordType.EXEC_REPORT) {
      this.delivered.push({ typeId, orderId: 0, eventSeq: -1, inJournal: true, fsyncsBefore: this.journal?.fsyncCount ?? 0 });
      return;
    }
    const r = this.fw.wrap(this.ring.view, this.ring.bytes, offset);
    const eventSeq = r.eventSeq();
    this.delivered.push({ typeId, orderId: r.orderId(), eventSeq, inJournal: journaledEventSeqs(this.dir).has(eventSeq), fsyncsBefore: this.journal?.fsyncCount ?? 0 });
  }
}

/** The harness's rings wired to a real persistence stage and gated edges. */
function rig(fsync: FsyncPolicy) {
  const h = new Harness();
  const dir = mkdtempSync(join(tmpdir(), 'journal-gate-'));
  dirs.push(dir);
  const journal = new JournalWriter(dir, fsync, 1_000_000, 1 << 20, { engineEpochMs: 1000 });
  const ingestBell = Doorbell.create();
  const fixBell = Doorbell.create();
  // The harness built its rings privately: reach their memory through the consumers' views.
  const gateIngest = new RingGate(memoryOf(h.outIngest), ingestBell);
  const gateFix = new RingGate(memoryOf(h.outFixClients), fixBell);
  const stage = new JournalStage([h.outPersist], journal, StageCounters.create(), [[gateIngest, gateFix]]);
  return {
    h, dir, journal, stage, gateIngest, gateFix, ingestBell, fixBell,
    ingest: new Edge(h.outIngest, dir, journal),
    fix: new Edge(h.outFixClients, dir, journal),
  };
}

function memoryOf(c: RingConsumer) {
  return { sab: c.bytes.buffer as SharedArrayBuffer, capacity: c.capacity };
}

describe('journal gate: reports leave only once journaled', () => {
  for (const fsync of ['batch', 'interval', 'none'] as const) {
    it(`fsync ${fsync}: held until the persistence stage flushed, then delivered, already on disk`, () => {
      const r = rig(fsync);
      r.h.newOrder({ clOrdId: 'A1', qty: 100, price: 10 * PRICE_SCALE });
      r.h.newOrder({ clOrdId: 'F1', source: Source.FIX, conn: 0, qty: 5, price: 10 * PRICE_SCALE });
      r.h.run();
      expect(r.h.outIngest.pollWhile(r.ingest, 100)).toBe(0);
      expect(r.h.outFixClients.pollWhile(r.fix, 100)).toBe(0);
      expect(r.h.outIngest.hasRecords()).toBe(true);
      expect(journaledEventSeqs(r.dir).size).toBe(0);

      expect(r.stage.doWork()).toBe(4);
      expect(r.h.outIngest.pollWhile(r.ingest, 100)).toBe(1);
      expect(r.h.outFixClients.pollWhile(r.fix, 100)).toBe(1);
      for (const d of [...r.ingest.delivered, ...r.fix.delivered]) {
        expect(d.inJournal).toBe(true);
        if (fsync === 'batch') expect(d.fsyncsBefore).toBeGreaterThan(0);
      }

      // A fill: its report and the position after it wait for the fill's journal records too.
      const id = r.ingest.delivered[0].orderId; // A1's (risk takes the FIX ring first: F1 is order 1)
      r.h.sent(BASE_CHILD + 1, id, 100, 10 * PRICE_SCALE, 2);
      r.h.routeDone(id, 1, 0, 100);
      r.h.run();
      r.h.fill(BASE_CHILD + 1, id, 100, 10 * PRICE_SCALE, 2);
      r.h.run();
      r.h.outSor.poll({ onRecord() {} }, 100);
      expect(r.h.outIngest.pollWhile(r.ingest, 100)).toBe(0);
      r.stage.doWork();
      expect(r.h.outIngest.pollWhile(r.ingest, 100)).toBe(2);
      expect(r.ingest.delivered.map((d) => d.typeId)).toEqual([RecordType.EXEC_REPORT, RecordType.EXEC_REPORT, RecordType.POSITION]);
      expect(r.ingest.delivered[1].orderId).toBe(id);
      expect(r.ingest.delivered.every((d) => d.inJournal)).toBe(true);
      r.journal.close();
    });
  }

  it('holds only what is not yet journaled: records journaled in an earlier cycle flow past a later hold', () => {
    const r = rig('batch');
    r.h.newOrder({ clOrdId: 'A1' });
    r.h.run();
    r.stage.doWork();
    r.h.newOrder({ clOrdId: 'A2' });
    r.h.run();
    // A1's ack is journaled; A2's is not: one delivered, one held.
    expect(r.h.outIngest.pollWhile(r.ingest, 100)).toBe(1);
    expect(r.h.outIngest.pollWhile(r.ingest, 100)).toBe(0);
    r.stage.doWork();
    expect(r.h.outIngest.pollWhile(r.ingest, 100)).toBe(1);
    expect(r.ingest.delivered.map((d) => d.inJournal)).toEqual([true, true]);
  });

  it('rings the edge doorbell only when the edge waits and is parked', () => {
    const r = rig('none');
    r.h.newOrder({ clOrdId: 'A1' });
    r.h.run();
    // The edge is not waiting: a flush wakes nobody.
    r.stage.doWork();
    expect(r.gateIngest.wakeCount).toBe(0);
    expect(r.h.outIngest.pollWhile(r.ingest, 100)).toBe(1);
    r.h.newOrder({ clOrdId: 'A2' });
    r.h.run();
    expect(r.h.outIngest.pollWhile(r.ingest, 100)).toBe(0);
    const seq0 = r.ingestBell.sequence();
    r.ingestBell.announcePark();
    r.stage.doWork();
    expect(r.gateIngest.wakeCount).toBe(1);
    expect(r.gateFix.wakeCount).toBe(0);
    expect(r.ingestBell.sequence()).toBe(seq0 + 1);
    expect(r.fixBell.notifyCount).toBe(0);
    expect(r.h.outIngest.pollWhile(r.ingest, 100)).toBe(1);
  });

  it('with no persistence stage (gate never armed) nothing waits', () => {
    const h = new Harness();
    const edge = new Edge(h.outIngest, mkdtempSync(join(tmpdir(), 'journal-gate-')), null);
    dirs.push(edge.dir);
    h.newOrder({ clOrdId: 'A1' });
    h.run();
    expect(h.outIngest.pollWhile(edge, 100)).toBe(1);
    expect(h.outIngest.gateWaits).toBe(0);
  });

  it('a gate on a ring of its own memory arms and publishes like the engine wiring', () => {
    const memory = createRingMemory(1024);
    const gate = new RingGate(memory, null);
    const c = new RingConsumer(memory);
    expect(c.gatePasses(1)).toBe(true);
    gate.arm();
    expect(c.gatePasses(1)).toBe(false);
    gate.publish(1);
    expect(c.gatePasses(1)).toBe(true);
  });
});

describe('journal gate: a child order reaches its venue only once its audit is journaled', () => {
  it('fix takes a CHILD_NEW only after the flush that made the ROUTE_AUDIT naming it durable (the engine\'s wiring)', () => {
    const h = new SorHarness([null, venue(10, 100, 0.5), venue(10, 100, 0.5)], { price: 1, latency: 0, fillprob: 0, fee: 0 }).up(1, 2);
    const dir = mkdtempSync(join(tmpdir(), 'journal-gate-sor-'));
    dirs.push(dir);
    const journal = new JournalWriter(dir, 'batch', 1_000_000, 1 << 20, { engineEpochMs: 1000 });
    // The feeds and gates as workers/persistence-part.ts wires them; the SOR's feed is the harness's audit ring.
    const sorFeed = JOURNAL_FEEDS.findIndex((f) => f.gates.includes('sorToFix'));
    expect(JOURNAL_FEEDS[sorFeed]?.feed).toBe('sorToPersistence');
    const gate = new RingGate(h.memory.toFix, null);
    const feeds = JOURNAL_FEEDS.map((_, i) => (i === sorFeed ? h.audit : new RingConsumer(createRingMemory(1 << 12))));
    const stage = new JournalStage(feeds, journal, StageCounters.create(), JOURNAL_FEEDS.map((_, i) => (i === sorFeed ? [gate] : [])));
    // The fix stage's side (fix-stage.ts SorDispatch): gated accept; at each child, a look at the disk.
    const child = new ChildOrderFlyweight();
    const sent: { childId: number; audited: boolean; fsyncs: number }[] = [];
    const fix: GatedRecordHandler = {
      accept: (typeId, offset) => journalGatePasses(h.out, typeId, offset),
      onRecord: (typeId, offset) => {
        if (typeId !== RecordType.CHILD_NEW) return;
        const childId = child.wrap(h.out.view, h.out.bytes, offset).childId();
        sent.push({ childId, audited: auditedChildren(dir).has(childId), fsyncs: journal.fsyncCount });
      },
    };
    h.request(Side.BUY, { qty: 100, price: 9 * PRICE_SCALE }); // passive, nothing quoted: one child
    h.request(Side.SELL, { qty: 50, price: 11 * PRICE_SCALE });
    for (let i = 0; i < 10; i++) h.stage.doWork();
    expect(h.out.pollWhile(fix, 100)).toBe(0);
    expect(sent).toEqual([]);
    stage.doWork(); // one flush, one fdatasync: both audits durable
    expect(h.out.pollWhile(fix, 100)).toBeGreaterThanOrEqual(2);
    expect(sent.map((s) => s.childId)).toEqual([BASE + 1, BASE + 2]);
    for (const s of sent) expect(s).toMatchObject({ audited: true, fsyncs: 1 });
    journal.close();
  });
});
