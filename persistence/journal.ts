/**
 * The journal: an append-only log of every command the risk stage took and every event it
 * produced, in the order it handled them, kept as a directory of segment files
 * (journal-000001.log, journal-000002.log, ...). It is the engine's embedded store: the Postgres
 * and Kafka sinks read it (persistence/journal-reader.ts), and so will recovery.
 *
 * Segment file: a 32-byte header, then frames.
 *
 *   0        4    6    8                 16                24       28       32
 *   +--------+----+----+-----------------+-----------------+--------+--------+
 *   | magic  |ver |hlen| firstSequence   | engineEpochMs   | index  | crc32  |
 *   +--------+----+----+-----------------+-----------------+--------+--------+
 *
 * firstSequence is the journal sequence number of the segment's first frame (sequences run on
 * across segments and restarts); engineEpochMs is the wall-clock ms of the engine clock's zero
 * for the boot that wrote the segment, so engine-time stamps in records (ns since that epoch)
 * turn into wall-clock times. Every boot starts a new segment, so one segment has one epoch.
 * crc32 covers bytes 0 to 28.
 *
 * Frame (little-endian), 8-byte aligned like ring records:
 *
 *   0        4        8        12       16                 16 + length (aligned up to 8)
 *   +--------+--------+--------+--------+------------------+
 *   | length | crc32  | typeId | seqLo  | body (length)    |
 *   +--------+--------+--------+--------+------------------+
 *
 * crc32 covers bytes 8 to the end of the body (typeId, seqLo, body) in one range, so a torn or
 * corrupted tail is detected: the reader stops at the first frame that is short or fails its
 * checksum, and reports where. seqLo is the low 32 bits of the frame's sequence number (the full
 * number is the segment's firstSequence plus the frame's position), checked on reading.
 *
 * Group commit: append() copies into a batch buffer; flush() writes the batch with one write
 * and, per the fsync policy, one fdatasync ('batch': every flush; 'interval': at most every N
 * ms; 'none': the OS decides). Rotation: a frame that would take the segment past segmentBytes
 * starts the next segment. Opening a journal that exists finds its end (a torn tail left by a
 * crash is cut off, so the log stays a clean prefix) and continues its sequence numbers.
 *
 * Preallocation (the default; JournalWriterOptions.preallocate): a segment is zero-filled to
 * segmentBytes and fdatasynced before its first frame, and frames are written over the zeros in
 * place. An fdatasync of an appended file also commits the file's new size (on ext4, a commit of
 * the filesystem's journal by its own kernel thread, which waits for a core when the cores are
 * busy); over blocks already allocated and written it flushes data only. With two busy cores the
 * flush's p99 was 243 us (trials 227-403) against 2,361 us (363-3,587) appended; its p99.9 did not
 * improve (npm run bench:disk, journal_flush_fdatasync_p99_us_preallocated_busy_cores). Under
 * journal.fsync 'none' nothing is fdatasynced, so nothing is preallocated. The first segment of
 * a boot is zero-filled at once (64 MiB took 11-12 ms of writes and a 19-22 ms fdatasync here);
 * the next one is prepared in the background under journal-next-<pid>-<thread>-<n>.prep (no
 * reader lists it) once the current one is half full, in fdatasynced chunks at a bounded rate (as
 * snapshot saves are paced; its effect on the flush beside it is not measured yet), and renamed
 * into place at rotation.
 * A rotation that finds it not ready yet begins an appended segment instead (and the preparation
 * goes on for the rotation after). A segment's unwritten space reads as a frame header of zeros
 * (FrameProblem.UNWRITTEN): readers take it for the segment's end, and a finished segment is cut
 * to its frames (ftruncate) before its successor appears, so it ends as an appended one does.
 */

import {
  close, closeSync, existsSync, fdatasync, fdatasyncSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, open, openSync, readdirSync, readSync, renameSync, rmSync, unlink,
  write, writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { CRC32_INIT, crc32Byte, crc32Final, crc32OfView, crc32Words } from './crc32.ts';

export const FRAME_HEADER_LENGTH = 16;
const LENGTH_OFFSET = 0;
const CRC_OFFSET = 4;
const TYPE_OFFSET = 8;
const SEQ_OFFSET = 12;
export const MAX_FRAME_BODY = 64 * 1024;

export const SEGMENT_HEADER_LENGTH = 32;
const SH_MAGIC = 0;
const SH_VERSION = SH_MAGIC + 4;
const SH_HEADER_LENGTH = SH_VERSION + 2;
const SH_FIRST_SEQUENCE = SH_HEADER_LENGTH + 2;
const SH_EPOCH_MS = SH_FIRST_SEQUENCE + 8;
const SH_INDEX = SH_EPOCH_MS + 8;
const SH_CRC = SH_INDEX + 4;
/** "OMSJ" read as a little-endian u32. */
export const SEGMENT_MAGIC = 0x4a534d4f;
export const SEGMENT_VERSION = 1;
/** Smallest segment size: the header and one frame of the largest body. */
export const MIN_SEGMENT_BYTES = SEGMENT_HEADER_LENGTH + FRAME_HEADER_LENGTH + MAX_FRAME_BODY;
export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;

if (SH_CRC + 4 !== SEGMENT_HEADER_LENGTH) throw new Error('Invariant: segment header layout');

export function align8(n: number): number {
  return (n + 7) & ~7;
}

export type FsyncPolicy = 'none' | 'batch' | 'interval';

const SEGMENT_NAME = /^journal-(\d{6,})\.log$/;

export function segmentFileName(index: number): string {
  return `journal-${String(index).padStart(6, '0')}.log`;
}

/** Segment indices present in dir, ascending. Allocates. */
export function listSegments(dir: string): number[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const name of names) {
    const m = SEGMENT_NAME.exec(name);
    if (m !== null) out.push(Number(m[1]));
  }
  return out.sort((a, b) => a - b);
}

