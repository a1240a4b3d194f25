/**
 * The journal's file format, rotation, reopening and torn tails. Method: write known frames
 * (body = sequence-derived bytes) through JournalWriter into a temp directory, damage the files
 * the way a crash or a bad disk would, and read them back with readJournal, JournalReader and
 * replayJournal; every frame read must be the one written with that sequence number, and no
 * frame after a damaged one may ever be handed out.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { appendFileSync, closeSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { join } from 'node:path';
import {
  FRAME_HEADER_LENGTH, JournalWriter, MIN_SEGMENT_BYTES, PACED_CHUNK_BYTES, SEGMENT_HEADER_LENGTH, listSegments, pacedByStopWord, readJournal, segmentFileName, writeFileDurably,
} from './journal.ts';
import { JournalReader, replayJournal, startCursor, type FrameHandler } from './journal-reader.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'journal-test-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Body of the frame with sequence `seq`: a length and contents that depend on it. */
function bodyFor(seq: number): Uint8Array {
  const length = 8 + ((seq * 37) % 300);
  const b = new Uint8Array(length);
  new DataView(b.buffer).setFloat64(0, seq, true);
  for (let i = 8; i < length; i++) b[i] = (seq + i) & 0xff;
  return b;
}

function writeFrames(w: JournalWriter, count: number, perFlush: number = 50): void {
  for (let i = 0; i < count; i++) {
    const seq = w.sequence;
    const body = bodyFor(seq);
    w.append(7 + (seq % 3), body, 0, body.length);
    if ((i + 1) % perFlush === 0) w.flush(Date.now());
  }
  w.flush(Date.now());
}

class Collector implements FrameHandler {
  seqs: number[] = [];
  epochs: number[] = [];
  bad = 0;
  onFrame(typeId: number, sequence: number, epochMs: number, view: DataView, bytes: Uint8Array, offset: number, length: number): void {
    const want = bodyFor(sequence);
    if (typeId !== 7 + (sequence % 3) || length !== want.length) this.bad++;
    else for (let i = 0; i < length; i++) if (bytes[offset + i] !== want[i]) { this.bad++; break; }
    this.seqs.push(sequence);
    this.epochs.push(epochMs);
  }
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let s = from; s <= to; s++) out.push(s);
  return out;
}

