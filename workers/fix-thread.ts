/** Thread entry of the fix stage: venue initiator sessions on this thread's event loop. */
import { parentPort, workerData } from 'node:worker_threads';
import { SystemClock } from '../engine/clock.ts';
import { HeartbeatAgent } from '../engine/heartbeat.ts';
import { EventLoopRunner } from '../engine/runner.ts';
import { FixInitiator } from '../fix/tcp.ts';
import { FixStage } from './fix/fix-stage.ts';
import { StageWiring } from './topology.ts';
import type { WorkerData } from './worker-data.ts';

const data = workerData as WorkerData;
const { config } = data;
const wiring = new StageWiring('fix', data.memory);
const clock = new SystemClock(data.engineEpochMs);
const accounts: string[] = [];
for (const a of config.accounts) {
  while (accounts.length <= a.id) accounts.push('');
  accounts[a.id] = a.name;
}
const stage = new FixStage(
  config.venues.map((v) => ({ venueId: v.id, name: v.name, senderCompId: v.senderCompId, targetCompId: v.targetCompId, heartBtIntS: v.heartBtIntS })),
  config.symbols.map((s) => s.name),
  accounts,
  data.childIdBase,
  config.childCapacity,
  { fromSor: wiring.consumer('sorToFix'), fromRisk: wiring.consumer('riskToFix'), toRisk: wiring.producer('fixToRisk'), toSor: wiring.producer('fixToSor') },
  clock,
  wiring.counters,
);
const agent = new HeartbeatAgent(stage, wiring.counters, clock);
const runner = new EventLoopRunner(agent, wiring.doorbell, config.idle.kind, config.idle);
stage.onOutput = () => runner.kick();

const initiators = config.venues.map((v) => new FixInitiator({
  host: v.host,
  port: v.port,
  session: stage.sessions[v.id]!,
  reconnectMinMs: 100,
  reconnectMaxMs: 5000,
}));

parentPort!.on('message', async (msg: { type: string }) => {
  if (msg.type === 'stop') {
    await Promise.all(initiators.map((i) => i.stop()));
    runner.stop();
    parentPort!.postMessage({ type: 'stopped', stage: 'fix' });
  }
});

for (const i of initiators) i.start();
runner.start();
parentPort!.postMessage({
  type: 'ready',
  stage: 'fix',
  detail: { venues: config.venues.map((v) => `${v.name}@${v.host}:${v.port}`) },
});
