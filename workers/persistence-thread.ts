/** Thread entry of the persistence stage: the journal writer on this thread's event loop. */
import { parentPort, workerData } from 'node:worker_threads';
import { HeartbeatAgent } from '../engine/heartbeat.ts';
import { SystemClock } from '../engine/clock.ts';
import { EventLoopRunner } from '../engine/runner.ts';
import { JournalWriter } from '../persistence/journal.ts';
import { JournalStage } from '../persistence/journal-stage.ts';
import { StageWiring } from './topology.ts';
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
// Risk's commands and events, and the SOR's ROUTE_AUDIT records: one flush per cycle for both.
const stage = new JournalStage([wiring.consumer('riskToPersistence'), wiring.consumer('sorToPersistence')], journal, wiring.counters);
const agent = new HeartbeatAgent(stage, wiring.counters, clock);
const runner = new EventLoopRunner(agent, wiring.doorbell, config.idle.kind === 'spin' ? 'park' : config.idle.kind, config.idle);

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
