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
 * Child events. The SOR follows its children (learned latency and fill probability, staged
 * fallback, re-routes), so every CHILD_EVENT the fix stage writes to risk is copied to the SOR
 * too. Those copies are never dropped: when the ring is full they wait in a bounded local
 * overflow flushed first on the next duty cycle; beyond that the SOR is stalled and the engine
 * halts (an assertion), as for the ring to risk.
 */
import { CHILD_EVENT_LENGTH, QUOTE_LENGTH, QuoteFlyweight, RecordType } from '../../codecs/records.ts';
import { copyBytes } from '../../engine/bytes.ts';
import { FixCounter, type StageCounters } from '../../engine/counters.ts';
import { INVALID, MAX_PRICE_TICKS, MAX_QTY, parseDecimalTicks, parseUint } from '../../engine/fixed-point.ts';
import { FULL, type RingProducer } from '../../engine/ring.ts';
import type { FixParser } from '../../fix/parser.ts';
import { Tag } from '../../fix/tags.ts';
import { SymbolIndex } from './symbol-index.ts';

const CH_Y = 0x59;
const ENTRY_BID = 0x30;
const ENTRY_OFFER = 0x31;
/** Child-event copies held while the ring to sor is full, unless the owner sizes it (FixStage does). */
export const SOR_OVERFLOW_EVENTS = 16_384;

export class SorFeed {
  private readonly toSor: RingProducer;
  private readonly toRisk: RingProducer;
  private readonly counters: StageCounters;
  private readonly quote = new QuoteFlyweight();
  private readonly symbols: SymbolIndex;
  private readonly overflow: Uint8Array;
  private overflowCount: number;
  // The snapshot being decoded.
  private bid = 0;
  private bidQty = 0;
  private ask = 0;
  private askQty = 0;

  private readonly overflowCapacity: number;

  constructor(toSor: RingProducer, toRisk: RingProducer, symbols: readonly Uint8Array[], counters: StageCounters, overflowEvents = SOR_OVERFLOW_EVENTS) {
    this.toSor = toSor;
    this.toRisk = toRisk;
    this.counters = counters;
    this.symbols = new SymbolIndex(symbols);
    this.overflowCapacity = overflowEvents;
    this.overflow = new Uint8Array(overflowEvents * CHILD_EVENT_LENGTH);
    this.overflowCount = 0;
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

  /** Copies a CHILD_EVENT body (just written for risk) to the SOR, in order, never dropped. */
  childEvent(src: Uint8Array, offset: number): void {
    const at = this.overflowCount === 0 ? this.toSor.tryClaim(RecordType.CHILD_EVENT, CHILD_EVENT_LENGTH) : FULL;
    if (at !== FULL) {
      copyBytes(src, offset, this.toSor.bytes, at, CHILD_EVENT_LENGTH);
      return;
    }
    if (this.overflowCount === this.overflowCapacity) throw new Error('Invariant: child events to sor overflow bounded (sor stalled)');
    copyBytes(src, offset, this.overflow, this.overflowCount++ * CHILD_EVENT_LENGTH, CHILD_EVENT_LENGTH);
  }

  /** Moves waiting child-event copies into the ring to sor, oldest first; returns how many. */
  flush(): number {
    if (this.overflowCount === 0) return 0;
    let moved = 0;
    while (moved < this.overflowCount) {
      const at = this.toSor.tryClaim(RecordType.CHILD_EVENT, CHILD_EVENT_LENGTH);
      if (at === FULL) break;
      const from = moved * CHILD_EVENT_LENGTH;
      copyBytes(this.overflow, from, this.toSor.bytes, at, CHILD_EVENT_LENGTH);
      moved++;
    }
    this.overflow.copyWithin(0, moved * CHILD_EVENT_LENGTH, this.overflowCount * CHILD_EVENT_LENGTH);
    this.overflowCount -= moved;
    return moved;
  }

  get pendingChildEvents(): number {
    return this.overflowCount;
  }
}
