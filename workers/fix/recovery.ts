/**
 * Recovery of the fix stage's child table: on start, before the venue sessions connect, the
 * children of earlier boots are rebuilt from the journal, so that
 *   - a late report from a venue (a fill, a cancel, an expiry) for a child sent before the crash
 *     is mapped back to its order and reaches risk, instead of being counted as unknown;
 *   - reconciliation after logon (fix-stage.ts: OrderStatusRequest 35=H for every child still
 *     unacknowledged or open at that venue) covers those children too, and cancels the journal
 *     says were held while a venue was down go out then.
 *
 * What the journal holds for this (risk journals every CHILD_EVENT it takes from fix, verbatim,
 * in the order fix emitted them, and every EXEC_REPORT it makes):
 *
 *   EXEC_REPORT  an order's symbol and side (a CHILD_EVENT carries neither; 35=H and 35=F need
 *                both). Kept per order id also after the order is terminal: a child can be SENT
 *                after its order's last report (risk-stage.ts onChildSent: a late fill completed
 *                the order while another child was being decided; that child is cancelled at
 *                once, and its Canceled, or a fill that beat the cancel, must still reach risk).
 *                Kept as risk's order table keeps orders (workers/risk/order-table.ts): per
 *                slot (orderSlot: (orderId - 1) % orderCapacity), the newest order id reported there, so an
 *                order is named exactly while risk's table still holds it (risk issues an id only
 *                into a slot it may reuse, and journals a report of every id it issues); a
 *                child of an order risk no longer holds is counted unnamed, and risk counts it
 *                unknown and does not restore it either.
 *   CHILD_EVENT  SENT: the child (id, order, venue, qty, price) in the slot sendNewOrder gave it;
 *                ACKED, FILL, CANCELED, REJECTED, EXPIRED, CANCEL_REJECTED: the same state changes
 *                as the live handlers (FixStage.restoreEvent), so state, cumulative quantity and
 *                notional (for reconciling a status answer's CumQty/AvgPx) come out as they were.
 *                FILL also: the hash of its ExecID (execIdHash, 0 = none) goes back into the
 *                stage's ExecID set (FixStage.restoreExecId, exec-id-set.ts restore), for every
 *                journaled fill, of a restored child or not, in journal order (the set keeps the
 *                newest). A venue that resends a fill applied before the crash (it does when the
 *                session's stored inbound sequence number was behind what risk had journaled:
 *                PossDupFlag=Y on the resend) is then dropped as a duplicate, not applied twice.
 *                A CHILD_EVENT journaled before execIdHash existed (64 bytes,
 *                CHILD_EVENT_JOURNALED_MIN_LENGTH) restores no ExecID.
 *   ROUTE_AUDIT  the children no CHILD_EVENT names: in flight when the process died (the stage
 *                sends a child only once its audit is durable, but its SENT event is journaled
 *                later, through risk). After the replay they are restored as SENT, from the
 *                audit's order, symbol, side, venue, quantity and price
 *                (workers/sor/audit-children.ts), so 35=H asks their venue about them.
 *
 * The table's base must lie at or below every recovered child id (slots are child id minus
 * base, modulo the capacity). Child ids of every boot are positive, and the slot of an id only
 * depends on its residue modulo the capacity, so a stage that recovers is built with base 0:
 * below the journal's ids without a separate pass, and new children still take the slots after
 * the recovered ones (risk's nextChildIdBase keeps this boot's ids congruent to them).
 * FixStage.restoreSent refuses (throws on) an id below the base.
 *
 * Snapshots (persistence/snapshot.ts), with a SnapshotStore: the replay starts from the newest
 * snapshot that holds and reads only the journal after its boundary; once the replay reached the
 * journal's end, and before the children only an audit names are restored, what it built is
 * saved as the snapshot of this start's boundary (FixRestorer.snapshot lists what that is). Load
 * plus tail gives the same stage, and the same result but `frames`, as replaying the whole
 * journal (snapshot.test.ts checks it). A replay that stopped early (`problem`) saves nothing.
 *
 * Start-up only: allocates freely (two arrays of orderCapacity for the orders' names; with a
 * store, snapshot payloads of the child table's and the ExecID set's size), not the hot path.
 */
import { CHILD_EVENT_LENGTH, ChildEventFlyweight, ChildEventKind, ExecReportFlyweight, RecordType } from '../../codecs/records.ts';
import { ExecType } from '../../engine/order-state.ts';
import type { FrameHandler } from '../../persistence/journal-reader.ts';
import { replayWithSnapshots, type SnapshotOutcome, type SnapshotReader, type SnapshotState, type SnapshotStore, type SnapshotWriter } from '../../persistence/snapshot.ts';
import { orderSlot } from '../risk/order-table.ts';
import { AuditOnlyChildren } from '../sor/audit-children.ts';
import type { FixStage } from './fix-stage.ts';

