/**
 * Binary layouts of every record that crosses a ring, read and written in place through
 * flyweights. Offsets are fixed, little-endian, with 8-byte fields first so they stay aligned.
 * Times are engine-clock nanoseconds (engine/clock.ts); prices are ticks of 1e-6
 * (engine/fixed-point.ts); quantities are integer shares; ids are numeric.
 *
 * Record type ids (ring header typeId):
 *
 *   1  NEW_ORDER       ingest|fix(acceptor) -> risk
 *   2  CANCEL_ORDER    ingest|fix(acceptor) -> risk
 *   3  REPLACE_ORDER   ingest|fix(acceptor) -> risk
 *   4  MASS_CANCEL     ingest -> risk       (cancel all of an account's / connection's / symbol's open orders)
 *   5  ACCOUNT_CONTROL risk -> persistence  (kill switch: an account or all of them halted / reduce-only / normal; risk writes it as it takes the change from the kill board, workers/risk/kill-board.ts)
 *   6  RISK_LIMIT      ingest -> risk -> persistence   (admin change of one pre-trade limit, with who and a version)
 *   10 EXEC_REPORT     risk -> ingest|fix(acceptor)|persistence   (client-facing order events)
 *   11 POSITION        risk -> ingest       (an account's position in a symbol after a fill)
 *   20 ROUTE_REQUEST   risk -> sor
 *   21 CHILD_CANCEL    risk -> sor -> fix
 *   22 ROUTE_AUDIT     sor -> persistence|ingest   (one routing decision: features, every venue's scores, children)
 *   30 CHILD_NEW       sor -> fix
 *   31 ROUTE_DONE      sor -> fix -> risk   (every ROUTE_REQUEST ends with one ROUTE_DONE)
 *   40 CHILD_EVENT     fix -> risk          (sent, acked, filled, canceled, rejected at a venue)
 *   50 VENUE_STATUS    fix -> sor           (session up / down)
 *   51 QUOTE           fix -> sor|risk      (top of book per venue and symbol; risk keeps reference prices)
 *   60 SOR_CONFIG      ingest -> risk -> sor|persistence   (admin change of routing weights)
 */

import { CL_ORD_ID_CAPACITY } from '../engine/domain.ts';
import { Flyweight } from './flyweight.ts';

export const RecordType = {
  NEW_ORDER: 1,
  CANCEL_ORDER: 2,
  REPLACE_ORDER: 3,
  MASS_CANCEL: 4,
  ACCOUNT_CONTROL: 5,
  RISK_LIMIT: 6,
  EXEC_REPORT: 10,
  POSITION: 11,
  ROUTE_REQUEST: 20,
  CHILD_CANCEL: 21,
  ROUTE_AUDIT: 22,
  CHILD_NEW: 30,
  ROUTE_DONE: 31,
  CHILD_EVENT: 40,
  VENUE_STATUS: 50,
  QUOTE: 51,
  SOR_CONFIG: 60,
} as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

// ---------------------------------------------------------------------------------------------
// NEW_ORDER
//
//   0        8        16       24     28      32     36      40 41 42 43 44   48            88
//   +--------+--------+--------+------+-------+------+-------+--+--+--+--+---+-------------+
//   |recvNs  | qty    | price  | conn |account|symbol|request|sr|sd|ot|tf|len| clOrdId[40] |
//   +--------+--------+--------+------+-------+------+-------+--+--+--+--+---+-------------+
// ---------------------------------------------------------------------------------------------
const NO_RECV_NS = 0;
const NO_QTY = NO_RECV_NS + 8;
const NO_PRICE = NO_QTY + 8;
const NO_CONN = NO_PRICE + 8;
const NO_ACCOUNT = NO_CONN + 4;
const NO_SYMBOL = NO_ACCOUNT + 4;
const NO_REQUEST = NO_SYMBOL + 4;
const NO_SOURCE = NO_REQUEST + 4;
const NO_SIDE = NO_SOURCE + 1;
const NO_ORD_TYPE = NO_SIDE + 1;
const NO_TIF = NO_ORD_TYPE + 1;
const NO_CL_LEN = NO_TIF + 1;
const NO_CL = NO_CL_LEN + 4;
export const NEW_ORDER_LENGTH = NO_CL + CL_ORD_ID_CAPACITY;

export class NewOrderFlyweight extends Flyweight {
  recvTimeNs(): number { return this.f64(NO_RECV_NS); }
  setRecvTimeNs(v: number): this { this.setF64(NO_RECV_NS, v); return this; }
  qty(): number { return this.f64(NO_QTY); }
  setQty(v: number): this { this.setF64(NO_QTY, v); return this; }
  priceTicks(): number { return this.f64(NO_PRICE); }
  setPriceTicks(v: number): this { this.setF64(NO_PRICE, v); return this; }
  connId(): number { return this.u32(NO_CONN); }
  setConnId(v: number): this { this.setU32(NO_CONN, v); return this; }
  accountId(): number { return this.u32(NO_ACCOUNT); }
  setAccountId(v: number): this { this.setU32(NO_ACCOUNT, v); return this; }
  symbolId(): number { return this.u32(NO_SYMBOL); }
  setSymbolId(v: number): this { this.setU32(NO_SYMBOL, v); return this; }
  requestId(): number { return this.u32(NO_REQUEST); }
  setRequestId(v: number): this { this.setU32(NO_REQUEST, v); return this; }
  source(): number { return this.u8(NO_SOURCE); }
  setSource(v: number): this { this.setU8(NO_SOURCE, v); return this; }
  side(): number { return this.u8(NO_SIDE); }
  setSide(v: number): this { this.setU8(NO_SIDE, v); return this; }
  ordType(): number { return this.u8(NO_ORD_TYPE); }
  setOrdType(v: number): this { this.setU8(NO_ORD_TYPE, v); return this; }
  tif(): number { return this.u8(NO_TIF); }
  setTif(v: number): this { this.setU8(NO_TIF, v); return this; }
  clOrdIdLength(): number { return this.u8(NO_CL_LEN); }
  clOrdIdOffset(): number { return this.offset + NO_CL; }
  setClOrdId(src: Uint8Array, start: number, end: number): boolean { return this.putBytes(NO_CL, NO_CL_LEN, CL_ORD_ID_CAPACITY, src, start, end); }
  copyClOrdId(dst: Uint8Array, dstOffset: number): number { return this.getBytes(NO_CL, NO_CL_LEN, dst, dstOffset); }
}

// ---------------------------------------------------------------------------------------------
// CANCEL_ORDER / REPLACE_ORDER share one layout; qty and price matter only for a replace.
// The order is named by orderId (engine id) when > 0, else by origClOrdId within the account.
//
//   0        8        16       24       32     36      40      44 45 46 47 48           88           128
//   +--------+--------+--------+--------+------+-------+-------+--+--+--+--+------------+------------+
//   |recvNs  |orderId | qty    | price  | conn |account|request|sr|cl|oc|  | clOrdId    |origClOrdId |
//   +--------+--------+--------+--------+------+-------+-------+--+--+--+--+------------+------------+
// ---------------------------------------------------------------------------------------------
const CX_RECV_NS = 0;
const CX_ORDER_ID = CX_RECV_NS + 8;
const CX_QTY = CX_ORDER_ID + 8;
const CX_PRICE = CX_QTY + 8;
const CX_CONN = CX_PRICE + 8;
const CX_ACCOUNT = CX_CONN + 4;
const CX_REQUEST = CX_ACCOUNT + 4;
const CX_SOURCE = CX_REQUEST + 4;
const CX_CL_LEN = CX_SOURCE + 1;
const CX_ORIG_LEN = CX_CL_LEN + 1;
const CX_CL = CX_ORIG_LEN + 2;
const CX_ORIG = CX_CL + CL_ORD_ID_CAPACITY;
export const CANCEL_ORDER_LENGTH = CX_ORIG + CL_ORD_ID_CAPACITY;
export const REPLACE_ORDER_LENGTH = CANCEL_ORDER_LENGTH;

export class CancelOrderFlyweight extends Flyweight {
  recvTimeNs(): number { return this.f64(CX_RECV_NS); }
  setRecvTimeNs(v: number): this { this.setF64(CX_RECV_NS, v); return this; }
  orderId(): number { return this.f64(CX_ORDER_ID); }
  setOrderId(v: number): this { this.setF64(CX_ORDER_ID, v); return this; }
  qty(): number { return this.f64(CX_QTY); }
  setQty(v: number): this { this.setF64(CX_QTY, v); return this; }
  priceTicks(): number { return this.f64(CX_PRICE); }
  setPriceTicks(v: number): this { this.setF64(CX_PRICE, v); return this; }
  connId(): number { return this.u32(CX_CONN); }
  setConnId(v: number): this { this.setU32(CX_CONN, v); return this; }
  accountId(): number { return this.u32(CX_ACCOUNT); }
  setAccountId(v: number): this { this.setU32(CX_ACCOUNT, v); return this; }
  requestId(): number { return this.u32(CX_REQUEST); }
  setRequestId(v: number): this { this.setU32(CX_REQUEST, v); return this; }
  source(): number { return this.u8(CX_SOURCE); }
  setSource(v: number): this { this.setU8(CX_SOURCE, v); return this; }
  clOrdIdLength(): number { return this.u8(CX_CL_LEN); }
  clOrdIdOffset(): number { return this.offset + CX_CL; }
  setClOrdId(src: Uint8Array, start: number, end: number): boolean { return this.putBytes(CX_CL, CX_CL_LEN, CL_ORD_ID_CAPACITY, src, start, end); }
  copyClOrdId(dst: Uint8Array, dstOffset: number): number { return this.getBytes(CX_CL, CX_CL_LEN, dst, dstOffset); }
  origClOrdIdLength(): number { return this.u8(CX_ORIG_LEN); }
  origClOrdIdOffset(): number { return this.offset + CX_ORIG; }
  setOrigClOrdId(src: Uint8Array, start: number, end: number): boolean { return this.putBytes(CX_ORIG, CX_ORIG_LEN, CL_ORD_ID_CAPACITY, src, start, end); }
  copyOrigClOrdId(dst: Uint8Array, dstOffset: number): number { return this.getBytes(CX_ORIG, CX_ORIG_LEN, dst, dstOffset); }
}

