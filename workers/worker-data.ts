/** What the supervisor hands every worker thread (structured-cloned; SharedArrayBuffers shared). */
import type { FollowStep } from '../persistence/snapshot-follower.ts';
import type { EngineConfig } from './config.ts';
import type { StageName, TopologyMemory } from './topology.ts';

export interface WorkerData {
  memory: TopologyMemory;
  config: EngineConfig;
  /** The supervisor's performance.timeOrigin: the engine clock's epoch. */
  engineEpochMs: number;
  /** Child ids are issued above this base (unique across restarts: boot time in ms * 1000). */
  childIdBase: number;
}

/** A stage thread's (workers/stage-thread.ts): the stages it runs, in build order. */
export interface StageThreadData extends WorkerData {
  stages: StageName[];
}

/** The snapshot thread's (workers/snapshot-thread.ts). */
export interface SnapshotThreadData extends WorkerData {
  /** One Int32: non-zero asks the follower to stop where it is. */
  stopWord: SharedArrayBuffer;
}

/** The snapshot thread's report after a save (persistence/snapshot-follower.ts). */
export type SnapshotSaved = { type: 'saved' } & FollowStep & { boundary: number };

/** Messages from a worker to the supervisor. */
export type WorkerReport =
  | { type: 'ready'; stage: string; detail?: Record<string, unknown> }
  | { type: 'stopped'; stage: string }
  | { type: 'log'; stage: string; level: 'info' | 'warn' | 'error'; msg: string };
