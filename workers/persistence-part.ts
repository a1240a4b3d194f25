/** The persistence stage: the journal writer, on an event loop (its thread is always its own). */
import { Doorbell } from '../engine/doorbell.ts';
import { RingGate } from '../engine/ring.ts';
import { JournalWriter } from '../persistence/journal.ts';
import { JournalStage } from '../persistence/journal-stage.ts';
import { JOURNAL_FEEDS, RINGS, StageWiring, type RingName } from './topology.ts';
import type { PartContext, StagePart } from './stage-part.ts';

export async function buildPersistence(ctx: PartContext): Promise<StagePart> {
  const { data } = ctx;
  const { config } = data;
  const wiring = new StageWiring('persistence', data.memory);
  const journal = new JournalWriter(config.journal.dir, config.journal.fsync, config.journal.fsyncIntervalMs, 1 << 20, {
    segmentBytes: config.journal.segmentBytes,
    engineEpochMs: data.engineEpochMs,
    preallocate: config.journal.preallocate,
  });
  /** The gate of a ring whose records leave the process (reports to clients, children to venues), waking that ring's consumer's thread when it waits. */
  const gateOf = (ring: RingName): RingGate => new RingGate(data.memory.rings[ring], new Doorbell(data.memory.doorbells[RINGS[ring][1]]));
  // Risk's commands and events, and the SOR's ROUTE_AUDIT records: one flush per cycle for both.
  // Reports and positions on their way to WebSocket/REST clients (ingest) and FIX clients (the
  // fix stage) leave only once the risk feed's records they are stamped with are durable; child
  // orders on their way to venues (sorToFix) only once the SOR feed's audit naming them is.
  const stage = new JournalStage(
    JOURNAL_FEEDS.map((f) => wiring.consumer(f.feed)),
    journal,
    wiring.counters,
    JOURNAL_FEEDS.map((f) => f.gates.map(gateOf)),
  );
  return {
    stage: 'persistence',
    agent: stage,
    detail: { journal: journal.path },
    stop(leaveLoop) {
      // Drain what is left, flush, fsync, close: the last stage to stop.
      leaveLoop();
      while (stage.doWork() > 0);
      journal.close();
    },
  };
}
