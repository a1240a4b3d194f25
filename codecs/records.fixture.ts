/** Field tables of every ring record, shared by the records unit and property tests. */
import type { Flyweight } from './flyweight.ts';
import {
  CANCEL_ORDER_LENGTH,
  CHILD_EVENT_LENGTH,
  CHILD_ORDER_LENGTH,
  EXEC_REPORT_LENGTH,
  ACCOUNT_CONTROL_LENGTH,
  MASS_CANCEL_LENGTH,
  NEW_ORDER_LENGTH,
  POSITION_LENGTH,
  QUOTE_LENGTH,
  RISK_LIMIT_LENGTH,
  ROUTE_DONE_LENGTH,
  ROUTE_REQUEST_LENGTH,
  SOR_CONFIG_LENGTH,
  VENUE_STATUS_LENGTH,
  CancelOrderFlyweight,
  ChildEventFlyweight,
  ChildOrderFlyweight,
  ExecReportFlyweight,
  AccountControlFlyweight,
  MassCancelFlyweight,
  NewOrderFlyweight,
  PositionFlyweight,
  QuoteFlyweight,
  RiskLimitFlyweight,
  ROUTE_AUDIT_HEADER_LENGTH,
  RouteAuditHeaderFlyweight,
  RouteDoneFlyweight,
  RouteRequestFlyweight,
  SorConfigFlyweight,
  VenueStatusFlyweight,
} from './records.ts';

// ---------------------------------------------------------------------------------------------
// Field tables, written from the layout diagrams in codecs/records.ts: "Name:kind@offset", and
// for a byte field "Name:bytes@dataOffset/lengthOffset". Accessors are named getX/setX by the
// flyweight convention (x(), setX(v); for bytes setX, copyX, xLength, xOffset).
// ---------------------------------------------------------------------------------------------
export type Kind = 'f64' | 'u32' | 'u16' | 'u8' | 'bool' | 'bytes';
export interface FieldSpec { name: string; kind: Kind; at: number; lengthAt: number }
/** derived: read-only methods computed from fields (not accessors of their own), tested apart. */
export interface RecordSpec { name: string; length: number; make: () => Flyweight; fields: FieldSpec[]; derived?: string[] }

export function fields(text: string): FieldSpec[] {
  return text.trim().split(/\s+/).map((item) => {
    const m = /^(\w+):(\w+)@(\d+)(?:\/(\d+))?$/.exec(item);
    if (m === null) throw new Error(`bad field spec ${item}`);
    return { name: m[1], kind: m[2] as Kind, at: Number(m[3]), lengthAt: m[4] === undefined ? -1 : Number(m[4]) };
  });
}

