// Goal: the snapshot follower (persistence/snapshot-follower.ts) saves at a segment start what a
// start replaying the journal up to there would build, no more and no less, only when
// everyEvents have passed, and a start loads what it saved.
// Method: real journals written by JournalWriter in small segments (so they rotate), read by a
// stand-in stage whose state is an order-sensitive digest of every frame it was handed (a
// frame out of place, twice or missing changes it); each saved file is loaded back
// (SnapshotStore.loadInto) and compared with a direct replay of the journal up to its boundary.
import { mkdtempSync, readdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { JournalWriter, journalHeaders, segmentFileName, listSegments } from './journal.ts';
import { replayJournal, type FrameHandler } from './journal-reader.ts';
import { SnapshotFollower, type FollowedStage } from './snapshot-follower.ts';
import { KEEP_SNAPSHOTS, SNAPSHOT_DIR, SnapshotStore, type SnapshotReader, type SnapshotWriter } from './snapshot.ts';
import { DEFAULT_CONFIG, validateConfig } from '../workers/config.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'oms-follow-'));
  dirs.push(d);
  return d;
}

const FINGERPRINT = 'test';
/** The smallest segment a writer takes: about 1,900 of this test's frames. */
const SEGMENT_BYTES = 32 + 16 + 65536;

/** Appends `frames` frames numbered from `from` (the number is the body's first word) in a writer of its own boot. */
function write(dir: string, from: number, frames: number, epochMs = 1_700_000_000_000): number {
  const w = new JournalWriter(dir, 'none', 10, 1 << 20, { engineEpochMs: epochMs, segmentBytes: SEGMENT_BYTES });
  const body = new Uint8Array(20);
  const view = new DataView(body.buffer);
  for (let i = 0; i < frames; i++) {
    view.setUint32(0, from + i, true);
    w.append(1 + ((from + i) % 3), body, 0, body.length);
    if (i % 500 === 499) w.flush(0);
  }
  w.flush(0);
  w.close();
  return from + frames;
}

/** A stand-in stage: an order-sensitive digest of the frames handed to it. */
class Digest implements FrameHandler {
  hash = 17;
  count = 0;
  last = 0;
  onFrame(typeId: number, sequence: number, _epochMs: number, view: DataView, _bytes: Uint8Array, offset: number, _length: number): void {
    this.hash = (Math.imul(this.hash, 31) + view.getUint32(offset, true) * 7 + typeId + sequence) | 0;
    this.count++;
    this.last = sequence;
  }
  snapshot(w: SnapshotWriter): void {
    w.number('hash', this.hash).number('count', this.count).number('last', this.last);
  }
  restore(r: SnapshotReader): void {
    this.hash = r.number('hash');
    this.count = r.number('count');
    this.last = r.number('last');
  }
}

/** The digest of a direct replay of the journal's frames [1, end). */
function replayTo(dir: string, end: number): Digest {
  const d = new Digest();
  replayJournal(dir, { onFrame: (...a) => { if (a[1] < end) d.onFrame(...a); } });
  return d;
}

function followed(name: string, d: Digest, boundary = 1, unfit?: () => string | null): FollowedStage {
  return { name, handler: d, boundary, snapshot: (w) => d.snapshot(w), unfit };
}

/** The digest a start would load for `name` (newest that holds), and its boundary. */
function loaded(dir: string, name: string): { digest: Digest; boundary: number } {
  const d = new Digest();
  const outcome = new SnapshotStore(dir, FINGERPRINT).loadInto(name, d);
  return { digest: d, boundary: outcome.boundary };
}

const segmentStarts = (dir: string): number[] => journalHeaders(dir).map((h) => h.firstSequence);

