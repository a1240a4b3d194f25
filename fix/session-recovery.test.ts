// Goal: message recovery and the time rules of the FIX 4.4 session (vol. 2): ResendRequest
// answered from the store (PossDup resends, gap fills for admin messages and for what the store
// no longer holds, EndSeqNo 0), in bounded chunks with the transport's queue bounded, PossDup /
// OrigSendingTime and SendingTime accuracy, the timeout of our own ResendRequest, and a restart
// resuming from the store. Method: one session under test fed hand-built frames through an
// in-memory transport; the clock and onTimer are stepped by hand, so nothing depends on time.
import { describe, expect, it } from 'vitest';
import { MemoryTransport } from './memory-transport.ts';
import { MsgType } from './msg-type.ts';
import { SessionState } from './session-state.ts';
import { FixSession, SessionRole, type FixSessionOptions } from './session.ts';
import { MemoryMessageStore } from './store.ts';
import { Tag } from './tags.ts';
import { FakeClock, RecordingApp, fields, frame, newReportBody, utcTimestamp } from './test-util.ts';

const T0 = Date.UTC(2026, 0, 5, 9, 0, 0, 0);
const TS = utcTimestamp(T0);

type Extra = Partial<FixSessionOptions>;

/** An acceptor "V1" logged on by the test playing "OMS" (its Logon is seq 1). */
function loggedOn(extra: Extra = {}) {
  const clock = new FakeClock(T0);
  const app = new RecordingApp();
  const s = new FixSession({ role: SessionRole.ACCEPTOR, senderCompId: 'V1', targetCompId: 'OMS', clock, app, ...extra });
  const t = new MemoryTransport();
  s.onConnected(t);
  const send = (body: string) => s.onBytes(frame(body));
  const hdr = (type: string, seq: number, extra2 = '', sendingTime = utcTimestamp(clock.t)) => `35=${type}|49=OMS|56=V1|34=${seq}|52=${sendingTime}|${extra2}`;
  send(hdr('A', 1, '98=0|108=30|'));
  const out = () => t.take().map(fields);
  expect(out()[0][35]).toBe('A');
  return { clock, app, s, t, send, hdr, out };
}

function report(s: FixSession, clOrdId: string): void {
  newReportBody(s.beginApp(MsgType.EXECUTION_REPORT), clOrdId);
  s.sendApp();
}

