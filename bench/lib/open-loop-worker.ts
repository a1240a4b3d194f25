/**
 * One load worker of the open-loop generator (a piscina task; the pool runs one long task per
 * thread). It opens its share of the connections (WebSocket, or FIX 4.4 sessions to the engine's
 * acceptor), waits for the common start, then sends each of its orders when the pacer publishes
 * it due (open-loop-pacer.ts) and records, for every ack, receive time minus the order's
 * INTENDED send time into an HDR histogram (µs).
 *
 * Nothing waits for a reply before sending: the schedule is fixed in advance, so a server stall
 * shows as every order queued behind it, not as orders never sent (coordinated omission).
 * Orders of the warm-up are sent and counted but not recorded. At the end, orders still
 * unanswered after the drain window count as timed out and are recorded at the drain deadline
 * (a lower bound of their latency), so a lost reply cannot shorten the tail.
 *
 * Workloads: without `workload`, every order has the one `order` shape (ws.bench: far IOC
 * orders that only get acked). With a mixed workload (bench/lib/e2e-replies.ts) orders are
 * marketable IOCs (also recorded: order -> first fill), and resting GTCs canceled later on the
 * same schedule (also recorded: cancel -> canceled, from the cancel's intended send time).
 *
 * Clients: the `ws` package (about 1.5 to 2.5 times less CPU per order than Node 22's built-in
 * WebSocket here, which matters when the load shares two cores with the server); for FIX the
 * project's own initiator session over TCP (workers/fix/fix-client.fixture.ts).
 */

import { threadId } from 'node:worker_threads';
import WebSocket from 'ws';
import type { Histogram } from 'hdr-histogram-js';
import { createUsHistogram, encodeHistogram, recordLatencyMs } from './histogram-us.ts';
import { monoNowMs } from './mono-clock.ts';
import {
  Counter, GO, GO_ABORT, GO_WAIT, READY, T0_F64_INDEX,
  counterIndex, intendedMs, ordersOfWorker, publishedIndex, type Schedule,
} from './open-loop-layout.ts';
import { ReplyKind, ReplyScanner, orderText, rejectReasonOf, type OrderShape } from './ws-order-protocol.ts';
import {
  FixReplyReader, OrderKind, cancelText, isBuy, mixedOrderText, orderKind, priceOf, symbolOf, type MixedWorkload,
} from './e2e-replies.ts';
import { FixClient } from '../../workers/fix/fix-client.fixture.ts';
import { SendResult } from '../../fix/fix-codes.ts';
import { SessionState } from '../../fix/session-state.ts';
import { Tag } from '../../fix/tags.ts';
import type { FixParser } from '../../fix/parser.ts';

/** FIX sessions of one worker: connection k logs on as compIds[k] to targetCompId. */
export interface FixTarget {
  port: number;
  compIds: string[];
  targetCompId: string;
}

export interface OpenLoopTask {
  workerIndex: number;
  control: SharedArrayBuffer;
  schedule: Schedule;
  /** Orders 0 .. warmupOrders-1 of the run are not recorded. */
  warmupOrders: number;
  /** ws://host:port/path; `?token=` is appended per connection. */
  url: string;
  /** Connection c (numbered across all workers) authenticates with tokens[c % tokens.length]. */
  tokens: string[];
  connections: number;
  firstConnection: number;
  runTag: string;
  order: OrderShape;
  drainMs: number;
  connectTimeoutMs: number;
  /** The mixed workload (fills and cancels); null: every order is `order`. */
  workload: MixedWorkload | null;
  /** FIX sessions instead of WebSockets (connections = compIds.length; mixed workload only); null: WebSocket. */
  fix: FixTarget | null;
}

