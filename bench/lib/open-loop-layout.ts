/**
 * What the open-loop generator's threads share: the control words in one SharedArrayBuffer, and
 * the schedule every thread computes alike.
 *
 * Schedule: order i of a run (i = 0 .. total-1) is intended to leave at t0 + i / rate. Worker w
 * of W owns orders i = j*W + w (its own sequence j = 0, 1, ...), and sends order j on its
 * connection j mod K. Intended times are fixed before the run starts and never move, whatever
 * the server does: latency is measured from them, so a stall shows as the queue it causes.
 *
 * Control buffer (Int32 words; each worker's block is 128 bytes, pacer-written word and
 * worker-written counters on separate 64-byte lines):
 *
 *   word 0        GO           0 wait, 1 go (t0 is set), 2 abort
 *   word 1        READY        workers whose connections are all open
 *   word 2        PACER_DONE   1 once the pacer has published every order
 *   word 3        SLEEP        the pacer sleeps on it (main notifies it to abort)
 *   float64 at byte 32         T0_MS (monotonic ms, bench/lib/mono-clock.ts)
 *   block w at byte 128 + w*128:
 *     +0          PUBLISHED    orders of worker w due so far (written by the pacer only)
 *     +64         SENT, ACKED, REJECTED, FAILED   progress counters (written by worker w only)
 */

export const GO = 0;
export const READY = 1;
export const PACER_DONE = 2;
export const SLEEP = 3;
export const GO_WAIT = 0;
export const GO_RUN = 1;
export const GO_ABORT = 2;
export const T0_F64_INDEX = 4; // byte 32
const HEADER_BYTES = 128;
const BLOCK_BYTES = 128;
const PUBLISHED_WORD = 0;
const COUNTERS_WORD = 16;
export const Counter = { SENT: 0, ACKED: 1, REJECTED: 2, FAILED: 3 } as const;

if (T0_F64_INDEX * 8 + 8 > HEADER_BYTES) throw new Error('Invariant: header words fit in the header');
if (COUNTERS_WORD * 4 + 4 * 4 > BLOCK_BYTES) throw new Error('Invariant: counters fit in a worker block');

export function controlBytes(workers: number): number {
  return HEADER_BYTES + workers * BLOCK_BYTES;
}

/** Index of worker w's PUBLISHED word in the Int32Array view. */
export function publishedIndex(w: number): number {
  return (HEADER_BYTES + w * BLOCK_BYTES) / 4 + PUBLISHED_WORD;
}

/** Index of one of worker w's progress counters in the Int32Array view. */
export function counterIndex(w: number, counter: number): number {
  return (HEADER_BYTES + w * BLOCK_BYTES) / 4 + COUNTERS_WORD + counter;
}

export interface Schedule {
  /** Orders per second, all workers together. */
  rate: number;
  workers: number;
  /** Orders in the whole run, warm-up included. */
  total: number;
}

/** Intended send time of order i of the run (monotonic ms). */
export function intendedMs(t0: number, i: number, rate: number): number {
  return t0 + (i * 1000) / rate;
}

/** How many of the first n orders of the run belong to worker w. */
export function ordersOfWorker(n: number, w: number, workers: number): number {
  return n > w ? Math.floor((n - 1 - w) / workers) + 1 : 0;
}

/** Orders of worker w whose intended time is at or before nowMs. */
export function dueOfWorker(s: Schedule, t0: number, nowMs: number, w: number): number {
  if (nowMs < t0) return 0;
  let due = Math.floor(((nowMs - t0) * s.rate) / 1000) + 1;
  // Float rounding must neither let an order leave before its intended time nor hold it back.
  while (due > 0 && intendedMs(t0, due - 1, s.rate) > nowMs) due--;
  while (due < s.total && intendedMs(t0, due, s.rate) <= nowMs) due++;
  return ordersOfWorker(Math.min(due, s.total), w, s.workers);
}
