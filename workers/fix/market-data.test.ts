// Goal: a venue's top of book travels as 35=W (sim/market-data.ts) through the FIX 4.4
// dictionary and session, and the engine's decoder (market-data.ts) turns each snapshot into one
// QUOTE on the ring to sor AND the ring to risk, equal to the venue's book; on logon every symbol
// is sent, then only changed symbols per flush (conflation); unknown symbols are counted, quotes are
// dropped (never blocking) when a ring is half full, and child-event copies to the SOR are never
// dropped (overflow, in order). Method: a venue core with its market maker behind an acceptor
// session, the engine's initiator session, an in-memory link, real rings.
import { describe, expect, it } from 'vitest';
import { CHILD_EVENT_LENGTH, ChildEventFlyweight, QuoteFlyweight, RecordType, VENUE_STATUS_LENGTH, VenueStatusFlyweight } from '../../codecs/records.ts';
import { FixCounter, StageCounters } from '../../engine/counters.ts';
import { FULL, RingConsumer, RingProducer, createRingMemory } from '../../engine/ring.ts';
import { ascii } from '../../fix/encoder.ts';
import { MemoryLink } from '../../fix/memory-transport.ts';
import type { FixParser } from '../../fix/parser.ts';
import { FixSession, SessionRole, type FixApplication } from '../../fix/session.ts';
import { Tag } from '../../fix/tags.ts';
import { FakeClock } from '../../fix/test-util.ts';
import { MarketDataPublisher } from '../../sim/market-data.ts';
import { MarketMaker } from '../../sim/market-maker.ts';
import { VenueApp } from '../../sim/venue-app.ts';
import { VenueCore } from '../../sim/venue-core.ts';
import { SorFeed } from './market-data.ts';

const PX = 1_000_000;
const SYMBOLS = ['AAPL', 'MSFT', 'TSLA'];

interface Q { venue: number; symbol: number; bid: number; bidQty: number; ask: number; askQty: number }

function drain(c: RingConsumer): Q[] {
  const out: Q[] = [];
  const q = new QuoteFlyweight();
  c.poll({ onRecord: (type, offset) => {
    if (type !== RecordType.QUOTE) return;
    q.wrap(c.view, c.bytes, offset);
    out.push({ venue: q.venueId(), symbol: q.symbolId(), bid: q.bidTicks(), bidQty: q.bidQty(), ask: q.askTicks(), askQty: q.askQty() });
  } }, 1 << 20);
  return out;
}

function setup(ringBytes = 1 << 16) {
  const clock = new FakeClock();
  const venueApp = new VenueApp({ latencyMs: 0 }, clock);
  const core = new VenueCore({ name: 'V2', symbols: SYMBOLS.map((s, i) => ({ symbol: s, startPriceTicks: (100 + i) * PX })), feeBps: 0, rejectProbability: 0, tickSizeTicks: 10_000, seed: 3 }, venueApp);
  venueApp.attach(core);
  const mm = new MarketMaker(core, { seed: 3, marketSeed: 99 });
  mm.quoteAll();
  const counters = StageCounters.create();
  const toSorMem = createRingMemory(ringBytes);
  const toRiskMem = createRingMemory(ringBytes);
  const toSor = new RingProducer(toSorMem, null);
  const toRisk = new RingProducer(toRiskMem, null);
  const feed = new SorFeed(toSor, toRisk, SYMBOLS.map((s) => ascii(s)), counters);
  const engineApp: FixApplication = {
    onAppMessage: (msg: FixParser) => {
      if (feed.onMarketData(2, msg, clock.now() * 1e6) > 0) {
        toSor.commit();
        toRisk.commit();
      }
    },
    onSessionReject: () => {},
    onStateChange: () => {},
  };
  const initiator = new FixSession({ role: SessionRole.INITIATOR, senderCompId: 'OMS', targetCompId: 'V2', clock, app: engineApp, resetSeqNumOnLogon: true });
  const acceptor = new FixSession({ role: SessionRole.ACCEPTOR, senderCompId: 'V2', targetCompId: 'OMS', clock, app: venueApp });
  const publisher = new MarketDataPublisher(core.symbols, [acceptor]);
  core.mdListener = publisher;
  for (let s = 0; s < SYMBOLS.length; s++) core.publishTop(s);
  const link = new MemoryLink(initiator, acceptor);
  link.connect();
  link.pump();
  return { clock, core, mm, counters, feed, publisher, initiator, acceptor, link, toSor, toRisk, sor: new RingConsumer(toSorMem), risk: new RingConsumer(toRiskMem) };
}

function top(core: VenueCore, s: number): Omit<Q, 'venue' | 'symbol'> {
  const b = core.books[s];
  return { bid: b.bestBid(), bidQty: b.levelQty(1, 0), ask: b.bestAsk(), askQty: b.levelQty(2, 0) };
}