/** What one run counted of its orders (summed over the workers by open-loop.ts). */
export interface OpenLoopCounts {
  orders: number;
  sent: number;
  acked: number;
  rejected: number;
  timedOut: number;
  /** Orders not sent because their connection was down (or pushed back). */
  unsent: number;
  /** Replies naming an order of ours that had already been answered (or timed out). */
  duplicates: number;
  /** Ack or reject frames naming no order of this worker. */
  unmatched: number;
  connectErrors: number;
  /** Connections dropped while the run went on: WebSockets closed, FIX sessions gone from ACTIVE to DISCONNECTED. */
  disconnects: number;
}

/** Counts of the mixed workload only (0 otherwise). */
export interface MixedCounts {
  /** Marketable orders sent, of them filled (at least partly), ended unfilled, still waiting at the deadline. */
  fillOrders: number;
  filled: number;
  unfilled: number;
  fillTimedOut: number;
  /** Cancels sent, confirmed CANCELED, refused, unanswered at the deadline, not sent (order refused or connection down). */
  cancelsSent: number;
  canceled: number;
  cancelRejected: number;
  cancelTimedOut: number;
  cancelsUnsent: number;
}

export interface OpenLoopWorkerResult extends OpenLoopCounts, MixedCounts {
  workerIndex: number;
  threadId: number;
  transport: 'ws' | 'fix';
  /** Order -> ack latency in µs, from the intended send time (encoded HDR histogram). */
  histogram: string;
  /** How late the generator itself sent (actual - intended), µs (encoded HDR histogram). */
  sendLag: string;
  /** Order -> first fill of FILL orders, µs (encoded; empty without a mixed workload). */
  fillHistogram: string;
  /** Cancel -> canceled, from the cancel's intended send time, µs (encoded). */
  cancelHistogram: string;
  rejectReasons: Record<string, number>;
}

const State = { PENDING: 0, SENT: 1, ACKED: 2, REJECTED: 3, UNSENT: 4 } as const;
/** The second answer a FILL or CANCEL order waits for (its fill or end; its cancel's outcome). */
const Second = { NONE: 0, AWAIT: 1, DONE: 2 } as const;

/** One connection of a worker, whatever the protocol; send* return false when nothing was sent. */
interface OrderConn {
  sendNew(s: LoadState, j: number, kind: number): boolean;
  sendCancel(s: LoadState, j: number): boolean;
  close(): Promise<void>;
}

/** The per-run state of one worker; the socket callbacks write into it. */
class LoadState {
  readonly task: OpenLoopTask;
  readonly control: Int32Array;
  readonly latency: Histogram = createUsHistogram();
  readonly sendLag: Histogram = createUsHistogram();
  readonly fillLatency: Histogram = createUsHistogram();
  readonly cancelLatency: Histogram = createUsHistogram();
  readonly state: Uint8Array;
  readonly kind: Uint8Array;
  readonly second: Uint8Array;
  readonly scanner: ReplyScanner;
  readonly fixReader: FixReplyReader;
  readonly clOrdPrefix: string;
  readonly orders: number;
  readonly cancelAfter: number;
  /** Connection k, or null while it is not (or no longer) open. */
  readonly conns: (OrderConn | null)[];
  t0 = 0;
  sent = 0;
  acked = 0;
  rejected = 0;
  unsent = 0;
  duplicates = 0;
  unmatched = 0;
  connectErrors = 0;
  disconnects = 0;
  /** Second answers still awaited. */
  awaiting = 0;
  fillOrders = 0;
  filled = 0;
  unfilled = 0;
  cancelsSent = 0;
  canceled = 0;
  cancelRejected = 0;
  cancelsUnsent = 0;
  closing = false;
  rejectReasons: Record<string, number> = {};
  onSettled: () => void = () => {};

