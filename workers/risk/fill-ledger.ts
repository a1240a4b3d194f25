/**
 * The fills risk booked from venue trades, by the venue's ExecID: what a bust or correction
 * (ExecType H or G, naming the fill in its ExecRefID <19>) must take back. The risk stage is its
 * single writer; recovery rebuilds it from the journaled fill reports (their venueExecIdHash).
 *
 * Key: execIdHash (workers/fix/exec-id-set.ts) of the fill's ExecID as the CHILD_EVENT stores it
 * (risk-stage.ts storedIdKey), which folds in the venue: 52 bits, an exact integer. The fix stage's set, which holds the bytes, keeps one fill per
 * ExecID; here two different ExecIDs of one venue sharing a hash would make a bust of one find
 * the other (about 1 in 2^52 per bust against each fill held), which the order id check below
 * narrows to fills of the same order.
 *
 * Entry: the eventSeq of the fill's report (the ExecID its client saw), the order id, and the
 * quantity and price booked (a fill risk trimmed to what the order still had room for holds
 * the trimmed quantity). A busted fill keeps its entry with quantity 0, so a second bust of it
 * is refused; a corrected one holds the corrected trade.
 *
 * Bounded, without deletion: open addressing over a power-of-two table, probing PROBES slots
 * from the hash's home; a new fill takes the first empty one, or else evicts the oldest
 * (lowest eventSeq) of them. A bust of an evicted fill finds nothing: the stage counts it and
 * leaves it to operations. Sized as the order table (2^18 by default: 10 MiB), it holds about
 * as many recent fills as that table holds recent orders.
 * Typed arrays only: no allocation per fill.
 */
import type { SnapshotArray, SnapshotReader, SnapshotWriter } from '../../persistence/snapshot.ts';

const PROBES = 8;

export class FillLedger {
  readonly capacity: number;
  private readonly mask: number;
  /** The fill's execIdHash; 0 marks an empty slot (a fill without an ExecID is not held). */
  readonly hash: Float64Array;
  readonly eventSeq: Float64Array;
  readonly orderId: Float64Array;
  readonly qty: Float64Array;
  readonly pxTicks: Float64Array;

  /** capacity: a power of two, at least PROBES. */
  constructor(capacity: number) {
    if (!(Number.isInteger(capacity) && capacity >= PROBES && (capacity & (capacity - 1)) === 0)) {
      throw new Error(`Condition failed: fill ledger capacity ${capacity} is a power of two >= ${PROBES}`);
    }
    this.capacity = capacity;
    this.mask = capacity - 1;
    this.hash = new Float64Array(capacity);
    this.eventSeq = new Float64Array(capacity);
    this.orderId = new Float64Array(capacity);
    this.qty = new Float64Array(capacity);
    this.pxTicks = new Float64Array(capacity);
  }

  /** The ledger for an order table of `orderCapacity`: as many fills, as a power of two. */
  static forOrders(orderCapacity: number): FillLedger {
    let capacity = PROBES;
    while (capacity < orderCapacity) capacity *= 2;
    return new FillLedger(capacity);
  }

  private home(hash: number): number {
    // The low 32 bits are the hash's second, multiplicative half: well mixed.
    return (hash % 0x100000000) & this.mask;
  }

  /** Holds a booked fill (hash > 0). Returns the slot it took. */
  add(hash: number, eventSeq: number, orderId: number, qty: number, pxTicks: number): number {
    const start = this.home(hash);
    let at = -1;
    for (let k = 0; k < PROBES; k++) {
      const s = (start + k) & this.mask;
      if (this.hash[s] === 0 || this.hash[s] === hash) {
        at = s;
        break;
      }
      if (at < 0 || this.eventSeq[s] < this.eventSeq[at]) at = s;
    }
    this.hash[at] = hash;
    this.eventSeq[at] = eventSeq;
    this.orderId[at] = orderId;
    this.qty[at] = qty;
    this.pxTicks[at] = pxTicks;
    return at;
  }

  /** The slot of the fill with this hash, or -1. */
  find(hash: number): number {
    if (hash === 0) return -1;
    const start = this.home(hash);
    for (let k = 0; k < PROBES; k++) {
      const s = (start + k) & this.mask;
      if (this.hash[s] === hash) return s;
      if (this.hash[s] === 0) return -1;
    }
    return -1;
  }

  /** The fill at `at` as busted (qty 0) or corrected. */
  correct(at: number, qty: number, pxTicks: number): void {
    this.qty[at] = qty;
    this.pxTicks[at] = pxTicks;
  }

  private snapshotArrays(): [string, SnapshotArray][] {
    return [
      ['fills.hash', this.hash], ['fills.eventSeq', this.eventSeq], ['fills.orderId', this.orderId],
      ['fills.qty', this.qty], ['fills.pxTicks', this.pxTicks],
    ];
  }

  snapshot(w: SnapshotWriter): void {
    for (const [tag, a] of this.snapshotArrays()) w.array(tag, a);
  }

  restore(r: SnapshotReader): void {
    for (const [tag, a] of this.snapshotArrays()) r.arrayInto(tag, a);
  }
}
