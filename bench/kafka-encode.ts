/**
 * What the Kafka sink's producer spends per message turning a batch into a produce request,
 * patched (this tree's kafkajs, patches/kafkajs+2.2.4.patch, and persistence/kafka-partitioner.ts)
 * against another copy of kafkajs 2.2.4 with its DefaultPartitioner (the baseline), both loaded
 * in this one process and run alternately, so the machine's drift reaches both alike. No broker,
 * no socket: the messages of a synthetic journal (bench:persist's, as KafkaBatch builds them,
 * in batches of --batch frames) partitioned, grouped by partition, and encoded as produce
 * requests (v3, record batches with their CRC32-C), as kafkajs's sendMessages does.
 *
 *   node bench/kafka-encode.ts --baseline <dir of a kafkajs 2.2.4 package> [--orders 10000] [--batch 250] [--rounds 9]
 *
 * A baseline package: `npm pack kafkajs@2.2.4 && tar xzf kafkajs-2.2.4.tgz` (released), or a
 * copy of node_modules/kafkajs from an earlier tree (an earlier patch).
 */
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeSyntheticJournal, names } from './persist.bench.ts';
import { replayJournal } from '../persistence/journal-reader.ts';
import { KafkaBatch } from '../persistence/kafka-sink.ts';
import { KeyHashPartitioner } from '../persistence/kafka-partitioner.ts';
import { BenchArgs } from './lib/args.ts';
import { machineInfo } from './lib/machine.ts';
import { medianOf } from './lib/stats.ts';

const args = new BenchArgs(process.argv.slice(2));
const baselineDir = args.value('--baseline');
const orders = args.int('--orders', 10_000, 1);
const batchFrames = args.int('--batch', 250, 1);
const rounds = args.int('--rounds', 9, 1);
args.rejectUnknown();
if (baselineDir === undefined) throw new Error('--baseline <dir of a kafkajs 2.2.4 package> is required');

interface Kit { name: string; partitioner: (a: unknown) => number; group: (a: unknown) => Record<string, unknown[]>; request: (a: unknown) => { encode(): Promise<{ buffer: Buffer }> } }
function kit(name: string, root: string, partitioner: () => (a: unknown) => number): Kit {
  const req = createRequire(join(root, 'package.json'));
  return {
    name,
    partitioner: partitioner(),
    group: req('./src/producer/groupMessagesPerPartition.js'),
    request: req('./src/protocol/requests/produce/v3/request.js'),
  };
}
const here = createRequire(import.meta.url);
const patchedRoot = resolve(here.resolve('kafkajs/package.json'), '..');
const baseline = kit('baseline', resolve(baselineDir), () => createRequire(join(resolve(baselineDir), 'package.json'))('./src/producer/partitioners').DefaultPartitioner());
const patched = kit('patched', patchedRoot, () => KeyHashPartitioner() as (a: unknown) => number);

// The journal's messages as the sink batches them (batches of batchFrames frames).
const dir = mkdtempSync(join(tmpdir(), 'kafka-encode-'));
const batches: Map<string, unknown[]>[] = [];
let messages = 0;
try {
  writeSyntheticJournal(dir, orders);
  const b = new KafkaBatch(names);
  replayJournal(dir, {
    onFrame(typeId, seq, epochMs, view, bytes, offset, length) {
      b.onFrame(typeId, seq, epochMs, view, bytes, offset, length);
      if (b.frames === batchFrames) {
        batches.push(b.byTopic as Map<string, unknown[]>);
        messages += b.messages;
        b.reset();
      }
    },
  });
  if (b.frames > 0) { batches.push(b.byTopic as Map<string, unknown[]>); messages += b.messages; }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const partitionMetadata = [0, 1, 2].map((p) => ({ partitionId: p, leader: 1, partitionErrorCode: 0, replicas: [1], isr: [1] }));

/** Every batch through one kit: CPU microseconds per message, and the bytes encoded (a check). */
async function pass(k: Kit, keep: Buffer[] | null = null): Promise<{ usPerMessage: number; bytes: number }> {
  let bytes = 0;
  const t0 = process.cpuUsage();
  for (const batch of batches) {
    const topicData = [];
    for (const [topic, msgs] of batch) {
      const perPartition = k.group({ topic, partitionMetadata, messages: msgs, partitioner: k.partitioner });
      topicData.push({ topic, partitions: Object.keys(perPartition).map((p) => ({ partition: Number(p), messages: perPartition[p] })) });
    }
    const r = k.request({ acks: -1, timeout: 10_000, compression: 0, topicData });
    const encoded = (await r.encode()).buffer;
    bytes += encoded.length;
    keep?.push(encoded);
  }
  const used = process.cpuUsage(t0);
  return { usPerMessage: (used.user + used.system) / messages, bytes };
}

process.stdout.write(`${JSON.stringify(machineInfo())}\n`);
process.stdout.write(`${messages} messages in ${batches.length} batches of ${batchFrames} frames; baseline ${baselineDir}\n`);
// Warm-up of both, and a check: with the clock held (record batches carry Date.now()), both
// encode every batch into the same bytes.
const realNow = Date.now;
const held = realNow();
Date.now = () => held;
const bBufs: Buffer[] = [];
const pBufs: Buffer[] = [];
let b0: { bytes: number };
try {
  b0 = await pass(baseline, bBufs);
  await pass(patched, pBufs);
} finally {
  Date.now = realNow;
}
for (let i = 0; i < bBufs.length; i++) {
  if (Buffer.compare(bBufs[i], pBufs[i]) !== 0) throw new Error(`batch ${i}: the patched producer encoded other bytes than the baseline`);
}
const base: number[] = [];
const mine: number[] = [];
for (let r = 0; r < rounds; r++) {
  // Alternating which goes first.
  const first = r % 2 === 0 ? baseline : patched;
  const second = first === baseline ? patched : baseline;
  const a = await pass(first);
  const c = await pass(second);
  (first === baseline ? base : mine).push(a.usPerMessage);
  (second === baseline ? base : mine).push(c.usPerMessage);
}
const fmt = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(' ');
const ratios = base.map((b, i) => mine[i] / b);
process.stdout.write(`baseline: median ${medianOf(base).toFixed(2)} us CPU per message (${fmt(base)})\n`);
process.stdout.write(`patched:  median ${medianOf(mine).toFixed(2)} us CPU per message (${fmt(mine)})\n`);
process.stdout.write(`patched / baseline per round: median ${medianOf(ratios).toFixed(2)} (${fmt(ratios)}); the same ${b0.bytes} bytes encoded (compared byte for byte, clock held)\n`);
