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
 * Unknown is 1 (nothing pruned): a stage with fewer than KEEP_SNAPSHOTS snapshots that hold (its
 * fallback would be the whole journal; so after a change of configuration, until two starts under
 * it have saved theirs), a sink that has not yet reached its database or broker in this process.
 *
 * What is pruned: every segment wholly before the one holding the floor, except the segment just
 * before it, which a snapshot's check reads (journalHolds: the segment a snapshot followed, when
 * the boot after it journaled nothing and its segment was reused). The last segment (the
 * writer's) is never pruned. Oldest first, so the journal stays a contiguous run of segments
 * even if the process dies half-way.
 *
 * Modes: 'keep' (the default: the journal is the regulator's record when no sink is configured)
 * prunes nothing; 'archive' moves the segments into journal.archiveDir (never over a file of the
 * same name: a hard link on the same file system, a copy made durable across two, the original
 * unlinked only once the archive's directory is fsynced), for a backup job to ship; 'delete'
 * unlinks them. A start that would need a pruned segment (its snapshots no longer hold, e.g. after a
 * change of capacities) refuses with JournalPruned (persistence/journal-reader.ts), naming the
 * way back: the archived segments moved into journal.dir again.
 *
 * Snapshots are written at start-up and, while running, by the snapshot thread (workers/
 * snapshot-thread.ts), so the floor's snapshot part moves as it saves; the sinks' part moves as
 * they apply. Runs on the supervisor's main thread (workers/supervisor.ts), never a stage's: a few
 * directory operations every journal.retentionCheckMs, and after each of the thread's saves (a
 * snapshot file is read whole only the first time it is seen: SnapshotStore.holding).
 */
import { constants as fsConstants, copyFileSync, linkSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { journalHeaders, segmentFileName, syncPath, type SegmentHeader } from './journal.ts';
import { KEEP_SNAPSHOTS } from './snapshot.ts';

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

/**
 * Moves `from` into the directory `toDir` as `to`, durably and never over a file already there
 * (another journal's segment of the same name: it throws EEXIST). The same file system: a hard
 * link, the directory fsynced, then the original unlinked. Across file systems: a copy, fsynced,
 * linked into place, the directory fsynced, and only then the original unlinked. A crash at any
 * point leaves the segment in the journal, in the archive, or in both; never in neither.
 */
function moveDurably(from: string, toDir: string, to: string): void {
  try {
    linkSync(from, to);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
    const tmp = `${to}.tmp`;
    try {
      copyFileSync(from, tmp, fsConstants.COPYFILE_EXCL);
      syncPath(tmp);
      linkSync(tmp, to);
    } finally {
      rmSync(tmp, { force: true });
    }
  }
  syncPath(toDir);
  rmSync(from);
}

export interface PruneResult {
  /** Segment indices taken out, ascending. */
  segments: number[];
  bytes: number;
  /** Why the pass stopped before the last segment it meant to take out, or null. */
  error: string | null;
}

/**
 * Takes segments `indices` (ascending, from prunableSegments) out of `dir`: moved into
 * `archiveDir` ('archive', which is created) or unlinked ('delete'), oldest first; the journal's
 * directory is fsynced after. A failure stops at that segment (those before it are gone, the
 * rest stay: still a contiguous journal) and is returned with what was done.
 */
export function pruneSegments(dir: string, indices: readonly number[], mode: 'archive' | 'delete', archiveDir: string): PruneResult {
  const out: PruneResult = { segments: [], bytes: 0, error: null };
  if (indices.length === 0) return out;
  try {
    if (mode === 'archive') mkdirSync(archiveDir, { recursive: true });
    for (const index of indices) {
      const path = join(dir, segmentFileName(index));
      const bytes = statSync(path).size;
      if (mode === 'archive') moveDurably(path, archiveDir, join(archiveDir, segmentFileName(index)));
      else rmSync(path);
      out.segments.push(index);
      out.bytes += bytes;
    }
  } catch (e) {
    out.error = e instanceof Error ? e.message : String(e);
  }
  try {
    if (out.segments.length > 0) syncPath(dir);
  } catch (e) {
    out.error ??= e instanceof Error ? e.message : String(e);
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
    // Until KEEP_SNAPSHOTS hold (the first start after a change of configuration has saved one
    // that fits beside older ones that do not), the whole journal is that fallback.
    const oldest = boundaries.length < KEEP_SNAPSHOTS ? 1 : Math.min(...boundaries);
    if (oldest < floor) {
      floor = oldest;
      heldBy = boundaries.length === 0 ? `snapshot ${stage} (none holds)` : boundaries.length < KEEP_SNAPSHOTS ? `snapshot ${stage} (${boundaries.length} of ${KEEP_SNAPSHOTS} hold)` : `snapshot ${stage}`;
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
  // The pruned segments are a prefix of the headers: the first kept follows them.
  return { floor, heldBy, pruned, firstSequence: headers[pruned.segments.length]?.firstSequence ?? 1 };
}
