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
 * on the next duty cycle.
 *
 * Reconnect and reconciliation. Venue sessions keep their sequence numbers and sent messages in
 * file stores (venue-sessions.ts), so after a reconnect (or an engine restart) the FIX resend
 * protocol recovers what either side missed: a NewOrderSingle the venue never got is resent by
 * the session layer with PossDupFlag=Y under its original MsgSeqNum (never re-created here), and
 * reports we missed are resent by the venue. Once the session is ACTIVE and its inbound recovery
 * is over (session.recovering false), every child of that venue still unacknowledged or open is
 * asked for with an OrderStatusRequest (35=H, 11 = child id, 55, 54, 790), and cancels that arrived
 * while the venue was down are sent. Status answers (150=I) are applied: a CumQty above what the
 * reports delivered becomes a fill of the difference (priced from AvgPx), a dead order
 * (canceled, expired, rejected, unknown to the venue) closes the child. A fill whose ExecID was
 * already applied is dropped (exec-id-set.ts), so no fill counts twice; also across a restart:
 * a fill's CHILD_EVENT carries its ExecID's hash, and recovery.ts restores the set from them.
 * VENUE_STATUS records tell the SOR when a venue goes down and up.
 *
 * FIX clients (the acceptor) are served by client-gateway.ts,
 * attached with attachClientGateway: its commands share the ring to risk, its reports arrive on
 * riskToFix.
 */

import type { SharedHistogram } from '../../engine/shared-histogram.ts';
import type { Agent } from '../../engine/agent.ts';
import type { Clock } from '../../engine/clock.ts';
import { FixCounter, type StageCounters } from '../../engine/counters.ts';
import { OrdType, Side } from '../../engine/domain.ts';
import { MAX_PRICE_TICKS, MAX_QTY, missedFillPriceTicks, parseUint, writeUint, INVALID } from '../../engine/fixed-point.ts';
import { Reason } from '../../engine/reasons.ts';
import { HEADER_LENGTH, alignRecord, type GatedRecordHandler, type RecordHandler, type RingConsumer, type RingProducer } from '../../engine/ring.ts';
import {
  CHILD_EVENT_LENGTH,
  CHILD_EVENT_MAX_LENGTH,
  childEventLength,
  ChildEventFlyweight,
  ChildEventKind,
  ChildOrderFlyweight,
  ROUTE_DONE_LENGTH,
  RecordType,
  journalGatePasses,
} from '../../codecs/records.ts';
import type { FixParser } from '../../fix/parser.ts';
import { MsgType } from '../../fix/msg-type.ts';
import { SessionState } from '../../fix/session-state.ts';
import { FixSession, SessionRole, type FixApplication } from '../../fix/session.ts';
import { ascii } from '../../fix/encoder.ts';
import { Tag } from '../../fix/tags.ts';
import type { MessageStore } from '../../fix/store.ts';
import type { SessionSchedule } from '../../fix/session-schedule.ts';
import type { ClientGateway } from './client-gateway.ts';
import { SorFeed } from './market-data.ts';
import { RingOverflow } from '../../engine/ring-overflow.ts';
import { SlotQueue } from '../../engine/slot-queue.ts';
import { ExecIdSet, execIdHash } from './exec-id-set.ts';
import { childSlot } from '../risk/order-table.ts';
import { SnapshotMismatch, type SnapshotArray, type SnapshotReader, type SnapshotWriter } from '../../persistence/snapshot.ts';

export const FIX_BATCH = 256;
/** Venue events held while the ring to risk is full; beyond this the engine halts (never drops). */
export const OVERFLOW_EVENTS = 65_536;
/**
 * Reading from every venue pauses once this many child events wait in this stage's overflows
 * (risk's ring or the SOR's full), and resumes once no more than VENUE_INPUT_RESUME_EVENTS do:
 * the venues' messages then wait in the sockets' buffers (TCP flow control slows the venues)
 * instead of in the overflows, whose bounds (OVERFLOW_EVENTS, SOR_OVERFLOW_EVENTS) halt the
 * engine. Well below both bounds: what one socket read already holds is still delivered.
 * Without it an engine pushed past what its cores carry halted (bench:e2e at 20,000 orders/s:
 * the SOR, waiting for room in its full ring to this stage, stopped reading the child events
 * this stage kept copying to it, and their overflow, then 16,384, filled).
 *
 * Headroom, not a proof: while paused the overflows still take one event per child this stage
 * sends from the SOR's ring (SENT, or REJECTED with its venue down), and the SOR's re-routes and
 * fallback cancels add children whatever it reads; a SOR stalled long enough can still reach the
 * bounds. A stage parked on a full ring is rung by that ring's consumer when it frees room
 * (engine/ring.ts ROOM_WAITING).
 */
const VENUE_INPUT_PAUSE_EVENTS = 4_096;
const VENUE_INPUT_RESUME_EVENTS = 1_024;

const SEND_OK = 0;

const CH_C = 67; // 'C'
const CH_R = 82; // 'R'
const STATUS_PASS_PREFIX = ascii('R');
/** Pass numbers run 1 .. 2^31-1 (addAsciiInt's range), then wrap to 1. */
const MAX_STATUS_PASS = 0x7fffffff;
/** After a held cancel's write is refused, doWork tries the held cancels again no sooner than this (the sessions' timer also does, every 50 ms). */
const HELD_RETRY_NS = 1_000_000;
const CH_0 = 48;

/**
 * The reconciliation pass an ExecutionReport answers: its OrdStatusReqID (790) is "R" and the
 * pass's number, which this stage's status requests carry and a venue echoes; -1 for none.
 */
function statusPassOf(msg: FixParser): number {
  const start = msg.valueStart(Tag.OrdStatusReqID);
  if (start < 0 || msg.buf[start] !== CH_R) return -1;
  const pass = parseUint(msg.buf, start + 1, msg.valueEnd(Tag.OrdStatusReqID), MAX_STATUS_PASS);
  return pass === INVALID ? -1 : pass;
}

/**
 * A child's cancel, per slot (childCancelWanted). HELD: asked for while the venue was down, or the
 * write failed (back-pressure, the session dropped while writing); written at the next
 * reconciliation, or, while the session stays up, as soon as it takes writes again (heldCancels:
 * doWork and the sessions' timer try them, oldest first, without scanning the table). SENT:
 * written to the venue and not yet answered (no Canceled or other end, no OrderCancelReject); a
 * second cancel request is not written (CANCELS_ALREADY_SENT). ASKED: SENT, and a status request
 * (35=H) went out after it (a Logon's reconciliation, or askOverdueCancels once the venue's
 * cancelAckTimeoutMs passed unanswered), of a pass kept per slot (childAskPass): the venue processes
 * messages in MsgSeqNum order, so if the answer to that request (790 = "R" and the pass number,
 * echoed) shows the child still working and not pending cancel, the venue never got the cancel
 * (a Logon that reset the sequence numbers resends nothing, nor does a venue that lost its
 * messages), and it is written again. A cancel written after the request, and an answer to an
 * earlier request about it (sent before the cancel, or superseded), are not judged. A venue that does not echo 790
 * never has a cancel written again (STATUS_ANSWERS_UNNAMED counts its answers). Only HELD is
 * journaled (CANCEL_REJECTED VENUE_DOWN, emitted whenever a cancel becomes HELD); after a restart
 * risk's resume pass sends the cancels of every order still PENDING_CANCEL or PENDING_REPLACE
 * again.
 */
