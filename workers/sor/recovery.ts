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
 * Snapshots (persistence/snapshot.ts). With a SnapshotStore, the replay starts from the newest
 * snapshot that holds and replays only the journal after its boundary; once it reached the end
 * (the first sequence of this boot's segment) it saves what it built there, before the live
 * children are put back in the child table (that fix-up runs on the restored state exactly as
 * after a full replay). A snapshot holds the replay's whole state (SorStatsReplay.snapshot):
 *
 *   priors.latencyUs, priors.fillProb, alpha   the configured priors and alpha it was learned
 *                     from. Under another alpha a replay learns other figures from the same
 *                     children, and nothing short of the children gives them: such a snapshot
 *                     is passed over (read before anything is restored). Under other priors
 *                     (a venue's latencyUs or fillProbability changed in the configuration) it is
 *                     taken and rebased (rebasedEwma): each EWMA is its prior decayed by
 *                     (1 - alpha) per update plus what the samples added, so a new prior moves it
 *                     by the change times (1 - alpha)^updates, the updates being the counts the
 *                     snapshot holds (stats.latencySamples, stats.ended). That is exactly what a
 *                     full replay under the new priors learns, to within rounding (not bit for
 *                     bit), and it needs no journal before the snapshot: under journal.retention
 *                     a change of priors no longer leaves a start needing pruned segments;
 *   stats.*           every VenueStats array the rules touch (the EWMAs and the counts);
 *   live              the children live at the boundary, in the map's order (which child keeps a
 *                     contested slot depends on it), each with its send time and the epoch of the
 *                     boot that stamped it (a latency sample needs both in the same boot);
 *   count.*           the result's counters (child events, latency samples, ended children):
 *                     restored, so they count the whole journal as after a full replay. `frames`
 *                     alone counts what this start read (the tail after the boundary).
 *
 * Start-up only: allocates freely (a map of live children), not the hot path.
 */
import { ChildEventFlyweight, ChildEventKind, RecordType } from '../../codecs/records.ts';
import { Tif } from '../../engine/domain.ts';
import { Reason } from '../../engine/reasons.ts';
import type { FrameHandler } from '../../persistence/journal-reader.ts';
import { SnapshotMismatch, replayWithSnapshots, type SnapshotOutcome, type SnapshotReader, type SnapshotState, type SnapshotStore, type SnapshotWriter } from '../../persistence/snapshot.ts';
import { NO_PLAN } from './route-plan.ts';
import type { SorStage } from './sor-stage.ts';
import type { VenueStats } from './venue-stats.ts';

/** The stage's name in the snapshot store. */
export const SOR_SNAPSHOT_STAGE = 'sor';

export interface SorRecoveryResult {
  /** Frames read by this start: after the loaded snapshot's boundary, or the whole journal. */
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
  /** The snapshot loaded was learned under other venue priors: its EWMAs were rebased onto this start's (rebasedEwma). */
  rebasedFromOtherPriors: boolean;
  problem: string | null;
  snapshot: SnapshotOutcome;
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

/** A live child in a snapshot's `live` list: childId, venue, qty, priceTicks, cumQty, sentNs, epochMs, answered. */
const LIVE_FIELDS = 8;

/** The VenueStats arrays the rules touch, in snapshot order, with their tags. */
function statArrays(s: VenueStats): [string, Float64Array][] {
  return [
    ['stats.latencyUs', s.latencyUs], ['stats.fillProb', s.fillProb], ['stats.sent', s.sent], ['stats.sentQty', s.sentQty],
    ['stats.latencySamples', s.latencySamples], ['stats.ended', s.ended], ['stats.filledQty', s.filledQty],
  ];
}

/** SorStatsReplay's counters in a snapshot, one list for both directions (SnapshotWriter.numbers). */
const SOR_REPLAY_COUNTS = ['childEvents', 'latencySamples', 'endedChildren'];

/** Applies the SOR's learning rules to journaled CHILD_EVENTs. */
class SorStatsReplay implements FrameHandler {
  readonly stats: VenueStats;
  readonly live = new Map<number, LiveChild>();
  private readonly venueCount: number;
  private readonly ev = new ChildEventFlyweight();
  /** The configured priors, as the fresh stage had them: a snapshot records them; one learned under others is rebased onto these (restore). */
  private readonly latencyPriors: Float64Array;
  private readonly fillPriors: Float64Array;
  childEvents = 0;
  latencySamples = 0;
  endedChildren = 0;

  constructor(stats: VenueStats) {
    this.stats = stats;
    this.venueCount = stats.latencyUs.length;
    this.latencyPriors = stats.latencyUs.slice();
    this.fillPriors = stats.fillProb.slice();
  }

  /** Its state into a recovery snapshot (persistence/snapshot.ts); the layout is in the file's comment. */
  snapshot(w: SnapshotWriter): void {
    w.array('priors.latencyUs', this.latencyPriors);
    w.array('priors.fillProb', this.fillPriors);
    w.number('alpha', this.stats.alpha);
    for (const [tag, a] of statArrays(this.stats)) w.array(tag, a);
    const live = new Float64Array(this.live.size * LIVE_FIELDS);
    let at = 0;
    for (const [childId, c] of this.live) {
      live[at++] = childId;
      live[at++] = c.venue;
      live[at++] = c.qty;
      live[at++] = c.priceTicks;
      live[at++] = c.cumQty;
      live[at++] = c.sentNs;
      live[at++] = c.epochMs;
      live[at++] = c.answered ? 1 : 0;
    }
    w.list('live', live);
    w.numbers('count', this, SOR_REPLAY_COUNTS);
  }

  /** Whether the last restore() took a snapshot learned under other priors (and rebased it). */
  rebasedFromOtherPriors = false;

  /**
   * Replaces its state with a snapshot's (written by snapshot()). The priors and alpha come
   * first: under another alpha it throws SnapshotMismatch having changed nothing; under other
   * priors the EWMAs are rebased onto this start's (file comment). A SnapshotMismatch thrown
   * later leaves a half-restored state (SnapshotStore.loadInto restores the fresh one).
   */
  restore(r: SnapshotReader): void {
    this.rebasedFromOtherPriors = false;
    const latencyPriors = new Float64Array(this.venueCount);
    const fillPriors = new Float64Array(this.venueCount);
    r.arrayInto('priors.latencyUs', latencyPriors);
    r.arrayInto('priors.fillProb', fillPriors);
    const alpha = r.number('alpha');
    if (!Object.is(alpha, this.stats.alpha)) throw new SnapshotMismatch(`it was learned under sor.statsAlpha ${alpha}, not ${this.stats.alpha}`);
    for (const [tag, a] of statArrays(this.stats)) r.arrayInto(tag, a);
    const live = r.list('live');
    if (live.length % LIVE_FIELDS !== 0) throw new SnapshotMismatch(`live: ${live.length} numbers, not ${LIVE_FIELDS} per child`);
    this.live.clear();
    for (let at = 0; at < live.length; at += LIVE_FIELDS) {
      this.live.set(live[at], {
        venue: live[at + 1], qty: live[at + 2], priceTicks: live[at + 3], cumQty: live[at + 4], sentNs: live[at + 5], epochMs: live[at + 6], answered: live[at + 7] === 1,
      });
    }
    r.numbersInto('count', this, SOR_REPLAY_COUNTS);
    // Learned from other priors: as if from this start's (file comment).
    if (!(sameBits(latencyPriors, this.latencyPriors) && sameBits(fillPriors, this.fillPriors))) {
      const s = this.stats;
      for (let v = 0; v < this.venueCount; v++) {
        s.latencyUs[v] = rebasedEwma(s.latencyUs[v], latencyPriors[v], this.latencyPriors[v], alpha, s.latencySamples[v]);
        s.fillProb[v] = rebasedEwma(s.fillProb[v], fillPriors[v], this.fillPriors[v], alpha, s.ended[v]);
      }
      this.rebasedFromOtherPriors = true;
    }
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
    if (kind === ChildEventKind.CANCEL_REJECTED || kind === ChildEventKind.TRADE_CANCEL || kind === ChildEventKind.TRADE_CORRECT) return;
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
 * The SOR's replay over a fresh stage's statistics, without the live children put back: for a
 * replay that goes on while the engine runs (workers/snapshot-thread.ts), restored with
 * SnapshotStore.loadInto and saved at later segment starts.
 */
export function sorReplayState(stats: VenueStats): FrameHandler & SnapshotState {
  return new SorStatsReplay(stats);
}

/**
 * An EWMA learned from `oldPrior` over `updates` updates (x <- x + alpha * (sample - x)), as
 * learned from `newPrior` over the same samples: x_n = (1 - alpha)^n * prior + sum of
 * alpha * (1 - alpha)^(n - k) * sample_k, so it moves by (newPrior - oldPrior) * (1 - alpha)^n.
 * With no update it is the new prior itself, bit for bit.
 */
export function rebasedEwma(value: number, oldPrior: number, newPrior: number, alpha: number, updates: number): number {
  if (Object.is(oldPrior, newPrior)) return value;
  if (updates === 0) return newPrior;
  return value + (newPrior - oldPrior) * Math.pow(1 - alpha, updates);
}

/** The same numbers, bit for bit (a prior of -0 is not one of 0). */
function sameBits(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

/**
 * Replays the journal in `dir` into the stage's statistics (already holding the configured
 * priors: call on a fresh stage, built with childTableBase 0) and puts the live children back.
 * With `snapshots`, starts from the newest snapshot that holds and saves one at the end of the
 * replay (file comment); without, replays the whole journal.
 */
export function recoverSorStage(stage: SorStage, dir: string, snapshots: SnapshotStore | null = null): SorRecoveryResult {
  // A slot is the child id minus the table's base, modulo its capacity: with a base above an
  // earlier boot's ids every restored child would be refused (a silent "conflict").
  if (!(stage.children.base <= 1)) throw new Error(`Condition failed: the SOR child table base (${stage.children.base}) is <= 1 (childTableBase 0) for recovery`);
  const replay = new SorStatsReplay(stage.stats);
  // The fresh replay's own snapshot is the layout a usable one has, and what a failed read goes
  // back to (SnapshotStore.loadInto). Saved at this boot's boundary (SnapshotStore.replayAndSave;
  // never after a replay stopped by a corrupt frame before it: what follows would be missing).
  const { replay: r, snapshot } = replayWithSnapshots(snapshots, SOR_SNAPSHOT_STAGE, replay, dir);
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
    rebasedFromOtherPriors: replay.rebasedFromOtherPriors,
    problem: r.problem,
    snapshot,
  };
}
