/**
 * Per-session FIX message store: the outbound messages by MsgSeqNum (for ResendRequest, FIX 4.4
 * vol. 2 "Message Recovery") and the next sender / target sequence numbers (so a restart resumes
 * the session, vol. 2 "Sequence Number Reset" and "Logon": ResetSeqNumFlag starts over).
 *
 * Every outbound sequence number is recorded: an application message with its bytes, an admin
 * message (Logon, Heartbeat, Reject...) as a zero-length marker, which a resend replaces with a
 * SequenceReset-GapFill as the spec requires. Records arrive in increasing seq order.
 *
 * Two implementations:
 *   - MemoryMessageStore: a bounded ring (last maxMessages messages, at most maxBytes of bytes);
 *     older messages are gone and get gap-filled. For tests, simulations and sessions that need
 *     no restart.
 *   - FileMessageStore: files in one directory per session,
 *
 *       seqnums        "SSSSSSSSSSSSSSSSSSSS:TTTTTTTTTTTTTTTTTTTT\n"  (next sender : next target)
 *       messages.log   append-only records:  magic u32 | seq u32 | length u32 | frame bytes
 *       messages.idx   append-only entries:  seq u32 | log offset f64          (12 bytes each)
 *       period         "PPPPPPPPPPPPPPPPPPPP\n"  (start of the session-schedule period, epoch ms)
 *
 *     Writes are buffered in memory (bounded) and written by flush(), which the session calls
 *     once per batch of input and per timer tick (group commit); fsync policy: 'never' (the OS
 *     decides), 'background' (fdatasync on libuv's thread pool, one round in flight at most, the
 *     next covering everything written meanwhile, rounds at least backgroundSyncIntervalMs
 *     apart: the session's thread never waits for the disk, starts at most one round per
 *     interval whatever the message rate (each fs.fdatasync call costs the calling thread tens of
 *     microseconds; back to back they took a tenth of a busy fix thread), and what it wrote is
 *     on disk within about one interval plus two fdatasyncs: the round in flight when it was
 *     written, then its own), 'flush'
 *     (fsync on every flush, on the calling thread) or 'always' (write and fsync every record,
 *     slow). Every policy writes before the socket sends (writeAhead), so a killed process never
 *     loses a sequence number its peer saw; fsync only matters when the machine itself fails.
 *     The index is direct data on disk: memory stays bounded whatever the session's length, and a
 *     read finds its record by one sequential step from the previous read or a binary search.
 *     Reopening recovers: torn records at the tail are cut off, records the index missed are
 *     re-indexed, and the next sender seq is max(seqnums file, last record + 1).
 *
 * All little-endian. Not thread-safe: one store per session, used from the session's thread.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { copyBytes } from '../engine/bytes.ts';
import { MAX_FRAME_LENGTH } from './parser.ts';

export interface MessageStore {
  /** Next MsgSeqNum we send, as recorded. */
  readonly nextSenderSeqNum: number;
  /** Next MsgSeqNum we expect, as last set. */
  readonly nextTargetSeqNum: number;
  /** Lowest seq whose message may still be read; everything below is gap-filled. */
  readonly firstReadableSeq: number;
  /** After read(): the bytes are readBuf[readStart, readStart + length). Valid until the next call. */
  readonly readBuf: Uint8Array;
  readonly readStart: number;
  /** Records outbound `seq`: an application frame, or length 0 for an admin message. Allocates nothing. */
  record(seq: number, buf: Uint8Array, start: number, length: number): void;
  /** Forgets the record of `seq`, which must be the last one recorded (its write was refused). */
  rollback(seq: number): void;
  /** Length of the stored application message `seq` (see readBuf), or 0 when none is stored. */
  read(seq: number): number;
  setNextSenderSeqNum(seq: number): void;
  setNextTargetSeqNum(seq: number): void;
  /** Both sequence numbers back to 1 and every message dropped (ResetSeqNumFlag). */
  reset(): void;
  /**
   * Start (epoch ms) of the session-schedule period these sequence numbers belong to, 0 when
   * unknown (no schedule, or a store older than its schedule). Not cleared by reset().
   */
  readonly periodStartMs: number;
  /** Records the schedule period (a file store writes it at once). */
  setPeriodStartMs(ms: number): void;
  /** Makes what was recorded durable as the fsync policy says. Cheap when nothing changed. */
  flush(): void;
  /**
   * Hands what was recorded to the operating system without fsync, so a killed process loses
   * none of it (an OS crash is flush()'s business). Called before sent bytes reach the socket:
   * a peer must never have seen a sequence number the store could forget.
   */
  writeAhead(): void;
  close(): void;
}

