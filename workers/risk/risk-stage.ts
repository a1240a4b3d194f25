/**
 * The risk stage: the single writer of orders, children and positions. It takes client commands
 * (from ingest and from the FIX acceptor) and venue events (from the fix worker), runs the
 * pre-trade checks, drives the order state machine, and emits execution reports to the client's
 * edge and to persistence, route requests to the SOR and child cancels (through the SOR, so a
 * cancel can never overtake the new order it cancels on the way to the venue).
 *
 *   ingest --NEW/CANCEL/REPLACE--> +------+ --ROUTE_REQUEST/CHILD_CANCEL--> sor
 *   fix ---commands, CHILD_EVENT,  | risk | --EXEC_REPORT--> ingest | fix (by order source)
 *          ROUTE_DONE -----------> +------+ --commands + reports--> persistence
 *
 * Pre-trade controls (checkNewOrder, in this order): account known and enabled, message throttle,
 * order validity, ClOrdID duplicate, kill switch, order throttle, restricted symbol, maximum
 * quantity and notional, price collar around the reference price (reference-price.ts), duplicate
 * content (duplicate-filter.ts), short sale, position limit, credit limit (exposure.ts). Limits
 * live in limits.ts, changed at runtime by RISK_LIMIT records. QUOTE records (fix -> risk) keep
 * the reference prices that the collar uses and that positions are marked at; DAY orders expire
 * at the session close (session.ts).
 *
 * Backpressure: before draining a ring, doWork() bounds the batch by the room left in every
 * outbound ring for the worst case one input can produce, so an output never finds its ring
 * full. When a ring downstream is full the stage simply stops reading its inputs, and the
 * pressure travels upstream to the edge, which refuses new orders with ENGINE_BUSY.
 *
 * The ring cycle. The rings risk -> sor -> fix -> risk form a cycle, and the SOR and fix each
 * take input only while their output ring has room. Were risk to take fix's records (venue events,
 * and FIX clients' commands, which share that ring) only with room toward the SOR too, a burst
 * that filled the three rings would stop all three for good (found with 64 KiB rings and 5,000
 * orders at once; workers/ring-cycle.sim.test.ts). So fix's records need room only in the rings
 * that leave the cycle (to the edges and the journal, drained by stages that wait on nothing in
 * it), and what they lead to for the SOR (a child cancel, a replaced order's route request, a
 * FIX client's cancel or replace) waits in a local queue (sorQueue) while the ring to the SOR is full,
 * in order, ahead of everything written after it; so do the child cancels of a mass cancel (a kill
 * switch, the session close). Commands from ingest and the recovery pass still need room toward
 * the SOR and an empty queue, and a FIX client's new order
 * is then refused ENGINE_BUSY (onNewOrder), so the queue fills only while the SOR lags. It is
 * sized orderCapacity + childCapacity, and past it the engine halts (never drops): a route
 * request is queued only for an order with none in flight, which holds its table slot until the
 * SOR answers (OrderTable.holdsLive), so those are at most one per slot; a cancel is queued once
 * per child, so those of live children are at most one per child slot. Not bounded by the tables:
 * a cancel still queued when its child ends at the venue (the fill or venue cancel crossed it),
 * whose slot a new child then takes. Reaching the cap that way needs the SOR to lag while a whole
 * child table's worth of children is sent, canceled and ended behind it.
 */

import type { Agent } from '../../engine/agent.ts';
import type { Clock } from '../../engine/clock.ts';
import { copyBytes } from '../../engine/bytes.ts';
import { CL_ORD_ID_CAPACITY, OrdType, Side, Source, Tif, isOrdType, isSide, isTif } from '../../engine/domain.ts';
import { MAX_PRICE_TICKS, MAX_QTY } from '../../engine/fixed-point.ts';
import { execIdHash } from '../fix/exec-id-set.ts';
import { FillLedger } from './fill-ledger.ts';
import { ExecType, ILLEGAL, OrderEvent, OrderState, isTerminal, transition } from '../../engine/order-state.ts';
import { Reason } from '../../engine/reasons.ts';
import { HEADER_LENGTH, alignRecord, type RingConsumer, type RingProducer, RingDispatch, type RingRecordHandler } from '../../engine/ring.ts';
import {
  CANCEL_ORDER_LENGTH,
  CHILD_ORDER_LENGTH,
  CancelOrderFlyweight,
  ChildEventFlyweight,
  ChildEventKind,
  ChildOrderFlyweight,
  EXEC_REPORT_LENGTH,
  ExecReportFlyweight,
  MAX_RECORD_LENGTH,
  NewOrderFlyweight,
  AccountControlFlyweight,
  AccountMode,
  ALL_SYMBOLS,
  MassCancelFlyweight,
  POSITION_LENGTH,
  PositionFlyweight,
  ROUTE_REQUEST_LENGTH,
  SOR_CONFIG_LENGTH,
  ACCOUNT_CONTROL_LENGTH,
  QuoteFlyweight,
  RecordType,
  RiskLimitFlyweight,
  RouteDoneFlyweight,
  RouteRequestFlyweight,
} from '../../codecs/records.ts';
import { ChildTable, OrderTable } from './order-table.ts';
import { type KillBoard, modeOfWord } from './kill-board.ts';
import { RingOverflow } from '../../engine/ring-overflow.ts';
import { PositionBook } from './positions.ts';
import { DuplicateFilter } from './duplicate-filter.ts';
import { Exposure } from './exposure.ts';
import { OPEN_SYMBOL_SEED, RiskLimits, openAccountSeed, type AccountLimitsSeed, type SymbolLimitsSeed } from './limits.ts';
import { ReferencePrices, bandTicks } from './reference-price.ts';
import { SessionCalendar, type SessionConfig } from './session.ts';
import { AccountThrottle } from './throttle.ts';
import { RiskCounter, type StageCounters } from '../../engine/counters.ts';
import type { SharedHistogram } from '../../engine/shared-histogram.ts';
import type { SnapshotReader, SnapshotWriter } from '../../persistence/snapshot.ts';

/** The SOR never splits one route request over more venues than this. */
export const MAX_CHILDREN_PER_ORDER = 32;
/** The most records one input sends toward the SOR (a child cancel per child and one more record): its worst case there. */
const SOR_RECORDS_PER_INPUT = MAX_CHILDREN_PER_ORDER + 1;
/** Records drained per ring per duty cycle. */
export const RISK_BATCH = 256;
/** Mass cancels (requests, kill switches, disconnects) waiting for their scan of the order table. */
export const MASS_CANCEL_QUEUE = 4096;
/** Order slots a mass cancel examines per duty cycle, so one never stalls the stage. */
const MASS_SCAN_PER_CYCLE = 4096;

/** Steps of the resume pass after a recovery (advanceResume). */
const RESUME_DONE = 0;
const RESUME_SETTLE = 1;
const RESUME_ORDERS = 2;
const RESUME_POSITIONS = 3;
const RESUME_SOR_CONFIG = 4;

/** Cells of the duplicate-content table (recent accepted orders of every account). */
const DUPLICATE_ENTRIES = 1 << 16;
/** Position cells a re-marking pass examines per duty cycle. */
const MARK_SCAN_PER_CYCLE = 4096;

/**
 * One account's limits. The controls added after the first three are optional here: a missing
 * one is open (see limits.ts openAccountSeed), so a caller that sets only the first three gets
 * the original checks.
 */
export interface AccountLimits extends Partial<AccountLimitsSeed> {
  /** Largest quantity of one order. */
  maxOrderQty: number;
  /** Largest notional of one order, in ticks (qty * price). */
  maxOrderNotionalTicks: number;
  enabled: boolean;
}

export interface RiskConfig {
  orderCapacity: number;
  childCapacity: number;
  /** First order id to issue (recovery continues from the journal). */
  firstOrderId: number;
  /** Child ids issued by the SOR start above this base. */
  childIdBase: number;
  /** Indexed by account id (0 unused). */
  accounts: (AccountLimits | null)[];
  /** Per symbol id: the previous close, the reference price of last resort (reference-price.ts). */
  referencePriceTicks: number[];
  /** Per symbol id: collar bands, no-short and restricted flags (default: all off). */
  symbolLimits?: SymbolLimitsSeed[];
  /** Regular hours and DAY expiry; null or absent: always regular hours, nothing expires. */
  session?: SessionConfig | null;
  /** A venue quote counts toward the NBBO for this long after risk received it (default 2000). */
  quoteFreshMs?: number;
  /** Positions are re-marked (a POSITION record per open position whose mark moved) this often (default 1000). */
  markIntervalMs?: number;
}

export interface RiskRings {
  fromIngest: RingConsumer;
  fromFix: RingConsumer;
  toIngest: RingProducer;
  toFixClients: RingProducer;
  toSor: RingProducer;
  toPersistence: RingProducer;
  /** The kill switch's words written by ingest (kill-board.ts); null or absent: changes come only from the journal. */
  killBoard?: KillBoard | null;
}

export class RiskStage implements Agent, RingRecordHandler {
  readonly orders: OrderTable;
  readonly children: ChildTable;
  /** Position, cost and realized P&L per account and symbol, from fills. */
  readonly positions: PositionBook;
  /** The fills booked from venue trades, by venue ExecID: what a bust or correction takes back. */
  readonly fills: FillLedger;
  private readonly symbolCount: number;
  private readonly config: RiskConfig;
  private readonly rings: RiskRings;
  private readonly clock: Clock;
  private readonly counters: StageCounters;
  private readonly fromIngest: RingDispatch;
  private readonly fromFix: RingDispatch;
  private readonly newOrder = new NewOrderFlyweight();
  private readonly cancel = new CancelOrderFlyweight();
  private readonly childEvent = new ChildEventFlyweight();
  private readonly routeDone = new RouteDoneFlyweight();
  private readonly report = new ExecReportFlyweight();
  private readonly routeRequest = new RouteRequestFlyweight();
  private readonly childCancel = new ChildOrderFlyweight();
  private readonly position = new PositionFlyweight();
  private readonly massCancel = new MassCancelFlyweight();
  private readonly accountControl = new AccountControlFlyweight();
  private readonly quote = new QuoteFlyweight();
  private readonly riskLimit = new RiskLimitFlyweight();
  /** Every limit of every account, changed by RISK_LIMIT records. */
  readonly limits: RiskLimits;
  /** Reference prices (NBBO mid, last trade, previous close) per symbol. */
  readonly refs: ReferencePrices;
  /** Open-order reservations and credit in use. */
  readonly exposure: Exposure;
  private readonly orderThrottle: AccountThrottle;
  private readonly msgThrottle: AccountThrottle;
  private readonly duplicates = new DuplicateFilter(DUPLICATE_ENTRIES);
  private readonly session: SessionCalendar | null;
  /** Epoch ms of the next session close (DAY expiry). */
  private nextCloseMs: number;
  /** 1 while an order is being canceled because its session ended: it ends EXPIRED. */
  private readonly expiring: Uint8Array;
  /** Last mark sent per symbol, and whether the current re-marking pass covers the symbol. */
  readonly markTicks: Float64Array;
  private readonly markDirty: Uint8Array;
  private markCursor = -1;
  private nextMarkNs = 0;
  private readonly markIntervalNs: number;
  /** Kill-switch state per account (AccountMode), and for every account at once. */
  readonly accountMode: Uint8Array;
  /** What this stage has taken from the kill board: its generation, and per account the MODE and HALTS words. */
  private boardSeen = 0;
  private readonly boardMode: Int32Array;
  private readonly boardHalts: Int32Array;
  globalMode: number;
  /** Queue of pending mass cancels (a ring of MASS_CANCEL_QUEUE); the head one is being scanned. */
  private readonly mcAccount = new Uint32Array(MASS_CANCEL_QUEUE);
  private readonly mcSymbol = new Uint32Array(MASS_CANCEL_QUEUE);
  private readonly mcConn = new Uint32Array(MASS_CANCEL_QUEUE);
  private readonly mcReason = new Uint16Array(MASS_CANCEL_QUEUE);
  /** The order ids a mass cancel reaches: those issued before it was asked (below this id). */
  private readonly mcBelow = new Float64Array(MASS_CANCEL_QUEUE);
  private mcHead = 0;
  private mcCount = 0;
  /** Next order slot the head mass cancel examines. */
  private mcCursor = 0;
  /**
   * Per order slot: the reason of a mass cancel (kill switch, cancel-on-disconnect, a trader's
   * mass cancel) that reached the order while a replace was under way (its cancel not allowed
   * then), 0 if none: the replace ends it with that reason instead of routing the new terms,
   * even if a halt was lifted meanwhile.
   */
  private readonly replaceEndReason: Uint16Array;
  /**
   * Recovery: per account (0: every account), the first order id the account's last journaled
   * HALTED did not reach. An order below it still open after the replay was missed by a sweep
   * the crash cut (the halt lifted since, so the HALTED account's own sweep at resume does not
   * cover it); finishRecovery sweeps it again.
   */
  private readonly haltBelow: Float64Array;
  private readonly origScratch = new Uint8Array(CL_ORD_ID_CAPACITY);
  private eventSeq: number;
  /** The ring to the SOR, with the records fix's inputs led to while it was full (the header's ring cycle). */
  private readonly sorQueue: RingOverflow;
  /** Worst-case bytes one input can need in each outbound ring. */
  private readonly worstClient: number;
  private readonly worstSor: number;
  private readonly worstPersist: number;