export interface SegmentHeader {
  firstSequence: number;
  engineEpochMs: number;
  index: number;
}

/** Writes a segment header into dst at offset. */
export function encodeSegmentHeader(dst: Uint8Array, offset: number, h: SegmentHeader): void {
  const v = new DataView(dst.buffer, dst.byteOffset + offset, SEGMENT_HEADER_LENGTH);
  v.setUint32(SH_MAGIC, SEGMENT_MAGIC, true);
  v.setUint16(SH_VERSION, SEGMENT_VERSION, true);
  v.setUint16(SH_HEADER_LENGTH, SEGMENT_HEADER_LENGTH, true);
  v.setFloat64(SH_FIRST_SEQUENCE, h.firstSequence, true);
  v.setFloat64(SH_EPOCH_MS, h.engineEpochMs, true);
  v.setUint32(SH_INDEX, h.index, true);
  v.setUint32(SH_CRC, crc32OfView(v, 0, SH_CRC), true);
}

/** Reads a segment header at offset of src; null when it is short, not a header, or corrupt. */
export function decodeSegmentHeader(src: Uint8Array, offset: number, available: number): SegmentHeader | null {
  if (available < SEGMENT_HEADER_LENGTH) return null;
  const v = new DataView(src.buffer, src.byteOffset + offset, SEGMENT_HEADER_LENGTH);
  if (v.getUint32(SH_MAGIC, true) !== SEGMENT_MAGIC) return null;
  if (v.getUint16(SH_VERSION, true) !== SEGMENT_VERSION) return null;
  if (v.getUint16(SH_HEADER_LENGTH, true) !== SEGMENT_HEADER_LENGTH) return null;
  if (crc32OfView(v, 0, SH_CRC) !== v.getUint32(SH_CRC, true)) return null;
  return { firstSequence: v.getFloat64(SH_FIRST_SEQUENCE, true), engineEpochMs: v.getFloat64(SH_EPOCH_MS, true), index: v.getUint32(SH_INDEX, true) };
}

