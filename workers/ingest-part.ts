/** The ingest stage: uWebSockets.js on its thread's event loop. */
import { SystemClock } from '../engine/clock.ts';
import { CommonCounter, COUNTER_NAMES } from '../engine/counters.ts';
import { EngineState, IngestStage } from './ingest/ingest-stage.ts';
import { RouteAuditView } from './ingest/route-audit-view.ts';
import { routeAuditLength } from '../codecs/records.ts';
import { decodeClientFrame, encodeServerMessage } from './ingest/order-fb.ts';
import { RingDepths, STAGES, StageWiring } from './topology.ts';
import { StageCounters } from '../engine/counters.ts';
import { Histogram, MetricsViews, type MetricsWorkerData } from './metrics/metrics-memory.ts';
import { readSessionStatus, type FixSessionsWorkerData } from './fix/session-status.ts';
import type { PartContext, StagePart } from './stage-part.ts';
import { RingStallWatch } from './ring-stall-watch.ts';
import { KillBoard } from './risk/kill-board.ts';
import { Doorbell } from '../engine/doorbell.ts';

/** EngineState's names by value, for the health document. */
const STATE_NAMES: string[] = [];
for (const [name, value] of Object.entries(EngineState)) STATE_NAMES[value] = name;

export async function buildIngest(ctx: PartContext): Promise<StagePart> {
  const { data } = ctx;
  const metricsMemory = (data as Partial<MetricsWorkerData>).metrics;
  const metricsViews = metricsMemory === undefined ? null : new MetricsViews(metricsMemory);
  const { config } = data;
  const wiring = new StageWiring('ingest', data.memory);
  const clock = new SystemClock(data.engineEpochMs);
  const engineState = wiring.engineState;
  const stageCounters = STAGES.map((s) => [s, new StageCounters(data.memory.counters[s])] as const);
  // A ring whose consumer took nothing for watchdogMs while records waited (ring-stall-watch.ts).
  const depths = new RingDepths(data.memory);
  const stallWatch = new RingStallWatch(depths.positions, config.watchdogMs);
  /**
   * The health document: engine state, each stage's heartbeat age and counters, ring depths, the
   * rings stalled. Not ok when the engine is not running, a stage's heartbeat is older than
   * watchdogMs, or a ring's consumer took nothing for watchdogMs while records waited in it.
   */
  function health(): Record<string, unknown> {
    const state = Atomics.load(engineState, 0);
    const nowMs = clock.nowNs() / 1e6;
    const stages: Record<string, unknown> = {};
    let stale = false;
    for (const [name, c] of stageCounters) {
      const values: Record<string, number> = {};
      for (const [counter, id] of Object.entries(COUNTER_NAMES[name])) values[counter] = c.get(id);
      const ageMs = nowMs - c.get(CommonCounter.HEARTBEAT_MS);
      if (ageMs > config.watchdogMs) stale = true;
      stages[name] = { heartbeatAgeMs: Math.round(ageMs), counters: values };
    }
    const fixSessions = readSessionStatus((data as Partial<FixSessionsWorkerData>).fixSessions, config);
    const stalledRings = stallWatch.check(nowMs);
    return {
      ok: state === EngineState.RUNNING && !stale && stalledRings.length === 0,
      state: STATE_NAMES[state] ?? String(state),
      stages,
      ringDepthBytes: depths.read(),
      stalledRings,
      fixSessions,
    };
  }

  /**
   * Ready for orders (GET /ready): health ok (engine RUNNING, every stage beating within
   * watchdogMs, no ring stalled) and at least one venue session logged on when venues are
   * configured (nothing could be routed else).
   */
  function readiness(): Record<string, unknown> {
    const h = health();
    const venuesUp = (h.fixSessions as { venuesUp: number } | null)?.venuesUp ?? null;
    const ready = h.ok === true && (config.venues.length === 0 || venuesUp === null || venuesUp > 0);
    return { ready, state: h.state, venuesUp, venues: config.venues.length };
  }

  // Venue ids are any unique ids in 1..64 (workers/config.ts), not positions: names by id, and
  // ROUTE_AUDIT records sized from the largest id, as the SOR writes them (sor-stage.ts).
  const venueNamesById: string[] = [];
  let maxVenueId = 0;
  for (const v of config.venues) {
    venueNamesById[v.id] = v.name;
    if (v.id > maxVenueId) maxVenueId = v.id;
  }
  const stage = new IngestStage(
    {
      http: config.http,
      accounts: config.accounts,
      symbols: config.symbols.map((s) => s.name),
      venues: venueNamesById,
      orderViewCapacity: config.orderCapacity,
      sor: { weights: config.sor.weights, quoteStaleMs: config.sor.quoteStaleMs, mode: config.sor.mode },
      binary: { decodeClientFrame, encodeServerMessage },
      routeAudits: new RouteAuditView(wiring.consumer('sorToIngest'), 100_000, routeAuditLength(maxVenueId), venueNamesById, config.symbols.map((s) => s.name)),
      health,
      readiness,
      // Pre-trade limits admin routes (/v1/admin/limits), seeded from the same config as risk.
      limits: { accounts: config.accounts, symbols: config.symbols },
      killSwitch: { board: new KillBoard(data.memory.killBoard), riskBell: new Doorbell(data.memory.doorbells.risk) },
      metrics: metricsViews === null ? null : {
        orderToAck: metricsViews.histogram(Histogram.INGEST_ORDER_TO_ACK),
        orderToFill: metricsViews.histogram(Histogram.INGEST_ORDER_TO_FILL),
        countReason: (code, edge) => metricsViews.countReason(code, edge),
      },
    },
    wiring.producer('ingestToRisk'),
    wiring.consumer('riskToIngest'),
    clock,
    wiring.counters,
    engineState,
  );
  // A command written from a socket callback is committed at the next duty cycle, batched with others.
  stage.onCommand = () => ctx.kick.kick();
  const part: StagePart = {
    stage: 'ingest',
    agent: stage,
    detail: {},
    async start() {
      part.detail = { port: await stage.listen() };
    },
    // Intake closes; reports still in the ring are drained until the supervisor ends the thread.
    stop() {
      stage.close();
    },
  };
  return part;
}
