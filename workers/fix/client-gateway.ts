/**
 * The fix stage's client side: FIX 4.4 acceptor sessions for institutional clients. What the
 * WebSocket edge (workers/ingest) does for JSON, this does for FIX, with the same reason codes.
 *
 *   client --35=D/F/G--> session --NEW_ORDER / CANCEL_ORDER / REPLACE_ORDER (Source.FIX)--> fixToRisk --> risk
 *   client <--35=8/9---- session <--EXEC_REPORT (connId = session index)------------------ riskToFix <-- risk
 *   client --35=H------> session: answered here from the last report kept per ClOrdID (150=I)
 *
 * Commands arrive inside socket callbacks and are written straight into the ring to risk, each
 * in place: ClOrdIDs copied byte for byte from the parser's buffer, price and quantity decoded
 * from it (getTicks/getQty), side, order type and time in force mapped from their FIX chars
 * (engine/domain.ts uses FIX's values). connId is the session's index, so risk's reports come
 * back to the session that entered the order (or the one that last amended it).
 *
 * Refused at the edge, before the engine sees it (reason codes of engine/reasons.ts, as the JSON
 * edge, order-json.ts): a bad ClOrdID, a missing or invalid field, an unknown symbol, a full ring
 * (ENGINE_BUSY: never dropped), an engine not running. A NewOrderSingle refused gets an
 * ExecutionReport 150=8 39=8 with 58 "<code> <NAME>" and 103 OrdRejReason; a cancel or replace
 * refused gets an OrderCancelReject 35=9 with 434 and 102. Application messages clients may not
 * send (8, 9, j) get a BusinessMessageReject 380=3; the session's dictionary validator already
 * answers every other unsupported type the same way.
 *
 * Reports become ExecutionReports (35=8): 37 OrderID, 11, 41 (after a replace, and on cancel
 * traffic), 17 ExecID (the engine's eventSeq), 150, 39, 55, 54, 38, 40, 44, 59, 32/31 on fills,
 * busts (150=H) and corrections (150=G), 19 ExecRefID on these (the ExecID of the fill's report),
 * 151, 14, 6, 60, 58/103 on rejects; CANCEL_REJECT becomes an OrderCancelReject (35=9) with 434
 * CxlRejResponseTo (from the command's requestId: 1 cancel, 2 replace) and 102. A session not
 * logged on when its report arrives gets it in its message store under the next MsgSeqNum
 * (FixSession.sendAppOrStore): the client's next logon reveals the gap and a ResendRequest
 * brings it. A report is never dropped, and never throws.
 *
 * Order status (35=H): the gateway keeps the last report of each order per (account, ClOrdID) in
 * a preallocated, 4-way set-associative table of STATUS_SLOTS entries (the oldest entry of a set
 * is evicted). An order evicted or never seen answers 150=I 39=8 58 "203 UNKNOWN_ORDER".
 *
 * Allocation: none per message on the normal path (flyweights, the sessions' preallocated
 * encoders, fixed texts prepared at startup). Allocates: construction; a session's Logon
 * (FixAcceptor's per-connection objects); RefMsgType views for multi-byte types in rejects.
 */

import type { SessionSchedule } from '../../fix/session-schedule.ts';
import type { Clock } from '../../engine/clock.ts';
import { copyBytes, equalBytes, hashBytes } from '../../engine/bytes.ts';
import { CL_ORD_ID_CAPACITY, OrdType, Side, Source, Tif } from '../../engine/domain.ts';
import { INVALID, averagePriceTicks } from '../../engine/fixed-point.ts';
import { ExecType, OrderState, carriesTrade, isDuplicateAnswer, isTradeCorrection, ordStatusChar } from '../../engine/order-state.ts';
import { Reason, reasonName } from '../../engine/reasons.ts';
import { FULL, HEADER_LENGTH, alignRecord, type GatedRecordHandler, type RingConsumer, type RingProducer } from '../../engine/ring.ts';
import {
  CANCEL_ORDER_LENGTH,
  CHILD_EVENT_LENGTH,
  CancelOrderFlyweight,
  EXEC_REPORT_LENGTH,
  ExecReportFlyweight,
  NEW_ORDER_LENGTH,
  NewOrderFlyweight,
  RecordType,
  journalGatePasses,
} from '../../codecs/records.ts';
import { ascii, type FixEncoder } from '../../fix/encoder.ts';
import { SendResult } from '../../fix/fix-codes.ts';
import { MsgType } from '../../fix/msg-type.ts';
import { FIELD_MISSING, type FixParser } from '../../fix/parser.ts';
import { SessionState } from '../../fix/session-state.ts';
import { FixSession, REJECT_KIND_SESSION, SessionRole, type FixApplication, type FixClock } from '../../fix/session.ts';
import type { MessageStore } from '../../fix/store.ts';
import { SessionRejectReason, Tag } from '../../fix/tags.ts';
import { RejectEdge } from '../metrics/metrics-memory.ts';
import { SymbolIndex } from './symbol-index.ts';
import { BusinessRejectReason } from '../../fix/validator.ts';

/** Orders whose last report is kept for status requests (a power of two). */
export const STATUS_SLOTS = 1 << 14;
const STATUS_WAYS = 4;
/**
 * Room in the ring to risk kept free for venue events: one duty cycle of the SOR path (FIX_BATCH
 * SOR records, each up to two records to risk). Client commands beyond it are refused
 * ENGINE_BUSY, so a client flood never pushes venue fills into the stage's overflow.
 */
