// Goal: a fix stage recovered from its newest recovery snapshot plus the journal after it is the
// same stage, bit for bit, as one recovered by replaying the whole journal (workers/fix/recovery.ts,
// persistence/snapshot.ts), and a snapshot that does not hold is passed over for a full replay.
// Method: journals written by hand (what recovery reads: EXEC_REPORTs naming orders, CHILD_EVENTs
// of every kind with and without an ExecID hash, in both journaled lengths, ROUTE_AUDITs, some
// truncated) over several boots, each boot a new JournalWriter on the same directory (a new
// segment: the boundary its start-up snapshot is saved at). At every boot's start a stage
// recovered with a SnapshotStore (the previous boot's snapshot plus that boot's records) is
// compared with one recovered from the whole journal: every typed array and scalar field of the
// stage and of its ExecID set's generations, read by reflection (not through the snapshot code, so
// a piece of state the snapshot leaves out shows), and the recovery results but `frames` (the tail
// only) and `snapshot`. A small child table (16 slots) and order table (8) so slots are reused,
// conflicts and unnamed children occur, and the audit-only window's sweep runs.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { StageCounters } from '../../engine/counters.ts';
import { ExecType } from '../../engine/order-state.ts';
import { Reason } from '../../engine/reasons.ts';
import { RingConsumer, RingProducer, createRingMemory } from '../../engine/ring.ts';
import { CHILD_EVENT_JOURNALED_MIN_LENGTH, CHILD_EVENT_LENGTH, EXEC_REPORT_LENGTH, ChildEventFlyweight, ChildEventKind, ExecReportFlyweight, RecordType } from '../../codecs/records.ts';
import { MemoryMessageStore } from '../../fix/store.ts';
import { JournalWriter, listSegments, segmentFileName } from '../../persistence/journal.ts';
import { SNAPSHOT_DIR, SnapshotReader, SnapshotStore, SnapshotWriter, decodeSnapshot, encodeSnapshot, snapshotFingerprint } from '../../persistence/snapshot.ts';
import { auditFrame } from '../sor/audit-children.fixture.ts';
import { ExecIdSet, MAX_EXEC_ID } from './exec-id-set.ts';
import { FixStage } from './fix-stage.ts';
import { recoverFixStage, type FixRecoveryResult } from './recovery.ts';

const CAPACITY = 16;
const ORDER_CAPACITY = 8;
const EPOCH = Date.UTC(2026, 0, 5, 9, 0, 0);
const CONFIG = {
  orderCapacity: ORDER_CAPACITY,
  childCapacity: CAPACITY,
  symbols: [{ name: 'AAPL' }, { name: 'MSFT' }, { name: 'IBM' }],
  accounts: [{ id: 1 }],
  venues: [{ id: 1, name: 'V1' }, { id: 2, name: 'V2' }],
};
const FINGERPRINT = snapshotFingerprint(CONFIG);

/** A fix stage as fix-part.ts builds one that recovers (child base 0), on rings nobody reads. */
function freshStage(): FixStage {
  const mem = { sorToFix: createRingMemory(1 << 12), riskToFix: createRingMemory(1 << 12), fixToRisk: createRingMemory(1 << 12), fixToSor: createRingMemory(1 << 12) };
  const clock = { epochMs: () => EPOCH, nowNs: () => 0 };
  return new FixStage(
    CONFIG.venues.map((v) => ({ venueId: v.id, name: v.name, senderCompId: 'OMS', targetCompId: v.name, heartBtIntS: 30, store: new MemoryMessageStore() })),
    CONFIG.symbols.map((s) => s.name), ['', 'T1'], 0, CAPACITY,
    { fromSor: new RingConsumer(mem.sorToFix), fromRisk: new RingConsumer(mem.riskToFix), toRisk: new RingProducer(mem.fixToRisk, null), toSor: new RingProducer(mem.fixToSor, null) },
    clock as never, StageCounters.create(),
  );
}