describe('JournalWriter', () => {
  it('rotates segments at the configured size, and the reader follows them in order', () => {
    const w = new JournalWriter(dir, 'none', 10, 1 << 20, { segmentBytes: MIN_SEGMENT_BYTES, engineEpochMs: 1000 });
    writeFrames(w, 2000);
    w.close();
    const segments = listSegments(dir);
    expect(segments.length).toBeGreaterThan(2);
    expect(segments).toEqual(range(1, segments.length));
    for (const s of segments) expect(statSync(join(dir, segmentFileName(s))).size).toBeLessThanOrEqual(MIN_SEGMENT_BYTES);
    const c = new Collector();
    const r = replayJournal(dir, c);
    expect(r.problem).toBeNull();
    expect(c.bad).toBe(0);
    expect(c.seqs).toEqual(range(1, 2000));
    expect(r.nextSequence).toBe(2001);
    expect(new Set(c.epochs)).toEqual(new Set([1000]));
    // Each segment alone reads clean, its header naming its first sequence.
    let next = 1;
    for (const s of segments) {
      const one = readJournal(join(dir, segmentFileName(s)));
      expect(one.stoppedBecause).toBeNull();
      expect(one.header!.firstSequence).toBe(next);
      next += one.frames.length;
    }
    expect(next).toBe(2001);
  });

  it('each frame on disk is length, zlib\'s CRC-32 of typeId..body, typeId, seqLo, the body copied from any offset, zero padding', () => {
    // Sources at every alignment (the word-wise copy reads through a DataView), from a shared
    // buffer and a plain one, and bodies of every length mod 8 (the byte-wise tail).
    const shared = new Uint8Array(new SharedArrayBuffer(4096), 8);
    const plain = new Uint8Array(4096);
    for (let i = 0; i < 4000; i++) shared[i] = plain[i] = (i * 131 + 17) & 0xff;
    // Twelve more sources at odd byte offsets, taken in turn with the others: the writer's view
    // of its last source is replaced at every change of source.
    const odd = Array.from({ length: 12 }, (_, k) => new Uint8Array(plain.buffer, 1 + 2 * k, 3000));
    const w = new JournalWriter(dir, 'none', 10);
    const written: { typeId: number; body: Uint8Array }[] = [];
    for (let k = 0; k < 64; k++) {
      const src = k % 3 === 2 ? odd[k % 12] : k % 2 === 0 ? shared : plain;
      const offset = (k * 7) % 61;
      const length = k === 0 ? 0 : 1 + ((k * 29) % 300);
      const typeId = k % 5 === 0 ? -3 : 100 + k;
      w.append(typeId, src, offset, length);
      written.push({ typeId, body: src.slice(offset, offset + length) });
    }
    w.close();
    const file = readFileSync(join(dir, segmentFileName(1)));
    const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
    let at = SEGMENT_HEADER_LENGTH;
    written.forEach(({ typeId, body }, k) => {
      expect(v.getUint32(at, true)).toBe(body.length);
      expect(v.getInt32(at + 8, true)).toBe(typeId);
      expect(v.getUint32(at + 12, true)).toBe(k + 1);
      const bodyAt = at + FRAME_HEADER_LENGTH;
      expect(Buffer.compare(file.subarray(bodyAt, bodyAt + body.length), body)).toBe(0);
      expect(v.getUint32(at + 4, true)).toBe(zlibCrc32(file.subarray(at + 8, bodyAt + body.length)));
      const end = bodyAt + Math.ceil(body.length / 8) * 8;
      expect([...file.subarray(bodyAt + body.length, end)].every((b) => b === 0)).toBe(true);
      at = end;
    });
    expect(at).toBe(file.length);
  });

  it('reopening continues the sequence in a new segment with the new boot epoch', () => {
    const a = new JournalWriter(dir, 'batch', 10, 1 << 20, { engineEpochMs: 1000 });
    writeFrames(a, 10);
    a.close();
    const b = new JournalWriter(dir, 'batch', 10, 1 << 20, { engineEpochMs: 2000 });
    expect(b.sequence).toBe(11);
    expect(b.segmentIndex).toBe(2);
    writeFrames(b, 5);
    b.close();
    const c = new Collector();
    expect(replayJournal(dir, c).problem).toBeNull();
    expect(c.seqs).toEqual(range(1, 15));
    expect(c.epochs.slice(0, 10).every((e) => e === 1000)).toBe(true);
    expect(c.epochs.slice(10).every((e) => e === 2000)).toBe(true);
  });

  it('a boot that wrote nothing leaves no empty segment behind', () => {
    new JournalWriter(dir, 'none', 10).close();
    new JournalWriter(dir, 'none', 10).close();
    expect(listSegments(dir)).toEqual([1]);
  });

  it('reopening cuts a torn tail off and continues cleanly after the last whole frame', () => {
    const a = new JournalWriter(dir, 'none', 10);
    writeFrames(a, 20);
    a.close();
    const path = join(dir, segmentFileName(1));
    const size = statSync(path).size;
    truncateSync(path, size - 5); // the last frame loses its end
    const torn = readJournal(path);
    expect(torn.frames.length).toBe(19);
    expect(torn.stoppedBecause).toBe('torn body');
    const b = new JournalWriter(dir, 'none', 10);
    expect(b.tornBytesTruncated).toBeGreaterThan(0);
    expect(b.sequence).toBe(20);
    writeFrames(b, 3);
    b.close();
    expect(readJournal(path).stoppedBecause).toBeNull();
    const c = new Collector();
    expect(replayJournal(dir, c).problem).toBeNull();
    expect(c.bad).toBe(0);
    expect(c.seqs).toEqual(range(1, 22));
  });

  it('a segment whose header is torn is set aside, and the journal goes on from the one before', () => {
    const a = new JournalWriter(dir, 'none', 10);
    writeFrames(a, 4);
    a.close();
    writeFileSync(join(dir, segmentFileName(2)), new Uint8Array(SEGMENT_HEADER_LENGTH - 3));
    const b = new JournalWriter(dir, 'none', 10);
    expect(b.sequence).toBe(5);
    writeFrames(b, 2);
    b.close();
    const c = new Collector();
    expect(replayJournal(dir, c).problem).toBeNull();
    expect(c.seqs).toEqual(range(1, 6));
  });
});

