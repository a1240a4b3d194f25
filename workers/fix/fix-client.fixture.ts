/**
 * A FIX 4.4 client for the acceptor's tests and benchmark: this project's own initiator session
 * over real TCP, recording every application message it receives. ALLOCATES; tests only.
 */
import * as net from 'node:net';
import { ascii } from '../../fix/encoder.ts';
import { MsgType } from '../../fix/msg-type.ts';
import type { FixParser } from '../../fix/parser.ts';
import { SessionState } from '../../fix/session-state.ts';
import { FixSession, SessionRole, type FixApplication } from '../../fix/session.ts';
import { FixInitiator } from '../../fix/tcp.ts';
import { Tag } from '../../fix/tags.ts';
import { fields, frame, utcTimestamp } from '../../fix/test-util.ts';

export type Fields = Record<number, string>;

export class FixClient implements FixApplication {
  readonly received: Fields[] = [];
  readonly session: FixSession;
  readonly initiator: FixInitiator;
  /** Called for every application message as it arrives (benchmarks). */
  onMessage: ((msg: FixParser) => void) | null = null;
  private waiters: (() => void)[] = [];

  constructor(port: number, clientCompId: string, ourCompId = 'OMS') {
    this.session = new FixSession({
      role: SessionRole.INITIATOR,
      senderCompId: clientCompId,
      targetCompId: ourCompId,
      clock: { now: () => Date.now() },
      app: this,
      heartBtIntSec: 30,
      resetSeqNumOnLogon: true,
    });
    this.initiator = new FixInitiator({ port, session: this.session, reconnectMinMs: 50, reconnectMaxMs: 200 });
  }

  onAppMessage(msg: FixParser): void {
    if (this.onMessage !== null) {
      this.onMessage(msg);
      return;
    }
    this.received.push(fields(msg.buf.slice(msg.frameStart, msg.frameEnd)));
    this.wake();
  }
  onSessionReject(msg: FixParser): void {
    this.received.push(fields(msg.buf.slice(msg.frameStart, msg.frameEnd)));
    this.wake();
  }
  onStateChange(): void {
    this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  async logon(timeoutMs = 10_000): Promise<void> {
    this.initiator.start();
    await this.until(() => this.session.state === SessionState.ACTIVE, timeoutMs, 'logon');
  }

  stop(): Promise<void> {
    return this.initiator.stop();
  }

  /** Resolves with the first received message matching pred (already received ones count). */
  async next(pred: (m: Fields) => boolean, timeoutMs = 10_000): Promise<Fields> {
    let found: Fields | undefined;
    await this.until(() => (found = this.received.find(pred)) !== undefined, timeoutMs, 'message');
    return found!;
  }

  /** All received messages for a ClOrdID (11) or OrigClOrdID (41). */
  about(clOrdId: string): Fields[] {
    return this.received.filter((m) => m[11] === clOrdId || m[41] === clOrdId);
  }

  private until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        clearInterval(poll);
        reject(new Error(`timed out waiting for ${what}; received: ${JSON.stringify(this.received.slice(-5))}`));
      }, timeoutMs);
      const check = () => {
        if (!cond()) {
          this.waiters.push(check);
          return;
        }
        clearTimeout(timer);
        clearInterval(poll);
        resolve();
      };
      // State changes and messages wake the check; a slow poll covers anything else.
      const poll = setInterval(() => this.wake(), 50);
      check();
    });
  }

  newOrder(clOrdId: string, symbol: string, side: '1' | '2', qty: number | string, price: string | null, extra: [number, string][] = []): number {
    const e = this.session.beginApp(MsgType.NEW_ORDER_SINGLE);
    e.addAscii(Tag.ClOrdID, ascii(clOrdId)).addAscii(Tag.Symbol, ascii(symbol)).addChar(Tag.Side, side.charCodeAt(0));
    e.addUtcTimestamp(Tag.TransactTime, Date.now()).addAscii(Tag.OrderQty, ascii(String(qty)));
    e.addChar(Tag.OrdType, price === null ? 0x31 : 0x32);
    if (price !== null) e.addAscii(Tag.Price, ascii(price));
    for (const [tag, value] of extra) e.addAscii(tag, ascii(value));
    return this.session.sendApp();
  }

  cancel(clOrdId: string, origClOrdId: string, symbol: string, side: '1' | '2', qty: number): number {
    const e = this.session.beginApp(MsgType.ORDER_CANCEL_REQUEST);
    e.addAscii(Tag.OrigClOrdID, ascii(origClOrdId)).addAscii(Tag.ClOrdID, ascii(clOrdId)).addAscii(Tag.Symbol, ascii(symbol));
    e.addChar(Tag.Side, side.charCodeAt(0)).addUtcTimestamp(Tag.TransactTime, Date.now()).addInt(Tag.OrderQty, qty);
    return this.session.sendApp();
  }

  replace(clOrdId: string, origClOrdId: string, symbol: string, side: '1' | '2', qty: number, price: string): number {
    const e = this.session.beginApp(MsgType.ORDER_CANCEL_REPLACE_REQUEST);
    e.addAscii(Tag.OrigClOrdID, ascii(origClOrdId)).addAscii(Tag.ClOrdID, ascii(clOrdId)).addAscii(Tag.Symbol, ascii(symbol));
    e.addChar(Tag.Side, side.charCodeAt(0)).addUtcTimestamp(Tag.TransactTime, Date.now()).addInt(Tag.OrderQty, qty);
    e.addChar(Tag.OrdType, 0x32).addAscii(Tag.Price, ascii(price));
    return this.session.sendApp();
  }

  status(clOrdId: string, symbol: string, side: '1' | '2'): number {
    const e = this.session.beginApp(MsgType.ORDER_STATUS_REQUEST);
    e.addAscii(Tag.ClOrdID, ascii(clOrdId)).addAscii(Tag.Symbol, ascii(symbol)).addChar(Tag.Side, side.charCodeAt(0));
    return this.session.sendApp();
  }
}

/**
 * Sends one raw Logon on a fresh socket and reports what came back: the first frame's fields,
 * or null when the acceptor closed the connection without answering.
 */
export function rawLogon(port: number, clientCompId: string, ourCompId: string, password: string | null, timeoutMs = 5000): Promise<Fields | null> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    let data = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('rawLogon: neither an answer nor a close in time'));
    }, timeoutMs);
    socket.on('connect', () => {
      const pw = password === null ? '' : `|554=${password}`;
      socket.write(frame(`35=A|49=${clientCompId}|56=${ourCompId}|34=1|52=${utcTimestamp(Date.now())}|98=0|108=30|141=Y${pw}|`));
    });
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      const end = data.indexOf('\x0110=');
      if (end >= 0 && data.length >= end + 8) {
        clearTimeout(timer);
        socket.destroy();
        resolve(fields(data.subarray(0, end + 8)));
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(null);
    });
  });
}
