/**
 * Goal: the allocation-free report writer sends exactly the JSON the message object gave
 * (JSON.stringify(reportToJson(r))), for every report the ring can carry: known and unknown
 * codes, fills and refusals, ClOrdIDs with the characters JSON escapes, names that need escaping,
 * prices past 2^30 ticks and (no report carries them, but the bytes must still agree) negative ones.
 * Method: a seeded fast-check run over EXEC_REPORT records written field by field, comparing
 * bytes; and the cases that matter spelled out once.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EXEC_REPORT_LENGTH, ExecReportFlyweight } from '../../codecs/records.ts';
import { CL_ORD_ID_CAPACITY, OrdType, Side, Tif } from '../../engine/domain.ts';
import { MAX_PRICE_TICKS, MAX_QTY, PRICE_SCALE } from '../../engine/fixed-point.ts';
import { ExecType, OrderState } from '../../engine/order-state.ts';
import { Reason } from '../../engine/reasons.ts';
import { reportToJson } from './order-json.ts';
import { ReportJsonWriter } from './report-json-writer.ts';

const SYMBOLS = ['AAPL', 'MSFT', 'BRK"B', 'ÄPL\\X'];
const VENUES = ['', 'NYSE', 'V"2'];

interface Fields {
  execType: number;
  state: number;
  reason: number;
  orderId: number;
  eventSeq: number;
  side: number;
  ordType: number;
  tif: number;
  symbolId: number;
  venueId: number;
  qty: number;
  priceTicks: number;
  cumQty: number;
  avgPxTicks: number;
  leavesQty: number;
  lastQty: number;
  lastPxTicks: number;
  execRefSeq: number;
  clOrdId: string;
  origClOrdId: string;
}

/** A record at a non-zero offset of a ring-like buffer, as the risk -> ingest ring carries it. */
function record(f: Fields): ExecReportFlyweight {
  const bytes = new Uint8Array(40 + EXEC_REPORT_LENGTH);
  const r = new ExecReportFlyweight().wrap(new DataView(bytes.buffer), bytes, 40);
  const cl = Buffer.from(f.clOrdId, 'latin1');
  const orig = Buffer.from(f.origClOrdId, 'latin1');
  r.setExecType(f.execType).setState(f.state).setReason(f.reason).setOrderId(f.orderId).setEventSeq(f.eventSeq);
  r.setSide(f.side).setOrdType(f.ordType).setTif(f.tif).setSymbolId(f.symbolId).setVenueId(f.venueId);
  r.setQty(f.qty).setPriceTicks(f.priceTicks).setCumQty(f.cumQty).setCumNotionalTicks(f.cumQty * f.avgPxTicks).setLeavesQty(f.leavesQty);
  r.setLastQty(f.lastQty).setLastPxTicks(f.lastPxTicks).setExecRefSeq(f.execRefSeq);
  r.setClOrdId(cl, 0, cl.length);
  r.setOrigClOrdId(orig, 0, orig.length);
  return r;
}

const writer = new ReportJsonWriter(SYMBOLS, VENUES);
const scratch = new Uint8Array(64);
const written = (r: ExecReportFlyweight): string => Buffer.from(writer.bytes.subarray(0, writer.write(r))).toString('utf8');
const expected = (r: ExecReportFlyweight): string => JSON.stringify(reportToJson(r, SYMBOLS, VENUES, scratch));

const BASE: Fields = {
  execType: ExecType.NEW, state: OrderState.NEW, reason: Reason.NONE, orderId: 42, eventSeq: 7,
  side: Side.BUY, ordType: OrdType.LIMIT, tif: Tif.DAY, symbolId: 0, venueId: 0,
  qty: 100, priceTicks: 177.25 * PRICE_SCALE, cumQty: 0, avgPxTicks: 0, leavesQty: 100, lastQty: 0, lastPxTicks: 0, execRefSeq: 0,
  clOrdId: 'a-1', origClOrdId: '',
};

