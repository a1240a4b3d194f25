/**
 * Reads the journal (persistence/journal.ts) from a cursor, in order, across segments, while the
 * writer may still be appending: the Postgres and Kafka sinks follow it this way, and recovery
 * replays it with replayJournal().
 *
 * A cursor names the next frame to read: its segment, its byte offset there, and its sequence
 * number. read() hands each valid frame to a FrameHandler through one chunk buffer allocated at
 * construction (memory stays bounded whatever the journal's size) and advances the cursor.
 *
 * Where the frames stop:
 *   - the last segment ends in a short, torn or not-yet-checksummed frame: that is the writer's
 *     tail (or a crash's torn tail, which the writer cuts off when it reopens): read() returns
 *     what it read and is called again later;
 *   - a segment that has a successor ends in a bad frame: the journal is corrupt there. The
 *     reader never skips: it stops, and `problem` says where and why.
 * The successor's existence is checked before the segment's bytes are read, so a segment the
 * writer was still finishing is never mistaken for a corrupt one.
 */

import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import {
  FRAME_HEADER_LENGTH, FrameProblem, MAX_FRAME_BODY, SEGMENT_HEADER_LENGTH,
  checkFrame, decodeSegmentHeader, frameBodyLength, frameProblemName, frameSequenceLow, frameTypeId, listSegments, readSegmentHeader, segmentFileName,
} from './journal.ts';

export interface JournalCursor {
  /** Segment index (0: not yet placed; the reader finds the segment holding `sequence`). */
  segment: number;
  /** Byte offset of the next frame in that segment (0: just after the header). */
  offset: number;
  /** Sequence number of the next frame. */
  sequence: number;
}

export function startCursor(sequence: number = 1): JournalCursor {
  return { segment: 0, offset: 0, sequence };
}

export interface FrameHandler {
  /**
   * One frame: its body is bytes[offset, offset + length) (valid only during the call).
   * engineEpochMs is the wall-clock ms of engine time zero for the boot that wrote it.
   */
  onFrame(typeId: number, sequence: number, engineEpochMs: number, view: DataView, bytes: Uint8Array, offset: number, length: number): void;
}

export class JournalReader {
  readonly dir: string;
  private readonly chunk: Uint8Array;
  private readonly view: DataView;
  private fd: number;
  private fdSegment: number;
  private epochMs: number;
  /** Why the reader cannot go on (a corrupt journal), or null. */
  problem: string | null;
  /** The segment whose tail last had the journal listed for a hole after it (0: none yet). */
  private holeCheckedAt = 0;

  constructor(dir: string, chunkBytes: number = 1 << 20) {
    this.dir = dir;
    this.chunk = new Uint8Array(Math.max(chunkBytes, FRAME_HEADER_LENGTH + MAX_FRAME_BODY));
    this.view = new DataView(this.chunk.buffer);
    this.fd = -1;
    this.fdSegment = 0;
    this.epochMs = 0;
    this.problem = null;
  }

  /** Reads up to maxFrames frames from cursor, advancing it; returns how many it read. */
  read(cursor: JournalCursor, maxFrames: number, handler: FrameHandler): number {
    if (this.problem !== null) return 0;
    if (cursor.segment === 0 && !this.place(cursor)) return 0;
    let count = 0;
    while (count < maxFrames) {
      if (!this.open(cursor)) return count;
      const nextExists = existsSync(this.segmentPath(cursor.segment + 1));
      let got = readSync(this.fd, this.chunk, 0, this.chunk.length, cursor.offset);
      let at = 0;
      let problem = 0;
      while (count < maxFrames && at < got) {
        const n = checkFrame(this.view, at, got, cursor.sequence);
        if (n < 0) { problem = n; break; }
        handler.onFrame(frameTypeId(this.view, at), cursor.sequence, this.epochMs, this.view, this.chunk, at + FRAME_HEADER_LENGTH, frameBodyLength(this.view, at));
        at += n;
        cursor.offset += n;
        cursor.sequence++;
        count++;
      }
      if (count >= maxFrames) return count;
      // Zeros (a preallocated segment's unwritten space): the segment's frames end here, as at its file's end.
      if (problem === FrameProblem.UNWRITTEN) got = at;
      const chunkFull = got === this.chunk.length;
      const cut = problem === FrameProblem.TORN_HEADER || problem === FrameProblem.TORN_BODY;
      if (chunkFull && (problem === 0 || cut) && at > 0) continue; // more of this segment to read
      if (!nextExists) {
        // The writer's tail: come back later. Unless a later segment exists: the next is missing
        // (a hole), and nothing would ever be read past it.
        // Once per segment: the writer creates segments in order, so a segment after the missing
        // one can only appear once it exists (retention removes only the oldest), and a reader
        // at the tail comes back every poll.
        if (this.holeCheckedAt !== cursor.segment) {
          this.holeCheckedAt = cursor.segment;
          if (listSegments(this.dir).some((i) => i > cursor.segment + 1)) this.problem = `segment ${cursor.segment + 1} is missing, and later segments exist`;
        }
        return count;
      }
      if (at < got) {
        this.problem = `segment ${cursor.segment} offset ${cursor.offset}: ${frameProblemName(problem)} before the end of a finished segment`;
        return count;
      }
      // This segment is finished and fully read: go on to the next.
      cursor.segment++;
      cursor.offset = 0;
    }
    return count;
  }

