/**
 * Journal retention (persistence/retention.ts): which segments may go, where the floor comes
 * from, what pruning does to the files, and that a start needing a pruned segment refuses.
 * Method: real journals written by JournalWriter (one writer per "boot", as the engine opens a
 * segment per boot) in temp directories, real snapshot files (SnapshotStore.save at a boot's
 * boundary), real moves and unlinks; every frame read back after a prune is checked against
 * what was written. Properties over random segment layouts for the choice of segments.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JournalWriter, MIN_SEGMENT_BYTES, journalHeaders, listSegments, segmentFileName, type SegmentHeader } from './journal.ts';
import { JournalGap, JournalPruned, JournalReader, firstJournalSequence, journalGap, replayJournal, startCursor } from './journal-reader.ts';
import { prunableSegments, retentionFloor, runRetention, type RetentionSources } from './retention.ts';
import { SnapshotStore, replayWithSnapshots, type SnapshotReader, type SnapshotWriter } from './snapshot.ts';
import { ConfigError, DEFAULT_CONFIG, loadConfig, validateConfig } from '../workers/config.ts';

const STAGES = ['risk', 'sor', 'fix'];
let dir: string;
let archive: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'retention-test-'));
  archive = join(dir, 'archive');
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Body of the frame with sequence `seq` (its length and bytes depend on it). */
function bodyFor(seq: number): Uint8Array {
  const b = new Uint8Array(64 + ((seq * 37) % 400));
  new DataView(b.buffer).setFloat64(0, seq, true);
  for (let i = 8; i < b.length; i++) b[i] = (seq + i) & 0xff;
  return b;
}

/** One boot: a writer (a new segment), `frames` frames in segments of the smallest size; returns the boot's first sequence. */
function boot(epochMs: number, frames: number): number {
  const w = new JournalWriter(dir, 'none', 10, 1 << 20, { segmentBytes: MIN_SEGMENT_BYTES, engineEpochMs: epochMs });
  const first = w.sequence;
  for (let i = 0; i < frames; i++) {
    const body = bodyFor(w.sequence);
    w.append(9, body, 0, body.length);
    if (i % 50 === 49) w.flush(Date.now());
  }
  w.flush(Date.now());
  w.close();
  return first;
}

/** Every frame from `from` on, each checked against what was written; returns their sequences. */
function readFrom(from: number): number[] {
  const seqs: number[] = [];
  replayJournal(dir, {
    onFrame(typeId, sequence, _e, _v, bytes, offset, length) {
      const want = bodyFor(sequence);
      expect(typeId).toBe(9);
      expect(Buffer.compare(Buffer.from(bytes.subarray(offset, offset + length)), Buffer.from(want))).toBe(0);
      seqs.push(sequence);
    },
  }, from);
  return seqs;
}

/** Each stage's snapshots saved at `boundaries` (boots' first sequences), in a store of this fingerprint. */
function saveSnapshots(boundaries: number[], fingerprint = 'fp'): SnapshotStore {
  const store = new SnapshotStore(dir, fingerprint);
  for (const boundary of boundaries) {
    for (const stage of STAGES) expect(store.save(stage, boundary, 0, (w) => w.number('state', boundary))).not.toBeNull();
  }
  return store;
}

function sources(store: SnapshotStore, sinks: Record<string, number> = {}): RetentionSources {
  return {
    snapshots: () => new Map(STAGES.map((s) => [s, store.holding(s)])),
    sinks: () => new Map(Object.entries(sinks)),
  };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('prunableSegments', () => {
  const headers = (firsts: number[]): SegmentHeader[] => firsts.map((f, i) => ({ firstSequence: f, engineEpochMs: 1, index: i + 1 }));

  it('keeps the segment holding the floor and the one before it, and never the last', () => {
    const h = headers([1, 101, 201, 301, 401]);
    expect(prunableSegments(h, 1)).toEqual([]);
    expect(prunableSegments(h, 150)).toEqual([]);
    expect(prunableSegments(h, 201)).toEqual([1]);
    expect(prunableSegments(h, 350)).toEqual([1, 2]);
    expect(prunableSegments(h, 10_000)).toEqual([1, 2, 3]);
    expect(prunableSegments(headers([1]), 10_000)).toEqual([]);
    expect(prunableSegments([], 10)).toEqual([]);
    // A journal already pruned: the floor before its first segment prunes nothing.
    expect(prunableSegments(headers([500, 600]).map((x, i) => ({ ...x, index: i + 7 })), 10)).toEqual([]);
  });

  it('property: a prefix of the segments, each wholly before the floor, never the floor\'s, its predecessor or the last', () => {
    fc.assert(fc.property(
      fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 30 }),
      fc.integer({ min: 1, max: 2000 }),
      fc.integer({ min: 1, max: 5 }),
      (sizes, floor, firstIndex) => {
        // Segments of `sizes` frames (an empty one is a boot that journaled nothing), sequences running on.
        const h: SegmentHeader[] = [];
        let seq = 1;
        sizes.forEach((n, i) => {
          h.push({ firstSequence: seq, engineEpochMs: i, index: firstIndex + i });
          seq += n;
        });
        const pruned = prunableSegments(h, floor);
        expect(pruned).toEqual(h.slice(0, pruned.length).map((x) => x.index));
        expect(pruned.length).toBeLessThanOrEqual(Math.max(0, h.length - 2));
        const holding = h.reduce((at, x, i) => (x.firstSequence <= floor ? i : at), -1);
        for (let i = 0; i < pruned.length; i++) {
          // Every frame of a pruned segment lies before the floor.
          expect(h[i + 1].firstSequence).toBeLessThanOrEqual(floor);
          expect(i).toBeLessThan(holding - 1);
        }
        // All it may prune, it does: everything before the floor's segment's predecessor.
        expect(pruned.length).toBe(Math.max(0, holding - 1));
      },
    ), { seed: 20261123, numRuns: 500 });
  });
});