// ---------------------------------------------------------------------------------------------
// EXEC_REPORT: one client-facing order event. Carries the whole order picture after the event,
// so a consumer (a client connection, the journal) needs no state of its own to render it.
//
//   0 eventSeq  8 orderId  16 timeNs  24 recvNs  32 qty  40 price  48 lastQty  56 lastPx
//   64 cumQty  72 leavesQty  80 cumNotional (sum lastQty*lastPx, ticks)
//   88 conn u32  92 account u32  96 symbol u32  100 request u32  104 reason u16  106 venue u16
//   108 execType u8  109 ordStatus(state) u8  110 side  111 ordType  112 tif  113 source
//   114 clLen  115 origLen  116 pad  120 clOrdId[40]  160 origClOrdId[40]
//   200 journalMark (see below)  208 venueExecIdHash  216 execRefSeq  224
//
// journalMark, on EXEC_REPORT and POSITION: the count of records risk had written to its journal
// feed (riskToPersistence) when it made this record, this record's own journal copy included.
// The record may leave the process (ingest to a WebSocket/REST client, the fix thread to a FIX
// client) only once the persistence stage reports that many feed records durable (the gate of
// the riskToIngest / riskToFix ring, engine/ring.ts). 0: nothing to wait for. Appended at the
// end, past the fields every other reader knows.
//
// venueExecIdHash and execRefSeq, on the reports of a venue's trades (appended after the mark;
// 0 on every other report, and absent from reports journaled before they existed, 208 bytes):
//   FILL, PARTIAL_FILL  venueExecIdHash: execIdHash (workers/fix/exec-id-set.ts) of the fill's
//                       venue ExecID as the CHILD_EVENT stores it (its fill ledger key,
//                       workers/risk/risk-stage.ts storedIdKey), 0 for none; execRefSeq 0.
//   TRADE_CANCEL,       venueExecIdHash: the busted or corrected fill's (its venue ExecRefID);
//   TRADE_CORRECT       execRefSeq: the eventSeq of that fill's report, the ExecID its client
//                       saw (the ExecRefID <19> of the bust or correction sent to the client).
// ---------------------------------------------------------------------------------------------
const ER_EVENT_SEQ = 0;
const ER_ORDER_ID = ER_EVENT_SEQ + 8;
const ER_TIME_NS = ER_ORDER_ID + 8;
const ER_RECV_NS = ER_TIME_NS + 8;
const ER_QTY = ER_RECV_NS + 8;
const ER_PRICE = ER_QTY + 8;
const ER_LAST_QTY = ER_PRICE + 8;
const ER_LAST_PX = ER_LAST_QTY + 8;
const ER_CUM_QTY = ER_LAST_PX + 8;
const ER_LEAVES_QTY = ER_CUM_QTY + 8;
const ER_CUM_NOTIONAL = ER_LEAVES_QTY + 8;
const ER_CONN = ER_CUM_NOTIONAL + 8;
const ER_ACCOUNT = ER_CONN + 4;
const ER_SYMBOL = ER_ACCOUNT + 4;
const ER_REQUEST = ER_SYMBOL + 4;
const ER_REASON = ER_REQUEST + 4;
const ER_VENUE = ER_REASON + 2;
const ER_EXEC_TYPE = ER_VENUE + 2;
const ER_STATE = ER_EXEC_TYPE + 1;
const ER_SIDE = ER_STATE + 1;
const ER_ORD_TYPE = ER_SIDE + 1;
const ER_TIF = ER_ORD_TYPE + 1;
const ER_SOURCE = ER_TIF + 1;
const ER_CL_LEN = ER_SOURCE + 1;
const ER_ORIG_LEN = ER_CL_LEN + 1;
const ER_CL = ER_ORIG_LEN + 5;
const ER_ORIG = ER_CL + CL_ORD_ID_CAPACITY;
const ER_JOURNAL_MARK = ER_ORIG + CL_ORD_ID_CAPACITY;
const ER_VENUE_EXEC_HASH = ER_JOURNAL_MARK + 8;
const ER_EXEC_REF_SEQ = ER_VENUE_EXEC_HASH + 8;
export const EXEC_REPORT_LENGTH = ER_EXEC_REF_SEQ + 8;
/**
 * Journal readers need every field before the journal mark (the mark matters on the client rings
 * only), so reports journaled before the mark existed (200 bytes) still decode.
 */
export const EXEC_REPORT_JOURNALED_MIN_LENGTH = ER_JOURNAL_MARK;
/** A journaled report shorter than this (written before the trade fields existed) has neither: read them as 0 (ExecReportFlyweight.venueExecIdHashIn). */
export const EXEC_REPORT_TRADE_FIELDS_LENGTH = ER_EXEC_REF_SEQ + 8;

export class ExecReportFlyweight extends Flyweight {
  eventSeq(): number { return this.f64(ER_EVENT_SEQ); }
  setEventSeq(v: number): this { this.setF64(ER_EVENT_SEQ, v); return this; }
  orderId(): number { return this.f64(ER_ORDER_ID); }
  setOrderId(v: number): this { this.setF64(ER_ORDER_ID, v); return this; }
  timeNs(): number { return this.f64(ER_TIME_NS); }
  setTimeNs(v: number): this { this.setF64(ER_TIME_NS, v); return this; }
  recvTimeNs(): number { return this.f64(ER_RECV_NS); }
  setRecvTimeNs(v: number): this { this.setF64(ER_RECV_NS, v); return this; }
  qty(): number { return this.f64(ER_QTY); }
  setQty(v: number): this { this.setF64(ER_QTY, v); return this; }
  priceTicks(): number { return this.f64(ER_PRICE); }
  setPriceTicks(v: number): this { this.setF64(ER_PRICE, v); return this; }
  lastQty(): number { return this.f64(ER_LAST_QTY); }
  setLastQty(v: number): this { this.setF64(ER_LAST_QTY, v); return this; }
  lastPxTicks(): number { return this.f64(ER_LAST_PX); }
  setLastPxTicks(v: number): this { this.setF64(ER_LAST_PX, v); return this; }
  cumQty(): number { return this.f64(ER_CUM_QTY); }
  setCumQty(v: number): this { this.setF64(ER_CUM_QTY, v); return this; }
  leavesQty(): number { return this.f64(ER_LEAVES_QTY); }
  setLeavesQty(v: number): this { this.setF64(ER_LEAVES_QTY, v); return this; }
  cumNotionalTicks(): number { return this.f64(ER_CUM_NOTIONAL); }
  setCumNotionalTicks(v: number): this { this.setF64(ER_CUM_NOTIONAL, v); return this; }

  /*
   * Prices split into whole units and a fraction in ticks, for the report writer
   * (workers/ingest/report-json-writer.ts), which must not allocate: see Flyweight.unitsAt.
   */
  hasPrice(): boolean { return this.view.getFloat64(this.offset + ER_PRICE, true) > 0; }
  priceUnits(): number { return this.unitsAt(ER_PRICE, 0); }
  priceFraction(): number { return this.fractionAt(ER_PRICE, 0); }
  lastPxUnits(): number { return this.unitsAt(ER_LAST_PX, 0); }
  lastPxFraction(): number { return this.fractionAt(ER_LAST_PX, 0); }
  /** The average price (averagePriceTicks of the notional over cumQty > 0), split likewise. */
  averagePriceUnits(cumQty: number): number { return this.unitsAt(ER_CUM_NOTIONAL, cumQty); }
  averagePriceFraction(cumQty: number): number { return this.fractionAt(ER_CUM_NOTIONAL, cumQty); }

