/**
 * Lowers the calling worker thread's scheduling priority, for the threads that must take only the
 * CPU the stages leave (the sinks, the snapshot follower): to `nice` (0..19; 0 leaves it) and,
 * with `idle`, to Linux's SCHED_IDLE policy.
 *
 * Nice: pid 0 is the calling thread only on Linux, where nice is per thread (elsewhere it would
 * be the whole process: not done there). A thread at nice 10 still weighs about a tenth of a
 * stage's, and a stage waking up does not always take the core from it at once.
 * SCHED_IDLE: the kernel preempts an idle-policy task for a normal one woken onto its core, and
 * it otherwise runs on what normal threads leave. It does not keep a woken stage from queueing
 * on the other, busy core: on the 2-vCPU VM here stages did, and a SCHED_IDLE hog raised their
 * latency tail as the sinks do (bench/results/archive/sched-idle-spinners/). Node has no call for it: chrt (util-linux, on every Debian) sets it on
 * this thread's id, once, at the thread's start; /proc/thread-self/stat then says whether it took.
 *
 * The thread's sockets and timers run on it, so their work is lowered with it. libuv's thread
 * pool is the process's, created by its first user and inheriting that thread's nice and policy:
 * one pool job first (randomFill always runs there), so the pool never starts lowered. A process
 * already nicer keeps its value. Returns why something was not applied, or null.
 */
import { spawnSync } from 'node:child_process';
import { randomFill } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** sched_setscheduler's SCHED_IDLE (linux/sched.h), as /proc/<tid>/stat's policy field shows it. */
export const SCHED_IDLE = 5;

export async function lowerThisThread(nice: number, idle = false): Promise<string | null> {
  if ((nice === 0 && !idle) || process.platform !== 'linux') return null;
  await new Promise<void>((resolve) => randomFill(new Uint8Array(1), () => resolve()));
  const problems: string[] = [];
  try {
    if (nice > 0 && getPriority(0) < nice) setPriority(0, nice);
  } catch (err) {
    problems.push(`nice ${nice}: ${(err as Error).message}`);
  }
  if (idle) {
    const why = schedIdleThisThread();
    if (why !== null) problems.push(`SCHED_IDLE: ${why}`);
  }
  return problems.length === 0 ? null : problems.join('; ');
}

/** Indices into statFields(): proc(5)'s field numbers less 3 (the fields before the state are cut off). */
export const STAT_NICE = 19 - 3;
export const STAT_POLICY = 41 - 3;

/** A /proc/<pid>[/task/<tid>]/stat line's fields from the state on: index 0 is field 3 (STAT_NICE, STAT_POLICY). */
export function statFields(statPath: string): string[] {
  const stat = readFileSync(statPath, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** A thread's scheduling policy (0 normal, 5 SCHED_IDLE; the calling thread's by default), from its stat line. */
export function threadPolicy(statPath = '/proc/thread-self/stat'): number {
  return Number(statFields(statPath)[STAT_POLICY]);
}

function schedIdleThisThread(): string | null {
  let tid: string;
  try {
    tid = readlinkSync('/proc/thread-self').split('/')[2];
  } catch (err) {
    return (err as Error).message;
  }
  const r = spawnSync('chrt', ['--idle', '--pid', '0', tid], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
  if (r.error !== undefined) return `chrt: ${r.error.message}`;
  if (r.status !== 0) return `chrt exited with ${r.signal ?? r.status}: ${r.stderr.toString('utf8').trim()}`;
  const policy = threadPolicy();
  return policy === SCHED_IDLE ? null : `chrt exited 0 but the thread's policy is ${policy}`;
}