// ------------------------------------------------------------------------------ memory

export interface MemoryMessageStoreOptions {
  /** Messages kept (ring). Default 4096. */
  maxMessages?: number;
  /** Bytes of messages kept (ring). Default 1 MiB. */
  maxBytes?: number;
}

export class MemoryMessageStore implements MessageStore {
  nextSenderSeqNum: number;
  nextTargetSeqNum: number;
  periodStartMs: number;
  readBuf: Uint8Array;
  readStart: number;
  private readonly maxMessages: number;
  private readonly entrySeq: Float64Array;
  /** Absolute byte position of each entry's bytes (grows forever; ring offset = pos % size). */
  private readonly entryPos: Float64Array;
  private readonly entryLength: Int32Array;
  private readonly bytes: Uint8Array;
  private writePos: number;

  constructor(options: MemoryMessageStoreOptions = {}) {
    const maxMessages = options.maxMessages ?? 4096;
    const maxBytes = options.maxBytes ?? 1024 * 1024;
    if (!(Number.isInteger(maxMessages) && maxMessages >= 1)) throw new Error('Condition failed: maxMessages >= 1');
    if (!(Number.isInteger(maxBytes) && maxBytes >= 1024)) throw new Error('Condition failed: maxBytes >= 1024');
    this.nextSenderSeqNum = 1;
    this.nextTargetSeqNum = 1;
    this.periodStartMs = 0;
    this.maxMessages = maxMessages;
    this.entrySeq = new Float64Array(maxMessages);
    this.entryPos = new Float64Array(maxMessages);
    this.entryLength = new Int32Array(maxMessages);
    this.bytes = new Uint8Array(maxBytes);
    this.readBuf = this.bytes;
    this.readStart = 0;
    this.writePos = 0;
  }

  get firstReadableSeq(): number {
    const first = this.nextSenderSeqNum - this.maxMessages;
    return first > 1 ? first : 1;
  }

  record(seq: number, buf: Uint8Array, start: number, length: number): void {
    if (!(seq >= this.nextSenderSeqNum)) throw new Error('Invariant: records arrive in increasing seq order');
    const slot = seq % this.maxMessages;
    this.entrySeq[slot] = seq;
    this.entryLength[slot] = 0;
    this.nextSenderSeqNum = seq + 1;
    const size = this.bytes.length;
    if (length === 0 || length > size) return; // admin marker, or too large to keep: gap-filled
    let pos = this.writePos;
    const end = pos % size;
    if (end + length > size) pos += size - end; // never split a message across the ring's end
    const at = pos % size;
    copyBytes(buf, start, this.bytes, at, length);
    this.entryPos[slot] = pos;
    this.entryLength[slot] = length;
    this.writePos = pos + length;
  }

  rollback(seq: number): void {
    const slot = seq % this.maxMessages;
    if (this.entrySeq[slot] !== seq || this.nextSenderSeqNum !== seq + 1) throw new Error('Invariant: rollback of the last record');
    if (this.entryLength[slot] > 0) this.writePos = this.entryPos[slot];
    this.entrySeq[slot] = 0;
    this.entryLength[slot] = 0;
    this.nextSenderSeqNum = seq;
  }

  read(seq: number): number {
    const slot = seq % this.maxMessages;
    const length = this.entryLength[slot];
    if (this.entrySeq[slot] !== seq || length === 0) return 0;
    const pos = this.entryPos[slot];
    if (this.writePos - pos > this.bytes.length) return 0; // overwritten by newer messages
    this.readStart = pos % this.bytes.length;
    return length;
  }

  setNextSenderSeqNum(seq: number): void {
    if (seq < this.nextSenderSeqNum) this.clearMessages(); // only a reset goes back
    this.nextSenderSeqNum = seq;
  }

  setNextTargetSeqNum(seq: number): void {
    this.nextTargetSeqNum = seq;
  }

