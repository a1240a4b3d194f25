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
 *                both). Kept per order id while the order is not terminal: its children are
 *                sent while it is open.
 *   CHILD_EVENT  SENT: the child (id, order, venue, qty, price) in the slot sendNewOrder gave it;
 *                ACKED, FILL, CANCELED, REJECTED, EXPIRED, CANCEL_REJECTED: the same state changes
 *                as the live handlers (FixStage.restoreEvent), so state, cumulative quantity and
 *                notional (for reconciling a status answer's CumQty/AvgPx) come out as they were.
 *
 * Not rebuilt: the ExecIDs already applied (exec-id-set.ts): a CHILD_EVENT carries no ExecID.
 * A venue that resends a fill the engine applied before the crash (it would, only if the
 * session's inbound sequence number was stored behind what was applied) is then stopped at
 * risk only when it overfills the child. Recording the ExecID would need a field in
 * CHILD_EVENT (codecs/records.ts).
 *
 * The table's base must lie at or below every recovered child id (slots are child id minus
 * base, modulo the capacity). Child ids of every boot are positive, and the slot of an id only
 * depends on its residue modulo the capacity, so recoveredFixChildBase() gives a base below
 * the journal's ids without a separate pass, and new children still take the slots after the
 * recovered ones (risk's nextChildIdBase keeps this boot's ids congruent to them).
 *
 * Start-up only: allocates freely (a map of open orders' symbol and side), not the hot path.
 */
import { ChildEventFlyweight, ChildEventKind, ExecReportFlyweight, RecordType } from '../../codecs/records.ts';
import { ExecType, isTerminal } from '../../engine/order-state.ts';
import { replayJournal, type FrameHandler } from '../../persistence/journal-reader.ts';
import type { FixStage } from './fix-stage.ts';

export interface FixRecoveryResult {
  /** Journal frames read. */
  frames: number;
  /** Children restored from SENT events. */
  children: number;
  /** Of them, still unacknowledged or open at a venue (reconciled after logon). */
  liveChildren: number;
  /** Child events applied to restored children. */
  events: number;
  /** SENT events whose order's symbol and side the journal did not give: not restored. */
  unnamed: number;
  /** SENT events whose slot still held another live child: not restored. */
  conflicts: number;
  /** Why replay stopped before the journal's end (corruption), or null. */
  problem: string | null;
}

/**
 * The child table base for a stage that recovers: 0, below every child id any boot issued
 * (they are clock-derived and positive). The slot of a child id depends only on its residue
 * modulo the table's capacity, so any base gives the same slots up to a rotation.
 */
export function recoveredFixChildBase(): number {
  return 0;
}

class FixRestorer implements FrameHandler {
  private readonly stage: FixStage;
  private readonly report = new ExecReportFlyweight();
  private readonly child = new ChildEventFlyweight();
  /** Open orders: order id -> symbolId * 4 + side. */
  private readonly orders = new Map<number, number>();
  children = 0;
  events = 0;
  unnamed = 0;
  conflicts = 0;

  constructor(stage: FixStage) {
    this.stage = stage;
  }

  onFrame(typeId: number, _sequence: number, _epochMs: number, view: DataView, bytes: Uint8Array, offset: number): void {
    if (typeId === RecordType.EXEC_REPORT) this.onReport(this.report.wrap(view, bytes, offset));
    else if (typeId === RecordType.CHILD_EVENT) this.onChildEvent(this.child.wrap(view, bytes, offset));
  }

  private onReport(r: ExecReportFlyweight): void {
    const orderId = r.orderId();
    // A refused new order has no id; a refused cancel names whatever the client sent.
    if (orderId === 0 || r.execType() === ExecType.CANCEL_REJECT) return;
    if (isTerminal(r.state())) this.orders.delete(orderId);
    else this.orders.set(orderId, r.symbolId() * 4 + r.side());
  }

  private onChildEvent(ev: ChildEventFlyweight): void {
    const kind = ev.kind();
    if (kind !== ChildEventKind.SENT) {
      if (this.stage.restoreEvent(kind, ev.childId(), ev.lastQty(), ev.lastPxTicks(), ev.reason())) this.events++;
      return;
    }
    const named = this.orders.get(ev.orderId());
    if (named === undefined) {
      this.unnamed++;
      return;
    }
    const symbolId = Math.floor(named / 4);
    const side = named % 4;
    if (this.stage.restoreSent(ev.childId(), ev.orderId(), ev.venueId(), symbolId, side, ev.qty(), ev.priceTicks())) this.children++;
    else this.conflicts++;
  }
}

/**
 * Rebuilds the stage's child table (built with recoveredFixChildBase()) from the journal in
 * `dir`. Call before the venue sessions start and before the stage's first duty cycle.
 */
export function recoverFixStage(stage: FixStage, dir: string): FixRecoveryResult {
  const restorer = new FixRestorer(stage);
  const replay = replayJournal(dir, restorer);
  return {
    frames: replay.frames,
    children: restorer.children,
    liveChildren: stage.liveChildCount(),
    events: restorer.events,
    unnamed: restorer.unnamed,
    conflicts: restorer.conflicts,
    problem: replay.problem,
  };
}