  /**
   * Ingest -> risk latency of each new order (engine clock, ns), or null. A shared-memory
   * histogram (engine/shared-histogram.ts): recording allocates nothing.
   */
  private readonly ingestToRisk: SharedHistogram | null;

  constructor(config: RiskConfig, rings: RiskRings, clock: Clock, counters: StageCounters, ingestToRisk: SharedHistogram | null = null) {
    if (!(config.referencePriceTicks.length >= 1)) throw new Error('Condition failed: at least one symbol');
    this.ingestToRisk = ingestToRisk;
    this.config = config;
    this.rings = rings;
    this.clock = clock;
    this.counters = counters;
    this.orders = new OrderTable(config.orderCapacity, config.firstOrderId);
    this.children = new ChildTable(config.childCapacity, config.childIdBase);
    this.symbolCount = config.referencePriceTicks.length;
    this.positions = new PositionBook(config.accounts.length, this.symbolCount);
    this.fills = FillLedger.forOrders(config.orderCapacity);
    const seeds = config.accounts.map((a) => (a === null || a === undefined ? null : { ...openAccountSeed(a.maxOrderQty, a.maxOrderNotionalTicks), ...a }));
    const symbolSeeds = config.symbolLimits ?? config.referencePriceTicks.map(() => OPEN_SYMBOL_SEED);
    if (symbolSeeds.length !== this.symbolCount) throw new Error('Condition failed: one symbolLimits entry per symbol');
    this.limits = new RiskLimits(seeds, symbolSeeds);
    this.refs = new ReferencePrices(config.referencePriceTicks, config.quoteFreshMs ?? 2000);
    this.exposure = new Exposure(config.orderCapacity, config.accounts.length, this.symbolCount);
    this.orderThrottle = new AccountThrottle(config.accounts.length);
    this.msgThrottle = new AccountThrottle(config.accounts.length);
    this.session = config.session === null || config.session === undefined ? null : new SessionCalendar(config.session);
    this.nextCloseMs = this.session === null ? Infinity : this.session.nextCloseAfter(clock.epochMs());
    this.expiring = new Uint8Array(config.orderCapacity);
    this.replaceEndReason = new Uint16Array(config.orderCapacity);
    this.markTicks = new Float64Array(this.symbolCount);
    this.markDirty = new Uint8Array(this.symbolCount);
    this.markIntervalNs = (config.markIntervalMs ?? 1000) * 1e6;
    this.accountMode = new Uint8Array(config.accounts.length);
    this.haltBelow = new Float64Array(config.accounts.length);
    if (rings.killBoard != null && rings.killBoard.accountSlots !== config.accounts.length) throw new Error('Condition failed: the kill board has risk\'s account slots');
    this.boardMode = new Int32Array(config.accounts.length);
    this.boardHalts = new Int32Array(config.accounts.length);
    this.globalMode = AccountMode.NORMAL;
    this.fromIngest = new RingDispatch(this, rings.fromIngest);
    this.fromFix = new RingDispatch(this, rings.fromFix);
    this.eventSeq = 0;
    this.sorQueue = new RingOverflow(
      rings.toSor, config.orderCapacity + config.childCapacity, Math.max(ROUTE_REQUEST_LENGTH, CHILD_ORDER_LENGTH, SOR_CONFIG_LENGTH),
      'Invariant: records for the SOR bounded by the live orders and children (the SOR stalled)',
    );
    // Two reports (e.g. a refused replace's reject and the order's own) and a position update.
    this.worstClient = alignRecord(HEADER_LENGTH + EXEC_REPORT_LENGTH) * 2 + alignRecord(HEADER_LENGTH + POSITION_LENGTH);
    this.worstSor = alignRecord(HEADER_LENGTH + CHILD_ORDER_LENGTH) * SOR_RECORDS_PER_INPUT;
    this.worstPersist = alignRecord(HEADER_LENGTH + MAX_RECORD_LENGTH) * 3;
  }

  doWork(): number {
    this.checkSessionEnd();
    const r = this.rings;
    // Kill-switch changes first (kill-board.ts): whatever this cycle reads after is judged under
    // them, and they wait for no ring of the cycle toward the SOR.
    const board = r.killBoard;
    const gen = board == null ? this.boardSeen : board.generation();
    const controls = gen !== this.boardSeen ? this.applyKillBoard(board!, gen) : 0;
    // An empty cycle (the last before a park, and every spin poll when idle.spins > 0) reads the
    // board's generation and two ring counters, not the sixteen a batch limit takes: spinning
    // must not take a core from the stages that have work.
    if (controls === 0 && this.mcCount === 0 && this.resumePhase === RESUME_DONE && this.sorQueue.pending === 0 && !r.fromFix.hasRecords() && !r.fromIngest.hasRecords()) {
      const marked = this.advanceMarks();
      if (marked > 0) this.commitAll();
      return marked;
    }
    let work = controls + this.sorQueue.flush();
    // Room in the rings that leave the cycle, read once and again only after a step that wrote
    // there (the flush above writes only toward the SOR).
    let exit = this.cycleExitLimit();
    if (exit === 0 || !this.sorTakesOne()) this.counters.add(RiskCounter.BACKPRESSURE_STALLS, 1);
    // Mass cancels in progress (a kill switch, the session close), then venue events (they free
    // capacity and finish orders). Their child cancels, one per live child, go through the queue:
    // a SOR that lags does not hold up a kill switch already taken.
    if (this.mcCount > 0 && exit > 0) {
      work += this.advanceMassCancels(exit);
      exit = -1;
    }
    // After a recovery (workers/risk/recovery.ts): settle what the crash left half done, then
    // show the edge every recovered order and position, a bounded slice per cycle.
    if (this.resumePhase !== RESUME_DONE) {
      work += this.advanceResume(this.batchLimit());
      exit = -1;
    }
    // Fix's records with room outside the cycle only (the header's ring cycle): what they lead to
    // for the SOR queues while its ring is full.
    const fixLimit = exit >= 0 ? exit : this.cycleExitLimit();
    if (fixLimit > 0) {
      const queued = this.sorQueue.pending;
      work += r.fromFix.poll(this.fromFix, fixLimit);
      if (this.sorQueue.pending > queued) this.counters.add(RiskCounter.SOR_QUEUE_CYCLES, 1);
    }
    work += r.fromIngest.poll(this.fromIngest, this.batchLimit());
    // Marks after the inputs, so a pass sees the quotes of this cycle.
    work += this.advanceMarks();
    if (work > 0) this.commitAll();
    return work;
  }

  /** How many inputs can be handled with certainty that every output finds room (the ring to the SOR too, with nothing queued for it). */
  private batchLimit(): number {
    return Math.min(this.cycleExitLimit(), this.sorLimit());
  }

  /** How many inputs' worst case fits toward the SOR: none while anything is queued for it. */
  private sorLimit(): number {
    return this.sorQueue.pending > 0 ? 0 : this.rings.toSor.inputsThatFit(this.worstSor, CHILD_ORDER_LENGTH);
  }

  /**
   * sorLimit() > 0, for one input (a FIX client's order): the same worst case, looked at through
   * the producer's cached head first, so a ring with room costs no load of the SOR's head.
   */
  private sorTakesOne(): boolean {
    return this.sorQueue.pending === 0 && this.rings.toSor.hasRoomFor(SOR_RECORDS_PER_INPUT, CHILD_ORDER_LENGTH);
  }

  /** How many inputs fit in the rings that leave the cycle: to the edges and to the journal. */
  private cycleExitLimit(): number {
    const r = this.rings;
    let limit = RISK_BATCH;
    limit = Math.min(limit, r.toIngest.inputsThatFit(this.worstClient, EXEC_REPORT_LENGTH));
    limit = Math.min(limit, r.toFixClients.inputsThatFit(this.worstClient, EXEC_REPORT_LENGTH));
    limit = Math.min(limit, r.toPersistence.inputsThatFit(this.worstPersist, MAX_RECORD_LENGTH));
    return limit;
  }

  private commitAll(): void {
    const r = this.rings;
    // The journal before the client rings: a client record leaves only once its journal copy is
    // durable (engine/ring.ts gate), so persistence is woken first and the edges last.
    r.toSor.commit();
    r.toPersistence.commit();
    r.toIngest.commit();
    r.toFixClients.commit();
    // After the commits: a clean stop that reads 0 here and then empty rings saw these records.
    this.counters.set(RiskCounter.SOR_RECORDS_WAITING, this.sorQueue.pending);
    this.counters.set(RiskCounter.KILL_BOARD_SEEN, this.boardSeen);
  }

  onRecord(view: DataView, bytes: Uint8Array, typeId: number, offset: number, length: number): void {
    switch (typeId) {
      case RecordType.NEW_ORDER:
        this.journalCommand(bytes, typeId, offset, length);
        this.onNewOrder(this.newOrder.wrap(view, bytes, offset));
        return;
      case RecordType.CANCEL_ORDER:
        this.journalCommand(bytes, typeId, offset, length);
        this.onCancel(this.cancel.wrap(view, bytes, offset));
        return;
      case RecordType.REPLACE_ORDER:
        this.journalCommand(bytes, typeId, offset, length);
        this.onReplace(this.cancel.wrap(view, bytes, offset));
        return;
      case RecordType.CHILD_EVENT:
        this.journalCommand(bytes, typeId, offset, length);
        this.onChildEvent(this.childEvent.wrap(view, bytes, offset), length);
        return;
      case RecordType.ROUTE_DONE:
        this.journalCommand(bytes, typeId, offset, length);
        this.onRouteDone(this.routeDone.wrap(view, bytes, offset));
        return;
      case RecordType.MASS_CANCEL:
        this.journalCommand(bytes, typeId, offset, length);
        this.onMassCancel(this.massCancel.wrap(view, bytes, offset));
        return;
      case RecordType.QUOTE:
        // Market data: not journaled (the reports it leads to are).
        this.onQuote(this.quote.wrap(view, bytes, offset));
        return;
      case RecordType.RISK_LIMIT:
        this.journalCommand(bytes, typeId, offset, length);
        this.onRiskLimit(this.riskLimit.wrap(view, bytes, offset));
        return;
      case RecordType.SOR_CONFIG:
        // An admin's routing change: journaled (who and what), then on to the SOR in order, so
        // it takes effect for the next order routed.
        this.journalCommand(bytes, typeId, offset, length);
        this.forwardToSor(bytes, typeId, offset, length);
        return;
    }
    this.counters.add(RiskCounter.UNKNOWN_RECORDS, 1);
  }

  // ------------------------------------------------------------------------------------------
  // Client commands
  // ------------------------------------------------------------------------------------------

