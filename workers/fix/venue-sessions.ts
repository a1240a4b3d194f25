/**
 * The venue side's plumbing on the fix thread: one file message store per venue session (so an
 * engine restart resumes each session with its sequence numbers and can answer the venue's
 * ResendRequest from disk), the daily schedules, and one TCP initiator per venue that reconnects
 * with capped exponential back-off, jittered by a seeded generator (reproducible runs; jitter 0
 * is fully deterministic). A timer drives the stage's reconciliation, which waits for a session
 * to finish its resend before it asks for order status (fix-stage.ts).
 *
 *   <journal.dir>/fix/<senderCompId>-<targetCompId>/   seqnums, messages.log, messages.idx, period
 *
 * Allocates at start-up only.
 */
import { join } from 'node:path';
import { Mulberry32 } from '../../engine/prng.ts';
import { SessionSchedule } from '../../fix/session-schedule.ts';
import { FileMessageStore, type MessageStore } from '../../fix/store.ts';
import { FixInitiator } from '../../fix/tcp.ts';
import { DEFAULT_CANCEL_ACK_TIMEOUT_MS, readVenueTlsFiles, type EngineConfig, type VenueConfig } from '../config.ts';
import type { FixSession } from '../../fix/session.ts';
import type { FixStage, VenueSessionConfig } from './fix-stage.ts';
import type { SessionEventLog } from './session-log.ts';

/** How often the stage's pending reconciliations are looked at (they also run in every duty cycle). */
const RECONCILE_TICK_MS = 50;

/** Store directory of a venue session. */
export function venueStoreDir(config: EngineConfig, v: VenueConfig): string {
  return v.storeDir ?? join(config.journal.dir, 'fix', `${v.senderCompId}-${v.targetCompId}`);
}

/** A seeded generator in [0, 1) for reconnect jitter. */
export function seededRandom(seed: number): () => number {
  const r = new Mulberry32(seed);
  return () => r.nextFloat();
}

/** The venue session settings for FixStage, with their file stores opened (synchronous I/O). */
export function openVenueSessions(config: EngineConfig): { sessions: VenueSessionConfig[]; stores: MessageStore[] } {
  const fsync = config.journal.fsync === 'none' ? 'never' : 'background';
  const stores: MessageStore[] = [];
  const sessions = venueSessionConfigs(config, (v) => {
    const store = new FileMessageStore(venueStoreDir(config, v), { fsync });
    stores.push(store);
    return store;
  });
  return { sessions, stores };
}

/** The venues' session settings, each with the store `storeFor` gives it (none: a memory store, as the snapshot thread's replay stage has). */
export function venueSessionConfigs(config: EngineConfig, storeFor: (v: EngineConfig['venues'][number]) => MessageStore | undefined = () => undefined): VenueSessionConfig[] {
  return config.venues.map((v): VenueSessionConfig => ({
    venueId: v.id,
    name: v.name,
    senderCompId: v.senderCompId,
    targetCompId: v.targetCompId,
    heartBtIntS: v.heartBtIntS,
    store: storeFor(v),
    schedule: v.schedule === undefined ? null : new SessionSchedule(v.schedule),
    resetOnLogon: v.resetOnLogon ?? false,
    cancelAckTimeoutMs: v.cancelAckTimeoutMs ?? DEFAULT_CANCEL_ACK_TIMEOUT_MS,
  }));
}

/** The venues' TCP initiators and the reconciliation timer. */
export class VenueConnections {
  readonly initiators: FixInitiator[];
  private readonly stage: FixStage;
  private readonly stores: MessageStore[];
  private readonly log: SessionEventLog | null;
  private timer: NodeJS.Timeout | null;

  /** `log`: session up/down lines (workers/fix/session-log.ts), chained after onStateChange. */
  constructor(
    config: EngineConfig, stage: FixStage, stores: MessageStore[],
    onStateChange?: (session: FixSession, previous: number, next: number) => void,
    log: SessionEventLog | null = null,
  ) {
    this.stage = stage;
    this.stores = stores;
    this.log = log;
    this.timer = null;
    const hook = log === null ? onStateChange : (session: FixSession, previous: number, next: number) => {
      if (onStateChange !== undefined) onStateChange(session, previous, next);
      log.onStateChange(session, previous, next);
    };
    this.initiators = config.venues.map((v) => new FixInitiator({
      host: v.host,
      port: v.port,
      session: stage.sessions[v.id]!,
      reconnectMinMs: v.reconnectMinMs ?? 100,
      reconnectMaxMs: v.reconnectMaxMs ?? 5_000,
      reconnectJitter: v.reconnectJitter ?? 0,
      random: seededRandom(v.reconnectSeed ?? v.id),
      onStateChange: hook,
      // FIX over TLS when venues[].tls is set: PEM files read once here (validated readable at start-up).
      tls: v.tls == null ? undefined : readVenueTlsFiles(v.tls),
    }));
    if (log !== null) config.venues.forEach((v, i) => log.watchInitiator(this.initiators[i], v.name));
  }

  start(): void {
    for (const i of this.initiators) i.start();
    this.timer = setInterval(() => {
      if (this.stage.reconciling) this.stage.reconcileVenues();
      if (this.stage.cancelsHeld) this.stage.writeHeldCancels(); // a session idle since its back-pressure
      if (this.stage.cancelsAwaited) this.stage.askOverdueCancels(); // cancels the venues have not answered
      if (this.log !== null) this.log.pollAttempts(); // reconnect attempts, logged off the hot path
    }, RECONCILE_TICK_MS);
  }

  /** Logs every venue session out, then closes the stores. */
  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await Promise.all(this.initiators.map((i) => i.stop()));
    for (const s of this.stores) s.close();
  }
}
