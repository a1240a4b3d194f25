/**
 * One load worker of the open-loop generator (a piscina task; the pool runs one long task per
 * thread). It opens its share of the WebSocket connections, waits for the common start, then
 * sends each of its orders when the pacer publishes it due (open-loop-pacer.ts) and records, for
 * every ack, receive time minus the order's INTENDED send time into an HDR histogram (µs).
 *
 * Nothing waits for a reply before sending: the schedule is fixed in advance, so a server stall
 * shows as every order queued behind it, not as orders never sent (coordinated omission).
 * Orders of the warm-up are sent and counted but not recorded. At the end, orders still
 * unanswered after the drain window count as timed out and are recorded at the drain deadline
 * (a lower bound of their latency), so a lost reply cannot shorten the tail.
 *
 * Client: the `ws` package (about 1.5 to 2.5 times less CPU per order than Node 22's built-in
 * WebSocket here, which matters when the load shares two cores with the server).
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
}

export interface OpenLoopWorkerResult {
  workerIndex: number;
  threadId: number;
  /** Order -> ack latency in µs, from the intended send time (encoded HDR histogram). */
  histogram: string;
  /** How late the generator itself sent (actual - intended), µs (encoded HDR histogram). */
  sendLag: string;
  orders: number;
  sent: number;
  acked: number;
  rejected: number;
  timedOut: number;
  /** Orders not sent because their connection was down. */
  unsent: number;
  /** Replies naming an order of ours that had already been answered (or timed out). */
  duplicates: number;
  /** Ack or reject frames naming no order of this worker. */
  unmatched: number;
  connectErrors: number;
  disconnects: number;
  rejectReasons: Record<string, number>;
}

const State = { PENDING: 0, SENT: 1, ACKED: 2, REJECTED: 3, UNSENT: 4 } as const;

/** The per-run state of one worker; the socket callbacks write into it. */
class LoadState {
  readonly task: OpenLoopTask;
  readonly control: Int32Array;
  readonly latency: Histogram = createUsHistogram();
  readonly sendLag: Histogram = createUsHistogram();
  readonly state: Uint8Array;
  readonly scanner: ReplyScanner;
  readonly clOrdPrefix: string;
  readonly orders: number;
  /** Connection k, or null while it is not (or no longer) open. */
  readonly sockets: (WebSocket | null)[];
  t0 = 0;
  sent = 0;
  acked = 0;
  rejected = 0;
  unsent = 0;
  duplicates = 0;
  unmatched = 0;
  connectErrors = 0;
  disconnects = 0;
  closing = false;
  rejectReasons: Record<string, number> = {};
  onSettled: () => void = () => {};

  constructor(task: OpenLoopTask) {
    this.task = task;
    this.control = new Int32Array(task.control);
    this.orders = ordersOfWorker(task.schedule.total, task.workerIndex, task.schedule.workers);
    this.state = new Uint8Array(this.orders);
    this.clOrdPrefix = `${task.runTag}-${task.workerIndex}-`;
    this.scanner = new ReplyScanner(this.clOrdPrefix);
    this.sockets = new Array<WebSocket | null>(task.connections).fill(null);
  }

  intended(j: number): number {
    const s = this.task.schedule;
    return intendedMs(this.t0, j * s.workers + this.task.workerIndex, s.rate);
  }

  measured(j: number): boolean {
    return j * this.task.schedule.workers + this.task.workerIndex >= this.task.warmupOrders;
  }

  outstanding(): number {
    return this.sent - this.acked - this.rejected;
  }

  count(counter: number, value: number): void {
    Atomics.store(this.control, counterIndex(this.task.workerIndex, counter), value);
  }