  private onNewOrder(cmd: NewOrderFlyweight): void {
    this.counters.add(RiskCounter.ORDERS_RECEIVED, 1);
    if (this.ingestToRisk !== null) this.ingestToRisk.record(this.clock.nowNs() - cmd.recvTimeNs());
    // A FIX client's order comes on fix's ring, which this stage reads whatever room it has toward
    // the SOR (the header's ring cycle): while the SOR lags it is refused, as the edge refuses an
    // order when its ring to risk is full, rather than queued behind the lag (and before the
    // checks, so that nothing of it is remembered: a retry is a new order).
    if (cmd.source() === Source.FIX && !this.sorTakesOne()) {
      this.counters.add(RiskCounter.ORDERS_REJECTED, 1);
      this.emitCommandReject(cmd, Reason.ENGINE_BUSY);
      return;
    }
    const accountId = cmd.accountId();
    const reason = this.checkNewOrder(cmd);
    if (reason !== Reason.NONE) {
      if (reason === Reason.DUPLICATE_CL_ORD_ID) {
        // Idempotent resubmission: answer with the original order as it stands, create nothing.
        const existing = this.orders.findByClOrdId(accountId, cmd.bytes, cmd.clOrdIdOffset(), cmd.clOrdIdLength());
        this.counters.add(RiskCounter.DUPLICATES, 1);
        this.emitReportFor(existing, ExecType.NEW, 0, 0, Reason.DUPLICATE_CL_ORD_ID, 0, cmd.connId(), cmd.requestId(), cmd.source());
        return;
      }
      this.counters.add(RiskCounter.ORDERS_REJECTED, 1);
      if (reason >= Reason.SYMBOL_RESTRICTED && reason <= Reason.CREDIT_LIMIT_EXCEEDED) this.counters.add(RiskCounter.CONTROL_REJECTS, 1);
      this.emitCommandReject(cmd, reason);
      return;
    }
    const o = this.orders;
    const slot = o.allocate();
    this.counters.set(RiskCounter.ORDER_IDS_SKIPPED, o.idsSkipped);
    if (slot < 0) {
      this.counters.add(RiskCounter.ORDERS_REJECTED, 1);
      this.emitCommandReject(cmd, Reason.ORDER_TABLE_FULL);
      return;
    }
    o.accountId[slot] = accountId;
    o.symbolId[slot] = cmd.symbolId();
    o.connId[slot] = cmd.connId();
    o.requestId[slot] = cmd.requestId();
    o.side[slot] = cmd.side();
    o.ordType[slot] = cmd.ordType();
    o.tif[slot] = cmd.tif();
    o.source[slot] = cmd.source();
    o.qty[slot] = cmd.qty();
    o.priceTicks[slot] = cmd.ordType() === OrdType.MARKET ? 0 : cmd.priceTicks();
    o.recvTimeNs[slot] = cmd.recvTimeNs();
    o.setState(slot, OrderState.PENDING_NEW);
    o.setClOrdId(slot, cmd.bytes, cmd.clOrdIdOffset(), cmd.clOrdIdLength());
    this.expiring[slot] = 0;
    this.replaceEndReason[slot] = 0;
    // checkNewOrder left the reference price in checkedRefTicks: a market order reserves at it.
    const reservePx = o.ordType[slot] === OrdType.MARKET ? this.checkedRefTicks : o.priceTicks[slot];
    this.exposure.reserve(slot, accountId, o.symbolId[slot], o.side[slot], o.qty[slot], reservePx);
    if (this.limits.duplicateWindowMs[accountId] > 0) {
      this.duplicates.record(accountId, o.symbolId[slot], o.side[slot], o.qty[slot], o.priceTicks[slot], this.clock.nowNs());
    }
    this.apply(slot, OrderEvent.ACCEPT);
    this.counters.add(RiskCounter.ORDERS_ACCEPTED, 1);
    this.emitReport(slot, ExecType.NEW, 0, 0, Reason.NONE, 0);
    this.requestRoute(slot, o.qty[slot]);
  }

  /** The reference price the last checkNewOrder used (ticks), for the order's reservation. */
  private checkedRefTicks = 0;

  /**
   * The full pre-trade check of a new order; NONE when the order may go, else the reason of the
   * first control that refuses it. Takes a token from the account's message throttle (and order
   * throttle once the order is valid). Allocates nothing. Public for the benchmark.
   */
  checkNewOrder(cmd: NewOrderFlyweight): number {
    const accountId = cmd.accountId();
    const L = this.limits;
    if (!L.isKnown(accountId)) return Reason.UNKNOWN_ACCOUNT;
    if (L.enabled[accountId] === 0) return Reason.ACCOUNT_HALTED;
    const now = this.clock.nowNs();
    if (!this.msgThrottle.take(accountId, L.msgsPerS[accountId], L.msgBurst[accountId], now)) return Reason.MESSAGE_RATE_EXCEEDED;
    const symbolId = cmd.symbolId();
    if (!(symbolId < this.symbolCount)) return Reason.UNKNOWN_SYMBOL;
    const side = cmd.side();
    if (!isSide(side)) return Reason.INVALID_SIDE;
    if (!isOrdType(cmd.ordType())) return Reason.INVALID_ORD_TYPE;
    if (!isTif(cmd.tif())) return Reason.INVALID_TIF;
    const clLength = cmd.clOrdIdLength();
    if (clLength < 1 || clLength > CL_ORD_ID_CAPACITY) return Reason.INVALID_CL_ORD_ID;
    const qty = cmd.qty();
    if (!(Number.isInteger(qty) && qty >= 1 && qty <= MAX_QTY)) return Reason.INVALID_QTY;
    const limitOrder = cmd.ordType() === OrdType.LIMIT;
    const price = cmd.priceTicks();
    if (limitOrder && !(Number.isInteger(price) && price >= 1 && price <= MAX_PRICE_TICKS)) return Reason.INVALID_PRICE;
    if (this.orders.findByClOrdId(accountId, cmd.bytes, cmd.clOrdIdOffset(), clLength) >= 0) return Reason.DUPLICATE_CL_ORD_ID;
    const mode = this.modeOf(accountId);
    if (mode === AccountMode.HALTED) return Reason.ACCOUNT_HALTED;
    if (mode === AccountMode.REDUCE_ONLY && !this.reduces(accountId, symbolId, side, qty)) return Reason.REDUCE_ONLY;
    if (!this.orderThrottle.take(accountId, L.ordersPerS[accountId], L.orderBurst[accountId], now)) return Reason.ORDER_RATE_EXCEEDED;
    const cell = accountId * this.symbolCount + symbolId;
    if (L.restricted[cell] === 1) return Reason.SYMBOL_RESTRICTED;
    if (qty > L.maxOrderQty[accountId]) return Reason.MAX_QTY_EXCEEDED;
    const ref = this.refs.reference(symbolId, now);
    this.checkedRefTicks = ref;
    const px = limitOrder ? price : ref;
    if (qty * px > L.maxOrderNotionalTicks[accountId]) return Reason.MAX_NOTIONAL_EXCEEDED;
    if (limitOrder && !this.withinCollar(cell, price, ref)) return Reason.PRICE_OUTSIDE_COLLAR;
    const windowMs = L.duplicateWindowMs[accountId];
    if (windowMs > 0 && this.duplicates.seen(accountId, symbolId, side, qty, limitOrder ? price : 0, now, windowMs * 1e6)) return Reason.DUPLICATE_ORDER;
    return this.checkExposure(accountId, symbolId, side, qty, px, 0, 0);
  }

  /** Whether a limit price is within the symbol's band around the reference (band 0: no collar). */
  private withinCollar(cell: number, price: number, ref: number): boolean {
    const regular = this.session === null || this.session.isRegularHours(this.clock.epochMs());
    const bps = regular ? this.limits.bandBps[cell] : this.limits.bandOutsideBps[cell];
    if (bps === 0) return true;
    const band = bandTicks(ref, bps);
    return price <= ref + band && price >= ref - band;
  }

  /**
   * Short sale, position and credit for adding `qty` at `px` to the account's side, where the
   * order (if any, a replace) already reserves `heldQty` at `heldPx`: only the increase is
   * checked, so an order that reduces its exposure is never refused for a limit lowered since.
   */
  private checkExposure(accountId: number, symbolId: number, side: number, qty: number, px: number, heldQty: number, heldPx: number): number {
    const L = this.limits;
    const x = this.exposure;
    const cell = accountId * this.symbolCount + symbolId;
    const held = this.positions.qty[cell];
    if (side === Side.SELL) {
      if (qty <= heldQty) return Reason.NONE;
      const available = held - (x.openSellQty[cell] - heldQty);
      if (qty > available) {
        if (L.noShort[cell] === 1) return Reason.SHORT_SALE_RESTRICTED;
        if (L.allowShort[accountId] === 0) return Reason.SHORT_SALE_NOT_ALLOWED;
      }
      if (x.openSellQty[cell] - heldQty + qty - held > L.maxPosition[cell]) return Reason.POSITION_LIMIT_EXCEEDED;
      return Reason.NONE;
    }
    const added = qty * px - heldQty * heldPx;
    if (qty > heldQty && held + x.openBuyQty[cell] - heldQty + qty > L.maxPosition[cell]) return Reason.POSITION_LIMIT_EXCEEDED;
    if (added > 0 && x.creditUsed(accountId) + added > L.creditLimitTicks[accountId]) return Reason.CREDIT_LIMIT_EXCEEDED;
    return Reason.NONE;
  }

  private onCancel(cmd: CancelOrderFlyweight): void {
    this.counters.add(RiskCounter.CANCELS_RECEIVED, 1);
    // A cancel counts toward the message throttle but is never refused by it: refusing a cancel
    // would keep risk on the market.
    const accountId = cmd.accountId();
    if (this.limits.isKnown(accountId)) {
      const L = this.limits;
      this.msgThrottle.take(accountId, L.msgsPerS[accountId], L.msgBurst[accountId], this.clock.nowNs());
    }
    const slot = this.amendableTarget(cmd);
    if (slot < 0) return;
    const o = this.orders;
    // Reports for this order now go to whoever asked for the cancel (same account).
    o.connId[slot] = cmd.connId();
    o.requestId[slot] = cmd.requestId();
    o.source[slot] = cmd.source();
    this.requestCancel(slot, Reason.NONE);
  }

  /**
   * Applies CANCEL_REQUEST (the caller has checked it is legal): with nothing at a venue and no
   * route in flight the order is CANCELED at once, else it is PENDING_CANCEL and its live
   * children are canceled.
   */
  private requestCancel(slot: number, reason: number): void {
    const o = this.orders;
    this.apply(slot, OrderEvent.CANCEL_REQUEST);
    if (o.idle(slot)) {
      this.apply(slot, OrderEvent.CANCEL_DONE);
      this.emitReport(slot, ExecType.CANCELED, 0, 0, reason, 0);
      return;
    }
    this.emitReport(slot, ExecType.PENDING_CANCEL, 0, 0, reason, 0);
    this.cancelLiveChildren(slot);
  }

  /** Ends an order EXPIRED at the session close (counted, reported). */
  private expireNow(slot: number): void {
    this.apply(slot, OrderEvent.EXPIRE);
    this.counters.add(RiskCounter.EXPIRED, 1);
    this.emitReport(slot, ExecType.EXPIRED, 0, 0, Reason.SESSION_END, 0);
  }

  /**
   * Cancel/replace of price and/or quantity: the live children are canceled first; when none is
   * left the new terms apply and the rest is routed again. A new quantity below what is already
   * filled is refused.
   */
  private onReplace(cmd: CancelOrderFlyweight): void {
    this.counters.add(RiskCounter.REPLACES_RECEIVED, 1);
    const slot = this.amendableTarget(cmd);
    if (slot < 0) return;
    const o = this.orders;
    const qty = cmd.qty();
    // A replace without a price keeps the order's price (only the quantity changes).
    const price = o.ordType[slot] !== OrdType.LIMIT ? 0 : cmd.priceTicks() === 0 ? o.priceTicks[slot] : cmd.priceTicks();
    const clLength = cmd.clOrdIdLength();
    let reason: number = Reason.NONE;
    const accountId = o.accountId[slot];
    const L = this.limits;
    const mode = this.modeOf(accountId);
    const now = this.clock.nowNs();
    if (!this.msgThrottle.take(accountId, L.msgsPerS[accountId], L.msgBurst[accountId], now)) reason = Reason.MESSAGE_RATE_EXCEEDED;
    else if (!(Number.isInteger(qty) && qty >= 1 && qty <= MAX_QTY)) reason = Reason.INVALID_QTY;
    else if (mode === AccountMode.HALTED) reason = Reason.ACCOUNT_HALTED;
    else if (mode === AccountMode.REDUCE_ONLY && qty > o.qty[slot]) reason = Reason.REDUCE_ONLY;
    else if (qty <= o.cumQty[slot]) reason = Reason.REPLACE_NOT_ALLOWED;
    else if (o.ordType[slot] === OrdType.LIMIT && !(Number.isInteger(price) && price >= 1 && price <= MAX_PRICE_TICKS)) reason = Reason.INVALID_PRICE;
    else if (clLength < 1 || clLength > CL_ORD_ID_CAPACITY) reason = Reason.INVALID_CL_ORD_ID;
    else if (this.orders.findByClOrdId(o.accountId[slot], cmd.bytes, cmd.clOrdIdOffset(), clLength) >= 0) reason = Reason.DUPLICATE_CL_ORD_ID;
    else reason = this.checkReplaceLimits(slot, qty, price, now);
    if (reason !== Reason.NONE) {
      if (reason >= Reason.SYMBOL_RESTRICTED && reason <= Reason.CREDIT_LIMIT_EXCEEDED) this.counters.add(RiskCounter.CONTROL_REJECTS, 1);
      this.emitCancelReject(slot, cmd, reason);
      return;
    }
    // Until the replace completes either terms may trade: reserve the larger of both.
    const x = this.exposure;
    const newLeaves = qty - o.cumQty[slot];
    const newPx = o.ordType[slot] === OrdType.LIMIT ? price : x.resPx[slot];
    this.exposure.reserve(slot, accountId, o.symbolId[slot], o.side[slot], Math.max(x.resQty[slot], newLeaves), Math.max(x.resPx[slot], newPx));
    o.connId[slot] = cmd.connId();
    o.requestId[slot] = cmd.requestId();
    o.source[slot] = cmd.source();
    o.replaceQty[slot] = qty;
    o.replacePriceTicks[slot] = price;
    const base = slot * CL_ORD_ID_CAPACITY;
    copyBytes(cmd.bytes, cmd.clOrdIdOffset(), o.replaceClOrdIds, base, clLength);
    o.replaceClOrdIdLength[slot] = clLength;
    // The new ClOrdID is the order's from now on: no other order may take it meanwhile.
    o.reserveReplaceClOrdId(slot);
    this.apply(slot, OrderEvent.REPLACE_REQUEST);
    if (o.idle(slot)) {
      this.finishReplace(slot);
      return;
    }
    this.emitReport(slot, ExecType.PENDING_REPLACE, 0, 0, Reason.NONE, 0);
    this.cancelLiveChildren(slot);
  }

