/**
 * The persistence stage: drains the journal feeds (risk's commands and events, the SOR's route
 * audits) into the journal, one write (and per policy one fdatasync) per duty cycle whatever
 * the number of feeds. It runs on its own event loop, off the hot path:
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
  private readonly feeds: readonly RingConsumer[];
  /** The feed being polled: onRecord reads its bytes. */
  private feed: RingConsumer;
  private readonly journal: JournalWriter;
  private readonly counters: StageCounters;

  /** Feeds are drained in the order given, each cycle; records keep their order within a feed. */
  constructor(feeds: readonly RingConsumer[], journal: JournalWriter, counters: StageCounters) {
    if (feeds.length === 0) throw new Error('Condition failed: at least one feed');
    this.feeds = feeds;
    this.feed = feeds[0];
    this.journal = journal;
    this.counters = counters;
    counters.set(PersistenceCounter.JOURNAL_NEXT_SEQUENCE, journal.sequence);
    counters.set(PersistenceCounter.TORN_BYTES_TRUNCATED, journal.tornBytesTruncated);
  }

  doWork(): number {
    let n = 0;
    for (let i = 0; i < this.feeds.length; i++) {
      this.feed = this.feeds[i];
      n += this.feed.poll(this, PERSISTENCE_BATCH);
    }
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
