// Goal: the SOR's learned venue statistics (latency and fill probability, venue-stats.ts) come
// back from the journal exactly as the running SOR had them, across more than one restart, and
// the children still live at venues come back too, so they keep teaching the SOR. Method: the
// real SorStage stepped by hand (sor-harness.fixture.ts) through a seeded session: route
// requests in SPLIT mode, and for each child the SOR sends, what fix would report (sent, refused
// while the venue is down, acked, partial and full fills, cancels, expiries, rejects, refused
// cancels, a late fill after the end), at seeded times. Every CHILD_EVENT goes to the SOR and is
// appended to a real journal, as risk journals it. Boot 2 is a fresh stage rebuilt from the
// journal (recovery.ts): its statistics must equal boot 1's bit for bit. Boot 2 then goes on
// (the pre-crash children still live get their answers in boot 2, with another clock zero)
// and boot 3, rebuilt from both boots' journal, must equal boot 2.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CHILD_EVENT_LENGTH, ChildEventFlyweight, ChildEventKind, RecordType } from '../../codecs/records.ts';
import { FULL } from '../../engine/ring.ts';
import { Reason } from '../../engine/reasons.ts';
import { Side } from '../../engine/domain.ts';
import { JournalWriter } from '../../persistence/journal.ts';
import { Mulberry32 } from '../../engine/prng.ts';
import { recoverSorStage } from './recovery.ts';
import { SorHarness, px, venue, type OutRecord } from './sor-harness.fixture.ts';
import { SorMode } from './venue-score.ts';
import type { VenueStats } from './venue-stats.ts';

const VENUES = [null, venue(30, 300, 0.9), venue(20, 500, 0.85), venue(25, 400, 0.8)];
const WEIGHTS = { price: 0.4, latency: 0.3, fillprob: 0.2, fee: 0.1 };

interface Child { childId: number; orderId: number; venue: number; qty: number; price: number; cum: number; acked: boolean }

/** One boot: the SOR, and the fix stage played by the test, journaling what it reports. */
class Boot {
  readonly h: SorHarness;
  private readonly journal: JournalWriter;
  private readonly rng: Mulberry32;
  private readonly scratch = new Uint8Array(CHILD_EVENT_LENGTH);
  private readonly ev = new ChildEventFlyweight().wrap(new DataView(this.scratch.buffer), this.scratch, 0);
  /** Children sent and not ended, as fix sees them. */
  readonly live: Child[];
  private readonly ended: Child[] = [];
  /** Children fix refused for their slot (CHILD_TABLE_FULL). */
  slotRefusals = 0;
  /** Busts and corrections sent (TRADE_CANCEL, TRADE_CORRECT). */
  busts = 0;

  constructor(dir: string, epochMs: number, childIdBase: number, seed: number, live: Child[]) {
    this.h = new SorHarness(VENUES, WEIGHTS, { mode: SorMode.SPLIT, childIdBase, childTableBase: 0 });
    this.journal = new JournalWriter(dir, 'none', 10, 1 << 20, { engineEpochMs: epochMs });
    this.rng = new Mulberry32(seed);
    this.live = live;
    this.h.up(1, 2, 3);
    this.h.step();
  }

  /** One CHILD_EVENT, as fix emits it: to the SOR and (through risk) to the journal. */
  private emit(kind: number, c: Child, lastQty = 0, lastPx = 0, reason: number = Reason.NONE): void {
    this.ev.setChildId(c.childId).setOrderId(c.orderId).setTimeNs(this.h.clock.nowNs()).setLastQty(lastQty).setLastPxTicks(lastPx)
      .setQty(c.qty).setPriceTicks(c.price).setVenueId(c.venue).setReason(reason).setKind(kind);
    if (!this.journal.fits(CHILD_EVENT_LENGTH)) this.journal.flush(0);
    this.journal.append(RecordType.CHILD_EVENT, this.scratch, 0, CHILD_EVENT_LENGTH);
    const fix = this.h.fix;
    const at = fix.tryClaim(RecordType.CHILD_EVENT, CHILD_EVENT_LENGTH);
    if (at === FULL) throw new Error('test ring full');
    fix.bytes.set(this.scratch, at);
    fix.commit();
  }

