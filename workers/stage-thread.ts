/**
 * The one thread entry of the engine's stages: runs the stages workerData.stages names
 * (workers/topology.ts threadGroups), one or several, on this thread.
 *
 * The stages are built in the order given (risk's recovery first: sor and fix on the same thread
 * take the child-id base it chose), then run in pipeline order each duty cycle
 * (engine/composite-agent.ts), behind the one doorbell they share:
 * - a thread of compute stages alone (risk, sor) loops blocking (engine/runner.ts
 *   runBlockingWithTurns), leaving for one event-loop turn every BLOCKING_TURN_EVERY_MS (its GC
 *   entries and metrics timer run then); the supervisor ends it through the stop word;
 * - a thread with any stage that owns sockets, timers or file callbacks (ingest, fix,
 *   persistence) runs an EventLoopRunner, and answers the supervisor's per-stage 'stop'.
 * Runtime metrics (GC, heap, CPU, event-loop delay) are this thread's, under the name of its
 * first stage in pipeline order.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Agent } from '../engine/agent.ts';
import { SystemClock } from '../engine/clock.ts';
import { composeAgents } from '../engine/composite-agent.ts';
import { CycleClock, CycleStartAgent, HeartbeatAgent } from '../engine/heartbeat.ts';
import { StageCounters } from '../engine/counters.ts';
import { createIdleStrategy } from '../engine/idle.ts';
import { EventLoopRunner, UntilStopAgent, runBlockingWithTurns } from '../engine/runner.ts';
import { SAMPLE_PERIOD_MS, sampleThisThread } from './metrics/runtime-sampler.ts';
import type { ThreadName } from './metrics/metrics-memory.ts';
import { ThreadKick, type PartBuilder, type StagePart } from './stage-part.ts';
import { COMPUTE_STAGES, StageWiring, runsBlocking, stagesInDutyOrder, type StageName } from './topology.ts';
import type { StageThreadData, WorkerReport } from './worker-data.ts';

/** Loaded on demand: a thread imports only its own stages' modules (uWebSockets.js, the FIX stack...). */
const BUILDERS: Record<StageName, () => Promise<PartBuilder>> = {
  ingest: async () => (await import('./ingest-part.ts')).buildIngest,
  risk: async () => (await import('./risk-part.ts')).buildRisk,
  sor: async () => (await import('./sor-part.ts')).buildSor,
  fix: async () => (await import('./fix-part.ts')).buildFix,
  persistence: async () => (await import('./persistence-part.ts')).buildPersistence,
};

const data = workerData as StageThreadData;
const { config } = data;
const report = (msg: WorkerReport): void => parentPort!.postMessage(msg);
/** A blocking thread turns its event loop this often (engine/runner.ts runBlockingWithTurns). */
const BLOCKING_TURN_EVERY_MS = SAMPLE_PERIOD_MS / 4;

const kick = new ThreadKick();
// One stage reads the clock for its heartbeat; several share one read per duty cycle.
const systemClock = new SystemClock(data.engineEpochMs);
const cycleClock = data.stages.length > 1 ? new CycleClock(systemClock) : null;
const parts: StagePart[] = [];
for (const stage of data.stages) {
  const build = await BUILDERS[stage]();
  parts.push(await build({ data, kick, log: (level, msg) => report({ type: 'log', level, stage, msg }) }));
}
const inDutyOrder = stagesInDutyOrder(data.stages).map((s) => parts.find((p) => p.stage === s)!);
/** A stage's work behind its heartbeat: the thread's clock (one read per duty cycle when shared) stamps the stage's counters. */
const beating = (p: StagePart): Agent => new HeartbeatAgent(p.agent, new StageCounters(data.memory.counters[p.stage]), cycleClock ?? systemClock);
/** The thread's duty cycle: its stages in pipeline order, after the cycle clock's tick when shared. */
const dutyCycle = (agents: Agent[]): Agent => composeAgents(cycleClock === null ? agents : [new CycleStartAgent(cycleClock), ...agents]);
const first = inDutyOrder[0];
// Every stage of this thread has the same doorbell (workers/topology.ts); the first one's
// counters get the thread's parks.
const wiring = new StageWiring(first.stage, data.memory);
const thread: ThreadName = first.stage;

if (runsBlocking(data.stages)) {
  const agent = dutyCycle(inDutyOrder.map(beating));
  const idle = createIdleStrategy(config.idle.kind, wiring.doorbell, agent, config.idle, wiring.counters);
  // GC, heap and CPU sampled in the event-loop turns taken between duty cycles.
  const sampler = sampleThisThread(data, thread, false);
  for (const p of parts) report({ type: 'ready', stage: p.stage, detail: p.detail });
  await runBlockingWithTurns(agent, idle, wiring.stopWord, BLOCKING_TURN_EVERY_MS);
  sampler?.stop();
  for (const p of parts) report({ type: 'stopped', stage: p.stage });
} else {
  // The journal's thread never busy-spins: its fdatasync and file callbacks need the loop.
  const kind = data.stages.includes('persistence') && config.idle.kind === 'spin' ? 'park' : config.idle.kind;
  // Compute stages here stop at the stop word, as on a blocking thread; the others at their 'stop'.
  const agents = inDutyOrder.map((p) => (COMPUTE_STAGES.includes(p.stage) ? new UntilStopAgent(beating(p), wiring.stopWord) : beating(p)));
  const runner = new EventLoopRunner(dutyCycle(agents), wiring.doorbell, kind, config.idle, wiring.counters);
  kick.bind(runner);
  const leaveLoop = (): void => runner.stop();
  parentPort!.on('message', async (msg: { type: string; stage?: StageName }) => {
    if (msg.type !== 'stop') return;
    const part = parts.find((p) => p.stage === msg.stage);
    if (part === undefined) return;
    if (part.stop !== undefined) await part.stop(leaveLoop);
    report({ type: 'stopped', stage: part.stage });
  });
  runner.start();
  for (const p of parts) if (p.start !== undefined) await p.start();
  sampleThisThread(data, thread); // event-loop delay, GC, heap, CPU into shared memory
  for (const p of parts) report({ type: 'ready', stage: p.stage, detail: p.detail });
}
