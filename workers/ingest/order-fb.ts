/**
 * The FlatBuffers order-entry protocol (WebSocket binary frames, schema codecs/order-entry.fbs):
 * the same messages as the JSON text frames, validated by the same code.
 *
 *   client bytes --verifyFrame--> generated accessors --> JSON-shaped object
 *                --validateClientMessage (order-json.ts)--> ClientCommand
 *   ServerMessage --encodeServerMessage (one reused Builder)--> server frame bytes
 *
 * The flatbuffers JS runtime has no verifier and its accessors trust every offset, so a frame is
 * walked once by verifyFrame below before any accessor runs: every vtable, table, field, string
 * and vector it could touch must lie inside the frame. A frame that fails becomes an EdgeReject
 * with Reason.MALFORMED; nothing a client sends can throw out of decodeClientFrame.
 *
 * 64-bit integers are read and written here as two 32-bit halves: the generated 2.0.x accessors
 * use BigInt, which the hot path does not allocate. A value beyond 2^53 reads as an unsafe number,
 * which validation refuses like an unsafe JSON number.
 */

import * as flatbuffers from 'flatbuffers';
import {
  Cancel, ClientFrame, ClientMessage, EdgeReject as FbEdgeReject, Fill, Heartbeat, Hello, NewOrder,
  OrdType as FbOrdType, Position, Positions, Replace, Report, ReportType, ServerError, ServerFrame,
  ServerMessage as FbServerMessage, Side as FbSide, Subscribed, Tif as FbTif,
} from '../../codecs/fb/order-entry_generated.js';
import { OrdType, Side, Tif } from '../../engine/domain.ts';
import { Reason } from '../../engine/reasons.ts';
import type { HelloMessage, PositionMessage, PositionsMessage, ReportMessage, ServerMessage } from './messages.ts';
import { validateClientMessage, type ClientCommand, type EdgeReject } from './order-json.ts';

/** File identifiers (bytes 4..7): a frame of the wrong direction is refused before it is read. */
export const CLIENT_FILE_IDENTIFIER = 'OEC1';
export const SERVER_FILE_IDENTIFIER = 'OES1';

// ---- Verifier ---------------------------------------------------------------------------------
// A spec lists what each field id of a table holds, in schema id order: a number is a scalar's
// byte width, 'string' a string, and the rest name what the field's offset points at.

type FieldSpec = number | 'string' | TableSpec | VectorSpec | UnionSpec;
export interface TableSpec { readonly kind: 'table'; readonly fields: readonly FieldSpec[] }
interface VectorSpec { readonly kind: 'vector'; readonly of: TableSpec }
/** members[unionType]; a union's type is the field just before it. */
interface UnionSpec { readonly kind: 'union'; readonly members: readonly (TableSpec | undefined)[] }

const table = (fields: FieldSpec[]): TableSpec => ({ kind: 'table', fields });
const vectorOf = (of: TableSpec): VectorSpec => ({ kind: 'vector', of });
function union(pairs: [number, TableSpec][]): UnionSpec {
  const members: (TableSpec | undefined)[] = [];
  for (const [type, spec] of pairs) members[type] = spec;
  return { kind: 'union', members };
}

const S = 'string';
const NEW_ORDER = table([S, S, 1, 8, S, 1, 1]);
const CANCEL = table([S, S, 8]);
const REPLACE = table([S, S, 8, 8, S]);
const EMPTY = table([]);
const HEARTBEAT = table([8]);
const HELLO = table([4, 4, 4]);
const FILL = table([8, S, S, 8]);
const REPORT = table([1, S, 8, S, S, S, S, S, S, S, 8, S, 8, 8, S, 8, FILL, 2, S]);
const EDGE_REJECT = table([S, 2, S, S]);
const SERVER_ERROR = table([2, S, S]);
const POSITION = table([S, 8, S, S, 8]);
const POSITIONS = table([vectorOf(POSITION)]);
const SUBSCRIBED = table([1]);
const CLIENT_FRAME = table([1, union([
  [ClientMessage.NewOrder, NEW_ORDER], [ClientMessage.Cancel, CANCEL], [ClientMessage.Replace, REPLACE],
  [ClientMessage.Subscribe, EMPTY], [ClientMessage.Unsubscribe, EMPTY], [ClientMessage.PositionsRequest, EMPTY],
  [ClientMessage.Heartbeat, HEARTBEAT],
])]);
const SERVER_FRAME = table([1, union([
  [FbServerMessage.Hello, HELLO], [FbServerMessage.Report, REPORT], [FbServerMessage.EdgeReject, EDGE_REJECT],
  [FbServerMessage.ServerError, SERVER_ERROR], [FbServerMessage.Position, POSITION], [FbServerMessage.Positions, POSITIONS],
  [FbServerMessage.Heartbeat, HEARTBEAT], [FbServerMessage.Subscribed, SUBSCRIBED],
])]);

