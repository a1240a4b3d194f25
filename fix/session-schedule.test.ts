// Goal: the daily session schedule finds the right period in UTC, fixed offsets and IANA zones
// (daylight saving included), across midnight and on chosen weekdays; a session with a schedule
// refuses logons outside it (acceptor), does not connect (initiator), is logged out at its end,
// and starts both sequence numbers at 1 in a new period but not within the same one. Method: pure
// functions of instants, and sessions over an in-memory link driven by a hand-stepped clock
// (no waiting on wall time).
import { describe, expect, it } from 'vitest';
import { MemoryLink } from './memory-transport.ts';
import { SessionSchedule, validateSchedule } from './session-schedule.ts';
import { SessionState } from './session-state.ts';
import { FixSession, SessionRole } from './session.ts';
import { MemoryMessageStore } from './store.ts';
import { FakeClock, RecordingApp } from './test-util.ts';

const H = 3_600_000;
const utc = (y: number, mo: number, d: number, h: number, mi = 0) => Date.UTC(y, mo - 1, d, h, mi);

describe('SessionSchedule periods', () => {
  it('a same-day window in UTC: inside gives the start, outside -1', () => {
    const s = new SessionSchedule({ start: '08:00', end: '17:30' });
    expect(s.periodAt(utc(2026, 1, 5, 8))).toBe(utc(2026, 1, 5, 8));
    expect(s.periodAt(utc(2026, 1, 5, 17, 29))).toBe(utc(2026, 1, 5, 8));
    expect(s.periodAt(utc(2026, 1, 5, 17, 30))).toBe(-1);
    expect(s.periodAt(utc(2026, 1, 6, 7, 59))).toBe(-1);
    expect(s.periodAt(utc(2026, 1, 6, 9))).toBe(utc(2026, 1, 6, 8));
  });

  it('a window across midnight belongs to its start day, and days filter start days', () => {
    // Sunday 22:00 to Friday 21:00 style: starts Sun..Thu 22:00, ends next day 21:00.
    const s = new SessionSchedule({ start: '22:00', end: '21:00', days: ['SUN', 'MON', 'TUE', 'WED', 'THU'] });
    // 2026-01-04 is a Sunday.
    expect(s.periodAt(utc(2026, 1, 4, 23))).toBe(utc(2026, 1, 4, 22));
    expect(s.periodAt(utc(2026, 1, 5, 20, 59))).toBe(utc(2026, 1, 4, 22));
    expect(s.periodAt(utc(2026, 1, 5, 21, 30))).toBe(-1);
    expect(s.periodAt(utc(2026, 1, 9, 12))).toBe(utc(2026, 1, 8, 22)); // Friday: Thursday's period
    expect(s.periodAt(utc(2026, 1, 9, 22, 30))).toBe(-1); // Friday night: no period starts
    expect(s.periodAt(utc(2026, 1, 10, 12))).toBe(-1); // Saturday
  });

  it('end equal to start is a 24-hour period', () => {
    const s = new SessionSchedule({ start: '17:00', end: '17:00' });
    expect(s.periodAt(utc(2026, 1, 5, 16, 59))).toBe(utc(2026, 1, 4, 17));
    expect(s.periodAt(utc(2026, 1, 5, 17))).toBe(utc(2026, 1, 5, 17));
  });

  it('fixed offsets and IANA zones, with daylight saving time', () => {
    expect(new SessionSchedule({ start: '09:00', end: '17:00', timeZone: '+05:30' }).periodAt(utc(2026, 1, 5, 4))).toBe(utc(2026, 1, 5, 3, 30));
    const ny = new SessionSchedule({ start: '09:30', end: '16:00', timeZone: 'America/New_York' });
    expect(ny.periodAt(utc(2026, 1, 5, 15))).toBe(utc(2026, 1, 5, 14, 30)); // EST, UTC-5
    expect(ny.periodAt(utc(2026, 7, 6, 15))).toBe(utc(2026, 7, 6, 13, 30)); // EDT, UTC-4
    expect(ny.periodAt(utc(2026, 7, 6, 20, 30))).toBe(-1);
  });

  it('validation names the bad field', () => {
    expect(() => validateSchedule({ start: '8:00', end: '17:00' })).toThrow(/start/);
    expect(() => validateSchedule({ start: '08:00', end: '24:00' })).toThrow(/end/);
    expect(() => validateSchedule({ start: '08:00', end: '17:00', timeZone: 'Mars/Olympus' })).toThrow(/timeZone/);
    expect(() => validateSchedule({ start: '08:00', end: '17:00', days: ['MON', 'MON'] })).toThrow(/days/);
    expect(() => validateSchedule({ start: '08:00', end: '17:00', days: ['FUNDAY'] })).toThrow(/days/);
    expect(() => validateSchedule({ start: '08:00', end: '17:00', extra: 1 })).toThrow(/extra/);
    expect(validateSchedule({ start: '08:00:30', end: '17:00', timeZone: 'Europe/London', days: ['MON'] })).toEqual({ start: '08:00:30', end: '17:00', timeZone: 'Europe/London', days: ['MON'] });
  });
});

