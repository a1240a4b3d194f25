/**
 * The fix stage's venue side: one FIX 4.4 initiator session per venue. Child orders from the SOR
 * go out as NewOrderSingle (35=D), child cancels as OrderCancelRequest (35=F); ExecutionReports
 * (35=8) and OrderCancelRejects (35=9) come back as CHILD_EVENT records to risk.
 *
 *   sor --CHILD_NEW / CHILD_CANCEL / ROUTE_DONE--> +-----+ --35=D / 35=F--> venue sessions
 *                                                  | fix |
 *   risk <--CHILD_EVENT, ROUTE_DONE (relayed)----- +-----+ <--35=8 / 35=9-- venue sessions
 *   sor  <--VENUE_STATUS-------------------------- (session up / down)
 *
 * Ordering: CHILD_EVENT(SENT) for a child is written before its ROUTE_DONE is relayed, and both
 * before any report of that child from the venue, all on the one fix -> risk ring, so risk always
 * learns of a child before its fills.
 *
 * Wire ids: a child's ClOrdID <11> is its numeric child id; its cancel's ClOrdID is the child id
 * followed by 'C' (one cancel per child), with OrigClOrdID <41> = the child id. Child ids are
 * unique across restarts (issued from the boot time), so a venue never sees one twice.
 *
 * Venue events arrive in socket callbacks. They are written straight into the ring to risk; if
 * that ring is full they wait in a bounded local overflow (never dropped) that is flushed first
 * on the next duty cycle. Reconciliation of in-flight children after a reconnect belongs to the
 * FIX issue and plugs in here. FIX clients (the acceptor) are served by client-gateway.ts,
 * attached with attachClientGateway: its commands share the ring to risk, its reports arrive on
 * riskToFix.
 */

import type { Agent } from '../../engine/agent.ts';
import type { Clock } from '../../engine/clock.ts';
import { FixCounter, type StageCounters } from '../../engine/counters.ts';
import { OrdType, Side } from '../../engine/domain.ts';
import { MAX_PRICE_TICKS, MAX_QTY, parseUint, writeUint, INVALID } from '../../engine/fixed-point.ts';
import { Reason } from '../../engine/reasons.ts';
import { FULL, HEADER_LENGTH, alignRecord, type RecordHandler, type RingConsumer, type RingProducer } from '../../engine/ring.ts';
import {
  CHILD_EVENT_LENGTH,
  ChildEventFlyweight,
  ChildEventKind,
  ChildOrderFlyweight,
  ROUTE_DONE_LENGTH,
  RecordType,
  VENUE_STATUS_LENGTH,
  VenueStatusFlyweight,
} from '../../codecs/records.ts';
import type { FixParser } from '../../fix/parser.ts';
import { MsgType } from '../../fix/msg-type.ts';
import { SessionState } from '../../fix/session-state.ts';
import { FixSession, SessionRole, type FixApplication } from '../../fix/session.ts';
import { ascii } from '../../fix/encoder.ts';
import { Tag } from '../../fix/tags.ts';
import type { ClientGateway } from './client-gateway.ts';

export const FIX_BATCH = 256;
/** Venue events held while the ring to risk is full; beyond this the engine halts (never drops). */
export const OVERFLOW_EVENTS = 65_536;
const SEND_OK = 0;

const CH_C = 67; // 'C'
const CH_0 = 48;

export interface VenueSessionConfig {
  venueId: number;
  name: string;
  senderCompId: string;
  targetCompId: string;
  heartBtIntS: number;
}

export interface FixStageRings {
  fromSor: RingConsumer;
  fromRisk: RingConsumer;
  toRisk: RingProducer;
  toSor: RingProducer;
}

/** One venue's application callbacks: translate its reports into CHILD_EVENT records. */
class VenueApp implements FixApplication {
  readonly venueId: number;
  private readonly stage: FixStage;
  constructor(stage: FixStage, venueId: number) {
    this.stage = stage;
    this.venueId = venueId;
  }
  onAppMessage(msg: FixParser, _session: FixSession): void {
    this.stage.onVenueMessage(this.venueId, msg);
  }
  onSessionReject(_msg: FixParser, _session: FixSession): void {
    this.stage.counters.add(FixCounter.UNKNOWN_EXEC_REPORTS, 1);
  }
  onStateChange(_session: FixSession, previous: number, next: number): void {
    if (next === SessionState.ACTIVE) this.stage.onVenueStatus(this.venueId, true);
    else if (previous === SessionState.ACTIVE) this.stage.onVenueStatus(this.venueId, false);
  }
}

