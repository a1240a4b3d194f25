// Goal: SinkRunner's linger (lingerMs): after a batch smaller than batchFrames it waits lingerMs
// before reading again, so what arrives meanwhile goes out as one batch; full batches (catching
// up) follow each other at once; an empty read still waits pollMs (not the linger); 0 reads again
// at once (as before); drain() and stop() cut a linger short; nothing is lost or applied twice.
// Method: a real journal (JournalWriter) and a recording sink, the runner's timers under vitest's
// fake clock (no test waits on real time).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { JournalWriter } from './journal.ts';
import type { JournalCursor } from './journal-reader.ts';
import { SinkRunner, type Sink, type SinkBatch } from './sink-runner.ts';
import { ConfigError, DEFAULT_CONFIG, validateConfig } from '../workers/config.ts';
import { StageCounters } from '../engine/counters.ts';
import { readSinkHold } from './sink-files.ts';

/** Applies nothing anywhere: records the sequence numbers of each batch it is given. */
class RecordingSink implements Sink {
  readonly name = 'recording';
  readonly batches: number[][] = [];
  private current: number[] = [];
  private cursor: JournalCursor = { segment: 0, offset: 0, sequence: 1 };
  readonly batch: SinkBatch;
  get durableSequence(): number {
    return this.cursor.sequence;
  }

  constructor() {
    const self = this;
    this.batch = {
      get frames() { return self.current.length; },
      unknown: 0,
      reset() { self.current = []; },
      onFrame(_typeId: number, sequence: number) { self.current.push(sequence); },
    };
  }

  async open(): Promise<JournalCursor> {
    return { ...this.cursor };
  }

  async apply(after: JournalCursor): Promise<void> {
    this.batches.push(this.current);
    this.cursor = after;
  }

  async close(): Promise<void> {}
}

let dir: string;
let writer: JournalWriter;
/** Runners a test started: stopped after it, whatever it did. */
const started: SinkRunner[] = [];
function runner(sink: Sink, options: ConstructorParameters<typeof SinkRunner>[2]): SinkRunner {
  const r = new SinkRunner(sink, dir, options);
  started.push(r);
  return r;
}
const body = new Uint8Array(32).fill(1);
function append(n: number): void {
  for (let i = 0; i < n; i++) writer.append(9, body, 0, body.length);
  writer.flush(Date.now());
}
/** Lets the runner's promises and due timers run, `ms` of fake time. */
const advance = (ms: number) => vi.advanceTimersByTimeAsync(ms);
/** A recording sink's runner (batches of 5, polls every 10 ms) started on `initial` appended frames, its first reads done. */
async function startedOn(lingerMs: number, initial: number): Promise<{ sink: RecordingSink; r: SinkRunner }> {
  const sink = new RecordingSink();
  const r = runner(sink, { batchFrames: 5, pollMs: 10, lingerMs });
  if (initial > 0) append(initial);
  r.start();
  await advance(0);
  return { sink, r };
}

beforeEach(() => {
  vi.useFakeTimers();
  dir = mkdtempSync(join(tmpdir(), 'sink-runner-'));
  writer = new JournalWriter(dir, 'none', 10, 1 << 20, { engineEpochMs: Date.now() });
});
afterEach(async () => {
  const stopping = started.splice(0).map((r) => r.stop());
  await advance(0);
  await Promise.all(stopping);
  writer.close();
  rmSync(dir, { recursive: true, force: true });
  vi.useRealTimers();
});

describe('SinkRunner and the journal\'s flushed end (journalNextSequence)', () => {
  it('reads no frame at or past it: frames written but not yet flushed by the engine wait', async () => {
    const sink = new RecordingSink();
    let flushedEnd = 4; // frames 1..3 flushed (fdatasynced); 4..10 written, not yet
    const r = runner(sink, { batchFrames: 5, pollMs: 10, lingerMs: 0, journalNextSequence: () => flushedEnd });
    append(10);
    r.start();
    await advance(0);
    await advance(30);
    expect(sink.batches.flat()).toEqual([1, 2, 3]);
    flushedEnd = 11;
    await advance(10);
    await advance(10);
    expect(sink.batches.flat()).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    expect(sink.batches.every((b) => b.length <= 5)).toBe(true);
    await r.stop();
  });
});