/** The stage's name for its snapshot files (persistence/snapshot.ts). */
export const FIX_SNAPSHOT_STAGE = 'fix';

export interface FixRecoveryResult {
  /** Journal frames read by this start's replay (from the snapshot's boundary when one was loaded). */
  frames: number;
  /** Children restored from SENT events and from audits alone. */
  children: number;
  /** Of them, from an audit alone (in flight at the crash). */
  auditOnlyChildren: number;
  /** Of them, still unacknowledged or open at a venue (reconciled after logon). */
  liveChildren: number;
  /** Child events applied to restored children. */
  events: number;
  /** SENT events whose order's symbol and side the journal did not give (or whose order ended
   * and risk's order table has since given its slot to a newer order): not restored. */
  unnamed: number;
  /** SENT events whose slot still held another live child: not restored. */
  conflicts: number;
  /** ROUTE_AUDIT frames too short for the venue count they declare: their children could not be read. */
  malformedAudits: number;
  /** ExecIDs (by hash) of journaled fills put back into the stage's dedupe set. */
  execIds: number;
  /** Journaled fills without an ExecID hash (none on the report, a reconciliation fill, a record
   * older than the field, or a value that is not a hash): nothing to restore. */
  fillsWithoutExecId: number;
  /** Why replay stopped before the journal's end (corruption), or null. */
  problem: string | null;
  /** What recovery did with snapshots (all null / empty, boundary 1, without a store). */
  snapshot: SnapshotOutcome;
}

/** FixRestorer's counters in a snapshot, one list for both directions (SnapshotWriter.numbers). */
const FIX_REPLAY_COUNTS = ['children', 'events', 'unnamed', 'conflicts', 'execIds', 'fillsWithoutExecId'];

class FixRestorer implements FrameHandler {
  private readonly stage: FixStage;
  private readonly report = new ExecReportFlyweight();
  private readonly child = new ChildEventFlyweight();
  /** Per slot of risk's order table: the newest order id reported in it (0 none) ... */
  private readonly slotOrderIds: Float64Array;
  /** ... and its symbolId * 4 + side. */
  private readonly slotNames: Int32Array;
  children = 0;
  events = 0;
  unnamed = 0;
  conflicts = 0;
  execIds = 0;
  fillsWithoutExecId = 0;
  auditOnlyChildren = 0;
  readonly auditOnly: AuditOnlyChildren;

  constructor(stage: FixStage, orderCapacity: number) {
    if (!(Number.isSafeInteger(orderCapacity) && orderCapacity > 0)) throw new Error('Condition failed: orderCapacity is a positive integer');
    this.stage = stage;
    this.slotOrderIds = new Float64Array(orderCapacity);
    this.slotNames = new Int32Array(orderCapacity);
    this.auditOnly = new AuditOnlyChildren(stage.childCapacity);
  }

  onFrame(typeId: number, _sequence: number, _epochMs: number, view: DataView, bytes: Uint8Array, offset: number, length: number): void {
    if (typeId === RecordType.EXEC_REPORT) this.onReport(this.report.wrap(view, bytes, offset));
    else if (typeId === RecordType.CHILD_EVENT) this.onChildEvent(this.child.wrap(view, bytes, offset), length);
    else if (typeId === RecordType.ROUTE_AUDIT) this.auditOnly.onAudit(view, bytes, offset, length);
  }

  /** symbolId * 4 + side of an order risk's table still holds, or -1. */
  private named(orderId: number): number {
    if (!(Number.isSafeInteger(orderId) && orderId >= 1)) return -1;
    const slot = orderSlot(orderId, this.slotOrderIds.length);
    return this.slotOrderIds[slot] === orderId ? this.slotNames[slot] : -1;
  }

  /**
   * Recovery snapshot: everything the replay built, to go on replaying from the boundary as if
   * from 1 (FixRecoveryResult's counts go on too, but `frames`):
   *   - the stage's child table and ExecID set (FixStage.snapshotRecovered);
   *   - per slot of risk's order table, the newest order id reported and its name;
   *   - the children named by audits and not by events so far, and the child ids events named
   *     (AuditOnlyChildren.snapshot, its malformed count included);
   *   - the counts, but auditOnlyChildren: 0 at the boundary, it is counted by
   *     restoreAuditOnlyChildren after it, at every start anew.
   * Nothing from the configuration but the shapes (capacities: the store's fingerprint).
   */
  snapshot(w: SnapshotWriter): void {
    this.stage.snapshotRecovered(w);
    w.array('orders.ids', this.slotOrderIds);
    w.array('orders.names', this.slotNames);
    this.auditOnly.snapshot(w, 'auditOnly');
    w.numbers('count', this, FIX_REPLAY_COUNTS);
  }

  /** Replaces its state and the stage's with a snapshot's (snapshot() of the same shapes). Throws SnapshotMismatch. */
  restore(r: SnapshotReader): void {
    this.stage.restoreRecovered(r);
    r.arrayInto('orders.ids', this.slotOrderIds);
    r.arrayInto('orders.names', this.slotNames);
    this.auditOnly.restore(r, 'auditOnly');
    r.numbersInto('count', this, FIX_REPLAY_COUNTS);
  }