  connId(): number { return this.u32(ER_CONN); }
  setConnId(v: number): this { this.setU32(ER_CONN, v); return this; }
  accountId(): number { return this.u32(ER_ACCOUNT); }
  setAccountId(v: number): this { this.setU32(ER_ACCOUNT, v); return this; }
  symbolId(): number { return this.u32(ER_SYMBOL); }
  setSymbolId(v: number): this { this.setU32(ER_SYMBOL, v); return this; }
  requestId(): number { return this.u32(ER_REQUEST); }
  setRequestId(v: number): this { this.setU32(ER_REQUEST, v); return this; }
  reason(): number { return this.u16(ER_REASON); }
  setReason(v: number): this { this.setU16(ER_REASON, v); return this; }
  venueId(): number { return this.u16(ER_VENUE); }
  setVenueId(v: number): this { this.setU16(ER_VENUE, v); return this; }
  execType(): number { return this.u8(ER_EXEC_TYPE); }
  setExecType(v: number): this { this.setU8(ER_EXEC_TYPE, v); return this; }
  state(): number { return this.u8(ER_STATE); }
  setState(v: number): this { this.setU8(ER_STATE, v); return this; }
  side(): number { return this.u8(ER_SIDE); }
  setSide(v: number): this { this.setU8(ER_SIDE, v); return this; }
  ordType(): number { return this.u8(ER_ORD_TYPE); }
  setOrdType(v: number): this { this.setU8(ER_ORD_TYPE, v); return this; }
  tif(): number { return this.u8(ER_TIF); }
  setTif(v: number): this { this.setU8(ER_TIF, v); return this; }
  source(): number { return this.u8(ER_SOURCE); }
  setSource(v: number): this { this.setU8(ER_SOURCE, v); return this; }
  clOrdIdLength(): number { return this.u8(ER_CL_LEN); }
  clOrdIdOffset(): number { return this.offset + ER_CL; }
  setClOrdId(src: Uint8Array, start: number, end: number): boolean { return this.putBytes(ER_CL, ER_CL_LEN, CL_ORD_ID_CAPACITY, src, start, end); }
  copyClOrdId(dst: Uint8Array, dstOffset: number): number { return this.getBytes(ER_CL, ER_CL_LEN, dst, dstOffset); }
  origClOrdIdLength(): number { return this.u8(ER_ORIG_LEN); }
  origClOrdIdOffset(): number { return this.offset + ER_ORIG; }
  setOrigClOrdId(src: Uint8Array, start: number, end: number): boolean { return this.putBytes(ER_ORIG, ER_ORIG_LEN, CL_ORD_ID_CAPACITY, src, start, end); }
  copyOrigClOrdId(dst: Uint8Array, dstOffset: number): number { return this.getBytes(ER_ORIG, ER_ORIG_LEN, dst, dstOffset); }
  journalMark(): number { return this.f64(ER_JOURNAL_MARK); }
  setJournalMark(v: number): this { this.setF64(ER_JOURNAL_MARK, v); return this; }
  /** On a ring (always EXEC_REPORT_LENGTH bytes); a journal reader uses the *In forms. */
  venueExecIdHash(): number { return this.f64(ER_VENUE_EXEC_HASH); }
  setVenueExecIdHash(v: number): this { this.setF64(ER_VENUE_EXEC_HASH, v); return this; }
  execRefSeq(): number { return this.f64(ER_EXEC_REF_SEQ); }
  setExecRefSeq(v: number): this { this.setF64(ER_EXEC_REF_SEQ, v); return this; }
  /** venueExecIdHash of a record of `length` bytes: 0 for one journaled before the field existed. */
  venueExecIdHashIn(length: number): number { return length >= EXEC_REPORT_TRADE_FIELDS_LENGTH ? this.f64(ER_VENUE_EXEC_HASH) : 0; }
  /** execRefSeq of a record of `length` bytes: 0 for one journaled before the field existed. */
  execRefSeqIn(length: number): number { return length >= EXEC_REPORT_TRADE_FIELDS_LENGTH ? this.f64(ER_EXEC_REF_SEQ) : 0; }
}

// ---------------------------------------------------------------------------------------------
// ROUTE_REQUEST: route `qty` of an accepted order.
//   0 orderId  8 recvNs  16 qty  24 price  32 account u32  36 symbol u32  40 side  41 ordType
//   42 tif  43 pad  48
// ---------------------------------------------------------------------------------------------
const RQ_ORDER_ID = 0;
const RQ_RECV_NS = RQ_ORDER_ID + 8;
const RQ_QTY = RQ_RECV_NS + 8;
const RQ_PRICE = RQ_QTY + 8;
const RQ_ACCOUNT = RQ_PRICE + 8;
const RQ_SYMBOL = RQ_ACCOUNT + 4;
const RQ_SIDE = RQ_SYMBOL + 4;
const RQ_ORD_TYPE = RQ_SIDE + 1;
const RQ_TIF = RQ_ORD_TYPE + 1;
export const ROUTE_REQUEST_LENGTH = RQ_TIF + 6;

export class RouteRequestFlyweight extends Flyweight {
  orderId(): number { return this.f64(RQ_ORDER_ID); }
  setOrderId(v: number): this { this.setF64(RQ_ORDER_ID, v); return this; }
  recvTimeNs(): number { return this.f64(RQ_RECV_NS); }
  setRecvTimeNs(v: number): this { this.setF64(RQ_RECV_NS, v); return this; }
  qty(): number { return this.f64(RQ_QTY); }
  setQty(v: number): this { this.setF64(RQ_QTY, v); return this; }
  priceTicks(): number { return this.f64(RQ_PRICE); }
  setPriceTicks(v: number): this { this.setF64(RQ_PRICE, v); return this; }
  accountId(): number { return this.u32(RQ_ACCOUNT); }
  setAccountId(v: number): this { this.setU32(RQ_ACCOUNT, v); return this; }
  symbolId(): number { return this.u32(RQ_SYMBOL); }
  setSymbolId(v: number): this { this.setU32(RQ_SYMBOL, v); return this; }
  side(): number { return this.u8(RQ_SIDE); }
  setSide(v: number): this { this.setU8(RQ_SIDE, v); return this; }
  ordType(): number { return this.u8(RQ_ORD_TYPE); }
  setOrdType(v: number): this { this.setU8(RQ_ORD_TYPE, v); return this; }
  tif(): number { return this.u8(RQ_TIF); }
  setTif(v: number): this { this.setU8(RQ_TIF, v); return this; }
}

// ---------------------------------------------------------------------------------------------
// CHILD_NEW (sor -> fix) and CHILD_CANCEL (risk -> sor -> fix) share one layout.
//   0 childId  8 orderId  16 qty  24 price  32 recvNs  40 decisionNs  48 venue u32  52 symbol u32
//   56 account u32  60 side  61 ordType  62 tif  63 pad  64 journalMark  72
// journalMark (CHILD_NEW only): the SOR's count of ROUTE_AUDIT records written to the journal feed,
// its own decision's audit included; the fix stage sends the child to its venue only once that
// many are durable (engine/ring.ts gated consumption), so no child reaches a venue unjournaled.
// A CHILD_CANCEL waits for nothing (journalMarkOf reads 0 for it, whatever the field holds).
// ---------------------------------------------------------------------------------------------
const CH_CHILD_ID = 0;
const CH_ORDER_ID = CH_CHILD_ID + 8;
const CH_QTY = CH_ORDER_ID + 8;
const CH_PRICE = CH_QTY + 8;
const CH_RECV_NS = CH_PRICE + 8;
const CH_DECISION_NS = CH_RECV_NS + 8;
const CH_VENUE = CH_DECISION_NS + 8;
const CH_SYMBOL = CH_VENUE + 4;
const CH_ACCOUNT = CH_SYMBOL + 4;
const CH_SIDE = CH_ACCOUNT + 4;
const CH_ORD_TYPE = CH_SIDE + 1;
const CH_TIF = CH_ORD_TYPE + 1;
const CH_JOURNAL_MARK = CH_TIF + 2;
export const CHILD_ORDER_LENGTH = CH_JOURNAL_MARK + 8;

export class ChildOrderFlyweight extends Flyweight {
  childId(): number { return this.f64(CH_CHILD_ID); }
  setChildId(v: number): this { this.setF64(CH_CHILD_ID, v); return this; }
  orderId(): number { return this.f64(CH_ORDER_ID); }
  setOrderId(v: number): this { this.setF64(CH_ORDER_ID, v); return this; }
  qty(): number { return this.f64(CH_QTY); }
  setQty(v: number): this { this.setF64(CH_QTY, v); return this; }
  priceTicks(): number { return this.f64(CH_PRICE); }
  setPriceTicks(v: number): this { this.setF64(CH_PRICE, v); return this; }
  recvTimeNs(): number { return this.f64(CH_RECV_NS); }
  setRecvTimeNs(v: number): this { this.setF64(CH_RECV_NS, v); return this; }
  decisionTimeNs(): number { return this.f64(CH_DECISION_NS); }
  setDecisionTimeNs(v: number): this { this.setF64(CH_DECISION_NS, v); return this; }
  venueId(): number { return this.u32(CH_VENUE); }
  setVenueId(v: number): this { this.setU32(CH_VENUE, v); return this; }
  symbolId(): number { return this.u32(CH_SYMBOL); }
  setSymbolId(v: number): this { this.setU32(CH_SYMBOL, v); return this; }
  accountId(): number { return this.u32(CH_ACCOUNT); }
  setAccountId(v: number): this { this.setU32(CH_ACCOUNT, v); return this; }
  side(): number { return this.u8(CH_SIDE); }
  setSide(v: number): this { this.setU8(CH_SIDE, v); return this; }
  ordType(): number { return this.u8(CH_ORD_TYPE); }
  setOrdType(v: number): this { this.setU8(CH_ORD_TYPE, v); return this; }
  tif(): number { return this.u8(CH_TIF); }
  setTif(v: number): this { this.setU8(CH_TIF, v); return this; }
  journalMark(): number { return this.f64(CH_JOURNAL_MARK); }
  setJournalMark(v: number): this { this.setF64(CH_JOURNAL_MARK, v); return this; }
}

