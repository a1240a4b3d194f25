/**
 * FIX session round trip over loopback, open loop at a fixed rate:
 *
 *   this process (main thread)                        peer process
 *   +--------------------------------------+  TCP    +------------------------------------+
 *   | pacer thread (open-loop-pacer.ts):   |         | venue: node sim/venue.ts           |
 *   |   Atomics.wait to each intended time |  35=D   |   FixAcceptor + FixSession (fix/)  |
 *   | FixSession initiator over FixInitiator| -----> |   VenueApp: validates, books the    |
 *   |   (fix/session.ts + fix/tcp.ts):     |         |   IOC order, answers 35=8 150=0    |
 *   |   send each order when published;    | <-----  |   (then 150=4, the IOC remainder)  |
 *   |   on 35=8 150=0: record now-intended |  35=8   | echo (floor): fix-echo-peer.ts     |
 *   +--------------------------------------+         |   writes every byte straight back  |
 *                                                    +------------------------------------+
 *
 * Each order is a limit IOC far from the market (BUY 1.00, SELL 9999.00, qty 1), so the venue
 * never trades and keeps no order. Latency runs from each order's INTENDED send time (fixed in
 * advance at t0 + i/rate) to the arrival of its ack, after a warm-up, into an HDR histogram (µs):
 * a stall anywhere shows as every order queued behind it (no coordinated omission). Orders still
 * unanswered at the drain deadline are recorded at the deadline. The generator's own lateness
 * (actual - intended send) is recorded apart as sendLag.
 *
 * The echo floor runs the same schedule over a plain socket: each order is encoded with our
 * encoder (same bytes as a session would send), echoed by the peer, framed and read by our parser.
 * Its latency is what loopback TCP and two event loops cost, with no session, validation or venue.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Histogram } from 'hdr-histogram-js';
import { FixEncoder, ascii } from '../../fix/encoder.ts';
import { SendResult } from '../../fix/fix-codes.ts';
import { MsgType } from '../../fix/msg-type.ts';
import { FixParser, MAX_FRAME_LENGTH } from '../../fix/parser.ts';
import { FixSession, SessionRole, type FixApplication } from '../../fix/session.ts';
import { SessionState } from '../../fix/session-state.ts';
import { FixInitiator } from '../../fix/tcp.ts';
import { Tag } from '../../fix/tags.ts';
import { createUsHistogram, percentilesUs, recordLatencyMs, type PercentilesUs } from './histogram-us.ts';
import { monoNowMs } from './mono-clock.ts';
import { GO, GO_ABORT, GO_RUN, SLEEP, T0_F64_INDEX, controlBytes, intendedMs, publishedIndex } from './open-loop-layout.ts';
import type { PacerData } from './open-loop-pacer.ts';

const PACER_FILE = new URL('./open-loop-pacer.ts', import.meta.url);
const VENUE_SCRIPT = fileURLToPath(new URL('../../sim/venue.ts', import.meta.url));
const ECHO_SCRIPT = fileURLToPath(new URL('./fix-echo-peer.ts', import.meta.url));

export type PeerKind = 'venue' | 'echo';

export const OUR_COMP_ID = 'OMS';
export const VENUE_COMP_ID = 'V1';
const SYMBOL = ascii('AAPL');
const BUY_PRICE_TICKS = 1_000_000; // 1.00
const SELL_PRICE_TICKS = 9_999_000_000; // 9999.00

export interface PeerProcess {
  kind: PeerKind;
  pid: number;
  port: number;
  stop(): Promise<void>;
}

/** Starts a peer process and resolves once it prints its listening line. */
export function startPeer(kind: PeerKind, timeoutMs = 30_000): Promise<PeerProcess> {
  const args = kind === 'venue'
    ? [VENUE_SCRIPT, '--port', '0', '--name', VENUE_COMP_ID, '--clients', OUR_COMP_ID, '--seed', '7', '--latency-ms', '0']
    : [ECHO_SCRIPT];
  // No market data (35=W) from the venue: the round trip measures order -> ack alone. (An env
  // variable, so a venue without that option just ignores it.)
  const env = { ...process.env, VENUE_MD_INTERVAL_MS: '0' };
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'], env });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => {
    err = (err + c.toString('utf8')).slice(-4000);
  });
  const stop = (): Promise<void> => new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
    child.stdin!.end();
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${kind} peer not listening within ${timeoutMs} ms: ${err}`));
    }, timeoutMs);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      const m = /listening on [\d.]+:(\d+)/.exec(out);
      if (m === null) return;
      clearTimeout(timer);
      child.stdout!.removeAllListeners('data');
      child.stdout!.resume();
      resolve({ kind, pid: child.pid!, port: Number(m[1]), stop });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${kind} peer exited with code ${code}: ${err}`));
    });
  });
}

