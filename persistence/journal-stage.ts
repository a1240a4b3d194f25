/**
 * The persistence stage: drains the journal feeds (risk's commands and events, the SOR's route
 * audits) into the journal, one write (and per policy one fdatasync) per duty cycle whatever
 * the number of feeds. It runs on its own event loop, off the hot path:
 * a slow disk makes the feed ring fill and risk slow down, it never drops a record. The Postgres
 * and Kafka sinks (workers/sinks-thread.ts) read the journal files, never this ring, so a slow
 * database cannot slow this stage down.
 *
 * Reports wait for the journal: risk stamps each client-facing record with its count of feed
 * records so far (codecs/records.ts journalMark), and after each flush this stage publishes, per
 * feed, how many of that feed's records are durable into the gates of the rings that carry those
 * records out of the process (riskToIngest, riskToFix: engine/ring.ts RingGate). Child orders
 * wait the same way: the SOR stamps each CHILD_NEW with its count of ROUTE_AUDIT records, its own
 * decision's included, and the gate of sorToFix follows the SOR feed. "Durable" follows
 * journal.fsync: under 'batch' the flush ended with an fdatasync, so an acknowledged order
 * survives power loss; under 'interval' and 'none' the records are written (in the OS page cache:
 * they survive a crash of this process, not of the machine). A gate rings its consumer's
 * doorbell only when that consumer is waiting for it.
 */
import type { Agent } from '../engine/agent.ts';
import type { RecordHandler, RingConsumer, RingGate } from '../engine/ring.ts';
import { PersistenceCounter, type StageCounters } from '../engine/counters.ts';
import type { JournalWriter } from './journal.ts';

export const PERSISTENCE_BATCH = 4096;

export class JournalStage implements Agent, RecordHandler {
  private readonly feeds: readonly RingConsumer[];
  /** The feed being polled: onRecord reads its bytes. */
  private feed: RingConsumer;
  private readonly journal: JournalWriter;
  private readonly counters: StageCounters;
  /** Per feed, the gates told how many of its records are durable (often none). */
  private readonly gates: readonly (readonly RingGate[])[];

  /**
   * Feeds are drained in the order given, each cycle; records keep their order within a feed.
   * gates[i]: the gates that wait for feed i (armed here, so they hold marks from now on).
   */
  constructor(feeds: readonly RingConsumer[], journal: JournalWriter, counters: StageCounters, gates: readonly (readonly RingGate[])[] = []) {
    if (feeds.length === 0) throw new Error('Condition failed: at least one feed');
    if (gates.length > feeds.length) throw new Error('Condition failed: at most one gate list per feed');
    this.feeds = feeds;
    this.feed = feeds[0];
    this.journal = journal;
    this.counters = counters;
    this.gates = gates;
    for (const list of gates) for (const gate of list) gate.arm();
    counters.setAtomic(PersistenceCounter.JOURNAL_NEXT_SEQUENCE, journal.sequence);
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
      // After the flush (and its fdatasync under 'batch'): the sinks read no frame past this
      // sequence (persistence/sink-runner.ts), so none leaves before it is durable. Whole for
      // their thread: one atomic store (a BigInt per flush, not per record).
      this.counters.setAtomic(PersistenceCounter.JOURNAL_NEXT_SEQUENCE, this.journal.sequence);
      this.counters.set(PersistenceCounter.SEGMENTS_ROTATED, this.journal.segmentsRotated);
      this.counters.set(PersistenceCounter.SEGMENTS_PREALLOCATED, this.journal.segmentsPreallocated);
      this.counters.set(PersistenceCounter.SEGMENTS_NOT_PREPARED, this.journal.segmentsNotPrepared);
      this.counters.set(PersistenceCounter.PREPARATION_FAILURES, this.journal.preparationFailures);
      this.publishDurable();
    }
    return n;
  }

  /** After the flush (and its fdatasync under 'batch'): every record polled so far is durable. */
  private publishDurable(): void {
    const gates = this.gates;
    for (let i = 0; i < gates.length; i++) {
      const list = gates[i];
      const durable = this.feeds[i].recordsConsumed;
      for (let k = 0; k < list.length; k++) list[k].publish(durable);
    }
  }

  onRecord(typeId: number, offset: number, length: number): void {
    this.journal.append(typeId, this.feed.bytes, offset, length, this.feed.view);
  }
}