  /** Quantity, notional, collar (on a price change) and exposure checks of a replace's new terms. */
  private checkReplaceLimits(slot: number, qty: number, price: number, now: number): number {
    const o = this.orders;
    const L = this.limits;
    const accountId = o.accountId[slot];
    const symbolId = o.symbolId[slot];
    if (qty > L.maxOrderQty[accountId]) return Reason.MAX_QTY_EXCEEDED;
    const limitOrder = o.ordType[slot] === OrdType.LIMIT;
    const ref = this.refs.reference(symbolId, now);
    const x = this.exposure;
    const px = limitOrder ? price : x.resPx[slot];
    if (qty * (limitOrder ? price : ref) > L.maxOrderNotionalTicks[accountId]) return Reason.MAX_NOTIONAL_EXCEEDED;
    if (limitOrder && price !== o.priceTicks[slot] && !this.withinCollar(accountId * this.symbolCount + symbolId, price, ref)) return Reason.PRICE_OUTSIDE_COLLAR;
    const leaves = qty - o.cumQty[slot];
    return this.checkExposure(accountId, symbolId, o.side[slot], Math.max(x.resQty[slot], leaves), Math.max(x.resPx[slot], px), x.resQty[slot], x.resPx[slot]);
  }

  /**
   * The children are gone: apply the new terms, or, if fills arriving meanwhile already reached
   * the new quantity, refuse the replace and end the order. The client asked for at most the new
   * quantity; routing the rest again would buy or sell more than that.
   */
  private finishReplace(slot: number): void {
    const o = this.orders;
    o.releaseReplaceClOrdId(slot);
    if (o.replaceQty[slot] <= o.cumQty[slot]) {
      o.replaceClOrdIdLength[slot] = 0;
      this.apply(slot, OrderEvent.REPLACE_REJECT);
      this.emitReport(slot, ExecType.CANCEL_REJECT, 0, 0, Reason.REPLACE_NOT_ALLOWED, 0);
      if (o.state[slot] !== OrderState.FILLED) {
        this.apply(slot, OrderEvent.DONE_FOR_DAY);
        this.emitReport(slot, ExecType.CANCELED, 0, 0, Reason.REPLACE_NOT_ALLOWED, 0);
      }
      return;
    }
    const base = slot * CL_ORD_ID_CAPACITY;
    const origLength = o.clOrdIdLength[slot];
    copyBytes(o.clOrdIds, base, this.origScratch, 0, origLength);
    o.qty[slot] = o.replaceQty[slot];
    o.priceTicks[slot] = o.replacePriceTicks[slot];
    const newPx = o.ordType[slot] === OrdType.LIMIT ? o.priceTicks[slot] : this.exposure.resPx[slot];
    this.exposure.reserve(slot, o.accountId[slot], o.symbolId[slot], o.side[slot], o.qty[slot] - o.cumQty[slot], newPx);
    o.setClOrdId(slot, o.replaceClOrdIds, base, o.replaceClOrdIdLength[slot]);
    o.replaceClOrdIdLength[slot] = 0;
    this.apply(slot, OrderEvent.REPLACE_DONE);
    this.emitReport(slot, ExecType.REPLACED, 0, 0, Reason.NONE, 0);
    // A replace report names the ClOrdID it replaced as OrigClOrdID <41>.
    this.report.setOrigClOrdId(this.origScratch, 0, origLength);
    this.rewriteJournaledReport(this.clientRing(o.source[slot]));
    const leaves = o.qty[slot] - o.cumQty[slot];
    if (leaves === 0) return;
    // A mass cancel reached the order during the replace, or will (queued, or its scan not yet
    // at this slot), or the account is halted (its sweep was refused, MASS_CANCELS_REFUSED):
    // the new terms never go to a venue.
    let endReason = this.replaceEndReason[slot];
    if (endReason === 0 && this.mcCount > 0) endReason = this.queuedMassCancelFor(slot);
    if (endReason === 0 && this.modeOf(o.accountId[slot]) === AccountMode.HALTED) endReason = Reason.KILL_SWITCH;
    if (endReason !== 0) {
      this.apply(slot, OrderEvent.DONE_FOR_DAY);
      this.emitReport(slot, ExecType.CANCELED, 0, 0, endReason, 0);
      return;
    }
    this.requestRoute(slot, leaves);
  }

  // ------------------------------------------------------------------------------------------
  // Kill switch and mass cancels
  // ------------------------------------------------------------------------------------------

  /** The stricter of the account's own mode and the global one (HALTED > REDUCE_ONLY > NORMAL). */
  private modeOf(accountId: number): number {
    const own = accountId < this.accountMode.length ? this.accountMode[accountId] : AccountMode.NORMAL;
    const global = this.globalMode;
    if (own === AccountMode.HALTED || global === AccountMode.HALTED) return AccountMode.HALTED;
    return own === AccountMode.REDUCE_ONLY || global === AccountMode.REDUCE_ONLY ? AccountMode.REDUCE_ONLY : AccountMode.NORMAL;
  }

  /**
   * Whether an order would only reduce the position: opposite side, no larger than it. Open
   * orders on the same side are not netted, so several reducing orders may together cross zero;
   * each one alone cannot.
   */
  private reduces(accountId: number, symbolId: number, side: number, qty: number): boolean {
    const held = this.positions.qty[this.positions.cell(accountId, symbolId)];
    return side === Side.BUY ? held < 0 && qty <= -held : held > 0 && qty <= held;
  }

  /**
   * Sets an account's (0: every account's) mode. False, and nothing set, for a mode out of range
   * or an account beyond the table. Used by applyAccountControl and by recovery's restorer.
   */
  setMode(accountId: number, mode: number): boolean {
    if (mode > AccountMode.REDUCE_ONLY) return false;
    if (accountId === 0) this.globalMode = mode;
    else if (accountId < this.accountMode.length) this.accountMode[accountId] = mode;
    else return false;
    return true;
  }

  /**
   * Recovery only: a journaled HALTED of this account (0: every account), which setMode took (so
   * within the table), reached every order restored so far. Used by finishRecovery to sweep
   * again what that halt's cut sweep missed.
   */
  restoreHalt(accountId: number): void {
    this.haltBelow[accountId] = this.orders.peekNextOrderId();
  }

  /**
   * Takes what changed on the kill board since the last look, account by account: a HALTED asked
   * since (even if undone before this look) halts and cancels, then the latest mode asked holds.
   * Each change is journaled here, ahead of everything this cycle reads after it. Returns how
   * many accounts' changes it took; what it could not take yet (the writer between its stores, or
   * no room in the journal or an edge ring) is taken next cycle.
   */
  private applyKillBoard(board: KillBoard, gen: number): number {
    if ((gen & 1) === 1) return 0;
    let applied = 0;
    // Inputs' worth of room outside the cycle: one account's change (at most two journal
    // records) takes one.
    let room = this.cycleExitLimit();
    for (let a = 0; a < this.boardMode.length; a++) {
      const word = board.modeWord(a);
      const halts = board.halts(a);
      if (word === this.boardMode[a] && halts === this.boardHalts[a]) continue;
      const admin = board.admin(a);
      const haltAdmin = board.haltAdmin(a);
      // Written to again while read, or no room for two journal records: the next cycle.
      if (board.generation() !== gen || room-- === 0) return applied;
      const mode = modeOfWord(word);
      const halted = halts !== this.boardHalts[a];
      if (halted) this.applyAccountControl(a, AccountMode.HALTED, haltAdmin);
      if (!(halted && mode === AccountMode.HALTED)) this.applyAccountControl(a, mode, admin);
      applied++;
      this.boardMode[a] = word;
      this.boardHalts[a] = halts;
    }
    this.boardSeen = gen;
    return applied;
  }

  /** Sets an account's (0: every account's) mode and journals it; halting also cancels its open orders. */
  private applyAccountControl(accountId: number, mode: number, adminAccountId: number): void {
    if (!this.setMode(accountId, mode)) return;
    this.counters.add(RiskCounter.KILL_SWITCH_CHANGES, 1);
    const p = this.rings.toPersistence;
    const at = p.claimChecked(RecordType.ACCOUNT_CONTROL, ACCOUNT_CONTROL_LENGTH);
    this.accountControl.wrap(p.view, p.bytes, at).setTimeNs(this.clock.nowNs()).setAccountId(accountId).setAdminAccountId(adminAccountId).setMode(mode);
    if (mode === AccountMode.HALTED) this.enqueueMassCancel(accountId, ALL_SYMBOLS, 0, Reason.KILL_SWITCH);
  }

  private onMassCancel(cmd: MassCancelFlyweight): void {
    this.enqueueMassCancel(cmd.accountId(), cmd.symbolId(), cmd.connId(), cmd.reason());
  }

  /** Queues a mass cancel of the orders issued so far (ids below `below`: by default, every one issued before this call). */
  private enqueueMassCancel(accountId: number, symbolId: number, connId: number, reason: number, below = this.orders.peekNextOrderId()): void {
    if (this.mcCount === MASS_CANCEL_QUEUE) {
      // Counted, never silent: the edge limits how often one account may ask.
      this.counters.add(RiskCounter.MASS_CANCELS_REFUSED, 1);
      return;
    }
    const at = (this.mcHead + this.mcCount) % MASS_CANCEL_QUEUE;
    this.mcAccount[at] = accountId;
    this.mcSymbol[at] = symbolId;
    this.mcConn[at] = connId;
    this.mcReason[at] = reason;
    this.mcBelow[at] = below;
    if (this.mcCount === 0) this.mcCursor = 0;
    this.mcCount++;
    this.counters.add(RiskCounter.MASS_CANCELS, 1);
  }

  /**
   * Scans the order table for the head mass cancel, canceling at most `budget` orders (each
   * within one input's worst-case output) and examining at most MASS_SCAN_PER_CYCLE slots.
   */
  private advanceMassCancels(budget: number): number {
    const o = this.orders;
    let canceled = 0;
    let scanned = 0;
    while (this.mcCount > 0 && canceled < budget && scanned < MASS_SCAN_PER_CYCLE) {
      const slot = this.mcCursor;
      if (slot >= o.capacity) {
        this.mcHead = (this.mcHead + 1) % MASS_CANCEL_QUEUE;
        this.mcCount--;
        this.mcCursor = 0;
        continue;
      }
      this.mcCursor++;
      scanned++;
      if (this.massCancelMatches(this.mcHead, slot) && this.cancelOpenOrder(slot, this.mcReason[this.mcHead])) canceled++;
    }
    return canceled + (scanned > 0 ? 1 : 0);
  }

  /** Whether the queued mass cancel at entry `head` reaches the order at `slot` (when its scan gets there). */
  private massCancelMatches(head: number, slot: number): boolean {
    const o = this.orders;
    if (o.orderId[slot] === 0 || isTerminal(o.state[slot])) return false;
    // An order taken after the ask (a halt lifted, then new orders, while the scan goes on) is not reached.
    if (o.orderId[slot] >= this.mcBelow[head]) return false;
    if (this.mcAccount[head] !== 0 && o.accountId[slot] !== this.mcAccount[head]) return false;
    if (this.mcSymbol[head] !== ALL_SYMBOLS && o.symbolId[slot] !== this.mcSymbol[head]) return false;
    if (this.mcReason[head] === Reason.SESSION_END && o.tif[slot] !== Tif.DAY) return false;
    return this.mcConn[head] === 0 || (o.connId[slot] === this.mcConn[head] && o.source[slot] === Source.INGEST);
  }

  /**
   * The reason of a queued mass cancel, other than the session close's (it expires the order
   * once re-routed), whose scan is still to reach the order at `slot`; 0 if none. Off the order
   * path: only a replace completing while mass cancels are queued asks.
   */
  private queuedMassCancelFor(slot: number): number {
    for (let i = 0; i < this.mcCount; i++) {
      const at = (this.mcHead + i) % MASS_CANCEL_QUEUE;
      if (this.mcReason[at] === Reason.SESSION_END) continue;
      if (i === 0 && slot < this.mcCursor) continue;
      if (this.massCancelMatches(at, slot)) return this.mcReason[at];
    }
    return 0;
  }

  /** Cancels one open order unsolicited (its reports carry the reason); false if it may not be. */
  private cancelOpenOrder(slot: number, reason: number): boolean {
    const o = this.orders;
    if (reason === Reason.SESSION_END) return this.expireOrder(slot);
    if (transition(o.state[slot], OrderEvent.CANCEL_REQUEST, o.cumQty[slot] > 0) === ILLEGAL) {
      // A replace under way: when it completes, the order is ended with this reason
      // (finishReplace), even if a halt is lifted by then.
      if (o.state[slot] === OrderState.PENDING_REPLACE) this.replaceEndReason[slot] = reason;
      return false;
    }
    this.requestCancel(slot, reason);
    return true;
  }

