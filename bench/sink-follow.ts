/**
 * The sinks following a live journal: what the Postgres and Kafka sinks cost per event when the
 * journal grows at a trading pace (not drained in full batches, as bench:persist's drains are),
 * for each `sinks.lingerMs` given, alternating. A writer in this process appends bench:persist's
 * synthetic orders (7 records each) at --rate orders/s for --seconds, flushing every 10 ms as
 * the persistence stage would; both sinks follow it with the engine's defaults (batch sizes,
 * pollMs) and the linger under test, then drain. Reported per arm, the median over --rounds:
 * this process's CPU per event (the two sinks and the writer; the writer's share is the same in
 * every arm), the rest of the machine's (the Postgres server and the mock broker: nothing else
 * runs), batches per second of each sink, and the largest lag seen (events).
 *
 *   node bench/sink-follow.ts [--rate 1000] [--seconds 10] [--lingers 0,100] [--rounds 3] [--servers-nice 10]
 *
 * Each arm has a fresh journal, a fresh database and fresh Kafka cursors; the servers are shared.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { SyntheticOrders } from './persist.bench.ts';
import { JournalWriter } from '../persistence/journal.ts';
import { KafkaSink, KAFKA_TOPICS } from '../persistence/kafka-sink.ts';
import { PgSink } from '../persistence/pg-sink.ts';
import { SinkRunner } from '../persistence/sink-runner.ts';
import { startKafkaMock } from '../scripts/kafka-mock.ts';
import { startPostgres } from '../scripts/postgres.ts';
import { DEFAULT_CONFIG } from '../workers/config.ts';
import { BenchArgs } from './lib/args.ts';
import { machineInfo, watchCpu } from './lib/machine.ts';
import { medianOf, roundTo } from './lib/stats.ts';

const args = new BenchArgs(process.argv.slice(2));
const rate = args.num('--rate', 1000, 1);
const seconds = args.num('--seconds', 10, 1);
const rounds = args.num('--rounds', 3, 1);
const serversNice = args.num('--servers-nice', 10, 0);
const lingers = (args.value('--lingers') ?? '0,100').split(',').map((x) => Number(x));
args.rejectUnknown();
if (lingers.some((l) => !(Number.isInteger(l) && l >= 0 && l <= 60_000))) throw new Error('--lingers: comma-separated whole milliseconds 0..60000');

const names = { symbols: DEFAULT_CONFIG.symbols.map((s) => s.name), venues: new Map(DEFAULT_CONFIG.venues.map((v) => [v.id, v.name])) };
const reference = {
  accounts: DEFAULT_CONFIG.accounts.map((a) => ({ ...a })),
  symbols: DEFAULT_CONFIG.symbols.map((s, i) => ({ id: i, name: s.name, referencePrice: s.referencePrice })),
  venues: DEFAULT_CONFIG.venues.map((v) => ({ ...v })),
  weights: DEFAULT_CONFIG.sor.weights,
};

interface Arm { processUsPerEvent: number; serverUsPerEvent: number | null; pgBatchesPerS: number; kafkaBatchesPerS: number; maxLagEvents: number }

async function follow(lingerMs: number, url: string, brokers: string[]): Promise<Arm> {
  const dir = mkdtempSync(join(tmpdir(), 'sink-follow-'));
  const writer = new JournalWriter(dir, 'none', 10, 1 << 20, { engineEpochMs: Date.now() });
  const orders = new SyntheticOrders(writer);
  const common = { pollMs: DEFAULT_CONFIG.sinks.pollMs, lingerMs };
  const pgRunner = new SinkRunner(new PgSink({ url, names, reference, sinkName: 'follow' }), dir, { ...common, batchFrames: DEFAULT_CONFIG.sinks.postgres.batchEvents });
  const kafkaRunner = new SinkRunner(new KafkaSink({ brokers, names, cursorDir: join(dir, 'sinks') }), dir, { ...common, batchFrames: DEFAULT_CONFIG.sinks.kafka.batchEvents });
  const runners = [pgRunner, kafkaRunner];
  try {
    for (const r of runners) r.start();
    for (const r of runners) if (!(await r.drain(30_000))) throw new Error('a sink did not open');
    const cpu = watchCpu(3);
    const t0 = performance.now();
    let written = 0;
    let events = 0;
    let maxLag = 0;
    const due = rate * seconds;
    while (written < due) {
      const target = Math.min(due, Math.floor(((performance.now() - t0) / 1000) * rate));
      while (written < target) events += orders.write(++written);
      writer.flush(Date.now());
      for (const r of runners) maxLag = Math.max(maxLag, events - r.applied);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    for (const r of runners) if (!(await r.drain(120_000))) throw new Error('a sink did not drain');
    const used = cpu();
    for (const r of runners) if (r.applied !== events) throw new Error(`a sink applied ${r.applied} of ${events}`);
    const perEvent = (s: number) => roundTo((s * 1e6) / events, 1);
    const perS = (n: number) => roundTo(n / used.wallS, 1);
    return {
      processUsPerEvent: perEvent(used.processS), serverUsPerEvent: used.otherS === null ? null : perEvent(used.otherS),
      pgBatchesPerS: perS(pgRunner.batches), kafkaBatchesPerS: perS(kafkaRunner.batches), maxLagEvents: maxLag,
    };
  } finally {
    for (const r of runners) await r.stop();
    writer.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

process.stdout.write(`${JSON.stringify(machineInfo())}\n`);
process.stdout.write(`sinks following a live journal: ${rate} orders/s (${rate * 7} events/s) for ${seconds} s, lingers ${lingers.join(', ')} ms, ${rounds} rounds alternating\n`);
const db = await startPostgres({ durable: true, nice: serversNice });
const mock = await startKafkaMock(1, [...KAFKA_TOPICS], 3, serversNice);
try {
  const admin = new pg.Client(db.url);
  await admin.connect();
  const arms = new Map<number, Arm[]>(lingers.map((l) => [l, []]));
  let n = 0;
  for (let round = 0; round < rounds; round++) {
    for (const lingerMs of round % 2 === 0 ? lingers : [...lingers].reverse()) {
      const name = `follow_${++n}`;
      await admin.query(`CREATE DATABASE ${name}`);
      const arm = await follow(lingerMs, db.url.replace(/\/postgres$/, `/${name}`), mock.brokers);
      await admin.query(`DROP DATABASE ${name}`);
      arms.get(lingerMs)!.push(arm);
      process.stdout.write(`round ${round + 1} linger ${lingerMs} ms: ${JSON.stringify(arm)}\n`);
    }
  }
  await admin.end();
  for (const [lingerMs, list] of arms) {
    const m = (f: (a: Arm) => number | null) => medianOf(list.map(f).filter((x): x is number => x !== null));
    process.stdout.write(`linger ${lingerMs} ms, median of ${list.length}: CPU per event ${m((a) => a.processUsPerEvent)} us in this process (sinks + writer), ` +
      `${m((a) => a.serverUsPerEvent)} us in the servers; batches/s pg ${m((a) => a.pgBatchesPerS)} kafka ${m((a) => a.kafkaBatchesPerS)}; largest lag ${m((a) => a.maxLagEvents)} events\n`);
  }
} finally {
  await mock.stop();
  await db.stop();
}