describe('SnapshotFollower', () => {
  it('a store with a write pace (the snapshot thread\'s) saves in chunks with waits between them, and a start loads what a replay builds', () => {
    const dir = tempDir();
    write(dir, 1, 6000);
    const store = new SnapshotStore(dir, FINGERPRINT);
    const waits: number[] = [];
    store.writePace = { chunkBytes: 16, bytesPerS: 1, wait: (ms) => { waits.push(ms); return true; } };
    const f = new SnapshotFollower(dir, store, [followed('a', new Digest())], 1000);
    const step = f.step();
    expect(step.boundary).not.toBeNull();
    expect(waits.length).toBeGreaterThan(3);
    // The step reports them (the snapshot thread's 'saved' line), one fdatasync per wait.
    expect(step.pacedChunks).toBe(waits.length);
    const back = loaded(dir, 'a');
    expect(back.boundary).toBe(step.boundary);
    expect(back.digest).toEqual(replayTo(dir, step.boundary!));
  });

  it('saves nothing before a segment starts everyEvents on, then at the newest such start what a replay up to it builds', () => {
    const dir = tempDir();
    write(dir, 1, 3000);
    const store = new SnapshotStore(dir, FINGERPRINT);
    const a = new Digest();
    const f = new SnapshotFollower(dir, store, [followed('a', a)], 5000);
    expect(f.step().boundary).toBeNull();
    expect(a.count).toBe(0); // nothing read while nothing is due
    write(dir, 3001, 6000);
    const starts = segmentStarts(dir);
    const due = Math.max(...starts.filter((s) => s - 1 >= 5000));
    const step = f.step();
    expect(step.boundary).toBe(due);
    expect(step.frames).toBe(due - 1);
    expect(step.saved).toEqual([join(dir, SNAPSHOT_DIR, `a-${String(due).padStart(16, '0')}.snap`)]);
    const back = loaded(dir, 'a');
    expect(back.boundary).toBe(due);
    expect(back.digest).toEqual(replayTo(dir, due));
    // Nothing more is due until everyEvents after that save.
    expect(f.step().boundary).toBeNull();
  });

  it('for any writes and cadence: each save is a replay up to its boundary, at a segment start, at least everyEvents after the last, and a start loads the newest', () => {
    fc.assert(fc.property(
      fc.array(fc.integer({ min: 1, max: 4000 }), { minLength: 1, maxLength: 5 }),
      fc.integer({ min: 1, max: 6000 }),
      (batches, everyEvents) => {
        const dir = tempDir();
        const store = new SnapshotStore(dir, FINGERPRINT);
        const d = new Digest();
        const f = new SnapshotFollower(dir, store, [followed('s', d)], everyEvents);
        let next = 1;
        let last = 1;
        for (const [i, n] of batches.entries()) {
          next = write(dir, next, n, 1_700_000_000_000 + i);
          const step = f.step();
          if (step.boundary === null) continue;
          expect(segmentStarts(dir)).toContain(step.boundary);
          expect(step.boundary - last).toBeGreaterThanOrEqual(everyEvents);
          last = step.boundary;
          const back = loaded(dir, 's');
          expect(back.boundary).toBe(step.boundary);
          expect(back.digest).toEqual(replayTo(dir, step.boundary));
        }
        // The newest segment start due after the last save was taken.
        expect(segmentStarts(dir).some((s) => s - last >= everyEvents)).toBe(false);
        rmSync(dir, { recursive: true, force: true });
      },
    ), { numRuns: 25 });
  });

  it('a stage restored from a later snapshot than another takes only the frames after its own boundary', () => {
    const dir = tempDir();
    write(dir, 1, 9000);
    const starts = segmentStarts(dir);
    const later = starts[2];
    // What a start would have restored the later stage from: a replay up to its boundary.
    const b = replayTo(dir, later);
    const a = new Digest();
    const f = new SnapshotFollower(dir, new SnapshotStore(dir, FINGERPRINT), [followed('a', a), followed('b', b, later)], starts[3] - 1);
    const step = f.step();
    expect(step.boundary).toBe(starts[starts.length - 1]);
    expect(loaded(dir, 'a').digest).toEqual(replayTo(dir, step.boundary!));
    expect(loaded(dir, 'b').digest).toEqual(replayTo(dir, step.boundary!));
  });

  it('a stop request leaves the step where it is, and the next step goes on from there to the same state', () => {
    const dir = tempDir();
    write(dir, 1, 12000);
    const d = new Digest();
    const f = new SnapshotFollower(dir, new SnapshotStore(dir, FINGERPRINT), [followed('s', d)], 100);
    let asks = 0;
    const cut = f.step(() => ++asks > 1); // one read of 4,096 frames, then stopped
    expect(cut.boundary).toBeNull();
    expect(cut.frames).toBe(4096);
    expect(readdirSync(dir)).not.toContain(SNAPSHOT_DIR);
    const step = f.step();
    expect(step.boundary).toBe(Math.max(...segmentStarts(dir)));
    expect(loaded(dir, 's').digest).toEqual(replayTo(dir, step.boundary!));
  });

  it('a stop request between the stages\' saves leaves those saved, and says which were not', () => {
    const dir = tempDir();
    write(dir, 1, 6000);
    const a = new Digest();
    const b = new Digest();
    const f = new SnapshotFollower(dir, new SnapshotStore(dir, FINGERPRINT), [followed('a', a), followed('b', b)], 100);
    let saving = false;
    const step = f.step(() => {
      // Asked between reads (false), before the saves (false), before a's save (false), before b's (true).
      if (a.count > 0 && readdirSync(dir).includes(SNAPSHOT_DIR)) saving = true;
      return saving;
    });
    const last = Math.max(...segmentStarts(dir));
    expect(step).toMatchObject({ boundary: last, stopped: true, notSaved: ['b: stopped before its save'] });
    expect(step.saved).toHaveLength(1);
    expect(loaded(dir, 'a').digest).toEqual(replayTo(dir, last));
    expect(loaded(dir, 'b').boundary).toBe(1);
  });

  it('keeps the newest KEEP_SNAPSHOTS files per stage, and does not save a stage that says it would not fit', () => {
    const dir = tempDir();
    const d = new Digest();
    const e = new Digest();
    let fits = false;
    const f = new SnapshotFollower(dir, new SnapshotStore(dir, FINGERPRINT), [followed('s', d), followed('u', e, 1, () => (fits ? null : 'not now'))], 1000);
    let next = 1;
    const saved: number[] = [];
    for (let i = 0; i < 4; i++) {
      next = write(dir, next, 2500, 1_700_000_000_000 + i);
      const step = f.step();
      expect(step.boundary).not.toBeNull();
      saved.push(step.boundary!);
      expect(step.notSaved).toEqual(fits ? [] : ['u: not now']);
      fits = i >= 1;
    }
    const files = readdirSync(join(dir, SNAPSHOT_DIR)).sort();
    expect(files.filter((n) => n.startsWith('s-'))).toHaveLength(KEEP_SNAPSHOTS);
    expect(files.filter((n) => n.startsWith('s-'))).toEqual(saved.slice(-KEEP_SNAPSHOTS).map((b) => `s-${String(b).padStart(16, '0')}.snap`));
    expect(files.filter((n) => n.startsWith('u-'))).toEqual(saved.slice(2).map((b) => `u-${String(b).padStart(16, '0')}.snap`));
    expect(loaded(dir, 'u').digest).toEqual(replayTo(dir, saved[3]));
  });

  it('stops with the reason at a damaged frame inside a finished segment, saving nothing past it', () => {
    const dir = tempDir();
    write(dir, 1, 6000);
    const first = join(dir, segmentFileName(listSegments(dir)[0]));
    const bytes = readFileSync(first);
    bytes[bytes.length - 5] ^= 0xff; // inside the first segment's last frame
    writeFileSync(first, bytes);
    const f = new SnapshotFollower(dir, new SnapshotStore(dir, FINGERPRINT), [followed('s', new Digest())], 10);
    expect(() => f.step()).toThrow(/journal not readable past sequence/);
    expect(readdirSync(dir)).not.toContain(SNAPSHOT_DIR);
  });

  it('tries the same boundary again at the next step when a save found no segment there (its headers read while retention pruned)', () => {
    const dir = tempDir();
    write(dir, 1, 6000);
    let refuse = 1;
    class Flaky extends SnapshotStore {
      override save(stage: string, boundary: number, framesRead: number, w: (x: SnapshotWriter) => void): string | null {
        return refuse-- > 0 ? null : super.save(stage, boundary, framesRead, w);
      }
    }
    const d = new Digest();
    const f = new SnapshotFollower(dir, new Flaky(dir, FINGERPRINT), [followed('s', d)], 100);
    const first = f.step();
    const last = Math.max(...segmentStarts(dir));
    expect(first).toMatchObject({ boundary: last, saved: [], notSaved: [`s: no segment found starting at ${last}`] });
    const again = f.step();
    expect(again.boundary).toBe(last);
    expect(again.frames).toBe(0);
    expect(again.saved).toHaveLength(1);
    expect(loaded(dir, 's').digest).toEqual(replayTo(dir, last));
    expect(f.step().boundary).toBeNull();
  });
});

