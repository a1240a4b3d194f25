/**
 * The fix stage: venue initiator sessions and the acceptor for FIX clients (client-gateway.ts),
 * all on its thread's event loop.
 */
import { join } from 'node:path';
import { SystemClock } from '../engine/clock.ts';
import { FileMessageStore } from '../fix/store.ts';
import { SessionSchedule } from '../fix/session-schedule.ts';
import { FixAcceptor } from '../fix/tcp.ts';
import { ClientGateway } from './fix/client-gateway.ts';
import { FixStage } from './fix/fix-stage.ts';
import { recoverFixStage } from './fix/recovery.ts';
import { snapshotStoreFor } from '../persistence/snapshot.ts';
import { VenueConnections, openVenueSessions } from './fix/venue-sessions.ts';
import { SessionStatusPublisher, type FixSessionsWorkerData } from './fix/session-status.ts';
import { FixCounter } from '../engine/counters.ts';
import { StageWiring } from './topology.ts';
import { Histogram, MetricsViews, type MetricsWorkerData } from './metrics/metrics-memory.ts';
import { accountNamesById, readTlsFiles } from './config.ts';
import { threadLogger } from './log.ts';
import { SessionEventLog } from './fix/session-log.ts';
import { type PartContext, type StagePart, logSnapshotOutcome } from './stage-part.ts';

export async function buildFix(ctx: PartContext): Promise<StagePart> {
  const { data } = ctx;
  const { config } = data;
  const wiring = new StageWiring('fix', data.memory);
  const clock = new SystemClock(data.engineEpochMs);
  const accounts = accountNamesById(config);
  // Venue sessions on file stores under <journal.dir>/fix (a restart resumes their sequence numbers).
  const venueSessions = openVenueSessions(config);
  const stage = new FixStage(
    venueSessions.sessions,
    config.symbols.map((s) => s.name),
    accounts,
    // Child table base 0: the table holds this boot's children (from data.childIdBase + 1) and
    // the earlier boots' ones rebuilt from the journal below (workers/fix/recovery.ts); child ids
    // of every boot are positive, and a slot depends only on the id modulo the capacity.
    0,
    config.childCapacity,
    { fromSor: wiring.consumer('sorToFix'), fromRisk: wiring.consumer('riskToFix'), toRisk: wiring.producer('fixToRisk'), toSor: wiring.producer('fixToSor') },
    clock,
    wiring.counters,
  );
  // Children of earlier boots, before any session connects or any ring is drained: late venue
  // reports for them reach risk, and reconciliation after logon asks the venues about them.
  // From the newest recovery snapshot when journal.snapshots is on (persistence/snapshot.ts; the
  // supervisor logs the result, `recovery.snapshot` included, with the stage's detail).
  const recovery = recoverFixStage(stage, config.journal.dir, config.orderCapacity, snapshotStoreFor(config, data.engineEpochMs));
  if (recovery.problem !== null) ctx.log('error', `journal replay stopped early: ${recovery.problem}`);
  logSnapshotOutcome(ctx, recovery.snapshot);
  if (recovery.unnamed > 0 || recovery.conflicts > 0 || recovery.malformedAudits > 0) {
    ctx.log('error', `children not recovered: ${recovery.unnamed} without their order's symbol, ${recovery.conflicts} over a live slot, ${recovery.malformedAudits} routing audits unreadable (a child they name may be live at its venue)`);
  }
  const fixMetrics = (data as Partial<MetricsWorkerData>).metrics;
  if (fixMetrics !== undefined) stage.decisionToWire = new MetricsViews(fixMetrics).histogram(Histogram.FIX_DECISION_TO_WIRE);
  // FIX clients: one acceptor session per configured client, each with a file message store so
  // sequence numbers and sent messages survive a restart.
  const storeFsync = config.journal.fsync === 'none' ? 'never' : 'background';
  const stores = config.fixAcceptor.sessions.map((s) => new FileMessageStore(
    s.storeDir ?? join(config.journal.dir, 'fix', `${s.senderCompId}-${s.targetCompId}`),
    { fsync: storeFsync },
  ));
  const gateway = new ClientGateway(
    config.fixAcceptor.sessions.map((s, i) => ({
      clientCompId: s.senderCompId,
      ourCompId: s.targetCompId,
      accountId: s.accountId,
      password: s.password,
      heartBtIntS: s.heartBtIntS,
      resetOnLogon: s.resetOnLogon,
      store: stores[i],
      schedule: s.schedule === undefined ? null : new SessionSchedule(s.schedule),
    })),
    config.symbols.map((s) => s.name),
    stage.producerToRisk,
    clock,
    wiring.engineState,
  );
  stage.attachClientGateway(gateway);
  // FIX-edge refusals (validation, 35=3, 35=j) in oms_rejects_total{edge="fix"}.
  if (fixMetrics !== undefined) gateway.metrics = new MetricsViews(fixMetrics);
  // FIX session up/down lines (pino), on session events only (workers/fix/session-log.ts).
  const sessionLog = new SessionEventLog(threadLogger('fix', config.log.level));
  for (const s of gateway.sessions) sessionLog.watch(s, 'client', s.targetCompId);
  // Session state and sequence numbers for /health (shared memory read by the ingest thread).
  const sessionStatus = new SessionStatusPublisher(
    (data as Partial<FixSessionsWorkerData>).fixSessions,
    config.venues.map((v) => stage.sessions[v.id]!),
    gateway.sessions,
    (delta) => wiring.counters.add(FixCounter.CLIENT_SESSIONS_UP, delta),
  );
  const acceptor = new FixAcceptor({
    host: config.fixAcceptor.host,
    port: config.fixAcceptor.port,
    sessions: gateway.sessions,
    authorize: (session, logon) => {
      const ok = gateway.authorize(session, logon);
      if (!ok) sessionLog.refusedLogon(session, 'Password (554) missing or wrong');
      return ok;
    },
    onStateChange: (session, previous, next) => {
      sessionStatus.onClientState(session, previous, next);
      sessionLog.onStateChange(session, previous, next);
    },
    // FIX over TLS when fixAcceptor.tls names the PEM files (validated readable at start-up).
    tls: config.fixAcceptor.tls == null ? undefined : readTlsFiles(config.fixAcceptor.tls),
  });

  stage.onOutput = () => ctx.kick.kick();

  const venues = new VenueConnections(config, stage, venueSessions.stores, sessionStatus.onVenueState, sessionLog);

  const part: StagePart = {
    stage: 'fix',
    agent: stage,
    detail: {},
    async start() {
      venues.start();
      sessionStatus.start();
      const fixPort = await acceptor.listen();
      part.detail = {
        venues: config.venues.map((v) => `${v.name}@${v.host}:${v.port}`),
        fixPort,
        fixSessions: config.fixAcceptor.sessions.map((s) => `${s.senderCompId}->${s.targetCompId}`),
        recovery,
      };
    },
    // Sessions log out, then the thread's duty cycle ends (the rings drained before this stop).
    async stop(leaveLoop) {
      await Promise.all([acceptor.close(), venues.stop()]);
      sessionStatus.stop();
      leaveLoop();
      for (const store of stores) store.close();
    },
  };
  return part;
}
