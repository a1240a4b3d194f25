// Goal: every session rule of the FIX 4.4 session layer, one scenario each, stepped by hand
// through an injected clock. Method: either two real sessions joined by an in-memory link, or
// one session under test fed hand-built frames (the "counterparty" is the test itself) with
// its output decoded and checked field by field. These scenarios are about session rules, so
// their sessions skip the data dictionary (validate: false) and may send skeletal orders; the
// validator's wiring has its own scenarios in session-validation.test.ts, message recovery and
// the time rules in session-recovery.test.ts.
import { describe, expect, it } from 'vitest';
import { SendResult, SessionError } from './fix-codes.ts';
import { MemoryLink, MemoryTransport } from './memory-transport.ts';
import { MsgType } from './msg-type.ts';
import { SessionEvent, SessionState, SESSION_EVENT_COUNT, SESSION_STATE_COUNT, sessionTransition } from './session-state.ts';
import { FixSession, SessionRole } from './session.ts';
import { Tag } from './tags.ts';
import { FakeClock, RecordingApp, fields, frame } from './test-util.ts';
import { ascii } from './encoder.ts';

const T0 = Date.UTC(2026, 0, 5, 9, 0, 0, 0);
const TS = '20260105-09:00:00.000';

function pair(opts: { reset?: boolean; hb?: number } = {}) {
  const clock = new FakeClock(T0);
  const appI = new RecordingApp();
  const appA = new RecordingApp();
  const initiator = new FixSession({ role: SessionRole.INITIATOR, senderCompId: 'OMS', targetCompId: 'V1', clock, app: appI, heartBtIntSec: opts.hb ?? 30, resetSeqNumOnLogon: opts.reset ?? false, validate: false });
  const acceptor = new FixSession({ role: SessionRole.ACCEPTOR, senderCompId: 'V1', targetCompId: 'OMS', clock, app: appA, validate: false });
  const link = new MemoryLink(initiator, acceptor);
  return { clock, appI, appA, initiator, acceptor, link };
}

/** An acceptor session under test, logged on by hand-built frames from "OMS" (seq 1). */
function acceptorUnderTest(hb = 30) {
  const clock = new FakeClock(T0);
  const app = new RecordingApp();
  const s = new FixSession({ role: SessionRole.ACCEPTOR, senderCompId: 'V1', targetCompId: 'OMS', clock, app, validate: false });
  const t = new MemoryTransport();
  s.onConnected(t);
  const send = (body: string) => s.onBytes(frame(`${body}`));
  const hdr = (type: string, seq: number, extra = '') => `35=${type}|49=OMS|56=V1|34=${seq}|52=${TS}|${extra}`;
  send(hdr('A', 1, `98=0|108=${hb}|`));
  const out = () => t.take().map(fields);
  expect(out()[0][35]).toBe('A');
  return { clock, app, s, t, send, hdr, out };
}

describe('session state table', () => {
  it('walks every (state, event) pair: only the listed ones are legal', () => {
    const legal = new Map<string, number>([
      [`${SessionState.DISCONNECTED},${SessionEvent.CONNECT}`, SessionState.CONNECTED],
      [`${SessionState.CONNECTED},${SessionEvent.LOGON_SEND}`, SessionState.LOGON_SENT],
      [`${SessionState.CONNECTED},${SessionEvent.LOGON_ACCEPT}`, SessionState.ACTIVE],
      [`${SessionState.CONNECTED},${SessionEvent.LOGOUT_RECEIVE}`, SessionState.DISCONNECTED],
      [`${SessionState.CONNECTED},${SessionEvent.DISCONNECT}`, SessionState.DISCONNECTED],
      [`${SessionState.LOGON_SENT},${SessionEvent.LOGON_CONFIRM}`, SessionState.ACTIVE],
      [`${SessionState.LOGON_SENT},${SessionEvent.LOGOUT_RECEIVE}`, SessionState.DISCONNECTED],
      [`${SessionState.LOGON_SENT},${SessionEvent.DISCONNECT}`, SessionState.DISCONNECTED],
      [`${SessionState.ACTIVE},${SessionEvent.LOGOUT_SEND}`, SessionState.LOGOUT_SENT],
      [`${SessionState.ACTIVE},${SessionEvent.LOGOUT_RECEIVE}`, SessionState.DISCONNECTED],
      [`${SessionState.ACTIVE},${SessionEvent.DISCONNECT}`, SessionState.DISCONNECTED],
      [`${SessionState.LOGOUT_SENT},${SessionEvent.LOGOUT_RECEIVE}`, SessionState.DISCONNECTED],
      [`${SessionState.LOGOUT_SENT},${SessionEvent.DISCONNECT}`, SessionState.DISCONNECTED],
    ]);
    for (let s = 0; s < SESSION_STATE_COUNT; s++) {
      for (let e = 0; e < SESSION_EVENT_COUNT; e++) {
        expect(sessionTransition(s, e), `state ${s} event ${e}`).toBe(legal.get(`${s},${e}`) ?? SessionError.ILLEGAL_TRANSITION);
      }
    }
  });
});