/** A typed array as its length and its non-zero elements by index (-0 kept): to show a difference. */
function sparse(a: ArrayLike<number | bigint>): { length: number; nonZero: [number, number | bigint][] } {
  const nonZero: [number, number | bigint][] = [];
  for (let i = 0; i < a.length; i++) if (!(Object.is(a[i], 0) || a[i] === 0n)) nonZero.push([i, a[i]]);
  return { length: a.length, nonZero };
}

/**
 * Everything the stage holds that is a typed array or a scalar, and the same of both generations
 * of its ExecID set (by role: young, old), read by reflection.
 */
function stageState(stage: FixStage): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const take = (prefix: string, o: Record<string, unknown>): void => {
    for (const [k, v] of Object.entries(o)) {
      if ((ArrayBuffer.isView(v) && !(v instanceof DataView)) || typeof v === 'number' || typeof v === 'boolean') out[prefix + k] = v;
    }
  };
  const fields = stage as unknown as Record<string, unknown>;
  take('', fields);
  const set = fields.execIds as Record<string, Record<string, unknown>>;
  take('execIds.young.', set.young);
  take('execIds.old.', set.old);
  return out;
}

/**
 * The two stages' states are equal: the same fields, scalars equal, typed arrays equal byte for
 * byte (compared with memcmp: toEqual over the ExecID set's 1.5 MB byte arrays is slow; on a
 * difference, toEqual of their non-zero elements shows where).
 */
function expectSameState(actual: FixStage, expected: FixStage): void {
  const a = stageState(actual);
  const e = stageState(expected);
  expect(Object.keys(a)).toEqual(Object.keys(e));
  const bytesOf = (v: ArrayBufferView): Buffer => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  for (const k of Object.keys(e)) {
    const x = a[k];
    const y = e[k];
    if (ArrayBuffer.isView(x) && ArrayBuffer.isView(y)) {
      if (x.constructor !== y.constructor || !bytesOf(x).equals(bytesOf(y))) {
        expect({ [k]: sparse(x as unknown as ArrayLike<number>) }).toEqual({ [k]: sparse(y as unknown as ArrayLike<number>) });
        expect.unreachable(`${k}: ${x.constructor.name} vs ${y.constructor.name}, -0 vs 0 or NaN bits`);
      }
    } else expect({ [k]: x }).toEqual({ [k]: y });
  }
}

/** A result's fields that must not depend on where the replay started. */
function substance(r: FixRecoveryResult): Omit<FixRecoveryResult, 'frames' | 'snapshot'> {
  const { frames: _frames, snapshot: _snapshot, ...rest } = r;
  return rest;
}

type Rec =
  | { t: 'report'; orderId: number; side: number; symbolId: number; execType: number }
  | { t: 'event'; kind: number; childId: number; orderId: number; venueId: number; qty: number; price: number; lastQty: number; lastPx: number; reason: number; hash: number; short: boolean }
  | { t: 'audit'; orderId: number; symbolId: number; side: number; price: number; children: { venueId: number; childId: number; qty: number }[]; truncated: boolean };

