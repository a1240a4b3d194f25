// Goal: the fix stage's venue side survives a broken link: what the venue did while the link was
// down reaches risk exactly once, a NewOrderSingle lost in flight is resent by the session layer
// (PossDup) and never re-created, open children are reconciled with OrderStatusRequest (35=H)
// once the resend is over, cancels held while the venue was down go out, status answers close
// or fill what reports missed, and a fill with an ExecID already applied is dropped. Method: the
// real FixStage on real rings, its venue session joined by an in-memory link to the venue
// simulator's FIX application and matching core (sim/), one hand-stepped clock, no timers.
import { describe, expect, it } from 'vitest';
import { FixCounter, StageCounters } from '../../engine/counters.ts';
import { OrdType, Side, Tif } from '../../engine/domain.ts';
import { Reason } from '../../engine/reasons.ts';
import { FULL, RingConsumer, RingGate, RingProducer, createRingMemory, type RecordHandler } from '../../engine/ring.ts';
import { CHILD_EVENT_LENGTH, CHILD_ORDER_LENGTH, ChildEventFlyweight, ChildEventKind, ChildOrderFlyweight, RecordType, VenueStatusFlyweight } from '../../codecs/records.ts';
import { ascii } from '../../fix/encoder.ts';
import { MemoryLink } from '../../fix/memory-transport.ts';
import { MsgType } from '../../fix/msg-type.ts';
import { FixSession, SessionRole } from '../../fix/session.ts';
import { Tag } from '../../fix/tags.ts';
import { Side as BookSide } from '../../sim/order-book.ts';
import { VenueApp } from '../../sim/venue-app.ts';
import { VenueCore } from '../../sim/venue-core.ts';
import { FixStage, VenueChildState } from './fix-stage.ts';

const PX = 1_000_000;
const TICK = 10_000;
const BASE = 1000;

class TestClock {
  ms = Date.UTC(2026, 0, 5, 9, 0, 0);
  now(): number { return this.ms; }
  epochMs(): number { return this.ms; }
  nowNs(): number { return this.ms * 1e6; }
}

interface Ev { kind: number; childId: number; lastQty: number; lastPx: number; reason: number; length: number; execId: string | null; execRefId: string | null }

function setup(childCapacity = 64, resetOnLogon = false, cancelAckTimeoutMs = 0) {
  const clock = new TestClock();
  const mem = { sorToFix: createRingMemory(1 << 16), riskToFix: createRingMemory(1 << 16), fixToRisk: createRingMemory(1 << 16), fixToSor: createRingMemory(1 << 16) };
  const counters = StageCounters.create();
  const stage = new FixStage(
    [{ venueId: 1, name: 'V1', senderCompId: 'OMS', targetCompId: 'V1', heartBtIntS: 30, resetOnLogon, cancelAckTimeoutMs }],
    ['AAPL'], ['', 'T1'], BASE, childCapacity,
    { fromSor: new RingConsumer(mem.sorToFix), fromRisk: new RingConsumer(mem.riskToFix), toRisk: new RingProducer(mem.fixToRisk, null), toSor: new RingProducer(mem.fixToSor, null) },
    clock, counters,
  );
  const venue = new VenueApp({ latencyMs: 0 }, clock);
  const core = new VenueCore({ name: 'V1', symbols: [{ symbol: 'AAPL', startPriceTicks: 100 * PX }], feeBps: 0, rejectProbability: 0, tickSizeTicks: TICK, seed: 1 }, venue);
  venue.attach(core);
  core.makerQuote(0, BookSide.SELL, 101 * PX, 1000);
  const acceptor = new FixSession({ role: SessionRole.ACCEPTOR, senderCompId: 'V1', targetCompId: 'OMS', clock, app: venue });
  const session = stage.sessions[1]!;
  const sor = new RingProducer(mem.sorToFix, null);
  const fromFix = new RingConsumer(mem.fixToRisk);
  const statusRing = new RingConsumer(mem.fixToSor);
  const events: Ev[] = [];
  const statuses: boolean[] = [];
  const ev = new ChildEventFlyweight();
  const vs = new VenueStatusFlyweight();
  const riskHandler: RecordHandler = {
    onRecord(type, offset, length) {
      if (type !== RecordType.CHILD_EVENT) return;
      ev.wrap(fromFix.view, fromFix.bytes, offset);
      const text = (at: number, n: number) => (n === 0 ? null : Buffer.from(fromFix.bytes.subarray(at, at + n)).toString('latin1'));
      events.push({
        kind: ev.kind(), childId: ev.childId(), lastQty: ev.lastQty(), lastPx: ev.lastPxTicks(), reason: ev.reason(), length,
        execId: text(ev.execIdOffset(), ev.execIdLength(length)), execRefId: text(ev.execRefIdOffset(), ev.execRefIdLength(length)),
      });
    },
  };
  /** The SOR's copies of child events, as (kind, childId), in ring order; their lengths beside. */
  const sorEvents: [number, number][] = [];
  const sorEventLengths: number[] = [];
  /** For each VENUE_STATUS the SOR read: how many child events it had read before it. */
  const statusAfter: number[] = [];
  const sorEv = new ChildEventFlyweight();
  const sorHandler: RecordHandler = {
    onRecord(type, offset, length) {
      if (type === RecordType.VENUE_STATUS) {
        statuses.push(vs.wrap(statusRing.view, statusRing.bytes, offset).up());
        statusAfter.push(sorEvents.length);
      }
      if (type === RecordType.CHILD_EVENT) {
        sorEv.wrap(statusRing.view, statusRing.bytes, offset);
        sorEvents.push([sorEv.kind(), sorEv.childId()]);
        sorEventLengths.push(length);
      }
    },
  };
  const child = new ChildOrderFlyweight();
  let link: MemoryLink | null = null;
  const t = {
    clock, stage, counters, venue, core, acceptor, session, events, statuses, sorEvents, sorEventLengths, statusAfter,
    /** While true, pump() leaves the ring to the SOR unread (a SOR that lags). */
    sorLags: false,
    /** While true, pump() leaves the ring to risk unread (a risk stage that lags). */
    riskLags: false,
    /** Links the sessions; `sent` sees what our side wrote first (its Logon) before it is delivered. */
    connect(sent?: (first: string) => void, pump = true): MemoryLink {
      link = new MemoryLink(session, acceptor);
      link.connect();
      sent?.(Buffer.from(link.aToB.outbox[0]).toString('latin1'));
      if (pump) t.pump();
      return link;
    },
    /** Delivers bytes both ways and runs the stage until everything is quiet. */
    pump(): void {
      for (let i = 0; i < 20; i++) {
        if (link !== null) link.pump();
        const work = stage.doWork();
        if (!t.riskLags) fromFix.poll(riskHandler, 1000);
        if (!t.sorLags) statusRing.poll(sorHandler, 1000);
        if (work === 0 && (link === null || (link.aToB.outbox.length === 0 && link.bToA.outbox.length === 0))) return;
      }
    },
    cut(): void {
      session.disconnect('test: link cut');
      t.pump();
      link = null;
    },
    sorRecord(type: number, childId: number, qty: number, price: string, journalMark = 0, venueId = 1): void {
      const at = sor.tryClaim(type, CHILD_ORDER_LENGTH);
      if (at === FULL) throw new Error('ring full');
      child.wrap(sor.view, sor.bytes, at).setChildId(childId).setOrderId(childId - BASE).setQty(qty).setPriceTicks(Math.round(Number(price) * PX))
        .setVenueId(venueId).setSymbolId(0).setAccountId(1).setSide(Side.BUY).setOrdType(OrdType.LIMIT).setTif(Tif.DAY).setJournalMark(journalMark);
      sor.commit();
    },
    /**
     * Resting limit children BASE+1 .. BASE+total from the SOR, up to 400 per call and while its
     * ring has room (this stage may have stopped reading it), then one pump. Returns how many
     * children have been written so far.
     */
    feedChildren(total: number): number {
      for (let k = 0; k < 400 && t.childrenFed < total; k++) {
        if (!sor.hasRoomFor(1, CHILD_ORDER_LENGTH)) break;
        t.sorRecord(RecordType.CHILD_NEW, BASE + 1 + t.childrenFed++, 1, '1.00');
      }
      t.pump();
      return t.childrenFed;
    },
    childrenFed: 0,
    /** Child ids of the events of one kind, in order, as risk read them. */
    riskIds(kind: number): number[] {
      return events.filter((e) => e.kind === kind).map((e) => e.childId);
    },
    /** Child ids of the events of one kind, in order, as the SOR read them. */
    sorIds(kind: number): number[] {
      return sorEvents.filter(([k]) => k === kind).map(([, id]) => id);
    },
    /** The gate of the SOR's ring, as the persistence stage arms and publishes it (persistence-part.ts). */
    sorGate(): RingGate {
      return new RingGate(mem.sorToFix, null);
    },
    /** An ExecutionReport written by hand on the venue's session (what a venue could send). */
    report(fields: [number, string][]): void {
      const e = acceptor.beginApp(MsgType.EXECUTION_REPORT);
      // Bytes as given (latin1): a venue may send any byte but SOH.
      for (const [tag, value] of fields) {
        const b = Buffer.from(value, 'latin1');
        e.addBytes(tag, b, 0, b.length);
      }
      acceptor.sendApp();
      t.pump();
    },
    of(kind: number, childId: number): Ev[] {
      return events.filter((e) => e.kind === kind && e.childId === childId);
    },
  };
  return t;
}