  reset(): void {
    this.clearMessages();
    this.nextSenderSeqNum = 1;
    this.nextTargetSeqNum = 1;
  }

  setPeriodStartMs(ms: number): void {
    if (!(Number.isSafeInteger(ms) && ms >= 0)) throw new Error('Condition failed: periodStartMs >= 0');
    this.periodStartMs = ms;
  }

  flush(): void {}

  writeAhead(): void {}

  close(): void {}

  private clearMessages(): void {
    this.entrySeq.fill(0);
    this.entryLength.fill(0);
    this.writePos = 0;
  }
}

// ------------------------------------------------------------------------------ files

export type FsyncPolicy = 'never' | 'background' | 'flush' | 'always';

export interface FileMessageStoreOptions {
  /** Default 'flush': group commit, one fsync per flush when something was written. */
  fsync?: FsyncPolicy;
  /** Bytes of records buffered before a write is forced. Default 256 KiB (at least two frames). */
  writeBufferBytes?: number;
  /** 'background': least time between the starts of two fdatasync rounds. Default 10 ms. */
  backgroundSyncIntervalMs?: number;
}

const RECORD_MAGIC = 0x31584946; // "FIX1" read as little-endian u32
const RECORD_HEADER = 12;
const INDEX_ENTRY = 12;
const SEQNUMS_LENGTH = 42; // 20 digits ':' 20 digits '\n'
const MAX_SEQ = 0xffffffff;
const UNSYNCED_LOG = 1;
const UNSYNCED_INDEX = 2;
const UNSYNCED_SEQNUMS = 4;

export class FileMessageStore implements MessageStore {
  readonly dir: string;
  nextSenderSeqNum: number;
  nextTargetSeqNum: number;
  periodStartMs: number;
  firstReadableSeq: number;
  readonly readBuf: Uint8Array;
  readonly readStart: number;
  private readonly fsyncPolicy: FsyncPolicy;
  private readonly logFd: number;
  private readonly idxFd: number;
  private readonly seqFd: number;
  /** Bytes of the log and index on disk (pending buffers not included). */
  private logSize: number;
  private idxSize: number;
  private readonly logPending: Uint8Array;
  private readonly logPendingView: DataView;
  private logPendingLength: number;
  private readonly idxPending: Uint8Array;
  private readonly idxPendingView: DataView;
  private idxPendingLength: number;
  private readonly readView: DataView;
  private readonly scratch: Uint8Array;
  private readonly scratchView: DataView;
  private readonly seqText: Uint8Array;
  private readonly periodFile: string;
  /** Index entry number of the last read (for sequential resends), or -1. */
  private cursor: number;
  private seqDirty: boolean;
  /** Which files were written since their last fsync: bit 1 log, 2 index, 4 seqnums. */
  private unsynced: number;
  private closed: boolean;
  /** 'background': files whose fdatasync is in flight (bits as unsynced), and how many calls are out. */
  private syncing: number;
  private syncCallsOut: number;
  private syncError: Error | null;
  private readonly onSyncedBound: (err: Error | null) => void;
  private readonly syncIntervalMs: number;
  /** performance.now() when the last round started. */
  private lastRoundMs: number;
  /** The timer of the round that waits for the interval (at most one armed; one per interval at most). */
  private deferredRound: NodeJS.Timeout | null;
  private readonly onDeferredBound: () => void;
  /** 'background': fdatasync rounds completed. */
  backgroundSyncs: number;
  /** 'background': rounds the interval held back, started by their timer. */
  deferredRounds: number;

