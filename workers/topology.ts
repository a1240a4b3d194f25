/**
 * The one module that wires the pipeline: every ring, its producer and its consumer, and every
 * stage's doorbell and counters. The supervisor creates this memory once and hands each worker
 * the same object; a worker takes the ends it owns by name.
 *
 *   (1) ingest ──ingestToRisk──▶ (3) risk ──riskToSor──▶ (4) sor ──sorToFix──▶ (5) fix ──FIX 35=D──▶ venues
 *          ▲                       │  ▲                      ▲                      │
 *          └────riskToIngest───────┘  └──────fixToRisk───────┼──────────────────────┘ (35=8, ROUTE_DONE)
 *                                  │                         └──────fixToSor─────────┘ (venue status, quotes)
 *                                  ├──riskToFix──▶ (5) fix (reports for FIX clients)
 *                                  └──riskToPersistence──▶ (6) persistence (journal)
 *   (4) sor ──sorToPersistence──▶ (6) persistence (ROUTE_AUDIT)   (4) sor ──sorToIngest──▶ (1) ingest (route view; quiet)
 *
 * Every arrow is one SPSC ring. A stage that consumes several rings shares one doorbell among
 * them, so it can park on all at once.
 *
 * Threads (config `threading`): the stages are Agents, so several can share a thread. A thread's
 * stages share one doorbell (every ring into any of them rings it), and the thread runs them in
 * pipeline order each duty cycle (engine/composite-agent.ts).
 *   dedicated  one thread per stage (5): for hosts with a core per stage
 *   paired     risk+sor on one blocking thread, ingest+fix on one event loop, persistence (3)
 *   shared     ingest+risk+sor+fix on one event loop, persistence on its own (2)
 * Persistence always keeps its thread: its fdatasync would stall any stage beside it.
 */

import { COUNTERS_PER_STAGE, StageCounters } from '../engine/counters.ts';
import { Doorbell, DOORBELL_LENGTH } from '../engine/doorbell.ts';
import { KillBoard } from './risk/kill-board.ts';
import { createRingMemory, RingConsumer, RingPositions, RingProducer, type RingMemory } from '../engine/ring.ts';
import { JOURNAL_MARKS } from '../codecs/records.ts';

export const STAGES = ['ingest', 'risk', 'sor', 'fix', 'persistence'] as const;
export type StageName = (typeof STAGES)[number];

export const THREADING_MODES = ['dedicated', 'paired', 'shared'] as const;
export type ThreadingMode = (typeof THREADING_MODES)[number];

/** What config `threading` accepts: a mode, or `auto` (threadingForCores of the cores this process may use; opt-in). */
export const THREADING_SETTINGS = [...THREADING_MODES, 'auto'] as const;
export type ThreadingSetting = (typeof THREADING_SETTINGS)[number];

/**
 * The mode for a host with `cores` cores available to the process (os.availableParallelism(),
 * which counts only the CPUs its affinity mask allows, so a pinned process counts its pins).
 * With fewer cores than stage threads, every order pays for threads waking each other and waiting
 * for a core: on 2 cores `shared` halved the median ack and the engine's CPU at 1,000 orders/s
 * against `dedicated` (README, bench:ws), though its p99 at 10,000/s was no better. `paired`
 * below 6 cores and `dedicated` from 6 follow docs/TUNING.md's layout (a core per stage thread
 * plus one for main and V8's helpers); only the 2-core case was measured here. Not the default:
 * DESIGN.md lays the engine out as a thread per stage.
 */
export function threadingForCores(cores: number): ThreadingMode {
  if (cores <= 2) return 'shared';
  if (cores <= 5) return 'paired';
  return 'dedicated';
}

/**
 * The engine's threads, in start order, each with its stages in start order. Consumers start
 * before producers (no ring fills before its reader runs), and risk before sor and fix (they
 * issue this boot's children from the base risk's recovery chose).
 */
