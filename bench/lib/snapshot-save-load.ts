/**
 * Worker thread: recovery-snapshot saves beside a measurement on the same disk (bench:disk).
 * Saves a file of `mib` MiB through persistence/journal.ts writeFileDurably, the way the
 * snapshot thread's SnapshotStore.save writes one, again and again with no pause between saves,
 * paced as the engine paces them (`mibPerS` > 0: PACED_CHUNK_BYTES chunks, each fdatasynced, at
 * most that rate) or at once (0: the whole file, then one fsync, as a start's saves are written).
 * The parent's stop word ends it: a paced save in hand is finished at once (as at engine stop).
 * Posts 'started', then on its stop word { type: 'stopped', saves, bytes, seconds }: the saves
 * finished before the stop word was set and the time they took (the save the stop cut short is
 * finished unpaced, so counting it would overstate a paced rate).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { pacedByStopWord, writeFileDurably } from '../../persistence/journal.ts';

const { dir, mib, mibPerS, stopWord } = workerData as { dir: string; mib: number; mibPerS: number; stopWord: SharedArrayBuffer };
const stop = new Int32Array(stopWord);
// A head, the tables, a tail: the parts a snapshot is written in (persistence/snapshot.ts snapshotParts).
const payload = new Uint8Array(mib * 2 ** 20);
for (let i = 0; i < payload.length; i += 4096) payload[i] = i & 0xff;
const parts = [new Uint8Array(200).fill(1), payload, new Uint8Array(4)];
const fileBytes = parts.reduce((n, p) => n + p.length, 0);
// The snapshot thread's own pace (workers/snapshot-thread.ts).
const pace = pacedByStopWord(mibPerS, stop);
const path = join(dir, 'risk-0000000000000001.snap');
parentPort!.postMessage({ type: 'started' });
const t0 = performance.now();
let saves = 0;
let seconds = 0;
while (Atomics.load(stop, 0) === 0) {
  writeFileDurably(path, parts, pace);
  if (Atomics.load(stop, 0) !== 0) break; // finished after the stop: not counted
  saves++;
  seconds = (performance.now() - t0) / 1000;
}
rmSync(path, { force: true });
parentPort!.postMessage({ type: 'stopped', saves, bytes: saves * fileBytes, seconds });
