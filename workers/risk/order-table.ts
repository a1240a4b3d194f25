/**
 * Parent orders of record, off the JavaScript heap: one typed array per field, allocated at
 * start-up, indexed by slot. Written only by the risk stage.
 *
 * Order ids are issued in increasing order and slot = (orderId - 1) % capacity, so a lookup by
 * id is one index and one compare, with no hash map. A slot is reused only when the order in it
 * is terminal with no live child and no route request at the SOR (holdsLive). When the next
 * id's slot is still held (a GTC resting while `capacity` newer orders came and went),
 * allocate() skips that id and tries the next: skipped ids are never issued (slotOf finds
 * nothing for them), and a live order keeps its slot however long it lives. Only when every slot
 * is held is a new order refused (ORDER_TABLE_FULL); nothing is ever overwritten. A full table is
 * found full by one read of every slot; later refusals cost one compare until a slot may have
 * come free (an order's state set terminal, its last live child ended, its route request back:
 * setState, childEnded, routeDone).
 *
 * Client order ids map to orders through an open-addressing hash index keyed by
 * (account, ClOrdID bytes), also in typed arrays; the bytes live in the table (40 per slot).
 * Linear probing with backward-shift deletion: a removed entry leaves no tombstone, so the
 * index holds exactly the live ClOrdIDs however many orders pass through, and a miss stops at
 * the first empty entry.
 */

import { equalBytes, hashBytes } from '../../engine/bytes.ts';
import { CL_ORD_ID_CAPACITY } from '../../engine/domain.ts';
import { isTerminal } from '../../engine/order-state.ts';
import { SnapshotMismatch, type SnapshotArray, type SnapshotReader, type SnapshotWriter } from '../../persistence/snapshot.ts';

const EMPTY = 0;

/**
 * The slot of an order id in a table of `capacity` orders. The fix stage's recovery
 * (workers/fix/recovery.ts) and ingest's order view (workers/ingest/order-view.ts) key orders by
 * the same slot, so they forget an order exactly when this table does.
 */
export function orderSlot(orderId: number, capacity: number): number {
  return (orderId - 1) % capacity;
}

/**
 * The slot of a child id in a child table of `capacity` children issued from `base`: the SOR's
 * (workers/sor/route-plan.ts), fix's (workers/fix/fix-stage.ts) and risk's tables (below) key
 * children by this one residue, so a slot the SOR finds free is the same slot in the others.
 */
export function childSlot(childId: number, base: number, capacity: number): number {
  return (childId - base) % capacity;
}

/** The table's counters in a snapshot after its next id, one list for both directions (SnapshotWriter.numbers). */
const ORDER_TABLE_COUNTS = ['idsSkipped', 'fullScans', 'releases', 'fullAt'];

export class OrderTable {
  readonly capacity: number;
  readonly orderId: Float64Array;
  readonly qty: Float64Array;
  readonly priceTicks: Float64Array;
  readonly cumQty: Float64Array;
  /** Sum of lastQty * lastPx over fills, in ticks. */
  readonly cumNotional: Float64Array;
  /** Quantity sent to venues and still live there. */
  readonly venueOpenQty: Float64Array;
  readonly recvTimeNs: Float64Array;
  readonly accountId: Uint32Array;
  readonly symbolId: Uint32Array;
  readonly connId: Uint32Array;
  readonly requestId: Uint32Array;
  readonly liveChildren: Uint32Array;
  /** First child id of this order's intrusive child list (0 = none). */
  readonly firstChild: Float64Array;
  readonly side: Uint8Array;
  readonly ordType: Uint8Array;
  readonly tif: Uint8Array;
  readonly state: Uint8Array;
  readonly source: Uint8Array;
  /** 1 while a ROUTE_REQUEST is at the SOR and its ROUTE_DONE has not come back. */
  readonly routing: Uint8Array;
  readonly lastReason: Uint16Array;
  /** Pending replace: the new quantity and price, applied when the children are gone. */
  readonly replaceQty: Float64Array;
  readonly replacePriceTicks: Float64Array;
  readonly clOrdIdLength: Uint8Array;
  readonly clOrdIds: Uint8Array;
  /** Pending replace: the new ClOrdID. */
  readonly replaceClOrdIdLength: Uint8Array;
  readonly replaceClOrdIds: Uint8Array;

