/** Thread entry of the risk stage: builds it from the shared rings, then runs it blocking. */
import { parentPort, workerData } from 'node:worker_threads';
import { SystemClock } from '../engine/clock.ts';
import { createIdleStrategy } from '../engine/idle.ts';
import { runBlocking } from '../engine/runner.ts';
import { HeartbeatAgent } from '../engine/heartbeat.ts';
import { RiskStage } from './risk/risk-stage.ts';
import { riskConfigFrom } from './risk/risk-config.ts';
import { Control, StageWiring } from './topology.ts';
import type { WorkerData } from './worker-data.ts';
import { withGcPolling } from './metrics/runtime-sampler.ts';
import { Histogram, MetricsViews, type MetricsWorkerData } from './metrics/metrics-memory.ts';

const data = workerData as WorkerData;
const { config } = data;
const wiring = new StageWiring('risk', data.memory);
const clock = new SystemClock(data.engineEpochMs);
const stage = new RiskStage(
  // Limits, collars, session and market-data settings: workers/risk/risk-config.ts.
  riskConfigFrom(config, data.childIdBase),
  {
    fromIngest: wiring.consumer('ingestToRisk'),
    fromFix: wiring.consumer('fixToRisk'),
    toIngest: wiring.producer('riskToIngest'),
    toFixClients: wiring.producer('riskToFix'),
    toSor: wiring.producer('riskToSor'),
    toPersistence: wiring.producer('riskToPersistence'),
  },
  clock,
  wiring.counters,
  (workerData as MetricsWorkerData).metrics === undefined ? null : new MetricsViews((workerData as MetricsWorkerData).metrics!).histogram(Histogram.RISK_INGEST_TO_RISK),
);
// GC pauses and heap sampled between duty cycles (the event loop never runs here).
const agent = withGcPolling(new HeartbeatAgent(stage, wiring.counters, clock), data, 'risk');
const idle = createIdleStrategy(config.idle.kind, wiring.doorbell, agent, config.idle);
parentPort!.postMessage({ type: 'ready', stage: 'risk' });
runBlocking(agent, idle, new Int32Array(data.memory.control, Control.STOP * 4, 1));
parentPort!.postMessage({ type: 'stopped', stage: 'risk' });