export interface RoundTripOptions {
  rate: number;
  warmupMs: number;
  durationMs: number;
  drainMs: number;
  /** Shortest pacer sleep between wakes (ms). */
  pacerGapMs: number;
  /** ClOrdIDs of this run are idBase + order index (unique across runs on one venue). */
  idBase: number;
}

export interface RoundTripResult {
  peer: PeerKind;
  rate: number;
  orders: number;
  sent: number;
  /** Orders the session refused to send (not logged on or back-pressure); counted in timedOut too. */
  sendFailed: number;
  acked: number;
  rejected: number;
  timedOut: number;
  /** Replies naming an order that was already answered, or none of ours. */
  unmatched: number;
  latencyUs: PercentilesUs;
  sendLagUs: PercentilesUs;
  wallS: number;
}

/** Per-run state shared by both peers: the schedule, per-order state, histograms. */
class RunState {
  readonly options: RoundTripOptions;
  readonly orders: number;
  readonly warmupOrders: number;
  readonly control: Int32Array;
  readonly controlBuf: SharedArrayBuffer;
  /** 0 pending, 1 sent, 2 answered. */
  readonly state: Uint8Array;
  readonly latency: Histogram = createUsHistogram();
  readonly sendLag: Histogram = createUsHistogram();
  t0 = 0;
  sent = 0;
  sendFailed = 0;
  acked = 0;
  rejected = 0;
  unmatched = 0;
  onSettled: () => void = () => {};

  constructor(options: RoundTripOptions) {
    this.options = options;
    this.orders = Math.round((options.rate * (options.warmupMs + options.durationMs)) / 1000);
    this.warmupOrders = Math.round((options.rate * options.warmupMs) / 1000);
    this.controlBuf = new SharedArrayBuffer(controlBytes(1));
    this.control = new Int32Array(this.controlBuf);
    this.state = new Uint8Array(this.orders);
  }

  intended(j: number): number {
    return intendedMs(this.t0, j, this.options.rate);
  }

  /** Called just before order j goes out. */
  onSend(j: number): void {
    if (j >= this.warmupOrders) recordLatencyMs(this.sendLag, monoNowMs() - this.intended(j));
    this.state[j] = 1;
    this.sent++;
  }

  /** A reply for ClOrdID id arrived at nowMs; ok false for a reject. */
  onReply(id: number, nowMs: number, ok: boolean): void {
    const j = id - this.options.idBase;
    if (!(j >= 0 && j < this.orders) || this.state[j] !== 1) {
      this.unmatched++;
      return;
    }
    this.state[j] = 2;
    if (ok) this.acked++;
    else this.rejected++;
    if (j >= this.warmupOrders) recordLatencyMs(this.latency, nowMs - this.intended(j));
    if (this.sent === this.orders && this.acked + this.rejected === this.sent) this.onSettled();
  }

