/**
 * Goal: the machine's CPU over a window is split into its own busy time and what the hypervisor
 * stole, and neither is made up. Method: a window over a short spin of this process.
 */
import { describe, expect, it } from 'vitest';
import { parseCpuLine, settle, watchCpu } from './machine.ts';

describe('parseCpuLine', () => {
  it('busy is all but idle, iowait and steal; steal apart', () => {
    expect(parseCpuLine('cpu  100 5 50 1000 10 3 2 40 0 0')).toEqual({ busy: 160, steal: 40 });
    expect(parseCpuLine('cpu 1 0 0 9 0 0 0 0')).toEqual({ busy: 1, steal: 0 });
  });

  it('refuses a line without eight numbers', () => {
    expect(() => parseCpuLine('cpu 1 2 3')).toThrow(/8 numbers/);
    expect(() => parseCpuLine('cpu 1 2 3 4 5 6 7 x')).toThrow(/8 numbers/);
  });
});

describe.runIf(process.platform === 'linux')('watchCpu', () => {
  it('reports busy and steal apart, other as busy less this process', () => {
    const done = watchCpu(3);
    // Spins until this process has had 20 ms on a core, not for a wall time: on a loaded machine
    // 50 ms of wall time can hold less CPU than the 3-decimal figure shows.
    const cpu0 = process.cpuUsage();
    for (;;) {
      const used = process.cpuUsage(cpu0);
      if (used.user + used.system >= 20_000) break;
    }
    const s = done();
    expect(s.machineBusyS).not.toBeNull();
    expect(s.stealS).not.toBeNull();
    expect(s.stealS!).toBeGreaterThanOrEqual(0);
    expect(s.processS).toBeGreaterThan(0);
    expect(s.otherS!).toBeGreaterThanOrEqual(0);
    expect(s.wallS).toBeGreaterThan(0);
  });
});

describe('settle', () => {
  it('returns at the first sample when no machine can be busy enough to fail the bound', async () => {
    const s = await settle(Infinity, 20, 5000);
    if (s.quiet === null) return; // not Linux: nothing measured
    expect(s.quiet).toBe(true);
    expect(s.samples).toBe(1);
    expect(s.busyPct).toBeGreaterThanOrEqual(0);
  });

  it('gives up after its timeout when the machine is never quiet enough, and says so', async () => {
    const s = await settle(-1, 20, 100);
    if (s.quiet === null) return;
    expect(s.quiet).toBe(false);
    expect(s.waitedMs).toBeGreaterThanOrEqual(100);
    expect(s.samples).toBeGreaterThanOrEqual(1);
  });
});

describe('settle over samples in a row', () => {
  it('waits for as many quiet samples in a row as asked', async () => {
    // The timeout only guards against a hang: four 20 ms samples on a loaded machine can take longer than 5 s.
    const s = await settle(Infinity, 20, 30_000, 4);
    if (s.quiet === null) return;
    expect(s.quiet).toBe(true);
    expect(s.samples).toBe(4);
  });
});
