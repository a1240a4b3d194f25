/**
 * Recovery of the SOR's learned venue statistics (venue-stats.ts: latency and fill probability,
 * EWMAs from the configured priors) and of the children still live at venues, from the journal,
 * before the stage's first duty cycle.
 *
 * What determines the statistics: nothing but the CHILD_EVENT stream the SOR receives from fix
 * (its copies, market-data.ts SorFeed) and the quantity of each child. Risk journals every
 * CHILD_EVENT fix sends it, verbatim and in the order fix emitted them, which is the order the
 * SOR received its copies in; each event carries the child's venue and quantity and the fix
 * thread's clock (timeNs). So the journal holds everything the statistics depend on, and this
 * replay applies exactly the SOR's rules (sor-stage.ts onChildEvent / childEnded):
 *
 *   SENT              the child is live; its send time is the event's timeNs; onSent.
 *   first other event (not CANCEL_REJECTED) of a live child: one latency sample, event time minus
 *                     send time, when both were stamped in the same boot (a clock of another boot
 *                     has another zero, and a round trip across a restart is not the venue's).
 *   FILL              cumQty += lastQty unless it would overfill (the SOR ignores those too);
 *                     the child ends when filled.
 *   CANCELED, REJECTED, EXPIRED   the child ends: onEnded(venue, qty, cumQty).
 *   REJECTED, reason VENUE_DOWN, of a child never SENT: the SOR claimed it and fix refused it
 *                     before sending (venue down): onSent, then onEnded with nothing filled.
 *   REJECTED, reason CHILD_TABLE_FULL, of a child never SENT: fix refused it for its slot; the
 *                     SOR took its onSent back (onWithdrawn), so nothing is counted.
 * Children of earlier boots that are still live are put back in the stage's child table with no
 * plan (as the SOR keeps children whose route is closed, for the statistics), so what the venues
 * do with them after the restart keeps teaching the SOR, and a replay of the next boot's journal
 * gives the same figures again.
 *
 * Children the journal knows only from their ROUTE_AUDIT (in flight at a crash: audit-children.ts)
 * are restored by risk and fix, not here: what their venue says of them answers a reconciliation,
 * not a round trip (their live boot counted them in onSent when it claimed them; the replay,
 * which follows SENT events, does not: a difference of one sent child per child in flight).
 *
 * ROUTE_AUDIT records also carry each venue's latency and fill probability, but only as they
 * were at each decision (not updated by what followed), and they reach the journal on another
 * ring, unordered against the child events: they are not used. The priors and alpha are this
 * boot's configuration; had they changed since, the figures are those the new configuration
 * would have learned from the same children.
 *
 * Start-up only: allocates freely (a map of live children), not the hot path.
 */
import { ChildEventFlyweight, ChildEventKind, RecordType } from '../../codecs/records.ts';
import { Tif } from '../../engine/domain.ts';
import { Reason } from '../../engine/reasons.ts';
import { replayJournal, type FrameHandler } from '../../persistence/journal-reader.ts';
import { NO_PLAN } from './route-plan.ts';
import type { SorStage } from './sor-stage.ts';
import type { VenueStats } from './venue-stats.ts';

export interface SorRecoveryResult {
  frames: number;
  /** Child events applied to the statistics. */
  childEvents: number;
  /** Latency samples and ended children learned from. */
  latencySamples: number;
  endedChildren: number;
  /** Children still live at venues, put back in the child table. */
  liveChildren: number;
  /** Live children whose slot another live child held: not put back (counted). */
  conflicts: number;
  problem: string | null;
}

/** A child live at a venue, as the replay follows it. */
interface LiveChild {
  venue: number;
  qty: number;
  priceTicks: number;
  cumQty: number;
  sentNs: number;
  /** Engine epoch (ms) of the boot that stamped sentNs. */
  epochMs: number;
  answered: boolean;
}

/** Applies the SOR's learning rules to journaled CHILD_EVENTs. */
class SorStatsReplay implements FrameHandler {
  readonly stats: VenueStats;
  readonly live = new Map<number, LiveChild>();
  private readonly venueCount: number;
  private readonly ev = new ChildEventFlyweight();
  childEvents = 0;
  latencySamples = 0;
  endedChildren = 0;

