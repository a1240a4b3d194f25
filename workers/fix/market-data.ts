/**
 * The fix stage's feed to the SOR: venues' market data and copies of child events.
 *
 * Market data. Each venue simulator publishes its top of book per symbol on its FIX session as
 * MarketDataSnapshotFullRefresh (35=W), unsolicited from logon on and conflated per symbol
 * (sim/market-data.ts). This module decodes it without allocating:
 *
 *   35=W | 55=Symbol | 268=NoMDEntries | 269=0 (bid) 270=MDEntryPx 271=MDEntrySize
 *                                      | 269=1 (offer) 270=MDEntryPx 271=MDEntrySize
 *
 * and writes one QUOTE record (codecs/records.ts, layout unchanged) to BOTH the ring to sor (for
 * routing) and the ring to risk (reference prices, collars). A side missing from the snapshot,
 * or with size 0, is an empty side (qty 0). The quote's time is the engine's receive time. A
 * snapshot resent as a possible duplicate (43=Y, after a resend request) is stale by definition
 * and ignored. Quotes are the one thing the engine may lose: when either ring is more than half
 * full the quote is dropped for that ring and counted (the next snapshot replaces it anyway),
 * so order traffic always finds room. Unknown symbols and malformed entries are counted.
 *
 * Child events and venue status. The SOR follows its children (learned latency and fill
 * probability, staged fallback, re-routes), so every CHILD_EVENT the fix stage writes to risk
 * is copied to the SOR too, and each venue session's up/down goes to it as VENUE_STATUS. Neither
 * is ever dropped nor reordered: when the ring is full they wait in a bounded local overflow (a
 * circular buffer, oldest first) flushed first on the next duty cycle; the fix stage pauses
 * reading the venues long before it fills (fix-stage.ts VENUE_INPUT_PAUSE_EVENTS). Beyond the
 * bound the SOR is stalled and the engine halts (an assertion), as for the ring to risk.
 */
import { CHILD_EVENT_LENGTH, QUOTE_LENGTH, QuoteFlyweight, RecordType, VENUE_STATUS_LENGTH, VenueStatusFlyweight } from '../../codecs/records.ts';
import { copyBytes } from '../../engine/bytes.ts';
import { FixCounter, type StageCounters } from '../../engine/counters.ts';
import { INVALID, MAX_PRICE_TICKS, MAX_QTY, parseDecimalTicks, parseUint } from '../../engine/fixed-point.ts';
import { FULL, type RingProducer } from '../../engine/ring.ts';
import { RingOverflow } from '../../engine/ring-overflow.ts';
import type { FixParser } from '../../fix/parser.ts';
import { Tag } from '../../fix/tags.ts';
import { SymbolIndex } from './symbol-index.ts';

const CH_Y = 0x59;
const ENTRY_BID = 0x30;
const ENTRY_OFFER = 0x31;
/** Child-event copies and venue statuses held while the ring to sor is full. */
export const SOR_OVERFLOW_EVENTS = 65_536;
/** One overflow slot: the larger of the two records it holds. */
const SLOT_BYTES = Math.max(CHILD_EVENT_LENGTH, VENUE_STATUS_LENGTH);
const SOR_STALLED = 'Invariant: child events to sor overflow bounded (sor stalled)';

export class SorFeed {
  private readonly toSor: RingProducer;
  private readonly toRisk: RingProducer;
  private readonly counters: StageCounters;
  private readonly quote = new QuoteFlyweight();
  private readonly status = new VenueStatusFlyweight();
  private readonly symbols: SymbolIndex;
  /** The ring to sor with what waits for room in it (child events and venue statuses, in order). */
  private readonly sorQueue: RingOverflow;
  // The snapshot being decoded.
  private bid = 0;
  private bidQty = 0;
  private ask = 0;
  private askQty = 0;

  /** overflowCapacity: records the overflow holds (tests make it small to wrap it around). */
  constructor(toSor: RingProducer, toRisk: RingProducer, symbols: readonly Uint8Array[], counters: StageCounters, overflowCapacity = SOR_OVERFLOW_EVENTS) {
    this.toSor = toSor;
    this.toRisk = toRisk;
    this.counters = counters;
    this.symbols = new SymbolIndex(symbols);
    this.sorQueue = new RingOverflow(toSor, overflowCapacity, SLOT_BYTES, SOR_STALLED);
  }

  /** Symbol id of buf[start, end), or -1. */
  symbolId(buf: Uint8Array, start: number, end: number): number {
    return this.symbols.find(buf, start, end);
  }

