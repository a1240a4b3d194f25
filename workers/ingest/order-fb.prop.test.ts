// Goal: the binary edge is as strict as the JSON one and cannot be made to throw or to read
// outside a frame. Method: fast-check over (1) random client messages, valid or not, compared
// with the JSON path; (2) random bytes, with and without a valid header; (3) valid frames mutated
// by bit flips, truncation, insertion, deletion and overwritten offsets. Every byte the decoder
// reads goes through a Proxy that records any index outside the frame.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OrdType, Side, Tif } from '../../engine/domain.ts';
import { MAX_QTY } from '../../engine/fixed-point.ts';
import { Reason } from '../../engine/reasons.ts';
import type { ServerMessage } from './messages.ts';
import { decodeClientFrame, decodeFaultCount, decodeServerFrame, encodeClientFrame, encodeServerMessage, type ClientFrameInput } from './order-fb.ts';
import { validateClientMessage, type ClientCommand } from './order-json.ts';

const SYMBOLS = new Map([['AAPL', 1], ['MSFT', 2]]);
const EDGE_REASONS = new Set<number>(Object.values(Reason).filter((r) => r >= 100 && r < 200));
const RUNS = 2000;

/** A view of bytes that records every read of an index outside [0, length). */
function guarded(bytes: Uint8Array): { view: Uint8Array; outside: number[] } {
  const outside: number[] = [];
  const view = new Proxy(bytes, {
    get(target, prop) {
      if (typeof prop === 'string' && String(Number(prop)) === prop) {
        const i = Number(prop);
        if (!(Number.isInteger(i) && i >= 0 && i < target.length)) outside.push(i);
        return Reflect.get(target, prop, target);
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return { view, outside };
}

/** Decodes through the guard; checks no throw, no read outside, and a sane result. */
function decodeChecked(bytes: Uint8Array): ClientCommand {
  const { view, outside } = guarded(bytes);
  const command = decodeClientFrame(view, SYMBOLS);
  expect(outside).toEqual([]);
  if (command.kind === 'reject') {
    expect(EDGE_REASONS.has(command.reason)).toBe(true);
    expect(command.text.length).toBeGreaterThan(0);
  } else if (command.kind === 'new') {
    expect([...SYMBOLS.values()]).toContain(command.symbolId);
    expect(command.qty >= 1 && command.qty <= MAX_QTY).toBe(true);
  } else if (command.kind === 'cancel' || command.kind === 'replace') {
    expect(command.orderId > 0 || command.origClOrdId !== '').toBe(true);
  } else {
    expect(['subscribe', 'unsubscribe', 'positions', 'heartbeat']).toContain(command.kind);
  }
  return command;
}

const opt = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(arb, { nil: undefined });
const idArb = fc.oneof(fc.constantFrom('a1', 'x'.repeat(40), 'x'.repeat(41), '', 'a b'), fc.string({ unit: 'grapheme-ascii', maxLength: 42 }), fc.string({ unit: 'grapheme', maxLength: 4 }));
const qtyArb = fc.oneof(fc.integer({ min: 1, max: MAX_QTY }), fc.integer({ min: -3, max: 3 }), fc.constantFrom(MAX_QTY + 1, 2 ** 53 - 1, 2 ** 60, -(2 ** 63)));
const priceArb = fc.oneof(
  fc.tuple(fc.nat(10_000_000), fc.nat(9_999_999)).map(([units, frac]) => `${units}.${String(frac).padStart(7, '0').replace(/0+$/, '')}`.replace(/\.$/, '')),
  fc.constantFrom('0', '177.25', '-1', '1e3', '1.0000001', '', '.5', '5.'),
  fc.string({ maxLength: 26 }),
);
const enumArb = (names: string[]): fc.Arbitrary<string | number> => fc.oneof(fc.constantFrom(...names), fc.integer({ min: 0, max: 255 }));

const messageArb: fc.Arbitrary<ClientFrameInput> = fc.oneof(
  fc.record({
    type: fc.constant('new'), clOrdId: opt(idArb), symbol: opt(fc.constantFrom('AAPL', 'MSFT', 'NOPE', '')),
    side: opt(enumArb(['BUY', 'SELL'])), qty: opt(qtyArb), price: opt(priceArb),
    ordType: opt(enumArb(['LIMIT', 'MARKET'])), tif: opt(enumArb(['DAY', 'GTC', 'IOC', 'FOK'])),
  }),
  fc.record({
    type: fc.constantFrom('cancel', 'replace'), clOrdId: opt(idArb), origClOrdId: opt(idArb),
    orderId: opt(fc.oneof(fc.nat(), fc.constantFrom(2 ** 53, 2 ** 64 - 2 ** 11))), qty: opt(qtyArb), price: opt(priceArb),
  }),
  fc.constantFrom({ type: 'subscribe' }, { type: 'unsubscribe' }, { type: 'positions' }, { type: 'heartbeat' }, {}),
);

const mutationArb = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ op: fc.constant('offset' as const), at: fc.nat(), value: fc.oneof(fc.constantFrom(0, 1, 4, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff), fc.nat(512), fc.integer()) }),
);
type Mutation = typeof mutationArb extends fc.Arbitrary<infer M> ? M : never;

function mutate(frame: Uint8Array, mutations: Mutation[]): Uint8Array {
  let b = frame.slice();
  for (const m of mutations) {
    const at = b.length === 0 ? 0 : m.at % b.length;
    if (m.op === 'flip') b[at] ^= 1 << m.bit;
    else if (m.op === 'truncate') b = b.slice(0, at);
    else if (m.op === 'insert') b = Uint8Array.from([...b.subarray(0, at), ...m.bytes, ...b.subarray(at)]);
    else if (m.op === 'delete') b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + m.count)]);
    else if (b.length >= 4) new DataView(b.buffer).setUint32(Math.min(at & ~3, b.length - 4), m.value >>> 0, true);
  }
  return b;
}

