/**
 * A stage as its thread sees it (workers/stage-thread.ts): built from the shared memory by its
 * module (workers/<stage>-part.ts), then run by whichever thread the configured threading mode
 * (workers/topology.ts threadGroups) puts it on, alone or beside other stages.
 */
import type { SnapshotOutcome } from '../persistence/snapshot.ts';
import type { Agent } from '../engine/agent.ts';
import type { StageName } from './topology.ts';
import type { WorkerData } from './worker-data.ts';

export interface StagePart {
  readonly stage: StageName;
  /** The stage's duty-cycle work; the thread puts it behind its heartbeat (engine/heartbeat.ts). */
  readonly agent: Agent;
  /** What the supervisor gets with this stage's 'ready'. */
  detail: Record<string, unknown>;
  /** After the thread's runner started: opens listeners and sessions. */
  start?(): Promise<void>;
  /**
   * The supervisor's 'stop' for this stage (event-loop threads only). leaveLoop ends the
   * thread's duty cycle, for every stage on it: only the stages the supervisor stops after the
   * rings have drained (fix, persistence) call it.
   */
  stop?(leaveLoop: () => void): Promise<void> | void;
}

/**
 * The thread's duty-cycle driver, as a stage sees it: a socket callback that queued work asks
 * for a cycle soon. Set once the thread's runner exists; before that there is nothing to kick.
 */
export class ThreadKick {
  private target: { kick(): void } | null = null;

  bind(target: { kick(): void }): void {
    this.target = target;
  }

  kick(): void {
    if (this.target !== null) this.target.kick();
  }
}

/**
 * What a thread hands each stage module. data.childIdBase is the thread's own copy: risk's
 * recovery moves it on before sor and fix are built on the same thread.
 */
export interface PartContext {
  data: WorkerData;
  kick: ThreadKick;
  /** Reports a problem to the supervisor's log. */
  log(level: 'info' | 'warn' | 'error', msg: string): void;
}

export type PartBuilder = (ctx: PartContext) => Promise<StagePart>;

/**
 * Logs what a stage's recovery did with snapshots that needs an operator's eye: each snapshot
 * passed over (it costs only time: the journal before it is replayed instead) and a failed save
 * (the next start replays more of the journal).
 */
export function logSnapshotOutcome(ctx: PartContext, outcome: SnapshotOutcome): void {
  for (const why of outcome.skipped) ctx.log('warn', `recovery snapshot passed over: ${why}`);
  if (outcome.error !== null) ctx.log('error', `recovery snapshot not saved (the next start replays more of the journal): ${outcome.error}`);
}
