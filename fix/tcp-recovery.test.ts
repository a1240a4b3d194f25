// Goal: message recovery and the time rules over real TCP sockets on 127.0.0.1: a ResendRequest
// answered with stored messages (PossDup resends, gap fill for admin ones); a resend of 5000
// messages arriving complete and in order while the sender's outbound queue stays bounded; file
// stores carrying sequence numbers and messages across a restart; PossDup/OrigSendingTime and
// SendingTime accuracy against a raw socket client. Method: a FixAcceptor and FixInitiators in
// this process (wall clock), raw sockets for hand-built frames; every wait polls a condition with
// a deadline, sizes are asserted rather than times, and every test closes what it opened.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MsgType } from './msg-type.ts';
import { FixParser } from './parser.ts';
import { SessionState } from './session-state.ts';
import { FixSession, SessionRole, type FixSessionOptions } from './session.ts';
import { FileMessageStore, MemoryMessageStore, type MessageStore } from './store.ts';
import { Tag } from './tags.ts';
import { FixAcceptor, FixInitiator } from './tcp.ts';
import { RecordingApp, fields, frame, newReportBody, utcTimestamp } from './test-util.ts';

const clock = { now: () => Date.now() };
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Polls cond; timeoutMs only guards against a hang (the 5000-message resend is seconds of work on a loaded machine). */
async function waitFor(cond: () => boolean, what: string, timeoutMs = 50_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'fix-tcp-store-'));
  cleanups.push(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

async function startAcceptor(opts: Partial<FixSessionOptions> = {}) {
  const app = new RecordingApp();
  const session = new FixSession({ role: SessionRole.ACCEPTOR, senderCompId: 'V1', targetCompId: 'OMS', clock, app, ...opts });
  const acceptor = new FixAcceptor({ port: 0, sessions: [session], timerIntervalMs: 20 });
  const port = await acceptor.listen();
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await acceptor.close(500);
  };
  cleanups.push(close);
  return { port, session, app, close };
}

function startInitiator(port: number, opts: Partial<FixSessionOptions> = {}) {
  const app = new RecordingApp();
  const session = new FixSession({ role: SessionRole.INITIATOR, senderCompId: 'OMS', targetCompId: 'V1', clock, app, ...opts });
  const initiator = new FixInitiator({ port, session, timerIntervalMs: 20, reconnectMinMs: 20, reconnectMaxMs: 100 });
  initiator.start();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await initiator.stop();
  };
  cleanups.push(stop);
  return { session, app, stop };
}

function report(s: FixSession, clOrdId: string): void {
  newReportBody(s.beginApp(MsgType.EXECUTION_REPORT), clOrdId);
  s.sendApp();
}

/** A raw TCP client that collects the frames it receives. */
async function rawClient(port: number) {
  const socket = await new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.on('error', reject);
  });
  cleanups.push(() => void socket.destroy());
  const received: Record<number, string>[] = [];
  let pending = Buffer.alloc(0);
  const parser = new FixParser();
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    for (;;) {
      const n = parser.parse(pending, 0, pending.length);
      if (n <= 0) break;
      received.push(fields(pending.subarray(0, n)));
      pending = pending.subarray(n);
    }
  });
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  return { socket, received, closed, send: (body: string) => socket.write(frame(body)) };
}

describe('resend over TCP', () => {
  it('answers a ResendRequest with the stored reports (PossDup) and a gap fill for the Logon', async () => {
    const { port, session: venue } = await startAcceptor();
    const { session: oms, app } = startInitiator(port, { resetSeqNumOnLogon: true });
    await waitFor(() => oms.state === SessionState.ACTIVE && venue.state === SessionState.ACTIVE, 'logon');
    report(venue, 'R2');
    report(venue, 'R3');
    await waitFor(() => app.appMessages.length === 2, 'reports');
    // The OMS loses what it knew of the venue's stream (as after restoring an old store).
    oms.setNextTargetSeqNum(1);
    report(venue, 'R4');
    await waitFor(() => app.appMessages.length === 5, 'resent reports');
    const again = app.appMessages.slice(2);
    expect(again.map((m) => [m[Tag.ClOrdID], m[Tag.MsgSeqNum], m[Tag.PossDupFlag]])).toEqual([
      ['R2', '2', 'Y'],
      ['R3', '3', 'Y'],
      ['R4', '4', undefined],
    ]);
    expect(again[0][Tag.OrigSendingTime]).toBe(app.appMessages[0][Tag.SendingTime]);
    expect(venue.gapFillSentCount).toBe(1); // seq 1, the Logon
    expect(venue.resentCount).toBe(2);
    expect(oms.nextTargetSeqNum).toBe(5);
  });

  it('a resend of 5000 messages arrives complete and in order, the sender queue bounded by its limit', async () => {
    const limit = 32 * 1024;
    const store = new FileMessageStore(tempDir(), { fsync: 'never' });
    cleanups.push(() => store.close());
    const { port, session: venue } = await startAcceptor({ store, resendChunkMessages: 250, resendMaxBufferedBytes: limit });
    const { session: oms, app } = startInitiator(port, { resetSeqNumOnLogon: true });
    await waitFor(() => oms.state === SessionState.ACTIVE && venue.state === SessionState.ACTIVE, 'logon');
    for (let i = 1; i <= 5000; i++) {
      report(venue, `C${i}`);
      if (i % 500 === 0) await waitFor(() => app.appMessages.length === i, `first pass ${i}`);
    }
    oms.setNextTargetSeqNum(2); // every report is "lost"
    report(venue, 'LAST');
    await waitFor(() => app.appMessages.length === 10_001, 'the resend and the last report');
    const resent = app.appMessages.slice(5000);
    expect(resent.slice(0, 5000).map((m) => m[Tag.ClOrdID])).toEqual(Array.from({ length: 5000 }, (_, i) => `C${i + 1}`));
    expect(resent.slice(0, 5000).every((m) => m[Tag.PossDupFlag] === 'Y')).toBe(true);
    expect(resent[5000][Tag.ClOrdID]).toBe('LAST');
    expect(venue.resentCount).toBe(5000);
    // The resend never let the venue's outbound queue grow past the limit plus one chunk's worth
    // of a single step (one message over the limit at most).
    expect(venue.resendBacklogMaxBytes).toBeGreaterThan(0);
    expect(venue.resendBacklogMaxBytes).toBeLessThanOrEqual(limit + 400);
    expect(venue.state).toBe(SessionState.ACTIVE);
  }, 180_000);
});

