/**
 * Journal frames as the sinks see them: one decoder per record type (a table keyed by type id),
 * each turning a frame's bytes, read through the record's flyweight, into a plain event with
 * names resolved (symbols, venues, sides, states) and engine times turned into wall-clock ms.
 * The Postgres and Kafka sinks then map events to rows and messages with tables of their own.
 *
 * Off the hot path: decoding allocates one object per event (the sinks run on their own thread
 * and batch at most a few thousand events). A type with no decoder yields null; the sink counts
 * it and goes on, so record types added later never stop a sink.
 */

import {
  ACCOUNT_CONTROL_LENGTH, CANCEL_ORDER_LENGTH, CHILD_EVENT_JOURNALED_MIN_LENGTH, EXEC_ID_CAPACITY, EXEC_REPORT_JOURNALED_MIN_LENGTH, MASS_CANCEL_LENGTH, NEW_ORDER_LENGTH, POSITION_JOURNALED_MIN_LENGTH,
  QUOTE_LENGTH, REPLACE_ORDER_LENGTH, ROUTE_DONE_LENGTH, SOR_CONFIG_LENGTH,
  AccountControlFlyweight, ALL_SYMBOLS, CancelOrderFlyweight, ChildEventFlyweight, ExecReportFlyweight, MassCancelFlyweight,
  NewOrderFlyweight, PositionFlyweight, QuoteFlyweight, RecordType, RouteAuditFlyweight, RouteDoneFlyweight, SorConfigFlyweight,
} from '../codecs/records.ts';
import { auditToJson } from '../codecs/route-audit-json.ts';
import { CL_ORD_ID_CAPACITY, ordTypeName as ordTypeNameOf, sideName as sideNameOf, sourceName as sourceNameOf, tifName as tifNameOf } from '../engine/domain.ts';
import { execTypeName, stateName } from '../engine/order-state.ts';
import { reasonName } from '../engine/reasons.ts';

/** A ROUTE_AUDIT frame decoded for the sinks: the decision's order, time, step and JSON document. */
export interface AuditDoc {
  orderId: number;
  /** Engine time of the decision (ns). */
  decisionNs: number;
  step: number;
  /** codecs/route-audit-json.ts auditToJson, decided at epochMs + decisionNs. */
  doc: Record<string, unknown>;
}

/** Names for the engine's small integers, taken from the configuration the sink runs with. */
export interface EventNames {
  /** Symbol names by symbol id (the index in config.symbols). */
  symbols: readonly string[];
  /** Venue names by venue id. */
  venues: ReadonlyMap<number, string>;
}

const CHILD_KINDS = ['', 'SENT', 'ACKED', 'FILL', 'CANCELED', 'REJECTED', 'CANCEL_REJECTED', 'EXPIRED', 'TRADE_CANCEL', 'TRADE_CORRECT'];
const ACCOUNT_MODES = ['NORMAL', 'HALTED', 'REDUCE_ONLY'];

export function sideName(v: number): string { return sideNameOf(v) ?? `SIDE_${v}`; }
export function ordTypeName(v: number): string { return ordTypeNameOf(v) ?? `ORD_TYPE_${v}`; }
/** TimeInForce 2 (unnamed) is `TIF_2` here, not ''. */
export function tifName(v: number): string { const n = tifNameOf(v); return n !== undefined && n !== '' ? n : `TIF_${v}`; }
export function childKindName(v: number): string { return CHILD_KINDS[v] ?? `KIND_${v}`; }
export function accountModeName(v: number): string { return ACCOUNT_MODES[v] ?? `MODE_${v}`; }
export function sourceName(v: number): string { return sourceNameOf(v) ?? `SOURCE_${v}`; }

interface Base {
  /** Journal sequence number: the event id, unique and in journal order. */
  seq: number;
  /** Wall-clock ms of the event (engine time plus the boot's epoch). */
  atMs: number;
}