class SorDispatch implements RecordHandler {
  private readonly stage: FixStage;
  constructor(stage: FixStage) {
    this.stage = stage;
  }
  onRecord(typeId: number, offset: number, length: number): void {
    this.stage.onSorRecord(typeId, offset, length);
  }
}

class RiskDispatch implements RecordHandler {
  private readonly stage: FixStage;
  constructor(stage: FixStage) {
    this.stage = stage;
  }
  onRecord(_typeId: number, _offset: number, _length: number): void {
    // Without a client gateway no FIX client can have an order: any such report is counted.
    this.stage.counters.add(FixCounter.CLIENT_REPORTS_UNSERVED, 1);
  }
}

export class FixStage implements Agent {
  readonly counters: StageCounters;
  /** Sessions by venue id (null where no venue). */
  readonly sessions: (FixSession | null)[];
  private readonly rings: FixStageRings;
  private readonly clock: Clock;
  private readonly symbolBytes: Uint8Array[];
  private readonly accountBytes: Uint8Array[];
  private readonly sorDispatch: SorDispatch;
  private readonly riskDispatch: RiskDispatch;
  private readonly child = new ChildOrderFlyweight();
  private readonly event = new ChildEventFlyweight();
  private readonly status = new VenueStatusFlyweight();
  private readonly idScratch = new Uint8Array(32);
  /** Children this stage sent, by slot = (childId - base) % capacity: to map reports back. */
  private readonly childBase: number;
  private readonly childCapacity: number;
  private readonly childIds: Float64Array;
  private readonly childOrderIds: Float64Array;
  private readonly childQty: Float64Array;
  private readonly childPrice: Float64Array;
  /** Venue events waiting for room in the ring to risk. */
  private readonly overflow: Uint8Array;
  private readonly overflowView: DataView;
  private overflowCount: number;
  private uncommitted: boolean;
  /** Called after a socket callback wrote to a ring (the runner schedules a commit). */
  onOutput: () => void = () => {};
  /** FIX client sessions (the acceptor side), or null: reports for FIX clients are then counted. */
  private gateway: ClientGateway | null = null;

  constructor(
    venues: VenueSessionConfig[], symbols: string[], accounts: string[], childBase: number, childCapacity: number,
    rings: FixStageRings, clock: Clock, counters: StageCounters,
  ) {
    this.rings = rings;
    this.clock = clock;
    this.counters = counters;
    this.symbolBytes = symbols.map((s) => ascii(s));
    this.accountBytes = accounts.map((a) => ascii(a));
    this.sorDispatch = new SorDispatch(this);
    this.riskDispatch = new RiskDispatch(this);
    this.childBase = childBase;
    this.childCapacity = childCapacity;
    this.childIds = new Float64Array(childCapacity);
    this.childOrderIds = new Float64Array(childCapacity);
    this.childQty = new Float64Array(childCapacity);
    this.childPrice = new Float64Array(childCapacity);
    this.overflow = new Uint8Array(OVERFLOW_EVENTS * CHILD_EVENT_LENGTH);
    this.overflowView = new DataView(this.overflow.buffer);
    this.overflowCount = 0;
    this.uncommitted = false;
    const maxVenue = venues.reduce((m, v) => Math.max(m, v.venueId), 0);
    this.sessions = new Array<FixSession | null>(maxVenue + 1).fill(null);
    const fixClock = { now: () => Date.now() };
    for (const v of venues) {
      this.sessions[v.venueId] = new FixSession({
        role: SessionRole.INITIATOR,
        senderCompId: v.senderCompId,
        targetCompId: v.targetCompId,
        clock: fixClock,
        app: new VenueApp(this, v.venueId),
        heartBtIntSec: v.heartBtIntS,
      });
    }
  }