describe('logon', () => {
  it('initiator and acceptor log on and exchange application messages', () => {
    const { initiator, acceptor, link, appA, appI } = pair();
    link.connect();
    expect(initiator.state).toBe(SessionState.LOGON_SENT);
    link.pump();
    expect(initiator.state).toBe(SessionState.ACTIVE);
    expect(acceptor.state).toBe(SessionState.ACTIVE);
    expect(acceptor.heartBtIntMs).toBe(30_000);
    expect(appI.states).toEqual([SessionState.CONNECTED, SessionState.LOGON_SENT, SessionState.ACTIVE]);
    expect(appA.states).toEqual([SessionState.CONNECTED, SessionState.ACTIVE]);
    const e = initiator.beginApp(MsgType.NEW_ORDER_SINGLE);
    e.addAscii(Tag.ClOrdID, ascii('C1')).addInt(Tag.OrderQty, 100);
    expect(initiator.sendApp()).toBe(SendResult.OK);
    link.pump();
    expect(appA.appMessages).toHaveLength(1);
    expect(appA.appMessages[0][Tag.ClOrdID]).toBe('C1');
    expect(appA.appMessages[0][Tag.MsgSeqNum]).toBe('2');
    expect(initiator.nextSenderSeqNum).toBe(3);
    expect(acceptor.nextTargetSeqNum).toBe(3);
  });

  it('acceptor refuses a Logon with the wrong CompIDs: Logout and disconnect', () => {
    const clock = new FakeClock(T0);
    const s = new FixSession({ role: SessionRole.ACCEPTOR, senderCompId: 'V1', targetCompId: 'OMS', clock, app: new RecordingApp() });
    const t = new MemoryTransport();
    s.onConnected(t);
    s.onBytes(frame(`35=A|49=EVIL|56=V1|34=1|52=${TS}|98=0|108=30|`));
    expect(s.state).toBe(SessionState.DISCONNECTED);
    expect(t.closed).toBe(true);
    expect(fields(t.take()[0])[35]).toBe('5');
  });

  it('refuses EncryptMethod other than 0', () => {
    const clock = new FakeClock(T0);
    const s = new FixSession({ role: SessionRole.ACCEPTOR, senderCompId: 'V1', targetCompId: 'OMS', clock, app: new RecordingApp() });
    const t = new MemoryTransport();
    s.onConnected(t);
    s.onBytes(frame(`35=A|49=OMS|56=V1|34=1|52=${TS}|98=1|108=30|`));
    expect(s.state).toBe(SessionState.DISCONNECTED);
    expect(fields(t.take()[0])[35]).toBe('5');
  });

  it('drops the connection when the first message is not a Logon', () => {
    const clock = new FakeClock(T0);
    const s = new FixSession({ role: SessionRole.ACCEPTOR, senderCompId: 'V1', targetCompId: 'OMS', clock, app: new RecordingApp() });
    const t = new MemoryTransport();
    s.onConnected(t);
    s.onBytes(frame(`35=D|49=OMS|56=V1|34=1|52=${TS}|`));
    expect(s.state).toBe(SessionState.DISCONNECTED);
    expect(t.take()).toHaveLength(0);
  });

  it('ResetSeqNumFlag=Y restarts both sequences at 1', () => {
    const { initiator, acceptor, link } = pair({ reset: true });
    initiator.setNextTargetSeqNum(50);
    acceptor.setNextSenderSeqNum(50);
    acceptor.setNextTargetSeqNum(70);
    initiator.setNextSenderSeqNum(70);
    link.connect();
    link.pump();
    expect(initiator.state).toBe(SessionState.ACTIVE);
    expect(acceptor.state).toBe(SessionState.ACTIVE);
    expect(initiator.nextSenderSeqNum).toBe(2);
    expect(initiator.nextTargetSeqNum).toBe(2);
    expect(acceptor.nextSenderSeqNum).toBe(2);
    expect(acceptor.nextTargetSeqNum).toBe(2);
  });

  it('refuses ResetSeqNumFlag=Y on a Logon whose MsgSeqNum is not 1', () => {
    const clock = new FakeClock(T0);
    const s = new FixSession({ role: SessionRole.ACCEPTOR, senderCompId: 'V1', targetCompId: 'OMS', clock, app: new RecordingApp() });
    const t = new MemoryTransport();
    s.onConnected(t);
    s.onBytes(frame(`35=A|49=OMS|56=V1|34=5|52=${TS}|98=0|108=30|141=Y|`));
    expect(s.state).toBe(SessionState.DISCONNECTED);
  });

  it('times out a Logon that is never answered', () => {
    const { initiator, clock } = pair();
    const t = new MemoryTransport();
    initiator.onConnected(t);
    clock.t += 9_999;
    initiator.onTimer(clock.t);
    expect(initiator.state).toBe(SessionState.LOGON_SENT);
    clock.t += 1;
    initiator.onTimer(clock.t);
    expect(initiator.state).toBe(SessionState.DISCONNECTED);
    expect(initiator.lastDisconnectReason).toBe('logon timeout');
  });

  it('a Logon with a higher MsgSeqNum is accepted, then the gap is asked for', () => {
    const clock = new FakeClock(T0);
    const s = new FixSession({ role: SessionRole.ACCEPTOR, senderCompId: 'V1', targetCompId: 'OMS', clock, app: new RecordingApp() });
    const t = new MemoryTransport();
    s.onConnected(t);
    s.onBytes(frame(`35=A|49=OMS|56=V1|34=4|52=${TS}|98=0|108=30|`));
    const out = t.take().map(fields);
    expect(s.state).toBe(SessionState.ACTIVE);
    expect(out.map((m) => m[35])).toEqual(['A', '2']);
    expect(out[1][Tag.BeginSeqNo]).toBe('1');
    expect(out[1][Tag.EndSeqNo]).toBe('3');
    // The counterparty gap-fills 1..3: the Logon's own number (4) is then passed over.
    s.onBytes(frame(`35=4|49=OMS|56=V1|34=1|52=${TS}|43=Y|122=${TS}|123=Y|36=4|`));
    expect(s.nextTargetSeqNum).toBe(5);
  });

  it('a second Logon while logged on ends the session', () => {
    const { s, send, hdr } = acceptorUnderTest();
    send(hdr('A', 2, '98=0|108=30|'));
    expect(s.state).toBe(SessionState.DISCONNECTED);
  });
});