describe('ResendRequest answered from the store', () => {
  it('resends application messages with PossDupFlag and OrigSendingTime, gap-fills admin ones', () => {
    const { s, send, hdr, out, clock } = loggedOn();
    report(s, 'R2'); // seq 2
    clock.t += 30_000;
    s.onTimer(clock.t); // Heartbeat, seq 3
    clock.t += 1_000;
    send(hdr('1', 2, '112=PING|')); // Heartbeat answer, seq 4
    report(s, 'R5'); // seq 5
    const sent = out();
    expect(sent.map((m) => [m[35], m[Tag.MsgSeqNum]])).toEqual([
      ['8', '2'],
      ['0', '3'],
      ['0', '4'],
      ['8', '5'],
    ]);
    clock.t += 1_000;
    send(hdr('2', 3, '7=2|16=5|'));
    const answer = out();
    expect(answer.map((m) => [m[35], m[Tag.MsgSeqNum], m[Tag.PossDupFlag], m[Tag.NewSeqNo], m[Tag.GapFillFlag]])).toEqual([
      ['8', '2', 'Y', undefined, undefined],
      ['4', '3', 'Y', '5', 'Y'],
      ['8', '5', 'Y', undefined, undefined],
    ]);
    expect(answer[0][Tag.OrigSendingTime]).toBe(sent[0][Tag.SendingTime]);
    expect(answer[0][Tag.SendingTime]).toBe(utcTimestamp(clock.t));
    expect(answer[2][Tag.ClOrdID]).toBe('R5');
    expect(answer[2][Tag.OrigSendingTime]).toBe(sent[3][Tag.SendingTime]);
    expect(s.nextSenderSeqNum).toBe(6); // resends and gap fills consume no new number
  });

  it('EndSeqNo 0 means everything sent so far', () => {
    const { s, send, hdr, out } = loggedOn();
    for (let i = 0; i < 4; i++) report(s, `R${i}`);
    out();
    send(hdr('2', 2, '7=3|16=0|'));
    expect(out().map((m) => m[Tag.MsgSeqNum])).toEqual(['3', '4', '5']);
  });

  it('messages the store no longer holds are gap-filled, the rest resent', () => {
    const { s, send, hdr, out } = loggedOn({ store: new MemoryMessageStore({ maxMessages: 10 }) });
    for (let i = 0; i < 30; i++) report(s, `R${i}`); // seqs 2..31; the store keeps 22..31
    out();
    send(hdr('2', 2, '7=2|16=0|'));
    const answer = out();
    expect(answer[0][35]).toBe('4');
    expect([answer[0][Tag.MsgSeqNum], answer[0][Tag.NewSeqNo]]).toEqual(['2', '22']);
    expect(answer.slice(1).map((m) => m[Tag.MsgSeqNum])).toEqual(Array.from({ length: 10 }, (_, i) => String(22 + i)));
  });

  it('a resend of 5000 messages goes out in chunks per timer tick, complete and in order, the queue bounded', () => {
    const chunk = 200;
    const limit = 16 * 1024;
    const store = new MemoryMessageStore({ maxMessages: 8192, maxBytes: 4 * 1024 * 1024 });
    const { s, t, send, hdr, out, clock } = loggedOn({ resendChunkMessages: chunk, resendMaxBufferedBytes: limit, store });
    for (let i = 1; i <= 5000; i++) report(s, `C${i}`);
    out(); // "lost" on the way
    t.maxBufferedSeen = 0;
    send(hdr('2', 2, '7=2|16=0|'));
    const seen: string[] = [];
    let ticks = 0;
    let largestTick = 0;
    for (;;) {
      const batch = out(); // the network takes what the session wrote
      largestTick = Math.max(largestTick, batch.length);
      for (const m of batch) seen.push(m[Tag.ClOrdID]);
      if (seen.length === 5000 || ticks > 1000) break;
      clock.t += 10;
      s.onTimer(clock.t);
      ticks++;
    }
    expect(seen).toEqual(Array.from({ length: 5000 }, (_, i) => `C${i + 1}`));
    expect(largestTick).toBeLessThanOrEqual(chunk);
    expect(ticks).toBeGreaterThanOrEqual(5000 / chunk - 1);
    // Never more than the limit plus one message waited in the transport.
    expect(t.maxBufferedSeen).toBeLessThanOrEqual(limit + 200);
    expect(s.resentCount).toBe(5000);
  });

  it('a resend pauses while the link does not drain, and resumes when it does', () => {
    const limit = 8 * 1024;
    const { s, t, send, hdr, out, clock } = loggedOn({ resendChunkMessages: 1000, resendMaxBufferedBytes: limit });
    for (let i = 1; i <= 2000; i++) report(s, `C${i}`);
    out();
    send(hdr('2', 2, '7=2|16=0|'));
    for (let i = 0; i < 50; i++) s.onTimer((clock.t += 10)); // nothing is taken off the link
    const stuck = t.bufferedBytes();
    expect(stuck).toBeLessThanOrEqual(limit + 200);
    expect(s.resentCount).toBeLessThan(200);
    let total = out().length;
    for (let i = 0; i < 100 && total < 2000; i++) {
      s.onTimer((clock.t += 10));
      total += out().length;
    }
    expect(total).toBe(2000);
    expect(s.state).toBe(SessionState.ACTIVE);
  });

  it('a second ResendRequest replaces the one being answered', () => {
    const { s, send, hdr, out, clock } = loggedOn({ resendChunkMessages: 5 });
    for (let i = 1; i <= 50; i++) report(s, `C${i}`);
    out();
    send(hdr('2', 2, '7=2|16=0|'));
    expect(out().map((m) => m[Tag.MsgSeqNum])).toEqual(['2', '3', '4', '5', '6']);
    send(hdr('2', 3, '7=40|16=42|'));
    expect(out().map((m) => m[Tag.MsgSeqNum])).toEqual(['40', '41', '42']);
    s.onTimer((clock.t += 10));
    expect(out()).toHaveLength(0);
  });
});

