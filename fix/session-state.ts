/**
 * The FIX session's connection state machine: states, events and the one transition function.
 * Unlisted (state, event) pairs are illegal and return SessionError.ILLEGAL_TRANSITION.
 *
 *                 CONNECT              LOGON_SEND (initiator)        LOGON_CONFIRM
 *   DISCONNECTED ---------> CONNECTED ----------------------> LOGON_SENT -----------> ACTIVE
 *        ^                      |  LOGON_ACCEPT (acceptor: valid Logon in, Logon out)   ^ |
 *        |                      +-------------------------------------------------------+ |
 *        |                                                                                | LOGOUT_SEND
 *        |   DISCONNECT (from any connected state), LOGOUT_RECEIVE                        v
 *        +------------------------------------------------------------------------ LOGOUT_SENT
 */
import { SessionError } from './fix-codes.ts';

export const SessionState = {
  /** No transport attached. */
  DISCONNECTED: 0,
  /** Transport up, no Logon exchanged yet (acceptor waits for one; initiator is about to send). */
  CONNECTED: 1,
  /** Initiator sent Logon and waits for the acceptor's Logon. */
  LOGON_SENT: 2,
  /** Logged on: application messages flow both ways. */
  ACTIVE: 3,
  /** We sent Logout and wait for the reply (or the logout timeout) before disconnecting. */
  LOGOUT_SENT: 4,
} as const;
export type SessionState = (typeof SessionState)[keyof typeof SessionState];

export const SessionEvent = {
  /** A transport was attached. */
  CONNECT: 0,
  /** Initiator sends its Logon. */
  LOGON_SEND: 1,
  /** Acceptor received a valid Logon and answered it. */
  LOGON_ACCEPT: 2,
  /** Initiator received the acceptor's Logon. */
  LOGON_CONFIRM: 3,
  /** We send Logout (operator, or a protocol failure that allows a goodbye). */
  LOGOUT_SEND: 4,
  /** Counterparty's Logout arrived (we answer it if we had not sent ours), then we disconnect. */
  LOGOUT_RECEIVE: 5,
  /** Transport lost or dropped by us (timeouts, fatal protocol errors). */
  DISCONNECT: 6,
} as const;
export type SessionEvent = (typeof SessionEvent)[keyof typeof SessionEvent];

export const SESSION_STATE_COUNT = 5;
export const SESSION_EVENT_COUNT = 7;

/** Next state for (state, event), or SessionError.ILLEGAL_TRANSITION. Pure; allocates nothing. */
export function sessionTransition(state: number, event: number): number {
  switch (state) {
    case SessionState.DISCONNECTED:
      if (event === SessionEvent.CONNECT) return SessionState.CONNECTED;
      break;
    case SessionState.CONNECTED:
      if (event === SessionEvent.LOGON_SEND) return SessionState.LOGON_SENT;
      if (event === SessionEvent.LOGON_ACCEPT) return SessionState.ACTIVE;
      if (event === SessionEvent.LOGOUT_RECEIVE) return SessionState.DISCONNECTED;
      if (event === SessionEvent.DISCONNECT) return SessionState.DISCONNECTED;
      break;
    case SessionState.LOGON_SENT:
      if (event === SessionEvent.LOGON_CONFIRM) return SessionState.ACTIVE;
      if (event === SessionEvent.LOGOUT_RECEIVE) return SessionState.DISCONNECTED;
      if (event === SessionEvent.DISCONNECT) return SessionState.DISCONNECTED;
      break;
    case SessionState.ACTIVE:
      if (event === SessionEvent.LOGOUT_SEND) return SessionState.LOGOUT_SENT;
      if (event === SessionEvent.LOGOUT_RECEIVE) return SessionState.DISCONNECTED;
      if (event === SessionEvent.DISCONNECT) return SessionState.DISCONNECTED;
      break;
    case SessionState.LOGOUT_SENT:
      if (event === SessionEvent.LOGOUT_RECEIVE) return SessionState.DISCONNECTED;
      if (event === SessionEvent.DISCONNECT) return SessionState.DISCONNECTED;
      break;
  }
  return SessionError.ILLEGAL_TRANSITION;
}

const STATE_NAMES = ['DISCONNECTED', 'CONNECTED', 'LOGON_SENT', 'ACTIVE', 'LOGOUT_SENT'];
/** State name for logs. */
export function sessionStateName(state: number): string {
  return STATE_NAMES[state] ?? `UNKNOWN(${state})`;
}