// ---------------------------------------------------------------------------------------------
// ROUTE_DONE: the SOR finished a ROUTE_REQUEST; childCount children were emitted before it on
// the same ring. childCount 0 means unroutable, with the reason.
//   0 orderId  8 recvNs  16 decisionNs  24 routedQty  32 childCount u32  36 reason u16  38 pad  40
// ---------------------------------------------------------------------------------------------
const RD_ORDER_ID = 0;
const RD_RECV_NS = RD_ORDER_ID + 8;
const RD_DECISION_NS = RD_RECV_NS + 8;
const RD_ROUTED_QTY = RD_DECISION_NS + 8;
const RD_CHILD_COUNT = RD_ROUTED_QTY + 8;
const RD_REASON = RD_CHILD_COUNT + 4;
export const ROUTE_DONE_LENGTH = RD_REASON + 4;

export class RouteDoneFlyweight extends Flyweight {
  orderId(): number { return this.f64(RD_ORDER_ID); }
  setOrderId(v: number): this { this.setF64(RD_ORDER_ID, v); return this; }
  recvTimeNs(): number { return this.f64(RD_RECV_NS); }
  setRecvTimeNs(v: number): this { this.setF64(RD_RECV_NS, v); return this; }
  decisionTimeNs(): number { return this.f64(RD_DECISION_NS); }
  setDecisionTimeNs(v: number): this { this.setF64(RD_DECISION_NS, v); return this; }
  routedQty(): number { return this.f64(RD_ROUTED_QTY); }
  setRoutedQty(v: number): this { this.setF64(RD_ROUTED_QTY, v); return this; }
  childCount(): number { return this.u32(RD_CHILD_COUNT); }
  setChildCount(v: number): this { this.setU32(RD_CHILD_COUNT, v); return this; }
  reason(): number { return this.u16(RD_REASON); }
  setReason(v: number): this { this.setU16(RD_REASON, v); return this; }
}

// ---------------------------------------------------------------------------------------------
// CHILD_EVENT: what happened to a child order at its venue (fix -> risk).
//   0 childId  8 orderId  16 timeNs  24 lastQty  32 lastPx  40 qty  48 price  56 venue u32
//   60 reason u16  62 kind u8  63 pad  64 execIdHash  72
//
// execIdHash: for a FILL, the 52-bit hash of the venue's ExecID (17) as the fix stage's dedupe
// set computes it (workers/fix/exec-id-set.ts execIdHash), an exact integer; 0 when the report
// carried no ExecID (or for a fill made up by reconciliation, or any other kind). Risk journals
// the record verbatim, so fix recovery rebuilds the set from it. Appended after every older
// field: records journaled before it existed (64 bytes) still decode (CHILD_EVENT_JOURNALED_MIN_LENGTH).
//
// The venue's identifiers, for the audit trail and reconciliation with the venue: a FILL, a
// TRADE_CANCEL and a TRADE_CORRECT made from a report carrying them are longer than
// CHILD_EVENT_LENGTH:
//   72 execIdLength u8  73 execRefIdLength u8  74 execId bytes, then execRefId bytes
// execId: the report's ExecID (17); execRefId: its ExecRefID (19, the fill a bust or correction
// names). Each at most EXEC_ID_CAPACITY bytes (a longer one keeps its first bytes), every byte
// outside printable ASCII written as '?' (the sinks' text columns take no control bytes). A
// record of CHILD_EVENT_LENGTH bytes (any other kind, a fill made up by reconciliation, or one
// journaled before the fields existed) has neither.
// ---------------------------------------------------------------------------------------------
export const ChildEventKind = {
  /** The child's NewOrderSingle went out on the venue session. */
  SENT: 1,
  /** The venue acknowledged it (ExecType New). */
  ACKED: 2,
  /** A fill (lastQty, lastPx). */
  FILL: 3,
  /** Canceled at the venue (requested, IOC remainder or unsolicited): the rest is dead. */
  CANCELED: 4,
  /** Refused by the venue, or not sent (venue down): nothing of it is live. */
  REJECTED: 5,
  /** The venue refused a cancel request for it. */
  CANCEL_REJECTED: 6,
  /** Expired at the venue. */
  EXPIRED: 7,
  /**
   * The venue busted a fill it reported (ExecType H, Trade Cancel): lastQty and lastPx as the
   * report gives them (0 when absent), execIdHash of the report's own ExecID, and the busted
   * fill's ExecID as execRefId. Risk takes that fill back (RiskStage.onTradeCorrection).
   */
  TRADE_CANCEL: 8,
  /** The venue corrected a fill it reported (ExecType G, Trade Correct): the corrected lastQty and lastPx; as TRADE_CANCEL otherwise. */
  TRADE_CORRECT: 9,
} as const;

const CE_CHILD_ID = 0;
const CE_ORDER_ID = CE_CHILD_ID + 8;
const CE_TIME_NS = CE_ORDER_ID + 8;
const CE_LAST_QTY = CE_TIME_NS + 8;
const CE_LAST_PX = CE_LAST_QTY + 8;
const CE_QTY = CE_LAST_PX + 8;
const CE_PRICE = CE_QTY + 8;
const CE_VENUE = CE_PRICE + 8;
const CE_REASON = CE_VENUE + 4;
const CE_KIND = CE_REASON + 2;
const CE_EXEC_ID_HASH = CE_KIND + 2;
export const CHILD_EVENT_LENGTH = CE_EXEC_ID_HASH + 8;
const CE_EXEC_ID_LEN = CHILD_EVENT_LENGTH;
const CE_EXEC_REF_ID_LEN = CE_EXEC_ID_LEN + 1;
const CE_IDS = CE_EXEC_REF_ID_LEN + 1;
/** Bytes of a venue's ExecID (or ExecRefID) a CHILD_EVENT keeps. */
export const EXEC_ID_CAPACITY = 64;
/** The longest CHILD_EVENT: both identifiers at capacity. */
export const CHILD_EVENT_MAX_LENGTH = CE_IDS + 2 * EXEC_ID_CAPACITY;

/** The length of a CHILD_EVENT carrying identifiers of `execIdBytes` and `execRefIdBytes` bytes at the source (capped here); CHILD_EVENT_LENGTH for none. */
export function childEventLength(execIdBytes: number, execRefIdBytes: number): number {
  if (execIdBytes <= 0 && execRefIdBytes <= 0) return CHILD_EVENT_LENGTH;
  return CE_IDS + Math.min(Math.max(execIdBytes, 0), EXEC_ID_CAPACITY) + Math.min(Math.max(execRefIdBytes, 0), EXEC_ID_CAPACITY);
}
/**
 * Journal readers need every field before execIdHash, so child events journaled before it
 * existed (64 bytes) still decode; a reader of execIdHash takes 0 for a shorter record.
 */
export const CHILD_EVENT_JOURNALED_MIN_LENGTH = CE_EXEC_ID_HASH;

export class ChildEventFlyweight extends Flyweight {
  childId(): number { return this.f64(CE_CHILD_ID); }
  setChildId(v: number): this { this.setF64(CE_CHILD_ID, v); return this; }
  orderId(): number { return this.f64(CE_ORDER_ID); }
  setOrderId(v: number): this { this.setF64(CE_ORDER_ID, v); return this; }
  timeNs(): number { return this.f64(CE_TIME_NS); }
  setTimeNs(v: number): this { this.setF64(CE_TIME_NS, v); return this; }
  lastQty(): number { return this.f64(CE_LAST_QTY); }
  setLastQty(v: number): this { this.setF64(CE_LAST_QTY, v); return this; }
  lastPxTicks(): number { return this.f64(CE_LAST_PX); }
  setLastPxTicks(v: number): this { this.setF64(CE_LAST_PX, v); return this; }
  qty(): number { return this.f64(CE_QTY); }
  setQty(v: number): this { this.setF64(CE_QTY, v); return this; }
  priceTicks(): number { return this.f64(CE_PRICE); }
  setPriceTicks(v: number): this { this.setF64(CE_PRICE, v); return this; }
  venueId(): number { return this.u32(CE_VENUE); }
  setVenueId(v: number): this { this.setU32(CE_VENUE, v); return this; }
  reason(): number { return this.u16(CE_REASON); }
  setReason(v: number): this { this.setU16(CE_REASON, v); return this; }
  kind(): number { return this.u8(CE_KIND); }
  setKind(v: number): this { this.setU8(CE_KIND, v); return this; }
  /** Only within a record of CHILD_EVENT_LENGTH bytes (see CHILD_EVENT_JOURNALED_MIN_LENGTH). */
  execIdHash(): number { return this.f64(CE_EXEC_ID_HASH); }
  setExecIdHash(v: number): this { this.setF64(CE_EXEC_ID_HASH, v); return this; }
  /** Bytes of the ExecID at execIdOffset() in a record of `length` bytes (0: none). */
  execIdLength(length: number): number { return length >= CE_IDS ? this.u8(CE_EXEC_ID_LEN) : 0; }
  execIdOffset(): number { return this.offset + CE_IDS; }
  /** Bytes of the ExecRefID at execRefIdOffset() in a record of `length` bytes (0: none). */
  execRefIdLength(length: number): number { return length >= CE_IDS ? this.u8(CE_EXEC_REF_ID_LEN) : 0; }
  execRefIdOffset(): number { return this.offset + CE_IDS + this.u8(CE_EXEC_ID_LEN); }
  /**
   * Writes the identifiers src[idStart, idEnd) and src[refStart, refEnd) (an empty range: none)
   * into a record claimed at childEventLength(idEnd - idStart, refEnd - refStart) bytes, each
   * cut to EXEC_ID_CAPACITY, bytes outside printable ASCII as '?'. Writes nothing when both are
   * empty (a record of CHILD_EVENT_LENGTH).
   */
  setIds(src: Uint8Array, idStart: number, idEnd: number, refStart: number, refEnd: number): this {
    const n = Math.min(Math.max(idEnd - idStart, 0), EXEC_ID_CAPACITY);
    const m = Math.min(Math.max(refEnd - refStart, 0), EXEC_ID_CAPACITY);
    if (n === 0 && m === 0) return this;
    this.setU8(CE_EXEC_ID_LEN, n);
    this.setU8(CE_EXEC_REF_ID_LEN, m);
    const out = this.bytes;
    const at = this.offset + CE_IDS;
    for (let i = 0; i < n; i++) out[at + i] = printable(src[idStart + i]);
    for (let i = 0; i < m; i++) out[at + n + i] = printable(src[refStart + i]);
    return this;
  }
}

