import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { JournalWriter } from './journal.ts';
import {
  KEEP_SNAPSHOTS, SNAPSHOT_RULES_VERSION, SnapshotMismatch, SnapshotReader, SnapshotStore, SnapshotWriter, decodeSnapshot, encodeSnapshot, segmentsAround, snapshotFingerprint,
  snapshotParts, written,
} from './snapshot.ts';

const dirs: string[] = [];

/** The epoch of the journal segment whose first sequence is `sequence`, or null. */
const segmentEpochAt = (dir: string, sequence: number): number | null => segmentsAround(dir, sequence).at?.engineEpochMs ?? null;
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'oms-snap-'));
  dirs.push(d);
  return d;
}

/** A journal of `boots` boots, each a writer (a new segment) with `frames` frames; returns each boot's first sequence and epoch. */
function journal(dir: string, boots: number, frames: number): { first: number; epochMs: number }[] {
  const out: { first: number; epochMs: number }[] = [];
  const body = new Uint8Array(24);
  for (let b = 0; b < boots; b++) {
    const epochMs = 1_700_000_000_000 + b;
    const w = new JournalWriter(dir, 'none', 10, 1 << 20, { engineEpochMs: epochMs });
    out.push({ first: w.sequence, epochMs });
    for (let i = 0; i < frames; i++) w.append(1, body, 0, body.length);
    w.flush(0);
    w.close();
  }
  return out;
}

function sample(w: SnapshotWriter, qty: Float64Array, extra = false): void {
  w.number('n', 42).array('qty', qty).list('ids', Float64Array.of(3, 1, 2)).bytes('cfg', Uint8Array.of(9, 8)).bytes('none', null);
  if (extra) w.number('extra', 1);
}

describe('SnapshotWriter / SnapshotReader', () => {
  it('reads back every kind of section in order, and refuses another tag, kind or length', () => {
    const w = new SnapshotWriter();
    sample(w, Float64Array.of(1.5, -2, 2 ** 53 - 1));
    const payload = w.finish();
    const r = new SnapshotReader(payload);
    expect(r.number('n')).toBe(42);
    const qty = new Float64Array(3);
    r.arrayInto('qty', qty);
    expect([...qty]).toEqual([1.5, -2, 2 ** 53 - 1]);
    expect([...r.list('ids')]).toEqual([3, 1, 2]);
    expect([...r.bytes('cfg')!]).toEqual([9, 8]);
    expect(r.bytes('none')).toBeNull();
    r.end();

    expect(() => new SnapshotReader(payload).number('m')).toThrow(SnapshotMismatch);
    const r2 = new SnapshotReader(payload);
    r2.number('n');
    expect(() => r2.arrayInto('qty', new Float64Array(4))).toThrow(/does not fit/);
    const r3 = new SnapshotReader(payload);
    r3.number('n');
    expect(() => r3.arrayInto('qty', new Int32Array(3))).toThrow(/does not fit/);
    const r4 = new SnapshotReader(payload);
    r4.number('n');
    expect(() => r4.end()).toThrow(/left unread/);
  });

  it('round-trips any typed array (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { maxLength: 300 }), fc.array(fc.double(), { maxLength: 50 }), (ints, doubles) => {
        const a = Int32Array.from(ints);
        const d = Float64Array.from(doubles);
        const payload = new SnapshotWriter().array('a', a).list('d', d).finish();
        const r = new SnapshotReader(payload);
        const back = new Int32Array(a.length);
        r.arrayInto('a', back);
        expect(back).toEqual(a);
        expect(r.list('d')).toEqual(d);
        r.end();
      }),
    );
  });

  it('layout: the same for the same writer code, whatever the values of lists, numbers and bytes; not for another array length or an extra section', () => {
    const a = new SnapshotWriter();
    sample(a, new Float64Array(3));
    const b = new SnapshotWriter();
    b.number('n', 7).array('qty', Float64Array.of(4, 5, 6)).list('ids', new Float64Array(0)).bytes('cfg', null).bytes('none', Uint8Array.of(1));
    expect(new SnapshotReader(b.finish()).layout()).toEqual(new SnapshotReader(a.finish()).layout());
    const c = new SnapshotWriter();
    sample(c, new Float64Array(4));
    expect(new SnapshotReader(c.finish()).layout()).not.toEqual(new SnapshotReader(a.finish()).layout());
    const d = new SnapshotWriter();
    sample(d, new Float64Array(3), true);
    expect(new SnapshotReader(d.finish()).layout()).not.toEqual(new SnapshotReader(a.finish()).layout());
  });
});

