/**
 * The venue's matching core: one order book per symbol, client order lifecycle (New, fills,
 * IOC/FOK/market remainders, cancels, rejects), fees, and the market maker's entry points.
 * No sockets, no FIX, no clock: callers pass events in and receive ExecEvents through a sink,
 * so the deterministic simulation can step it by hand. Given the seed and the order of calls,
 * the output is always the same.
 *
 * This is a simulator, not the engine: it allocates per order and per report.
 */
import { OrdType, Tif as TimeInForce } from '../engine/domain.ts';
import { averagePriceTicks } from '../engine/fixed-point.ts';
import { Mulberry32 } from '../engine/prng.ts';
import { MARKET_BUY_LIMIT, MARKET_SELL_LIMIT, OrderBook, Side, type FillListener } from './order-book.ts';

/** OrdType (40) and TimeInForce (59): the engine's (engine/domain.ts), re-exported for the simulator's importers. */
export { OrdType, TimeInForce };

/** ExecType (150) as ASCII bytes. */
export const ExecType = { NEW: 0x30, CANCELED: 0x34, REJECTED: 0x38, TRADE: 0x46 } as const;
/** OrdStatus (39) as ASCII bytes. */
export const OrdStatus = { NEW: 0x30, PARTIALLY_FILLED: 0x31, FILLED: 0x32, CANCELED: 0x34, REJECTED: 0x38 } as const;
/** OrdRejReason (103). */
export const OrdRejReason = { UNKNOWN_SYMBOL: 1, DUPLICATE_ORDER: 6, OTHER: 99 } as const;
/** CxlRejReason (102). */
export const CxlRejReason = { TOO_LATE: 0, UNKNOWN_ORDER: 1 } as const;

/** Owner id of market-maker orders in the books. */
export const MM_OWNER = -1;

export interface SymbolConfig {
  symbol: string;
  startPriceTicks: number;
}

export interface VenueCoreConfig {
  name: string;
  symbols: SymbolConfig[];
  /** Fee per fill in basis points of notional, reported as Commission (12). */
  feeBps: number;
  /** Probability in [0, 1] that a valid NewOrderSingle is rejected anyway. */
  rejectProbability: number;
  /** Price increment in ticks (10,000 = 0.01). Limit prices must be multiples. */
  tickSizeTicks: number;
  seed: number;
  /** Book pool size per symbol. */
  bookCapacity?: number;
  /** ExecID prefix (default the name); a restarted venue passes a new one so ExecIDs stay unique. */
  execIdPrefix?: string;
}

export class VenueOrder {
  readonly index: number;
  readonly client: unknown;
  readonly orderId: string;
  clOrdId: string;
  readonly symbol: string;
  readonly symbolIdx: number;
  readonly side: Side;
  readonly ordType: OrdType;
  readonly tif: TimeInForce;
  readonly orderQty: number;
  readonly priceTicks: number;
  cumQty: number;
  cumNotionalTicks: number;
  leavesQty: number;
  status: number;
  bookId: number;

  constructor(index: number, client: unknown, orderId: string, clOrdId: string, symbol: string, symbolIdx: number, side: Side, ordType: OrdType, tif: TimeInForce, orderQty: number, priceTicks: number) {
    this.index = index;
    this.client = client;
    this.orderId = orderId;
    this.clOrdId = clOrdId;
    this.symbol = symbol;
    this.symbolIdx = symbolIdx;
    this.side = side;
    this.ordType = ordType;
    this.tif = tif;
    this.orderQty = orderQty;
    this.priceTicks = priceTicks;
    this.cumQty = 0;
    this.cumNotionalTicks = 0;
    this.leavesQty = orderQty;
    this.status = OrdStatus.NEW;
    this.bookId = -1;
  }

  get isDone(): boolean {
    return this.status === OrdStatus.FILLED || this.status === OrdStatus.CANCELED || this.status === OrdStatus.REJECTED;
  }
}

