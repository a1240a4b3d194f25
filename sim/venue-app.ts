/**
 * The venue's FIX application: decodes NewOrderSingle (D) and OrderCancelRequest (F) into
 * VenueCore calls, and encodes the core's events as ExecutionReport (8) and OrderCancelReject
 * (9), optionally delayed by a fixed latency. No sockets: it talks to FixSessions only, so the
 * deterministic simulation can drive it over in-memory links.
 *
 * Validation at this edge (FIX 4.4 session spec: required or malformed fields get a session
 * Reject 35=3 with 373/371; business problems get an ExecutionReport with ExecType=8):
 *   D: 11, 55, 54 (1|2), 38 (> 0), 40 (1|2), 44 when 40=2, 59 (0|1|3|4, default 0), 1 optional.
 *   F: 11, 41 required; 55/54 are accepted but not checked against the order.
 *   H (OrderStatusRequest): 11 required; answered with an ExecutionReport 150=I carrying the
 *     order's OrdStatus, CumQty, LeavesQty and AvgPx (37, 17 = a status id); an unknown ClOrdID
 *     gets 150=I 39=8 37=NONE 58="unknown order". 790 OrdStatusReqID is echoed.
 *   A NewOrderSingle resent with PossDupFlag=Y whose ClOrdID the venue already holds is not a new
 *   order: it is answered with the order's status (150=I), never rejected as a duplicate.
 * Other application messages get BusinessMessageReject (j) with 380=3 (unsupported type).
 *
 * Reports are sent with sendAppOrStore: a report due while the client is disconnected keeps its
 * MsgSeqNum in the session's store and reaches the client through its ResendRequest after the
 * next Logon (a real venue's behaviour), rather than being lost.
 */
import { MAX_QTY, PRICE_SCALE } from '../engine/fixed-point.ts';
import { ascii } from '../fix/encoder.ts';
import { SendResult } from '../fix/fix-codes.ts';
import { MsgType, writeMsgType } from '../fix/msg-type.ts';
import { FIELD_MISSING, type FixParser } from '../fix/parser.ts';
import type { FixApplication, FixSession } from '../fix/session.ts';
import { SessionRejectReason, Tag } from '../fix/tags.ts';
import { Side } from './order-book.ts';
import { OrdType, OrdStatus, TimeInForce, type CancelRejectEvent, type ExecEvent, type ExecutionSink, VenueCore, type VenueOrder } from './venue-core.ts';

const TAG_ORD_REJ_REASON = 103;
const TAG_BUSINESS_REJECT_REASON = 380;
const COMM_TYPE_ABSOLUTE = 0x33; // CommType (13) '3': absolute amount
const NONE = ascii('NONE');
const EXEC_TYPE_ORDER_STATUS = 0x49; // 'I'
const UNKNOWN_ORDER_TEXT = ascii('unknown order');
/** Tags a NewOrderSingle (D) and an OrderCancelRequest (F) must carry, checked in this order. */
const NEW_ORDER_REQUIRED = [Tag.ClOrdID, Tag.Symbol, Tag.Side, Tag.OrderQty, Tag.OrdType] as const;
const CANCEL_REQUIRED = [Tag.ClOrdID, Tag.OrigClOrdID] as const;

/**
 * A status answer's AvgPx as a venue computes it: cumNotional / cumQty to 12 decimals (half up),
 * trailing zeros dropped, so an average between ticks is sent finer than a tick ("98.3333335"),
 * as real venues do; the engine's reconciliation prices lost fills from it exactly. Allocates:
 * status answers are the cold path (one per 35=H).
 */
function averagePriceText(notionalTicks: number, qty: number): Uint8Array {
  if (qty === 0) return bytes('0');
  const decimals = 12n;
  const scaled = (2n * BigInt(notionalTicks) * 10n ** decimals + BigInt(PRICE_SCALE) * BigInt(qty)) / (2n * BigInt(PRICE_SCALE) * BigInt(qty));
  const unit = 10n ** decimals;
  const fraction = (scaled % unit).toString().padStart(Number(decimals), '0').replace(/0+$/, '');
  return bytes(fraction === '' ? `${scaled / unit}` : `${scaled / unit}.${fraction}`);
}

/** Bytes of a string that came from a counterparty (any byte but SOH). Allocates; sim only. */
function bytes(s: string): Uint8Array {
  return Buffer.from(s, 'latin1');
}