/** Every table of the schema by name, for the test that checks these specs against codecs/order-entry.fbs. */
export const TABLE_SPECS: Readonly<Record<string, TableSpec>> = {
  NewOrder: NEW_ORDER, Cancel: CANCEL, Replace: REPLACE, Subscribe: EMPTY, Unsubscribe: EMPTY, PositionsRequest: EMPTY,
  Heartbeat: HEARTBEAT, ClientFrame: CLIENT_FRAME, Hello: HELLO, Fill: FILL, Report: REPORT, EdgeReject: EDGE_REJECT,
  ServerError: SERVER_ERROR, Position: POSITION, Positions: POSITIONS, Subscribed: SUBSCRIBED, ServerFrame: SERVER_FRAME,
};

const M = 'malformed FlatBuffers frame: ';
const E_SHORT = `${M}shorter than 8 bytes`;
const E_OFFSET = `${M}an offset points outside the frame`;
const E_VTABLE = `${M}a vtable lies outside the frame or is malformed`;
const E_TABLE = `${M}a table lies outside the frame`;
const E_FIELD = `${M}a field lies outside its table`;
const E_STRING = `${M}a string runs past the end of the frame or lacks its NUL`;
const E_VECTOR = `${M}a vector runs past the end of the frame`;
const E_NO_VALUE = `${M}the message type is set but the message is missing`;
const E_CLIENT_ID = `${M}file identifier is not "${CLIENT_FILE_IDENTIFIER}" (a client frame)`;
const E_SERVER_ID = `${M}file identifier is not "${SERVER_FILE_IDENTIFIER}" (a server frame)`;

const INT16_MAX = 0x7fff;
const u16 = (b: Uint8Array, p: number): number => b[p] | (b[p + 1] << 8);
const i32 = (b: Uint8Array, p: number): number => b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24);

/** Checks a whole frame before any read; returns '' when sound, else why not. Allocates nothing. */
function verifyFrame(b: Uint8Array, identifier: string, root: TableSpec, wrongIdText: string): string {
  if (b.length < 8) return E_SHORT;
  for (let i = 0; i < 4; i++) if (b[4 + i] !== identifier.charCodeAt(i)) return wrongIdText;
  const pos = follow(b, 0);
  return pos < 0 ? E_OFFSET : verifyTable(b, pos, root);
}

/** Where the uoffset at p points, or -1 when it is zero, negative as an int32, or leaves no 4 bytes. */
function follow(b: Uint8Array, p: number): number {
  const offset = i32(b, p);
  if (offset <= 0) return -1;
  const target = p + offset;
  return target + 4 <= b.length ? target : -1;
}

/**
 * Checks a table and every field its spec names. Vtable entries above 0x7fff are refused: the
 * flatbuffers JS runtime reads them as int16, so it would look somewhere this check did not.
 */
function verifyTable(b: Uint8Array, pos: number, spec: TableSpec): string {
  const vt = pos - i32(b, pos);
  if (vt < 0 || vt + 4 > b.length) return E_VTABLE;
  const vtSize = u16(b, vt);
  const size = u16(b, vt + 2);
  if (vtSize < 4 || vtSize > INT16_MAX || (vtSize & 1) !== 0 || vt + vtSize > b.length) return E_VTABLE;
  if (size < 4 || pos + size > b.length) return E_TABLE;
  const fields = spec.fields;
  for (let id = 0; id < fields.length && 4 + 2 * id < vtSize; id++) {
    const o = u16(b, vt + 4 + 2 * id);
    if (o === 0) continue;
    const f = fields[id];
    if (o < 4 || o > INT16_MAX || o + (typeof f === 'number' ? f : 4) > size) return E_FIELD;
    if (typeof f === 'number') continue;
    const target = follow(b, pos + o);
    if (target < 0) return E_OFFSET;
    const why = f === S ? verifyString(b, target)
      : f.kind === 'table' ? verifyTable(b, target, f)
      : f.kind === 'vector' ? verifyVector(b, target, f.of)
      : verifyUnion(b, target, f, fieldByte(b, pos, vt, vtSize, id - 1));
    if (why !== '') return why;
  }
  return '';
}