describe('FixStage venue side: reconnect and reconciliation', () => {
  it('recovers fills made while the link was down once, and sends the cancel held meanwhile', () => {
    const t = setup();
    t.connect();
    expect(t.statuses).toEqual([true]);
    t.sorRecord(RecordType.CHILD_NEW, 1001, 10, '99.00'); // rests
    t.sorRecord(RecordType.CHILD_NEW, 1002, 10, '98.00'); // rests
    t.pump();
    expect(t.events.map((e) => [e.kind, e.childId])).toEqual([[ChildEventKind.SENT, 1001], [ChildEventKind.SENT, 1002], [ChildEventKind.ACKED, 1001], [ChildEventKind.ACKED, 1002]]);

    t.cut();
    expect(t.statuses).toEqual([true, false]);
    t.core.makerQuote(0, BookSide.SELL, 99 * PX, 10); // the venue fills 1001 while we are away
    t.sorRecord(RecordType.CHILD_CANCEL, 1002, 10, '98.00'); // risk wants 1002 canceled now
    t.pump();
    expect(t.of(ChildEventKind.CANCEL_REJECTED, 1002).map((e) => e.reason)).toEqual([Reason.VENUE_DOWN]);
    expect(t.counters.get(FixCounter.CANCELS_DEFERRED)).toBe(1);

    t.connect(); // Logon, ResendRequest for the stored fill, then reconciliation
    expect(t.statuses).toEqual([true, false, true]);
    expect(t.of(ChildEventKind.FILL, 1001).map((e) => [e.lastQty, e.lastPx])).toEqual([[10, 99 * PX]]);
    expect(t.of(ChildEventKind.CANCELED, 1002)).toHaveLength(1);
    expect(t.counters.get(FixCounter.STATUS_REQUESTS_SENT)).toBe(1); // 1002 only: 1001 is done
    expect(t.counters.get(FixCounter.RECONCILIATIONS)).toBe(2);
    expect(t.venue.statusAnswers).toBe(1);
    expect(t.session.nextTargetSeqNum).toBe(t.acceptor.nextSenderSeqNum);
    expect(t.acceptor.nextTargetSeqNum).toBe(t.session.nextSenderSeqNum);
    expect(t.stage.childState[1001 - BASE]).toBe(VenueChildState.DONE);
    expect(t.stage.childState[1002 - BASE]).toBe(VenueChildState.DONE);
  });

  it('sends a child only once the journal holds the audit it is marked with; a cancel behind it waits too', () => {
    const t = setup();
    const gate = t.sorGate();
    gate.arm();
    t.connect();
    const seqBefore = t.session.nextSenderSeqNum;
    t.sorRecord(RecordType.CHILD_NEW, 1001, 10, '99.00', 1); // its audit: the SOR feed's first record
    t.sorRecord(RecordType.CHILD_NEW, 1002, 10, '98.00', 2);
    t.sorRecord(RecordType.CHILD_CANCEL, 1001, 10, '99.00');
    t.pump();
    expect(t.events).toEqual([]);
    expect(t.counters.get(FixCounter.CHILDREN_SENT)).toBe(0);
    expect(t.session.nextSenderSeqNum).toBe(seqBefore); // nothing went to the venue
    gate.publish(1); // the first audit is durable: 1001 goes; 1002 and the cancel behind it wait
    t.pump();
    expect(t.events.map((e) => [e.kind, e.childId])).toEqual([[ChildEventKind.SENT, 1001], [ChildEventKind.ACKED, 1001]]);
    gate.publish(2);
    t.pump();
    expect(t.events.map((e) => [e.kind, e.childId])).toEqual([
      [ChildEventKind.SENT, 1001], [ChildEventKind.ACKED, 1001], [ChildEventKind.SENT, 1002], [ChildEventKind.ACKED, 1002], [ChildEventKind.CANCELED, 1001],
    ]);
    expect(t.counters.get(FixCounter.CHILDREN_SENT)).toBe(2);
  });

  it('resends a NewOrderSingle lost in flight as PossDup under its MsgSeqNum; the venue holds it once', () => {
    const t = setup();
    const link = t.connect();
    t.sorRecord(RecordType.CHILD_NEW, 1003, 5, '101.00'); // marketable
    t.stage.doWork(); // the D is written...
    link.aToB.take(); // ...and lost on the wire
    t.cut();
    expect(t.core.orders).toHaveLength(0);
    t.connect();
    expect(t.core.orders.map((o) => [o.clOrdId, o.cumQty])).toEqual([['1003', 5]]);
    expect(t.counters.get(FixCounter.CHILDREN_SENT)).toBe(1);
    expect(t.of(ChildEventKind.SENT, 1003)).toHaveLength(1);
    expect(t.of(ChildEventKind.ACKED, 1003)).toHaveLength(1);
    expect(t.of(ChildEventKind.FILL, 1003).map((e) => e.lastQty)).toEqual([5]);
    expect(t.session.resentCount).toBe(1);
    expect(t.session.nextTargetSeqNum).toBe(t.acceptor.nextSenderSeqNum);
  });

  it('drops a fill whose ExecID was already applied', () => {
    const t = setup();
    t.connect();
    t.sorRecord(RecordType.CHILD_NEW, 1004, 10, '99.00');
    t.pump();
    const fill: [number, string][] = [[Tag.OrderID, 'X'], [Tag.ExecID, 'E-77'], [Tag.ClOrdID, '1004'], [Tag.ExecType, 'F'], [Tag.OrdStatus, '1'],
      [Tag.Symbol, 'AAPL'], [Tag.Side, '1'], [Tag.LastQty, '4'], [Tag.LastPx, '99'], [Tag.LeavesQty, '6'], [Tag.CumQty, '4'], [Tag.AvgPx, '99']];
    t.report(fill);
    t.report(fill);
    expect(t.of(ChildEventKind.FILL, 1004)).toHaveLength(1);
    expect(t.counters.get(FixCounter.DUPLICATE_EXEC_IDS)).toBe(1);
  });

  it('applies status answers: a CumQty above the reports becomes one fill, an unknown order closes the child', () => {
    const t = setup();
    t.connect();
    t.sorRecord(RecordType.CHILD_NEW, 1005, 10, '99.00');
    t.sorRecord(RecordType.CHILD_NEW, 1006, 10, '99.00');
    t.pump();
    const status = (id: string, ordStatus: string, cum: string, avg: string): [number, string][] => [[Tag.OrderID, 'X'], [Tag.ExecID, `S-${id}`], [Tag.ClOrdID, id],
      [Tag.ExecType, 'I'], [Tag.OrdStatus, ordStatus], [Tag.Symbol, 'AAPL'], [Tag.Side, '1'], [Tag.LeavesQty, '0'], [Tag.CumQty, cum], [Tag.AvgPx, avg]];
    t.report(status('1005', '2', '10', '98.5'));
    t.report(status('1006', '8', '0', '0'));
    expect(t.of(ChildEventKind.FILL, 1005).map((e) => [e.lastQty, e.lastPx])).toEqual([[10, 98.5 * PX]]);
    expect(t.of(ChildEventKind.CANCELED, 1006).map((e) => e.reason)).toEqual([Reason.VENUE_ORDER_UNKNOWN]);
    expect(t.counters.get(FixCounter.RECON_FILLS)).toBe(1);
    expect(t.counters.get(FixCounter.RECON_CLOSED)).toBe(1);
    // A second answer for a child already done changes nothing.
    t.report(status('1005', '2', '10', '98.5'));
    expect(t.of(ChildEventKind.FILL, 1005)).toHaveLength(1);
  });

  it('prices a missed fill from an AvgPx finer than a tick (a computed average), rounded to the tick', () => {
    const t = setup();
    t.connect();
    t.sorRecord(RecordType.CHILD_NEW, 1008, 6, '99.00');
    t.pump();
    t.report([[Tag.OrderID, 'X'], [Tag.ExecID, 'E-1008'], [Tag.ClOrdID, '1008'], [Tag.ExecType, 'F'], [Tag.OrdStatus, '1'], [Tag.Symbol, 'AAPL'],
      [Tag.Side, '1'], [Tag.LastQty, '3'], [Tag.LastPx, '98'], [Tag.LeavesQty, '3'], [Tag.CumQty, '3'], [Tag.AvgPx, '98']]);
    // The venue filled the other 3 at 98.666667 and that report was lost: its exact average,
    // 98.3333335, is finer than a tick (rounding it to 98.333334 first would price the fill at 98.666668).
    t.report([[Tag.OrderID, 'X'], [Tag.ExecID, 'S-1008'], [Tag.ClOrdID, '1008'], [Tag.ExecType, 'I'], [Tag.OrdStatus, '2'], [Tag.Symbol, 'AAPL'],
      [Tag.Side, '1'], [Tag.LeavesQty, '0'], [Tag.CumQty, '6'], [Tag.AvgPx, '98.3333335']]);
    expect(t.of(ChildEventKind.FILL, 1008).map((e) => [e.lastQty, e.lastPx])).toEqual([[3, 98 * PX], [3, 98_666_667]]);
    expect(t.counters.get(FixCounter.RECON_FILLS)).toBe(1);
    expect(t.counters.get(FixCounter.UNKNOWN_EXEC_REPORTS)).toBe(0);
    // The child is done: a second status answer for it books nothing more.
    t.report([[Tag.OrderID, 'X'], [Tag.ExecID, 'S-1008b'], [Tag.ClOrdID, '1008'], [Tag.ExecType, 'I'], [Tag.OrdStatus, '2'], [Tag.Symbol, 'AAPL'],
      [Tag.Side, '1'], [Tag.LeavesQty, '0'], [Tag.CumQty, '6'], [Tag.AvgPx, '98.3333335']]);
    expect(t.of(ChildEventKind.FILL, 1008)).toHaveLength(2);
  });
  /** Resting children `ids`, then their cancels refused by a socket that takes no writes (the session stays logged on). */
  function cancelsRefused(t: ReturnType<typeof setup>, link: MemoryLink, ids: number[]): void {
    for (const id of ids) t.sorRecord(RecordType.CHILD_NEW, id, 10, '97.00'); // rest
    t.pump();
    for (const id of ids) expect(t.of(ChildEventKind.ACKED, id)).toHaveLength(1);
    link.aToB.accepting = false;
    for (const id of ids) t.sorRecord(RecordType.CHILD_CANCEL, id, 10, '97.00');
    t.pump();
    for (const id of ids) expect(t.of(ChildEventKind.CANCEL_REJECTED, id).map((e) => e.reason)).toEqual([Reason.VENUE_DOWN]);
    expect(t.counters.get(FixCounter.CANCELS_SENT)).toBe(0);
    expect(t.counters.get(FixCounter.CANCELS_DEFERRED)).toBe(ids.length);
    expect(t.stage.cancelsHeld).toBe(true);
  }

  it('holds a cancel whose send failed (back-pressure on a live session) and writes it once the session takes writes, with no reconnect', () => {
    const t = setup();
    const link = t.connect();
    cancelsRefused(t, link, [1007, 1008]);
    t.clock.ms += 1;
    t.pump(); // still refused: tried again, kept
    expect(t.counters.get(FixCounter.CANCELS_SENT)).toBe(0);
    expect(t.stage.writeHeldCancels()).toBe(0); // what the sessions' timer calls
    link.aToB.accepting = true;
    t.pump(); // within a millisecond of the refusal: doWork does not try again yet
    expect(t.counters.get(FixCounter.CANCELS_SENT)).toBe(0);
    t.clock.ms += 1;
    t.pump();
    expect(t.counters.get(FixCounter.CANCELS_SENT)).toBe(2);
    expect(t.counters.get(FixCounter.CANCELS_RETRIED)).toBe(2);
    expect(t.counters.get(FixCounter.VENUE_LOGONS)).toBe(1);
    expect(t.stage.cancelsHeld).toBe(false);
    // Written in the order they were held, each once.
    expect(t.riskIds(ChildEventKind.CANCELED)).toEqual([1007, 1008]);
    expect(t.stage.childState[1007 - BASE]).toBe(VenueChildState.DONE);
    t.pump();
    expect(t.counters.get(FixCounter.CANCELS_SENT)).toBe(2);
  });

  it('a held cancel whose session then drops is written by the next Logon\'s reconciliation, once', () => {
    const t = setup();
    const link = t.connect();
    cancelsRefused(t, link, [1007]);
    link.aToB.accepting = true;
    t.cut();
    expect(t.stage.writeHeldCancels()).toBe(0); // the session is down: left to the reconciliation
    expect(t.stage.cancelsHeld).toBe(false);
    t.connect(); // Logon, then reconciliation: 35=H and the held 35=F
    expect(t.counters.get(FixCounter.CANCELS_SENT)).toBe(1);
    expect(t.counters.get(FixCounter.CANCELS_RETRIED)).toBe(0);
    expect(t.of(ChildEventKind.CANCELED, 1007)).toHaveLength(1);
    expect(t.stage.childState[1007 - BASE]).toBe(VenueChildState.DONE);
  });

  it('a held cancel whose write the reconciliation finds refused after its 35=H went out is queued, then written once the session takes writes (no second 35=H)', () => {
    const t = setup();
    const first = t.connect();
    cancelsRefused(t, first, [1007]); // held, then the session drops: left to the reconciliation
    first.aToB.accepting = true;
    t.cut();
    const link = t.connect(undefined, false);
    link.pump(); // the Logons; the reconciliation runs in the next duty cycle
    // The socket takes the reconciliation's 35=H and refuses the 35=F behind it (its buffer full).
    const write = link.aToB.write.bind(link.aToB);
    let refuse = true;
    link.aToB.write = (buf, start, length) => {
      if (refuse && Buffer.from(buf.subarray(start, start + length)).includes('\x0135=F\x01')) return false;
      return write(buf, start, length);
    };
    t.pump();
    expect(t.counters.get(FixCounter.STATUS_REQUESTS_SENT)).toBe(1);
    expect(t.counters.get(FixCounter.CANCELS_SENT)).toBe(0);
    expect(t.stage.cancelsHeld).toBe(true);
    expect(t.of(ChildEventKind.CANCELED, 1007)).toHaveLength(0);
    refuse = false;
    t.clock.ms += 1; // past the retry delay
    t.pump();
    expect(t.counters.get(FixCounter.CANCELS_RETRIED)).toBe(1);
    expect(t.counters.get(FixCounter.CANCELS_SENT)).toBe(1);
    expect(t.counters.get(FixCounter.STATUS_REQUESTS_SENT)).toBe(1);
    expect(t.counters.get(FixCounter.RECONCILIATIONS)).toBe(2); // the two Logons' only
    expect(t.of(ChildEventKind.CANCELED, 1007)).toHaveLength(1);
    expect(t.stage.cancelsHeld).toBe(false);
  });

  it('a cancel asked for again while the first is written and not yet answered is not written a second time', () => {
    const t = setup();
    const link = t.connect();
    t.sorRecord(RecordType.CHILD_NEW, 1007, 10, '97.00'); // rests
    t.pump();
    link.bToA.inputPaused = true; // the venue reads nothing more from us for now
    t.sorRecord(RecordType.CHILD_CANCEL, 1007, 10, '97.00');
    t.sorRecord(RecordType.CHILD_CANCEL, 1007, 10, '97.00'); // a client's cancel behind the SOR's fallback, say
    t.pump();
    expect(t.counters.get(FixCounter.CANCELS_SENT)).toBe(1);
    expect(t.counters.get(FixCounter.CANCELS_ALREADY_SENT)).toBe(1);
    link.bToA.inputPaused = false;
    t.pump();
    expect(t.of(ChildEventKind.CANCELED, 1007)).toHaveLength(1);
    expect(t.of(ChildEventKind.CANCEL_REJECTED, 1007)).toHaveLength(0);
  });

  it('a cancel of a restored child whose venue is no longer configured is held, and the retry drops it without halting', () => {
    const t = setup();
    t.connect();
    expect(t.stage.restoreSent(1009, 9, 7, 0, Side.BUY, 10, 97 * PX)).toBe(true); // venue 7: not configured now
    t.sorRecord(RecordType.CHILD_CANCEL, 1009, 10, '97.00', 0, 7);
    t.pump();
    expect(t.of(ChildEventKind.CANCEL_REJECTED, 1009).map((e) => e.reason)).toEqual([Reason.VENUE_DOWN]);
    expect(t.stage.writeHeldCancels()).toBe(0);
    expect(t.stage.cancelsHeld).toBe(false);
  });

  it('a held cancel whose child ends meanwhile (filled) is dropped, not written', () => {
    const t = setup();
    const link = t.connect();
    cancelsRefused(t, link, [1007]);
    t.core.makerQuote(0, BookSide.SELL, 97 * PX, 10); // the venue fills it; its report reaches us
    t.pump();
    expect(t.of(ChildEventKind.FILL, 1007).map((e) => e.lastQty)).toEqual([10]);
    link.aToB.accepting = true;
    t.clock.ms += 1;
    t.pump();
    expect(t.counters.get(FixCounter.CANCELS_SENT)).toBe(0);
    expect(t.stage.cancelsHeld).toBe(false);
  });
});