export function threadGroups(mode: ThreadingMode): StageName[][] {
  switch (mode) {
    case 'dedicated':
      return [['persistence'], ['risk'], ['sor'], ['fix'], ['ingest']];
    case 'paired':
      return [['persistence'], ['risk', 'sor'], ['fix', 'ingest']];
    case 'shared':
      return [['persistence'], ['risk', 'sor', 'fix', 'ingest']];
  }
}

/**
 * A thread's stages in the order of its duty cycle: the way an order flows (STAGES is listed in
 * pipeline order). The first one leads the thread: its counters get the thread's parks.
 */
export function stagesInDutyOrder(stages: readonly StageName[]): StageName[] {
  return STAGES.filter((s) => stages.includes(s));
}

/** Stages that never need their thread's event loop (no socket, timer or file callback). */
export const COMPUTE_STAGES: readonly StageName[] = ['risk', 'sor'];

/** A thread of compute stages alone loops blocking (engine/runner.ts runBlockingWithTurns); any other runs its event loop. */
export function runsBlocking(stages: readonly StageName[]): boolean {
  return stages.every((s) => COMPUTE_STAGES.includes(s));
}

/** Each ring: [producer, consumer]. */
export const RINGS = {
  ingestToRisk: ['ingest', 'risk'],
  fixToRisk: ['fix', 'risk'],
  riskToIngest: ['risk', 'ingest'],
  riskToFix: ['risk', 'fix'],
  riskToSor: ['risk', 'sor'],
  sorToFix: ['sor', 'fix'],
  fixToSor: ['fix', 'sor'],
  riskToPersistence: ['risk', 'persistence'],
  sorToPersistence: ['sor', 'persistence'],
  sorToIngest: ['sor', 'ingest'],
} as const satisfies Record<string, readonly [StageName, StageName]>;
export type RingName = keyof typeof RINGS;

/**
 * The journal's feeds, in the order the persistence stage drains them, and per feed the rings
 * whose records leave the process only once the feed's records they are stamped with are durable
 * (persistence/journal-stage.ts, engine/ring.ts RingGate): reports to WebSocket/REST and FIX
 * clients wait for risk's events; child orders to venues wait for the SOR's ROUTE_AUDIT.
 */
export const JOURNAL_FEEDS: readonly { feed: RingName; gates: readonly RingName[] }[] = [
  { feed: 'riskToPersistence', gates: ['riskToIngest', 'riskToFix'] },
  { feed: 'sorToPersistence', gates: ['sorToFix'] },
];

/** The rings whose consumer waits for a journal gate: their producers leave a parked consumer to the gate's publish (engine/ring.ts). */
export const GATED_RINGS: readonly RingName[] = JOURNAL_FEEDS.flatMap((f) => f.gates);

/**
 * Rings whose producer does not wake a parked consumer (until half the ring waits: engine/ring.ts
 * RingProducer quiet): nothing waits on their records at once. The SOR's route audits for GET
 * /v1/orders/{id}/route: ingest drains them in every duty cycle (woken anyway, for the order's ack
 * and fills, or by its sleep bound) and before it answers that route, so the route is as fresh as
 * before and ingest is woken once less per routing decision.
 */
export const QUIET_RINGS: readonly RingName[] = ['sorToIngest'];

/** Control words shared by all threads. */
export const Control = {
  /** 0 running, 1 stop requested (runBlockingWithTurns' stop word). */
  STOP: 0,
  /** EngineState (workers/ingest/ingest-stage.ts). */
  ENGINE_STATE: 1,
} as const;

export interface TopologyMemory {
  rings: Record<RingName, RingMemory>;
  doorbells: Record<StageName, SharedArrayBuffer>;
  counters: Record<StageName, SharedArrayBuffer>;
  control: SharedArrayBuffer;
  /** The kill switch's words, ingest -> risk beside the rings (workers/risk/kill-board.ts). */
  killBoard: SharedArrayBuffer;
}

/**
 * groups: the threads (threadGroups); the stages of one thread share one doorbell. accountSlots:
 * account ids 0 (every account) .. accountSlots - 1, for the kill board.
 */