describe('file stores across a restart', () => {
  it('close, reopen: sequence numbers continue and a report lost in the crash is resent from disk', async () => {
    const venueDir = tempDir();
    const omsDir = tempDir();
    let venueStore: MessageStore = new FileMessageStore(venueDir);
    let omsStore: MessageStore = new FileMessageStore(omsDir);
    const first = await startAcceptor({ store: venueStore });
    const oms1 = startInitiator(first.port, { store: omsStore });
    await waitFor(() => oms1.session.state === SessionState.ACTIVE, 'first logon');
    report(first.session, 'BEFORE-1');
    report(first.session, 'BEFORE-2');
    await waitFor(() => oms1.app.appMessages.length === 2, 'reports');
    await oms1.stop();
    await first.close();
    venueStore.close();
    omsStore.close();
    const venueNext = first.session.nextSenderSeqNum;
    const omsNext = oms1.session.nextSenderSeqNum;

    // Restart: both processes come back from their directories. The OMS crashed before it could
    // persist that it had processed BEFORE-2: its target number is one behind.
    venueStore = new FileMessageStore(venueDir);
    omsStore = new FileMessageStore(omsDir);
    cleanups.push(() => venueStore.close(), () => omsStore.close());
    expect(venueStore.nextSenderSeqNum).toBe(venueNext);
    expect(omsStore.nextSenderSeqNum).toBe(omsNext);
    const lastSeen = Number(oms1.app.appMessages[1][Tag.MsgSeqNum]);
    omsStore.setNextTargetSeqNum(lastSeen);
    const second = await startAcceptor({ store: venueStore });
    const oms2 = startInitiator(second.port, { store: omsStore });
    await waitFor(() => oms2.session.state === SessionState.ACTIVE && oms2.app.appMessages.length === 1, 'second logon and the resend');
    expect(oms2.app.appMessages.map((m) => [m[Tag.ClOrdID], m[Tag.PossDupFlag], m[Tag.MsgSeqNum]])).toEqual([['BEFORE-2', 'Y', String(lastSeen)]]);
    // Neither side started over: the logons carried the next numbers of the first run.
    expect(second.session.nextTargetSeqNum).toBeGreaterThan(omsNext);
    report(second.session, 'AFTER');
    await waitFor(() => oms2.app.appMessages.length === 2, 'a new report');
    expect(Number(oms2.app.appMessages[1][Tag.MsgSeqNum])).toBeGreaterThan(venueNext);
  });
});

describe('time rules against a raw client', () => {
  const logon = (seq = 1) => `35=A|49=OMS|56=V1|34=${seq}|52=${utcTimestamp(Date.now())}|98=0|108=30|`;

  it('PossDupFlag without OrigSendingTime is rejected (373=1, 371=122); OrigSendingTime after SendingTime ends the session', async () => {
    const { port, session } = await startAcceptor({ store: new MemoryMessageStore() });
    const c = await rawClient(port);
    c.send(logon());
    await waitFor(() => c.received.length === 1, 'logon answer');
    const now = utcTimestamp(Date.now());
    c.send(`35=0|49=OMS|56=V1|34=2|43=Y|52=${now}|`);
    await waitFor(() => c.received.length === 2, 'reject');
    expect([c.received[1][35], c.received[1][Tag.SessionRejectReason], c.received[1][Tag.RefTagID]]).toEqual(['3', '1', '122']);
    c.send(`35=0|49=OMS|56=V1|34=3|43=Y|52=${now}|122=${utcTimestamp(Date.now() + 60_000)}|`);
    await c.closed;
    expect(c.received.slice(2).map((m) => [m[35], m[Tag.SessionRejectReason]])).toEqual([
      ['3', '10'],
      ['5', undefined],
    ]);
    await waitFor(() => session.state === SessionState.DISCONNECTED, 'session down');
  });

  it('a SendingTime ten minutes off: Reject 373=10 (371=52), Logout, disconnect', async () => {
    const { port, session } = await startAcceptor();
    const c = await rawClient(port);
    c.send(logon());
    await waitFor(() => c.received.length === 1, 'logon answer');
    c.send(`35=0|49=OMS|56=V1|34=2|52=${utcTimestamp(Date.now() - 600_000)}|`);
    await c.closed;
    expect(c.received.slice(1).map((m) => [m[35], m[Tag.SessionRejectReason], m[Tag.RefTagID]])).toEqual([
      ['3', '10', '52'],
      ['5', undefined, undefined],
    ]);
    expect(session.lastDisconnectReason).toBe('SendingTime accuracy problem');
  });
});
