/**
 * Process and port probes for the lifeline tests (scripts/*-lifeline.e2e.test.ts). Linux only:
 * process states are read from /proc.
 */
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';

/** The fields of /proc/<pid>/stat from the third (state) on, or null when there is no such process. */
function statFields(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** Whether pid is a live process (a zombie is not: it has exited and waits to be reaped). */
export function running(pid: number): boolean {
  const f = statFields(pid);
  return f !== null && f[0] !== 'Z';
}

/**
 * pid's process group (field 5 of its stat), or null. A terminal's Ctrl-C signals the whole
 * foreground process group: a child in a group of its own does not get it.
 */
export function processGroup(pid: number): number | null {
  const g = statFields(pid)?.[2];
  return g === undefined ? null : Number(g);
}

/** When pid started (field 22 of its stat, clock ticks since boot), or null: a reused pid starts later. */
export function startTime(pid: number): string | null {
  return statFields(pid)?.[19] ?? null;
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}
