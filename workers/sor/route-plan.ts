/**
 * The SOR's memory of routes in progress: one plan per route request, from the request until
 * the SOR will send no more children for it (then ROUTE_DONE goes to risk), and one entry per
 * child it sent, to follow the child's fate at its venue (CHILD_EVENT copies from fix).
 *
 * A plan stays open while the SOR may still act for it:
 *   - a child not yet answered by its venue (a reject is re-routed to a venue not yet tried);
 *   - a staged child waiting for its fallback time (then canceled and its rest sent on);
 *   - a staged IOC child whose remainder goes on to the next venue, or a sweep child (the IOC at
 *     the NBBO of a marketable DAY, GTC, IOC or market order) whose remainder is decided again on
 *     the fresh book.
 * It closes when every child has ended, or when every live child has been answered and none
 * waits for a fallback (resting children are then risk's business), or, after the client asked
 * to cancel (risk's CHILD_CANCEL), when no child is live any more.
 *
 * Typed arrays allocated at start-up; plans come from a free list, children live in slot
 * childSlot(childId, childIdBase, capacity) like the fix and risk stages' tables. Allocates
 * nothing per order.
 */

import { childSlot } from '../risk/order-table.ts';

export const NO_PLAN = -1;

export class PlanTable {
  readonly capacity: number;
  readonly venues: number;
  readonly orderId: Float64Array;
  readonly recvNs: Float64Array;
  readonly decisionNs: Float64Array;
  readonly qty: Float64Array;
  readonly limitTicks: Float64Array;
  /** Sum of child quantities sent, and of fills seen. */
  readonly routedQty: Float64Array;
  readonly filledQty: Float64Array;
  /** Sent and not yet filled or ended: filled + outstanding <= qty always. */
  readonly outstandingQty: Float64Array;
  /** Newest child id of the plan (0 none); ChildTable.nextSibling links the older ones. */
  readonly firstChild: Float64Array;
  readonly account: Uint32Array;
  readonly symbol: Uint32Array;
  readonly side: Uint8Array;
  readonly ordType: Uint8Array;
  readonly tif: Uint8Array;
  readonly mode: Uint8Array;
  readonly open: Uint8Array;
  readonly cancelRequested: Uint8Array;
  readonly childCount: Uint16Array;
  readonly liveChildren: Uint16Array;
  /** Live children the venue has not answered yet. */
  readonly unanswered: Uint16Array;
  /** Live children with a staged fallback still ahead. */
  readonly fallbackPending: Uint16Array;
  /** Decisions made so far (0 = the first). */
  readonly step: Uint8Array;
  readonly reason: Uint16Array;
  /** plan * venues + venue -> 1 once a child went there (staged and re-routes skip it). */
  readonly tried: Uint8Array;
  private readonly free: Int32Array;
  private freeCount: number;
  openCount: number;

  constructor(capacity: number, venues: number) {
    if (!(Number.isInteger(capacity) && capacity >= 1)) throw new Error('Condition failed: plan capacity >= 1');
    this.capacity = capacity;
    this.venues = venues;
    this.orderId = new Float64Array(capacity);
    this.recvNs = new Float64Array(capacity);
    this.decisionNs = new Float64Array(capacity);
    this.qty = new Float64Array(capacity);
    this.limitTicks = new Float64Array(capacity);
    this.routedQty = new Float64Array(capacity);
    this.filledQty = new Float64Array(capacity);
    this.outstandingQty = new Float64Array(capacity);
    this.firstChild = new Float64Array(capacity);
    this.account = new Uint32Array(capacity);
    this.symbol = new Uint32Array(capacity);
    this.side = new Uint8Array(capacity);
    this.ordType = new Uint8Array(capacity);
    this.tif = new Uint8Array(capacity);
    this.mode = new Uint8Array(capacity);
    this.open = new Uint8Array(capacity);
    this.cancelRequested = new Uint8Array(capacity);
    this.childCount = new Uint16Array(capacity);
    this.liveChildren = new Uint16Array(capacity);
    this.unanswered = new Uint16Array(capacity);
    this.fallbackPending = new Uint16Array(capacity);
    this.step = new Uint8Array(capacity);
    this.reason = new Uint16Array(capacity);
    this.tried = new Uint8Array(capacity * venues);
    this.free = new Int32Array(capacity);
    for (let i = 0; i < capacity; i++) this.free[i] = capacity - 1 - i;
    this.freeCount = capacity;
    this.openCount = 0;
  }

  /** A cleared plan slot, or NO_PLAN when every plan is in use. */
  allocate(): number {
    if (this.freeCount === 0) return NO_PLAN;
    const p = this.free[--this.freeCount];
    this.open[p] = 1;
    this.cancelRequested[p] = 0;
    this.routedQty[p] = 0;
    this.filledQty[p] = 0;
    this.outstandingQty[p] = 0;
    this.firstChild[p] = 0;
    this.childCount[p] = 0;
    this.liveChildren[p] = 0;
    this.unanswered[p] = 0;
    this.fallbackPending[p] = 0;
    this.step[p] = 0;
    this.reason[p] = 0;
    this.tried.fill(0, p * this.venues, (p + 1) * this.venues);
    this.openCount++;
    return p;
  }

  release(p: number): void {
    if (this.open[p] !== 1) throw new Error('Invariant: only an open plan is released');
    this.open[p] = 0;
    this.free[this.freeCount++] = p;
    this.openCount--;
  }
}

