/**
 * Goal: a FIX session that goes up and down leaves structured log lines (pino JSON) naming the
 * session, its sequence numbers and the reason: connected, logon, sequence reset, down,
 * reconnect attempt, logon refused; and nothing is logged per application message.
 *
 * Method: this project's FixAcceptor and FixInitiator over real TCP on 127.0.0.1, both sessions
 * watched by a SessionEventLog whose pino logger writes into an array (the logger's destination
 * captured). The acceptor's authorize hook refuses Logons while a flag is set; the acceptor is
 * closed and reopened to drop the session. Every wait polls with a timeout; no timing asserted.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SendResult } from '../../fix/fix-codes.ts';
import { MsgType } from '../../fix/msg-type.ts';
import { SessionState } from '../../fix/session-state.ts';
import { FixSession, SessionRole } from '../../fix/session.ts';
import { FixAcceptor, FixInitiator } from '../../fix/tcp.ts';
import { RecordingApp, newOrderBody } from '../../fix/test-util.ts';
import { threadLogger } from '../log.ts';
import { SessionEventLog } from './session-log.ts';

const clock = { now: () => Date.now() };
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

type Line = Record<string, unknown>;

function capture(): { lines: Line[]; log: SessionEventLog } {
  const lines: Line[] = [];
  const logger = threadLogger('fix', 'info', { write: (s: string) => { lines.push(JSON.parse(s) as Line); } });
  return { lines, log: new SessionEventLog(logger) };
}

async function waitFor(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('SessionEventLog', () => {
  it('logs logon, sequence reset, down with its reason, reconnect attempts and a refused logon', async () => {
    const { lines, log } = capture();
    let refuse = false;
    const acceptorSession = new FixSession({ role: SessionRole.ACCEPTOR, senderCompId: 'V1', targetCompId: 'OMS', clock, app: new RecordingApp() });
    log.watch(acceptorSession, 'client', 'OMS');
    const openAcceptor = async (port: number) => {
      const a = new FixAcceptor({
        port, sessions: [acceptorSession], timerIntervalMs: 50,
        authorize: (s) => {
          if (refuse) log.refusedLogon(s, 'test refusal');
          return !refuse;
        },
        onStateChange: log.onStateChange,
      });
      return { acceptor: a, port: await a.listen() };
    };
    let { acceptor, port } = await openAcceptor(0);
    cleanups.push(() => acceptor.close(200));

    const session = new FixSession({ role: SessionRole.INITIATOR, senderCompId: 'OMS', targetCompId: 'V1', clock, app: new RecordingApp(), heartBtIntSec: 30, resetSeqNumOnLogon: true });
    const initiator = new FixInitiator({ port, session, timerIntervalMs: 50, reconnectMinMs: 20, reconnectMaxMs: 40, onStateChange: log.onStateChange });
    log.watchInitiator(initiator, 'V1');
    const poll = setInterval(() => log.pollAttempts(), 5);
    cleanups.push(() => clearInterval(poll));
    initiator.start();
    cleanups.push(() => initiator.stop());

    await waitFor(() => session.state === SessionState.ACTIVE, 'logon');
    const of = (event: string, kind?: string) => lines.filter((l) => l.event === event && (kind === undefined || l.kind === kind));
    await waitFor(() => of('logon', 'client').length === 1, 'acceptor logon line');
    const venueLogon = of('logon', 'venue');
    expect(venueLogon).toHaveLength(1);
    expect(venueLogon[0]).toMatchObject({ level: 'info', stage: 'fix', session: 'OMS->V1', name: 'V1', state: 'ACTIVE', nextSenderSeqNum: 2 });
    expect(venueLogon[0].nextTargetSeqNum).toBeGreaterThanOrEqual(1); // the Logon's own number may not be counted yet
    expect(of('connected', 'venue')[0]).toMatchObject({ attempt: 1, session: 'OMS->V1' });
    // resetSeqNumOnLogon: the initiator resets before its Logon; the acceptor on the 141=Y it receives.
    expect(of('seq_reset', 'venue')[0]).toMatchObject({ cause: 'logon', newSeqNo: 1, level: 'warn' });
    expect(of('seq_reset', 'client')[0]).toMatchObject({ cause: 'logon', session: 'V1->OMS' });

    // Application messages leave no lines.
    const before = lines.length;
    for (let i = 0; i < 20; i++) {
      newOrderBody(session.beginApp(MsgType.NEW_ORDER_SINGLE), `L${i}`, clock.now());
      expect(session.sendApp()).toBe(SendResult.OK);
    }
    await waitFor(() => acceptorSession.nextTargetSeqNum === 22, 'orders at the acceptor');
    expect(lines.length).toBe(before);

    // The venue goes away, refuses Logons for a while, then accepts again.
    refuse = true;
    await acceptor.close(200);
    await waitFor(() => of('down', 'venue').length === 1, 'down line');
    expect(of('down', 'venue')[0]).toMatchObject({ level: 'warn', previous: 'ACTIVE', state: 'DISCONNECTED' });
    expect(Number(of('down', 'venue')[0].nextSenderSeqNum)).toBeGreaterThanOrEqual(22); // Logon + 20 orders (+ our answer to its Logout)
    expect(String(of('down', 'venue')[0].reason)).toMatch(/logout received|transport closed/);
    ({ acceptor, port } = await openAcceptor(port));
    await waitFor(() => of('logon_refused', 'client').length >= 1 && of('logon_refused', 'venue').length >= 1, 'refused logon lines');
    expect(of('logon_refused', 'client')[0]).toMatchObject({ reason: 'test refusal', session: 'V1->OMS' });
    expect(of('logon_refused', 'venue')[0]).toMatchObject({ role: 'initiator', previous: 'LOGON_SENT', reason: 'transport closed' });
    await waitFor(() => of('reconnect', 'venue').length >= 1, 'reconnect attempt line');
    expect(Number(of('reconnect', 'venue')[0].attempt)).toBeGreaterThan(1);

    refuse = false;
    await waitFor(() => session.state === SessionState.ACTIVE, 'logon again');
    await waitFor(() => of('logon', 'venue').length === 2, 'second logon line');

    // Our own Logout: a logout line, then an info-level down.
    await initiator.stop();
    await waitFor(() => of('down', 'venue').length === 2, 'second down line');
    expect(of('logout', 'venue')).toHaveLength(1);
    expect(of('down', 'venue')[1]).toMatchObject({ level: 'info', previous: 'LOGOUT_SENT' });
  });
});