const VENUE_RESERVE_BYTES = 2 * 256 * alignRecord(HEADER_LENGTH + CHILD_EVENT_LENGTH);

/** Engine state word values (workers/ingest/ingest-stage.ts EngineState; not imported to keep uWS out of this thread). */
const ENGINE_RUNNING = 1;
const ENGINE_HALTED = 2;

/** requestId on cancel traffic, echoed by risk: tells a cancel reject from a replace reject (434). */
const REQUEST_CANCEL = 1;
const REQUEST_REPLACE = 2;

const CH_0 = 0x30;
const CH_1 = 0x31;
const CH_2 = 0x32;
const CH_I = 0x49;
const NONE_ID = ascii('NONE');
const TEXT_MISSING = ascii(`${Reason.MISSING_FIELD} MISSING_FIELD: tag `);
const TEXT_REASON = ascii('reason ');

export interface ClientSessionSpec {
  /** The client's CompID (their 49). */
  clientCompId: string;
  /** Our CompID on this session (their 56). */
  ourCompId: string;
  accountId: number;
  /** Checked against Logon 554 when set. */
  password?: string;
  heartBtIntS: number;
  resetOnLogon: boolean;
  store: MessageStore;
  /** Daily schedule: Logons outside it are refused, the session is logged out at its end. */
  schedule?: SessionSchedule | null;
}

/** One session's callbacks: everything goes to the gateway with the session's index. */
class ClientApp implements FixApplication {
  private readonly gateway: ClientGateway;
  private readonly index: number;
  constructor(gateway: ClientGateway, index: number) {
    this.gateway = gateway;
    this.index = index;
  }
  onAppMessage(msg: FixParser, session: FixSession): void {
    this.gateway.onClientMessage(this.index, msg, session);
  }
  onSessionReject(_msg: FixParser, _session: FixSession): void {
    this.gateway.sessionRejectsReceived++;
  }
  onStateChange(_session: FixSession, _previous: number, _next: number): void {}
}

export class ClientGateway implements GatedRecordHandler {
  readonly sessions: FixSession[];
  // Plain counters (the shared stage counters have no slots for them yet; see stats()).
  ordersIn: number;
  cancelsIn: number;
  rejectedAtEdge: number;
  busyRejects: number;
  reportsOut: number;
  /** Reports kept in a session's store because it was not logged on (or its socket was full). */
  reportsStored: number;
  /** Reports whose connId names no session (cannot happen unless config changed under risk). */
  reportsUnserved: number;
  statusRequests: number;
  unsupportedMessages: number;
  sessionRejectsReceived: number;
  /** Called after a command was written to the ring from a socket callback: the stage commits. */
  onCommand: () => void;
  /** Reject counts for /metrics (oms_rejects_total, edge "fix"), or null (unit tests). */
  metrics: { countReason(code: number, edge: number): void } | null;

  private readonly specs: ClientSessionSpec[];
  private readonly passwords: (Uint8Array | null)[];
  private readonly accountIds: Int32Array;
  private readonly toRisk: RingProducer;
  private readonly clock: Clock;
  private readonly engineState: Int32Array | null;
  private readonly symbols: SymbolIndex;
  private readonly newOrder = new NewOrderFlyweight();
  private readonly cancel = new CancelOrderFlyweight();
  private readonly report = new ExecReportFlyweight();
  private readonly cached = new ExecReportFlyweight();
  /** "<code> <NAME>" for every reason code, by code. */
  private readonly reasonTexts: Uint8Array[];
  private readonly execIdPrefix: Uint8Array;
  private execIdCounter: number;
  // Status table: the last report of an order, by (account, ClOrdID); see the module comment.
  private readonly statusBytes: Uint8Array;
  private readonly statusView: DataView;
  private readonly statusSeq: Float64Array;
  /** A cancel or replace in flight for the entry: its ClOrdID and kind (REQUEST_*). */
  private readonly pendingCl: Uint8Array;
  private readonly pendingClLength: Uint8Array;
  private readonly pendingKind: Uint8Array;
  // Fields of the new order being decoded (set by decodeNew).
  private nSymbol: number;
  private nSide: number;
  private nOrdType: number;
  private nTif: number;
  private nQty: number;
  private nPrice: number;
  private missingTag: number;
  /** Sessions whose store got records during this batch (flushed at the batch's end). */
  private readonly dirty: Uint8Array;
  /** The ring being drained (drain sets it for onRecord). */
  private ring: RingConsumer | null;