export class ChildTable {
  readonly capacity: number;
  readonly base: number;
  readonly childId: Float64Array;
  readonly plan: Int32Array;
  readonly venue: Uint16Array;
  readonly qty: Float64Array;
  readonly cumQty: Float64Array;
  /** The plan's previous child id (0: none). */
  readonly nextSibling: Float64Array;
  readonly priceTicks: Float64Array;
  /** The SOR book's quote count when the child was decided (MarketBook.consume). */
  readonly quotesAtDecision: Float64Array;
  readonly sentNs: Float64Array;
  readonly tif: Uint8Array;
  /** 1 while the child is live at its venue; written by markLive and markEnded only. */
  readonly live: Uint8Array;
  /** Slots whose child is live: claim() refuses at once when all are. */
  liveCount = 0;
  readonly answered: Uint8Array;
  /** 1 while a staged fallback is ahead; 2 once the SOR sent its own cancel; 3 staged IOC (rest sweeps on). */
  readonly fallback: Uint8Array;

  constructor(capacity: number, base: number) {
    if (!(Number.isInteger(capacity) && capacity >= 1)) throw new Error('Condition failed: child capacity >= 1');
    this.capacity = capacity;
    this.base = base;
    this.childId = new Float64Array(capacity);
    this.plan = new Int32Array(capacity).fill(NO_PLAN);
    this.venue = new Uint16Array(capacity);
    this.qty = new Float64Array(capacity);
    this.cumQty = new Float64Array(capacity);
    this.nextSibling = new Float64Array(capacity);
    this.priceTicks = new Float64Array(capacity);
    this.quotesAtDecision = new Float64Array(capacity);
    this.sentNs = new Float64Array(capacity);
    this.tif = new Uint8Array(capacity);
    this.live = new Uint8Array(capacity);
    this.answered = new Uint8Array(capacity);
    this.fallback = new Uint8Array(capacity);
  }

  slotOf(childId: number): number {
    const slot = childSlot(childId, this.base, this.capacity);
    return slot >= 0 && this.childId[slot] === childId ? slot : -1;
  }

  /**
   * The slot for the first child id from `childId` up whose slot holds no live child (a child
   * resting at its venue keeps its slot however many children pass it), or -1 when every slot
   * holds a live child. The id taken is childId[slot]; the ids before it were passed over and
   * are never issued. Each id is passed at most once; a full table is refused in one compare
   * (liveCount).
   *
   * The fix and risk stages key their child tables by the same residue (child id modulo this
   * capacity, config.childCapacity). A child normally ends there no later than here (the SOR
   * learns a child's end from fix's CHILD_EVENT, which fix writes, in the same order, to risk),
   * so a slot free here is free there. Where it is not (a child fix alone restored at a restart,
   * from its audit), fix refuses the new child (CHILD_TABLE_FULL) rather than forget the live
   * one, and risk, which links a child only once fix sent it, ends a stale child of its own
   * when fix reuses the slot (RiskStage.onChildSent).
   */
  claim(childId: number): number {
    const capacity = this.capacity;
    if (this.liveCount === capacity) return -1;
    let id = childId;
    let slot = childSlot(id, this.base, capacity);
    while (this.live[slot] === 1) {
      id++;
      slot = slot + 1 === capacity ? 0 : slot + 1;
    }
    this.childId[slot] = id;
    return slot;
  }

  /** The child in `slot` (claimed or restored) is live at its venue. */
  markLive(slot: number): void {
    if (this.live[slot] === 1) throw new Error('Invariant: a live child slot is not taken again');
    this.live[slot] = 1;
    this.liveCount++;
  }

  /** The child in `slot` ended; false when it was not live. */
  markEnded(slot: number): boolean {
    if (this.live[slot] === 0) return false;
    this.live[slot] = 0;
    this.liveCount--;
    return true;
  }

  /**
   * Recovery (workers/sor/recovery.ts): the slot of this exact child id, or -1 when a live child
   * holds it (never another id, as claim() would take).
   */
  restore(childId: number): number {
    const slot = childSlot(childId, this.base, this.capacity);
    if (this.live[slot] === 1) return -1;
    this.childId[slot] = childId;
    return slot;
  }
}

/** Staged fallbacks in deadline order (one delay for all, so FIFO order is deadline order). */
export class FallbackQueue {
  readonly capacity: number;
  readonly childId: Float64Array;
  readonly dueNs: Float64Array;
  private head: number;
  private tail: number;

  constructor(capacity: number) {
    this.capacity = capacity;
    this.childId = new Float64Array(capacity);
    this.dueNs = new Float64Array(capacity);
    this.head = 0;
    this.tail = 0;
  }

  get size(): number {
    return this.tail - this.head;
  }

  push(childId: number, dueNs: number): boolean {
    if (this.size === this.capacity) return false;
    const i = this.tail++ % this.capacity;
    this.childId[i] = childId;
    this.dueNs[i] = dueNs;
    return true;
  }

  /** True when the first entry is due at nowNs. */
  hasDue(nowNs: number): boolean {
    return this.size !== 0 && this.dueNs[this.head % this.capacity] <= nowNs;
  }

  /** The child id of the first entry due at nowNs (removed), or 0. */
  popDue(nowNs: number): number {
    if (this.size === 0) return 0;
    const i = this.head % this.capacity;
    if (this.dueNs[i] > nowNs) return 0;
    this.head++;
    return this.childId[i];
  }
}
