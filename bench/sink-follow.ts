/**
 * The sinks following a live journal: what the Postgres and Kafka sinks cost per event when the
 * journal grows at a trading pace (not drained in full batches, as bench:persist's drains are),
 * for each pair of lingers given (sinks.postgres.lingerMs / sinks.kafka.lingerMs), alternating.
 * A writer in this process appends bench:persist's synthetic orders (7 records each) at --rate
 * orders/s for --seconds, flushing every 10 ms as the persistence stage would; both sinks follow
 * it with the engine's defaults (batch sizes, pollMs) and the lingers under test, then drain.
 * Reported per arm, the median over --rounds:
 *   - the sinks' CPU per event: this process's CPU less the writer's (measured around its
 *     synchronous appends and flushes);
 *   - the rest of the machine's CPU per event (the Postgres server and the mock broker; it also
 *     takes in whatever else ran, so it is the noisier figure);
 *   - batches per second of each sink;
 *   - each sink's lag in ms: the age of its oldest unapplied event, sampled every 10 ms (p50, max).
 * One warm-up arm (not reported) comes first: the first arm of a process runs cold.
 *
 *   node bench/sink-follow.ts [--rate 1000] [--seconds 10] [--lingers 0/0,100/50] [--rounds 3] [--servers-nice 10]
 *
 * --lingers: comma-separated arms, each `pg/kafka` milliseconds (or one number for both). Each
 * arm has a fresh journal, a fresh database and fresh Kafka cursors; the servers are shared.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { SYNTHETIC_EVENTS_PER_ORDER as EVENTS_PER_ORDER, SyntheticOrders, names, reference } from './persist.bench.ts';
import { JournalWriter } from '../persistence/journal.ts';
import { KafkaSink, KAFKA_TOPICS } from '../persistence/kafka-sink.ts';
import { PgSink } from '../persistence/pg-sink.ts';
import { SinkRunner } from '../persistence/sink-runner.ts';
import { startKafkaMock } from '../scripts/kafka-mock.ts';
import { freshDatabase, startPostgres } from '../scripts/postgres.ts';
import { DEFAULT_CONFIG } from '../workers/config.ts';
import { BenchArgs } from './lib/args.ts';
import { machineInfo, watchCpu } from './lib/machine.ts';
import { medianOf, roundTo } from './lib/stats.ts';


interface Lingers { pg: number; kafka: number }
const args = new BenchArgs(process.argv.slice(2));
const rate = args.num('--rate', 1000, 1);
const seconds = args.num('--seconds', 10, 1);
const rounds = args.num('--rounds', 3, 1);
const serversNice = args.num('--servers-nice', 10, 0);
const arms: Lingers[] = (args.value('--lingers') ?? '0/0,100/50').split(',').map((a) => {
  const [p, k = p] = a.split('/').map(Number);
  if (![p, k].every((l) => Number.isInteger(l) && l >= 0 && l <= 60_000)) throw new Error(`--lingers: ${a} is not pg/kafka whole milliseconds 0..60000`);
  return { pg: p, kafka: k };
});
args.rejectUnknown();
const label = (l: Lingers) => `pg ${l.pg} / kafka ${l.kafka} ms`;

interface LagMs { p50: number; max: number }
interface Arm { sinksUsPerEvent: number; writerUsPerEvent: number; serverUsPerEvent: number | null; pgBatchesPerS: number; kafkaBatchesPerS: number; pgLagMs: LagMs; kafkaLagMs: LagMs }

function lagOf(samples: number[]): LagMs {
  samples.sort((a, b) => a - b);
  return { p50: roundTo(samples[Math.floor(samples.length / 2)] ?? 0, 0), max: roundTo(samples[samples.length - 1] ?? 0, 0) };
}

async function follow(lingers: Lingers, url: string, brokers: string[]): Promise<Arm> {
  const dir = mkdtempSync(join(tmpdir(), 'sink-follow-'));
  const writer = new JournalWriter(dir, 'none', 10, 1 << 20, { engineEpochMs: Date.now() });
  const orders = new SyntheticOrders(writer);
  const pgRunner = new SinkRunner(new PgSink({ url, names, reference, sinkName: 'follow' }), dir,
    { pollMs: DEFAULT_CONFIG.sinks.pollMs, batchFrames: DEFAULT_CONFIG.sinks.postgres.batchEvents, lingerMs: lingers.pg });
  const kafkaRunner = new SinkRunner(new KafkaSink({ brokers, names, cursorDir: join(dir, 'sinks') }), dir,
    { pollMs: DEFAULT_CONFIG.sinks.pollMs, batchFrames: DEFAULT_CONFIG.sinks.kafka.batchEvents, lingerMs: lingers.kafka });
  const runners = [pgRunner, kafkaRunner];
  const due = rate * seconds;
  const writtenAt = new Float64Array(due + 2); // by order number
  const lags: number[][] = [[], []];
  try {
    for (const r of runners) r.start();
    for (const r of runners) if (!(await r.drain(30_000))) throw new Error('a sink did not open');
    const cpu = watchCpu(3);
    let writerUs = 0;
    const t0 = performance.now();
    let written = 0;
    let events = 0;
    while (written < due) {
      const now = performance.now();
      const target = Math.min(due, Math.floor(((now - t0) / 1000) * rate));
      const c0 = process.cpuUsage();
      while (written < target) {
        events += orders.write(++written);
        writtenAt[written] = now;
      }
      writer.flush(Date.now());
      const c = process.cpuUsage(c0);
      writerUs += c.user + c.system;
      runners.forEach((r, i) => lags[i].push(r.applied >= events ? 0 : now - writtenAt[Math.floor(r.applied / EVENTS_PER_ORDER) + 1]));
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    for (const r of runners) if (!(await r.drain(120_000))) throw new Error('a sink did not drain');
    const used = cpu();
    for (const r of runners) if (r.applied !== events) throw new Error(`a sink applied ${r.applied} of ${events}`);
    const perEvent = (us: number) => roundTo(us / events, 1);
    const perS = (n: number) => roundTo(n / used.wallS, 1);
    return {
      sinksUsPerEvent: perEvent(used.processS * 1e6 - writerUs), writerUsPerEvent: perEvent(writerUs),
      serverUsPerEvent: used.otherS === null ? null : perEvent(used.otherS * 1e6),
      pgBatchesPerS: perS(pgRunner.batches), kafkaBatchesPerS: perS(kafkaRunner.batches), pgLagMs: lagOf(lags[0]), kafkaLagMs: lagOf(lags[1]),
    };
  } finally {
    for (const r of runners) await r.stop();
    writer.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

process.stdout.write(`${JSON.stringify(machineInfo())}\n`);
process.stdout.write(`sinks following a live journal: ${rate} orders/s (${rate * EVENTS_PER_ORDER} events/s) for ${seconds} s; arms ${arms.map(label).join('; ')}; ${rounds} rounds alternating, after one warm-up arm\n`);
const db = await startPostgres({ durable: true, nice: serversNice });
const mock = await startKafkaMock(1, [...KAFKA_TOPICS], 3, serversNice);
try {
  const admin = new pg.Client(db.url);
  await admin.connect();
  let n = 0;
  const run = async (lingers: Lingers): Promise<Arm> => {
    const name = `follow_${++n}`;
    const url = await freshDatabase(db.url, name);
    try {
      return await follow(lingers, url, mock.brokers);
    } finally {
      await admin.query(`DROP DATABASE ${name}`);
    }
  };
  process.stdout.write(`warm-up ${label(arms[0])}: ${JSON.stringify(await run(arms[0]))}\n`);
  const results = arms.map(() => [] as Arm[]);
  for (let round = 0; round < rounds; round++) {
    const order = arms.map((_, i) => i);
    if (round % 2 === 1) order.reverse();
    for (const i of order) {
      const arm = await run(arms[i]);
      results[i].push(arm);
      process.stdout.write(`round ${round + 1} ${label(arms[i])}: ${JSON.stringify(arm)}\n`);
    }
  }
  await admin.end();
  arms.forEach((lingers, i) => {
    const list = results[i];
    const m = (f: (a: Arm) => number | null) => medianOf(list.map(f).filter((x): x is number => x !== null));
    process.stdout.write(`${label(lingers)}, median of ${list.length}: CPU per event ${m((a) => a.sinksUsPerEvent)} us in the sinks, ${m((a) => a.serverUsPerEvent)} us in the servers, ` +
      `total ${m((a) => a.sinksUsPerEvent + (a.serverUsPerEvent ?? 0))} us (writer ${m((a) => a.writerUsPerEvent)} us apart); batches/s pg ${m((a) => a.pgBatchesPerS)} kafka ${m((a) => a.kafkaBatchesPerS)}; ` +
      `lag ms pg p50 ${m((a) => a.pgLagMs.p50)} max ${m((a) => a.pgLagMs.max)}, kafka p50 ${m((a) => a.kafkaLagMs.p50)} max ${m((a) => a.kafkaLagMs.max)}\n`);
  });
} finally {
  await mock.stop();
  await db.stop();
}
