/**
 * The FIX 4.4 messages the FIX benchmark parses and encodes: varied NewOrderSingles as the
 * engine's fix stage sends them to venues (workers/fix/fix-stage.ts), and varied
 * ExecutionReports as the venue simulators send them back (sim/venue-app.ts). One seeded
 * generator fills the field values once (structure of arrays, strings as prepared ASCII bytes),
 * so the encode loop measures the encoder alone, and the encoded stream is what both parsers read.
 *
 *   NewOrderSingle (35=D), header 8 9 35 49=OMS 56=V<n> 34 52, then
 *     11 ClOrdID (child id) [1 Account] 55 54 60 38 40 [44 when limit] 59 ; 10
 *   ExecutionReport (35=8), header 8 9 35 49=V<n> 56=OMS 34 52, then
 *     37 17 11 150 39 55 54 38 40 [44] 32 31 151 14 6 [12 13 on fees] [103 on rejects] [58] 60 ; 10
 *
 * ExecutionReport kinds, in proportions close to a day of IOC-heavy routing: new (150=0),
 * partial and full fills (150=F), cancels (150=4, with a Text), rejects (150=8, 103 and 58).
 * Allocates freely: everything here runs at start-up.
 */

import { PRICE_SCALE } from '../../engine/fixed-point.ts';
import { FixEncoder, ascii } from '../../fix/encoder.ts';
import { MsgType } from '../../fix/msg-type.ts';
import { FixParser } from '../../fix/parser.ts';
import { Tag } from '../../fix/tags.ts';
import { FixValidator, VALIDATION_OK } from '../../fix/validator.ts';
import { Mulberry32 } from '../../engine/prng.ts';

const TAG_ORD_REJ_REASON = 103;
const COMM_TYPE_ABSOLUTE = 0x33;

const SYMBOLS = ['AAPL', 'MSFT', 'TSLA', 'GOOGL', 'AMZN'];
/** Reference prices in cents, one per symbol. */
const REF_CENTS = [19_000, 42_000, 25_000, 17_000, 18_500];
const VENUES = ['V1', 'V2', 'V3'];
const ACCOUNTS = ['TRADER1', 'TRADER2', 'OPS'];
const TEXTS = ['IOC remainder canceled', 'canceled by client', 'no more liquidity for market order'];
const REJECT_TEXT = 'unknown symbol';
/** 2026-01-05 14:30:00.000 UTC: sending times start here and advance by a few ms per message. */
const BASE_EPOCH_MS = 1_767_623_400_000;

export const ExecKind = { NEW: 0, PARTIAL: 1, FILL: 2, CANCELED: 3, REJECTED: 4 } as const;

/** Field values of n NewOrderSingles. */
export interface NosFields {
  n: number;
  venue: Uint8Array;
  seq: Int32Array;
  timeMs: Float64Array;
  childId: Int32Array;
  /** Index into ACCOUNTS, or -1 when the order carries no Account (1). */
  account: Int8Array;
  symbol: Uint8Array;
  side: Uint8Array;
  qty: Int32Array;
  /** 0x31 market, 0x32 limit. */
  ordType: Uint8Array;
  priceTicks: Float64Array;
  tif: Uint8Array;
}

/** Field values of n ExecutionReports. */
export interface ErFields {
  n: number;
  venue: Uint8Array;
  seq: Int32Array;
  timeMs: Float64Array;
  kind: Uint8Array;
  orderSeq: Int32Array;
  execSeq: Int32Array;
  clOrdId: Int32Array;
  symbol: Uint8Array;
  side: Uint8Array;
  ordType: Uint8Array;
  orderQty: Int32Array;
  priceTicks: Float64Array;
  lastQty: Int32Array;
  lastPxTicks: Float64Array;
  leavesQty: Int32Array;
  cumQty: Int32Array;
  avgPxTicks: Float64Array;
  commissionTicks: Float64Array;
  /** Index into TEXTS, or -1. */
  text: Int8Array;
}

/** A stream of encoded messages laid end to end, as they would arrive on a socket. */
export interface FixStream {
  bytes: Uint8Array;
  count: number;
  /** starts[i] is where message i begins; starts[count] = bytes.length. */
  starts: Int32Array;
}