describe('FixStage venue side: status answers and trade corrections', () => {
  const status = (ordStatus: string, cum: string): [number, string][] => [
    [Tag.OrderID, 'X'], [Tag.ExecID, `S-${ordStatus}-${cum}`], [Tag.ClOrdID, '1001'], [Tag.ExecType, 'I'], [Tag.OrdStatus, ordStatus], [Tag.Symbol, 'AAPL'],
    [Tag.Side, '1'], [Tag.LeavesQty, '0'], [Tag.CumQty, cum], [Tag.AvgPx, cum === '0' ? '0' : '99'],
  ];
  function resting(): ReturnType<typeof setup> {
    const t = setup();
    t.connect();
    t.sorRecord(RecordType.CHILD_NEW, 1001, 10, '99.00'); // rests
    t.pump();
    return t;
  }

  it('OrdStatus B (calculated: done for the day) closes the child; fully filled by the status\'s CumQty, one FILL and no CANCELED', () => {
    const t = resting();
    t.report(status('B', '4'));
    expect(t.of(ChildEventKind.FILL, 1001).map((e) => [e.lastQty, e.lastPx])).toEqual([[4, 99 * PX]]);
    expect(t.of(ChildEventKind.CANCELED, 1001).map((e) => e.reason)).toEqual([Reason.VENUE_CANCELED]);
    const u = resting();
    u.report(status('B', '10'));
    expect(u.of(ChildEventKind.FILL, 1001).map((e) => e.lastQty)).toEqual([10]);
    expect(u.of(ChildEventKind.CANCELED, 1001)).toHaveLength(0);
    expect(u.stage.childState[1001 - BASE]).toBe(VenueChildState.DONE);
  });

  it.each([['2', '-99', '10'], ['2', '99', '11'], ['4', '-99', '5'], ['B', '-99', '10']])('a missed fill the status (OrdStatus %s) cannot price (AvgPx %s, CumQty %s) is counted, not booked, and the child stays open', (ordStatus, avgPx, cum) => {
    const t = resting();
    t.report(status(ordStatus, cum).map(([tag, v]): [number, string] => [tag, tag === Tag.AvgPx ? avgPx : v]));
    expect(t.counters.get(FixCounter.RECON_FILLS_UNPRICED)).toBe(1);
    expect(t.counters.get(FixCounter.RECON_FILLS)).toBe(0);
    expect(t.of(ChildEventKind.FILL, 1001)).toHaveLength(0);
    expect(t.stage.childState[1001 - BASE]).toBe(VenueChildState.OPEN);
  });

  it('a venue fill carries the report\'s ExecID to risk, cut to 64 bytes, non-printable bytes as ?; a fill made up from a status answer carries none', () => {
    const t = resting();
    const fill = (execId: string): [number, string][] => [[Tag.OrderID, 'X'], [Tag.ExecID, execId], [Tag.ClOrdID, '1001'], [Tag.ExecType, 'F'], [Tag.OrdStatus, '1'],
      [Tag.Symbol, 'AAPL'], [Tag.Side, '1'], [Tag.LeavesQty, '9'], [Tag.CumQty, '1'], [Tag.AvgPx, '99'], [Tag.LastQty, '1'], [Tag.LastPx, '99']];
    t.report(fill('V1-E7'));
    const long = `L${'x'.repeat(70)}\x7f`;
    t.report(fill(long));
    t.report(fill('caf\xe9'));
    t.report(status('1', '4')); // one missed fill of 1, made up from CumQty
    const fills = t.of(ChildEventKind.FILL, 1001);
    expect(fills.map((e) => e.execId)).toEqual(['V1-E7', long.slice(0, 64), 'caf?', null]);
    expect(fills.map((e) => e.execRefId)).toEqual([null, null, null, null]);
    // Ring lengths are rounded up to 8 bytes: the fixed part alone for the made-up fill.
    expect(fills.map((e) => e.length)).toEqual([80, 144, 80, CHILD_EVENT_LENGTH]);
    // Other kinds carry none either.
    expect(t.of(ChildEventKind.ACKED, 1001).map((e) => [e.length, e.execId])).toEqual([[CHILD_EVENT_LENGTH, null]]);
  });

  it('a status whose CumQty fills the child ends it with its FILL only, whatever OrdStatus says (no second end)', () => {
    const t = resting();
    t.report(status('4', '10'));
    expect(t.of(ChildEventKind.FILL, 1001)).toHaveLength(1);
    expect(t.of(ChildEventKind.CANCELED, 1001)).toHaveLength(0);
  });

  it.each([['H', ChildEventKind.TRADE_CANCEL], ['G', ChildEventKind.TRADE_CORRECT]])('ExecType %s (trade cancel, correct) goes to risk as its own event with LastQty and LastPx, once per ExecID; the fill stands', (execType, kind) => {
    const t = resting();
    t.core.makerQuote(0, BookSide.SELL, 99 * PX, 10);
    t.pump();
    expect(t.of(ChildEventKind.FILL, 1001)).toHaveLength(1);
    const bust: [number, string][] = [[Tag.OrderID, 'X'], [Tag.ExecID, 'BUST-1'], [Tag.ExecRefID, 'E1'], [Tag.ClOrdID, '1001'], [Tag.ExecType, execType],
      [Tag.OrdStatus, '2'], [Tag.Symbol, 'AAPL'], [Tag.Side, '1'], [Tag.LeavesQty, '0'], [Tag.CumQty, '10'], [Tag.AvgPx, '98.5'], [Tag.LastQty, '10'], [Tag.LastPx, '98.5']];
    t.report(bust);
    t.report(bust); // the same ExecID again (a resend): dropped
    expect(t.of(kind, 1001).map((e) => [e.lastQty, e.lastPx, e.reason])).toEqual([[10, 98.5 * PX, Reason.NONE]]);
    // The venue's identifiers travel to risk (and so to the journal): the bust's own ExecID and
    // the fill it names; the SOR's copy is the fixed part only.
    expect(t.of(kind, 1001).map((e) => [e.execId, e.execRefId])).toEqual([['BUST-1', 'E1']]);
    expect(t.sorEventLengths.every((n) => n === CHILD_EVENT_LENGTH)).toBe(true);
    expect(t.sorIds(kind)).toEqual([1001]);
    expect(t.counters.get(FixCounter.TRADE_CORRECTIONS)).toBe(1);
    expect(t.counters.get(FixCounter.DUPLICATE_EXEC_IDS)).toBe(1);
    expect(t.counters.get(FixCounter.UNKNOWN_EXEC_REPORTS)).toBe(0);
    expect(t.of(ChildEventKind.FILL, 1001)).toHaveLength(1);
    expect(t.stage.childState[1001 - BASE]).toBe(VenueChildState.DONE);
  });
});

