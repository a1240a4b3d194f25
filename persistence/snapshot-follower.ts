/**
 * Recovery snapshots while the engine runs, so a restart late in a long session replays a
 * bounded tail of the journal, not everything since the last start, and journal.retention can
 * prune without a restart.
 *
 * A snapshot is a stage's replay state at a segment start (persistence/snapshot.ts). A start
 * saves the one at its own boot's boundary; after that, the live stages' tables are not a
 * replay's state (they hold the resume pass's settlements, throttles, quotes) and copying them
 * would stall the hot path. So this follower keeps each stage's *replay* going beside the engine,
 * as Aeron Cluster's and LMAX's snapshotters do: the stage's own recovery handler, restored from
 * the snapshot the start loaded, fed the journal files as they grow (the JournalReader the sinks
 * use), on its own thread, never touching a ring. At a segment start `B` it writes what the
 * replay built from the frames before `B`: the same bytes a start replaying the journal up to
 * `B` would save there, so a later start loads it like any other (journalHolds: the segment at
 * `B` is of this boot's epoch).
 *
 * When: a step does nothing until a segment starts `everyEvents` or more after the last save (or
 * the snapshots the follower was restored from); then it replays up to the newest such start in
 * one go and saves every stage there. Between saves it reads nothing, so its CPU comes in bursts
 * (a few microseconds per event in all) at the rate of one per `everyEvents` events.
 *
 * Not the hot path: allocates freely.
 */
import { performance } from 'node:perf_hooks';
import { journalHeaders } from './journal.ts';
import { JournalReader, startCursor, type FrameHandler, type JournalCursor } from './journal-reader.ts';
import type { SnapshotStore, SnapshotWriter } from './snapshot.ts';

/** One stage's replay, as the follower feeds and saves it. */
export interface FollowedStage {
  /** Its name in the snapshot store. */
  name: string;
  handler: FrameHandler;
  /** The first sequence it takes (the boundary of the snapshot it was restored from, 1 without one). */
  boundary: number;
  snapshot(w: SnapshotWriter): void;
  /** Why its snapshot would not hold for a start as things stand, or null (it is saved). */
  unfit?(): string | null;
}

export interface FollowStep {
  /** Frames read by this step. */
  frames: number;
  /** The segment start the snapshots were saved at, or null (none due, or stopped first). */
  boundary: number | null;
  /** Files written. */
  saved: string[];
  /** Stages not saved at `boundary`, each with why. */
  notSaved: string[];
  /** Wall time of the replay and of the saves. */
  replayMs: number;
  saveMs: number;
  /** Chunks the saves fdatasynced on their own under the store's write pace (0: written at once). */
  pacedChunks: number;
  /** A stop request came between the stages' saves: those in notSaved as stopped were not made. */
  stopped: boolean;
}

/** Frames per read: the stop word is looked at between reads. */
const READ_FRAMES = 4096;

export class SnapshotFollower {
  readonly dir: string;
  private readonly store: SnapshotStore;
  private readonly stages: readonly FollowedStage[];
  private readonly everyEvents: number;
  private readonly reader: JournalReader;
  private readonly cursor: JournalCursor;
  private readonly dispatch: FrameHandler;
  /** The boundary of the last save, or the oldest the stages were restored from. */
  lastSaved: number;

  constructor(dir: string, store: SnapshotStore, stages: readonly FollowedStage[], everyEvents: number) {
    if (!(Number.isSafeInteger(everyEvents) && everyEvents >= 1)) throw new Error('Condition failed: everyEvents is an integer >= 1');
    if (stages.length === 0) throw new Error('Condition failed: at least one stage');
    this.dir = dir;
    this.store = store;
    this.stages = stages;
    this.everyEvents = everyEvents;
    this.reader = new JournalReader(dir);
    this.lastSaved = Math.min(...stages.map((s) => s.boundary));
    this.cursor = startCursor(this.lastSaved);
    // A stage restored from a later snapshot than another skips the frames it already holds.
    this.dispatch = {
      onFrame(typeId, sequence, epochMs, view, bytes, offset, length) {
        for (const s of stages) if (sequence >= s.boundary) s.handler.onFrame(typeId, sequence, epochMs, view, bytes, offset, length);
      },
    };
  }

  /** The sequence of the next frame the replays take. */
  get nextSequence(): number {
    return this.cursor.sequence;
  }

  /** The newest segment start at least everyEvents after the last save, or null. */
  due(): number | null {
    let best: number | null = null;
    // Segments before the cursor's hold no candidate (their starts are behind it): not read again each tick.
    for (const h of journalHeaders(this.dir, this.cursor.segment)) {
      if (h.firstSequence - this.lastSaved >= this.everyEvents && h.firstSequence >= this.cursor.sequence) best = h.firstSequence;
    }
    return best;
  }

  /**
   * Replays up to the due segment start, if any, and saves every stage's snapshot there.
   * `stopped` is asked between reads and before the saves: true leaves the step where it is
   * (the next step goes on from there). Throws when the journal cannot be read on (a corrupt or
   * pruned journal): the follower is done.
   */
  step(stopped: () => boolean = () => false): FollowStep {
    const out: FollowStep = { frames: 0, boundary: null, saved: [], notSaved: [], replayMs: 0, saveMs: 0, pacedChunks: 0, stopped: false };
    const target = this.due();
    if (target === null) return out;
    const t0 = performance.now();
    while (this.cursor.sequence < target) {
      if (stopped()) return out;
      const n = this.reader.read(this.cursor, Math.min(READ_FRAMES, target - this.cursor.sequence), this.dispatch);
      out.frames += n;
      if (n === 0) {
        if (this.reader.problem !== null) throw new Error(`journal not readable past sequence ${this.cursor.sequence}: ${this.reader.problem}`);
        return out; // the segments before the target not yet all visible: the next step goes on
      }
    }
    const t1 = performance.now();
    out.replayMs = t1 - t0;
    if (stopped()) return out;
    const chunksBefore = this.store.pacedChunks;
    let retry = false;
    for (const s of this.stages) {
      if (stopped()) {
        // The files saved stand each on its own (a start loads each stage's newest).
        out.notSaved.push(`${s.name}: stopped before its save`);
        out.stopped = true;
        continue;
      }
      const why = s.unfit?.() ?? null;
      if (why !== null) {
        out.notSaved.push(`${s.name}: ${why}`);
        continue;
      }
      // Every stage has replayed at least everyEvents frames since its own boundary here.
      const { saved, error } = this.store.saveAfterReplay(s.name, { nextSequence: target, frames: target - s.boundary, problem: null }, (w) => s.snapshot(w));
      if (error !== null) {
        // A full disk, say: the replay goes on, and the next due segment start tries again.
        out.notSaved.push(`${s.name}: ${error}`);
      } else if (saved === null) {
        // Its segment's header not found (read while retention pruned another): the next step tries again.
        out.notSaved.push(`${s.name}: no segment found starting at ${target}`);
        retry = true;
      } else out.saved.push(saved);
    }
    out.boundary = target;
    out.saveMs = performance.now() - t1;
    out.pacedChunks = this.store.pacedChunks - chunksBefore;
    if (!retry) this.lastSaved = target;
    return out;
  }

  close(): void {
    this.reader.close();
  }
}