describe('SinkRunner linger', () => {
  it('waits lingerMs after a partial batch, so what arrives meanwhile is one batch; full batches do not wait', async () => {
    const { sink, r } = await startedOn(100, 12);
    // Catching up: 5 and 5 at once, then the partial 2, then the linger.
    expect(sink.batches.map((b) => b.length)).toEqual([5, 5, 2]);
    append(1);
    await advance(50);
    append(2);
    await advance(49);
    expect(sink.batches).toHaveLength(3); // still lingering
    await advance(1);
    expect(sink.batches.map((b) => b.length)).toEqual([5, 5, 2, 3]); // both arrivals in one batch
    // More than a batch arrived during the next linger: a full batch, then at once the rest.
    append(7);
    await advance(100);
    expect(sink.batches.map((b) => b.length)).toEqual([5, 5, 2, 3, 5, 2]);
    await r.stop();
    expect(sink.batches.flat()).toEqual(Array.from({ length: 22 }, (_, i) => i + 1)); // each once, in order
  });

  it('with lingerMs 0 reads again at once, and polls every pollMs once caught up', async () => {
    const { sink, r } = await startedOn(0, 2);
    expect(sink.batches.map((b) => b.length)).toEqual([2]);
    append(1);
    await advance(9);
    expect(sink.batches).toHaveLength(1); // the poll wait
    await advance(1);
    expect(sink.batches.map((b) => b.length)).toEqual([2, 1]);
    await r.stop();
  });

  it('stop() cuts a linger short', async () => {
    const { sink, r } = await startedOn(60_000, 1);
    expect(sink.batches).toHaveLength(1);
    const stopped = r.stop();
    await advance(0);
    await stopped; // resolved without 60 s of (fake) time
  });

  it('an empty read waits pollMs, not the linger', async () => {
    const { sink } = await startedOn(100, 0); // nothing to read: the poll wait
    append(1);
    await advance(10);
    expect(sink.batches.map((b) => b.length)).toEqual([1]);
  });

  it('drain() cuts a linger short and follows partial batches at once while it runs', async () => {
    const { sink, r } = await startedOn(60_000, 1);
    expect(sink.batches).toHaveLength(1); // now lingering for a minute
    append(2);
    const drained = r.drain(1000);
    await advance(20);
    expect(await drained).toBe(true);
    expect(sink.batches.map((b) => b.length)).toEqual([1, 2]);
    // After the drain the linger is back: the next partial batch is followed by a minute's wait.
    append(1);
    await advance(1000);
    expect(sink.batches.map((b) => b.length)).toEqual([1, 2, 1]);
    append(1);
    await advance(1000);
    expect(sink.batches).toHaveLength(3);
  });

  it('refuses a linger outside 0..60000 ms or not whole, in the runner and in the configuration (sinks.postgres/kafka.lingerMs)', () => {
    for (const lingerMs of [-1, 60_001, 1.5, Number.NaN]) expect(() => new SinkRunner(new RecordingSink(), dir, { lingerMs })).toThrow(/lingerMs/);
    expect(validateConfig({}).sinks.postgres.lingerMs).toBe(100);
    expect(validateConfig({}).sinks.kafka.lingerMs).toBe(50);
    for (const sink of ['postgres', 'kafka'] as const) {
      const at = (lingerMs: unknown) => () => validateConfig({ ...DEFAULT_CONFIG, sinks: { ...DEFAULT_CONFIG.sinks, [sink]: { ...DEFAULT_CONFIG.sinks[sink], lingerMs } } });
      for (const bad of [-1, 60_001, 2.5, '100', null]) expect(at(bad), sink).toThrow(ConfigError);
      expect(at(0)().sinks[sink].lingerMs).toBe(0);
    }
  });
});

