// Goal: the data-dictionary validator is wired into the session: an invalid inbound message
// (admin or application, acceptor or initiator) is answered with a session Reject 35=3
// (45/371/372/373/58) or a BusinessMessageReject 35=j (45/372/379/380/58), consumes its sequence
// number, and never reaches the application; an invalid Logon ends the connection. Method: one
// session under test fed hand-built frames through an in-memory transport, a hand-stepped clock.
import { describe, expect, it } from 'vitest';
import { MemoryTransport } from './memory-transport.ts';
import { SessionState } from './session-state.ts';
import { FixSession, SessionRole } from './session.ts';
import { Tag } from './tags.ts';
import { FakeClock, RecordingApp, fields, frame } from './test-util.ts';

const T0 = Date.UTC(2026, 0, 5, 9, 0, 0, 0);
const TS = '20260105-09:00:00.000';
const D_BODY = `11=C1|55=AAPL|54=1|60=${TS}|38=100|40=2|44=10.5|`;

function loggedOn(role: 'acceptor' | 'initiator' = 'acceptor') {
  const clock = new FakeClock(T0);
  const app = new RecordingApp();
  const acceptor = role === 'acceptor';
  const s = new FixSession({ role: acceptor ? SessionRole.ACCEPTOR : SessionRole.INITIATOR, senderCompId: 'V1', targetCompId: 'OMS', clock, app });
  const t = new MemoryTransport();
  s.onConnected(t);
  const send = (body: string) => s.onBytes(frame(body));
  const hdr = (type: string, seq: number, extra = '') => `35=${type}|49=OMS|56=V1|34=${seq}|52=${TS}|${extra}`;
  send(hdr('A', 1, '98=0|108=30|'));
  const out = () => t.take().map(fields);
  expect(out()[0][35]).toBe('A');
  expect(s.state).toBe(SessionState.ACTIVE);
  return { clock, app, s, t, send, hdr, out };
}