  /** The ring to risk, shared with the client gateway (this thread is its one producer). */
  get producerToRisk(): RingProducer {
    return this.rings.toRisk;
  }

  /** Serves FIX clients: their commands go to risk on this stage's ring, their reports come back here. */
  attachClientGateway(gateway: ClientGateway): void {
    this.gateway = gateway;
    gateway.onCommand = () => {
      this.uncommitted = true;
      this.onOutput();
    };
  }

  doWork(): number {
    let work = this.flushOverflow();
    // Each SOR record yields at most two records to risk.
    const room = Math.floor(this.rings.toRisk.freeBytes() / (2 * alignRecord(HEADER_LENGTH + CHILD_EVENT_LENGTH)));
    const limit = this.overflowCount > 0 ? 0 : Math.min(FIX_BATCH, room);
    if (limit === 0) this.counters.add(FixCounter.BACKPRESSURE_STALLS, 1);
    else work += this.rings.fromSor.poll(this.sorDispatch, limit);
    work += this.gateway !== null ? this.gateway.drain(this.rings.fromRisk, FIX_BATCH) : this.rings.fromRisk.poll(this.riskDispatch, FIX_BATCH);
    if (work > 0 || this.uncommitted) this.commit();
    return work;
  }

  private commit(): void {
    this.uncommitted = false;
    this.rings.toRisk.commit();
    this.rings.toSor.commit();
  }

  onSorRecord(typeId: number, offset: number, _length: number): void {
    const ring = this.rings.fromSor;
    switch (typeId) {
      case RecordType.CHILD_NEW:
        this.sendNewOrder(this.child.wrap(ring.view, ring.bytes, offset));
        return;
      case RecordType.CHILD_CANCEL:
        this.sendCancel(this.child.wrap(ring.view, ring.bytes, offset));
        return;
      case RecordType.ROUTE_DONE:
        this.relayToRisk(typeId, ring.bytes, offset, ROUTE_DONE_LENGTH);
        return;
    }
    this.counters.add(FixCounter.UNKNOWN_EXEC_REPORTS, 1);
  }

  private sendNewOrder(c: ChildOrderFlyweight): void {
    const venueId = c.venueId();
    const session = venueId < this.sessions.length ? this.sessions[venueId] : null;
    const childId = c.childId();
    if (session === null || session.state !== SessionState.ACTIVE) {
      this.counters.add(FixCounter.CHILDREN_REFUSED_VENUE_DOWN, 1);
      this.emitEvent(ChildEventKind.REJECTED, childId, c.orderId(), venueId, c.qty(), c.priceTicks(), 0, 0, Reason.VENUE_DOWN);
      return;
    }
    const idLength = writeUint(this.idScratch, 0, childId);
    const enc = session.beginApp(MsgType.NEW_ORDER_SINGLE);
    enc.addBytes(Tag.ClOrdID, this.idScratch, 0, idLength);
    const account = this.accountBytes[c.accountId()];
    if (account !== undefined) enc.addAscii(Tag.Account, account);
    enc.addAscii(Tag.Symbol, this.symbolBytes[c.symbolId()]);
    enc.addChar(Tag.Side, c.side() === Side.BUY ? 49 : 50);
    enc.addUtcTimestamp(Tag.TransactTime, this.clock.epochMs());
    enc.addInt(Tag.OrderQty, c.qty());
    enc.addChar(Tag.OrdType, c.ordType() === OrdType.MARKET ? 49 : 50);
    if (c.ordType() === OrdType.LIMIT) enc.addTicks(Tag.Price, c.priceTicks());
    enc.addChar(Tag.TimeInForce, CH_0 + c.tif());
    if (session.sendApp() !== SEND_OK) {
      this.counters.add(FixCounter.CHILDREN_REFUSED_VENUE_DOWN, 1);
      this.emitEvent(ChildEventKind.REJECTED, childId, c.orderId(), venueId, c.qty(), c.priceTicks(), 0, 0, Reason.VENUE_DOWN);
      return;
    }
    const slot = (childId - this.childBase) % this.childCapacity;
    this.childIds[slot] = childId;
    this.childOrderIds[slot] = c.orderId();
    this.childQty[slot] = c.qty();
    this.childPrice[slot] = c.priceTicks();
    this.counters.add(FixCounter.CHILDREN_SENT, 1);
    this.emitEvent(ChildEventKind.SENT, childId, c.orderId(), venueId, c.qty(), c.priceTicks(), 0, 0, Reason.NONE);
  }