  /** Opens (creating when needed) the store in `dir` and recovers its state. Synchronous I/O. */
  constructor(dir: string, options: FileMessageStoreOptions = {}) {
    const bufferBytes = options.writeBufferBytes ?? 256 * 1024;
    if (!(bufferBytes >= 2 * (MAX_FRAME_LENGTH + RECORD_HEADER))) throw new Error('Condition failed: writeBufferBytes holds two frames');
    fs.mkdirSync(dir, { recursive: true });
    this.dir = dir;
    this.fsyncPolicy = options.fsync ?? 'flush';
    this.syncing = 0;
    this.syncCallsOut = 0;
    this.syncError = null;
    this.onSyncedBound = (err) => this.onSynced(err);
    this.syncIntervalMs = options.backgroundSyncIntervalMs ?? 10;
    if (!(Number.isFinite(this.syncIntervalMs) && this.syncIntervalMs >= 0)) throw new Error('Condition failed: backgroundSyncIntervalMs finite, >= 0');
    this.lastRoundMs = -Infinity;
    this.deferredRound = null;
    this.onDeferredBound = () => this.onDeferredRound();
    this.backgroundSyncs = 0;
    this.deferredRounds = 0;
    this.logFd = openReadWrite(path.join(dir, 'messages.log'));
    this.idxFd = openReadWrite(path.join(dir, 'messages.idx'));
    this.seqFd = openReadWrite(path.join(dir, 'seqnums'));
    this.logSize = fs.fstatSync(this.logFd).size;
    this.idxSize = fs.fstatSync(this.idxFd).size;
    this.logPending = new Uint8Array(bufferBytes);
    this.logPendingView = new DataView(this.logPending.buffer);
    this.logPendingLength = 0;
    this.idxPending = new Uint8Array(Math.ceil(bufferBytes / RECORD_HEADER) * INDEX_ENTRY);
    this.idxPendingView = new DataView(this.idxPending.buffer);
    this.idxPendingLength = 0;
    this.readBuf = new Uint8Array(RECORD_HEADER + MAX_FRAME_LENGTH);
    this.readView = new DataView(this.readBuf.buffer);
    this.readStart = RECORD_HEADER;
    this.scratch = new Uint8Array(INDEX_ENTRY);
    this.scratchView = new DataView(this.scratch.buffer);
    this.seqText = new Uint8Array(SEQNUMS_LENGTH);
    this.cursor = -1;
    this.seqDirty = false;
    this.unsynced = 0;
    this.closed = false;
    this.nextSenderSeqNum = 1;
    this.nextTargetSeqNum = 1;
    this.firstReadableSeq = 1;
    this.periodFile = path.join(dir, 'period');
    this.periodStartMs = readPeriod(this.periodFile);
    this.recover();
  }

  record(seq: number, buf: Uint8Array, start: number, length: number): void {
    if (!(seq >= this.nextSenderSeqNum && seq <= MAX_SEQ)) throw new Error('Invariant: records arrive in increasing seq order');
    if (length > MAX_FRAME_LENGTH) throw new Error('Condition failed: a record is one frame');
    if (this.logPendingLength + RECORD_HEADER + length > this.logPending.length) this.writePending();
    const offset = this.logSize + this.logPendingLength;
    const v = this.logPendingView;
    let p = this.logPendingLength;
    v.setUint32(p, RECORD_MAGIC, true);
    v.setUint32(p + 4, seq, true);
    v.setUint32(p + 8, length, true);
    p += RECORD_HEADER;
    copyBytes(buf, start, this.logPending, p, length);
    this.logPendingLength = p + length;
    this.idxPendingView.setUint32(this.idxPendingLength, seq, true);
    this.idxPendingView.setFloat64(this.idxPendingLength + 4, offset, true);
    this.idxPendingLength += INDEX_ENTRY;
    if (this.idxSize === 0 && this.idxPendingLength === INDEX_ENTRY) this.firstReadableSeq = seq;
    this.nextSenderSeqNum = seq + 1;
    this.seqDirty = true;
    if (this.fsyncPolicy === 'always') this.flush();
  }

  rollback(seq: number): void {
    if (this.nextSenderSeqNum !== seq + 1) throw new Error('Invariant: rollback of the last record');
    if (this.idxPendingLength >= INDEX_ENTRY) {
      const e = this.idxPendingLength - INDEX_ENTRY;
      if (this.idxPendingView.getUint32(e, true) !== seq) throw new Error('Invariant: the last pending record is seq');
      this.logPendingLength = this.idxPendingView.getFloat64(e + 4, true) - this.logSize;
      this.idxPendingLength = e;
    } else {
      const entry = this.entryAt(this.idxSize / INDEX_ENTRY - 1);
      if (entry !== seq) throw new Error('Invariant: the last written record is seq');
      this.truncateTo(this.scratchView.getFloat64(4, true), this.idxSize - INDEX_ENTRY);
    }
    this.nextSenderSeqNum = seq;
    this.seqDirty = true;
  }