describe('validation inside the session', () => {
  it('a valid order reaches the application', () => {
    const { app, send, hdr, out } = loggedOn();
    send(hdr('D', 2, D_BODY));
    expect(app.appMessages.map((m) => m[Tag.ClOrdID])).toEqual(['C1']);
    expect(out()).toHaveLength(0);
  });

  it('a session-level violation: Reject 35=3 with 45/371/372/373/58, number consumed, application not called', () => {
    const { s, app, send, hdr, out } = loggedOn();
    send(hdr('D', 2, `11=C1|55=AAPL|54=X|60=${TS}|38=100|40=1|`));
    const r = out();
    expect(r).toHaveLength(1);
    expect(r[0][35]).toBe('3');
    expect([r[0][Tag.RefSeqNum], r[0][Tag.RefTagID], r[0][Tag.RefMsgType], r[0][Tag.SessionRejectReason]]).toEqual(['2', '54', 'D', '5']);
    expect(r[0][Tag.Text]).toBe('Value is incorrect (out of range) for this tag');
    expect(app.appMessages).toHaveLength(0);
    expect(s.nextTargetSeqNum).toBe(3);
    send(hdr('D', 3, D_BODY)); // the next number goes through
    expect(app.appMessages).toHaveLength(1);
  });

  it('an unsupported message type: BusinessMessageReject 380=3, stored for resend', () => {
    const { s, app, send, hdr, out } = loggedOn();
    send(hdr('B', 2, '148=headline|'));
    const r = out()[0];
    expect([r[35], r[Tag.RefSeqNum], r[Tag.RefMsgType], r[380], r[Tag.Text]]).toEqual(['j', '2', 'B', '3', 'Unsupported message type']);
    expect(app.appMessages).toHaveLength(0);
    expect(s.nextTargetSeqNum).toBe(3);
    expect(s.businessRejectSentCount).toBe(1);
    expect(s.store.read(Number(r[Tag.MsgSeqNum]))).toBeGreaterThan(0); // an application message: resendable
  });

  it('a conditionally required field missing: BusinessMessageReject 380=5 naming the tag, 379 = ClOrdID', () => {
    const { app, send, hdr, out } = loggedOn();
    send(hdr('D', 2, `11=LIM1|55=AAPL|54=1|60=${TS}|38=100|40=2|`));
    const r = out()[0];
    expect([r[35], r[Tag.RefMsgType], r[380], r[379], r[Tag.Text]]).toEqual(['j', 'D', '5', 'LIM1', 'Conditionally required field missing: tag 44']);
    expect(app.appMessages).toHaveLength(0);
  });

  it('an invalid MsgType: Reject 373=11', () => {
    const { send, hdr, out } = loggedOn();
    send(hdr('ZZ', 2));
    const r = out()[0];
    expect([r[35], r[Tag.RefMsgType], r[Tag.SessionRejectReason], r[Tag.RefTagID]]).toEqual(['3', 'ZZ', '11', '35']);
  });

  it('invalid admin messages are rejected too (ResendRequest with a bad BeginSeqNo, a Heartbeat with a stray tag)', () => {
    const { s, send, hdr, out } = loggedOn();
    send(hdr('2', 2, '7=abc|16=0|'));
    send(hdr('0', 3, '11=X|'));
    const r = out();
    expect(r.map((m) => [m[35], m[Tag.RefSeqNum], m[Tag.SessionRejectReason], m[Tag.RefTagID]])).toEqual([
      ['3', '2', '6', '7'],
      ['3', '3', '2', '11'],
    ]);
    expect(s.nextTargetSeqNum).toBe(4);
  });

  it('an invalid SequenceReset-GapFill is rejected and does not move the expected number', () => {
    const { s, send, hdr, out } = loggedOn();
    send(hdr('4', 2, '123=Y|36=x|'));
    const r = out()[0];
    expect([r[35], r[Tag.SessionRejectReason], r[Tag.RefTagID]]).toEqual(['3', '6', '36']);
    expect(s.nextTargetSeqNum).toBe(3);
  });

  it('the initiator validates what venues send: a malformed ExecutionReport is rejected', () => {
    const clock = new FakeClock(T0);
    const app = new RecordingApp();
    const s = new FixSession({ role: SessionRole.INITIATOR, senderCompId: 'OMS', targetCompId: 'V1', clock, app });
    const t = new MemoryTransport();
    s.onConnected(t);
    s.onBytes(frame(`35=A|49=V1|56=OMS|34=1|52=${TS}|98=0|108=30|`));
    expect(s.state).toBe(SessionState.ACTIVE);
    t.take();
    s.onBytes(frame(`35=8|49=V1|56=OMS|34=2|52=${TS}|37=O1|17=E1|150=0|39=0|55=AAPL|54=1|151=100|6=0|`));
    const r = fields(t.take()[0]);
    expect([r[35], r[Tag.SessionRejectReason], r[Tag.RefTagID], r[Tag.RefMsgType]]).toEqual(['3', '1', '14', '8']);
    expect(app.appMessages).toHaveLength(0);
  });

  it('an invalid Logon is answered with Logout and the connection dropped', () => {
    const clock = new FakeClock(T0);
    const s = new FixSession({ role: SessionRole.ACCEPTOR, senderCompId: 'V1', targetCompId: 'OMS', clock, app: new RecordingApp() });
    const t = new MemoryTransport();
    s.onConnected(t);
    s.onBytes(frame(`35=A|49=OMS|56=V1|34=1|52=${TS}|98=0|`)); // HeartBtInt missing
    expect(s.state).toBe(SessionState.DISCONNECTED);
    const r = t.take().map(fields);
    expect(r.map((m) => [m[35], m[Tag.Text]])).toEqual([['5', 'Invalid Logon message']]);
  });

  it('a frame whose MsgType is not the third field is garbled: ignored, no number consumed', () => {
    const { s, app, send, out } = loggedOn();
    send(`49=OMS|35=D|56=V1|34=2|52=${TS}|${D_BODY}`);
    expect(s.garbledCount).toBe(1);
    expect(s.nextTargetSeqNum).toBe(2);
    expect(out()).toHaveLength(0);
    expect(app.appMessages).toHaveLength(0);
  });

  it('validation can be switched off: the application then sees what the dictionary would refuse', () => {
    const clock = new FakeClock(T0);
    const app = new RecordingApp();
    const s = new FixSession({ role: SessionRole.ACCEPTOR, senderCompId: 'V1', targetCompId: 'OMS', clock, app, validate: false });
    s.onConnected(new MemoryTransport());
    s.onBytes(frame(`35=A|49=OMS|56=V1|34=1|52=${TS}|98=0|108=30|`));
    s.onBytes(frame(`35=D|49=OMS|56=V1|34=2|52=${TS}|11=ONLY|`));
    expect(app.appMessages.map((m) => [m[35], m[Tag.ClOrdID]])).toEqual([['D', 'ONLY']]);
  });
});