describe('measuring, then writing at the measured size', () => {
  /** Any sequence of sections of every kind (random tags, kinds, lengths and values). */
  const section = fc.oneof(
    fc.record({ k: fc.constant('n' as const), tag: fc.string({ minLength: 1, maxLength: 20 }), n: fc.double() }),
    fc.record({ k: fc.constant('a' as const), tag: fc.string({ minLength: 1, maxLength: 20 }), kind: fc.integer({ min: 0, max: 7 }), values: fc.array(fc.integer({ min: 0, max: 127 }), { maxLength: 40 }) }),
    fc.record({ k: fc.constant('l' as const), tag: fc.string({ minLength: 1, maxLength: 20 }), values: fc.array(fc.double(), { maxLength: 20 }) }),
    fc.record({ k: fc.constant('b' as const), tag: fc.string({ minLength: 1, maxLength: 20 }), bytes: fc.option(fc.uint8Array({ maxLength: 40 })) }),
  );
  const ARRAYS = [Uint8Array, Int8Array, Uint16Array, Int16Array, Uint32Array, Int32Array, Float32Array, Float64Array];
  type Section = typeof section extends fc.Arbitrary<infer T> ? T : never;
  const writeAll = (w: SnapshotWriter, sections: Section[]): void => {
    for (const x of sections) {
      if (x.k === 'n') w.number(x.tag, x.n);
      else if (x.k === 'a') w.array(x.tag, ARRAYS[x.kind].from(x.values));
      else if (x.k === 'l') w.list(x.tag, Float64Array.from(x.values));
      else w.bytes(x.tag, x.bytes);
    }
  };

  it('a measuring writer gives the size and the layout of what a writer writes; written() writes it at that size (property)', () => {
    fc.assert(
      fc.property(fc.array(section, { maxLength: 12 }), (sections) => {
        fc.pre(sections.every((x) => Buffer.byteLength(x.tag, 'utf8') <= 255));
        const w = new SnapshotWriter(1);
        writeAll(w, sections);
        const grown = w.finish();
        const m = SnapshotWriter.measuring();
        writeAll(m, sections);
        expect(m.size).toBe(grown.length);
        expect(m.layout()).toEqual(new SnapshotReader(grown).layout());
        const { payload, layout } = written((x) => writeAll(x, sections));
        expect(payload).toEqual(grown);
        expect(payload.buffer.byteLength).toBe(grown.length);
        expect(layout).toEqual(m.layout());
        expect(() => m.finish()).toThrow(/measuring/);
      }),
    );
  });

  it('written() refuses a writer that writes other sections the second time', () => {
    let calls = 0;
    expect(() => written((w) => {
      w.number('n', 1);
      if (++calls === 2) w.number('more', 2);
    })).toThrow(/two passes/);
  });

  it('a file written in parts is the file encodeSnapshot writes, its checksum over both', () => {
    const meta = { stage: 's', rules: SNAPSHOT_RULES_VERSION, boundary: 3, segmentEpochMs: 1, fingerprint: 'f', writtenAtMs: 2 };
    const payload = new SnapshotWriter().number('n', 5).array('a', Int32Array.of(1, 2, 3)).finish();
    const [head, body, tail] = snapshotParts(meta, payload);
    expect(body).toBe(payload); // not copied
    // The CRC-32 of head and payload together, computed here in one piece.
    expect(new DataView(tail.buffer).getUint32(0, true)).toBe(crc32(Buffer.concat([head, payload])));
    const file = Buffer.concat([head, body, tail]);
    expect(decodeSnapshot(new Uint8Array(file))).toEqual({ meta, payload });
    expect(new Uint8Array(file)).toEqual(encodeSnapshot(meta, payload));
  });
});

