/** A ROUTE_AUDIT frame as the SOR journals it, with only what recovery reads set (tests only). */
import { RouteAuditFlyweight, routeAuditLength } from '../../codecs/records.ts';

export interface AuditFrameArgs {
  orderId: number;
  /** Venues the audit covers (ids 1..venues). */
  venues: number;
  symbolId?: number;
  side?: number;
  childPxTicks: number;
  /** The decision's children: venue, child id, quantity. */
  children: { venueId: number; childId: number; qty: number }[];
}

export function auditFrame(args: AuditFrameArgs): Uint8Array {
  const length = routeAuditLength(args.venues);
  const bytes = new Uint8Array(length);
  const a = new RouteAuditFlyweight().wrap(new DataView(bytes.buffer), bytes, 0);
  a.setOrderId(args.orderId).setSymbolId(args.symbolId ?? 0).setSide(args.side ?? 1).setChildPxTicks(args.childPxTicks)
    .setVenueCount(args.venues).setChildCount(args.children.length);
  for (const c of args.children) {
    a.setVChildId(c.venueId, c.childId);
    a.setVChildQty(c.venueId, c.qty);
  }
  return bytes;
}
