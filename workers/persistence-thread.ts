/** Thread entry of the persistence stage: the journal writer on this thread's event loop. */
import { parentPort, workerData } from 'node:worker_threads';
import { HeartbeatAgent } from '../engine/heartbeat.ts';
import { SystemClock } from '../engine/clock.ts';
import { EventLoopRunner } from '../engine/runner.ts';
import { Doorbell } from '../engine/doorbell.ts';
import { RingGate } from '../engine/ring.ts';
import { JournalWriter } from '../persistence/journal.ts';
import { JournalStage } from '../persistence/journal-stage.ts';
import { RINGS, StageWiring, type RingName } from './topology.ts';
import type { WorkerData } from './worker-data.ts';
import { sampleThisThread } from './metrics/runtime-sampler.ts';

const data = workerData as WorkerData;
const { config } = data;
const wiring = new StageWiring('persistence', data.memory);
const clock = new SystemClock(data.engineEpochMs);
const journal = new JournalWriter(config.journal.dir, config.journal.fsync, config.journal.fsyncIntervalMs, 1 << 20, {
  segmentBytes: config.journal.segmentBytes,
  engineEpochMs: data.engineEpochMs,
});
/** The gate of a ring that carries reports to clients, waking that ring's consumer when it waits. */
function gateOf(ring: RingName): RingGate {
  return new RingGate(data.memory.rings[ring], new Doorbell(data.memory.doorbells[RINGS[ring][1]]));
}
// Risk's commands and events, and the SOR's ROUTE_AUDIT records: one flush per cycle for both.
// Reports and positions on their way to WebSocket/REST clients (ingest) and FIX clients (the
// fix thread) leave only once the risk feed's records they are stamped with are durable.
const stage = new JournalStage(
  [wiring.consumer('riskToPersistence'), wiring.consumer('sorToPersistence')],
  journal,
  wiring.counters,
  [[gateOf('riskToIngest'), gateOf('riskToFix')], []],
);
const agent = new HeartbeatAgent(stage, wiring.counters, clock);
const runner = new EventLoopRunner(agent, wiring.doorbell, config.idle.kind === 'spin' ? 'park' : config.idle.kind, config.idle, wiring.counters);

parentPort!.on('message', (msg: { type: string }) => {
  if (msg.type === 'stop') {
    // Drain what is left, flush, fsync, close: the last stage to stop.
    runner.stop();
    while (stage.doWork() > 0);
    journal.close();
    parentPort!.postMessage({ type: 'stopped', stage: 'persistence' });
  }
});
runner.start();
sampleThisThread(data, 'persistence'); // event-loop delay, GC, heap into shared memory
parentPort!.postMessage({ type: 'ready', stage: 'persistence', detail: { journal: journal.path } });
