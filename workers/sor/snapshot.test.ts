// Goal: a SOR recovered from its newest recovery snapshot plus the journal after it is, bit for
// bit, the SOR a replay of the whole journal gives (learned statistics, counts, the children put
// back in the child table, the result's counters), over any number of boots, snapshot after
// snapshot; a snapshot that does not hold (corrupt, another configuration, other priors or
// alpha, another layout, its journal segment gone or rewritten by another boot) is passed over
// with its reason, and nothing is saved where the state would not be the journal's up to the
// boundary (no segment starts there, the replay stopped early); a failed save does not stop
// recovery.
// Method: journals of child events written directly (recovery reads nothing else), adversarial
// on purpose: a small pool of child ids shared by every boot (children live across restarts,
// answered in later boots; a 16-slot child table, so put-back children contest slots), every
// event kind and reject reason, overfills, late and unknown events, venues not configured, other
// record types, empty boots (whose segment the next boot's writer reuses), boots sharing an
// engine epoch (a latency sample across them then counts). Each boot opens a new JournalWriter
// (a new segment), and at its start a fresh stage recovers with a SnapshotStore (loading the
// previous boot's snapshot, saving its own) and another by full replay: the two must agree.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { CHILD_EVENT_LENGTH, ChildEventFlyweight, ChildEventKind, QUOTE_LENGTH, RecordType } from '../../codecs/records.ts';
import { Mulberry32 } from '../../engine/prng.ts';
import { Reason } from '../../engine/reasons.ts';
import { FRAME_HEADER_LENGTH, JournalWriter, MIN_SEGMENT_BYTES, SEGMENT_HEADER_LENGTH, journalHeaders, listSegments, segmentFileName } from '../../persistence/journal.ts';
import { SNAPSHOT_DIR, SnapshotStore, SnapshotWriter, decodeSnapshot, encodeSnapshot } from '../../persistence/snapshot.ts';
import { rebasedEwma, recoverSorStage, type SorRecoveryResult } from './recovery.ts';
import { SorHarness, px, venue } from './sor-harness.fixture.ts';
import type { SorConfig, VenueProfile } from './sor-stage.ts';

const VENUES = [null, venue(30, 300, 0.9), venue(20, 500, 0.85), venue(25, 400, 0.8)];
const WEIGHTS = { price: 0.4, latency: 0.3, fillprob: 0.2, fee: 0.1 };
const FINGERPRINT = 'sor-snapshot-test';
const EPOCH = 1_700_000_000_000;
/** Child ids 1001..1024: shared by every boot, two per slot of the 16-slot child table. */
const CHILD_POOL = 24;

/** One journal frame of a boot: a child event, or a frame of another type (ignored by the SOR). */
interface Op {
  other: boolean;
  kind: number;
  reason: number;
  child: number;
  venue: number;
  qty: number;
  lastQty: number;
  /** Nanoseconds the boot's clock moves before it. */
  dt: number;
}

interface BootPlan {
  /** The boot's engine epoch is EPOCH + epoch * 100 s: boots may share one. */
  epoch: number;
  ops: Op[];
}

const KINDS = [
  ChildEventKind.SENT, ChildEventKind.ACKED, ChildEventKind.FILL, ChildEventKind.CANCELED, ChildEventKind.REJECTED,
  ChildEventKind.CANCEL_REJECTED, ChildEventKind.EXPIRED,
];
const REASONS = [Reason.NONE, Reason.VENUE_DOWN, Reason.CHILD_TABLE_FULL, Reason.VENUE_REJECT];

