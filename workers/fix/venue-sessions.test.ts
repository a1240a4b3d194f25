// Goal: the venue session settings are validated with a message naming the key, venue sessions
// open file stores where the README says (so a restart resumes their sequence numbers), and the
// reconnect back-off is capped exponential with a seeded, reproducible jitter. Method: config
// objects through validateConfig, stores opened in a temporary journal directory, the
// initiator's delay function read for successive attempts (nothing connects).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FixSession, SessionRole } from '../../fix/session.ts';
import { FixInitiator } from '../../fix/tcp.ts';
import { validateConfig } from '../config.ts';
import { openVenueSessions, seededRandom, venueSessionConfigs, venueStoreDir } from './venue-sessions.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const venue = (extra: Record<string, unknown>) => ({
  id: 1, name: 'V1', host: '127.0.0.1', port: 9101, senderCompId: 'OMS', targetCompId: 'V1', heartBtIntS: 30, feeBps: '0.30', latencyUs: 300, fillProbability: 0.9, ...extra,
});

describe('venue session settings', () => {
  it('defaults, and refusals that name the setting', () => {
    const c = validateConfig({ venues: [venue({})] });
    expect(c.venues[0]).toMatchObject({ reconnectMinMs: 100, reconnectMaxMs: 5000, reconnectJitter: 0.2, reconnectSeed: 1, resetOnLogon: false, cancelAckTimeoutMs: 5000 });
    expect(c.venues[0].schedule).toBeUndefined();
    expect(validateConfig({ venues: [venue({ resetOnLogon: true })] }).venues[0].resetOnLogon).toBe(true);
    expect(() => validateConfig({ venues: [venue({ resetOnLogon: 'yes' })] })).toThrow(/venues\[0\]\.resetOnLogon/);
    // Through to the stage's session settings (FixStage passes it on as the session's resetSeqNumOnLogon: fix-stage.test.ts).
    const two = validateConfig({ venues: [venue({ resetOnLogon: true }), venue({ id: 2, name: 'V2', targetCompId: 'V2' })] });
    expect(venueSessionConfigs(two).map((v) => v.resetOnLogon)).toEqual([true, false]);
    // A misspelt setting is refused, not silently left at its default.
    expect(() => validateConfig({ venues: [venue({ reconectMinMs: 100 })] })).toThrow(/venues\[0\]\.reconectMinMs: is not a known setting/);
    expect(() => validateConfig({ venues: [venue({ reconnectJitter: 1.5 })] })).toThrow(/venues\[0\]\.reconnectJitter/);
    for (const bad of [-1, 2.5, '5000', 3_600_001]) expect(() => validateConfig({ venues: [venue({ cancelAckTimeoutMs: bad })] })).toThrow(/venues\[0\]\.cancelAckTimeoutMs/);
    const timeouts = validateConfig({ venues: [venue({ cancelAckTimeoutMs: 0 }), venue({ id: 2, name: 'V2', targetCompId: 'V2', cancelAckTimeoutMs: 250 })] });
    expect(venueSessionConfigs(timeouts).map((v) => v.cancelAckTimeoutMs)).toEqual([0, 250]);
    expect(() => validateConfig({ venues: [venue({ reconnectMinMs: 500, reconnectMaxMs: 100 })] })).toThrow(/venues\[0\]\.reconnectMaxMs/);
    expect(() => validateConfig({ venues: [venue({ schedule: { start: '25:00', end: '17:00' } })] })).toThrow(/venues\[0\]\.schedule: start/);
    expect(() => validateConfig({ fixAcceptor: { sessions: [{ senderCompId: 'C', targetCompId: 'OMS', accountId: 1, schedule: { start: '08:00', end: '17:00', timeZone: 'Nowhere/Land' } }] } }))
      .toThrow(/fixAcceptor\.sessions\[0\]\.schedule: timeZone/);
    const s = validateConfig({ venues: [venue({ schedule: { start: '08:00', end: '17:00', timeZone: '-04:00', days: ['MON'] } })] });
    expect(s.venues[0].schedule).toEqual({ start: '08:00', end: '17:00', timeZone: '-04:00', days: ['MON'] });
  });

  it('opens a file store per venue under <journal.dir>/fix, which a second opening resumes', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'venue-sessions-'));
    dirs.push(dir);
    const config = validateConfig({ journal: { dir, fsync: 'none', fsyncIntervalMs: 10 }, venues: [venue({}), venue({ id: 2, name: 'V2', targetCompId: 'V2', storeDir: path.join(dir, 'own') })] });
    expect(venueStoreDir(config, config.venues[0])).toBe(path.join(dir, 'fix', 'OMS-V1'));
    const first = openVenueSessions(config);
    first.stores[0].setNextSenderSeqNum(42);
    first.stores[1].setNextTargetSeqNum(7);
    for (const s of first.stores) s.close();
    expect(fs.existsSync(path.join(dir, 'fix', 'OMS-V1', 'seqnums'))).toBe(true);
    expect(fs.existsSync(path.join(dir, 'own', 'seqnums'))).toBe(true);
    const again = openVenueSessions(config);
    expect(again.stores[0].nextSenderSeqNum).toBe(42);
    expect(again.stores[1].nextTargetSeqNum).toBe(7);
    for (const s of again.stores) s.close();
  });

  it('back-off doubles to its cap; jitter comes from the seed and only shortens', () => {
    const session = () => new FixSession({ role: SessionRole.INITIATOR, senderCompId: 'OMS', targetCompId: 'V1', clock: { now: () => 0 }, app: { onAppMessage() {}, onSessionReject() {}, onStateChange() {} } });
    const plain = new FixInitiator({ port: 1, session: session(), reconnectMinMs: 100, reconnectMaxMs: 1000 });
    const delays = (i: FixInitiator) => [1, 2, 3, 4, 5, 6].map((n) => {
      i.attempts = n;
      return i.reconnectDelayMs();
    });
    expect(delays(plain)).toEqual([100, 200, 400, 800, 1000, 1000]);
    const a = delays(new FixInitiator({ port: 1, session: session(), reconnectMinMs: 100, reconnectMaxMs: 1000, reconnectJitter: 0.5, random: seededRandom(7) }));
    const b = delays(new FixInitiator({ port: 1, session: session(), reconnectMinMs: 100, reconnectMaxMs: 1000, reconnectJitter: 0.5, random: seededRandom(7) }));
    expect(a).toEqual(b);
    a.forEach((d, k) => {
      const full = [100, 200, 400, 800, 1000, 1000][k];
      expect(d).toBeLessThanOrEqual(full);
      expect(d).toBeGreaterThanOrEqual(full / 2);
    });
    expect(a).not.toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(() => new FixInitiator({ port: 1, session: session(), reconnectJitter: 2 })).toThrow(/reconnectJitter/);
  });
});