  constructor(stats: VenueStats) {
    this.stats = stats;
    this.venueCount = stats.latencyUs.length;
  }

  onFrame(typeId: number, _sequence: number, epochMs: number, view: DataView, bytes: Uint8Array, offset: number): void {
    if (typeId !== RecordType.CHILD_EVENT) return;
    const ev = this.ev.wrap(view, bytes, offset);
    const venue = ev.venueId();
    if (!(venue >= 1 && venue < this.venueCount)) return; // a venue no longer configured
    const kind = ev.kind();
    const childId = ev.childId();
    if (kind === ChildEventKind.SENT) {
      this.live.set(childId, { venue, qty: ev.qty(), priceTicks: ev.priceTicks(), cumQty: 0, sentNs: ev.timeNs(), epochMs, answered: false });
      this.stats.onSent(venue, ev.qty());
      this.childEvents++;
      return;
    }
    const c = this.live.get(childId);
    if (c === undefined) {
      if (kind === ChildEventKind.REJECTED && ev.reason() === Reason.VENUE_DOWN) {
        this.stats.onSent(venue, ev.qty());
        this.end(venue, ev.qty(), 0);
        this.childEvents++;
      }
      return;
    }
    if (kind === ChildEventKind.CANCEL_REJECTED) return;
    this.childEvents++;
    if (!c.answered) {
      c.answered = true;
      if (c.sentNs >= 0 && c.epochMs === epochMs) {
        this.stats.onFirstResponse(c.venue, ev.timeNs() - c.sentNs);
        this.latencySamples++;
      }
    }
    if (kind === ChildEventKind.FILL) {
      const q = ev.lastQty();
      if (!(q > 0 && c.cumQty + q <= c.qty)) return;
      c.cumQty += q;
      if (c.cumQty === c.qty) this.finish(childId, c);
      return;
    }
    if (kind === ChildEventKind.CANCELED || kind === ChildEventKind.REJECTED || kind === ChildEventKind.EXPIRED) this.finish(childId, c);
  }

  private finish(childId: number, c: LiveChild): void {
    this.live.delete(childId);
    this.end(c.venue, c.qty, c.cumQty);
  }

  private end(venue: number, qty: number, filled: number): void {
    this.stats.onEnded(venue, qty, filled);
    this.endedChildren++;
  }
}

/**
 * Replays the journal in `dir` into the stage's statistics (already holding the configured
 * priors: call on a fresh stage, built with childTableBase 0) and puts the live children back.
 */
export function recoverSorStage(stage: SorStage, dir: string): SorRecoveryResult {
  // A slot is the child id minus the table's base, modulo its capacity: with a base above an
  // earlier boot's ids every restored child would be refused (a silent "conflict").
  if (!(stage.children.base <= 1)) throw new Error(`Condition failed: the SOR child table base (${stage.children.base}) is <= 1 (childTableBase 0) for recovery`);
  const replay = new SorStatsReplay(stage.stats);
  const r = replayJournal(dir, replay);
  const c = stage.children;
  let liveChildren = 0;
  let conflicts = 0;
  for (const [childId, child] of replay.live) {
    const slot = c.restore(childId);
    if (slot < 0) {
      conflicts++;
      continue;
    }
    c.plan[slot] = NO_PLAN;
    c.venue[slot] = child.venue;
    c.qty[slot] = child.qty;
    c.cumQty[slot] = child.cumQty;
    c.nextSibling[slot] = 0;
    c.priceTicks[slot] = child.priceTicks;
    // Its send time is on an earlier boot's clock: no latency sample from its first answer.
    c.sentNs[slot] = -1;
    c.tif[slot] = Tif.DAY; // not journaled; read only for children of an open plan
    c.markLive(slot);
    c.answered[slot] = child.answered ? 1 : 0;
    c.fallback[slot] = 0;
    liveChildren++;
  }
  return {
    frames: r.frames,
    childEvents: replay.childEvents,
    latencySamples: replay.latencySamples,
    endedChildren: replay.endedChildren,
    liveChildren,
    conflicts,
    problem: r.problem,
  };
}