describe('SinkRunner durable cursor', () => {
  it('publishes the sink\'s durable sequence, not the end of what it applied, when the sink holds its cursor back', async () => {
    /** A sink that, as the Postgres one does while a route audit waits, commits a cursor behind what it applied. */
    class HoldingSink extends RecordingSink {
      held = 1;
      override get durableSequence(): number {
        return this.held;
      }
      override async apply(after: JournalCursor): Promise<void> {
        await super.apply(after);
        this.held = Math.max(this.held, after.sequence - 3);
      }
    }
    const sink = new HoldingSink();
    const values = StageCounters.create();
    const ids = { appliedSequence: 1, durableSequence: 2, lagEvents: 3, eventsApplied: 4, batches: 5, failures: 6, up: 7, skippedUnknown: 8 };
    const r = runner(sink, { batchFrames: 5, pollMs: 10, lingerMs: 0, counters: { values, ids } });
    append(12);
    r.start();
    await advance(0);
    expect(values.get(ids.appliedSequence)).toBe(13);
    expect(values.get(ids.durableSequence)).toBe(10);
  });

  it('mirrors the durable sequence to its hold file: at open, then at most every holdEveryMs, and at stop', async () => {
    const sink = new RecordingSink();
    const path = join(dir, 'sinks', 'pg.pg-cursor');
    const values = StageCounters.create();
    const ids = { appliedSequence: 1, durableSequence: 2, lagEvents: 3, eventsApplied: 4, batches: 5, failures: 6, up: 7, skippedUnknown: 8 };
    const r = runner(sink, { batchFrames: 5, pollMs: 10, lingerMs: 0, counters: { values, ids }, holdFile: path, holdEveryMs: 1000 });
    append(12);
    r.start();
    await advance(0);
    // Written at open (1); the three batches that followed in the same instant were not written.
    expect(readSinkHold(path)).toBe(1);
    expect(values.getAtomic(ids.durableSequence)).toBe(13);
    await advance(1000);
    expect(readSinkHold(path)).toBe(13);
    append(3);
    await advance(20);
    expect(values.getAtomic(ids.durableSequence)).toBe(16);
    expect(readSinkHold(path)).toBe(13);
    const stopping = r.stop();
    await advance(0);
    await stopping;
    expect(readSinkHold(path)).toBe(16);
  });

  it('a fall of the durable sequence (a database restored or swapped) reaches the hold file at once, whatever the throttle', async () => {
    /** Its database is "restored" once: the first apply fails and the reopen gives an earlier cursor. */
    class RestoredSink extends RecordingSink {
      fail = false;
      reopenAt: JournalCursor | null = null;
      override async open(): Promise<JournalCursor> {
        return this.reopenAt ?? super.open();
      }
      override async apply(after: JournalCursor): Promise<void> {
        if (this.fail) {
          this.fail = false;
          throw new Error('connection lost');
        }
        await super.apply(after);
        this.reopenAt = null;
      }
      override get durableSequence(): number {
        return this.reopenAt?.sequence ?? super.durableSequence;
      }
    }
    const sink = new RestoredSink();
    const path = join(dir, 'sinks', 'pg.pg-cursor');
    const r = runner(sink, { batchFrames: 5, pollMs: 10, lingerMs: 0, holdFile: path, holdEveryMs: 60_000, backoffMinMs: 1, backoffMaxMs: 1 });
    append(12);
    r.start();
    await advance(0);
    await advance(60_000); // caught up, the throttle passed: the file says 13
    expect(readSinkHold(path)).toBe(13);
    sink.fail = true;
    sink.reopenAt = { segment: 0, offset: 0, sequence: 1 };
    append(3);
    await advance(20);
    // Reopened at 1 within the throttle's minute: the file fell with it at once.
    expect(readSinkHold(path)).toBe(1);
  });
});