type Pending = { dueMs: number; exec: ExecEvent | null; cancelReject: CancelRejectEvent | null };

export interface VenueAppOptions {
  /** Delay applied to every report, ms (0 = sent at once). */
  latencyMs: number;
}

export class VenueApp implements FixApplication, ExecutionSink {
  core!: VenueCore;
  /** Reports that could not go out at once (not logged on, back-pressure): stored for resend. */
  droppedReports: number;
  /** OrderStatusRequests answered, and PossDup NewOrderSingles of known orders answered with status. */
  statusAnswers: number;
  possDupNewOrders: number;
  readonly latencyMs: number;
  private readonly clock: { now(): number };
  private readonly pending: Pending[];
  private pendingHead: number;
  private readonly refMsgType: Uint8Array;
  private statusSeq: number;
  /** Owner hook: called when a delayed report is queued into an empty queue (arm a timer). */
  onScheduled: ((dueMs: number) => void) | null;

  constructor(options: VenueAppOptions, clock: { now(): number }) {
    if (!(Number.isInteger(options.latencyMs) && options.latencyMs >= 0)) throw new Error('Condition failed: latencyMs >= 0');
    this.droppedReports = 0;
    this.statusAnswers = 0;
    this.possDupNewOrders = 0;
    this.statusSeq = 0;
    this.latencyMs = options.latencyMs;
    this.clock = clock;
    this.pending = [];
    this.pendingHead = 0;
    this.refMsgType = new Uint8Array(4);
    this.onScheduled = null;
  }

  /** Wires the core (which needs this app as its sink). */
  attach(core: VenueCore): void {
    this.core = core;
    core.sink = this;
  }

  // -------------------------------------------------------------------- FixApplication

  onAppMessage(msg: FixParser, session: FixSession): void {
    if (msg.msgType === MsgType.NEW_ORDER_SINGLE) this.onNewOrder(msg, session);
    else if (msg.msgType === MsgType.ORDER_CANCEL_REQUEST) this.onCancel(msg, session);
    else if (msg.msgType === MsgType.ORDER_STATUS_REQUEST) this.onStatusRequest(msg, session);
    else this.businessReject(msg, session);
  }

  onSessionReject(): void {}

  onStateChange(): void {}

  private onNewOrder(m: FixParser, session: FixSession): void {
    for (const tag of NEW_ORDER_REQUIRED) {
      if (!m.has(tag)) return session.rejectInbound(SessionRejectReason.REQUIRED_TAG_MISSING, tag);
    }
    const side = m.getChar(Tag.Side) - 0x30;
    if (side !== Side.BUY && side !== Side.SELL) return session.rejectInbound(SessionRejectReason.VALUE_OUT_OF_RANGE, Tag.Side);
    const qty = m.getQty(Tag.OrderQty);
    if (qty < 0) return session.rejectInbound(SessionRejectReason.INCORRECT_DATA_FORMAT, Tag.OrderQty);
    if (qty === 0 || qty > MAX_QTY) return session.rejectInbound(SessionRejectReason.VALUE_OUT_OF_RANGE, Tag.OrderQty);
    const ordType = m.getChar(Tag.OrdType) - 0x30;
    if (ordType !== OrdType.MARKET && ordType !== OrdType.LIMIT) return session.rejectInbound(SessionRejectReason.VALUE_OUT_OF_RANGE, Tag.OrdType);
    let price = 0;
    if (ordType === OrdType.LIMIT) {
      price = m.getTicks(Tag.Price);
      if (price === FIELD_MISSING) return session.rejectInbound(SessionRejectReason.REQUIRED_TAG_MISSING, Tag.Price);
      if (price <= 0) return session.rejectInbound(SessionRejectReason.INCORRECT_DATA_FORMAT, Tag.Price);
    }
    let tif: number = TimeInForce.DAY;
    if (m.has(Tag.TimeInForce)) {
      tif = m.getChar(Tag.TimeInForce) - 0x30;
      if (tif !== TimeInForce.DAY && tif !== TimeInForce.GTC && tif !== TimeInForce.IOC && tif !== TimeInForce.FOK) {
        return session.rejectInbound(SessionRejectReason.VALUE_OUT_OF_RANGE, Tag.TimeInForce);
      }
    }
    // Strings here: the simulator keys its order table by ClOrdID (allocates; not the engine).
    const clOrdId = m.getString(Tag.ClOrdID)!;
    if (m.getChar(Tag.PossDupFlag) === 0x59) {
      const known = this.core.orderOf(session, clOrdId);
      if (known !== undefined) {
        this.possDupNewOrders++;
        this.sendStatus(session, clOrdId, known, null);
        return;
      }
    }
    this.core.submit(session, clOrdId, m.getString(Tag.Symbol)!, side, ordType, tif as TimeInForce, qty, price);
  }