  /**
   * The session closed on a DAY order: ended EXPIRED at once when nothing of it is at a venue,
   * else its children are canceled first (PENDING_CANCEL) and it expires when they are done. An
   * order already being canceled or replaced is marked and expires when that settles.
   */
  private expireOrder(slot: number): boolean {
    const o = this.orders;
    const state = o.state[slot];
    this.expiring[slot] = 1;
    if (state === OrderState.PENDING_CANCEL || state === OrderState.PENDING_REPLACE) return true;
    if (o.idle(slot)) {
      this.expireNow(slot);
      return true;
    }
    this.apply(slot, OrderEvent.CANCEL_REQUEST);
    this.emitReport(slot, ExecType.PENDING_CANCEL, 0, 0, Reason.SESSION_END, 0);
    this.cancelLiveChildren(slot);
    return true;
  }

  /** At the session close, every open DAY order is queued for expiry (one scan of the table). */
  private checkSessionEnd(): void {
    if (this.session === null) return;
    const nowMs = this.clock.epochMs();
    if (nowMs < this.nextCloseMs) return;
    this.nextCloseMs = this.session.nextCloseAfter(nowMs);
    if (this.session.expireDayOrders) this.enqueueMassCancel(0, ALL_SYMBOLS, 0, Reason.SESSION_END);
  }

  // ------------------------------------------------------------------------------------------
  // Market data, limits, marks
  // ------------------------------------------------------------------------------------------

  private onQuote(q: QuoteFlyweight): void {
    const ok = this.refs.onQuote(q.symbolId(), q.venueId(), q.bidTicks(), q.bidQty(), q.askTicks(), q.askQty(), this.clock.nowNs());
    this.counters.add(ok ? RiskCounter.QUOTES : RiskCounter.QUOTES_REFUSED, 1);
  }

  /**
   * Applies one limit and raises the limits' version to `version` if higher. False, and nothing
   * changed, when the limits refuse it. Used by onRiskLimit and by recovery's restorer.
   */
  applyLimit(key: number, accountId: number, symbolId: number, value: number, version: number): boolean {
    if (!this.limits.apply(key, accountId, symbolId, value)) return false;
    if (version > this.limits.version) this.limits.version = version;
    return true;
  }

  /** An admin's limit change (validated at the edge, and again here): holds from the next order. */
  private onRiskLimit(r: RiskLimitFlyweight): void {
    if (!this.applyLimit(r.key(), r.accountId(), r.symbolId(), r.value(), r.version())) {
      this.counters.add(RiskCounter.LIMIT_CHANGES_REFUSED, 1);
      return;
    }
    this.counters.add(RiskCounter.LIMIT_CHANGES, 1);
  }

  /**
   * Every markInterval, symbols whose reference price moved are re-marked: each open position in
   * them gets a POSITION record with the new mark and unrealized P&L, at most a batch limit per cycle
   * (each within an input's worst-case room in the ring to ingest).
   */
  private advanceMarks(): number {
    if (this.markCursor < 0) {
      const now = this.clock.nowNs();
      if (now < this.nextMarkNs) return 0;
      this.nextMarkNs = now + this.markIntervalNs;
      let moved = false;
      for (let s = 0; s < this.symbolCount; s++) {
        const ref = this.refs.reference(s, now);
        const changed = ref !== this.markTicks[s];
        this.markDirty[s] = changed ? 1 : 0;
        if (changed) {
          this.markTicks[s] = ref;
          moved = true;
        }
      }
      if (!moved) return 0;
      this.markCursor = 0;
    }
    const budget = this.cycleExitLimit();
    const p = this.positions;
    const cells = p.qty.length;
    let emitted = 0;
    let scanned = 0;
    while (this.markCursor < cells && emitted < budget && scanned < MARK_SCAN_PER_CYCLE) {
      const cell = this.markCursor++;
      scanned++;
      const symbolId = cell % this.symbolCount;
      if (this.markDirty[symbolId] === 0 || p.qty[cell] === 0) continue;
      this.emitPosition(cell, (cell - symbolId) / this.symbolCount, symbolId);
      emitted++;
    }
    if (this.markCursor >= cells) this.markCursor = -1;
    this.counters.add(RiskCounter.MARKS, emitted);
    // Only records written count as work: a pass over flat positions must not keep the stage
    // from parking (it resumes on the next cycle).
    return emitted;
  }

  /**
   * The slot of the order a cancel or replace may act on, or -1 after answering the command
   * with the reason it may not (unknown, already done, or a cancel/replace already pending).
   */
  private amendableTarget(cmd: CancelOrderFlyweight): number {
    const slot = this.findTarget(cmd);
    if (slot < 0) {
      this.emitCancelRejectFromCommand(cmd, Reason.UNKNOWN_ORDER);
      return -1;
    }
    const state = this.orders.state[slot];
    if (isTerminal(state)) {
      this.emitCancelReject(slot, cmd, Reason.ORDER_NOT_CANCELABLE);
      return -1;
    }
    if (state === OrderState.PENDING_CANCEL || state === OrderState.PENDING_REPLACE) {
      this.emitCancelReject(slot, cmd, Reason.CANCEL_PENDING);
      return -1;
    }
    return slot;
  }

  /** The order a cancel or replace names: by engine id, else by OrigClOrdID; same account only. */
  private findTarget(cmd: CancelOrderFlyweight): number {
    const o = this.orders;
    const orderId = cmd.orderId();
    const slot = orderId > 0
      ? o.slotOf(orderId)
      : o.findByClOrdId(cmd.accountId(), cmd.bytes, cmd.origClOrdIdOffset(), cmd.origClOrdIdLength());
    if (slot < 0 || o.accountId[slot] !== cmd.accountId()) return -1;
    return slot;
  }

  // ------------------------------------------------------------------------------------------
  // Venue events
  // ------------------------------------------------------------------------------------------

  private onRouteDone(done: RouteDoneFlyweight): void {
    const slot = this.orders.slotOf(done.orderId());
    if (slot < 0) {
      this.counters.add(RiskCounter.UNKNOWN_RECORDS, 1);
      return;
    }
    const o = this.orders;
    o.routeDone(slot);
    if (done.childCount() === 0 && done.reason() !== Reason.NONE) o.lastReason[slot] = done.reason();
    this.settleIfIdle(slot);
  }

  /** length: the record's (a bust or correction carries the venue's ExecRefID past the fixed part). */
  private onChildEvent(ev: ChildEventFlyweight, length: number): void {
    const kind = ev.kind();
    if (kind === ChildEventKind.SENT) {
      this.onChildSent(ev);
      return;
    }
    // A venue's bust or correction of a fill, usually of a child already ended: found by the
    // fill it names, not by the child (whose slot may hold a newer child by now).
    if (kind === ChildEventKind.TRADE_CANCEL || kind === ChildEventKind.TRADE_CORRECT) {
      this.onTradeCorrection(ev, kind, length);
      return;
    }
    const cs = this.children.slotOf(ev.childId());
    if (cs < 0) {
      // A child refused before it was ever sent (venue down): its parent learns at ROUTE_DONE.
      if (kind === ChildEventKind.REJECTED) {
        const slot = this.orders.slotOf(ev.orderId());
        if (slot >= 0) this.orders.lastReason[slot] = ev.reason();
        return;
      }
      this.counters.add(RiskCounter.UNKNOWN_RECORDS, 1);
      return;
    }
    const slot = this.orders.slotOf(this.children.orderId[cs]);
    if (slot < 0) {
      this.counters.add(RiskCounter.UNKNOWN_RECORDS, 1);
      return;
    }
    switch (kind) {
      case ChildEventKind.ACKED:
        return;
      case ChildEventKind.FILL:
        this.onFill(slot, cs, ev, length);
        return;
      case ChildEventKind.CANCELED:
      case ChildEventKind.REJECTED:
      case ChildEventKind.EXPIRED:
        this.childDone(slot, cs, ev.reason() !== Reason.NONE ? ev.reason() : Reason.VENUE_CANCELED);
        return;
      case ChildEventKind.CANCEL_REJECTED:
        // The child is still live (or its fill is on the way); the parent's cancel waits for it.
        this.counters.add(RiskCounter.CHILD_CANCEL_REJECTS, 1);
        return;
    }
    this.counters.add(RiskCounter.UNKNOWN_RECORDS, 1);
  }

  /**
   * A child sent to its venue, into the child table and the head of its order's child list
   * (the order at `slot`): live, its quantity open at the venue. Returns the child's slot, or -1
   * when the table refuses it (its slot still holds a live child). Recovery links children the
   * same way (workers/risk/recovery.ts).
   */
  linkChild(slot: number, childId: number, venueId: number, qty: number, priceTicks: number): number {
    const o = this.orders;
    const cs = this.children.add(childId, o.orderId[slot], venueId, qty, priceTicks, o.firstChild[slot]);
    if (cs < 0) return -1;
    o.firstChild[slot] = childId;
    o.liveChildren[slot]++;
    o.venueOpenQty[slot] += qty;
    return cs;
  }

  private onChildSent(ev: ChildEventFlyweight): void {
    const slot = this.orders.slotOf(ev.orderId());
    if (slot < 0) {
      this.counters.add(RiskCounter.UNKNOWN_RECORDS, 1);
      return;
    }
    const o = this.orders;
    let cs = this.linkChild(slot, ev.childId(), ev.venueId(), ev.qty(), ev.priceTicks());
    if (cs < 0) {
      // The slot still holds a child live here that fix has ended: fix sends a child only into a
      // slot whose child it holds done. That happens when this stage refused an event fix took
      // (a fill at a price out of range): fix, which follows the venue, is right. The old child
      // ends here too, counted, and the new one takes the slot.
      const old = this.children.slotFor(ev.childId());
      const oldOrder = this.orders.slotOf(this.children.orderId[old]);
      if (oldOrder >= 0) this.childDone(oldOrder, old, Reason.NONE);
      else this.children.live[old] = 0;
      this.counters.add(RiskCounter.STALE_CHILDREN_ENDED, 1);
      cs = this.linkChild(slot, ev.childId(), ev.venueId(), ev.qty(), ev.priceTicks());
      if (cs < 0) throw new Error('Invariant: a child slot is free once its stale child ended');
    }
    if (isTerminal(o.state[slot])) {
      // Decided before the order ended (a late fill completed it meanwhile): it is live at its
      // venue for an order that wants nothing more, so it is canceled at once.
      this.sendChildCancel(slot, cs);
      return;
    }
    this.apply(slot, OrderEvent.ROUTE);
    const state = o.state[slot];
    // The client asked to cancel or replace while this child was being decided: cancel it now.
    if (state === OrderState.PENDING_CANCEL || state === OrderState.PENDING_REPLACE) this.sendChildCancel(slot, cs);
  }

  private onFill(slot: number, cs: number, ev: ChildEventFlyweight, length: number): void {
    const o = this.orders;
    const c = this.children;
    let lastQty = ev.lastQty();
    const lastPx = ev.lastPxTicks();
    if (!(Number.isInteger(lastQty) && lastQty > 0 && c.cumQty[cs] + lastQty <= c.qty[cs])) {
      // A venue reporting more than the child's quantity is a venue error: counted for the
      // operators, not applied.
      this.counters.add(RiskCounter.OVERFILLS, 1);
      return;
    }
    if (!(Number.isInteger(lastPx) && lastPx >= 1 && lastPx <= MAX_PRICE_TICKS)) {
      this.counters.add(RiskCounter.OVERFILLS, 1);
      return;
    }
    // A late fill: the child was already done at its venue (canceled, expired) or the order is
    // canceled or expired. The trade happened: it is booked and reported, the state stays.
    const late = c.live[cs] === 0 || isTerminal(o.state[slot]);
    c.cumQty[cs] += lastQty;
    if (c.live[cs] === 1) o.venueOpenQty[slot] -= lastQty;
    // The order never books more than its quantity: a late fill of an earlier child can leave
    // less to fill than the children routed since hold. The excess is a venue overfill,
    // counted for the operators; the child still counts it as done at its venue.
    const room = o.qty[slot] - o.cumQty[slot];
    if (lastQty > room) {
      this.counters.add(RiskCounter.OVERFILLS, 1);
      lastQty = room;
    }
    if (lastQty === 0) {
      if (c.cumQty[cs] >= c.qty[cs]) this.childDone(slot, cs, Reason.NONE);
      return;
    }
    o.cumQty[slot] += lastQty;
    o.cumNotional[slot] += lastQty * lastPx;
    const x = this.exposure;
    if (x.resQty[slot] > 0) x.reserve(slot, o.accountId[slot], o.symbolId[slot], o.side[slot], Math.max(0, x.resQty[slot] - lastQty), x.resPx[slot]);
    const cell = this.bookFill(o.accountId[slot], o.symbolId[slot], o.side[slot], lastQty, lastPx);
    this.counters.add(RiskCounter.FILLS, 1);
    const complete = o.cumQty[slot] >= o.qty[slot];
    if (late && isTerminal(o.state[slot])) {
      this.counters.add(RiskCounter.LATE_FILLS, 1);
      this.emitFillReport(slot, complete ? ExecType.FILL : ExecType.PARTIAL_FILL, lastQty, lastPx, c.venueId[cs], storedIdKey(ev, ev.execIdOffset(), ev.execIdLength(length)));
      this.emitPosition(cell, o.accountId[slot], o.symbolId[slot]);
      return;
    }
    if (late) this.counters.add(RiskCounter.LATE_FILLS, 1);
    // A late fill of a child that ended before a replace took effect can find the order NEW
    // (re-routing under its new terms): it did have a child at a venue, so it is ROUTED first.
    if (o.state[slot] === OrderState.NEW) this.apply(slot, OrderEvent.ROUTE);
    this.apply(slot, complete ? OrderEvent.FILL : OrderEvent.PARTIAL_FILL);
    this.emitFillReport(slot, complete ? ExecType.FILL : ExecType.PARTIAL_FILL, lastQty, lastPx, c.venueId[cs], storedIdKey(ev, ev.execIdOffset(), ev.execIdLength(length)));
    this.emitPosition(cell, o.accountId[slot], o.symbolId[slot]);
    if (c.cumQty[cs] >= c.qty[cs]) this.childDone(slot, cs, Reason.NONE);
  }

