/**
 * A price-time priority limit order book for one symbol. No sockets, no FIX, no clock.
 *
 * Orders live in a fixed pool (struct of arrays, slot index = order id); each price level is a
 * FIFO doubly linked list of slots. Levels sit in two arrays sorted so that the BEST level is
 * LAST (cheap to remove as it empties):
 *
 *     bids: [ 99.97, 99.98, 99.99 ]   <- best bid last (highest)
 *     asks: [100.03,100.02,100.01 ]   <- best ask last (lowest)
 *
 * A taker matches against the best level first and, inside a level, the oldest order first;
 * every fill trades at the resting (maker) order's price.
 */

import { Side } from '../engine/domain.ts';

/** The engine's Side (engine/domain.ts), re-exported for the simulator's importers. */
export { Side };

/** Receives each fill as match() walks the book. */
export interface FillListener {
  /** Maker `orderId` (owned by `owner`) traded `qty` at `priceTicks`; `makerLeaves` remain (0 = gone from the book). */
  onFill(orderId: number, owner: number, priceTicks: number, qty: number, makerLeaves: number): void;
}

class Level {
  priceTicks: number;
  head: number;
  tail: number;
  totalQty: number;
  constructor(priceTicks: number) {
    this.priceTicks = priceTicks;
    this.head = -1;
    this.tail = -1;
    this.totalQty = 0;
  }
}

/** Price limit for a market buy: walk any ask. */
export const MARKET_BUY_LIMIT = Number.MAX_SAFE_INTEGER;
/** Price limit for a market sell: walk any bid. */
export const MARKET_SELL_LIMIT = 0;

export class OrderBook {
  readonly capacity: number;
  private readonly price: Float64Array;
  private readonly leaves: Float64Array;
  private readonly side: Uint8Array;
  private readonly owner: Int32Array;
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  private readonly levelOf: (Level | null)[];
  private readonly freeSlots: Int32Array;
  private freeCount: number;
  private readonly bids: Level[];
  private readonly asks: Level[];

  constructor(capacity: number) {
    if (!(Number.isInteger(capacity) && capacity > 0)) throw new Error('Condition failed: capacity > 0');
    this.capacity = capacity;
    this.price = new Float64Array(capacity);
    this.leaves = new Float64Array(capacity);
    this.side = new Uint8Array(capacity);
    this.owner = new Int32Array(capacity);
    this.next = new Int32Array(capacity);
    this.prev = new Int32Array(capacity);
    this.levelOf = new Array<Level | null>(capacity).fill(null);
    this.freeSlots = new Int32Array(capacity);
    for (let i = 0; i < capacity; i++) this.freeSlots[i] = capacity - 1 - i;
    this.freeCount = capacity;
    this.bids = [];
    this.asks = [];
  }

  /** Orders resting in the book. */
  get orderCount(): number {
    return this.capacity - this.freeCount;
  }

  /**
   * Rests an order at the back of its price level. It must not cross the opposite side (match
   * first). Returns the order id, or -1 when the pool is full.
   */
  add(side: Side, priceTicks: number, qty: number, owner: number): number {
    if (!(qty > 0 && Number.isSafeInteger(qty))) throw new Error('Condition failed: qty is a positive integer');
    if (!(priceTicks > 0 && Number.isSafeInteger(priceTicks))) throw new Error('Condition failed: price is a positive integer');
    if (side === Side.BUY ? this.bestAsk() !== -1 && priceTicks >= this.bestAsk() : this.bestBid() !== -1 && priceTicks <= this.bestBid()) {
      throw new Error('Invariant: a resting order does not cross the book');
    }
    if (this.freeCount === 0) return -1;
    const id = this.freeSlots[--this.freeCount];
    const level = this.levelFor(side, priceTicks);
    this.price[id] = priceTicks;
    this.leaves[id] = qty;
    this.side[id] = side;
    this.owner[id] = owner;
    this.next[id] = -1;
    this.prev[id] = level.tail;
    if (level.tail >= 0) this.next[level.tail] = id;
    else level.head = id;
    level.tail = id;
    level.totalQty += qty;
    this.levelOf[id] = level;
    return id;
  }