export interface CommandEvent extends Base {
  type: 'NEW_ORDER' | 'CANCEL_ORDER' | 'REPLACE_ORDER';
  accountId: number;
  /** Engine order id named by a cancel/replace (0: named by origClOrdId; always 0 for a new order). */
  orderId: number;
  clOrdId: string;
  origClOrdId: string;
  symbolId: number;
  symbol: string | null;
  side: string | null;
  ordType: string | null;
  tif: string | null;
  qty: number;
  priceTicks: number;
  source: string;
}

export interface MassCancelEvent extends Base {
  type: 'MASS_CANCEL';
  accountId: number;
  symbol: string | null;
  connId: number;
  reason: string;
}

export interface AccountControlEvent extends Base {
  type: 'ACCOUNT_CONTROL';
  /** 0: every account (the global switch). */
  accountId: number;
  adminAccountId: number;
  mode: string;
}

export interface ReportEvent extends Base {
  type: 'EXEC_REPORT';
  eventSeq: number;
  orderId: number;
  accountId: number;
  symbolId: number;
  symbol: string;
  clOrdId: string;
  origClOrdId: string;
  side: string;
  ordType: string;
  tif: string;
  qty: number;
  priceTicks: number;
  lastQty: number;
  lastPxTicks: number;
  cumQty: number;
  leavesQty: number;
  cumNotionalTicks: number;
  execType: string;
  status: string;
  reason: string;
  venueId: number;
  venue: string | null;
  source: string;
  /** A bust or correction (TRADE_CANCEL, TRADE_CORRECT): the eventSeq of the report of the fill it takes back; else 0. */
  execRefSeq: number;
}

export interface PositionEvent extends Base {
  type: 'POSITION';
  accountId: number;
  symbolId: number;
  symbol: string;
  qty: number;
  costTicks: number;
  realizedTicks: number;
}

export interface RouteDoneEvent extends Base {
  type: 'ROUTE_DONE';
  orderId: number;
  routedQty: number;
  childCount: number;
  reason: string;
  /** Decision time minus receive time, in microseconds. */
  decisionUs: number;
}

export interface ChildEventEvent extends Base {
  type: 'CHILD_EVENT';
  childId: number;
  orderId: number;
  kind: string;
  venueId: number;
  venue: string | null;
  qty: number;
  priceTicks: number;
  lastQty: number;
  lastPxTicks: number;
  reason: string;
  /** The venue's ExecID (17) of a FILL, TRADE_CANCEL or TRADE_CORRECT; null when the record has none. */
  execId: string | null;
  /** The ExecRefID (19) of a TRADE_CANCEL or TRADE_CORRECT: the ExecID of the fill it names; else null. */
  execRefId: string | null;
}

export interface SorConfigEvent extends Base {
  type: 'SOR_CONFIG';
  version: number;
  adminAccountId: number;
  /** Weights in millionths (exact). */
  priceWeight: number;
  latencyWeight: number;
  fillprobWeight: number;
  feeWeight: number;
  quoteStaleMs: number;
  mode: number;
}

export interface QuoteEvent extends Base {
  type: 'QUOTE';
  venueId: number;
  venue: string | null;
  symbolId: number;
  symbol: string;
  bidTicks: number;
  bidQty: number;
  askTicks: number;
  askQty: number;
}

export type JournalEvent =
  | CommandEvent | MassCancelEvent | AccountControlEvent | ReportEvent | PositionEvent | RouteDoneEvent | ChildEventEvent | SorConfigEvent | QuoteEvent;

/** The event type that carries `type` K (CommandEvent carries three). */
export type EventOf<K extends JournalEvent['type']> = JournalEvent extends infer E ? (E extends { type: infer T } ? (K extends T ? E : never) : never) : never;

