// Goal: after a crash, the fix stage knows the children an earlier boot sent, so their late venue
// reports reach risk and reconciliation asks the venue about them. Method: boot 1 is the real
// FixStage on real rings, its venue session joined by an in-memory link to the venue simulator's
// FIX application and matching core (sim/); every CHILD_EVENT it writes to risk is appended to a
// real journal (persistence/journal.ts) as risk would journal it, beside an EXEC_REPORT per order
// (symbol, side). The link is cut (the crash), and boot 2 is a new FixStage on the same session
// store, rebuilt from the journal (recovery.ts) before it connects. The venue then fills the
// pre-crash children: once while the engine is away (the session's resend delivers it) and once
// after the logon. A control boot without recovery shows the same fill dropped as unknown.
// No fill is applied twice across the restart: a fill applied and journaled by boot 1 whose
// inbound MsgSeqNum the session store had not yet written (the store is rolled back to before it:
// the crash window) is resent by the venue (PossDupFlag=Y) after the logon; recovery put its
// ExecID hash back into the dedupe set, so it is dropped as a duplicate. The control journals
// the CHILD_EVENTs as they were before execIdHash existed (64 bytes): the same resend is applied
// a second time.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FixCounter, StageCounters } from '../../engine/counters.ts';
import { OrdType, Side, Tif } from '../../engine/domain.ts';
import { ExecType, OrderState } from '../../engine/order-state.ts';
import { Reason } from '../../engine/reasons.ts';
import { FULL, RingConsumer, RingProducer, createRingMemory, type RecordHandler } from '../../engine/ring.ts';
import {
  CHILD_EVENT_JOURNALED_MIN_LENGTH, CHILD_EVENT_LENGTH, CHILD_ORDER_LENGTH, EXEC_REPORT_LENGTH, ChildEventFlyweight, ChildEventKind, ChildOrderFlyweight, ExecReportFlyweight, RecordType,
} from '../../codecs/records.ts';
import { ascii } from '../../fix/encoder.ts';
import { MsgType } from '../../fix/msg-type.ts';
import { Tag } from '../../fix/tags.ts';
import { MemoryLink } from '../../fix/memory-transport.ts';
import { MemoryMessageStore } from '../../fix/store.ts';
import { FixSession, SessionRole } from '../../fix/session.ts';
import { JournalWriter } from '../../persistence/journal.ts';
import { Side as BookSide } from '../../sim/order-book.ts';
import { VenueApp } from '../../sim/venue-app.ts';
import { VenueCore } from '../../sim/venue-core.ts';
import { FixStage, VenueChildState } from './fix-stage.ts';
import { recoverFixStage } from './recovery.ts';
import { auditFrame } from '../sor/audit-children.fixture.ts';

const PX = 1_000_000;
const TICK = 10_000;
const CAPACITY = 64;
/** Risk's order table capacity: how far back recovery remembers an order's symbol and side. */
const ORDER_CAPACITY = 16;

class TestClock {
  ms = Date.UTC(2026, 0, 5, 9, 0, 0);
  now(): number { return this.ms; }
  epochMs(): number { return this.ms; }
  nowNs(): number { return this.ms * 1e6; }
}

interface Ev { kind: number; childId: number; orderId: number; lastQty: number; lastPx: number; reason: number; execIdHash: number }

/** The venue: its FIX acceptor session and matching core outlive the engine's boots. */
function venue(clock: TestClock) {
  const app = new VenueApp({ latencyMs: 0 }, clock);
  const core = new VenueCore({ name: 'V1', symbols: [{ symbol: 'AAPL', startPriceTicks: 100 * PX }], feeBps: 0, rejectProbability: 0, tickSizeTicks: TICK, seed: 1 }, app);
  app.attach(core);
  const acceptor = new FixSession({ role: SessionRole.ACCEPTOR, senderCompId: 'V1', targetCompId: 'OMS', clock, app });
  return { app, core, acceptor };
}

/** One boot of the fix stage; CHILD_EVENTs it sends risk are collected and journaled (the first
 * `journalLength` bytes of each: less than CHILD_EVENT_LENGTH journals the older layout). */