describe('heartbeats and test requests', () => {
  it('sends a Heartbeat after HeartBtInt of outbound silence', () => {
    const { s, clock, out } = acceptorUnderTest(10);
    clock.t += 9_999;
    s.onTimer(clock.t);
    expect(out()).toHaveLength(0);
    clock.t += 1;
    s.onTimer(clock.t);
    const msgs = out();
    expect(msgs.map((m) => m[35])).toEqual(['0']);
    expect(msgs[0][Tag.TestReqID]).toBeUndefined();
  });

  it('answers a TestRequest with a Heartbeat carrying its TestReqID', () => {
    const { send, hdr, out } = acceptorUnderTest();
    send(hdr('1', 2, '112=PING-7|'));
    const msgs = out();
    expect(msgs[0][35]).toBe('0');
    expect(msgs[0][Tag.TestReqID]).toBe('PING-7');
  });

  it('rejects a TestRequest without TestReqID (373=1, 371=112)', () => {
    const { send, hdr, out } = acceptorUnderTest();
    send(hdr('1', 2));
    const r = out()[0];
    expect(r[35]).toBe('3');
    expect(r[Tag.SessionRejectReason]).toBe('1');
    expect(r[Tag.RefTagID]).toBe('112');
    expect(r[Tag.RefSeqNum]).toBe('2');
  });

  it('sends a TestRequest on inbound silence and disconnects when it stays unanswered', () => {
    const { s, clock, out, t } = acceptorUnderTest(10);
    // Outbound heartbeats keep going out; only inbound silence matters here.
    clock.t += 10_000;
    s.onTimer(clock.t);
    expect(out().map((m) => m[35])).toEqual(['0']);
    clock.t += 2_000; // 12 s of inbound silence: interval plus 20% grace
    s.onTimer(clock.t);
    const tr = out();
    expect(tr.map((m) => m[35])).toEqual(['1']);
    expect(tr[0][Tag.TestReqID]).toBeDefined();
    clock.t += 9_999;
    s.onTimer(clock.t);
    expect(s.state).toBe(SessionState.ACTIVE);
    clock.t += 1;
    s.onTimer(clock.t);
    expect(s.state).toBe(SessionState.DISCONNECTED);
    expect(t.closed).toBe(true);
    expect(out().map((m) => m[35])).toContain('5');
  });

  it('an answered TestRequest keeps the session up', () => {
    const { s, clock, out, send, hdr } = acceptorUnderTest(10);
    clock.t += 12_000;
    s.onTimer(clock.t);
    const tr = out().find((m) => m[35] === '1')!;
    send(hdr('0', 2, `112=${tr[Tag.TestReqID]}|`));
    clock.t += 10_000;
    s.onTimer(clock.t);
    expect(s.state).toBe(SessionState.ACTIVE);
  });

  it('two linked sessions stay up over a long quiet period', () => {
    const { initiator, acceptor, link, clock } = pair({ hb: 5 });
    link.connect();
    link.pump();
    for (let i = 0; i < 600; i++) {
      clock.t += 500;
      initiator.onTimer(clock.t);
      acceptor.onTimer(clock.t);
      link.pump();
    }
    expect(initiator.state).toBe(SessionState.ACTIVE);
    expect(acceptor.state).toBe(SessionState.ACTIVE);
    expect(initiator.heartbeatSentCount).toBeGreaterThan(50);
    expect(initiator.testRequestSentCount).toBe(0);
  });
});

