/**
 * An execution report's JSON text frame, written byte by byte from the ring's flyweight into one
 * reused buffer: no message object, no strings, no JSON.stringify per report. The bytes are
 * exactly JSON.stringify(reportToJson(r, ...)) (order-json.ts): same keys, same order, same
 * escaping; the property test holds the two to that.
 *
 * Names (symbols, venues, states, exec types, reasons...) are JSON-encoded once, here, by
 * JSON.stringify itself. The only per-report text is the ClOrdID, printable ASCII (validated at
 * every edge), in which JSON escapes '"' and '\'.
 */
import type { ExecReportFlyweight } from '../../codecs/records.ts';
import { CL_ORD_ID_CAPACITY, ordTypeName, sideName, tifName } from '../../engine/domain.ts';
import { PRICE_SCALE, writeDecimalParts, writeDecimalTicks, writeUint } from '../../engine/fixed-point.ts';
import { carriesTrade, execTypeName, isTradeCorrection, stateName } from '../../engine/order-state.ts';
import { Reason, reasonName } from '../../engine/reasons.ts';
import type { ReportMessage } from './messages.ts';
import { reportType } from './order-json.ts';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** One JSON fragment, encoded once (e.g. `,"symbol":` or `"AAPL"`). */
type Fragment = Uint8Array;

/** A plain Uint8Array (not a Buffer), so every array the writer reads has one shape. */
const frag = (text: string): Fragment => new Uint8Array(Buffer.from(text, 'utf8'));
/** JSON value of a name, or null: as JSON.stringify writes `name ?? null`. */
const jsonName = (name: string | undefined | null): Fragment => frag(JSON.stringify(name ?? null));

/** The frame's opening, by message type (order-json.ts reportType). */
const K_TYPE: Record<ReportMessage['type'], Fragment> = {
  ack: frag('{"type":"ack","execType":'),
  execution: frag('{"type":"execution","execType":'),
  reject: frag('{"type":"reject","execType":'),
  cancelReject: frag('{"type":"cancelReject","execType":'),
};
const K_ORDER_ID = frag(',"orderId":');
const K_CL_ORD_ID = frag(',"clOrdId":');
const K_STATUS = frag(',"status":');
const K_SYMBOL = frag(',"symbol":');
const K_SIDE = frag(',"side":');
const K_ORD_TYPE = frag(',"ordType":');
const K_TIF = frag(',"tif":');
const K_QTY = frag(',"qty":');
const K_PRICE = frag(',"price":');
const K_CUM_QTY = frag(',"cumQty":');
const K_LEAVES_QTY = frag(',"leavesQty":');
const K_AVG_PX = frag(',"avgPx":');
const K_EVENT_SEQ = frag(',"eventSeq":');
const K_ORIG_CL_ORD_ID = frag(',"origClOrdId":');
const K_LAST_QTY = frag(',"lastQty":');
const K_LAST_PX = frag(',"lastPx":');
const K_VENUE = frag(',"venue":');
const K_EXEC_REF_SEQ = frag(',"execRefSeq":');
const K_REASON = frag(',"reason":');
const K_REASON_NAME = frag(',"reasonName":');
const V_NULL = frag('null');
const END = frag('}');

/**
 * Room for the longest report: the keys and numbers (under 1 KiB), two ClOrdIDs with every byte
 * escaped, and eight names (symbol, venue, reason, states...) of the longest length there is.
 */
function capacityFor(names: Iterable<string>): number {
  let longestName = 'UNKNOWN_REASON'.length + 2;
  for (const n of names) longestName = Math.max(longestName, jsonName(n).length);
  return 1024 + 4 * (CL_ORD_ID_CAPACITY + 1) + 8 * longestName;
}

export class ReportJsonWriter {
  /** The last report's JSON: bytes[0, length) after write(). Overwritten by the next write. */
  readonly bytes: Uint8Array;
  /** JSON names by id; an id past the end is written null. */
  private readonly symbols: Fragment[];
  private readonly venues: Fragment[];
  /** Each code's JSON name by code, encoded on its first use and then kept (unknown codes included). */
  private readonly sides: Fragment[] = [];
  private readonly ordTypes: Fragment[] = [];
  private readonly tifs: Fragment[] = [];
  private readonly states: Fragment[] = [];
  private readonly execTypes: Fragment[] = [];
  private readonly reasons: Fragment[] = [];
  private readonly clScratch = new Uint8Array(CL_ORD_ID_CAPACITY);
  private readonly views: Uint8Array[] = [];
  private at = 0;

  constructor(symbolNames: readonly string[], venueNames: readonly string[]) {
    this.symbols = symbolNames.map(jsonName);
    this.venues = venueNames.map(jsonName);
    this.bytes = new Uint8Array(capacityFor([...symbolNames, ...venueNames, ...Object.keys(Reason)]));
  }

  /**
   * bytes[0, length) of the last write, as a view made once per length and then reused (uWS
   * sends a whole view; a subarray per report would be one allocation per message).
   */
  view(length: number): Uint8Array {
    let v = this.views[length];
    if (v === undefined) {
      v = this.bytes.subarray(0, length);
      this.views[length] = v;
    }
    return v;
  }

