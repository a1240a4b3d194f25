/**
 * Journal retention: the journal's early segments taken out of `journal.dir` once nothing can
 * need them again, so a long-running engine's disk stays bounded (config journal.retention).
 *
 * Who reads old segments:
 *   - a start's recovery replays from each stage's newest snapshot that holds, or from the
 *     journal's start without one (persistence/snapshot.ts); should that snapshot fail to read
 *     back, from the next older one (each stage keeps KEEP_SNAPSHOTS);
 *   - each sink (Postgres, Kafka) resumes from its durable cursor (persistence/sink-runner.ts).
 * So the floor, the first sequence the journal must keep, is the lowest of: every recovering
 * stage's oldest snapshot boundary that holds, and every configured sink's durable cursor.
 * Unknown is 1 (nothing pruned): a stage without a snapshot that holds, a sink that has not yet
 * reached its database or broker in this process.
 *
 * What is pruned: every segment wholly before the one holding the floor, except the segment just
 * before it, which a snapshot's check reads (journalHolds: the segment a snapshot followed, when
 * the boot after it journaled nothing and its segment was reused). The last segment (the
 * writer's) is never pruned. Oldest first, so the journal stays a contiguous run of segments
 * even if the process dies half-way.
 *
 * Modes: 'keep' (the default: the journal is the regulator's record when no sink is configured)
 * prunes nothing; 'archive' moves the segments into journal.archiveDir (a rename on the same
 * file system; a copy, fsync and unlink across two), for a backup job to ship; 'delete' unlinks
 * them. A start that would need a pruned segment (its snapshots no longer hold, e.g. after a
 * change of capacities) refuses with JournalPruned (persistence/journal-reader.ts), naming the
 * way back: the archived segments moved into journal.dir again.
 *
 * Snapshots are written at start-up only, so the floor's snapshot part moves at restarts; the
 * sinks' part moves as they apply. Runs on the supervisor's main thread (workers/supervisor.ts),
 * never a stage's: a few directory operations every journal.retentionCheckMs.
 */
import { closeSync, copyFileSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { listSegments, readSegmentHeader, segmentFileName, syncDir, type SegmentHeader } from './journal.ts';

export type RetentionMode = 'keep' | 'archive' | 'delete';
export const RETENTION_MODES: readonly RetentionMode[] = ['keep', 'archive', 'delete'];

/**
 * The segments (indices, ascending) that may go for `floor`: those before the segment holding
 * the floor and its predecessor, never the last. `headers`: the journal's segments in order.
 */
export function prunableSegments(headers: readonly SegmentHeader[], floor: number): number[] {
  let holding = -1;
  for (let i = 0; i < headers.length; i++) if (headers[i].firstSequence <= floor) holding = i;
  // holding is at most the last segment's position, so the last is never among them.
  const keepFrom = holding - 1;
  const out: number[] = [];
  for (let i = 0; i < keepFrom; i++) out.push(headers[i].index);
  return out;
}

/** The journal's segment headers in order, up to the first unreadable one (a torn last header). */
export function journalHeaders(dir: string): SegmentHeader[] {
  const out: SegmentHeader[] = [];
  for (const index of listSegments(dir)) {
    const h = readSegmentHeader(dir, index);
    if (h === null) break;
    out.push(h);
  }
  return out;
}

/** Moves `from` to `to`, durably: a rename, or across file systems a copy made durable before the original goes. */
function moveDurably(from: string, to: string): void {
  try {
    renameSync(from, to);
    return;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
  }
  const tmp = `${to}.tmp`;
  copyFileSync(from, tmp);
  const fd = openSync(tmp, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, to);
  rmSync(from);
}

export interface PruneResult {
  /** Segment indices taken out, ascending. */
  segments: number[];
  bytes: number;
}

/**
 * Takes segments `indices` (ascending, from prunableSegments) out of `dir`: moved into
 * `archiveDir` ('archive', which is created) or unlinked ('delete'), oldest first; the
 * directories are fsynced after. A failure stops at that segment (those before it are gone, the
 * rest stay: still a contiguous journal) and is thrown.
 */
export function pruneSegments(dir: string, indices: readonly number[], mode: 'archive' | 'delete', archiveDir: string): PruneResult {
  const out: PruneResult = { segments: [], bytes: 0 };
  if (indices.length === 0) return out;
  if (mode === 'archive') mkdirSync(archiveDir, { recursive: true });
  try {
    for (const index of indices) {
      const path = join(dir, segmentFileName(index));
      const bytes = statSync(path).size;
      if (mode === 'archive') moveDurably(path, join(archiveDir, segmentFileName(index)));
      else rmSync(path);
      out.segments.push(index);
      out.bytes += bytes;
    }
  } finally {
    if (out.segments.length > 0) {
      syncDir(dir);
      if (mode === 'archive') syncDir(archiveDir);
    }
  }
  return out;
}

/** Where the floor comes from (each read when the retention runs). */
export interface RetentionSources {
  /** Each recovering stage's snapshot boundaries that hold (SnapshotStore.holding), by stage. */
  snapshots(): ReadonlyMap<string, readonly number[]>;
  /** Each configured sink's durable cursor sequence, 0 while unknown (not yet opened here). */
  sinks(): ReadonlyMap<string, number>;
}

export interface RetentionPass {
  /** The first sequence kept, and what set it ("snapshot risk", "sink postgres", ...). */
  floor: number;
  heldBy: string;
  pruned: PruneResult;
  /** The journal's first sequence after the pass. */
  firstSequence: number;
}

/** The floor from its sources: the lowest snapshot boundary or sink cursor; 1 while any is unknown. */
export function retentionFloor(sources: RetentionSources): { floor: number; heldBy: string } {
  let floor = Number.MAX_SAFE_INTEGER;
  let heldBy = 'nothing';
  for (const [stage, boundaries] of sources.snapshots()) {
    // The oldest that holds: the fallback a start takes when the newest cannot be read back.
    const oldest = boundaries.length === 0 ? 1 : Math.min(...boundaries);
    if (oldest < floor) {
      floor = oldest;
      heldBy = boundaries.length === 0 ? `snapshot ${stage} (none holds)` : `snapshot ${stage}`;
    }
  }
  for (const [sink, sequence] of sources.sinks()) {
    const at = sequence >= 1 ? sequence : 1;
    if (at < floor) {
      floor = at;
      heldBy = sequence >= 1 ? `sink ${sink}` : `sink ${sink} (cursor not yet known)`;
    }
  }
  return floor === Number.MAX_SAFE_INTEGER ? { floor: 1, heldBy } : { floor, heldBy };
}

/** One retention pass over the journal in `dir`. */
export function runRetention(dir: string, mode: 'archive' | 'delete', archiveDir: string, sources: RetentionSources): RetentionPass {
  const { floor, heldBy } = retentionFloor(sources);
  const headers = journalHeaders(dir);
  const pruned = pruneSegments(dir, prunableSegments(headers, floor), mode, archiveDir);
  const rest = headers.filter((h) => !pruned.segments.includes(h.index));
  return { floor, heldBy, pruned, firstSequence: rest.length === 0 ? 1 : rest[0].firstSequence };
}