  read(seq: number): number {
    if (seq < this.firstReadableSeq || seq >= this.nextSenderSeqNum) return 0;
    this.writePending();
    const i = this.findEntry(seq);
    if (i < 0) return 0;
    this.cursor = i;
    const offset = this.scratchView.getFloat64(4, true);
    if (fs.readSync(this.logFd, this.readBuf, 0, RECORD_HEADER, offset) !== RECORD_HEADER) return 0;
    const length = this.readView.getUint32(8, true);
    if (this.readView.getUint32(0, true) !== RECORD_MAGIC || this.readView.getUint32(4, true) !== seq) return 0;
    if (length === 0 || length > MAX_FRAME_LENGTH) return 0;
    return fs.readSync(this.logFd, this.readBuf, RECORD_HEADER, length, offset + RECORD_HEADER) === length ? length : 0;
  }

  setNextSenderSeqNum(seq: number): void {
    if (!(Number.isSafeInteger(seq) && seq >= 1 && seq <= MAX_SEQ + 1)) throw new Error('Condition failed: seq in 1..2^32');
    if (seq < this.nextSenderSeqNum) this.clearMessages(); // only a reset goes back
    this.nextSenderSeqNum = seq;
    this.seqDirty = true;
  }

  setNextTargetSeqNum(seq: number): void {
    if (seq !== this.nextTargetSeqNum) this.seqDirty = true;
    this.nextTargetSeqNum = seq;
  }

  reset(): void {
    this.clearMessages();
    this.nextSenderSeqNum = 1;
    this.nextTargetSeqNum = 1;
    this.seqDirty = true;
    this.flush();
  }

  /** Written at once (rare: once per schedule period), fsynced unless the policy is 'never'. */
  setPeriodStartMs(ms: number): void {
    if (!(Number.isSafeInteger(ms) && ms >= 0)) throw new Error('Condition failed: periodStartMs >= 0');
    if (ms === this.periodStartMs) return;
    this.periodStartMs = ms;
    const tmp = `${this.periodFile}.tmp`;
    const fd = fs.openSync(tmp, 'w');
    fs.writeSync(fd, `${String(ms).padStart(20, '0')}\n`);
    if (this.fsyncPolicy !== 'never') fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(tmp, this.periodFile);
  }

  writeAhead(): void {
    if (this.closed) return;
    this.writePending();
    if (this.seqDirty) this.writeSeqNums();
  }

  flush(): void {
    if (this.closed) return;
    if (this.syncError !== null) throw this.syncError;
    this.writePending();
    if (this.seqDirty) this.writeSeqNums();
    if (this.fsyncPolicy === 'background') {
      this.startRoundOrDefer();
      return;
    }
    if (this.unsynced !== 0 && this.fsyncPolicy !== 'never') {
      if ((this.unsynced & UNSYNCED_LOG) !== 0) fs.fsyncSync(this.logFd);
      if ((this.unsynced & UNSYNCED_INDEX) !== 0) fs.fsyncSync(this.idxFd);
      if ((this.unsynced & UNSYNCED_SEQNUMS) !== 0) fs.fsyncSync(this.seqFd);
    }
    this.unsynced = 0;
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    if (this.deferredRound !== null) clearTimeout(this.deferredRound);
    this.deferredRound = null;
    // Whatever a background round has not covered is synced here, on this thread.
    if (this.fsyncPolicy === 'background') {
      const all = this.unsynced | this.syncing;
      if ((all & UNSYNCED_LOG) !== 0) fs.fsyncSync(this.logFd);
      if ((all & UNSYNCED_INDEX) !== 0) fs.fsyncSync(this.idxFd);
      if ((all & UNSYNCED_SEQNUMS) !== 0) fs.fsyncSync(this.seqFd);
      this.unsynced = 0;
    }
    this.closed = true;
    fs.closeSync(this.logFd);
    fs.closeSync(this.idxFd);
    fs.closeSync(this.seqFd);
  }

  // ------------------------------------------------------------------------ background fsync

  /**
   * When something is unsynced and no round is out: starts a round now if the last one started
   * an interval ago or more, else arms the timer for the time left (one timer at a time).
   */
  private startRoundOrDefer(): void {
    if (!this.roundWanted() || this.deferredRound !== null) return;
    const waitMs = this.lastRoundMs + this.syncIntervalMs - performance.now();
    if (waitMs <= 0) {
      this.startBackgroundSync();
      return;
    }
    this.deferredRound = setTimeout(this.onDeferredBound, Math.ceil(waitMs));
    // Never keeps a process alive: close() syncs whatever is left.
    this.deferredRound.unref();
  }

