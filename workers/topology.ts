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
 *   (4) sor ──sorToPersistence──▶ (6) persistence (ROUTE_AUDIT)   (4) sor ──sorToIngest──▶ (1) ingest (route view)
 *
 * Every arrow is one SPSC ring. A stage that consumes several rings shares one doorbell among
 * them, so it can park on all at once.
 */

import { COUNTERS_PER_STAGE, StageCounters } from '../engine/counters.ts';
import { Doorbell, DOORBELL_LENGTH } from '../engine/doorbell.ts';
import { createRingMemory, RingConsumer, RingProducer, ringDepthBytes, type RingMemory } from '../engine/ring.ts';

export const STAGES = ['ingest', 'risk', 'sor', 'fix', 'persistence'] as const;
export type StageName = (typeof STAGES)[number];

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

/** Control words shared by all threads. */
export const Control = {
  /** 0 running, 1 stop requested (runBlocking's stop word). */
  STOP: 0,
  /** EngineState (workers/ingest/ingest-stage.ts). */
  ENGINE_STATE: 1,
} as const;

export interface TopologyMemory {
  rings: Record<RingName, RingMemory>;
  doorbells: Record<StageName, SharedArrayBuffer>;
  counters: Record<StageName, SharedArrayBuffer>;
  control: SharedArrayBuffer;
}

export function createTopology(ringBytes: number): TopologyMemory {
  const rings = {} as Record<RingName, RingMemory>;
  for (const name of Object.keys(RINGS) as RingName[]) rings[name] = createRingMemory(ringBytes);
  const doorbells = {} as Record<StageName, SharedArrayBuffer>;
  const counters = {} as Record<StageName, SharedArrayBuffer>;
  for (const stage of STAGES) {
    doorbells[stage] = new SharedArrayBuffer(DOORBELL_LENGTH);
    counters[stage] = new SharedArrayBuffer(COUNTERS_PER_STAGE * 8);
  }
  return { rings, doorbells, counters, control: new SharedArrayBuffer(64) };
}

/** What one stage's thread builds from the shared memory. */
export class StageWiring {
  readonly stage: StageName;
  readonly memory: TopologyMemory;
  readonly doorbell: Doorbell;
  readonly counters: StageCounters;
  /** Control.STOP alone: runBlocking's stop word (0 running, STOP_REQUESTED). */
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

  /** The producer end of a ring this stage writes; rings the consumer's doorbell on commit. */
  producer(ring: RingName): RingProducer {
    const [producer, consumer] = RINGS[ring];
    if (producer !== this.stage) throw new Error(`Invariant: ${this.stage} produces ${ring} (its producer is ${producer})`);
    return new RingProducer(this.memory.rings[ring], new Doorbell(this.memory.doorbells[consumer]));
  }

  consumer(ring: RingName): RingConsumer {
    const [, consumer] = RINGS[ring];
    if (consumer !== this.stage) throw new Error(`Invariant: ${this.stage} consumes ${ring} (its consumer is ${consumer})`);
    return new RingConsumer(this.memory.rings[ring]);
  }
}

/** Bytes waiting in every ring: the supervisor drains to zero before it stops the workers. */
export function ringDepths(memory: TopologyMemory): Record<RingName, number> {
  const out = {} as Record<RingName, number>;
  for (const name of Object.keys(RINGS) as RingName[]) out[name] = ringDepthBytes(memory.rings[name]);
  return out;
}
