/**
 * bench:persist: how fast events go into the journal, Postgres and Kafka, and what the sinks
 * cost the hot path.
 *
 *   risk ──riskToPersistence──▶ persistence (JournalWriter) ──▶ journal-*.log
 *                                                                  │ (files, read by cursor)
 *                                       sinks thread: SinkRunner ──┼──▶ PgSink ──▶ Postgres 15
 *                                                                  └──▶ KafkaSink ──▶ Kafka (mock)
 *
 * 1. Journal: 200-byte EXEC_REPORT frames appended in batches of 256 (as the stage drains), per
 *    fsync policy (none / batch / interval 10 ms), events/s.
 * 2. Postgres: a journal of ORDERS orders x 6 events (new, ack, child sent, route done, child
 *    fill, fill report) applied by PgSink through SinkRunner into a throwaway Postgres with
 *    fsync on (scripts/postgres.ts durable); baseline: the same kind of events inserted one row
 *    per statement (autocommit), the naive sink, same server, same run.
 * 3. Kafka: the same journal produced by KafkaSink (acks = all) to librdkafka's mock cluster;
 *    baseline: one send() per event.
 * 4. Hot path: the whole engine with venue simulators, orders over one WebSocket at a fixed rate
 *    (open loop, latency from the intended send time to the ack), p99, with the Postgres and
 *    Kafka sinks running against the same servers, beside the same run without sinks.
 *
 * Writes bench/results/persist.json (figures postgres_events_per_s, hotpath_p99_us_with_sinks).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { ChildEventFlyweight, ExecReportFlyweight, NewOrderFlyweight, RecordType, RouteDoneFlyweight, CHILD_EVENT_LENGTH, EXEC_REPORT_LENGTH, NEW_ORDER_LENGTH, ROUTE_DONE_LENGTH } from '../codecs/records.ts';
import { JournalWriter, type FsyncPolicy } from '../persistence/journal.ts';
import { PgSink } from '../persistence/pg-sink.ts';
import { KafkaSink, KAFKA_TOPICS } from '../persistence/kafka-sink.ts';
import { SinkRunner } from '../persistence/sink-runner.ts';
import { startPostgres } from '../scripts/postgres.ts';
import { startKafkaMock } from '../scripts/kafka-mock.ts';
import { startStack } from '../scripts/stack.ts';
import { DEFAULT_CONFIG, validateConfig, type EngineConfig } from '../workers/config.ts';
import { createLatencyHistogram, recordMs, summarizeLatencyUs } from './lib/latency.ts';
import { machineInfo } from './lib/machine.ts';
import { figure, writeResults } from './lib/results.ts';
import { isMainModule } from './lib/main.ts';

const ORDERS = Number(process.env.PERSIST_ORDERS ?? 20_000);
const HOT_RATE = Number(process.env.PERSIST_RATE ?? 1000);
const HOT_SECONDS = Number(process.env.PERSIST_SECONDS ?? 8);

const names = { symbols: DEFAULT_CONFIG.symbols.map((s) => s.name), venues: new Map(DEFAULT_CONFIG.venues.map((v) => [v.id, v.name])) };
const reference = {
  accounts: DEFAULT_CONFIG.accounts.map((a) => ({ ...a })),
  symbols: DEFAULT_CONFIG.symbols.map((s, i) => ({ id: i, name: s.name, referencePrice: s.referencePrice })),
  venues: DEFAULT_CONFIG.venues.map((v) => ({ ...v })),
  weights: DEFAULT_CONFIG.sor.weights,
};

/** Writes `orders` orders' worth of realistic records (6 per order) through JournalWriter. */
export function writeSyntheticJournal(dir: string, orders: number, fsync: FsyncPolicy = 'none'): number {
  const w = new JournalWriter(dir, fsync, 10, 1 << 20, { engineEpochMs: Date.now() });
  const buf = new Uint8Array(256);
  const view = new DataView(buf.buffer);
  const no = new NewOrderFlyweight();
  const er = new ExecReportFlyweight();
  const ce = new ChildEventFlyweight();
  const rd = new RouteDoneFlyweight();
  const cl = new TextEncoder().encode('bench-0000000000');
  let events = 0;
  let eventSeq = 0;
  const report = (orderId: number, execType: number, state: number, last: number, cum: number) => {
    buf.fill(0);
    er.wrap(view, buf, 0).setEventSeq(++eventSeq).setOrderId(orderId).setTimeNs(orderId * 1000).setQty(100).setPriceTicks(190_000_000)
      .setLastQty(last).setLastPxTicks(last > 0 ? 189_500_000 : 0).setCumQty(cum).setLeavesQty(100 - cum).setCumNotionalTicks(cum * 189_500_000)
      .setAccountId(1).setSymbolId(orderId % 5).setExecType(execType).setState(state).setSide(1).setOrdType(2).setTif(0).setSource(1).setVenueId(last > 0 ? 1 : 0);
    er.setClOrdId(cl, 0, cl.length);
    w.append(RecordType.EXEC_REPORT, buf, 0, EXEC_REPORT_LENGTH);
  };
  for (let id = 1; id <= orders; id++) {
    buf.fill(0);
    no.wrap(view, buf, 0).setRecvTimeNs(id * 1000).setQty(100).setPriceTicks(190_000_000).setAccountId(1).setSymbolId(id % 5).setSide(1).setOrdType(2).setTif(0).setSource(1);
    no.setClOrdId(cl, 0, cl.length);
    w.append(RecordType.NEW_ORDER, buf, 0, NEW_ORDER_LENGTH);
    report(id, 0, 1, 0, 0);
    buf.fill(0);
    ce.wrap(view, buf, 0).setChildId(id).setOrderId(id).setTimeNs(id * 1000 + 10).setQty(100).setPriceTicks(190_000_000).setVenueId(1).setKind(1);
    w.append(RecordType.CHILD_EVENT, buf, 0, CHILD_EVENT_LENGTH);
    buf.fill(0);
    rd.wrap(view, buf, 0).setOrderId(id).setRecvTimeNs(id * 1000).setDecisionTimeNs(id * 1000 + 5).setRoutedQty(100).setChildCount(1);
    w.append(RecordType.ROUTE_DONE, buf, 0, ROUTE_DONE_LENGTH);
    buf.fill(0);
    ce.wrap(view, buf, 0).setChildId(id).setOrderId(id).setTimeNs(id * 1000 + 20).setQty(100).setPriceTicks(190_000_000).setLastQty(100).setLastPxTicks(189_500_000).setVenueId(1).setKind(3);
    w.append(RecordType.CHILD_EVENT, buf, 0, CHILD_EVENT_LENGTH);
    report(id, 2, 4, 100, 100);
    events += 6;
    if (id % 40 === 0) w.flush(Date.now());
  }
  w.close();
  return events;
}