describe('snapshot files', () => {
  const meta = { stage: 'risk', rules: SNAPSHOT_RULES_VERSION, boundary: 11, segmentEpochMs: 5, fingerprint: 'f', writtenAtMs: 1 };

  it('decode refuses a flipped byte anywhere, a short file and another magic', () => {
    const file = encodeSnapshot(meta, new SnapshotWriter().number('n', 1).finish());
    expect(decodeSnapshot(file).meta).toEqual(meta);
    for (let i = 0; i < file.length; i++) {
      const bad = file.slice();
      bad[i] ^= 0x40;
      expect(() => decodeSnapshot(bad), `byte ${i}`).toThrow(SnapshotMismatch);
    }
    expect(() => decodeSnapshot(file.subarray(0, 10))).toThrow(SnapshotMismatch);
  });
});

describe('SnapshotStore', () => {
  const shape = (w: SnapshotWriter): void => sample(w, new Float64Array(3));

  it('saves only at a segment start, loads the newest that holds, keeps the newest KEEP_SNAPSHOTS', () => {
    const dir = tempDir();
    const boots = journal(dir, 4, 5);
    expect(boots.map((b) => b.first)).toEqual([1, 6, 11, 16]);
    expect(segmentEpochAt(dir, 11)).toBe(boots[2].epochMs);
    expect(segmentEpochAt(dir, 12)).toBeNull();
    const store = new SnapshotStore(dir, 'fp');
    expect(store.save('risk', 12, 5, shape)).toBeNull();
    expect(store.load('risk', shape)).toBeNull();
    for (const b of boots.slice(1)) expect(store.save('risk', b.first, 5, (w) => sample(w, Float64Array.of(b.first, 0, 0)))).not.toBeNull();
    expect(store.list('risk').map((s) => s.boundary)).toEqual([16, 11]);
    expect(KEEP_SNAPSHOTS).toBe(2);
    expect(readdirSync(store.dir).some((n) => n.endsWith('.tmp'))).toBe(false);
    const loaded = store.load('risk', shape)!;
    expect(loaded.meta.boundary).toBe(16);
    loaded.reader.number('n');
    const qty = new Float64Array(3);
    loaded.reader.arrayInto('qty', qty);
    expect(qty[0]).toBe(16);
    // Another stage's files are its own.
    expect(store.load('sor', shape)).toBeNull();
  });

  it('passes over a corrupt file, another fingerprint, another layout, and a boundary whose segment is gone or of another boot', () => {
    const dir = tempDir();
    const boots = journal(dir, 3, 4);
    const store = new SnapshotStore(dir, 'fp');
    const older = store.save('fix', boots[1].first, 4, shape)!;
    const newer = store.save('fix', boots[2].first, 4, shape)!;

    const good = readFileSync(newer);
    const bad = Buffer.from(good);
    bad[bad.length - 10] ^= 1;
    writeFileSync(newer, bad);
    expect(store.load('fix', shape)!.path).toBe(older);
    expect(store.skipped).toEqual([`${newer}: checksum does not hold`]);
    writeFileSync(newer, good);
    expect(store.load('fix', shape)!.path).toBe(newer);

    expect(new SnapshotStore(dir, 'other').load('fix', shape)).toBeNull();
    expect(store.load('fix', (w) => sample(w, new Float64Array(3), true))).toBeNull();
    expect(store.skipped).toHaveLength(2);
    expect(store.skipped.every((s) => s.endsWith('its layout is not this version\'s'))).toBe(true);

    // The newest boot's segment rewritten by another boot from the same sequence (as an empty
    // segment is reused): the segment before the boundary is the same, so its snapshot holds.
    rmSync(join(dir, 'journal-000003.log'));
    new JournalWriter(dir, 'none', 10, 1 << 20, { engineEpochMs: 99 }).close();
    expect(segmentEpochAt(dir, boots[2].first)).toBe(99);
    expect(store.load('fix', shape)!.path).toBe(newer);
    expect(store.skipped).toEqual([]);

    // Boots 2 and 3's segments lost, and a boot writing from boot 2's first sequence: no segment
    // starts at the newest one's boundary; the older one's follows the same segment as when saved.
    rmSync(join(dir, 'journal-000003.log'));
    rmSync(join(dir, 'journal-000002.log'));
    new JournalWriter(dir, 'none', 10, 1 << 20, { engineEpochMs: 98 }).close();
    expect(segmentEpochAt(dir, boots[1].first)).toBe(98);
    expect(store.load('fix', shape)!.path).toBe(older);
    expect(store.skipped).toHaveLength(1);
    expect(store.skipped[0]).toMatch(/^.*fix-\d+\.snap: the journal has no segment of its boot at its boundary/);

    // The journal started afresh: neither.
    for (const name of readdirSync(dir)) if (name.endsWith('.log')) rmSync(join(dir, name));
    new JournalWriter(dir, 'none', 10, 1 << 20, { engineEpochMs: 97 }).close();
    expect(store.load('fix', shape)).toBeNull();
    expect(store.skipped).toHaveLength(2);
    expect(store.skipped.every((x) => /no segment of its boot at its boundary/.test(x))).toBe(true);
  });

  it('the segment before the boundary: another one passes a snapshot over; a file without the field holds only by its epoch; at the first segment nothing precedes it', () => {
    // A journal started afresh that reaches the same boundary after another first segment.
    const dir = tempDir();
    const boots = journal(dir, 2, 4);
    const store = new SnapshotStore(dir, 'fp');
    const path = store.save('fix', boots[1].first, 4, shape)!;
    for (const name of readdirSync(dir)) if (name.endsWith('.log')) rmSync(join(dir, name));
    const other = new JournalWriter(dir, 'none', 10, 1 << 20, { engineEpochMs: 40 });
    const body = new Uint8Array(24);
    for (let i = 0; i < 4; i++) other.append(1, body, 0, body.length);
    other.flush(0);
    other.close();
    const next = new JournalWriter(dir, 'none', 10, 1 << 20, { engineEpochMs: boots[1].epochMs });
    next.close();
    // A segment at the boundary, even of the same epoch as the snapshot's: the one before is another.
    expect(segmentEpochAt(dir, boots[1].first)).toBe(boots[1].epochMs);
    expect(store.load('fix', shape)!.path).toBe(path);
    rmSync(join(dir, 'journal-000002.log'));
    new JournalWriter(dir, 'none', 10, 1 << 20, { engineEpochMs: 41 }).close();
    expect(segmentEpochAt(dir, boots[1].first)).toBe(41);
    expect(store.load('fix', shape)).toBeNull();
    expect(store.skipped).toEqual([`${path}: the journal has no segment of its boot at its boundary, nor the segment it followed`]);

    // A file of the earlier version (no priorSegment) over a reused segment: its epoch only.
    const d2 = tempDir();
    const b2 = journal(d2, 1, 4);
    const s2 = new SnapshotStore(d2, 'fp');
    new JournalWriter(d2, 'none', 10, 1 << 20, { engineEpochMs: 50 }).close(); // a boot that journals nothing
    const p2 = s2.save('fix', b2[0].first + 4, 4, shape)!;
    const { meta, payload } = decodeSnapshot(new Uint8Array(readFileSync(p2)));
    expect(meta.priorSegment).toEqual({ index: 1, engineEpochMs: b2[0].epochMs });
    new JournalWriter(d2, 'none', 10, 1 << 20, { engineEpochMs: 51 }).close(); // the next reuses its segment
    expect(s2.load('fix', shape)!.path).toBe(p2);
    const { priorSegment: _, ...older } = meta;
    writeFileSync(p2, encodeSnapshot(older, payload));
    expect(s2.load('fix', shape)).toBeNull();
    expect(s2.skipped[0]).toMatch(/no segment of its boot at its boundary/);

    // At the journal's first segment: a snapshot at sequence 1 holds after the segment is reused.
    const d3 = tempDir();
    const s3 = new SnapshotStore(d3, 'fp');
    new JournalWriter(d3, 'none', 10, 1 << 20, { engineEpochMs: 60 }).close();
    const p3 = s3.save('fix', 1, 0, shape)!;
    expect(decodeSnapshot(new Uint8Array(readFileSync(p3))).meta.priorSegment).toBeNull();
    new JournalWriter(d3, 'none', 10, 1 << 20, { engineEpochMs: 61 }).close();
    expect(segmentEpochAt(d3, 1)).toBe(61);
    expect(s3.load('fix', shape)!.path).toBe(p3);
  });

  it('loadInto: a snapshot that fails while read back is passed over for the next older one, the state put back first; a save then sets it aside', () => {
    const dir = tempDir();
    const boots = journal(dir, 3, 4);
    const store = new SnapshotStore(dir, 'fp');
    /** A state of one number and one array; restore() refuses a negative number after copying the array. */
    const state = {
      n: 0,
      a: new Float64Array(3),
      snapshot(w: SnapshotWriter): void {
        w.array('a', this.a).number('n', this.n);
      },
      restore(r: SnapshotReader): void {
        r.arrayInto('a', this.a);
        const n = r.number('n');
        if (n < 0) throw new SnapshotMismatch(`n: ${n}`);
        this.n = n;
      },
    };
    const older = store.save('sor', boots[1].first, 4, (w) => w.array('a', Float64Array.of(1, 2, 3)).number('n', 7))!;
    const newer = store.save('sor', boots[2].first, 4, (w) => w.array('a', Float64Array.of(9, 9, 9)).number('n', -1))!;
    const out = store.loadInto('sor', state);
    expect(out).toMatchObject({ loaded: older, boundary: boots[1].first });
    expect(out.skipped).toEqual([`${newer}: could not be read back: n: -1`]);
    expect([...state.a, state.n]).toEqual([1, 2, 3, 7]);

    // Only the bad one: the fresh state back, the whole journal.
    const fresh = { ...state, n: 0, a: new Float64Array(3) };
    const lone = new SnapshotStore(dir, 'fp');
    rmSync(older);
    const out2 = lone.loadInto('sor', fresh);
    expect(out2).toMatchObject({ loaded: null, boundary: 1 });
    expect([...fresh.a, fresh.n]).toEqual([0, 0, 0, 0]);

    // The bad file does not count among the newest kept: the save keeps the older one too; the
    // bad one goes once the kept ones are all newer.
    writeFileSync(older, readFileSync(newer)); // any file at the older boundary, to count
    const third = new JournalWriter(dir, 'none', 10, 1 << 20, { engineEpochMs: 70 });
    third.close();
    const saved = lone.save('sor', third.sequence, 4, (w) => w.array('a', new Float64Array(3)).number('n', 1))!;
    expect(lone.list('sor').map((x) => x.path)).toEqual([saved, newer, older]);
    const fourth = new JournalWriter(dir, 'none', 10, 1 << 20, { engineEpochMs: 71 });
    const body = new Uint8Array(24);
    fourth.append(1, body, 0, body.length);
    fourth.flush(0);
    fourth.close();
    new JournalWriter(dir, 'none', 10, 1 << 20, { engineEpochMs: 72 }).close();
    const last = lone.save('sor', third.sequence + 1, 4, (w) => w.array('a', new Float64Array(3)).number('n', 2))!;
    expect(lone.list('sor').map((x) => x.path)).toEqual([last, saved]);
  });

  it('saves only after a replay of at least minFrames frames; loads nothing, and builds no template, without a file', () => {
    const dir = tempDir();
    const boots = journal(dir, 2, 3);
    const store = new SnapshotStore(dir, 'fp', 10);
    let templates = 0;
    expect(store.load('risk', (w) => { templates++; shape(w); })).toBeNull();
    expect(templates).toBe(0);
    expect(store.save('risk', boots[1].first, 9, shape)).toBeNull();
    expect(store.list('risk')).toEqual([]);
    expect(store.save('risk', boots[1].first, 10, shape)).not.toBeNull();
    expect(store.load('risk', (w) => { templates++; shape(w); })!.meta.boundary).toBe(boots[1].first);
    expect(templates).toBe(1);
    expect(() => new SnapshotStore(dir, 'fp', -1)).toThrow(/minFrames/);
  });

  it('replayAndSave saves at this boot\'s boundary even when the replay runs past it (another stage journaled first), with the state before the boot\'s first frame', () => {
    const dir = tempDir();
    const boots = journal(dir, 3, 4); // the third boot has journaled 4 frames before this stage replays
    const seen: number[] = [];
    const handler = { onFrame: (_t: number, sequence: number) => void seen.push(sequence) };
    const writeSeen = (w: SnapshotWriter): void => void w.number('seen', seen.length);
    const store = new SnapshotStore(dir, 'fp', 0, boots[2].epochMs);
    const r = store.replayAndSave('sor', handler, 1, writeSeen);
    expect(r.problem).toBeNull();
    expect(r.nextSequence).toBe(13);
    expect(seen).toHaveLength(12);
    expect(r.saved).not.toBeNull();
    const loaded = store.load('sor', (w) => w.number('seen', 0))!;
    expect(loaded.meta.boundary).toBe(boots[2].first);
    expect(loaded.reader.number('seen')).toBe(8);
    // minFrames counts the frames before the boundary.
    expect(new SnapshotStore(dir, 'fp', 9, boots[2].epochMs).replayAndSave('fix', handler, 1, writeSeen).saved).toBeNull();
    // Without this boot's segment: at the replay's end, which is no segment start here.
    expect(new SnapshotStore(dir, 'fp', 0, null).replayAndSave('risk', handler, 1, writeSeen).saved).toBeNull();
    expect(new SnapshotStore(dir, 'fp', 0, 12345).replayAndSave('risk', handler, 1, writeSeen).saved).toBeNull();
  });

  it('passes over a snapshot of other replay rules, and an unreadable file', () => {
    const dir = tempDir();
    const boots = journal(dir, 2, 2);
    const store = new SnapshotStore(dir, 'fp');
    const path = store.save('risk', boots[1].first, 2, shape)!;
    const { meta, payload } = decodeSnapshot(readFileSync(path));
    writeFileSync(path, encodeSnapshot({ ...meta, rules: SNAPSHOT_RULES_VERSION + 1 }, payload));
    expect(store.load('risk', shape)).toBeNull();
    expect(store.skipped[0]).toMatch(/replay rules/);
    rmSync(path);
    mkdirSync(path); // a directory where the file was: reading it fails
    expect(store.load('risk', shape)).toBeNull();
    expect(store.skipped[0]).toMatch(/unreadable/);
  });

  it('fingerprint: capacities and the ids of symbols, accounts and venues', () => {
    const base = { orderCapacity: 8, childCapacity: 8, symbols: [{ name: 'A' }, { name: 'B' }], accounts: [{ id: 1 }], venues: [{ id: 1, name: 'V1' }] };
    const fp = snapshotFingerprint(base);
    expect(snapshotFingerprint({ ...base })).toBe(fp);
    expect(snapshotFingerprint({ ...base, orderCapacity: 16 })).not.toBe(fp);
    expect(snapshotFingerprint({ ...base, symbols: [{ name: 'B' }, { name: 'A' }] })).not.toBe(fp);
    expect(snapshotFingerprint({ ...base, accounts: [{ id: 2 }] })).not.toBe(fp);
    expect(snapshotFingerprint({ ...base, venues: [{ id: 1, name: 'V2' }] })).not.toBe(fp);
  });
});