  constructor(
    specs: ClientSessionSpec[], symbols: string[], toRisk: RingProducer, clock: Clock, engineState: Int32Array | null,
    fixClock: FixClock = { now: () => Date.now() },
  ) {
    this.specs = specs;
    this.toRisk = toRisk;
    this.clock = clock;
    this.engineState = engineState;
    this.symbols = new SymbolIndex(symbols.map((s) => ascii(s)));
    this.ordersIn = 0;
    this.cancelsIn = 0;
    this.rejectedAtEdge = 0;
    this.busyRejects = 0;
    this.reportsOut = 0;
    this.reportsStored = 0;
    this.reportsUnserved = 0;
    this.statusRequests = 0;
    this.unsupportedMessages = 0;
    this.sessionRejectsReceived = 0;
    this.onCommand = () => {};
    this.metrics = null;
    this.passwords = specs.map((s) => (s.password === undefined ? null : ascii(s.password)));
    this.accountIds = Int32Array.from(specs.map((s) => s.accountId));
    this.sessions = specs.map((s, i) => new FixSession({
      id: i,
      role: SessionRole.ACCEPTOR,
      senderCompId: s.ourCompId,
      targetCompId: s.clientCompId,
      clock: fixClock,
      app: new ClientApp(this, i),
      heartBtIntSec: s.heartBtIntS,
      resetSeqNumOnLogon: s.resetOnLogon,
      store: s.store,
      schedule: s.schedule ?? null,
    }));
    // Session (35=3) and business (35=j) rejects the sessions send count as FIX-edge refusals.
    const onRejectSent = (_session: FixSession, kind: number, reason: number) => {
      if (this.metrics !== null) this.metrics.countReason(fixRejectReason(kind, reason), RejectEdge.FIX);
    };
    for (const session of this.sessions) session.rejectListener = onRejectSent;
    this.reasonTexts = [];
    for (const [name, code] of Object.entries(Reason)) this.reasonTexts[code] = ascii(`${code} ${name}`);
    // ExecIDs the gateway makes itself (edge rejects, status answers): unique across restarts.
    this.execIdPrefix = ascii(`G${Date.now().toString(36)}-`);
    this.execIdCounter = 0;
    this.statusBytes = new Uint8Array(STATUS_SLOTS * EXEC_REPORT_LENGTH);
    this.statusView = new DataView(this.statusBytes.buffer);
    this.statusSeq = new Float64Array(STATUS_SLOTS);
    this.pendingCl = new Uint8Array(STATUS_SLOTS * CL_ORD_ID_CAPACITY);
    this.pendingClLength = new Uint8Array(STATUS_SLOTS);
    this.pendingKind = new Uint8Array(STATUS_SLOTS);
    this.nSymbol = 0;
    this.nSide = 0;
    this.nOrdType = 0;
    this.nTif = 0;
    this.nQty = 0;
    this.nPrice = 0;
    this.missingTag = 0;
    this.dirty = new Uint8Array(specs.length);
    this.ring = null;
  }

  /** FixAcceptor's authorize hook: the Logon's Password (554) must match when one is configured. */
  authorize(session: FixSession, logon: FixParser): boolean {
    const password = this.passwords[session.id];
    return password === null || logon.equalsAscii(554, password);
  }

  /** Counters for the ready/health detail. Allocates. */
  stats(): Record<string, number> {
    return {
      ordersIn: this.ordersIn, cancelsIn: this.cancelsIn, rejectedAtEdge: this.rejectedAtEdge, busyRejects: this.busyRejects,
      reportsOut: this.reportsOut, reportsStored: this.reportsStored, reportsUnserved: this.reportsUnserved,
      statusRequests: this.statusRequests, unsupportedMessages: this.unsupportedMessages,
    };
  }

  // ------------------------------------------------------------------------------------------
  // Client -> engine (inside socket callbacks)
  // ------------------------------------------------------------------------------------------

  onClientMessage(index: number, m: FixParser, session: FixSession): void {
    switch (m.msgType) {
      case MsgType.NEW_ORDER_SINGLE:
        this.onNewOrderSingle(index, m, session);
        return;
      case MsgType.ORDER_CANCEL_REQUEST:
        this.onCancelRequest(index, m, session, REQUEST_CANCEL);
        return;
      case MsgType.ORDER_CANCEL_REPLACE_REQUEST:
        this.onCancelRequest(index, m, session, REQUEST_REPLACE);
        return;
      case MsgType.ORDER_STATUS_REQUEST:
        this.onStatusRequest(index, m, session);
        return;
    }
    this.unsupportedMessages++;
    session.rejectInboundBusiness(BusinessRejectReason.UNSUPPORTED_MESSAGE_TYPE, 0);
  }

  private onNewOrderSingle(index: number, m: FixParser, session: FixSession): void {
    let reason = this.decodeNew(m);
    if (reason === Reason.NONE) reason = this.engineRefusal();
    if (reason === Reason.NONE && !this.writeNewOrder(index, m)) reason = Reason.ENGINE_BUSY;
    if (reason !== Reason.NONE) {
      if (reason === Reason.ENGINE_BUSY) this.busyRejects++;
      this.rejectedAtEdge++;
      if (this.metrics !== null) this.metrics.countReason(reason, RejectEdge.FIX);
      this.sendEdgeReject(session, m, reason);
      return;
    }
    this.ordersIn++;
    this.onCommand();
  }

  /** Checks a NewOrderSingle in the order the JSON edge does; NONE, or the reason to refuse it. */
  private decodeNew(m: FixParser): number {
    if (!validClOrdId(m, Tag.ClOrdID)) return Reason.INVALID_CL_ORD_ID;
    const symbolAt = m.indexOf(Tag.Symbol);
    if (symbolAt < 0) return this.missing(Tag.Symbol);
    if (!m.has(Tag.OrderQty)) return this.missing(Tag.OrderQty);
    this.nSymbol = this.symbols.find(m.buf, m.valueStartAt(symbolAt), m.valueEndAt(symbolAt));
    if (this.nSymbol < 0) return Reason.UNKNOWN_SYMBOL;
    const side = m.getChar(Tag.Side);
    if (side !== CH_1 && side !== CH_2) return Reason.INVALID_SIDE;
    this.nSide = side === CH_1 ? Side.BUY : Side.SELL;
    const ordType = m.getChar(Tag.OrdType);
    if (ordType !== CH_1 && ordType !== CH_2) return Reason.INVALID_ORD_TYPE;
    this.nOrdType = ordType === CH_1 ? OrdType.MARKET : OrdType.LIMIT;
    const tif = m.getChar(Tag.TimeInForce);
    this.nTif = tif === FIELD_MISSING ? Tif.DAY : tifOf(tif);
    if (this.nTif < 0) return Reason.INVALID_TIF;
    this.nQty = m.getQty(Tag.OrderQty);
    if (this.nQty === INVALID || this.nQty === 0) return Reason.INVALID_QTY;
    this.nPrice = 0;
    if (this.nOrdType === OrdType.LIMIT) {
      const price = m.getTicks(Tag.Price);
      if (price === FIELD_MISSING) return this.missing(Tag.Price);
      if (price === INVALID || price === 0) return Reason.INVALID_PRICE;
      this.nPrice = price;
    } else if (m.has(Tag.Price)) {
      return Reason.INVALID_PRICE; // a market order takes no price
    }
    return Reason.NONE;
  }

