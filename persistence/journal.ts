/**
 * The journal: an append-only file of every command the risk stage took and every event it
 * produced, in the order it handled them.
 *
 * Frame (little-endian), 8-byte aligned like ring records:
 *
 *   0        4        8        12       16                 16 + length (aligned up to 8)
 *   +--------+--------+--------+--------+------------------+
 *   | length | crc32  | typeId | seqLo  | body (length)    |
 *   +--------+--------+--------+--------+------------------+
 *
 * crc32 covers bytes 8 to the end of the body (typeId, seqLo, body) in one range, so a torn or corrupted tail is detected: the reader
 * stops at the first frame that is short or fails its checksum, and reports where. seqLo is the
 * low 32 bits of the journal sequence number, checked for gaps on reading.
 *
 * Group commit: append() copies into a batch buffer; flush() writes the batch with one write
 * and, per the fsync policy, one fdatasync ('batch': every flush; 'interval': at most every N
 * ms; 'none': the OS decides). Segment rotation, snapshots and recovery are the persistence
 * issue's; the file format already carries what they need.
 */

import { closeSync, fdatasyncSync, fstatSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from './crc32.ts';

export const FRAME_HEADER_LENGTH = 16;
const LENGTH_OFFSET = 0;
const CRC_OFFSET = 4;
const TYPE_OFFSET = 8;
const SEQ_OFFSET = 12;
export const MAX_FRAME_BODY = 64 * 1024;

function align8(n: number): number {
  return (n + 7) & ~7;
}

export type FsyncPolicy = 'none' | 'batch' | 'interval';

export class JournalWriter {
  readonly path: string;
  private readonly fd: number;
  private readonly batch: Uint8Array;
  private readonly view: DataView;
  private used: number;
  private readonly fsync: FsyncPolicy;
  private readonly fsyncIntervalMs: number;
  private lastFsyncMs: number;
  private position: number;
  /** Next journal sequence number. */
  sequence: number;
  bytesWritten: number;
  fsyncCount: number;
  writeCount: number;

  constructor(dir: string, fsync: FsyncPolicy, fsyncIntervalMs: number, batchBytes: number = 1 << 20) {
    mkdirSync(dir, { recursive: true });
    this.path = join(dir, 'journal-000001.log');
    this.fd = openSync(this.path, 'a');
    this.position = fstatSync(this.fd).size;
    this.batch = new Uint8Array(batchBytes);
    this.view = new DataView(this.batch.buffer);
    this.used = 0;
    this.fsync = fsync;
    this.fsyncIntervalMs = fsyncIntervalMs;
    this.lastFsyncMs = 0;
    this.sequence = 1;
    this.bytesWritten = 0;
    this.fsyncCount = 0;
    this.writeCount = 0;
  }

  /** Room for one more frame of bodyLength bytes in the current batch. */
  fits(bodyLength: number): boolean {
    return this.used + FRAME_HEADER_LENGTH + align8(bodyLength) <= this.batch.length;
  }

  /** Appends one frame to the batch; the caller flushes when fits() says no, and per batch. */
  append(typeId: number, src: Uint8Array, offset: number, length: number): void {
    if (!(length >= 0 && length <= MAX_FRAME_BODY)) throw new Error('Condition failed: journal body length');
    if (!this.fits(length)) this.flush(Date.now());
    const at = this.used;
    const v = this.view;
    v.setUint32(at + LENGTH_OFFSET, length, true);
    v.setInt32(at + TYPE_OFFSET, typeId, true);
    v.setUint32(at + SEQ_OFFSET, this.sequence >>> 0, true);
    const body = at + FRAME_HEADER_LENGTH;
    for (let i = 0; i < length; i++) this.batch[body + i] = src[offset + i];
    const end = body + align8(length);
    for (let i = body + length; i < end; i++) this.batch[i] = 0;
    v.setUint32(at + CRC_OFFSET, crc32(this.batch, at + TYPE_OFFSET, body + length), true);
    this.used = end;
    this.sequence++;
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
  }

  close(): void {
    this.flush(Date.now());
    if (this.fsync !== 'none') fdatasyncSync(this.fd);
    closeSync(this.fd);
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
}

/** Reads every valid frame of a journal file; stops cleanly at a torn or corrupt tail. Allocates. */
export function readJournal(path: string): JournalReadResult {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const data = new Uint8Array(size);
    let off = 0;
    while (off < size) {
      const n = readSync(fd, data, off, size - off, off);
      if (n === 0) break;
      off += n;
    }
    const view = new DataView(data.buffer);
    const frames: JournalFrame[] = [];
    let at = 0;
    let stoppedBecause: string | null = null;
    let expectedSeq = -1;
    while (at < size) {
      if (at + FRAME_HEADER_LENGTH > size) { stoppedBecause = 'torn header'; break; }
      const length = view.getUint32(at + LENGTH_OFFSET, true);
      if (length > MAX_FRAME_BODY) { stoppedBecause = 'bad length'; break; }
      const body = at + FRAME_HEADER_LENGTH;
      if (body + align8(length) > size) { stoppedBecause = 'torn body'; break; }
      const stored = view.getUint32(at + CRC_OFFSET, true);
      if (crc32(data, at + TYPE_OFFSET, body + length) !== stored) { stoppedBecause = 'checksum mismatch'; break; }
      const seq = view.getUint32(at + SEQ_OFFSET, true);
      if (expectedSeq >= 0 && seq !== expectedSeq >>> 0) { stoppedBecause = `sequence gap: expected ${expectedSeq >>> 0}, found ${seq}`; break; }
      expectedSeq = seq + 1;
      frames.push({ typeId: view.getInt32(at + TYPE_OFFSET, true), sequence: seq, body: data.slice(body, body + length) });
      at = body + align8(length);
    }
    return { frames, validBytes: at, stoppedBecause };
  } finally {
    closeSync(fd);
  }
}