describe('SinkRunner checkpoint (a sink that makes its cursor durable later, as the Kafka sink throttles its cursor file)', () => {
  /** Applies at once but makes its cursor durable only in checkpoint(); `failures` checkpoints throw first. */
  class DeferringSink extends RecordingSink {
    durable = 1;
    pendingSeq = 0;
    checkpoints = 0;
    failures = 0;
    override get durableSequence(): number {
      return this.durable;
    }
    override async apply(after: JournalCursor): Promise<void> {
      await super.apply(after);
      this.pendingSeq = after.sequence;
    }
    checkpoint(): void {
      this.checkpoints++;
      if (this.failures > 0) {
        this.failures--;
        throw new Error('disk full');
      }
      if (this.pendingSeq > 0) this.durable = this.pendingSeq;
      this.pendingSeq = 0;
    }
  }
  const ids = { appliedSequence: 1, durableSequence: 2, lagEvents: 3, eventsApplied: 4, batches: 5, failures: 6, up: 7, skippedUnknown: 8 };

  it('once caught up the sink checkpoints and the runner publishes the durable sequence it then holds', async () => {
    const sink = new DeferringSink();
    const values = StageCounters.create();
    const r = runner(sink, { batchFrames: 5, pollMs: 10, lingerMs: 0, counters: { values, ids } });
    append(12);
    r.start();
    await advance(0);
    // Three batches applied (13 next); the first empty read checkpointed them.
    expect(values.get(ids.appliedSequence)).toBe(13);
    expect(sink.checkpoints).toBeGreaterThan(0);
    expect(values.getAtomic(ids.durableSequence)).toBe(13);
    append(3);
    await advance(10);
    expect(values.getAtomic(ids.durableSequence)).toBe(16);
  });

  it('a cursor the sink writes as it closes (as the Kafka sink does) is published after the stop', async () => {
    /** Its checkpoints all fail; only close() makes the cursor durable. */
    class ClosingSink extends DeferringSink {
      override async close(): Promise<void> {
        if (this.pendingSeq > 0) this.durable = this.pendingSeq;
        this.pendingSeq = 0;
      }
    }
    const sink = new ClosingSink();
    sink.failures = Number.POSITIVE_INFINITY;
    const values = StageCounters.create();
    const r = runner(sink, { batchFrames: 5, pollMs: 10, lingerMs: 0, counters: { values, ids }, log: () => {} });
    append(12);
    r.start();
    await advance(20);
    expect(values.getAtomic(ids.durableSequence)).toBe(1);
    const stopping = r.stop();
    await advance(0);
    await stopping;
    expect(values.getAtomic(ids.durableSequence)).toBe(13);
  });

  it('a checkpoint that throws is logged once, the runner goes on applying, and the next caught-up read writes it', async () => {
    const sink = new DeferringSink();
    sink.failures = 2;
    const values = StageCounters.create();
    const logged: string[] = [];
    const r = runner(sink, { batchFrames: 5, pollMs: 10, lingerMs: 0, counters: { values, ids }, log: (_l, m) => logged.push(m) });
    append(7);
    r.start();
    await advance(0);
    expect(values.getAtomic(ids.durableSequence)).toBe(1);
    await advance(10);
    expect(values.getAtomic(ids.durableSequence)).toBe(1);
    expect(logged.filter((m) => m.includes('disk full'))).toHaveLength(1);
    append(2);
    await advance(10);
    // Applied meanwhile (not stopped), and written at the next caught-up read.
    expect(values.get(ids.appliedSequence)).toBe(10);
    expect(values.getAtomic(ids.durableSequence)).toBe(10);
    expect(values.get(ids.failures)).toBe(0);
  });
});
