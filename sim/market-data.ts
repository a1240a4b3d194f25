/**
 * A venue's market-data feed: its top of book per symbol, published on every logged-on FIX
 * session as MarketDataSnapshotFullRefresh (35=W), unsolicited:
 *
 *   - on logon, one snapshot per symbol (the session is subscribed to everything it may trade;
 *     a real venue would wait for a MarketDataRequest 35=V, this one treats the order session
 *     as subscribed, which spares the engine a request/response step per venue);
 *   - then conflated per symbol: the book reports every change (VenueCore.mdListener), the feed
 *     keeps the latest top per symbol and sends the symbols that changed once per interval, so a
 *     busy book costs one message per symbol per interval, never one per order.
 *
 *   35=W | 55=SYM | 268=2 | 269=0 270=bid 271=bidSize | 269=1 270=ask 271=askSize
 *
 * An empty side is sent with size 0 (and price 0 omitted), so the engine sees the side vanish.
 * Simulator code: plain objects, allocates per message.
 */
import { SendResult } from '../fix/fix-codes.ts';
import { ascii } from '../fix/encoder.ts';
import { MsgType } from '../fix/msg-type.ts';
import { SessionState } from '../fix/session-state.ts';
import type { FixSession } from '../fix/session.ts';
import { Tag } from '../fix/tags.ts';
import type { MarketDataListener } from './venue-core.ts';

export class MarketDataPublisher implements MarketDataListener {
  readonly symbols: Uint8Array[];
  readonly bid: Float64Array;
  readonly bidQty: Float64Array;
  readonly ask: Float64Array;
  readonly askQty: Float64Array;
  private readonly dirty: Uint8Array;
  private readonly sessions: FixSession[];
  /** Snapshots sent, and sends refused by a session (not logged on, back-pressure). */
  sent: number;
  refused: number;

  constructor(symbols: readonly string[], sessions: FixSession[]) {
    this.symbols = symbols.map((s) => ascii(s));
    const n = symbols.length;
    this.bid = new Float64Array(n);
    this.bidQty = new Float64Array(n);
    this.ask = new Float64Array(n);
    this.askQty = new Float64Array(n);
    this.dirty = new Uint8Array(n);
    this.sessions = sessions;
    this.sent = 0;
    this.refused = 0;
  }

  /** From the book (VenueCore.publishTop): remember the latest top, send it at the next flush. */
  onTopOfBook(symbolIdx: number, bidTicks: number, bidQty: number, askTicks: number, askQty: number): void {
    this.bid[symbolIdx] = bidTicks > 0 ? bidTicks : 0;
    this.bidQty[symbolIdx] = bidTicks > 0 ? bidQty : 0;
    this.ask[symbolIdx] = askTicks > 0 ? askTicks : 0;
    this.askQty[symbolIdx] = askTicks > 0 ? askQty : 0;
    this.dirty[symbolIdx] = 1;
  }

  /** Sends every symbol that changed since the last flush to every logged-on session. */
  flush(): void {
    for (let s = 0; s < this.symbols.length; s++) {
      if (this.dirty[s] === 0) continue;
      this.dirty[s] = 0;
      for (const session of this.sessions) if (session.state === SessionState.ACTIVE) this.send(session, s);
    }
  }

  /** A session just logged on: it gets a snapshot of every symbol. */
  onLogon(session: FixSession): void {
    for (let s = 0; s < this.symbols.length; s++) this.send(session, s);
  }

  private send(session: FixSession, s: number): void {
    const e = session.beginApp(MsgType.MARKET_DATA_SNAPSHOT);
    e.addAscii(Tag.Symbol, this.symbols[s]).addInt(Tag.NoMDEntries, 2);
    e.addChar(Tag.MDEntryType, 0x30);
    if (this.bidQty[s] > 0) e.addTicks(Tag.MDEntryPx, this.bid[s]);
    e.addInt(Tag.MDEntrySize, this.bidQty[s]);
    e.addChar(Tag.MDEntryType, 0x31);
    if (this.askQty[s] > 0) e.addTicks(Tag.MDEntryPx, this.ask[s]);
    e.addInt(Tag.MDEntrySize, this.askQty[s]);
    if (session.sendApp() === SendResult.OK) this.sent++;
    else this.refused++;
  }
}

export interface VenueFeedsOptions {
  /** Market data conflation interval; 0 = no market data. */
  mdIntervalMs: number;
  /** Scheduled outages: every outageEveryMs (0 = never) the venue is down for outageMs. */
  outageEveryMs: number;
  outageMs: number;
}

/**
 * What a venue process runs beside its order books: the market-data feed and its scheduled
 * outages. During an outage every session is disconnected and logons are refused (the
 * acceptor's authorize hook), as when a real venue goes dark; resting orders stay in the books
 * (the venue did not lose them), market data resumes with a full snapshot at the next logon.
 */
export class VenueFeeds {
  readonly publisher: MarketDataPublisher | null;
  private readonly sessions: FixSession[];
  private readonly options: VenueFeedsOptions;
  outage: boolean;
  outages: number;
  private mdTimer: NodeJS.Timeout | null;
  private outageTimer: NodeJS.Timeout | null;
  private upTimer: NodeJS.Timeout | null;

  constructor(core: { symbols: string[]; mdListener: MarketDataListener | null; publishTop(s: number): void }, sessions: FixSession[], options: VenueFeedsOptions) {
    this.sessions = sessions;
    this.options = options;
    this.publisher = options.mdIntervalMs > 0 ? new MarketDataPublisher(core.symbols, sessions) : null;
    if (this.publisher !== null) {
      core.mdListener = this.publisher;
      for (let s = 0; s < core.symbols.length; s++) core.publishTop(s);
    }
    this.outage = false;
    this.outages = 0;
    this.mdTimer = null;
    this.outageTimer = null;
    this.upTimer = null;
  }

  /** For FixAcceptor's onStateChange: a new logon gets snapshots, or is dropped during an outage. */
  readonly onStateChange = (session: FixSession, _previous: number, next: number): void => {
    if (next !== SessionState.ACTIVE) return;
    if (this.outage) session.disconnect('scheduled outage');
    else if (this.publisher !== null) this.publisher.onLogon(session);
  };

  /** For FixAcceptor's authorize: no logon while the venue is down. */
  readonly authorize = (): boolean => !this.outage;

  start(): void {
    if (this.publisher !== null) {
      const p = this.publisher;
      this.mdTimer = setInterval(() => p.flush(), this.options.mdIntervalMs);
    }
    if (this.options.outageEveryMs > 0) this.outageTimer = setInterval(() => this.beginOutage(), this.options.outageEveryMs);
  }

  beginOutage(): void {
    this.outage = true;
    this.outages++;
    for (const s of this.sessions) if (s.state !== SessionState.DISCONNECTED) s.disconnect('scheduled outage');
    this.upTimer = setTimeout(() => {
      this.upTimer = null;
      this.outage = false;
    }, this.options.outageMs);
  }

  stop(): void {
    if (this.mdTimer !== null) clearInterval(this.mdTimer);
    if (this.outageTimer !== null) clearInterval(this.outageTimer);
    if (this.upTimer !== null) clearTimeout(this.upTimer);
  }
}