describe('ReportJsonWriter', () => {
  it('writes an ack as JSON.stringify of the message object', () => {
    const text = written(record(BASE));
    expect(text).toBe(expected(record(BASE)));
    expect(JSON.parse(text)).toMatchObject({ type: 'ack', orderId: 42, clOrdId: 'a-1', price: '177.25', avgPx: null });
  });

  it('writes a fill with its venue, a reject with its reason, a cancel reject of an unknown order', () => {
    const fill = { ...BASE, execType: ExecType.FILL, state: OrderState.FILLED, cumQty: 100, avgPxTicks: 177_250_001, leavesQty: 0, lastQty: 60, lastPxTicks: 177_000_000, venueId: 1 };
    const reject = { ...BASE, execType: ExecType.REJECTED, state: OrderState.REJECTED, reason: Reason.RATE_LIMITED };
    const unknown = { ...BASE, execType: ExecType.CANCEL_REJECT, reason: Reason.UNKNOWN_ORDER, side: 0, origClOrdId: 'a-0' };
    for (const f of [fill, reject, unknown]) expect(written(record(f))).toBe(expected(record(f)));
    expect(JSON.parse(written(record(fill)))).toMatchObject({ type: 'execution', venue: 'NYSE', lastPx: '177', avgPx: '177.250001' });
    expect(JSON.parse(written(record(unknown)))).toMatchObject({ type: 'cancelReject', symbol: null, side: null, origClOrdId: 'a-0' });
  });

  it('writes a bust and a correction with the trade and the eventSeq of the busted fill\'s report', () => {
    const bust = { ...BASE, execType: ExecType.TRADE_CANCEL, state: OrderState.CANCELED, cumQty: 40, avgPxTicks: 177_000_000, lastQty: 60, lastPxTicks: 177_500_000, venueId: 1, execRefSeq: 17 };
    const correct = { ...bust, execType: ExecType.TRADE_CORRECT, state: OrderState.FILLED, execRefSeq: 2 ** 40 };
    for (const f of [bust, correct]) expect(written(record(f))).toBe(expected(record(f)));
    expect(JSON.parse(written(record(bust)))).toMatchObject({ type: 'execution', execType: 'TRADE_CANCEL', status: 'CANCELED', lastQty: 60, lastPx: '177.5', venue: 'NYSE', execRefSeq: 17 });
    expect(JSON.parse(written(record(correct)))).toMatchObject({ execType: 'TRADE_CORRECT', execRefSeq: 2 ** 40 });
    // No other report carries the key.
    expect(JSON.parse(written(record({ ...bust, execType: ExecType.FILL })))).not.toHaveProperty('execRefSeq');
  });

  it('escapes quotes and backslashes in ClOrdIDs and names', () => {
    const f = { ...BASE, clOrdId: 'q"\\"x', origClOrdId: '\\', symbolId: 2, execType: ExecType.FILL, venueId: 2, cumQty: 1, avgPxTicks: 1, lastQty: 1, lastPxTicks: 1 };
    expect(written(record(f))).toBe(expected(record(f)));
    expect(JSON.parse(written(record(f)))).toMatchObject({ clOrdId: 'q"\\"x', origClOrdId: '\\', symbol: 'BRK"B', venue: 'V"2' });
  });

  it('writes numbers no producer writes (NaN, infinities, fractions, 1e21) as JSON.stringify does', () => {
    for (const v of [NaN, Infinity, -Infinity, 1.5, 1e21, -0]) {
      const f = { ...BASE, qty: v, eventSeq: v, leavesQty: v, orderId: v };
      expect(written(record(f))).toBe(expected(record(f)));
    }
  });

  it('refuses prices that are not whole ticks within 2^53 as the message object does (it throws)', () => {
    const outcome = (f: () => string): string => {
      try {
        return f();
      } catch (err) {
        return `throws ${(err as Error).constructor.name}`;
      }
    };
    for (const t of [1e17, 2 ** 53, 2 ** 53 + 2, 1e21 - 4096, 177.5]) {
      for (const f of [{ ...BASE, priceTicks: t }, { ...BASE, execType: ExecType.FILL, cumQty: 1, lastQty: 1, lastPxTicks: t, avgPxTicks: 1 }]) {
        expect(outcome(() => written(record(f))), `ticks ${t}`).toBe(outcome(() => expected(record(f))));
      }
    }
  });

  it('is byte for byte the message object, for any report the ring can carry (seeded)', () => {
    const printable = fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: CL_ORD_ID_CAPACITY });
    const code = (known: number[]) => fc.oneof(fc.constantFrom(...known), fc.integer({ min: 0, max: 255 }));
    const fields: fc.Arbitrary<Fields> = fc.record({
      execType: code(Object.values(ExecType)),
      state: code(Object.values(OrderState)),
      reason: fc.oneof(fc.constantFrom(...Object.values(Reason)), fc.integer({ min: 0, max: 65_535 })),
      orderId: fc.integer({ min: 0, max: 2 ** 40 }),
      eventSeq: fc.integer({ min: 0, max: 2 ** 40 }),
      side: fc.integer({ min: 0, max: 4 }),
      ordType: fc.integer({ min: 0, max: 4 }),
      tif: fc.integer({ min: 0, max: 6 }),
      symbolId: fc.integer({ min: 0, max: SYMBOLS.length + 1 }),
      venueId: fc.integer({ min: 0, max: VENUES.length + 1 }),
      qty: fc.integer({ min: 0, max: MAX_QTY }),
      priceTicks: fc.integer({ min: 0, max: MAX_PRICE_TICKS }),
      cumQty: fc.integer({ min: 0, max: 1_000_000 }),
      avgPxTicks: fc.integer({ min: -1_000 * PRICE_SCALE, max: 1_000_000 * PRICE_SCALE }),
      leavesQty: fc.integer({ min: 0, max: MAX_QTY }),
      lastQty: fc.integer({ min: 0, max: MAX_QTY }),
      lastPxTicks: fc.integer({ min: -MAX_PRICE_TICKS, max: MAX_PRICE_TICKS }),
      execRefSeq: fc.integer({ min: 0, max: 2 ** 40 }),
      clOrdId: printable,
      origClOrdId: fc.oneof(fc.constant(''), printable),
    });
    fc.assert(
      fc.property(fields, (f) => {
        const r = record(f);
        expect(written(r)).toBe(expected(r));
      }),
      { seed: 20261121, numRuns: 3000 },
    );
  });
});