/** ASCII tables the encoders copy from (prepared once). */
export class FixBenchText {
  readonly venues = VENUES.map(ascii);
  readonly oms = ascii('OMS');
  readonly symbols = SYMBOLS.map(ascii);
  readonly accounts = ACCOUNTS.map(ascii);
  readonly texts = TEXTS.map(ascii);
  readonly rejectText = ascii(REJECT_TEXT);
  /** "V1-", "V2-", "V3-" (OrderID prefix) and "V1-E"... (ExecID prefix), as the venue writes them. */
  readonly orderIdPrefix = VENUES.map((v) => ascii(`${v}-`));
  readonly execIdPrefix = VENUES.map((v) => ascii(`${v}-E`));
}

function priceTicksNear(rng: Mulberry32, symbol: number): number {
  const cents = REF_CENTS[symbol] + rng.nextInt(2001) - 1000;
  return cents * (PRICE_SCALE / 100);
}

export function makeNosFields(n: number, seed: number): NosFields {
  const rng = new Mulberry32(seed);
  const f: NosFields = {
    n, venue: new Uint8Array(n), seq: new Int32Array(n), timeMs: new Float64Array(n), childId: new Int32Array(n),
    account: new Int8Array(n), symbol: new Uint8Array(n), side: new Uint8Array(n), qty: new Int32Array(n),
    ordType: new Uint8Array(n), priceTicks: new Float64Array(n), tif: new Uint8Array(n),
  };
  let timeMs = BASE_EPOCH_MS;
  for (let i = 0; i < n; i++) {
    f.venue[i] = rng.nextInt(VENUES.length);
    f.seq[i] = 2 + i + rng.nextInt(3) * 100_000; // sessions at different points of their day
    timeMs += rng.nextInt(5);
    f.timeMs[i] = timeMs;
    f.childId[i] = 1 + i * 3 + rng.nextInt(3) + (rng.nextInt(4) === 0 ? 1_000_000 : 0);
    f.account[i] = rng.nextInt(4) === 0 ? -1 : rng.nextInt(ACCOUNTS.length);
    f.symbol[i] = rng.nextInt(SYMBOLS.length);
    f.side[i] = 0x31 + rng.nextInt(2);
    f.qty[i] = rng.nextInt(3) === 0 ? (1 + rng.nextInt(50)) * 100 : 1 + rng.nextInt(5000);
    const market = rng.nextInt(10) === 0;
    f.ordType[i] = market ? 0x31 : 0x32;
    f.priceTicks[i] = market ? 0 : priceTicksNear(rng, f.symbol[i]);
    f.tif[i] = rng.nextInt(3) === 0 ? 0x30 : 0x33; // DAY or IOC
  }
  return f;
}