/** A one-byte field already checked to lie in its table (a union's type), 0 when absent. */
function fieldByte(b: Uint8Array, pos: number, vt: number, vtSize: number, id: number): number {
  const slot = 4 + 2 * id;
  const o = id >= 0 && slot < vtSize ? u16(b, vt + slot) : 0;
  return o === 0 ? 0 : b[pos + o];
}

function verifyString(b: Uint8Array, p: number): string {
  const length = i32(b, p) >>> 0;
  if (length > b.length - p - 5) return E_STRING;
  return b[p + 4 + length] === 0 ? '' : E_STRING;
}

function verifyVector(b: Uint8Array, p: number, of: TableSpec): string {
  const n = i32(b, p) >>> 0;
  if (n > (b.length - p - 4) / 4) return E_VECTOR;
  for (let k = 0; k < n; k++) {
    const target = follow(b, p + 4 + 4 * k);
    if (target < 0) return E_OFFSET;
    const why = verifyTable(b, target, of);
    if (why !== '') return why;
  }
  return '';
}

/** An unknown member type is not read, so not verified: the decoder refuses it by type. */
function verifyUnion(b: Uint8Array, p: number, u: UnionSpec, type: number): string {
  const member = u.members[type];
  return member === undefined ? '' : verifyTable(b, p, member);
}

// ---- 64-bit fields without BigInt --------------------------------------------------------------

/** Ids of the 64-bit fields (schema names), which this module reads and writes itself. */
export const INT64_IDS = {
  'NewOrder.qty': 3, 'Cancel.order_id': 2, 'Replace.order_id': 2, 'Replace.qty': 3, 'Heartbeat.time': 0,
  'Fill.last_qty': 0, 'Fill.exec_ref_seq': 3, 'Report.order_id': 2, 'Report.qty': 10, 'Report.cum_qty': 12, 'Report.leaves_qty': 13,
  'Report.event_seq': 15, 'Position.qty': 1, 'Position.event_seq': 4,
} as const;
const ID = INT64_IDS;
const TWO_32 = 0x1_0000_0000;
const TWO_63 = 2 ** 63;
interface FbTable { bb: flatbuffers.ByteBuffer | null; bb_pos: number }

/** Field `id` of a (verified) table as a number, undefined when absent. Exact below 2^53. */
function readInt64(t: FbTable, id: number, signed: boolean): number | undefined {
  const bb = t.bb!;
  const o = bb.__offset(t.bb_pos, 4 + 2 * id);
  if (o === 0) return undefined;
  const p = t.bb_pos + o;
  const high = signed ? bb.readInt32(p + 4) : bb.readUint32(p + 4);
  return high * TWO_32 + bb.readUint32(p);
}

/** Adds field `id` as an int64 (signed) or uint64 from an integer number; written even when 0. */
function addInt64(b: flatbuffers.Builder, id: number, value: number, signed: boolean): void {
  if (!Number.isInteger(value) || value >= (signed ? TWO_63 : 2 * TWO_63) || value < (signed ? -TWO_63 : 0)) {
    throw new Error(`Condition failed: field ${id} holds an integer that fits in ${signed ? 'int64' : 'uint64'}`);
  }
  const high = Math.floor(value / TWO_32);
  b.prep(8, 0);
  b.writeInt32(high | 0); // the builder writes downwards: high word first, at the higher address
  b.writeInt32(value - high * TWO_32);
  b.slot(id);
}

// ---- Client frames ---------------------------------------------------------------------------

// Enum values are the FIX values of engine/domain.ts; checked once at load.
for (const [name, v] of Object.entries(Side)) if (FbSide[name as keyof typeof FbSide] !== v) throw new Error(`Invariant: Side.${name}`);
for (const [name, v] of Object.entries(OrdType)) if (FbOrdType[name as keyof typeof FbOrdType] !== v) throw new Error(`Invariant: OrdType.${name}`);
for (const [name, v] of Object.entries(Tif)) if (FbTif[name as keyof typeof FbTif] !== v) throw new Error(`Invariant: Tif.${name}`);