  private nextOrderId: number;
  /** Ids allocate() skipped because a live order held their slot (never issued). */
  idsSkipped = 0;
  /** Times allocate() read every slot and found each held (once per stretch of a full table). */
  fullScans = 0;
  /** Bumped whenever a slot may have stopped holding a live order (setState, childEnded, routeDone). */
  private releases = 0;
  /** `releases` when allocate() last found every slot held (-1: never): while equal, still full. */
  private fullAt = -1;
  private readonly indexMask: number;
  /** Hash index: slot + 1 of the order (slot + 1 + capacity for a reserved replace id), or EMPTY. */
  private readonly indexSlots: Int32Array;
  private readonly indexHashes: Uint32Array;

  constructor(capacity: number, firstOrderId: number) {
    if (!(Number.isInteger(capacity) && capacity >= 16)) throw new Error('Condition failed: order table capacity >= 16');
    if (!(Number.isSafeInteger(firstOrderId) && firstOrderId >= 1)) throw new Error('Condition failed: firstOrderId >= 1');
    this.capacity = capacity;
    this.orderId = new Float64Array(capacity);
    this.qty = new Float64Array(capacity);
    this.priceTicks = new Float64Array(capacity);
    this.cumQty = new Float64Array(capacity);
    this.cumNotional = new Float64Array(capacity);
    this.venueOpenQty = new Float64Array(capacity);
    this.recvTimeNs = new Float64Array(capacity);
    this.accountId = new Uint32Array(capacity);
    this.symbolId = new Uint32Array(capacity);
    this.connId = new Uint32Array(capacity);
    this.requestId = new Uint32Array(capacity);
    this.liveChildren = new Uint32Array(capacity);
    this.firstChild = new Float64Array(capacity);
    this.side = new Uint8Array(capacity);
    this.ordType = new Uint8Array(capacity);
    this.tif = new Uint8Array(capacity);
    this.state = new Uint8Array(capacity);
    this.source = new Uint8Array(capacity);
    this.routing = new Uint8Array(capacity);
    this.lastReason = new Uint16Array(capacity);
    this.replaceQty = new Float64Array(capacity);
    this.replacePriceTicks = new Float64Array(capacity);
    this.clOrdIdLength = new Uint8Array(capacity);
    this.clOrdIds = new Uint8Array(capacity * CL_ORD_ID_CAPACITY);
    this.replaceClOrdIdLength = new Uint8Array(capacity);
    this.replaceClOrdIds = new Uint8Array(capacity * CL_ORD_ID_CAPACITY);
    this.nextOrderId = firstOrderId;
    // Index load factor <= 0.5: each order holds at most two entries (its ClOrdID and a pending
    // replace's), so four per slot, rounded up to a power of two.
    let indexSize = 1;
    while (indexSize < capacity * 4) indexSize <<= 1;
    this.indexMask = indexSize - 1;
    this.indexSlots = new Int32Array(indexSize);
    this.indexHashes = new Uint32Array(indexSize);
  }

  /** The slot of orderId, or -1 if unknown (never issued, or evicted after it ended). */
  slotOf(orderId: number): number {
    if (!(orderId >= 1 && orderId < this.nextOrderId)) return -1;
    const slot = orderSlot(orderId, this.capacity);
    return this.orderId[slot] === orderId ? slot : -1;
  }

  /** The next id to be issued (for tests and recovery). */
  peekNextOrderId(): number {
    return this.nextOrderId;
  }

