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
 * --batch is SinkRunner's batchFrames: 250 is about a live batch at 1,000 orders/s (the sink
 * follows the journal in the batches that accumulate between two produce round trips).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSyntheticJournal } from './persist.bench.ts';
import { KafkaSink, KAFKA_TOPICS } from '../persistence/kafka-sink.ts';
import { SinkRunner } from '../persistence/sink-runner.ts';
import { startKafkaMock } from '../scripts/kafka-mock.ts';
import { DEFAULT_CONFIG } from '../workers/config.ts';
import { BenchArgs } from './lib/args.ts';
import { machineInfo } from './lib/machine.ts';
import { medianOf, roundTo } from './lib/stats.ts';

const args = new BenchArgs(process.argv.slice(2));
const orders = args.num('--orders', 10_000, 1);
const batchFrames = args.num('--batch', 250, 1);
const drains = args.num('--drains', 6, 2);
const serversNice = args.num('--servers-nice', 10, 0);
args.rejectUnknown();

const names = { symbols: DEFAULT_CONFIG.symbols.map((s) => s.name), venues: new Map(DEFAULT_CONFIG.venues.map((v) => [v.id, v.name])) };
process.stdout.write(`${JSON.stringify(machineInfo())}\n`);
const dir = mkdtempSync(join(tmpdir(), 'kafka-drain-'));
const mock = await startKafkaMock(1, [...KAFKA_TOPICS], 3, serversNice);
try {
  const events = writeSyntheticJournal(dir, orders);
  const perEvent: number[] = [];
  for (let d = 0; d < drains; d++) {
    // A fresh cursor each time: every drain sends the whole journal.
    const runner = new SinkRunner(new KafkaSink({ brokers: mock.brokers, names, cursorDir: join(dir, `sinks-${d}`) }), dir, { batchFrames, pollMs: 1 });
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    runner.start();
    if (!(await runner.drain(600_000))) throw new Error('the sink did not drain');
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    await runner.stop();
    if (runner.applied !== events) throw new Error(`the sink applied ${runner.applied} of ${events}`);
    const us = roundTo((cpu.user + cpu.system) / events, 1);
    if (d > 0) perEvent.push(us);
    process.stdout.write(`drain ${d}${d === 0 ? ' (warm-up)' : ''}: ${events} events, ${Math.round(events / seconds)} events/s, ${us} us CPU per event\n`);
  }
  process.stdout.write(`median ${medianOf(perEvent)} us CPU per event over ${perEvent.length} drains (batch ${batchFrames} frames): ${perEvent.join(' ')}\n`);
} finally {
  await mock.stop();
  rmSync(dir, { recursive: true, force: true });
}
