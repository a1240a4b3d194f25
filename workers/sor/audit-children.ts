/**
 * Children the journal knows only from their ROUTE_AUDIT: named by a routing decision, never by a
 * CHILD_EVENT. Recovery of risk (workers/risk/recovery.ts) and of the fix stage
 * (workers/fix/recovery.ts) puts them back as sent and unacknowledged, so a venue's late report
 * of one reaches risk, and the reconciliation after logon (OrderStatusRequest 35=H) asks the
 * venue about it.
 *
 * Why they exist, and why they are the only children a venue can hold that the journal does not
 * name otherwise: the fix stage sends a CHILD_NEW to its venue only once the journal holds the
 * ROUTE_AUDIT that names it (sor-stage.ts stamps the child with the audit's journal mark; the
 * sorToFix ring is gated on the SOR's journal feed). The SENT event of that child reaches the
 * journal later, through risk. A crash in between leaves a child the venue may have (sent) or
 * not (still in the ring): its audit is all the journal has. The venue's answer to 35=H settles
 * which: a status if it has the order, else OrdStatus 8 "unknown order", and the child ends
 * REJECTED with nothing filled.
 *
 * Any CHILD_EVENT of the child (SENT, or REJECTED by fix before sending: venue down) means the
 * journal follows it through its events instead: it leaves the set, and an audit read after that
 * event does not bring it back. Since the gate, a child's audit always precedes its events in the
 * journal; in a journal written before it (audit and CHILD_NEW in one commit, fix ungated) a fast
 * child's SENT, fills and end could be journaled ahead of its audit, and such a child is done, not
 * in flight. The ids named by events are remembered for that, within a window of `window` ids
 * below the highest (a late audit trails its events by one flush, a few hundred children at
 * most; the window is the child table's capacity, far above that lag).
 *
 * What remains: the children in flight at each crash, and those left in the ring to fix at a
 * clean stop (their audit durable, never sent: the venue answers 35=H "unknown order").
 *
 * Start-up only: allocates freely (a map), not the hot path.
 */
import { RouteAuditFlyweight, forEachAuditedChild } from '../../codecs/records.ts';
import type { SnapshotReader, SnapshotWriter } from '../../persistence/snapshot.ts';

export interface AuditedChild {
  childId: number;
  orderId: number;
  venueId: number;
  symbolId: number;
  side: number;
  qty: number;
  priceTicks: number;
}

export class AuditOnlyChildren {
  private readonly pending = new Map<number, AuditedChild>();
  private readonly audit = new RouteAuditFlyweight();
  /** Child ids a CHILD_EVENT named, the highest `window` of them at least. */
  private readonly named = new Set<number>();
  private maxNamed = 0;
  private readonly window: number;
  /** Audit frames too short for the venue count they declare (not read). */
  malformed = 0;

  constructor(window: number) {
    if (!(Number.isSafeInteger(window) && window > 0)) throw new Error('Condition failed: the window is a positive integer');
    this.window = window;
  }

  /** A journaled ROUTE_AUDIT frame: its children wait for a CHILD_EVENT that names them. */
  onAudit(view: DataView, bytes: Uint8Array, offset: number, length: number): void {
    const a = this.audit.wrap(view, bytes, offset);
    const read = forEachAuditedChild(a, length, (venueId, childId, qty) => {
      if (this.named.has(childId)) return; // its events came first (a journal from before the gate)
      this.pending.set(childId, { childId, orderId: a.orderId(), venueId, symbolId: a.symbolId(), side: a.side(), qty, priceTicks: a.childPxTicks() });
    });
    if (!read) this.malformed++;
  }

  /** A journaled CHILD_EVENT: the journal follows this child through its events. */
  onChildEvent(childId: number): void {
    this.pending.delete(childId);
    this.named.add(childId);
    if (childId > this.maxNamed) this.maxNamed = childId;
    // Amortised: the set holds at most twice the window between sweeps.
    if (this.named.size > 2 * this.window) {
      const floor = this.maxNamed - this.window;
      for (const id of this.named) if (id <= floor) this.named.delete(id);
    }
  }

  /** Children named by an audit and by no child event, by increasing child id. */
  children(): AuditedChild[] {
    return [...this.pending.values()].sort((x, y) => x.childId - y.childId);
  }

  /** Its state into a recovery snapshot (persistence/snapshot.ts), under `prefix`. */
  snapshot(w: SnapshotWriter, prefix: string): void {
    const pending = new Float64Array(this.pending.size * 7);
    let at = 0;
    for (const c of this.pending.values()) {
      pending[at++] = c.childId;
      pending[at++] = c.orderId;
      pending[at++] = c.venueId;
      pending[at++] = c.symbolId;
      pending[at++] = c.side;
      pending[at++] = c.qty;
      pending[at++] = c.priceTicks;
    }
    w.list(`${prefix}.pending`, pending);
    w.list(`${prefix}.named`, Float64Array.from(this.named));
    w.number(`${prefix}.maxNamed`, this.maxNamed);
    w.number(`${prefix}.malformed`, this.malformed);
  }

  /** Replaces its state with a snapshot's (written by snapshot() with the same prefix). */
  restore(r: SnapshotReader, prefix: string): void {
    const pending = r.list(`${prefix}.pending`);
    this.pending.clear();
    for (let at = 0; at + 7 <= pending.length; at += 7) {
      const childId = pending[at];
      this.pending.set(childId, {
        childId, orderId: pending[at + 1], venueId: pending[at + 2], symbolId: pending[at + 3], side: pending[at + 4], qty: pending[at + 5], priceTicks: pending[at + 6],
      });
    }
    this.named.clear();
    for (const id of r.list(`${prefix}.named`)) this.named.add(id);
    this.maxNamed = r.number(`${prefix}.maxNamed`);
    this.malformed = r.number(`${prefix}.malformed`);
  }
}
