// Goal: a venue's feeds behave as documented: a logon gets a 35=W snapshot per symbol; a
// scheduled outage drops every session, refuses logons until it ends, and a logon that slips in
// is cut; the market-data and outage options parse and validate. Method: the venue's acceptor
// session and an initiator joined by an in-memory link; outage timers stepped with vitest's fake
// timers (no wall-clock waits).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryLink } from '../fix/memory-transport.ts';
import { SessionState } from '../fix/session-state.ts';
import { FixSession, SessionRole } from '../fix/session.ts';
import { FakeClock, RecordingApp } from '../fix/test-util.ts';
import { VenueFeeds } from './market-data.ts';
import { MarketMaker } from './market-maker.ts';
import { VenueApp } from './venue-app.ts';
import { parseVenueConfig } from './venue-config.ts';
import { VenueCore } from './venue-core.ts';

const PX = 1_000_000;

function setup(outageEveryMs = 0) {
  const clock = new FakeClock();
  const app = new VenueApp({ latencyMs: 0 }, clock);
  const core = new VenueCore({ name: 'V1', symbols: [{ symbol: 'AAPL', startPriceTicks: 100 * PX }, { symbol: 'MSFT', startPriceTicks: 200 * PX }], feeBps: 0, rejectProbability: 0, tickSizeTicks: 10_000, seed: 1 }, app);
  app.attach(core);
  new MarketMaker(core, { seed: 1 }).quoteAll();
  const oms = new RecordingApp();
  const initiator = new FixSession({ role: SessionRole.INITIATOR, senderCompId: 'OMS', targetCompId: 'V1', clock, app: oms, resetSeqNumOnLogon: true });
  const acceptor = new FixSession({ role: SessionRole.ACCEPTOR, senderCompId: 'V1', targetCompId: 'OMS', clock, app });
  const feeds = new VenueFeeds(core, [acceptor], { mdIntervalMs: 50, outageEveryMs, outageMs: 1000 });
  acceptor.stateListener = feeds.onStateChange;
  return { oms, initiator, acceptor, feeds, core };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('VenueFeeds', () => {
  it('a logon receives one 35=W snapshot per symbol with the book top', () => {
    const t = setup();
    const link = new MemoryLink(t.initiator, t.acceptor);
    link.connect();
    link.pump();
    const w = t.oms.appMessages.filter((m) => m[35] === 'W');
    expect(w.map((m) => m[55])).toEqual(['AAPL', 'MSFT']);
    // Repeated tags keep their first value here: the bid entry's 270/271.
    const aapl = t.core.books[0];
    expect(w[0][268]).toBe('2');
    expect(Math.round(Number(w[0][270]) * PX)).toBe(aapl.bestBid());
    expect(Number(w[0][271])).toBe(aapl.levelQty(1, 0));
  });

  it('an outage drops the session and refuses logons until it ends; a logon during it is cut', () => {
    vi.useFakeTimers();
    const t = setup(10_000);
    const link = new MemoryLink(t.initiator, t.acceptor);
    link.connect();
    link.pump();
    expect(t.acceptor.state).toBe(SessionState.ACTIVE);
    t.feeds.start();
    vi.advanceTimersByTime(10_000);
    expect(t.feeds.outage).toBe(true);
    link.pump();
    expect(t.acceptor.state).not.toBe(SessionState.ACTIVE);
    expect(t.feeds.authorize()).toBe(false);
    // A logon that reaches the session anyway is cut at once.
    t.feeds.onStateChange(t.acceptor, SessionState.LOGON_SENT, SessionState.ACTIVE);
    vi.advanceTimersByTime(1_000);
    expect(t.feeds.outage).toBe(false);
    expect(t.feeds.authorize()).toBe(true);
    expect(t.feeds.outages).toBe(1);
    t.feeds.stop();
  });

  it('options: market seed, market data interval, outages; an outage longer than its period is refused', () => {
    const c = parseVenueConfig(['--market-seed', '42', '--md-interval-ms', '20', '--outage-every-ms', '60000', '--outage-ms', '5000', '--mm-half-spread', '2'], {});
    expect([c.marketSeed, c.mdIntervalMs, c.outageEveryMs, c.outageMs, c.mmHalfSpread]).toEqual([42, 20, 60_000, 5_000, 2]);
    expect(parseVenueConfig([], {})).toMatchObject({ marketSeed: 0, mdIntervalMs: 50, outageEveryMs: 0 });
    expect(() => parseVenueConfig(['--outage-every-ms', '1000', '--outage-ms', '1000'], {})).toThrow(/outage-ms/);
  });

  it('venues with the same market seed walk the same mid; their depth differs by their own seed', () => {
    const make = (seed: number) => {
      const core = new VenueCore({ name: 'V', symbols: [{ symbol: 'AAPL', startPriceTicks: 100 * PX }], feeBps: 0, rejectProbability: 0, tickSizeTicks: 10_000, seed }, { onExecution: () => {}, onCancelReject: () => {} });
      const mm = new MarketMaker(core, { seed, marketSeed: 7, maxStepTicks: 3 });
      mm.quoteAll();
      return { core, mm };
    };
    const a = make(1);
    const b = make(2);
    const mids: number[][] = [[], []];
    for (let i = 0; i < 50; i++) {
      a.mm.step();
      b.mm.step();
      mids[0].push(a.mm.refTicks[0]);
      mids[1].push(b.mm.refTicks[0]);
    }
    expect(mids[0]).toEqual(mids[1]);
    expect(new Set(mids[0]).size).toBeGreaterThan(3);
    expect(a.core.books[0].levelQty(1, 0) === b.core.books[0].levelQty(1, 0) && a.core.books[0].levelQty(2, 0) === b.core.books[0].levelQty(2, 0) && a.core.books[0].levelQty(1, 1) === b.core.books[0].levelQty(1, 1)).toBe(false);
  });
});
