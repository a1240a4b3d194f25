/**
 * Reference prices per symbol, for the price collar and for marking positions, from the QUOTE
 * records every venue session sends (fix -> risk) and from our own fills:
 *
 *   1. NBBO midpoint, when the market is two-sided, fresh and not crossed: best bid over the
 *      venues whose bid is fresh, best ask likewise, both present and bid < ask (a locked or
 *      crossed book is not a price anyone can trade at, so it is not trusted);
 *   2. else the last trade in the symbol (our own fills, any account);
 *   3. else the previous close (config: symbols[].referencePrice).
 *
 * A quote is fresh for quoteFreshMs after risk RECEIVED it (the risk stage's clock, not the
 * venue's stamp: a venue with a wrong clock cannot make a stale quote look fresh). Per-venue
 * top of book lives in typed arrays indexed symbolId * venueSlots + venueId. Allocates nothing
 * after construction.
 */
import { MAX_PRICE_TICKS, MAX_QTY } from '../../engine/fixed-point.ts';
import type { SnapshotReader, SnapshotWriter } from '../../persistence/snapshot.ts';

export const RefSource = {
  NONE: 0,
  NBBO_MID: 1,
  LAST_TRADE: 2,
  PREVIOUS_CLOSE: 3,
} as const;

/** Venue ids are 1..64 (config); slot 0 unused. */
export const VENUE_SLOTS = 65;

export class ReferencePrices {
  readonly symbolCount: number;
  private readonly bid: Float64Array;
  private readonly ask: Float64Array;
  /** Receipt time of the venue's bid / ask (0: none). */
  private readonly bidNs: Float64Array;
  private readonly askNs: Float64Array;
  readonly lastTradeTicks: Float64Array;
  readonly previousCloseTicks: Float64Array;
  /** Highest venue id seen per symbol, so the scan covers only venues that quoted it. */
  private readonly venueHigh: Uint8Array;
  freshNs: number;
  /** Where the last reference() came from (RefSource): for tests and audit. */
  source: number;

  constructor(previousCloseTicks: number[], quoteFreshMs: number) {
    const n = previousCloseTicks.length;
    this.symbolCount = n;
    this.bid = new Float64Array(n * VENUE_SLOTS);
    this.ask = new Float64Array(n * VENUE_SLOTS);
    this.bidNs = new Float64Array(n * VENUE_SLOTS);
    this.askNs = new Float64Array(n * VENUE_SLOTS);
    this.lastTradeTicks = new Float64Array(n);
    this.previousCloseTicks = Float64Array.from(previousCloseTicks);
    this.venueHigh = new Uint8Array(n);
    this.freshNs = quoteFreshMs * 1e6;
    this.source = RefSource.NONE;
  }

  /**
   * Records one venue's top of book; false (nothing recorded) for a bad quote: unknown symbol
   * or venue, or a price or size that is not a whole number in range. A side with size 0 or
   * price 0 is absent: it clears that venue's side.
   */
  onQuote(symbolId: number, venueId: number, bid: number, bidQty: number, ask: number, askQty: number, nowNs: number): boolean {
    if (!(symbolId < this.symbolCount && venueId >= 1 && venueId < VENUE_SLOTS)) return false;
    if (!validPrice(bid) || !validPrice(ask) || !validQty(bidQty) || !validQty(askQty)) return false;
    const i = symbolId * VENUE_SLOTS + venueId;
    const hasBid = bid > 0 && bidQty > 0;
    const hasAsk = ask > 0 && askQty > 0;
    this.bid[i] = hasBid ? bid : 0;
    this.bidNs[i] = hasBid ? nowNs : 0;
    this.ask[i] = hasAsk ? ask : 0;
    this.askNs[i] = hasAsk ? nowNs : 0;
    if (venueId > this.venueHigh[symbolId]) this.venueHigh[symbolId] = venueId;
    return true;
  }

  onTrade(symbolId: number, pxTicks: number): void {
    this.lastTradeTicks[symbolId] = pxTicks;
  }

  /** The reference price of a symbol now, in ticks (> 0); sets `source`. */
  reference(symbolId: number, nowNs: number): number {
    const mid = this.nbboMid(symbolId, nowNs);
    if (mid > 0) {
      this.source = RefSource.NBBO_MID;
      return mid;
    }
    const last = this.lastTradeTicks[symbolId];
    if (last > 0) {
      this.source = RefSource.LAST_TRADE;
      return last;
    }
    this.source = RefSource.PREVIOUS_CLOSE;
    return this.previousCloseTicks[symbolId];
  }

  /** Midpoint of the fresh, two-sided, uncrossed NBBO rounded down to a tick, or 0. */
  nbboMid(symbolId: number, nowNs: number): number {
    const base = symbolId * VENUE_SLOTS;
    const high = this.venueHigh[symbolId];
    const oldest = nowNs - this.freshNs;
    let bestBid = 0;
    let bestAsk = 0;
    for (let v = 1; v <= high; v++) {
      const i = base + v;
      const b = this.bid[i];
      if (b > bestBid && this.bidNs[i] >= oldest) bestBid = b;
      const a = this.ask[i];
      if (a > 0 && (bestAsk === 0 || a < bestAsk) && this.askNs[i] >= oldest) bestAsk = a;
    }
    if (bestBid === 0 || bestAsk === 0 || !(bestBid < bestAsk)) return 0;
    return Math.floor((bestBid + bestAsk) / 2);
  }

  /**
   * What a journal's replay builds here into a recovery snapshot (persistence/snapshot.ts;
   * start-up only): the last trade per symbol (our own fills, onTrade). Not the quotes (not
   * journaled) nor the previous close (the configuration's, as this start has it).
   */
  snapshot(w: SnapshotWriter): void {
    w.array('refs.lastTradeTicks', this.lastTradeTicks);
  }

  /** Replaces the last trades with a snapshot's. */
  restore(r: SnapshotReader): void {
    r.arrayInto('refs.lastTradeTicks', this.lastTradeTicks);
  }
}

function validPrice(p: number): boolean {
  return Number.isInteger(p) && p >= 0 && p <= MAX_PRICE_TICKS;
}

function validQty(q: number): boolean {
  return Number.isInteger(q) && q >= 0 && q <= MAX_QTY * 100;
}

/**
 * Band of `bps` basis points of a reference, in ticks, rounded down; exact for every reference
 * up to MAX_PRICE_TICKS (the product is split so no intermediate passes 2^53).
 */
export function bandTicks(refTicks: number, bps: number): number {
  const high = Math.floor(refTicks / 10_000);
  const low = refTicks - high * 10_000;
  return high * bps + Math.floor((low * bps) / 10_000);
}