/** The header of segment `index` in dir, read from its file; null when absent, short, not a header, or corrupt. Allocates. */
export function readSegmentHeader(dir: string, index: number): SegmentHeader | null {
  let fd = -1;
  try {
    fd = openSync(join(dir, segmentFileName(index)), 'r');
    const buf = new Uint8Array(SEGMENT_HEADER_LENGTH);
    return decodeSegmentHeader(buf, 0, readSync(fd, buf, 0, SEGMENT_HEADER_LENGTH, 0));
  } catch {
    return null;
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/**
 * The journal's segment headers in order, up to the first unreadable one (a torn last header). A
 * segment that is gone by the time its header is read (journal.retention pruned it after the
 * listing, while another thread reads the headers) is passed over, not taken for the end.
 * `fromIndex`: the segments before it are left out (their headers not read).
 */
export function journalHeaders(dir: string, fromIndex: number = 0): SegmentHeader[] {
  const out: SegmentHeader[] = [];
  for (const index of listSegments(dir)) {
    if (index < fromIndex) continue;
    const h = readSegmentHeader(dir, index);
    if (h === null) {
      if (out.length === 0 && !existsSync(join(dir, segmentFileName(index)))) continue;
      break;
    }
    out.push(h);
  }
  return out;
}


/**
 * Checks the frame at `at` in view's bytes [0, end): returns the frame's total aligned length when it is
 * complete, its checksum holds and its seqLo is `sequence`'s; otherwise a negative FrameProblem.
 */
export function checkFrame(view: DataView, at: number, end: number, sequence: number): number {
  if (at + FRAME_HEADER_LENGTH > end) return FrameProblem.TORN_HEADER;
  const length = view.getUint32(at + LENGTH_OFFSET, true);
  // Sixteen zero bytes: a preallocated segment's unwritten space (a real frame's checksum is never
  // 0 over a zero typeId and seqLo: crc32 of eight zero bytes is 0x6522df69).
  if (length === 0 && view.getUint32(at + CRC_OFFSET, true) === 0 && view.getUint32(at + TYPE_OFFSET, true) === 0 && view.getUint32(at + SEQ_OFFSET, true) === 0) {
    return FrameProblem.UNWRITTEN;
  }
  if (length > MAX_FRAME_BODY) return FrameProblem.BAD_LENGTH;
  const body = at + FRAME_HEADER_LENGTH;
  if (body + align8(length) > end) return FrameProblem.TORN_BODY;
  if (crc32OfView(view, at + TYPE_OFFSET, body + length) !== view.getUint32(at + CRC_OFFSET, true)) return FrameProblem.CHECKSUM;
  if (view.getUint32(at + SEQ_OFFSET, true) !== sequence >>> 0) return FrameProblem.SEQUENCE;
  return FRAME_HEADER_LENGTH + align8(length);
}

export const FrameProblem = {
  TORN_HEADER: -1,
  BAD_LENGTH: -2,
  TORN_BODY: -3,
  CHECKSUM: -4,
  SEQUENCE: -5,
  /** A header of zeros: the segment's preallocated space, not yet written (its end so far, not damage). */
  UNWRITTEN: -6,
} as const;

export function frameProblemName(code: number): string {
  switch (code) {
    case FrameProblem.TORN_HEADER: return 'torn header';
    case FrameProblem.BAD_LENGTH: return 'bad length';
    case FrameProblem.TORN_BODY: return 'torn body';
    case FrameProblem.CHECKSUM: return 'checksum mismatch';
    case FrameProblem.SEQUENCE: return 'sequence gap';
    case FrameProblem.UNWRITTEN: return 'unwritten (preallocated) space';
    default: return `frame problem ${code}`;
  }
}

export function frameBodyLength(view: DataView, at: number): number {
  return view.getUint32(at + LENGTH_OFFSET, true);
}
export function frameTypeId(view: DataView, at: number): number {
  return view.getInt32(at + TYPE_OFFSET, true);
}
/** The low 32 bits of the frame's sequence number, as written (unchecked). */
export function frameSequenceLow(view: DataView, at: number): number {
  return view.getUint32(at + SEQ_OFFSET, true);
}

export interface JournalWriterOptions {
  /** A segment is closed and the next begun before it would pass this size. */
  segmentBytes: number;
  /** Wall-clock ms of the engine clock's zero (recorded in each new segment's header). */
  engineEpochMs: number;
  /** Segments zero-filled before their first frame, frames written in place (see the top of this file). Default true. */
  preallocate: boolean;
}

/**
 * The next segment, while it is prepared (zero-filled in the background), is
 * journal-next-<pid>-<threadId>-<n>.prep: a name no reader lists, a new one for each preparation
 * (so removing an abandoned one can never remove its successor's file).
 */
const PREPARED_SEGMENT_NAME = /^journal-next-\d+-\d+-\d+\.prep$/;
let preparations = 0;

/** Removes the preparations a run left (stopped while preparing): partly zero-filled, never segments. */
function removePreparedSegments(dir: string): void {
  for (const name of readdirSync(dir)) if (PREPARED_SEGMENT_NAME.test(name)) rmSync(join(dir, name), { force: true });
}
/** The background preparation writes this much, fdatasyncs it, then the next chunk (WritePace's reasoning). */
export const PREPARE_CHUNK_BYTES = 256 * 1024;
/** ...no faster than this: a 64 MiB segment in about 1 s, while the journal fills one in 4-5 s at 10,000 orders/s. */
export const PREPARE_BYTES_PER_S = 64 * 2 ** 20;
/** Zeros for the boot segment's fill and the preparation's chunks (read only). */
const ZEROS = new Uint8Array(1 << 20);

/**
 * The next segment, zero-filled to `bytes` and fdatasynced in the background (libuv's thread pool,
 * one chunk at a time, paced), on the writer's thread's event loop. take() hands over its open
 * file once it is ready; abandon() stops it and removes its file.
 */
class SegmentPreparation {
  readonly path: string;
  private readonly bytes: number;
  private fd: number;
  private zeroed: number;
  private busy: boolean;
  private abandoned: boolean;
  private cleaned: boolean;
  private readonly startedMs: number;
  ready: boolean;
  /** Why it stopped short (its file removed), or null. */
  failure: string | null;
  // Bound once: no closure per chunk.
  private readonly onOpen: (err: Error | null, fd: number) => void;
  private readonly onWritten: (err: Error | null, n: number) => void;
  private readonly onSynced: (err: Error | null) => void;
  private readonly nextChunk: () => void;

  constructor(path: string, bytes: number) {
    this.path = path;
    this.bytes = bytes;
    this.fd = -1;
    this.zeroed = 0;
    this.busy = true;
    this.abandoned = false;
    this.cleaned = false;
    this.startedMs = performance.now();
    this.ready = false;
    this.failure = null;
    this.onOpen = (err, fd) => {
      this.busy = false;
      if (err !== null) return this.fail(err);
      this.fd = fd;
      this.step();
    };
    this.onWritten = (err, n) => {
      if (err !== null) {
        this.busy = false;
        return this.fail(err);
      }
      this.zeroed += n;
      fdatasync(this.fd, this.onSynced);
    };
    this.onSynced = (err) => {
      this.busy = false;
      if (err !== null) return this.fail(err);
      if (this.abandoned) return this.release(false);
      if (this.zeroed >= this.bytes) {
        this.ready = true;
        return;
      }
      const aheadMs = msAheadOfPace(this.zeroed, PREPARE_BYTES_PER_S, this.startedMs);
      // Unreferenced: a preparation never holds its process open.
      if (aheadMs > 0) setTimeout(this.nextChunk, aheadMs).unref();
      else this.step();
    };
    this.nextChunk = () => this.step();
    open(path, 'w', this.onOpen);
  }

  private step(): void {
    if (this.abandoned) return this.release(false);
    this.busy = true;
    write(this.fd, ZEROS, 0, Math.min(PREPARE_CHUNK_BYTES, this.bytes - this.zeroed), this.zeroed, this.onWritten);
  }

  private fail(err: Error): void {
    this.failure = err.message;
    this.release(false);
  }

  /** Its open file, zero-filled and fdatasynced; the caller owns it from now (and renames the path). */
  take(): number {
    if (!this.ready || this.abandoned) throw new Error('Condition failed: a prepared segment is taken once, when ready');
    this.abandoned = true;
    const fd = this.fd;
    this.fd = -1;
    return fd;
  }

  /** Stops the preparation; its file is closed and removed now, or when the chunk in flight completes. */
  abandon(): void {
    if (this.abandoned) return;
    this.abandoned = true;
    // Nothing in flight: closed and removed now, so a process that exits at once leaves no file;
    // else the call in flight cleans up when it completes.
    if (!this.busy) this.release(true);
  }

  /** Closes the file and removes it, once: at once (`now`), or on the thread pool (from a completion callback). */
  private release(now: boolean): void {
    this.abandoned = true;
    if (this.cleaned) return;
    this.cleaned = true;
    if (this.fd >= 0) {
      if (now) closeSync(this.fd);
      else close(this.fd, () => {});
    }
    this.fd = -1;
    if (now) rmSync(this.path, { force: true });
    else unlink(this.path, () => {});
  }
}

export class JournalWriter {
  readonly dir: string;
  /** The segment being written. */
  path: string;
  private fd: number;
  private readonly batch: Uint8Array;
  private readonly view: DataView;
  /** viewOf's last source and its view. */
  private lastSource: Uint8Array | null = null;
  private lastSourceView: DataView | null = null;
  private used: number;
  private readonly fsync: FsyncPolicy;
  private readonly fsyncIntervalMs: number;
  private readonly segmentBytes: number;
  private readonly engineEpochMs: number;
  private lastFsyncMs: number;
  /** Bytes of the current segment on disk (header included). */
  private position: number;
  /** Index of the segment being written. */
  segmentIndex: number;
  /** Next journal sequence number. */
  sequence: number;
  bytesWritten: number;
  fsyncCount: number;
  writeCount: number;
  segmentsRotated: number;
  /** Segments begun zero-filled (the boot's, and those prepared in time). */
  segmentsPreallocated: number;
  /** Rotations that found the next segment not yet prepared (begun appended instead). */
  segmentsNotPrepared: number;
  /** Preparations that failed (ENOSPC, EIO...): their file removed, the next tried once a segment is half full. */
  preparationFailures: number;
  /** Set by close(): no preparation starts any more. */
  private closing: boolean;
  /** Bytes cut off a torn tail when the journal was opened (0 after a clean stop). */
  readonly tornBytesTruncated: number;
  private readonly preallocate: boolean;
  /** Whether the segment being written was zero-filled to segmentBytes (frames written in place). */
  private inPlace: boolean;
  /** The next segment while it is prepared (preallocate), or null. */
  private prepared: SegmentPreparation | null;

  constructor(dir: string, fsync: FsyncPolicy, fsyncIntervalMs: number, batchBytes: number = 1 << 20, options: Partial<JournalWriterOptions> = {}) {
    const segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    if (!(segmentBytes >= MIN_SEGMENT_BYTES)) throw new Error(`Condition failed: segmentBytes >= ${MIN_SEGMENT_BYTES}`);
    if (!(batchBytes >= FRAME_HEADER_LENGTH + MAX_FRAME_BODY)) throw new Error('Condition failed: batch holds the largest frame');
    mkdirSync(dir, { recursive: true });
    this.dir = dir;
    this.batch = new Uint8Array(batchBytes);
    this.view = new DataView(this.batch.buffer);
    this.used = 0;
    this.fsync = fsync;
    this.fsyncIntervalMs = fsyncIntervalMs;
    this.segmentBytes = segmentBytes;
    this.engineEpochMs = options.engineEpochMs ?? performance.timeOrigin;
    this.lastFsyncMs = 0;
    this.bytesWritten = 0;
    this.fsyncCount = 0;
    this.writeCount = 0;
    this.segmentsRotated = 0;
    this.segmentsPreallocated = 0;
    this.segmentsNotPrepared = 0;
    this.preparationFailures = 0;
    this.closing = false;
    // Under 'none' nothing is fdatasynced: there is nothing for a preallocation to speed up.
    this.preallocate = (options.preallocate ?? true) && fsync !== 'none';
    this.inPlace = false;
    this.prepared = null;
    removePreparedSegments(dir);
    const end = findJournalEnd(dir);
    this.tornBytesTruncated = end.tornBytes;
    this.sequence = end.nextSequence;
    // A new segment for every boot, so one segment holds one engine epoch. A last segment that
    // holds no frame is reused (rewritten with this boot's header).
    this.segmentIndex = end.lastIndex === 0 ? 1 : end.lastFrames === 0 ? end.lastIndex : end.lastIndex + 1;
    this.fd = -1;
    this.position = 0;
    this.path = '';
    this.openSegment(true);
  }

  /**
   * Begins segment segmentIndex: the prepared file when it is ready (its header written, then
   * renamed into place), else a new file, zero-filled at once when it is the boot's (first), else
   * appended. The header is durable, and the name in the directory, before any frame (fsync
   * policy permitting).
   */
  private openSegment(first: boolean): void {
    this.path = join(this.dir, segmentFileName(this.segmentIndex));
    const prepared = this.prepared;
    const header = new Uint8Array(SEGMENT_HEADER_LENGTH);
    encodeSegmentHeader(header, 0, { firstSequence: this.sequence, engineEpochMs: this.engineEpochMs, index: this.segmentIndex });
    if (prepared !== null && prepared.ready) {
      this.prepared = null;
      this.fd = prepared.take();
      writeSync(this.fd, header, 0, SEGMENT_HEADER_LENGTH, 0);
      if (this.fsync !== 'none') fdatasyncSync(this.fd);
      renameSync(prepared.path, this.path);
      this.inPlace = true;
    } else {
      if (prepared !== null && prepared.failure !== null) {
        this.preparationFailures++;
        this.prepared = null; // failed: tried again once this segment is half full
      }
      if (!first && this.preallocate) this.segmentsNotPrepared++;
      this.fd = openSync(this.path, 'w');
      // The header first: a crash during the fill leaves a segment with its header and no frame.
      writeSync(this.fd, header, 0, SEGMENT_HEADER_LENGTH, 0);
      this.inPlace = first && this.preallocate;
      if (this.inPlace) {
        for (let at = SEGMENT_HEADER_LENGTH; at < this.segmentBytes; ) at += writeSync(this.fd, ZEROS, 0, Math.min(ZEROS.length, this.segmentBytes - at), at);
      }
      if (this.fsync !== 'none') fdatasyncSync(this.fd);
    }
    if (this.inPlace) this.segmentsPreallocated++;
    this.position = SEGMENT_HEADER_LENGTH;
    if (this.fsync !== 'none') syncPath(this.dir);
  }

  /**
   * Ends the segment being written: flushed, fdatasynced (policy permitting), cut to its frames
   * when it was preallocated (so it ends as an appended one does, before a successor appears),
   * closed.
   */
  private finishSegment(): void {
    this.flush(Date.now());
    if (this.inPlace) ftruncateSync(this.fd, this.position);
    if (this.fsync !== 'none') fdatasyncSync(this.fd);
    closeSync(this.fd);
    this.fd = -1;
  }

  private rotate(): void {
    this.finishSegment();
    this.segmentIndex++;
    this.segmentsRotated++;
    this.openSegment(false);
  }

  /** Once the segment being written is half full, the next one is prepared in the background (preallocate). */
  private prepareNext(): void {
    if (this.prepared === null && this.preallocate && !this.closing && this.position >= this.segmentBytes / 2) {
      this.prepared = new SegmentPreparation(join(this.dir, `journal-next-${process.pid}-${threadId}-${++preparations}.prep`), this.segmentBytes);
    }
  }

  /** Room for one more frame of bodyLength bytes in the current batch. */
  fits(bodyLength: number): boolean {
    return this.used + FRAME_HEADER_LENGTH + align8(bodyLength) <= this.batch.length;
  }

  /**
   * Appends one frame to the batch; the caller flushes when fits() says no, and per batch.
   * srcView: a DataView over exactly src's bytes (the ring's own, as the persistence stage
   * passes it), or null (viewOf makes one).
   */
  append(typeId: number, src: Uint8Array, offset: number, length: number, srcView: DataView | null = null): void {
    if (!(length >= 0 && length <= MAX_FRAME_BODY && offset >= 0 && offset + length <= src.length)) throw new Error('Condition failed: journal body length');
    const frameLength = FRAME_HEADER_LENGTH + align8(length);
    if (this.position + this.used + frameLength > this.segmentBytes) this.rotate();
    if (!this.fits(length)) this.flush(Date.now());
    const at = this.used;
    const v = this.view;
    const seqLo = this.sequence >>> 0;
    v.setUint32(at + LENGTH_OFFSET, length, true);
    v.setInt32(at + TYPE_OFFSET, typeId, true);
    v.setUint32(at + SEQ_OFFSET, seqLo, true);
    // One pass copies the body and checksums the frame's CRC range (typeId, seqLo, body), eight
    // bytes a step through DataViews, which read and write at any alignment.
    let c = crc32Words(CRC32_INIT, typeId | 0, seqLo | 0);
    const sv = srcView ?? this.viewOf(src);
    const body = at + FRAME_HEADER_LENGTH;
    const steps = length & ~7;
    for (let i = 0; i < steps; i += 8) {
      const w0 = sv.getInt32(offset + i, true);
      const w1 = sv.getInt32(offset + i + 4, true);
      v.setInt32(body + i, w0, true);
      v.setInt32(body + i + 4, w1, true);
      c = crc32Words(c, w0, w1);
    }
    const batch = this.batch;
    for (let i = steps; i < length; i++) {
      const b = src[offset + i];
      batch[body + i] = b;
      c = crc32Byte(c, b);
    }
    const end = body + align8(length);
    for (let i = body + length; i < end; i++) batch[i] = 0;
    v.setUint32(at + CRC_OFFSET, crc32Final(c), true);
    this.used = end;
    this.sequence++;
  }

  /**
   * A DataView over src's bytes (the same range, so the same offsets) for a caller that passes
   * none (tests, benchmarks' synthetic journals): the last one is kept, so appending from one
   * source allocates it once.
   */
  private viewOf(src: Uint8Array): DataView {
    if (src !== this.lastSource || this.lastSourceView === null) {
      this.lastSource = src;
      this.lastSourceView = new DataView(src.buffer, src.byteOffset, src.byteLength);
    }
    return this.lastSourceView;
  }

  /** Writes the batch (one write call) and fsyncs per policy. */
  flush(nowMs: number): void {
    if (this.used === 0) return;
    let off = 0;
    while (off < this.used) off += writeSync(this.fd, this.batch, off, this.used - off, this.position + off);
    this.position += this.used;
    this.bytesWritten += this.used;
    this.writeCount++;
    this.used = 0;
    if (this.fsync === 'batch' || (this.fsync === 'interval' && nowMs - this.lastFsyncMs >= this.fsyncIntervalMs)) {
      fdatasyncSync(this.fd);
      this.fsyncCount++;
      this.lastFsyncMs = nowMs;
    }
    this.prepareNext();
  }

  /** Whether a preparation of the next segment has begun (the current one is half full; tests). */
  preparingNextSegment(): boolean {
    return this.prepared !== null;
  }

  /** Whether the next segment is prepared, ready to be taken at rotation (tests, benchmarks). */
  nextSegmentReady(): boolean {
    return this.prepared !== null && this.prepared.ready;
  }

  /** Flushes, ends the segment (cut to its frames), and stops a preparation (its file removed). */
  close(): void {
    this.closing = true;
    this.finishSegment();
    this.prepared?.abandon();
    this.prepared = null;
  }
}

/**
 * fdatasyncs a file or a directory by its path (a directory: a file created, renamed or unlinked
 * in it is then durable).
 */
export function syncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * How a background durable write shares the disk with the journal's group commit. Written whole
 * and fsynced once, a ~90 MiB snapshot puts that much dirty data in the disk's queue at once, and
 * an fdatasync of the journal issued meanwhile waits behind it (bench:disk: the journal flush's
 * p99 47-58 ms beside such saves in five runs, 1.2-2.4 ms beside paced ones, 0.67-6.4 ms alone).
 * Paced, the file is written `chunkBytes` at a time, each chunk fdatasynced before the next, and
 * no faster than `bytesPerS`: at most one chunk is ever queued ahead of the journal's flush.
 */
export interface WritePace {
  chunkBytes: number;
  bytesPerS: number;
  /**
   * Sleeps up to `ms` between chunks; false ends the pacing (a stop request): the rest of the file
   * is then written at once, so a save is never left half-done by a stop.
   */
  wait(ms: number): boolean;
}

/** How far a paced write that began at startedMs (performance.now()) and has written `bytes` is ahead of `bytesPerS`, in ms (<= 0: behind, go on). */
function msAheadOfPace(bytes: number, bytesPerS: number, startedMs: number): number {
  return (bytes / bytesPerS) * 1000 - (performance.now() - startedMs);
}

/** The chunk a paced write fdatasyncs: 128 KiB (at 32 MiB/s) measured closest to the flush alone of the variants tried (bench/results/archive/snapshot-pacing/). */
export const PACED_CHUNK_BYTES = 128 * 1024;

/**
 * The pace of a background save (journal.snapshotWriteMiBPerS; 0: none, written at once) on a
 * thread whose `stop` word (an Int32 at index 0) a stop request sets and notifies: between chunks
 * it sleeps on the word, and a stop ends the pacing. The snapshot thread's, and bench:disk's.
 */
export function pacedByStopWord(mibPerS: number, stop: Int32Array): WritePace | null {
  if (mibPerS === 0) return null;
  return { chunkBytes: PACED_CHUNK_BYTES, bytesPerS: mibPerS * 2 ** 20, wait: (ms) => Atomics.wait(stop, 0, 0, ms) === 'timed-out' };
}

/** Sets a stop word (pacedByStopWord's) and wakes a paced save sleeping on it: the save then writes its rest at once. */
export function requestStop(stop: Int32Array): void {
  Atomics.store(stop, 0, 1);
  Atomics.notify(stop, 0);
}

/**
 * Replaces the file at `path` with `data` (text, or byte parts written one after another),
 * durably: its directory created if missing (and the parent of the first directory created
 * fsynced, so the new directory survives a power loss), a temporary file written and fsynced
 * (removed if that fails), renamed over `path`, and the directory fsynced. A crash leaves the old
 * file or the new one, whole. The sinks' cursor and hold files, the recovery snapshots. With
 * `pace`, the parts are written in fdatasynced chunks at a bounded rate (WritePace). Returns how
 * many chunks were fdatasynced on their own before the end (0 when written at once): what a
 * caller reports to show its saves were paced.
 */
export function writeFileDurably(path: string, data: string | readonly Uint8Array[], pace: WritePace | null = null): number {
  const dir = dirname(path);
  const created = mkdirSync(dir, { recursive: true });
  if (created !== undefined) syncPath(dirname(created));
  const tmp = `${path}.tmp`;
  let chunks = 0;
  try {
    const fd = openSync(tmp, 'w');
    try {
      if (typeof data === 'string') writeSync(fd, data);
      else chunks = writeParts(fd, data, pace);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  syncPath(dir);
  return chunks;
}

/**
 * Writes `parts` one after another from offset 0 of `fd`, paced (WritePace) or at once; returns
 * the chunks fdatasynced before the end.
 */
function writeParts(fd: number, parts: readonly Uint8Array[], pace: WritePace | null): number {
  if (pace !== null && !(Number.isSafeInteger(pace.chunkBytes) && pace.chunkBytes > 0 && pace.bytesPerS > 0)) {
    throw new Error(`Condition failed: a write pace has chunkBytes a positive integer (${pace.chunkBytes}) and bytesPerS > 0 (${pace.bytesPerS})`);
  }
  const step = pace === null ? Infinity : pace.chunkBytes;
  let total = 0;
  for (const part of parts) total += part.length;
  const started = performance.now();
  let position = 0;
  let unsynced = 0;
  let pacing = pace !== null;
  let chunks = 0;
  for (const part of parts) {
    for (let at = 0; at < part.length; ) {
      const n = writeSync(fd, part, at, pacing ? Math.min(part.length - at, step - unsynced) : part.length - at, position);
      at += n;
      position += n;
      unsynced += n;
      // The last chunk is left to the caller's fsync, with no wait after it.
      if (pacing && unsynced >= step && position < total) {
        fdatasyncSync(fd);
        chunks++;
        unsynced = 0;
        const ahead = msAheadOfPace(position, pace!.bytesPerS, started);
        if (ahead > 0 && !pace!.wait(ahead)) pacing = false;
      }
    }
  }
  return chunks;
}

export interface JournalEnd {
  /** Index of the last segment (0: none). */
  lastIndex: number;
  /** Frames in the last segment. */
  lastFrames: number;
  /** Sequence number the next frame gets. */
  nextSequence: number;
  /** Bytes cut off the last segment's torn tail. */
  tornBytes: number;
}

/**
 * Finds where the journal in dir ends, cutting a torn tail off its last segment (a crash in the
 * middle of a write leaves one) so appends continue a clean log. A last segment whose header is
 * torn holds no frame: it is set aside as .torn and the one before it is the end. Allocates.
 */
export function findJournalEnd(dir: string): JournalEnd {
  const segments = listSegments(dir);
  for (let i = segments.length - 1; i >= 0; i--) {
    const path = join(dir, segmentFileName(segments[i]));
    const scan = scanSegment(path);
    if (scan.header === null) {
      renameSync(path, `${path}.torn`);
      continue;
    }
    const size = scan.fileBytes;
    let tornBytes = 0;
    if (scan.validBytes < size) {
      const fd = openSync(path, 'r+');
      try {
        // Zeros after the frames are a preallocated segment's unwritten space, not a torn tail.
        tornBytes = writtenBytesFrom(fd, scan.validBytes, size);
        ftruncateSync(fd, scan.validBytes);
        fdatasyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
    return { lastIndex: segments[i], lastFrames: scan.frames, nextSequence: scan.header.firstSequence + scan.frames, tornBytes };
  }
  return { lastIndex: 0, lastFrames: 0, nextSequence: 1, tornBytes: 0 };
}

/** Bytes from `from` to the last non-zero byte before `size` (0: all zeros). Allocates a chunk. */
function writtenBytesFrom(fd: number, from: number, size: number): number {
  const chunk = new Uint8Array(1 << 20);
  let lastNonZero = -1;
  for (let position = from; position < size; ) {
    const got = readSync(fd, chunk, 0, Math.min(chunk.length, size - position), position);
    if (got === 0) break;
    for (let i = got - 1; i >= 0; i--) {
      if (chunk[i] !== 0) {
        lastNonZero = position + i;
        break;
      }
    }
    position += got;
  }
  return lastNonZero < 0 ? 0 : lastNonZero + 1 - from;
}

export interface SegmentScan {
  header: SegmentHeader | null;
  frames: number;
  validBytes: number;
  fileBytes: number;
  stoppedBecause: string | null;
}

/** Walks one segment frame by frame, in chunks (memory bounded by the chunk). Allocates the chunk. */
export function scanSegment(path: string, chunkBytes: number = 1 << 20): SegmentScan {
  const fd = openSync(path, 'r');
  try {
    const fileBytes = fstatSync(fd).size;
    const chunk = new Uint8Array(Math.max(chunkBytes, FRAME_HEADER_LENGTH + MAX_FRAME_BODY));
    const view = new DataView(chunk.buffer);
    const headerRead = readSync(fd, chunk, 0, SEGMENT_HEADER_LENGTH, 0);
    const header = decodeSegmentHeader(chunk, 0, headerRead);
    if (header === null) return { header, frames: 0, validBytes: 0, fileBytes, stoppedBecause: 'segment header torn or corrupt' };
    let position = SEGMENT_HEADER_LENGTH;
    let frames = 0;
    let stoppedBecause: string | null = null;
    while (position < fileBytes) {
      const got = readSync(fd, chunk, 0, Math.min(chunk.length, fileBytes - position), position);
      const reachedEnd = position + got >= fileBytes;
      let at = 0;
      let problem = 0;
      while (at < got) {
        const n = checkFrame(view, at, got, header.firstSequence + frames);
        if (n < 0) { problem = n; break; }
        at += n;
        frames++;
      }
      position += at;
      // A frame cut by the chunk's end is re-read at the start of the next chunk; one cut by the
      // file's end, or a bad one, ends the segment.
      if (problem === FrameProblem.UNWRITTEN) break; // the frames end here (preallocated space after them)
      if (problem !== 0) {
        const cut = problem === FrameProblem.TORN_HEADER || problem === FrameProblem.TORN_BODY;
        if (!cut || reachedEnd || at === 0) {
          stoppedBecause = frameProblemName(problem);
          break;
        }
      }
    }
    return { header, frames, validBytes: position, fileBytes, stoppedBecause };
  } finally {
    closeSync(fd);
  }
}

export interface JournalFrame {
  typeId: number;
  sequence: number;
  body: Uint8Array;
}

export interface JournalReadResult {
  frames: JournalFrame[];
  /** Byte offset where valid frames end (a torn or corrupt tail starts here). */
  validBytes: number;
  /** Why reading stopped before the end of the file, or null. */
  stoppedBecause: string | null;
  header: SegmentHeader | null;
}

/** Reads every valid frame of one segment file; stops cleanly at a torn or corrupt tail. Allocates (tests, tools). */
export function readJournal(path: string): JournalReadResult {
  const fd = openSync(path, 'r');
  let data: Uint8Array;
  try {
    const size = fstatSync(fd).size;
    data = new Uint8Array(size);
    let off = 0;
    while (off < size) {
      const n = readSync(fd, data, off, size - off, off);
      if (n === 0) break;
      off += n;
    }
  } finally {
    closeSync(fd);
  }
  const header = decodeSegmentHeader(data, 0, data.length);
  if (header === null) return { frames: [], validBytes: 0, stoppedBecause: 'segment header torn or corrupt', header };
  const view = new DataView(data.buffer);
  const frames: JournalFrame[] = [];
  let at = SEGMENT_HEADER_LENGTH;
  let stoppedBecause: string | null = null;
  while (at < data.length) {
    const sequence = header.firstSequence + frames.length;
    const n = checkFrame(view, at, data.length, sequence);
    if (n === FrameProblem.UNWRITTEN) break;
    if (n < 0) { stoppedBecause = frameProblemName(n); break; }
    const length = frameBodyLength(view, at);
    frames.push({ typeId: frameTypeId(view, at), sequence, body: data.slice(at + FRAME_HEADER_LENGTH, at + FRAME_HEADER_LENGTH + length) });
    at += n;
  }
  return { frames, validBytes: at, stoppedBecause, header };
}