  /**
   * Takes the next order id whose slot holds no live order, evicting the terminal order that
   * held it; ids whose slot a live order holds are skipped (counted in idsSkipped) and never
   * issued. Returns the slot, or -1 when every slot holds a live order (table full; no id is
   * used up). The caller fills every field. A skip costs one compare per live slot passed, and
   * each id is passed at most once. A full table is read whole once; until a slot may have come
   * free (setState terminal, childEnded, routeDone), each refusal after that is one compare.
   */
  allocate(): number {
    const capacity = this.capacity;
    let orderId = this.nextOrderId;
    let slot = orderSlot(orderId, capacity);
    let skipped = 0;
    while (this.orderId[slot] !== 0 && this.holdsLive(slot)) {
      // Found full at the last refusal, and no slot freed since: still full.
      if (skipped === 0 && this.fullAt === this.releases) return -1;
      if (++skipped === capacity) {
        this.fullAt = this.releases;
        this.fullScans++;
        return -1;
      }
      orderId++;
      slot = slot + 1 === capacity ? 0 : slot + 1;
    }
    if (this.orderId[slot] !== 0) {
      this.unindex(slot, false);
      this.unindex(slot, true);
    }
    this.idsSkipped += skipped;
    this.nextOrderId = orderId + 1;
    this.orderId[slot] = orderId;
    this.cumQty[slot] = 0;
    this.cumNotional[slot] = 0;
    this.venueOpenQty[slot] = 0;
    // liveChildren and routing are 0 already: a slot is taken only when its order is idle (holdsLive).
    this.firstChild[slot] = 0;
    this.lastReason[slot] = 0;
    this.replaceQty[slot] = 0;
    this.replacePriceTicks[slot] = 0;
    this.clOrdIdLength[slot] = 0;
    this.replaceClOrdIdLength[slot] = 0;
    return slot;
  }

  /**
   * Recovery only (workers/risk/recovery.ts): takes the slot of an order id read from the
   * journal, as allocate() did when it was issued, and moves the next id past it. Ids arrive in
   * increasing order, so evictions happen as they did before the crash. Returns the slot, or -1
   * when an older order still live holds it (the journal disagrees with the table's capacity).
   */
  restoreAllocate(orderId: number): number {
    if (!(Number.isSafeInteger(orderId) && orderId >= this.nextOrderId)) throw new Error('Condition failed: restored order ids increase');
    const slot = orderSlot(orderId, this.capacity);
    if (this.orderId[slot] !== 0 && this.holdsLive(slot)) return -1;
    this.nextOrderId = orderId;
    const got = this.allocate();
    if (got !== slot) throw new Error('Invariant: restoreAllocate takes the id\'s own slot');
    return slot;
  }

  /**
   * Whether the order in `slot` must keep it: working, or terminal with a child still live at its
   * venue (a child SENT after a late fill completed the order, being canceled; its end, fills and
   * position must still find the order), or terminal with a route request still at the SOR (the
   * children it leads to must find the order, which cancels them; and the requests waiting for
   * the SOR stay one per held slot, which bounds risk's queue toward it).
   */
  holdsLive(slot: number): boolean {
    return !isTerminal(this.state[slot]) || !this.idle(slot);
  }

  /** Nothing of the order is working: no live child at a venue and no route request at the SOR. */
  idle(slot: number): boolean {
    return this.liveChildren[slot] === 0 && this.routing[slot] === 0;
  }

  /** The order's route request went to the SOR (one at a time): its slot is held until routeDone. */
  routeSent(slot: number): void {
    this.routing[slot] = 1;
  }

  /**
   * The order's route request came back from the SOR (ROUTE_DONE): a terminal order with no live
   * child is then free, so allocate() reads the table again; a working order frees nothing, and
   * a full table's next refusal stays one compare.
   */
  routeDone(slot: number): void {
    if (this.routing[slot] === 0) return;
    this.routing[slot] = 0;
    if (!this.holdsLive(slot)) this.releases++;
  }

  /**
   * The one writer of an order's state (the risk stage and its recovery): a terminal state may
   * free the slot, so allocate() reads the table again before it refuses.
   */
  setState(slot: number, state: number): void {
    this.state[slot] = state;
    if (isTerminal(state)) this.releases++;
  }

