/**
 * Thread entry of the snapshot follower (persistence/snapshot-follower.ts): while the engine
 * runs, it keeps the risk, SOR and fix replays going over the journal files (workers/
 * snapshot-stages.ts) and saves their recovery snapshots at a segment start every
 * journal.snapshotEveryEvents events, so a restart replays at most about that many events plus
 * a segment, and journal.retention can prune while the engine runs. Started by the supervisor
 * once every stage has recovered (their snapshots of this boot saved), when journal.snapshots is
 * on and journal.snapshotEveryEvents is not 0. At sinks.nice and under SCHED_IDLE
 * (sinks.schedIdle), like the sinks: it takes the CPU the stages leave, and falls behind rather than delay an order (it reads files, never a ring).
 *
 * Messages: 'ready' (what the replays were restored from), 'saved' after each save, 'log'; on
 * 'stop' (after the supervisor set the stop word, which cuts a replay short) it answers 'stopped'.
 * A failure ends the follower (logged); the engine trades on, and snapshots are again saved at
 * starts only.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SnapshotFollower } from '../persistence/snapshot-follower.ts';
import { pacedByStopWord } from '../persistence/journal.ts';
import { SnapshotStore, snapshotFingerprint } from '../persistence/snapshot.ts';
import { followedStages } from './snapshot-stages.ts';
import { sampleThisThread } from './metrics/runtime-sampler.ts';
import { lowerThisThread } from './thread-nice.ts';
import type { SnapshotSaved, SnapshotThreadData, WorkerReport } from './worker-data.ts';

const data = workerData as SnapshotThreadData;
const { config } = data;
const stop = new Int32Array(data.stopWord);
const stopped = (): boolean => Atomics.load(stop, 0) !== 0;
const post = (msg: WorkerReport): void => parentPort!.postMessage(msg);
const log = (level: 'info' | 'warn' | 'error', msg: string): void => post({ type: 'log', stage: 'snapshots', level, msg });

const notNiced = await lowerThisThread(config.sinks.nice, config.sinks.schedIdle);
if (notNiced !== null) log('warn', `snapshot thread not lowered as configured (sinks.nice, sinks.schedIdle): ${notNiced}`);

// Its CPU, run-queue wait, heap and GC in /metrics (thread="snapshots"), like the sinks thread's.
// No event-loop delay: a step holds the loop for its whole replay and save, by design.
sampleThisThread(data, 'snapshots', false);

let follower: SnapshotFollower | null = null;
let timer: NodeJS.Timeout | null = null;

function tick(): void {
  timer = null;
  if (follower === null || stopped()) return;
  try {
    const step = follower.step(stopped);
    if (step.boundary !== null) {
      const saved: SnapshotSaved = { type: 'saved', ...step, boundary: step.boundary, replayMs: Math.round(step.replayMs), saveMs: Math.round(step.saveMs) };
      parentPort!.postMessage(saved);
    }
  } catch (err) {
    log('error', `snapshot follower stopped; snapshots are saved at starts only until the next: ${(err as Error).message}`);
    follower.close();
    follower = null;
    return;
  }
  timer = setTimeout(tick, config.journal.snapshotCheckMs);
}

parentPort!.on('message', (msg: { type: string }) => {
  if (msg.type !== 'stop') return;
  if (timer !== null) clearTimeout(timer);
  timer = null;
  follower?.close();
  follower = null;
  post({ type: 'stopped', stage: 'snapshots' });
});

try {
  // minFrames 0: the follower itself saves only every snapshotEveryEvents events.
  const store = new SnapshotStore(config.journal.dir, snapshotFingerprint(config), 0, null);
  // Its saves come while orders are journaled: paced, so the journal's fdatasync (under fsync
  // batch, on every acknowledgement's path) never queues behind ~90 MiB of snapshot. A stop
  // request ends the pacing (the save in hand is finished at once).
  store.writePace = pacedByStopWord(config.journal.snapshotWriteMiBPerS, stop);
  // A save cut off by an earlier run's stop (the thread terminated inside it) left its temporary
  // file; the stages saved theirs before this thread started, so any left now is stale.
  store.removeTemporaryFiles();
  const start = followedStages(config, store, data.childIdBase, data.engineEpochMs);
  follower = new SnapshotFollower(config.journal.dir, store, start.stages, config.journal.snapshotEveryEvents);
  post({ type: 'ready', stage: 'snapshots', detail: { from: follower.nextSequence, everyEvents: config.journal.snapshotEveryEvents, loaded: start.loaded, skipped: start.skipped } });
  timer = setTimeout(tick, config.journal.snapshotCheckMs);
} catch (err) {
  log('error', `snapshot follower not started; snapshots are saved at starts only: ${(err as Error).stack ?? (err as Error).message}`);
}
