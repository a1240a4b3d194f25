/**
 * Drives one sink (Postgres or Kafka) along the journal: read a bounded batch from the sink's
 * cursor, hand it to the sink, which applies it durably together with the cursor after it, and
 * go on. The journal is the queue: nothing is held in memory beyond one batch, whatever the lag.
 *
 * Outages: when apply() (or open()) fails, the batch is dropped from memory, the sink is closed,
 * and after a backoff (doubling from backoffMinMs to backoffMaxMs, with jitter from the seeded
 * generator) the sink reopens, reloads its durable cursor and reads the same events again from
 * the journal. So a sink that is down only lags; when it returns it catches up, and since every
 * sink applies idempotently (keys are event and order ids), a batch applied twice (applied, then
 * the acknowledgement lost) leaves no duplicate.
 *
 * Runs on the sinks thread's event loop (workers/sinks-thread.ts), never on a stage's.
 */

import type { StageCounters } from '../engine/counters.ts';
import { JournalReader, type FrameHandler, type JournalCursor } from './journal-reader.ts';
import { writeSinkHold } from './sink-files.ts';

/** What a batch collector is: a frame handler the runner fills, then the sink applies. */
export interface SinkBatch extends FrameHandler {
  /** Frames taken into this batch (mapped or skipped). */
  readonly frames: number;
  /** Frames of a record type the sink has no mapping for (skipped, counted). */
  readonly unknown: number;
  reset(): void;
}

export interface Sink {
  readonly name: string;
  readonly batch: SinkBatch;
  /**
   * The sequence of the cursor the sink holds durably: where it resumes after a restart (0
   * before its first open). May lag the runner's cursor (the Postgres sink holds it back for
   * audits still waiting); journal.retention keeps the journal from here on.
   */
  readonly durableSequence: number;
  /** Connects and returns the durable cursor to resume from. Throws when it cannot. */
  open(): Promise<JournalCursor>;
  /**
   * Applies the batch together with `after`, the cursor past it. Throws on failure. A sink may
   * make the cursor durable later (durableSequence behind), at the latest in checkpoint().
   */
  apply(after: JournalCursor): Promise<void>;
  /** Makes the cursor of the last applied batch durable, if apply() left it behind (called when caught up). Throws on failure. */
  checkpoint?(): void;
  /** Releases connections; never throws. */
  close(): Promise<void>;
}

/** Counter ids this runner writes (persistence counters: one writer, the sinks thread). */
export interface SinkCounterIds {
  appliedSequence: number;
  /** The sink's durableSequence (journal.retention's floor: workers/supervisor.ts). */
  durableSequence: number;
  lagEvents: number;
  eventsApplied: number;
  batches: number;
  failures: number;
  up: number;
  skippedUnknown: number;
}

export interface SinkRunnerOptions {
  /** Most frames in one batch (bounds memory and transaction size). */
  batchFrames: number;
  /** Milliseconds to wait when the journal has nothing new. */
  pollMs: number;
  /**
   * Milliseconds to wait after a batch smaller than batchFrames (the sink has caught up) before
   * reading the next: a live load is then written in fewer, larger batches, as a Kafka
   * producer's linger.ms does. Each batch has a fixed cost whatever its size (a round trip, a
   * transaction or produce request, the cursor), which small batches pay again and again. A full
   * batch (catching up) never waits, nor does a runner being drained. 0 (this class's default,
   * as the drain benchmarks run): read again at once; the engine's is sinks.*.lingerMs.
   */
  lingerMs: number;
  backoffMinMs: number;
  backoffMaxMs: number;
  /** Deterministic jitter source in [0, 1). */
  random: () => number;
  /**
   * The sequence after the last frame the persistence stage has flushed (JOURNAL_NEXT_SEQUENCE:
   * fdatasynced under journal.fsync 'batch', written under the others), or null for a journal no
   * engine is writing. Set, the runner reads no frame at or past it, so nothing reaches Postgres or
   * Kafka that a power loss could still take from the journal (whose next boot would give its
   * sequence, and so its event id, to another event); it also gives the lag counter.
   */
  journalNextSequence: (() => number) | null;
  counters: { values: StageCounters; ids: SinkCounterIds } | null;
  log: (level: 'info' | 'warn' | 'error', msg: string) => void;
  /**
   * A file the durable sequence is mirrored to (persistence/sink-files.ts), or null (the default).
   * The Postgres sink's: journal.retention reads it when that sink is not configured in a run.
   */
  holdFile: string | null;
  /** Least milliseconds between two writes of holdFile as the sequence rises (written at once at open, on a fall, and at stop). Default 5000. */
  holdEveryMs: number;
}

export const DEFAULT_SINK_RUNNER_OPTIONS: SinkRunnerOptions = {
  batchFrames: 4000,
  pollMs: 20,
  lingerMs: 0,
  backoffMinMs: 100,
  backoffMaxMs: 5000,
  random: Math.random,
  journalNextSequence: null,
  counters: null,
  log: () => {},
  holdFile: null,
  holdEveryMs: 5000,
};