  private onDeferredRound(): void {
    this.deferredRound = null;
    if (this.closed || !this.roundWanted()) return;
    // The timer ran out: the interval has passed (a timer never fires early by more than the
    // loop's clock granularity, which Math.ceil covers).
    this.deferredRounds++;
    this.startBackgroundSync();
  }

  /** Something written is unsynced, no round is out, and no sync has failed. */
  private roundWanted(): boolean {
    return this.syncCallsOut === 0 && this.unsynced !== 0 && this.syncError === null;
  }

  /** Starts one fdatasync per file written since the last round; what is written meanwhile waits for the next. */
  private startBackgroundSync(): void {
    this.lastRoundMs = performance.now();
    this.syncing = this.unsynced;
    this.unsynced = 0;
    if ((this.syncing & UNSYNCED_LOG) !== 0) this.backgroundSync(this.logFd);
    if ((this.syncing & UNSYNCED_INDEX) !== 0) this.backgroundSync(this.idxFd);
    if ((this.syncing & UNSYNCED_SEQNUMS) !== 0) this.backgroundSync(this.seqFd);
  }

  private backgroundSync(fd: number): void {
    this.syncCallsOut++;
    fs.fdatasync(fd, this.onSyncedBound);
  }

  private onSynced(err: Error | null): void {
    this.syncCallsOut--;
    // After close() the files were synced there; a late EBADF means nothing.
    if (this.closed) return;
    // A failed fdatasync means written data may not be on disk: the next flush() throws it, as
    // a failing fsyncSync would have, rather than the store carrying on as if durable.
    if (err !== null && this.syncError === null) this.syncError = err;
    if (this.syncCallsOut !== 0) return;
    this.syncing = 0;
    this.backgroundSyncs++;
    this.startRoundOrDefer();
  }

  // ------------------------------------------------------------------------ writing

  private writePending(): void {
    if (this.logPendingLength > 0) {
      writeAll(this.logFd, this.logPending, this.logPendingLength, this.logSize);
      this.logSize += this.logPendingLength;
      this.logPendingLength = 0;
      this.unsynced |= UNSYNCED_LOG;
    }
    if (this.idxPendingLength > 0) {
      writeAll(this.idxFd, this.idxPending, this.idxPendingLength, this.idxSize);
      this.idxSize += this.idxPendingLength;
      this.idxPendingLength = 0;
      this.unsynced |= UNSYNCED_INDEX;
    }
  }

  private writeSeqNums(): void {
    const b = this.seqText;
    writePadded(b, 0, this.nextSenderSeqNum);
    b[20] = 0x3a;
    writePadded(b, 21, this.nextTargetSeqNum);
    b[41] = 0x0a;
    writeAll(this.seqFd, b, SEQNUMS_LENGTH, 0);
    this.seqDirty = false;
    this.unsynced |= UNSYNCED_SEQNUMS;
  }

  private clearMessages(): void {
    this.logPendingLength = 0;
    this.idxPendingLength = 0;
    this.truncateTo(0, 0);
    this.firstReadableSeq = 1;
  }

  private truncateTo(logSize: number, idxSize: number): void {
    fs.ftruncateSync(this.logFd, logSize);
    fs.ftruncateSync(this.idxFd, idxSize);
    this.logSize = logSize;
    this.idxSize = idxSize;
    this.cursor = -1;
    this.unsynced |= UNSYNCED_LOG | UNSYNCED_INDEX;
  }

  // ------------------------------------------------------------------------ reading the index

  /** Reads index entry i into scratch; returns its seq, or -1 when out of range. */
  private entryAt(i: number): number {
    if (i < 0 || (i + 1) * INDEX_ENTRY > this.idxSize) return -1;
    if (fs.readSync(this.idxFd, this.scratch, 0, INDEX_ENTRY, i * INDEX_ENTRY) !== INDEX_ENTRY) return -1;
    return this.scratchView.getUint32(0, true);
  }

