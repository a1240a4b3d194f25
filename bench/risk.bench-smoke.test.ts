// Goal: the risk benchmark cannot rot: with a tiny time budget it still builds both
// implementations, checks that they agree on every one of its orders (it throws otherwise), and
// measures all three tasks. No figure is asserted (no timing in tests).
import { describe, expect, it } from 'vitest';
import { runRiskBench } from './risk.bench.ts';

describe('bench:risk smoke', () => {
  it('typed and naive checks agree on every order and both get measured', async () => {
    const res = await runRiskBench(50);
    expect(res.verdicts.NONE).toBeGreaterThan(0);
    expect(Object.keys(res.verdicts).length).toBeGreaterThan(3);
    expect(res.typed.samples).toBeGreaterThan(0);
    expect(res.naive.samples).toBeGreaterThan(0);
    expect(res.checksum).toBeGreaterThan(0);
  });
});
