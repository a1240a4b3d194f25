/**
 * The JSON order-entry protocol (WebSocket text frames and REST bodies): validation of client
 * messages into ring commands, and rendering of execution reports back to JSON.
 *
 * JSON is the text protocol traders and UIs expect; parsing it allocates, so it stays at the
 * edge: what crosses into the engine is a fixed binary record written in place in the ring.
 *
 * Client messages:
 *   {"type":"new","clOrdId":"a1","symbol":"AAPL","side":"BUY","qty":100,"price":"177.25",
 *    "ordType":"LIMIT","tif":"DAY"}
 *   {"type":"cancel","clOrdId":"c1","origClOrdId":"a1"}          (or "orderId": 42)
 *   {"type":"replace","clOrdId":"r1","origClOrdId":"a1","qty":200,"price":"177.20"}
 *   {"type":"subscribe"}   {"type":"unsubscribe"}   {"type":"positions"}   {"type":"heartbeat"}
 * Prices may be JSON strings ("177.25", exact) or numbers (177.25, parsed from their decimal
 * text); they never pass through float arithmetic.
 */

import { CL_ORD_ID_CAPACITY, OrdType, ordTypeName, Side, sideName, Tif, tifName } from '../../engine/domain.ts';
import { INVALID, MAX_PRICE_TICKS, MAX_QTY, averagePriceTicks, ticksFromDecimalString, ticksFromJsonNumber, ticksToDecimalString } from '../../engine/fixed-point.ts';
import { ExecType, carriesTrade, execTypeName, isDuplicateAnswer, isTradeCorrection, stateName } from '../../engine/order-state.ts';
import { Reason, reasonName } from '../../engine/reasons.ts';
import type { ExecReportFlyweight } from '../../codecs/records.ts';
import type { ReportMessage } from './messages.ts';

export interface NewOrderCommand {
  kind: 'new';
  clOrdId: string;
  symbolId: number;
  side: number;
  qty: number;
  priceTicks: number;
  ordType: number;
  tif: number;
}

export interface CancelCommand {
  kind: 'cancel' | 'replace';
  clOrdId: string;
  origClOrdId: string;
  orderId: number;
  qty: number;
  priceTicks: number;
}

export interface EdgeReject {
  kind: 'reject';
  reason: number;
  text: string;
  clOrdId: string;
}

/** Messages handled by the edge itself: subscriptions, position snapshots, client heartbeats. */
export interface ControlCommand {
  kind: 'subscribe' | 'unsubscribe' | 'positions' | 'heartbeat';
}

export type ClientCommand = NewOrderCommand | CancelCommand | ControlCommand | EdgeReject;

const SUBSCRIBE: ControlCommand = { kind: 'subscribe' };
const UNSUBSCRIBE: ControlCommand = { kind: 'unsubscribe' };
const POSITIONS: ControlCommand = { kind: 'positions' };
const HEARTBEAT: ControlCommand = { kind: 'heartbeat' };
const CONTROL: Record<string, ControlCommand> = { subscribe: SUBSCRIBE, unsubscribe: UNSUBSCRIBE, positions: POSITIONS, heartbeat: HEARTBEAT };

const SIDES: Record<string, number> = { BUY: Side.BUY, SELL: Side.SELL };
const ORD_TYPES: Record<string, number> = { MARKET: OrdType.MARKET, LIMIT: OrdType.LIMIT };
const TIFS: Record<string, number> = { DAY: Tif.DAY, GTC: Tif.GTC, IOC: Tif.IOC, FOK: Tif.FOK };
const CL_ORD_ID = /^[\x21-\x7e]+$/;

function reject(reason: number, text: string, clOrdId: string): EdgeReject {
  return { kind: 'reject', reason, text, clOrdId };
}

/**
 * A client's value in a refusal's text, at most 40 characters. Never JSON.stringify of the whole
 * value: a deeply nested array (from about 20,000 levels on a worker thread) overflows its stack.
 */
function describeValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.slice(0, 40)).slice(0, 40);
  if (Array.isArray(v)) return '(an array)';
  if (v !== null && typeof v === 'object') return '(an object)';
  return String(v).slice(0, 40);
}

function clOrdIdOf(v: unknown): string {
  return typeof v === 'string' && v.length <= CL_ORD_ID_CAPACITY && CL_ORD_ID.test(v) ? v : '';
}

function parseQty(v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1 || v > MAX_QTY) return INVALID;
  return v;
}