function boot(clock: TestClock, store: MemoryMessageStore, v: ReturnType<typeof venue>, journal: JournalWriter | null, journalLength = CHILD_EVENT_LENGTH) {
  const mem = { sorToFix: createRingMemory(1 << 16), riskToFix: createRingMemory(1 << 16), fixToRisk: createRingMemory(1 << 16), fixToSor: createRingMemory(1 << 16) };
  const counters = StageCounters.create();
  const stage = new FixStage(
    [{ venueId: 1, name: 'V1', senderCompId: 'OMS', targetCompId: 'V1', heartBtIntS: 30, store }],
    ['AAPL'], ['', 'T1'], 0, CAPACITY, // child base 0: a stage that recovers (recovery.ts)
    { fromSor: new RingConsumer(mem.sorToFix), fromRisk: new RingConsumer(mem.riskToFix), toRisk: new RingProducer(mem.fixToRisk, null), toSor: new RingProducer(mem.fixToSor, null) },
    clock, counters,
  );
  const sor = new RingProducer(mem.sorToFix, null);
  const toRisk = new RingConsumer(mem.fixToRisk);
  const toSor = new RingConsumer(mem.fixToSor);
  const events: Ev[] = [];
  const ev = new ChildEventFlyweight();
  const riskHandler: RecordHandler = {
    onRecord(type, offset) {
      if (type !== RecordType.CHILD_EVENT) return;
      ev.wrap(toRisk.view, toRisk.bytes, offset);
      events.push({ kind: ev.kind(), childId: ev.childId(), orderId: ev.orderId(), lastQty: ev.lastQty(), lastPx: ev.lastPxTicks(), reason: ev.reason(), execIdHash: ev.execIdHash() });
      // Risk journals every CHILD_EVENT it takes, verbatim (risk-stage.ts journalCommand).
      if (journal !== null) journal.append(RecordType.CHILD_EVENT, toRisk.bytes, offset, journalLength);
    },
  };
  const ignore: RecordHandler = { onRecord() {} };
  const child = new ChildOrderFlyweight();
  const session = stage.sessions[1]!;
  let link: MemoryLink | null = null;
  const t = {
    stage, counters, session, events,
    connect(): void {
      link = new MemoryLink(session, v.acceptor);
      link.connect();
      t.pump();
    },
    pump(): void {
      for (let i = 0; i < 20; i++) {
        if (link !== null) link.pump();
        const work = stage.doWork();
        toRisk.poll(riskHandler, 1000);
        toSor.poll(ignore, 1000);
        if (work === 0 && (link === null || (link.aToB.outbox.length === 0 && link.bToA.outbox.length === 0))) break;
      }
      if (journal !== null) journal.flush(clock.ms);
    },
    crash(): void {
      session.disconnect('test: the engine is gone');
      t.pump();
      link = null;
    },
    sorRecord(type: number, childId: number, orderId: number, qty: number, price: number): void {
      const at = sor.tryClaim(type, CHILD_ORDER_LENGTH);
      if (at === FULL) throw new Error('ring full');
      child.wrap(sor.view, sor.bytes, at).setChildId(childId).setOrderId(orderId).setQty(qty).setPriceTicks(price * PX)
        .setVenueId(1).setSymbolId(0).setAccountId(1).setSide(Side.BUY).setOrdType(OrdType.LIMIT).setTif(Tif.DAY);
      sor.commit();
    },
    of(kind: number, childId: number): Ev[] {
      return events.filter((e) => e.kind === kind && e.childId === childId);
    },
  };
  return t;
}

/** Risk's report of an open order, as journaled (only what recovery reads matters here). */
function journalOrder(journal: JournalWriter, orderId: number, side: number): void {
  journalReport(journal, orderId, side, ExecType.NEW, OrderState.NEW);
}

function journalReport(journal: JournalWriter, orderId: number, side: number, execType: number, state: number): void {
  const bytes = new Uint8Array(EXEC_REPORT_LENGTH);
  new ExecReportFlyweight().wrap(new DataView(bytes.buffer), bytes, 0)
    .setOrderId(orderId).setEventSeq(orderId).setSymbolId(0).setSide(side).setExecType(execType).setState(state).setQty(10).setLeavesQty(10);
  journal.append(RecordType.EXEC_REPORT, bytes, 0, EXEC_REPORT_LENGTH);
}