  constructor(task: OpenLoopTask) {
    this.task = task;
    this.control = new Int32Array(task.control);
    this.orders = ordersOfWorker(task.schedule.total, task.workerIndex, task.schedule.workers);
    this.state = new Uint8Array(this.orders);
    this.kind = new Uint8Array(this.orders);
    this.second = new Uint8Array(this.orders);
    this.cancelAfter = task.workload?.cancelAfter ?? 0;
    if (task.workload !== null) for (let j = 0; j < this.orders; j++) this.kind[j] = orderKind(task.workload, j, this.orders);
    this.clOrdPrefix = `${task.runTag}-${task.workerIndex}-`;
    this.scanner = new ReplyScanner(this.clOrdPrefix);
    this.fixReader = new FixReplyReader(this.clOrdPrefix);
    this.conns = new Array<OrderConn | null>(task.connections).fill(null);
  }

  intended(j: number): number {
    const s = this.task.schedule;
    return intendedMs(this.t0, j * s.workers + this.task.workerIndex, s.rate);
  }

  measured(j: number): boolean {
    return j * this.task.schedule.workers + this.task.workerIndex >= this.task.warmupOrders;
  }

  outstanding(): number {
    return this.sent - this.acked - this.rejected + this.awaiting;
  }

  count(counter: number, value: number): void {
    Atomics.store(this.control, counterIndex(this.task.workerIndex, counter), value);
  }

  /** A JSON frame (either workload: executions of ack-only orders find no second answer awaited). */
  onJson(frame: Buffer, nowMs: number): void {
    const r = this.scanner;
    r.scan(frame);
    if (r.kind !== ReplyKind.OTHER && r.kind !== ReplyKind.HELLO) this.onReply(r.kind, r.seq, nowMs, frame);
  }

  onFix(msg: FixParser, nowMs: number): void {
    const r = this.fixReader;
    r.scan(msg);
    if (r.kind !== ReplyKind.OTHER) this.onReply(r.kind, r.seq, nowMs, msg);
  }

  onReply(reply: number, j: number, nowMs: number, source: Buffer | FixParser): void {
    if (j < 0 || j >= this.orders) {
      if (reply === ReplyKind.ACK || reply === ReplyKind.REJECT) this.unmatched++;
      return;
    }
    if (reply === ReplyKind.ACK || reply === ReplyKind.REJECT) this.onFirst(reply, j, nowMs, source);
    else this.onSecond(reply, j, nowMs);
    if (this.sent + this.unsent === this.orders && this.outstanding() === 0) this.onSettled();
  }

  private onFirst(reply: number, j: number, nowMs: number, source: Buffer | FixParser): void {
    if (this.state[j] !== State.SENT) {
      this.duplicates++;
      return;
    }
    if (reply === ReplyKind.ACK) {
      this.state[j] = State.ACKED;
      this.acked++;
      this.count(Counter.ACKED, this.acked);
      if (this.measured(j)) recordLatencyMs(this.latency, nowMs - this.intended(j));
      return;
    }
    this.state[j] = State.REJECTED;
    this.rejected++;
    this.count(Counter.REJECTED, this.rejected);
    // A refused FILL order will never fill: it no longer waits (it counts as rejected).
    if (this.second[j] === Second.AWAIT) this.settleSecond(j);
    const reason = Buffer.isBuffer(source) ? rejectReasonOf(source) : fixRejectReason(source);
    this.rejectReasons[reason] = (this.rejectReasons[reason] ?? 0) + 1;
  }

  private onSecond(reply: number, j: number, nowMs: number): void {
    if (this.second[j] !== Second.AWAIT) return; // later fills, or an IOC's end after its fill
    const kind = this.kind[j];
    if (kind === OrderKind.FILL) {
      if (reply === ReplyKind.FILL) {
        this.filled++;
        if (this.measured(j)) recordLatencyMs(this.fillLatency, nowMs - this.intended(j));
      } else if (reply === ReplyKind.DONE) {
        this.unfilled++;
      } else return;
    } else if (kind === OrderKind.CANCEL) {
      if (reply === ReplyKind.DONE) {
        this.canceled++;
        if (this.measured(j)) recordLatencyMs(this.cancelLatency, nowMs - this.intended(j + this.cancelAfter));
      } else if (reply === ReplyKind.CANCEL_REJECT) {
        this.cancelRejected++;
      } else return;
    } else return;
    this.settleSecond(j);
  }

