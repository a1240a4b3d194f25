/**
 * GET /v1/orders/{id}/route: the routing decisions of an order, as the SOR recorded them
 * (ROUTE_AUDIT records on the sor -> ingest ring). A bounded in-memory index of the last
 * `capacity` order ids routed (the journal keeps every decision). Account isolation as the
 * other order routes: another account's order is "unknown"; admins see all.
 *
 * It drains on the ingest thread, beside the acks, so it allocates nothing per record and does
 * constant work per record whatever the number of orders seen:
 *
 *   records   a circular slab of fixed-size record slots (ROUTE_AUDIT records of one engine all
 *             have the same length), written in arrival order, the oldest overwritten first;
 *             each slot knows its order id and the next slot of the same order (a chain).
 *   orders    slot = orderId % capacity (order ids are issued in increasing order): the order id held,
 *             the first and last record of its chain, and its decision count.
 *
 * Overwriting a record slot drops the oldest remaining record of its order (chains are in
 * arrival order, so it is always the chain's head); an order whose chain empties, or whose slot
 * a newer order takes, is forgotten. The slab has a quarter more slots than orders, so re-routes
 * do not push out orders that are still within capacity.
 */
import { RecordType, RouteAuditFlyweight } from '../../codecs/records.ts';
import { copyBytes } from '../../engine/bytes.ts';
import type { RecordHandler, RingConsumer } from '../../engine/ring.ts';
import { auditToJson } from '../../codecs/route-audit-json.ts';

export const ROUTE_AUDIT_BATCH = 256;
/** Most batches get() drains before it answers (1024 x ROUTE_AUDIT_BATCH records): bounded, should the SOR keep writing meanwhile. */
const GET_DRAIN_BATCHES = 1024;
/** Decisions kept per order at most (first decision, re-routes, fallbacks). */
const PER_ORDER_MAX = 64;
const NONE = -1;

export class RouteAuditView implements RecordHandler {
  /** Orders indexed at most. */
  readonly capacity: number;
  private readonly ring: RingConsumer;
  private readonly venueNames: readonly string[];
  private readonly symbolNames: readonly string[];
  private readonly flyweight = new RouteAuditFlyweight();

  private readonly recordLength: number;
  private readonly recordSlots: number;
  private readonly slab: Uint8Array;
  private readonly slabView: DataView;
  /** Per record slot: its order id (0 = empty) and the next slot of the same order. */
  private readonly recordOrder: Float64Array;
  private readonly recordNext: Int32Array;
  private written: number;

  /** Per order slot (orderId % capacity): the order id held (0 = none), chain head and tail, count. */
  private readonly orderId: Float64Array;
  private readonly first: Int32Array;
  private readonly last: Int32Array;
  private readonly count: Uint8Array;

  /** Records received, records refused (too long, or beyond PER_ORDER_MAX), and orders forgotten. */
  received = 0;
  dropped = 0;
  evicted = 0;

  /**
   * recordLength: the engine's ROUTE_AUDIT length (routeAuditLength(venues)); a longer record is
   * counted in `dropped`.
   */
  constructor(ring: RingConsumer, capacity: number, recordLength: number, venueNames: readonly string[], symbolNames: readonly string[]) {
    if (!(Number.isInteger(capacity) && capacity >= 1)) throw new Error('Condition failed: capacity >= 1');
    if (!(Number.isInteger(recordLength) && recordLength >= 8 && recordLength % 8 === 0)) throw new Error('Condition failed: recordLength is a positive multiple of 8');
    this.ring = ring;
    this.capacity = capacity;
    this.venueNames = venueNames;
    this.symbolNames = symbolNames;
    this.recordLength = recordLength;
    this.recordSlots = capacity + Math.ceil(capacity / 4);
    this.slab = new Uint8Array(this.recordSlots * recordLength);
    this.slabView = new DataView(this.slab.buffer);
    this.recordOrder = new Float64Array(this.recordSlots);
    this.recordNext = new Int32Array(this.recordSlots).fill(NONE);
    this.written = 0;
    this.orderId = new Float64Array(capacity);
    this.first = new Int32Array(capacity).fill(NONE);
    this.last = new Int32Array(capacity).fill(NONE);
    this.count = new Uint8Array(capacity);
  }