  private missing(tag: number): number {
    this.missingTag = tag;
    return Reason.MISSING_FIELD;
  }

  private writeNewOrder(index: number, m: FixParser): boolean {
    const ring = this.toRisk;
    if (ring.freeBytes() < VENUE_RESERVE_BYTES + alignRecord(HEADER_LENGTH + NEW_ORDER_LENGTH)) return false;
    const at = ring.tryClaim(RecordType.NEW_ORDER, NEW_ORDER_LENGTH);
    if (at === FULL) return false;
    this.newOrder
      .wrap(ring.view, ring.bytes, at)
      .setRecvTimeNs(this.clock.nowNs())
      .setQty(this.nQty)
      .setPriceTicks(this.nPrice)
      .setConnId(index)
      .setAccountId(this.accountIds[index])
      .setSymbolId(this.nSymbol)
      .setRequestId(0)
      .setSource(Source.FIX)
      .setSide(this.nSide)
      .setOrdType(this.nOrdType)
      .setTif(this.nTif)
      .setClOrdId(m.buf, m.valueStart(Tag.ClOrdID), m.valueEnd(Tag.ClOrdID));
    return true;
  }

  /** OrderCancelRequest (kind REQUEST_CANCEL) or OrderCancelReplaceRequest (REQUEST_REPLACE). */
  private onCancelRequest(index: number, m: FixParser, session: FixSession, kind: number): void {
    let reason: number = Reason.NONE;
    let qty = 0;
    let price = 0;
    if (!validClOrdId(m, Tag.ClOrdID) || !validClOrdId(m, Tag.OrigClOrdID)) reason = Reason.INVALID_CL_ORD_ID;
    else if (kind === REQUEST_REPLACE) {
      qty = m.getQty(Tag.OrderQty);
      if (qty === FIELD_MISSING) reason = this.missing(Tag.OrderQty);
      else if (qty === INVALID || qty === 0) reason = Reason.INVALID_QTY;
      else if (m.has(Tag.Price)) {
        price = m.getTicks(Tag.Price);
        if (price === INVALID || price === 0) reason = Reason.INVALID_PRICE;
      }
    }
    if (reason === Reason.NONE) reason = this.engineRefusal();
    if (reason === Reason.NONE && !this.writeCancel(index, m, kind, qty, price)) reason = Reason.ENGINE_BUSY;
    if (reason !== Reason.NONE) {
      if (reason === Reason.ENGINE_BUSY) this.busyRejects++;
      this.rejectedAtEdge++;
      if (this.metrics !== null) this.metrics.countReason(reason, RejectEdge.FIX);
      this.sendEdgeCancelReject(session, m, kind, reason);
      return;
    }
    this.notePending(index, m, kind);
    this.cancelsIn++;
    this.onCommand();
  }

  private writeCancel(index: number, m: FixParser, kind: number, qty: number, price: number): boolean {
    const ring = this.toRisk;
    if (ring.freeBytes() < VENUE_RESERVE_BYTES + alignRecord(HEADER_LENGTH + CANCEL_ORDER_LENGTH)) return false;
    const at = ring.tryClaim(kind === REQUEST_CANCEL ? RecordType.CANCEL_ORDER : RecordType.REPLACE_ORDER, CANCEL_ORDER_LENGTH);
    if (at === FULL) return false;
    this.cancel
      .wrap(ring.view, ring.bytes, at)
      .setRecvTimeNs(this.clock.nowNs())
      .setOrderId(0) // named by OrigClOrdID <41> within the session's account
      .setQty(qty)
      .setPriceTicks(price)
      .setConnId(index)
      .setAccountId(this.accountIds[index])
      .setRequestId(kind)
      .setSource(Source.FIX)
      .setClOrdId(m.buf, m.valueStart(Tag.ClOrdID), m.valueEnd(Tag.ClOrdID));
    this.cancel.setOrigClOrdId(m.buf, m.valueStart(Tag.OrigClOrdID), m.valueEnd(Tag.OrigClOrdID));
    return true;
  }

  /** Remembers the cancel's ClOrdID on the order's status entry: its reports then name it in 11. */
  private notePending(index: number, m: FixParser, kind: number): void {
    const slot = this.findStatus(this.accountIds[index], m.buf, m.valueStart(Tag.OrigClOrdID), m.valueEnd(Tag.OrigClOrdID));
    if (slot < 0) return;
    const start = m.valueStart(Tag.ClOrdID);
    const length = m.valueEnd(Tag.ClOrdID) - start;
    const base = slot * CL_ORD_ID_CAPACITY;
    copyBytes(m.buf, start, this.pendingCl, base, length);
    this.pendingClLength[slot] = length;
    this.pendingKind[slot] = kind;
  }