  private settleSecond(j: number): void {
    this.second[j] = Second.DONE;
    this.awaiting--;
  }

  send(j: number): void {
    const conn = this.conns[j % this.task.connections];
    const kind = this.kind[j];
    const lag = monoNowMs() - this.intended(j);
    if (conn === null || !conn.sendNew(this, j, kind)) {
      this.state[j] = State.UNSENT;
      this.unsent++;
      this.count(Counter.FAILED, this.unsent);
    } else {
      this.state[j] = State.SENT;
      this.sent++;
      if (this.measured(j)) recordLatencyMs(this.sendLag, lag);
      if (kind === OrderKind.FILL) {
        this.fillOrders++;
        this.second[j] = Second.AWAIT;
        this.awaiting++;
      }
    }
    // The cancel of an earlier resting order leaves with this one, on its order's connection.
    const c = j - this.cancelAfter;
    if (this.cancelAfter > 0 && c >= 0 && this.kind[c] === OrderKind.CANCEL) this.cancel(c);
  }

  /**
   * After an abort stopped the sends at order `processed`: resting orders whose cancel would have
   * left with order processed or later get none (the order may rest on): unsent cancels.
   */
  countCancelsLeft(processed: number): void {
    for (let c = Math.max(0, processed - this.cancelAfter); c < this.orders; c++) if (this.kind[c] === OrderKind.CANCEL) this.cancelsUnsent++;
  }

  private cancel(c: number): void {
    const conn = this.conns[c % this.task.connections];
    // A refused order has nothing to cancel; an unsent one neither.
    if (this.state[c] === State.REJECTED || this.state[c] === State.UNSENT || conn === null || !conn.sendCancel(this, c)) {
      this.cancelsUnsent++;
      return;
    }
    this.cancelsSent++;
    this.second[c] = Second.AWAIT;
    this.awaiting++;
  }
}

function fixRejectReason(msg: FixParser): string {
  const code = msg.getString(103);
  const text = msg.getString(58);
  return `OrdRejReason ${code ?? '?'}${text === undefined ? '' : ` ${text.slice(0, 40)}`}`;
}

class WsConn implements OrderConn {
  readonly ws: WebSocket;
  constructor(ws: WebSocket) {
    this.ws = ws;
  }

  sendNew(s: LoadState, j: number, kind: number): boolean {
    if (this.ws.readyState !== WebSocket.OPEN) return false;
    const w = s.task.workload;
    this.ws.send(w === null ? orderText(s.task.order, s.clOrdPrefix, j, s.task.connections) : mixedOrderText(w, s.clOrdPrefix, j, kind));
    return true;
  }

  sendCancel(s: LoadState, j: number): boolean {
    if (this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(cancelText(s.clOrdPrefix, j));
    return true;
  }

  close(): Promise<void> {
    const ws = this.ws;
    return new Promise<void>((resolve) => {
      if (ws.readyState === WebSocket.CLOSED) return resolve();
      const timer = setTimeout(() => { ws.terminate(); resolve(); }, 1000);
      ws.once('close', () => { clearTimeout(timer); resolve(); });
      ws.close(1000, 'load done');
    });
  }
}

/** TimeInForce (59) of the mixed workload's orders over FIX: constant, so nothing is built per order. */
const FIX_GTC: [number, string][] = [[Tag.TimeInForce, '1']];
const FIX_IOC: [number, string][] = [[Tag.TimeInForce, '3']];

/** A FIX session of the mixed workload: the test client's NewOrderSingle and OrderCancelRequest. */
class FixConn implements OrderConn {
  readonly client: FixClient;
  readonly workload: MixedWorkload;
  constructor(client: FixClient, workload: MixedWorkload) {
    this.client = client;
    this.workload = workload;
  }