describe('SnapshotStore.holding', () => {
  it('reads a file again once it changed (size or time), not before; the journal is checked every time', () => {
    const dir = tempDir();
    write(dir, 1, 6000);
    const starts = segmentStarts(dir);
    const store = new SnapshotStore(dir, FINGERPRINT);
    const d = replayTo(dir, starts[1]);
    store.save('s', starts[1], 1, (w) => d.snapshot(w));
    const e = replayTo(dir, starts[2]);
    const path = store.save('s', starts[2], 1, (w) => e.snapshot(w))!;
    const reader = new SnapshotStore(dir, FINGERPRINT);
    expect(reader.holding('s')).toEqual([starts[2], starts[1]]);
    writeFileSync(path, 'not a snapshot'); // another size: read again, and it does not hold
    expect(reader.holding('s')).toEqual([starts[1]]);
    store.save('s', starts[2], 1, (w) => e.snapshot(w));
    expect(reader.holding('s')).toEqual([starts[2], starts[1]]);
    // The journal under a file checked before: its segment gone, it no longer holds.
    rmSync(join(dir, segmentFileName(listSegments(dir)[2])));
    expect(reader.holding('s')).toEqual([starts[1]]);
  });

  it('keeps the checks of the files it last listed only: a removed file\'s check goes (the cache stays bounded)', () => {
    const dir = tempDir();
    write(dir, 1, 6000);
    const starts = segmentStarts(dir);
    const store = new SnapshotStore(dir, FINGERPRINT);
    const paths = [1, 2].map((k) => {
      const d = replayTo(dir, starts[k]);
      return store.save('s', starts[k], 1, (w) => d.snapshot(w))!;
    });
    const reader = new SnapshotStore(dir, FINGERPRINT);
    expect(reader.holding('s')).toEqual([starts[2], starts[1]]);
    expect(reader.checkedFiles('s')).toBe(2);
    rmSync(paths[0]);
    expect(reader.holding('s')).toEqual([starts[2]]);
    expect(reader.checkedFiles('s')).toBe(1);
    expect(reader.checkedFiles('other')).toBe(0);
  });
});