/** Decodes journal frames; one flyweight per record type, re-pointed per frame. */
export class EventDecoder {
  private readonly names: EventNames;
  private readonly newOrder = new NewOrderFlyweight();
  private readonly cancel = new CancelOrderFlyweight();
  private readonly massCancel = new MassCancelFlyweight();
  private readonly accountControl = new AccountControlFlyweight();
  private readonly report = new ExecReportFlyweight();
  private readonly position = new PositionFlyweight();
  private readonly routeDone = new RouteDoneFlyweight();
  private readonly childEvent = new ChildEventFlyweight();
  private readonly sorConfig = new SorConfigFlyweight();
  private readonly quote = new QuoteFlyweight();
  private readonly audit = new RouteAuditFlyweight();
  /** Venue names by venue id as an array (auditToJson's form), built once. */
  private readonly venueNames: string[] = [];
  /** The decoder table: record type id -> decoder (and the record's minimum length). */
  private readonly table: Map<number, { length: number; decode: (seq: number, epochMs: number, view: DataView, bytes: Uint8Array, offset: number, length: number) => JournalEvent }>;

  constructor(names: EventNames) {
    this.names = names;
    for (const [id, name] of names.venues) this.venueNames[id] = name;
    this.table = new Map([
      [RecordType.NEW_ORDER, { length: NEW_ORDER_LENGTH, decode: (s, e, v, b, o) => this.decodeNewOrder(s, e, v, b, o) }],
      [RecordType.CANCEL_ORDER, { length: CANCEL_ORDER_LENGTH, decode: (s, e, v, b, o) => this.decodeCancel('CANCEL_ORDER', s, e, v, b, o) }],
      [RecordType.REPLACE_ORDER, { length: REPLACE_ORDER_LENGTH, decode: (s, e, v, b, o) => this.decodeCancel('REPLACE_ORDER', s, e, v, b, o) }],
      [RecordType.MASS_CANCEL, { length: MASS_CANCEL_LENGTH, decode: (s, e, v, b, o) => this.decodeMassCancel(s, e, v, b, o) }],
      [RecordType.ACCOUNT_CONTROL, { length: ACCOUNT_CONTROL_LENGTH, decode: (s, e, v, b, o) => this.decodeAccountControl(s, e, v, b, o) }],
      [RecordType.EXEC_REPORT, { length: EXEC_REPORT_JOURNALED_MIN_LENGTH, decode: (s, e, v, b, o, n) => this.decodeReport(s, e, v, b, o, n) }],
      [RecordType.POSITION, { length: POSITION_JOURNALED_MIN_LENGTH, decode: (s, e, v, b, o) => this.decodePosition(s, e, v, b, o) }],
      [RecordType.ROUTE_DONE, { length: ROUTE_DONE_LENGTH, decode: (s, e, v, b, o) => this.decodeRouteDone(s, e, v, b, o) }],
      [RecordType.CHILD_EVENT, { length: CHILD_EVENT_JOURNALED_MIN_LENGTH, decode: (s, e, v, b, o, n) => this.decodeChildEvent(s, e, v, b, o, n) }],
      [RecordType.SOR_CONFIG, { length: SOR_CONFIG_LENGTH, decode: (s, e, v, b, o) => this.decodeSorConfig(s, e, v, b, o) }],
      [RecordType.QUOTE, { length: QUOTE_LENGTH, decode: (s, e, v, b, o) => this.decodeQuote(s, e, v, b, o) }],
    ]);
  }

  /** The event in a frame, or null for a type this decoder does not know (or a short body). */
  decode(typeId: number, seq: number, epochMs: number, view: DataView, bytes: Uint8Array, offset: number, length: number): JournalEvent | null {
    const entry = this.table.get(typeId);
    if (entry === undefined || length < entry.length) return null;
    return entry.decode(seq, epochMs, view, bytes, offset, length);
  }

  /** A ROUTE_AUDIT frame (not a JournalEvent: the sinks keep its document as it is). */
  auditDoc(view: DataView, bytes: Uint8Array, offset: number, epochMs: number): AuditDoc {
    const a = this.audit.wrap(view, bytes, offset);
    const decisionNs = a.decisionTimeNs();
    return {
      orderId: a.orderId(), decisionNs, step: a.step(),
      doc: auditToJson(a, this.venueNames, this.names.symbols, epochMs + decisionNs / 1e6),
    };
  }

