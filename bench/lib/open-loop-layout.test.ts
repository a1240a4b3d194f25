/**
 * Goal: the open-loop schedule is exact. Method: walk the schedule of small runs and check that
 * the workers' shares partition the run, and that no order is ever due before its intended time
 * (an early send would shorten the measured latency).
 */

import { describe, expect, it } from 'vitest';
import { controlBytes, counterIndex, dueOfWorker, intendedMs, ordersOfWorker, publishedIndex, Counter } from './open-loop-layout.ts';

describe('open-loop schedule', () => {
  it('the workers own every order exactly once', () => {
    for (const workers of [1, 2, 3, 7]) {
      for (const total of [0, 1, 2, 5, 100, 1001]) {
        let sum = 0;
        for (let w = 0; w < workers; w++) sum += ordersOfWorker(total, w, workers);
        expect(sum).toBe(total);
      }
    }
  });

  it('an order is due exactly when its intended time has passed, never before', () => {
    const s = { rate: 3000, workers: 2, total: 50 };
    const t0 = 1234.5678;
    for (let i = 0; i < s.total; i++) {
      const at = intendedMs(t0, i, s.rate);
      const w = i % s.workers;
      const j = (i - w) / s.workers;
      expect(dueOfWorker(s, t0, at, w)).toBe(j + 1);
      expect(dueOfWorker(s, t0, at - 1e-6, w)).toBe(j);
    }
    expect(dueOfWorker(s, t0, t0 - 1, 0)).toBe(0);
    expect(dueOfWorker(s, t0, t0 + 1e9, 1)).toBe(ordersOfWorker(s.total, 1, 2));
  });

  it('control words of different workers do not overlap', () => {
    const words = controlBytes(4) / 4;
    const used = new Set<number>();
    for (let w = 0; w < 4; w++) {
      for (const i of [publishedIndex(w), ...Object.values(Counter).map((c) => counterIndex(w, c))]) {
        expect(used.has(i)).toBe(false);
        expect(i).toBeLessThan(words);
        used.add(i);
      }
    }
  });
});