  /**
   * A venue's 35=W, inside its socket callback. Returns 1 when a QUOTE was written to at least
   * one ring (the caller commits), else 0.
   */
  onMarketData(venueId: number, msg: FixParser, nowNs: number): number {
    if (msg.has(Tag.PossDupFlag) && msg.getChar(Tag.PossDupFlag) === CH_Y) {
      this.counters.add(FixCounter.MD_STALE_IGNORED, 1);
      return 0;
    }
    const symbol = msg.has(Tag.Symbol) ? this.symbolId(msg.buf, msg.valueStart(Tag.Symbol), msg.valueEnd(Tag.Symbol)) : -1;
    if (symbol < 0 || !this.decodeEntries(msg)) {
      this.counters.add(FixCounter.MD_REFUSED, 1);
      return 0;
    }
    this.counters.add(FixCounter.MD_SNAPSHOTS, 1);
    let wrote = 0;
    if (this.writeQuote(this.toSor, venueId, symbol, nowNs)) wrote = 1;
    else this.counters.add(FixCounter.MD_DROPPED_SOR, 1);
    if (this.writeQuote(this.toRisk, venueId, symbol, nowNs)) wrote = 1;
    else this.counters.add(FixCounter.MD_DROPPED_RISK, 1);
    return wrote;
  }

  /** Reads the first bid and first offer entry; false when an entry is malformed. */
  private decodeEntries(msg: FixParser): boolean {
    this.bid = this.bidQty = this.ask = this.askQty = 0;
    if (!msg.has(Tag.NoMDEntries)) return false;
    let type = -1;
    let px = 0;
    let size = 0;
    const n = msg.fieldCount;
    for (let i = 0; i <= n; i++) {
      const tag = i < n ? msg.tagAt(i) : Tag.MDEntryType;
      if (tag === Tag.MDEntryType) {
        // An entry ends where the next begins (or the message ends): keep the first of each side.
        if (type === ENTRY_BID && this.bidQty === 0 && size > 0) {
          this.bid = px;
          this.bidQty = size;
        } else if (type === ENTRY_OFFER && this.askQty === 0 && size > 0) {
          this.ask = px;
          this.askQty = size;
        }
        if (i === n) break;
        type = msg.buf[msg.valueStartAt(i)];
        px = 0;
        size = 0;
      } else if (tag === Tag.MDEntryPx) {
        px = parseDecimalTicks(msg.buf, msg.valueStartAt(i), msg.valueEndAt(i), MAX_PRICE_TICKS);
        if (px === INVALID || px <= 0) return false;
      } else if (tag === Tag.MDEntrySize) {
        size = parseUint(msg.buf, msg.valueStartAt(i), msg.valueEndAt(i), MAX_QTY);
        if (size === INVALID) return false;
      }
    }
    return true;
  }

  private writeQuote(ring: RingProducer, venueId: number, symbol: number, nowNs: number): boolean {
    if (ring.freeBytes() < ring.capacity >>> 1) return false;
    const at = ring.tryClaim(RecordType.QUOTE, QUOTE_LENGTH);
    if (at === FULL) return false;
    this.quote.wrap(ring.view, ring.bytes, at).setTimeNs(nowNs).setBidTicks(this.bid).setBidQty(this.bidQty)
      .setAskTicks(this.ask).setAskQty(this.askQty).setVenueId(venueId).setSymbolId(symbol);
    return true;
  }

  /** Copies a CHILD_EVENT body (just written for risk) to the SOR, in order, never dropped: its fixed part (the venue's identifiers after it are for the journal). */
  childEvent(src: Uint8Array, offset: number): void {
    const q = this.sorQueue;
    // Claim first: it decides which memory q.bytes is (the ring's or a waiting slot's).
    const at = q.claim(RecordType.CHILD_EVENT, CHILD_EVENT_LENGTH);
    copyBytes(src, offset, q.bytes, at, CHILD_EVENT_LENGTH);
  }

  /** A venue's session went up or down: a VENUE_STATUS for the SOR, written in place behind every child event before it, never dropped. */
  venueStatus(venueId: number, up: boolean, nowNs: number): void {
    const q = this.sorQueue;
    const at = q.claim(RecordType.VENUE_STATUS, VENUE_STATUS_LENGTH);
    this.status.wrap(q.view, q.bytes, at).setTimeNs(nowNs).setVenueId(venueId).setUp(up);
  }

  /** Moves waiting records into the ring to sor, oldest first; returns how many. */
  flush(): number {
    return this.sorQueue.flush();
  }

  /** Records (child events, venue statuses) waiting for room in the ring to sor. */
  get pending(): number {
    return this.sorQueue.pending;
  }
}