/** A byte of printable ASCII as it is, any other as '?'. */
function printable(b: number): number {
  return b >= 0x20 && b <= 0x7e ? b : 0x3f;
}

// ---------------------------------------------------------------------------------------------
// VENUE_STATUS: a venue session went up or down (fix -> sor).
//   0 timeNs  8 venue u32  12 up u8  13 pad  16
// ---------------------------------------------------------------------------------------------
const VS_TIME_NS = 0;
const VS_VENUE = VS_TIME_NS + 8;
const VS_UP = VS_VENUE + 4;
export const VENUE_STATUS_LENGTH = VS_UP + 4;

export class VenueStatusFlyweight extends Flyweight {
  timeNs(): number { return this.f64(VS_TIME_NS); }
  setTimeNs(v: number): this { this.setF64(VS_TIME_NS, v); return this; }
  venueId(): number { return this.u32(VS_VENUE); }
  setVenueId(v: number): this { this.setU32(VS_VENUE, v); return this; }
  up(): boolean { return this.u8(VS_UP) === 1; }
  setUp(v: boolean): this { this.setU8(VS_UP, v ? 1 : 0); return this; }
}

// ---------------------------------------------------------------------------------------------
// QUOTE: top of book at one venue for one symbol (fix -> sor). A side with no quote has qty 0.
//   0 timeNs  8 bid  16 bidQty  24 ask  32 askQty  40 venue u32  44 symbol u32  48
// ---------------------------------------------------------------------------------------------
const QT_TIME_NS = 0;
const QT_BID = QT_TIME_NS + 8;
const QT_BID_QTY = QT_BID + 8;
const QT_ASK = QT_BID_QTY + 8;
const QT_ASK_QTY = QT_ASK + 8;
const QT_VENUE = QT_ASK_QTY + 8;
const QT_SYMBOL = QT_VENUE + 4;
export const QUOTE_LENGTH = QT_SYMBOL + 4;

export class QuoteFlyweight extends Flyweight {
  timeNs(): number { return this.f64(QT_TIME_NS); }
  setTimeNs(v: number): this { this.setF64(QT_TIME_NS, v); return this; }
  bidTicks(): number { return this.f64(QT_BID); }
  setBidTicks(v: number): this { this.setF64(QT_BID, v); return this; }
  bidQty(): number { return this.f64(QT_BID_QTY); }
  setBidQty(v: number): this { this.setF64(QT_BID_QTY, v); return this; }
  askTicks(): number { return this.f64(QT_ASK); }
  setAskTicks(v: number): this { this.setF64(QT_ASK, v); return this; }
  askQty(): number { return this.f64(QT_ASK_QTY); }
  setAskQty(v: number): this { this.setF64(QT_ASK_QTY, v); return this; }
  venueId(): number { return this.u32(QT_VENUE); }
  setVenueId(v: number): this { this.setU32(QT_VENUE, v); return this; }
  symbolId(): number { return this.u32(QT_SYMBOL); }
  setSymbolId(v: number): this { this.setU32(QT_SYMBOL, v); return this; }
}

// ---------------------------------------------------------------------------------------------
// MASS_CANCEL: cancel every open order matching (account, symbol, connection) (ingest -> risk).
// accountId 0 = every account (admin); symbolId ALL_SYMBOLS = every symbol; connId 0 = any
// connection. reason says why (MASS_CANCEL, KILL_SWITCH, CANCEL_ON_DISCONNECT, DEAD_MAN_SWITCH).
//   0 timeNs  8 account u32  12 symbol u32  16 conn u32  20 request u32  24 reason u16  26 pad  32
// ---------------------------------------------------------------------------------------------
const MC_TIME_NS = 0;
const MC_ACCOUNT = MC_TIME_NS + 8;
const MC_SYMBOL = MC_ACCOUNT + 4;
const MC_CONN = MC_SYMBOL + 4;
const MC_REQUEST = MC_CONN + 4;
const MC_REASON = MC_REQUEST + 4;
export const MASS_CANCEL_LENGTH = MC_REASON + 8;
export const ALL_SYMBOLS = 0xffffffff;

export class MassCancelFlyweight extends Flyweight {
  timeNs(): number { return this.f64(MC_TIME_NS); }
  setTimeNs(v: number): this { this.setF64(MC_TIME_NS, v); return this; }
  accountId(): number { return this.u32(MC_ACCOUNT); }
  setAccountId(v: number): this { this.setU32(MC_ACCOUNT, v); return this; }
  symbolId(): number { return this.u32(MC_SYMBOL); }
  setSymbolId(v: number): this { this.setU32(MC_SYMBOL, v); return this; }
  connId(): number { return this.u32(MC_CONN); }
  setConnId(v: number): this { this.setU32(MC_CONN, v); return this; }
  requestId(): number { return this.u32(MC_REQUEST); }
  setRequestId(v: number): this { this.setU32(MC_REQUEST, v); return this; }
  reason(): number { return this.u16(MC_REASON); }
  setReason(v: number): this { this.setU16(MC_REASON, v); return this; }
}

// ---------------------------------------------------------------------------------------------
// ACCOUNT_CONTROL: the kill switch, as risk took it from the kill board (workers/risk/kill-board.ts;
// risk -> persistence, journaled with the admin who pulled it; recovery restores modes from it).
// accountId 0 = global. mode: AccountMode.
//   0 timeNs  8 account u32  12 admin account u32  16 mode u8  17 pad  24
// ---------------------------------------------------------------------------------------------
const AC_TIME_NS = 0;
const AC_ACCOUNT = AC_TIME_NS + 8;
const AC_ADMIN = AC_ACCOUNT + 4;
const AC_MODE = AC_ADMIN + 4;
export const ACCOUNT_CONTROL_LENGTH = AC_MODE + 8;

/** Trading state of an account (or of all of them). */
export const AccountMode = {
  NORMAL: 0,
  /** New orders and replaces refused, cancels allowed; open orders canceled at the venues. */
  HALTED: 1,
  /** Only orders that reduce the position are accepted. */
  REDUCE_ONLY: 2,
} as const;

export class AccountControlFlyweight extends Flyweight {
  timeNs(): number { return this.f64(AC_TIME_NS); }
  setTimeNs(v: number): this { this.setF64(AC_TIME_NS, v); return this; }
  accountId(): number { return this.u32(AC_ACCOUNT); }
  setAccountId(v: number): this { this.setU32(AC_ACCOUNT, v); return this; }
  adminAccountId(): number { return this.u32(AC_ADMIN); }
  setAdminAccountId(v: number): this { this.setU32(AC_ADMIN, v); return this; }
  mode(): number { return this.u8(AC_MODE); }
  setMode(v: number): this { this.setU8(AC_MODE, v); return this; }
}

// ---------------------------------------------------------------------------------------------
// POSITION: an account's position in one symbol after a fill, or after its mark moved (risk ->
// ingest). Average-cost method: costTicks is the cost of the open quantity (always >= 0),
// realizedTicks the realized P&L, both integer ticks of currency (price ticks x shares).
// markTicks is the reference price the position is marked at (0: none), unrealizedTicks the
// P&L of the open quantity at that mark (qty * mark - cost for a long, cost - |qty| * mark short).
//   0 qty (signed)  8 costTicks  16 realizedTicks  24 eventSeq  32 timeNs  40 account u32
//   44 symbol u32  48 markTicks  56 unrealizedTicks  64 journalMark (as EXEC_REPORT's)  72
// ---------------------------------------------------------------------------------------------
const PS_QTY = 0;
const PS_COST = PS_QTY + 8;
const PS_REALIZED = PS_COST + 8;
const PS_EVENT_SEQ = PS_REALIZED + 8;
const PS_TIME_NS = PS_EVENT_SEQ + 8;
const PS_ACCOUNT = PS_TIME_NS + 8;
const PS_SYMBOL = PS_ACCOUNT + 4;
const PS_MARK = PS_SYMBOL + 4;
const PS_UNREALIZED = PS_MARK + 8;
const PS_JOURNAL_MARK = PS_UNREALIZED + 8;
export const POSITION_LENGTH = PS_JOURNAL_MARK + 8;
/** As EXEC_REPORT_JOURNALED_MIN_LENGTH: positions journaled before the mark (64 bytes) still decode. */
export const POSITION_JOURNALED_MIN_LENGTH = PS_JOURNAL_MARK;