  /**
   * Children the SOR just sent: fix sends them, or refuses them while the venue is down, or for
   * their slot (CHILD_TABLE_FULL: an older child only fix holds; the SOR routes it again).
   */
  private take(out: OutRecord[]): void {
    for (const o of out) {
      if (o.typeId !== RecordType.CHILD_NEW) continue;
      const c: Child = { childId: o.childId, orderId: o.orderId, venue: o.venueId, qty: o.qty, price: o.price, cum: 0, acked: false };
      const r = this.rng.nextInt(20);
      if (r === 0) {
        this.emit(ChildEventKind.REJECTED, c, 0, 0, Reason.VENUE_DOWN);
      } else if (r === 1) {
        this.emit(ChildEventKind.REJECTED, c, 0, 0, Reason.CHILD_TABLE_FULL);
        this.slotRefusals++;
      } else {
        this.emit(ChildEventKind.SENT, c);
        this.live.push(c);
      }
    }
  }

  /** What a venue does next with one live child. */
  private advance(i: number): void {
    const c = this.live[i];
    const r = this.rng.nextInt(10);
    const end = (kind: number, reason: number = Reason.NONE) => {
      this.emit(kind, c, 0, 0, reason);
      this.live.splice(i, 1);
      this.ended.push(c);
    };
    if (!c.acked && r < 4) {
      c.acked = true;
      this.emit(ChildEventKind.ACKED, c);
    } else if (r < 7) {
      const q = 1 + this.rng.nextInt(c.qty - c.cum);
      c.cum += q;
      this.emit(ChildEventKind.FILL, c, q, c.price);
      if (c.cum === c.qty) {
        this.live.splice(i, 1);
        this.ended.push(c);
      }
    } else if (r === 7) end(ChildEventKind.CANCELED, Reason.VENUE_CANCELED);
    else if (r === 8) end(this.rng.nextInt(2) === 0 ? ChildEventKind.EXPIRED : ChildEventKind.REJECTED, Reason.VENUE_REJECT);
    else this.emit(ChildEventKind.CANCEL_REJECTED, c);
  }

  run(steps: number): void {
    for (let n = 0; n < steps; n++) {
      this.h.clock.advanceNs(1000 * (1 + this.rng.nextInt(2000)));
      if (this.rng.nextInt(3) === 0) {
        this.h.request(this.rng.nextInt(2) === 0 ? Side.BUY : Side.SELL, { qty: 10 + this.rng.nextInt(300), price: px(10) });
        this.take(this.h.step());
      }
      for (let k = this.rng.nextInt(4); k > 0 && this.live.length > 0; k--) {
        this.h.clock.advanceNs(1000 * this.rng.nextInt(500));
        this.advance(this.rng.nextInt(this.live.length));
      }
      // Now and then a late report for a child already ended (the SOR ignores it).
      if (this.ended.length > 0 && this.rng.nextInt(25) === 0) {
        const c = this.ended[this.rng.nextInt(this.ended.length)];
        this.emit(ChildEventKind.FILL, c, 1, c.price);
      }
      // Now and then a bust or correction for a live child, answered or not yet (routing ignores
      // them, in the running SOR and in its replay alike).
      if (this.live.length > 0 && this.rng.nextInt(15) === 0) {
        const c = this.live[this.rng.nextInt(this.live.length)];
        this.emit(this.rng.nextInt(2) === 0 ? ChildEventKind.TRADE_CANCEL : ChildEventKind.TRADE_CORRECT, c, 1, c.price);
        this.busts++;
      }
      this.take(this.h.step()); // re-routes of what a venue refused or canceled
    }
    this.journal.flush(0);
  }

  close(): void {
    this.journal.close();
  }
}

function statsOf(s: VenueStats): Record<string, number[]> {
  return {
    latencyUs: [...s.latencyUs], fillProb: [...s.fillProb], sent: [...s.sent], sentQty: [...s.sentQty],
    latencySamples: [...s.latencySamples], ended: [...s.ended], filledQty: [...s.filledQty],
  };
}

function liveIds(h: SorHarness): number[] {
  const c = h.stage.children;
  const ids: number[] = [];
  for (let s = 0; s < c.capacity; s++) if (c.live[s] === 1) ids.push(c.childId[s]);
  return ids.sort((a, b) => a - b);
}

let dir = '';
afterEach(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
  dir = '';
});

