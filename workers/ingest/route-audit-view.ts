/**
 * GET /v1/orders/{id}/route: the routing decisions of an order, as the SOR recorded them
 * (ROUTE_AUDIT records on the sor -> ingest ring). A bounded in-memory index: the records of the
 * last `capacity` orders routed, oldest forgotten first (the journal keeps every one). Account
 * isolation as the other order routes: another account's order is "unknown"; admins see all.
 * Allocates a copy per record (the edge's view, off the hot path).
 */
import { RecordType, RouteAuditFlyweight } from '../../codecs/records.ts';
import type { RecordHandler, RingConsumer } from '../../engine/ring.ts';
import { auditToJson } from '../sor/route-audit.ts';

export const ROUTE_AUDIT_BATCH = 256;
/** Decisions kept per order at most (first decision, re-routes, fallbacks). */
const PER_ORDER_MAX = 64;

export class RouteAuditView implements RecordHandler {
  readonly capacity: number;
  private readonly ring: RingConsumer;
  private readonly byOrder = new Map<number, Uint8Array[]>();
  private readonly venueNames: readonly string[];
  private readonly symbolNames: readonly string[];
  private readonly flyweight = new RouteAuditFlyweight();
  /** Records received, and orders forgotten to stay within capacity. */
  received = 0;
  evicted = 0;

  constructor(ring: RingConsumer, capacity: number, venueNames: readonly string[], symbolNames: readonly string[]) {
    if (!(Number.isInteger(capacity) && capacity >= 1)) throw new Error('Condition failed: capacity >= 1');
    this.ring = ring;
    this.capacity = capacity;
    this.venueNames = venueNames;
    this.symbolNames = symbolNames;
  }

  drain(): number {
    return this.ring.poll(this, ROUTE_AUDIT_BATCH);
  }

  onRecord(typeId: number, offset: number, length: number): void {
    if (typeId !== RecordType.ROUTE_AUDIT) return;
    const copy = this.ring.bytes.slice(offset, offset + length);
    this.add(copy);
  }

  /** Indexes one ROUTE_AUDIT body (a copy the view keeps). */
  add(body: Uint8Array): void {
    this.received++;
    const orderId = this.wrap(body).orderId();
    let list = this.byOrder.get(orderId);
    if (list === undefined) {
      if (this.byOrder.size >= this.capacity) {
        // Maps iterate in insertion order: the first key is the oldest order.
        const oldest = this.byOrder.keys().next().value as number;
        this.byOrder.delete(oldest);
        this.evicted++;
      }
      list = [];
      this.byOrder.set(orderId, list);
    }
    if (list.length < PER_ORDER_MAX) list.push(body);
  }

  /**
   * The order's decisions as JSON, or undefined when unknown to this account (admin: any).
   * engineEpochMs turns decision times (engine ns) into wall-clock times.
   */
  get(accountId: number, admin: boolean, orderId: number, engineEpochMs: number): Record<string, unknown> | undefined {
    const list = this.byOrder.get(orderId);
    if (list === undefined) return undefined;
    const first = this.wrap(list[0]);
    if (!admin && first.accountId() !== accountId) return undefined;
    const decisions = list.map((b) => {
      const a = this.wrap(b);
      return auditToJson(a, this.venueNames, this.symbolNames, engineEpochMs + a.decisionTimeNs() / 1e6);
    });
    return { orderId: String(orderId), account: first.accountId(), decisions };
  }

  private wrap(body: Uint8Array): RouteAuditFlyweight {
    return this.flyweight.wrap(new DataView(body.buffer, body.byteOffset, body.byteLength), body, 0);
  }
}