function pair(clock: FakeClock, schedule: SessionSchedule, stores = { ini: new MemoryMessageStore(), acc: new MemoryMessageStore() }) {
  const ini = new FixSession({ role: SessionRole.INITIATOR, senderCompId: 'OMS', targetCompId: 'V1', clock, app: new RecordingApp(), schedule, store: stores.ini });
  const acc = new FixSession({ role: SessionRole.ACCEPTOR, senderCompId: 'V1', targetCompId: 'OMS', clock, app: new RecordingApp(), schedule, store: stores.acc });
  return { ini, acc, stores };
}

describe('sessions on a schedule', () => {
  const schedule = () => new SessionSchedule({ start: '08:00', end: '17:00' });

  it('the acceptor drops a Logon outside the schedule; the initiator does not connect', () => {
    const clock = new FakeClock(utc(2026, 1, 5, 18));
    const { ini, acc } = pair(clock, schedule());
    // The initiator refuses to start a connection at all.
    const link = new MemoryLink(ini, acc);
    expect(ini.inSchedule(clock.now())).toBe(false);
    link.connect();
    link.pump();
    expect(ini.state).toBe(SessionState.DISCONNECTED);
    expect(ini.scheduleRefusedCount).toBe(1);
    // A Logon reaching the acceptor anyway (an initiator without the schedule) is refused.
    const other = new FixSession({ role: SessionRole.INITIATOR, senderCompId: 'OMS', targetCompId: 'V1', clock, app: new RecordingApp() });
    const link2 = new MemoryLink(other, acc);
    link2.connect();
    link2.pump();
    expect(acc.state).toBe(SessionState.DISCONNECTED);
    expect(acc.scheduleRefusedCount).toBe(1);
    expect(acc.nextSenderSeqNum).toBe(1); // nothing was sent
  });

  it('logs out at the end, keeps sequence numbers within the period, resets them in the next one', () => {
    const clock = new FakeClock(utc(2026, 1, 5, 9));
    const { ini, acc } = pair(clock, schedule());
    let link = new MemoryLink(ini, acc);
    link.connect();
    link.pump();
    expect(ini.isLoggedOn && acc.isLoggedOn).toBe(true);
    // A reconnect inside the period resumes the sequence numbers.
    ini.disconnect('test');
    link.pump();
    link = new MemoryLink(ini, acc);
    link.connect();
    link.pump();
    expect(ini.isLoggedOn).toBe(true);
    expect(ini.nextSenderSeqNum).toBe(3);
    // 17:00: the timer logs the session out.
    clock.t = utc(2026, 1, 5, 17);
    ini.onTimer(clock.now());
    acc.onTimer(clock.now());
    link.pump();
    expect(ini.state).toBe(SessionState.DISCONNECTED);
    expect(acc.state).toBe(SessionState.DISCONNECTED);
    // Next morning: a new period, both sides start at 1 again.
    clock.t = utc(2026, 1, 6, 8, 0) + 5;
    acc.onTimer(clock.now());
    link = new MemoryLink(ini, acc);
    link.connect();
    link.pump();
    expect(ini.isLoggedOn && acc.isLoggedOn).toBe(true);
    expect([ini.nextSenderSeqNum, ini.nextTargetSeqNum, acc.nextSenderSeqNum, acc.nextTargetSeqNum]).toEqual([2, 2, 2, 2]);
    expect(ini.scheduleResetCount).toBe(1);
    expect(acc.scheduleResetCount).toBe(1);
  });

  it('a store that survived a restart knows its period: same period resumes, a later one resets', () => {
    const clock = new FakeClock(utc(2026, 1, 5, 9));
    const first = pair(clock, schedule());
    const link = new MemoryLink(first.ini, first.acc);
    link.connect();
    link.pump();
    first.ini.disconnect('restart');
    link.pump();
    expect(first.stores.ini.periodStartMs).toBe(utc(2026, 1, 5, 8));
    // Same period: a new session object on the same store resumes at 2.
    clock.t = utc(2026, 1, 5, 12);
    const again = pair(clock, schedule(), first.stores);
    expect(again.ini.inSchedule(clock.now())).toBe(true);
    expect(again.ini.nextSenderSeqNum).toBe(2);
    // Two days later: reset.
    clock.t = utc(2026, 1, 7, 9) + 2 * H;
    const later = pair(clock, schedule(), first.stores);
    expect(later.ini.inSchedule(clock.now())).toBe(true);
    expect(later.ini.nextSenderSeqNum).toBe(1);
    expect(first.stores.ini.periodStartMs).toBe(utc(2026, 1, 7, 8));
  });
});
