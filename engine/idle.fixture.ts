/**
 * Worker script for engine/idle.test.ts: a consumer thread that drains one ring with runBlocking
 * and the idle strategy it is given, until it has received `total` records. Plain Node, no
 * vitest imports (the worker does not run inside vitest).
 */

import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { Agent } from './agent.ts';
import { Doorbell } from './doorbell.ts';
import { ParkIdle, createIdleStrategy, type IdleKind, type IdleOptions } from './idle.ts';
import { RingConsumer, type RecordHandler, type RingMemory } from './ring.ts';
import { runBlocking } from './runner.ts';

export interface IdleConsumerRole {
  memory: RingMemory;
  doorbell: SharedArrayBuffer;
  /** Two words: [0] set to 1 by this worker when it has received `total` records; [1] records received so far. */
  stop: SharedArrayBuffer;
  total: number;
  strategy: IdleKind;
  options: IdleOptions;
}

export interface IdleConsumerResult {
  typeIds: number[];
  parkCount: number;
}

class Receiver implements Agent, RecordHandler {
  readonly consumer: RingConsumer;
  readonly stop: Int32Array;
  readonly total: number;
  readonly typeIds: number[];

  constructor(role: IdleConsumerRole) {
    this.consumer = new RingConsumer(role.memory);
    this.stop = new Int32Array(role.stop);
    this.total = role.total;
    this.typeIds = [];
  }

  doWork(): number {
    return this.consumer.poll(this, 16);
  }

  onRecord(typeId: number): void {
    this.typeIds.push(typeId);
    Atomics.store(this.stop, 1, this.typeIds.length);
    if (this.typeIds.length === this.total) Atomics.store(this.stop, 0, 1);
  }
}

if (!isMainThread && workerData !== null) {
  const role = workerData as IdleConsumerRole;
  const agent = new Receiver(role);
  const idle = createIdleStrategy(role.strategy, new Doorbell(role.doorbell), agent, role.options);
  runBlocking(agent, idle, agent.stop);
  const result: IdleConsumerResult = { typeIds: agent.typeIds, parkCount: idle instanceof ParkIdle ? idle.parkCount : 0 };
  parentPort!.postMessage(result);
}
