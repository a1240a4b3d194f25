/**
 * Process and port probes for the lifeline tests (scripts/*-lifeline.e2e.test.ts). Linux only:
 * process states are read from /proc.
 */
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';

/** Whether pid is a live process (a zombie is not: it has exited and waits to be reaped). */
export function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}
