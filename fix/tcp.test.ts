// Goal: sessions work over real TCP sockets on 127.0.0.1: logon, application messages,
// heartbeats, a sequence gap recovered by ResendRequest + GapFill, logout, reconnect, and the
// acceptor's refusals (unknown CompIDs, duplicate logon, garbage). Method: a FixAcceptor and
// FixInitiators in this process with a wall clock, except for the heartbeats, whose sessions read
// a clock the test steps (a loaded machine's pauses cannot pass for silence); every wait polls
// with a deadline that only guards against a hang; every test closes what it opened. No timing is
// asserted.
import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SendResult } from './fix-codes.ts';
import { MsgType } from './msg-type.ts';
import { SessionState } from './session-state.ts';
import { FixSession, SessionRole } from './session.ts';
import { Tag } from './tags.ts';
import { FixAcceptor, FixInitiator } from './tcp.ts';
import { RecordingApp, frame, newOrderBody, newReportBody, utcTimestamp } from './test-util.ts';

type Clock = { now: () => number };
const clock: Clock = { now: () => Date.now() };
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function waitFor(cond: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function startAcceptor(hbCompIds: [string, string][] = [['V1', 'OMS']], sessionClock: Clock = clock) {
  const apps = hbCompIds.map(() => new RecordingApp());
  const sessions = hbCompIds.map(([self, peer], i) => new FixSession({ role: SessionRole.ACCEPTOR, senderCompId: self, targetCompId: peer, clock: sessionClock, app: apps[i] }));
  // A connection's Logon is awaited well past what a loaded machine takes to deliver it: a refusal
  // for a slow Logon would add to refusedCount and to the initiator's states.
  const acceptor = new FixAcceptor({ port: 0, sessions, timerIntervalMs: 50, logonTimeoutMs: 30_000 });
  const port = await acceptor.listen();
  cleanups.push(() => acceptor.close(200));
  return { acceptor, port, sessions, apps };
}

function startInitiator(port: number, opts: { sender?: string; hb?: number; reset?: boolean; clock?: Clock } = {}) {
  const app = new RecordingApp();
  const session = new FixSession({ role: SessionRole.INITIATOR, senderCompId: opts.sender ?? 'OMS', targetCompId: 'V1', clock: opts.clock ?? clock, app, heartBtIntSec: opts.hb ?? 30, resetSeqNumOnLogon: opts.reset ?? true });
  const states: number[] = [];
  const initiator = new FixInitiator({ port, session, timerIntervalMs: 50, reconnectMinMs: 20, reconnectMaxMs: 200, onStateChange: (_s, _p, n) => states.push(n) });
  initiator.start();
  cleanups.push(() => initiator.stop());
  return { initiator, session, app, states };
}

function rawConnect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.on('error', reject);
    cleanups.push(() => void s.destroy());
  });
}

function closed(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));
}

