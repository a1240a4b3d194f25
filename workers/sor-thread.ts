/** Thread entry of the SOR stage: builds it from the shared rings, then runs it blocking. */
import { parentPort, workerData } from 'node:worker_threads';
import { SystemClock } from '../engine/clock.ts';
import { createIdleStrategy } from '../engine/idle.ts';
import { runBlocking } from '../engine/runner.ts';
import { HeartbeatAgent } from '../engine/heartbeat.ts';
import { feeCentiBps } from './config.ts';
import { SorStage, type VenueProfile } from './sor/sor-stage.ts';
import { Control, StageWiring } from './topology.ts';
import type { WorkerData } from './worker-data.ts';

const data = workerData as WorkerData;
const { config } = data;
const wiring = new StageWiring('sor', data.memory);
const venues: (VenueProfile | null)[] = [null];
for (const v of config.venues) {
  while (venues.length <= v.id) venues.push(null);
  venues[v.id] = { feeCentiBps: feeCentiBps(v.feeBps), latencyUs: v.latencyUs, fillProbability: v.fillProbability };
}
const clock = new SystemClock(data.engineEpochMs);
const stage = new SorStage(
  {
    venues,
    symbolCount: config.symbols.length,
    weights: config.sor.weights,
    quoteStaleNs: config.sor.quoteStaleMs * 1e6,
    childIdBase: data.childIdBase,
  },
  { fromRisk: wiring.consumer('riskToSor'), fromFix: wiring.consumer('fixToSor'), toFix: wiring.producer('sorToFix') },
  clock,
  wiring.counters,
);
const agent = new HeartbeatAgent(stage, wiring.counters, clock);
const idle = createIdleStrategy(config.idle.kind, wiring.doorbell, agent, config.idle);
parentPort!.postMessage({ type: 'ready', stage: 'sor' });
runBlocking(agent, idle, new Int32Array(data.memory.control, Control.STOP * 4, 1));
parentPort!.postMessage({ type: 'stopped', stage: 'sor' });