function namesByValue(values: Record<string, number>): string[] {
  const names: string[] = [];
  for (const [name, v] of Object.entries(values)) names[v] = name;
  return names;
}
const SIDE_NAMES = namesByValue(Side);
const ORD_TYPE_NAMES = namesByValue(OrdType);
const TIF_NAMES = namesByValue(Tif);

/** A name for validation: absent stays undefined, an unknown value stays a number (refused). */
function enumName(names: string[], v: number | null): string | number | undefined {
  return v === null ? undefined : names[v] ?? v;
}

// One flyweight per table, re-pointed per frame (decoding is synchronous).
const clientFrame = new ClientFrame();
const newOrderFly = new NewOrder();
const cancelFly = new Cancel();
const replaceFly = new Replace();
const anyFly = new Heartbeat();
const NO_TYPE = {};
const CONTROL_MESSAGES: Record<number, object> = {
  [ClientMessage.Subscribe]: { type: 'subscribe' },
  [ClientMessage.Unsubscribe]: { type: 'unsubscribe' },
  [ClientMessage.PositionsRequest]: { type: 'positions' },
  [ClientMessage.Heartbeat]: { type: 'heartbeat' },
};

let faults = 0;
/** Exceptions caught inside decodeClientFrame since load: 0 unless the verifier missed something. */
export function decodeFaultCount(): number {
  return faults;
}

function malformed(text: string): EdgeReject {
  return { kind: 'reject', reason: Reason.MALFORMED, text, clOrdId: '' };
}

/**
 * Verifies and validates one client frame into a command, with the reason codes of the JSON path.
 * Never throws. Allocates: a ByteBuffer (with its TextDecoder), the strings, one JSON-shaped
 * object, and what validateClientMessage allocates.
 */
export function decodeClientFrame(bytes: Uint8Array, symbols: Map<string, number>): ClientCommand {
  try {
    const why = verifyFrame(bytes, CLIENT_FILE_IDENTIFIER, CLIENT_FRAME, E_CLIENT_ID);
    if (why !== '') return malformed(why);
    const msg = clientFrameToObject(new flatbuffers.ByteBuffer(bytes));
    return msg === null ? malformed(E_NO_VALUE) : validateClientMessage(msg, symbols);
  } catch (e) {
    faults++;
    return malformed(M + String(e instanceof Error ? e.message : e));
  }
}

/** The JSON shape of a verified frame (absent fields stay undefined), or null when the union value is missing. */
function clientFrameToObject(bb: flatbuffers.ByteBuffer): object | null {
  const frame = ClientFrame.getRootAsClientFrame(bb, clientFrame);
  const type = frame.msgType();
  if (type === ClientMessage.NONE) return NO_TYPE;
  if (type === ClientMessage.NewOrder) {
    const t: NewOrder | null = frame.msg(newOrderFly);
    return t === null ? null : {
      type: 'new', clOrdId: t.clOrdId() ?? undefined, symbol: t.symbol() ?? undefined,
      side: enumName(SIDE_NAMES, t.side()), qty: readInt64(t, ID['NewOrder.qty'], true), price: t.price() ?? undefined,
      ordType: enumName(ORD_TYPE_NAMES, t.ordType()), tif: enumName(TIF_NAMES, t.tif()),
    };
  }
  if (type === ClientMessage.Cancel) {
    const t: Cancel | null = frame.msg(cancelFly);
    return t === null ? null : { type: 'cancel', clOrdId: t.clOrdId() ?? undefined, origClOrdId: t.origClOrdId() ?? undefined, orderId: readInt64(t, ID['Cancel.order_id'], false) };
  }
  if (type === ClientMessage.Replace) {
    const t: Replace | null = frame.msg(replaceFly);
    return t === null ? null : {
      type: 'replace', clOrdId: t.clOrdId() ?? undefined, origClOrdId: t.origClOrdId() ?? undefined,
      orderId: readInt64(t, ID['Replace.order_id'], false), qty: readInt64(t, ID['Replace.qty'], true), price: t.price() ?? undefined,
    };
  }
  const control = CONTROL_MESSAGES[type];
  if (control !== undefined) return frame.msg(anyFly) === null ? null : control;
  return { type: `ClientMessage(${type})` }; // a type this server does not know: UNKNOWN_MESSAGE_TYPE
}