const reportArb: fc.Arbitrary<Rec> = fc.record({
  t: fc.constant('report' as const),
  orderId: fc.integer({ min: 0, max: 12 }),
  side: fc.integer({ min: 1, max: 2 }),
  symbolId: fc.integer({ min: 0, max: 2 }),
  execType: fc.constantFrom(ExecType.NEW, ExecType.NEW, ExecType.FILL, ExecType.CANCELED, ExecType.CANCEL_REJECT),
});
const eventArb: fc.Arbitrary<Rec> = fc.record({
  t: fc.constant('event' as const),
  kind: fc.oneof(fc.constant(ChildEventKind.SENT), fc.constant(ChildEventKind.FILL), fc.integer({ min: 1, max: 7 })),
  childId: fc.integer({ min: 1, max: 40 }),
  orderId: fc.integer({ min: 1, max: 12 }),
  venueId: fc.integer({ min: 1, max: 2 }),
  qty: fc.integer({ min: 1, max: 10 }),
  price: fc.integer({ min: 1, max: 50 }),
  lastQty: fc.integer({ min: 1, max: 6 }),
  lastPx: fc.integer({ min: 1, max: 50 }),
  reason: fc.constantFrom(Reason.NONE, Reason.VENUE_DOWN),
  // 0: no ExecID; a small pool, so fills repeat a hash (the set keeps it once); 2^53: not a hash.
  hash: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 30 }), fc.constant(2 ** 53)),
  short: fc.constantFrom(false, false, false, true),
});
const auditArb: fc.Arbitrary<Rec> = fc.record({
  t: fc.constant('audit' as const),
  orderId: fc.integer({ min: 1, max: 12 }),
  symbolId: fc.integer({ min: 0, max: 2 }),
  side: fc.integer({ min: 1, max: 2 }),
  price: fc.integer({ min: 1, max: 50 }),
  children: fc.uniqueArray(fc.record({ venueId: fc.integer({ min: 1, max: 2 }), childId: fc.integer({ min: 1, max: 40 }), qty: fc.integer({ min: 1, max: 10 }) }), { selector: (c) => c.venueId, maxLength: 2 }),
  truncated: fc.constantFrom(false, false, false, true),
});
const recArb = fc.oneof({ weight: 3, arbitrary: reportArb }, { weight: 6, arbitrary: eventArb }, { weight: 2, arbitrary: auditArb });

function append(journal: JournalWriter, r: Rec): void {
  if (r.t === 'report') {
    const bytes = new Uint8Array(EXEC_REPORT_LENGTH);
    new ExecReportFlyweight().wrap(new DataView(bytes.buffer), bytes, 0)
      .setOrderId(r.orderId).setEventSeq(1).setSymbolId(r.symbolId).setSide(r.side).setExecType(r.execType).setQty(10).setLeavesQty(10);
    journal.append(RecordType.EXEC_REPORT, bytes, 0, EXEC_REPORT_LENGTH);
  } else if (r.t === 'event') {
    const bytes = new Uint8Array(CHILD_EVENT_LENGTH);
    new ChildEventFlyweight().wrap(new DataView(bytes.buffer), bytes, 0)
      .setKind(r.kind).setChildId(r.childId).setOrderId(r.orderId).setVenueId(r.venueId).setQty(r.qty).setPriceTicks(r.price)
      .setLastQty(r.lastQty).setLastPxTicks(r.lastPx).setReason(r.reason).setExecIdHash(r.hash);
    journal.append(RecordType.CHILD_EVENT, bytes, 0, r.short ? CHILD_EVENT_JOURNALED_MIN_LENGTH : CHILD_EVENT_LENGTH);
  } else {
    const bytes = auditFrame({ orderId: r.orderId, venues: 2, symbolId: r.symbolId, side: r.side, childPxTicks: r.price, children: r.children });
    journal.append(RecordType.ROUTE_AUDIT, bytes, 0, r.truncated ? bytes.length - 8 : bytes.length);
  }
}

/** A new boot's journal writer: a new segment, its first sequence the boundary. */
function openBoot(dir: string, boot: number): JournalWriter {
  return new JournalWriter(dir, 'none', 10, 1 << 20, { engineEpochMs: EPOCH + boot });
}

function writeBoot(dir: string, boot: number, recs: Rec[]): void {
  const journal = openBoot(dir, boot);
  for (const r of recs) append(journal, r);
  journal.close();
}

const store = (dir: string, fingerprint = FINGERPRINT): SnapshotStore => new SnapshotStore(dir, fingerprint);

/** Recovers a fresh stage from the whole journal and one with the store; returns both. */
function recoverBoth(dir: string, snapshots: SnapshotStore) {
  const full = freshStage();
  const fullResult = recoverFixStage(full, dir, ORDER_CAPACITY);
  const snap = freshStage();
  const snapResult = recoverFixStage(snap, dir, ORDER_CAPACITY, snapshots);
  return { full, fullResult, snap, snapResult };
}

function expectSameRecovery(both: ReturnType<typeof recoverBoth>): void {
  expectSameState(both.snap, both.full);
  expect(substance(both.snapResult)).toEqual(substance(both.fullResult));
}

let dir = '';
afterEach(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
  dir = '';
});