  /**
   * The report of a fill booked (lastQty, as booked), carrying its fill ledger key (storedIdKey
   * of its venue ExecID, 0 for none); a fill with one goes into the ledger under its report's
   * eventSeq, for a bust to find.
   */
  private emitFillReport(slot: number, execType: number, lastQty: number, lastPx: number, venueId: number, venueExecIdHash: number): void {
    this.emitReport(slot, execType, lastQty, lastPx, Reason.NONE, venueId, venueExecIdHash);
    if (venueExecIdHash !== 0) this.fills.add(venueExecIdHash, this.eventSeq, this.orders.orderId[slot], lastQty, lastPx);
  }

  /**
   * A venue's bust (TRADE_CANCEL) or correction (TRADE_CORRECT: the corrected lastQty and lastPx)
   * of a fill, named by its ExecRefID: the fill booked under that ExecID (the fill ledger) is
   * taken back from its order and its position, and the corrected trade, if any, booked in its
   * place. The order's cumQty and notional fall by what was taken back, and its state follows
   * (OrderEvent.TRADE_BUST, or TRADE_REPRICE for a correction of the price only): a filled order
   * whose fill was busted ends CANCELED, its busted quantity not worked again; a working order
   * keeps working what it has at venues. The child keeps the venue's executed quantity (the
   * venue does not reopen a busted child's quantity here). The client gets a report with
   * ExecType H or G, its ExecRefID the busted fill's report's eventSeq, and the position its
   * update. Not applied, and counted in TRADE_CORRECTIONS_UNAPPLIED for operations to settle with
   * the venue: a fill the ledger no longer holds (or never did: a fill without ExecID, or one risk
   * refused), one already busted, one of another order, and a correction that raises the
   * quantity (it would need the order's room checked again as a new fill) or carries no valid
   * LastQty/LastPx. The fix stage journals the event either way (the audit trail).
   */
  private onTradeCorrection(ev: ChildEventFlyweight, kind: number, length: number): void {
    const refLength = ev.execRefIdLength(length);
    const hash = refLength > 0 ? storedIdKey(ev, ev.execRefIdOffset(), refLength) : 0;
    const f = this.fills;
    const at = f.find(hash);
    const o = this.orders;
    const slot = at >= 0 && f.orderId[at] === ev.orderId() ? o.slotOf(ev.orderId()) : -1;
    const cancel = kind === ChildEventKind.TRADE_CANCEL;
    const newQty = cancel ? 0 : ev.lastQty();
    const newPx = cancel ? 0 : ev.lastPxTicks();
    if (slot < 0 || !this.correctable(slot, at, cancel, newQty, newPx)) {
      this.counters.add(RiskCounter.TRADE_CORRECTIONS_UNAPPLIED, 1);
      return;
    }
    const oldQty = f.qty[at];
    const oldPx = f.pxTicks[at];
    o.cumQty[slot] -= oldQty - newQty;
    o.cumNotional[slot] -= oldQty * oldPx - newQty * newPx;
    this.apply(slot, newQty < oldQty ? OrderEvent.TRADE_BUST : OrderEvent.TRADE_REPRICE);
    // A working order's reservation covers its leaves again (as recovery reserves them): the
    // busted quantity is not worked, but the order's terms allow it until the order ends.
    const x = this.exposure;
    if (newQty < oldQty && !isTerminal(o.state[slot]) && x.resPx[slot] > 0) {
      x.reserve(slot, o.accountId[slot], o.symbolId[slot], o.side[slot], x.resQty[slot] + oldQty - newQty, x.resPx[slot]);
    }
    const cell = this.rebookTrade(o.accountId[slot], o.symbolId[slot], o.side[slot], oldQty, oldPx, newQty, newPx);
    f.correct(at, newQty, newPx);
    this.counters.add(cancel ? RiskCounter.TRADE_BUSTS : RiskCounter.TRADE_CORRECTIONS, 1);
    this.emitReport(
      slot, cancel ? ExecType.TRADE_CANCEL : ExecType.TRADE_CORRECT, cancel ? oldQty : newQty, cancel ? oldPx : newPx, Reason.NONE,
      ev.venueId(), hash, f.eventSeq[at],
    );
    this.emitPosition(cell, o.accountId[slot], o.symbolId[slot]);
  }

  /** Whether the fill at ledger slot `at`, of the order at `slot`, can be busted or corrected to newQty at newPx. */
  private correctable(slot: number, at: number, cancel: boolean, newQty: number, newPx: number): boolean {
    const f = this.fills;
    const oldQty = f.qty[at];
    if (oldQty === 0) return false; // busted already
    if (!cancel && !(Number.isInteger(newQty) && newQty > 0 && newQty <= oldQty && Number.isInteger(newPx) && newPx >= 1 && newPx <= MAX_PRICE_TICKS)) return false;
    const o = this.orders;
    const cumAfter = o.cumQty[slot] - (oldQty - newQty);
    // Holds while every booked fill is in the ledger once; checked, as the state machine's throw is not for venue input.
    return cumAfter >= 0 && transition(o.state[slot], newQty < oldQty ? OrderEvent.TRADE_BUST : OrderEvent.TRADE_REPRICE, cumAfter > 0) !== ILLEGAL;
  }

  /**
   * Takes a booked trade (oldQty at oldPx) back out of its position (the opposite trade at its
   * price: the position's quantity and its total P&L at any mark come back exactly to what they
   * would be without it; the split between realized and unrealized may differ) and books newQty
   * at newPx in its place (0: a bust). Returns the cell. Not a trade of the market: the last
   * trade price is left alone. Recovery rebooks the same way (restoreTradeCorrection).
   */
  private rebookTrade(accountId: number, symbolId: number, side: number, oldQty: number, oldPx: number, newQty: number, newPx: number): number {
    const buy = side === Side.BUY;
    this.bookTrade(accountId, symbolId, buy ? -oldQty : oldQty, oldPx);
    return newQty > 0 ? this.bookTrade(accountId, symbolId, buy ? newQty : -newQty, newPx) : this.positions.cell(accountId, symbolId);
  }

  /** Applies a fill to the position, the account's long cost and the last trade price; returns the cell. */
  private bookFill(accountId: number, symbolId: number, side: number, lastQty: number, lastPx: number): number {
    const cell = this.bookTrade(accountId, symbolId, side === Side.BUY ? lastQty : -lastQty, lastPx);
    this.refs.onTrade(symbolId, lastPx);
    return cell;
  }

  /** Applies signedQty at pxTicks to the position and the account's long cost; returns the cell. */
  private bookTrade(accountId: number, symbolId: number, signedQty: number, pxTicks: number): number {
    const p = this.positions;
    const cell = p.cell(accountId, symbolId);
    const qtyBefore = p.qty[cell];
    const costBefore = p.costTicks[cell];
    p.applyFill(accountId, symbolId, signedQty, pxTicks);
    this.exposure.onPosition(accountId, qtyBefore, costBefore, p.qty[cell], p.costTicks[cell]);
    return cell;
  }

  /** A child is no longer live at its venue (filled, canceled, rejected or expired). */
  private childDone(slot: number, cs: number, reason: number): void {
    if (!this.endChild(slot, cs)) return;
    if (reason !== Reason.NONE) this.orders.lastReason[slot] = reason;
    this.settleIfIdle(slot);
  }

  /**
   * A live child of the order at `slot` ended at its venue: no longer live, its rest no longer
   * open there, and out of its order's child list, which so holds live children only (a child
   * that ended keeps its slot, for a late fill, until a newer child takes it, and the list must
   * not run through a reused slot). Returns false when it had ended already. Recovery ends
   * children the same way (workers/risk/recovery.ts).
   */
  endChild(slot: number, cs: number): boolean {
    const o = this.orders;
    const c = this.children;
    if (c.live[cs] === 0) return false;
    c.live[cs] = 0;
    o.childEnded(slot);
    o.venueOpenQty[slot] -= c.qty[cs] - c.cumQty[cs];
    const childId = c.childId[cs];
    const next = c.nextSibling[cs];
    c.nextSibling[cs] = 0;
    if (o.firstChild[slot] === childId) {
      o.firstChild[slot] = next;
      return true;
    }
    for (let at = c.slotOf(o.firstChild[slot]); at >= 0; at = c.slotOf(c.nextSibling[at])) {
      if (c.nextSibling[at] === childId) {
        c.nextSibling[at] = next;
        return true;
      }
    }
    throw new Error('Invariant: a live child is in its order\'s child list');
  }

  /**
   * Once an order has no live child and no route in flight, decide what it becomes: canceled
   * (requested, or nothing left working), replaced, or left as it is when it is complete.
   */
  private settleIfIdle(slot: number): void {
    const o = this.orders;
    if (!o.idle(slot)) return;
    const state = o.state[slot];
    if (isTerminal(state)) return;
    if (this.expiring[slot] === 1 && (state === OrderState.PENDING_CANCEL || state === OrderState.PENDING_REPLACE)) {
      this.expireNow(slot);
      return;
    }
    if (state === OrderState.PENDING_CANCEL) {
      this.apply(slot, OrderEvent.CANCEL_DONE);
      this.emitReport(slot, ExecType.CANCELED, 0, 0, Reason.NONE, 0);
      return;
    }
    if (state === OrderState.PENDING_REPLACE) {
      this.finishReplace(slot);
      return;
    }
    // Nothing is working for this order any more: the rest is done for the day (no venue, an
    // IOC's or FOK's rest after the SOR's last step, venue cancel or reject).
    this.apply(slot, OrderEvent.DONE_FOR_DAY);
    this.emitReport(slot, ExecType.CANCELED, 0, 0, o.lastReason[slot] !== 0 ? o.lastReason[slot] : Reason.VENUE_CANCELED, 0);
  }

  // ------------------------------------------------------------------------------------------
  // Recovery (workers/recovery.ts rebuilds the tables from the journal before the loop starts;
  // these methods are its only way in, and the resume pass runs from doWork)
  // ------------------------------------------------------------------------------------------

  /** Resume pass: which step runs next, and the slot or cell it is at. */
  private resumePhase: number = RESUME_DONE;
  private resumeCursor = 0;
  /** The last SOR_CONFIG of the journal, forwarded to the (new) SOR once at resume, or null. */
  private resumeSorConfig: Uint8Array | null = null;

  /** Event sequence numbers continue after the highest recovered one (no reuse). */
  restoreEventSeq(eventSeq: number): void {
    if (eventSeq > this.eventSeq) this.eventSeq = eventSeq;
  }

  /** The last event sequence number issued (for recovery and its tests). */
  peekEventSeq(): number {
    return this.eventSeq;
  }

  /** A fill read from the journal: position, long cost and last trade, as bookFill, no output. */
  restoreFill(accountId: number, symbolId: number, side: number, lastQty: number, lastPx: number): void {
    this.bookFill(accountId, symbolId, side, lastQty, lastPx);
  }

  /** A fill report read from the journal that carried a venue ExecID: into the fill ledger, as emitFillReport puts it. */
  restoreFillLedger(venueExecIdHash: number, eventSeq: number, orderId: number, lastQty: number, lastPx: number): void {
    this.fills.add(venueExecIdHash, eventSeq, orderId, lastQty, lastPx);
  }