describe('sequence numbers', () => {
  it('too high: ResendRequest for the gap, message queued, a full resend is deduplicated', () => {
    const { s, send, hdr, out, app } = acceptorUnderTest();
    send(hdr('D', 5, '11=X|'));
    let msgs = out();
    expect(msgs.map((m) => m[35])).toEqual(['2']);
    expect(msgs[0][Tag.BeginSeqNo]).toBe('2');
    expect(msgs[0][Tag.EndSeqNo]).toBe('4');
    expect(app.appMessages).toHaveLength(0);
    // More messages beyond the gap do not trigger a second request.
    send(hdr('D', 6, '11=Y|'));
    expect(out()).toHaveLength(0);
    // The counterparty gap-fills 2..4 (the queued 5 and 6 then go through) and, as an engine
    // answering EndSeqNo 0 would, resends 5 and 6 too: those duplicates are ignored.
    send(hdr('4', 2, `43=Y|122=${TS}|123=Y|36=5|`));
    send(hdr('D', 5, `43=Y|122=${TS}|11=X|`));
    send(hdr('D', 6, `43=Y|122=${TS}|11=Y|`));
    expect(app.appMessages.map((m) => m[Tag.ClOrdID])).toEqual(['X', 'Y']);
    expect(s.nextTargetSeqNum).toBe(7);
    msgs = out();
    expect(msgs).toHaveLength(0);
  });

  it('too low without PossDupFlag: Logout and disconnect', () => {
    const { s, send, hdr, out } = acceptorUnderTest();
    send(hdr('D', 2, '11=A|'));
    send(hdr('D', 2, '11=A|'));
    expect(s.state).toBe(SessionState.DISCONNECTED);
    const msgs = out();
    expect(msgs[msgs.length - 1][35]).toBe('5');
    expect(msgs[msgs.length - 1][Tag.Text]).toMatch(/too low/);
  });

  it('too low with PossDupFlag=Y: ignored', () => {
    const { s, send, hdr, out, app } = acceptorUnderTest();
    send(hdr('D', 2, '11=A|'));
    send(hdr('D', 2, `43=Y|122=${TS}|11=A|`));
    expect(s.state).toBe(SessionState.ACTIVE);
    expect(app.appMessages).toHaveLength(1);
    expect(out()).toHaveLength(0);
  });

  it('answers a ResendRequest with the stored messages (PossDupFlag, OrigSendingTime), consuming no number', () => {
    const { s, send, hdr, out, clock } = acceptorUnderTest();
    for (let i = 0; i < 3; i++) {
      s.beginApp(MsgType.EXECUTION_REPORT).addInt(Tag.LastQty, i);
      expect(s.sendApp()).toBe(SendResult.OK);
    }
    out();
    expect(s.nextSenderSeqNum).toBe(5);
    clock.t += 5_000;
    send(hdr('2', 2, '7=2|16=0|'));
    const msgs = out();
    expect(msgs.map((m) => [m[35], m[Tag.MsgSeqNum], m[Tag.PossDupFlag], m[Tag.LastQty]])).toEqual([
      ['8', '2', 'Y', '0'],
      ['8', '3', 'Y', '1'],
      ['8', '4', 'Y', '2'],
    ]);
    expect(msgs[0][Tag.OrigSendingTime]).toBe(TS);
    expect(msgs[0][Tag.SendingTime]).toBe('20260105-09:00:05.000');
    expect(s.nextSenderSeqNum).toBe(5);
    expect(s.resentCount).toBe(3);
  });

  it('answers with one SequenceReset-GapFill over a range the store does not hold', () => {
    const { s, send, hdr, out } = acceptorUnderTest();
    s.setNextSenderSeqNum(5); // 2..4 were never recorded (as after a store loss)
    send(hdr('2', 2, '7=2|16=0|'));
    const msgs = out();
    expect(msgs).toHaveLength(1);
    const gf = msgs[0];
    expect(gf[35]).toBe('4');
    expect(gf[Tag.MsgSeqNum]).toBe('2');
    expect(gf[Tag.GapFillFlag]).toBe('Y');
    expect(gf[Tag.PossDupFlag]).toBe('Y');
    expect(gf[Tag.NewSeqNo]).toBe('5');
    expect(gf[Tag.OrigSendingTime]).toBeDefined();
    expect(s.nextSenderSeqNum).toBe(5); // a gap fill consumes no new number
  });

  it('a ResendRequest with a bounded EndSeqNo resends just that range', () => {
    const { s, send, hdr, out } = acceptorUnderTest();
    for (let i = 0; i < 5; i++) {
      s.beginApp(MsgType.EXECUTION_REPORT);
      s.sendApp();
    }
    out();
    send(hdr('2', 2, '7=3|16=4|'));
    expect(out().map((m) => [m[35], m[Tag.MsgSeqNum]])).toEqual([
      ['8', '3'],
      ['8', '4'],
    ]);
  });

  it('a ResendRequest that itself reveals a gap is answered, then our own request follows', () => {
    const { send, hdr, out } = acceptorUnderTest();
    send(hdr('2', 4, '7=1|16=0|'));
    const msgs = out();
    expect(msgs.map((m) => m[35])).toEqual(['4', '2']);
  });

  it('SequenceReset-Reset moves the expected number forward regardless of MsgSeqNum', () => {
    const { s, send, hdr, out } = acceptorUnderTest();
    send(hdr('4', 99, '36=20|'));
    expect(s.nextTargetSeqNum).toBe(20);
    expect(out()).toHaveLength(0);
    send(hdr('4', 20, '36=10|'));
    const r = out()[0];
    expect(r[35]).toBe('3');
    expect(r[Tag.SessionRejectReason]).toBe('5');
    expect(r[Tag.RefTagID]).toBe('36');
    expect(s.nextTargetSeqNum).toBe(20);
  });

  it('a gap fill that does not move forward is rejected', () => {
    const { s, send, hdr, out } = acceptorUnderTest();
    send(hdr('4', 2, '123=Y|36=2|'));
    const r = out()[0];
    expect(r[35]).toBe('3');
    expect(r[Tag.RefTagID]).toBe('36');
    expect(s.nextTargetSeqNum).toBe(3);
  });

  it('two linked sessions recover a lost message through ResendRequest and GapFill', () => {
    const { initiator, acceptor, link, appA } = pair();
    link.connect();
    link.pump();
    initiator.beginApp(MsgType.NEW_ORDER_SINGLE).addAscii(Tag.ClOrdID, ascii('LOST'));
    initiator.sendApp();
    link.aToB.take(); // the network eats seq 2
    initiator.beginApp(MsgType.NEW_ORDER_SINGLE).addAscii(Tag.ClOrdID, ascii('C3'));
    initiator.sendApp();
    link.pump();
    expect(acceptor.resendRequestSentCount).toBe(1);
    expect(initiator.resentCount).toBe(1);
    expect(initiator.gapFillSentCount).toBe(0);
    expect(acceptor.nextTargetSeqNum).toBe(4);
    // Seq 2 comes back from the initiator's store (PossDupFlag=Y); seq 3, queued, follows it.
    expect(appA.appMessages.map((m) => [m[Tag.ClOrdID], m[Tag.PossDupFlag]])).toEqual([
      ['LOST', 'Y'],
      ['C3', undefined],
    ]);
    initiator.beginApp(MsgType.NEW_ORDER_SINGLE).addAscii(Tag.ClOrdID, ascii('C4'));
    initiator.sendApp();
    link.pump();
    expect(appA.appMessages.map((m) => m[Tag.ClOrdID])).toEqual(['LOST', 'C3', 'C4']);
    expect(initiator.state).toBe(SessionState.ACTIVE);
  });
});

