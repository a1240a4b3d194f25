// Goal: whatever mix of long-lived and short-lived orders passes through, the order table never
// overwrites a live order, finds every live order by its id, issues ids in increasing order,
// and refuses a new order exactly when every slot holds a live one (an order, or an ended order
// with a live child), reading the whole table once per stretch of fullness.
// Method: fast-check op sequences (seeded, so a failure replays) against a model (the set of
// live ids); a small table (16 slots) so sequences wrap it many times.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OrderState } from '../../engine/order-state.ts';
import { OrderTable } from './order-table.ts';

// end: the order ends (a third of the time with a child still live at its venue, which keeps
// its slot held until childEnd ends that child).
type Op = { k: 'new' } | { k: 'end'; pick: number } | { k: 'childEnd'; pick: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ k: 'new' as const }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('end' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('childEnd' as const), pick: fc.nat() }) },
);

describe('OrderTable allocation (property)', () => {
  it('never overwrites a live order; refuses only when all slots are live; ids increase', () => {
    let wrapped = 0;
    let filled = 0;
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 100, maxLength: 400, size: 'max' }), (ops) => {
        const capacity = 16;
        const t = new OrderTable(capacity, 1);
        const live: number[] = [];
        const lingering: number[] = [];
        const ended: number[] = [];
        const issued: number[] = [];
        let lastId = 0;
        let refusedLast = false;
        for (const op of ops) {
          if (op.k === 'new') {
            const next = t.peekNextOrderId();
            const scans = t.fullScans;
            const slot = t.allocate();
            if (live.length + lingering.length === capacity) {
              expect(slot).toBe(-1);
              expect(t.peekNextOrderId()).toBe(next);
              // Refused again with no slot freed since: not read whole again.
              expect(t.fullScans).toBe(refusedLast ? scans : scans + 1);
              refusedLast = true;
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
              if (!live.includes(holder) && !lingering.includes(holder)) throw new Error(`id ${skipped} skipped over ${holder}, not live`);
            }
            lastId = id;
            issued.push(id);
            t.setState(slot, OrderState.NEW);
            live.push(id);
          } else if (op.k === 'end' && live.length > 0) {
            const id = live.splice(op.pick % live.length, 1)[0];
            const s = t.slotOf(id);
            if (op.pick % 3 === 0) {
              t.liveChildren[s] = 1;
              lingering.push(id);
            } else {
              ended.push(id);
            }
            t.setState(s, OrderState.FILLED);
          } else if (op.k === 'childEnd' && lingering.length > 0) {
            const id = lingering.splice(op.pick % lingering.length, 1)[0];
            t.childEnded(t.slotOf(id));
            ended.push(id);
          } else {
            continue;
          }
          refusedLast = false;
          // Every live order is found at a slot of its own. (Plain checks in this per-step loop:
          // an expect per order and step made the property take 12 s under the full suite.)
          const slots = new Set<number>();
          for (const id of [...live, ...lingering]) {
            const s = t.slotOf(id);
            if (s < 0) throw new Error(`live order ${id} not found`);
            slots.add(s);
          }
          if (slots.size !== live.length + lingering.length) throw new Error(`${live.length + lingering.length} live orders share ${slots.size} slots`);
        }
        // An ended order is found exactly while no newer order took its slot.
        for (const id of ended) {
          const taken = issued.some((y) => y > id && (y - 1) % capacity === (id - 1) % capacity);
          expect(t.slotOf(id) >= 0, `order ${id}`).toBe(!taken);
        }
        // The histories do wrap the table: ids were skipped (counted as such).
        wrapped += t.idsSkipped > 0 ? 1 : 0;
        filled += t.fullScans > 0 ? 1 : 0;
      }),
      { numRuns: 300, seed: 20261122 },
    );
    expect(wrapped).toBeGreaterThan(0);
    // And some fill it: refusals, each after the first of a stretch answered without a scan.
    expect(filled).toBeGreaterThan(0);
  });
});
