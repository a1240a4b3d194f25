/**
 * FIX session up/down events as structured log lines (pino), written from the fix thread on
 * session events only, never per message: connected, logged on, logging out, down (with the
 * reason), logon refused or failed, reconnect attempt, sequence numbers reset. Every line names
 * the session (`session`: "<our CompID>-><their CompID>", `kind`: venue or client, `name`: the
 * venue's name or the client's CompID), both sequence numbers and, where there is one, the reason.
 *
 *   event            level  when
 *   connected        info   transport up (an initiator's line carries its attempt number)
 *   logon            info   Logon exchanged: ACTIVE
 *   logout           info   we sent Logout (operator, schedule end)
 *   down             warn   ACTIVE or LOGOUT_SENT -> DISCONNECTED (info after our own Logout)
 *   logon_refused    warn   CONNECTED / LOGON_SENT -> DISCONNECTED, or the acceptor's authorize said no
 *   reconnect        info   an initiator starts a connection attempt after a failed one or a drop
 *   seq_reset        warn   sequence numbers reset (141=Y at Logon, 35=4 reset mode, new schedule period)
 *
 * Allocates per event (the log line); nothing here runs for application messages.
 */
import type { Logger } from 'pino';
import { SessionState, sessionStateName } from '../../fix/session-state.ts';
import { SEQ_RESET_CAUSE_NAMES, SessionRole, type FixSession } from '../../fix/session.ts';
import type { FixInitiator } from '../../fix/tcp.ts';

export type SessionKind = 'venue' | 'client';

interface Watched {
  kind: SessionKind;
  name: string;
  /** "<senderCompId>-><targetCompId>" (ours first). */
  id: string;
}

interface InitiatorWatch {
  initiator: FixInitiator;
  /** initiator.attempts when last looked at. */
  seen: number;
}

export class SessionEventLog {
  private readonly logger: Logger;
  private readonly watched: Map<FixSession, Watched>;
  private readonly initiators: InitiatorWatch[];
  /** The state hook to chain into FixInitiator / FixAcceptor onStateChange. */
  readonly onStateChange: (session: FixSession, previous: number, next: number) => void;

  constructor(logger: Logger) {
    this.logger = logger;
    this.watched = new Map();
    this.initiators = [];
    this.onStateChange = (session, previous, next) => this.stateChanged(session, previous, next);
  }

  /** Logs this session's events (and its sequence resets, through session.seqResetListener). */
  watch(session: FixSession, kind: SessionKind, name: string): void {
    this.watched.set(session, { kind, name, id: `${session.senderCompId}->${session.targetCompId}` });
    session.seqResetListener = (s, cause, newSeqNo) => {
      this.line('warn', s, 'seq_reset', 'FIX sequence numbers reset', { cause: SEQ_RESET_CAUSE_NAMES[cause] ?? String(cause), newSeqNo });
    };
  }

  /** Also reports an initiator's reconnect attempts (seen by pollAttempts). */
  watchInitiator(initiator: FixInitiator, name: string): void {
    this.watch(initiator.session, 'venue', name);
    this.initiators.push({ initiator, seen: initiator.attempts });
  }

  /**
   * Looks at each initiator's attempt counter (call from a timer, not per message): a counter
   * past 1 that moved is a reconnect attempt after a failed attempt or a drop. The transport
   * layer has no hook for attempts, so attempts made between two looks share one line.
   */
  pollAttempts(): void {
    for (const w of this.initiators) {
      const attempts = w.initiator.attempts;
      if (attempts === w.seen) continue;
      w.seen = attempts;
      if (attempts > 1 && w.initiator.session.state !== SessionState.ACTIVE) {
        this.line('info', w.initiator.session, 'reconnect', 'FIX venue reconnect attempt', { attempt: attempts });
      }
    }
  }

  /** An acceptor refused a Logon before the session saw it (e.g. wrong Password 554). */
  refusedLogon(session: FixSession, reason: string): void {
    this.line('warn', session, 'logon_refused', 'FIX logon refused', { reason });
  }

  private stateChanged(session: FixSession, previous: number, next: number): void {
    if (next === SessionState.CONNECTED) {
      const extra: Record<string, unknown> = {};
      for (const w of this.initiators) if (w.initiator.session === session) extra.attempt = w.initiator.attempts;
      this.line('info', session, 'connected', 'FIX transport connected', extra);
    } else if (next === SessionState.ACTIVE) {
      this.line('info', session, 'logon', 'FIX session logged on', { heartBtIntS: session.heartBtIntMs / 1000 });
    } else if (next === SessionState.LOGOUT_SENT) {
      this.line('info', session, 'logout', 'FIX session logging out', {});
    } else if (next === SessionState.DISCONNECTED) {
      const reason = session.lastDisconnectReason;
      if (previous === SessionState.ACTIVE || previous === SessionState.LOGOUT_SENT) {
        this.line(previous === SessionState.LOGOUT_SENT ? 'info' : 'warn', session, 'down', 'FIX session down', { reason, previous: sessionStateName(previous) });
      } else {
        // Never got past the Logon: refused by the counterparty (Logout or drop) or a bad Logon.
        const role = session.role === SessionRole.INITIATOR ? 'initiator' : 'acceptor';
        this.line('warn', session, 'logon_refused', 'FIX logon refused or failed', { reason, previous: sessionStateName(previous), role });
      }
    }
  }

  private line(level: 'info' | 'warn', session: FixSession, event: string, msg: string, extra: Record<string, unknown>): void {
    const w = this.watched.get(session);
    if (w === undefined) return;
    this.logger[level]({
      event, session: w.id, kind: w.kind, name: w.name, state: sessionStateName(session.state),
      nextSenderSeqNum: session.nextSenderSeqNum, nextTargetSeqNum: session.nextTargetSeqNum, ...extra,
    }, msg);
  }
}