/** Orders 1-3 named, children SENT, acked, filled (with ExecIDs), one cancel held, one in flight by its audit alone. */
const BOOT_1: Rec[] = [
  { t: 'report', orderId: 1, side: 1, symbolId: 0, execType: ExecType.NEW },
  { t: 'report', orderId: 2, side: 2, symbolId: 1, execType: ExecType.NEW },
  { t: 'event', kind: ChildEventKind.SENT, childId: 1001, orderId: 1, venueId: 1, qty: 10, price: 99, lastQty: 0, lastPx: 0, reason: 0, hash: 0, short: false },
  { t: 'event', kind: ChildEventKind.SENT, childId: 1002, orderId: 2, venueId: 2, qty: 10, price: 98, lastQty: 0, lastPx: 0, reason: 0, hash: 0, short: false },
  { t: 'event', kind: ChildEventKind.ACKED, childId: 1001, orderId: 1, venueId: 1, qty: 10, price: 99, lastQty: 0, lastPx: 0, reason: 0, hash: 0, short: false },
  { t: 'event', kind: ChildEventKind.FILL, childId: 1001, orderId: 1, venueId: 1, qty: 10, price: 99, lastQty: 4, lastPx: 99, reason: 0, hash: 777, short: false },
  { t: 'event', kind: ChildEventKind.CANCEL_REJECTED, childId: 1002, orderId: 2, venueId: 2, qty: 10, price: 98, lastQty: 0, lastPx: 0, reason: Reason.VENUE_DOWN, hash: 0, short: false },
  { t: 'report', orderId: 3, side: 1, symbolId: 2, execType: ExecType.NEW },
  { t: 'audit', orderId: 3, symbolId: 2, side: 1, price: 97, children: [{ venueId: 1, childId: 1003, qty: 5 }], truncated: false },
];
const BOOT_2: Rec[] = [
  { t: 'event', kind: ChildEventKind.FILL, childId: 1001, orderId: 1, venueId: 1, qty: 10, price: 99, lastQty: 6, lastPx: 98, reason: 0, hash: 778, short: false },
  { t: 'event', kind: ChildEventKind.SENT, childId: 1003, orderId: 3, venueId: 1, qty: 5, price: 97, lastQty: 0, lastPx: 0, reason: 0, hash: 0, short: false },
  { t: 'report', orderId: 4, side: 2, symbolId: 0, execType: ExecType.NEW },
  { t: 'audit', orderId: 4, symbolId: 0, side: 2, price: 101, children: [{ venueId: 2, childId: 1004, qty: 3 }], truncated: false },
];

/**
 * Boot 1 (no snapshot at its start), boot 2 whose start saves the one snapshot (at its boundary),
 * and boot 3's writer opened: the snapshot is the newest, the only one, and boot 2's records the tail.
 */
function oneSnapshot(): { path: string; boundary: number } {
  dir = mkdtempSync(join(tmpdir(), 'fix-snapshot-'));
  writeBoot(dir, 1, BOOT_1);
  const journal = openBoot(dir, 2);
  const r = recoverFixStage(freshStage(), dir, ORDER_CAPACITY, store(dir));
  expect(r.snapshot).toMatchObject({ loaded: null, boundary: 1, skipped: [], error: null });
  expect(r.snapshot.saved).not.toBeNull();
  for (const rec of BOOT_2) append(journal, rec);
  journal.close();
  openBoot(dir, 3).close();
  return { path: r.snapshot.saved!, boundary: BOOT_1.length + 1 };
}

/** Full replay happened although a store was given: the snapshot was passed over for `reason`. */
function expectPassedOver(snapshots: SnapshotStore, reason: string): void {
  const both = recoverBoth(dir, snapshots);
  expect(both.snapResult.snapshot.loaded).toBeNull();
  expect(both.snapResult.snapshot.boundary).toBe(1);
  expect(both.snapResult.frames).toBe(both.fullResult.frames);
  expect(both.snapResult.snapshot.skipped).toEqual([expect.stringContaining(reason)]);
  expectSameRecovery(both);
}

