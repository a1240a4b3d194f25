/**
 * Helpers for the FIX tests: build frames from readable text. ALLOCATES; tests only.
 */
import { ascii, type FixEncoder } from './encoder.ts';
import { FixParser as ParserForTests, checksum } from './parser.ts';
import type { FixApplication, FixClock, FixSession } from './session.ts';
import { Tag } from './tags.ts';

/** "35=D|49=A|..." (| for SOH) -> a complete frame with correct BodyLength and CheckSum. */
export function frame(body: string, beginString = 'FIX.4.4'): Uint8Array {
  const b = body.replaceAll('|', '\x01');
  const head = `8=${beginString}\x019=${b.length}\x01`;
  const bytes = Buffer.from(head + b, 'latin1');
  const sum = checksum(bytes, 0, bytes.length);
  return Buffer.from(head + b + `10=${String(sum).padStart(3, '0')}\x01`, 'latin1');
}

/** A UTCTimestamp string "YYYYMMDD-HH:MM:SS.sss" for epoch milliseconds. */
export function utcTimestamp(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2026-01-05T09:00:00.000Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}-${iso.slice(11, 23)}`;
}

/** Adds the body of a valid NewOrderSingle (limit buy 100 AAPL @ 10.5) after beginApp(D). */
export function newOrderBody(e: FixEncoder, clOrdId: string, transactTimeMs: number): FixEncoder {
  e.addAscii(Tag.ClOrdID, ascii(clOrdId)).addAscii(Tag.Symbol, ascii('AAPL')).addChar(Tag.Side, 0x31);
  e.addUtcTimestamp(Tag.TransactTime, transactTimeMs).addInt(Tag.OrderQty, 100).addChar(Tag.OrdType, 0x32);
  return e.addAscii(Tag.Price, ascii('10.5'));
}

/** Adds the body of a valid ExecutionReport (New) after beginApp(8). */
export function newReportBody(e: FixEncoder, clOrdId: string): FixEncoder {
  e.addAscii(Tag.OrderID, ascii(`O-${clOrdId}`)).addAscii(Tag.ExecID, ascii(`E-${clOrdId}`)).addAscii(Tag.ClOrdID, ascii(clOrdId));
  e.addChar(Tag.ExecType, 0x30).addChar(Tag.OrdStatus, 0x30).addAscii(Tag.Symbol, ascii('AAPL')).addChar(Tag.Side, 0x31);
  return e.addInt(Tag.LeavesQty, 100).addInt(Tag.CumQty, 0).addInt(Tag.AvgPx, 0);
}

/** Frame bytes as text with '|' for SOH. */
export function show(bytes: Uint8Array, start = 0, end = bytes.length): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1').replaceAll('\x01', '|');
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}


/** Decodes one frame into tag -> value (first occurrence). ALLOCATES; tests only. */
export function fields(bytes: Uint8Array): Record<number, string> {
  const p = new ParserForTests();
  const r = p.parse(bytes, 0, bytes.length);
  if (r !== bytes.length) throw new Error(`not one valid frame (${r}): ${show(bytes)}`);
  const out: Record<number, string> = {};
  for (let i = p.fieldCount - 1; i >= 0; i--) {
    out[p.tagAt(i)] = Buffer.from(bytes.subarray(p.valueStartAt(i), p.valueEndAt(i))).toString('latin1');
  }
  return out;
}

/** A clock the test moves by hand. */
export class FakeClock implements FixClock {
  t: number;
  constructor(t = Date.UTC(2026, 0, 5, 9, 0, 0, 0)) {
    this.t = t;
  }
  now(): number {
    return this.t;
  }
}

/** Records what a session delivers. */
export class RecordingApp implements FixApplication {
  readonly appMessages: Record<number, string>[] = [];
  readonly rejects: Record<number, string>[] = [];
  readonly states: number[] = [];
  /** Optional hook run inside onAppMessage (e.g. to call rejectInbound). */
  onApp: ((session: FixSession, msg: ParserForTests) => void) | null = null;

  onAppMessage(msg: ParserForTests, session: FixSession): void {
    this.appMessages.push(fields(msg.buf.slice(msg.frameStart, msg.frameEnd)));
    if (this.onApp !== null) this.onApp(session, msg);
  }
  onSessionReject(msg: ParserForTests): void {
    this.rejects.push(fields(msg.buf.slice(msg.frameStart, msg.frameEnd)));
  }
  onStateChange(_s: FixSession, _previous: number, next: number): void {
    this.states.push(next);
  }
}
