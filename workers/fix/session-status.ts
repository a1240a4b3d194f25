/**
 * FIX session status in shared memory, for /health: written by the fix thread (one writer, plain
 * stores), read by the ingest thread when /health is asked for. One row of float64 per session,
 * venue sessions first (config.venues order), then the acceptor's client sessions
 * (config.fixAcceptor.sessions order):
 *
 *   row: state | nextSenderSeqNum | nextTargetSeqNum | logons | disconnects | resent | gapFills | resendRequests | scheduleRefused | scheduleResets
 *
 * The writer refreshes every row on a timer (cheap: a few numbers per session), so /health
 * reads values at most one refresh old. The supervisor creates the buffer and hands it to the
 * workers beside WorkerData (as the metrics memory is handed).
 */
import type { FixSession } from '../../fix/session.ts';
import { SessionState, sessionStateName } from '../../fix/session-state.ts';
import type { EngineConfig } from '../config.ts';

const COL = {
  STATE: 0,
  NEXT_SENDER: 1,
  NEXT_TARGET: 2,
  LOGONS: 3,
  DISCONNECTS: 4,
  RESENT: 5,
  GAP_FILLS: 6,
  RESEND_REQUESTS: 7,
  SCHEDULE_REFUSED: 8,
  SCHEDULE_RESETS: 9,
} as const;
const COLS = 10;

/** What the supervisor adds to WorkerData. */
export interface FixSessionsWorkerData {
  fixSessions: SharedArrayBuffer;
}

export function sessionRows(config: EngineConfig): number {
  return config.venues.length + config.fixAcceptor.sessions.length;
}

export function createSessionStatusMemory(config: EngineConfig): SharedArrayBuffer {
  return new SharedArrayBuffer(Math.max(1, sessionRows(config)) * COLS * 8);
}

/** The fix thread's writer: counts logons and disconnects as they happen, copies the rest on refresh(). */
export class SessionStatusWriter {
  private readonly values: Float64Array;
  private readonly sessions: FixSession[];

  /** sessions in row order: venue sessions (config order), then client sessions. */
  constructor(sab: SharedArrayBuffer, sessions: FixSession[]) {
    this.values = new Float64Array(sab);
    if (sessions.length * COLS > this.values.length) throw new Error('Condition failed: a status row per session');
    this.sessions = sessions;
  }

  /** Call from the session's state hook. */
  onStateChange(row: number, previous: number, next: number): void {
    const at = row * COLS;
    if (next === SessionState.ACTIVE) this.values[at + COL.LOGONS]++;
    if (next === SessionState.DISCONNECTED && previous === SessionState.ACTIVE) this.values[at + COL.DISCONNECTS]++;
    this.values[at + COL.STATE] = next;
  }

  refresh(): void {
    for (let row = 0; row < this.sessions.length; row++) {
      const s = this.sessions[row];
      const at = row * COLS;
      this.values[at + COL.STATE] = s.state;
      this.values[at + COL.NEXT_SENDER] = s.nextSenderSeqNum;
      this.values[at + COL.NEXT_TARGET] = s.nextTargetSeqNum;
      this.values[at + COL.RESENT] = s.resentCount;
      this.values[at + COL.GAP_FILLS] = s.gapFillSentCount;
      this.values[at + COL.RESEND_REQUESTS] = s.resendRequestSentCount;
      this.values[at + COL.SCHEDULE_REFUSED] = s.scheduleRefusedCount;
      this.values[at + COL.SCHEDULE_RESETS] = s.scheduleResetCount;
    }
  }
}

export interface SessionStatusView {
  venuesUp: number;
  clientsUp: number;
  venues: Record<string, unknown>[];
  clients: Record<string, unknown>[];
}

/** The /health section (allocates: once per /health request). */
export function readSessionStatus(sab: SharedArrayBuffer | undefined, config: EngineConfig): SessionStatusView | null {
  if (sab === undefined) return null;
  const v = new Float64Array(sab);
  const row = (i: number, name: Record<string, unknown>): Record<string, unknown> => {
    const at = i * COLS;
    return {
      ...name,
      state: sessionStateName(v[at + COL.STATE]),
      nextSenderSeqNum: v[at + COL.NEXT_SENDER],
      nextTargetSeqNum: v[at + COL.NEXT_TARGET],
      logons: v[at + COL.LOGONS],
      disconnects: v[at + COL.DISCONNECTS],
      resent: v[at + COL.RESENT],
      gapFills: v[at + COL.GAP_FILLS],
      resendRequests: v[at + COL.RESEND_REQUESTS],
      scheduleRefused: v[at + COL.SCHEDULE_REFUSED],
      scheduleResets: v[at + COL.SCHEDULE_RESETS],
    };
  };
  const venues = config.venues.map((s, i) => row(i, { venue: s.name, senderCompId: s.senderCompId, targetCompId: s.targetCompId }));
  const n = config.venues.length;
  const clients = config.fixAcceptor.sessions.map((s, i) => row(n + i, { senderCompId: s.senderCompId, targetCompId: s.targetCompId }));
  return {
    venuesUp: venues.filter((s) => s.state === 'ACTIVE').length,
    clientsUp: clients.filter((s) => s.state === 'ACTIVE').length,
    venues,
    clients,
  };
}

/** REFRESH_MS: how old /health's sequence numbers may be. */
const REFRESH_MS = 250;

/**
 * The fix thread's side, wired to the TCP glue's state hooks: rows refreshed on a timer, logons
 * and disconnects counted as they happen, FixCounter.CLIENT_SESSIONS_UP kept. With no buffer
 * (a worker started without one) only the counter is kept.
 */
export class SessionStatusPublisher {
  readonly onVenueState: (session: FixSession, previous: number, next: number) => void;
  readonly onClientState: (session: FixSession, previous: number, next: number) => void;
  private readonly writer: SessionStatusWriter | null;
  private timer: NodeJS.Timeout | null;

  constructor(
    sab: SharedArrayBuffer | undefined, venueSessions: FixSession[], clientSessions: FixSession[],
    clientsUp: (delta: number) => void,
  ) {
    this.writer = sab === undefined ? null : new SessionStatusWriter(sab, [...venueSessions, ...clientSessions]);
    this.timer = null;
    const venueRow = new Map(venueSessions.map((s, i) => [s, i]));
    const clientRow = new Map(clientSessions.map((s, i) => [s, venueSessions.length + i]));
    this.onVenueState = (s, previous, next) => this.writer?.onStateChange(venueRow.get(s) ?? 0, previous, next);
    this.onClientState = (s, previous, next) => {
      if (next === SessionState.ACTIVE) clientsUp(1);
      else if (previous === SessionState.ACTIVE) clientsUp(-1);
      this.writer?.onStateChange(clientRow.get(s) ?? 0, previous, next);
    };
  }

  start(): void {
    if (this.writer === null) return;
    this.writer.refresh();
    this.timer = setInterval(() => this.writer!.refresh(), REFRESH_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.writer?.refresh();
  }
}