describe('FixStage venue side: a venue that resets sequence numbers at every Logon (venues[].resetOnLogon)', () => {
  it('logs on with 141=Y and MsgSeqNum 1 each time; what the venue did while the link was down is not resent but reconciled (35=H): the fill booked once', () => {
    const t = setup(64, true);
    const logons: string[] = [];
    t.connect((first) => logons.push(first));
    t.sorRecord(RecordType.CHILD_NEW, 1001, 10, '99.00'); // rests
    t.sorRecord(RecordType.CHILD_NEW, 1002, 10, '98.00'); // rests
    t.pump();
    expect(t.of(ChildEventKind.ACKED, 1001)).toHaveLength(1);
    expect(t.session.nextSenderSeqNum).toBe(4); // Logon, two NewOrderSingles

    t.cut();
    t.core.makerQuote(0, BookSide.SELL, 99 * PX, 10); // the venue fills 1001 while we are away
    t.pump();
    t.connect((first) => logons.push(first));
    for (const logon of logons) {
      expect(logon).toContain('\x0135=A\x01');
      expect(logon).toContain('\x0134=1\x01');
      expect(logon).toContain('\x01141=Y\x01');
    }
    expect(t.statuses).toEqual([true, false, true]);
    // Both sides restarted at 1: the venue's stored fill report was dropped with its store, and
    // the status requests for both open children (its answers) are all that followed the Logons.
    expect(t.counters.get(FixCounter.STATUS_REQUESTS_SENT)).toBe(2);
    expect(t.venue.statusAnswers).toBe(2);
    expect(t.session.nextSenderSeqNum).toBe(4); // Logon, two OrderStatusRequests
    expect(t.session.nextTargetSeqNum).toBe(t.acceptor.nextSenderSeqNum);
    expect(t.acceptor.nextTargetSeqNum).toBe(t.session.nextSenderSeqNum);
    // 1001's fill reached risk once, from the status answer's CumQty; 1002 still works.
    expect(t.of(ChildEventKind.FILL, 1001).map((e) => [e.lastQty, e.lastPx])).toEqual([[10, 99 * PX]]);
    expect(t.counters.get(FixCounter.RECON_FILLS)).toBe(1);
    expect(t.stage.childState[1001 - BASE]).toBe(VenueChildState.DONE);
    expect(t.stage.childState[1002 - BASE]).toBe(VenueChildState.OPEN);
    expect(t.of(ChildEventKind.CANCELED, 1002)).toHaveLength(0);
  });

  it('without it (the default) the reconnect resumes the session: no 141=Y, the fill comes back through the resend', () => {
    const t = setup();
    const logons: string[] = [];
    t.connect((first) => logons.push(first));
    t.sorRecord(RecordType.CHILD_NEW, 1001, 10, '99.00');
    t.pump();
    t.cut();
    t.core.makerQuote(0, BookSide.SELL, 99 * PX, 10);
    t.pump();
    t.connect((first) => logons.push(first));
    expect(logons[1]).toContain('\x0134=3\x01'); // after the first Logon and the NewOrderSingle
    expect(logons.some((l) => l.includes('\x01141=Y\x01'))).toBe(false);
    expect(t.of(ChildEventKind.FILL, 1001).map((e) => [e.lastQty, e.lastPx])).toEqual([[10, 99 * PX]]);
    expect(t.counters.get(FixCounter.RECON_FILLS)).toBe(0);
  });
});