  /** Index entry of seq (left in scratch), or -1. The next entry after the cursor is tried first. */
  private findEntry(seq: number): number {
    if (this.cursor >= 0 && this.entryAt(this.cursor + 1) === seq) return this.cursor + 1;
    let lo = 0;
    let hi = this.idxSize / INDEX_ENTRY - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const s = this.entryAt(mid);
      if (s === seq) return mid;
      if (s < seq) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  // ------------------------------------------------------------------------ recovery

  /** Restores sequence numbers and cuts torn tails off the log and the index. Startup only. */
  private recover(): void {
    this.readSeqNums();
    this.idxSize -= this.idxSize % INDEX_ENTRY;
    let logEnd = 0;
    // Drop index entries that point past the log or at a damaged record.
    while (this.idxSize > 0) {
      this.entryAt(this.idxSize / INDEX_ENTRY - 1);
      const end = this.recordEnd(this.scratchView.getFloat64(4, true));
      if (end > 0) {
        logEnd = end;
        break;
      }
      this.idxSize -= INDEX_ENTRY;
    }
    this.reindexFrom(logEnd);
    if (this.idxSize > 0) {
      this.firstReadableSeq = this.entryAt(0);
      const last = this.entryAt(this.idxSize / INDEX_ENTRY - 1);
      if (last + 1 > this.nextSenderSeqNum) this.nextSenderSeqNum = last + 1;
    } else {
      this.firstReadableSeq = this.nextSenderSeqNum;
    }
    this.truncateTo(this.logSize, this.idxSize);
    this.seqDirty = true;
    this.flush();
  }

  /** Indexes complete records after `offset` (written before a crash, index not yet), cuts the rest. */
  private reindexFrom(offset: number): void {
    let p = offset;
    for (;;) {
      const end = this.recordEnd(p);
      if (end < 0) break;
      this.scratchView.setUint32(0, this.readView.getUint32(4, true), true);
      this.scratchView.setFloat64(4, p, true);
      writeAll(this.idxFd, this.scratch, INDEX_ENTRY, this.idxSize);
      this.idxSize += INDEX_ENTRY;
      p = end;
    }
    this.logSize = p;
  }

  /** End offset of the complete record at `offset`, or -1 when it is torn or damaged. */
  private recordEnd(offset: number): number {
    if (offset + RECORD_HEADER > this.logSize) return -1;
    if (fs.readSync(this.logFd, this.readBuf, 0, RECORD_HEADER, offset) !== RECORD_HEADER) return -1;
    const length = this.readView.getUint32(8, true);
    if (this.readView.getUint32(0, true) !== RECORD_MAGIC || length > MAX_FRAME_LENGTH) return -1;
    const end = offset + RECORD_HEADER + length;
    return end <= this.logSize ? end : -1;
  }

  private readSeqNums(): void {
    const n = fs.readSync(this.seqFd, this.seqText, 0, SEQNUMS_LENGTH, 0);
    if (n !== SEQNUMS_LENGTH || this.seqText[20] !== 0x3a) return;
    const sender = readPadded(this.seqText, 0);
    const target = readPadded(this.seqText, 21);
    if (sender >= 1) this.nextSenderSeqNum = sender;
    if (target >= 1) this.nextTargetSeqNum = target;
  }
}

/** The period file's value, or 0 when absent or damaged. */
function readPeriod(file: string): number {
  let text: string;
  try {
    text = fs.readFileSync(file, 'latin1');
  } catch {
    return 0;
  }
  return /^\d{20}\n$/.test(text) ? Number(text.slice(0, 20)) : 0;
}

function openReadWrite(file: string): number {
  return fs.openSync(file, fs.existsSync(file) ? 'r+' : 'w+');
}

function writeAll(fd: number, buf: Uint8Array, length: number, position: number): void {
  let done = 0;
  while (done < length) done += fs.writeSync(fd, buf, done, length - done, position + done);
}

/** 20 zero-padded decimal digits at b[at]. */
function writePadded(b: Uint8Array, at: number, v: number): void {
  for (let k = at + 19; k >= at; k--) {
    b[k] = 0x30 + (v % 10);
    v = Math.floor(v / 10);
  }
}

/** The 20-digit number at b[at], or -1 when not digits. */
function readPadded(b: Uint8Array, at: number): number {
  let v = 0;
  for (let k = at; k < at + 20; k++) {
    const c = b[k] - 0x30;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}