/** A client message in the JSON shape; enum fields take their names or a raw number (tests). */
export interface ClientFrameInput {
  type?: string;
  clOrdId?: string;
  origClOrdId?: string;
  orderId?: number;
  symbol?: string;
  side?: string | number;
  qty?: number;
  price?: string | number;
  ordType?: string | number;
  tif?: string | number;
}

const clientBuilder = new flatbuffers.Builder(256);

/**
 * Encodes a client message (tests and the benchmark client). A number price is sent as its
 * decimal text. Throws on what the binary format cannot express (an unknown type or enum name, a
 * fractional quantity). Returns a copy; allocates freely.
 */
export function encodeClientFrame(msg: ClientFrameInput): Uint8Array {
  const b = clientBuilder;
  b.clear();
  b.forceDefaults(true); // optional scalars: a 0 value must still be written
  let type: number = ClientMessage.NONE;
  let body = 0;
  if (msg.type === 'new') [type, body] = [ClientMessage.NewOrder, encodeNewOrder(b, msg)];
  else if (msg.type === 'cancel') [type, body] = [ClientMessage.Cancel, encodeCancel(b, msg)];
  else if (msg.type === 'replace') [type, body] = [ClientMessage.Replace, encodeReplace(b, msg)];
  else if (msg.type !== undefined) [type, body] = encodeControl(b, msg.type);
  ClientFrame.startClientFrame(b);
  if (type !== ClientMessage.NONE) {
    ClientFrame.addMsgType(b, type);
    ClientFrame.addMsg(b, body);
  }
  b.finish(ClientFrame.endClientFrame(b), CLIENT_FILE_IDENTIFIER);
  return b.asUint8Array().slice();
}

/**
 * Builder.createString without its TextEncoder, which costs about 0.4 µs a call here (most of a
 * report's encoding time) and allocates: ASCII text is written byte by byte, in the runtime's
 * layout (NUL, bytes, length); any other text goes through the runtime.
 */
function createString(b: flatbuffers.Builder, s: string): number {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return b.createString(s);
  b.addInt8(0);
  b.startVector(1, s.length, 1);
  for (let i = s.length - 1; i >= 0; i--) b.writeInt8(s.charCodeAt(i)); // the builder writes downwards
  return b.endVector();
}

/** A string's offset, or 0 (not added) for undefined and null; a number is sent as its text. */
const optString = (b: flatbuffers.Builder, s: string | number | null | undefined): number =>
  s === undefined || s === null ? 0 : createString(b, typeof s === 'string' ? s : String(s));

function enumValue(names: string[], v: string | number | undefined, field: string): number | undefined {
  if (v === undefined || typeof v === 'number') return v;
  const value = names.indexOf(v);
  if (value < 0) throw new Error(`Condition failed: ${field} ${JSON.stringify(v)} has a binary value`);
  return value;
}

function encodeNewOrder(b: flatbuffers.Builder, m: ClientFrameInput): number {
  const cl = optString(b, m.clOrdId);
  const symbol = optString(b, m.symbol);
  const price = optString(b, m.price);
  const side = enumValue(SIDE_NAMES, m.side, 'side');
  const ordType = enumValue(ORD_TYPE_NAMES, m.ordType, 'ordType');
  const tif = enumValue(TIF_NAMES, m.tif, 'tif');
  NewOrder.startNewOrder(b);
  if (cl !== 0) NewOrder.addClOrdId(b, cl);
  if (symbol !== 0) NewOrder.addSymbol(b, symbol);
  if (side !== undefined) NewOrder.addSide(b, side);
  if (m.qty !== undefined) addInt64(b, ID['NewOrder.qty'], m.qty, true);
  if (price !== 0) NewOrder.addPrice(b, price);
  if (ordType !== undefined) NewOrder.addOrdType(b, ordType);
  if (tif !== undefined) NewOrder.addTif(b, tif);
  return NewOrder.endNewOrder(b);
}

function encodeCancel(b: flatbuffers.Builder, m: ClientFrameInput): number {
  const cl = optString(b, m.clOrdId);
  const orig = optString(b, m.origClOrdId);
  Cancel.startCancel(b);
  if (cl !== 0) Cancel.addClOrdId(b, cl);
  if (orig !== 0) Cancel.addOrigClOrdId(b, orig);
  if (m.orderId !== undefined) addInt64(b, ID['Cancel.order_id'], m.orderId, false);
  return Cancel.endCancel(b);
}