/** One execution report's content, snapshotted when it happened (reports may be delayed). */
export interface ExecEvent {
  client: unknown;
  orderId: string;
  execId: string;
  clOrdId: string;
  origClOrdId: string | null;
  symbol: string;
  side: Side;
  orderQty: number;
  ordType: OrdType;
  priceTicks: number;
  execType: number;
  ordStatus: number;
  lastQty: number;
  lastPxTicks: number;
  leavesQty: number;
  cumQty: number;
  avgPxTicks: number;
  commissionTicks: number;
  ordRejReason: number;
  text: string | null;
}

export interface CancelRejectEvent {
  client: unknown;
  orderId: string;
  clOrdId: string;
  origClOrdId: string;
  ordStatus: number;
  cxlRejReason: number;
  text: string;
}

export interface ExecutionSink {
  onExecution(e: ExecEvent): void;
  onCancelReject(e: CancelRejectEvent): void;
}

/** Seam for the market-data feed (a later issue): called after the book of a symbol changes. */
export interface MarketDataListener {
  onTopOfBook(symbolIdx: number, bidTicks: number, bidQty: number, askTicks: number, askQty: number): void;
}

export class VenueCore implements FillListener {
  readonly name: string;
  readonly symbols: string[];
  readonly startPrices: number[];
  readonly books: OrderBook[];
  readonly tickSizeTicks: number;
  readonly orders: VenueOrder[];
  sink: ExecutionSink;
  mdListener: MarketDataListener | null;
  private readonly feeBps: number;
  private readonly rejectProbability: number;
  private readonly rejectRng: Mulberry32;
  private readonly symbolIndex: Map<string, number>;
  /** Per client: ClOrdID -> order (original and every cancel's new ClOrdID). */
  private readonly byClient: Map<unknown, Map<string, VenueOrder>>;
  private execSeq: number;
  private orderSeq: number;
  private readonly execIdPrefix: string;
  /** The client order taking liquidity during match(), or null for the market maker. */
  private taker: VenueOrder | null;

  constructor(config: VenueCoreConfig, sink: ExecutionSink) {
    if (config.symbols.length === 0) throw new Error('Condition failed: at least one symbol');
    if (!(config.feeBps >= 0)) throw new Error('Condition failed: feeBps >= 0');
    if (!(config.rejectProbability >= 0 && config.rejectProbability <= 1)) throw new Error('Condition failed: rejectProbability in [0, 1]');
    if (!(Number.isSafeInteger(config.tickSizeTicks) && config.tickSizeTicks > 0)) throw new Error('Condition failed: tickSizeTicks > 0');
    this.name = config.name;
    this.symbols = config.symbols.map((s) => s.symbol);
    this.startPrices = config.symbols.map((s) => s.startPriceTicks);
    this.books = config.symbols.map(() => new OrderBook(config.bookCapacity ?? 65_536));
    this.tickSizeTicks = config.tickSizeTicks;
    this.orders = [];
    this.sink = sink;
    this.mdListener = null;
    this.feeBps = config.feeBps;
    this.rejectProbability = config.rejectProbability;
    // A stream of its own, so rejects never shift the market maker's walk.
    this.rejectRng = new Mulberry32((config.seed ^ 0x5bd1e995) >>> 0);
    this.symbolIndex = new Map(this.symbols.map((s, i) => [s, i]));
    this.byClient = new Map();
    this.execSeq = 0;
    this.orderSeq = 0;
    this.execIdPrefix = config.execIdPrefix ?? config.name;
    this.taker = null;
  }

  /** A client's order by any of its ClOrdIDs (original or a cancel's), or undefined. */
  orderOf(client: unknown, clOrdId: string): VenueOrder | undefined {
    return this.byClient.get(client)?.get(clOrdId);
  }

  symbolIdx(symbol: string): number {
    return this.symbolIndex.get(symbol) ?? -1;
  }