  /** OrderStatusRequest: the order's last report again, as ExecType I (Order Status). */
  private onStatusRequest(index: number, m: FixParser, session: FixSession): void {
    this.statusRequests++;
    const slot = validClOrdId(m, Tag.ClOrdID)
      ? this.findStatus(this.accountIds[index], m.buf, m.valueStart(Tag.ClOrdID), m.valueEnd(Tag.ClOrdID))
      : -1;
    if (slot < 0) {
      this.sendUnknownStatus(session, m);
      return;
    }
    const r = this.cached.wrap(this.statusView, this.statusBytes, slot * EXEC_REPORT_LENGTH);
    const e = session.beginApp(MsgType.EXECUTION_REPORT);
    this.writeOrderId(e, r.orderId());
    e.addBytes(Tag.ClOrdID, r.bytes, r.clOrdIdOffset(), r.clOrdIdOffset() + r.clOrdIdLength());
    this.addGatewayExecId(e);
    e.addChar(Tag.ExecType, CH_I).addChar(Tag.OrdStatus, ordStatusChar(r.state()));
    this.writeOrderFields(e, r);
    this.sendToClient(session);
  }

  private sendUnknownStatus(session: FixSession, m: FixParser): void {
    const e = session.beginApp(MsgType.EXECUTION_REPORT);
    e.addAscii(Tag.OrderID, NONE_ID);
    echo(e, m, Tag.ClOrdID);
    this.addGatewayExecId(e);
    e.addChar(Tag.ExecType, CH_I).addChar(Tag.OrdStatus, ordStatusChar(OrderState.REJECTED));
    echo(e, m, Tag.Symbol);
    echo(e, m, Tag.Side);
    e.addInt(Tag.LeavesQty, 0).addInt(Tag.CumQty, 0).addInt(Tag.AvgPx, 0);
    e.addAscii(Tag.Text, this.reasonTexts[Reason.UNKNOWN_ORDER]);
    this.sendToClient(session);
  }

  /** ExecutionReport 150=8 39=8 for a NewOrderSingle the engine never saw. */
  private sendEdgeReject(session: FixSession, m: FixParser, reason: number): void {
    const e = session.beginApp(MsgType.EXECUTION_REPORT);
    e.addAscii(Tag.OrderID, NONE_ID);
    if (!echo(e, m, Tag.ClOrdID)) e.addAscii(Tag.ClOrdID, NONE_ID);
    this.addGatewayExecId(e);
    e.addChar(Tag.ExecType, CH_0 + ExecType.REJECTED).addChar(Tag.OrdStatus, ordStatusChar(OrderState.REJECTED));
    echo(e, m, Tag.Symbol);
    echo(e, m, Tag.Side);
    echo(e, m, Tag.OrderQty);
    echo(e, m, Tag.OrdType);
    e.addInt(Tag.LeavesQty, 0).addInt(Tag.CumQty, 0).addInt(Tag.AvgPx, 0);
    this.addReasonText(e, reason);
    e.addInt(103, ordRejReason(reason));
    this.sendToClient(session);
  }

  /** OrderCancelReject 35=9 for a cancel or replace the engine never saw. */
  private sendEdgeCancelReject(session: FixSession, m: FixParser, kind: number, reason: number): void {
    const e = session.beginApp(MsgType.ORDER_CANCEL_REJECT);
    e.addAscii(Tag.OrderID, NONE_ID);
    if (!echo(e, m, Tag.ClOrdID)) e.addAscii(Tag.ClOrdID, NONE_ID);
    if (!echo(e, m, Tag.OrigClOrdID)) e.addAscii(Tag.OrigClOrdID, NONE_ID);
    e.addChar(Tag.OrdStatus, ordStatusChar(OrderState.REJECTED));
    e.addChar(Tag.CxlRejResponseTo, kind === REQUEST_REPLACE ? CH_2 : CH_1);
    e.addInt(Tag.CxlRejReason, cxlRejReason(reason));
    this.addReasonText(e, reason);
    this.sendToClient(session);
  }

  private engineRefusal(): number {
    if (this.engineState === null) return Reason.NONE;
    const state = Atomics.load(this.engineState, 0);
    if (state === ENGINE_RUNNING) return Reason.NONE;
    return state === ENGINE_HALTED ? Reason.ENGINE_HALTED : Reason.ENGINE_STOPPING;
  }

  // ------------------------------------------------------------------------------------------
  // Engine -> client (the stage's duty cycle, riskToFix)
  // ------------------------------------------------------------------------------------------

  /** Drains up to `limit` reports; flushes the stores written at the batch's end. */
  drain(ring: RingConsumer, limit: number): number {
    this.ring = ring;
    // Gated: a report stays in the ring until the journal holds its event (accept).
    const n = ring.pollWhile(this, limit);
    if (n > 0) this.endOfBatch();
    return n;
  }

  /** A report leaves for its FIX client only once the journal feed's records it is stamped with are durable. */
  accept(typeId: number, offset: number, _length: number): boolean {
    const ring = this.ring!;
    return journalGatePasses(ring, typeId, offset);
  }