  /**
   * Takes up to `qty` from the opposite side at prices no worse than `limitTicks` (use
   * MARKET_BUY_LIMIT / MARKET_SELL_LIMIT for market orders). Returns the quantity filled.
   */
  match(takerSide: Side, limitTicks: number, qty: number, listener: FillListener): number {
    const levels = takerSide === Side.BUY ? this.asks : this.bids;
    let remaining = qty;
    while (remaining > 0 && levels.length > 0) {
      const level = levels[levels.length - 1];
      if (takerSide === Side.BUY ? level.priceTicks > limitTicks : level.priceTicks < limitTicks) break;
      while (remaining > 0 && level.head >= 0) {
        const id = level.head;
        const traded = this.leaves[id] < remaining ? this.leaves[id] : remaining;
        remaining -= traded;
        this.leaves[id] -= traded;
        level.totalQty -= traded;
        const makerLeaves = this.leaves[id];
        const owner = this.owner[id];
        if (makerLeaves === 0) this.unlink(id, level);
        listener.onFill(id, owner, level.priceTicks, traded, makerLeaves);
      }
      if (level.head < 0) levels.pop();
    }
    return qty - remaining;
  }

  /** Quantity a taker could fill at prices no worse than limitTicks, counted up to `upTo`. */
  availableQty(takerSide: Side, limitTicks: number, upTo: number): number {
    const levels = takerSide === Side.BUY ? this.asks : this.bids;
    let total = 0;
    for (let i = levels.length - 1; i >= 0 && total < upTo; i--) {
      const level = levels[i];
      if (takerSide === Side.BUY ? level.priceTicks > limitTicks : level.priceTicks < limitTicks) break;
      total += level.totalQty;
    }
    return total < upTo ? total : upTo;
  }

  /** Removes a resting order; returns the quantity it had left, or -1 when it is not in the book. */
  cancel(orderId: number): number {
    if (orderId < 0 || orderId >= this.capacity) return -1;
    const level = this.levelOf[orderId];
    if (level === null) return -1;
    const left = this.leaves[orderId];
    level.totalQty -= left;
    this.leaves[orderId] = 0;
    this.unlink(orderId, level);
    if (level.head < 0) this.removeLevel(this.side[orderId] as Side, level);
    return left;
  }

  isLive(orderId: number): boolean {
    return orderId >= 0 && orderId < this.capacity && this.levelOf[orderId] !== null;
  }

  ownerOf(orderId: number): number {
    return this.owner[orderId];
  }

  leavesOf(orderId: number): number {
    return this.leaves[orderId];
  }

  /** Best bid price, or -1. */
  bestBid(): number {
    return this.bids.length === 0 ? -1 : this.bids[this.bids.length - 1].priceTicks;
  }

  /** Best ask price, or -1. */
  bestAsk(): number {
    return this.asks.length === 0 ? -1 : this.asks[this.asks.length - 1].priceTicks;
  }

  /** Number of price levels on a side. */
  levelCount(side: Side): number {
    return side === Side.BUY ? this.bids.length : this.asks.length;
  }

  /** Price of the i-th best level (0 = best). */
  levelPrice(side: Side, i: number): number {
    const levels = side === Side.BUY ? this.bids : this.asks;
    return levels[levels.length - 1 - i].priceTicks;
  }

  /** Total quantity of the i-th best level (0 = best). */
  levelQty(side: Side, i: number): number {
    const levels = side === Side.BUY ? this.bids : this.asks;
    return levels[levels.length - 1 - i].totalQty;
  }

  /** Order ids of a level in time priority. ALLOCATES: tests and diagnostics only. */
  levelOrders(side: Side, i: number): number[] {
    const levels = side === Side.BUY ? this.bids : this.asks;
    const out: number[] = [];
    for (let id = levels[levels.length - 1 - i].head; id >= 0; id = this.next[id]) out.push(id);
    return out;
  }

  /** Finds or creates the level for a price, keeping the best-last order. */
  private levelFor(side: Side, priceTicks: number): Level {
    const levels = side === Side.BUY ? this.bids : this.asks;
    // Binary search for the insertion point; bids ascend, asks descend.
    let lo = 0;
    let hi = levels.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const p = levels[mid].priceTicks;
      if (p === priceTicks) return levels[mid];
      if (side === Side.BUY ? p < priceTicks : p > priceTicks) lo = mid + 1;
      else hi = mid;
    }
    const level = new Level(priceTicks); // one object per new price level (sim, not the engine)
    levels.splice(lo, 0, level);
    return level;
  }

  private unlink(id: number, level: Level): void {
    const p = this.prev[id];
    const n = this.next[id];
    if (p >= 0) this.next[p] = n;
    else level.head = n;
    if (n >= 0) this.prev[n] = p;
    else level.tail = p;
    this.levelOf[id] = null;
    this.freeSlots[this.freeCount++] = id;
  }

  private removeLevel(side: Side, level: Level): void {
    const levels = side === Side.BUY ? this.bids : this.asks;
    const i = levels.lastIndexOf(level);
    if (i < 0) throw new Error('Invariant: an empty level is in its side');
    levels.splice(i, 1);
  }
}
