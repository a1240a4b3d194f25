/**
 * Goal: the machine's CPU over a window is split into its own busy time and what the hypervisor
 * stole, and neither is made up. Method: a window over a short spin of this process.
 */
import { describe, expect, it } from 'vitest';
import { watchCpu } from './machine.ts';

describe.runIf(process.platform === 'linux')('watchCpu', () => {
  it('reports busy and steal apart, other as busy less this process', () => {
    const done = watchCpu(3);
    const until = performance.now() + 50;
    while (performance.now() < until);
    const s = done();
    expect(s.machineBusyS).not.toBeNull();
    expect(s.stealS).not.toBeNull();
    expect(s.stealS!).toBeGreaterThanOrEqual(0);
    expect(s.processS).toBeGreaterThan(0);
    expect(s.otherS!).toBeGreaterThanOrEqual(0);
    expect(s.wallS).toBeGreaterThan(0);
  });
});
