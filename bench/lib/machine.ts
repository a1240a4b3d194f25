/**
 * The machine a benchmark ran on, in the shape bench/results/<name>.json records it
 * (/work/shared/BENCH.md). Printed first by every benchmark: absolute figures on these shared
 * 2-core VMs mean little without it.
 */

import { readFileSync } from 'node:fs';
import os from 'node:os';
import { roundTo } from './stats.ts';

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memGiB: number;
  node: string;
  os: string;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus.length > 0 ? cpus[0].model.trim() : 'unknown',
    memGiB: roundTo(os.totalmem() / 2 ** 30, 1),
    node: process.version,
    os: `${os.platform()} ${os.release()} ${os.arch()}`,
  };
}

/** One line for a benchmark's header, e.g. "2 cpus (Intel Xeon) | 23.4 GiB | node v22.23.3 | linux ...". */
export function formatMachineInfo(machine: MachineInfo): string {
  return `${machine.cpus} cpus (${machine.cpuModel}) | ${machine.memGiB} GiB | node ${machine.node} | ${machine.os}`;
}

export interface CpuShare {
  /** CPU seconds all processes used during the window (Linux /proc/stat; null elsewhere). */
  machineBusyS: number | null;
  /** CPU seconds this process (every thread) used. */
  processS: number;
  /** machineBusyS - processS: other processes' work competing with the benchmark. */
  otherS: number | null;
  wallS: number;
}

function machineBusyTicks(): number | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
    const fields = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal ...: busy = all but idle and iowait.
    const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
    return total - fields[3] - fields[4];
  } catch {
    return null;
  }
}

/**
 * Starts watching how much CPU the machine and this process use; the returned function reports
 * the window so far. On a shared machine `otherS` tells how much other work ran beside the
 * benchmark (spinning strategies suffer most from it). Seconds are rounded to `decimals` places
 * (the machine's own figure moves in 10 ms ticks).
 */
export function watchCpu(decimals: number = 1): () => CpuShare {
  const ticksPerS = 100; // USER_HZ on Linux
  const busy0 = machineBusyTicks();
  const usage0 = process.cpuUsage();
  const wall0 = performance.now();
  return () => {
    const busy1 = machineBusyTicks();
    const usage = process.cpuUsage(usage0);
    const processS = (usage.user + usage.system) / 1e6;
    const machineBusyS = busy0 === null || busy1 === null ? null : (busy1 - busy0) / ticksPerS;
    return {
      machineBusyS: machineBusyS === null ? null : roundTo(machineBusyS, decimals),
      processS: roundTo(processS, decimals),
      otherS: machineBusyS === null ? null : roundTo(Math.max(0, machineBusyS - processS), decimals),
      wallS: roundTo((performance.now() - wall0) / 1000, decimals),
    };
  };
}