  onRecord(typeId: number, offset: number, _length: number): void {
    const ring = this.ring!;
    if (typeId !== RecordType.EXEC_REPORT) {
      this.reportsUnserved++;
      return;
    }
    const r = this.report.wrap(ring.view, ring.bytes, offset);
    const index = r.connId();
    if (r.source() !== Source.FIX || index >= this.sessions.length || this.accountIds[index] !== r.accountId()) {
      this.reportsUnserved++;
      return;
    }
    const session = this.sessions[index];
    const execType = r.execType();
    // Risk, cancel and venue rejects of FIX clients' orders, as ingest counts its clients'.
    if ((execType === ExecType.REJECTED || execType === ExecType.CANCEL_REJECT) && this.metrics !== null) this.metrics.countReason(r.reason(), RejectEdge.ENGINE);
    if (execType === ExecType.CANCEL_REJECT) {
      this.sendCancelReject(session, r);
      this.clearPending(r.accountId(), r.bytes, r.origClOrdIdOffset(), r.origClOrdIdOffset() + r.origClOrdIdLength());
    } else {
      const slot = this.remember(r);
      this.sendExecutionReport(session, r, slot);
      if (slot >= 0 && (execType === ExecType.CANCELED || execType === ExecType.REPLACED)) this.pendingClLength[slot] = 0;
    }
  }

  private sendExecutionReport(session: FixSession, r: ExecReportFlyweight, slot: number): void {
    const execType = r.execType();
    const e = session.beginApp(MsgType.EXECUTION_REPORT);
    this.writeOrderId(e, r.orderId());
    const clStart = r.clOrdIdOffset();
    const clEnd = clStart + r.clOrdIdLength();
    // Cancel traffic names the cancel (or replace) in 11 and the order in 41 (FIX 4.4 vol. 4).
    const pending = slot >= 0 && this.pendingClLength[slot] > 0
      && (execType === ExecType.PENDING_CANCEL || execType === ExecType.CANCELED || execType === ExecType.PENDING_REPLACE);
    if (pending) {
      const base = slot * CL_ORD_ID_CAPACITY;
      e.addBytes(Tag.ClOrdID, this.pendingCl, base, base + this.pendingClLength[slot]);
      e.addBytes(Tag.OrigClOrdID, r.bytes, clStart, clEnd);
    } else {
      e.addBytes(Tag.ClOrdID, r.bytes, clStart, clEnd);
      if (r.origClOrdIdLength() > 0) e.addBytes(Tag.OrigClOrdID, r.bytes, r.origClOrdIdOffset(), r.origClOrdIdOffset() + r.origClOrdIdLength());
    }
    e.addInt(Tag.ExecID, r.eventSeq());
    // A repeated ClOrdID is answered with the original order as it stands: a status, not a new order.
    const duplicate = isDuplicateAnswer(execType, r.reason());
    e.addChar(Tag.ExecType, duplicate ? CH_I : execTypeChar(execType));
    e.addChar(Tag.OrdStatus, ordStatusChar(r.state()));
    this.writeOrderFields(e, r);
    if (carriesTrade(execType)) e.addInt(Tag.LastQty, r.lastQty()).addTicks(Tag.LastPx, r.lastPxTicks());
    // A bust or correction names the fill it takes back by the ExecID its report carried.
    if (isTradeCorrection(execType)) e.addInt(Tag.ExecRefID, r.execRefSeq());
    const reason = r.reason();
    if (reason !== Reason.NONE) {
      this.addReasonText(e, reason);
      if (execType === ExecType.REJECTED) e.addInt(103, ordRejReason(reason));
    }
    this.sendToClient(session);
  }

  private sendCancelReject(session: FixSession, r: ExecReportFlyweight): void {
    const e = session.beginApp(MsgType.ORDER_CANCEL_REJECT);
    this.writeOrderId(e, r.orderId());
    e.addBytes(Tag.ClOrdID, r.bytes, r.clOrdIdOffset(), r.clOrdIdOffset() + r.clOrdIdLength());
    if (r.origClOrdIdLength() > 0) e.addBytes(Tag.OrigClOrdID, r.bytes, r.origClOrdIdOffset(), r.origClOrdIdOffset() + r.origClOrdIdLength());
    else e.addAscii(Tag.OrigClOrdID, NONE_ID);
    e.addChar(Tag.OrdStatus, ordStatusChar(r.state()));
    e.addChar(Tag.CxlRejResponseTo, r.requestId() === REQUEST_REPLACE ? CH_2 : CH_1);
    e.addInt(Tag.CxlRejReason, cxlRejReason(r.reason()));
    this.addReasonText(e, r.reason());
    this.sendToClient(session);
  }

  /** 55, 54, 38, 40, 44, 59, 151, 14, 6, 60 of an order report. */
  private writeOrderFields(e: FixEncoder, r: ExecReportFlyweight): void {
    const side = r.side();
    if (side !== 0) {
      e.addAscii(Tag.Symbol, this.symbols.names[r.symbolId()]);
      e.addChar(Tag.Side, CH_0 + side);
      e.addInt(Tag.OrderQty, r.qty());
      e.addChar(Tag.OrdType, CH_0 + r.ordType());
      if (r.priceTicks() > 0) e.addTicks(Tag.Price, r.priceTicks());
      e.addChar(Tag.TimeInForce, CH_0 + r.tif());
    }
    const cumQty = r.cumQty();
    e.addInt(Tag.LeavesQty, r.leavesQty()).addInt(Tag.CumQty, cumQty);
    if (cumQty > 0) e.addTicks(Tag.AvgPx, averagePriceTicks(r.cumNotionalTicks(), cumQty));
    else e.addInt(Tag.AvgPx, 0);
    e.addUtcTimestamp(Tag.TransactTime, this.clock.epochMs());
  }