  /** One live child of the order at `slot` ended; the last one may free a terminal order's slot. */
  childEnded(slot: number): void {
    if (this.liveChildren[slot] === 0) throw new Error('Invariant: a child ends only while live');
    if (--this.liveChildren[slot] === 0) this.releases++;
  }

  /** Sets the slot's ClOrdID from src and indexes it under its account. */
  setClOrdId(slot: number, src: Uint8Array, start: number, length: number): void {
    if (!(length >= 1 && length <= CL_ORD_ID_CAPACITY)) throw new Error('Condition failed: ClOrdID length');
    if (this.clOrdIdLength[slot] !== 0) this.unindex(slot, false);
    const base = slot * CL_ORD_ID_CAPACITY;
    for (let i = 0; i < length; i++) this.clOrdIds[base + i] = src[start + i];
    this.clOrdIdLength[slot] = length;
    this.index(slot, false);
  }

  /**
   * Reserves the ClOrdID of a pending replace (already in replaceClOrdIds) in the index, so no
   * other order of the account can take it before the replace completes or is refused.
   */
  reserveReplaceClOrdId(slot: number): void {
    this.index(slot, true);
  }

  /** Drops the reservation made by reserveReplaceClOrdId (replace done or refused). */
  releaseReplaceClOrdId(slot: number): void {
    this.unindex(slot, true);
  }

  /**
   * The slot of the order holding this ClOrdID in this account (as its current id, or reserved
   * by its pending replace), or -1.
   */
  findByClOrdId(accountId: number, src: Uint8Array, start: number, length: number): number {
    if (length < 1 || length > CL_ORD_ID_CAPACITY) return -1;
    const hash = hashBytes(accountId, src, start, length);
    const mask = this.indexMask;
    for (let probe = 0, i = hash & mask; probe <= mask; probe++, i = (i + 1) & mask) {
      const entry = this.indexSlots[i];
      if (entry === EMPTY) return -1;
      if (this.indexHashes[i] !== hash) continue;
      const alias = entry > this.capacity;
      const slot = (entry - 1) % this.capacity;
      const ids = alias ? this.replaceClOrdIds : this.clOrdIds;
      const idLength = alias ? this.replaceClOrdIdLength[slot] : this.clOrdIdLength[slot];
      if (
        this.accountId[slot] === accountId &&
        idLength === length &&
        equalBytes(ids, slot * CL_ORD_ID_CAPACITY, src, start, length)
      ) {
        return slot;
      }
    }
    return -1;
  }

  /** Index entries: slot + 1 for an order's ClOrdID, slot + 1 + capacity for a reserved one. */
  private index(slot: number, alias: boolean): void {
    const length = alias ? this.replaceClOrdIdLength[slot] : this.clOrdIdLength[slot];
    const ids = alias ? this.replaceClOrdIds : this.clOrdIds;
    const hash = hashBytes(this.accountId[slot], ids, slot * CL_ORD_ID_CAPACITY, length);
    const mask = this.indexMask;
    const value = alias ? slot + 1 + this.capacity : slot + 1;
    for (let probe = 0, i = hash & mask; probe <= mask; probe++, i = (i + 1) & mask) {
      const entry = this.indexSlots[i];
      if (entry === EMPTY) {
        this.indexSlots[i] = value;
        this.indexHashes[i] = hash;
        return;
      }
    }
    throw new Error('Invariant: ClOrdID index has a free entry (load factor <= 0.5)');
  }

  private unindex(slot: number, alias: boolean): void {
    const length = alias ? this.replaceClOrdIdLength[slot] : this.clOrdIdLength[slot];
    if (length === 0) return;
    const ids = alias ? this.replaceClOrdIds : this.clOrdIds;
    const hash = hashBytes(this.accountId[slot], ids, slot * CL_ORD_ID_CAPACITY, length);
    const mask = this.indexMask;
    const value = alias ? slot + 1 + this.capacity : slot + 1;
    for (let probe = 0, i = hash & mask; probe <= mask; probe++, i = (i + 1) & mask) {
      const entry = this.indexSlots[i];
      if (entry === EMPTY) return;
      if (entry === value) {
        this.removeAt(i);
        return;
      }
    }
  }

