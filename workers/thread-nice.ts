/**
 * Lowers the calling worker thread's scheduling priority to `nice` (0..19; 0 leaves it), for the
 * threads that must take only the CPU the stages leave (the sinks, the snapshot follower).
 *
 * Pid 0 is the calling thread only on Linux, where nice is per thread (elsewhere it would be the
 * whole process: not done there). The thread's sockets and timers run on it, so their work is
 * lowered with it. libuv's thread pool is the process's, created by its first user and
 * inheriting that thread's nice: one pool job first (randomFill always runs there), so the pool
 * never starts lowered. A process already nicer keeps its value. Returns why it was not applied,
 * or null.
 */
import { randomFill } from 'node:crypto';
import { getPriority, setPriority } from 'node:os';

export async function lowerThisThread(nice: number): Promise<string | null> {
  if (nice === 0 || process.platform !== 'linux') return null;
  await new Promise<void>((resolve) => randomFill(new Uint8Array(1), () => resolve()));
  try {
    if (getPriority(0) < nice) setPriority(0, nice);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}