  sendNew(s: LoadState, j: number, kind: number): boolean {
    const w = this.workload;
    const sent = this.client.newOrder(`${s.clOrdPrefix}${j}`, symbolOf(w, j).name, isBuy(j) ? '1' : '2', w.qty, priceOf(w, j, kind), kind === OrderKind.CANCEL ? FIX_GTC : FIX_IOC);
    return sent === SendResult.OK;
  }

  sendCancel(s: LoadState, j: number): boolean {
    const w = this.workload;
    return this.client.cancel(`${s.clOrdPrefix}${j}c`, `${s.clOrdPrefix}${j}`, symbolOf(w, j).name, isBuy(j) ? '1' : '2', w.qty) === SendResult.OK;
  }

  close(): Promise<void> {
    return this.client.stop();
  }
}

/** Opens WebSocket k and resolves once the server's hello (or any first frame) arrived. */
function connectWs(s: LoadState, k: number): Promise<void> {
  const task = s.task;
  const token = task.tokens[(task.firstConnection + k) % task.tokens.length];
  const ws = new WebSocket(`${task.url}?token=${encodeURIComponent(token)}`, { perMessageDeflate: false, skipUTF8Validation: true });
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => fail(), task.connectTimeoutMs);
    let open = false;
    const fail = (): void => {
      clearTimeout(timer);
      if (open) return;
      s.connectErrors++;
      s.conns[k] = null;
      ws.terminate();
      resolve();
    };
    ws.on('error', fail);
    ws.on('close', () => {
      if (!open) fail();
      else if (!s.closing) s.disconnects++;
    });
    ws.on('message', (data: WebSocket.RawData) => {
      const now = monoNowMs();
      if (!open) {
        open = true;
        clearTimeout(timer);
        s.conns[k] = new WsConn(ws);
        resolve();
        return;
      }
      s.onJson(data as Buffer, now);
    });
  });
}

/**
 * Logs FIX session k on; a session that does not come up counts as a connect error. Once up, a
 * drop (ACTIVE -> DISCONNECTED while not closing) counts as a disconnect: the initiator logs on
 * again by itself, and orders meanwhile count as unsent.
 */
async function connectFix(s: LoadState, k: number, fix: FixTarget, workload: MixedWorkload): Promise<void> {
  const client = new FixClient(fix.port, fix.compIds[k], fix.targetCompId);
  client.onMessage = (msg) => s.onFix(msg, monoNowMs());
  try {
    await client.logon(s.task.connectTimeoutMs);
    // The client's own onStateChange (it wakes its waiters) still runs; the session's state is already the new one.
    const wake = client.onStateChange.bind(client);
    let last: number = client.session.state;
    client.onStateChange = (): void => {
      const next = client.session.state;
      if (last === SessionState.ACTIVE && next === SessionState.DISCONNECTED && !s.closing) s.disconnects++;
      last = next;
      wake();
    };
    s.conns[k] = new FixConn(client, workload);
  } catch {
    s.connectErrors++;
    await client.stop();
  }
}

/** Waits, without blocking the event loop, while control[index] still holds value (and no abort). */
async function waitWhile(control: Int32Array, index: number, value: number): Promise<void> {
  while (Atomics.load(control, index) === value && Atomics.load(control, GO) !== GO_ABORT) {
    const r = Atomics.waitAsync(control, index, value, 500);
    if (r.async) await r.value;
  }
}

async function sendAll(s: LoadState): Promise<void> {
  const control = s.control;
  const published = publishedIndex(s.task.workerIndex);
  let next = 0;
  while (next < s.orders && Atomics.load(control, GO) !== GO_ABORT) {
    const due = Atomics.load(control, published);
    if (due === next) {
      await waitWhile(control, published, next);
      continue;
    }
    for (; next < due; next++) s.send(next);
    s.count(Counter.SENT, s.sent);
  }
  if (next < s.orders) s.countCancelsLeft(next);
}