export const RECORDS: RecordSpec[] = [
  {
    name: 'NEW_ORDER', length: NEW_ORDER_LENGTH, make: () => new NewOrderFlyweight(),
    fields: fields(`RecvTimeNs:f64@0 Qty:f64@8 PriceTicks:f64@16 ConnId:u32@24 AccountId:u32@28 SymbolId:u32@32
      RequestId:u32@36 Source:u8@40 Side:u8@41 OrdType:u8@42 Tif:u8@43 ClOrdId:bytes@48/44`),
  },
  {
    name: 'CANCEL_ORDER', length: CANCEL_ORDER_LENGTH, make: () => new CancelOrderFlyweight(),
    fields: fields(`RecvTimeNs:f64@0 OrderId:f64@8 Qty:f64@16 PriceTicks:f64@24 ConnId:u32@32 AccountId:u32@36
      RequestId:u32@40 Source:u8@44 ClOrdId:bytes@48/45 OrigClOrdId:bytes@88/46`),
  },
  {
    name: 'EXEC_REPORT', length: EXEC_REPORT_LENGTH, make: () => new ExecReportFlyweight(),
    fields: fields(`EventSeq:f64@0 OrderId:f64@8 TimeNs:f64@16 RecvTimeNs:f64@24 Qty:f64@32 PriceTicks:f64@40
      LastQty:f64@48 LastPxTicks:f64@56 CumQty:f64@64 LeavesQty:f64@72 CumNotionalTicks:f64@80 ConnId:u32@88
      AccountId:u32@92 SymbolId:u32@96 RequestId:u32@100 Reason:u16@104 VenueId:u16@106 ExecType:u8@108
      State:u8@109 Side:u8@110 OrdType:u8@111 Tif:u8@112 Source:u8@113 ClOrdId:bytes@120/114
      OrigClOrdId:bytes@160/115 JournalMark:f64@200 VenueExecIdHash:f64@208 ExecRefSeq:f64@216`),
    // The *In forms read the trade fields of a journaled record by its length: records.test.ts.
    derived: ['hasPrice', 'priceUnits', 'priceFraction', 'lastPxUnits', 'lastPxFraction', 'averagePriceUnits', 'averagePriceFraction', 'venueExecIdHashIn', 'execRefSeqIn'],
  },
  {
    name: 'ROUTE_REQUEST', length: ROUTE_REQUEST_LENGTH, make: () => new RouteRequestFlyweight(),
    fields: fields(`OrderId:f64@0 RecvTimeNs:f64@8 Qty:f64@16 PriceTicks:f64@24 AccountId:u32@32 SymbolId:u32@36
      Side:u8@40 OrdType:u8@41 Tif:u8@42`),
  },
  {
    name: 'CHILD_NEW/CHILD_CANCEL', length: CHILD_ORDER_LENGTH, make: () => new ChildOrderFlyweight(),
    fields: fields(`ChildId:f64@0 OrderId:f64@8 Qty:f64@16 PriceTicks:f64@24 RecvTimeNs:f64@32 DecisionTimeNs:f64@40
      VenueId:u32@48 SymbolId:u32@52 AccountId:u32@56 Side:u8@60 OrdType:u8@61 Tif:u8@62 JournalMark:f64@64`),
  },
  {
    name: 'ROUTE_DONE', length: ROUTE_DONE_LENGTH, make: () => new RouteDoneFlyweight(),
    fields: fields(`OrderId:f64@0 RecvTimeNs:f64@8 DecisionTimeNs:f64@16 RoutedQty:f64@24 ChildCount:u32@32 Reason:u16@36`),
  },
  {
    name: 'CHILD_EVENT', length: CHILD_EVENT_LENGTH, make: () => new ChildEventFlyweight(),
    fields: fields(`ChildId:f64@0 OrderId:f64@8 TimeNs:f64@16 LastQty:f64@24 LastPxTicks:f64@32 Qty:f64@40
      PriceTicks:f64@48 VenueId:u32@56 Reason:u16@60 Kind:u8@62 ExecIdHash:f64@64`),
    // The venue's identifiers, past the fixed part (a record of childEventLength bytes): records.test.ts.
    derived: ['execIdLength', 'execIdOffset', 'execRefIdLength', 'execRefIdOffset', 'setIds'],
  },
  {
    name: 'VENUE_STATUS', length: VENUE_STATUS_LENGTH, make: () => new VenueStatusFlyweight(),
    fields: fields(`TimeNs:f64@0 VenueId:u32@8 Up:bool@12`),
  },
  {
    name: 'QUOTE', length: QUOTE_LENGTH, make: () => new QuoteFlyweight(),
    fields: fields(`TimeNs:f64@0 BidTicks:f64@8 BidQty:f64@16 AskTicks:f64@24 AskQty:f64@32 VenueId:u32@40 SymbolId:u32@44`),
  },
  {
    name: 'MASS_CANCEL', length: MASS_CANCEL_LENGTH, make: () => new MassCancelFlyweight(),
    fields: fields(`TimeNs:f64@0 AccountId:u32@8 SymbolId:u32@12 ConnId:u32@16 RequestId:u32@20 Reason:u16@24`),
  },
  {
    name: 'ACCOUNT_CONTROL', length: ACCOUNT_CONTROL_LENGTH, make: () => new AccountControlFlyweight(),
    fields: fields(`TimeNs:f64@0 AccountId:u32@8 AdminAccountId:u32@12 Mode:u8@16`),
  },
  {
    name: 'POSITION', length: POSITION_LENGTH, make: () => new PositionFlyweight(),
    fields: fields(`Qty:f64@0 CostTicks:f64@8 RealizedTicks:f64@16 EventSeq:f64@24 TimeNs:f64@32 AccountId:u32@40 SymbolId:u32@44
      MarkTicks:f64@48 UnrealizedTicks:f64@56 JournalMark:f64@64`),
  },
  {
    name: 'RISK_LIMIT', length: RISK_LIMIT_LENGTH, make: () => new RiskLimitFlyweight(),
    fields: fields(`TimeNs:f64@0 Value:f64@8 Version:u32@16 AdminAccountId:u32@20 AccountId:u32@24 SymbolId:u32@28 Key:u16@32`),
  },
  {
    name: 'SOR_CONFIG', length: SOR_CONFIG_LENGTH, make: () => new SorConfigFlyweight(),
    fields: fields(`TimeNs:f64@0 Version:u32@8 AdminAccountId:u32@12 PriceWeight:u32@16 LatencyWeight:u32@20
      FillprobWeight:u32@24 FeeWeight:u32@28 QuoteStaleMs:u32@32 Mode:u8@36`),
  },
  {
    // The fixed header only; the per-venue entries that follow it are tested in workers/sor/.
    name: 'ROUTE_AUDIT', length: ROUTE_AUDIT_HEADER_LENGTH, make: () => new RouteAuditHeaderFlyweight(),
    fields: fields(`OrderId:f64@0 DecisionTimeNs:f64@8 Qty:f64@16 LimitTicks:f64@24 NbbBidTicks:f64@32 NbbBidQty:f64@40
      NbbAskTicks:f64@48 NbbAskQty:f64@56 ChildPxTicks:f64@64 RoutedQty:f64@72 ParentQty:f64@80 AccountId:u32@88 SymbolId:u32@92
      ConfigVersion:u32@96 PriceWeight:u32@100 LatencyWeight:u32@104 FillprobWeight:u32@108 FeeWeight:u32@112 Reason:u16@116
      Side:u8@118 OrdType:u8@119 Tif:u8@120 Mode:u8@121 VenueCount:u8@122 ChildCount:u8@123 Step:u8@124 ChildTif:u8@125 Flags:u8@126`),
  },
];