  private onCancel(m: FixParser, session: FixSession): void {
    for (const tag of CANCEL_REQUIRED) {
      if (!m.has(tag)) return session.rejectInbound(SessionRejectReason.REQUIRED_TAG_MISSING, tag);
    }
    this.core.cancel(session, m.getString(Tag.ClOrdID)!, m.getString(Tag.OrigClOrdID)!);
  }

  private onStatusRequest(m: FixParser, session: FixSession): void {
    if (!m.has(Tag.ClOrdID)) return session.rejectInbound(SessionRejectReason.REQUIRED_TAG_MISSING, Tag.ClOrdID);
    const clOrdId = m.getString(Tag.ClOrdID)!;
    this.statusAnswers++;
    this.sendStatus(session, clOrdId, this.core.orderOf(session, clOrdId), m);
  }

  /** ExecutionReport 150=I: the order as it stands, or OrdStatus=8 for an unknown ClOrdID. */
  private sendStatus(session: FixSession, clOrdId: string, o: VenueOrder | undefined, request: FixParser | null): void {
    this.statusSeq++;
    const e = session.beginApp(MsgType.EXECUTION_REPORT);
    e.addAscii(Tag.OrderID, o === undefined ? NONE : bytes(o.orderId));
    e.addAscii(Tag.ExecID, bytes(`${this.core.name}-S${this.statusSeq}`));
    e.addAscii(Tag.ClOrdID, bytes(clOrdId));
    if (request !== null && request.has(Tag.OrdStatusReqID)) {
      e.addBytes(Tag.OrdStatusReqID, request.buf, request.valueStart(Tag.OrdStatusReqID), request.valueEnd(Tag.OrdStatusReqID));
    }
    e.addChar(Tag.ExecType, EXEC_TYPE_ORDER_STATUS).addChar(Tag.OrdStatus, o === undefined ? OrdStatus.REJECTED : o.status);
    if (o !== undefined) {
      e.addAscii(Tag.Symbol, bytes(o.symbol)).addChar(Tag.Side, 0x30 + o.side);
      e.addInt(Tag.OrderQty, o.orderQty).addChar(Tag.OrdType, 0x30 + o.ordType);
      if (o.ordType === OrdType.LIMIT) e.addTicks(Tag.Price, o.priceTicks);
      e.addInt(Tag.LeavesQty, o.leavesQty).addInt(Tag.CumQty, o.cumQty).addAscii(Tag.AvgPx, averagePriceText(o.cumNotionalTicks, o.cumQty));
    } else {
      const symbol = request !== null && request.has(Tag.Symbol) ? bytes(request.getString(Tag.Symbol)!) : NONE;
      const side = request !== null && request.has(Tag.Side) ? request.getChar(Tag.Side) : 0x31;
      e.addAscii(Tag.Symbol, symbol).addChar(Tag.Side, side);
      e.addInt(Tag.LeavesQty, 0).addInt(Tag.CumQty, 0).addInt(Tag.AvgPx, 0);
      e.addAscii(Tag.Text, UNKNOWN_ORDER_TEXT);
    }
    e.addUtcTimestamp(Tag.TransactTime, this.clock.now());
    if (session.sendAppOrStore() !== SendResult.OK) this.droppedReports++;
  }

  private businessReject(m: FixParser, session: FixSession): void {
    const n = writeMsgType(this.refMsgType, 0, m.msgType);
    const e = session.beginApp(MsgType.BUSINESS_MESSAGE_REJECT);
    e.addInt(Tag.RefSeqNum, m.getInt(Tag.MsgSeqNum)).addBytes(Tag.RefMsgType, this.refMsgType, 0, n).addInt(TAG_BUSINESS_REJECT_REASON, 3);
    if (session.sendApp() !== SendResult.OK) this.droppedReports++;
  }

