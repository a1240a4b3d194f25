/**
 * journal.retention in a running engine (persistence/retention.ts): a pass once every stage has
 * recovered (its snapshots saved), then one every journal.retentionCheckMs and one after each save
 * of the snapshot thread (snapshotsChanged), on the supervisor's main thread. The floor's
 * snapshot part is read at every pass (a snapshot file whole only when new or changed:
 * SnapshotStore.holding); its sink part from the sinks'
 * durable cursors, which the sinks thread publishes (PG_DURABLE_SEQUENCE, KAFKA_DURABLE_SEQUENCE;
 * 0 until a sink has opened: nothing pruned).
 *
 * Writes SEGMENTS_PRUNED, BYTES_PRUNED and JOURNAL_FIRST_SEQUENCE (persistence counters; this
 * thread is their one writer). A failed pass is logged and tried again at the next.
 */
import { join } from 'node:path';
import { PersistenceCounter, type StageCounters } from '../engine/counters.ts';
import { firstJournalSequence } from '../persistence/journal-reader.ts';
import { kafkaCursorName, pgHoldName, sinkFileSequences } from '../persistence/sink-files.ts';
import { runRetention, type RetentionPass, type RetentionSources } from '../persistence/retention.ts';
import { SnapshotStore, snapshotFingerprint } from '../persistence/snapshot.ts';
import type { EngineConfig } from './config.ts';
import { FIX_SNAPSHOT_STAGE } from './fix/recovery.ts';
import { RISK_SNAPSHOT } from './risk/recovery.ts';
import { SOR_SNAPSHOT_STAGE } from './sor/recovery.ts';
import type { Logger } from './supervisor.ts';

/** The stages that recover from snapshots: the journal is kept back to the oldest that holds of each. */
export const SNAPSHOT_STAGES: readonly string[] = [RISK_SNAPSHOT, SOR_SNAPSHOT_STAGE, FIX_SNAPSHOT_STAGE];

/** Where journal.retention archives: journal.archiveDir, or `<journal.dir>/archive`. */
export function archiveDirOf(journal: EngineConfig['journal']): string {
  return journal.archiveDir ?? join(journal.dir, 'archive');
}

/**
 * The floor's sources in a running engine: the snapshots that hold now; the configured sinks'
 * published cursors (read atomically: the sinks thread writes them); and the files of sinks of
 * earlier runs not configured in this one (persistence/sink-files.ts), which would stop for good
 * if the journal were pruned past them.
 */
export function engineRetentionSources(config: EngineConfig, persistence: StageCounters): RetentionSources {
  // Read at every pass: holding() reads a file whole only when it is new or changed.
  const store = new SnapshotStore(config.journal.dir, snapshotFingerprint(config));
  const pg = config.sinks.postgres.url !== null;
  const kafka = config.sinks.kafka.brokers.length > 0;
  const own = [
    ...(pg ? [pgHoldName(config.sinks.postgres.sinkName)] : []),
    ...(kafka ? [kafkaCursorName(config.sinks.kafka.sinkName)] : []),
  ];
  const sinks = (): Map<string, number> => {
    const out = sinkFileSequences(config.journal.dir, own);
    if (pg) out.set('postgres', persistence.getAtomic(PersistenceCounter.PG_DURABLE_SEQUENCE));
    if (kafka) out.set('kafka', persistence.getAtomic(PersistenceCounter.KAFKA_DURABLE_SEQUENCE));
    return out;
  };
  return { snapshots: () => new Map(SNAPSHOT_STAGES.map((stage) => [stage, store.holding(stage)])), sinks };
}

export class JournalRetention {
  private timer: NodeJS.Timeout | null = null;
  private readonly config: EngineConfig;
  private readonly persistence: StageCounters;
  private readonly log: Logger;
  private readonly sources: RetentionSources;
  /** The floor's holder at the last pass, so an unchanged reason is logged once. */
  private lastHeldBy = '';

  constructor(config: EngineConfig, persistence: StageCounters, log: Logger, sources: RetentionSources | null = null) {
    if (config.journal.retention === 'keep') throw new Error('Condition failed: journal.retention is archive or delete');
    this.config = config;
    this.persistence = persistence;
    this.log = log;
    this.sources = sources ?? engineRetentionSources(config, persistence);
    persistence.set(PersistenceCounter.JOURNAL_FIRST_SEQUENCE, firstJournalSequence(config.journal.dir));
  }

  /** A pass now, then one every journal.retentionCheckMs (unref'd: it never keeps the process alive). */
  start(): void {
    this.pass();
    this.timer = setInterval(() => this.pass(), this.config.journal.retentionCheckMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** The snapshot thread saved (and dropped older) snapshots: a pass now, not at the next period. */
  snapshotsChanged(): void {
    if (this.timer !== null) this.pass();
  }

  /** One pass; logs what it pruned (or, once per reason, what holds the journal back). */
  pass(): RetentionPass | null {
    const { journal } = this.config;
    const mode = journal.retention === 'delete' ? 'delete' : 'archive';
    try {
      const p = runRetention(journal.dir, mode, archiveDirOf(journal), this.sources);
      this.persistence.add(PersistenceCounter.SEGMENTS_PRUNED, p.pruned.segments.length);
      this.persistence.add(PersistenceCounter.BYTES_PRUNED, p.pruned.bytes);
      this.persistence.set(PersistenceCounter.JOURNAL_FIRST_SEQUENCE, p.firstSequence);
      if (p.pruned.segments.length > 0) {
        this.log('info', `journal retention: ${mode === 'archive' ? 'archived' : 'deleted'} ${p.pruned.segments.length} segment(s)`, {
          segments: p.pruned.segments, bytes: p.pruned.bytes, floor: p.floor, heldBy: p.heldBy, firstSequence: p.firstSequence,
          ...(mode === 'archive' ? { archiveDir: archiveDirOf(journal) } : {}),
        });
      } else if (p.heldBy !== this.lastHeldBy && p.pruned.error === null) {
        this.log('info', 'journal retention: nothing to prune', { floor: p.floor, heldBy: p.heldBy, firstSequence: p.firstSequence });
      }
      if (p.pruned.error !== null) {
        this.log('error', 'journal retention pass stopped; the journal is kept from there and the next pass tries again', { error: p.pruned.error, firstSequence: p.firstSequence });
      }
      this.lastHeldBy = p.heldBy;
      return p;
    } catch (err) {
      this.log('error', 'journal retention pass failed; the journal is kept as it is and the next pass tries again', { error: (err as Error).message });
      return null;
    }
  }
}
