// Goal: the codec benchmark keeps running (small input) and does the same work every time.
// Method: run it twice and compare checksums. No timing is asserted.
import { describe, expect, it } from 'vitest';
import { runCodecBench } from './codec.bench.ts';

describe('codec benchmark', () => {
  it('runs with a small input and a stable checksum', () => {
    const a = runCodecBench(2000);
    const b = runCodecBench(2000);
    expect(a.checksum).toBe(b.checksum);
    expect(a.parseMsgsPerSec).toBeGreaterThan(0);
  });
});
