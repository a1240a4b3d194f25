/**
 * Thread entry of the sinks: the Postgres and Kafka sinks, each a SinkRunner following the
 * journal files with its own durable cursor (persistence/sink-runner.ts). Started by the
 * supervisor only when a sink is configured (sinks.postgres.url / DATABASE_URL,
 * sinks.kafka.brokers / KAFKA_BROKERS). It reads files, never a ring, so a slow or absent
 * database or broker never touches the journal writer or the hot path: the sinks only lag.
 *
 * Counters: the PG_* and KAFKA_* persistence counters (engine/counters.ts), written only here;
 * lag = JOURNAL_NEXT_SEQUENCE (written by the persistence thread) - the sink's applied sequence.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PersistenceCounter, StageCounters } from '../engine/counters.ts';
import { Mulberry32 } from '../engine/prng.ts';
import { KafkaSink } from '../persistence/kafka-sink.ts';
import { PgSink } from '../persistence/pg-sink.ts';
import { pgHoldPath, sinksDir } from '../persistence/sink-files.ts';
import { SinkRunner, type SinkCounterIds } from '../persistence/sink-runner.ts';
import type { WorkerData } from './worker-data.ts';
import { sampleThisThread } from './metrics/runtime-sampler.ts';
import { lowerThisThread } from './thread-nice.ts';

const data = workerData as WorkerData;
const { config } = data;
const counters = new StageCounters(data.memory.counters.persistence);
const names = { symbols: config.symbols.map((s) => s.name), venues: new Map(config.venues.map((v) => [v.id, v.name])) };
const log = (level: 'info' | 'warn' | 'error', msg: string) => parentPort!.postMessage({ type: 'log', stage: 'sinks', level, msg });
// Whole (setAtomic by the persistence stage): the runners read no frame past it.
const journalNextSequence = () => counters.getAtomic(PersistenceCounter.JOURNAL_NEXT_SEQUENCE);

// Below the stages (sinks.nice, sinks.schedIdle; workers/thread-nice.ts).
const notNiced = await lowerThisThread(config.sinks.nice, config.sinks.schedIdle);
if (notNiced !== null) log('warn', `sinks thread not lowered as configured: ${notNiced}`);

// Its CPU, heap, GC and event-loop delay in /metrics (thread="sinks"): on a small host it is
// part of the core budget (docs/TUNING.md).
sampleThisThread(data, 'sinks');

/** Seeded jitter for the backoff: runs replay the same waits. */
const jitter = new Mulberry32(0x9e3779b9);
const random = (): number => jitter.nextFloat();

const PG_IDS: SinkCounterIds = {
  appliedSequence: PersistenceCounter.PG_APPLIED_SEQUENCE, durableSequence: PersistenceCounter.PG_DURABLE_SEQUENCE, lagEvents: PersistenceCounter.PG_LAG_EVENTS,
  eventsApplied: PersistenceCounter.PG_EVENTS_APPLIED, batches: PersistenceCounter.PG_BATCHES, failures: PersistenceCounter.PG_FAILURES,
  up: PersistenceCounter.PG_UP, skippedUnknown: PersistenceCounter.PG_SKIPPED_UNKNOWN,
};
const KAFKA_IDS: SinkCounterIds = {
  appliedSequence: PersistenceCounter.KAFKA_APPLIED_SEQUENCE, durableSequence: PersistenceCounter.KAFKA_DURABLE_SEQUENCE, lagEvents: PersistenceCounter.KAFKA_LAG_EVENTS,
  eventsApplied: PersistenceCounter.KAFKA_EVENTS_APPLIED, batches: PersistenceCounter.KAFKA_BATCHES, failures: PersistenceCounter.KAFKA_FAILURES,
  up: PersistenceCounter.KAFKA_UP, skippedUnknown: PersistenceCounter.KAFKA_SKIPPED_UNKNOWN,
};

const common = {
  pollMs: config.sinks.pollMs, backoffMinMs: config.sinks.backoffMinMs, backoffMaxMs: config.sinks.backoffMaxMs,
  random, journalNextSequence, log,
};
const runners: SinkRunner[] = [];
if (config.sinks.postgres.url !== null) {
  const sink = new PgSink({
    url: config.sinks.postgres.url,
    sinkName: config.sinks.postgres.sinkName,
    names,
    reference: {
      accounts: config.accounts.map((a) => ({ id: a.id, name: a.name, role: a.role, enabled: a.enabled, maxOrderQty: a.maxOrderQty, maxOrderNotional: a.maxOrderNotional })),
      symbols: config.symbols.map((s, i) => ({ id: i, name: s.name, referencePrice: s.referencePrice })),
      venues: config.venues.map((v) => ({ id: v.id, name: v.name, feeBps: v.feeBps, latencyUs: v.latencyUs, fillProbability: v.fillProbability })),
      weights: config.sor.weights,
    },
  });
  // Its durable cursor lives in its database; the hold file mirrors it beside the journal, so
  // journal.retention still holds the journal for it in a run that leaves Postgres out.
  runners.push(new SinkRunner(sink, config.journal.dir, {
    ...common, batchFrames: config.sinks.postgres.batchEvents, lingerMs: config.sinks.postgres.lingerMs, counters: { values: counters, ids: PG_IDS },
    holdFile: pgHoldPath(config.journal.dir, config.sinks.postgres.sinkName),
  }));
}
if (config.sinks.kafka.brokers.length > 0) {
  const sink = new KafkaSink({
    brokers: config.sinks.kafka.brokers,
    clientId: config.sinks.kafka.clientId,
    sinkName: config.sinks.kafka.sinkName,
    cursorDir: sinksDir(config.journal.dir),
    cursorEveryMs: config.sinks.kafka.cursorEveryMs,
    names,
  });
  runners.push(new SinkRunner(sink, config.journal.dir, { ...common, batchFrames: config.sinks.kafka.batchEvents, lingerMs: config.sinks.kafka.lingerMs, counters: { values: counters, ids: KAFKA_IDS } }));
}

parentPort!.on('message', (msg: { type: string; drainMs?: number }) => {
  if (msg.type === 'stop') {
    // The journal is flushed before the sinks are told to stop: give them a moment to apply
    // its last records, then close. Whatever is left is applied at the next start.
    void (async () => {
      const drainMs = msg.drainMs ?? 2000;
      await Promise.all(runners.map((r) => r.drain(drainMs)));
      await Promise.all(runners.map((r) => r.stop()));
      parentPort!.postMessage({ type: 'stopped', stage: 'sinks' });
    })();
  }
});

for (const r of runners) r.start();
parentPort!.postMessage({ type: 'ready', stage: 'sinks', detail: { sinks: runners.map((r) => r.sink.name) } });