/** Waits until every sent order is answered or drainMs has passed; returns the deadline. */
function drain(s: LoadState): Promise<number> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(monoNowMs()), s.task.drainMs);
    s.onSettled = () => {
      clearTimeout(timer);
      resolve(monoNowMs());
    };
    if (s.outstanding() === 0) s.onSettled();
  });
}

/** Unanswered orders, fills and cancels at the deadline, each recorded there (a lower bound). */
function recordTimeouts(s: LoadState, deadlineMs: number): { timedOut: number; fillTimedOut: number; cancelTimedOut: number } {
  let timedOut = 0;
  let fillTimedOut = 0;
  let cancelTimedOut = 0;
  for (let j = 0; j < s.orders; j++) {
    const measured = s.measured(j);
    if (s.state[j] === State.SENT) {
      timedOut++;
      if (measured) recordLatencyMs(s.latency, deadlineMs - s.intended(j));
    }
    if (s.second[j] !== Second.AWAIT) continue;
    if (s.kind[j] === OrderKind.FILL) {
      fillTimedOut++;
      if (measured) recordLatencyMs(s.fillLatency, deadlineMs - s.intended(j));
    } else {
      cancelTimedOut++;
      if (measured) recordLatencyMs(s.cancelLatency, deadlineMs - s.intended(j + s.cancelAfter));
    }
  }
  return { timedOut, fillTimedOut, cancelTimedOut };
}

async function closeAll(s: LoadState): Promise<void> {
  s.closing = true;
  await Promise.all(s.conns.map((c) => (c === null ? Promise.resolve() : c.close())));
}

export default async function runLoadWorker(task: OpenLoopTask): Promise<OpenLoopWorkerResult> {
  const s = new LoadState(task);
  const fix = task.fix;
  const workload = task.workload;
  if (fix !== null && fix.compIds.length !== task.connections) throw new Error('Condition failed: one FIX CompID per connection');
  if (fix !== null && workload === null) throw new Error('Condition failed: FIX sessions carry the mixed workload (workload !== null)');
  await Promise.all(Array.from({ length: task.connections }, (_, k) => (fix === null || workload === null ? connectWs(s, k) : connectFix(s, k, fix, workload))));
  Atomics.add(s.control, READY, 1);
  Atomics.notify(s.control, READY);
  await waitWhile(s.control, GO, GO_WAIT);
  s.t0 = new Float64Array(task.control)[T0_F64_INDEX];
  await sendAll(s);
  const deadline = await drain(s);
  const timeouts = recordTimeouts(s, deadline);
  await closeAll(s);
  const result: OpenLoopWorkerResult = {
    workerIndex: task.workerIndex,
    threadId,
    transport: fix === null ? 'ws' : 'fix',
    histogram: encodeHistogram(s.latency),
    sendLag: encodeHistogram(s.sendLag),
    fillHistogram: encodeHistogram(s.fillLatency),
    cancelHistogram: encodeHistogram(s.cancelLatency),
    orders: s.orders,
    sent: s.sent,
    acked: s.acked,
    rejected: s.rejected,
    timedOut: timeouts.timedOut,
    // Down connections, and orders an abort left behind.
    unsent: s.orders - s.sent,
    duplicates: s.duplicates,
    unmatched: s.unmatched,
    connectErrors: s.connectErrors,
    disconnects: s.disconnects,
    rejectReasons: s.rejectReasons,
    fillOrders: s.fillOrders,
    filled: s.filled,
    unfilled: s.unfilled,
    fillTimedOut: timeouts.fillTimedOut,
    cancelsSent: s.cancelsSent,
    canceled: s.canceled,
    cancelRejected: s.cancelRejected,
    cancelTimedOut: timeouts.cancelTimedOut,
    cancelsUnsent: s.cancelsUnsent,
  };
  s.latency.destroy();
  s.sendLag.destroy();
  s.fillLatency.destroy();
  s.cancelLatency.destroy();
  return result;
}