/** The JSON message a binary one stands for: a known raw enum value is its name. */
function asJson(m: ClientFrameInput): object {
  const name = (names: Record<string, number>, v: string | number | undefined): string | number | undefined =>
    typeof v === 'number' ? Object.keys(names).find((k) => names[k] === v) ?? v : v;
  return JSON.parse(JSON.stringify({ ...m, side: name(Side, m.side), ordType: name(OrdType, m.ordType), tif: name(Tif, m.tif) }));
}

describe('client frames', () => {
  it('the guard itself sees reads outside the frame', () => {
    const { view, outside } = guarded(new Uint8Array(4));
    void [view[3], view[4], view[-1], view.subarray(0, 2)[1]];
    expect(outside).toEqual([4, -1]);
  });

  it('any message, valid or not, gives the command the JSON path gives', () => {
    fc.assert(fc.property(messageArb, (m) => {
      const expected = validateClientMessage(asJson(m), SYMBOLS);
      expect(decodeChecked(encodeClientFrame(m))).toStrictEqual(expected);
    }), { numRuns: RUNS });
  });

  it('random bytes never throw nor read outside the frame', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      decodeChecked(bytes);
    }), { numRuns: RUNS });
  });

  it('random bytes behind a valid header (root offset, "OEC1") never throw nor read outside', () => {
    const arb = fc.tuple(fc.integer({ min: 0, max: 64 }), fc.uint8Array({ minLength: 0, maxLength: 200 }));
    fc.assert(fc.property(arb, ([root, body]) => {
      const bytes = new Uint8Array(8 + body.length);
      bytes.set([root, 0, 0, 0, 0x4f, 0x45, 0x43, 0x31]);
      bytes.set(body, 8);
      decodeChecked(bytes);
    }), { numRuns: RUNS });
  });

  it('mutated valid frames never throw nor read outside, and yield a command or a reject code', () => {
    fc.assert(fc.property(messageArb, fc.array(mutationArb, { minLength: 1, maxLength: 4 }), (m, mutations) => {
      decodeChecked(mutate(encodeClientFrame(m), mutations));
    }), { numRuns: RUNS * 2 });
  });

  it('the catch-all in decodeClientFrame was never needed', () => {
    expect(decodeFaultCount()).toBe(0);
  });
});

describe('server frames', () => {
  const samples: ServerMessage[] = [
    { type: 'execution', execType: 'FILL', orderId: 7, clOrdId: 'a1', status: 'FILLED', symbol: 'AAPL', side: 'BUY', ordType: 'LIMIT', tif: 'DAY', qty: 100, price: '177.25', cumQty: 100, leavesQty: 0, avgPx: '177.2', eventSeq: 3, lastQty: 100, lastPx: '177.2', venue: 'XNAS', reason: 0, reasonName: 'NONE' },
    { type: 'execution', execType: 'TRADE_CANCEL', orderId: 7, clOrdId: 'a1', status: 'CANCELED', symbol: 'AAPL', side: 'BUY', ordType: 'LIMIT', tif: 'DAY', qty: 100, price: '177.25', cumQty: 40, leavesQty: 0, avgPx: '177.2', eventSeq: 4, lastQty: 60, lastPx: '177.2', venue: 'XNAS', execRefSeq: 3 },
    { type: 'positions', positions: [{ type: 'position', symbol: 'AAPL', qty: -3, avgPx: '1.5', realizedPnl: '0', eventSeq: 1 }, { type: 'position', symbol: 'MSFT', qty: 3, avgPx: null, realizedPnl: '2', eventSeq: 2 }] },
    { type: 'reject', clOrdId: 'a1', reason: Reason.INVALID_QTY, reasonName: 'INVALID_QTY', text: 'bad qty' },
    { type: 'hello', accountId: 1, connId: 2, heartbeatS: 30 },
  ];

  it('mutated server frames decode or throw a malformed-frame Error, never reading outside', () => {
    fc.assert(fc.property(fc.constantFrom(...samples), fc.array(mutationArb, { minLength: 1, maxLength: 4 }), (m, mutations) => {
      const { view, outside } = guarded(mutate(encodeServerMessage(m), mutations));
      try {
        decodeServerFrame(view);
      } catch (e) {
        expect(e).toBeInstanceOf(Error);
        expect((e as Error).message).toMatch(/^malformed FlatBuffers frame: /);
      }
      expect(outside).toEqual([]);
    }), { numRuns: RUNS });
  });
});
