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
 * journal follows it through its events instead, and it leaves this set. The set therefore holds
 * only the children in flight at each crash, however long the journal.
 *
 * Start-up only: allocates freely (a map), not the hot path.
 */
import { RouteAuditFlyweight, routeAuditLength } from '../../codecs/records.ts';

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
  /** Audit frames too short for the venue count they declare (not read). */
  malformed = 0;

  /** A journaled ROUTE_AUDIT frame: its children wait for a CHILD_EVENT that names them. */
  onAudit(view: DataView, bytes: Uint8Array, offset: number, length: number): void {
    const a = this.audit.wrap(view, bytes, offset);
    const venues = a.venueCount();
    if (length < routeAuditLength(venues)) {
      this.malformed++;
      return;
    }
    for (let v = 1; v <= venues; v++) {
      const childId = a.vChildId(v);
      const qty = a.vChildQty(v);
      if (!(Number.isSafeInteger(childId) && childId > 0 && Number.isSafeInteger(qty) && qty > 0)) continue;
      this.pending.set(childId, {
        childId, orderId: a.orderId(), venueId: v, symbolId: a.symbolId(), side: a.side(), qty, priceTicks: a.childPxTicks(),
      });
    }
  }

  /** A journaled CHILD_EVENT: the journal follows this child through its events. */
  onChildEvent(childId: number): void {
    this.pending.delete(childId);
  }

  /** Children named by an audit and by no child event, by increasing child id. */
  children(): AuditedChild[] {
    return [...this.pending.values()].sort((x, y) => x.childId - y.childId);
  }
}