/** Frames of a boot: SENT and FILL most often, every other kind and reason, 1 in 12 of another type. */
const op: fc.Arbitrary<Op> = fc
  .record({
    pick: fc.integer({ min: 0, max: 99 }),
    kind: fc.constantFrom(...KINDS),
    reason: fc.constantFrom(...REASONS),
    child: fc.integer({ min: 1, max: CHILD_POOL }),
    // 0 and 4 are not configured venues: their events are not the SOR's.
    venue: fc.oneof({ weight: 12, arbitrary: fc.integer({ min: 1, max: 3 }) }, { weight: 1, arbitrary: fc.constantFrom(0, 4) }),
    qty: fc.integer({ min: 1, max: 40 }),
    lastQty: fc.integer({ min: 0, max: 45 }),
    dt: fc.integer({ min: 0, max: 3_000_000 }),
  })
  .map(({ pick, kind, reason, child, venue: v, qty, lastQty, dt }) => ({
    other: pick < 8,
    kind: pick < 38 ? ChildEventKind.SENT : pick < 60 ? ChildEventKind.FILL : kind,
    reason, child, venue: v, qty, lastQty, dt,
  }));

const bootArb: fc.Arbitrary<BootPlan> = fc.record({
  epoch: fc.integer({ min: 0, max: 3 }),
  ops: fc.oneof({ weight: 1, arbitrary: fc.constant<Op[]>([]) }, { weight: 6, arbitrary: fc.array(op, { minLength: 1, maxLength: 200, size: 'max' }) }),
});

/** The same kind of frames from a seeded generator (for the long journals). */
function randomOps(rng: Mulberry32, n: number): Op[] {
  const out: Op[] = [];
  for (let i = 0; i < n; i++) {
    const pick = rng.nextInt(100);
    out.push({
      other: pick < 8,
      kind: pick < 38 ? ChildEventKind.SENT : pick < 60 ? ChildEventKind.FILL : KINDS[rng.nextInt(KINDS.length)],
      reason: REASONS[rng.nextInt(REASONS.length)],
      child: 1 + rng.nextInt(CHILD_POOL),
      venue: rng.nextInt(13) === 0 ? 4 * rng.nextInt(2) : 1 + rng.nextInt(3),
      qty: 1 + rng.nextInt(40),
      lastQty: rng.nextInt(46),
      dt: rng.nextInt(3_000_001),
    });
  }
  return out;
}

const scratch = new Uint8Array(Math.max(CHILD_EVENT_LENGTH, QUOTE_LENGTH));
const ev = new ChildEventFlyweight().wrap(new DataView(scratch.buffer), scratch, 0);

/** A boot's journal writer: a new segment (stamped with the boot's epoch) before its stages recover. */
function openBoot(dir: string, epoch: number, segmentBytes = 1 << 20): JournalWriter {
  return new JournalWriter(dir, 'none', 10, 1 << 20, { engineEpochMs: EPOCH + epoch * 100_000, segmentBytes });
}

/** Appends a boot's frames as risk journals what fix reports, then stops the boot. */
function runBoot(journal: JournalWriter, ops: Op[]): void {
  let timeNs = 10_000_000;
  for (const o of ops) {
    timeNs += o.dt;
    const length = o.other ? QUOTE_LENGTH : CHILD_EVENT_LENGTH;
    scratch.fill(0);
    if (!o.other) {
      const childId = 1000 + o.child;
      const reason = o.kind === ChildEventKind.REJECTED ? o.reason : Reason.NONE;
      ev.setChildId(childId).setOrderId(childId).setTimeNs(timeNs).setLastQty(o.kind === ChildEventKind.FILL ? o.lastQty : 0).setLastPxTicks(px(10))
        .setQty(o.qty).setPriceTicks(px(10) + o.child).setVenueId(o.venue).setReason(reason).setKind(o.kind);
    }
    if (!journal.fits(length)) journal.flush(0);
    journal.append(o.other ? RecordType.QUOTE : RecordType.CHILD_EVENT, scratch, 0, length);
  }
  journal.flush(0);
  journal.close();
}

function harness(extra: Partial<SorConfig> = {}, venues: (VenueProfile | null)[] = VENUES): SorHarness {
  return new SorHarness(venues, WEIGHTS, { childTableBase: 0, childCapacity: 16, planCapacity: 64, statsAlpha: 0.25, ...extra }, 1 << 16);
}