function encodeReplace(b: flatbuffers.Builder, m: ClientFrameInput): number {
  const cl = optString(b, m.clOrdId);
  const orig = optString(b, m.origClOrdId);
  const price = optString(b, m.price);
  Replace.startReplace(b);
  if (cl !== 0) Replace.addClOrdId(b, cl);
  if (orig !== 0) Replace.addOrigClOrdId(b, orig);
  if (m.orderId !== undefined) addInt64(b, ID['Replace.order_id'], m.orderId, false);
  if (m.qty !== undefined) addInt64(b, ID['Replace.qty'], m.qty, true);
  if (price !== 0) Replace.addPrice(b, price);
  return Replace.endReplace(b);
}

function encodeControl(b: flatbuffers.Builder, type: string): [number, number] {
  for (const [t, msg] of Object.entries(CONTROL_MESSAGES)) {
    if ((msg as { type: string }).type !== type) continue;
    b.startObject(0);
    return [Number(t), b.endObject()];
  }
  throw new Error(`Condition failed: message type ${JSON.stringify(type)} has a binary form`);
}

// ---- Server frames ---------------------------------------------------------------------------

const REPORT_TYPES: Record<ReportMessage['type'], ReportType> = {
  ack: ReportType.ACK, execution: ReportType.EXECUTION, reject: ReportType.REJECT, cancelReject: ReportType.CANCEL_REJECT,
};
const REPORT_TYPE_NAMES = namesByValue(REPORT_TYPES) as ReportMessage['type'][];
const serverBuilder = new flatbuffers.Builder(1024);

function isReport(msg: ServerMessage): msg is ReportMessage {
  return msg.type === 'ack' || msg.type === 'execution' || msg.type === 'cancelReject' || (msg.type === 'reject' && 'execType' in msg);
}

/**
 * Encodes any server message into a server frame. Reuses `builder` (clear() per message) and
 * returns a view into it, valid until the builder's next use: send it at once (uWebSockets.js
 * copies on send). Allocates the returned view, the Builder's per-message vtable list (cleared
 * by clear()), a TextEncoder array per non-ASCII string, and for a positions snapshot one offset
 * array; no BigInt. The Builder grows once to the largest frame and keeps that size.
 */
export function encodeServerMessage(msg: ServerMessage, builder: flatbuffers.Builder = serverBuilder): Uint8Array {
  const b = builder;
  b.clear();
  b.forceDefaults(true); // optional scalars (reason) keep a 0; absent fields are simply not added
  const body = encodeServerBody(b, msg);
  ServerFrame.startServerFrame(b);
  ServerFrame.addMsgType(b, serverMessageType(msg));
  ServerFrame.addMsg(b, body);
  b.finish(ServerFrame.endServerFrame(b), SERVER_FILE_IDENTIFIER);
  return b.asUint8Array();
}

function serverMessageType(msg: ServerMessage): FbServerMessage {
  if (isReport(msg)) return FbServerMessage.Report;
  switch (msg.type) {
    case 'reject': return FbServerMessage.EdgeReject;
    case 'error': return FbServerMessage.ServerError;
    case 'hello': return FbServerMessage.Hello;
    case 'position': return FbServerMessage.Position;
    case 'positions': return FbServerMessage.Positions;
    case 'heartbeat': return FbServerMessage.Heartbeat;
    case 'subscribed': return FbServerMessage.Subscribed;
  }
}

function encodeServerBody(b: flatbuffers.Builder, msg: ServerMessage): number {
  if (isReport(msg)) return encodeReport(b, msg);
  switch (msg.type) {
    case 'reject': return FbEdgeReject.createEdgeReject(b, createString(b, msg.clOrdId), msg.reason, createString(b, msg.reasonName), createString(b, msg.text));
    case 'error': return ServerError.createServerError(b, msg.reason, createString(b, msg.reasonName), createString(b, msg.text));
    case 'hello': return encodeHello(b, msg);
    case 'position': return encodePosition(b, msg);
    case 'positions': return encodePositions(b, msg);
    case 'heartbeat': return encodeHeartbeat(b, msg.time);
    case 'subscribed': return Subscribed.createSubscribed(b, msg.subscribed);
  }
}