  /** Positions a fresh cursor at the segment holding its sequence. */
  private place(cursor: JournalCursor): boolean {
    const segments = listSegments(this.dir);
    let chosen = 0;
    let chosenFirst = 0;
    for (const index of segments) {
      const h = readSegmentHeader(this.dir, index);
      if (h === null) break;
      if (h.firstSequence > cursor.sequence) break;
      chosen = index;
      chosenFirst = h.firstSequence;
    }
    if (chosen === 0) {
      const first = segments.length > 0 ? readSegmentHeader(this.dir, segments[0]) : null;
      if (first !== null) {
        this.problem = `sequence ${cursor.sequence} is before the journal's first segment (sequence ${first.firstSequence}): ` +
          'the segments before it were pruned (journal.retention) or removed';
      }
      return false;
    }
    cursor.segment = chosen;
    cursor.offset = 0;
    if (cursor.sequence === 1 || chosenFirst === cursor.sequence) return true;
    // Skip forward inside the segment to the frame with this sequence.
    const target = cursor.sequence;
    cursor.sequence = chosenFirst;
    const skip: FrameHandler = { onFrame() {} };
    while (cursor.sequence < target) {
      const n = this.read(cursor, target - cursor.sequence, skip);
      if (n === 0) break;
    }
    return cursor.sequence === target;
  }

  /** Opens the cursor's segment and reads its header (again while nothing of it was read). */
  private open(cursor: JournalCursor): boolean {
    if (this.fdSegment !== cursor.segment) {
      const path = this.segmentPath(cursor.segment);
      if (!existsSync(path)) return false;
      if (this.fd >= 0) closeSync(this.fd);
      this.fd = openSync(path, 'r');
      this.fdSegment = cursor.segment;
    }
    if (cursor.offset === 0 || cursor.offset === SEGMENT_HEADER_LENGTH) {
      const got = readSync(this.fd, this.chunk, 0, SEGMENT_HEADER_LENGTH, 0);
      const h = decodeSegmentHeader(this.chunk, 0, got);
      if (h === null) return false; // being created: come back later
      if (h.firstSequence !== cursor.sequence) {
        this.problem = `segment ${cursor.segment} starts at sequence ${h.firstSequence}, expected ${cursor.sequence}`;
        return false;
      }
      this.epochMs = h.engineEpochMs;
      cursor.offset = SEGMENT_HEADER_LENGTH;
    }
    return true;
  }

  private segmentPath(index: number): string {
    return join(this.dir, segmentFileName(index));
  }

  /**
   * Whether nothing can be read from cursor now: no frame at it, nor in a later segment (a
   * segment's file size says nothing here: a preallocated one is zeros past its frames). A torn
   * or corrupt frame counts as something left (it is not an end the reader can pass). Allocates
   * a little (the segment listing).
   */
  atEnd(cursor: JournalCursor): boolean {
    for (const index of listSegments(this.dir)) {
      if (cursor.segment !== 0 && index < cursor.segment) continue;
      const offset = index === cursor.segment ? Math.max(cursor.offset, SEGMENT_HEADER_LENGTH) : SEGMENT_HEADER_LENGTH;
      if (this.frameAt(index, offset)) return false;
    }
    return true;
  }

