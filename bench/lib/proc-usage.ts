/**
 * CPU time, run-queue wait and resident memory of other processes, from Linux /proc: how much the
 * system under test used while the load ran, and how long its threads waited for a core.
 * `ProcWatch` reads CPU time and run-queue wait at the start and end of a window (CPU% = CPU
 * seconds / wall seconds * 100; 200% is both cores of a 2-core machine; run-queue % likewise:
 * 150% is one and a half of the process's threads runnable and waiting, on average) and keeps the
 * largest RSS seen by sample(). Elsewhere than Linux every figure is null.
 */

import { readdirSync, readFileSync } from 'node:fs';
import { ThreadCpuClock } from '../../workers/metrics/runtime-sampler.ts';
import { watchCpu, type CpuShare } from './machine.ts';
import { medianOrNull } from './stats.ts';

const TICKS_PER_S = 100; // USER_HZ
const PAGE_BYTES = 4096;

export interface ProcSample {
  cpuS: number;
  rssBytes: number;
}

/**
 * Time each thread of one process has spent runnable but waiting for a core, seconds by thread id
 * (the second field of each /proc/<pid>/task/<tid>/schedstat, parsed as the engine's sampler
 * parses its own: ThreadCpuClock), or null when the process cannot be read.
 */
export function readRunQueueByTid(pid: number): Map<string, number> | null {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return null;
  }
  const clock = new ThreadCpuClock();
  const out = new Map<string, number>();
  for (const tid of tids) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(`/proc/${pid}/task/${tid}/schedstat`);
    } catch {
      continue; // ended since the listing
    }
    if (!clock.parse(bytes, bytes.length)) return null;
    out.set(tid, clock.waitS);
  }
  return out;
}

/**
 * Run-queue wait between two readings, seconds: over the threads alive at the second, each one's
 * growth since the first (0 for a thread born between them counts from its birth). A thread that
 * ended between them is left out whole, not subtracted, so the figure never goes below what the
 * threads still there waited. Null when either reading is.
 */
export function runQueueDeltaS(before: Map<string, number> | null, after: Map<string, number> | null): number | null {
  if (before === null || after === null) return null;
  let sum = 0;
  for (const [tid, w] of after) sum += w - (before.get(tid) ?? 0);
  return sum;
}

/** utime + stime and RSS of one process, or null when it cannot be read. */
export function readProc(pid: number): ProcSample | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // Fields after the command name (which may hold spaces) start at state, field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[14 - 3]);
    const stime = Number(fields[15 - 3]);
    const rssPages = Number(fields[24 - 3]);
    return { cpuS: (utime + stime) / TICKS_PER_S, rssBytes: rssPages * PAGE_BYTES };
  } catch {
    return null;
  }
}

export interface ProcWindow {
  /** CPU% over the window, summed over the watched processes. */
  cpuPct: number | null;
  /** Their threads' run-queue wait over the window, % of the wall time (null where unreadable). */
  runQueuePct: number | null;
  /** Largest RSS of the summed processes seen in the window, MiB. */
  rssMaxMiB: number | null;
}

export class ProcWatch {
  private readonly pids: number[];
  private cpu0 = 0;
  private wait0: Map<string, number>[] | null = null;
  private wall0 = 0;
  private rssMax = 0;
  private ok = true;

  constructor(pids: number[]) {
    this.pids = pids;
  }

  private read(): ProcSample | null {
    let cpuS = 0;
    let rssBytes = 0;
    for (const pid of this.pids) {
      const s = readProc(pid);
      if (s === null) return null;
      cpuS += s.cpuS;
      rssBytes += s.rssBytes;
    }
    return { cpuS, rssBytes };
  }

  private readWait(): Map<string, number>[] | null {
    const out: Map<string, number>[] = [];
    for (const pid of this.pids) {
      const w = readRunQueueByTid(pid);
      if (w === null) return null;
      out.push(w);
    }
    return out;
  }

  start(): void {
    const s = this.read();
    this.ok = s !== null;
    this.cpu0 = s?.cpuS ?? 0;
    this.wait0 = this.readWait();
    this.rssMax = s?.rssBytes ?? 0;
    this.wall0 = performance.now();
  }

  sample(): void {
    const s = this.read();
    if (s === null) this.ok = false;
    else if (s.rssBytes > this.rssMax) this.rssMax = s.rssBytes;
  }

  end(): ProcWindow {
    const s = this.read();
    const wait1 = this.readWait();
    const wallS = (performance.now() - this.wall0) / 1000;
    if (!this.ok || s === null || wallS <= 0) return { cpuPct: null, runQueuePct: null, rssMaxMiB: null };
    const rssMax = Math.max(this.rssMax, s.rssBytes);
    let waitS: number | null = null;
    if (this.wait0 !== null && wait1 !== null) {
      waitS = 0;
      for (let i = 0; i < this.pids.length; i++) waitS += runQueueDeltaS(this.wait0[i], wait1[i])!;
    }
    return {
      cpuPct: pctOfWall(s.cpuS - this.cpu0, wallS),
      runQueuePct: waitS === null ? null : pctOfWall(waitS, wallS),
      rssMaxMiB: Math.round((rssMax / 2 ** 20) * 10) / 10,
    };
  }
}

