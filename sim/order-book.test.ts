// Goal: the book keeps price-time priority, fills across levels at maker prices, and cancels
// cleanly. Method: small hand-built books with a recording fill listener.
import { describe, expect, it } from 'vitest';
import { MARKET_BUY_LIMIT, MARKET_SELL_LIMIT, OrderBook, Side, type FillListener } from './order-book.ts';

class Fills implements FillListener {
  readonly list: [number, number, number, number, number][] = [];
  onFill(orderId: number, owner: number, priceTicks: number, qty: number, makerLeaves: number): void {
    this.list.push([orderId, owner, priceTicks, qty, makerLeaves]);
  }
}

describe('OrderBook', () => {
  it('fills the best price first, then the oldest order at that price', () => {
    const b = new OrderBook(16);
    const a1 = b.add(Side.SELL, 101, 10, 1);
    const a2 = b.add(Side.SELL, 100, 10, 2);
    const a3 = b.add(Side.SELL, 100, 10, 3);
    const f = new Fills();
    expect(b.match(Side.BUY, 101, 25, f)).toBe(25);
    expect(f.list).toEqual([
      [a2, 2, 100, 10, 0],
      [a3, 3, 100, 10, 0],
      [a1, 1, 101, 5, 5],
    ]);
    expect(b.bestAsk()).toBe(101);
    expect(b.levelQty(Side.SELL, 0)).toBe(5);
  });

  it('stops at the limit price and reports what filled', () => {
    const b = new OrderBook(16);
    b.add(Side.BUY, 99, 10, 1);
    b.add(Side.BUY, 98, 10, 2);
    const f = new Fills();
    expect(b.match(Side.SELL, 99, 50, f)).toBe(10);
    expect(b.bestBid()).toBe(98);
    expect(b.match(Side.SELL, MARKET_SELL_LIMIT, 50, f)).toBe(10);
    expect(b.bestBid()).toBe(-1);
    expect(b.match(Side.SELL, MARKET_SELL_LIMIT, 5, f)).toBe(0);
  });

  it('market orders walk every level', () => {
    const b = new OrderBook(16);
    for (let p = 100; p < 105; p++) b.add(Side.SELL, p, 10, p);
    const f = new Fills();
    expect(b.match(Side.BUY, MARKET_BUY_LIMIT, 45, f)).toBe(45);
    expect(f.list.map((x) => x[2])).toEqual([100, 101, 102, 103, 104]);
    expect(b.levelCount(Side.SELL)).toBe(1);
  });

  it('keeps levels sorted best-first whatever the insertion order', () => {
    const b = new OrderBook(16);
    for (const p of [97, 99, 95, 98, 96]) b.add(Side.BUY, p, 1, 0);
    for (const p of [103, 101, 105, 102]) b.add(Side.SELL, p, 1, 0);
    expect([0, 1, 2, 3, 4].map((i) => b.levelPrice(Side.BUY, i))).toEqual([99, 98, 97, 96, 95]);
    expect([0, 1, 2, 3].map((i) => b.levelPrice(Side.SELL, i))).toEqual([101, 102, 103, 105]);
  });

  it('cancel removes the order, empties the level, and frees the slot', () => {
    const b = new OrderBook(2);
    const x = b.add(Side.BUY, 99, 10, 1);
    const y = b.add(Side.BUY, 99, 5, 2);
    expect(b.add(Side.BUY, 98, 1, 3)).toBe(-1); // pool full
    expect(b.cancel(x)).toBe(10);
    expect(b.cancel(x)).toBe(-1);
    expect(b.levelOrders(Side.BUY, 0)).toEqual([y]);
    expect(b.cancel(y)).toBe(5);
    expect(b.bestBid()).toBe(-1);
    expect(b.orderCount).toBe(0);
    expect(b.add(Side.BUY, 98, 1, 3)).toBeGreaterThanOrEqual(0);
  });

  it('counts available quantity for FOK without trading', () => {
    const b = new OrderBook(16);
    b.add(Side.SELL, 100, 10, 1);
    b.add(Side.SELL, 101, 10, 1);
    expect(b.availableQty(Side.BUY, 100, 100)).toBe(10);
    expect(b.availableQty(Side.BUY, 101, 100)).toBe(20);
    expect(b.availableQty(Side.BUY, 101, 15)).toBe(15);
    expect(b.orderCount).toBe(2);
  });

  it('refuses to rest an order that crosses the book', () => {
    const b = new OrderBook(16);
    b.add(Side.SELL, 100, 10, 1);
    expect(() => b.add(Side.BUY, 100, 1, 2)).toThrow(/Invariant/);
  });
});