describe('FixStage venue side: a cancel the venue never got', () => {
  /** A resting child, then its cancel written by the stage and lost on the wire, then the link cut. */
  function cancelLost(t: ReturnType<typeof setup>, link: MemoryLink): void {
    t.sorRecord(RecordType.CHILD_NEW, 1001, 10, '99.00'); // rests
    t.pump();
    expect(t.of(ChildEventKind.ACKED, 1001)).toHaveLength(1);
    t.sorRecord(RecordType.CHILD_CANCEL, 1001, 10, '99.00');
    t.stage.doWork(); // the 35=F is written...
    link.aToB.take(); // ...and lost on the wire
    t.cut();
    expect(t.counters.get(FixCounter.CANCELS_SENT)).toBe(1);
  }

  it('under a reset Logon (nothing resent), the status answer shows the child working: the cancel is written again, the child canceled once', () => {
    const t = setup(64, true);
    cancelLost(t, t.connect());
    t.connect(); // 141=Y: the venue never sees the lost 35=F
    expect(t.counters.get(FixCounter.STATUS_REQUESTS_SENT)).toBe(1);
    expect(t.counters.get(FixCounter.CANCELS_RESENT)).toBe(1);
    expect(t.counters.get(FixCounter.CANCELS_SENT)).toBe(2);
    expect(t.of(ChildEventKind.CANCELED, 1001)).toHaveLength(1);
    expect(t.of(ChildEventKind.CANCEL_REJECTED, 1001)).toHaveLength(0);
    expect(t.stage.childState[1001 - BASE]).toBe(VenueChildState.DONE);
  });

  it('by default the resend delivers the lost cancel before the status request: it is not written a second time', () => {
    const t = setup();
    cancelLost(t, t.connect());
    t.connect();
    expect(t.counters.get(FixCounter.CANCELS_RESENT)).toBe(0);
    expect(t.counters.get(FixCounter.CANCELS_SENT)).toBe(1);
    expect(t.of(ChildEventKind.CANCELED, 1001)).toHaveLength(1);
    expect(t.of(ChildEventKind.CANCEL_REJECTED, 1001)).toHaveLength(0);
  });

  /**
   * After cancelLost under a reset Logon: reconnects, lets the reconciliation write its 35=H and
   * holds it in the link (the venue reads nothing more from us until `release`).
   */
  function requestHeld(t: ReturnType<typeof setup>): { link: MemoryLink; release: () => void } {
    const link = t.connect(undefined, false);
    link.pump(); // the Logons: the session is up, the reconciliation not yet run
    link.bToA.inputPaused = true;
    t.pump(); // the reconciliation writes its 35=H (pass 2: the first Logon's was pass 1)
    expect(t.counters.get(FixCounter.STATUS_REQUESTS_SENT)).toBe(1);
    return {
      link,
      release(): void {
        link.bToA.inputPaused = false;
        t.pump();
      },
    };
  }
  const statusOf = (ordStatus: string, reqId: string | null): [number, string][] => [
    [Tag.OrderID, 'X'], [Tag.ExecID, `S-${ordStatus}-${reqId}`], [Tag.ClOrdID, '1001'], [Tag.ExecType, 'I'], [Tag.OrdStatus, ordStatus], [Tag.Symbol, 'AAPL'],
    [Tag.Side, '1'], [Tag.LeavesQty, '10'], [Tag.CumQty, '0'], [Tag.AvgPx, '0'], ...(reqId === null ? [] : [[Tag.OrdStatusReqID, reqId] as [number, string]]),
  ];

  it('judges the cancel only by the answer to this pass\'s status request (790 echoed), not by another status report', () => {
    const t = setup(64, true);
    cancelLost(t, t.connect());
    const held = requestHeld(t);
    // Status reports showing the child working that are not the answer to this pass's request:
    // one the venue sent for another reason (no 790), one answering an earlier pass (R1, which
    // the venue read before the cancel). Neither gets the cancel written again.
    t.report(statusOf('0', null));
    t.report(statusOf('0', 'R1'));
    expect(t.counters.get(FixCounter.CANCELS_RESENT)).toBe(0);
    expect(t.counters.get(FixCounter.STATUS_ANSWERS_UNNAMED)).toBe(1);
    // The venue reads the 35=H and answers it (790=R2 echoed): now the cancel goes out again.
    held.release();
    expect(t.counters.get(FixCounter.CANCELS_RESENT)).toBe(1);
    expect(t.counters.get(FixCounter.STATUS_ANSWERS_UNNAMED)).toBe(1);
    expect(t.of(ChildEventKind.CANCELED, 1001)).toHaveLength(1);
  });

  it.each(['7', '9', 'D'])('OrdStatus %s in the answer (stopped, suspended, accepted for bidding) is working too: the cancel is written again', (ordStatus) => {
    const t = setup(64, true);
    cancelLost(t, t.connect());
    requestHeld(t);
    t.report(statusOf(ordStatus, 'R2'));
    expect(t.counters.get(FixCounter.CANCELS_RESENT)).toBe(1);
    expect(t.stage.childState[1001 - BASE]).toBe(VenueChildState.OPEN);
    expect(t.counters.get(FixCounter.RECON_CLOSED)).toBe(0);
  });

  it('a cancel whose writing again is refused (back-pressure) is held and journaled (CANCEL_REJECTED VENUE_DOWN), then written once the session takes writes', () => {
    const t = setup(64, true);
    cancelLost(t, t.connect());
    const held = requestHeld(t);
    held.link.aToB.accepting = false;
    t.report(statusOf('0', 'R2')); // the answer: working, the cancel is not there; writing it again is refused
    expect(t.counters.get(FixCounter.CANCELS_RESENT)).toBe(0);
    expect(t.of(ChildEventKind.CANCEL_REJECTED, 1001).map((e) => e.reason)).toEqual([Reason.VENUE_DOWN]);
    expect(t.stage.cancelsHeld).toBe(true);
    expect(t.counters.get(FixCounter.STATUS_REQUESTS_SENT)).toBe(1); // no second reconciliation for it
    held.link.aToB.accepting = true;
    t.clock.ms += 1; // past the retry delay after the refusal
    t.pump();
    expect(t.counters.get(FixCounter.CANCELS_RETRIED)).toBe(1);
    held.release(); // the venue reads the 35=H, then the cancel written after it (not judged again)
    expect(t.counters.get(FixCounter.CANCELS_SENT)).toBe(2);
    expect(t.counters.get(FixCounter.STATUS_REQUESTS_SENT)).toBe(1);
    expect(t.of(ChildEventKind.CANCELED, 1001)).toHaveLength(1);
  });

  it('pending cancel (39=6) in the answer: the venue has it, not written again', () => {
    const t = setup(64, true);
    cancelLost(t, t.connect());
    const held = requestHeld(t);
    t.report(statusOf('6', 'R2'));
    held.release(); // the venue's own answer (39=0) now finds the cancel no longer in question
    expect(t.counters.get(FixCounter.CANCELS_RESENT)).toBe(0);
  });

  it('an OrderCancelReject (35=9) answers the cancel: not written again', () => {
    const t = setup(64, true);
    cancelLost(t, t.connect());
    const held = requestHeld(t);
    const e = t.acceptor.beginApp(MsgType.ORDER_CANCEL_REJECT);
    for (const [tag, value] of [[Tag.OrderID, 'X'], [Tag.ClOrdID, '1001C'], [Tag.OrigClOrdID, '1001'], [Tag.OrdStatus, '0'], [Tag.CxlRejResponseTo, '1']] as [number, string][]) e.addAscii(tag, ascii(value));
    t.acceptor.sendApp();
    t.pump();
    expect(t.of(ChildEventKind.CANCEL_REJECTED, 1001).map((ev) => ev.reason)).toEqual([Reason.NONE]);
    held.release();
    expect(t.counters.get(FixCounter.CANCELS_RESENT)).toBe(0);
  });
});

