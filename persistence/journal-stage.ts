/**
 * The persistence stage: drains the risk stage's journal feed into the journal, one write (and
 * per policy one fdatasync) per drained batch. It runs on its own event loop, off the hot path:
 * a slow disk makes the feed ring fill and risk slow down, it never drops a record. The Postgres
 * and Kafka sinks (workers/sinks-thread.ts) read the journal files, never this ring, so a slow
 * database cannot slow this stage down.
 */
import type { Agent } from '../engine/agent.ts';
import type { RecordHandler, RingConsumer } from '../engine/ring.ts';
import { PersistenceCounter, type StageCounters } from '../engine/counters.ts';
import type { JournalWriter } from './journal.ts';

export const PERSISTENCE_BATCH = 4096;

export class JournalStage implements Agent, RecordHandler {
  private readonly feed: RingConsumer;
  private readonly journal: JournalWriter;
  private readonly counters: StageCounters;

  constructor(feed: RingConsumer, journal: JournalWriter, counters: StageCounters) {
    this.feed = feed;
    this.journal = journal;
    this.counters = counters;
    counters.set(PersistenceCounter.JOURNAL_NEXT_SEQUENCE, journal.sequence);
    counters.set(PersistenceCounter.TORN_BYTES_TRUNCATED, journal.tornBytesTruncated);
  }

  doWork(): number {
    const n = this.feed.poll(this, PERSISTENCE_BATCH);
    if (n > 0) {
      this.journal.flush(Date.now());
      this.counters.add(PersistenceCounter.RECORDS_JOURNALED, n);
      this.counters.set(PersistenceCounter.BYTES_JOURNALED, this.journal.bytesWritten);
      this.counters.set(PersistenceCounter.FSYNCS, this.journal.fsyncCount);
      this.counters.add(PersistenceCounter.WRITE_BATCHES, 1);
      // After the flush: a sink that reads this sequence finds the records before it on disk.
      this.counters.set(PersistenceCounter.JOURNAL_NEXT_SEQUENCE, this.journal.sequence);
      this.counters.set(PersistenceCounter.SEGMENTS_ROTATED, this.journal.segmentsRotated);
    }
    return n;
  }

  onRecord(typeId: number, offset: number, length: number): void {
    this.journal.append(typeId, this.feed.bytes, offset, length);
  }
}