  /**
   * A bust or correction report read from the journal (its order's fields come from the report
   * itself): the position rebooked as onTradeCorrection rebooked it (the trade taken back and
   * the corrected one, newQty 0 for a bust, as the recovery reads them from the reports, so the
   * position does not depend on the ledger), and the ledger's entry, if it holds the fill, as
   * corrected.
   */
  restoreTradeCorrection(
    accountId: number, symbolId: number, side: number, venueExecIdHash: number, oldQty: number, oldPx: number, newQty: number, newPx: number,
  ): void {
    this.rebookTrade(accountId, symbolId, side, oldQty, oldPx, newQty, newPx);
    const at = this.fills.find(venueExecIdHash);
    if (at >= 0) this.fills.correct(at, newQty, newPx);
  }

  /**
   * Recovery snapshots (persistence/snapshot.ts): what the journal's replay built in this stage,
   * taken once the replay reached the journal's end and before finishRecovery
   * (workers/risk/recovery.ts). Everything the restorer's calls write: the order table (fields,
   * ClOrdID index, next id, counters), the child table, positions, the accounts' long cost, the
   * last trades, the kill-switch modes and haltBelow. Not in it: the limits (seeded from this
   * start's configuration; the restorer applies their journaled changes again), what
   * finishRecovery and the resume pass set (reservations, marks, event sequence, mass cancels),
   * and what the replay never touches (throttles, quotes, the duplicate window, the kill board).
   */
  snapshot(w: SnapshotWriter): void {
    writeStageSnapshot(w, this.orders, this.children, this.positions, this.fills, this.exposure, this.refs, this.accountMode, this.globalMode, this.haltBelow);
  }

  /**
   * What snapshot() writes for a fresh stage of this configuration, without building one (its
   * layout, which a snapshot must share to be read back: SnapshotStore.load). Allocates the
   * tables once more.
   */
  static snapshotShape(w: SnapshotWriter, config: RiskConfig): void {
    const accounts = config.accounts.length;
    const symbols = config.referencePriceTicks.length;
    writeStageSnapshot(
      w, new OrderTable(config.orderCapacity, config.firstOrderId), new ChildTable(config.childCapacity, config.childIdBase),
      new PositionBook(accounts, symbols), FillLedger.forOrders(config.orderCapacity), new Exposure(config.orderCapacity, accounts, symbols),
      new ReferencePrices(config.referencePriceTicks, config.quoteFreshMs ?? 2000), new Uint8Array(accounts), AccountMode.NORMAL,
      new Float64Array(accounts),
    );
  }

  /**
   * Replaces what snapshot() covers with a snapshot's, in a stage built for recovery and not
   * run yet (the restorer then replays the journal after it). Its child table must have the
   * snapshot's base when the snapshot holds a child (recovery checks it).
   */
  restore(r: SnapshotReader): void {
    this.orders.restore(r);
    this.children.restore(r);
    this.positions.restore(r);
    this.fills.restore(r);
    this.exposure.restore(r);
    this.refs.restore(r);
    r.arrayInto('stage.accountMode', this.accountMode);
    this.globalMode = r.number('stage.globalMode');
    r.arrayInto('stage.haltBelow', this.haltBelow);
  }

  /**
   * Ends the recovery: every order's reservation is set from its recovered terms (a market
   * order reserves at today's reference price, the one of its acceptance being gone), route
   * requests in flight are forgotten (the SOR that had them is gone), and the resume pass is
   * armed. `sorConfig` is the journal's last SOR_CONFIG record body, forwarded to the SOR.
   */
  finishRecovery(sorConfig: Uint8Array | null): void {
    const o = this.orders;
    const now = this.clock.nowNs();
    // Accounts (slot 0: every account) with an open order below their last halt's reach.
    const missed = new Uint8Array(this.haltBelow.length);
    for (let slot = 0; slot < o.capacity; slot++) {
      if (o.orderId[slot] === 0) continue;
      if (isTerminal(o.state[slot])) continue;
      // A pending replace among them ends when it completes: the sweep queued below either
      // reached it (replaceEndReason) or is still to (finishReplace asks queuedMassCancelFor).
      const id = o.orderId[slot];
      const accountId = o.accountId[slot];
      if (id < this.haltBelow[0]) missed[0] = 1;
      else if (accountId < missed.length && id < this.haltBelow[accountId]) missed[accountId] = 1;
      const px = o.ordType[slot] === OrdType.LIMIT ? o.priceTicks[slot] : this.refs.reference(o.symbolId[slot], now);
      let qty = o.qty[slot] - o.cumQty[slot];
      let resPx = px;
      if (o.state[slot] === OrderState.PENDING_REPLACE && o.replaceClOrdIdLength[slot] !== 0) {
        // Either terms may still trade until the replace completes (as onReplace reserves).
        qty = Math.max(qty, o.replaceQty[slot] - o.cumQty[slot]);
        if (o.ordType[slot] === OrdType.LIMIT) resPx = Math.max(px, o.replacePriceTicks[slot]);
      }
      if (qty > 0) this.exposure.reserve(slot, o.accountId[slot], o.symbolId[slot], o.side[slot], qty, resPx);
    }
    // Positions are shown once by the resume pass, not again by the first marking pass.
    for (let sym = 0; sym < this.symbolCount; sym++) this.markTicks[sym] = this.refs.reference(sym, now);
    // Cancels sent before the crash may never have left the process: they are sent again.
    const c = this.children;
    for (let cs = 0; cs < c.capacity; cs++) c.cancelSent[cs] = 0;
    // A halted account stays halted, and none of its orders may stay working; a halt lifted
    // after the crash cut its sweep still ends the orders it reached.
    // Slot 0 is every account (the global mode).
    for (let a = 0; a < this.accountMode.length; a++) {
      const mode = a === 0 ? this.globalMode : this.accountMode[a];
      if (mode === AccountMode.HALTED) this.enqueueMassCancel(a, ALL_SYMBOLS, 0, Reason.KILL_SWITCH);
      else if (missed[a] === 1) this.enqueueMassCancel(a, ALL_SYMBOLS, 0, Reason.KILL_SWITCH, this.haltBelow[a]);
    }
    this.resumeSorConfig = sorConfig;
    this.resumePhase = RESUME_SETTLE;
    this.resumeCursor = 0;
  }

  /** Whether the resume pass after a recovery is finished (tests wait for it). */
  resumed(): boolean {
    return this.resumePhase === RESUME_DONE;
  }

  /**
   * One slice of the resume pass, at most `budget` outputs (each within one input's worst case):
   *   1. SETTLE: an order the crash left PENDING_CANCEL or PENDING_REPLACE settles if nothing of
   *      it is live at a venue, else its children's cancels are sent again;
   *   2. ORDERS: a status report of every recovered order to the edge (not journaled: nothing
   *      happened), so GET /v1/orders shows them;
   *   3. POSITIONS: a POSITION record of every non-flat cell, for GET /v1/positions;
   *   4. the journal's last SOR_CONFIG to the SOR.
   */
  private advanceResume(budget: number): number {
    let done = 0;
    while (done < budget && this.resumePhase !== RESUME_DONE) {
      if (this.resumePhase === RESUME_SETTLE) done += this.resumeSettleStep();
      else if (this.resumePhase === RESUME_ORDERS) done += this.resumeOrderStep();
      else if (this.resumePhase === RESUME_POSITIONS) done += this.resumePositionStep();
      else {
        if (this.resumeSorConfig !== null) {
          const cfg = this.resumeSorConfig;
          this.forwardToSor(cfg, RecordType.SOR_CONFIG, 0, cfg.length);
          this.resumeSorConfig = null;
          done++;
        }
        this.resumePhase = RESUME_DONE;
      }
    }
    return done;
  }

  private resumeSettleStep(): number {
    const o = this.orders;
    const slot = this.resumeCursor++;
    if (slot >= o.capacity) return this.nextResumePhase(RESUME_ORDERS);
    if (o.orderId[slot] === 0) return 0;
    const state = o.state[slot];
    // An ended order with a child still live (sent as it ended): that child is canceled.
    if (isTerminal(state) && o.liveChildren[slot] > 0) {
      this.cancelLiveChildren(slot);
      return 1;
    }
    // An IOC, FOK or market order the crash caught between two sweep steps (or before its first
    // child): routes are not recovered, so no step follows; its rest is done now, as it would
    // have been when its last child ended. (A DAY or GTC order in that state stays open.)
    const immediate = o.tif[slot] === Tif.IOC || o.tif[slot] === Tif.FOK || o.ordType[slot] === OrdType.MARKET;
    if (!isTerminal(state) && immediate && o.liveChildren[slot] === 0) {
      this.settleIfIdle(slot);
      return 1;
    }
    if (state !== OrderState.PENDING_CANCEL && state !== OrderState.PENDING_REPLACE) return 0;
    if (o.liveChildren[slot] === 0) this.settleIfIdle(slot);
    else this.cancelLiveChildren(slot);
    return 1;
  }

  /**
   * Orders go out oldest slot first: from the slot the next id would take, round the table, so
   * ids reach the edge nearly in increasing order (only orders whose slot was skipped over come
   * out of turn), and the edge's view links each as its account's newest in one step
   * (order-view.ts; in slot order, after a lap, every older order walked the newer ones).
   */
  private resumeOrderStep(): number {
    const o = this.orders;
    const n = this.resumeCursor++;
    if (n >= o.capacity) return this.nextResumePhase(RESUME_POSITIONS);
    const slot = ((o.peekNextOrderId() - 1) + n) % o.capacity;
    if (o.orderId[slot] === 0) return 0;
    this.emitStatus(slot);
    return 1;
  }

  private resumePositionStep(): number {
    const p = this.positions;
    const cell = this.resumeCursor++;
    if (cell >= p.qty.length) return this.nextResumePhase(RESUME_SOR_CONFIG);
    if (p.qty[cell] === 0 && p.realizedTicks[cell] === 0) return 0;
    const symbolId = cell % this.symbolCount;
    this.emitPosition(cell, (cell - symbolId) / this.symbolCount, symbolId);
    return 1;
  }

  private nextResumePhase(phase: number): number {
    this.resumePhase = phase;
    this.resumeCursor = 0;
    return 0;
  }

  /**
   * The order as it stands, to the edge only (not journaled: no event happened). Its exec type
   * says how it ended (FILL, CANCELED, EXPIRED) or NEW while open; lastQty is 0.
   */
  private emitStatus(slot: number): void {
    const o = this.orders;
    const state = o.state[slot];
    const execType = state === OrderState.FILLED ? ExecType.FILL
      : state === OrderState.CANCELED ? ExecType.CANCELED
      : state === OrderState.EXPIRED ? ExecType.EXPIRED
      : ExecType.NEW;
    // Not an event: the sequence is not advanced; the time is both its time and its receive time.
    this.writeReport(
      this.rings.toIngest, slot, this.eventSeq, this.clock.nowNs(), this.clock.nowNs(), execType, 0, 0, Reason.NONE, 0,
      0, 0, o.source[slot], 0, 0,
    );
    this.report.setJournalMark(this.rings.toPersistence.recordsClaimed);
  }

  // ------------------------------------------------------------------------------------------
  // Outputs
  // ------------------------------------------------------------------------------------------

  private apply(slot: number, event: number): void {
    const o = this.orders;
    const next = transition(o.state[slot], event, o.cumQty[slot] > 0);
    if (next === ILLEGAL) {
      this.counters.add(RiskCounter.ILLEGAL_TRANSITIONS, 1);
      throw new Error(`Invariant: order ${o.orderId[slot]} event ${event} is legal in state ${o.state[slot]}`);
    }
    o.setState(slot, next);
    // A terminal order reserves nothing any more.
    if (isTerminal(next) && this.exposure.resQty[slot] !== 0) {
      this.exposure.reserve(slot, o.accountId[slot], o.symbolId[slot], o.side[slot], 0, 0);
    }
    // An order that ends with a replace pending gives its reserved ClOrdID back.
    if (isTerminal(next) && o.replaceClOrdIdLength[slot] !== 0) {
      o.releaseReplaceClOrdId(slot);
      o.replaceClOrdIdLength[slot] = 0;
    }
  }

  private requestRoute(slot: number, qty: number): void {
    const o = this.orders;
    const q = this.sorQueue;
    const at = q.claim(RecordType.ROUTE_REQUEST, ROUTE_REQUEST_LENGTH);
    this.routeRequest
      .wrap(q.view, q.bytes, at)
      .setOrderId(o.orderId[slot])
      .setRecvTimeNs(o.recvTimeNs[slot])
      .setQty(qty)
      .setPriceTicks(o.priceTicks[slot])
      .setAccountId(o.accountId[slot])
      .setSymbolId(o.symbolId[slot])
      .setSide(o.side[slot])
      .setOrdType(o.ordType[slot])
      .setTif(o.tif[slot]);
    o.routeSent(slot);
  }

  /** Cancels every live child of the order not yet asked to cancel (its child list holds its live children only: endChild). */
  private cancelLiveChildren(slot: number): void {
    const c = this.children;
    for (let cs = c.slotOf(this.orders.firstChild[slot]); cs >= 0; cs = c.slotOf(c.nextSibling[cs])) {
      if (c.cancelSent[cs] === 0) this.sendChildCancel(slot, cs);
    }
  }

