/** Thread entry of the risk stage: builds it from the shared rings, then runs it blocking. */
import { parentPort, workerData } from 'node:worker_threads';
import { SystemClock } from '../engine/clock.ts';
import { createIdleStrategy } from '../engine/idle.ts';
import { runBlocking } from '../engine/runner.ts';
import { HeartbeatAgent } from '../engine/heartbeat.ts';
import { RiskStage } from './risk/risk-stage.ts';
import { riskConfigFrom } from './risk/risk-config.ts';
import { nextChildIdBase, recoverRiskStage, recoveredRiskConfig, scanJournalBounds } from './risk/recovery.ts';
import { RiskCounter } from '../engine/counters.ts';
import { StageWiring } from './topology.ts';
import type { WorkerData } from './worker-data.ts';
import { withGcPolling } from './metrics/runtime-sampler.ts';
import { Histogram, MetricsViews, type MetricsWorkerData } from './metrics/metrics-memory.ts';

const data = workerData as WorkerData;
const { config } = data;
const wiring = new StageWiring('risk', data.memory);
const clock = new SystemClock(data.engineEpochMs);
// Recovery (workers/risk/recovery.ts): the journal is read twice before the loop starts, once
// for the id ranges the tables must be built with, once to rebuild orders, children, positions,
// limits and kill-switch modes. The persistence stage started first and has already cut a torn
// tail; nothing is appended until this stage produces.
const bounds = scanJournalBounds(config.journal.dir);
// Limits, collars, session and market-data settings: workers/risk/risk-config.ts.
const riskConfig = recoveredRiskConfig(riskConfigFrom(config, data.childIdBase), bounds);
const stage = new RiskStage(
  riskConfig,
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
const recovery = recoverRiskStage(stage, config.journal.dir);
wiring.counters.set(RiskCounter.RECOVERED_ORDERS, recovery.orders);
wiring.counters.set(RiskCounter.RECOVERED_FILLS, recovery.fills);
if (recovery.problem !== null) {
  // A corrupt journal: the state rebuilt is the prefix before the damage. Said loudly.
  parentPort!.postMessage({ type: 'log', level: 'error', stage: 'risk', msg: `journal replay stopped early: ${recovery.problem}` });
}
// The SOR and fix stages issue and track this boot's children from this base (supervisor.ts).
const childIdBase = nextChildIdBase(data.childIdBase, bounds.maxChildId, riskConfig.childCapacity);
// GC pauses and heap sampled between duty cycles (the event loop never runs here).
const agent = withGcPolling(new HeartbeatAgent(stage, wiring.counters, clock), data, 'risk');
const idle = createIdleStrategy(config.idle.kind, wiring.doorbell, agent, config.idle, wiring.counters);
parentPort!.postMessage({ type: 'ready', stage: 'risk', detail: { childIdBase, recovery } });
runBlocking(agent, idle, wiring.stopWord);
parentPort!.postMessage({ type: 'stopped', stage: 'risk' });
