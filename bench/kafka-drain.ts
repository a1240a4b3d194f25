/**
 * The Kafka sink's CPU per event, alone: a synthetic journal (bench:persist's 7 records per order,
 * with the SOR's audit) drained by KafkaSink through SinkRunner into librdkafka's mock cluster
 * (acks = all), several times in one process; prints the median of the drains after the first
 * (the first warms the JIT). For comparing two trees or two dependency versions run after run
 * (bench/results/archive/kafka-patch/ is such a comparison); bench:persist reports the sink's
 * figures in its full setting.
 *
 *   node bench/kafka-drain.ts [--orders 10000] [--batch 250] [--drains 6] [--servers-nice 10]
 *
 * --batch is SinkRunner's batchFrames: 250 is about a live batch at 1,000 orders/s when the sinks
 * thread has CPU to spare (29-55 Kafka batches a second in bench:persist's hot path on a Xeon
 * machine); a sinks thread starved of CPU takes larger ones (2.5-16.5 a second on an EPYC one).
 * The drain and its CPU split are bench:persist's own (sinkRate).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sinkRate, writeSyntheticJournal } from './persist.bench.ts';
import { KafkaSink, KAFKA_TOPICS } from '../persistence/kafka-sink.ts';
import { startKafkaMock } from '../scripts/kafka-mock.ts';
import { DEFAULT_CONFIG } from '../workers/config.ts';
import { BenchArgs } from './lib/args.ts';
import { machineInfo } from './lib/machine.ts';
import { medianOf } from './lib/stats.ts';

const args = new BenchArgs(process.argv.slice(2));
const orders = args.int('--orders', 10_000, 1);
const batchFrames = args.int('--batch', 250, 1);
const drains = args.int('--drains', 6, 2);
const serversNice = args.int('--servers-nice', 10, 0);
args.rejectUnknown();

const names = { symbols: DEFAULT_CONFIG.symbols.map((s) => s.name), venues: new Map(DEFAULT_CONFIG.venues.map((v) => [v.id, v.name])) };
process.stdout.write(`${JSON.stringify(machineInfo())}\n`);
const dir = mkdtempSync(join(tmpdir(), 'kafka-drain-'));
const mock = await startKafkaMock(1, [...KAFKA_TOPICS], 3, serversNice);
try {
  const events = writeSyntheticJournal(dir, orders);
  const perEvent: number[] = [];
  for (let d = 0; d < drains; d++) {
    // A fresh cursor each time: every drain sends the whole journal (as bench:persist's drain).
    // The cursor file throttled as the engine runs the sink (sinks.kafka.cursorEveryMs); the
    // runs archived in bench/results/archive/kafka-patch/ wrote it after every batch.
    const run = await sinkRate(() => new KafkaSink({ brokers: mock.brokers, names, cursorDir: join(dir, `sinks-${d}`), cursorEveryMs: DEFAULT_CONFIG.sinks.kafka.cursorEveryMs }),
      dir, events, batchFrames);
    if (d > 0) perEvent.push(run.sinkCpuUsPerEvent);
    process.stdout.write(`drain ${d}${d === 0 ? ' (warm-up)' : ''}: ${events} events, ${run.rate} events/s, ${run.sinkCpuUsPerEvent} us CPU per event in the sink, ${run.serverCpuUsPerEvent ?? '-'} us in the broker\n`);
  }
  process.stdout.write(`median ${medianOf(perEvent)} us CPU per event over ${perEvent.length} drains (batch ${batchFrames} frames): ${perEvent.join(' ')}\n`);
} finally {
  await mock.stop();
  rmSync(dir, { recursive: true, force: true });
}