export class PositionFlyweight extends Flyweight {
  qty(): number { return this.f64(PS_QTY); }
  setQty(v: number): this { this.setF64(PS_QTY, v); return this; }
  costTicks(): number { return this.f64(PS_COST); }
  setCostTicks(v: number): this { this.setF64(PS_COST, v); return this; }
  realizedTicks(): number { return this.f64(PS_REALIZED); }
  setRealizedTicks(v: number): this { this.setF64(PS_REALIZED, v); return this; }
  eventSeq(): number { return this.f64(PS_EVENT_SEQ); }
  setEventSeq(v: number): this { this.setF64(PS_EVENT_SEQ, v); return this; }
  timeNs(): number { return this.f64(PS_TIME_NS); }
  setTimeNs(v: number): this { this.setF64(PS_TIME_NS, v); return this; }
  accountId(): number { return this.u32(PS_ACCOUNT); }
  setAccountId(v: number): this { this.setU32(PS_ACCOUNT, v); return this; }
  symbolId(): number { return this.u32(PS_SYMBOL); }
  setSymbolId(v: number): this { this.setU32(PS_SYMBOL, v); return this; }
  markTicks(): number { return this.f64(PS_MARK); }
  setMarkTicks(v: number): this { this.setF64(PS_MARK, v); return this; }
  unrealizedTicks(): number { return this.f64(PS_UNREALIZED); }
  setUnrealizedTicks(v: number): this { this.setF64(PS_UNREALIZED, v); return this; }
  journalMark(): number { return this.f64(PS_JOURNAL_MARK); }
  setJournalMark(v: number): this { this.setF64(PS_JOURNAL_MARK, v); return this; }
}

/**
 * The journal mark of a record in a ring (EXEC_REPORT, POSITION, CHILD_NEW), or 0 for a type
 * that carries none (it waits for nothing). For gated consumers' accept (engine/ring.ts
 * GatedRecordHandler).
 */
export function journalMarkOf(view: DataView, typeId: number, offset: number): number {
  if (typeId === RecordType.EXEC_REPORT) return view.getFloat64(offset + ER_JOURNAL_MARK, true);
  if (typeId === RecordType.POSITION) return view.getFloat64(offset + PS_JOURNAL_MARK, true);
  if (typeId === RecordType.CHILD_NEW) return view.getFloat64(offset + CH_JOURNAL_MARK, true);
  return 0;
}

/** How a gated ring's producer reads the mark its consumer's accept will ask about (engine/ring.ts GateMarkReader). */
export const JOURNAL_MARKS = { markOf: journalMarkOf } as const;

/** A gated consumer's accept: the record at offset may leave once the journal holds what it is stamped with. */
export function journalGatePasses(ring: { readonly view: DataView; gatePasses(mark: number): boolean }, typeId: number, offset: number): boolean {
  return ring.gatePasses(journalMarkOf(ring.view, typeId, offset));
}

// ---------------------------------------------------------------------------------------------
// RISK_LIMIT: an admin's change of one pre-trade limit (ingest -> risk, journaled there with the
// admin's account and the version the edge gave it). symbolId ALL_SYMBOLS: an account-wide key,
// or, for a per-symbol key, every symbol of the account. value: integer (ticks for money keys,
// basis points for bands, 0/1 for flags).
//   0 timeNs  8 value  16 version u32  20 admin account u32  24 account u32  28 symbol u32
//   32 key u16  34 pad  40
// ---------------------------------------------------------------------------------------------
const RL_TIME_NS = 0;
const RL_VALUE = RL_TIME_NS + 8;
const RL_VERSION = RL_VALUE + 8;
const RL_ADMIN = RL_VERSION + 4;
const RL_ACCOUNT = RL_ADMIN + 4;
const RL_SYMBOL = RL_ACCOUNT + 4;
const RL_KEY = RL_SYMBOL + 4;
export const RISK_LIMIT_LENGTH = RL_KEY + 8;

/** The limits a RISK_LIMIT record may set (workers/risk/limits.ts applies them). */
export const LimitKey = {
  /** Account: largest quantity of one order. */
  MAX_ORDER_QTY: 1,
  /** Account: largest notional of one order, ticks. */
  MAX_ORDER_NOTIONAL: 2,
  /** Account: open BUY notional plus cost of long positions, ticks. */
  CREDIT_LIMIT: 3,
  /** Per symbol: largest absolute position counting open orders on the same side, shares. */
  MAX_POSITION: 4,
  /** Account: new orders per second (token refill) and burst. */
  ORDERS_PER_S: 5,
  ORDER_BURST: 6,
  /** Account: commands (new, cancel, replace) per second and burst. */
  MSGS_PER_S: 7,
  MSG_BURST: 8,
  /** Account: 1 when it may sell short (symbols on the no-short list excepted). */
  ALLOW_SHORT: 9,
  /** Account: duplicate-content window in ms (0: off). */
  DUPLICATE_WINDOW_MS: 10,
  /** Per symbol: 1 when the account may not trade it. */
  RESTRICTED: 11,
  /** Per symbol: 1 when the account may never sell it short. */
  NO_SHORT: 12,
  /** Per symbol: price collar in basis points of the reference, regular hours (0: off). */
  PRICE_BAND_BPS: 13,
  /** Per symbol: price collar outside regular hours (0: off). */
  PRICE_BAND_OUTSIDE_BPS: 14,
} as const;
export const LIMIT_KEY_MAX = 14;

export class RiskLimitFlyweight extends Flyweight {
  timeNs(): number { return this.f64(RL_TIME_NS); }
  setTimeNs(v: number): this { this.setF64(RL_TIME_NS, v); return this; }
  value(): number { return this.f64(RL_VALUE); }
  setValue(v: number): this { this.setF64(RL_VALUE, v); return this; }
  version(): number { return this.u32(RL_VERSION); }
  setVersion(v: number): this { this.setU32(RL_VERSION, v); return this; }
  adminAccountId(): number { return this.u32(RL_ADMIN); }
  setAdminAccountId(v: number): this { this.setU32(RL_ADMIN, v); return this; }
  accountId(): number { return this.u32(RL_ACCOUNT); }
  setAccountId(v: number): this { this.setU32(RL_ACCOUNT, v); return this; }
  symbolId(): number { return this.u32(RL_SYMBOL); }
  setSymbolId(v: number): this { this.setU32(RL_SYMBOL, v); return this; }
  key(): number { return this.u16(RL_KEY); }
  setKey(v: number): this { this.setU16(RL_KEY, v); return this; }
}

// ---------------------------------------------------------------------------------------------
// SOR_CONFIG: a runtime change of the routing configuration, made by an admin (ingest -> risk ->
// sor, and journaled). Weights are integers in millionths, so the record is exact.
//   0 timeNs  8 version u32  12 admin account u32  16 price  20 latency  24 fillprob  28 fee
//   (u32 millionths each)  32 quoteStaleMs u32  36 mode u8  37 pad  40
// ---------------------------------------------------------------------------------------------
const SC_TIME_NS = 0;
const SC_VERSION = SC_TIME_NS + 8;
const SC_ADMIN = SC_VERSION + 4;
const SC_W_PRICE = SC_ADMIN + 4;
const SC_W_LATENCY = SC_W_PRICE + 4;
const SC_W_FILLPROB = SC_W_LATENCY + 4;
const SC_W_FEE = SC_W_FILLPROB + 4;
const SC_STALE_MS = SC_W_FEE + 4;
const SC_MODE = SC_STALE_MS + 4;
export const SOR_CONFIG_LENGTH = SC_MODE + 4;
/** Weights travel as integers in millionths. */
export const WEIGHT_SCALE = 1_000_000;

export class SorConfigFlyweight extends Flyweight {
  timeNs(): number { return this.f64(SC_TIME_NS); }
  setTimeNs(v: number): this { this.setF64(SC_TIME_NS, v); return this; }
  version(): number { return this.u32(SC_VERSION); }
  setVersion(v: number): this { this.setU32(SC_VERSION, v); return this; }
  adminAccountId(): number { return this.u32(SC_ADMIN); }
  setAdminAccountId(v: number): this { this.setU32(SC_ADMIN, v); return this; }
  priceWeight(): number { return this.u32(SC_W_PRICE); }
  setPriceWeight(v: number): this { this.setU32(SC_W_PRICE, v); return this; }
  latencyWeight(): number { return this.u32(SC_W_LATENCY); }
  setLatencyWeight(v: number): this { this.setU32(SC_W_LATENCY, v); return this; }
  fillprobWeight(): number { return this.u32(SC_W_FILLPROB); }
  setFillprobWeight(v: number): this { this.setU32(SC_W_FILLPROB, v); return this; }
  feeWeight(): number { return this.u32(SC_W_FEE); }
  setFeeWeight(v: number): this { this.setU32(SC_W_FEE, v); return this; }
  quoteStaleMs(): number { return this.u32(SC_STALE_MS); }
  setQuoteStaleMs(v: number): this { this.setU32(SC_STALE_MS, v); return this; }
  mode(): number { return this.u8(SC_MODE); }
  setMode(v: number): this { this.setU8(SC_MODE, v); return this; }
}

