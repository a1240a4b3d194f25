/**
 * Goal: the Kafka sink's cursor file (journal.retention's floor for it, and where it resumes) is
 * written at most once every cursorEveryMs while batches keep coming, at once on checkpoint()
 * (the runner calls it when caught up) and on close(), never ahead of an acknowledged batch; its
 * durableSequence is always the file's; 0 writes after every batch (the behaviour before).
 * Method: a real KafkaSink connected to librdkafka's mock cluster (scripts/kafka-mock.ts); one
 * event journaled per batch, so each apply() produces a real acks = all request; the cursor file
 * read back after each step. The throttle is a minute long, so no step depends on timing.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import { startKafkaMock, type KafkaMock } from '../scripts/kafka-mock.ts';
import { DEFAULT_CONFIG, ConfigError, validateConfig } from '../workers/config.ts';
import { KAFKA_TOPICS, KafkaSink } from './kafka-sink.ts';
import { kafkaCursorName, readKafkaCursor } from './sink-files.ts';
import { JournalReader, type JournalCursor } from './journal-reader.ts';
import { JournalWriter } from './journal.ts';
import { MassCancelFlyweight, MASS_CANCEL_LENGTH, RecordType } from '../codecs/records.ts';

const names = { symbols: DEFAULT_CONFIG.symbols.map((s) => s.name), venues: new Map(DEFAULT_CONFIG.venues.map((v) => [v.id, v.name])) };
let mock: KafkaMock;
let dir: string;

beforeAll(async () => {
  mock = await startKafkaMock(1, [...KAFKA_TOPICS], 1);
}, 60_000);
afterAll(async () => {
  await mock?.stop();
});
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kafka-cursor-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A journal in `dir` that the test extends one event at a time, and a reader over it. */
function journal(): { next: (sink: KafkaSink, at: JournalCursor) => JournalCursor; close: () => void } {
  const writer = new JournalWriter(dir, 'none', 10, 1 << 20, { engineEpochMs: Date.now() });
  const reader = new JournalReader(dir);
  const body = new Uint8Array(MASS_CANCEL_LENGTH);
  let n = 0;
  return {
    /** Journals one event, reads it into the sink's batch; the cursor past it. */
    next(sink, at) {
      const f = new MassCancelFlyweight().wrap(new DataView(body.buffer), body, 0);
      f.setTimeNs(1e6).setAccountId(1);
      f.setRequestId(++n);
      writer.append(RecordType.MASS_CANCEL, body, 0, body.length);
      writer.flush(Date.now());
      const after = { ...at };
      sink.batch.reset();
      expect(reader.read(after, 10, sink.batch)).toBe(1);
      return after;
    },
    close() {
      reader.close();
      writer.close();
    },
  };
}

const fileSequence = (): number | undefined => readKafkaCursor(join(dir, 'sinks', kafkaCursorName('kafka')))?.sequence;

describe('Kafka sink cursor file (mock cluster)', () => {
  it('throttled: the first batch is written, later ones wait for the throttle, checkpoint() or close(); durableSequence is the file\'s', async () => {
    const sink = new KafkaSink({ brokers: mock.brokers, names, cursorDir: join(dir, 'sinks'), cursorEveryMs: 60_000 });
    const j = journal();
    try {
      let at = await sink.open();
      expect(at.sequence).toBe(1);
      at = j.next(sink, at);
      await sink.apply(at);
      expect(sink.messagesSent).toBe(1);
      expect(fileSequence()).toBe(2);
      const second = j.next(sink, at);
      await sink.apply(second);
      expect(sink.messagesSent).toBe(2);
      // Acknowledged, but within the minute: the file (and the retention floor) stay at 2.
      expect(fileSequence()).toBe(2);
      expect(sink.durableSequence).toBe(2);
      sink.checkpoint();
      expect(fileSequence()).toBe(3);
      expect(sink.durableSequence).toBe(3);
      sink.checkpoint(); // nothing left behind: no write
      expect(sink.cursorWrites).toBe(2);
      const third = j.next(sink, second);
      await sink.apply(third);
      expect(fileSequence()).toBe(3);
      await sink.close();
      expect(fileSequence()).toBe(4);
      expect(sink.durableSequence).toBe(4);
      // A reopen resumes from the file.
      expect((await sink.open()).sequence).toBe(4);
    } finally {
      await sink.close();
      j.close();
    }
  }, 60_000);

  it('a cursor write that fails: apply throws, durableSequence stays at the file, the acknowledged cursor is kept and written once the disk allows', async () => {
    // The cursor directory's parent is a regular file: every write fails (ENOTDIR), even as root.
    const blocker = join(dir, 'blocker');
    writeFileSync(blocker, '');
    const cursorDir = join(blocker, 'sinks');
    const sink = new KafkaSink({ brokers: mock.brokers, names, cursorDir, cursorEveryMs: 60_000 });
    const j = journal();
    try {
      let at = await sink.open();
      at = j.next(sink, at);
      await expect(sink.apply(at)).rejects.toThrow(/ENOTDIR/);
      expect(sink.messagesSent).toBe(1);
      expect(sink.durableSequence).toBe(1);
      expect(() => sink.checkpoint()).toThrow(/ENOTDIR/);
      await sink.close(); // swallows the same failure
      expect(sink.durableSequence).toBe(1);
      rmSync(blocker);
      sink.checkpoint();
      expect(readKafkaCursor(join(cursorDir, kafkaCursorName('kafka')))?.sequence).toBe(2);
      expect(sink.durableSequence).toBe(2);
    } finally {
      await sink.close();
      j.close();
    }
  }, 60_000);

  it('cursorEveryMs 0 writes the file after every batch', async () => {
    const sink = new KafkaSink({ brokers: mock.brokers, names, cursorDir: join(dir, 'sinks'), cursorEveryMs: 0 });
    const j = journal();
    try {
      let at = await sink.open();
      for (let i = 0; i < 3; i++) {
        at = j.next(sink, at);
        await sink.apply(at);
        expect(fileSequence()).toBe(at.sequence);
        expect(sink.durableSequence).toBe(at.sequence);
      }
      expect(sink.cursorWrites).toBe(3);
    } finally {
      await sink.close();
      j.close();
    }
  }, 60_000);

  it('refuses a throttle outside 0..60000 ms or not whole, in the sink and in the configuration (sinks.kafka.cursorEveryMs, default 1000)', () => {
    for (const cursorEveryMs of [-1, 60_001, 1.5, Number.NaN]) {
      expect(() => new KafkaSink({ brokers: mock.brokers, names, cursorDir: dir, cursorEveryMs })).toThrow(/cursorEveryMs/);
    }
    expect(validateConfig({}).sinks.kafka.cursorEveryMs).toBe(1000);
    const at = (cursorEveryMs: unknown) => () => validateConfig({ ...DEFAULT_CONFIG, sinks: { ...DEFAULT_CONFIG.sinks, kafka: { ...DEFAULT_CONFIG.sinks.kafka, cursorEveryMs } } });
    for (const bad of [-1, 60_001, 2.5, '100', null]) expect(at(bad)).toThrow(ConfigError);
    expect(at(0)().sinks.kafka.cursorEveryMs).toBe(0);
  });
});