  private writeOrderId(e: FixEncoder, orderId: number): void {
    if (orderId > 0) e.addInt(Tag.OrderID, orderId);
    else e.addAscii(Tag.OrderID, NONE_ID);
  }

  private addGatewayExecId(e: FixEncoder): void {
    e.addAsciiInt(Tag.ExecID, this.execIdPrefix, ++this.execIdCounter);
  }

  private addReasonText(e: FixEncoder, reason: number): void {
    if (reason === Reason.MISSING_FIELD && this.missingTag > 0) {
      e.addAsciiInt(Tag.Text, TEXT_MISSING, this.missingTag);
      this.missingTag = 0;
      return;
    }
    const text = this.reasonTexts[reason];
    if (text !== undefined) e.addAscii(Tag.Text, text);
    else e.addAsciiInt(Tag.Text, TEXT_REASON, reason);
  }

  private sendToClient(session: FixSession): void {
    if (session.sendAppOrStore() === SendResult.OK) this.reportsOut++;
    else this.reportsStored++;
    this.dirty[session.id] = 1;
  }

  /** Makes what the batch recorded durable (the sessions' group commit). */
  endOfBatch(): void {
    for (let i = 0; i < this.dirty.length; i++) {
      if (this.dirty[i] === 0) continue;
      this.dirty[i] = 0;
      this.sessions[i].flushStore();
    }
  }

  // ------------------------------------------------------------------------------------------
  // Status table
  // ------------------------------------------------------------------------------------------

  /** Slot holding (accountId, ClOrdID buf[start, end)), or -1. */
  private findStatus(accountId: number, buf: Uint8Array, start: number, end: number): number {
    const set = statusSet(accountId, buf, start, end);
    const length = end - start;
    for (let w = 0; w < STATUS_WAYS; w++) {
      const slot = set + w;
      if (this.statusSeq[slot] === 0) continue;
      const c = this.cached.wrap(this.statusView, this.statusBytes, slot * EXEC_REPORT_LENGTH);
      if (c.accountId() === accountId && c.clOrdIdLength() === length && equalBytes(c.bytes, c.clOrdIdOffset(), buf, start, length)) return slot;
    }
    return -1;
  }

  /** Keeps the report as its order's latest (under its ClOrdID, and under 41 after a replace); returns the slot. */
  private remember(r: ExecReportFlyweight): number {
    if (r.orderId() <= 0) return -1; // refused before the engine made an order: nothing to ask about
    const accountId = r.accountId();
    const clStart = r.clOrdIdOffset();
    const clEnd = clStart + r.clOrdIdLength();
    let slot = this.findStatus(accountId, r.bytes, clStart, clEnd);
    if (slot < 0) {
      const set = statusSet(accountId, r.bytes, clStart, clEnd);
      slot = set;
      for (let w = 1; w < STATUS_WAYS; w++) if (this.statusSeq[set + w] < this.statusSeq[slot]) slot = set + w;
      this.pendingClLength[slot] = 0;
    }
    this.store(slot, r);
    if (r.execType() === ExecType.REPLACED && r.origClOrdIdLength() > 0) {
      const old = this.findStatus(accountId, r.bytes, r.origClOrdIdOffset(), r.origClOrdIdOffset() + r.origClOrdIdLength());
      if (old >= 0 && old !== slot) {
        this.store(old, r);
        this.pendingClLength[old] = 0;
      }
    }
    return slot;
  }

  private store(slot: number, r: ExecReportFlyweight): void {
    const base = slot * EXEC_REPORT_LENGTH;
    copyBytes(r.bytes, r.offset, this.statusBytes, base, EXEC_REPORT_LENGTH);
    this.statusSeq[slot] = r.eventSeq() > 0 ? r.eventSeq() : 1;
  }

  private clearPending(accountId: number, buf: Uint8Array, start: number, end: number): void {
    const slot = this.findStatus(accountId, buf, start, end);
    if (slot >= 0) this.pendingClLength[slot] = 0;
  }

  /** The sessions' state, for tests and health. */
  loggedOn(index: number): boolean {
    return this.sessions[index].state === SessionState.ACTIVE;
  }
}

// ------------------------------------------------------------------------------------------
// Mappings (FIX 4.4 vol. 4)
// ------------------------------------------------------------------------------------------

/** ExecType <150> for the engine's ExecType. FIX 4.4 reports fills as F (Trade). */
function execTypeChar(execType: number): number {
  switch (execType) {
    case ExecType.NEW: return 0x30;
    case ExecType.PARTIAL_FILL:
    case ExecType.FILL: return 0x46; // 'F'
    case ExecType.CANCELED: return 0x34;
    case ExecType.REPLACED: return 0x35;
    case ExecType.PENDING_CANCEL: return 0x36;
    case ExecType.REJECTED: return 0x38;
    case ExecType.PENDING_REPLACE: return 0x45; // 'E'
    case ExecType.EXPIRED: return 0x43; // 'C'
    case ExecType.TRADE_CORRECT: return 0x47; // 'G'
    case ExecType.TRADE_CANCEL: return 0x48; // 'H'
  }
  throw new Error(`Invariant: exec type ${execType} maps to FIX`);
}

/**
 * The engine reason code (engine/reasons.ts) a FIX reject counts under in oms_rejects_total:
 * 35=3 by SessionRejectReason (373), 35=j by BusinessRejectReason (380).
 */