describe('retentionFloor', () => {
  const src = (snapshots: Record<string, number[]>, sinks: Record<string, number>): RetentionSources => ({
    snapshots: () => new Map(Object.entries(snapshots)),
    sinks: () => new Map(Object.entries(sinks)),
  });

  it('is the oldest boundary that holds of each stage and every sink\'s durable cursor, whichever is lowest', () => {
    expect(retentionFloor(src({ risk: [900, 500], sor: [900, 700], fix: [900, 800] }, {}))).toEqual({ floor: 500, heldBy: 'snapshot risk' });
    expect(retentionFloor(src({ risk: [900, 500] }, { postgres: 420, kafka: 800 }))).toEqual({ floor: 420, heldBy: 'sink postgres' });
  });

  it('is 1 (nothing pruned) while a stage has fewer than two snapshots that hold or a sink\'s cursor is not known', () => {
    expect(retentionFloor(src({ risk: [900, 500], sor: [], fix: [900, 800] }, {}))).toEqual({ floor: 1, heldBy: 'snapshot sor (none holds)' });
    // After a change of configuration: one snapshot fits, the older ones do not; its fallback is the whole journal.
    expect(retentionFloor(src({ risk: [900, 500], sor: [900] }, {}))).toEqual({ floor: 1, heldBy: 'snapshot sor (1 of 2 hold)' });
    expect(retentionFloor(src({ risk: [900, 500] }, { kafka: 0 }))).toEqual({ floor: 1, heldBy: 'sink kafka (cursor not yet known)' });
    expect(retentionFloor(src({}, {})).floor).toBe(1);
  });
});