function journalRate(fsync: FsyncPolicy, seconds: number): number {
  const dir = mkdtempSync(join(tmpdir(), 'persist-bench-j-'));
  try {
    const w = new JournalWriter(dir, fsync, 10, 1 << 20, { engineEpochMs: Date.now() });
    const body = new Uint8Array(EXEC_REPORT_LENGTH).fill(7);
    let n = 0;
    const t0 = performance.now();
    const end = t0 + seconds * 1000;
    while (performance.now() < end) {
      for (let i = 0; i < 256; i++) w.append(RecordType.EXEC_REPORT, body, 0, body.length);
      w.flush(Date.now());
      n += 256;
    }
    const rate = n / ((performance.now() - t0) / 1000);
    w.close();
    return rate;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function sinkRate(makeSink: () => PgSink | KafkaSink, journalDir: string, events: number, batchFrames: number): Promise<number> {
  const runner = new SinkRunner(makeSink(), journalDir, { batchFrames, pollMs: 1 });
  const t0 = performance.now();
  runner.start();
  if (!(await runner.drain(600_000))) throw new Error('sink did not drain');
  const s = (performance.now() - t0) / 1000;
  await runner.stop();
  if (runner.applied !== events) throw new Error(`sink applied ${runner.applied} of ${events}`);
  return events / s;
}

async function naivePgRate(url: string, count: number): Promise<number> {
  const c = new pg.Client(url);
  await c.connect();
  await c.query('CREATE TABLE IF NOT EXISTS naive_events (event_id BIGINT PRIMARY KEY, order_id BIGINT, event_type TEXT, qty BIGINT, price NUMERIC(18,6), occurred_at TIMESTAMPTZ)');
  const t0 = performance.now();
  for (let i = 1; i <= count; i++) {
    await c.query('INSERT INTO naive_events VALUES ($1, $2, $3, $4, $5, now()) ON CONFLICT DO NOTHING', [i, i, 'FILL', 100, '189.5']);
  }
  const rate = count / ((performance.now() - t0) / 1000);
  await c.end();
  return rate;
}

async function naiveKafkaRate(brokers: string[], count: number): Promise<number> {
  const kafka = new Kafka({ clientId: 'naive', brokers, logLevel: logLevel.NOTHING });
  const p = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, maxInFlightRequests: 1 });
  await p.connect();
  const t0 = performance.now();
  for (let i = 1; i <= count; i++) {
    await p.send({ topic: 'orders.execution', acks: -1, messages: [{ key: String(i), value: JSON.stringify({ event_id: i, order_id: i }), headers: { 'event-id': String(i) } }] });
  }
  const rate = count / ((performance.now() - t0) / 1000);
  await p.disconnect();
  return rate;
}

