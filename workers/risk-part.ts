/** The risk stage, built from the shared rings after rebuilding its state from the journal. */
import { SystemClock } from '../engine/clock.ts';
import { RiskStage } from './risk/risk-stage.ts';
import { riskConfigFrom } from './risk/risk-config.ts';
import { nextChildIdBase, recoverRisk } from './risk/recovery.ts';
import { snapshotStoreFor } from '../persistence/snapshot.ts';
import { RiskCounter } from '../engine/counters.ts';
import { StageWiring } from './topology.ts';
import { KillBoard } from './risk/kill-board.ts';
import { Histogram, MetricsViews, type MetricsWorkerData } from './metrics/metrics-memory.ts';
import { type PartContext, type StagePart, logSnapshotOutcome } from './stage-part.ts';

export async function buildRisk(ctx: PartContext): Promise<StagePart> {
  const { data } = ctx;
  const { config } = data;
  const wiring = new StageWiring('risk', data.memory);
  const clock = new SystemClock(data.engineEpochMs);
  // Recovery (workers/risk/recovery.ts): the journal is read twice before the loop starts, once
  // for the id ranges the tables must be built with, once to rebuild orders, children, positions,
  // limits and kill-switch modes. The persistence stage started first and has already cut a torn
  // tail and opened this boot's segment; nothing is appended until this stage produces. With
  // journal.snapshots, both reads start after the newest snapshot that holds (persistence/
  // snapshot.ts): its head gives the ranges before it, its body the state the replay continues
  // from; and the state at this boot's boundary is saved for the next start. A snapshot that
  // cannot be read back has the stage built again and recovered without it (recoverRisk).
  const snapshots = snapshotStoreFor(config, data.engineEpochMs);
  // Limits, collars, session and market-data settings: workers/risk/risk-config.ts.
  const configured = riskConfigFrom(config, data.childIdBase);
  const metrics = (data as Partial<MetricsWorkerData>).metrics;
  const { stage, start, built: riskConfig, recovery } = recoverRisk(config.journal.dir, configured, snapshots, (riskConfig) => new RiskStage(
    riskConfig,
    {
      fromIngest: wiring.consumer('ingestToRisk'),
      fromFix: wiring.consumer('fixToRisk'),
      toIngest: wiring.producer('riskToIngest'),
      toFixClients: wiring.producer('riskToFix'),
      toSor: wiring.producer('riskToSor'),
      toPersistence: wiring.producer('riskToPersistence'),
      killBoard: new KillBoard(data.memory.killBoard),
    },
    clock,
    wiring.counters,
    metrics === undefined ? null : new MetricsViews(metrics).histogram(Histogram.RISK_INGEST_TO_RISK),
  ));
  const bounds = start.bounds;
  wiring.counters.set(RiskCounter.RECOVERED_ORDERS, recovery.orders);
  wiring.counters.set(RiskCounter.RECOVERED_FILLS, recovery.fills);
  // A corrupt journal: the state rebuilt is the prefix before the damage. Said loudly.
  if (recovery.problem !== null) ctx.log('error', `journal replay stopped early: ${recovery.problem}`);
  if (recovery.conflicts > 0 || recovery.malformedAudits > 0) {
    ctx.log('error', `journal records not recovered: ${recovery.conflicts} over a live slot or a bust or correction whose traded quantity could not be read, ${recovery.malformedAudits} routing audits unreadable (a child they name may be live at its venue)`);
  }
  logSnapshotOutcome(ctx, recovery.snapshot);
  // The SOR and fix stages issue and track this boot's children from this base: on this thread
  // at once, on theirs through the supervisor (supervisor.ts).
  const childIdBase = nextChildIdBase(data.childIdBase, bounds.maxChildId, riskConfig.childCapacity);
  data.childIdBase = childIdBase;
  return { stage: 'risk', agent: stage, detail: { childIdBase, recovery } };
}