  /**
   * Empties entry i and shifts later entries of the same probe run back into the hole, so every
   * remaining entry stays reachable from its home without tombstones. An entry at j may move to
   * the hole when the hole lies on its probe path, cyclically in [home, j).
   */
  private removeAt(i: number): void {
    const mask = this.indexMask;
    let hole = i;
    for (let j = (i + 1) & mask; this.indexSlots[j] !== EMPTY; j = (j + 1) & mask) {
      const home = this.indexHashes[j] & mask;
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        this.indexSlots[hole] = this.indexSlots[j];
        this.indexHashes[hole] = this.indexHashes[j];
        hole = j;
      }
    }
    this.indexSlots[hole] = EMPTY;
    this.indexHashes[hole] = 0;
  }

  /** Entries in the ClOrdID index (for tests and health): exactly the ClOrdIDs held. */
  indexEntries(): number {
    let n = 0;
    for (let i = 0; i < this.indexSlots.length; i++) if (this.indexSlots[i] !== EMPTY) n++;
    return n;
  }

  // ------------------------------------------------------------------------------------------
  // Recovery snapshots (persistence/snapshot.ts, workers/risk/recovery.ts): start-up only
  // ------------------------------------------------------------------------------------------

  /**
   * Every array of the table, by snapshot tag: the per-slot fields and the ClOrdID index as it
   * lies (where an entry sits depends on the order of the inserts and removals before it, so the
   * index is copied, not rebuilt).
   */
  private snapshotArrays(): [string, SnapshotArray][] {
    return [
      ['orders.orderId', this.orderId], ['orders.qty', this.qty], ['orders.priceTicks', this.priceTicks],
      ['orders.cumQty', this.cumQty], ['orders.cumNotional', this.cumNotional], ['orders.venueOpenQty', this.venueOpenQty],
      ['orders.recvTimeNs', this.recvTimeNs], ['orders.accountId', this.accountId], ['orders.symbolId', this.symbolId],
      ['orders.connId', this.connId], ['orders.requestId', this.requestId], ['orders.liveChildren', this.liveChildren],
      ['orders.firstChild', this.firstChild], ['orders.side', this.side], ['orders.ordType', this.ordType], ['orders.tif', this.tif],
      ['orders.state', this.state], ['orders.source', this.source], ['orders.routing', this.routing], ['orders.lastReason', this.lastReason],
      ['orders.replaceQty', this.replaceQty], ['orders.replacePriceTicks', this.replacePriceTicks],
      ['orders.clOrdIdLength', this.clOrdIdLength], ['orders.clOrdIds', this.clOrdIds],
      ['orders.replaceClOrdIdLength', this.replaceClOrdIdLength], ['orders.replaceClOrdIds', this.replaceClOrdIds],
      ['orders.indexSlots', this.indexSlots], ['orders.indexHashes', this.indexHashes],
    ];
  }

  /** The whole table into a recovery snapshot: every array, the next id and the counters. */
  snapshot(w: SnapshotWriter): void {
    for (const [tag, a] of this.snapshotArrays()) w.array(tag, a);
    w.number('orders.nextOrderId', this.nextOrderId);
    w.numbers('orders', this, ORDER_TABLE_COUNTS);
  }

  /** Replaces the whole table with a snapshot's (of a table of this capacity: arrayInto checks every length). */
  restore(r: SnapshotReader): void {
    for (const [tag, a] of this.snapshotArrays()) r.arrayInto(tag, a);
    const nextOrderId = r.number('orders.nextOrderId');
    if (!(Number.isSafeInteger(nextOrderId) && nextOrderId >= 1)) throw new SnapshotMismatch(`orders.nextOrderId: ${nextOrderId}, not an id`);
    this.nextOrderId = nextOrderId;
    r.numbersInto('orders', this, ORDER_TABLE_COUNTS);
  }
}