describe('FixStage venue side: a cancel the venue does not answer (venues[].cancelAckTimeoutMs)', () => {
  const TIMEOUT_MS = 5_000;

  /** The venue simulator reads the next cancel (35=F) and never answers it: a venue that lost it after taking it. */
  function swallowNextCancel(t: ReturnType<typeof setup>): void {
    const real = t.venue.onAppMessage.bind(t.venue);
    let left = 1;
    t.venue.onAppMessage = (msg, session) => {
      if (msg.msgType === MsgType.ORDER_CANCEL_REQUEST && left > 0) {
        left--;
        return;
      }
      real(msg, session);
    };
  }

  /**
   * Child 1001 rests at the venue; its cancel is written, and the venue swallows it. `awaited`:
   * whether the stage waits for its answer (false where the venue has no timeout).
   */
  function unansweredCancel(t: ReturnType<typeof setup>, awaited = true): void {
    t.sorRecord(RecordType.CHILD_NEW, 1001, 10, '99.00');
    t.pump();
    expect(t.of(ChildEventKind.ACKED, 1001)).toHaveLength(1);
    swallowNextCancel(t);
    t.sorRecord(RecordType.CHILD_CANCEL, 1001, 10, '99.00');
    t.pump();
    expect(t.counters.get(FixCounter.CANCELS_SENT)).toBe(1);
    expect(t.stage.cancelsAwaited).toBe(awaited);
  }

  it('is asked about once overdue, not before; the answer shows the child working: the cancel is written again, the child canceled once', () => {
    const t = setup(64, false, TIMEOUT_MS);
    t.connect();
    unansweredCancel(t);
    t.clock.ms += TIMEOUT_MS - 1;
    expect(t.stage.askOverdueCancels()).toBe(0);
    expect(t.counters.get(FixCounter.STATUS_REQUESTS_SENT)).toBe(0);
    t.clock.ms += 1;
    expect(t.stage.askOverdueCancels()).toBe(1);
    expect(t.counters.get(FixCounter.CANCELS_OVERDUE)).toBe(1);
    t.pump(); // the venue answers the 35=H (39=0, 790 echoed): it never had the cancel
    expect(t.counters.get(FixCounter.STATUS_REQUESTS_SENT)).toBe(1);
    expect(t.counters.get(FixCounter.CANCELS_RESENT)).toBe(1);
    expect(t.counters.get(FixCounter.CANCELS_SENT)).toBe(2);
    expect(t.of(ChildEventKind.CANCELED, 1001)).toHaveLength(1);
    expect(t.of(ChildEventKind.CANCEL_REJECTED, 1001)).toHaveLength(0);
    expect(t.stage.childState[1001 - BASE]).toBe(VenueChildState.DONE);
    // Answered: nothing more is asked, and the queue empties.
    t.clock.ms += 10 * TIMEOUT_MS;
    expect(t.stage.askOverdueCancels()).toBe(0);
    expect(t.stage.cancelsAwaited).toBe(false);
    expect(t.counters.get(FixCounter.CANCELS_OVERDUE)).toBe(1);
  });

  it('a cancel answered in time is never asked about; with no timeout (0) an unanswered one is not either', () => {
    const t = setup(64, false, TIMEOUT_MS);
    t.connect();
    t.sorRecord(RecordType.CHILD_NEW, 1001, 10, '99.00');
    t.pump();
    t.sorRecord(RecordType.CHILD_CANCEL, 1001, 10, '99.00');
    t.pump();
    expect(t.of(ChildEventKind.CANCELED, 1001)).toHaveLength(1);
    t.clock.ms += 10 * TIMEOUT_MS;
    expect(t.stage.askOverdueCancels()).toBe(0);
    expect(t.stage.cancelsAwaited).toBe(false);

    const off = setup(64, false, 0);
    off.connect();
    unansweredCancel(off, false);
    off.clock.ms += 3_600_000;
    expect(off.stage.askOverdueCancels()).toBe(0);
    expect(off.counters.get(FixCounter.STATUS_REQUESTS_SENT)).toBe(0);
    expect(off.counters.get(FixCounter.CANCELS_OVERDUE)).toBe(0);
  });

  it('pending cancel (39=6) in the answer: awaited another period, then asked again; unanswered, asked each period, and only the latest request\'s answer is judged', () => {
    const t = setup(64, false, TIMEOUT_MS);
    const link = t.connect();
    unansweredCancel(t);
    link.bToA.inputPaused = true; // the venue reads nothing more from us until released
    t.clock.ms += TIMEOUT_MS;
    expect(t.stage.askOverdueCancels()).toBe(1); // pass 2 (the Logon's was 1)
    t.clock.ms += 1_000;
    t.report(statusOf1001('6', 'R2')); // a second later the venue says the cancel is pending there
    t.clock.ms += TIMEOUT_MS - 1;
    expect(t.stage.askOverdueCancels()).toBe(0); // awaited a full period from that answer
    t.clock.ms += 1;
    expect(t.stage.askOverdueCancels()).toBe(1); // pass 3
    t.clock.ms += TIMEOUT_MS;
    expect(t.stage.askOverdueCancels()).toBe(1); // pass 4: pass 3 went unanswered
    expect(t.counters.get(FixCounter.CANCELS_OVERDUE)).toBe(3);
    expect(t.counters.get(FixCounter.STATUS_REQUESTS_SENT)).toBe(3);
    expect(t.counters.get(FixCounter.CANCELS_RESENT)).toBe(0);
    // The venue reads its backlog: answers R2, R3 (earlier passes: not judged) and R4 (39=0:
    // working, the cancel not there), so the cancel is written again, once.
    link.bToA.inputPaused = false;
    t.pump();
    expect(t.counters.get(FixCounter.CANCELS_RESENT)).toBe(1);
    expect(t.counters.get(FixCounter.CANCELS_SENT)).toBe(2);
    expect(t.of(ChildEventKind.CANCELED, 1001)).toHaveLength(1);
  });

  it('a request refused by back-pressure is asked at the next call; a session down at the deadline leaves it to the next Logon\'s reconciliation', () => {
    const t = setup(64, false, TIMEOUT_MS);
    const link = t.connect();
    unansweredCancel(t);
    t.clock.ms += TIMEOUT_MS;
    link.aToB.accepting = false;
    expect(t.stage.askOverdueCancels()).toBe(0);
    expect(t.counters.get(FixCounter.CANCELS_OVERDUE)).toBe(0);
    expect(t.stage.cancelsAwaited).toBe(true);
    link.aToB.accepting = true;
    expect(t.stage.askOverdueCancels()).toBe(1);
    t.pump();
    expect(t.of(ChildEventKind.CANCELED, 1001)).toHaveLength(1);

    const d = setup(64, false, TIMEOUT_MS);
    d.connect();
    unansweredCancel(d);
    d.cut();
    d.clock.ms += TIMEOUT_MS;
    expect(d.stage.askOverdueCancels()).toBe(0);
    expect(d.stage.cancelsAwaited).toBe(false);
    d.connect(); // the reconciliation's 35=H: the child working there, the cancel not
    expect(d.counters.get(FixCounter.STATUS_REQUESTS_SENT)).toBe(1);
    expect(d.counters.get(FixCounter.CANCELS_RESENT)).toBe(1);
    expect(d.of(ChildEventKind.CANCELED, 1001)).toHaveLength(1);
    expect(d.counters.get(FixCounter.CANCELS_OVERDUE)).toBe(0);
  });

  it('a slow venue: the answer to the Logon\'s request, sent before the cancel, is not taken for the answer to the overdue request', () => {
    const t = setup(64, false, TIMEOUT_MS);
    t.connect();
    t.sorRecord(RecordType.CHILD_NEW, 1001, 10, '99.00');
    t.pump();
    t.cut();
    const link = t.connect(undefined, false);
    link.pump(); // the Logons
    link.bToA.inputPaused = true; // the venue is slow: it reads nothing more from us for now
    t.pump(); // the reconciliation's 35=H (pass 2) waits in the link
    t.sorRecord(RecordType.CHILD_CANCEL, 1001, 10, '99.00');
    t.pump(); // the 35=F behind it
    t.clock.ms += TIMEOUT_MS;
    expect(t.stage.askOverdueCancels()).toBe(1); // a 35=H of a pass of its own (3)
    // The venue reads all three: it answers pass 2 (39=0: working, read before the cancel), then
    // cancels, then answers pass 3 (canceled). Pass 2's answer must not get the cancel written again.
    link.bToA.inputPaused = false;
    t.pump();
    expect(t.counters.get(FixCounter.STATUS_REQUESTS_SENT)).toBe(2);
    expect(t.counters.get(FixCounter.CANCELS_RESENT)).toBe(0);
    expect(t.counters.get(FixCounter.CANCELS_SENT)).toBe(1);
    expect(t.of(ChildEventKind.CANCELED, 1001)).toHaveLength(1);
    expect(t.of(ChildEventKind.CANCEL_REJECTED, 1001)).toHaveLength(0);
  });

  it('a slow venue: each cancel is judged by the answer to its own request, though the venue was asked about another since', () => {
    const t = setup(64, false, TIMEOUT_MS);
    const link = t.connect();
    t.sorRecord(RecordType.CHILD_NEW, 1001, 10, '99.00');
    t.sorRecord(RecordType.CHILD_NEW, 1002, 10, '98.00');
    t.pump();
    swallowNextCancel(t);
    swallowNextCancel(t); // the venue takes both cancels and answers neither
    t.sorRecord(RecordType.CHILD_CANCEL, 1001, 10, '99.00');
    t.pump();
    t.clock.ms += 1_000;
    t.sorRecord(RecordType.CHILD_CANCEL, 1002, 10, '98.00');
    t.pump();
    expect(t.counters.get(FixCounter.CANCELS_SENT)).toBe(2);
    link.bToA.inputPaused = true; // and is slow to read what follows
    t.clock.ms += TIMEOUT_MS - 1_000;
    expect(t.stage.askOverdueCancels()).toBe(1); // 1001, pass 2
    t.clock.ms += 1_000;
    expect(t.stage.askOverdueCancels()).toBe(1); // 1002, pass 3
    link.bToA.inputPaused = false; // answers R2 (1001 working), then R3 (1002 working)
    t.pump();
    expect(t.counters.get(FixCounter.CANCELS_RESENT)).toBe(2);
    expect(t.of(ChildEventKind.CANCELED, 1001)).toHaveLength(1);
    expect(t.of(ChildEventKind.CANCELED, 1002)).toHaveLength(1);
  });

  const statusOf1001 = (ordStatus: string, reqId: string): [number, string][] => [
    [Tag.OrderID, 'X'], [Tag.ExecID, `S-${ordStatus}-${reqId}`], [Tag.ClOrdID, '1001'], [Tag.ExecType, 'I'], [Tag.OrdStatus, ordStatus], [Tag.Symbol, 'AAPL'],
    [Tag.Side, '1'], [Tag.LeavesQty, '10'], [Tag.CumQty, '0'], [Tag.AvgPx, '0'], [Tag.OrdStatusReqID, reqId],
  ];
});

