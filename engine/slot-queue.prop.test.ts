/**
 * The slot queue (engine/slot-queue.ts). Goal: FIFO order, each slot queued at most once, the
 * queue never fuller than its table, wherever its circular head has got to. Method: unit cases,
 * then random pushes and shifts beside a naive model (an array and a set), compared after
 * every step.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SlotQueue } from './slot-queue.ts';

describe('SlotQueue', () => {
  it('gives slots back oldest first, -1 when empty', () => {
    const q = new SlotQueue(4);
    expect(q.shift()).toBe(-1);
    expect(q.push(2)).toBe(true);
    expect(q.push(0)).toBe(true);
    expect(q.push(3)).toBe(true);
    expect(q.length).toBe(3);
    expect([q.shift(), q.shift(), q.shift(), q.shift()]).toEqual([2, 0, 3, -1]);
    expect(q.length).toBe(0);
  });

  it('refuses a slot already waiting, takes it again once shifted', () => {
    const q = new SlotQueue(2);
    expect(q.push(1)).toBe(true);
    expect(q.push(1)).toBe(false);
    expect(q.length).toBe(1);
    expect(q.has(1)).toBe(true);
    expect(q.shift()).toBe(1);
    expect(q.has(1)).toBe(false);
    expect(q.push(1)).toBe(true);
  });

  it('holds every slot of its table at once, across the wrap', () => {
    const q = new SlotQueue(3);
    q.push(0);
    q.push(1);
    q.shift();
    q.push(2);
    q.push(0); // wraps to the first cell
    expect(q.length).toBe(3);
    expect([q.shift(), q.shift(), q.shift()]).toEqual([1, 2, 0]);
  });

  it('refuses a slot outside the table and a table of no slots', () => {
    const q = new SlotQueue(2);
    expect(() => q.push(2)).toThrow(/lies in the table/);
    expect(() => q.push(-1)).toThrow(/lies in the table/);
    expect(() => new SlotQueue(0)).toThrow(/at least one slot/);
  });

  it('matches a naive FIFO of distinct slots under any pushes and shifts', () => {
    const op = fc.oneof(fc.record({ push: fc.nat(15) }), fc.constant({ push: -1 }));
    fc.assert(fc.property(fc.integer({ min: 1, max: 16 }), fc.array(op, { maxLength: 300 }), (capacity, ops) => {
      const q = new SlotQueue(capacity);
      const model: number[] = [];
      for (const { push } of ops) {
        if (push >= 0) {
          const slot = push % capacity;
          const fresh = !model.includes(slot);
          expect(q.push(slot)).toBe(fresh);
          if (fresh) model.push(slot);
        } else {
          expect(q.shift()).toBe(model.length === 0 ? -1 : model.shift());
        }
        expect(q.length).toBe(model.length);
        expect(q.length).toBeLessThanOrEqual(capacity);
        for (let s = 0; s < capacity; s++) expect(q.has(s)).toBe(model.includes(s));
      }
    }), { numRuns: 500 });
  });
});