/**
 * Child orders (one per venue order), same scheme: childIds are issued by the SOR in increasing
 * order from a base, skipping ids whose slot a live child holds (workers/sor/route-plan.ts
 * claim), slot = childSlot(childId, base, capacity). The live children of one parent form an intrusive
 * list (RiskStage.endChild takes a child out when it ends).
 */
export class ChildTable {
  readonly capacity: number;
  readonly base: number;
  readonly childId: Float64Array;
  readonly orderId: Float64Array;
  readonly qty: Float64Array;
  readonly priceTicks: Float64Array;
  readonly cumQty: Float64Array;
  readonly nextSibling: Float64Array;
  readonly venueId: Uint32Array;
  /** 1 while the child is live at its venue. */
  readonly live: Uint8Array;
  /** 1 once a cancel was sent for it. */
  readonly cancelSent: Uint8Array;

  constructor(capacity: number, base: number) {
    if (!(Number.isInteger(capacity) && capacity >= 16)) throw new Error('Condition failed: child table capacity >= 16');
    this.capacity = capacity;
    this.base = base;
    this.childId = new Float64Array(capacity);
    this.orderId = new Float64Array(capacity);
    this.qty = new Float64Array(capacity);
    this.priceTicks = new Float64Array(capacity);
    this.cumQty = new Float64Array(capacity);
    this.nextSibling = new Float64Array(capacity);
    this.venueId = new Uint32Array(capacity);
    this.live = new Uint8Array(capacity);
    this.cancelSent = new Uint8Array(capacity);
  }

  slotFor(childId: number): number {
    if (!(childId > this.base)) return -1;
    return childSlot(childId, this.base, this.capacity);
  }

  /** The slot holding childId, or -1. */
  slotOf(childId: number): number {
    const slot = this.slotFor(childId);
    return slot >= 0 && this.childId[slot] === childId ? slot : -1;
  }

  /** Records a child; returns its slot, or -1 when the slot still holds a live child. */
  add(childId: number, orderId: number, venueId: number, qty: number, priceTicks: number, nextSibling: number): number {
    const slot = this.slotFor(childId);
    if (slot < 0) return -1;
    if (this.childId[slot] !== 0 && this.live[slot] === 1) return -1;
    this.childId[slot] = childId;
    this.orderId[slot] = orderId;
    this.venueId[slot] = venueId;
    this.qty[slot] = qty;
    this.priceTicks[slot] = priceTicks;
    this.cumQty[slot] = 0;
    this.nextSibling[slot] = nextSibling;
    this.live[slot] = 1;
    this.cancelSent[slot] = 0;
    return slot;
  }

  // Recovery snapshots (persistence/snapshot.ts, workers/risk/recovery.ts): start-up only.

  private snapshotArrays(): [string, SnapshotArray][] {
    return [
      ['children.childId', this.childId], ['children.orderId', this.orderId], ['children.qty', this.qty],
      ['children.priceTicks', this.priceTicks], ['children.cumQty', this.cumQty], ['children.nextSibling', this.nextSibling],
      ['children.venueId', this.venueId], ['children.live', this.live], ['children.cancelSent', this.cancelSent],
    ];
  }

  /** Every array of the table into a recovery snapshot (its base is not: the table is built with it). */
  snapshot(w: SnapshotWriter): void {
    for (const [tag, a] of this.snapshotArrays()) w.array(tag, a);
  }

  /**
   * Replaces the table's arrays with a snapshot's: of a table of this capacity (arrayInto checks)
   * and, when it holds any child, of this base, or every child would sit in another slot
   * (workers/risk/recovery.ts checks that before it builds the stage).
   */
  restore(r: SnapshotReader): void {
    for (const [tag, a] of this.snapshotArrays()) r.arrayInto(tag, a);
  }
}