describe('FixStage venue side: a child slot still live', () => {
  it('refuses a new child whose slot another live child holds (REJECTED, CHILD_TABLE_FULL, never sent); takes it once that child ended', () => {
    const t = setup(16);
    t.connect();
    t.sorRecord(RecordType.CHILD_NEW, 1001, 10, '99.00'); // rests at the venue
    t.pump();
    expect(t.stage.childState[1001 - BASE]).toBe(VenueChildState.OPEN);
    const sent = t.counters.get(FixCounter.CHILDREN_SENT);
    t.sorRecord(RecordType.CHILD_NEW, 1017, 10, '98.00'); // same slot (16 apart)
    t.pump();
    expect(t.of(ChildEventKind.REJECTED, 1017).map((e) => e.reason)).toEqual([Reason.CHILD_TABLE_FULL]);
    expect(t.sorIds(ChildEventKind.REJECTED)).toEqual([1017]);
    expect(t.counters.get(FixCounter.CHILDREN_REFUSED_SLOT_LIVE)).toBe(1);
    expect(t.counters.get(FixCounter.CHILDREN_SENT)).toBe(sent);
    expect(t.of(ChildEventKind.SENT, 1017)).toEqual([]);
    expect(t.of(ChildEventKind.ACKED, 1017)).toEqual([]);
    // The live child is still the slot's: its cancel goes out and ends it.
    t.sorRecord(RecordType.CHILD_CANCEL, 1001, 10, '99.00');
    t.pump();
    expect(t.of(ChildEventKind.CANCELED, 1001)).toHaveLength(1);
    t.sorRecord(RecordType.CHILD_NEW, 1033, 10, '98.00');
    t.pump();
    expect(t.of(ChildEventKind.SENT, 1033)).toHaveLength(1);
    expect(t.stage.childState[(1033 - BASE) % 16]).toBe(VenueChildState.OPEN); // the venue acked it
  });
});

