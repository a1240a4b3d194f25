/**
 * The open-loop pacer: one thread that sleeps until the next intended send time and then tells
 * the load workers how many of their orders are due (their PUBLISHED words, see
 * open-loop-layout.ts), waking each with Atomics.notify.
 *
 * Why a thread of its own: timers on a Node event loop have 1 ms resolution, so a worker pacing
 * itself with setTimeout would send each order up to a millisecond late, and that lateness would
 * count as server latency (latency runs from the intended time). Atomics.wait takes fractional
 * milliseconds and sleeps on a futex, and a load worker parked in Atomics.waitAsync keeps its
 * event loop, and so its sockets, running. Wakes are at least minGapMs apart, so at high rates
 * each wake releases a small batch instead of spinning.
 *
 * Never early: an order is published only once its intended time has passed.
 */

import { workerData } from 'node:worker_threads';
import { monoNowMs } from './mono-clock.ts';
import {
  GO, GO_ABORT, GO_WAIT, PACER_DONE, SLEEP, T0_F64_INDEX,
  dueOfWorker, intendedMs, ordersOfWorker, publishedIndex, type Schedule,
} from './open-loop-layout.ts';

export interface PacerData {
  control: SharedArrayBuffer;
  schedule: Schedule;
  minGapMs: number;
}

function pace(data: PacerData): void {
  const control = new Int32Array(data.control);
  const s = data.schedule;
  while (Atomics.load(control, GO) === GO_WAIT) Atomics.wait(control, GO, GO_WAIT, 50);
  const t0 = new Float64Array(data.control)[T0_F64_INDEX];
  const owned = Array.from({ length: s.workers }, (_, w) => ordersOfWorker(s.total, w, s.workers));
  const published = new Array<number>(s.workers).fill(0);
  while (Atomics.load(control, GO) !== GO_ABORT) {
    const now = monoNowMs();
    let next = Infinity;
    for (let w = 0; w < s.workers; w++) {
      const due = dueOfWorker(s, t0, now, w);
      if (due > published[w]) {
        published[w] = due;
        Atomics.store(control, publishedIndex(w), due);
        Atomics.notify(control, publishedIndex(w));
      }
      if (published[w] < owned[w]) next = Math.min(next, intendedMs(t0, published[w] * s.workers + w, s.rate));
    }
    if (next === Infinity) break;
    const sleepMs = Math.max(next, now + data.minGapMs) - monoNowMs();
    if (sleepMs > 0) Atomics.wait(control, SLEEP, 0, sleepMs);
  }
  Atomics.store(control, PACER_DONE, 1);
}

pace(workerData as PacerData);