describe('logout', () => {
  it('graceful logout: Logout, reply, both disconnected', () => {
    const { initiator, acceptor, link } = pair();
    link.connect();
    link.pump();
    expect(initiator.logout()).toBe(0);
    expect(initiator.state).toBe(SessionState.LOGOUT_SENT);
    link.pump();
    expect(initiator.state).toBe(SessionState.DISCONNECTED);
    expect(acceptor.state).toBe(SessionState.DISCONNECTED);
    expect(acceptor.lastDisconnectReason).toMatch(/logout received/);
  });

  it('logout is refused unless logged on', () => {
    const { initiator } = pair();
    expect(initiator.logout()).toBe(SessionError.ILLEGAL_TRANSITION);
  });

  it('disconnects when the Logout is not answered in time', () => {
    const { s, clock } = acceptorUnderTest();
    s.logout();
    clock.t += 2_000;
    s.onTimer(clock.t);
    expect(s.state).toBe(SessionState.DISCONNECTED);
    expect(s.lastDisconnectReason).toBe('logout timeout');
  });

  it('answers an inbound Logout and disconnects', () => {
    const { s, send, hdr, out, t } = acceptorUnderTest();
    send(hdr('5', 2, '58=bye|'));
    expect(out().map((m) => m[35])).toEqual(['5']);
    expect(s.state).toBe(SessionState.DISCONNECTED);
    expect(t.closed).toBe(true);
    expect(s.lastDisconnectReason).toBe('logout received: bye');
  });
});