/** A CHILD_EVENT as risk journals it, written by hand (what the venue said in a case the
 * simulator does not produce on demand). */
function journalChildEvent(journal: JournalWriter, kind: number, childId: number, orderId: number, reason: number): void {
  const bytes = new Uint8Array(CHILD_EVENT_LENGTH);
  new ChildEventFlyweight().wrap(new DataView(bytes.buffer), bytes, 0)
    .setKind(kind).setChildId(childId).setOrderId(orderId).setVenueId(1).setQty(10).setReason(reason);
  journal.append(RecordType.CHILD_EVENT, bytes, 0, CHILD_EVENT_LENGTH);
}

let dir = '';
afterEach(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
  dir = '';
});

/**
 * A fresh journal directory, a venue (prepare: before anything connects to it), a store, and
 * boot 1 on them, connected.
 */
function connectedBoot(journalLength = CHILD_EVENT_LENGTH, prepare: (v: ReturnType<typeof venue>) => void = () => {}, journalEvents = true) {
  dir = mkdtempSync(join(tmpdir(), 'fix-recovery-'));
  const clock = new TestClock();
  const v = venue(clock);
  prepare(v);
  const store = new MemoryMessageStore();
  const journal = new JournalWriter(dir, 'none', 10, 1 << 20, { engineEpochMs: clock.ms });
  const b1 = boot(clock, store, v, journalEvents ? journal : null, journalLength);
  b1.connect();
  return { clock, v, store, journal, b1 };
}

/**
 * Boot 1: two resting buys (children 1001, 1002 of orders 1, 2), 4 of 1001 filled; then the crash.
 * inBeforeFill: the session's next inbound MsgSeqNum as stored just before the venue's fill report.
 */
function firstBoot(journalLength = CHILD_EVENT_LENGTH) {
  const { clock, v, store, journal, b1 } = connectedBoot(journalLength, (venue) => venue.core.makerQuote(0, BookSide.SELL, 101 * PX, 1000));
  journalOrder(journal, 1, Side.BUY);
  journalOrder(journal, 2, Side.BUY);
  b1.sorRecord(RecordType.CHILD_NEW, 1001, 1, 10, 99);
  b1.sorRecord(RecordType.CHILD_NEW, 1002, 2, 10, 98);
  b1.pump();
  const inBeforeFill = store.nextTargetSeqNum;
  v.core.makerQuote(0, BookSide.SELL, 99 * PX, 4);
  b1.pump();
  expect(b1.of(ChildEventKind.FILL, 1001).map((e) => e.lastQty)).toEqual([4]);
  expect(store.nextTargetSeqNum).toBeGreaterThan(inBeforeFill);
  b1.crash();
  journal.close();
  return { clock, v, store, b1, inBeforeFill };
}

