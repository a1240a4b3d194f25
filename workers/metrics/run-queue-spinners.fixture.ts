/**
 * Test fixture: more spinning threads than cores (availableParallelism() + 3 workers of
 * run-queue-spinner.fixture.ts), each spinning until it has had `cpuS` seconds on a core. Resolves
 * with the sum of the run-queue waits they reported of themselves; their threads stay alive (and
 * in this process's /proc) until stop().
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

export interface Spinners {
  /** Seconds the spinners waited for a core, summed, as each read its own schedstat. */
  totalWaitS: number;
  stop(): Promise<void>;
}

export async function runSpinners(cpuS: number): Promise<Spinners> {
  const url = new URL('./run-queue-spinner.fixture.ts', import.meta.url);
  const workers = Array.from({ length: availableParallelism() + 3 }, () => new Worker(url, { workerData: { cpuS } }));
  await Promise.all(workers.map((w) => new Promise((r) => w.once('online', r))));
  const waits = workers.map((w) => new Promise<number>((resolve, reject) => { w.once('message', resolve); w.once('error', reject); }));
  for (const w of workers) w.postMessage('go');
  const totalWaitS = (await Promise.all(waits)).reduce((a, b) => a + b, 0);
  return { totalWaitS, stop: async () => { await Promise.all(workers.map((w) => w.terminate())); } };
}