describe('rejects and garbled input', () => {
  it('rejects a tag without a value with 373=4 and 371, and consumes the number', () => {
    const { s, send, hdr, out, app } = acceptorUnderTest();
    send(hdr('D', 2, '11=A|58=|'));
    const r = out()[0];
    expect(r[35]).toBe('3');
    expect(r[Tag.SessionRejectReason]).toBe('4');
    expect(r[Tag.RefTagID]).toBe('58');
    expect(r[Tag.RefMsgType]).toBe('D');
    expect(app.appMessages).toHaveLength(0);
    expect(s.nextTargetSeqNum).toBe(3);
  });

  it('lets the application reject a malformed message (373 reason, 371 ref tag)', () => {
    const { send, hdr, out, app } = acceptorUnderTest();
    app.onApp = (session) => session.rejectInbound(1, Tag.OrderQty);
    send(hdr('D', 2, '11=A|'));
    const r = out()[0];
    expect(r[35]).toBe('3');
    expect(r[Tag.RefSeqNum]).toBe('2');
    expect(r[Tag.SessionRejectReason]).toBe('1');
    expect(r[Tag.RefTagID]).toBe('38');
  });

  it('rejectInbound outside onAppMessage is a programming error', () => {
    const { s } = acceptorUnderTest();
    expect(() => s.rejectInbound(1, 38)).toThrow(/Condition failed/);
  });

  it('ignores garbled messages without consuming a sequence number and resynchronises', () => {
    const { s, send, hdr, app } = acceptorUnderTest();
    const bad = frame(hdr('D', 2, '11=BAD|'));
    bad[bad.length - 3] ^= 1; // CheckSum digit
    s.onBytes(bad);
    s.onBytes(Buffer.from('garbage without any frame\x01'));
    s.onBytes(Buffer.from('8=FIX.4.4\x019=5\x0135=D\x01zz10=000\x01')); // BodyLength lies
    expect(s.garbledCount).toBe(3);
    send(hdr('D', 2, '11=OK|'));
    expect(app.appMessages.map((m) => m[Tag.ClOrdID])).toEqual(['OK']);
    expect(s.nextTargetSeqNum).toBe(3);
  });

  it('forwards an inbound session Reject to the application', () => {
    const { send, hdr, app } = acceptorUnderTest();
    send(hdr('3', 2, '45=7|373=1|371=38|'));
    expect(app.rejects).toHaveLength(1);
    expect(app.rejects[0][Tag.RefSeqNum]).toBe('7');
  });

  it('a CompID mismatch after logon: Reject 373=9, Logout, disconnect', () => {
    const { s, out } = acceptorUnderTest();
    s.onBytes(frame(`35=D|49=OMS|56=V9|34=2|52=${TS}|`));
    const msgs = out();
    expect(msgs.map((m) => m[35])).toEqual(['3', '5']);
    expect(msgs[0][Tag.SessionRejectReason]).toBe('9');
    expect(s.state).toBe(SessionState.DISCONNECTED);
  });
});