describe('config: the snapshot thread\'s keys', () => {
  const journal = (j: Record<string, unknown>) => validateConfig({ journal: { ...DEFAULT_CONFIG.journal, ...j } }).journal;

  it('defaults: a save every 1,000,000 events, a look every second, saves written at 32 MiB/s; 0 turns either off', () => {
    expect(validateConfig({}).journal).toMatchObject({ snapshotEveryEvents: 1_000_000, snapshotCheckMs: 1000, snapshotWriteMiBPerS: 32 });
    expect(journal({ snapshotEveryEvents: 0, snapshotWriteMiBPerS: 0 })).toMatchObject({ snapshotEveryEvents: 0, snapshotWriteMiBPerS: 0 });
    expect(journal({ snapshotWriteMiBPerS: 500 }).snapshotWriteMiBPerS).toBe(500);
  });

  it('refuses negative, fractional, non-numeric and out-of-range values, naming the key', () => {
    for (const bad of [-1, 1.5, '32', true, 65_537]) {
      expect(() => journal({ snapshotWriteMiBPerS: bad }), String(bad)).toThrow(/journal.snapshotWriteMiBPerS/);
    }
    expect(() => journal({ snapshotEveryEvents: -5 })).toThrow(/journal.snapshotEveryEvents/);
    expect(() => journal({ snapshotCheckMs: 5 })).toThrow(/journal.snapshotCheckMs/);
  });
});