export type AnyFn = (...args: never[]) => unknown;
export function method(fw: Flyweight, name: string): AnyFn {
  const fn = (fw as unknown as Record<string, unknown>)[name];
  if (typeof fn !== 'function') throw new Error(`no method ${name}`);
  return (fn as AnyFn).bind(fw);
}
export const lowerFirst = (s: string): string => s[0].toLowerCase() + s.slice(1);

/** Getter and setter of a scalar field, by the naming convention. */
export function fieldAccess(fw: Flyweight, f: FieldSpec): { get: () => number | boolean; set: (v: number | boolean) => void } {
  const get = method(fw, lowerFirst(f.name)) as () => number | boolean;
  const set = method(fw, `set${f.name}`) as (v: number | boolean) => void;
  return { get, set };
}

/** The four accessors of a ClOrdID-style byte field. */
export function bytesAccess(fw: Flyweight, f: FieldSpec): {
  set: (src: Uint8Array, start: number, end: number) => boolean;
  copy: (dst: Uint8Array, at: number) => number;
  length: () => number;
  offset: () => number;
} {
  return {
    set: method(fw, `set${f.name}`) as (src: Uint8Array, start: number, end: number) => boolean,
    copy: method(fw, `copy${f.name}`) as (dst: Uint8Array, at: number) => number,
    length: method(fw, `${lowerFirst(f.name)}Length`) as () => number,
    offset: method(fw, `${lowerFirst(f.name)}Offset`) as () => number,
  };
}