  /** Whether segment index holds anything but its end at offset: a frame, or bytes that are not one. Uses the chunk. */
  private frameAt(index: number, offset: number): boolean {
    let fd = -1;
    try {
      fd = openSync(this.segmentPath(index), 'r');
      const got = readSync(fd, this.chunk, 0, FRAME_HEADER_LENGTH + MAX_FRAME_BODY, offset);
      if (got === 0) return false;
      // The sequence is not known here: a frame whose only fault is its sequence is still a frame.
      const n = checkFrame(this.view, 0, got, frameSequenceLow(this.view, 0));
      return n !== FrameProblem.UNWRITTEN;
    } catch {
      // A segment set aside between the listing and the open: nothing there.
      return false;
    } finally {
      if (fd >= 0) closeSync(fd);
    }
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    this.fdSegment = 0;
  }
}

export interface ReplayResult {
  /** Frames handed to the handler. */
  frames: number;
  /** Sequence number the next frame will get. */
  nextSequence: number;
  /** Why replay stopped before the journal's end (corruption), or null. */
  problem: string | null;
}

/**
 * The first sequence the journal in `dir` still holds: its first segment's (1 for an empty
 * journal; a journal whose first header cannot be read is refused by journalGap). Above 1 once
 * journal.retention has pruned its early segments (persistence/retention.ts).
 */
export function firstJournalSequence(dir: string): number {
  const segments = listSegments(dir);
  if (segments.length === 0) return 1;
  return readSegmentHeader(dir, segments[0])?.firstSequence ?? 1;
}

/**
 * Why the journal in `dir` is not one contiguous run of segments, or null: segment indices with
 * a gap (a segment missing in the middle: archived segments only partly put back), a header
 * that cannot be read before the last segment, or first sequences that go back. Only the last
 * segment's header may be unreadable (being created; the writer sets a torn one aside).
 */
export function journalGap(dir: string): string | null {
  const segments = listSegments(dir);
  let previous: { index: number; firstSequence: number } | null = null;
  for (let i = 0; i < segments.length; i++) {
    const index = segments[i];
    if (previous !== null && index !== previous.index + 1) return `segment ${previous.index + 1} is missing (segments ${segments[0]} to ${segments[segments.length - 1]} are there)`;
    const h = readSegmentHeader(dir, index);
    if (h === null) {
      if (i === segments.length - 1) return null;
      return `segment ${index}'s header cannot be read, and segments follow it`;
    }
    if (previous !== null && h.firstSequence < previous.firstSequence) return `segment ${index} starts at sequence ${h.firstSequence}, before segment ${previous.index}'s ${previous.firstSequence}`;
    previous = { index, firstSequence: h.firstSequence };
  }
  return null;
}

/** A replay over a journal that is not one contiguous run of segments (journalGap): it would rebuild a state with frames missing. */
export class JournalGap extends Error {
  constructor(dir: string, why: string) {
    super(`the journal in ${dir} is not whole: ${why}. Put the missing segments back (journal.retention 'archive' keeps them in journal.archiveDir) before starting`);
  }
}

/**
 * A replay that needs frames the journal no longer holds: journal.retention pruned the segments
 * before `first`, and the replay starts at `from` (no snapshot at or after `first` holds for
 * this stage and configuration). Replaying on would rebuild a state without the orders,
 * positions and ids of the pruned stretch, so the start stops here, saying why.
 */
export class JournalPruned extends Error {
  constructor(dir: string, first: number, from: number) {
    super(
      `the journal in ${dir} starts at sequence ${first} (the segments before it were pruned by journal.retention), but this start must replay ` +
      `from sequence ${from}: no recovery snapshot at or after ${first} holds for it. Put the pruned segments back into ${dir} ` +
      `(journal.retention 'archive' kept them in journal.archiveDir), or start with the configuration the snapshots were written under`,
    );
  }
}

/**
 * Hands every frame of the journal from `fromSequence` on to handler, in order: the API
 * recovery uses. Memory is bounded by the reader's chunk. Allocates the reader. Throws
 * JournalGap when a segment is missing in the middle (journalGap), JournalPruned when the
 * journal starts after `fromSequence` (its early segments pruned).
 */
export function replayJournal(dir: string, handler: FrameHandler, fromSequence: number = 1): ReplayResult {
  const gap = journalGap(dir);
  if (gap !== null) throw new JournalGap(dir, gap);
  const first = firstJournalSequence(dir);
  if (first > fromSequence) throw new JournalPruned(dir, first, fromSequence);
  const reader = new JournalReader(dir);
  const cursor = startCursor(fromSequence);
  let frames = 0;
  try {
    for (;;) {
      const n = reader.read(cursor, 4096, handler);
      frames += n;
      if (n === 0) break;
    }
  } finally {
    reader.close();
  }
  return { frames, nextSequence: cursor.sequence, problem: reader.problem };
}
