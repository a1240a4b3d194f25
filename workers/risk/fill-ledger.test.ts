// Goal: the fill ledger finds every fill it holds by its hash, holds the newest fills when it
// must evict (the oldest of a probe window goes), never grows, and survives a snapshot.
// Method: unit cases and a fast-check model (a Map of what was added, in order).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SnapshotReader, SnapshotWriter } from '../../persistence/snapshot.ts';
import { FillLedger } from './fill-ledger.ts';

describe('FillLedger', () => {
  it('refuses a capacity that is not a power of two of at least 8', () => {
    for (const bad of [0, 4, 12, 1.5, -8]) expect(() => new FillLedger(bad)).toThrow(/Condition failed/);
    expect(FillLedger.forOrders(1 << 18).capacity).toBe(1 << 18);
    expect(FillLedger.forOrders(1000).capacity).toBe(1024);
    expect(FillLedger.forOrders(1).capacity).toBe(8);
  });

  it('finds what it holds; 0 and unknown hashes find nothing; adding a held hash again replaces its entry', () => {
    const f = new FillLedger(16);
    const at = f.add(2 ** 52 - 1, 7, 3, 100, 5);
    expect(f.find(2 ** 52 - 1)).toBe(at);
    expect([f.eventSeq[at], f.orderId[at], f.qty[at], f.pxTicks[at]]).toEqual([7, 3, 100, 5]);
    expect(f.find(0)).toBe(-1);
    expect(f.find(12345)).toBe(-1);
    expect(f.add(2 ** 52 - 1, 9, 3, 50, 6)).toBe(at);
    expect([f.eventSeq[at], f.qty[at]]).toEqual([9, 50]);
  });

  it('a full probe window evicts its oldest fill', () => {
    const f = new FillLedger(8);
    // Eight hashes with the same home slot (low 32 bits 0) fill the table, eventSeq 1..8.
    const hashes = Array.from({ length: 9 }, (_, i) => (i + 1) * 0x100000000);
    for (let i = 0; i < 8; i++) f.add(hashes[i], i + 1, 1, 1, 1);
    for (let i = 0; i < 8; i++) expect(f.find(hashes[i])).toBeGreaterThanOrEqual(0);
    f.add(hashes[8], 9, 1, 1, 1);
    expect(f.find(hashes[0])).toBe(-1);
    for (let i = 1; i < 9; i++) expect(f.find(hashes[i])).toBeGreaterThanOrEqual(0);
  });

  it('model: every fill found is the last added under its hash; the newest fills are always held', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 2 ** 52 - 1 }), { minLength: 1, maxLength: 300 }), (keys) => {
        const f = new FillLedger(64);
        const model = new Map<number, number>();
        keys.forEach((k, i) => {
          f.add(k, i + 1, k % 97, i, 1);
          model.set(k, i + 1);
        });
        for (const [k, seq] of model) {
          const at = f.find(k);
          if (at >= 0) expect(f.eventSeq[at]).toBe(seq);
        }
        // The 8 newest distinct fills are held whatever their homes (a window evicts its oldest).
        const newest = [...model.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8);
        for (const [k] of newest) expect(f.find(k)).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 300 },
    );
  });

  it('a snapshot restores it bit for bit', () => {
    const f = new FillLedger(32);
    for (let i = 1; i <= 40; i++) f.add(i * 7919 * 65537, i, i % 5, i * 10, i * 3);
    const w = new SnapshotWriter();
    f.snapshot(w);
    const g = new FillLedger(32);
    g.restore(new SnapshotReader(w.finish()));
    for (const k of ['hash', 'eventSeq', 'orderId', 'qty', 'pxTicks'] as const) expect(Array.from(g[k])).toEqual(Array.from(f[k]));
  });
});
