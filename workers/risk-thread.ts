/** Thread entry of the risk stage: builds it from the shared rings, then runs it blocking. */
import { parentPort, workerData } from 'node:worker_threads';
import { SystemClock } from '../engine/clock.ts';
import { createIdleStrategy } from '../engine/idle.ts';
import { runBlocking } from '../engine/runner.ts';
import { HeartbeatAgent } from '../engine/heartbeat.ts';
import { decimalToTicks } from './config.ts';
import { RiskStage, type AccountLimits } from './risk/risk-stage.ts';
import { Control, StageWiring } from './topology.ts';
import type { WorkerData } from './worker-data.ts';

const data = workerData as WorkerData;
const { config } = data;
const wiring = new StageWiring('risk', data.memory);
const accounts: (AccountLimits | null)[] = [];
for (const a of config.accounts) {
  while (accounts.length <= a.id) accounts.push(null);
  accounts[a.id] = { maxOrderQty: a.maxOrderQty, maxOrderNotionalTicks: decimalToTicks(a.maxOrderNotional), enabled: a.enabled };
}
const clock = new SystemClock(data.engineEpochMs);
const stage = new RiskStage(
  {
    orderCapacity: config.orderCapacity,
    childCapacity: config.childCapacity,
    firstOrderId: 1,
    childIdBase: data.childIdBase,
    accounts,
    referencePriceTicks: config.symbols.map((s) => decimalToTicks(s.referencePrice)),
  },
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
);
const agent = new HeartbeatAgent(stage, wiring.counters, clock);
const idle = createIdleStrategy(config.idle.kind, wiring.doorbell, agent, config.idle);
parentPort!.postMessage({ type: 'ready', stage: 'risk' });
runBlocking(agent, idle, new Int32Array(data.memory.control, Control.STOP * 4, 1));
parentPort!.postMessage({ type: 'stopped', stage: 'risk' });