  drain(): number {
    return this.ring.poll(this, ROUTE_AUDIT_BATCH);
  }

  onRecord(typeId: number, offset: number, length: number): void {
    if (typeId !== RecordType.ROUTE_AUDIT) return;
    this.add(this.ring.bytes, offset, length);
  }

  /** Indexes one ROUTE_AUDIT body (copied into the slab). */
  private add(bytes: Uint8Array, offset: number, length: number): void {
    this.received++;
    if (length > this.recordLength) {
      this.dropped++;
      return;
    }
    const orderId = this.flyweight.wrap(this.ring.view, bytes, offset).orderId();
    const o = orderId % this.capacity;
    if (this.orderId[o] === orderId && this.count[o] >= PER_ORDER_MAX) {
      this.dropped++;
      return;
    }
    const r = this.written % this.recordSlots;
    this.written++;
    // First the slot's old record goes (it may be this order's own oldest), then the order slot.
    this.release(r);
    if (this.orderId[o] !== orderId) {
      if (this.orderId[o] !== 0) this.forget(o);
      this.orderId[o] = orderId;
    }
    copyBytes(bytes, offset, this.slab, r * this.recordLength, length);
    this.recordOrder[r] = orderId;
    this.recordNext[r] = NONE;
    if (this.last[o] === NONE) this.first[o] = r;
    else this.recordNext[this.last[o]] = r;
    this.last[o] = r;
    this.count[o]++;
  }

  /**
   * The order's decisions as JSON, or undefined when unknown to this account (admin: any), after
   * draining the ring. engineEpochMs turns decision times (engine ns) into wall-clock times.
   */
  get(accountId: number, admin: boolean, orderId: number, engineEpochMs: number): Record<string, unknown> | undefined {
    // The SOR does not wake ingest for its audits (a quiet ring, workers/topology.ts QUIET_RINGS):
    // what it wrote so far is taken first, so an answer holds every decision already made.
    for (let i = 0; i < GET_DRAIN_BATCHES && this.drain() > 0; i++);
    if (!(Number.isInteger(orderId) && orderId > 0)) return undefined;
    const o = orderId % this.capacity;
    if (this.orderId[o] !== orderId || this.first[o] === NONE) return undefined;
    const account = this.wrap(this.first[o]).accountId();
    if (!admin && account !== accountId) return undefined;
    const decisions: Record<string, unknown>[] = [];
    for (let r = this.first[o]; r !== NONE; r = this.recordNext[r]) {
      const a = this.wrap(r);
      decisions.push(auditToJson(a, this.venueNames, this.symbolNames, engineEpochMs + a.decisionTimeNs() / 1e6));
    }
    return { orderId: String(orderId), account, decisions };
  }

  /** The record slot is about to be overwritten: its order loses its oldest record. */
  private release(r: number): void {
    const owner = this.recordOrder[r];
    if (owner === 0) return;
    this.recordOrder[r] = 0;
    const o = owner % this.capacity;
    // A newer order took the owner's slot: the record was already unreachable.
    if (this.orderId[o] !== owner || this.first[o] !== r) return;
    this.first[o] = this.recordNext[r];
    this.count[o]--;
    if (this.first[o] === NONE) this.forget(o);
  }

  private forget(o: number): void {
    this.orderId[o] = 0;
    this.first[o] = NONE;
    this.last[o] = NONE;
    this.count[o] = 0;
    this.evicted++;
  }

  private wrap(r: number): RouteAuditFlyweight {
    return this.flyweight.wrap(this.slabView, this.slab, r * this.recordLength);
  }
}