  private sendChildCancel(slot: number, cs: number): void {
    const c = this.children;
    const o = this.orders;
    const q = this.sorQueue;
    const at = q.claim(RecordType.CHILD_CANCEL, CHILD_ORDER_LENGTH);
    this.childCancel
      .wrap(q.view, q.bytes, at)
      .setChildId(c.childId[cs])
      .setOrderId(c.orderId[cs])
      .setQty(c.qty[cs])
      .setPriceTicks(c.priceTicks[cs])
      .setRecvTimeNs(o.recvTimeNs[slot])
      .setDecisionTimeNs(this.clock.nowNs())
      .setVenueId(c.venueId[cs])
      .setSymbolId(o.symbolId[slot])
      .setAccountId(o.accountId[slot])
      .setSide(o.side[slot])
      .setOrdType(o.ordType[slot])
      .setTif(o.tif[slot])
      .setJournalMark(0); // a cancel waits for nothing (codecs/records.ts journalMarkOf)
    c.cancelSent[cs] = 1;
  }

  /** The account's position after a fill, to the edge (account-wide: whatever the order's source). */
  private emitPosition(cell: number, accountId: number, symbolId: number): void {
    const ring = this.rings.toIngest;
    const at = ring.claimChecked(RecordType.POSITION, POSITION_LENGTH);
    const p = this.positions;
    const now = this.clock.nowNs();
    const mark = this.refs.reference(symbolId, now);
    this.position
      .wrap(ring.view, ring.bytes, at)
      .setQty(p.qty[cell])
      .setCostTicks(p.costTicks[cell])
      .setRealizedTicks(p.realizedTicks[cell])
      .setEventSeq(this.eventSeq)
      .setTimeNs(now)
      .setAccountId(accountId)
      .setSymbolId(symbolId)
      .setMarkTicks(mark)
      .setUnrealizedTicks(unrealizedTicks(p.qty[cell], p.costTicks[cell], mark))
      // Shown only once the fills it sums are durable (the journal feed's records so far).
      .setJournalMark(this.rings.toPersistence.recordsClaimed);
  }

  /** A record on to the SOR as it is (SOR_CONFIG), behind anything queued for it. */
  private forwardToSor(src: Uint8Array, typeId: number, offset: number, length: number): void {
    const q = this.sorQueue;
    const at = q.claim(typeId, length);
    copyBytes(src, offset, q.bytes, at, length);
  }

  private clientRing(source: number): RingProducer {
    return source === Source.FIX ? this.rings.toFixClients : this.rings.toIngest;
  }

  /**
   * Writes a report for the order in slot to its client's edge and to persistence. A venue's
   * trade (fill, bust, correction) passes its venueExecIdHash and execRefSeq (codecs/records.ts).
   */
  private emitReport(
    slot: number, execType: number, lastQty: number, lastPx: number, reason: number, venueId: number, venueExecIdHash = 0, execRefSeq = 0,
  ): void {
    const o = this.orders;
    this.emitReportFor(slot, execType, lastQty, lastPx, reason, venueId, o.connId[slot], o.requestId[slot], o.source[slot], venueExecIdHash, execRefSeq);
  }

  private emitReportFor(
    slot: number, execType: number, lastQty: number, lastPx: number, reason: number, venueId: number,
    connId: number, requestId: number, source: number, venueExecIdHash = 0, execRefSeq = 0,
  ): void {
    const ring = this.clientRing(source);
    const at = this.writeReport(
      ring, slot, ++this.eventSeq, this.clock.nowNs(), this.orders.recvTimeNs[slot], execType, lastQty, lastPx, reason, venueId,
      connId, requestId, source, venueExecIdHash, execRefSeq,
    );
    this.journalReport(ring, at);
  }

  /**
   * Claims a report in ring and writes the order in slot as it stands, with the fields given
   * (its ClOrdID, no OrigClOrdID); leaves this.report wrapped over it and returns its offset.
   * venueExecIdHash and execRefSeq: a venue trade's (codecs/records.ts), else 0.
   */
  private writeReport(
    ring: RingProducer, slot: number, eventSeq: number, timeNs: number, recvNs: number, execType: number,
    lastQty: number, lastPx: number, reason: number, venueId: number, connId: number, requestId: number, source: number,
    venueExecIdHash: number, execRefSeq: number,
  ): number {
    const o = this.orders;
    const at = ring.claimChecked(RecordType.EXEC_REPORT, EXEC_REPORT_LENGTH);
    const r = this.report.wrap(ring.view, ring.bytes, at);
    const state = o.state[slot];
    r.setEventSeq(eventSeq)
      .setOrderId(o.orderId[slot])
      .setTimeNs(timeNs)
      .setRecvTimeNs(recvNs)
      .setQty(o.qty[slot])
      .setPriceTicks(o.priceTicks[slot])
      .setLastQty(lastQty)
      .setLastPxTicks(lastPx)
      .setCumQty(o.cumQty[slot])
      .setLeavesQty(isTerminal(state) ? 0 : o.qty[slot] - o.cumQty[slot])
      .setCumNotionalTicks(o.cumNotional[slot])
      .setConnId(connId)
      .setAccountId(o.accountId[slot])
      .setSymbolId(o.symbolId[slot])
      .setRequestId(requestId)
      .setReason(reason)
      .setVenueId(venueId)
      .setExecType(execType)
      .setState(state)
      .setSide(o.side[slot])
      .setOrdType(o.ordType[slot])
      .setTif(o.tif[slot])
      .setSource(source)
      .setVenueExecIdHash(venueExecIdHash)
      .setExecRefSeq(execRefSeq);
    r.setClOrdId(o.clOrdIds, slot * CL_ORD_ID_CAPACITY, slot * CL_ORD_ID_CAPACITY + o.clOrdIdLength[slot]);
    r.setOrigClOrdId(o.clOrdIds, 0, 0);
    return at;
  }

  /**
   * Claims and fills a report that no order slot backs (a refused command): every order field
   * not named is zero. The caller sets the ClOrdIDs, then journals it.
   */
  private beginCommandReport(
    ring: RingProducer, execType: number, orderId: number, recvNs: number, qty: number, price: number,
    connId: number, accountId: number, symbolId: number, requestId: number, reason: number,
    side: number, ordType: number, tif: number, source: number,
  ): number {
    const at = ring.claimChecked(RecordType.EXEC_REPORT, EXEC_REPORT_LENGTH);
    this.report
      .wrap(ring.view, ring.bytes, at)
      .setEventSeq(++this.eventSeq)
      .setOrderId(orderId)
      .setTimeNs(this.clock.nowNs())
      .setRecvTimeNs(recvNs)
      .setQty(qty)
      .setPriceTicks(price)
      .setLastQty(0)
      .setLastPxTicks(0)
      .setCumQty(0)
      .setLeavesQty(0)
      .setCumNotionalTicks(0)
      .setConnId(connId)
      .setAccountId(accountId)
      .setSymbolId(symbolId)
      .setRequestId(requestId)
      .setReason(reason)
      .setVenueId(0)
      .setExecType(execType)
      .setState(OrderState.REJECTED)
      .setSide(side)
      .setOrdType(ordType)
      .setTif(tif)
      .setSource(source)
      .setVenueExecIdHash(0)
      .setExecRefSeq(0);
    return at;
  }

  /** A refused new order that never got a slot: the report is built from the command. */
  private emitCommandReject(cmd: NewOrderFlyweight, reason: number): void {
    const ring = this.clientRing(cmd.source());
    const at = this.beginCommandReport(
      ring, ExecType.REJECTED, 0, cmd.recvTimeNs(), cmd.qty(), cmd.priceTicks(), cmd.connId(), cmd.accountId(),
      cmd.symbolId(), cmd.requestId(), reason, cmd.side(), cmd.ordType(), cmd.tif(), cmd.source(),
    );
    const clOffset = cmd.clOrdIdOffset();
    this.report.setClOrdId(cmd.bytes, clOffset, clOffset + Math.min(cmd.clOrdIdLength(), CL_ORD_ID_CAPACITY));
    this.report.setOrigClOrdId(cmd.bytes, 0, 0);
    this.journalReport(ring, at);
  }

  /** A refused cancel or replace of a known order (OrderCancelReject). */
  private emitCancelReject(slot: number, cmd: CancelOrderFlyweight, reason: number): void {
    const o = this.orders;
    this.emitReportFor(slot, ExecType.CANCEL_REJECT, 0, 0, reason, 0, cmd.connId(), cmd.requestId(), cmd.source());
    // The reject names the cancel's own ClOrdID and the order's as OrigClOrdID.
    const ring = this.clientRing(cmd.source());
    const r = this.report;
    const clOffset = cmd.clOrdIdOffset();
    r.setClOrdId(cmd.bytes, clOffset, clOffset + Math.min(cmd.clOrdIdLength(), CL_ORD_ID_CAPACITY));
    r.setOrigClOrdId(o.clOrdIds, slot * CL_ORD_ID_CAPACITY, slot * CL_ORD_ID_CAPACITY + o.clOrdIdLength[slot]);
    this.rewriteJournaledReport(ring);
  }

  /** A cancel or replace naming no order of this account. */
  private emitCancelRejectFromCommand(cmd: CancelOrderFlyweight, reason: number): void {
    const ring = this.clientRing(cmd.source());
    const at = this.beginCommandReport(
      ring, ExecType.CANCEL_REJECT, cmd.orderId(), cmd.recvTimeNs(), 0, 0, cmd.connId(), cmd.accountId(),
      0, cmd.requestId(), reason, 0, 0, 0, cmd.source(),
    );
    const clOffset = cmd.clOrdIdOffset();
    const origOffset = cmd.origClOrdIdOffset();
    this.report.setClOrdId(cmd.bytes, clOffset, clOffset + Math.min(cmd.clOrdIdLength(), CL_ORD_ID_CAPACITY));
    this.report.setOrigClOrdId(cmd.bytes, origOffset, origOffset + Math.min(cmd.origClOrdIdLength(), CL_ORD_ID_CAPACITY));
    this.journalReport(ring, at);
  }

  // ------------------------------------------------------------------------------------------
  // Journal feed: every command taken and every report made goes to persistence, in order.
  // ------------------------------------------------------------------------------------------

  private lastJournaledAt = -1;

  private journalCommand(src: Uint8Array, typeId: number, offset: number, length: number): void {
    this.rings.toPersistence.copyChecked(typeId, src, offset, length);
  }

  private journalReport(ring: RingProducer, at: number): void {
    const p = this.rings.toPersistence;
    const to = p.claimChecked(RecordType.EXEC_REPORT, EXEC_REPORT_LENGTH);
    // The client's copy leaves the process only once its journal copy (this claim) is durable.
    this.report.wrap(ring.view, ring.bytes, at).setJournalMark(p.recordsClaimed);
    copyBytes(ring.bytes, at, p.bytes, to, EXEC_REPORT_LENGTH);
    this.lastJournaledAt = to;
  }

  /** After a report was amended in place, refresh its journal copy. */
  private rewriteJournaledReport(ring: RingProducer): void {
    if (this.lastJournaledAt < 0) throw new Error('Invariant: a report was journaled');
    copyBytes(ring.bytes, this.report.offset, this.rings.toPersistence.bytes, this.lastJournaledAt, EXEC_REPORT_LENGTH);
  }
}

/**
 * The fill ledger's key for a venue identifier as a CHILD_EVENT carries it (an ExecID of a fill,
 * the ExecRefID of a bust): execIdHash of the stored bytes (cut to 64, non-printable bytes as
 * '?': codecs/records.ts setIds), so a fill and the bust naming it are keyed alike whatever the
 * raw bytes were (two raw ids that store alike share a key: the order id check tells their
 * orders apart). 0 for none.
 */
function storedIdKey(ev: ChildEventFlyweight, start: number, length: number): number {
  return length > 0 ? execIdHash(ev.venueId(), ev.bytes, start, start + length) : 0;
}

/**
 * P&L of an open position at a mark, ticks: a long gains what it would sell for above its cost,
 * a short what it would cost to buy back below what it was sold for.
 */
export function unrealizedTicks(qty: number, costTicks: number, markTicks: number): number {
  if (qty > 0) return qty * markTicks - costTicks;
  if (qty < 0) return costTicks + qty * markTicks;
  return 0;
}

/** The sections of RiskStage.snapshot, in the order RiskStage.restore reads them. */
function writeStageSnapshot(
  w: SnapshotWriter, orders: OrderTable, children: ChildTable, positions: PositionBook, fills: FillLedger, exposure: Exposure, refs: ReferencePrices,
  accountMode: Uint8Array, globalMode: number, haltBelow: Float64Array,
): void {
  orders.snapshot(w);
  children.snapshot(w);
  positions.snapshot(w);
  fills.snapshot(w);
  exposure.snapshot(w);
  refs.snapshot(w);
  w.array('stage.accountMode', accountMode);
  w.number('stage.globalMode', globalMode);
  w.array('stage.haltBelow', haltBelow);
}