export function createTopology(ringBytes: number, groups: StageName[][], accountSlots: number): TopologyMemory {
  const rings = {} as Record<RingName, RingMemory>;
  for (const name of Object.keys(RINGS) as RingName[]) rings[name] = createRingMemory(ringBytes);
  const doorbells = {} as Record<StageName, SharedArrayBuffer>;
  const counters = {} as Record<StageName, SharedArrayBuffer>;
  for (const group of groups) {
    const bell = new SharedArrayBuffer(DOORBELL_LENGTH);
    for (const stage of group) doorbells[stage] = bell;
  }
  for (const stage of STAGES) {
    if (doorbells[stage] === undefined) throw new Error(`Invariant: stage ${stage} is on no thread`);
    counters[stage] = new SharedArrayBuffer(COUNTERS_PER_STAGE * 8);
  }
  return { rings, doorbells, counters, control: new SharedArrayBuffer(64), killBoard: KillBoard.create(accountSlots).sab };
}

/** What one stage's thread builds from the shared memory. */
export class StageWiring {
  readonly stage: StageName;
  readonly memory: TopologyMemory;
  readonly doorbell: Doorbell;
  readonly counters: StageCounters;
  /** Control.STOP alone: runBlockingWithTurns' stop word (0 running, STOP_REQUESTED). */
  readonly stopWord: Int32Array;
  /** Control.ENGINE_STATE alone: the EngineState (workers/ingest/ingest-stage.ts) set by the supervisor. */
  readonly engineState: Int32Array;

  constructor(stage: StageName, memory: TopologyMemory) {
    this.stage = stage;
    this.memory = memory;
    this.doorbell = new Doorbell(memory.doorbells[stage]);
    this.counters = new StageCounters(memory.counters[stage]);
    this.stopWord = new Int32Array(memory.control, Control.STOP * 4, 1);
    this.engineState = new Int32Array(memory.control, Control.ENGINE_STATE * 4, 1);
  }

  /**
   * The producer end of a ring this stage writes; rings the consumer's doorbell on commit (for a
   * gated ring, unless the journal gate holds what it committed: the gate's publish rings then;
   * for a quiet ring, only once half of it waits).
   */
  producer(ring: RingName): RingProducer {
    const [producer, consumer] = RINGS[ring];
    if (producer !== this.stage) throw new Error(`Invariant: ${this.stage} produces ${ring} (its producer is ${producer})`);
    return new RingProducer(this.memory.rings[ring], new Doorbell(this.memory.doorbells[consumer]), GATED_RINGS.includes(ring) ? JOURNAL_MARKS : null, this.counters, QUIET_RINGS.includes(ring));
  }

  /**
   * The consumer end of a ring this stage reads; when it frees room the ring's producer found
   * short, it rings the producer's doorbell (not when both stages share a thread: that thread is
   * awake while it consumes).
   */
  consumer(ring: RingName): RingConsumer {
    const [producer, consumer] = RINGS[ring];
    if (consumer !== this.stage) throw new Error(`Invariant: ${this.stage} consumes ${ring} (its consumer is ${consumer})`);
    const producerBell = this.memory.doorbells[producer];
    const sameThread = producerBell === this.memory.doorbells[consumer];
    return new RingConsumer(this.memory.rings[ring], sameThread ? null : new Doorbell(producerBell), this.counters);
  }
}

/**
 * Bytes waiting in every ring, read from any thread (the supervisor drains to zero before it
 * stops the workers; /health and /metrics show them), each ring's views built once.
 */
export class RingDepths {
  /** Each ring's positions, by name (the stall watch reads the same ones). */
  readonly positions: Readonly<Record<RingName, RingPositions>>;

  constructor(memory: TopologyMemory) {
    const positions = {} as Record<RingName, RingPositions>;
    for (const name of Object.keys(RINGS) as RingName[]) positions[name] = new RingPositions(memory.rings[name]);
    this.positions = positions;
  }

  read(): Record<RingName, number> {
    const out = {} as Record<RingName, number>;
    for (const name of Object.keys(this.positions) as RingName[]) out[name] = this.positions[name].depthBytes();
    return out;
  }
}