  /** Writes r's JSON into bytes; returns its length. */
  write(r: ExecReportFlyweight): number {
    this.at = 0;
    const execType = r.execType();
    const reason = r.reason();
    this.put(K_TYPE[reportType(execType, reason)]);
    this.put(cached(this.execTypes, execType, execTypeName));
    this.put(K_ORDER_ID);
    this.int(r.orderId());
    this.put(K_CL_ORD_ID);
    this.clOrdId(r.copyClOrdId(this.clScratch, 0));
    this.put(K_STATUS);
    this.put(cached(this.states, r.state(), stateName));
    // A refusal of a cancel for an order this account does not have carries no order fields.
    const known = r.side() !== 0;
    this.put(K_SYMBOL);
    this.put(known ? this.symbols[r.symbolId()] ?? V_NULL : V_NULL);
    this.put(K_SIDE);
    this.put(known ? cached(this.sides, r.side(), sideName) : V_NULL);
    this.put(K_ORD_TYPE);
    this.put(known ? cached(this.ordTypes, r.ordType(), ordTypeName) : V_NULL);
    this.put(K_TIF);
    this.put(known ? cached(this.tifs, r.tif(), tifName) : V_NULL);
    this.put(K_QTY);
    this.int(r.qty());
    this.put(K_PRICE);
    this.price(r);
    const cumQty = r.cumQty();
    this.put(K_CUM_QTY);
    this.int(cumQty);
    this.put(K_LEAVES_QTY);
    this.int(r.leavesQty());
    this.put(K_AVG_PX);
    if (cumQty > 0) this.averagePrice(r, cumQty);
    else this.put(V_NULL);
    this.put(K_EVENT_SEQ);
    this.int(r.eventSeq());
    const origLength = r.copyOrigClOrdId(this.clScratch, 0);
    if (origLength > 0) {
      this.put(K_ORIG_CL_ORD_ID);
      this.clOrdId(origLength);
    }
    if (carriesTrade(execType)) {
      this.put(K_LAST_QTY);
      this.int(r.lastQty());
      this.put(K_LAST_PX);
      this.lastPx(r);
      this.put(K_VENUE);
      this.put(this.venues[r.venueId()] ?? V_NULL);
    }
    if (isTradeCorrection(execType)) {
      this.put(K_EXEC_REF_SEQ);
      this.int(r.execRefSeq());
    }
    if (reason !== Reason.NONE) {
      this.put(K_REASON);
      this.int(reason);
      this.put(K_REASON_NAME);
      this.put(cached(this.reasons, reason, reasonName));
    }
    this.put(END);
    return this.at;
  }

  /*
   * Prices come from the flyweight already split into units and fraction (both small integers):
   * a price past 2^30 ticks crossing a call the optimizer did not inline would be boxed.
   */

  private price(r: ExecReportFlyweight): void {
    if (r.hasPrice()) this.decimal(r.priceUnits(), r.priceFraction());
    else this.put(V_NULL);
  }

  private lastPx(r: ExecReportFlyweight): void {
    this.decimal(r.lastPxUnits(), r.lastPxFraction());
  }

  /** averagePriceTicks (order-json.ts uses it): the notional is past 2^30 for most fills. */
  private averagePrice(r: ExecReportFlyweight, cumQty: number): void {
    this.decimal(r.averagePriceUnits(cumQty), r.averagePriceFraction(cumQty));
  }

  private put(f: Fragment): void {
    this.bytes.set(f, this.at);
    this.at += f.length;
  }

  /** A JSON number, as JSON.stringify writes it: digits for an integer (every field producers write). */
  private int(v: number): void {
    if (!Number.isSafeInteger(v)) {
      // Cold: NaN, infinities, fractions and huge values are no report's, but the frame must
      // still be what JSON.stringify writes (null, 1.5, 1e+21), not a hang or a cut-off frame.
      this.put(frag(JSON.stringify(v)));
      return;
    }
    if (v < 0) {
      this.bytes[this.at++] = 0x2d;
      v = -v;
    }
    this.at = writeUint(this.bytes, this.at, v);
  }

  /**
   * A JSON string of the decimal text of units * PRICE_SCALE + fraction ("177.25"), as
   * ticksToDecimalString writes it. Negative, not an integer or past 2^53 (no report carries
   * any): writeDecimalTicks of the sum, which throws on a non-integer or an unsafe one as
   * ticksToDecimalString does.
   */
  private decimal(units: number, fraction: number): void {
    const b = this.bytes;
    b[this.at++] = QUOTE;
    if (units >= 0 && fraction >= 0 && Number.isInteger(fraction) && Number.isSafeInteger(units * PRICE_SCALE + fraction)) {
      this.at = writeDecimalParts(b, this.at, units, fraction);
    } else {
      this.at = writeDecimalTicks(b, this.at, units * PRICE_SCALE + fraction);
    }
    b[this.at++] = QUOTE;
  }

  /** clScratch[0, length) as a JSON string (printable ASCII: only '"' and '\' are escaped). */
  private clOrdId(length: number): void {
    // A length byte past the capacity (a corrupt record) cannot read or write past the buffers.
    length = Math.min(length, CL_ORD_ID_CAPACITY);
    const b = this.bytes;
    b[this.at++] = QUOTE;
    for (let i = 0; i < length; i++) {
      const c = this.clScratch[i];
      if (c === QUOTE || c === BACKSLASH) b[this.at++] = BACKSLASH;
      b[this.at++] = c;
    }
    b[this.at++] = QUOTE;
  }
}

/** The JSON of a code's name (null when it has none), encoded once per code. */
function cached(table: Fragment[], code: number, name: (code: number) => string | undefined): Fragment {
  let f = table[code];
  if (f === undefined) {
    f = jsonName(name(code));
    table[code] = f;
  }
  return f;
}