  private sendCancel(c: ChildOrderFlyweight): void {
    const venueId = c.venueId();
    const session = venueId < this.sessions.length ? this.sessions[venueId] : null;
    if (session === null || session.state !== SessionState.ACTIVE) {
      // The venue is unreachable: the cancel waits for the session's reconciliation (FIX issue).
      this.emitEvent(ChildEventKind.CANCEL_REJECTED, c.childId(), c.orderId(), venueId, c.qty(), c.priceTicks(), 0, 0, Reason.VENUE_DOWN);
      return;
    }
    const idLength = writeUint(this.idScratch, 0, c.childId());
    const enc = session.beginApp(MsgType.ORDER_CANCEL_REQUEST);
    enc.addBytes(Tag.OrigClOrdID, this.idScratch, 0, idLength);
    this.idScratch[idLength] = CH_C;
    enc.addBytes(Tag.ClOrdID, this.idScratch, 0, idLength + 1);
    enc.addAscii(Tag.Symbol, this.symbolBytes[c.symbolId()]);
    enc.addChar(Tag.Side, c.side() === Side.BUY ? 49 : 50);
    enc.addUtcTimestamp(Tag.TransactTime, this.clock.epochMs());
    enc.addInt(Tag.OrderQty, c.qty());
    if (session.sendApp() !== SEND_OK) {
      this.emitEvent(ChildEventKind.CANCEL_REJECTED, c.childId(), c.orderId(), venueId, c.qty(), c.priceTicks(), 0, 0, Reason.VENUE_DOWN);
      return;
    }
    this.counters.add(FixCounter.CANCELS_SENT, 1);
  }

  /** A venue's application message, inside its socket callback. */
  onVenueMessage(venueId: number, msg: FixParser): void {
    const type = msg.msgType;
    if (type !== MsgType.EXECUTION_REPORT && type !== MsgType.ORDER_CANCEL_REJECT) return;
    // The child is named by OrigClOrdID on cancel traffic, else by ClOrdID (its leading digits).
    const tag = msg.has(Tag.OrigClOrdID) ? Tag.OrigClOrdID : Tag.ClOrdID;
    let end = msg.valueStart(tag);
    const start = end;
    const limit = msg.valueEnd(tag);
    while (end < limit && msg.buf[end] >= CH_0 && msg.buf[end] <= CH_0 + 9) end++;
    const childId = parseUint(msg.buf, start, end, Number.MAX_SAFE_INTEGER);
    const slot = childId === INVALID ? -1 : (childId - this.childBase) % this.childCapacity;
    if (slot < 0 || this.childIds[slot] !== childId) {
      this.counters.add(FixCounter.UNKNOWN_EXEC_REPORTS, 1);
      return;
    }
    this.counters.add(FixCounter.EXEC_REPORTS, 1);
    const orderId = this.childOrderIds[slot];
    const qty = this.childQty[slot];
    const price = this.childPrice[slot];
    if (type === MsgType.ORDER_CANCEL_REJECT) {
      this.emitEvent(ChildEventKind.CANCEL_REJECTED, childId, orderId, venueId, qty, price, 0, 0, Reason.NONE);
    } else {
      this.onExecutionReport(msg, childId, orderId, venueId, qty, price);
    }
    this.uncommitted = true;
    this.onOutput();
  }