/** Strings first (a table is built without nesting), then the fields in id order. */
function encodeReport(b: flatbuffers.Builder, r: ReportMessage): number {
  const execType = createString(b, r.execType);
  const cl = createString(b, r.clOrdId);
  const orig = optString(b, r.origClOrdId);
  const status = createString(b, r.status);
  const symbol = optString(b, r.symbol);
  const side = optString(b, r.side);
  const ordType = optString(b, r.ordType);
  const tif = optString(b, r.tif);
  const price = optString(b, r.price);
  const avgPx = optString(b, r.avgPx);
  const reasonName = optString(b, r.reasonName);
  const fill = r.lastQty !== undefined || r.lastPx !== undefined || r.venue !== undefined || r.execRefSeq !== undefined ? encodeFill(b, r) : 0;
  Report.startReport(b);
  Report.addType(b, REPORT_TYPES[r.type]);
  Report.addExecType(b, execType);
  addInt64(b, ID['Report.order_id'], r.orderId, false);
  Report.addClOrdId(b, cl);
  if (orig !== 0) Report.addOrigClOrdId(b, orig);
  Report.addStatus(b, status);
  if (symbol !== 0) Report.addSymbol(b, symbol);
  if (side !== 0) Report.addSide(b, side);
  if (ordType !== 0) Report.addOrdType(b, ordType);
  if (tif !== 0) Report.addTif(b, tif);
  addInt64(b, ID['Report.qty'], r.qty, true);
  if (price !== 0) Report.addPrice(b, price);
  addInt64(b, ID['Report.cum_qty'], r.cumQty, true);
  addInt64(b, ID['Report.leaves_qty'], r.leavesQty, true);
  if (avgPx !== 0) Report.addAvgPx(b, avgPx);
  addInt64(b, ID['Report.event_seq'], r.eventSeq, false);
  if (fill !== 0) Report.addFill(b, fill);
  if (r.reason !== undefined) Report.addReason(b, r.reason);
  if (reasonName !== 0) Report.addReasonName(b, reasonName);
  return Report.endReport(b);
}

function encodeFill(b: flatbuffers.Builder, r: ReportMessage): number {
  const lastPx = optString(b, r.lastPx);
  const venue = optString(b, r.venue);
  Fill.startFill(b);
  if (r.lastQty !== undefined) addInt64(b, ID['Fill.last_qty'], r.lastQty, true);
  if (lastPx !== 0) Fill.addLastPx(b, lastPx);
  if (venue !== 0) Fill.addVenue(b, venue);
  if (r.execRefSeq !== undefined) addInt64(b, ID['Fill.exec_ref_seq'], r.execRefSeq, false);
  return Fill.endFill(b);
}

function encodeHello(b: flatbuffers.Builder, m: HelloMessage): number {
  if (m.accountId >>> 0 !== m.accountId) throw new Error('Condition failed: accountId is a uint32');
  if (m.connId >>> 0 !== m.connId) throw new Error('Condition failed: connId is a uint32');
  if (m.heartbeatS >>> 0 !== m.heartbeatS) throw new Error('Condition failed: heartbeatS is a uint32');
  return Hello.createHello(b, m.accountId, m.connId, m.heartbeatS);
}

function encodePosition(b: flatbuffers.Builder, p: PositionMessage): number {
  const symbol = createString(b, p.symbol);
  const avgPx = optString(b, p.avgPx);
  const pnl = createString(b, p.realizedPnl);
  Position.startPosition(b);
  Position.addSymbol(b, symbol);
  addInt64(b, ID['Position.qty'], p.qty, true);
  if (avgPx !== 0) Position.addAvgPx(b, avgPx);
  Position.addRealizedPnl(b, pnl);
  addInt64(b, ID['Position.event_seq'], p.eventSeq, false);
  return Position.endPosition(b);
}

function encodePositions(b: flatbuffers.Builder, m: PositionsMessage): number {
  const offsets = m.positions.map((p) => encodePosition(b, p));
  return Positions.createPositions(b, Positions.createPositionsVector(b, offsets));
}

function encodeHeartbeat(b: flatbuffers.Builder, time: number): number {
  Heartbeat.startHeartbeat(b);
  addInt64(b, ID['Heartbeat.time'], time, true);
  return Heartbeat.endHeartbeat(b);
}