describe('PossDupFlag and OrigSendingTime', () => {
  it('PossDupFlag=Y without OrigSendingTime: Reject 373=1 371=122, number consumed', () => {
    const { s, app, send, hdr, out } = loggedOn();
    send(hdr('0', 2, '', TS).replace('52=', '43=Y|52='));
    const r = out()[0];
    expect([r[35], r[Tag.SessionRejectReason], r[Tag.RefTagID], r[Tag.RefSeqNum]]).toEqual(['3', '1', '122', '2']);
    expect(s.nextTargetSeqNum).toBe(3);
    expect(app.appMessages).toHaveLength(0);
  });

  it('OrigSendingTime later than SendingTime: Reject 373=10, Logout, disconnect', () => {
    const { s, send, hdr, out } = loggedOn();
    const later = utcTimestamp(T0 + 5_000);
    // OrigSendingTime is a header field: it stands right after SendingTime.
    send(`35=0|49=OMS|56=V1|34=2|43=Y|52=${TS}|122=${later}|`);
    const r = out();
    expect(r.map((m) => m[35])).toEqual(['3', '5']);
    expect([r[0][Tag.SessionRejectReason], r[0][Tag.RefTagID], r[0][Tag.RefSeqNum]]).toEqual(['10', '122', '2']);
    expect(r[1][Tag.Text]).toBe('OrigSendingTime later than SendingTime');
    expect(s.nextTargetSeqNum).toBe(3);
    expect(s.state).toBe(SessionState.DISCONNECTED);
  });

  it('a possible duplicate in sequence, with a valid OrigSendingTime, is processed', () => {
    const { app, send, out } = loggedOn();
    send(`35=D|49=OMS|56=V1|34=2|43=Y|52=${TS}|122=${TS}|11=C1|55=AAPL|54=1|60=${TS}|38=100|40=1|`);
    expect(app.appMessages.map((m) => [m[Tag.ClOrdID], m[Tag.PossDupFlag]])).toEqual([['C1', 'Y']]);
    expect(out()).toHaveLength(0);
  });
});

describe('SendingTime accuracy', () => {
  it('SendingTime off by more than the tolerance: Reject 373=10 371=52, Logout, disconnect', () => {
    const { s, send, hdr, out, clock } = loggedOn();
    clock.t += 121_000;
    send(hdr('0', 2, '', TS));
    const r = out();
    expect(r.map((m) => m[35])).toEqual(['3', '5']);
    expect([r[0][Tag.SessionRejectReason], r[0][Tag.RefTagID], r[0][Tag.RefSeqNum]]).toEqual(['10', '52', '2']);
    expect(r[1][Tag.Text]).toBe('SendingTime accuracy problem');
    expect(s.state).toBe(SessionState.DISCONNECTED);
    expect(s.nextTargetSeqNum).toBe(3);
  });

  it('within the tolerance (either direction) passes; the tolerance is configurable and can be off', () => {
    const a = loggedOn();
    a.clock.t += 119_000;
    a.send(a.hdr('0', 2, '', TS));
    a.send(a.hdr('0', 3, '', utcTimestamp(a.clock.t + 119_000)));
    expect(a.out()).toHaveLength(0);
    const b = loggedOn({ sendingTimeToleranceMs: 5_000 });
    b.clock.t += 6_000;
    b.send(b.hdr('0', 2, '', TS));
    expect(b.s.state).toBe(SessionState.DISCONNECTED);
    const c = loggedOn({ sendingTimeToleranceMs: 0 });
    c.clock.t += 86_400_000;
    c.send(c.hdr('0', 2, '', TS));
    expect(c.s.state).toBe(SessionState.ACTIVE);
  });

  it('a Logon with an inaccurate SendingTime is refused with a Logout', () => {
    const clock = new FakeClock(T0 + 600_000);
    const s = new FixSession({ role: SessionRole.ACCEPTOR, senderCompId: 'V1', targetCompId: 'OMS', clock, app: new RecordingApp() });
    const t = new MemoryTransport();
    s.onConnected(t);
    s.onBytes(frame(`35=A|49=OMS|56=V1|34=1|52=${TS}|98=0|108=30|`));
    expect(t.take().map(fields).map((m) => [m[35], m[Tag.Text]])).toEqual([['5', 'SendingTime accuracy problem']]);
    expect(s.state).toBe(SessionState.DISCONNECTED);
  });

  it('messages queued behind a gap are checked when they arrive, not again when replayed', () => {
    const { s, app, send, hdr, clock } = loggedOn();
    send(hdr('D', 3, `11=LATE|55=AAPL|54=1|60=${TS}|38=100|40=1|`)); // 2 is missing
    clock.t += 600_000; // the gap fill comes ten minutes later
    send(hdr('4', 2, '123=Y|36=3|').replace('52=', '43=Y|52='));
    expect(s.state).toBe(SessionState.ACTIVE);
    expect(app.appMessages.map((m) => m[Tag.ClOrdID])).toEqual(['LATE']);
  });
});