  /** A client's NewOrderSingle, already syntactically valid. Emits New, fills, cancels or a reject. */
  submit(client: unknown, clOrdId: string, symbol: string, side: Side, ordType: OrdType, tif: TimeInForce, qty: number, priceTicks: number): void {
    const symbolIdx = this.symbolIdx(symbol);
    this.orderSeq++;
    const order = new VenueOrder(this.orders.length, client, `${this.name}-${this.orderSeq}`, clOrdId, symbol, symbolIdx, side, ordType, tif, qty, ordType === OrdType.LIMIT ? priceTicks : 0);
    const known = this.clientOrders(client);
    let reason = 0;
    let text: string | null = null;
    if (known.has(clOrdId)) [reason, text] = [OrdRejReason.DUPLICATE_ORDER, 'duplicate ClOrdID'];
    else if (symbolIdx < 0) [reason, text] = [OrdRejReason.UNKNOWN_SYMBOL, 'unknown symbol'];
    else if (ordType === OrdType.LIMIT && priceTicks % this.tickSizeTicks !== 0) [reason, text] = [OrdRejReason.OTHER, 'price not a multiple of the tick size'];
    else if (this.rejectProbability > 0 && this.rejectRng.nextFloat() < this.rejectProbability) [reason, text] = [OrdRejReason.OTHER, 'simulated venue reject'];
    if (reason !== 0) {
      order.status = OrdStatus.REJECTED;
      order.leavesQty = 0;
      this.emit(order, ExecType.REJECTED, 0, 0, 0, null, reason, text);
      return;
    }
    this.orders.push(order);
    known.set(clOrdId, order);
    this.emit(order, ExecType.NEW, 0, 0, 0, null, 0, null);
    this.execute(order);
  }

  /** A client's OrderCancelRequest. */
  cancel(client: unknown, clOrdId: string, origClOrdId: string): void {
    const known = this.clientOrders(client);
    const order = known.get(origClOrdId);
    if (order === undefined || order.isDone) {
      this.sink.onCancelReject({
        client,
        orderId: order === undefined ? 'NONE' : order.orderId,
        clOrdId,
        origClOrdId,
        ordStatus: order === undefined ? OrdStatus.REJECTED : order.status,
        cxlRejReason: order === undefined ? CxlRejReason.UNKNOWN_ORDER : CxlRejReason.TOO_LATE,
        text: order === undefined ? 'unknown order' : 'order already done',
      });
      return;
    }
    const left = this.books[order.symbolIdx].cancel(order.bookId);
    if (left < 0) throw new Error('Invariant: a live client order rests in its book');
    order.bookId = -1;
    order.leavesQty = 0;
    order.status = OrdStatus.CANCELED;
    order.clOrdId = clOrdId;
    known.set(clOrdId, order);
    this.emit(order, ExecType.CANCELED, 0, 0, 0, origClOrdId, 0, null);
    this.publishTop(order.symbolIdx);
  }

  /** Market maker: takes what crosses, rests the rest. Returns the resting book id or -1. */
  makerQuote(symbolIdx: number, side: Side, priceTicks: number, qty: number): number {
    this.taker = null;
    const filled = this.books[symbolIdx].match(side, priceTicks, qty, this);
    if (filled === qty) return -1;
    return this.books[symbolIdx].add(side, priceTicks, qty - filled, MM_OWNER);
  }

  /** Market maker: pulls one of its resting orders (ignored if it already traded away). */
  makerCancel(symbolIdx: number, bookId: number): void {
    const book = this.books[symbolIdx];
    if (book.isLive(bookId) && book.ownerOf(bookId) === MM_OWNER) book.cancel(bookId);
  }

  /** Called by the book during match(). */
  onFill(_bookId: number, owner: number, priceTicks: number, qty: number, makerLeaves: number): void {
    if (owner !== MM_OWNER) {
      const maker = this.orders[owner];
      if (makerLeaves === 0) maker.bookId = -1;
      this.fill(maker, priceTicks, qty);
    }
    if (this.taker !== null) this.fill(this.taker, priceTicks, qty);
  }