describe('FIX over TCP on 127.0.0.1', () => {
  it('logs on, exchanges messages both ways, heartbeats, and logs out', async () => {
    // Both sessions read this clock, which moves only when the test steps it: on the wall clock a
    // pause of the process longer than the 1 s interval plus its grace looked like the peer's
    // silence, and a TestRequest went out.
    let nowMs = Date.now();
    const stepped: Clock = { now: () => nowMs };
    const { port, sessions, apps } = await startAcceptor(undefined, stepped);
    const { initiator, session, app, states } = startInitiator(port, { hb: 1, clock: stepped });
    await waitFor(() => session.state === SessionState.ACTIVE && sessions[0].state === SessionState.ACTIVE, 'logon');
    expect(sessions[0].heartBtIntMs).toBe(1000);
    newOrderBody(session.beginApp(MsgType.NEW_ORDER_SINGLE), 'C1', stepped.now());
    expect(session.sendApp()).toBe(SendResult.OK);
    await waitFor(() => apps[0].appMessages.length === 1, 'order at acceptor');
    newReportBody(sessions[0].beginApp(MsgType.EXECUTION_REPORT), 'C1');
    expect(sessions[0].sendApp()).toBe(SendResult.OK);
    await waitFor(() => app.appMessages.length === 1, 'report at initiator');
    // Both sides go quiet: heartbeats keep the session up. One interval at a time, each step
    // taken once both sides sent their heartbeat and received the other's.
    const delivered = () => session.nextTargetSeqNum === sessions[0].nextSenderSeqNum && sessions[0].nextTargetSeqNum === session.nextSenderSeqNum;
    for (let n = 1; n <= 2; n++) {
      nowMs += 1000;
      await waitFor(() => session.heartbeatSentCount >= n && sessions[0].heartbeatSentCount >= n && delivered(), `heartbeats ${n}`);
    }
    expect(session.state).toBe(SessionState.ACTIVE);
    expect(session.testRequestSentCount).toBe(0);
    await initiator.stop();
    await waitFor(() => sessions[0].state === SessionState.DISCONNECTED, 'acceptor disconnected');
    expect(states).toEqual([SessionState.CONNECTED, SessionState.LOGON_SENT, SessionState.ACTIVE, SessionState.LOGOUT_SENT, SessionState.DISCONNECTED]);
  });

  it('recovers a sequence gap through ResendRequest and SequenceReset-GapFill', async () => {
    const { port, sessions, apps } = await startAcceptor();
    const { session } = startInitiator(port);
    await waitFor(() => session.state === SessionState.ACTIVE, 'logon');
    session.setNextSenderSeqNum(session.nextSenderSeqNum + 5); // as if five messages were lost
    newOrderBody(session.beginApp(MsgType.NEW_ORDER_SINGLE), 'GAP', clock.now());
    session.sendApp();
    await waitFor(() => sessions[0].resendRequestSentCount === 1 && session.gapFillSentCount === 1, 'resend request answered');
    await waitFor(() => sessions[0].nextTargetSeqNum === session.nextSenderSeqNum, 'sequences agree');
    newOrderBody(session.beginApp(MsgType.NEW_ORDER_SINGLE), 'AFTER', clock.now());
    session.sendApp();
    await waitFor(() => apps[0].appMessages.length === 2, 'both orders delivered');
    // The message that revealed the gap was queued and delivered once the gap was filled.
    expect(apps[0].appMessages.map((m) => m[Tag.ClOrdID])).toEqual(['GAP', 'AFTER']);
  });

  it('reconnects after the acceptor drops the connection, keeping sequence numbers', async () => {
    const { port, sessions } = await startAcceptor();
    const { session, states } = startInitiator(port, { reset: false });
    await waitFor(() => session.state === SessionState.ACTIVE, 'logon');
    newOrderBody(session.beginApp(MsgType.NEW_ORDER_SINGLE), 'R1', clock.now());
    session.sendApp();
    await waitFor(() => sessions[0].nextTargetSeqNum === 3, 'order received');
    sessions[0].disconnect('test drops the line');
    await waitFor(() => states.filter((s) => s === SessionState.ACTIVE).length === 2, 'second logon');
    expect(session.nextSenderSeqNum).toBe(4);
    expect(sessions[0].nextTargetSeqNum).toBe(4);
  });

  it('refuses a Logon with unknown CompIDs', async () => {
    const { port, acceptor } = await startAcceptor();
    const sock = await rawConnect(port);
    sock.write(frame(`35=A|49=WHO|56=V1|34=1|52=${utcTimestamp(Date.now())}|98=0|108=30|`));
    await closed(sock);
    expect(acceptor.refusedCount).toBe(1);
  });

  it('refuses a duplicate Logon while the session is logged on', async () => {
    const { port, acceptor, sessions } = await startAcceptor();
    const { session } = startInitiator(port);
    await waitFor(() => session.state === SessionState.ACTIVE, 'logon');
    const sock = await rawConnect(port);
    sock.write(frame(`35=A|49=OMS|56=V1|34=1|52=${utcTimestamp(Date.now())}|98=0|108=30|141=Y|`));
    await closed(sock);
    expect(acceptor.refusedCount).toBe(1);
    expect(sessions[0].state).toBe(SessionState.ACTIVE);
    expect(session.state).toBe(SessionState.ACTIVE);
  });

  it('drops garbage and absurd BodyLength before Logon', async () => {
    const { port, acceptor } = await startAcceptor();
    const a = await rawConnect(port);
    a.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const b = await rawConnect(port);
    b.write('8=FIX.4.4\x019=99999999\x01');
    await Promise.all([closed(a), closed(b)]);
    expect(acceptor.refusedCount).toBe(2);
  });

  it('ignores a flood of garbage after Logon with bounded memory and stays logged on', async () => {
    const { port, acceptor, sessions } = await startAcceptor();
    void acceptor;
    const sock = await rawConnect(port);
    sock.write(frame(`35=A|49=OMS|56=V1|34=1|52=${utcTimestamp(Date.now())}|98=0|108=30|`));
    await waitFor(() => sessions[0].state === SessionState.ACTIVE, 'raw logon');
    const junk = Buffer.alloc(4 * 1024 * 1024, 0x41);
    junk.write('8=FIX.4.4\x019=60000\x01', 1000); // a huge frame that never ends properly
    sock.write(junk);
    sock.write(frame(`35=0|49=OMS|56=V1|34=2|52=${utcTimestamp(Date.now())}|`));
    await waitFor(() => sessions[0].nextTargetSeqNum === 3, 'heartbeat after the garbage');
    expect(sessions[0].garbledCount).toBeGreaterThan(0);
    expect(sessions[0].state).toBe(SessionState.ACTIVE);
  });
});

describe('FixInitiator back-off', () => {
  it('doubles the delay per failed attempt up to the cap', () => {
    const session = new FixSession({ role: SessionRole.INITIATOR, senderCompId: 'OMS', targetCompId: 'V1', clock, app: new RecordingApp() });
    const i = new FixInitiator({ port: 1, session, reconnectMinMs: 100, reconnectMaxMs: 1000 });
    const delays: number[] = [];
    for (let a = 1; a <= 6; a++) {
      i.attempts = a;
      delays.push(i.reconnectDelayMs());
    }
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('keeps retrying while nothing listens, then connects when the acceptor appears', async () => {
    // Reserve a free port, release it, and start the initiator against it before anyone listens.
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const { initiator, session } = startInitiator(port);
    await waitFor(() => initiator.attempts >= 3, 'several failed attempts');
    const sessions = [new FixSession({ role: SessionRole.ACCEPTOR, senderCompId: 'V1', targetCompId: 'OMS', clock, app: new RecordingApp() })];
    const acceptor = new FixAcceptor({ port, sessions, timerIntervalMs: 50 });
    await acceptor.listen();
    cleanups.push(() => acceptor.close(200));
    await waitFor(() => session.state === SessionState.ACTIVE, 'logon after retries');
  });
});