describe('FixStage venue side: a lagging SOR', () => {
  const idsUpTo = (total: number): number[] => Array.from({ length: total }, (_, i) => BASE + 1 + i);

  it('pauses reading the venues while child events wait for the SOR, resumes once it catches up: none lost, none reordered', () => {
    const t = setup(16_384);
    t.connect();
    t.sorLags = true;
    // Children resting far from the market: each is sent (a SENT event) and acked (ACKED), and
    // every event goes to risk and to the SOR. 20,000 events: past the SOR overflow's old bound
    // (16,384), which halted the engine.
    const total = 10_000;
    while (t.feedChildren(total) < total);
    expect(t.stage.venueInputPausedNow).toBe(true);
    expect(t.counters.get(FixCounter.VENUE_INPUT_PAUSES)).toBe(1);
    // What waits in the overflows is published, for the clean stop to wait for.
    expect(t.counters.get(FixCounter.EVENTS_WAITING)).toBeGreaterThan(0);
    expect(t.riskIds(ChildEventKind.SENT)).toHaveLength(total);
    // The venue's acks wait on its side of the link (in TCP: the socket buffers).
    expect(t.riskIds(ChildEventKind.ACKED).length).toBeLessThan(total);
    t.sorLags = false;
    for (let i = 0; i < 100 && t.riskIds(ChildEventKind.ACKED).length < total; i++) t.pump();
    expect(t.stage.venueInputPausedNow).toBe(false);
    for (const kind of [ChildEventKind.SENT, ChildEventKind.ACKED]) {
      expect(t.riskIds(kind)).toEqual(idsUpTo(total));
      expect(t.sorIds(kind)).toEqual(idsUpTo(total));
    }
    expect(t.sorEvents).toEqual(t.events.map((e) => [e.kind, e.childId]));
    expect(t.counters.get(FixCounter.EVENTS_WAITING)).toBe(0);
    // The held acks, delivered at once on resume, may pause it again on the way: never lost.
    expect(t.counters.get(FixCounter.VENUE_INPUT_PAUSES)).toBeGreaterThanOrEqual(1);
  });

  it('a venue going down while the SOR\'s ring is full reaches the SOR behind the child events before it', () => {
    const t = setup(16_384);
    t.connect();
    expect(t.statuses).toEqual([true]);
    t.sorLags = true;
    // 1,000 children: 2,000 events, more than the 64 KiB ring to the SOR holds.
    while (t.feedChildren(1_000) < 1_000);
    expect(t.stage.venueInputPausedNow).toBe(false);
    // Before: 'Invariant: the status ring to sor has room' halted the engine here.
    t.cut();
    t.sorLags = false;
    for (let i = 0; i < 10 && t.statuses.length < 2; i++) t.pump();
    expect(t.statuses).toEqual([true, false]);
    expect(t.sorEvents).toHaveLength(2_000);
    expect(t.statusAfter[1]).toBe(2_000);
  });

  it('venue fills whose ExecIDs take the whole 64 bytes wait in the overflow while risk lags, and reach risk intact and in order', () => {
    const t = setup(4096);
    t.connect();
    const n = 800;
    for (let i = 0; i < 50 && t.riskIds(ChildEventKind.ACKED).length < n; i++) t.feedChildren(n);
    expect(t.riskIds(ChildEventKind.ACKED)).toEqual(idsUpTo(n));
    t.riskLags = true;
    const execId = (k: number) => `X${String(k).padStart(6, '0')}-${'z'.repeat(56)}`;
    for (let k = 1; k <= n; k++) {
      t.report([[Tag.OrderID, 'X'], [Tag.ExecID, execId(k)], [Tag.ClOrdID, String(BASE + k)], [Tag.ExecType, 'F'], [Tag.OrdStatus, '2'], [Tag.Symbol, 'AAPL'],
        [Tag.Side, '1'], [Tag.LeavesQty, '0'], [Tag.CumQty, '1'], [Tag.AvgPx, '1'], [Tag.LastQty, '1'], [Tag.LastPx, '1']]);
    }
    // More than the ring to risk holds (64 KiB): the rest waits in the fix stage's overflow.
    expect(t.counters.get(FixCounter.EVENTS_WAITING)).toBeGreaterThan(0);
    t.riskLags = false;
    for (let i = 0; i < 20 && t.events.filter((e) => e.kind === ChildEventKind.FILL).length < n; i++) t.pump();
    const fills = t.events.filter((e) => e.kind === ChildEventKind.FILL);
    expect(execId(1)).toHaveLength(64);
    expect(fills.map((e) => [e.childId, e.execId])).toEqual(idsUpTo(n).map((id) => [id, execId(id - BASE)]));
  });

  it('while risk lags, stops taking children from the SOR (its overflow to risk holds the venue\'s answers), then delivers every event in order', () => {
    const t = setup(16_384);
    t.connect();
    t.riskLags = true;
    // Children go out while the ring to risk has room; then this stage stops reading the SOR's
    // ring (its children wait there): the events still due are the answers to those sent, which
    // the overflow holds, well under the pause threshold.
    const total = 6_000;
    for (let round = 0; round < 10; round++) t.feedChildren(total);
    expect(t.childrenFed).toBeLessThan(total);
    expect(t.counters.get(FixCounter.BACKPRESSURE_STALLS)).toBeGreaterThan(0);
    expect(t.stage.venueInputPausedNow).toBe(false);
    t.riskLags = false;
    for (let i = 0; i < 200 && t.riskIds(ChildEventKind.ACKED).length < total; i++) t.feedChildren(total);
    expect(t.stage.venueInputPausedNow).toBe(false);
    for (const kind of [ChildEventKind.SENT, ChildEventKind.ACKED]) expect(t.riskIds(kind)).toEqual(idsUpTo(total));
    expect(t.sorEvents).toEqual(t.events.map((e) => [e.kind, e.childId]));
  });
});