// ---------------------------------------------------------------------------------------------
// ROUTE_AUDIT: one routing decision of the SOR, with everything needed to reproduce it (the
// seed's route_audit: input features, per-venue scores, chosen routes). Variable length: a fixed
// header, then one 128-byte entry per venue id 1..venueCount (entry i describes venue i + 1).
// Not counted in MAX_RECORD_LENGTH: its length is ROUTE_AUDIT_HEADER_LENGTH + venues * 128.
//
//   header:
//   0 orderId  8 decisionNs  16 qty (to route now)  24 limitPx (client's, 0 = market)
//   32 nbbBid  40 nbbBidQty  48 nbbAsk  56 nbbAskQty  64 childPx (price every child carries)
//   72 routedQty  80 parentQty  88 account u32  92 symbol u32  96 configVersion u32
//   100 wPrice  104 wLatency  108 wFillprob  112 wFee (u32 millionths)  116 reason u16
//   118 side  119 ordType  120 tif  121 mode  122 venues u8  123 children u8  124 step u8
//   125 childTif u8  126 flags u8 (1 = last step allowed)  127 pad  128
//   venue entry (at 128 + (venueId - 1) * 128):
//   0 px (the side the order takes, 0 none)  8 dispQty  16 quoteAgeNs (-1 none)  24 latencyUs (learned)
//   32 fillProb (learned)  40 priceScore  48 latencyScore  56 fillScore  64 feeScore  72 score
//   80 childQty  88 childId  96 minQty  104 lotSize  112 feeCentiBps u32  116 excluded u8 (VenueExclusion)
//   117 pad  128
// ---------------------------------------------------------------------------------------------
const RA_ORDER_ID = 0;
const RA_DECISION_NS = RA_ORDER_ID + 8;
const RA_QTY = RA_DECISION_NS + 8;
const RA_LIMIT = RA_QTY + 8;
const RA_NBB_BID = RA_LIMIT + 8;
const RA_NBB_BID_QTY = RA_NBB_BID + 8;
const RA_NBB_ASK = RA_NBB_BID_QTY + 8;
const RA_NBB_ASK_QTY = RA_NBB_ASK + 8;
const RA_CHILD_PX = RA_NBB_ASK_QTY + 8;
const RA_ROUTED_QTY = RA_CHILD_PX + 8;
const RA_PARENT_QTY = RA_ROUTED_QTY + 8;
const RA_ACCOUNT = RA_PARENT_QTY + 8;
const RA_SYMBOL = RA_ACCOUNT + 4;
const RA_VERSION = RA_SYMBOL + 4;
const RA_W_PRICE = RA_VERSION + 4;
const RA_W_LATENCY = RA_W_PRICE + 4;
const RA_W_FILLPROB = RA_W_LATENCY + 4;
const RA_W_FEE = RA_W_FILLPROB + 4;
const RA_REASON = RA_W_FEE + 4;
const RA_SIDE = RA_REASON + 2;
const RA_ORD_TYPE = RA_SIDE + 1;
const RA_TIF = RA_ORD_TYPE + 1;
const RA_MODE = RA_TIF + 1;
const RA_VENUES = RA_MODE + 1;
const RA_CHILDREN = RA_VENUES + 1;
const RA_STEP = RA_CHILDREN + 1;
const RA_CHILD_TIF = RA_STEP + 1;
const RA_FLAGS = RA_CHILD_TIF + 1;
export const ROUTE_AUDIT_HEADER_LENGTH = RA_FLAGS + 2;
const RV_PX = 0;
const RV_DISP_QTY = RV_PX + 8;
const RV_AGE_NS = RV_DISP_QTY + 8;
const RV_LATENCY_US = RV_AGE_NS + 8;
const RV_FILL_PROB = RV_LATENCY_US + 8;
const RV_PRICE_SCORE = RV_FILL_PROB + 8;
const RV_LATENCY_SCORE = RV_PRICE_SCORE + 8;
const RV_FILL_SCORE = RV_LATENCY_SCORE + 8;
const RV_FEE_SCORE = RV_FILL_SCORE + 8;
const RV_SCORE = RV_FEE_SCORE + 8;
const RV_CHILD_QTY = RV_SCORE + 8;
const RV_CHILD_ID = RV_CHILD_QTY + 8;
const RV_MIN_QTY = RV_CHILD_ID + 8;
const RV_LOT = RV_MIN_QTY + 8;
const RV_FEE = RV_LOT + 8;
const RV_EXCLUDED = RV_FEE + 4;
export const ROUTE_AUDIT_VENUE_LENGTH = RV_EXCLUDED + 12;

export function routeAuditLength(venues: number): number {
  return ROUTE_AUDIT_HEADER_LENGTH + venues * ROUTE_AUDIT_VENUE_LENGTH;
}

/** The header's accessors (RouteAuditFlyweight adds the per-venue entries). */
export class RouteAuditHeaderFlyweight extends Flyweight {
  orderId(): number { return this.f64(RA_ORDER_ID); }
  setOrderId(v: number): this { this.setF64(RA_ORDER_ID, v); return this; }
  decisionTimeNs(): number { return this.f64(RA_DECISION_NS); }
  setDecisionTimeNs(v: number): this { this.setF64(RA_DECISION_NS, v); return this; }
  qty(): number { return this.f64(RA_QTY); }
  setQty(v: number): this { this.setF64(RA_QTY, v); return this; }
  limitTicks(): number { return this.f64(RA_LIMIT); }
  setLimitTicks(v: number): this { this.setF64(RA_LIMIT, v); return this; }
  nbbBidTicks(): number { return this.f64(RA_NBB_BID); }
  setNbbBidTicks(v: number): this { this.setF64(RA_NBB_BID, v); return this; }
  nbbBidQty(): number { return this.f64(RA_NBB_BID_QTY); }
  setNbbBidQty(v: number): this { this.setF64(RA_NBB_BID_QTY, v); return this; }
  nbbAskTicks(): number { return this.f64(RA_NBB_ASK); }
  setNbbAskTicks(v: number): this { this.setF64(RA_NBB_ASK, v); return this; }
  nbbAskQty(): number { return this.f64(RA_NBB_ASK_QTY); }
  setNbbAskQty(v: number): this { this.setF64(RA_NBB_ASK_QTY, v); return this; }
  childPxTicks(): number { return this.f64(RA_CHILD_PX); }
  setChildPxTicks(v: number): this { this.setF64(RA_CHILD_PX, v); return this; }
  routedQty(): number { return this.f64(RA_ROUTED_QTY); }
  setRoutedQty(v: number): this { this.setF64(RA_ROUTED_QTY, v); return this; }
  parentQty(): number { return this.f64(RA_PARENT_QTY); }
  setParentQty(v: number): this { this.setF64(RA_PARENT_QTY, v); return this; }
  accountId(): number { return this.u32(RA_ACCOUNT); }
  setAccountId(v: number): this { this.setU32(RA_ACCOUNT, v); return this; }
  symbolId(): number { return this.u32(RA_SYMBOL); }
  setSymbolId(v: number): this { this.setU32(RA_SYMBOL, v); return this; }
  configVersion(): number { return this.u32(RA_VERSION); }
  setConfigVersion(v: number): this { this.setU32(RA_VERSION, v); return this; }
  priceWeight(): number { return this.u32(RA_W_PRICE); }
  setPriceWeight(v: number): this { this.setU32(RA_W_PRICE, v); return this; }
  latencyWeight(): number { return this.u32(RA_W_LATENCY); }
  setLatencyWeight(v: number): this { this.setU32(RA_W_LATENCY, v); return this; }
  fillprobWeight(): number { return this.u32(RA_W_FILLPROB); }
  setFillprobWeight(v: number): this { this.setU32(RA_W_FILLPROB, v); return this; }
  feeWeight(): number { return this.u32(RA_W_FEE); }
  setFeeWeight(v: number): this { this.setU32(RA_W_FEE, v); return this; }
  reason(): number { return this.u16(RA_REASON); }
  setReason(v: number): this { this.setU16(RA_REASON, v); return this; }
  side(): number { return this.u8(RA_SIDE); }
  setSide(v: number): this { this.setU8(RA_SIDE, v); return this; }
  ordType(): number { return this.u8(RA_ORD_TYPE); }
  setOrdType(v: number): this { this.setU8(RA_ORD_TYPE, v); return this; }
  tif(): number { return this.u8(RA_TIF); }
  setTif(v: number): this { this.setU8(RA_TIF, v); return this; }
  mode(): number { return this.u8(RA_MODE); }
  setMode(v: number): this { this.setU8(RA_MODE, v); return this; }
  venueCount(): number { return this.u8(RA_VENUES); }
  setVenueCount(v: number): this { this.setU8(RA_VENUES, v); return this; }
  childCount(): number { return this.u8(RA_CHILDREN); }
  setChildCount(v: number): this { this.setU8(RA_CHILDREN, v); return this; }
  step(): number { return this.u8(RA_STEP); }
  setStep(v: number): this { this.setU8(RA_STEP, v); return this; }
  childTif(): number { return this.u8(RA_CHILD_TIF); }
  setChildTif(v: number): this { this.setU8(RA_CHILD_TIF, v); return this; }
  flags(): number { return this.u8(RA_FLAGS); }
  setFlags(v: number): this { this.setU8(RA_FLAGS, v); return this; }
}