function parsePrice(v: unknown): number {
  if (typeof v === 'number') return ticksFromJsonNumber(v, MAX_PRICE_TICKS);
  if (typeof v === 'string' && v.length <= 24) return ticksFromDecimalString(v, MAX_PRICE_TICKS);
  return INVALID;
}

/** Validates one parsed JSON message; symbols maps a name to its id. */
export function validateClientMessage(msg: unknown, symbols: Map<string, number>): ClientCommand {
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return reject(Reason.MALFORMED, 'message must be a JSON object', '');
  const m = msg as Record<string, unknown>;
  const rawCl = m.clOrdId;
  const clOrdId = clOrdIdOf(rawCl);
  if (m.type === 'new') return validateNew(m, clOrdId, symbols);
  if (m.type === 'cancel' || m.type === 'replace') return validateCancel(m, clOrdId, m.type);
  if (typeof m.type === 'string' && Object.hasOwn(CONTROL, m.type)) return CONTROL[m.type];
  if (typeof m.type !== 'string') return reject(Reason.MISSING_FIELD, 'field "type" is required', clOrdId);
  return reject(Reason.UNKNOWN_MESSAGE_TYPE, `unknown message type ${JSON.stringify(m.type).slice(0, 40)}`, clOrdId);
}

function validateNew(m: Record<string, unknown>, clOrdId: string, symbols: Map<string, number>): ClientCommand {
  if (m.clOrdId === undefined) return reject(Reason.MISSING_FIELD, 'field "clOrdId" is required', '');
  if (clOrdId === '') return reject(Reason.INVALID_CL_ORD_ID, `clOrdId must be 1 to ${CL_ORD_ID_CAPACITY} printable ASCII characters`, '');
  for (const field of ['symbol', 'side', 'qty'] as const) {
    if (m[field] === undefined) return reject(Reason.MISSING_FIELD, `field "${field}" is required`, clOrdId);
  }
  const symbolId = typeof m.symbol === 'string' ? symbols.get(m.symbol) : undefined;
  if (symbolId === undefined) return reject(Reason.UNKNOWN_SYMBOL, `unknown symbol ${describeValue(m.symbol)}`, clOrdId);
  const side = typeof m.side === 'string' ? SIDES[m.side] : undefined;
  if (side === undefined) return reject(Reason.INVALID_SIDE, 'side must be BUY or SELL', clOrdId);
  const ordType = m.ordType === undefined ? OrdType.LIMIT : typeof m.ordType === 'string' ? ORD_TYPES[m.ordType] : undefined;
  if (ordType === undefined) return reject(Reason.INVALID_ORD_TYPE, 'ordType must be LIMIT or MARKET', clOrdId);
  const tif = m.tif === undefined ? Tif.DAY : typeof m.tif === 'string' ? TIFS[m.tif] : undefined;
  if (tif === undefined) return reject(Reason.INVALID_TIF, 'tif must be DAY, GTC, IOC or FOK', clOrdId);
  const qty = parseQty(m.qty);
  if (qty === INVALID) return reject(Reason.INVALID_QTY, `qty must be a whole number from 1 to ${MAX_QTY}`, clOrdId);
  let priceTicks = 0;
  if (ordType === OrdType.LIMIT) {
    if (m.price === undefined) return reject(Reason.MISSING_FIELD, 'field "price" is required for a LIMIT order', clOrdId);
    priceTicks = parsePrice(m.price);
    if (priceTicks === INVALID || priceTicks === 0) return reject(Reason.INVALID_PRICE, 'price must be a positive decimal with at most 6 decimals', clOrdId);
  } else if (m.price !== undefined) {
    return reject(Reason.INVALID_PRICE, 'a MARKET order takes no price', clOrdId);
  }
  return { kind: 'new', clOrdId, symbolId, side, qty, priceTicks, ordType, tif };
}