/**
 * Resolves once cond() holds (polled on the event loop, where a preparation's file callbacks run).
 * limitMs only guards against a hang: nothing a test waits on here is a race against it.
 */
async function until(cond: () => boolean, limitMs: number = 50_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const preparedFiles = (): string[] => readdirSync(dir).filter((n) => n.endsWith('.prep'));

describe('JournalWriter, preallocated segments', () => {
  const SEGMENT = 1 << 20;

  it('the boot segment is zero-filled to segmentBytes, frames are written over the zeros and read while it is open, and close cuts it to its frames', () => {
    const w = new JournalWriter(dir, 'batch', 10, 1 << 20, { segmentBytes: SEGMENT });
    const path = join(dir, segmentFileName(1));
    expect(statSync(path).size).toBe(SEGMENT);
    writeFrames(w, 300);
    expect(statSync(path).size).toBe(SEGMENT);
    const open = readJournal(path);
    expect(open.stoppedBecause).toBeNull(); // the zeros are the frames' end, not damage
    expect(open.frames.map((f) => f.sequence)).toEqual(range(1, 300));
    const reader = new JournalReader(dir);
    const cursor = startCursor();
    const c = new Collector();
    expect(reader.atEnd(cursor)).toBe(false);
    while (reader.read(cursor, 64, c) > 0);
    expect(reader.problem).toBeNull();
    expect(c.seqs).toEqual(range(1, 300));
    expect(reader.atEnd(cursor)).toBe(true);
    writeFrames(w, 1);
    expect(reader.atEnd(cursor)).toBe(false);
    w.close();
    expect(statSync(path).size).toBe(readJournal(path).validBytes);
    expect(statSync(path).size).toBeLessThan(SEGMENT);
    expect(w.segmentsPreallocated).toBe(1);
    reader.close();
  });

  it('a crash leaves zeros after the frames: reopening cuts them off without counting them torn, and continues the sequence', () => {
    const w = new JournalWriter(dir, 'batch', 10, 1 << 20, { segmentBytes: SEGMENT });
    writeFrames(w, 200);
    // No close: the process died here.
    const w2 = new JournalWriter(dir, 'batch', 10, 1 << 20, { segmentBytes: SEGMENT });
    expect(w2.tornBytesTruncated).toBe(0);
    expect(w2.sequence).toBe(201);
    const first = join(dir, segmentFileName(1));
    expect(statSync(first).size).toBe(readJournal(first).validBytes);
    writeFrames(w2, 10);
    w2.close();
    const c = new Collector();
    expect(replayJournal(dir, c).problem).toBeNull();
    expect(c.bad).toBe(0);
    expect(c.seqs).toEqual(range(1, 210));
    void w;
  });

  it('a torn write inside the zeros is counted torn up to its last written byte, and cut off', () => {
    const w = new JournalWriter(dir, 'batch', 10, 1 << 20, { segmentBytes: SEGMENT });
    writeFrames(w, 100);
    const path = join(dir, segmentFileName(1));
    const valid = readJournal(path).validBytes;
    // Half a frame's header and some bytes further on, as a torn write of the next batch leaves.
    const fd = openSync(path, 'r+');
    writeSync(fd, new Uint8Array([9, 0, 0, 0, 1, 2]), 0, 6, valid);
    writeSync(fd, new Uint8Array([7]), 0, 1, valid + 999);
    closeSync(fd);
    const w2 = new JournalWriter(dir, 'batch', 10, 1 << 20, { segmentBytes: SEGMENT });
    expect(w2.tornBytesTruncated).toBe(1000);
    expect(statSync(path).size).toBe(valid);
    expect(w2.sequence).toBe(101);
    w2.close();
    void w;
  });

  it('the next segment is prepared in the background once the current one is half full, and taken at rotation', async () => {
    const w = new JournalWriter(dir, 'batch', 10, 1 << 20, { segmentBytes: SEGMENT });
    // Written without an event-loop turn until the preparation begins, then only waited for: how
    // long the disk takes (fdatasyncs on a loaded machine) never decides where the writer stands.
    while (!w.preparingNextSegment()) writeFrames(w, 10);
    expect(listSegments(dir)).toEqual([1]);
    await until(() => w.nextSegmentReady());
    expect(listSegments(dir)).toEqual([1]);
    expect(preparedFiles()).toHaveLength(1);
    while (listSegments(dir).length < 2) writeFrames(w, 10);
    expect(w.segmentsPreallocated).toBe(2);
    expect(w.segmentsNotPrepared).toBe(0);
    expect(preparedFiles()).toHaveLength(0); // renamed into place
    const first = join(dir, segmentFileName(1));
    expect(statSync(first).size).toBe(readJournal(first).validBytes); // cut to its frames before the second appeared
    expect(statSync(join(dir, segmentFileName(2))).size).toBe(SEGMENT);
    // Half full again: the next preparation starts; close stops it and removes its file.
    while (!w.preparingNextSegment()) writeFrames(w, 10);
    await until(() => preparedFiles().length === 1);
    const total = w.sequence - 1;
    w.close();
    await until(() => preparedFiles().length === 0);
    const c = new Collector();
    expect(replayJournal(dir, c).problem).toBeNull();
    expect(c.bad).toBe(0);
    expect(c.seqs).toEqual(range(1, total));
  });

  it('a rotation that finds the next segment not yet prepared begins an appended one; a new writer removes a preparation a run left', async () => {
    writeFileSync(join(dir, 'journal-next-1-0-7.prep'), new Uint8Array(100));
    const w = new JournalWriter(dir, 'interval', 10, 1 << 20, { segmentBytes: MIN_SEGMENT_BYTES });
    expect(preparedFiles()).toHaveLength(0);
    writeFrames(w, 2000); // several rotations, no event-loop turn between them
    expect(listSegments(dir).length).toBeGreaterThan(2);
    expect(w.segmentsNotPrepared).toBe(listSegments(dir).length - 1);
    expect(w.segmentsPreallocated).toBe(1);
    w.close();
    await until(() => preparedFiles().length === 0);
    const c = new Collector();
    expect(replayJournal(dir, c).problem).toBeNull();
    expect(c.seqs).toEqual(range(1, 2000));
  });

  it('preallocate false, or journal.fsync none (nothing fdatasynced): segments are appended, their size always their frames', () => {
    for (const [fsync, preallocate] of [['batch', false], ['none', true]] as const) {
      const sub = mkdtempSync(join(dir, 'appended-'));
      const w = new JournalWriter(sub, fsync, 10, 1 << 20, { segmentBytes: SEGMENT, preallocate });
      writeFrames(w, 100);
      const path = join(sub, segmentFileName(1));
      expect(statSync(path).size).toBe(readJournal(path).validBytes);
      w.close();
      expect(w.segmentsPreallocated).toBe(0);
    }
  });
});

describe('JournalReader', () => {
  it('stops cleanly at a corrupted last frame and reads on once the writer has replaced it', () => {
    const a = new JournalWriter(dir, 'none', 10);
    writeFrames(a, 10);
    a.close();
    const path = join(dir, segmentFileName(1));
    const bytes = readFileSync(path);
    bytes[bytes.length - 3] ^= 0xff; // inside the last frame's body (or its padding)
    writeFileSync(path, bytes);
    const last = readJournal(path);
    expect(last.frames.length).toBeGreaterThanOrEqual(9);
    const reader = new JournalReader(dir);
    const cursor = startCursor();
    const c = new Collector();
    reader.read(cursor, 1000, c);
    expect(reader.problem).toBeNull(); // the last segment's tail: maybe still being written
    expect(c.seqs).toEqual(range(1, last.frames.length));
    const b = new JournalWriter(dir, 'none', 10);
    writeFrames(b, 2);
    b.close();
    reader.read(cursor, 1000, c);
    expect(reader.problem).toBeNull();
    expect(c.bad).toBe(0);
    expect(c.seqs).toEqual(range(1, last.frames.length + 2));
    reader.close();
  });

  it('refuses to skip a corrupt frame in a finished segment', () => {
    const w = new JournalWriter(dir, 'none', 10, 1 << 20, { segmentBytes: MIN_SEGMENT_BYTES });
    writeFrames(w, 600);
    w.close();
    expect(listSegments(dir).length).toBeGreaterThan(1);
    const path = join(dir, segmentFileName(1));
    const bytes = readFileSync(path);
    const at = SEGMENT_HEADER_LENGTH + 10 * 1024; // somewhere in the middle of segment 1
    bytes[at] ^= 0x55;
    writeFileSync(path, bytes);
    const c = new Collector();
    const r = replayJournal(dir, c);
    expect(r.problem).toMatch(/segment 1 .* before the end of a finished segment/);
    expect(c.bad).toBe(0);
    expect(c.seqs).toEqual(range(1, c.seqs.length));
    expect(c.seqs.length).toBeGreaterThan(0);
    expect(c.seqs.length).toBeLessThan(600);
  });

  it('follows a journal while it is written, in bounded reads', () => {
    const w = new JournalWriter(dir, 'none', 10, 1 << 20, { segmentBytes: MIN_SEGMENT_BYTES });
    const reader = new JournalReader(dir, 70_000);
    const cursor = startCursor();
    const c = new Collector();
    for (let round = 0; round < 30; round++) {
      writeFrames(w, 37);
      let n: number;
      do n = reader.read(cursor, 16, c); while (n > 0);
    }
    w.close();
    expect(reader.problem).toBeNull();
    expect(c.bad).toBe(0);
    expect(c.seqs).toEqual(range(1, 30 * 37));
    expect(reader.atEnd(cursor)).toBe(true);
    reader.close();
  });

  it('starts from any sequence number', () => {
    const w = new JournalWriter(dir, 'none', 10, 1 << 20, { segmentBytes: MIN_SEGMENT_BYTES });
    writeFrames(w, 900);
    w.close();
    for (const from of [1, 2, 333, 899, 900, 901]) {
      const c = new Collector();
      const r = replayJournal(dir, c, from);
      expect(r.problem).toBeNull();
      expect(c.seqs).toEqual(range(from, 900));
    }
  });

  it('property: cutting the file anywhere yields exactly the whole frames before the cut', () => {
    const w = new JournalWriter(dir, 'none', 10);
    writeFrames(w, 60, 7);
    w.close();
    const path = join(dir, segmentFileName(1));
    const full = readFileSync(path);
    const ends: number[] = [];
    let at = SEGMENT_HEADER_LENGTH;
    for (let s = 1; s <= 60; s++) {
      at += FRAME_HEADER_LENGTH + ((bodyFor(s).length + 7) & ~7);
      ends.push(at);
    }
    expect(at).toBe(full.length);
    fc.assert(
      fc.property(fc.integer({ min: SEGMENT_HEADER_LENGTH, max: full.length }), fc.integer({ min: 0, max: 255 }), (cut, junk) => {
        const sub = join(dir, 'cut');
        rmSync(sub, { recursive: true, force: true });
        const w2 = new JournalWriter(sub, 'none', 10);
        w2.close();
        // A torn write: the prefix, then a few bytes of garbage where the next frame started.
        writeFileSync(join(sub, segmentFileName(1)), full.subarray(0, cut));
        if (cut < full.length) appendFileSync(join(sub, segmentFileName(1)), new Uint8Array([junk, junk, junk]));
        const whole = ends.filter((e) => e <= cut).length;
        const c = new Collector();
        const r = replayJournal(sub, c);
        return r.problem === null && c.bad === 0 && c.seqs.length === whole && c.seqs.every((s, i) => s === i + 1);
      }),
      { numRuns: 150, seed: 7 },
    );
  });
});

describe('writeFileDurably, paced (a background save beside the journal)', () => {
  /** Parts of the given lengths, each byte a function of its offset in the whole file. */
  function partsOf(lengths: number[]): Uint8Array[] {
    let offset = 0;
    return lengths.map((n) => {
      const p = new Uint8Array(n);
      for (let i = 0; i < n; i++) p[i] = (offset + i) * 31 % 251;
      offset += n;
      return p;
    });
  }

  it('property: the file is the parts in order, and the pace is asked to wait after each chunk but the last (a chunk never spans a wait)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 5000 }), { maxLength: 6 }), fc.integer({ min: 200, max: 3000 }), (lengths, chunkBytes) => {
        const path = join(dir, 'paced.snap');
        const parts = partsOf(lengths);
        const total = lengths.reduce((a, b) => a + b, 0);
        const asked: number[] = [];
        // One byte a second: every chunk is ahead of the rate, so each is followed by a wait.
        const chunks = writeFileDurably(path, parts, { chunkBytes, bytesPerS: 1, wait: (ms) => { asked.push(ms); return true; } });
        const file = readFileSync(path);
        const expected = Buffer.concat(parts);
        // The wait after the chunk ending at byte k is about k seconds (less the time taken so far);
        // none after the last chunk (the file's fsync follows at once).
        const waits = total === 0 ? 0 : Math.ceil(total / chunkBytes) - 1;
        return file.equals(expected) && asked.length === waits && chunks === waits && asked.every((ms, i) => ms > (i + 1) * chunkBytes * 1000 - 60_000 && ms <= (i + 1) * chunkBytes * 1000);
      }),
      { numRuns: 60, seed: 11 },
    );
  });

  it('a wait refused (a stop request) ends the pacing: the rest is written at once, the file whole', () => {
    const path = join(dir, 'stopped.snap');
    const parts = partsOf([10_000, 7, 30_000]);
    let waits = 0;
    const chunks = writeFileDurably(path, parts, { chunkBytes: 1024, bytesPerS: 1, wait: () => { waits++; return false; } });
    expect(waits).toBe(1);
    expect(chunks).toBe(1);
    expect(readFileSync(path).equals(Buffer.concat(parts))).toBe(true);
  });

  it('the snapshot thread\'s pace (pacedByStopWord): none at 0 MiB/s; chunks of PACED_CHUNK_BYTES at the rate; its wait sleeps on the stop word and ends the pacing once a stop is set', () => {
    const stop = new Int32Array(new SharedArrayBuffer(4));
    expect(pacedByStopWord(0, stop)).toBeNull();
    const pace = pacedByStopWord(32, stop)!;
    expect(pace).toMatchObject({ chunkBytes: PACED_CHUNK_BYTES, bytesPerS: 32 * 2 ** 20 });
    expect(pace.wait(1)).toBe(true); // timed out: go on pacing
    Atomics.store(stop, 0, 1);
    expect(pace.wait(60_000)).toBe(false); // a stop set: at once, and the pacing ends
  });

  it('refuses a pace that could not make progress', () => {
    for (const bad of [{ chunkBytes: 0, bytesPerS: 1 }, { chunkBytes: Number.NaN, bytesPerS: 1 }, { chunkBytes: 1024, bytesPerS: 0 }]) {
      expect(() => writeFileDurably(join(dir, 'bad.snap'), [new Uint8Array(10)], { ...bad, wait: () => true })).toThrow(/Condition failed: a write pace/);
    }
  });

  it('never waits while it keeps under its rate, and without a pace writes at once', () => {
    const parts = partsOf([100_000]);
    let waits = 0;
    // Still fdatasynced chunk by chunk (with no wait): 100,000 bytes are 25 chunks of 4,096, the last left to the file's fsync.
    expect(writeFileDurably(join(dir, 'fast.snap'), parts, { chunkBytes: 4096, bytesPerS: Number.MAX_SAFE_INTEGER, wait: () => { waits++; return true; } })).toBe(24);
    expect(writeFileDurably(join(dir, 'whole.snap'), parts)).toBe(0);
    expect(waits).toBe(0);
    expect(readFileSync(join(dir, 'fast.snap')).equals(Buffer.from(parts[0]))).toBe(true);
    expect(readFileSync(join(dir, 'whole.snap')).equals(Buffer.from(parts[0]))).toBe(true);
  });
});
