/**
 * Smoke test of bench/heap.bench.ts, so the benchmark cannot rot: both designs run the whole flow
 * with tiny inputs, and the accounting the benchmark relies on is asserted (every order accepted,
 * routed, filled in full once; the same checksum from both designs). Writes no results file,
 * asserts no time, heap size or GC pause.
 */

import { describe, expect, it } from 'vitest';
import {
  DESIGNS,
  QUICK_CONFIG,
  checkAccounting,
  expectedFor,
  orderQty,
  percentile,
  runHeapBench,
  runPass,
  slope,
  type HeapBenchConfig,
} from './heap.bench.ts';
import { allocatedBetween } from './lib/heap-alloc.ts';

const TINY: HeapBenchConfig = {
  orders: 3_000,
  liveOrders: 400,
  ordersPerSimSecond: 10_000,
  stepOrders: 100,
  sampleEvery: 500,
  warmupOrders: 1_000,
  yieldEvery: 500,
  runs: 1,
};

describe('heap bench (smoke)', () => {
  for (const design of DESIGNS) {
    for (const mode of ['gc', 'heap'] as const) {
      it(`${design} design, ${mode} pass: every order is accepted, routed and filled in full once`, async () => {
        const pass = await runPass(design, TINY, mode);
        const expected = expectedFor(TINY.orders);
        const a = pass.accounting;
        expect(a.newReports).toBe(TINY.orders);
        expect(a.fills).toBe(TINY.orders);
        expect(a.filledQty).toBe(expected.filledQty);
        expect(a.netPosition).toBe(expected.netPosition);
        expect(a.otherReports).toBe(0);
        expect(a.workingAtEnd).toBe(0);
        expect(a.anomalies).toBe(0);
        expect(a.venueUnexpected).toBe(0);
        expect(a.missingChildren).toBe(0);
        // Journal: each order's NEW_ORDER, SENT, ROUTE_DONE, FILL commands and its NEW and FILL reports.
        expect(a.journalRecords).toBe(6 * TINY.orders);
        expect(() => checkAccounting(a, expected)).not.toThrow();
        if (mode === 'heap') {
          // A sample at start, then one every sampleEvery orders up to the last order.
          expect(pass.heapSamples.map((s) => s.orders)).toEqual([0, 500, 1000, 1500, 2000, 2500, 3000]);
          expect(pass.heapSamples.every((s) => s.heapUsed > 0)).toBe(true);
        } else {
          expect(pass.allocatedBytesPerOrder).toBeGreaterThanOrEqual(0);
          expect(pass.windowOrders).toBe(TINY.orders - TINY.warmupOrders);
        }
      }, 30_000);
    }
  }

  it('the expected totals follow the order generator', () => {
    const e = expectedFor(10);
    let qty = 0;
    for (let n = 0; n < 10; n++) qty += orderQty(n);
    expect(e.filledQty).toBe(qty);
    expect(e.orders).toBe(10);
  });

  it('checkAccounting refuses a pass that lost a fill', async () => {
    const pass = await runPass('typed', TINY, 'gc');
    const expected = expectedFor(TINY.orders);
    expect(() => checkAccounting({ ...pass.accounting, fills: pass.accounting.fills - 1 }, expected)).toThrow(/fills/);
    expect(() => checkAccounting({ ...pass.accounting, filledQty: pass.accounting.filledQty + 1 }, expected)).toThrow(/filled qty/);
  }, 30_000);

  it('statistics helpers', () => {
    expect(slope([0, 1, 2, 3], [10, 12, 14, 16])).toBeCloseTo(2, 12);
    expect(slope([5], [1])).toBe(0);
    expect(percentile([], 99)).toBe(0);
    expect(percentile([3, 1, 2], 50)).toBe(2);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 99)).toBe(10);
    const gc = (before: number, after: number) => ({
      gcType: 'Scavenge',
      cost: 1,
      beforeGC: { heapStatistics: { usedHeapSize: before } },
      afterGC: { heapStatistics: { usedHeapSize: after } },
    });
    // 100 -> 300 (GC to 120) -> 250 (GC to 100) -> 180: 200 + 130 + 80 allocated.
    const result = { version: 1, startTime: 0, endTime: 0, statistics: [gc(300, 120), gc(250, 100)] } as unknown as Parameters<typeof allocatedBetween>[0];
    expect(allocatedBetween(result, 100, 180)).toBe(410);
  });

  it('the whole run produces the figures, the same checksum for both designs, and writes nothing', async () => {
    const report = await runHeapBench({ ...QUICK_CONFIG, orders: 4_000, liveOrders: 500, sampleEvery: 1_000, warmupOrders: 1_000, yieldEvery: 1_000 });
    expect(Object.keys(report.figures)).toEqual(
      expect.arrayContaining(['heap_growth_bytes_per_1k_orders', 'gc_pause_p99_ms', 'gc_pause_max_ms', 'heap_state_bytes', 'js_alloc_bytes_per_order']),
    );
    const growth = report.figures.heap_growth_bytes_per_1k_orders;
    expect(growth.goal).toBe('<= 1024');
    expect(typeof growth.met).toBe('boolean');
    expect(typeof growth.baseline).toBe('number');
    expect(report.figures.gc_pause_p99_ms.goal).toBe('(report)');
    expect(report.runs.map((r) => r.design).sort()).toEqual(['objects', 'typed']);
    expect(report.checksum.filledQty).toBe(expectedFor(4_000).filledQty);
    for (const r of report.runs) expect(r.accounting.filledQty).toBe(report.checksum.filledQty);
  }, 60_000);
});