describe('our own ResendRequest', () => {
  it('is sent again after the timeout without progress, and the session logs out after the retries', () => {
    const { s, send, hdr, out, clock } = loggedOn({ resendRequestTimeoutMs: 5_000, resendRequestMaxRetries: 2 });
    send(hdr('0', 5)); // 2..4 missing
    expect(out().map((m) => [m[35], m[Tag.BeginSeqNo], m[Tag.EndSeqNo]])).toEqual([['2', '2', '4']]);
    s.onTimer((clock.t += 4_999));
    expect(out()).toHaveLength(0);
    s.onTimer((clock.t += 1));
    expect(out().map((m) => [m[35], m[Tag.BeginSeqNo], m[Tag.EndSeqNo]])).toEqual([['2', '2', '4']]);
    // Progress (message 2 arrives) restarts the wait.
    send(hdr('0', 2));
    s.onTimer((clock.t += 1_000));
    s.onTimer((clock.t += 4_999));
    expect(out()).toHaveLength(0);
    s.onTimer((clock.t += 1));
    expect(out().map((m) => [m[35], m[Tag.BeginSeqNo]])).toEqual([['2', '3']]);
    s.onTimer((clock.t += 5_000));
    const last = out();
    expect(last.map((m) => m[35])).toEqual(['5']);
    expect(last[0][Tag.Text]).toBe('ResendRequest not answered');
    expect(s.state).toBe(SessionState.DISCONNECTED);
  });
});

describe('restart from the store', () => {
  it('a session built on a store resumes both sequence numbers and can resend what the last one sent', () => {
    const store = new MemoryMessageStore();
    const first = loggedOn({ store });
    report(first.s, 'BEFORE'); // seq 2
    first.send(first.hdr('0', 2));
    first.s.disconnect('process stops');
    expect([store.nextSenderSeqNum, store.nextTargetSeqNum]).toEqual([3, 3]);
    const clock = new FakeClock(T0);
    const s = new FixSession({ role: SessionRole.ACCEPTOR, senderCompId: 'V1', targetCompId: 'OMS', clock, app: new RecordingApp(), store });
    expect([s.nextSenderSeqNum, s.nextTargetSeqNum]).toEqual([3, 3]);
    const t = new MemoryTransport();
    s.onConnected(t);
    s.onBytes(frame(`35=A|49=OMS|56=V1|34=3|52=${TS}|98=0|108=30|`));
    s.onBytes(frame(`35=2|49=OMS|56=V1|34=4|52=${TS}|7=2|16=0|`));
    const outMsgs = t.take().map(fields);
    expect(outMsgs.map((m) => [m[35], m[Tag.MsgSeqNum]])).toEqual([
      ['A', '3'],
      ['8', '2'],
      ['4', '3'],
    ]);
    expect(outMsgs[1][Tag.ClOrdID]).toBe('BEFORE');
  });

  it('ResetSeqNumFlag overrides what the store holds', () => {
    const store = new MemoryMessageStore();
    store.setNextSenderSeqNum(50);
    store.setNextTargetSeqNum(60);
    const clock = new FakeClock(T0);
    const s = new FixSession({ role: SessionRole.INITIATOR, senderCompId: 'OMS', targetCompId: 'V1', clock, app: new RecordingApp(), store, resetSeqNumOnLogon: true });
    const t = new MemoryTransport();
    s.onConnected(t);
    const logon = fields(t.take()[0]);
    expect([logon[Tag.MsgSeqNum], logon[Tag.ResetSeqNumFlag]]).toEqual(['1', 'Y']);
    s.onBytes(frame(`35=A|49=V1|56=OMS|34=1|52=${TS}|98=0|108=30|141=Y|`));
    expect(s.state).toBe(SessionState.ACTIVE);
    expect([store.nextSenderSeqNum, store.nextTargetSeqNum]).toEqual([2, 2]);
  });
});