/**
 * Decodes a server frame (tests and the benchmark client). Verifies it first and throws on a
 * malformed frame: a client tool, not the server's edge. Allocates freely.
 */
export function decodeServerFrame(bytes: Uint8Array): ServerMessage {
  const why = verifyFrame(bytes, SERVER_FILE_IDENTIFIER, SERVER_FRAME, E_SERVER_ID);
  if (why !== '') throw new Error(why);
  const frame = ServerFrame.getRootAsServerFrame(new flatbuffers.ByteBuffer(bytes));
  const type = frame.msgType();
  switch (type) {
    case FbServerMessage.Report: return decodeReport(member(frame, new Report()));
    case FbServerMessage.EdgeReject: {
      const t = member(frame, new FbEdgeReject());
      return { type: 'reject', clOrdId: t.clOrdId() ?? '', reason: t.reason(), reasonName: t.reasonName() ?? '', text: t.text() ?? '' };
    }
    case FbServerMessage.ServerError: {
      const t = member(frame, new ServerError());
      return { type: 'error', reason: t.reason(), reasonName: t.reasonName() ?? '', text: t.text() ?? '' };
    }
    case FbServerMessage.Hello: {
      const t = member(frame, new Hello());
      return { type: 'hello', accountId: t.accountId(), connId: t.connId(), heartbeatS: t.heartbeatS() };
    }
    case FbServerMessage.Position: return decodePosition(member(frame, new Position()));
    case FbServerMessage.Positions: {
      const t = member(frame, new Positions());
      return { type: 'positions', positions: Array.from({ length: t.positionsLength() }, (_, i) => decodePosition(t.positions(i)!)) };
    }
    case FbServerMessage.Heartbeat: return { type: 'heartbeat', time: readInt64(member(frame, new Heartbeat()), ID['Heartbeat.time'], true) ?? 0 };
    case FbServerMessage.Subscribed: return { type: 'subscribed', subscribed: member(frame, new Subscribed()).subscribed() };
  }
  throw new Error(`${M}no known message (type ${type})`);
}

/** The frame's message read into `table`; throws when the type is set but the message is absent. */
function member<T>(frame: ServerFrame, table: T): T {
  const t: T | null = frame.msg(table);
  if (t === null) throw new Error(E_NO_VALUE);
  return t;
}

function decodeReport(t: Report): ReportMessage {
  const type = REPORT_TYPE_NAMES[t.type()];
  if (type === undefined) throw new Error(`${M}unknown report type ${t.type()}`);
  const r: ReportMessage = {
    type, execType: t.execType() ?? '', orderId: readInt64(t, ID['Report.order_id'], false) ?? 0, clOrdId: t.clOrdId() ?? '',
    status: t.status() ?? '', symbol: t.symbol(), side: t.side(), ordType: t.ordType(), tif: t.tif(),
    qty: readInt64(t, ID['Report.qty'], true) ?? 0, price: t.price(), cumQty: readInt64(t, ID['Report.cum_qty'], true) ?? 0,
    leavesQty: readInt64(t, ID['Report.leaves_qty'], true) ?? 0, avgPx: t.avgPx(), eventSeq: readInt64(t, ID['Report.event_seq'], false) ?? 0,
  };
  const orig = t.origClOrdId();
  if (orig !== null) r.origClOrdId = orig;
  const fill = t.fill();
  if (fill !== null) {
    const lastQty = readInt64(fill, ID['Fill.last_qty'], true);
    const lastPx = fill.lastPx();
    if (lastQty !== undefined) r.lastQty = lastQty;
    if (lastPx !== null) r.lastPx = lastPx;
    r.venue = fill.venue();
    const execRefSeq = readInt64(fill, ID['Fill.exec_ref_seq'], false);
    if (execRefSeq !== undefined) r.execRefSeq = execRefSeq;
  }
  const reason = t.reason();
  const reasonName = t.reasonName();
  if (reason !== null) r.reason = reason;
  if (reasonName !== null) r.reasonName = reasonName;
  return r;
}

function decodePosition(t: Position): PositionMessage {
  return {
    type: 'position', symbol: t.symbol() ?? '', qty: readInt64(t, ID['Position.qty'], true) ?? 0, avgPx: t.avgPx(),
    realizedPnl: t.realizedPnl() ?? '', eventSeq: readInt64(t, ID['Position.event_seq'], false) ?? 0,
  };
}
