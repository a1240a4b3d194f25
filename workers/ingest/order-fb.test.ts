/**
 * The FlatBuffers frames carry the JSON protocol's messages unchanged. Method: every client message
 * goes through both paths (JSON text -> validateClientMessage, and encodeClientFrame ->
 * decodeClientFrame) and the commands, refusals included, must be identical; every server message
 * must survive encode -> decode; hand-corrupted frames must be refused as MALFORMED.
 */

import { readFileSync } from 'node:fs';
import * as flatbuffers from 'flatbuffers';
import { describe, expect, it } from 'vitest';
import { ClientFrame, ClientMessage, Heartbeat as FbHeartbeat, NewOrder, Report, ServerFrame } from '../../codecs/fb/order-entry_generated.js';
import { Reason } from '../../engine/reasons.ts';
import type { ReportMessage, ServerMessage } from './messages.ts';
import {
  CLIENT_FILE_IDENTIFIER, INT64_IDS, TABLE_SPECS, decodeClientFrame, decodeFaultCount, decodeServerFrame, encodeClientFrame,
  encodeServerMessage, type ClientFrameInput, type TableSpec,
} from './order-fb.ts';
import { validateClientMessage, type ClientCommand } from './order-json.ts';

const SYMBOLS = new Map([['AAPL', 1], ['MSFT', 2]]);
const viaJson = (m: object): ClientCommand => validateClientMessage(JSON.parse(JSON.stringify(m)), SYMBOLS);
const viaFb = (m: ClientFrameInput): ClientCommand => decodeClientFrame(encodeClientFrame(m), SYMBOLS);
const u32 = (b: Uint8Array, p: number): number => (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
const u16 = (b: Uint8Array, p: number): number => b[p] | (b[p + 1] << 8);
const putU32 = (b: Uint8Array, p: number, v: number): void => new DataView(b.buffer, b.byteOffset).setUint32(p, v >>> 0, true);

const NEW: ClientFrameInput = { type: 'new', clOrdId: 'a1', symbol: 'AAPL', side: 'BUY', qty: 100, price: '177.25', ordType: 'LIMIT', tif: 'DAY' };

describe('client frames give the same command as the JSON path', () => {
  const cases: [string, ClientFrameInput][] = [
    ['new limit', NEW],
    ['new market IOC sell', { type: 'new', clOrdId: 'm1', symbol: 'MSFT', side: 'SELL', qty: 5, ordType: 'MARKET', tif: 'IOC' }],
    ['new with defaults (LIMIT, DAY)', { type: 'new', clOrdId: 'd1', symbol: 'AAPL', side: 'BUY', qty: 1, price: '0.000001' }],
    ['new GTC and FOK', { type: 'new', clOrdId: 'g1', symbol: 'AAPL', side: 'SELL', qty: 100_000_000, price: '10000000', tif: 'GTC' }],
    ['new FOK', { type: 'new', clOrdId: 'f1', symbol: 'AAPL', side: 'SELL', qty: 7, price: '1.5', tif: 'FOK' }],
    ['new with a number price', { type: 'new', clOrdId: 'n1', symbol: 'AAPL', side: 'BUY', qty: 7, price: 177.25 }],
    ['cancel by orderId', { type: 'cancel', clOrdId: 'c1', orderId: 42 }],
    ['cancel by origClOrdId', { type: 'cancel', clOrdId: 'c2', origClOrdId: 'a1' }],
    ['cancel with both: orderId wins', { type: 'cancel', clOrdId: 'c3', orderId: 9, origClOrdId: 'a1' }],
    ['replace qty only', { type: 'replace', clOrdId: 'r1', origClOrdId: 'a1', qty: 200 }],
    ['replace qty and price', { type: 'replace', clOrdId: 'r2', orderId: 2 ** 53 - 1, qty: 200, price: '177.20' }],
    ['subscribe', { type: 'subscribe' }],
    ['unsubscribe', { type: 'unsubscribe' }],
    ['positions', { type: 'positions' }],
    ['heartbeat', { type: 'heartbeat' }],
  ];
  it.each(cases)('%s', (_name, m) => {
    const command = viaFb(m);
    expect(command.kind).not.toBe('reject');
    expect(command).toStrictEqual(viaJson(m));
  });

  // fast-check counterexample: in a binary frame an enum is its value, so side 1 is BUY (in JSON
  // the number 1 is not a side).
  it('raw enum values are the names they stand for', () => {
    expect(viaFb({ ...NEW, side: 1, ordType: 2, tif: 0 })).toStrictEqual(viaJson(NEW));
  });
});

describe('client frames are refused with the reason codes of the JSON path', () => {
  // [name, JSON message, its binary form when the JSON form cannot be sent as is, expected reason]
  const long = 'x'.repeat(41);
  const cases: [string, object, ClientFrameInput | null, number][] = [
    ['no type (a binary frame has no clOrdId outside its message)', {}, null, Reason.MISSING_FIELD],
    ['new without clOrdId', { ...NEW, clOrdId: undefined }, null, Reason.MISSING_FIELD],
    ['new with an empty clOrdId', { ...NEW, clOrdId: '' }, null, Reason.INVALID_CL_ORD_ID],
    ['new with a 41-character clOrdId', { ...NEW, clOrdId: long }, null, Reason.INVALID_CL_ORD_ID],
    ['new with a space in clOrdId', { ...NEW, clOrdId: 'a 1' }, null, Reason.INVALID_CL_ORD_ID],
    ['new with a non-ASCII clOrdId', { ...NEW, clOrdId: 'é1' }, null, Reason.INVALID_CL_ORD_ID],
    ['new without symbol', { ...NEW, symbol: undefined }, null, Reason.MISSING_FIELD],
    ['new without side', { ...NEW, side: undefined }, null, Reason.MISSING_FIELD],
    ['new without qty', { ...NEW, qty: undefined }, null, Reason.MISSING_FIELD],
    ['new with an unknown symbol', { ...NEW, symbol: 'NOPE' }, null, Reason.UNKNOWN_SYMBOL],
    ['new with an empty symbol', { ...NEW, symbol: '' }, null, Reason.UNKNOWN_SYMBOL],
    ['new with an unknown side', { ...NEW, side: 'HOLD' }, { ...NEW, side: 7 }, Reason.INVALID_SIDE],
    ['new with side 0', { ...NEW, side: 'NONE' }, { ...NEW, side: 0 }, Reason.INVALID_SIDE],
    ['new with an unknown ordType', { ...NEW, ordType: 'STOP' }, { ...NEW, ordType: 3 }, Reason.INVALID_ORD_TYPE],
    ['new with an unknown tif', { ...NEW, tif: 'GTD' }, { ...NEW, tif: 6 }, Reason.INVALID_TIF],
    ['new with qty 0', { ...NEW, qty: 0 }, null, Reason.INVALID_QTY],
    ['new with a negative qty', { ...NEW, qty: -5 }, null, Reason.INVALID_QTY],
    ['new with qty above MAX_QTY', { ...NEW, qty: 100_000_001 }, null, Reason.INVALID_QTY],
    ['new with an unsafe qty', { ...NEW, qty: 2 ** 60 }, null, Reason.INVALID_QTY],
    ['new with the most negative qty', { ...NEW, qty: -(2 ** 63) }, null, Reason.INVALID_QTY],
    ['limit without price', { ...NEW, price: undefined }, null, Reason.MISSING_FIELD],
    ['price 0', { ...NEW, price: '0' }, null, Reason.INVALID_PRICE],
    ['negative price', { ...NEW, price: '-1' }, null, Reason.INVALID_PRICE],
    ['price not a number', { ...NEW, price: 'abc' }, null, Reason.INVALID_PRICE],
    ['empty price', { ...NEW, price: '' }, null, Reason.INVALID_PRICE],
    ['price finer than a tick', { ...NEW, price: '1.0000001' }, null, Reason.INVALID_PRICE],
    ['price in exponent form', { ...NEW, price: '1e3' }, null, Reason.INVALID_PRICE],
    ['price too large', { ...NEW, price: '10000000.000001' }, null, Reason.INVALID_PRICE],
    ['price string too long', { ...NEW, price: '1'.padEnd(25, '0') }, null, Reason.INVALID_PRICE],
    ['market order with a price', { ...NEW, ordType: 'MARKET' }, null, Reason.INVALID_PRICE],
    ['cancel without clOrdId', { type: 'cancel', orderId: 1 }, null, Reason.MISSING_FIELD],
    ['cancel with a bad clOrdId', { type: 'cancel', clOrdId: long, orderId: 1 }, null, Reason.INVALID_CL_ORD_ID],
    ['cancel naming no order', { type: 'cancel', clOrdId: 'c1' }, null, Reason.MISSING_FIELD],
    ['cancel with orderId 0', { type: 'cancel', clOrdId: 'c1', orderId: 0 }, null, Reason.INVALID_FIELD],
    ['cancel with an unsafe orderId', { type: 'cancel', clOrdId: 'c1', orderId: 2 ** 60 }, null, Reason.INVALID_FIELD],
    ['cancel with an empty origClOrdId', { type: 'cancel', clOrdId: 'c1', origClOrdId: '' }, null, Reason.INVALID_CL_ORD_ID],
    ['replace without qty', { type: 'replace', clOrdId: 'r1', orderId: 1 }, null, Reason.MISSING_FIELD],
    ['replace with qty 0', { type: 'replace', clOrdId: 'r1', orderId: 1, qty: 0 }, null, Reason.INVALID_QTY],
    ['replace with a bad price', { type: 'replace', clOrdId: 'r1', orderId: 1, qty: 5, price: '0' }, null, Reason.INVALID_PRICE],
  ];
  it.each(cases)('%s', (_name, json, fb, reason) => {
    const expected = viaJson(json);
    expect(expected).toMatchObject({ kind: 'reject', reason });
    expect(viaFb(fb ?? (json as ClientFrameInput))).toStrictEqual(expected);
  });

  it('a symbol nested 5,000 arrays deep is UNKNOWN_SYMBOL, described without stringifying it (deeper, that overflows the stack)', () => {
    const deep = JSON.parse('['.repeat(5000) + ']'.repeat(5000)) as unknown;
    const m = JSON.parse(JSON.stringify({ ...NEW, symbol: null })) as Record<string, unknown>;
    expect(validateClientMessage({ ...m, symbol: deep }, SYMBOLS)).toMatchObject({ kind: 'reject', reason: Reason.UNKNOWN_SYMBOL, text: 'unknown symbol (an array)' });
    expect(validateClientMessage({ ...m, symbol: { a: 1 } }, SYMBOLS)).toMatchObject({ reason: Reason.UNKNOWN_SYMBOL, text: 'unknown symbol (an object)' });
    expect(validateClientMessage({ ...m, symbol: 'NOPE' }, SYMBOLS)).toMatchObject({ reason: Reason.UNKNOWN_SYMBOL, text: 'unknown symbol "NOPE"' });
    expect(validateClientMessage({ ...m, symbol: 7 }, SYMBOLS)).toMatchObject({ reason: Reason.UNKNOWN_SYMBOL, text: 'unknown symbol 7' });
    const text = (validateClientMessage({ ...m, symbol: '\u0001'.repeat(100) }, SYMBOLS) as { text: string }).text;
    expect(text.length).toBe('unknown symbol '.length + 40);
  });

  it('an unknown message type is UNKNOWN_MESSAGE_TYPE in both', () => {
    const b = new flatbuffers.Builder(64);
    b.startObject(0);
    const body = b.endObject();
    ClientFrame.startClientFrame(b);
    ClientFrame.addMsgType(b, 42 as ClientMessage);
    ClientFrame.addMsg(b, body);
    b.finish(ClientFrame.endClientFrame(b), CLIENT_FILE_IDENTIFIER);
    const command = decodeClientFrame(b.asUint8Array(), SYMBOLS);
    expect(command).toMatchObject({ kind: 'reject', reason: Reason.UNKNOWN_MESSAGE_TYPE, text: 'unknown message type "ClientMessage(42)"' });
    expect(viaJson({ type: 'bogus' })).toMatchObject({ kind: 'reject', reason: Reason.UNKNOWN_MESSAGE_TYPE });
  });

  it('the encoder refuses what the binary form cannot express (the JSON path refuses it as invalid)', () => {
    expect(() => encodeClientFrame({ ...NEW, qty: 1.5 })).toThrow(/int64/);
    expect(() => encodeClientFrame({ ...NEW, side: 'HOLD' })).toThrow(/side/);
    expect(() => encodeClientFrame({ type: 'bogus' })).toThrow(/bogus/);
    expect(() => encodeClientFrame({ type: 'cancel', clOrdId: 'c1', orderId: -1 })).toThrow(/uint64/);
  });
});

describe('64-bit fields are written and read without BigInt, bit-compatible with the generated accessors', () => {
  it.each([0, 1, -1, 2 ** 32, -(2 ** 32) - 1, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 60, -(2 ** 63)])('qty %d', (qty) => {
    const frame = ClientFrame.getRootAsClientFrame(new flatbuffers.ByteBuffer(encodeClientFrame({ ...NEW, qty })));
    expect((frame.msg(new NewOrder()) as NewOrder).qty()).toBe(BigInt(qty));
  });

  it.each([0, 1, 2 ** 32 + 5, 2 ** 53 - 1, 2 ** 64 - 2 ** 11])('unsigned orderId and time %d', (v) => {
    const report: ServerMessage = { ...ACK, orderId: v, eventSeq: v };
    const r = ServerFrame.getRootAsServerFrame(new flatbuffers.ByteBuffer(encodeServerMessage(report))).msg(new Report()) as Report;
    expect([r.orderId(), r.eventSeq()]).toEqual([BigInt(v), BigInt(v)]);
    if (v <= 2 ** 53) {
      const hb = ServerFrame.getRootAsServerFrame(new flatbuffers.ByteBuffer(encodeServerMessage({ type: 'heartbeat', time: v }))).msg(new FbHeartbeat()) as FbHeartbeat;
      expect(hb.time()).toBe(BigInt(v));
    }
  });
});

const ACK: ReportMessage = {
  type: 'ack', execType: 'NEW', orderId: 7, clOrdId: 'a1', status: 'NEW', symbol: 'AAPL', side: 'BUY',
  ordType: 'LIMIT', tif: 'DAY', qty: 100, price: '177.25', cumQty: 0, leavesQty: 100, avgPx: null, eventSeq: 1,
};

describe('server messages survive encode -> decode', () => {
  const fill = { ...ACK, type: 'execution', execType: 'FILL', status: 'FILLED', cumQty: 100, leavesQty: 0, avgPx: '177.2', eventSeq: 3, lastQty: 100, lastPx: '177.2', venue: 'XNAS' } as const;
  const cases: [string, ServerMessage][] = [
    ['ack', ACK],
    ['fill with venue', fill],
    ['fill with no venue name', { ...fill, venue: null }],
    ['partial fill of a market order', { ...fill, execType: 'PARTIAL_FILL', status: 'PARTIALLY_FILLED', ordType: 'MARKET', price: null, cumQty: 40, leavesQty: 60, lastQty: 40 }],
    ['bust of a fill', { ...fill, execType: 'TRADE_CANCEL', status: 'CANCELED', cumQty: 40, lastQty: 60, execRefSeq: 2 }],
    ['correction of a fill', { ...fill, execType: 'TRADE_CORRECT', lastPx: '177.1', execRefSeq: 2 ** 53 - 1 }],
    ['replaced', { ...ACK, type: 'execution', execType: 'REPLACED', clOrdId: 'r1', origClOrdId: 'a1', qty: 2 ** 53 - 1, eventSeq: 2 ** 53 - 1 }],
    ['reject report', { ...ACK, type: 'reject', execType: 'REJECTED', status: 'REJECTED', reason: Reason.MAX_NOTIONAL_EXCEEDED, reasonName: 'MAX_NOTIONAL_EXCEEDED' }],
    ['cancel reject of an unknown order', {
      type: 'cancelReject', execType: 'CANCEL_REJECT', orderId: 0, clOrdId: 'c1', origClOrdId: 'zz', status: 'REJECTED',
      symbol: null, side: '', ordType: '', tif: 'DAY', qty: 0, price: null, cumQty: 0, leavesQty: 0, avgPx: null, eventSeq: 9,
      reason: Reason.UNKNOWN_ORDER, reasonName: 'UNKNOWN_ORDER',
    }],
    ['report with reason 0 (an optional scalar that is 0)', { ...ACK, type: 'execution', reason: 0, reasonName: 'NONE' }],
    ['edge reject', { type: 'reject', clOrdId: 'a1', reason: Reason.INVALID_QTY, reasonName: 'INVALID_QTY', text: 'qty must be a whole number' }],
    ['edge reject without clOrdId, non-ASCII text', { type: 'reject', clOrdId: '', reason: Reason.MALFORMED, reasonName: 'MALFORMED', text: 'prix € invalide' }],
    ['error', { type: 'error', reason: Reason.RATE_LIMITED, reasonName: 'RATE_LIMITED', text: 'slow down' }],
    ['hello', { type: 'hello', accountId: 3, connId: 4_000_000_000, heartbeatS: 30 }],
    ['position long', { type: 'position', symbol: 'AAPL', qty: 300, avgPx: '177.123456', realizedPnl: '12.5', eventSeq: 10 }],
    ['position short', { type: 'position', symbol: 'MSFT', qty: -(2 ** 53 - 1), avgPx: '1', realizedPnl: '-3', eventSeq: 11 }],
    ['position flat', { type: 'position', symbol: 'AAPL', qty: 0, avgPx: null, realizedPnl: '0', eventSeq: 12 }],
    ['positions empty', { type: 'positions', positions: [] }],
    ['positions', { type: 'positions', positions: [
      { type: 'position', symbol: 'AAPL', qty: 300, avgPx: '177.1', realizedPnl: '0', eventSeq: 1 },
      { type: 'position', symbol: 'MSFT', qty: -2, avgPx: null, realizedPnl: '-1.25', eventSeq: 2 },
    ] }],
    ['heartbeat', { type: 'heartbeat', time: 1_763_700_000_123 }],
    ['subscribed', { type: 'subscribed', subscribed: true }],
    ['unsubscribed', { type: 'subscribed', subscribed: false }],
  ];
  it.each(cases)('%s', (_name, m) => {
    expect(decodeServerFrame(encodeServerMessage(m))).toStrictEqual(m);
  });

  it('returns a view into the caller\'s builder, valid until its next use', () => {
    const b = new flatbuffers.Builder(16);
    const view = encodeServerMessage(ACK, b);
    expect(view.buffer).toBe(b.dataBuffer().bytes().buffer);
    const copy = view.slice();
    encodeServerMessage({ type: 'heartbeat', time: 1 }, b);
    expect(decodeServerFrame(copy)).toStrictEqual(ACK);
  });

  it('refuses numbers the frame cannot hold', () => {
    expect(() => encodeServerMessage({ type: 'hello', accountId: 1, connId: -1, heartbeatS: 30 })).toThrow(/connId/);
    expect(() => encodeServerMessage({ ...ACK, orderId: 1.5 })).toThrow(/uint64/);
  });
});

describe('malformed frames are refused as MALFORMED, never thrown', () => {
  const frame = encodeClientFrame({ ...NEW, clOrdId: 'ZZZZ' });
  const malformed = (bytes: Uint8Array, text: RegExp): void => {
    expect(decodeClientFrame(bytes, SYMBOLS)).toMatchObject({ kind: 'reject', reason: Reason.MALFORMED, clOrdId: '', text: expect.stringMatching(text) });
  };
  /** Where the NewOrder table starts: root table, its field 1 (the union value), then the offset. */
  function messagePos(b: Uint8Array): number {
    const root = u32(b, 0);
    const field = root + u16(b, root - u32(b, root) + 6);
    return field + u32(b, field);
  }
  const patched = (edit: (b: Uint8Array) => void): Uint8Array => {
    const b = frame.slice();
    edit(b);
    return b;
  };
  const clOrdIdAt = (b: Uint8Array): number => Buffer.from(b).indexOf('ZZZZ') - 4;

  it('every truncation that cuts data; cutting only the trailing alignment padding changes nothing', () => {
    const dataEnd = clOrdIdAt(frame) + 4 + 4 + 1; // clOrdId was written first, so it ends the frame
    expect(frame.length - dataEnd).toBeLessThan(4);
    for (let n = 0; n < dataEnd; n++) malformed(frame.subarray(0, n), /./);
    for (let n = dataEnd; n <= frame.length; n++) expect(decodeClientFrame(frame.subarray(0, n), SYMBOLS)).toStrictEqual(viaFb({ ...NEW, clOrdId: 'ZZZZ' }));
  });
  it('the wrong file identifier: a server frame, or garbage', () => {
    malformed(encodeServerMessage({ type: 'heartbeat', time: 1 }).slice(), /file identifier is not "OEC1"/);
    malformed(patched((b) => b.set([88, 88, 88, 88], 4)), /file identifier/);
    expect(() => decodeServerFrame(frame)).toThrow(/file identifier is not "OES1"/);
  });
  it('a root offset past the end, or zero', () => {
    malformed(patched((b) => putU32(b, 0, b.length)), /offset points outside/);
    malformed(patched((b) => putU32(b, 0, 0)), /offset points outside/);
  });
  it('a vtable outside the frame', () => {
    malformed(patched((b) => putU32(b, messagePos(b), -100_000)), /vtable/);
    malformed(patched((b) => putU32(b, messagePos(b), 100_000)), /vtable/);
  });
  it('a field offset outside its table, including one the runtime would read as negative', () => {
    const vtable = (b: Uint8Array): number => messagePos(b) - u32(b, messagePos(b));
    malformed(patched((b) => { b[vtable(b) + 4] = 0xfc; b[vtable(b) + 5] = 0x00; }), /field lies outside/);
    malformed(patched((b) => { b[vtable(b) + 4] = 0x04; b[vtable(b) + 5] = 0x80; }), /field lies outside/);
  });
  it('a string longer than the frame, or without its NUL', () => {
    malformed(patched((b) => putU32(b, clOrdIdAt(b), 0x7fff_ffff)), /string/);
    malformed(patched((b) => putU32(b, clOrdIdAt(b), 3)), /string/);
    malformed(patched((b) => { b[clOrdIdAt(b) + 8] = 65; }), /string/);
  });
  it('a message type without its message', () => {
    const b = new flatbuffers.Builder(64);
    ClientFrame.startClientFrame(b);
    ClientFrame.addMsgType(b, ClientMessage.NewOrder);
    b.finish(ClientFrame.endClientFrame(b), CLIENT_FILE_IDENTIFIER);
    malformed(b.asUint8Array(), /message is missing/);
  });
  it('a server frame with a bad vector is refused by decodeServerFrame', () => {
    const b = encodeServerMessage({ type: 'positions', positions: [{ type: 'position', symbol: 'AAPL', qty: 1, avgPx: null, realizedPnl: '0', eventSeq: 1 }] }).slice();
    const at = Buffer.from(b).indexOf(Buffer.from([1, 0, 0, 0])); // the vector's length, the first 1 in the frame
    putU32(b, at, 1000);
    expect(() => decodeServerFrame(b)).toThrow(/malformed/);
  });
  it('nothing above reached the catch-all', () => {
    expect(decodeFaultCount()).toBe(0);
  });
});

describe('the verifier specs match codecs/order-entry.fbs', () => {
  const schema = readFileSync(new URL('../../codecs/order-entry.fbs', import.meta.url), 'utf8').replace(/\/\/.*$/gm, '');
  const enumWidth = new Map([...schema.matchAll(/enum (\w+): (\w+)/g)].map(([, name, base]) => [name, base]));
  const unions = new Map([...schema.matchAll(/union (\w+) \{([^}]*)\}/g)].map(([, name, members]) => [name, members.split(',').map((s) => s.trim())]));
  const WIDTH: Record<string, number> = { bool: 1, byte: 1, ubyte: 1, short: 2, ushort: 2, int: 4, uint: 4, long: 8, ulong: 8 };
  const tables = [...schema.matchAll(/table (\w+) \{([^}]*)\}/g)];

  it('names every table', () => {
    expect(Object.keys(TABLE_SPECS).sort()).toEqual(tables.map(([, name]) => name).sort());
  });
  it.each(tables.map(([, name, body]) => [name, body]))('%s', (name, body) => {
    const spec: TableSpec = TABLE_SPECS[name];
    const fields = [...body.matchAll(/(\w+): (\[?\w+\]?)(?: = \w+)? \(id: (\d+)\);/g)];
    expect(fields.length).toBe(body.split(';').length - 1); // every field has an explicit id
    let count = 0;
    for (const [, , type, idText] of fields) {
      const id = Number(idText);
      const f = spec.fields[id];
      if (unions.has(type)) {
        expect(spec.fields[id - 1]).toBe(1);
        expect(f).toMatchObject({ kind: 'union' });
        const members = (f as { members: readonly (TableSpec | undefined)[] }).members;
        unions.get(type)!.forEach((member, i) => expect(members[i + 1]).toBe(TABLE_SPECS[member]));
        count += 2;
        continue;
      }
      const vector = /^\[(\w+)\]$/.exec(type);
      if (type === 'string') expect(f).toBe('string');
      else if (vector !== null) expect(f).toEqual({ kind: 'vector', of: TABLE_SPECS[vector[1]] });
      else if (TABLE_SPECS[type] !== undefined) expect(f).toBe(TABLE_SPECS[type]);
      else expect(f).toBe(WIDTH[enumWidth.get(type) ?? type]);
      count++;
    }
    expect(spec.fields.length).toBe(count);
  });
  it('names the id of every 64-bit field', () => {
    const int64 = tables.flatMap(([, name, body]) =>
      [...body.matchAll(/(\w+): u?long(?: = \w+)? \(id: (\d+)\);/g)].map(([, field, id]) => [`${name}.${field}`, Number(id)]));
    expect(Object.fromEntries(int64)).toEqual(INT64_IDS);
  });
});
