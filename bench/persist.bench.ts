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
 * 2. Postgres: a journal of --orders orders x 7 events (new, ack, the SOR's decision record
 *    ROUTE_AUDIT with 3 venues, child sent, route done, child fill with its venue ExecID, fill report) applied by PgSink through SinkRunner into a throwaway Postgres with
 *    fsync on (scripts/postgres.ts durable); baseline: the same kind of events inserted one row
 *    per statement (autocommit), the naive sink, same server, same run.
 * 3. Kafka: the same journal produced by KafkaSink (acks = all) to librdkafka's mock cluster;
 *    baseline: one send() per event.
 * 4. Hot path: the whole engine with venue simulators in a process of its own (bench/ws-target-host.ts,
 *    a fresh one per trial), orders over 100 WebSockets from the native open-loop generator
 *    (bench/native/ws-load.c, as bench:ws measures: a fixed schedule, latency from the intended
 *    send time to the ack, HDR histograms), in three arms: without sinks; with the Postgres and
 *    Kafka sinks under SCHED_IDLE (sinks.schedIdle, the default) writing to servers also under it;
 *    with the sinks thread at niceness 10 only, to servers at --servers-nice (the layout before).
 *    The arms' order rotates from one trial to the next, each trial after the machine settled and
 *    (with sinks) once both sinks are up; each figure is the median of its trials' p99 (p50,
 *    p99.9). Over the same measured windows: the engine's, the venues', the generator's and the
 *    rest of the machine's CPU (the servers are most of the rest), the engine's run-queue wait,
 *    and the sinks' Postgres transactions and Kafka batches per second (from /health), so a run
 *    shows how much of the machine the sinks take and whether they ran in small batches or large.
 * 5. Recovery: the time each stage's start-up replay takes over a synthetic journal of about
 *    --recovery-events events (the same 7-record orders): risk (bounds pass + rebuild, as
 *    workers/risk-part.ts does), the SOR's statistics (workers/sor/recovery.ts), the fix stage's
 *    child table (workers/fix/recovery.ts); baseline: the journal read alone (replayJournal with a
 *    handler that does nothing), same run. One run each (report). Then recovery snapshots
 *    (persistence/snapshot.ts): a next boot replays and saves each stage's snapshot, and the boot
 *    after it starts from them (recovery_<stage>_from_snapshot_s beside the full replay; the
 *    file's size and the replay-and-save time with each).
 *
 * Writes bench/results/persist.json (figures postgres_events_per_s, hotpath_p99_us_with_sinks),
 * or <dir>/persist.json with --out <dir>. Flags (or PERSIST_* variables): --orders, --rate,
 * --seconds, --trials, --connections, --drains (parts 2 and 3: drains per sink, each beside its
 * naive baseline, alternating; default 3, figures their medians), --recovery-events (0: skip part 5), --servers-nice (the
 * niceness of the Postgres server and the mock broker, default 10 as docs/TUNING.md advises on
 * one host; 0: the engine's priority), --threading (the engine's, in every hot-path arm; default
 * the engine's default).
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import {
  ChildEventFlyweight, ExecReportFlyweight, NewOrderFlyweight, RecordType, RouteAuditFlyweight, RouteDoneFlyweight, CHILD_EVENT_LENGTH, EXEC_REPORT_LENGTH,
  NEW_ORDER_LENGTH, ROUTE_DONE_LENGTH, WEIGHT_SCALE, childEventLength, routeAuditLength,
} from '../codecs/records.ts';
import { JournalWriter, type FsyncPolicy } from '../persistence/journal.ts';
import { PgSink } from '../persistence/pg-sink.ts';
import { KafkaSink, KAFKA_TOPICS } from '../persistence/kafka-sink.ts';
import { SinkRunner } from '../persistence/sink-runner.ts';
import { replayJournal } from '../persistence/journal-reader.ts';
import { SystemClock } from '../engine/clock.ts';
import { StageCounters } from '../engine/counters.ts';
import { RingConsumer, RingProducer, createRingMemory } from '../engine/ring.ts';
import { feeCentiBps } from '../workers/config.ts';
import { FixStage } from '../workers/fix/fix-stage.ts';
import { execIdHash } from '../workers/fix/exec-id-set.ts';
import { writeUint } from '../engine/fixed-point.ts';
import { recoverFixStage } from '../workers/fix/recovery.ts';
import { SNAPSHOT_DIR, SnapshotStore, snapshotFingerprint } from '../persistence/snapshot.ts';
import { SnapshotFollower } from '../persistence/snapshot-follower.ts';
import { followedStages } from '../workers/snapshot-stages.ts';
import { RiskStage } from '../workers/risk/risk-stage.ts';
import { riskConfigFrom } from '../workers/risk/risk-config.ts';
import { recoverRiskStage, recoveredRiskConfig, startRiskRecovery } from '../workers/risk/recovery.ts';
import { SorStage, type VenueProfile } from '../workers/sor/sor-stage.ts';
import { recoverSorStage } from '../workers/sor/recovery.ts';
import { freshDatabase, startPostgres, type PostgresServer } from '../scripts/postgres.ts';
import { startKafkaMock, type KafkaMock } from '../scripts/kafka-mock.ts';
import { assertNiceness } from '../scripts/nice.ts';
import { SCHED_IDLE, threadPolicy } from '../workers/thread-nice.ts';
import { ProgressLine } from './lib/progress.ts';
import { DEFAULT_CONFIG, validateConfig, type EngineConfig } from '../workers/config.ts';
import { THREADING_SETTINGS, type ThreadingSetting } from '../workers/topology.ts';
import { BenchArgs, envNumber } from './lib/args.ts';
import type { PercentilesUs } from './lib/histogram-us.ts';
import { machineInfo, settle, watchCpu } from './lib/machine.ts';
import { TargetWindow } from './lib/proc-usage.ts';
import { startTarget } from './lib/target-process.ts';
import { NativeLoadGenerator } from './lib/native-load.ts';
import { cpuUsPerOrder } from './lib/ws-trials.ts';
import { ReadingWindow, fetchHealth } from './lib/engine-health.ts';
import { figure, writeResults } from './lib/results.ts';
import { isMainModule } from './lib/main.ts';
import { medianOf, medianOrNull, roundTo, summarize } from './lib/stats.ts';
import { DEFAULT_ORDER } from './lib/ws-order-protocol.ts';

const HOT_WARMUP_MS = 1000;

/** What one run measures: its flags (or PERSIST_* variables), read by main() only. */
export interface PersistParams {
  orders: number;
  hotRate: number;
  hotSeconds: number;
  hotTrials: number;
  hotConnections: number;
  /** Drains of the synthetic journal per sink (each beside a naive baseline, alternating): figures are their medians. */
  drains: number;
  recoveryEvents: number;
  outDir: string | undefined;
  /**
   * The servers' niceness (0..19): the engine and its servers share the host, laid out as
   * docs/TUNING.md advises for one host (Postgres and the broker at 10); 0 measures them at the
   * engine's priority.
   */
  serversNice: number;
  /** The engine's `threading` in the hot-path trials (every arm); null: the engine's default. */
  threading: ThreadingSetting | null;
}

/** Reads the flags; throws naming a flag it does not take (BenchArgs.rejectUnknown). */
export function readPersistParams(argv: string[], env: NodeJS.ProcessEnv = process.env): PersistParams {
  const args = new BenchArgs(argv);
  const p: PersistParams = {
    orders: args.int('--orders', envNumber(env, 'PERSIST_ORDERS', 20_000, 1, true), 1),
    hotRate: args.num('--rate', envNumber(env, 'PERSIST_RATE', 1000, 1), 1),
    hotSeconds: args.num('--seconds', envNumber(env, 'PERSIST_SECONDS', 10, 1), 1),
    hotTrials: args.int('--trials', envNumber(env, 'PERSIST_TRIALS', 3, 1, true), 1),
    hotConnections: args.int('--connections', envNumber(env, 'PERSIST_CONNECTIONS', 100, 1, true), 1),
    drains: args.int('--drains', envNumber(env, 'PERSIST_DRAINS', 3, 1, true), 1),
    recoveryEvents: args.int('--recovery-events', envNumber(env, 'PERSIST_RECOVERY_EVENTS', 1_000_000, 0, true), 0),
    outDir: args.value('--out'),
    serversNice: args.int('--servers-nice', envNumber(env, 'PERSIST_SERVERS_NICE', 10, 0, true), 0),
    threading: args.oneOf('--threading', THREADING_SETTINGS, null),
  };
  args.rejectUnknown();
  return p;
}

export const names = { symbols: DEFAULT_CONFIG.symbols.map((s) => s.name), venues: new Map(DEFAULT_CONFIG.venues.map((v) => [v.id, v.name])) };
export const reference = {
  accounts: DEFAULT_CONFIG.accounts.map((a) => ({ ...a })),
  symbols: DEFAULT_CONFIG.symbols.map((s, i) => ({ id: i, name: s.name, referencePrice: s.referencePrice })),
  venues: DEFAULT_CONFIG.venues.map((v) => ({ ...v })),
  weights: DEFAULT_CONFIG.sor.weights,
};

/** The fills' ExecID prefix: a simulator named V1 booted at 2026-11-24 (sim/venue.ts). */
const EXEC_ID_PREFIX = new TextEncoder().encode(`V1-${Date.UTC(2026, 10, 24).toString(36)}-E`);

/** Journal records SyntheticOrders writes per order (6 without the SOR's audit). */
export const SYNTHETIC_EVENTS_PER_ORDER = 7;

/** Writes `orders` orders' worth of realistic records (SYNTHETIC_EVENTS_PER_ORDER each) through JournalWriter. */
export function writeSyntheticJournal(dir: string, orders: number, fsync: FsyncPolicy = 'none', audits = true): number {
  const w = new JournalWriter(dir, fsync, 10, 1 << 20, { engineEpochMs: Date.now() });
  const synthetic = new SyntheticOrders(w, audits);
  let events = 0;
  for (let id = 1; id <= orders; id++) {
    events += synthetic.write(id);
    if (id % 40 === 0) w.flush(Date.now());
  }
  w.close();
  return events;
}

/**
 * One order's realistic records (new, ack, the SOR's decision audit of every venue, child sent,
 * route done, child fill, fill), appended to a JournalWriter: the synthetic journal of
 * bench:persist and of bench/sink-follow.ts (which appends them at a live pace).
 */
export class SyntheticOrders {
  private readonly w: JournalWriter;
  private readonly audits: boolean;
  private readonly buf = new Uint8Array(1024);
  private readonly view = new DataView(this.buf.buffer);
  private readonly no = new NewOrderFlyweight();
  private readonly er = new ExecReportFlyweight();
  private readonly ce = new ChildEventFlyweight();
  private readonly rd = new RouteDoneFlyweight();
  private readonly ra = new RouteAuditFlyweight();
  private readonly venues = DEFAULT_CONFIG.venues.length;
  private readonly auditLength = routeAuditLength(DEFAULT_CONFIG.venues.length);
  // Each order its own ClOrdID (the same one for all would make risk's ClOrdID index one long
  // probe chain at recovery: an artifact, since the engine refuses a repeated ClOrdID).
  private readonly cl = new TextEncoder().encode('bench-0000000000');
  private eventSeq = 0;
  /** The fills' ExecIDs: the prefix, then the order's id (written per fill). */
  private readonly id = new Uint8Array(64);

  constructor(w: JournalWriter, audits = true) {
    this.w = w;
    this.audits = audits;
    this.id.set(EXEC_ID_PREFIX);
  }

  /** Appends order `id`'s records; returns how many (7, or 6 without the audit). */
  write(id: number): number {
    const { w, buf, view, no, ce, rd, cl } = this;
    for (let i = 15, n = id; i >= 6; i--, n = Math.floor(n / 10)) cl[i] = 48 + (n % 10);
    buf.fill(0);
    no.wrap(view, buf, 0).setRecvTimeNs(id * 1000).setQty(100).setPriceTicks(190_000_000).setAccountId(1).setSymbolId(id % 5).setSide(1).setOrdType(2).setTif(0).setSource(1);
    no.setClOrdId(cl, 0, cl.length);
    w.append(RecordType.NEW_ORDER, buf, 0, NEW_ORDER_LENGTH);
    this.report(id, 0, 1, 0, 0);
    // The SOR's decision: features and scores of every venue, the whole order to venue 1.
    if (this.audits) this.writeAudit(id);
    buf.fill(0);
    ce.wrap(view, buf, 0).setChildId(id).setOrderId(id).setTimeNs(id * 1000 + 10).setQty(100).setPriceTicks(190_000_000).setVenueId(1).setKind(1);
    w.append(RecordType.CHILD_EVENT, buf, 0, CHILD_EVENT_LENGTH);
    buf.fill(0);
    rd.wrap(view, buf, 0).setOrderId(id).setRecvTimeNs(id * 1000).setDecisionTimeNs(id * 1000 + 5).setRoutedQty(100).setChildCount(1);
    w.append(RecordType.ROUTE_DONE, buf, 0, ROUTE_DONE_LENGTH);
    // The venue's fill as the fix stage journals it: the ExecID (as the simulators write theirs,
    // sim/venue.ts: V1-<boot in base 36>-E<n>) past the fixed part, and its hash.
    const idEnd = writeUint(this.id, EXEC_ID_PREFIX.length, id);
    buf.fill(0);
    ce.wrap(view, buf, 0).setChildId(id).setOrderId(id).setTimeNs(id * 1000 + 20).setQty(100).setPriceTicks(190_000_000).setLastQty(100).setLastPxTicks(189_500_000).setVenueId(1).setKind(3)
      .setExecIdHash(execIdHash(1, this.id, 0, idEnd)).setIds(this.id, 0, idEnd, 0, 0);
    w.append(RecordType.CHILD_EVENT, buf, 0, childEventLength(idEnd, 0));
    this.report(id, 2, 4, 100, 100);
    return this.audits ? SYNTHETIC_EVENTS_PER_ORDER : SYNTHETIC_EVENTS_PER_ORDER - 1;
  }

  private report(orderId: number, execType: number, state: number, last: number, cum: number): void {
    const { w, buf, view, er, cl } = this;
    buf.fill(0);
    er.wrap(view, buf, 0).setEventSeq(++this.eventSeq).setOrderId(orderId).setTimeNs(orderId * 1000).setQty(100).setPriceTicks(190_000_000)
      .setLastQty(last).setLastPxTicks(last > 0 ? 189_500_000 : 0).setCumQty(cum).setLeavesQty(100 - cum).setCumNotionalTicks(cum * 189_500_000)
      .setAccountId(1).setSymbolId(orderId % 5).setExecType(execType).setState(state).setSide(1).setOrdType(2).setTif(0).setSource(1).setVenueId(last > 0 ? 1 : 0);
    er.setClOrdId(cl, 0, cl.length);
    w.append(RecordType.EXEC_REPORT, buf, 0, EXEC_REPORT_LENGTH);
  }

  private writeAudit(id: number): void {
    const { w, buf, view, ra, venues } = this;
    buf.fill(0);
    ra.wrap(view, buf, 0).setOrderId(id).setDecisionTimeNs(id * 1000 + 5).setQty(100).setLimitTicks(190_000_000)
      .setNbbBidTicks(189_400_000).setNbbBidQty(300).setNbbAskTicks(189_500_000).setNbbAskQty(300).setChildPxTicks(189_500_000)
      .setRoutedQty(100).setParentQty(100).setAccountId(1).setSymbolId(id % 5).setConfigVersion(0)
      .setPriceWeight(0.5 * WEIGHT_SCALE).setLatencyWeight(0.2 * WEIGHT_SCALE).setFillprobWeight(0.2 * WEIGHT_SCALE).setFeeWeight(0.1 * WEIGHT_SCALE)
      .setSide(1).setOrdType(2).setTif(0).setMode(0).setVenueCount(venues).setChildCount(1).setStep(0).setChildTif(0).setFlags(1);
    for (let v = 1; v <= venues; v++) {
      ra.setVPx(v, 189_500_000 + (v - 1) * 10_000);
      ra.setVDispQty(v, 100 * v);
      ra.setVQuoteAgeNs(v, 2_000_000);
      ra.setVLatencyUs(v, 300 + 100 * v);
      ra.setVFillProb(v, 0.9 - 0.05 * v);
      ra.setVPriceScore(v, 1 / v);
      ra.setVLatencyScore(v, 1 / v);
      ra.setVFillScore(v, 0.9 - 0.05 * v);
      ra.setVFeeScore(v, 1);
      ra.setVScore(v, 1 / v);
      ra.setVChildQty(v, v === 1 ? 100 : 0);
      ra.setVChildId(v, v === 1 ? id : 0);
      ra.setVLotSize(v, 1);
      ra.setVFeeCentiBps(v, 3000);
    }
    w.append(RecordType.ROUTE_AUDIT, buf, 0, this.auditLength);
  }
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

/**
 * A sink draining the whole journal: its rate, and the CPU it cost per event, split into this
 * process (the sink's own code: decoding, batching, the client library) and the rest of the
 * machine (the server; nothing else runs meanwhile). Null split off Linux.
 */
export interface SinkRun { rate: number; sinkCpuUsPerEvent: number; serverCpuUsPerEvent: number | null }

export async function sinkRate(makeSink: () => PgSink | KafkaSink, journalDir: string, events: number, batchFrames: number): Promise<SinkRun> {
  const runner = new SinkRunner(makeSink(), journalDir, { batchFrames, pollMs: 1 });
  // To the millisecond: a 0.1 s step would be 0.7 us per event over a 140,000-event drain.
  const cpu = watchCpu(3);
  const t0 = performance.now();
  runner.start();
  if (!(await runner.drain(600_000))) throw new Error('sink did not drain');
  const s = (performance.now() - t0) / 1000;
  const used = cpu();
  await runner.stop();
  if (runner.applied !== events) throw new Error(`sink applied ${runner.applied} of ${events}`);
  const perEvent = (seconds: number): number => roundTo((seconds * 1e6) / events, 1);
  return { rate: Math.round(events / s), sinkCpuUsPerEvent: perEvent(used.processS), serverCpuUsPerEvent: used.otherS === null ? null : perEvent(used.otherS) };
}

/** A sink's drains beside their naive baselines: each figure the median of its trials, and the trials. */
export interface DrainTrials extends SinkRun {
  naive: number;
  rates: number[];
  naiveRates: number[];
}

/**
 * `n` drains of the synthetic journal, each followed by a naive baseline (drain, naive, drain,
 * naive ...: the VM's drifts reach both alike), each after `settle` (Postgres: a CHECKPOINT, so
 * the last run's dirty pages are not written in the next one's window). Rates, and each CPU
 * figure, are medians (each of its own column: the sink's and the server's may be of different drains).
 */
async function drainTrials(label: string, n: number, drain: (i: number) => Promise<SinkRun>, naive: (i: number) => Promise<number>, settle: () => Promise<void>): Promise<DrainTrials> {
  const runs: SinkRun[] = [];
  const naiveRates: number[] = [];
  for (let i = 1; i <= n; i++) {
    await settle();
    runs.push(await drain(i));
    await settle();
    naiveRates.push(Math.round(await naive(i)));
    const r = runs[i - 1];
    process.stdout.write(`  ${label} drain ${i}/${n}: ${r.rate} events/s, CPU per event sink ${r.sinkCpuUsPerEvent} us, server ${r.serverCpuUsPerEvent ?? '-'} us; naive ${naiveRates[i - 1]} events/s\n`);
  }
  const rates = runs.map((r) => r.rate);
  return {
    rate: Math.round(medianOf(rates)), rates, naive: Math.round(medianOf(naiveRates)), naiveRates,
    sinkCpuUsPerEvent: medianOrNull(runs.map((r) => r.sinkCpuUsPerEvent))!,
    serverCpuUsPerEvent: medianOrNull(runs.map((r) => r.serverCpuUsPerEvent)),
  };
}

/** Writes the server's dirty pages out now (a throwaway server: the bench connects as its superuser). */
async function checkpoint(url: string): Promise<void> {
  const c = new pg.Client(url);
  await c.connect();
  try {
    await c.query('CHECKPOINT');
  } finally {
    await c.end();
  }
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

/** The sinks a hot-path trial runs: none, or both at one of the two priority layouts. */
export const HOT_ARMS = ['none', 'idle', 'nice'] as const;
export type HotArm = (typeof HOT_ARMS)[number];

/** One hot-path trial: what the native open-loop generator measured against one engine. */
interface HotTrial {
  /** none: no sinks; idle: sinks thread and servers under SCHED_IDLE (the default); nice: at niceness 10 only (the layout before). */
  arm: HotArm;
  sinks: boolean;
  trial: number;
  latencyUs: PercentilesUs;
  sent: number;
  acked: number;
  rejected: number;
  timedOut: number;
  unsent: number;
  /** The engine process (its stages, and its sinks thread when on; 100 = one core). */
  engineCpuPct: number | null;
  /** The venue simulators' processes. */
  venuesCpuPct: number | null;
  /** The load generator's process and this one. */
  generatorCpuPct: number | null;
  /** The rest of the machine: with sinks, mostly the Postgres server and the mock broker. */
  otherCpuPct: number | null;
  /** The whole machine's CPU over the measured window, % of one core (200: both cores of 2; steal apart since f572f30); null off Linux. */
  machineCpuPct: number | null;
  /**
   * The engine process's threads runnable but waiting for a core over the window, microseconds
   * per order offered (Linux schedstat, summed over threads; null elsewhere): the size of the
   * contention for the cores, not a latency.
   */
  runQueueUsPerOrder: number | null;
  /** What the hypervisor took for other guests over the window, % of one core (null off Linux). */
  stealPct: number | null;
  /** Postgres transactions and Kafka produce batches per second over the window (0 without sinks). */
  pgBatchesPerS: number;
  kafkaBatchesPerS: number;
  /** Records journaled over the window per order offered (what each sink has to carry per order). */
  journalEventsPerOrder: number;
}

interface PersistenceReading { pg: number; kafka: number; journaled: number }

/** The persistence stage's journal and sink batch counters from /health. */
async function persistenceCounters(port: number): Promise<PersistenceReading> {
  const c = (await fetchHealth(port)).stages?.persistence?.counters;
  const pg = c?.PG_BATCHES;
  const kafka = c?.KAFKA_BATCHES;
  const journaled = c?.RECORDS_JOURNALED;
  if (typeof pg !== 'number' || typeof kafka !== 'number' || typeof journaled !== 'number') throw new Error(`/health on port ${port} has no PG_BATCHES / KAFKA_BATCHES / RECORDS_JOURNALED`);
  return { pg, kafka, journaled };
}

/** How many threads of process `pid` run under SCHED_IDLE (Linux /proc). */
function threadsUnderSchedIdle(pid: number): number {
  let n = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      if (threadPolicy(`/proc/${pid}/task/${tid}/stat`) === SCHED_IDLE) n++;
    } catch {
      // a thread that ended meanwhile
    }
  }
  return n;
}

/** Resolves once /health shows both sinks up (PG_UP, KAFKA_UP); throws after 60 s. */
async function sinksUp(port: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const c = (await fetchHealth(port)).stages?.persistence?.counters;
    if (c?.PG_UP === 1 && c?.KAFKA_UP === 1) return;
    if (Date.now() > deadline) throw new Error(`hot path trial: the sinks were not up within 60 s (PG_UP ${c?.PG_UP}, KAFKA_UP ${c?.KAFKA_UP})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * A fresh engine in a process of its own (bench/ws-target-host.ts: with its venue simulators, so
 * its CPU and run-queue wait are read from /proc apart from the load's), the native generator's
 * open-loop load at `rate`/s for `seconds` after a warm-up (order -> ack, from the intended send
 * time, as bench:ws measures it), then the engine stops.
 */
async function hotTrial(p: PersistParams, gen: NativeLoadGenerator, config: EngineConfig, arm: HotArm, trial: number, progress: ProgressLine): Promise<HotTrial> {
  const target = await startTarget('engine', config);
  try {
    // Both sinks connected (migrations run) before the load: a trial measures them following the
    // journal, not starting up.
    if (arm !== 'none') await sinksUp(target.port);
    // The arm is what it says: the sinks thread under SCHED_IDLE in the idle arm, no thread of the engine under it in the nice arm.
    const idleThreads = threadsUnderSchedIdle(target.pid);
    if (arm === 'idle' ? idleThreads === 0 : arm === 'nice' && idleThreads > 0) {
      throw new Error(`hot path trial, arm ${arm}: ${idleThreads} of the engine's threads under SCHED_IDLE`);
    }
    // The machine's CPU, the processes' shares and the sinks' batches over the measured window, as the latencies are.
    const window = new TargetWindow(target.pid, Object.values(target.helperPids));
    const counters = new ReadingWindow(() => persistenceCounters(target.port));
    const r = await gen.run({
      url: `ws://127.0.0.1:${target.port}/v1/ws`,
      tokens: config.accounts.slice(0, 2).map((a) => a.apiKey),
      rate: p.hotRate,
      durationMs: p.hotSeconds * 1000,
      warmupMs: HOT_WARMUP_MS,
      drainMs: 5000,
      connections: p.hotConnections,
      order: DEFAULT_ORDER,
      onWindow: { start: () => { window.start(); counters.start(); }, end: () => { window.close(); counters.end(); } },
      onProgress: (pr) => {
        window.sample();
        progress.openLoop(`hot path trial ${trial + 1}/${p.hotTrials} ${ARM_LABEL[arm]}`, pr);
      },
    });
    progress.clear();
    r.histogram.destroy();
    const usage = window.end(r.generatorCpuS ?? 0);
    const readings = counters.readings();
    if (readings === null || usage.cpuPct === null) throw new Error('hot path trial: the measured window was not read at both ends');
    const [b0, b1] = await readings;
    const c = r.counts;
    const perS = (n: number): number => roundTo(n / p.hotSeconds, 1);
    const machineCpuPct = usage.otherCpuPct === null ? null
      : Math.round((usage.cpuPct ?? 0) + (usage.helpersCpuPct ?? 0) + (usage.generatorCpuPct ?? 0) + usage.otherCpuPct);
    return {
      arm, sinks: arm !== 'none', trial, latencyUs: r.latencyUs, sent: c.sent, acked: c.acked, rejected: c.rejected, timedOut: c.timedOut, unsent: c.unsent,
      engineCpuPct: usage.cpuPct, venuesCpuPct: usage.helpersCpuPct, generatorCpuPct: usage.generatorCpuPct, otherCpuPct: usage.otherCpuPct,
      machineCpuPct, stealPct: usage.stealPct,
      runQueueUsPerOrder: cpuUsPerOrder(usage.runQueuePct, p.hotRate),
      pgBatchesPerS: perS(b1.pg - b0.pg), kafkaBatchesPerS: perS(b1.kafka - b0.kafka),
      journalEventsPerOrder: roundTo((b1.journaled - b0.journaled) / (p.hotRate * p.hotSeconds), 1),
    };
  } finally {
    await target.stop();
  }
}

const ARM_LABEL: Record<HotArm, string> = { none: 'without sinks     ', idle: 'sinks SCHED_IDLE  ', nice: 'sinks at nice 10  ' };

/**
 * Trials of every arm in turn, the arms' order rotating from one trial to the next (each arm
 * takes each position in turn; the cyclic order is kept), each after the machine settled;
 * returns them in run order.
 */
async function hotPathTrials(p: PersistParams, configOf: (arm: HotArm, trial: number) => Promise<EngineConfig>): Promise<HotTrial[]> {
  const gen = new NativeLoadGenerator();
  const progress = new ProgressLine();
  const trials: HotTrial[] = [];
  for (let trial = 0; trial < p.hotTrials; trial++) {
    for (let k = 0; k < HOT_ARMS.length; k++) {
      const arm = HOT_ARMS[(trial + k) % HOT_ARMS.length];
      await settle(30, 250, 15_000, 2);
      const t = await hotTrial(p, gen, await configOf(arm, trial), arm, trial, progress);
      trials.push(t);
      process.stdout.write(`hot path trial ${trial + 1}/${p.hotTrials} ${ARM_LABEL[arm]}: p50 ${t.latencyUs.p50} us, p99 ${t.latencyUs.p99} us, ` +
        `p99.9 ${t.latencyUs.p999} us, max ${t.latencyUs.max} us (${t.acked}/${t.sent} acked, ${t.timedOut} timed out, ${t.unsent} unsent); ` +
        `CPU engine ${t.engineCpuPct ?? '-'}%, venues ${t.venuesCpuPct ?? '-'}%, load ${t.generatorCpuPct ?? '-'}%, rest ${t.otherCpuPct ?? '-'}% (steal ${t.stealPct ?? '-'}%); ` +
        `engine threads waiting for a core ${t.runQueueUsPerOrder ?? '-'} us per order; ` +
        `batches/s pg ${t.pgBatchesPerS} kafka ${t.kafkaBatchesPerS}; ${t.journalEventsPerOrder} journal events per order\n`);
    }
  }
  await gen.close();
  return trials;
}

/** Seconds each start-up replay takes over one synthetic journal (section 5). Allocates freely. */
export function recoveryReplay(dir: string, store: SnapshotStore | null = null): Record<string, number> {
  const seconds = (f: () => void): number => {
    const t0 = performance.now();
    f();
    return (performance.now() - t0) / 1000;
  };
  const ring = () => createRingMemory(1 << 16);
  const clock = new SystemClock(Date.now());
  const out: Record<string, number> = {};
  let frames = 0;
  out.readOnly = seconds(() => { frames = replayJournal(dir, { onFrame() {} }).frames; });
  // A replay from a snapshot at the journal's end reads nothing; without one, every frame.
  const fromSnapshot = store !== null && store.list('risk').length > 0;
  const check = (stage: string, read: number, problem: string | null, loaded: string | null, skipped: string[]): void => {
    const want = fromSnapshot ? 0 : frames;
    if (read !== want || problem !== null || (fromSnapshot && loaded === null)) {
      throw new Error(`${stage} replay read ${read} frames, expected ${want}: ${problem ?? ''} ${skipped.join('; ')}`);
    }
  };
  out.risk = seconds(() => {
    // As workers/risk-part.ts: the id ranges from the snapshot's head and the tail (or a full scan).
    const configured = riskConfigFrom(DEFAULT_CONFIG, Date.now() * 1000);
    const start = startRiskRecovery(dir, configured, store);
    const config = recoveredRiskConfig(configured, start.bounds);
    const stage = new RiskStage(config, {
      fromIngest: new RingConsumer(ring()), fromFix: new RingConsumer(ring()), toIngest: new RingProducer(ring(), null), toFixClients: new RingProducer(ring(), null),
      toSor: new RingProducer(ring(), null), toPersistence: new RingProducer(ring(), null),
    }, clock, StageCounters.create());
    const r = recoverRiskStage(stage, dir, store, start);
    check('risk', r.frames, r.problem, r.snapshot.loaded, r.snapshot.skipped);
  });
  out.sor = seconds(() => {
    const venues: (VenueProfile | null)[] = [null];
    for (const v of DEFAULT_CONFIG.venues) venues[v.id] = { feeCentiBps: feeCentiBps(v.feeBps), latencyUs: v.latencyUs, fillProbability: v.fillProbability };
    const stage = new SorStage(
      { venues, symbolCount: DEFAULT_CONFIG.symbols.length, weights: { ...DEFAULT_CONFIG.sor.weights }, quoteStaleNs: 1e9, childIdBase: Date.now() * 1000, childTableBase: 0, childCapacity: DEFAULT_CONFIG.childCapacity },
      { fromRisk: new RingConsumer(ring()), fromFix: new RingConsumer(ring()), toFix: new RingProducer(ring(), null) },
      clock, StageCounters.create(),
    );
    const r = recoverSorStage(stage, dir, store);
    check('sor', r.frames, r.problem, r.snapshot.loaded, r.snapshot.skipped);
  });
  out.fix = seconds(() => {
    // Child table base 0: the base of a fix stage that recovers (workers/fix/recovery.ts).
    const stage = new FixStage([], DEFAULT_CONFIG.symbols.map((x) => x.name), [], 0, DEFAULT_CONFIG.childCapacity,
      { fromSor: new RingConsumer(ring()), fromRisk: new RingConsumer(ring()), toRisk: new RingProducer(ring(), null), toSor: new RingProducer(ring(), null) },
      clock, StageCounters.create());
    const r = recoverFixStage(stage, dir, DEFAULT_CONFIG.orderCapacity, store);
    check('fix', r.frames, r.problem, r.snapshot.loaded, r.snapshot.skipped);
  });
  out.frames = frames;
  return out;
}

/**
 * The snapshot thread's work over one synthetic journal (section 5; workers/snapshot-thread.ts):
 * the three replays built as it builds them, followed to the journal's last segment start in one
 * step and saved there; the frames it read, the replay's seconds and the saves' seconds. The snapshots it wrote are removed. Allocates freely.
 */
export function followOnce(dir: string): { frames: number; replayS: number; saveS: number } {
  const config = { ...DEFAULT_CONFIG, journal: { ...DEFAULT_CONFIG.journal, dir } };
  const store = new SnapshotStore(dir, snapshotFingerprint(config), 0);
  const start = followedStages(config, store, Date.now() * 1000, Date.now());
  const follower = new SnapshotFollower(dir, store, start.stages, 1);
  const step = follower.step();
  follower.close();
  rmSync(join(dir, SNAPSHOT_DIR), { recursive: true, force: true });
  if (step.boundary === null || step.saved.length !== start.stages.length) {
    throw new Error(`the follower saved ${step.saved.length} snapshots at ${step.boundary} (one segment only?): ${step.notSaved.join('; ')}`);
  }
  return { frames: step.frames, replayS: step.replayMs / 1000, saveS: step.saveMs / 1000 };
}

async function main(): Promise<void> {
  const p = readPersistParams(process.argv.slice(2));
  assertNiceness(p.serversNice); // now, not after the journal part
  const machine = machineInfo();
  process.stdout.write(`bench:persist on ${machine.cpus} x ${machine.cpuModel}, ${machine.memGiB} GiB, node ${machine.node}, ${machine.os}\n`);
  const journal: Record<string, number> = {};
  for (const fsync of ['none', 'interval', 'batch'] as const) {
    journal[fsync] = Math.round(journalRate(fsync, 2));
    process.stdout.write(`journal fsync=${fsync}: ${journal[fsync]} events/s (200-byte records, batches of 256)\n`);
  }

  const db = await startPostgres({ durable: true, nice: p.serversNice });
  const mock = await startKafkaMock(1, [...KAFKA_TOPICS], 3, p.serversNice);
  process.stdout.write(`Postgres and the Kafka mock run at niceness +${p.serversNice}\n`);
  let idleDb: PostgresServer | null = null;
  let idleMock: KafkaMock | null = null;
  const journalDir = mkdtempSync(join(tmpdir(), 'persist-bench-'));
  try {
    const events = writeSyntheticJournal(journalDir, p.orders);
    process.stdout.write(`synthetic journal: ${p.orders} orders, ${events} events\n`);
    // Each drain into a database of its own (keyed inserts into rows already there would skip
    // work), each naive baseline too; Kafka's drains each from a cursor of its own (from the start).
    // Batches and the Kafka cursor's throttle as the engine runs them (sinks.*.batchEvents,
    // sinks.kafka.cursorEveryMs: a durable file write after every batch would be a cost it does not pay).
    const pgRun = await drainTrials('postgres sink', p.drains,
      async (i) => {
        const url = await freshDatabase(db.url, `drain_${i}`);
        return sinkRate(() => new PgSink({ url, names, reference }), journalDir, events, DEFAULT_CONFIG.sinks.postgres.batchEvents);
      },
      async (i) => naivePgRate(await freshDatabase(db.url, `naive_${i}`), 3000),
      () => checkpoint(db.url));
    process.stdout.write(`postgres sink: ${pgRun.rate} events/s (batched unnest inserts, fsync on; median of ${p.drains} drains); naive one INSERT per event: ${pgRun.naive} events/s; ` +
      `CPU per event: sink ${pgRun.sinkCpuUsPerEvent} us, server ${pgRun.serverCpuUsPerEvent ?? '-'} us\n`);
    const kafkaRun = await drainTrials('kafka sink', p.drains,
      async (i) => sinkRate(() => new KafkaSink({ brokers: mock.brokers, names, cursorDir: join(journalDir, `sinks-${i}`), cursorEveryMs: DEFAULT_CONFIG.sinks.kafka.cursorEveryMs }),
        journalDir, events, DEFAULT_CONFIG.sinks.kafka.batchEvents),
      async () => naiveKafkaRate(mock.brokers, 2000),
      async () => {}); // the mock broker keeps its log in memory
    process.stdout.write(`kafka sink: ${kafkaRun.rate} events/s (acks=all, mock cluster; median of ${p.drains} drains); naive one send per event: ${kafkaRun.naive} events/s; ` +
      `CPU per event: sink ${kafkaRun.sinkCpuUsPerEvent} us, broker ${kafkaRun.serverCpuUsPerEvent ?? '-'} us\n`);

    // The sinks at SCHED_IDLE (the default, sinks.schedIdle) write to servers also under it; the
    // layout before, at niceness 10 only, to the servers above (at --servers-nice).
    idleDb = await startPostgres({ durable: true, nice: p.serversNice, idle: true });
    idleMock = await startKafkaMock(1, [...KAFKA_TOPICS], 3, p.serversNice, true);
    const servers: Record<Exclude<HotArm, 'none'>, { url: string; brokers: string[] }> = {
      idle: { url: idleDb.url, brokers: idleMock.brokers },
      nice: { url: db.url, brokers: mock.brokers },
    };
    const hotBase = (sinks: Record<string, unknown>): EngineConfig => validateConfig({
      ...DEFAULT_CONFIG, journal: { ...DEFAULT_CONFIG.journal, fsync: 'batch' }, sinks: { ...DEFAULT_CONFIG.sinks, ...sinks },
      ...(p.threading === null ? {} : { threading: p.threading }),
    });
    process.stdout.write(`hot path: order -> ack, ${p.hotRate}/s open loop (native generator) over ${p.hotConnections} WebSockets to an engine in its own process, ` +
      `${p.hotSeconds} s after ${HOT_WARMUP_MS} ms warm-up, ${p.hotTrials} trials of each: without sinks; sinks thread and servers under SCHED_IDLE; at niceness ${p.serversNice} only\n`);
    // A fresh engine and journal per trial (bench/ws-target-host.ts), so the sinks start from the
    // journal's first event into a fresh database (keyed inserts into the last trial's rows would skip work).
    const trials = await hotPathTrials(p, async (arm, trial) => {
      if (arm === 'none') return hotBase({});
      const url = await freshDatabase(servers[arm].url, `hot_${arm}_${trial}`);
      return hotBase({
        postgres: { ...DEFAULT_CONFIG.sinks.postgres, url }, kafka: { ...DEFAULT_CONFIG.sinks.kafka, brokers: servers[arm].brokers },
        schedIdle: arm === 'idle', nice: 10,
      });
    });
    const of = (arm: HotArm): HotTrial[] => trials.filter((t) => t.arm === arm);
    const pct = (arm: HotArm, k: 'p50' | 'p99' | 'p999') => summarize(of(arm).map((t) => t.latencyUs[k]));
    const med = (arm: HotArm, k: 'machineCpuPct' | 'runQueueUsPerOrder' | 'engineCpuPct' | 'otherCpuPct') => medianOrNull(of(arm).map((t) => t[k]), 0);
    for (const k of ['p50', 'p99', 'p999'] as const) {
      process.stdout.write(`hot path ${k}, median of ${p.hotTrials} (min-max): ${HOT_ARMS.map((arm) => `${ARM_LABEL[arm].trim()} ${pct(arm, k).median} us (${pct(arm, k).min}-${pct(arm, k).max})`).join('; ')}\n`);
    }
    process.stdout.write(`CPU over the window, medians: machine ${HOT_ARMS.map((arm) => `${ARM_LABEL[arm].trim()} ${med(arm, 'machineCpuPct') ?? '-'}%`).join(', ')}; ` +
      `engine process ${HOT_ARMS.map((arm) => `${med(arm, 'engineCpuPct') ?? '-'}%`).join(', ')}; engine threads waiting for a core, us per order: ` +
      `${HOT_ARMS.map((arm) => `${med(arm, 'runQueueUsPerOrder') ?? '-'}`).join(', ')}\n`);
    const baselineOf = (what: string) => `${what}, same load without sinks, the arms rotating, median of ${p.hotTrials} trials each`;

    let recovery: Record<string, number> | null = null;
    if (p.recoveryEvents > 0) {
      const recoveryDir = mkdtempSync(join(tmpdir(), 'persist-bench-recovery-'));
      try {
        const events = writeSyntheticJournal(recoveryDir, Math.ceil(p.recoveryEvents / 7));
        recovery = recoveryReplay(recoveryDir);
        process.stdout.write(`recovery replay of ${events} journal events: risk ${recovery.risk.toFixed(2)} s, sor ${recovery.sor.toFixed(2)} s, ` +
          `fix ${recovery.fix.toFixed(2)} s; the journal read alone ${recovery.readOnly.toFixed(2)} s\n`);
        const follow = followOnce(recoveryDir);
        recovery.followFrames = follow.frames;
        recovery.followReplayS = follow.replayS;
        recovery.followSaveS = follow.saveS;
        process.stdout.write(`  the snapshot thread, in one step to the last segment start: ${follow.frames} events replayed by the three stages in ` +
          `${follow.replayS.toFixed(2)} s (${roundTo((follow.replayS * 1e6) / follow.frames, 2)} us per event; the three start-up replays ` +
          `${roundTo(((recovery.risk + recovery.sor + recovery.fix) * 1e6) / recovery.frames, 2)} us per event), saved in ${follow.saveS.toFixed(2)} s\n`);
        // The next boot (its own segment) saves each stage's snapshot at its boundary; the boot
        // after it starts from them (persistence/snapshot.ts), with nothing journaled between.
        new JournalWriter(recoveryDir, 'none', 10, 1 << 20, { engineEpochMs: Date.now() + 1 }).close();
        const saving = recoveryReplay(recoveryDir, new SnapshotStore(recoveryDir, snapshotFingerprint(DEFAULT_CONFIG), 0));
        const loading = recoveryReplay(recoveryDir, new SnapshotStore(recoveryDir, snapshotFingerprint(DEFAULT_CONFIG), 1));
        const store = new SnapshotStore(recoveryDir, '');
        const mib = (stage: string): number => roundTo(statSync(store.list(stage)[0].path).size / 2 ** 20, 1);
        for (const stage of ['risk', 'sor', 'fix']) {
          recovery[`${stage}Saving`] = saving[stage];
          recovery[`${stage}FromSnapshot`] = loading[stage];
          recovery[`${stage}SnapshotMiB`] = mib(stage);
        }
        process.stdout.write(`  replay and save a snapshot: risk ${saving.risk.toFixed(2)} s, sor ${saving.sor.toFixed(2)} s, fix ${saving.fix.toFixed(2)} s ` +
          `(files: risk ${recovery.riskSnapshotMiB} MiB, sor ${recovery.sorSnapshotMiB} MiB, fix ${recovery.fixSnapshotMiB} MiB)\n` +
          `  the next start, from the snapshots: risk ${loading.risk.toFixed(2)} s, sor ${loading.sor.toFixed(2)} s, fix ${loading.fix.toFixed(2)} s\n`);
      } finally {
        rmSync(recoveryDir, { recursive: true, force: true });
      }
    }

    const path = writeResults('persist', {
      orders: p.orders, events, drains: p.drains, recoveryEvents: p.recoveryEvents, hotRate: p.hotRate, hotSeconds: p.hotSeconds, hotWarmupMs: HOT_WARMUP_MS, hotTrials: p.hotTrials, hotConnections: p.hotConnections,
      hotLoad: 'bench/native/ws-load.c (bench/lib/native-load.ts) against the engine in its own process (bench/ws-target-host.ts), IOC orders far from the market (DEFAULT_ORDER)',
      hotArms: 'none: no sinks; idle: sinks thread and servers under SCHED_IDLE (the default); nice: sinks thread at niceness 10, servers at --servers-nice (the layout before)',
      postgres: 'throwaway 15, fsync on', kafka: 'librdkafka mock cluster, 1 broker, acks=all', serversNice: p.serversNice,
      threading: hotBase({}).threading,
    }, {
      postgres_events_per_s: figure(pgRun.rate, 'events/s', '>= 20000', pgRun.naive, `one INSERT per event (autocommit), same server, same run; medians of ${p.drains} alternating drains each`,
        { trials: pgRun.rates, baselineTrials: pgRun.naiveRates }),
      hotpath_p99_us_with_sinks: figure(pct('idle', 'p99').median, 'us', '(report)', pct('none', 'p99').median, baselineOf('p99'),
        { min: pct('idle', 'p99').min, max: pct('idle', 'p99').max, baselineMin: pct('none', 'p99').min, baselineMax: pct('none', 'p99').max,
          note: 'the sinks thread (sinks.schedIdle, the default) and the Postgres server and mock broker under SCHED_IDLE' }),
      hotpath_p99_us_with_sinks_nice10: figure(pct('nice', 'p99').median, 'us', '(report)', pct('none', 'p99').median, baselineOf('p99'),
        { min: pct('nice', 'p99').min, max: pct('nice', 'p99').max, baselineMin: pct('none', 'p99').min, baselineMax: pct('none', 'p99').max, note: `the layout before: the sinks thread at niceness 10 (sinks.schedIdle false), the servers at +${p.serversNice}` }),
      hotpath_p50_us_with_sinks: figure(pct('idle', 'p50').median, 'us', '(report)', pct('none', 'p50').median, baselineOf('p50')),
      hotpath_p999_us_with_sinks: figure(pct('idle', 'p999').median, 'us', '(report)', pct('none', 'p999').median, baselineOf('p99.9')),
      ...(med('idle', 'runQueueUsPerOrder') === null ? {} : {
        hotpath_engine_run_queue_us_per_order_with_sinks: figure(med('idle', 'runQueueUsPerOrder')!, 'us', '(report)', med('none', 'runQueueUsPerOrder'), baselineOf('run-queue wait per order'), {
          note: 'the engine process\'s threads (its stages, and its sinks thread when on) runnable but waiting for a core over the measured window (Linux schedstat), summed, per order offered',
        }),
      }),
      ...(med('idle', 'machineCpuPct') === null ? {} : {
        hotpath_machine_cpu_pct_with_sinks: figure(med('idle', 'machineCpuPct')!, '%', '(report)', med('none', 'machineCpuPct'), baselineOf('the whole machine\'s CPU (200 = 2 cores; steal apart)')),
      }),
      journal_events_per_s_fsync_none: figure(journal.none, 'events/s', '(report)', null),
      journal_events_per_s_fsync_interval: figure(journal.interval, 'events/s', '(report)', null),
      journal_events_per_s_fsync_batch: figure(journal.batch, 'events/s', '(report)', journal.none, 'fsync none, same run'),
      kafka_events_per_s: figure(kafkaRun.rate, 'events/s', '(report)', kafkaRun.naive, `one send() per event, same cluster, same run; medians of ${p.drains} alternating drains each`,
        { trials: kafkaRun.rates, baselineTrials: kafkaRun.naiveRates }),
      // What each event costs the machine, this process's share (the sink) beside the server's.
      postgres_sink_cpu_us_per_event: figure(pgRun.sinkCpuUsPerEvent, 'us', '(report)', pgRun.serverCpuUsPerEvent, 'the Postgres server\'s CPU per event, same drains (medians)'),
      kafka_sink_cpu_us_per_event: figure(kafkaRun.sinkCpuUsPerEvent, 'us', '(report)', kafkaRun.serverCpuUsPerEvent, 'the mock broker\'s CPU per event, same drains (medians)'),
      ...(recovery === null ? {} : {
        recovery_risk_s: figure(roundTo(recovery.risk, 3), 's', '(report)', roundTo(recovery.readOnly, 3), `the journal read alone, ${recovery.frames} events, same run`),
        recovery_sor_s: figure(roundTo(recovery.sor, 3), 's', '(report)', roundTo(recovery.readOnly, 3), `the journal read alone, ${recovery.frames} events, same run`),
        recovery_fix_s: figure(roundTo(recovery.fix, 3), 's', '(report)', roundTo(recovery.readOnly, 3), `the journal read alone, ${recovery.frames} events, same run`),
        snapshot_follow_us_per_event: {
          ...figure(roundTo((recovery.followReplayS * 1e6) / recovery.followFrames, 2), 'us', '(report)', roundTo(((recovery.risk + recovery.sor + recovery.fix) * 1e6) / recovery.frames, 2),
            `the three stages' start-up replays of the whole journal (${recovery.frames} events), per event, same run`),
          events: recovery.followFrames, saveS: roundTo(recovery.followSaveS, 3),
        },
        ...Object.fromEntries(['risk', 'sor', 'fix'].map((stage) => [`recovery_${stage}_from_snapshot_s`,
          { ...figure(roundTo(recovery![`${stage}FromSnapshot`], 3), 's', '(report)', roundTo(recovery![stage], 3), `the full replay of the same ${recovery!.frames} events, same run`),
            snapshotMiB: recovery![`${stage}SnapshotMiB`], replayAndSaveS: roundTo(recovery![`${stage}Saving`], 3) }])),
      }),
    }, { hotPathTrials: trials }, p.outDir);
    process.stdout.write(`wrote ${path}\n`);
  } finally {
    rmSync(journalDir, { recursive: true, force: true });
    await Promise.all([mock.stop(), db.stop(), idleMock?.stop(), idleDb?.stop()]);
  }
}

if (isMainModule(import.meta.url)) {
  main().then(() => process.exit(0), (err) => {
    process.stderr.write(`${(err as Error).stack ?? err}\n`);
    process.exit(1);
  });
}