  result(peer: PeerKind, wallS: number): RoundTripResult {
    const deadline = monoNowMs();
    let timedOut = 0;
    for (let j = 0; j < this.orders; j++) {
      if (this.state[j] !== 1) continue;
      timedOut++;
      if (j >= this.warmupOrders) recordLatencyMs(this.latency, deadline - this.intended(j));
    }
    const r: RoundTripResult = {
      peer, rate: this.options.rate, orders: this.orders, sent: this.sent, sendFailed: this.sendFailed, acked: this.acked, rejected: this.rejected,
      timedOut, unmatched: this.unmatched, latencyUs: percentilesUs(this.latency), sendLagUs: percentilesUs(this.sendLag), wallS,
    };
    this.latency.destroy();
    this.sendLag.destroy();
    return r;
  }
}

/**
 * Starts the pacer, sets t0 and sends every order when published (send(j) per order), then waits
 * for the replies or the drain deadline.
 */
async function runSchedule(s: RunState, send: (j: number) => void): Promise<void> {
  const pacer = new Worker(PACER_FILE, { workerData: { control: s.controlBuf, schedule: { rate: s.options.rate, workers: 1, total: s.orders }, minGapMs: s.options.pacerGapMs } satisfies PacerData });
  const pacerExit = new Promise<void>((resolve) => pacer.once('exit', () => resolve()));
  pacer.once('error', () => abort(s.control));
  try {
    s.t0 = monoNowMs() + 20;
    new Float64Array(s.controlBuf)[T0_F64_INDEX] = s.t0;
    Atomics.store(s.control, GO, GO_RUN);
    Atomics.notify(s.control, GO);
    const published = publishedIndex(0);
    let next = 0;
    while (next < s.orders && Atomics.load(s.control, GO) !== GO_ABORT) {
      const due = Atomics.load(s.control, published);
      if (due === next) {
        const w = Atomics.waitAsync(s.control, published, next, 500);
        if (w.async) await w.value;
        continue;
      }
      for (; next < due; next++) send(next);
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, s.options.drainMs);
      s.onSettled = () => {
        clearTimeout(timer);
        resolve();
      };
      if (s.acked + s.rejected === s.sent && s.sent === s.orders) s.onSettled();
    });
  } finally {
    abort(s.control);
    await Promise.race([pacerExit, new Promise((r) => setTimeout(r, 1000))]);
    await pacer.terminate();
  }
}

function abort(control: Int32Array): void {
  Atomics.store(control, GO, GO_ABORT);
  Atomics.notify(control, GO);
  Atomics.notify(control, SLEEP);
}

/** The initiator's application: every ExecutionReport 150=0 (or 150=8) answers one order. */
class AckApp implements FixApplication {
  run: RunState | null = null;
  otherMessages = 0;
  sessionRejects = 0;

  onAppMessage(msg: FixParser): void {
    const run = this.run;
    if (run === null || msg.msgType !== MsgType.EXECUTION_REPORT) {
      this.otherMessages++;
      return;
    }
    const execType = msg.getChar(Tag.ExecType);
    if (execType === 0x30) run.onReply(msg.getInt(Tag.ClOrdID), monoNowMs(), true);
    else if (execType === 0x38) run.onReply(msg.getInt(Tag.ClOrdID), monoNowMs(), false);
    // 150=4 (the IOC remainder canceled) follows each ack; it answers nothing new.
  }

  onSessionReject(): void {
    this.sessionRejects++;
  }

  onStateChange(): void {}
}