export class SinkRunner {
  readonly sink: Sink;
  private readonly reader: JournalReader;
  private readonly opts: SinkRunnerOptions;
  private cursor: JournalCursor | null;
  private running: boolean;
  private loop: Promise<void> | null;
  private wakeTimer: NodeJS.Timeout | null;
  private wakeResolve: (() => void) | null;
  private backoffMs: number;
  /** drain() calls in progress: while any, a partial batch is followed at once (no linger). */
  private draining: number;
  /** The wait in progress is a linger (drain() cuts it short; a backoff it leaves alone). */
  private lingering: boolean;
  /** holdFile: the sequence last written there (0: none yet), when, and the last write error logged. */
  private held = 0;
  private heldAtMs = 0;
  private holdError: string | null = null;
  /** The last checkpoint error logged (null: the last checkpoint succeeded). */
  private checkpointError: string | null = null;
  /** Events applied since start, batches applied since start, failures since start. */
  applied: number;
  batches: number;
  failures: number;
  lastError: string | null;

  constructor(sink: Sink, journalDir: string, options: Partial<SinkRunnerOptions> = {}) {
    this.sink = sink;
    this.opts = { ...DEFAULT_SINK_RUNNER_OPTIONS, ...options };
    if (!(this.opts.batchFrames >= 1 && this.opts.batchFrames <= 100_000)) throw new Error('Condition failed: batchFrames in [1, 100000]');
    if (!(Number.isInteger(this.opts.lingerMs) && this.opts.lingerMs >= 0 && this.opts.lingerMs <= 60_000)) throw new Error('Condition failed: lingerMs in [0, 60000]');
    const { holdEveryMs } = this.opts;
    if (!(Number.isInteger(holdEveryMs) && holdEveryMs >= 0 && holdEveryMs <= 3_600_000)) throw new Error('Condition failed: holdEveryMs in [0, 3600000]');
    this.reader = new JournalReader(journalDir);
    this.cursor = null;
    this.running = false;
    this.loop = null;
    this.wakeTimer = null;
    this.wakeResolve = null;
    this.backoffMs = this.opts.backoffMinMs;
    this.draining = 0;
    this.lingering = false;
    this.applied = 0;
    this.batches = 0;
    this.failures = 0;
    this.lastError = null;
  }

  /** The cursor the sink has durably reached (null until opened). */
  position(): JournalCursor | null {
    return this.cursor === null ? null : { ...this.cursor };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Stops after the batch in flight (if any) and closes the sink. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    if (this.loop !== null) await this.loop;
    this.loop = null;
    this.reader.close();
  }

  /** Cuts a wait short (new journal data, or stop). */
  wake(): void {
    if (this.wakeTimer !== null) clearTimeout(this.wakeTimer);
    this.wakeTimer = null;
    const r = this.wakeResolve;
    this.wakeResolve = null;
    if (r !== null) r();
  }