/** A fresh stage recovered from `dir`, with a store (`fingerprint`) or by full replay (null). */
function recover(dir: string, fingerprint: string | null, extra: Partial<SorConfig> = {}, venues: (VenueProfile | null)[] = VENUES): { h: SorHarness; r: SorRecoveryResult } {
  const h = harness(extra, venues);
  const r = recoverSorStage(h.stage, dir, fingerprint === null ? null : new SnapshotStore(dir, fingerprint));
  return { h, r };
}

function bits(a: Float64Array): Uint8Array {
  return new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}

/** Everything recovery builds in the stage: the statistics (also as bits) and the child table. */
function stateOf(h: SorHarness): Record<string, unknown> {
  const s = h.stage.stats;
  const c = h.stage.children;
  return {
    latencyUs: s.latencyUs, fillProb: s.fillProb, sent: s.sent, sentQty: s.sentQty, latencySamples: s.latencySamples, ended: s.ended, filledQty: s.filledQty,
    statBits: [s.latencyUs, s.fillProb, s.sent, s.sentQty, s.latencySamples, s.ended, s.filledQty].map(bits),
    alpha: s.alpha,
    childId: c.childId, plan: c.plan, venue: c.venue, qty: c.qty, cumQty: c.cumQty, nextSibling: c.nextSibling, priceTicks: c.priceTicks,
    quotesAtDecision: c.quotesAtDecision, sentNs: c.sentNs, tif: c.tif, live: c.live, liveCount: c.liveCount, answered: c.answered, fallback: c.fallback,
  };
}

/** The result's substantive fields (frames: what this start read, compared apart). */
function substance(r: SorRecoveryResult): Record<string, unknown> {
  return { childEvents: r.childEvents, latencySamples: r.latencySamples, endedChildren: r.endedChildren, liveChildren: r.liveChildren, conflicts: r.conflicts, problem: r.problem };
}

/** Recovered from the store and by full replay: the same stage, the same result. */
function expectSame(viaStore: { h: SorHarness; r: SorRecoveryResult }, full: { h: SorHarness; r: SorRecoveryResult }): void {
  expect(stateOf(viaStore.h)).toEqual(stateOf(full.h));
  expect(substance(viaStore.r)).toEqual(substance(full.r));
  // Read from the boundary on: the frames before it are boundary - 1.
  expect(viaStore.r.frames).toBe(full.r.frames - (viaStore.r.snapshot.boundary - 1));
  expect(full.r.snapshot).toEqual({ loaded: null, boundary: 1, saved: null, skipped: [], error: null });
}

let dir = '';
afterEach(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
  dir = '';
});

function tempDir(): string {
  dir = mkdtempSync(join(tmpdir(), 'sor-snapshot-'));
  return dir;
}

/**
 * Boots on one journal, each recovering with the store at its start (checked against a full
 * replay there), then one more start. Returns the last start's recoveries.
 */
function bootsWithSnapshots(d: string, boots: BootPlan[], segmentBytes?: number): { viaStore: { h: SorHarness; r: SorRecoveryResult }; full: { h: SorHarness; r: SorRecoveryResult } } {
  let previous: { saved: string | null; boundary: number; wroteFrames: boolean } | null = null;
  let last: ReturnType<typeof bootsWithSnapshots> | null = null;
  for (let k = 0; k <= boots.length; k++) {
    const journal = openBoot(d, k < boots.length ? boots[k].epoch : 9, segmentBytes);
    const viaStore = recover(d, FINGERPRINT);
    const full = recover(d, null);
    expectSame(viaStore, full);
    const s = viaStore.r.snapshot;
    expect(s.error).toBeNull();
    // The boundary is this boot's segment start: saved.
    expect(s.saved).not.toBeNull();
    if (previous !== null && previous.wroteFrames) {
      // The previous boot's segment still starts at its boundary, with its epoch: its snapshot is taken.
      expect(s).toMatchObject({ loaded: previous.saved, boundary: previous.boundary, skipped: [] });
    }
    const savedBoundary = Number(/-(\d{16})\.snap$/.exec(s.saved!)![1]);
    last = { viaStore, full };
    if (k < boots.length) {
      runBoot(journal, boots[k].ops);
      previous = { saved: s.saved, boundary: savedBoundary, wroteFrames: boots[k].ops.length > 0 };
    } else {
      journal.close();
    }
  }
  return last!;
}