export function makeErFields(n: number, seed: number): ErFields {
  const rng = new Mulberry32(seed);
  const f: ErFields = {
    n, venue: new Uint8Array(n), seq: new Int32Array(n), timeMs: new Float64Array(n), kind: new Uint8Array(n),
    orderSeq: new Int32Array(n), execSeq: new Int32Array(n), clOrdId: new Int32Array(n), symbol: new Uint8Array(n),
    side: new Uint8Array(n), ordType: new Uint8Array(n), orderQty: new Int32Array(n), priceTicks: new Float64Array(n),
    lastQty: new Int32Array(n), lastPxTicks: new Float64Array(n), leavesQty: new Int32Array(n), cumQty: new Int32Array(n),
    avgPxTicks: new Float64Array(n), commissionTicks: new Float64Array(n), text: new Int8Array(n),
  };
  let timeMs = BASE_EPOCH_MS;
  for (let i = 0; i < n; i++) {
    f.venue[i] = rng.nextInt(VENUES.length);
    f.seq[i] = 2 + i + rng.nextInt(3) * 100_000;
    timeMs += rng.nextInt(5);
    f.timeMs[i] = timeMs;
    const roll = rng.nextInt(100);
    const kind = roll < 40 ? ExecKind.NEW : roll < 55 ? ExecKind.PARTIAL : roll < 75 ? ExecKind.FILL : roll < 97 ? ExecKind.CANCELED : ExecKind.REJECTED;
    f.kind[i] = kind;
    f.orderSeq[i] = 1 + i + rng.nextInt(1000);
    f.execSeq[i] = 1 + 2 * i + rng.nextInt(2);
    f.clOrdId[i] = 1 + i * 3 + rng.nextInt(3);
    f.symbol[i] = rng.nextInt(SYMBOLS.length);
    f.side[i] = 0x31 + rng.nextInt(2);
    f.ordType[i] = rng.nextInt(10) === 0 ? 0x31 : 0x32;
    const qty = rng.nextInt(3) === 0 ? (1 + rng.nextInt(50)) * 100 : 1 + rng.nextInt(5000);
    f.orderQty[i] = qty;
    f.priceTicks[i] = f.ordType[i] === 0x32 ? priceTicksNear(rng, f.symbol[i]) : 0;
    const px = priceTicksNear(rng, f.symbol[i]);
    let cum = 0;
    let last = 0;
    if (kind === ExecKind.PARTIAL) {
      cum = 1 + rng.nextInt(qty > 1 ? qty - 1 : 1);
      if (cum >= qty) cum = qty - 1;
      if (cum < 1) cum = 1;
      last = 1 + rng.nextInt(cum);
    } else if (kind === ExecKind.FILL) {
      cum = qty;
      last = 1 + rng.nextInt(qty);
    }
    if (kind === ExecKind.PARTIAL && qty === 1) f.kind[i] = ExecKind.FILL; // a 1-share order cannot fill partly
    const fill = f.kind[i] === ExecKind.PARTIAL || f.kind[i] === ExecKind.FILL;
    f.lastQty[i] = fill ? last : 0;
    f.lastPxTicks[i] = fill ? px : 0;
    f.cumQty[i] = fill ? cum : 0;
    f.leavesQty[i] = f.kind[i] === ExecKind.NEW ? qty : f.kind[i] === ExecKind.PARTIAL ? qty - cum : 0;
    f.avgPxTicks[i] = fill ? px : 0;
    f.commissionTicks[i] = fill && rng.nextInt(2) === 0 ? (1 + rng.nextInt(500)) * (PRICE_SCALE / 100) : 0;
    f.text[i] = f.kind[i] === ExecKind.CANCELED ? rng.nextInt(TEXTS.length) : -1;
  }
  return f;
}

/** Encodes NewOrderSingle i as the engine's fix stage does; returns its length (buf[enc.start, +length)). */
export function encodeNos(enc: FixEncoder, t: FixBenchText, f: NosFields, i: number): number {
  enc.begin(MsgType.NEW_ORDER_SINGLE, t.oms, t.venues[f.venue[i]], f.seq[i], f.timeMs[i]);
  enc.addInt(Tag.ClOrdID, f.childId[i]);
  const account = f.account[i];
  if (account >= 0) enc.addAscii(Tag.Account, t.accounts[account]);
  enc.addAscii(Tag.Symbol, t.symbols[f.symbol[i]]);
  enc.addChar(Tag.Side, f.side[i]);
  enc.addUtcTimestamp(Tag.TransactTime, f.timeMs[i]);
  enc.addInt(Tag.OrderQty, f.qty[i]);
  enc.addChar(Tag.OrdType, f.ordType[i]);
  if (f.ordType[i] === 0x32) enc.addTicks(Tag.Price, f.priceTicks[i]);
  enc.addChar(Tag.TimeInForce, f.tif[i]);
  return enc.finish();
}

const EXEC_TYPE = [0x30, 0x46, 0x46, 0x34, 0x38]; // by ExecKind: 0, F, F, 4, 8
const ORD_STATUS = [0x30, 0x31, 0x32, 0x34, 0x38]; // 0 new, 1 partial, 2 filled, 4 canceled, 8 rejected