  // -------------------------------------------------------------------- ExecutionSink

  onExecution(e: ExecEvent): void {
    if (this.latencyMs === 0) this.sendExec(e);
    else this.schedule({ dueMs: this.clock.now() + this.latencyMs, exec: e, cancelReject: null });
  }

  onCancelReject(e: CancelRejectEvent): void {
    if (this.latencyMs === 0) this.sendCancelReject(e);
    else this.schedule({ dueMs: this.clock.now() + this.latencyMs, exec: null, cancelReject: e });
  }

  private schedule(p: Pending): void {
    const wasEmpty = this.pendingHead === this.pending.length;
    this.pending.push(p);
    if (wasEmpty && this.onScheduled !== null) this.onScheduled(p.dueMs);
  }

  /** Sends every delayed report due at nowMs, in the order they happened. */
  flushDue(nowMs: number): void {
    while (this.pendingHead < this.pending.length && this.pending[this.pendingHead].dueMs <= nowMs) {
      const p = this.pending[this.pendingHead++];
      if (p.exec !== null) this.sendExec(p.exec);
      else if (p.cancelReject !== null) this.sendCancelReject(p.cancelReject);
    }
    if (this.pendingHead > 1024 && this.pendingHead * 2 > this.pending.length) {
      this.pending.splice(0, this.pendingHead);
      this.pendingHead = 0;
    }
  }

  /** When the next delayed report is due, or -1 when none is waiting. */
  nextDueMs(): number {
    return this.pendingHead < this.pending.length ? this.pending[this.pendingHead].dueMs : -1;
  }

  private sendExec(x: ExecEvent): void {
    const session = x.client as FixSession;
    const e = session.beginApp(MsgType.EXECUTION_REPORT);
    e.addAscii(Tag.OrderID, bytes(x.orderId)).addAscii(Tag.ExecID, bytes(x.execId));
    e.addAscii(Tag.ClOrdID, bytes(x.clOrdId));
    if (x.origClOrdId !== null) e.addAscii(Tag.OrigClOrdID, bytes(x.origClOrdId));
    e.addChar(Tag.ExecType, x.execType).addChar(Tag.OrdStatus, x.ordStatus);
    e.addAscii(Tag.Symbol, bytes(x.symbol)).addChar(Tag.Side, 0x30 + x.side);
    e.addInt(Tag.OrderQty, x.orderQty).addChar(Tag.OrdType, 0x30 + x.ordType);
    if (x.ordType === OrdType.LIMIT) e.addTicks(Tag.Price, x.priceTicks);
    e.addInt(Tag.LastQty, x.lastQty).addTicks(Tag.LastPx, x.lastPxTicks);
    e.addInt(Tag.LeavesQty, x.leavesQty).addInt(Tag.CumQty, x.cumQty).addTicks(Tag.AvgPx, x.avgPxTicks);
    if (x.commissionTicks > 0) e.addTicks(Tag.Commission, x.commissionTicks).addChar(Tag.CommType, COMM_TYPE_ABSOLUTE);
    if (x.ordStatus === OrdStatus.REJECTED) e.addInt(TAG_ORD_REJ_REASON, x.ordRejReason);
    if (x.text !== null) e.addAscii(Tag.Text, ascii(x.text));
    e.addUtcTimestamp(Tag.TransactTime, this.clock.now());
    if (session.sendAppOrStore() !== SendResult.OK) this.droppedReports++;
  }

  private sendCancelReject(x: CancelRejectEvent): void {
    const session = x.client as FixSession;
    const e = session.beginApp(MsgType.ORDER_CANCEL_REJECT);
    e.addAscii(Tag.OrderID, x.orderId === 'NONE' ? NONE : bytes(x.orderId));
    e.addAscii(Tag.ClOrdID, bytes(x.clOrdId)).addAscii(Tag.OrigClOrdID, bytes(x.origClOrdId));
    e.addChar(Tag.OrdStatus, x.ordStatus).addChar(Tag.CxlRejResponseTo, 0x31).addInt(Tag.CxlRejReason, x.cxlRejReason);
    e.addAscii(Tag.Text, ascii(x.text));
    if (session.sendAppOrStore() !== SendResult.OK) this.droppedReports++;
  }
}