describe('runRetention on a real journal', () => {
  /** Three boots, several segments each; boots 2's and 3's snapshots saved at their boundaries (each stage keeps two). */
  function threeBoots(): { b2: number; b3: number; store: SnapshotStore } {
    boot(1000, 1500);
    const b2 = boot(2000, 1500);
    const b3 = boot(3000, 300);
    // What boot 2's and boot 3's stages saved at their boundaries once their replays reached them.
    const store = saveSnapshots([b2, b3]);
    return { b2, b3, store };
  }

  it('archive: moves every segment before the older snapshots\' boundary (but the one before it) into archiveDir; the rest reads as before', () => {
    const { b2, b3, store } = threeBoots();
    const before = journalHeaders(dir);
    expect(before.length).toBeGreaterThan(4);
    const all = readFrom(1);
    const at = before.findIndex((h) => h.firstSequence === b2);
    expect(at).toBeGreaterThan(1);
    const pass = runRetention(dir, 'archive', archive, sources(store));
    expect(pass.floor).toBe(b2);
    expect(pass.pruned.error).toBeNull();
    expect(pass.pruned.segments).toEqual(before.slice(0, at - 1).map((h) => h.index));
    expect(pass.pruned.bytes).toBeGreaterThan(0);
    expect(pass.firstSequence).toBe(before[at - 1].firstSequence);
    expect(firstJournalSequence(dir)).toBe(pass.firstSequence);
    for (const i of pass.pruned.segments) {
      expect(existsSync(join(dir, segmentFileName(i)))).toBe(false);
      expect(existsSync(join(archive, segmentFileName(i)))).toBe(true);
    }
    // The stages' snapshots still hold, the older one too; a start replays from either as before the prune.
    for (const s of STAGES) expect(store.holding(s)).toEqual([b3, b2]);
    expect(readFrom(b3)).toEqual(all.filter((s) => s >= b3));
    expect(readFrom(b2)).toEqual(all.filter((s) => s >= b2));
    // A second pass finds nothing more.
    expect(runRetention(dir, 'archive', archive, sources(store)).pruned.segments).toEqual([]);
    // The archived segments moved back: the whole journal reads again, every frame as written.
    for (const name of readdirSync(archive)) renameSync(join(archive, name), join(dir, name));
    expect(readFrom(1)).toEqual(all);
  });

  it('delete: unlinks them; a replay from before the journal\'s first sequence throws JournalPruned, a sink\'s reader stops and says why', () => {
    const { b3, store } = threeBoots();
    const pass = runRetention(dir, 'delete', archive, sources(store));
    expect(pass.pruned.segments.length).toBeGreaterThan(0);
    expect(existsSync(archive)).toBe(false);
    expect(listSegments(dir)[0]).toBe(pass.pruned.segments.at(-1)! + 1);
    expect(() => readFrom(1)).toThrow(JournalPruned);
    expect(() => readFrom(pass.firstSequence - 1)).toThrow(/starts at sequence \d+ .*pruned by journal.retention/);
    expect(readFrom(pass.firstSequence)[0]).toBe(pass.firstSequence);
    // A sink whose durable cursor is gone (e.g. a fresh database) never skips: it stops, saying why.
    const reader = new JournalReader(dir);
    expect(reader.read(startCursor(1), 100, { onFrame() {} })).toBe(0);
    expect(reader.problem).toMatch(/before the journal's first segment .*pruned \(journal.retention\)/);
    reader.close();
    expect(readFrom(b3).length).toBe(300);
  });

  it.skipIf(!existsSync('/dev/shm'))('archive across file systems (the journal on disk, the archive on tmpfs): each segment copied whole, linked, then unlinked; no temporary file left', () => {
    // linkSync across file systems fails with EXDEV: the copy path runs. /dev/shm is a tmpfs; the
    // journal goes where the disk is (the OS's temporary directory, or else under the project).
    const shmDev = statSync('/dev/shm').dev;
    const base = [tmpdir(), join(import.meta.dirname, '..', 'test-output')].find((d) => {
      mkdirSync(d, { recursive: true });
      return statSync(d).dev !== shmDev;
    });
    if (base === undefined) throw new Error('Condition failed: a directory on another file system than /dev/shm for the journal');
    const journalDir = mkdtempSync(join(base, 'retention-xfs-'));
    const shmArchive = mkdtempSync(join('/dev/shm', 'retention-xfs-archive-'));
    const outer = dir;
    try {
      dir = journalDir;
      const { b2, store } = threeBoots();
      const before = new Map(listSegments(dir).map((i) => [i, readFileSync(join(dir, segmentFileName(i)))]));
      const all = readFrom(1);
      const pass = runRetention(dir, 'archive', shmArchive, sources(store));
      expect(pass.floor).toBe(b2);
      expect(pass.pruned.error).toBeNull();
      expect(pass.pruned.segments.length).toBeGreaterThan(0);
      expect(statSync(shmArchive).dev).not.toBe(statSync(dir).dev);
      for (const i of pass.pruned.segments) {
        expect(existsSync(join(dir, segmentFileName(i)))).toBe(false);
        expect(Buffer.compare(readFileSync(join(shmArchive, segmentFileName(i))), before.get(i)!)).toBe(0);
      }
      expect(readdirSync(shmArchive).sort()).toEqual(pass.pruned.segments.map(segmentFileName).sort());
      // Moved back, the whole journal reads as written.
      for (const name of readdirSync(shmArchive)) writeFileSync(join(dir, name), readFileSync(join(shmArchive, name)));
      expect(readFrom(1)).toEqual(all);
    } finally {
      dir = outer;
      rmSync(journalDir, { recursive: true, force: true });
      rmSync(shmArchive, { recursive: true, force: true });
    }
  });

  it('the sinks\' cursors hold the journal back; a sink not yet connected holds all of it', () => {
    const { b2, store } = threeBoots();
    expect(runRetention(dir, 'delete', archive, sources(store, { postgres: 0 })).pruned.segments).toEqual([]);
    const cursor = b2 - 300; // in boot 1's last segments
    const pass = runRetention(dir, 'delete', archive, sources(store, { postgres: cursor, kafka: b2 + 700 }));
    expect(pass.floor).toBe(cursor);
    expect(pass.heldBy).toBe('sink postgres');
    expect(pass.pruned.segments.length).toBeGreaterThan(0);
    expect(pass.firstSequence).toBeLessThanOrEqual(cursor);
    // The sink resumes from its cursor as before.
    expect(readFrom(cursor)[0]).toBe(cursor);
  });

  it('archive never overwrites a segment of the same name already there: the pass stops, says why, and the journal keeps it', () => {
    const { store } = threeBoots();
    const first = journalHeaders(dir)[0].index;
    mkdirSync(archive, { recursive: true });
    writeFileSync(join(archive, segmentFileName(first)), 'another journal\'s segment');
    const pass = runRetention(dir, 'archive', archive, sources(store));
    expect(pass.pruned.segments).toEqual([]);
    expect(pass.pruned.error).toMatch(/EEXIST/);
    expect(readFileSync(join(archive, segmentFileName(first)), 'utf8')).toBe('another journal\'s segment');
    expect(readFrom(1)[0]).toBe(1);
  });

  it('a journal with a segment missing in the middle, or an unreadable header before the last, is refused: never replayed in part', () => {
    threeBoots();
    const segments = listSegments(dir);
    const all = readFrom(1);
    // A sink's reader reaching the hole stops and says so, instead of waiting for it forever.
    renameSync(join(dir, segmentFileName(segments[2])), join(dir, 'aside'));
    expect(journalGap(dir)).toMatch(new RegExp(`segment ${segments[2]} is missing`));
    expect(() => readFrom(1)).toThrow(JournalGap);
    const reader = new JournalReader(dir);
    const cursor = startCursor(1);
    while (reader.read(cursor, 1000, { onFrame() {} }) > 0);
    expect(reader.problem).toMatch(new RegExp(`segment ${segments[2]} is missing, and later segments exist`));
    reader.close();
    renameSync(join(dir, 'aside'), join(dir, segmentFileName(segments[2])));
    expect(readFrom(1)).toEqual(all);
    // A zeroed header of the first segment (not the last).
    const path = join(dir, segmentFileName(segments[0]));
    const bytes = readFileSync(path);
    writeFileSync(path, Buffer.concat([Buffer.alloc(32), bytes.subarray(32)]));
    expect(journalGap(dir)).toMatch(/header cannot be read, and segments follow it/);
    expect(() => readFrom(1)).toThrow(JournalGap);
  });

  it('a stage whose snapshots do not hold (another configuration) holds the whole journal; with them pruned, its start refuses', () => {
    const { b3 } = threeBoots();
    const other = new SnapshotStore(dir, 'another-configuration');
    expect(other.holding('sor')).toEqual([]);
    expect(runRetention(dir, 'delete', archive, sources(other)).pruned.segments).toEqual([]);
    runRetention(dir, 'delete', archive, sources(new SnapshotStore(dir, 'fp')));
    // The SOR starting under the other configuration: its snapshot is passed over, the whole journal is needed, and it is not there.
    const state = {
      frames: 0,
      snapshot(w: SnapshotWriter) { w.number('state', 0); },
      restore(r: SnapshotReader) { r.number('state'); },
      onFrame() { this.frames++; },
    };
    expect(() => replayWithSnapshots(other, 'sor', state, dir)).toThrow(JournalPruned);
    expect(state.frames).toBe(0);
    // Under the configuration they were written under, it starts from its snapshot.
    const same = replayWithSnapshots(new SnapshotStore(dir, 'fp'), 'sor', state, dir);
    expect(same.snapshot.boundary).toBe(b3);
  });
});

describe('config journal.retention', () => {
  const journal = (j: Record<string, unknown>) => validateConfig({ journal: { ...DEFAULT_CONFIG.journal, ...j } }).journal;

  it('defaults to keep; takes archive and delete, an archive directory and a check interval', () => {
    expect(validateConfig({}).journal).toMatchObject({ retention: 'keep', archiveDir: null, retentionCheckMs: 60_000 });
    expect(journal({ retention: 'archive', archiveDir: '/srv/oms/archive', retentionCheckMs: 5000 })).toMatchObject({ retention: 'archive', archiveDir: '/srv/oms/archive', retentionCheckMs: 5000 });
    expect(journal({ retention: 'delete' }).retention).toBe('delete');
    expect(loadConfig({ JOURNAL_RETENTION: 'archive' }, undefined).journal.retention).toBe('archive');
  });

  it('refuses an unknown mode, pruning without snapshots, the journal directory as archive, an interval out of range', () => {
    expect(() => journal({ retention: 'forever' })).toThrow(/journal.retention: must be one of keep, archive, delete/);
    expect(() => journal({ retention: 'delete', snapshots: false })).toThrow(/journal.retention: delete needs journal.snapshots true/);
    expect(() => journal({ retention: 'archive', dir: '/srv/j', archiveDir: '/srv/j/' })).toThrow(/journal.archiveDir: must not be journal.dir/);
    expect(() => journal({ retentionCheckMs: 10 })).toThrow(ConfigError);
    expect(() => loadConfig({ JOURNAL_RETENTION: 'sometimes' }, undefined)).toThrow(ConfigError);
    expect(journal({ retention: 'keep', snapshots: false }).retention).toBe('keep');
  });
});