/** Encodes ExecutionReport i as the venue simulator does; returns its length. */
export function encodeEr(enc: FixEncoder, t: FixBenchText, f: ErFields, i: number): number {
  const v = f.venue[i];
  const kind = f.kind[i];
  enc.begin(MsgType.EXECUTION_REPORT, t.venues[v], t.oms, f.seq[i], f.timeMs[i]);
  enc.addAsciiInt(Tag.OrderID, t.orderIdPrefix[v], f.orderSeq[i]);
  enc.addAsciiInt(Tag.ExecID, t.execIdPrefix[v], f.execSeq[i]);
  enc.addInt(Tag.ClOrdID, f.clOrdId[i]);
  enc.addChar(Tag.ExecType, EXEC_TYPE[kind]).addChar(Tag.OrdStatus, ORD_STATUS[kind]);
  enc.addAscii(Tag.Symbol, t.symbols[f.symbol[i]]).addChar(Tag.Side, f.side[i]);
  enc.addInt(Tag.OrderQty, f.orderQty[i]).addChar(Tag.OrdType, f.ordType[i]);
  if (f.ordType[i] === 0x32) enc.addTicks(Tag.Price, f.priceTicks[i]);
  enc.addInt(Tag.LastQty, f.lastQty[i]).addTicks(Tag.LastPx, f.lastPxTicks[i]);
  enc.addInt(Tag.LeavesQty, f.leavesQty[i]).addInt(Tag.CumQty, f.cumQty[i]).addTicks(Tag.AvgPx, f.avgPxTicks[i]);
  if (f.commissionTicks[i] > 0) enc.addTicks(Tag.Commission, f.commissionTicks[i]).addChar(Tag.CommType, COMM_TYPE_ABSOLUTE);
  if (kind === ExecKind.REJECTED) enc.addInt(TAG_ORD_REJ_REASON, 1).addAscii(Tag.Text, t.rejectText);
  else if (f.text[i] >= 0) enc.addAscii(Tag.Text, t.texts[f.text[i]]);
  enc.addUtcTimestamp(Tag.TransactTime, f.timeMs[i]);
  return enc.finish();
}

/** Encodes every message into one stream. */
export function buildStream(n: number, encodeOne: (enc: FixEncoder, i: number) => number): FixStream {
  const enc = new FixEncoder();
  const parts: Uint8Array[] = [];
  const starts = new Int32Array(n + 1);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const length = encodeOne(enc, i);
    parts.push(enc.buf.slice(enc.start, enc.start + length));
    starts[i] = total;
    total += length;
  }
  starts[n] = total;
  const bytes = new Uint8Array(total);
  for (let i = 0; i < n; i++) bytes.set(parts[i], starts[i]);
  return { bytes, count: n, starts };
}

export interface FixCorpus {
  text: FixBenchText;
  nosFields: NosFields;
  erFields: ErFields;
  nos: FixStream;
  er: FixStream;
}

/**
 * n NewOrderSingles and n ExecutionReports from one seed. Checks that every message frames,
 * and passes the FIX 4.4 dictionary validation, so the benchmark times only valid traffic.
 */
export function buildCorpus(n: number, seed: number): FixCorpus {
  const text = new FixBenchText();
  const nosFields = makeNosFields(n, seed);
  const erFields = makeErFields(n, seed ^ 0x5bd1e995);
  const nos = buildStream(n, (enc, i) => encodeNos(enc, text, nosFields, i));
  const er = buildStream(n, (enc, i) => encodeEr(enc, text, erFields, i));
  for (const [name, stream, type] of [['NewOrderSingle', nos, MsgType.NEW_ORDER_SINGLE], ['ExecutionReport', er, MsgType.EXECUTION_REPORT]] as const) {
    const bad = checkStream(stream, type);
    if (bad >= 0) throw new Error(`Invariant: generated ${name} ${bad} is valid FIX 4.4`);
  }
  return { text, nosFields, erFields, nos, er };
}

/** Index of the first message that does not frame, has another MsgType or fails validation; -1 when all pass. */
export function checkStream(stream: FixStream, msgType: number): number {
  const parser = new FixParser();
  const validator = new FixValidator();
  for (let i = 0; i < stream.count; i++) {
    const length = stream.starts[i + 1] - stream.starts[i];
    if (parser.parse(stream.bytes, stream.starts[i], stream.bytes.length) !== length) return i;
    if (parser.msgType !== msgType || validator.validate(parser) !== VALIDATION_OK) return i;
  }
  return -1;
}

/** Mean message length in bytes. */
export function meanLength(stream: FixStream): number {
  return Math.round((stream.bytes.length / stream.count) * 10) / 10;
}