const CancelState = { NONE: 0, HELD: 1, SENT: 2, ASKED: 3 } as const;

/** What this stage knows of a child at its venue (childState). */
export const VenueChildState = {
  /** No child in this slot. */
  NONE: 0,
  /** NewOrderSingle sent, no answer yet. */
  SENT: 1,
  /** Acknowledged (or partly filled): working at the venue. */
  OPEN: 2,
  /** Filled, canceled, expired or rejected: nothing of it is live. */
  DONE: 3,
} as const;

export interface VenueSessionConfig {
  venueId: number;
  name: string;
  senderCompId: string;
  targetCompId: string;
  heartBtIntS: number;
  /** Sequence numbers and sent messages (venue-sessions.ts gives a file store). Default: memory. */
  store?: MessageStore;
  /** Daily session schedule, or none. */
  schedule?: SessionSchedule | null;
  /** Logon with ResetSeqNumFlag (141=Y) every time (venues[].resetOnLogon). Default false. */
  resetOnLogon?: boolean;
  /** A cancel unanswered this long is asked about (venues[].cancelAckTimeoutMs; askOverdueCancels). Default 0: never. */
  cancelAckTimeoutMs?: number;
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
    if (next === SessionState.ACTIVE) this.stage.onVenueUp(this.venueId);
    else if (previous === SessionState.ACTIVE) this.stage.onVenueStatus(this.venueId, false);
  }
}

/**
 * The SOR's records, gated: a CHILD_NEW waits in the ring until the journal holds the ROUTE_AUDIT
 * that names it (its journal mark, sor-stage.ts), and everything behind it waits with it, so a
 * cancel never overtakes its child. A ring without an armed gate (unit tests) passes every mark.
 */