export function fixRejectReason(kind: number, reason: number): number {
  if (kind === REJECT_KIND_SESSION) {
    switch (reason) {
      case SessionRejectReason.REQUIRED_TAG_MISSING: return Reason.MISSING_FIELD;
      case SessionRejectReason.INVALID_MSG_TYPE: return Reason.UNKNOWN_MESSAGE_TYPE;
      case SessionRejectReason.INVALID_TAG_NUMBER:
      case SessionRejectReason.TAG_NOT_DEFINED_FOR_MSG_TYPE:
      case SessionRejectReason.UNDEFINED_TAG:
      case SessionRejectReason.TAG_WITHOUT_VALUE:
      case SessionRejectReason.VALUE_OUT_OF_RANGE:
      case SessionRejectReason.INCORRECT_DATA_FORMAT: return Reason.INVALID_FIELD;
      default: return Reason.MALFORMED; // CompID, SendingTime, structure (13-17), other
    }
  }
  if (reason === BusinessRejectReason.UNSUPPORTED_MESSAGE_TYPE) return Reason.UNKNOWN_MESSAGE_TYPE;
  if (reason === BusinessRejectReason.CONDITIONALLY_REQUIRED_FIELD_MISSING) return Reason.MISSING_FIELD;
  return Reason.INVALID_FIELD;
}

/** OrdRejReason <103>. */
function ordRejReason(reason: number): number {
  switch (reason) {
    case Reason.UNKNOWN_SYMBOL: return 1;
    case Reason.MAX_QTY_EXCEEDED:
    case Reason.MAX_NOTIONAL_EXCEEDED:
    case Reason.PRICE_OUTSIDE_COLLAR:
    case Reason.POSITION_LIMIT_EXCEEDED:
    case Reason.CREDIT_LIMIT_EXCEEDED: return 3; // order exceeds limit
    case Reason.UNKNOWN_ORDER: return 5;
    case Reason.DUPLICATE_CL_ORD_ID:
    case Reason.DUPLICATE_ORDER: return 6;
    case Reason.SYMBOL_RESTRICTED:
    case Reason.SHORT_SALE_NOT_ALLOWED:
    case Reason.SHORT_SALE_RESTRICTED:
    case Reason.MESSAGE_RATE_EXCEEDED:
    case Reason.ORDER_RATE_EXCEEDED: return 0; // broker option (Text <58> names the control)
    case Reason.INVALID_SIDE:
    case Reason.INVALID_ORD_TYPE:
    case Reason.INVALID_TIF:
    case Reason.MARKET_ORDER_NEEDS_QUOTE: return 11; // unsupported order characteristic
    case Reason.INVALID_QTY: return 13;
    case Reason.UNKNOWN_ACCOUNT: return 15;
    case Reason.ENGINE_BUSY:
    case Reason.ENGINE_HALTED:
    case Reason.ENGINE_STOPPING:
    case Reason.ACCOUNT_HALTED: return 0; // broker option
  }
  return 99;
}

/** CxlRejReason <102>. */
function cxlRejReason(reason: number): number {
  switch (reason) {
    case Reason.ORDER_NOT_CANCELABLE: return 0; // too late to cancel
    case Reason.UNKNOWN_ORDER: return 1;
    case Reason.ENGINE_BUSY:
    case Reason.ENGINE_HALTED:
    case Reason.ENGINE_STOPPING: return 2; // broker option
    case Reason.CANCEL_PENDING: return 3; // already pending cancel or replace
    case Reason.DUPLICATE_CL_ORD_ID: return 6;
  }
  return 99;
}

function tifOf(c: number): number {
  switch (c) {
    case 0x30: return Tif.DAY;
    case 0x31: return Tif.GTC;
    case 0x33: return Tif.IOC;
    case 0x34: return Tif.FOK;
  }
  return -1;
}

/** 1 to CL_ORD_ID_CAPACITY printable ASCII bytes, as the JSON edge requires. */
function validClOrdId(m: FixParser, tag: number): boolean {
  const i = m.indexOf(tag);
  if (i < 0) return false;
  const s = m.valueStartAt(i);
  const e = m.valueEndAt(i);
  if (e - s < 1 || e - s > CL_ORD_ID_CAPACITY) return false;
  for (let k = s; k < e; k++) if (m.buf[k] < 0x21 || m.buf[k] > 0x7e) return false;
  return true;
}

/** Copies the inbound field into the outbound message when present (and short); true if it did. */
function echo(e: FixEncoder, m: FixParser, tag: number): boolean {
  const i = m.indexOf(tag);
  if (i < 0) return false;
  const s = m.valueStartAt(i);
  const end = m.valueEndAt(i);
  if (end === s || end - s > 64) return false;
  e.addBytes(tag, m.buf, s, end);
  return true;
}

/** First slot of the status-table set for (accountId, ClOrdID buf[start, end)). */
function statusSet(accountId: number, buf: Uint8Array, start: number, end: number): number {
  return (hashBytes(0, buf, start, end - start) ^ Math.imul(accountId, 0x9e3779b1)) & (STATUS_SLOTS - 1) & ~(STATUS_WAYS - 1);
}

// Constants must agree: checked once at module load.
if ((STATUS_SLOTS & (STATUS_SLOTS - 1)) !== 0 || STATUS_SLOTS % STATUS_WAYS !== 0) throw new Error('Invariant: STATUS_SLOTS is a power of two, whole sets');
if (ExecType.REJECTED !== 8) throw new Error('Invariant: ExecType.REJECTED is FIX 150=8');