describe('fix stage recovery from the journal', () => {
  it('rebuilds pre-crash children: a fill missed while away and a late fill after logon reach risk', () => {
    const { clock, v, store } = firstBoot();
    v.core.makerQuote(0, BookSide.SELL, 99 * PX, 6); // fills the rest of 1001 while the engine is down

    const b2 = boot(clock, store, v, null);
    const r = recoverFixStage(b2.stage, dir, ORDER_CAPACITY);
    expect(r).toMatchObject({ children: 2, liveChildren: 2, unnamed: 0, conflicts: 0, problem: null });
    expect(b2.stage.childState[1001 % CAPACITY]).toBe(VenueChildState.OPEN);
    expect(b2.stage.childState[1002 % CAPACITY]).toBe(VenueChildState.OPEN);

    b2.connect(); // Logon, the venue's resend of the fill it made meanwhile, then 35=H for 1002
    expect(b2.of(ChildEventKind.FILL, 1001).map((e) => [e.orderId, e.lastQty, e.lastPx])).toEqual([[1, 6, 99 * PX]]);
    expect(b2.stage.childState[1001 % CAPACITY]).toBe(VenueChildState.DONE);
    expect(b2.counters.get(FixCounter.STATUS_REQUESTS_SENT)).toBe(1); // 1002 only: 1001 is done
    expect(v.app.statusAnswers).toBe(1);
    expect(b2.counters.get(FixCounter.RECON_FILLS)).toBe(0); // the journal's 4 match the venue's CumQty

    v.core.makerQuote(0, BookSide.SELL, 98 * PX, 10); // a late fill of the other pre-crash child
    b2.pump();
    expect(b2.of(ChildEventKind.FILL, 1002).map((e) => [e.orderId, e.lastQty, e.lastPx])).toEqual([[2, 10, 98 * PX]]);
    expect(b2.counters.get(FixCounter.UNKNOWN_EXEC_REPORTS)).toBe(0);
    expect(b2.stage.liveChildCount()).toBe(0);
  });

  it('without recovery the same late fill is unknown and dropped (the gap this closes)', () => {
    const { clock, v, store } = firstBoot();
    const b2 = boot(clock, store, v, null);
    b2.connect();
    v.core.makerQuote(0, BookSide.SELL, 98 * PX, 16);
    b2.pump();
    expect(b2.events.filter((e) => e.kind === ChildEventKind.FILL)).toEqual([]);
    expect(b2.counters.get(FixCounter.UNKNOWN_EXEC_REPORTS)).toBe(2);
  });

  it('restores the children only their audit names (the crash came before their SENT was journaled): a fill reaches risk, a child the venue never got ends REJECTED', () => {
    // Boot 1's own child events are not journaled (they would have been, through risk, after the crash).
    const { clock, v, store, journal, b1 } = connectedBoot(CHILD_EVENT_LENGTH, (venue) => venue.core.makerQuote(0, BookSide.SELL, 101 * PX, 1000), false);
    journalOrder(journal, 1, Side.BUY);
    journalOrder(journal, 2, Side.BUY);
    // The SOR's audits of both children are durable (fix sends a child only then); boot 1 sends
    // 1001 but not yet 1002, and neither SENT event reaches the journal.
    for (const [childId, orderId, price] of [[1001, 1, 99], [1002, 2, 98]]) {
      const raw = auditFrame({ orderId, venues: 1, side: Side.BUY, childPxTicks: price * PX, children: [{ venueId: 1, childId, qty: 10 }] });
      journal.append(RecordType.ROUTE_AUDIT, raw, 0, raw.length);
    }
    // An audit cut short of the venue it declares: unreadable, counted, no child restored from it.
    const cut = auditFrame({ orderId: 2, venues: 1, side: Side.BUY, childPxTicks: 97 * PX, children: [{ venueId: 1, childId: 1009, qty: 10 }] });
    journal.append(RecordType.ROUTE_AUDIT, cut, 0, cut.length - 8);
    journal.close();
    b1.sorRecord(RecordType.CHILD_NEW, 1001, 1, 10, 99);
    b1.pump();
    expect(b1.of(ChildEventKind.SENT, 1001)).toHaveLength(1);
    b1.crash();
    v.core.makerQuote(0, BookSide.SELL, 99 * PX, 4); // 4 of 1001 fill while the engine is down

    const b2 = boot(clock, store, v, null);
    const r = recoverFixStage(b2.stage, dir, ORDER_CAPACITY);
    expect(r).toMatchObject({ children: 2, auditOnlyChildren: 2, liveChildren: 2, unnamed: 0, conflicts: 0, malformedAudits: 1, problem: null });
    expect([b2.stage.childState[1001 % CAPACITY], b2.stage.childState[1002 % CAPACITY]]).toEqual([VenueChildState.SENT, VenueChildState.SENT]);
    b2.connect(); // Logon, the venue's resend of the fill, then 35=H for both
    expect(b2.of(ChildEventKind.FILL, 1001).map((e) => [e.orderId, e.lastQty, e.lastPx])).toEqual([[1, 4, 99 * PX]]);
    expect(b2.of(ChildEventKind.REJECTED, 1002).map((e) => [e.orderId, e.reason])).toEqual([[2, Reason.VENUE_ORDER_UNKNOWN]]);
    expect(b2.stage.childState[1001 % CAPACITY]).toBe(VenueChildState.OPEN);
    expect(b2.counters.get(FixCounter.STATUS_REQUESTS_SENT)).toBe(2);
    expect(b2.counters.get(FixCounter.UNKNOWN_EXEC_REPORTS)).toBe(0);
  });

  it('holds a cancel of a pre-crash child until the venue is back, then sends it', () => {
    const { clock, v, store } = firstBoot();
    const b2 = boot(clock, store, v, null);
    recoverFixStage(b2.stage, dir, ORDER_CAPACITY);
    b2.sorRecord(RecordType.CHILD_CANCEL, 1002, 2, 10, 98); // risk's resume pass cancels before the logon
    b2.pump();
    expect(b2.of(ChildEventKind.CANCEL_REJECTED, 1002).map((e) => e.reason)).toEqual([Reason.VENUE_DOWN]);
    expect(b2.counters.get(FixCounter.CANCELS_DEFERRED)).toBe(1);
    b2.connect();
    expect(b2.counters.get(FixCounter.CANCELS_SENT)).toBe(1);
    expect(b2.of(ChildEventKind.CANCELED, 1002)).toHaveLength(1);
    expect(b2.stage.childState[1002 % CAPACITY]).toBe(VenueChildState.DONE);
  });

  it('a child whose cancel was held at the crash is wanted again; a closed child is not asked about', () => {
    const { clock, v, store, journal, b1 } = connectedBoot();
    for (const id of [1, 2, 3]) journalOrder(journal, id, Side.BUY);
    b1.sorRecord(RecordType.CHILD_NEW, 1001, 1, 10, 97);
    b1.sorRecord(RecordType.CHILD_NEW, 1002, 2, 10, 97);
    b1.pump();
    b1.sorRecord(RecordType.CHILD_CANCEL, 1002, 2, 10, 97); // canceled at the venue
    b1.pump();
    expect(b1.of(ChildEventKind.CANCELED, 1002)).toHaveLength(1);
    b1.crash();
    b1.sorRecord(RecordType.CHILD_CANCEL, 1001, 1, 10, 97); // held: the venue is down
    b1.pump();
    journal.close();

    const b2 = boot(clock, store, v, null);
    expect(recoverFixStage(b2.stage, dir, ORDER_CAPACITY)).toMatchObject({ children: 2, liveChildren: 1 });
    b2.connect();
    expect(b2.counters.get(FixCounter.STATUS_REQUESTS_SENT)).toBe(1); // 1001 only
    expect(b2.counters.get(FixCounter.CANCELS_SENT)).toBe(1);
    expect(b2.of(ChildEventKind.CANCELED, 1001)).toHaveLength(1);
  });
  it('restores a child SENT after its order\'s terminal report: the venue\'s Canceled after the restart reaches risk', () => {
    const { clock, v, store, journal, b1 } = connectedBoot();
    journalOrder(journal, 1, Side.BUY);
    // A late fill completed order 1 while its next child was being decided (risk-stage.ts
    // onChildSent): that child is SENT after the order's terminal report...
    journalReport(journal, 1, Side.BUY, ExecType.FILL, OrderState.FILLED);
    b1.sorRecord(RecordType.CHILD_NEW, 1001, 1, 10, 97);
    b1.pump();
    expect(b1.of(ChildEventKind.SENT, 1001)).toHaveLength(1);
    b1.crash();
    b1.sorRecord(RecordType.CHILD_CANCEL, 1001, 1, 10, 97); // ...and cancelled at once: held, the venue is down
    b1.pump();
    journal.close();

    const b2 = boot(clock, store, v, null);
    expect(recoverFixStage(b2.stage, dir, ORDER_CAPACITY)).toMatchObject({ children: 1, liveChildren: 1, unnamed: 0, conflicts: 0 });
    b2.connect();
    expect(b2.counters.get(FixCounter.CANCELS_SENT)).toBe(1);
    expect(b2.of(ChildEventKind.CANCELED, 1001).map((e) => e.orderId)).toEqual([1]);
    expect(b2.counters.get(FixCounter.UNKNOWN_EXEC_REPORTS)).toBe(0);
    expect(b2.stage.liveChildCount()).toBe(0);
  });

  it('names an order exactly while risk\'s table holds it: an ended one until a newer order takes its slot, a live one however old', () => {
    const { clock, v, store, journal, b1 } = connectedBoot();
    const last = 3 * ORDER_CAPACITY;
    for (let id = 1; id <= last; id++) {
      // Order 2 stays live (a GTC resting at its venue): risk's table keeps its slot, and the
      // ids of that slot after it (18, 34) are skipped, never issued.
      if (id !== 2 && (id - 1) % ORDER_CAPACITY === 1) continue;
      journalOrder(journal, id, Side.BUY);
      if (id !== 2) journalReport(journal, id, Side.BUY, ExecType.FILL, OrderState.FILLED);
    }
    b1.sorRecord(RecordType.CHILD_NEW, 1001, 1, 10, 97); // order 1 ended: risk's slot holds a newer order
    b1.sorRecord(RecordType.CHILD_NEW, 1002, last - ORDER_CAPACITY + 1, 10, 97); // the oldest ended order still held
    b1.sorRecord(RecordType.CHILD_NEW, 1003, 2, 10, 97); // the live order, 3 table-fulls old
    b1.pump();
    // Order 2 ends last: ended, but no newer order has taken its slot, so risk still holds it.
    journalReport(journal, 2, Side.BUY, ExecType.CANCELED, OrderState.CANCELED);
    b1.crash();
    journal.close();

    const b2 = boot(clock, store, v, null);
    expect(recoverFixStage(b2.stage, dir, ORDER_CAPACITY)).toMatchObject({ children: 2, unnamed: 1, conflicts: 0 });
    expect(b2.stage.childState[1002 % CAPACITY]).toBe(VenueChildState.OPEN);
    expect(b2.stage.childState[1003 % CAPACITY]).toBe(VenueChildState.OPEN);
    expect(b2.stage.childState[1001 % CAPACITY]).toBe(VenueChildState.NONE);
  });

  it('a cancel held while the venue was down stays wanted after the venue\'s own refusal of an earlier cancel', () => {
    const { clock, v, store } = firstBoot();
    // Appended to boot 1's journal: the cancel of 1002 held while the venue was down, then the
    // venue's 35=9 (reason NONE) for an earlier cancel, delivered by its resend.
    const journal = new JournalWriter(dir, 'none', 10, 1 << 20, { engineEpochMs: clock.ms });
    journalChildEvent(journal, ChildEventKind.CANCEL_REJECTED, 1002, 2, Reason.VENUE_DOWN);
    journalChildEvent(journal, ChildEventKind.CANCEL_REJECTED, 1002, 2, Reason.NONE);
    journal.close();

    const b2 = boot(clock, store, v, null);
    expect(recoverFixStage(b2.stage, dir, ORDER_CAPACITY)).toMatchObject({ children: 2, liveChildren: 2, problem: null });
    b2.connect();
    expect(b2.counters.get(FixCounter.CANCELS_SENT)).toBe(1);
    expect(b2.of(ChildEventKind.CANCELED, 1002)).toHaveLength(1);
    expect(b2.stage.childState[1002 % CAPACITY]).toBe(VenueChildState.DONE);
  });

  it('a fill journaled before the crash and resent by the venue after the restart (PossDupFlag=Y) is not applied twice', () => {
    const { clock, v, store, b1, inBeforeFill } = firstBoot();
    const journaled = b1.of(ChildEventKind.FILL, 1001)[0]!;
    expect(journaled.execIdHash).toBeGreaterThan(0); // the venue's ExecID, hashed and stamped
    // The crash window: risk journaled the fill, the fix thread's store had not yet written its
    // inbound sequence number.
    store.setNextTargetSeqNum(inBeforeFill);
    const resentBefore = v.acceptor.resentCount;

    const b2 = boot(clock, store, v, null);
    expect(recoverFixStage(b2.stage, dir, ORDER_CAPACITY)).toMatchObject({ children: 2, liveChildren: 2, execIds: 1, fillsWithoutExecId: 0, problem: null });
    b2.connect(); // Logon, ResendRequest, the venue resends its fill report with PossDupFlag=Y
    expect(v.acceptor.resentCount).toBeGreaterThan(resentBefore);
    expect(b2.of(ChildEventKind.FILL, 1001)).toEqual([]); // not passed to risk again
    expect(b2.counters.get(FixCounter.DUPLICATE_EXEC_IDS)).toBe(1);
    expect(b2.counters.get(FixCounter.RECON_FILLS)).toBe(0); // the journal's 4 match the venue's CumQty
    expect(b2.stage.childState[1001 % CAPACITY]).toBe(VenueChildState.OPEN);

    v.core.makerQuote(0, BookSide.SELL, 99 * PX, 6); // a new fill of the same child still counts
    b2.pump();
    const fills = b2.of(ChildEventKind.FILL, 1001);
    expect(fills.map((e) => [e.orderId, e.lastQty, e.lastPx])).toEqual([[1, 6, 99 * PX]]);
    expect(fills[0]!.execIdHash).toBeGreaterThan(0);
    expect(fills[0]!.execIdHash).not.toBe(journaled.execIdHash);
    expect(b2.stage.childState[1001 % CAPACITY]).toBe(VenueChildState.DONE);
    expect(b2.counters.get(FixCounter.DUPLICATE_EXEC_IDS)).toBe(1);
  });

  it('a venue\'s bust journaled before the crash and resent after the restart (PossDupFlag=Y) is not passed on twice', () => {
    const { clock, v, store, journal, b1 } = connectedBoot(CHILD_EVENT_LENGTH, (venue) => venue.core.makerQuote(0, BookSide.SELL, 101 * PX, 1000));
    journalOrder(journal, 1, Side.BUY);
    b1.sorRecord(RecordType.CHILD_NEW, 1001, 1, 10, 99);
    b1.pump();
    v.core.makerQuote(0, BookSide.SELL, 99 * PX, 4);
    b1.pump();
    expect(b1.of(ChildEventKind.FILL, 1001)).toHaveLength(1);
    const inBeforeBust = store.nextTargetSeqNum;
    const e = v.acceptor.beginApp(MsgType.EXECUTION_REPORT);
    for (const [tag, value] of [[Tag.OrderID, 'X'], [Tag.ExecID, 'BUST-1'], [Tag.ExecRefID, 'E1'], [Tag.ClOrdID, '1001'], [Tag.ExecType, 'H'], [Tag.OrdStatus, '0'],
      [Tag.Symbol, 'AAPL'], [Tag.Side, '1'], [Tag.LeavesQty, '10'], [Tag.CumQty, '0'], [Tag.AvgPx, '0'], [Tag.LastQty, '4'], [Tag.LastPx, '99']] as [number, string][]) e.addAscii(tag, ascii(value));
    v.acceptor.sendApp();
    b1.pump();
    expect(b1.of(ChildEventKind.TRADE_CANCEL, 1001).map((ev) => ev.execIdHash > 0)).toEqual([true]);
    b1.crash();
    journal.close();
    store.setNextTargetSeqNum(inBeforeBust); // the bust journaled, its inbound number not yet stored

    const b2 = boot(clock, store, v, null);
    expect(recoverFixStage(b2.stage, dir, ORDER_CAPACITY)).toMatchObject({ children: 1, execIds: 2, fillsWithoutExecId: 0, problem: null });
    b2.connect(); // the venue resends the bust
    expect(b2.of(ChildEventKind.TRADE_CANCEL, 1001)).toEqual([]);
    expect(b2.counters.get(FixCounter.DUPLICATE_EXEC_IDS)).toBe(1);
    expect(b2.counters.get(FixCounter.TRADE_CORRECTIONS)).toBe(0);
  });

  it('control: from a journal without execIdHash (64-byte CHILD_EVENTs) the same resend is applied a second time', () => {
    const { clock, v, store, inBeforeFill } = firstBoot(CHILD_EVENT_JOURNALED_MIN_LENGTH);
    store.setNextTargetSeqNum(inBeforeFill);

    const b2 = boot(clock, store, v, null);
    // The children still come back from the older records; their ExecIDs cannot.
    expect(recoverFixStage(b2.stage, dir, ORDER_CAPACITY)).toMatchObject({ children: 2, liveChildren: 2, execIds: 0, fillsWithoutExecId: 1, problem: null });
    b2.connect();
    expect(b2.of(ChildEventKind.FILL, 1001).map((e) => [e.orderId, e.lastQty, e.lastPx])).toEqual([[1, 4, 99 * PX]]); // the 4 again
    expect(b2.counters.get(FixCounter.DUPLICATE_EXEC_IDS)).toBe(0);
  });
});