describe('market data: venue 35=W -> QUOTE to sor and risk', () => {
  it('a snapshot of every symbol at logon, equal to the book, on both rings', () => {
    const t = setup();
    t.publisher.onLogon(t.acceptor);
    t.link.pump();
    const sor = drain(t.sor);
    expect(sor.map((q) => q.symbol)).toEqual([0, 1, 2]);
    for (const q of sor) expect(q).toEqual({ venue: 2, symbol: q.symbol, ...top(t.core, q.symbol) });
    expect(drain(t.risk)).toEqual(sor);
    expect(t.counters.get(FixCounter.MD_SNAPSHOTS)).toBe(3);
    expect(t.initiator.state).toBe(3);
  });

  it('conflation: many book changes between flushes cost one snapshot per changed symbol, carrying the latest top', () => {
    const t = setup();
    for (let i = 0; i < 20; i++) t.mm.step();
    t.publisher.flush();
    t.link.pump();
    const sor = drain(t.sor);
    expect(sor.map((q) => q.symbol)).toEqual([0, 1, 2]);
    for (const q of sor) expect(q).toEqual({ venue: 2, symbol: q.symbol, ...top(t.core, q.symbol) });
    t.publisher.flush();
    t.link.pump();
    expect(drain(t.sor)).toEqual([]);
  });

  it('an empty side arrives with qty 0; an unknown symbol is counted, not quoted', () => {
    const t = setup();
    t.publisher.flush();
    t.link.pump();
    drain(t.sor);
    t.publisher.onTopOfBook(1, -1, 0, 105 * PX, 300);
    t.publisher.flush();
    t.link.pump();
    expect(drain(t.sor)).toEqual([{ venue: 2, symbol: 1, bid: 0, bidQty: 0, ask: 105 * PX, askQty: 300 }]);
    const e = t.acceptor.beginApp(0x57);
    e.addAscii(Tag.Symbol, ascii('NOPE')).addInt(268, 1).addChar(269, 0x30).addTicks(270, PX).addInt(271, 5);
    t.acceptor.sendApp();
    t.link.pump();
    expect(drain(t.sor)).toEqual([]);
    expect(t.counters.get(FixCounter.MD_REFUSED)).toBe(1);
  });

  it('quotes are dropped (counted) when a ring is more than half full, never blocking', () => {
    const t = setup(1 << 16);
    // Fill the ring to sor past half with child-event copies (which are never dropped).
    const ev = new Uint8Array(CHILD_EVENT_LENGTH);
    const n = Math.ceil((1 << 15) / 72) + 1;
    for (let i = 0; i < n; i++) t.feed.childEvent(ev, 0);
    t.toSor.commit();
    t.publisher.onLogon(t.acceptor);
    t.link.pump();
    expect(t.counters.get(FixCounter.MD_DROPPED_SOR)).toBe(3);
    expect(t.counters.get(FixCounter.MD_DROPPED_RISK)).toBe(0);
    expect(drain(t.risk)).toHaveLength(3);
  });
});

describe('child-event copies to the SOR', () => {
  it('wait in order in the overflow when the ring is full, and are flushed first', () => {
    const t = setup(1 << 16);
    const ev = new ChildEventFlyweight();
    const body = new Uint8Array(CHILD_EVENT_LENGTH);
    const view = new DataView(body.buffer);
    let written = 0;
    const total = Math.floor((1 << 16) / 72) + 50;
    for (let i = 1; i <= total; i++) {
      ev.wrap(view, body, 0).setChildId(i);
      t.feed.childEvent(body, 0);
      written++;
    }
    t.toSor.commit();
    expect(t.feed.pending).toBeGreaterThan(0);
    const seen: number[] = [];
    const read = new ChildEventFlyweight();
    for (let round = 0; round < 10 && seen.length < written; round++) {
      t.sor.poll({ onRecord: (type, offset) => {
        if (type === RecordType.CHILD_EVENT) seen.push(read.wrap(t.sor.view, t.sor.bytes, offset).childId());
      } }, 1 << 20);
      t.feed.flush();
      t.toSor.commit();
    }
    expect(seen).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(t.feed.pending).toBe(0);
    expect(FULL).toBe(-1);
  });

  it('keep child events and venue statuses in one order through an overflow that wraps around many times, and refuse past its bound', () => {
    const mem = createRingMemory(4096); // about 50 child events
    const toSor = new RingProducer(mem, null);
    const sor = new RingConsumer(mem);
    const toRisk = new RingProducer(createRingMemory(4096), null);
    const feed = new SorFeed(toSor, toRisk, [], StageCounters.create(), 64);
    const body = new Uint8Array(CHILD_EVENT_LENGTH);
    const view = new DataView(body.buffer);
    const ev = new ChildEventFlyweight();
    const vs = new VenueStatusFlyweight();
    // Every 7th record is a venue status (venue id = its sequence number), the rest child events.
    let next = 1;
    const write = (): void => {
      const n = next++;
      if (n % 7 === 0) {
        feed.venueStatus(n, n % 2 === 0, 0);
      } else {
        ev.wrap(view, body, 0).setChildId(n);
        feed.childEvent(body, 0);
      }
    };
    const seen: number[] = [];
    const read = (max: number): void => {
      sor.poll({ onRecord: (type, offset) => {
        if (type === RecordType.CHILD_EVENT) seen.push(ev.wrap(sor.view, sor.bytes, offset).childId());
        else if (type === RecordType.VENUE_STATUS) seen.push(vs.wrap(sor.view, sor.bytes, offset).venueId());
      } }, max);
    };
    // Rounds of 60 and 40 written against a ring of about 50: every other round some wait, the
    // next flush moves them first, and the overflow's head goes round its 64 slots several times.
    let most = 0;
    for (let round = 0; round < 60; round++) {
      feed.flush();
      for (let k = 0; k < (round % 2 === 0 ? 60 : 40); k++) write();
      toSor.commit();
      most = Math.max(most, feed.pending);
      read(1 << 20);
    }
    expect(most).toBeGreaterThan(0);
    for (let round = 0; round < 20 && feed.pending > 0; round++) {
      feed.flush();
      toSor.commit();
      read(1 << 20);
    }
    read(1 << 20);
    expect(seen).toEqual(Array.from({ length: next - 1 }, (_, i) => i + 1));
    expect(VENUE_STATUS_LENGTH).toBeLessThan(CHILD_EVENT_LENGTH);
    // Past its bound the feed refuses (the engine halts) rather than drop or overwrite a record.
    for (let k = 0; k < 200 && feed.pending < 64; k++) write();
    expect(feed.pending).toBe(64);
    expect(() => write()).toThrow(/overflow bounded/);
  });
});
