/**
 * Worker script for engine/ring-gate.threads.test.ts: the producer and the gate's publisher of a
 * gated ring, each on its own thread. Plain Node, no vitest imports.
 *
 * - 'producer': writes `total` records, record i (from 1) carrying i in its first 8 bytes, in
 *   seeded random batches, retrying on FULL; stores how many it committed in
 *   control[WRITTEN_INDEX] (as the journal feed's count would be). A RECORD_TYPE record is
 *   stamped with mark i; with `plainShare` > 0 that share of records is PLAIN_TYPE (waits for
 *   nothing). With `gateMarks`, the producer reads marks as GATE_MARKS does, so a commit whose
 *   first record the gate holds leaves a parked consumer to the publisher (engine/ring.ts).
 * - 'publisher': publishes gate values that grow by seeded random steps, never past what the
 *   producer committed, pausing now and then (a slow fsync) so the consumer parks and must be
 *   woken by the publish; ends at `total`.
 */

import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Mulberry32 } from './prng.ts';
import { Doorbell } from './doorbell.ts';
import { FULL, RingGate, RingProducer, type GateMarkReader, type RingMemory } from './ring.ts';

export const WRITTEN_INDEX = 0;
export const CONTROL_WORDS = 16;
export const RECORD_TYPE = 3;
export const PLAIN_TYPE = 4;
export const BODY_LENGTH = 16;

/** A RECORD_TYPE record's mark is its first 8 bytes; a PLAIN_TYPE one waits for nothing. */
export const GATE_MARKS: GateMarkReader = {
  markOf(view: DataView, typeId: number, offset: number): number {
    return typeId === RECORD_TYPE ? view.getFloat64(offset, true) : 0;
  },
};

export interface GateStressRole {
  role: 'producer' | 'publisher';
  memory: RingMemory;
  doorbell: SharedArrayBuffer;
  control: SharedArrayBuffer;
  total: number;
  seed: number;
  /** Share of records written PLAIN_TYPE (producer). */
  plainShare: number;
  /** The producer reads marks (GATE_MARKS) and leaves a parked consumer to the gate. */
  gateMarks: boolean;
}

function rng(seed: number): () => number {
  const r = new Mulberry32(seed);
  return () => r.nextFloat();
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function produce(r: GateStressRole): number {
  const producer = new RingProducer(r.memory, new Doorbell(r.doorbell), r.gateMarks ? GATE_MARKS : null);
  const control = new Int32Array(r.control);
  const random = rng(r.seed);
  let written = 0;
  while (written < r.total) {
    const batch = Math.min(r.total - written, 1 + Math.floor(random() * 40));
    let n = 0;
    while (n < batch) {
      const at = producer.tryClaim(random() < r.plainShare ? PLAIN_TYPE : RECORD_TYPE, BODY_LENGTH);
      if (at === FULL) break;
      producer.view.setFloat64(at, written + n + 1, true);
      producer.view.setFloat64(at + 8, (written + n + 1) * 3, true);
      n++;
    }
    producer.commit();
    written += n;
    Atomics.store(control, WRITTEN_INDEX, written);
    if (n < batch) sleepMs(0.05);
    else if (random() < 0.01) sleepMs(1);
  }
  return producer.wakesLeftToGate;
}

function publish(r: GateStressRole): number {
  const gate = new RingGate(r.memory, new Doorbell(r.doorbell));
  const control = new Int32Array(r.control);
  const random = rng(r.seed ^ 0x5bd1e995);
  let value = 0;
  while (value < r.total) {
    const written = Atomics.load(control, WRITTEN_INDEX);
    const next = Math.min(written, value + 1 + Math.floor(random() * 60));
    if (next > value) {
      value = next;
      gate.publish(value);
    }
    // A slow flush now and then: the consumer runs into the gate, parks, and needs the wake.
    sleepMs(random() < 0.05 ? 2 : 0.02);
  }
  return gate.wakeCount;
}

if (!isMainThread) {
  const role = workerData as GateStressRole;
  parentPort!.postMessage(role.role === 'producer' ? produce(role) : publish(role));
}