describe('byte stream handling', () => {
  it('works over a synchronous transport that delivers re-entrantly (regression)', () => {
    // Found by an allocation probe: with write() delivering to the peer before it returns, the
    // initiator got the Logon reply before entering LOGON_SENT, and nested onBytes calls could
    // overwrite the parser the application was reading. State now changes before bytes leave,
    // and nested input is deferred until the current chunk is done.
    const clock = new FakeClock(T0);
    const appI = new RecordingApp();
    const appA = new RecordingApp();
    const i = new FixSession({ role: SessionRole.INITIATOR, senderCompId: 'OMS', targetCompId: 'V1', clock, app: appI, resetSeqNumOnLogon: true, validate: false });
    const a = new FixSession({ role: SessionRole.ACCEPTOR, senderCompId: 'V1', targetCompId: 'OMS', clock, app: appA, validate: false });
    const toA = { write: (b: Uint8Array, s: number, n: number) => (a.onBytes(b, s, s + n), true), close: () => a.onTransportClosed(toI) };
    const toI = { write: (b: Uint8Array, s: number, n: number) => (i.onBytes(b, s, s + n), true), close: () => i.onTransportClosed(toA) };
    // The acceptor answers every order inside onAppMessage, while the initiator is still parsing.
    appA.onApp = (session, msg) => {
      const e = session.beginApp(MsgType.EXECUTION_REPORT);
      e.addBytes(Tag.ClOrdID, msg.buf, msg.valueStart(Tag.ClOrdID), msg.valueEnd(Tag.ClOrdID));
      session.sendApp();
    };
    appI.onApp = (session, msg) => {
      const n = Number(msg.getString(Tag.ClOrdID));
      if (n < 5) {
        session.beginApp(MsgType.NEW_ORDER_SINGLE).addInt(Tag.ClOrdID, n + 1);
        session.sendApp();
      }
    };
    a.onConnected(toI);
    i.onConnected(toA);
    expect(i.state).toBe(SessionState.ACTIVE);
    expect(a.state).toBe(SessionState.ACTIVE);
    i.beginApp(MsgType.NEW_ORDER_SINGLE).addInt(Tag.ClOrdID, 1);
    expect(i.sendApp()).toBe(SendResult.OK);
    expect(appA.appMessages.map((m) => m[Tag.ClOrdID])).toEqual(['1', '2', '3', '4', '5']);
    expect(appI.appMessages.map((m) => m[Tag.ClOrdID])).toEqual(['1', '2', '3', '4', '5']);
    expect(i.logout()).toBe(0);
    expect(i.state).toBe(SessionState.DISCONNECTED);
    expect(a.state).toBe(SessionState.DISCONNECTED);
  });

  it('reassembles frames split at every byte boundary and glued together', () => {
    const { s, hdr, app } = acceptorUnderTest();
    const a = frame(hdr('D', 2, '11=A|'));
    const b = frame(hdr('D', 3, '11=B|'));
    const both = new Uint8Array(a.length + b.length);
    both.set(a, 0);
    both.set(b, a.length);
    // Feed byte by byte, then in two uneven pieces.
    for (let i = 0; i < both.length; i++) s.onBytes(both, i, i + 1);
    const c = frame(hdr('D', 4, '11=C|'));
    s.onBytes(c.subarray(0, 7));
    s.onBytes(c.subarray(7));
    expect(app.appMessages.map((m) => m[Tag.ClOrdID])).toEqual(['A', 'B', 'C']);
  });

  it('handles a large chunk holding many frames', () => {
    const { s, hdr, app } = acceptorUnderTest();
    const parts: Uint8Array[] = [];
    for (let i = 0; i < 3000; i++) parts.push(frame(hdr('D', 2 + i, `11=C${i}|`)));
    const total = parts.reduce((n, p) => n + p.length, 0);
    const big = new Uint8Array(total + 10);
    let o = 0;
    for (const p of parts) {
      big.set(p, o);
      o += p.length;
    }
    big.set(parts[0].subarray(0, 10), o); // a partial frame at the end
    s.onBytes(big.subarray(0, 5));
    s.onBytes(big.subarray(5));
    expect(app.appMessages).toHaveLength(3000);
    expect(s.nextTargetSeqNum).toBe(3002);
  });

  it('sendApp reports back-pressure and not-logged-on without consuming a number', () => {
    const { s, t } = acceptorUnderTest();
    t.accepting = false;
    s.beginApp(MsgType.EXECUTION_REPORT);
    expect(s.sendApp()).toBe(SendResult.BACK_PRESSURE);
    expect(s.nextSenderSeqNum).toBe(2);
    t.accepting = true;
    s.disconnect('test');
    s.beginApp(MsgType.EXECUTION_REPORT);
    expect(s.sendApp()).toBe(SendResult.NOT_LOGGED_ON);
    expect(s.nextSenderSeqNum).toBe(2);
  });
});
