// Goal: whatever mix of long-lived and short-lived orders passes through, the order table never
// overwrites a live order, finds every live order by its id, issues ids in increasing order,
// and refuses a new order exactly when every slot holds a live one.
// Method: fast-check op sequences (seeded, so a failure replays) against a model (the set of
// live ids); a small table (16 slots) so sequences wrap it many times.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OrderState } from '../../engine/order-state.ts';
import { OrderTable } from './order-table.ts';

type Op = { k: 'new' } | { k: 'end'; pick: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ k: 'new' as const }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('end' as const), pick: fc.nat() }) },
);

describe('OrderTable allocation (property)', () => {
  it('never overwrites a live order; refuses only when all slots are live; ids increase', () => {
    let wrapped = 0;
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 100, maxLength: 400, size: 'max' }), (ops) => {
        const capacity = 16;
        const t = new OrderTable(capacity, 1);
        const live: number[] = [];
        const ended: number[] = [];
        const issued: number[] = [];
        let lastId = 0;
        for (const op of ops) {
          if (op.k === 'new') {
            const next = t.peekNextOrderId();
            const slot = t.allocate();
            if (live.length === capacity) {
              expect(slot).toBe(-1);
              expect(t.peekNextOrderId()).toBe(next);
              continue;
            }
            expect(slot).toBeGreaterThanOrEqual(0);
            const id = t.orderId[slot];
            expect(id).toBeGreaterThan(lastId);
            expect(id).toBeGreaterThanOrEqual(next);
            expect(t.slotOf(id)).toBe(slot);
            // Every id passed over had a live order in its slot.
            for (let skipped = next; skipped < id; skipped++) {
              const holder = t.orderId[(skipped - 1) % capacity];
              expect(live).toContain(holder);
            }
            lastId = id;
            issued.push(id);
            t.state[slot] = OrderState.NEW;
            live.push(id);
          } else if (live.length > 0) {
            const id = live.splice(op.pick % live.length, 1)[0];
            t.state[t.slotOf(id)] = OrderState.FILLED;
            ended.push(id);
          }
          // Every live order is found at a slot of its own.
          const slots = new Set<number>();
          for (const id of live) {
            const s = t.slotOf(id);
            expect(s).toBeGreaterThanOrEqual(0);
            slots.add(s);
          }
          expect(slots.size).toBe(live.length);
        }
        // An ended order is found exactly while no newer order took its slot.
        for (const id of ended) {
          const taken = issued.some((y) => y > id && (y - 1) % capacity === (id - 1) % capacity);
          expect(t.slotOf(id) >= 0, `order ${id}`).toBe(!taken);
        }
        // The histories do wrap the table: ids were skipped (counted as such).
        wrapped += t.idsSkipped > 0 ? 1 : 0;
      }),
      { numRuns: 300, seed: 20261122 },
    );
    expect(wrapped).toBeGreaterThan(0);
  });
});