/** A whole ROUTE_AUDIT record: the header, and per-venue accessors taking the venue id (1-based). */
export class RouteAuditFlyweight extends RouteAuditHeaderFlyweight {
  private at(venueId: number, field: number): number {
    return ROUTE_AUDIT_HEADER_LENGTH + (venueId - 1) * ROUTE_AUDIT_VENUE_LENGTH + field;
  }
  vPx(v: number): number { return this.f64(this.at(v, RV_PX)); }
  setVPx(v: number, x: number): void { this.setF64(this.at(v, RV_PX), x); }
  vDispQty(v: number): number { return this.f64(this.at(v, RV_DISP_QTY)); }
  setVDispQty(v: number, x: number): void { this.setF64(this.at(v, RV_DISP_QTY), x); }
  vQuoteAgeNs(v: number): number { return this.f64(this.at(v, RV_AGE_NS)); }
  setVQuoteAgeNs(v: number, x: number): void { this.setF64(this.at(v, RV_AGE_NS), x); }
  vLatencyUs(v: number): number { return this.f64(this.at(v, RV_LATENCY_US)); }
  setVLatencyUs(v: number, x: number): void { this.setF64(this.at(v, RV_LATENCY_US), x); }
  vFillProb(v: number): number { return this.f64(this.at(v, RV_FILL_PROB)); }
  setVFillProb(v: number, x: number): void { this.setF64(this.at(v, RV_FILL_PROB), x); }
  vPriceScore(v: number): number { return this.f64(this.at(v, RV_PRICE_SCORE)); }
  setVPriceScore(v: number, x: number): void { this.setF64(this.at(v, RV_PRICE_SCORE), x); }
  vLatencyScore(v: number): number { return this.f64(this.at(v, RV_LATENCY_SCORE)); }
  setVLatencyScore(v: number, x: number): void { this.setF64(this.at(v, RV_LATENCY_SCORE), x); }
  vFillScore(v: number): number { return this.f64(this.at(v, RV_FILL_SCORE)); }
  setVFillScore(v: number, x: number): void { this.setF64(this.at(v, RV_FILL_SCORE), x); }
  vFeeScore(v: number): number { return this.f64(this.at(v, RV_FEE_SCORE)); }
  setVFeeScore(v: number, x: number): void { this.setF64(this.at(v, RV_FEE_SCORE), x); }
  vScore(v: number): number { return this.f64(this.at(v, RV_SCORE)); }
  setVScore(v: number, x: number): void { this.setF64(this.at(v, RV_SCORE), x); }
  vChildQty(v: number): number { return this.f64(this.at(v, RV_CHILD_QTY)); }
  setVChildQty(v: number, x: number): void { this.setF64(this.at(v, RV_CHILD_QTY), x); }
  vChildId(v: number): number { return this.f64(this.at(v, RV_CHILD_ID)); }
  setVChildId(v: number, x: number): void { this.setF64(this.at(v, RV_CHILD_ID), x); }
  vMinQty(v: number): number { return this.f64(this.at(v, RV_MIN_QTY)); }
  setVMinQty(v: number, x: number): void { this.setF64(this.at(v, RV_MIN_QTY), x); }
  vLotSize(v: number): number { return this.f64(this.at(v, RV_LOT)); }
  setVLotSize(v: number, x: number): void { this.setF64(this.at(v, RV_LOT), x); }
  vFeeCentiBps(v: number): number { return this.u32(this.at(v, RV_FEE)); }
  setVFeeCentiBps(v: number, x: number): void { this.setU32(this.at(v, RV_FEE), x); }
  vExcluded(v: number): number { return this.u8(this.at(v, RV_EXCLUDED)); }
  setVExcluded(v: number, x: number): void { this.setU8(this.at(v, RV_EXCLUDED), x); }
}

/**
 * Visits each child an audit frame names (venue, child id, quantity): entries with a positive
 * safe-integer id and quantity. Returns false, visiting nothing, for a frame shorter than the
 * venue count it declares. `a` is wrapped over the frame.
 */
export function forEachAuditedChild(a: RouteAuditFlyweight, length: number, visit: (venueId: number, childId: number, qty: number) => void): boolean {
  const venues = a.venueCount();
  if (length < routeAuditLength(venues)) return false;
  for (let v = 1; v <= venues; v++) {
    const childId = a.vChildId(v);
    const qty = a.vChildQty(v);
    if (Number.isSafeInteger(childId) && childId > 0 && Number.isSafeInteger(qty) && qty > 0) visit(v, childId, qty);
  }
  return true;
}

/** The largest record body any stage writes: rings are sized so that many fit. */
export const MAX_RECORD_LENGTH = Math.max(
  NEW_ORDER_LENGTH,
  CANCEL_ORDER_LENGTH,
  EXEC_REPORT_LENGTH,
  ROUTE_REQUEST_LENGTH,
  CHILD_ORDER_LENGTH,
  ROUTE_DONE_LENGTH,
  CHILD_EVENT_MAX_LENGTH,
  VENUE_STATUS_LENGTH,
  QUOTE_LENGTH,
  POSITION_LENGTH,
  SOR_CONFIG_LENGTH,
  MASS_CANCEL_LENGTH,
  ACCOUNT_CONTROL_LENGTH,
  RISK_LIMIT_LENGTH,
);

// Layout checks at module load: 8-byte fields first, lengths as drawn.
if (NEW_ORDER_LENGTH !== 88) throw new Error(`Invariant: NEW_ORDER_LENGTH 88, got ${NEW_ORDER_LENGTH}`);
if (CANCEL_ORDER_LENGTH !== 128) throw new Error(`Invariant: CANCEL_ORDER_LENGTH 128, got ${CANCEL_ORDER_LENGTH}`);
if (EXEC_REPORT_LENGTH !== 224) throw new Error(`Invariant: EXEC_REPORT_LENGTH 224, got ${EXEC_REPORT_LENGTH}`);
if (ROUTE_REQUEST_LENGTH !== 48) throw new Error(`Invariant: ROUTE_REQUEST_LENGTH 48, got ${ROUTE_REQUEST_LENGTH}`);
if (CHILD_ORDER_LENGTH !== 72) throw new Error(`Invariant: CHILD_ORDER_LENGTH 72, got ${CHILD_ORDER_LENGTH}`);
if (ROUTE_DONE_LENGTH !== 40) throw new Error(`Invariant: ROUTE_DONE_LENGTH 40, got ${ROUTE_DONE_LENGTH}`);
if (MASS_CANCEL_LENGTH !== 32) throw new Error(`Invariant: MASS_CANCEL_LENGTH 32, got ${MASS_CANCEL_LENGTH}`);
if (ACCOUNT_CONTROL_LENGTH !== 24) throw new Error(`Invariant: ACCOUNT_CONTROL_LENGTH 24, got ${ACCOUNT_CONTROL_LENGTH}`);
if (POSITION_LENGTH !== 72) throw new Error(`Invariant: POSITION_LENGTH 72, got ${POSITION_LENGTH}`);
if (RISK_LIMIT_LENGTH !== 40) throw new Error(`Invariant: RISK_LIMIT_LENGTH 40, got ${RISK_LIMIT_LENGTH}`);
if (SOR_CONFIG_LENGTH !== 40) throw new Error(`Invariant: SOR_CONFIG_LENGTH 40, got ${SOR_CONFIG_LENGTH}`);
if (ROUTE_AUDIT_HEADER_LENGTH !== 128) throw new Error(`Invariant: ROUTE_AUDIT_HEADER_LENGTH 128, got ${ROUTE_AUDIT_HEADER_LENGTH}`);
if (ROUTE_AUDIT_VENUE_LENGTH !== 128) throw new Error(`Invariant: ROUTE_AUDIT_VENUE_LENGTH 128, got ${ROUTE_AUDIT_VENUE_LENGTH}`);
if (CHILD_EVENT_LENGTH !== 72) throw new Error(`Invariant: CHILD_EVENT_LENGTH 72, got ${CHILD_EVENT_LENGTH}`);
if (CHILD_EVENT_MAX_LENGTH !== 202) throw new Error(`Invariant: CHILD_EVENT_MAX_LENGTH 202, got ${CHILD_EVENT_MAX_LENGTH}`);
if (CHILD_EVENT_JOURNALED_MIN_LENGTH !== 64) throw new Error(`Invariant: CHILD_EVENT_JOURNALED_MIN_LENGTH 64, got ${CHILD_EVENT_JOURNALED_MIN_LENGTH}`);
