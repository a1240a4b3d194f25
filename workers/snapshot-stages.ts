/**
 * The replays the snapshot thread keeps going (persistence/snapshot-follower.ts): risk and fix,
 * each built from the engine's configuration as its part builds the stage that recovers
 * (risk-part.ts, fix-part.ts), and the SOR's venue statistics seeded as sor-part.ts's stage
 * seeds them; each restored as a start restores it (the newest
 * snapshot that holds), on rings nobody reads and venue sessions that never connect: they are
 * never run, only fed journal frames.
 */
import { SystemClock, type Clock } from '../engine/clock.ts';
import { StageCounters } from '../engine/counters.ts';
import { RingConsumer, RingProducer, createRingMemory } from '../engine/ring.ts';
import type { FollowedStage } from '../persistence/snapshot-follower.ts';
import type { SnapshotState, SnapshotStore } from '../persistence/snapshot.ts';
import type { FrameHandler } from '../persistence/journal-reader.ts';
import { accountNamesById, type EngineConfig } from './config.ts';
import { FixStage } from './fix/fix-stage.ts';
import { FIX_SNAPSHOT_STAGE, fixReplayState } from './fix/recovery.ts';
import { venueSessionConfigs } from './fix/venue-sessions.ts';
import { KillBoard } from './risk/kill-board.ts';
import { accountSlots, riskConfigFrom } from './risk/risk-config.ts';
import { RiskStage, type RiskConfig } from './risk/risk-stage.ts';
import { RISK_SNAPSHOT, followRisk } from './risk/recovery.ts';
import { SOR_SNAPSHOT_STAGE, sorReplayState } from './sor/recovery.ts';
import { SorStage, venueStatsFor } from './sor/sor-stage.ts';
import { sorStageConfig } from './sor-part.ts';

/** A ring no stage reads or writes (the replays never run): the stages' constructors want one. */
function idleRing(): { consumer: RingConsumer; producer: RingProducer } {
  const mem = createRingMemory(1 << 12);
  return { consumer: new RingConsumer(mem), producer: new RingProducer(mem, null) };
}

/** What the three replays were restored from, for the thread's log line. */
export interface FollowedStart {
  stages: FollowedStage[];
  /** Per stage, the snapshot loaded (null: the whole journal) and those passed over. */
  loaded: Record<string, string | null>;
  skipped: string[];
}

/** Risk stages for replays (as risk-part.ts builds them, on idle rings and a kill board of their own), by the configuration recovery chose. */
export function replayRiskStage(config: EngineConfig, clock: Clock): (riskConfig: RiskConfig) => RiskStage {
  return (riskConfig) => new RiskStage(
    riskConfig,
    {
      fromIngest: idleRing().consumer, fromFix: idleRing().consumer, toIngest: idleRing().producer, toFixClients: idleRing().producer,
      toSor: idleRing().producer, toPersistence: idleRing().producer,
      // Its own board: the kill-switch modes the replay sets never reach the live one.
      killBoard: KillBoard.create(accountSlots(config)),
    },
    clock,
    StageCounters.create(),
    null,
  );
}

/** An SOR stage for a replay (as sor-part.ts builds it, on idle rings). */
export function replaySorStage(config: EngineConfig, childIdBase: number, clock: Clock): SorStage {
  return new SorStage(
    sorStageConfig(config, childIdBase),
    { fromRisk: idleRing().consumer, fromFix: idleRing().consumer, toFix: idleRing().producer, toPersistence: idleRing().producer, toIngest: idleRing().producer },
    clock,
    StageCounters.create(),
  );
}

/** A fix stage for a replay (as fix-part.ts builds it, child table base 0, on idle rings, its venue sessions on memory stores and never connected). */
export function replayFixStage(config: EngineConfig, clock: Clock): FixStage {
  return new FixStage(
    venueSessionConfigs(config),
    config.symbols.map((s) => s.name),
    accountNamesById(config),
    0,
    config.childCapacity,
    { fromSor: idleRing().consumer, fromRisk: idleRing().consumer, toRisk: idleRing().producer, toSor: idleRing().producer },
    clock,
    StageCounters.create(),
  );
}

/**
 * The three replays over `store` (the journal's snapshot store, fingerprinted with `config`).
 * `childIdBase`: the clock-derived base this boot's risk stage was configured with (before
 * recovery moved it), so risk's child table is based where the live one is.
 */
export function followedStages(config: EngineConfig, store: SnapshotStore, childIdBase: number, engineEpochMs: number): FollowedStart {
  const clock = new SystemClock(engineEpochMs);
  const skipped: string[] = [];
  const risk = followRisk(config.journal.dir, riskConfigFrom(config, childIdBase), store, replayRiskStage(config, clock));
  skipped.push(...risk.skipped);
  // The SOR's replay learns only its venue statistics: no stage (and its child and plan tables) is built for it.
  const sor = restored(store, SOR_SNAPSHOT_STAGE, sorReplayState(venueStatsFor(sorStageConfig(config, childIdBase))), skipped);
  const fix = restored(store, FIX_SNAPSHOT_STAGE, fixReplayState(replayFixStage(config, clock), config.orderCapacity), skipped);
  return {
    stages: [
      { name: RISK_SNAPSHOT, handler: risk.handler, boundary: risk.boundary, snapshot: risk.snapshot, unfit: risk.unfit },
      sor.stage,
      fix.stage,
    ],
    loaded: { [RISK_SNAPSHOT]: risk.loaded, [SOR_SNAPSHOT_STAGE]: sor.loaded, [FIX_SNAPSHOT_STAGE]: fix.loaded },
    skipped,
  };
}

/** A replay restored from the newest snapshot of `name` that holds (SnapshotStore.loadInto), as the SOR and fix recover. */
function restored(store: SnapshotStore, name: string, state: FrameHandler & SnapshotState, skipped: string[]): { stage: FollowedStage; loaded: string | null } {
  const outcome = store.loadInto(name, state);
  skipped.push(...outcome.skipped);
  return { stage: { name, handler: state, boundary: outcome.boundary, snapshot: (w) => state.snapshot(w) }, loaded: outcome.loaded };
}
