// Goal: the fast book and a naive reference (one sorted array, re-sorted every time) produce the
// same fills for any seeded stream of adds, matches and cancels. Method: fast-check commands.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OrderBook, Side, type FillListener } from './order-book.ts';

type Ref = { id: number; side: Side; price: number; qty: number; time: number };

class NaiveBook {
  orders: Ref[] = [];
  time = 0;
  add(id: number, side: Side, price: number, qty: number): void {
    this.orders.push({ id, side, price, qty, time: this.time++ });
  }
  match(side: Side, limit: number, qty: number): [number, number, number][] {
    const opp = this.orders
      .filter((o) => o.side !== side && (side === Side.BUY ? o.price <= limit : o.price >= limit))
      .sort((a, b) => (side === Side.BUY ? a.price - b.price : b.price - a.price) || a.time - b.time);
    const out: [number, number, number][] = [];
    for (const o of opp) {
      if (qty === 0) break;
      const t = Math.min(o.qty, qty);
      o.qty -= t;
      qty -= t;
      out.push([o.id, o.price, t]);
    }
    this.orders = this.orders.filter((o) => o.qty > 0);
    return out;
  }
  cancel(id: number): number {
    const o = this.orders.find((x) => x.id === id);
    if (o === undefined) return -1;
    this.orders = this.orders.filter((x) => x !== o);
    return o.qty;
  }
}

const cmd = fc.oneof(
  fc.record({ kind: fc.constant('order' as const), side: fc.constantFrom(Side.BUY, Side.SELL), price: fc.integer({ min: 95, max: 105 }), qty: fc.integer({ min: 1, max: 30 }) }),
  fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat(50) }),
);

describe('OrderBook against a naive reference', () => {
  it('same fills, same resting quantity, for any command stream', () => {
    fc.assert(
      fc.property(fc.array(cmd, { maxLength: 120 }), (cmds) => {
        const fast = new OrderBook(256);
        const naive = new NaiveBook();
        const owners: number[] = []; // owner number -> fast id
        const fills: [number, number, number][] = [];
        const listener: FillListener = { onFill: (_id, owner, price, qty) => void fills.push([owner, price, qty]) };
        let next = 0;
        for (const c of cmds) {
          if (c.kind === 'order') {
            fills.length = 0;
            const filled = fast.match(c.side, c.price, c.qty, listener);
            const expected = naive.match(c.side, c.price, c.qty);
            expect(fills).toEqual(expected);
            expect(filled).toBe(expected.reduce((n, f) => n + f[2], 0));
            if (filled < c.qty) {
              const owner = next++;
              owners[owner] = fast.add(c.side, c.price, c.qty - filled, owner);
              naive.add(owner, c.side, c.price, c.qty - filled);
            }
          } else if (next > 0) {
            const owner = c.pick % next;
            const id = owners[owner];
            const live = fast.isLive(id) && fast.ownerOf(id) === owner;
            expect(live ? fast.cancel(id) : -1).toBe(naive.cancel(owner));
          }
        }
        const restingFast = [Side.BUY, Side.SELL].flatMap((s) => Array.from({ length: fast.levelCount(s) }, (_, i) => fast.levelQty(s, i))).reduce((a, b) => a + b, 0);
        expect(restingFast).toBe(naive.orders.reduce((n, o) => n + o.qty, 0));
      }),
      { seed: 7, numRuns: 300 },
    );
  });
});