/** Seconds of CPU (or waiting) over a window of wallS seconds, as % of one core to 0.1. */
function pctOfWall(seconds: number, wallS: number): number {
  return Math.round((seconds / wallS) * 1000) / 10;
}

export interface TargetUsage {
  /** The target process (100 = one core). */
  cpuPct: number | null;
  /**
   * Its threads' run-queue wait, % of the window (100: on average one of its threads runnable and
   * waiting for a core all the time), summed over all its threads: the size of the contention for
   * the cores, not a latency.
   */
  runQueuePct: number | null;
  rssMaxMiB: number | null;
  /** Its helper processes (venue simulators), or null when it has none. */
  helpersCpuPct: number | null;
  /**
   * The load generator (the Node one's pacer and load workers, or the native one's process) and
   * the benchmark's main thread. On a small machine it shares the cores with the target, so it
   * is part of the story.
   */
  generatorCpuPct: number | null;
  /** The rest of the machine: neither the target, its helpers, nor this process (steal apart). */
  otherCpuPct: number | null;
  /** What the hypervisor took for other guests (/proc/stat steal), % of one core; null elsewhere. */
  stealPct: number | null;
}

/** Several trials' usage as one: the median of each CPU share (trials that measured it), the largest RSS. */
export function medianUsage(trials: readonly TargetUsage[]): TargetUsage {
  const rss = trials.map((t) => t.rssMaxMiB).filter((v): v is number => v !== null);
  return {
    cpuPct: medianOrNull(trials.map((t) => t.cpuPct)),
    runQueuePct: medianOrNull(trials.map((t) => t.runQueuePct)),
    rssMaxMiB: rss.length === 0 ? null : Math.max(...rss),
    helpersCpuPct: medianOrNull(trials.map((t) => t.helpersCpuPct)),
    generatorCpuPct: medianOrNull(trials.map((t) => t.generatorCpuPct)),
    otherCpuPct: medianOrNull(trials.map((t) => t.otherCpuPct)),
    stealPct: medianOrNull(trials.map((t) => t.stealPct)),
  };
}

/**
 * CPU, run-queue wait and memory over one measured window: the target, its helpers, whatever
 * else the machine ran (from /proc/stat busy time, less this process and the watched ones), and
 * what the hypervisor stole.
 */
export class TargetWindow {
  private readonly target: ProcWatch;
  private readonly helpers: ProcWatch | null;
  private machine: (() => CpuShare) | null = null;
  private readings: { m: CpuShare; own: ProcWindow; helpers: ProcWindow | null } | null = null;

  constructor(pid: number, helperPids: number[]) {
    this.target = new ProcWatch([pid]);
    this.helpers = helperPids.length > 0 ? new ProcWatch(helperPids) : null;
  }

  start(): void {
    this.target.start();
    this.helpers?.start();
    this.machine = watchCpu(2);
  }

  sample(): void {
    if (this.machine !== null && this.readings === null) this.target.sample();
  }

  /** Takes the window's closing readings (once; later calls keep the first). */
  close(): void {
    if (this.readings !== null || this.machine === null) return;
    this.readings = { m: this.machine(), own: this.target.end(), helpers: this.helpers?.end() ?? null };
  }

  /**
   * Closes the window if still open, and its figures. externalGeneratorS: CPU seconds a load
   * generator running in processes of its own (bench/lib/native-load.ts) used over the same
   * window, by its own count; 0 when the load generator is this process.
   */
  end(externalGeneratorS: number = 0): TargetUsage {
    this.close();
    if (this.readings === null) return { cpuPct: null, runQueuePct: null, rssMaxMiB: null, helpersCpuPct: null, generatorCpuPct: null, otherCpuPct: null, stealPct: null };
    const { m, own, helpers } = this.readings;
    const generatorS = m.processS + externalGeneratorS;
    const watchedS = (((own.cpuPct ?? 0) + (helpers?.cpuPct ?? 0)) / 100) * m.wallS;
    const otherS = m.machineBusyS === null ? null : Math.max(0, m.machineBusyS - generatorS - watchedS);
    return {
      cpuPct: own.cpuPct,
      runQueuePct: own.runQueuePct,
      rssMaxMiB: own.rssMaxMiB,
      helpersCpuPct: helpers?.cpuPct ?? null,
      generatorCpuPct: m.wallS === 0 ? null : pctOfWall(generatorS, m.wallS),
      otherCpuPct: otherS === null || m.wallS === 0 ? null : pctOfWall(otherS, m.wallS),
      stealPct: m.stealS === null || m.wallS === 0 ? null : pctOfWall(m.stealS, m.wallS),
    };
  }
}
