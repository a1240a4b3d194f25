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
  /**
   * CPU seconds the machine's processes and kernel used during the window (Linux /proc/stat: all
   * but idle, iowait and steal; null elsewhere). Before 2026-11-22 this counted steal as well.
   */
  machineBusyS: number | null;
  /**
   * CPU seconds the hypervisor gave other guests while this VM wanted to run (/proc/stat steal;
   * null elsewhere): cores the benchmark did not have, whatever it asked.
   */
  stealS: number | null;
  /** CPU seconds this process (every thread) used. */
  processS: number;
  /** machineBusyS - processS: other processes' work competing with the benchmark (steal apart). */
  otherS: number | null;
  wallS: number;
}

/**
 * Busy (all but idle, iowait and steal) and steal ticks from /proc/stat's first line
 * (`cpu user nice system idle iowait irq softirq steal ...`; guest time is inside user already).
 */
export function parseCpuLine(line: string): { busy: number; steal: number } {
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  if (fields.length < 8 || fields.slice(0, 8).some((f) => !Number.isFinite(f))) throw new Error(`Condition failed: /proc/stat cpu line has 8 numbers: ${line}`);
  const steal = fields[7];
  const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - fields[3] - fields[4] - steal, steal };
}

/** The machine's busy and steal ticks now, or null off Linux. */
function machineTicks(): { busy: number; steal: number } | null {
  let line: string;
  try {
    line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
  } catch {
    return null;
  }
  return parseCpuLine(line);
}

/**
 * Starts watching how much CPU the machine and this process use; the returned function reports
 * the window so far. On a shared machine `otherS` tells how much other work ran beside the
 * benchmark (spinning strategies suffer most from it). Seconds are rounded to `decimals` places
 * (the machine's own figure moves in 10 ms ticks).
 */
export function watchCpu(decimals: number = 1): () => CpuShare {
  const ticksPerS = 100; // USER_HZ on Linux
  const ticks0 = machineTicks();
  const usage0 = process.cpuUsage();
  const wall0 = performance.now();
  return () => {
    const ticks1 = machineTicks();
    const usage = process.cpuUsage(usage0);
    const processS = (usage.user + usage.system) / 1e6;
    const both = ticks0 !== null && ticks1 !== null;
    const machineBusyS = both ? (ticks1.busy - ticks0.busy) / ticksPerS : null;
    return {
      machineBusyS: machineBusyS === null ? null : roundTo(machineBusyS, decimals),
      stealS: both ? roundTo((ticks1.steal - ticks0.steal) / ticksPerS, decimals) : null,
      processS: roundTo(processS, decimals),
      otherS: machineBusyS === null ? null : roundTo(Math.max(0, machineBusyS - processS), decimals),
      wallS: roundTo((performance.now() - wall0) / 1000, decimals),
    };
  };
}

export interface Settled {
  /** How long it waited. */
  waitedMs: number;
  /** Samples it took. */
  samples: number;
  /** The busy CPU of the last sample, % of one core (null off Linux). */
  busyPct: number | null;
  /** The machine was quiet before the time ran out (null off Linux: not measured). */
  quiet: boolean | null;
}

/**
 * Waits until the machine is quiet: its busy CPU (/proc/stat, steal apart) below maxBusyPct of
 * one core in `quietSamples` samples of sampleMs in a row. Between the trials of a benchmark that
 * measures several targets on the same cores, what the last target left running (a backlog still
 * draining, a recovery snapshot it starts at its next check, up to a second after a burst of
 * events) would otherwise be in the next target's figures. Gives up after timeoutMs (the
 * machine's own load may never fall that low) and says so.
 */
export async function settle(maxBusyPct: number = 30, sampleMs: number = 250, timeoutMs: number = 15_000, quietSamples: number = 1): Promise<Settled> {
  const t0 = performance.now();
  let quiet = 0;
  let samples = 0;
  for (;;) {
    const before = machineTicks();
    await new Promise((resolve) => setTimeout(resolve, sampleMs));
    const after = machineTicks();
    samples++;
    const waitedMs = Math.round(performance.now() - t0);
    if (before === null || after === null) return { waitedMs, samples, busyPct: null, quiet: null };
    // USER_HZ ticks (10 ms) over the sample, as % of one core.
    const busyPct = roundTo(((after.busy - before.busy) * 10 * 100) / sampleMs, 1);
    quiet = busyPct < maxBusyPct ? quiet + 1 : 0;
    if (quiet >= quietSamples) return { waitedMs, samples, busyPct, quiet: true };
    if (waitedMs >= timeoutMs) return { waitedMs, samples, busyPct, quiet: false };
  }
}
