/**
 * Goal: the benches' run-queue figure reads every thread of a process, and says null (never a
 * made-up 0) for a process it cannot read. Method: this process, whose workers spin while more of
 * them than cores are runnable (the wait must show), and a pid that is not running.
 */
import { describe, expect, it } from 'vitest';
import { runSpinners } from '../../workers/metrics/run-queue-spinners.fixture.ts';
import { ProcWatch, readRunQueueByTid, runQueueDeltaS } from './proc-usage.ts';

describe('runQueueDeltaS', () => {
  it('sums each thread still there over its own growth; a thread that ended is left out, a new one counts whole', () => {
    const before = new Map([['1', 1.0], ['2', 5.0], ['3', 2.0]]);
    const after = new Map([['1', 1.5], ['3', 2.25], ['4', 0.25]]); // 2 ended, 4 was born
    expect(runQueueDeltaS(before, after)).toBe(1.0);
    expect(runQueueDeltaS(null, after)).toBeNull();
    expect(runQueueDeltaS(before, null)).toBeNull();
  });
});

describe.runIf(process.platform === 'linux')('run-queue wait of a process', () => {
  it('is null for a process that is not there', () => {
    expect(readRunQueueByTid(2 ** 22 + 17)).toBeNull(); // above Linux's pid_max
  });

  it('sums its threads: spinning workers that outnumber the cores show in this process\'s window', async () => {
    const watch = new ProcWatch([process.pid]);
    watch.start();
    const before = readRunQueueByTid(process.pid)!;
    const spinners = await runSpinners(0.1);
    const own = spinners.totalWaitS;
    // Read while the workers' threads still exist (a thread that ends takes its share with it).
    const after = readRunQueueByTid(process.pid)!;
    const window = watch.end();
    await spinners.stop();
    expect([...before.values()].every((w) => w >= 0)).toBe(true);
    // The process's sum holds at least what its spinners reported of themselves.
    expect(runQueueDeltaS(before, after)).toBeGreaterThanOrEqual(own * 0.99);
    expect(own).toBeGreaterThan(0.06);
    expect(window.runQueuePct).toBeGreaterThan(0);
    expect(window.cpuPct).toBeGreaterThan(0);
  });
});