  onReply(frame: Buffer, nowMs: number): void {
    const scanner = this.scanner;
    scanner.scan(frame);
    if (scanner.kind !== ReplyKind.ACK && scanner.kind !== ReplyKind.REJECT) return;
    const j = scanner.seq;
    if (j < 0 || j >= this.orders) {
      this.unmatched++;
      return;
    }
    if (this.state[j] !== State.SENT) {
      this.duplicates++;
      return;
    }
    if (scanner.kind === ReplyKind.ACK) {
      this.state[j] = State.ACKED;
      this.acked++;
      this.count(Counter.ACKED, this.acked);
      if (this.measured(j)) recordLatencyMs(this.latency, nowMs - this.intended(j));
    } else {
      this.state[j] = State.REJECTED;
      this.rejected++;
      this.count(Counter.REJECTED, this.rejected);
      const reason = rejectReasonOf(frame);
      this.rejectReasons[reason] = (this.rejectReasons[reason] ?? 0) + 1;
    }
    if (this.sent + this.unsent === this.orders && this.outstanding() === 0) this.onSettled();
  }

  send(j: number): void {
    const ws = this.sockets[j % this.task.connections];
    if (ws === null || ws.readyState !== WebSocket.OPEN) {
      this.state[j] = State.UNSENT;
      this.unsent++;
      this.count(Counter.FAILED, this.unsent);
      return;
    }
    const text = orderText(this.task.order, this.clOrdPrefix, j, this.task.connections);
    const lag = monoNowMs() - this.intended(j);
    ws.send(text);
    this.state[j] = State.SENT;
    this.sent++;
    if (this.measured(j)) recordLatencyMs(this.sendLag, lag);
  }
}

/** Opens connection k and resolves once the server's hello (or any first frame) arrived. */
function connect(s: LoadState, k: number): Promise<void> {
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
      s.sockets[k] = null;
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
        s.sockets[k] = ws;
        resolve();
        return;
      }
      s.onReply(data as Buffer, now);
    });
  });
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

function recordTimeouts(s: LoadState, deadlineMs: number): number {
  let timedOut = 0;
  for (let j = 0; j < s.orders; j++) {
    if (s.state[j] !== State.SENT) continue;
    timedOut++;
    if (s.measured(j)) recordLatencyMs(s.latency, deadlineMs - s.intended(j));
  }
  return timedOut;
}

async function closeAll(s: LoadState): Promise<void> {
  s.closing = true;
  await Promise.all(s.sockets.map((ws) => new Promise<void>((resolve) => {
    if (ws === null || ws.readyState === WebSocket.CLOSED) return resolve();
    const timer = setTimeout(() => { ws.terminate(); resolve(); }, 1000);
    ws.once('close', () => { clearTimeout(timer); resolve(); });
    ws.close(1000, 'load done');
  })));
}

export default async function runLoadWorker(task: OpenLoopTask): Promise<OpenLoopWorkerResult> {
  const s = new LoadState(task);
  await Promise.all(Array.from({ length: task.connections }, (_, k) => connect(s, k)));
  Atomics.add(s.control, READY, 1);
  Atomics.notify(s.control, READY);
  await waitWhile(s.control, GO, GO_WAIT);
  s.t0 = new Float64Array(task.control)[T0_F64_INDEX];
  await sendAll(s);
  const deadline = await drain(s);
  const timedOut = recordTimeouts(s, deadline);
  await closeAll(s);
  const result: OpenLoopWorkerResult = {
    workerIndex: task.workerIndex,
    threadId,
    histogram: encodeHistogram(s.latency),
    sendLag: encodeHistogram(s.sendLag),
    orders: s.orders,
    sent: s.sent,
    acked: s.acked,
    rejected: s.rejected,
    timedOut,
    // Down connections, and orders an abort left behind.
    unsent: s.orders - s.sent,
    duplicates: s.duplicates,
    unmatched: s.unmatched,
    connectErrors: s.connectErrors,
    disconnects: s.disconnects,
    rejectReasons: s.rejectReasons,
  };
  s.latency.destroy();
  s.sendLag.destroy();
  return result;
}