async function until(predicate: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A logged-on FIX initiator session to a venue peer, reused for every rate. */
export class VenueClient {
  readonly app = new AckApp();
  readonly session: FixSession;
  readonly initiator: FixInitiator;

  constructor(port: number) {
    const clock = { now: () => Date.now() };
    this.session = new FixSession({
      role: SessionRole.INITIATOR, senderCompId: OUR_COMP_ID, targetCompId: VENUE_COMP_ID, clock, app: this.app,
      heartBtIntSec: 30, resetSeqNumOnLogon: true,
    });
    this.initiator = new FixInitiator({ port, session: this.session, timerIntervalMs: 200 });
  }

  async start(timeoutMs = 15_000): Promise<void> {
    this.initiator.start();
    await until(() => this.session.state === SessionState.ACTIVE, 'FIX logon to the venue', timeoutMs);
  }

  async run(options: RoundTripOptions): Promise<RoundTripResult> {
    const s = new RunState(options);
    this.app.run = s;
    const session = this.session;
    const wall0 = performance.now();
    await runSchedule(s, (j) => {
      const buy = (j & 1) === 0;
      const e = session.beginApp(MsgType.NEW_ORDER_SINGLE);
      e.addInt(Tag.ClOrdID, options.idBase + j).addAscii(Tag.Symbol, SYMBOL).addChar(Tag.Side, buy ? 0x31 : 0x32);
      e.addUtcTimestamp(Tag.TransactTime, Date.now()).addInt(Tag.OrderQty, 1).addChar(Tag.OrdType, 0x32);
      e.addTicks(Tag.Price, buy ? BUY_PRICE_TICKS : SELL_PRICE_TICKS).addChar(Tag.TimeInForce, 0x33);
      s.onSend(j);
      // Refused (not logged on, back-pressure): it stays unanswered and is recorded at the deadline.
      if (session.sendApp() !== SendResult.OK) s.sendFailed++;
    });
    this.app.run = null;
    return s.result('venue', (performance.now() - wall0) / 1000);
  }

  stop(): Promise<void> {
    return this.initiator.stop();
  }
}

/** The floor: the same orders over a plain socket to the echo peer, framed by our parser. */
export class EchoClient {
  private readonly socket: net.Socket;
  private readonly parser = new FixParser();
  private readonly encoder = new FixEncoder();
  private readonly inBuf = new Uint8Array(2 * MAX_FRAME_LENGTH);
  private inLength = 0;
  private current: RunState | null = null;
  private readonly sender = ascii(OUR_COMP_ID);
  private readonly target = ascii(VENUE_COMP_ID);
  private seq = 1;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
  }

  static connect(port: number): Promise<EchoClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
      socket.once('connect', () => resolve(new EchoClient(socket)));
      socket.once('error', reject);
    });
  }

  private onData(chunk: Buffer): void {
    const now = monoNowMs();
    if (this.inLength + chunk.length > this.inBuf.length) throw new Error('Invariant: echo reassembly buffer holds two frames');
    this.inBuf.set(chunk, this.inLength);
    this.inLength += chunk.length;
    let p = 0;
    for (;;) {
      const r = this.parser.parse(this.inBuf, p, this.inLength);
      if (r === 0) break;
      if (r < 0) throw new Error(`Invariant: the echo returns valid frames (${r})`);
      p += r;
      if (this.current !== null) this.current.onReply(this.parser.getInt(Tag.ClOrdID), now, true);
    }
    this.inBuf.copyWithin(0, p, this.inLength);
    this.inLength -= p;
  }

  async run(options: RoundTripOptions): Promise<RoundTripResult> {
    const s = new RunState(options);
    this.current = s;
    const e = this.encoder;
    const wall0 = performance.now();
    await runSchedule(s, (j) => {
      const buy = (j & 1) === 0;
      e.begin(MsgType.NEW_ORDER_SINGLE, this.sender, this.target, this.seq++, Date.now());
      e.addInt(Tag.ClOrdID, options.idBase + j).addAscii(Tag.Symbol, SYMBOL).addChar(Tag.Side, buy ? 0x31 : 0x32);
      e.addUtcTimestamp(Tag.TransactTime, Date.now()).addInt(Tag.OrderQty, 1).addChar(Tag.OrdType, 0x32);
      e.addTicks(Tag.Price, buy ? BUY_PRICE_TICKS : SELL_PRICE_TICKS).addChar(Tag.TimeInForce, 0x33);
      const length = e.finish();
      s.onSend(j);
      // One write per order: what a session without batching would do (FixSession's TCP
      // transport coalesces the writes of one callback; at these rates one order per wake is usual).
      this.socket.write(e.buf.slice(e.start, e.start + length));
    });
    this.current = null;
    return s.result('echo', (performance.now() - wall0) / 1000);
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.end();
      setTimeout(() => {
        this.socket.destroy();
        resolve();
      }, 1000).unref();
    });
  }
}