  private symbol(id: number): string {
    return this.names.symbols[id] ?? `SYMBOL_${id}`;
  }
  private venue(id: number): string | null {
    return id === 0 ? null : this.names.venues.get(id) ?? `VENUE_${id}`;
  }

  private decodeNewOrder(seq: number, epochMs: number, view: DataView, bytes: Uint8Array, offset: number): CommandEvent {
    const f = this.newOrder.wrap(view, bytes, offset);
    return {
      type: 'NEW_ORDER', seq, atMs: epochMs + f.recvTimeNs() / 1e6, accountId: f.accountId(), orderId: 0,
      clOrdId: ascii(bytes, f.clOrdIdOffset(), f.clOrdIdLength()), origClOrdId: '',
      symbolId: f.symbolId(), symbol: this.symbol(f.symbolId()), side: sideName(f.side()), ordType: ordTypeName(f.ordType()), tif: tifName(f.tif()),
      qty: f.qty(), priceTicks: f.priceTicks(), source: sourceName(f.source()),
    };
  }

  private decodeCancel(type: 'CANCEL_ORDER' | 'REPLACE_ORDER', seq: number, epochMs: number, view: DataView, bytes: Uint8Array, offset: number): CommandEvent {
    const f = this.cancel.wrap(view, bytes, offset);
    return {
      type, seq, atMs: epochMs + f.recvTimeNs() / 1e6, accountId: f.accountId(), orderId: f.orderId(),
      clOrdId: ascii(bytes, f.clOrdIdOffset(), f.clOrdIdLength()), origClOrdId: ascii(bytes, f.origClOrdIdOffset(), f.origClOrdIdLength()),
      symbolId: 0, symbol: null, side: null, ordType: null, tif: null,
      qty: type === 'REPLACE_ORDER' ? f.qty() : 0, priceTicks: type === 'REPLACE_ORDER' ? f.priceTicks() : 0, source: sourceName(f.source()),
    };
  }

  private decodeMassCancel(seq: number, epochMs: number, view: DataView, bytes: Uint8Array, offset: number): MassCancelEvent {
    const f = this.massCancel.wrap(view, bytes, offset);
    return {
      type: 'MASS_CANCEL', seq, atMs: epochMs + f.timeNs() / 1e6, accountId: f.accountId(),
      symbol: f.symbolId() === ALL_SYMBOLS ? null : this.symbol(f.symbolId()), connId: f.connId(), reason: reasonName(f.reason()),
    };
  }

  private decodeAccountControl(seq: number, epochMs: number, view: DataView, bytes: Uint8Array, offset: number): AccountControlEvent {
    const f = this.accountControl.wrap(view, bytes, offset);
    return { type: 'ACCOUNT_CONTROL', seq, atMs: epochMs + f.timeNs() / 1e6, accountId: f.accountId(), adminAccountId: f.adminAccountId(), mode: accountModeName(f.mode()) };
  }

  private decodeReport(seq: number, epochMs: number, view: DataView, bytes: Uint8Array, offset: number, length: number): ReportEvent {
    const f = this.report.wrap(view, bytes, offset);
    return {
      type: 'EXEC_REPORT', seq, atMs: epochMs + f.timeNs() / 1e6, eventSeq: f.eventSeq(), orderId: f.orderId(), accountId: f.accountId(),
      symbolId: f.symbolId(), symbol: this.symbol(f.symbolId()),
      clOrdId: ascii(bytes, f.clOrdIdOffset(), f.clOrdIdLength()), origClOrdId: ascii(bytes, f.origClOrdIdOffset(), f.origClOrdIdLength()),
      side: sideName(f.side()), ordType: ordTypeName(f.ordType()), tif: tifName(f.tif()),
      qty: f.qty(), priceTicks: f.priceTicks(), lastQty: f.lastQty(), lastPxTicks: f.lastPxTicks(), cumQty: f.cumQty(), leavesQty: f.leavesQty(),
      cumNotionalTicks: f.cumNotionalTicks(), execType: execTypeName(f.execType()), status: stateName(f.state()), reason: reasonName(f.reason()),
      venueId: f.venueId(), venue: this.venue(f.venueId()), source: sourceName(f.source()), execRefSeq: f.execRefSeqIn(length),
    };
  }

