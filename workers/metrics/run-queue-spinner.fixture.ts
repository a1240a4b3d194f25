/**
 * Test fixture (started by run-queue-spinners.fixture.ts): a worker that, at the parent's 'go', spins until it has
 * had workerData.cpuS seconds on a core, then posts how long it waited in the run queue meanwhile
 * (ThreadCpuClock, its own thread's schedstat). It stays alive (listening) until terminated, so
 * its thread's figures stay in its process's /proc until the parent has read them.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ThreadCpuClock } from './runtime-sampler.ts';

const { cpuS } = workerData as { cpuS: number };
parentPort!.on('message', () => {
  const clock = new ThreadCpuClock();
  if (!clock.read()) throw new Error('no /proc/thread-self/schedstat');
  const cpu0 = clock.cpuS;
  const wait0 = clock.waitS;
  let sink = 0;
  for (;;) {
    for (let i = 0; i < 100_000; i++) sink += i;
    if (!clock.read()) throw new Error('schedstat unreadable mid-spin');
    if (clock.cpuS - cpu0 >= cpuS) break;
  }
  parentPort!.postMessage(sink >= 0 ? clock.waitS - wait0 : -1);
});