describe('SOR recovery snapshots', () => {
  it('snapshot + tail equals the full replay at every boot, snapshot after snapshot (property)', () => {
    let loadedWithLive = 0;
    let conflicts = 0;
    let sharedEpoch = 0;
    let learned = 0;
    fc.assert(
      fc.property(fc.array(bootArb, { minLength: 1, maxLength: 5, size: 'max' }), (boots) => {
        const d = mkdtempSync(join(tmpdir(), 'sor-snapshot-'));
        try {
          const { viaStore } = bootsWithSnapshots(d, boots);
          if (viaStore.r.snapshot.loaded !== null && viaStore.r.liveChildren > 0) loadedWithLive++;
          if (viaStore.r.conflicts > 0) conflicts++;
          const stats = viaStore.h.stage.stats;
          if (viaStore.r.endedChildren > 20 && viaStore.r.latencySamples > 5 && stats.filledQty.some((q) => q > 0)) learned++;
          if (new Set(boots.map((b) => b.epoch)).size < boots.length) sharedEpoch++;
        } finally {
          rmSync(d, { recursive: true, force: true });
        }
      }),
      { numRuns: 60, seed: 20261122 },
    );
    // The runs exercised what matters: children live across a snapshot, contested slots, shared
    // epochs, statistics learned from many children.
    expect(learned).toBeGreaterThan(15);
    expect(loadedWithLive).toBeGreaterThan(20);
    expect(conflicts).toBeGreaterThan(5);
    expect(sharedEpoch).toBeGreaterThan(10);
  });

  it('long boots whose tails span several journal segments', () => {
    const d = tempDir();
    const rng = new Mulberry32(20261123);
    const boots = [0, 1, 2, 3].map((epoch) => ({ epoch, ops: randomOps(rng, 2500) }));
    const { viaStore } = bootsWithSnapshots(d, boots, MIN_SEGMENT_BYTES);
    expect(listSegments(d).length).toBeGreaterThan(10);
    expect(viaStore.r.snapshot.loaded).not.toBeNull();
    expect(viaStore.r.latencySamples).toBeGreaterThan(100);
    expect(viaStore.r.endedChildren).toBeGreaterThan(1000);
    // Two per stage kept.
    expect(readdirSync(join(d, SNAPSHOT_DIR)).sort()).toHaveLength(2);
  });

  /** Two boots with frames, each saving a snapshot, and a third start's writer open. */
  function twoBoots(d: string, withStore = true): { journal: JournalWriter; newest: string } {
    const rng = new Mulberry32(7);
    let newest = '';
    for (let k = 0; k < 2; k++) {
      const journal = openBoot(d, k);
      if (withStore || k === 1) newest = recover(d, FINGERPRINT).r.snapshot.saved!;
      runBoot(journal, randomOps(rng, 400));
    }
    return { journal: openBoot(d, 2), newest };
  }

  /**
   * Recovered with the store: no snapshot taken, the reasons given, the same as a full replay.
   * Returns the snapshot this start saved (at its own boundary).
   */
  function expectPassedOver(d: string, reasons: RegExp[], extra: Partial<SorConfig> = {}, venues: (VenueProfile | null)[] = VENUES, fingerprint = FINGERPRINT): string {
    const viaStore = recover(d, fingerprint, extra, venues);
    expectSame(viaStore, recover(d, null, extra, venues));
    expect(viaStore.r.snapshot.loaded).toBeNull();
    expect(viaStore.r.snapshot.boundary).toBe(1);
    expect(viaStore.r.snapshot.skipped).toHaveLength(reasons.length);
    reasons.forEach((re, i) => expect(viaStore.r.snapshot.skipped[i]).toMatch(re));
    expect(viaStore.r.snapshot.saved).not.toBeNull();
    return viaStore.r.snapshot.saved!;
  }

  it('passes over a corrupted snapshot file', () => {
    const d = tempDir();
    const { journal, newest } = twoBoots(d, false);
    const file = readFileSync(newest);
    file[file.length >> 1] ^= 0x40;
    writeFileSync(newest, file);
    expectPassedOver(d, [/checksum does not hold/]);
    journal.close();
  });

  it('passes over a snapshot of another configuration (fingerprint)', () => {
    const d = tempDir();
    const { journal } = twoBoots(d);
    expectPassedOver(d, [/configuration its tables depend on changed/, /configuration its tables depend on changed/], {}, VENUES, 'another-fingerprint');
    journal.close();
  });

  it('passes over a snapshot of another layout: an extra section, or another venue count', () => {
    const d = tempDir();
    const { journal, newest } = twoBoots(d, false);
    const { meta, payload } = decodeSnapshot(new Uint8Array(readFileSync(newest)));
    const extra = new SnapshotWriter().number('extra', 1).finish();
    const longer = new Uint8Array(payload.length + extra.length);
    longer.set(payload);
    longer.set(extra, payload.length);
    writeFileSync(newest, encodeSnapshot(meta, longer));
    rmSync(expectPassedOver(d, [/layout is not this version's/]));
    // The file untouched, read by a stage with a fourth venue (same fingerprint, for the test).
    writeFileSync(newest, encodeSnapshot(meta, payload));
    expectPassedOver(d, [/layout is not this version's/], {}, [...VENUES, venue(10, 350, 0.7)]);
    journal.close();
  });

  it('passes over a snapshot learned under another alpha, before restoring anything', () => {
    const d = tempDir();
    const { journal, newest } = twoBoots(d, false);
    // The start that passed it over saved its own snapshot, at its boundary: removed, so the
    // next start sees the one under test only.
    rmSync(expectPassedOver(d, [/learned under sor.statsAlpha 0.25, not 0.2/], { statsAlpha: 0.2 }));
    // And under the same one it is taken.
    const viaStore = recover(d, FINGERPRINT);
    expect(viaStore.r.snapshot.loaded).toBe(newest);
    expect(viaStore.r.rebasedFromOtherPriors).toBe(false);
    expectSame(viaStore, recover(d, null));
    journal.close();
  });

  it('takes a snapshot learned under other venue priors, rebased: what a full replay under the new priors learns, to within rounding, and the rest bit for bit, with the journal before it gone (property)', () => {
    const prior = fc.record({ latencyUs: fc.integer({ min: 1, max: 5000 }), fill: fc.integer({ min: 1, max: 100 }) });
    let moved = 0;
    let pruned = 0;
    fc.assert(
      fc.property(
        fc.array(bootArb, { minLength: 1, maxLength: 3, size: 'max' }), fc.array(fc.option(prior, { nil: null }), { minLength: 3, maxLength: 3 }), fc.integer({ min: 1, max: 1000 }),
        (boots, changes, tailSeed) => {
          const d = mkdtempSync(join(tmpdir(), 'sor-snapshot-'));
          try {
            // Boots under the old priors; the last start saved a snapshot at its boundary, and the
            // boot after it journals a tail, learned under the new priors once they apply.
            bootsWithSnapshots(d, boots);
            const snapshots = readdirSync(join(d, SNAPSHOT_DIR)).sort();
            const original = join(d, SNAPSHOT_DIR, snapshots[snapshots.length - 1]);
            const originalBytes = readFileSync(original);
            runBoot(openBoot(d, 5), randomOps(new Mulberry32(tailSeed), 150));
            // The configuration changes some venues' priors (latencyUs, fillProbability) for the next start.
            const venues = VENUES.map((v, i) => (v === null || changes[i - 1] === null ? v : { ...v, latencyUs: changes[i - 1]!.latencyUs, fillProbability: changes[i - 1]!.fill / 100 }));
            const changed = venues.some((v, i) => v !== null && (v.latencyUs !== VENUES[i]!.latencyUs || v.fillProbability !== VENUES[i]!.fillProbability));
            const journal = openBoot(d, 6);
            const full = recover(d, null, {}, venues);
            const viaStore = recover(d, FINGERPRINT, {}, venues);
            expect(viaStore.r.snapshot.loaded).toBe(original);
            expect(viaStore.r.snapshot.skipped).toEqual([]);
            expect(viaStore.r.rebasedFromOtherPriors).toBe(changed);
            const a = stateOf(viaStore.h);
            const b = stateOf(full.h);
            // The EWMAs within rounding of the full replay's (relative 1e-9); everything else exact.
            for (const k of ['latencyUs', 'fillProb'] as const) {
              const x = a[k] as Float64Array;
              const y = b[k] as Float64Array;
              for (let v = 0; v < x.length; v++) expect(Math.abs(x[v] - y[v])).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(y[v])));
            }
            if (changed && viaStore.r.latencySamples > 0 && viaStore.r.endedChildren > 0) moved++;
            const { latencyUs: _l1, fillProb: _f1, statBits: _s1, ...restA } = a;
            const { latencyUs: _l2, fillProb: _f2, statBits: _s2, ...restB } = b;
            expect(restA).toEqual(restB);
            expect(substance(viaStore.r)).toEqual(substance(full.r));
            // The same from that snapshot alone (the one this start saved, under the new priors,
            // removed), once the segments before its boundary are gone as journal.retention
            // prunes them (all but the one just before it, which tells a reused boundary segment
            // from a rewritten one): a full replay could no longer be had.
            for (const f of readdirSync(join(d, SNAPSHOT_DIR))) if (join(d, SNAPSHOT_DIR, f) !== original) rmSync(join(d, SNAPSHOT_DIR, f));
            expect(readFileSync(original).equals(originalBytes)).toBe(true);
            const boundary = viaStore.r.snapshot.boundary;
            const segments = journalHeaders(d);
            const before = segments.filter((_, i) => i + 2 < segments.length && segments[i + 2].firstSequence <= boundary);
            for (const seg of before) rmSync(join(d, segmentFileName(seg.index)));
            if (before.length > 0) pruned++;
            const fromSnapshot = recover(d, FINGERPRINT, {}, venues);
            expect(fromSnapshot.r.snapshot.loaded).toBe(original);
            expect(fromSnapshot.r.rebasedFromOtherPriors).toBe(changed);
            expect(stateOf(fromSnapshot.h)).toEqual(stateOf(viaStore.h));
            journal.close();
          } finally {
            rmSync(d, { recursive: true, force: true });
          }
        },
      ),
      { numRuns: 30, seed: 20261123 },
    );
    // Runs where a changed prior had been learned away from, and where segments were pruned.
    expect(moved).toBeGreaterThan(5);
    expect(pruned).toBeGreaterThan(10);
  });

  it('rebasedEwma: an EWMA learned from one prior, rebased, is the EWMA learned from another over the same samples (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 10_000, noNaN: true }), fc.double({ min: 0, max: 10_000, noNaN: true }),
        fc.integer({ min: 1, max: 100 }), fc.array(fc.double({ min: 0, max: 10_000, noNaN: true }), { maxLength: 300 }),
        (p0, p1, alphaPct, samples) => {
          const alpha = alphaPct / 100;
          let a = p0;
          let b = p1;
          for (const x of samples) {
            a += alpha * (x - a);
            b += alpha * (x - b);
          }
          const r = rebasedEwma(a, p0, p1, alpha, samples.length);
          return Math.abs(r - b) <= 1e-9 * Math.max(1, Math.abs(b)) && (samples.length > 0 || Object.is(r, p1));
        },
      ),
      { numRuns: 300, seed: 11 },
    );
  });

  it('takes a snapshot whose boundary segment another boot reused (the segment before it is the same); passes over one whose segment is gone', () => {
    const d = tempDir();
    runBoot(openBoot(d, 0), randomOps(new Mulberry32(5), 300));
    // Boot 2 saves its snapshot and writes nothing: boot 3's writer reuses its segment, with boot 3's epoch.
    const j2 = openBoot(d, 1);
    const saved2 = recover(d, FINGERPRINT).r.snapshot.saved!;
    j2.close();
    const j3 = openBoot(d, 2);
    const viaStore = recover(d, FINGERPRINT);
    expect(viaStore.r.snapshot).toMatchObject({ loaded: saved2, skipped: [], error: null });
    expect(viaStore.r.frames).toBe(0);
    expectSame(viaStore, recover(d, null));
    // Boot 3 saves its own at the same boundary (the same file).
    expect(viaStore.r.snapshot.saved).toBe(saved2);
    runBoot(j3, randomOps(new Mulberry32(6), 300));
    // The journal cleared, the snapshots left behind: no segment starts at their boundaries.
    for (const index of listSegments(d)) rmSync(join(d, segmentFileName(index)));
    const j4 = openBoot(d, 3);
    expectPassedOver(d, [/no segment of its boot at its boundary/]);
    j4.close();
  });

  it('a snapshot that fails half-way through its restore leaves no trace: a full replay instead', () => {
    const d = tempDir();
    const { journal, newest } = twoBoots(d, false);
    const { meta } = decodeSnapshot(new Uint8Array(readFileSync(newest)));
    // The right layout and priors, nonsense statistics, then a live list that is not whole children.
    const fresh = harness().stage.stats;
    const w = new SnapshotWriter().array('priors.latencyUs', fresh.latencyUs).array('priors.fillProb', fresh.fillProb).number('alpha', fresh.alpha);
    for (const tag of ['latencyUs', 'fillProb', 'sent', 'sentQty', 'latencySamples', 'ended', 'filledQty']) w.array(`stats.${tag}`, new Float64Array(4).fill(42));
    w.list('live', new Float64Array(7).fill(1)).number('count.childEvents', 5).number('count.latencySamples', 5).number('count.endedChildren', 5);
    writeFileSync(newest, encodeSnapshot(meta, w.finish()));
    expectPassedOver(d, [/live: 7 numbers, not 8 per child/]);
    journal.close();
  });

  it('saves nothing where no segment starts (a journal no writer of this start opened)', () => {
    const d = tempDir();
    runBoot(openBoot(d, 0), randomOps(new Mulberry32(3), 200));
    const viaStore = recover(d, FINGERPRINT);
    expectSame(viaStore, recover(d, null));
    expect(viaStore.r.snapshot).toEqual({ loaded: null, boundary: 1, saved: null, skipped: [], error: null });
    expect(existsSync(join(d, SNAPSHOT_DIR))).toBe(false);
  });

  it('saves nothing when the replay stopped early, even right at a segment start', () => {
    const d = tempDir();
    runBoot(openBoot(d, 0), randomOps(new Mulberry32(4), 200));
    const journal = openBoot(d, 1);
    // The first frame of segment 1 is corrupt: the replay stops at sequence 1, a segment's start.
    const path = join(d, segmentFileName(1));
    const seg = readFileSync(path);
    seg[SEGMENT_HEADER_LENGTH + FRAME_HEADER_LENGTH + 2] ^= 0xff;
    writeFileSync(path, seg);
    const viaStore = recover(d, FINGERPRINT);
    expect(viaStore.r.problem).not.toBeNull();
    expect(viaStore.r.frames).toBe(0);
    expect(viaStore.r.snapshot.saved).toBeNull();
    expect(existsSync(join(d, SNAPSHOT_DIR))).toBe(false);
    journal.close();
  });

  it('a save that fails is reported, and recovery goes on', () => {
    const d = tempDir();
    const { journal } = twoBoots(d, false);
    rmSync(join(d, SNAPSHOT_DIR), { recursive: true });
    writeFileSync(join(d, SNAPSHOT_DIR), 'not a directory');
    const viaStore = recover(d, FINGERPRINT);
    expectSame(viaStore, recover(d, null));
    expect(viaStore.r.snapshot).toMatchObject({ loaded: null, saved: null, skipped: [] });
    expect(viaStore.r.snapshot.error).toMatch(/EEXIST|ENOTDIR/);
    journal.close();
  });
});