  private decodePosition(seq: number, epochMs: number, view: DataView, bytes: Uint8Array, offset: number): PositionEvent {
    const f = this.position.wrap(view, bytes, offset);
    return {
      type: 'POSITION', seq, atMs: epochMs + f.timeNs() / 1e6, accountId: f.accountId(), symbolId: f.symbolId(), symbol: this.symbol(f.symbolId()),
      qty: f.qty(), costTicks: f.costTicks(), realizedTicks: f.realizedTicks(),
    };
  }

  private decodeRouteDone(seq: number, epochMs: number, view: DataView, bytes: Uint8Array, offset: number): RouteDoneEvent {
    const f = this.routeDone.wrap(view, bytes, offset);
    return {
      type: 'ROUTE_DONE', seq, atMs: epochMs + f.decisionTimeNs() / 1e6, orderId: f.orderId(), routedQty: f.routedQty(),
      childCount: f.childCount(), reason: reasonName(f.reason()), decisionUs: Math.round((f.decisionTimeNs() - f.recvTimeNs()) / 1000),
    };
  }

  private decodeChildEvent(seq: number, epochMs: number, view: DataView, bytes: Uint8Array, offset: number, length: number): ChildEventEvent {
    const f = this.childEvent.wrap(view, bytes, offset);
    const n = f.execIdLength(length);
    const m = f.execRefIdLength(length);
    // Identifiers that would run past the record (a damaged one) are left out.
    const fits = f.execIdOffset() + n + m <= offset + length;
    return {
      type: 'CHILD_EVENT', seq, atMs: epochMs + f.timeNs() / 1e6, childId: f.childId(), orderId: f.orderId(), kind: childKindName(f.kind()),
      venueId: f.venueId(), venue: this.venue(f.venueId()), qty: f.qty(), priceTicks: f.priceTicks(), lastQty: f.lastQty(),
      lastPxTicks: f.lastPxTicks(), reason: reasonName(f.reason()),
      execId: fits && n > 0 ? ascii(bytes, f.execIdOffset(), n, EXEC_ID_CAPACITY) : null,
      execRefId: fits && m > 0 ? ascii(bytes, f.execRefIdOffset(), m, EXEC_ID_CAPACITY) : null,
    };
  }

  private decodeSorConfig(seq: number, epochMs: number, view: DataView, bytes: Uint8Array, offset: number): SorConfigEvent {
    const f = this.sorConfig.wrap(view, bytes, offset);
    return {
      type: 'SOR_CONFIG', seq, atMs: epochMs + f.timeNs() / 1e6, version: f.version(), adminAccountId: f.adminAccountId(),
      priceWeight: f.priceWeight(), latencyWeight: f.latencyWeight(), fillprobWeight: f.fillprobWeight(), feeWeight: f.feeWeight(),
      quoteStaleMs: f.quoteStaleMs(), mode: f.mode(),
    };
  }

  private decodeQuote(seq: number, epochMs: number, view: DataView, bytes: Uint8Array, offset: number): QuoteEvent {
    const f = this.quote.wrap(view, bytes, offset);
    return {
      type: 'QUOTE', seq, atMs: epochMs + f.timeNs() / 1e6, venueId: f.venueId(), venue: this.venue(f.venueId()),
      symbolId: f.symbolId(), symbol: this.symbol(f.symbolId()), bidTicks: f.bidTicks(), bidQty: f.bidQty(), askTicks: f.askTicks(), askQty: f.askQty(),
    };
  }
}

/**
 * An ASCII field as a string, at most `capacity` bytes (ClOrdIDs are checked printable ASCII at
 * the edge, a venue's ExecIDs made so by the fix stage). Allocates.
 */
function ascii(bytes: Uint8Array, offset: number, length: number, capacity = CL_ORD_ID_CAPACITY): string {
  const n = Math.min(length, capacity);
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(bytes[offset + i]);
  return s;
}