describe('SOR recovery of venue statistics from the journal', () => {
  it('stats after replay equal the running SOR\'s, bit for bit, over three boots', () => {
    const seed = 20261121;
    dir = mkdtempSync(join(tmpdir(), 'sor-recovery-'));
    const b1 = new Boot(dir, 1_700_000_000_000, 1_000_000, seed, []);
    b1.run(1500);
    b1.close();
    const before = statsOf(b1.h.stage.stats);
    // The session taught the SOR something, on every venue.
    for (let v = 1; v <= 3; v++) {
      expect(before.latencySamples[v]).toBeGreaterThan(20);
      expect(before.ended[v]).toBeGreaterThan(20);
      expect(before.latencyUs[v]).not.toBe(VENUES[v]!.latencyUs);
      expect(before.fillProb[v]).not.toBe(VENUES[v]!.fillProbability);
    }
    expect(b1.live.length).toBeGreaterThan(0);
    expect(b1.slotRefusals).toBeGreaterThan(0);
    expect(b1.busts).toBeGreaterThan(0);
    expect(liveIds(b1.h)).toEqual(b1.live.map((c) => c.childId).sort((a, b) => a - b));

    // Boot 2 on the same journal.
    const b2 = new Boot(dir, 1_700_000_100_000, 2_000_000, seed + 1, b1.live);
    const r2 = recoverSorStage(b2.h.stage, dir);
    expect(statsOf(b2.h.stage.stats)).toEqual(before);
    expect(r2).toMatchObject({ liveChildren: b1.live.length, conflicts: 0, problem: null });
    expect(liveIds(b2.h)).toEqual(liveIds(b1.h));

    // Boot 2 trades on; the pre-crash children are answered on its clock.
    b2.run(800);
    b2.close();
    const after2 = statsOf(b2.h.stage.stats);
    expect(after2.ended.reduce((a, b) => a + b)).toBeGreaterThan(before.ended.reduce((a, b) => a + b));

    const b3 = new Boot(dir, 1_700_000_200_000, 3_000_000, seed + 2, []);
    const r3 = recoverSorStage(b3.h.stage, dir);
    expect(statsOf(b3.h.stage.stats)).toEqual(after2);
    expect(r3.liveChildren).toBe(b2.live.length);
    expect(liveIds(b3.h)).toEqual(liveIds(b2.h));
    b3.close();
  });

  it('puts a live child back at its own slot; one whose slot another live child holds is a conflict, not moved', () => {
    dir = mkdtempSync(join(tmpdir(), 'sor-recovery-'));
    const journal = new JournalWriter(dir, 'none', 10, 1 << 20, { engineEpochMs: 1 });
    const scratch = new Uint8Array(CHILD_EVENT_LENGTH);
    const ev = new ChildEventFlyweight().wrap(new DataView(scratch.buffer), scratch, 0);
    // 16 slots: children 5 and 21 share one, 6 has its own.
    for (const childId of [5, 21, 6]) {
      ev.setChildId(childId).setOrderId(childId).setTimeNs(0).setQty(10).setPriceTicks(px(10)).setVenueId(1).setKind(ChildEventKind.SENT);
      journal.append(RecordType.CHILD_EVENT, scratch, 0, CHILD_EVENT_LENGTH);
    }
    journal.flush(0);
    journal.close();
    const h = new SorHarness(VENUES, WEIGHTS, { childTableBase: 0, childCapacity: 16 });
    expect(recoverSorStage(h.stage, dir)).toMatchObject({ liveChildren: 2, conflicts: 1, problem: null });
    const c = h.stage.children;
    expect(c.slotOf(5)).toBe((5 - c.base) % 16);
    expect(c.slotOf(6)).toBe((6 - c.base) % 16);
    expect(c.slotOf(21)).toBe(-1);
    expect(liveIds(h)).toEqual([5, 6]);
  });

  it('an empty journal leaves the configured priors', () => {
    dir = mkdtempSync(join(tmpdir(), 'sor-recovery-'));
    const h = new SorHarness(VENUES, WEIGHTS, { childTableBase: 0 });
    const r = recoverSorStage(h.stage, dir);
    expect(r).toMatchObject({ frames: 0, liveChildren: 0, problem: null });
    expect([...h.stage.stats.latencyUs]).toEqual([0, 300, 500, 400]);
    expect([...h.stage.stats.fillProb]).toEqual([0, 0.9, 0.85, 0.8]);
  });
});