/** Orders over one WebSocket at `rate`/s for `seconds`, open loop; ack latency from the intended send time. */
async function hotPath(config: EngineConfig, rate: number, seconds: number): Promise<ReturnType<typeof summarizeLatencyUs>> {
  const stack = await startStack(config, { ephemeralVenuePorts: true, seed: 5, log: () => {} });
  try {
    const base = `127.0.0.1:${stack.info.httpPort}`;
    for (let i = 0; i < 200; i++) {
      const h = (await (await fetch(`http://${base}/health`)).json()) as { stages: { fix: { counters: { SESSIONS_UP: number } } } };
      if (h.stages.fix.counters.SESSIONS_UP === config.venues.length) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const ws = new WebSocket(`ws://${base}/v1/ws?token=${config.accounts[0].apiKey}`);
    await new Promise<void>((resolve, reject) => { ws.onopen = () => resolve(); ws.onerror = () => reject(new Error('ws failed')); });
    const intended = new Map<string, number>();
    const hist = createLatencyHistogram();
    const warmupUntil = performance.now() + 1000;
    ws.onmessage = (e) => {
      const m = JSON.parse(String(e.data)) as { type?: string; clOrdId?: string };
      if (m.type !== 'ack' || m.clOrdId === undefined) return;
      const t = intended.get(m.clOrdId);
      if (t === undefined) return;
      intended.delete(m.clOrdId);
      if (t >= warmupUntil) recordMs(hist, performance.now() - t);
    };
    const start = performance.now();
    const total = rate * seconds;
    const periodMs = 1000 / rate;
    let sent = 0;
    while (sent < total) {
      const now = performance.now();
      while (sent < total && start + sent * periodMs <= now) {
        const id = `h${sent}`;
        intended.set(id, start + sent * periodMs);
        ws.send(JSON.stringify({ type: 'new', clOrdId: id, symbol: 'AAPL', side: sent % 2 === 0 ? 'BUY' : 'SELL', qty: 10, price: sent % 2 === 0 ? '150' : '210', ordType: 'LIMIT', tif: 'DAY' }));
        sent++;
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    const deadline = performance.now() + 10_000;
    while (intended.size > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    ws.close();
    return summarizeLatencyUs(hist);
  } finally {
    await stack.stop();
  }
}

async function main(): Promise<void> {
  const machine = machineInfo();
  process.stdout.write(`bench:persist on ${machine.cpus} x ${machine.cpuModel}, ${machine.memGiB} GiB, node ${machine.node}, ${machine.os}\n`);
  const journal: Record<string, number> = {};
  for (const fsync of ['none', 'interval', 'batch'] as const) {
    journal[fsync] = Math.round(journalRate(fsync, 2));
    process.stdout.write(`journal fsync=${fsync}: ${journal[fsync]} events/s (200-byte records, batches of 256)\n`);
  }

  const db = await startPostgres({ durable: true });
  const mock = await startKafkaMock(1, [...KAFKA_TOPICS], 3);
  const journalDir = mkdtempSync(join(tmpdir(), 'persist-bench-'));
  try {
    const events = writeSyntheticJournal(journalDir, ORDERS);
    process.stdout.write(`synthetic journal: ${ORDERS} orders, ${events} events\n`);
    const pgRate = Math.round(await sinkRate(() => new PgSink({ url: db.url, names, reference }), journalDir, events, 4000));
    const pgNaive = Math.round(await naivePgRate(db.url, 3000));
    process.stdout.write(`postgres sink: ${pgRate} events/s (batched unnest inserts, fsync on); naive one INSERT per event: ${pgNaive} events/s\n`);
    const kafkaRate = Math.round(await sinkRate(() => new KafkaSink({ brokers: mock.brokers, names, cursorDir: join(journalDir, 'sinks') }), journalDir, events, 2000));
    const kafkaNaive = Math.round(await naiveKafkaRate(mock.brokers, 2000));
    process.stdout.write(`kafka sink: ${kafkaRate} events/s (acks=all, mock cluster); naive one send per event: ${kafkaNaive} events/s\n`);

    const hotDir = mkdtempSync(join(tmpdir(), 'persist-bench-hot-'));
    const hotBase = (dir: string, sinks: Record<string, unknown>) => validateConfig({
      http: { ...DEFAULT_CONFIG.http, port: 0 }, fixAcceptor: { ...DEFAULT_CONFIG.fixAcceptor, port: 0 }, metrics: { host: '127.0.0.1', port: 0 },
      journal: { dir, fsync: 'batch', fsyncIntervalMs: 10 }, sinks,
    });
    const without = await hotPath(hotBase(join(hotDir, 'a'), {}), HOT_RATE, HOT_SECONDS);
    process.stdout.write(`hot path (order -> ack, ${HOT_RATE}/s open loop) without sinks: p50 ${without.p50} us, p99 ${without.p99} us, max ${without.max} us\n`);
    const withSinks = await hotPath(hotBase(join(hotDir, 'b'), { postgres: { url: db.url, sinkName: 'hot' }, kafka: { brokers: mock.brokers } }), HOT_RATE, HOT_SECONDS);
    process.stdout.write(`hot path with Postgres + Kafka sinks running: p50 ${withSinks.p50} us, p99 ${withSinks.p99} us, max ${withSinks.max} us\n`);
    rmSync(hotDir, { recursive: true, force: true });

    const path = writeResults('persist', { orders: ORDERS, events, hotRate: HOT_RATE, hotSeconds: HOT_SECONDS, postgres: 'throwaway 15, fsync on', kafka: 'librdkafka mock cluster, 1 broker, acks=all' }, {
      postgres_events_per_s: figure(pgRate, 'events/s', '>= 20000', pgNaive, 'one INSERT per event (autocommit), same server, same run'),
      hotpath_p99_us_with_sinks: figure(withSinks.p99, 'us', '(report)', without.p99, 'same load without sinks, same run'),
      journal_events_per_s_fsync_none: figure(journal.none, 'events/s', '(report)', null),
      journal_events_per_s_fsync_interval: figure(journal.interval, 'events/s', '(report)', null),
      journal_events_per_s_fsync_batch: figure(journal.batch, 'events/s', '(report)', journal.none, 'fsync none, same run'),
      kafka_events_per_s: figure(kafkaRate, 'events/s', '(report)', kafkaNaive, 'one send() per event, same cluster, same run'),
    }, { hotPathWithoutSinksUs: without, hotPathWithSinksUs: withSinks });
    process.stdout.write(`wrote ${path}\n`);
  } finally {
    rmSync(journalDir, { recursive: true, force: true });
    await mock.stop();
    await db.stop();
  }
}

if (isMainModule(import.meta.url)) {
  main().then(() => process.exit(0), (err) => {
    process.stderr.write(`${(err as Error).stack ?? err}\n`);
    process.exit(1);
  });
}