function validateCancel(m: Record<string, unknown>, clOrdId: string, kind: 'cancel' | 'replace'): ClientCommand {
  if (m.clOrdId === undefined) return reject(Reason.MISSING_FIELD, 'field "clOrdId" is required', '');
  if (clOrdId === '') return reject(Reason.INVALID_CL_ORD_ID, `clOrdId must be 1 to ${CL_ORD_ID_CAPACITY} printable ASCII characters`, '');
  let orderId = 0;
  let origClOrdId = '';
  if (m.orderId !== undefined) {
    if (typeof m.orderId !== 'number' || !Number.isSafeInteger(m.orderId) || m.orderId < 1) return reject(Reason.INVALID_FIELD, 'orderId must be a positive whole number', clOrdId);
    orderId = m.orderId;
  } else if (m.origClOrdId !== undefined) {
    origClOrdId = clOrdIdOf(m.origClOrdId);
    if (origClOrdId === '') return reject(Reason.INVALID_CL_ORD_ID, `origClOrdId must be 1 to ${CL_ORD_ID_CAPACITY} printable ASCII characters`, clOrdId);
  } else {
    return reject(Reason.MISSING_FIELD, 'orderId or origClOrdId is required', clOrdId);
  }
  let qty = 0;
  let priceTicks = 0;
  if (kind === 'replace') {
    if (m.qty === undefined) return reject(Reason.MISSING_FIELD, 'field "qty" is required for a replace (the new total quantity)', clOrdId);
    qty = parseQty(m.qty);
    if (qty === INVALID) return reject(Reason.INVALID_QTY, `qty must be a whole number from 1 to ${MAX_QTY}`, clOrdId);
    if (m.price !== undefined) {
      priceTicks = parsePrice(m.price);
      if (priceTicks === INVALID || priceTicks === 0) return reject(Reason.INVALID_PRICE, 'price must be a positive decimal with at most 6 decimals', clOrdId);
    }
  }
  return { kind, clOrdId, origClOrdId, orderId, qty, priceTicks };
}

/** A report's message type: what the client is told happened. */
export function reportType(execType: number, reason: number): ReportMessage['type'] {
  if (execType === ExecType.REJECTED) return 'reject';
  if (execType === ExecType.CANCEL_REJECT) return 'cancelReject';
  return (execType === ExecType.NEW && reason === Reason.NONE) || isDuplicateAnswer(execType, reason) ? 'ack' : 'execution';
}

/**
 * What a client sees for one execution report. A repeated ClOrdID is answered with the original
 * order's ack (reason DUPLICATE_CL_ORD_ID): no second order exists. Allocates (JSON edge).
 * ReportJsonWriter (report-json-writer.ts) writes the same JSON straight from the record for
 * WebSocket clients and REST answers: a change here is a change there (its property test
 * compares the two byte for byte).
 */
export function reportToJson(r: ExecReportFlyweight, symbolNames: string[], venueNames: string[], scratch: Uint8Array): ReportMessage {
  const execType = r.execType();
  const clLen = r.copyClOrdId(scratch, 0);
  const clOrdId = Buffer.from(scratch.buffer, scratch.byteOffset, clLen).toString('latin1');
  const origLen = r.copyOrigClOrdId(scratch, 0);
  const origClOrdId = origLen > 0 ? Buffer.from(scratch.buffer, scratch.byteOffset, origLen).toString('latin1') : undefined;
  const cumQty = r.cumQty();
  const known = r.side() !== 0;
  const out: ReportMessage = {
    type: reportType(execType, r.reason()),
    execType: execTypeName(execType),
    orderId: r.orderId(),
    clOrdId,
    status: stateName(r.state()),
    // A refusal of a cancel for an order this account does not have carries no order fields.
    symbol: known ? symbolNames[r.symbolId()] ?? null : null,
    side: known ? sideName(r.side()) ?? null : null,
    ordType: known ? ordTypeName(r.ordType()) ?? null : null,
    tif: known ? tifName(r.tif()) ?? null : null,
    qty: r.qty(),
    price: r.priceTicks() > 0 ? ticksToDecimalString(r.priceTicks()) : null,
    cumQty,
    leavesQty: r.leavesQty(),
    avgPx: cumQty > 0 ? ticksToDecimalString(averagePriceTicks(r.cumNotionalTicks(), cumQty)) : null,
    eventSeq: r.eventSeq(),
  };
  if (origClOrdId !== undefined) out.origClOrdId = origClOrdId;
  if (carriesTrade(execType)) {
    out.lastQty = r.lastQty();
    out.lastPx = ticksToDecimalString(r.lastPxTicks());
    out.venue = venueNames[r.venueId()] ?? null;
  }
  if (isTradeCorrection(execType)) out.execRefSeq = r.execRefSeq();
  if (r.reason() !== Reason.NONE) {
    out.reason = r.reason();
    out.reasonName = reasonName(r.reason());
  }
  return out;
}