class SorDispatch implements GatedRecordHandler {
  private readonly stage: FixStage;
  private readonly ring: RingConsumer;
  constructor(stage: FixStage, ring: RingConsumer) {
    this.stage = stage;
    this.ring = ring;
  }
  accept(typeId: number, offset: number, _length: number): boolean {
    return journalGatePasses(this.ring, typeId, offset);
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
  /** Venue quotes (35=W) to sor and risk, and child-event copies to sor (market-data.ts). */
  readonly sorFeed: SorFeed;
  private readonly accountBytes: Uint8Array[];
  private readonly sorDispatch: SorDispatch;
  private readonly riskDispatch: RiskDispatch;
  private readonly child = new ChildOrderFlyweight();
  private readonly event = new ChildEventFlyweight();
  private readonly idScratch = new Uint8Array(32);
  /** Children this stage sent, by slot = childSlot(childId, base, capacity): to map reports back. */
  private readonly childBase: number;
  readonly childCapacity: number;
  private readonly childIds: Float64Array;
  private readonly childOrderIds: Float64Array;
  private readonly childQty: Float64Array;
  private readonly childPrice: Float64Array;
  private readonly childVenue: Uint8Array;
  private readonly childSymbol: Uint32Array;
  private readonly childSide: Uint8Array;
  /** VenueChildState per slot. */
  readonly childState: Uint8Array;
  /** Quantity and notional (ticks) the venue reported filled, for reconciliation. */
  private readonly childCum: Float64Array;
  private readonly childNotional: Float64Array;
  /** CancelState per slot: a cancel held for the venue's return, or written and not yet answered. */
  private readonly childCancelWanted: Uint8Array;
  /** Per venue id: the number of its latest reconciliation pass (its 35=H carry it in 790). */
  private readonly reconcilePass: Uint32Array;
  /** Per venue id: 1 while a reconciliation waits for the session to be up and recovered. */
  private readonly reconcilePending: Uint8Array;
  private reconcileAny: boolean;
  /**
   * Slots whose cancel became HELD while their venue's session may still be up (a refused
   * write): writeHeldCancels writes them once the session takes writes again. A slot whose
   * cancel is no longer HELD, or whose session is down (the next Logon's reconciliation writes
   * it), leaves the queue when its turn comes.
   */
  private readonly heldCancels: SlotQueue;
  /** Per venue id, during one pass over a queue (writeHeldCancels, askOverdueCancels): 1 once a write to it was refused. */
  private readonly venueRefused: Uint8Array;
  /** Engine clock (ns) before which doWork does not try the held cancels again after a refusal (0: at once). */
  private heldRetryAtNs = 0;
  /**
   * Slots whose cancel is written (SENT) or asked about (ASKED) at a venue with a cancel answer
   * timeout: askOverdueCancels asks the venue about those unanswered past it. A slot whose cancel
   * was answered meanwhile leaves the queue when its turn comes.
   */
  private readonly awaitedCancels: SlotQueue;
  /** Per slot: engine clock (ns) when its cancel was last written or asked about (awaitedCancels). */
  private readonly childCancelAtNs: Float64Array;
  /**
   * Per slot whose cancel is ASKED: the status pass (790 = "R" + pass) of the latest request about
   * it. Only the answer to that request judges the cancel, however many passes its venue has
   * opened since (a Logon's reconciliation, askOverdueCancels for other cancels).
   */
  private readonly childAskPass: Uint32Array;
  /** Per venue id: venues[].cancelAckTimeoutMs in ns; 0: cancels there are never asked about. */
  private readonly cancelTimeoutNs: Float64Array;
  private readonly execIds: ExecIdSet;
  /** The ring to risk with the venue events waiting for room in it. */
  private readonly riskQueue: RingOverflow;
  /** Reading from the venues is paused (VENUE_INPUT_PAUSE_EVENTS). */
  private venueInputPaused = false;
  private uncommitted: boolean;
  /** Called after a socket callback wrote to a ring (the runner schedules a commit). */
  onOutput: () => void = () => {};
  /**
   * SOR decision -> NewOrderSingle handed to the venue session (engine clock, ns), recorded per
   * child into a shared-memory histogram (engine/shared-histogram.ts: no allocation), or null.
   */
  decisionToWire: SharedHistogram | null = null;
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
    this.sorFeed = new SorFeed(rings.toSor, rings.toRisk, this.symbolBytes, counters);
    this.accountBytes = accounts.map((a) => ascii(a));
    this.sorDispatch = new SorDispatch(this, rings.fromSor);
    this.riskDispatch = new RiskDispatch(this);
    this.childBase = childBase;
    this.childCapacity = childCapacity;
    this.childIds = new Float64Array(childCapacity);
    this.childOrderIds = new Float64Array(childCapacity);
    this.childQty = new Float64Array(childCapacity);
    this.childPrice = new Float64Array(childCapacity);
    this.childVenue = new Uint8Array(childCapacity);
    this.childSymbol = new Uint32Array(childCapacity);
    this.childSide = new Uint8Array(childCapacity);
    this.childState = new Uint8Array(childCapacity);
    this.childCum = new Float64Array(childCapacity);
    this.childNotional = new Float64Array(childCapacity);
    this.childCancelWanted = new Uint8Array(childCapacity);
    this.heldCancels = new SlotQueue(childCapacity);
    this.awaitedCancels = new SlotQueue(childCapacity);
    this.childCancelAtNs = new Float64Array(childCapacity);
    this.childAskPass = new Uint32Array(childCapacity);
    this.execIds = new ExecIdSet();
    this.reconcileAny = false;
    this.riskQueue = new RingOverflow(rings.toRisk, OVERFLOW_EVENTS, alignRecord(CHILD_EVENT_MAX_LENGTH), 'Invariant: venue event overflow bounded (risk stalled)');
    this.uncommitted = false;
    const maxVenue = venues.reduce((m, v) => Math.max(m, v.venueId), 0);
    this.sessions = new Array<FixSession | null>(maxVenue + 1).fill(null);
    this.reconcilePending = new Uint8Array(maxVenue + 1);
    this.venueRefused = new Uint8Array(maxVenue + 1);
    this.reconcilePass = new Uint32Array(maxVenue + 1);
    this.cancelTimeoutNs = new Float64Array(maxVenue + 1);
    const fixClock = { now: () => clock.epochMs() };
    for (const v of venues) {
      const timeoutMs = v.cancelAckTimeoutMs ?? 0;
      if (!(Number.isSafeInteger(timeoutMs) && timeoutMs >= 0)) throw new Error('Condition failed: a cancel answer timeout is a whole number of ms, 0 or more');
      this.cancelTimeoutNs[v.venueId] = timeoutMs * 1e6;
      this.sessions[v.venueId] = new FixSession({
        id: v.venueId,
        role: SessionRole.INITIATOR,
        senderCompId: v.senderCompId,
        targetCompId: v.targetCompId,
        clock: fixClock,
        app: new VenueApp(this, v.venueId),
        heartBtIntSec: v.heartBtIntS,
        store: v.store,
        schedule: v.schedule ?? null,
        resetSeqNumOnLogon: v.resetOnLogon ?? false,
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
    gateway.onCommand = () => this.markUncommitted();
  }

  doWork(): number {
    let work = this.riskQueue.flush() + this.sorFeed.flush();
    this.updateVenueInputPause();
    if (this.reconcileAny) work += this.reconcileVenues();
    if (this.heldCancels.length > 0 && this.clock.nowNs() >= this.heldRetryAtNs) work += this.writeHeldCancels();
    // Each SOR record yields at most two records to risk.
    const room = this.rings.toRisk.inputsThatFit(2 * alignRecord(HEADER_LENGTH + CHILD_EVENT_LENGTH), CHILD_EVENT_LENGTH);
    const limit = this.riskQueue.pending > 0 ? 0 : Math.min(FIX_BATCH, room);
    if (limit === 0) this.counters.add(FixCounter.BACKPRESSURE_STALLS, 1);
    else work += this.rings.fromSor.pollWhile(this.sorDispatch, limit);
    work += this.gateway !== null ? this.gateway.drain(this.rings.fromRisk, FIX_BATCH) : this.rings.fromRisk.poll(this.riskDispatch, FIX_BATCH);
    if (work > 0 || this.uncommitted) this.commit();
    // After the commit: a reader that sees 0 here and then empty rings saw these events' records.
    this.publishEventsWaiting(0);
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
        this.rings.toRisk.copyChecked(typeId, ring.bytes, offset, ROUTE_DONE_LENGTH);
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
      this.emitEvent(ChildEventKind.REJECTED, childId, c.orderId(), venueId, c.qty(), c.priceTicks(), 0, 0, Reason.VENUE_DOWN, 0);
      return;
    }
    const slot = childSlot(childId, this.childBase, this.childCapacity);
    if (this.heldByAnother(slot, childId)) {
      // Another child is still live in this slot (the SOR's table skips live slots, so only a
      // child this stage alone holds, such as one restored from an audit, gets here): the new
      // child is refused rather than the live one forgotten, and never reaches its venue.
      this.counters.add(FixCounter.CHILDREN_REFUSED_SLOT_LIVE, 1);
      this.emitEvent(ChildEventKind.REJECTED, childId, c.orderId(), venueId, c.qty(), c.priceTicks(), 0, 0, Reason.CHILD_TABLE_FULL, 0);
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
      this.emitEvent(ChildEventKind.REJECTED, childId, c.orderId(), venueId, c.qty(), c.priceTicks(), 0, 0, Reason.VENUE_DOWN, 0);
      return;
    }
    this.childIds[slot] = childId;
    this.childOrderIds[slot] = c.orderId();
    this.childQty[slot] = c.qty();
    this.childPrice[slot] = c.priceTicks();
    this.childVenue[slot] = venueId;
    this.childSymbol[slot] = c.symbolId();
    this.childSide[slot] = c.side();
    this.childState[slot] = VenueChildState.SENT;
    this.childCum[slot] = 0;
    this.childNotional[slot] = 0;
    this.childCancelWanted[slot] = 0;
    this.counters.add(FixCounter.CHILDREN_SENT, 1);
    if (this.decisionToWire !== null) this.decisionToWire.record(this.clock.nowNs() - c.decisionTimeNs());
    this.emitEvent(ChildEventKind.SENT, childId, c.orderId(), venueId, c.qty(), c.priceTicks(), 0, 0, Reason.NONE, 0);
  }

  private sendCancel(c: ChildOrderFlyweight): void {
    const venueId = c.venueId();
    const slot = this.slotOf(c.childId());
    if (slot >= 0 && this.childCancelWanted[slot] >= CancelState.SENT) {
      // Its cancel is written and not yet answered (a SOR fallback and a client's cancel, or the
      // SOR's retry after a hold this stage has since written): a second 35=F with the same
      // ClOrdID would only draw the venue's reject, which ends the tracking of the first.
      this.counters.add(FixCounter.CANCELS_ALREADY_SENT, 1);
      return;
    }
    const session = this.sessionOf(venueId);
    if (session === null || session.state !== SessionState.ACTIVE || !this.writeCancel(session, c.childId(), c.symbolId(), c.side(), c.qty())) {
      // The venue is unreachable, or back-pressure / the session dropped while writing: the
      // cancel is held, and written once the session takes writes again or at its next Logon.
      if (slot >= 0 && this.childState[slot] !== VenueChildState.DONE) this.holdCancel(slot);
      this.emitEvent(ChildEventKind.CANCEL_REJECTED, c.childId(), c.orderId(), venueId, c.qty(), c.priceTicks(), 0, 0, Reason.VENUE_DOWN, 0);
      return;
    }
    if (slot < 0) return;
    if (this.childState[slot] !== VenueChildState.DONE) this.awaitCancel(slot, CancelState.SENT);
    else this.childCancelWanted[slot] = CancelState.NONE;
  }

  /**
   * The child's cancel is written (SENT) or asked about (ASKED) now: where its venue has a cancel
   * answer timeout, the answer is awaited from now (awaitedCancels; a slot already queued keeps
   * its place, its time moves).
   */
  private awaitCancel(slot: number, state: number): void {
    this.childCancelWanted[slot] = state;
    const venueId = this.childVenue[slot];
    if (venueId >= this.cancelTimeoutNs.length || this.cancelTimeoutNs[venueId] === 0) return;
    this.childCancelAtNs[slot] = this.clock.nowNs();
    this.awaitedCancels.push(slot);
  }

  /** Cancels written or asked about wait for their venues' answers (the sessions' timer then calls askOverdueCancels). */
  get cancelsAwaited(): boolean {
    return this.awaitedCancels.length > 0;
  }

  /**
   * Cancels their venue has not answered within its cancelAckTimeoutMs (awaitedCancels; the whole
   * queue, which holds only cancels written and not yet seen answered): each is counted
   * (CANCELS_OVERDUE) and asked about with a 35=H of a new status pass of its venue, whose answer
   * is judged as a Logon's reconciliation's: the child ended (it is
   * closed), its cancel pending there (awaited another period), or the venue working it without
   * the cancel (written again, CANCELS_RESENT). Unanswered, it is asked again each period. A
   * cancel whose session is down or not yet reconciled leaves the queue: the next reconciliation
   * asks about it. Called from the sessions' timer, off the duty cycle. Returns the requests written.
   */
  askOverdueCancels(): number {
    const now = this.clock.nowNs();
    this.venueRefused.fill(0);
    let asked = 0;
    for (let n = this.awaitedCancels.length; n > 0; n--) {
      const slot = this.awaitedCancels.shift();
      const state = this.childCancelWanted[slot];
      if ((state !== CancelState.SENT && state !== CancelState.ASKED) || this.childState[slot] === VenueChildState.DONE) continue;
      const venueId = this.childVenue[slot];
      const session = this.sessionOf(venueId);
      if (session === null || session.state !== SessionState.ACTIVE || this.reconcilePending[venueId] === 1) continue;
      // A slot taken over, while queued, by a child of a venue with no timeout: not asked about.
      if (this.cancelTimeoutNs[venueId] === 0) continue;
      if (now - this.childCancelAtNs[slot] < this.cancelTimeoutNs[venueId] || this.venueRefused[venueId] === 1) {
        this.awaitedCancels.push(slot);
        continue;
      }
      // A pass of its own: an answer to an earlier request (sent before this cancel, or before
      // its last write) is not taken as the answer to this one. Taken only once the request goes out.
      const pass = this.nextStatusPass(venueId);
      if (!this.writeStatusRequest(session, slot, pass)) {
        this.venueRefused[venueId] = 1; // back-pressure: the next call asks
        this.awaitedCancels.push(slot);
        continue;
      }
      this.reconcilePass[venueId] = pass;
      this.counters.add(FixCounter.CANCELS_OVERDUE, 1);
      this.childAskPass[slot] = pass;
      this.awaitCancel(slot, CancelState.ASKED);
      asked++;
    }
    return asked;
  }

  /** The status pass after the venue's latest (1 .. MAX_STATUS_PASS, then 1 again); the caller takes it. */
  private nextStatusPass(venueId: number): number {
    const pass = this.reconcilePass[venueId];
    return pass >= MAX_STATUS_PASS ? 1 : pass + 1;
  }

  /** OrderCancelRequest 35=F for a child (41 = child id, 11 = child id + 'C'). False when not sent. */
  private writeCancel(session: FixSession, childId: number, symbolId: number, side: number, qty: number): boolean {
    const idLength = writeUint(this.idScratch, 0, childId);
    const enc = session.beginApp(MsgType.ORDER_CANCEL_REQUEST);
    enc.addBytes(Tag.OrigClOrdID, this.idScratch, 0, idLength);
    this.idScratch[idLength] = CH_C;
    enc.addBytes(Tag.ClOrdID, this.idScratch, 0, idLength + 1);
    enc.addAscii(Tag.Symbol, this.symbolBytes[symbolId]);
    enc.addChar(Tag.Side, side === Side.BUY ? 49 : 50);
    enc.addUtcTimestamp(Tag.TransactTime, this.clock.epochMs());
    enc.addInt(Tag.OrderQty, qty);
    if (session.sendApp() !== SEND_OK) return false;
    this.counters.add(FixCounter.CANCELS_SENT, 1);
    return true;
  }

  /**
   * The cancel of the child in `slot` is HELD (its write refused, or its venue down): counted,
   * queued for writeHeldCancels. The caller emits the CANCEL_REJECTED VENUE_DOWN that journals
   * it (recovery's restoreEvent reads it as held).
   */
  private holdCancel(slot: number): void {
    this.childCancelWanted[slot] = CancelState.HELD;
    this.counters.add(FixCounter.CANCELS_DEFERRED, 1);
    this.heldCancels.push(slot);
  }

  /**
   * Writes the cancels held while their venue's session stayed up (heldCancels), oldest first,
   * each once its session takes the write; after one refusal a venue is not tried again in this
   * call (its are kept, in order). Returns the cancels written. Called from doWork and the
   * sessions' timer; a pass costs the queue's length, and the queue is empty but for back-pressure.
   */
  writeHeldCancels(): number {
    this.venueRefused.fill(0);
    let written = 0;
    let refused = false;
    for (let n = this.heldCancels.length; n > 0; n--) {
      const slot = this.heldCancels.shift();
      if (this.childCancelWanted[slot] !== CancelState.HELD || this.childState[slot] === VenueChildState.DONE) continue;
      const venueId = this.childVenue[slot];
      const session = this.sessionOf(venueId);
      // A session that is down, logging on, or not yet reconciled after its Logon writes it at
      // its reconciliation (after the status requests, the resend over).
      if (session === null || session.state !== SessionState.ACTIVE || this.reconcilePending[venueId] === 1) continue;
      if (this.venueRefused[venueId] === 0 && this.writeCancelOf(session, slot)) {
        this.awaitCancel(slot, CancelState.SENT);
        this.counters.add(FixCounter.CANCELS_RETRIED, 1);
        written++;
        continue;
      }
      this.venueRefused[venueId] = 1;
      refused = true;
      this.heldCancels.push(slot);
    }
    // A refusal: doWork tries again no sooner than HELD_RETRY_NS (each try encodes a 35=F).
    this.heldRetryAtNs = refused ? this.clock.nowNs() + HELD_RETRY_NS : 0;
    return written;
  }

  /** The venue's session, or null for a venue id this stage has none for (a child restored from an earlier configuration). */
  private sessionOf(venueId: number): FixSession | null {
    return venueId < this.sessions.length ? this.sessions[venueId] : null;
  }

  /** writeCancel for the child in `slot` of the table. */
  private writeCancelOf(session: FixSession, slot: number): boolean {
    return this.writeCancel(session, this.childIds[slot], this.childSymbol[slot], this.childSide[slot], this.childQty[slot]);
  }

  /** OrderStatusRequest 35=H for a child (11 = child id, 55, 54, 790 = "R" + pass). False when not sent. */
  private writeStatusRequest(session: FixSession, slot: number, pass: number): boolean {
    const idLength = writeUint(this.idScratch, 0, this.childIds[slot]);
    const enc = session.beginApp(MsgType.ORDER_STATUS_REQUEST);
    enc.addBytes(Tag.ClOrdID, this.idScratch, 0, idLength);
    enc.addAscii(Tag.Symbol, this.symbolBytes[this.childSymbol[slot]]);
    enc.addChar(Tag.Side, this.childSide[slot] === Side.BUY ? 49 : 50);
    enc.addAsciiInt(Tag.OrdStatusReqID, STATUS_PASS_PREFIX, pass);
    if (session.sendApp() !== SEND_OK) return false;
    this.counters.add(FixCounter.STATUS_REQUESTS_SENT, 1);
    return true;
  }

  // ------------------------------------------------------------------ recovery (recovery.ts)

  /**
   * Recovery, before the sessions start: a child of an earlier boot as its journaled SENT event
   * (and its order's symbol and side) or, for a child in flight at the crash, its ROUTE_AUDIT
   * describe it, in the slot sendNewOrder would have given it.
   * Returns false when that slot holds a different child still live (the table is too small for
   * what is live; counted by the caller, the newer child is not restored over it).
   */
  restoreSent(childId: number, orderId: number, venueId: number, symbolId: number, side: number, qty: number, priceTicks: number): boolean {
    if (!(Number.isSafeInteger(childId) && childId >= this.childBase)) throw new Error('Condition failed: a restored child id lies at or above the table base');
    const slot = childSlot(childId, this.childBase, this.childCapacity);
    if (this.heldByAnother(slot, childId)) return false;
    this.childIds[slot] = childId;
    this.childOrderIds[slot] = orderId;
    this.childQty[slot] = qty;
    this.childPrice[slot] = priceTicks;
    this.childVenue[slot] = venueId;
    this.childSymbol[slot] = symbolId;
    this.childSide[slot] = side;
    this.childState[slot] = VenueChildState.SENT;
    this.childCum[slot] = 0;
    this.childNotional[slot] = 0;
    this.childCancelWanted[slot] = 0;
    return true;
  }

  /**
   * Recovery: what a later journaled CHILD_EVENT of a restored child did to it, with the same
   * state changes as the live handlers (onExecutionReport, applyFill, closeChild, sendCancel),
   * and nothing emitted. A CANCEL_REJECTED with reason VENUE_DOWN is a cancel held while the
   * venue was down or the send failed (sendCancel): it is wanted again at reconciliation. The
   * venue's own refusal of a cancel (35=9, reason NONE) leaves the wish as it was, as the live
   * handler does: it answers an earlier cancel, not the held one. Returns false for a child not
   * in the table.
   */
  restoreEvent(kind: number, childId: number, lastQty: number, lastPx: number, reason: number): boolean {
    const slot = this.slotOf(childId);
    if (slot < 0) return false;
    switch (kind) {
      case ChildEventKind.ACKED:
        if (this.childState[slot] === VenueChildState.SENT) this.childState[slot] = VenueChildState.OPEN;
        return true;
      case ChildEventKind.FILL:
        if (this.childCum[slot] + lastQty <= this.childQty[slot]) {
          this.childCum[slot] += lastQty;
          this.childNotional[slot] += lastQty * lastPx;
          if (this.childCum[slot] === this.childQty[slot]) this.childState[slot] = VenueChildState.DONE;
          else if (this.childState[slot] === VenueChildState.SENT) this.childState[slot] = VenueChildState.OPEN;
        }
        return true;
      case ChildEventKind.CANCELED:
      case ChildEventKind.REJECTED:
      case ChildEventKind.EXPIRED:
        this.childState[slot] = VenueChildState.DONE;
        this.childCancelWanted[slot] = 0;
        return true;
      case ChildEventKind.CANCEL_REJECTED:
        if (reason === Reason.VENUE_DOWN) this.childCancelWanted[slot] = this.childState[slot] !== VenueChildState.DONE ? CancelState.HELD : CancelState.NONE;
        return true;
    }
    return true;
  }

  /**
   * Recovery: a fill of an earlier boot, applied with the ExecID of hash `idHash` (its
   * journaled CHILD_EVENT), so that the venue resending it after the restart (PossDupFlag=Y, its
   * inbound sequence number not yet stored at the crash) is dropped as a duplicate and not
   * applied twice. Returns false when the set held it already (exec-id-set.ts restore).
   */
  restoreExecId(venueId: number, idHash: number): boolean {
    return this.execIds.restore(venueId, idHash);
  }

  /** Children this stage holds as unacknowledged or open at a venue (recovery's report). */
  liveChildCount(): number {
    let n = 0;
    for (let slot = 0; slot < this.childCapacity; slot++) {
      const s = this.childState[slot];
      if (s === VenueChildState.SENT || s === VenueChildState.OPEN) n++;
    }
    return n;
  }

  /** The child table's arrays with their snapshot tags, in snapshot order (one list for both directions). */
  private childArrays(): [string, SnapshotArray][] {
    return [
      ['children.ids', this.childIds], ['children.orderIds', this.childOrderIds], ['children.qty', this.childQty],
      ['children.price', this.childPrice], ['children.venue', this.childVenue], ['children.symbol', this.childSymbol],
      ['children.side', this.childSide], ['children.state', this.childState], ['children.cum', this.childCum],
      ['children.notional', this.childNotional], ['children.cancelWanted', this.childCancelWanted],
    ];
  }

  /**
   * Recovery snapshot (persistence/snapshot.ts, workers/fix/recovery.ts): everything
   * restoreSent, restoreEvent and restoreExecId build, that is the child table (every per-slot
   * array: the table keeps no free list or live count) and the ExecID set. The base first: slots
   * depend on it. Start-up only: allocates.
   */
  snapshotRecovered(w: SnapshotWriter): void {
    w.number('children.base', this.childBase);
    for (const [tag, a] of this.childArrays()) w.array(tag, a);
    this.execIds.snapshot(w, 'execIds');
  }

  /**
   * Recovery, before the sessions start: the child table and ExecID set as snapshotRecovered
   * wrote them (over whatever they held). Throws SnapshotMismatch when the snapshot does not fit
   * this stage (another base, capacity or layout); the table may then be partly overwritten.
   */
  restoreRecovered(r: SnapshotReader): void {
    const base = r.number('children.base');
    if (base !== this.childBase) throw new SnapshotMismatch(`children.base: ${base}, this stage's is ${this.childBase}`);
    for (const [tag, a] of this.childArrays()) r.arrayInto(tag, a);
    this.execIds.restoreSnapshot(r, 'execIds');
  }

  /** Whether another child, unacknowledged or open at its venue, holds the slot. */
  private heldByAnother(slot: number, childId: number): boolean {
    const held = this.childState[slot];
    return this.childIds[slot] !== childId && (held === VenueChildState.SENT || held === VenueChildState.OPEN);
  }

  /** Slot of a child this stage sent, or -1. */
  private slotOf(childId: number): number {
    if (!(childId >= this.childBase)) return -1;
    const slot = childSlot(childId, this.childBase, this.childCapacity);
    return this.childIds[slot] === childId ? slot : -1;
  }

  // ------------------------------------------------------------------ reconnect and reconciliation

  /** The venue's session logged on (first time or again): tell the SOR, reconcile once recovered. */
  onVenueUp(venueId: number): void {
    this.counters.add(FixCounter.VENUE_LOGONS, 1);
    this.reconcilePending[venueId] = 1;
    this.reconcileAny = true;
    this.onVenueStatus(venueId, true);
  }

  /** True while a venue waits for its reconciliation. */
  get reconciling(): boolean {
    return this.reconcileAny;
  }

  /** True while cancels held on a live session wait for it to take writes (writeHeldCancels). */
  get cancelsHeld(): boolean {
    return this.heldCancels.length > 0;
  }

  /**
   * Reconciles every venue whose session is up and done recovering (both directions' resends are
   * ordered by MsgSeqNum, so what we send now follows every resent message). Returns the number of
   * venues reconciled. Called from doWork and from the sessions' timer (venue-sessions.ts).
   */
  reconcileVenues(): number {
    let done = 0;
    let waiting = false;
    for (let v = 0; v < this.reconcilePending.length; v++) {
      if (this.reconcilePending[v] === 0) continue;
      const session = this.sessions[v];
      if (session === null || session.state !== SessionState.ACTIVE) {
        waiting = waiting || (session !== null && session.state !== SessionState.DISCONNECTED);
        if (session === null || session.state === SessionState.DISCONNECTED) this.reconcilePending[v] = 0;
        continue;
      }
      if (session.recovering) {
        waiting = true;
        continue;
      }
      this.reconcilePending[v] = 0;
      this.reconcile(v, session);
      done++;
    }
    this.reconcileAny = waiting;
    return done;
  }

  /**
   * One venue, after its resend: 35=H for each child still unacknowledged or open there, and the
   * cancels held while it was down. A scan of the child table (once per logon, not per message).
   */
  private reconcile(venueId: number, session: FixSession): void {
    this.counters.add(FixCounter.RECONCILIATIONS, 1);
    const pass = this.nextStatusPass(venueId);
    this.reconcilePass[venueId] = pass;
    for (let slot = 0; slot < this.childCapacity; slot++) {
      const state = this.childState[slot];
      if ((state !== VenueChildState.SENT && state !== VenueChildState.OPEN) || this.childVenue[slot] !== venueId) continue;
      if (!this.writeStatusRequest(session, slot, pass)) {
        this.reconcilePending[venueId] = 1; // back-pressure or the session dropped: try again later
        this.reconcileAny = true;
        return;
      }
      if (this.childCancelWanted[slot] === CancelState.SENT || this.childCancelWanted[slot] === CancelState.ASKED) {
        this.childAskPass[slot] = pass;
        this.awaitCancel(slot, CancelState.ASKED);
      }
      if (this.childCancelWanted[slot] === CancelState.HELD) {
        if (this.writeCancelOf(session, slot)) this.awaitCancel(slot, CancelState.SENT);
        else this.heldCancels.push(slot);
      }
    }
  }

  /** A venue's application message, inside its socket callback. */
  onVenueMessage(venueId: number, msg: FixParser): void {
    const type = msg.msgType;
    if (type === MsgType.MARKET_DATA_SNAPSHOT) {
      if (this.sorFeed.onMarketData(venueId, msg, this.clock.nowNs()) > 0) {
        this.markUncommitted();
      }
      return;
    }
    if (type !== MsgType.EXECUTION_REPORT && type !== MsgType.ORDER_CANCEL_REJECT) return;
    // The child is named by OrigClOrdID on cancel traffic, else by ClOrdID (its leading digits).
    const tag = msg.has(Tag.OrigClOrdID) ? Tag.OrigClOrdID : Tag.ClOrdID;
    let end = msg.valueStart(tag);
    const start = end;
    const limit = msg.valueEnd(tag);
    while (end < limit && msg.buf[end] >= CH_0 && msg.buf[end] <= CH_0 + 9) end++;
    const childId = parseUint(msg.buf, start, end, Number.MAX_SAFE_INTEGER);
    const slot = childId === INVALID ? -1 : this.slotOf(childId);
    if (slot < 0) {
      this.counters.add(FixCounter.UNKNOWN_EXEC_REPORTS, 1);
      return;
    }
    this.counters.add(FixCounter.EXEC_REPORTS, 1);
    const orderId = this.childOrderIds[slot];
    const qty = this.childQty[slot];
    const price = this.childPrice[slot];
    if (type === MsgType.ORDER_CANCEL_REJECT) {
      // The venue answered the cancel written (too late, unknown there): nothing to write again.
      // One held meanwhile stays held (this answers an earlier one).
      if (this.childCancelWanted[slot] >= CancelState.SENT) this.childCancelWanted[slot] = CancelState.NONE;
      this.emitEvent(ChildEventKind.CANCEL_REJECTED, childId, orderId, venueId, qty, price, 0, 0, Reason.NONE, 0);
    } else {
      this.onExecutionReport(msg, slot, childId, orderId, venueId, qty, price);
    }
    this.markUncommitted();
  }

  private onExecutionReport(msg: FixParser, slot: number, childId: number, orderId: number, venueId: number, qty: number, price: number): void {
    switch (msg.getChar(Tag.ExecType)) {
      case 48: // '0' New
        if (this.childState[slot] === VenueChildState.SENT) this.childState[slot] = VenueChildState.OPEN;
        this.emitEvent(ChildEventKind.ACKED, childId, orderId, venueId, qty, price, 0, 0, Reason.NONE, 0);
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
        // A fill counts once: its ExecID is remembered per venue (resends, replays, PossResend),
        // and its hash goes into the CHILD_EVENT, so recovery remembers it across a restart.
        const hash = this.firstExecId(msg, venueId);
        if (hash < 0) return;
        this.applyFill(slot, childId, orderId, venueId, qty, price, lastQty, lastPx, hash, msg);
        return;
      }
      case 52: // '4' Canceled
      case 51: // '3' Done for day
        this.closeChild(slot, ChildEventKind.CANCELED, childId, orderId, venueId, qty, price, Reason.VENUE_CANCELED);
        return;
      case 56: // '8' Rejected
        this.closeChild(slot, ChildEventKind.REJECTED, childId, orderId, venueId, qty, price, Reason.VENUE_REJECT);
        return;
      case 67: // 'C' Expired
        this.closeChild(slot, ChildEventKind.EXPIRED, childId, orderId, venueId, qty, price, Reason.VENUE_CANCELED);
        return;
      case 73: // 'I' Order status: the answer to our 35=H
        this.applyStatus(msg, slot, childId, orderId, venueId, qty, price);
        return;
      case 72: // 'H' Trade Cancel
        this.tradeCorrection(msg, ChildEventKind.TRADE_CANCEL, childId, orderId, venueId, qty, price);
        return;
      case 71: // 'G' Trade Correct
        this.tradeCorrection(msg, ChildEventKind.TRADE_CORRECT, childId, orderId, venueId, qty, price);
        return;
    }
    // Pending cancel, pending new, pending replace, stopped, suspended, restated: informational.
  }

  /**
   * A bust or correction of a fill already booked: journaled as its CHILD_EVENT (kind
   * TRADE_CANCEL or TRADE_CORRECT, with the report's LastQty and LastPx, 0 when absent or out of
   * range, and its ExecID and ExecRefID), so the audit trail, Postgres and Kafka have it, and
   * counted. Risk applies it to the fill its ExecRefID names (RiskStage.onTradeCorrection); the
   * child's venue totals here are left as they are (the venue does not reopen its quantity).
   * Its ExecID is remembered as a fill's is, so a resend counts once.
   */
  private tradeCorrection(msg: FixParser, kind: number, childId: number, orderId: number, venueId: number, qty: number, price: number): void {
    const hash = this.firstExecId(msg, venueId);
    if (hash < 0) return;
    const lastQty = msg.has(Tag.LastQty) ? msg.getQty(Tag.LastQty) : 0;
    const lastPx = msg.has(Tag.LastPx) ? msg.getTicks(Tag.LastPx) : 0;
    this.counters.add(FixCounter.TRADE_CORRECTIONS, 1);
    this.emitEvent(kind, childId, orderId, venueId, qty, price,
      lastQty > 0 && lastQty <= MAX_QTY ? lastQty : 0, lastPx > 0 && lastPx <= MAX_PRICE_TICKS ? lastPx : 0, Reason.NONE, hash, msg, true);
  }

  /**
   * The report's ExecID (17) into the venue's ExecID set: its execIdHash, 0 for a report without
   * one, or -1 when the set held it already (a resend or replay; counted in DUPLICATE_EXEC_IDS).
   */
  private firstExecId(msg: FixParser, venueId: number): number {
    const idStart = msg.valueStart(Tag.ExecID);
    if (idStart < 0) return 0;
    const idEnd = msg.valueEnd(Tag.ExecID);
    const hash = execIdHash(venueId, msg.buf, idStart, idEnd);
    if (this.execIds.addHashed(venueId, hash, msg.buf, idStart, idEnd)) return hash;
    this.counters.add(FixCounter.DUPLICATE_EXEC_IDS, 1);
    return -1;
  }

  /** idHash: execIdHash of the report's ExecID (exec-id-set.ts), 0 for none (a reconciliation fill); report: the fill's report (its ExecID is journaled), null for a reconciliation fill. */
  private applyFill(slot: number, childId: number, orderId: number, venueId: number, qty: number, price: number, lastQty: number, lastPx: number, idHash: number, report: FixParser | null): void {
    if (this.childCum[slot] + lastQty <= qty) {
      this.childCum[slot] += lastQty;
      this.childNotional[slot] += lastQty * lastPx;
      if (this.childCum[slot] === qty) this.childState[slot] = VenueChildState.DONE;
      else if (this.childState[slot] === VenueChildState.SENT) this.childState[slot] = VenueChildState.OPEN;
    }
    // An overfill goes to risk all the same: it counts it and refuses it (OVERFILLS).
    this.emitEvent(ChildEventKind.FILL, childId, orderId, venueId, qty, price, lastQty, lastPx, Reason.NONE, idHash, report);
  }

  private closeChild(slot: number, kind: number, childId: number, orderId: number, venueId: number, qty: number, price: number, reason: number): void {
    this.childState[slot] = VenueChildState.DONE;
    this.childCancelWanted[slot] = 0;
    this.emitEvent(kind, childId, orderId, venueId, qty, price, 0, 0, reason, 0);
  }

  /**
   * ExecType I (status) for a child: OrdStatus (39), CumQty (14), AvgPx (6). Reports arrive in
   * MsgSeqNum order and the venue answered after every report it sent before, so a CumQty above
   * ours means reports were lost: the difference becomes one fill priced so that the child's
   * notional matches CumQty x AvgPx, computed exactly from AvgPx's text (an average may be finer
   * than a tick) and rounded to the tick (missedFillPriceTicks; counted in RECON_FILLS); one it
   * cannot price leaves the child open (RECON_FILLS_UNPRICED). Then OrdStatus (FIX 4.4's
   * values): still working (0, 1, 7, 9, A, D, E; pending cancel 6) or ended (3, 4, B: canceled;
   * C: expired; 8: rejected or unknown there). A child already done is left alone.
   */
  private applyStatus(msg: FixParser, slot: number, childId: number, orderId: number, venueId: number, qty: number, price: number): void {
    const pass = statusPassOf(msg);
    if (pass < 0) this.counters.add(FixCounter.STATUS_ANSWERS_UNNAMED, 1);
    if (this.childState[slot] === VenueChildState.DONE) return;
    const status = msg.getChar(Tag.OrdStatus);
    const venueCum = msg.has(Tag.CumQty) ? msg.getQty(Tag.CumQty) : 0;
    const missing = venueCum - this.childCum[slot];
    if (missing > 0) {
      const lastPx = venueCum <= qty && msg.has(Tag.AvgPx)
        ? missedFillPriceTicks(msg.buf, msg.valueStart(Tag.AvgPx), msg.valueEnd(Tag.AvgPx), venueCum, missing, this.childNotional[slot], MAX_PRICE_TICKS)
        : INVALID;
      if (lastPx === INVALID) {
        // Not booked, and the child not closed whatever OrdStatus says: closing it would drop
        // shares the venue filled. It stays open, for operations to settle with the venue.
        this.counters.add(FixCounter.RECON_FILLS_UNPRICED, 1);
        return;
      }
      this.counters.add(FixCounter.RECON_FILLS, 1);
      this.applyFill(slot, childId, orderId, venueId, qty, price, missing, lastPx, 0, null);
    }
    if (this.childState[slot] === VenueChildState.DONE) return; // the fill above filled it
    switch (status) {
      case 48: // '0' New
      case 49: // '1' Partially filled
      case 65: // 'A' Pending new
      case 69: // 'E' Pending replace
      case 55: // '7' Stopped
      case 57: // '9' Suspended
      case 68: // 'D' Accepted for bidding
        if (this.childState[slot] === VenueChildState.SENT) this.childState[slot] = VenueChildState.OPEN;
        // Working, and not pending cancel, in the answer to the latest request about it (790
        // echoed: not an earlier request's answer, nor a status the venue sent for another reason, such as a
        // resent NewOrderSingle it already had): a cancel written before the request is not at the venue.
        if (this.childCancelWanted[slot] === CancelState.ASKED && pass === this.childAskPass[slot]) this.writeCancelAgain(slot, childId, orderId, venueId, qty, price);
        return;
      case 54: // '6' Pending cancel: the venue has the cancel
        if (this.childState[slot] === VenueChildState.SENT) this.childState[slot] = VenueChildState.OPEN;
        // Awaited another period from now (a venue that keeps it pending is asked again).
        if (this.childCancelWanted[slot] === CancelState.ASKED) this.awaitCancel(slot, CancelState.SENT);
        return;
      case 50: // '2' Filled, and CumQty did not fill it (the venue's OrderQty is not ours): left open
        return;
      case 52: // '4' Canceled
      case 51: // '3' Done for day
      case 66: // 'B' Calculated: done for the day, its fills above
        this.counters.add(FixCounter.RECON_CLOSED, 1);
        this.closeChild(slot, ChildEventKind.CANCELED, childId, orderId, venueId, qty, price, Reason.VENUE_CANCELED);
        return;
      case 67: // 'C' Expired
        this.counters.add(FixCounter.RECON_CLOSED, 1);
        this.closeChild(slot, ChildEventKind.EXPIRED, childId, orderId, venueId, qty, price, Reason.VENUE_CANCELED);
        return;
      case 56: { // '8' Rejected, or unknown to the venue (it lost or never took the order)
        this.counters.add(FixCounter.RECON_CLOSED, 1);
        const kind = this.childState[slot] === VenueChildState.SENT ? ChildEventKind.REJECTED : ChildEventKind.CANCELED;
        this.closeChild(slot, kind, childId, orderId, venueId, qty, price, Reason.VENUE_ORDER_UNKNOWN);
        return;
      }
    }
  }

  /**
   * A cancel written before that a status answer shows the venue never got: written again (same
   * ClOrdID, child id + 'C'), counted in CANCELS_RESENT; if that write fails too (back-pressure,
   * the session dropped) it is held as sendCancel holds one, and journaled so.
   */
  private writeCancelAgain(slot: number, childId: number, orderId: number, venueId: number, qty: number, price: number): void {
    const session = this.sessionOf(venueId);
    if (session !== null && session.state === SessionState.ACTIVE && this.writeCancelOf(session, slot)) {
      this.awaitCancel(slot, CancelState.SENT);
      this.counters.add(FixCounter.CANCELS_RESENT, 1);
      return;
    }
    this.holdCancel(slot);
    this.emitEvent(ChildEventKind.CANCEL_REJECTED, childId, orderId, venueId, qty, price, 0, 0, Reason.VENUE_DOWN, 0);
  }

  onVenueStatus(venueId: number, up: boolean): void {
    // Through the SOR feed, behind the child events before it: the ring to sor may be full (a
    // lagging SOR), and a session going up or down then must neither throw nor overtake them.
    this.sorFeed.venueStatus(venueId, up, this.clock.nowNs());
    this.counters.add(FixCounter.SESSIONS_UP, up ? 1 : -1);
    this.markUncommitted();
  }

  /**
   * report: the venue's report whose ExecID (17) the record carries, and its ExecRefID (19) when
   * withRef (codecs/records.ts CHILD_EVENT: for the audit trail; the SOR's copy leaves them out).
   */
  private emitEvent(
    kind: number, childId: number, orderId: number, venueId: number, qty: number, price: number,
    lastQty: number, lastPx: number, reason: number, idHash: number, report: FixParser | null = null, withRef = false,
  ): void {
    const q = this.riskQueue;
    // The identifiers' spans in the report (-1 both when absent: an empty span).
    const idStart = report === null ? 0 : report.valueStart(Tag.ExecID);
    const idEnd = report === null ? 0 : report.valueEnd(Tag.ExecID);
    const refStart = withRef && report !== null ? report.valueStart(Tag.ExecRefID) : 0;
    const refEnd = withRef && report !== null ? report.valueEnd(Tag.ExecRefID) : 0;
    const at = q.claim(RecordType.CHILD_EVENT, childEventLength(idEnd - idStart, refEnd - refStart));
    this.event
      .wrap(q.view, q.bytes, at)
      .setChildId(childId)
      .setOrderId(orderId)
      .setTimeNs(this.clock.nowNs())
      .setLastQty(lastQty)
      .setLastPxTicks(lastPx)
      .setQty(qty)
      .setPriceTicks(price)
      .setVenueId(venueId)
      .setReason(reason)
      .setKind(kind)
      .setExecIdHash(idHash);
    if (report !== null) this.event.setIds(report.buf, idStart, idEnd, refStart, refEnd);
    this.sorFeed.childEvent(q.bytes, at);
    this.updateVenueInputPause();
    // Inside a duty cycle too: committed only at its end.
    this.publishEventsWaiting(1);
  }

  /** Records waiting in the overflows to risk and the SOR. */
  private eventsWaiting(): number {
    return this.riskQueue.pending + this.sorFeed.pending;
  }

  /**
   * EVENTS_WAITING for the clean stop: what waits in the overflows, plus `uncommitted` (1 while
   * records written outside the last commit wait for the next, counted as one).
   */
  private publishEventsWaiting(uncommitted: number): void {
    this.counters.set(FixCounter.EVENTS_WAITING, this.eventsWaiting() + uncommitted);
  }

  /** A socket callback wrote to a ring: the next duty cycle commits it, and until then the clean stop sees it waiting. */
  private markUncommitted(): void {
    this.uncommitted = true;
    this.publishEventsWaiting(1);
    this.onOutput();
  }

  /** Pauses reading from every venue session at VENUE_INPUT_PAUSE_EVENTS waiting, resumes at VENUE_INPUT_RESUME_EVENTS. */
  private updateVenueInputPause(): void {
    const waiting = this.eventsWaiting();
    if (this.venueInputPaused ? waiting > VENUE_INPUT_RESUME_EVENTS : waiting < VENUE_INPUT_PAUSE_EVENTS) return;
    const paused = !this.venueInputPaused;
    this.venueInputPaused = paused;
    if (paused) this.counters.add(FixCounter.VENUE_INPUT_PAUSES, 1);
    for (const s of this.sessions) if (s !== null) s.setInputPaused(paused);
  }

  /** Reading from the venues is paused (risk or the SOR lags). */
  get venueInputPausedNow(): boolean {
    return this.venueInputPaused;
  }

}