  /** After the replay: the children only an audit names, as SENT (of orders risk's table still holds, as risk restores them). */
  restoreAuditOnlyChildren(): void {
    for (const ch of this.auditOnly.children()) {
      if (this.named(ch.orderId) < 0) {
        this.unnamed++;
        continue;
      }
      if (this.stage.restoreSent(ch.childId, ch.orderId, ch.venueId, ch.symbolId, ch.side, ch.qty, ch.priceTicks)) {
        this.children++;
        this.auditOnlyChildren++;
      } else this.conflicts++;
    }
  }

  private onReport(r: ExecReportFlyweight): void {
    const orderId = r.orderId();
    // A refused new order has no id; a refused cancel names whatever the client sent.
    if (orderId === 0 || r.execType() === ExecType.CANCEL_REJECT) return;
    // Terminal orders are kept too (a child may still be SENT after the order's last report),
    // until a newer order takes their slot, as in risk's table.
    const slot = orderSlot(orderId, this.slotOrderIds.length);
    if (orderId < this.slotOrderIds[slot]) return;
    this.slotOrderIds[slot] = orderId;
    this.slotNames[slot] = r.symbolId() * 4 + r.side();
  }

  private onChildEvent(ev: ChildEventFlyweight, length: number): void {
    const kind = ev.kind();
    this.auditOnly.onChildEvent(ev.childId());
    if (kind === ChildEventKind.FILL || kind === ChildEventKind.TRADE_CANCEL || kind === ChildEventKind.TRADE_CORRECT) this.onExecId(ev, length);
    if (kind !== ChildEventKind.SENT) {
      if (this.stage.restoreEvent(kind, ev.childId(), ev.lastQty(), ev.lastPxTicks(), ev.reason())) this.events++;
      return;
    }
    const orderId = ev.orderId();
    const named = this.named(orderId);
    if (named < 0) {
      this.unnamed++;
      return;
    }
    const symbolId = Math.floor(named / 4);
    const side = named % 4;
    if (this.stage.restoreSent(ev.childId(), ev.orderId(), ev.venueId(), symbolId, side, ev.qty(), ev.priceTicks())) this.children++;
    else this.conflicts++;
  }

  /** A fill's (or a bust's or correction's) ExecID hash back into the stage's set (the field exists from 72 bytes on). */
  private onExecId(ev: ChildEventFlyweight, length: number): void {
    const hash = length >= CHILD_EVENT_LENGTH ? ev.execIdHash() : 0;
    if (!(Number.isSafeInteger(hash) && hash > 0 && hash < 2 ** 52)) {
      this.fillsWithoutExecId++;
      return;
    }
    if (this.stage.restoreExecId(ev.venueId(), hash)) this.execIds++;
  }
}

/**
 * The fix stage's replay over a fresh stage, without the audit-only children put back: for a
 * replay that goes on while the engine runs (workers/snapshot-thread.ts), restored with
 * SnapshotStore.loadInto and saved at later segment starts.
 */
export function fixReplayState(stage: FixStage, orderCapacity: number): FrameHandler & SnapshotState {
  return new FixRestorer(stage, orderCapacity);
}

/**
 * Rebuilds the stage's child table (built with child base 0) from the journal in `dir`.
 * `orderCapacity` is risk's order table capacity (config.orderCapacity): the orders named are
 * those its table still holds. Call before the venue sessions start and before the stage's first duty
 * cycle, on a stage nothing was restored into yet. With `snapshots` (snapshotStoreFor(config)):
 * from the newest snapshot that holds, and a snapshot of this start's boundary is saved (see the
 * header); without, the whole journal is replayed.
 */
export function recoverFixStage(stage: FixStage, dir: string, orderCapacity: number, snapshots: SnapshotStore | null = null): FixRecoveryResult {
  const restorer = new FixRestorer(stage, orderCapacity);
  // The replay's state at this boot's boundary is saved (SnapshotStore.replayAndSave), before the
  // fix-up below (which a later start's replay makes again from the audits it then holds).
  const { replay, snapshot } = replayWithSnapshots(snapshots, FIX_SNAPSHOT_STAGE, restorer, dir);
  restorer.restoreAuditOnlyChildren();
  return {
    frames: replay.frames,
    children: restorer.children,
    auditOnlyChildren: restorer.auditOnlyChildren,
    liveChildren: stage.liveChildCount(),
    events: restorer.events,
    unnamed: restorer.unnamed,
    conflicts: restorer.conflicts,
    malformedAudits: restorer.auditOnly.malformed,
    execIds: restorer.execIds,
    fillsWithoutExecId: restorer.fillsWithoutExecId,
    problem: replay.problem,
    snapshot,
  };
}
