/**
 * Top of book per (venue, symbol) from QUOTE records, and the NBBO computed from it whenever a
 * decision needs it. A quote is usable when its venue is up, it is fresh (received within
 * quoteStaleNs) and it is not crossed or locked (its own bid < ask when both sides are shown);
 * a crossed quote is counted and excluded: it is bad data, not a price to route on. One writer
 * (the SOR thread); typed arrays indexed by venue * symbolCount + symbol; nothing allocated.
 */
export const QuoteState = {
  /** Fresh and sane. */
  OK: 0,
  /** Never quoted, or older than the staleness limit. */
  STALE: 1,
  /** Bid >= ask. */
  CROSSED: 2,
} as const;

export class MarketBook {
  readonly venues: number;
  readonly symbols: number;
  readonly bid: Float64Array;
  readonly bidQty: Float64Array;
  readonly ask: Float64Array;
  readonly askQty: Float64Array;
  readonly timeNs: Float64Array;
  /** The value of `quotes` when the cell was last quoted: orders quotes and decisions without a clock. */
  readonly quoteSeq: Float64Array;
  /** Quotes refused as crossed or locked, and quotes accepted. */
  crossedQuotes: number;
  quotes: number;
  // NBBO of the last nbbo() call.
  nbbBid: number;
  nbbBidQty: number;
  nbbAsk: number;
  nbbAskQty: number;

  constructor(venues: number, symbols: number) {
    this.venues = venues;
    this.symbols = symbols;
    const cells = venues * symbols;
    this.bid = new Float64Array(cells);
    this.bidQty = new Float64Array(cells);
    this.ask = new Float64Array(cells);
    this.askQty = new Float64Array(cells);
    this.timeNs = new Float64Array(cells);
    this.quoteSeq = new Float64Array(cells);
    this.crossedQuotes = 0;
    this.quotes = 0;
    this.nbbBid = 0;
    this.nbbBidQty = 0;
    this.nbbAsk = 0;
    this.nbbAskQty = 0;
  }

  /** The cell of (venue, symbol), or -1 when either is out of range. */
  private cellOf(venue: number, symbol: number): number {
    return venue > 0 && venue < this.venues && symbol >= 0 && symbol < this.symbols ? venue * this.symbols + symbol : -1;
  }

  /** Stores a quote (a side with qty 0 is empty). Returns false when venue or symbol is out of range. */
  update(venue: number, symbol: number, bid: number, bidQty: number, ask: number, askQty: number, timeNs: number): boolean {
    const cell = this.cellOf(venue, symbol);
    if (cell < 0) return false;
    this.bid[cell] = bidQty > 0 ? bid : 0;
    this.bidQty[cell] = bidQty > 0 ? bidQty : 0;
    this.ask[cell] = askQty > 0 ? ask : 0;
    this.askQty[cell] = askQty > 0 ? askQty : 0;
    this.timeNs[cell] = timeNs;
    this.quotes++;
    this.quoteSeq[cell] = this.quotes;
    if (this.state(venue, symbol, -Infinity) === QuoteState.CROSSED) this.crossedQuotes++;
    return true;
  }

  /**
   * An IOC child priced at pxTicks came back with its rest canceled, decided when the book had
   * taken quotesAtDecision quotes: the side it took is gone at that venue as far as routing knows,
   * until the venue quotes again. A buy clears the venue's ask when the ask is at or under pxTicks
   * (a sell, its bid at or over). A quote taken after the decision is newer than anything the
   * child's answer could prove wrong, and stands (compared by the book's own count, not by clocks
   * of two threads). Returns whether a side was cleared.
   */
  consume(venue: number, symbol: number, buy: boolean, pxTicks: number, quotesAtDecision: number): boolean {
    const cell = this.cellOf(venue, symbol);
    if (cell < 0 || this.quoteSeq[cell] > quotesAtDecision) return false;
    if (buy) {
      if (!(this.askQty[cell] > 0 && this.ask[cell] <= pxTicks)) return false;
      this.ask[cell] = 0;
      this.askQty[cell] = 0;
    } else {
      if (!(this.bidQty[cell] > 0 && this.bid[cell] >= pxTicks)) return false;
      this.bid[cell] = 0;
      this.bidQty[cell] = 0;
    }
    return true;
  }

  state(venue: number, symbol: number, freshAfterNs: number): number {
    const cell = venue * this.symbols + symbol;
    if (this.timeNs[cell] === 0 || this.timeNs[cell] < freshAfterNs) return QuoteState.STALE;
    if (this.bidQty[cell] > 0 && this.askQty[cell] > 0 && this.bid[cell] >= this.ask[cell]) return QuoteState.CROSSED;
    return QuoteState.OK;
  }

  /**
   * Computes the NBBO of a symbol over the venues with up[v] = 1 and a usable quote, into
   * nbbBid/nbbAsk (0 when no side) and their quantities summed over the venues at that price.
   */
  nbbo(symbol: number, freshAfterNs: number, up: Uint8Array): void {
    let bid = 0;
    let bidQty = 0;
    let ask = 0;
    let askQty = 0;
    for (let v = 1; v < this.venues; v++) {
      if (up[v] === 0 || this.state(v, symbol, freshAfterNs) !== QuoteState.OK) continue;
      const cell = v * this.symbols + symbol;
      if (this.bidQty[cell] > 0) {
        if (this.bid[cell] > bid) {
          bid = this.bid[cell];
          bidQty = this.bidQty[cell];
        } else if (this.bid[cell] === bid) bidQty += this.bidQty[cell];
      }
      if (this.askQty[cell] > 0) {
        if (ask === 0 || this.ask[cell] < ask) {
          ask = this.ask[cell];
          askQty = this.askQty[cell];
        } else if (this.ask[cell] === ask) askQty += this.askQty[cell];
      }
    }
    this.nbbBid = bid;
    this.nbbBidQty = bidQty;
    this.nbbAsk = ask;
    this.nbbAskQty = askQty;
  }
}