describe('fix stage recovery snapshots', () => {
  it('snapshot + tail equals a full replay at every boot boundary, over generated journals of several boots (property)', () => {
    const seen = { children: 0, unnamed: 0, conflicts: 0, auditOnly: 0, execIds: 0, withoutExecId: 0, malformed: 0, live: 0 };
    fc.assert(
      fc.property(fc.array(fc.array(recArb, { minLength: 1, maxLength: 60, size: 'max' }), { minLength: 1, maxLength: 4 }), (boots) => {
        const d = mkdtempSync(join(tmpdir(), 'fix-snapshot-prop-'));
        try {
          let previous: string | null = null;
          for (let b = 0; b <= boots.length; b++) {
            // Boot b's writer first (its new segment is the boundary), then its stage recovers.
            const journal = openBoot(d, b);
            const both = recoverBoth(d, store(d));
            expect(both.snapResult.snapshot).toMatchObject({ loaded: previous, skipped: [], error: null });
            expect(both.snapResult.snapshot.saved).not.toBeNull();
            // Only the previous boot's records were replayed.
            expect(both.snapResult.frames).toBe(b === 0 ? 0 : boots[b - 1].length);
            expectSameRecovery(both);
            previous = both.snapResult.snapshot.saved;
            if (b < boots.length) for (const r of boots[b]) append(journal, r);
            journal.close();
            const f = both.fullResult;
            seen.children += f.children;
            seen.unnamed += f.unnamed;
            seen.conflicts += f.conflicts;
            seen.auditOnly += f.auditOnlyChildren;
            seen.execIds += f.execIds;
            seen.withoutExecId += f.fillsWithoutExecId;
            seen.malformed += f.malformedAudits;
            seen.live += f.liveChildren;
          }
        } finally {
          rmSync(d, { recursive: true, force: true });
        }
      }),
      { numRuns: 40, seed: 20260105 },
    );
    // The journals reached every path the snapshot has to carry.
    for (const [k, n] of Object.entries(seen)) expect(n, k).toBeGreaterThan(0);
  });

  it('reads the stage state it compares: the child table and the ExecID generations', () => {
    expect(Object.keys(stageState(freshStage()))).toEqual(expect.arrayContaining([
      'childIds', 'childOrderIds', 'childQty', 'childPrice', 'childVenue', 'childSymbol', 'childSide', 'childState', 'childCum', 'childNotional', 'childCancelWanted',
      'execIds.young.used', 'execIds.young.hashes', 'execIds.young.count', 'execIds.old.used', 'execIds.old.count',
    ]));
  });

  it('loads the snapshot and replays only the tail; the snapshot holds the state before the audit-only children are restored', () => {
    const { path, boundary } = oneSnapshot();
    const both = recoverBoth(dir, store(dir));
    expect(both.snapResult.snapshot).toMatchObject({ loaded: path, boundary, skipped: [], error: null });
    expect(both.snapResult.frames).toBe(BOOT_2.length);
    // 1003 was audit-only at boot 2's start: restored then, but its SENT in boot 2 is what counts now.
    expect(both.fullResult).toMatchObject({ children: 4, auditOnlyChildren: 1, execIds: 2, liveChildren: 3, unnamed: 0, conflicts: 0 });
    expectSameRecovery(both);
  });

  it('without a store: the whole journal, nothing saved', () => {
    oneSnapshot();
    const r = recoverFixStage(freshStage(), dir, ORDER_CAPACITY);
    expect(r.snapshot).toEqual({ loaded: null, boundary: 1, saved: null, skipped: [], error: null });
    expect(r.frames).toBe(BOOT_1.length + BOOT_2.length);
  });

  it('passes over a corrupted snapshot (a flipped byte)', () => {
    const { path } = oneSnapshot();
    const bytes = readFileSync(path);
    bytes[Math.floor(bytes.length / 2)] ^= 0x40;
    writeFileSync(path, bytes);
    expectPassedOver(store(dir), 'checksum does not hold');
  });

  it('passes over a snapshot of another configuration (fingerprint)', () => {
    oneSnapshot();
    expectPassedOver(store(dir, snapshotFingerprint({ ...CONFIG, childCapacity: 2 * CAPACITY })), 'the configuration its tables depend on changed');
  });

  it('passes over a snapshot of another layout (a payload with an extra section)', () => {
    const { path } = oneSnapshot();
    const { meta, payload } = decodeSnapshot(new Uint8Array(readFileSync(path)));
    const extra = new SnapshotWriter().number('extra', 1).finish();
    const longer = new Uint8Array(payload.length + extra.length);
    longer.set(payload, 0);
    longer.set(extra, payload.length);
    writeFileSync(path, encodeSnapshot(meta, longer));
    expectPassedOver(store(dir), 'its layout is not this version\'s');
  });

  it('takes a snapshot whose boundary segment another boot reused (boot 2 journaled nothing): the segment before it is the same', () => {
    dir = mkdtempSync(join(tmpdir(), 'fix-snapshot-'));
    writeBoot(dir, 1, BOOT_1);
    const journal = openBoot(dir, 2);
    const saved = recoverFixStage(freshStage(), dir, ORDER_CAPACITY, store(dir)).snapshot;
    expect(saved.saved).not.toBeNull();
    journal.close(); // boot 2 wrote nothing: boot 3 rewrites its segment with its own header
    const segments = listSegments(dir).length;
    writeBoot(dir, 3, BOOT_2);
    expect(listSegments(dir).length).toBe(segments);
    openBoot(dir, 4).close();
    const both = recoverBoth(dir, store(dir));
    expect(both.snapResult.snapshot).toMatchObject({ loaded: saved.saved, skipped: [], error: null });
    expect(both.snapResult.frames).toBe(BOOT_2.length);
    expectSameRecovery(both);
  });

  it('passes over a snapshot whose boundary segment is gone (the journal was started afresh)', () => {
    oneSnapshot();
    for (const index of listSegments(dir)) rmSync(join(dir, segmentFileName(index)));
    writeBoot(dir, 4, BOOT_2);
    openBoot(dir, 5).close();
    expectPassedOver(store(dir), 'the journal has no segment of its boot at its boundary');
  });

  it('a snapshot that passes the checks but does not read back: the half-restored state is reset and the whole journal replayed', () => {
    const { path } = oneSnapshot();
    const { meta, payload } = decodeSnapshot(new Uint8Array(readFileSync(path)));
    // The young generation's count (a number: not layout), read after the child table.
    const tag = Buffer.from('execIds.young.count', 'utf8');
    const at = Buffer.from(payload).indexOf(tag);
    expect(at).toBeGreaterThan(0);
    new DataView(payload.buffer, payload.byteOffset, payload.byteLength).setFloat64(at + tag.length, 12345, true);
    writeFileSync(path, encodeSnapshot(meta, payload));
    expectPassedOver(store(dir), 'execIds.young.count: 12345');
  });

  it('falls back to the older snapshot when the newest does not hold', () => {
    oneSnapshot();
    const third = recoverFixStage(freshStage(), dir, ORDER_CAPACITY, store(dir)); // at boot 3's start
    const newest = third.snapshot.saved!;
    expect(third.snapshot.loaded).not.toBeNull();
    // Boot 3's records, in its segment (a writer of the same epoch takes over the empty segment
    // as it is), then boot 4's writer; boot 4's start saved none (no recovery ran then).
    writeBoot(dir, 3, BOOT_1);
    openBoot(dir, 4).close();
    const bytes = readFileSync(newest);
    bytes[bytes.length - 1] ^= 1;
    writeFileSync(newest, bytes);
    const both = recoverBoth(dir, store(dir));
    expect(both.snapResult.snapshot.loaded).not.toBeNull();
    expect(both.snapResult.snapshot.loaded).not.toBe(newest);
    expect(both.snapResult.snapshot.skipped).toEqual([expect.stringContaining('checksum does not hold')]);
    expect(both.snapResult.frames).toBe(BOOT_2.length + BOOT_1.length);
    expectSameRecovery(both);
  });

  it('saves nothing where the replay\'s end is not a segment\'s first sequence (a journal no new writer opened)', () => {
    dir = mkdtempSync(join(tmpdir(), 'fix-snapshot-'));
    writeBoot(dir, 1, BOOT_1);
    const r = recoverFixStage(freshStage(), dir, ORDER_CAPACITY, store(dir));
    expect(r.snapshot).toEqual({ loaded: null, boundary: 1, saved: null, skipped: [], error: null });
    expect(r.frames).toBe(BOOT_1.length);
    expect(() => readdirSync(join(dir, SNAPSHOT_DIR))).toThrow();
  });

  it('saves nothing when the replay stopped early (a corrupt segment)', () => {
    dir = mkdtempSync(join(tmpdir(), 'fix-snapshot-'));
    writeBoot(dir, 1, BOOT_1);
    writeBoot(dir, 2, BOOT_2);
    const first = join(dir, segmentFileName(listSegments(dir)[0]));
    const bytes = readFileSync(first);
    bytes[bytes.length - 20] ^= 0xff; // inside the last frame of a finished segment
    writeFileSync(first, bytes);
    openBoot(dir, 3).close();
    const r = recoverFixStage(freshStage(), dir, ORDER_CAPACITY, store(dir));
    expect(r.problem).not.toBeNull();
    expect(r.snapshot).toMatchObject({ saved: null, error: null });
  });

  it('a failed save is reported and recovery goes on as a full replay', () => {
    dir = mkdtempSync(join(tmpdir(), 'fix-snapshot-'));
    writeBoot(dir, 1, BOOT_1);
    openBoot(dir, 2).close();
    writeFileSync(join(dir, SNAPSHOT_DIR), 'not a directory');
    const both = recoverBoth(dir, store(dir));
    expect(both.snapResult.snapshot.saved).toBeNull();
    expect(both.snapResult.snapshot.error).toEqual(expect.any(String));
    expectSameRecovery(both);
  });

  it('ExecIdSet: a set restored from its snapshot, rotated generations and exact entries included, goes on as the original', () => {
    const a = new ExecIdSet(16);
    const id = (n: number): Uint8Array => Buffer.from(`EXEC-${n}-${'x'.repeat(n % 60)}`);
    for (let n = 1; n <= 20; n++) {
      const b = id(n);
      if (n % 3 === 0) a.restore(1 + (n % 2), 1000 + n);
      else a.add(1 + (n % 2), b, 0, b.length);
    }
    const w = new SnapshotWriter();
    a.snapshot(w, 'x');
    const b = new ExecIdSet(16);
    b.add(1, id(99), 0, id(99).length); // overwritten by the restore
    const r = new SnapshotReader(w.finish());
    b.restoreSnapshot(r, 'x');
    r.end();
    const gens = (s: ExecIdSet) => {
      const f = s as unknown as Record<string, Record<string, unknown>>;
      const g = (x: Record<string, unknown>) => ({ ...x, bytes: undefined, exact: (x.used as Uint8Array).reduce((m, u, i) => (u === 1 ? [...m, ...(x.bytes as Uint8Array).subarray(i * MAX_EXEC_ID, (i + 1) * MAX_EXEC_ID)] : m), [] as number[]) });
      return { young: g(f.young), old: g(f.old) };
    };
    expect(gens(b)).toEqual(gens(a));
    // Both go on alike: the same answers to the same adds and restores, through further rotations.
    for (let n = 1; n <= 40; n++) {
      const x = id(n);
      expect(b.add(1 + (n % 2), x, 0, x.length)).toBe(a.add(1 + (n % 2), x, 0, x.length));
      expect(b.restore(2, 5000 + (n % 7))).toBe(a.restore(2, 5000 + (n % 7)));
    }
    expect(gens(b)).toEqual(gens(a));
  });

  it('ExecIdSet: a snapshot of another capacity does not read back', () => {
    const w = new SnapshotWriter();
    new ExecIdSet(32).snapshot(w, 'x');
    expect(() => new ExecIdSet(16).restoreSnapshot(new SnapshotReader(w.finish()), 'x')).toThrow(/does not fit/);
  });
});