  /**
   * Applies everything up to the journal's current end, then resolves (tests, bench, stop). No
   * linger meanwhile: a linger in progress is cut short, and the engine's stop (which drains
   * with a budget of its own) never waits one out.
   */
  async drain(timeoutMs: number): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    this.draining++;
    if (this.lingering) this.wake();
    try {
      while (Date.now() < until) {
        if (this.cursor !== null && this.reader.atEnd(this.cursor)) return true;
        await new Promise((r) => setTimeout(r, 10));
      }
      return false;
    } finally {
      this.draining--;
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wakeResolve = resolve;
      this.wakeTimer = setTimeout(() => this.wake(), ms);
    });
  }

  private async run(): Promise<void> {
    while (this.running) {
      if (this.cursor === null && !(await this.tryOpen())) continue;
      const done = await this.step();
      if (!this.running) break;
      if (done === 0) {
        // Caught up: a cursor or hold file left behind by a throttle is brought up to date now.
        this.checkpoint();
        await this.sleep(this.opts.pollMs);
      }
      else if (done < this.opts.batchFrames && this.opts.lingerMs > 0 && this.draining === 0) {
        this.lingering = true;
        await this.sleep(this.opts.lingerMs);
        this.lingering = false;
      }
    }
    await this.sink.close();
    this.setCounter('up', 0);
    // close() may have written a cursor its throttle held back.
    this.publishDurable(true);
  }

  /** The sink's checkpoint (a failure is logged and tried again when next caught up), then its durable sequence published. */
  private checkpoint(): void {
    if (this.sink.checkpoint !== undefined && this.cursor !== null) {
      try {
        this.sink.checkpoint();
        this.checkpointError = null;
      } catch (err) {
        const message = (err as Error).message;
        // Logged once per distinct error (apart from apply's, as the hold file's are); tried again when next caught up.
        if (message !== this.checkpointError) this.opts.log('warn', `${this.sink.name} sink: cursor not written (${message}); the journal keeps every event from the last written one`);
        this.checkpointError = message;
      }
    }
    this.publishDurable();
  }

  /**
   * Publishes the sink's durable sequence: the counter (one atomic store: journal.retention reads
   * it from another thread to decide what may be pruned), and the hold file when one is set.
   */
  private publishDurable(now = false): void {
    const c = this.opts.counters;
    if (c !== null) c.values.setAtomic(c.ids.durableSequence, this.sink.durableSequence);
    this.writeHold(now);
  }

  /**
   * Mirrors the durable sequence to holdFile when it changed: a rise at most every holdEveryMs
   * unless `now` (a file behind the database holds more of the journal: safe); a fall at once (a
   * database restored or swapped: a file ahead of it would let retention prune what it needs).
   */
  private writeHold(now: boolean): void {
    const path = this.opts.holdFile;
    const sequence = this.sink.durableSequence;
    if (path === null || sequence < 1 || sequence === this.held) return;
    const at = Date.now();
    if (!now && sequence > this.held && at - this.heldAtMs < this.opts.holdEveryMs) return;
    try {
      writeSinkHold(path, sequence);
      this.held = sequence;
      this.heldAtMs = at;
      this.holdError = null;
    } catch (err) {
      const message = (err as Error).message;
      // Logged once per distinct error; tried again at the next publish. The sink goes on.
      if (message !== this.holdError) this.opts.log('warn', `${this.sink.name} sink: hold file ${path} not written (journal.retention may hold less for this sink if it is left out of a later run): ${message}`);
      this.holdError = message;
    }
  }

  private async tryOpen(): Promise<boolean> {
    try {
      this.cursor = await this.sink.open();
      this.setCounter('up', 1);
      this.setCounter('appliedSequence', this.cursor.sequence);
      this.publishDurable(true);
      this.opts.log('info', `${this.sink.name} sink: connected, resuming at journal sequence ${this.cursor.sequence}`);
      return true;
    } catch (err) {
      await this.fail(err, 'open');
      return false;
    }
  }

  /** Reads one batch and applies it; returns the frames applied (0: nothing new or failed). */
  private async step(): Promise<number> {
    const at = this.cursor!;
    const next: JournalCursor = { segment: at.segment, offset: at.offset, sequence: at.sequence };
    const batch = this.sink.batch;
    batch.reset();
    let frames = this.opts.batchFrames;
    if (this.opts.journalNextSequence !== null) frames = Math.min(frames, this.opts.journalNextSequence() - at.sequence);
    const n = frames > 0 ? this.reader.read(next, frames, batch) : 0;
    this.updateLag(at.sequence);
    if (n === 0) {
      if (this.reader.problem !== null && this.lastError !== this.reader.problem) {
        this.lastError = this.reader.problem;
        this.opts.log('error', `${this.sink.name} sink: journal unreadable, sink stopped at sequence ${at.sequence}: ${this.reader.problem}`);
      }
      return 0;
    }
    try {
      await this.sink.apply(next);
    } catch (err) {
      batch.reset();
      await this.fail(err, 'apply');
      return 0;
    }
    this.cursor = next;
    this.applied += n;
    this.batches++;
    this.backoffMs = this.opts.backoffMinMs;
    this.addCounter('eventsApplied', n);
    this.addCounter('batches', 1);
    this.addCounter('skippedUnknown', batch.unknown);
    this.setCounter('appliedSequence', next.sequence);
    this.publishDurable();
    this.updateLag(next.sequence);
    batch.reset();
    return n;
  }

  private async fail(err: unknown, during: string): Promise<void> {
    this.failures++;
    this.addCounter('failures', 1);
    this.setCounter('up', 0);
    const message = err instanceof Error ? err.message : String(err);
    if (message !== this.lastError) this.opts.log('warn', `${this.sink.name} sink: ${during} failed (${message}); retrying with backoff, the journal keeps every event`);
    this.lastError = message;
    this.cursor = null;
    await this.sink.close();
    if (!this.running) return;
    const wait = Math.round(this.backoffMs * (0.5 + this.opts.random() / 2));
    this.backoffMs = Math.min(this.opts.backoffMaxMs, this.backoffMs * 2);
    await this.sleep(wait);
  }

  private updateLag(appliedSequence: number): void {
    if (this.opts.journalNextSequence === null) return;
    this.setCounter('lagEvents', Math.max(0, this.opts.journalNextSequence() - appliedSequence));
  }

  private setCounter(id: keyof SinkCounterIds, value: number): void {
    const c = this.opts.counters;
    if (c !== null) c.values.set(c.ids[id], value);
  }

  private addCounter(id: keyof SinkCounterIds, delta: number): void {
    const c = this.opts.counters;
    if (c !== null && delta !== 0) c.values.add(c.ids[id], delta);
  }
}