  publishTop(symbolIdx: number): void {
    if (this.mdListener === null) return;
    const b = this.books[symbolIdx];
    const bid = b.bestBid();
    const ask = b.bestAsk();
    this.mdListener.onTopOfBook(symbolIdx, bid, bid < 0 ? 0 : b.levelQty(Side.BUY, 0), ask, ask < 0 ? 0 : b.levelQty(Side.SELL, 0));
  }

  private execute(order: VenueOrder): void {
    const book = this.books[order.symbolIdx];
    const limit = order.ordType === OrdType.MARKET ? (order.side === Side.BUY ? MARKET_BUY_LIMIT : MARKET_SELL_LIMIT) : order.priceTicks;
    if (order.tif === TimeInForce.FOK && book.availableQty(order.side, limit, order.orderQty) < order.orderQty) {
      this.cancelRemainder(order, 'FOK order could not be filled in full');
      return;
    }
    this.taker = order;
    book.match(order.side, limit, order.leavesQty, this);
    this.taker = null;
    if (order.leavesQty === 0) return;
    // Market orders and IOC never rest (FIX: IOC remainder canceled; market behaves the same here).
    if (order.ordType === OrdType.MARKET || order.tif === TimeInForce.IOC || order.tif === TimeInForce.FOK) {
      this.cancelRemainder(order, order.ordType === OrdType.MARKET ? 'no more liquidity for market order' : 'IOC remainder canceled');
      return;
    }
    order.bookId = book.add(order.side, order.priceTicks, order.leavesQty, order.index);
    if (order.bookId < 0) this.cancelRemainder(order, 'venue book full');
    this.publishTop(order.symbolIdx);
  }

  private cancelRemainder(order: VenueOrder, text: string): void {
    order.leavesQty = 0;
    order.status = OrdStatus.CANCELED;
    this.emit(order, ExecType.CANCELED, 0, 0, 0, null, 0, text);
  }

  private fill(order: VenueOrder, priceTicks: number, qty: number): void {
    order.cumQty += qty;
    order.cumNotionalTicks += qty * priceTicks;
    order.leavesQty -= qty;
    if (order.leavesQty < 0) throw new Error('Invariant: an order never fills beyond its quantity');
    order.status = order.leavesQty === 0 ? OrdStatus.FILLED : OrdStatus.PARTIALLY_FILLED;
    // Fee in ticks, rounded half up; a float product is fine for a simulator's commission.
    const commission = Math.round((qty * priceTicks * this.feeBps) / 10_000);
    this.emit(order, ExecType.TRADE, qty, priceTicks, commission, null, 0, null);
  }

  private emit(order: VenueOrder, execType: number, lastQty: number, lastPxTicks: number, commissionTicks: number, origClOrdId: string | null, ordRejReason: number, text: string | null): void {
    this.execSeq++;
    this.sink.onExecution({
      client: order.client,
      orderId: order.orderId,
      execId: `${this.execIdPrefix}-E${this.execSeq}`,
      clOrdId: order.clOrdId,
      origClOrdId,
      symbol: order.symbol,
      side: order.side,
      orderQty: order.orderQty,
      ordType: order.ordType,
      priceTicks: order.priceTicks,
      execType,
      ordStatus: order.status,
      lastQty,
      lastPxTicks,
      leavesQty: order.leavesQty,
      cumQty: order.cumQty,
      avgPxTicks: averagePriceTicks(order.cumNotionalTicks, order.cumQty),
      commissionTicks,
      ordRejReason,
      text,
    });
  }

  private clientOrders(client: unknown): Map<string, VenueOrder> {
    let m = this.byClient.get(client);
    if (m === undefined) {
      m = new Map();
      this.byClient.set(client, m);
    }
    return m;
  }
}