  private onExecutionReport(msg: FixParser, childId: number, orderId: number, venueId: number, qty: number, price: number): void {
    switch (msg.getChar(Tag.ExecType)) {
      case 48: // '0' New
        this.emitEvent(ChildEventKind.ACKED, childId, orderId, venueId, qty, price, 0, 0, Reason.NONE);
        return;
      case 70: // 'F' Trade (FIX 4.4)
      case 49: // '1' Partial fill (FIX 4.2 style)
      case 50: { // '2' Fill (FIX 4.2 style)
        const lastQty = msg.getQty(Tag.LastQty);
        const lastPx = msg.getTicks(Tag.LastPx);
        if (!(lastQty > 0 && lastQty <= MAX_QTY && lastPx > 0 && lastPx <= MAX_PRICE_TICKS)) {
          this.counters.add(FixCounter.UNKNOWN_EXEC_REPORTS, 1);
          return;
        }
        this.emitEvent(ChildEventKind.FILL, childId, orderId, venueId, qty, price, lastQty, lastPx, Reason.NONE);
        return;
      }
      case 52: // '4' Canceled
      case 51: // '3' Done for day
        this.emitEvent(ChildEventKind.CANCELED, childId, orderId, venueId, qty, price, 0, 0, Reason.VENUE_CANCELED);
        return;
      case 56: // '8' Rejected
        this.emitEvent(ChildEventKind.REJECTED, childId, orderId, venueId, qty, price, 0, 0, Reason.VENUE_REJECT);
        return;
      case 67: // 'C' Expired
        this.emitEvent(ChildEventKind.EXPIRED, childId, orderId, venueId, qty, price, 0, 0, Reason.VENUE_CANCELED);
        return;
    }
    // Pending cancel, pending new, replaced, status: informational for now.
  }

  onVenueStatus(venueId: number, up: boolean): void {
    const ring = this.rings.toSor;
    const at = ring.tryClaim(RecordType.VENUE_STATUS, VENUE_STATUS_LENGTH);
    if (at === FULL) throw new Error('Invariant: the status ring to sor has room (a few records per reconnect)');
    this.status.wrap(ring.view, ring.bytes, at).setTimeNs(this.clock.nowNs()).setVenueId(venueId).setUp(up);
    this.counters.add(FixCounter.SESSIONS_UP, up ? 1 : -1);
    this.uncommitted = true;
    this.onOutput();
  }

  private emitEvent(
    kind: number, childId: number, orderId: number, venueId: number, qty: number, price: number,
    lastQty: number, lastPx: number, reason: number,
  ): void {
    const ring = this.rings.toRisk;
    let at = this.overflowCount === 0 ? ring.tryClaim(RecordType.CHILD_EVENT, CHILD_EVENT_LENGTH) : FULL;
    let view = ring.view;
    let bytes = ring.bytes;
    if (at === FULL) {
      if (this.overflowCount === OVERFLOW_EVENTS) throw new Error('Invariant: venue event overflow bounded (risk stalled)');
      at = this.overflowCount++ * CHILD_EVENT_LENGTH;
      view = this.overflowView;
      bytes = this.overflow;
    }
    this.event
      .wrap(view, bytes, at)
      .setChildId(childId)
      .setOrderId(orderId)
      .setTimeNs(this.clock.nowNs())
      .setLastQty(lastQty)
      .setLastPxTicks(lastPx)
      .setQty(qty)
      .setPriceTicks(price)
      .setVenueId(venueId)
      .setReason(reason)
      .setKind(kind);
  }

  private relayToRisk(typeId: number, src: Uint8Array, offset: number, length: number): void {
    const ring = this.rings.toRisk;
    const at = ring.tryClaim(typeId, length);
    if (at === FULL) throw new Error('Invariant: room checked before the batch');
    for (let i = 0; i < length; i++) ring.bytes[at + i] = src[offset + i];
  }

  /** Moves waiting venue events into the ring to risk, oldest first. */
  private flushOverflow(): number {
    if (this.overflowCount === 0) return 0;
    const ring = this.rings.toRisk;
    let moved = 0;
    while (moved < this.overflowCount) {
      const at = ring.tryClaim(RecordType.CHILD_EVENT, CHILD_EVENT_LENGTH);
      if (at === FULL) break;
      const from = moved * CHILD_EVENT_LENGTH;
      for (let i = 0; i < CHILD_EVENT_LENGTH; i++) ring.bytes[at + i] = this.overflow[from + i];
      moved++;
    }
    this.overflow.copyWithin(0, moved * CHILD_EVENT_LENGTH, this.overflowCount * CHILD_EVENT_LENGTH);
    this.overflowCount -= moved;
    return moved;
  }
}
