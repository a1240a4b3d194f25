/**
 * Duplicate-content detection: an order with the same account, symbol, side, quantity and price
 * as one accepted within the account's window is refused (DUPLICATE_ORDER), whatever its
 * ClOrdID. The usual cause is a client retrying with a fresh ClOrdID, or a fat finger.
 *
 * Open addressing over typed arrays: each entry holds the content and the time it was accepted.
 * An entry older than MAX_DUPLICATE_WINDOW_MS is free for reuse, so there is no deletion; a probe
 * run of PROBE_LIMIT live entries overwrites its oldest one (a detection lost under a flood of
 * distinct orders, counted in `evictions`; the throttles bound how fast that can happen).
 */
import { MAX_DUPLICATE_WINDOW_MS } from './limits.ts';

const PROBE_LIMIT = 16;

export class DuplicateFilter {
  private readonly mask: number;
  private readonly account: Uint32Array;
  private readonly symbol: Uint32Array;
  private readonly side: Uint8Array;
  private readonly qty: Float64Array;
  private readonly price: Float64Array;
  /** Acceptance time, ns; 0 = never used. */
  private readonly atNs: Float64Array;
  evictions: number;

  /** `entries` is rounded up to a power of two. */
  constructor(entries: number) {
    let size = 16;
    while (size < entries) size <<= 1;
    this.mask = size - 1;
    this.account = new Uint32Array(size);
    this.symbol = new Uint32Array(size);
    this.side = new Uint8Array(size);
    this.qty = new Float64Array(size);
    this.price = new Float64Array(size);
    this.atNs = new Float64Array(size);
    this.evictions = 0;
  }

  /** Whether the same content was accepted at or after nowNs - windowNs. */
  seen(accountId: number, symbolId: number, side: number, qty: number, price: number, nowNs: number, windowNs: number): boolean {
    const oldest = nowNs - windowNs;
    let i = hash(accountId, symbolId, side, qty, price) & this.mask;
    for (let p = 0; p < PROBE_LIMIT; p++, i = (i + 1) & this.mask) {
      if (this.atNs[i] === 0) return false;
      if (this.matches(i, accountId, symbolId, side, qty, price)) return this.atNs[i] >= oldest;
    }
    return false;
  }

  /** Records an accepted order's content at nowNs. */
  record(accountId: number, symbolId: number, side: number, qty: number, price: number, nowNs: number): void {
    const expired = nowNs - MAX_DUPLICATE_WINDOW_MS * 1e6;
    let i = hash(accountId, symbolId, side, qty, price) & this.mask;
    let oldest = i;
    for (let p = 0; p < PROBE_LIMIT; p++, i = (i + 1) & this.mask) {
      const at = this.atNs[i];
      if (at === 0 || at < expired || this.matches(i, accountId, symbolId, side, qty, price)) {
        this.put(i, accountId, symbolId, side, qty, price, nowNs);
        return;
      }
      if (at < this.atNs[oldest]) oldest = i;
    }
    this.evictions++;
    this.put(oldest, accountId, symbolId, side, qty, price, nowNs);
  }

  private matches(i: number, accountId: number, symbolId: number, side: number, qty: number, price: number): boolean {
    return this.account[i] === accountId && this.symbol[i] === symbolId && this.side[i] === side && this.qty[i] === qty && this.price[i] === price;
  }

  private put(i: number, accountId: number, symbolId: number, side: number, qty: number, price: number, nowNs: number): void {
    this.account[i] = accountId;
    this.symbol[i] = symbolId;
    this.side[i] = side;
    this.qty[i] = qty;
    this.price[i] = price;
    this.atNs[i] = nowNs > 0 ? nowNs : 1;
  }
}

/** Mixes the content into 32 bits (numbers up to 2^53 split into two words). */
function hash(accountId: number, symbolId: number, side: number, qty: number, price: number): number {
  let h = Math.imul(accountId ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ symbolId ^ (side << 24), 0xc2b2ae35);
  h = Math.imul(h ^ (qty >>> 0) ^ ((qty / 4294967296) >>> 0), 0x85ebca6b);
  h = Math.imul(h ^ (price >>> 0) ^ ((price / 4294967296) >>> 0), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
