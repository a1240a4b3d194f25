/** The SOR stage, built from the shared rings after rebuilding its statistics from the journal. */
import { SystemClock } from '../engine/clock.ts';
import { snapshotStoreFor } from '../persistence/snapshot.ts';
import { decimalToTicks, feeCentiBps, type EngineConfig } from './config.ts';
import { SorStage, type SorConfig, type VenueProfile } from './sor/sor-stage.ts';
import { SOR_MODE_NAMES } from './sor/venue-score.ts';
import { recoverSorStage } from './sor/recovery.ts';
import { StageWiring } from './topology.ts';
import { Histogram, MetricsViews, type MetricsWorkerData } from './metrics/metrics-memory.ts';
import { type PartContext, type StagePart, logSnapshotOutcome } from './stage-part.ts';

export async function buildSor(ctx: PartContext): Promise<StagePart> {
  const { data } = ctx;
  const { config } = data;
  const wiring = new StageWiring('sor', data.memory);
  const clock = new SystemClock(data.engineEpochMs);
  const stage = new SorStage(
    sorStageConfig(config, data.childIdBase),
    {
      fromRisk: wiring.consumer('riskToSor'), fromFix: wiring.consumer('fixToSor'), toFix: wiring.producer('sorToFix'),
      toPersistence: wiring.producer('sorToPersistence'), toIngest: wiring.producer('sorToIngest'),
    },
    clock,
    wiring.counters,
  );
  // Learned venue latency and fill probability, and the children still live at venues, rebuilt
  // from the journal's child events before the first duty cycle (workers/sor/recovery.ts):
  // from the newest recovery snapshot that holds when journal.snapshots is on (the supervisor
  // logs the result, with the snapshot loaded and saved).
  const recovery = recoverSorStage(stage, config.journal.dir, snapshotStoreFor(config, data.engineEpochMs));
  if (recovery.problem !== null) ctx.log('error', `journal replay stopped early: ${recovery.problem}`);
  logSnapshotOutcome(ctx, recovery.snapshot);
  if (recovery.rebasedFromOtherPriors) ctx.log('warn', `recovery snapshot ${recovery.snapshot.loaded} was learned under other venue priors: its learned latency and fill probability are rebased onto the configured ones (as a full replay under them would learn)`);
  const metrics = (data as Partial<MetricsWorkerData>).metrics;
  if (metrics !== undefined) stage.ingestToDecision = new MetricsViews(metrics).histogram(Histogram.SOR_INGEST_TO_DECISION);
  return { stage: 'sor', agent: stage, detail: { recovery } };
}

/**
 * The SOR stage's configuration from the engine's: venue profiles by id, disallowed venues by
 * ids, child ids from `childIdBase` + 1, and a child table based at 0 (it also holds earlier
 * boots' children still live, recovered from the journal).
 */
export function sorStageConfig(config: EngineConfig, childIdBase: number): SorConfig {
  const venues: (VenueProfile | null)[] = [null];
  for (const v of config.venues) {
    while (venues.length <= v.id) venues.push(null);
    venues[v.id] = { feeCentiBps: feeCentiBps(v.feeBps), latencyUs: v.latencyUs, fillProbability: v.fillProbability, minQty: v.minQty ?? 0, lotSize: v.lotSize ?? 1 };
  }
  // sor.disallowedVenues names accounts and venues; the stage takes ids.
  const disallowed = new Map<number, number[]>();
  for (const [accountName, venueNames] of Object.entries(config.sor.disallowedVenues)) {
    const account = config.accounts.find((a) => a.name === accountName)!;
    disallowed.set(account.id, venueNames.map((n) => config.venues.find((v) => v.name === n)!.id));
  }
  return {
    venues,
    symbolCount: config.symbols.length,
    weights: config.sor.weights,
    quoteStaleNs: config.sor.quoteStaleMs * 1e6,
    childIdBase,
    mode: SOR_MODE_NAMES.indexOf(config.sor.mode),
    stagedFallbackNs: config.sor.stagedFallbackMs * 1e6,
    maxSteps: config.sor.maxSteps,
    collarBps: config.sor.collarBps,
    tickTicks: decimalToTicks(config.sor.tickSize),
    statsAlpha: config.sor.statsAlpha,
    planCapacity: config.sor.planCapacity,
    childCapacity: config.childCapacity,
    childTableBase: 0,
    disallowed,
  };
}
