/**
 * Heap benchmark: engine state in typed arrays allocated at start-up (the real risk and SOR
 * stages) against the same flow with the order book as JS objects in Maps, under sustained load
 * with a fixed live set. Shows whether the JS heap stays flat and what the GC pauses are.
 *
 *   One thread, stepped by hand; ManualClock at 10,000 orders per simulated second.
 *
 *   order source --NEW_ORDER--> [ingest] ---> +------+ --ROUTE_REQUEST--> [risk->sor] --> +-----+
 *   (ClOrdIDs written as digits              | risk |                                   | sor |
 *    into a scratch buffer)     +---------> +------+ <-- VENUE_STATUS (once) [->sor] --> +-----+
 *                               |              |  EXEC_REPORT, journal copies               |
 *                               |              v                                            v
 *                               |   [to ingest] [to fix clients] [to persistence]      [sor->fix]
 *                               |        counting handlers (checksum of the work)           |
 *                               |                                                           v
 *   [fix->risk] <-- CHILD_EVENT SENT + ROUTE_DONE (at once), FILL (LIVE orders later) <-- fake venue
 *
 *   Baseline ("objects"): the same rings, driver and fake venue; risk + SOR replaced by one class
 *   that keeps each order as a JSON-ish object (~20 fields, ClOrdID string) in a Map<number, ...>
 *   and a Map<string, ...> by account:ClOrdID, each child as an object in a Map, created per
 *   order and deleted on its fill. Its I/O is the same zero-allocation ring code as the real
 *   stages, so the difference measured is where the state lives, nothing else.
 *
 * Each order is filled `liveOrders` orders after it arrived, so about that many are working at
 * any time. The measured window runs from `warmupOrders` to the last new order (live set full).
 * Two passes per design per run, each on a fresh engine:
 *   - gc pass: no forced GC; a PerformanceObserver on 'gc' records every pause in the window, and
 *     v8.GCProfiler gives the JS heap bytes allocated per order.
 *   - heap pass: global.gc() then process.memoryUsage() every `sampleEvery` orders (into arrays
 *     sized up front); the growth slope is the least-squares line through the window's samples.
 * After one unmeasured pass of each design (JIT, young-generation sizing), the whole thing runs
 * `runs` times; figures are medians. The driver runs flat out (the clock is
 * simulated): a GC pause depends on how many orders' worth of objects are live, not on seconds.
 *
 * Run: `npm run bench:heap` (node --expose-gc; writes bench/results/heap.json),
 * `npm run bench:heap -- --quick` (tiny inputs, writes nothing). runHeapBench and runPass are
 * exported for the smoke test.
 */

import { setFlagsFromString } from 'node:v8';
import { AllocationWindow } from './lib/heap-alloc.ts';
import { runInNewContext } from 'node:vm';
import { PerformanceObserver, constants as perfConstants, type PerformanceEntry } from 'node:perf_hooks';
import {
  CHILD_EVENT_LENGTH,
  childEventLength,
  CHILD_ORDER_LENGTH,
  ChildEventFlyweight,
  ChildEventKind,
  ChildOrderFlyweight,
  EXEC_REPORT_LENGTH,
  ExecReportFlyweight,
  NEW_ORDER_LENGTH,
  NewOrderFlyweight,
  ROUTE_DONE_LENGTH,
  RecordType,
  RouteDoneFlyweight,
  VENUE_STATUS_LENGTH,
  VenueStatusFlyweight,
} from '../codecs/records.ts';
import { copyBytes } from '../engine/bytes.ts';
import { ManualClock } from '../engine/clock.ts';
import { RiskCounter, SorCounter, StageCounters } from '../engine/counters.ts';
import { CL_ORD_ID_CAPACITY, OrdType, Side, Source, Tif } from '../engine/domain.ts';
import { PRICE_SCALE, writeUint } from '../engine/fixed-point.ts';
import { execIdHash } from '../workers/fix/exec-id-set.ts';
import { ExecType, OrderState } from '../engine/order-state.ts';
import { Reason } from '../engine/reasons.ts';
import { FULL, RingConsumer, RingDispatch, RingProducer, createRingMemory, type RecordHandler, type RingMemory, type RingRecordHandler } from '../engine/ring.ts';
import { RiskStage, type RiskConfig } from '../workers/risk/risk-stage.ts';
import { SorStage, type SorConfig, type SorWeights, type VenueProfile } from '../workers/sor/sor-stage.ts';
import { formatMachineInfo, machineInfo } from './lib/machine.ts';
import { isMainModule } from './lib/main.ts';
import { figure, writeResults, type Figure } from './lib/results.ts';
import { formatRate, medianOf } from './lib/stats.ts';
import { printTable } from './lib/table.ts';
import { quickOnly } from './lib/args.ts';

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

export interface HeapBenchConfig {
  /** Orders per pass (each routed to one child and filled). */
  orders: number;
  /** Orders working at any time: order n is filled when order n + liveOrders arrives. */
  liveOrders: number;
  /** Simulated arrival rate (ManualClock advance per order = 1e9 / rate ns). */
  ordersPerSimSecond: number;
  /** Orders written per driver step before the stages are pumped until idle. */
  stepOrders: number;
  /** Heap pass: forced GC + heap sample every this many orders (a multiple of stepOrders). */
  sampleEvery: number;
  /** Heap samples and GC events before this many orders are excluded (live set ramp, JIT). */
  warmupOrders: number;
  /** Yield to the event loop every this many orders, so GC entries are delivered. */
  yieldEvery: number;
  runs: number;
}

export const FULL_CONFIG: HeapBenchConfig = {
  orders: 400_000,
  liveOrders: 20_000,
  ordersPerSimSecond: 10_000,
  stepOrders: 100,
  sampleEvery: 10_000,
  warmupOrders: 60_000,
  yieldEvery: 5_000,
  runs: 3,
};

export const QUICK_CONFIG: HeapBenchConfig = {
  orders: 30_000,
  liveOrders: 2_000,
  ordersPerSimSecond: 10_000,
  stepOrders: 100,
  sampleEvery: 2_000,
  warmupOrders: 6_000,
  yieldEvery: 2_000,
  runs: 1,
};

export type DesignKind = 'typed' | 'objects';
export const DESIGNS: readonly DesignKind[] = ['typed', 'objects'];
const DESIGN_LABEL: Record<DesignKind, string> = {
  typed: 'typed arrays (risk + SOR stages)',
  objects: 'JS objects in Maps (baseline)',
};

const RING_CAPACITY = 1 << 20;
const SYMBOLS = 4;
const ACCOUNTS = 2;
const CHILD_ID_BASE = 1_000_000_000;
const FIRST_ORDER_ID = 1;
const WEIGHTS: SorWeights = { price: 0.4, latency: 0.2, fillprob: 0.2, fee: 0.2 };
const VENUES: (VenueProfile | null)[] = [
  null,
  { feeCentiBps: 30, latencyUs: 100, fillProbability: 0.8 },
  { feeCentiBps: 10, latencyUs: 400, fillProbability: 0.9 },
  { feeCentiBps: 0, latencyUs: 200, fillProbability: 0.5 },
];
const MAX_ORDER_QTY = 1_000_000;
const MAX_NOTIONAL_TICKS = 1e15;

// ---------------------------------------------------------------------------------------------
// The order flow: a pure function of the order's sequence number, so both designs see the same.
// ---------------------------------------------------------------------------------------------

export function orderAccount(n: number): number {
  return 1 + (n & 1);
}
export function orderSymbol(n: number): number {
  return n % SYMBOLS;
}
export function orderSide(n: number): number {
  return ((n >>> 1) & 1) === 0 ? Side.BUY : Side.SELL;
}
export function orderQty(n: number): number {
  return 1 + ((Math.imul(n, 0x9e3779b1) >>> 0) % 1000);
}
export function orderPriceTicks(n: number): number {
  return 10 * PRICE_SCALE + (n % 251) * 10_000;
}

/** Writes "HB" + n in decimal into scratch[0..]; returns the length. No allocation. */
function writeClOrdId(scratch: Uint8Array, n: number): number {
  scratch[0] = 72; // 'H'
  scratch[1] = 66; // 'B'
  let digits = 1;
  for (let v = n; v >= 10; v = Math.floor(v / 10)) digits++;
  let v = n;
  for (let i = 1 + digits; i >= 2; i--) {
    scratch[i] = 48 + (v % 10);
    v = Math.floor(v / 10);
  }
  return 2 + digits;
}

/** What the work must add up to for `orders` orders, each filled in full once. */
export interface Expected {
  orders: number;
  filledQty: number;
  netPosition: number;
}

export function expectedFor(orders: number): Expected {
  let filledQty = 0;
  let netPosition = 0;
  for (let n = 0; n < orders; n++) {
    const q = orderQty(n);
    filledQty += q;
    netPosition += orderSide(n) === Side.BUY ? q : -q;
  }
  return { orders, filledQty, netPosition };
}

// ---------------------------------------------------------------------------------------------
// Plumbing: every ring of the flow, made per pass. The driver holds the outer ends.
// ---------------------------------------------------------------------------------------------

interface RingSet {
  ingest: RingMemory;
  fixToRisk: RingMemory;
  toIngest: RingMemory;
  toFixClients: RingMemory;
  toPersistence: RingMemory;
  riskToSor: RingMemory;
  venueToSor: RingMemory;
  sorToFix: RingMemory;
}

function createRings(): RingSet {
  return {
    ingest: createRingMemory(RING_CAPACITY),
    fixToRisk: createRingMemory(RING_CAPACITY),
    toIngest: createRingMemory(RING_CAPACITY),
    toFixClients: createRingMemory(RING_CAPACITY),
    toPersistence: createRingMemory(RING_CAPACITY),
    riskToSor: createRingMemory(RING_CAPACITY),
    venueToSor: createRingMemory(RING_CAPACITY),
    sorToFix: createRingMemory(RING_CAPACITY),
  };
}

/** The engine under test: risk + SOR, or the object baseline. */
interface Design {
  /** One duty cycle of every stage; returns the records handled. */
  doWork(): number;
  /** Sum of all net positions (shares). */
  netPosition(): number;
  /** Orders not yet terminal. */
  workingOrders(): number;
  /** Records a stage could not place (must stay 0). */
  anomalies(): number;
}

function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p <<= 1;
  return p;
}

function tableCapacity(config: HeapBenchConfig): number {
  // Live orders plus what one step adds before its fills land, with room so a reused slot is
  // always long terminal.
  return nextPowerOfTwo(Math.ceil((config.liveOrders + 2 * config.stepOrders) * 1.5));
}

// ---------------------------------------------------------------------------------------------
// Design 1: the real stages (typed arrays allocated at start-up).
// ---------------------------------------------------------------------------------------------

class TypedDesign implements Design {
  readonly risk: RiskStage;
  readonly sor: SorStage;
  readonly riskCounters = StageCounters.create();
  readonly sorCounters = StageCounters.create();

  constructor(rings: RingSet, clock: ManualClock, config: HeapBenchConfig) {
    const capacity = tableCapacity(config);
    const limits = { maxOrderQty: MAX_ORDER_QTY, maxOrderNotionalTicks: MAX_NOTIONAL_TICKS, enabled: true };
    const accounts: RiskConfig['accounts'] = [null];
    for (let a = 1; a <= ACCOUNTS; a++) accounts.push({ ...limits });
    const referencePriceTicks: number[] = [];
    for (let s = 0; s < SYMBOLS; s++) referencePriceTicks.push(10 * PRICE_SCALE);
    const riskConfig: RiskConfig = {
      orderCapacity: capacity,
      childCapacity: capacity,
      firstOrderId: FIRST_ORDER_ID,
      childIdBase: CHILD_ID_BASE,
      accounts,
      referencePriceTicks,
    };
    this.risk = new RiskStage(
      riskConfig,
      {
        fromIngest: new RingConsumer(rings.ingest),
        fromFix: new RingConsumer(rings.fixToRisk),
        toIngest: new RingProducer(rings.toIngest, null),
        toFixClients: new RingProducer(rings.toFixClients, null),
        toSor: new RingProducer(rings.riskToSor, null),
        toPersistence: new RingProducer(rings.toPersistence, null),
      },
      clock,
      this.riskCounters,
    );
    const sorConfig: SorConfig = {
      venues: VENUES,
      symbolCount: SYMBOLS,
      weights: WEIGHTS,
      quoteStaleNs: 1e12,
      childIdBase: CHILD_ID_BASE,
    };
    this.sor = new SorStage(
      sorConfig,
      { fromRisk: new RingConsumer(rings.riskToSor), fromFix: new RingConsumer(rings.venueToSor), toFix: new RingProducer(rings.sorToFix, null) },
      clock,
      this.sorCounters,
    );
  }

  doWork(): number {
    return this.risk.doWork() + this.sor.doWork();
  }

  netPosition(): number {
    let sum = 0;
    const p = this.risk.positions.qty;
    for (let i = 0; i < p.length; i++) sum += p[i];
    return sum;
  }

  workingOrders(): number {
    const o = this.risk.orders;
    let working = 0;
    for (let s = 0; s < o.capacity; s++) {
      const st = o.state[s];
      if (o.orderId[s] !== 0 && st !== OrderState.FILLED && st !== OrderState.CANCELED && st !== OrderState.REJECTED && st !== OrderState.EXPIRED) working++;
    }
    return working;
  }

  /** Bytes of typed arrays the stages allocated at start-up for their state (not the rings). */
  stateArrayBytes(): number {
    let bytes = 0;
    for (const holder of [this.risk.orders, this.risk.children, this.risk, this.sor] as object[]) {
      for (const value of Object.values(holder)) if (ArrayBuffer.isView(value)) bytes += value.byteLength;
    }
    return bytes;
  }

  anomalies(): number {
    const r = this.riskCounters;
    const s = this.sorCounters;
    return (
      r.get(RiskCounter.ORDERS_REJECTED) + r.get(RiskCounter.OVERFILLS) + r.get(RiskCounter.ILLEGAL_TRANSITIONS) +
      r.get(RiskCounter.UNKNOWN_RECORDS) + s.get(SorCounter.UNROUTABLE) + s.get(SorCounter.CHILD_TABLE_FULL)
    );
  }
}

/** Bytes of typed arrays the risk and SOR stages allocate at start-up for this configuration. */
export function typedStateArrayBytes(config: HeapBenchConfig): number {
  return new TypedDesign(createRings(), new ManualClock(0, 0), config).stateArrayBytes();
}

// ---------------------------------------------------------------------------------------------
// Design 2 (baseline): the same flow with the order book as JS objects, as a typical Node OMS.
// ---------------------------------------------------------------------------------------------

const SIDE_NAMES = ['', 'BUY', 'SELL'];
const ORD_TYPE_NAMES = ['', 'MARKET', 'LIMIT'];
const TIF_NAMES = ['DAY', 'GTC', '', 'IOC', 'FOK'];
const SYMBOL_NAMES = ['AAPL', 'MSFT', 'AMZN', 'NVDA'];
const VENUE_NAMES = ['', 'XNYS', 'XNAS', 'BATS'];

interface ChildObject {
  childId: number;
  orderId: number;
  parent: OrderObject;
  venue: string;
  venueId: number;
  qty: number;
  price: number;
  cumQty: number;
  status: string;
  sentAt: number;
  decisionTimeNs: number;
}

interface OrderObject {
  orderId: number;
  clOrdId: string;
  key: string;
  accountId: number;
  symbol: string;
  symbolId: number;
  side: string;
  ordType: string;
  tif: string;
  qty: number;
  price: number;
  cumQty: number;
  leavesQty: number;
  avgPx: number;
  cumNotional: number;
  status: string;
  state: number;
  connId: number;
  requestId: number;
  source: number;
  recvTimeNs: number;
  createdAt: number;
  updatedAt: number;
  routing: boolean;
  children: ChildObject[];
}

interface AccountObject {
  id: number;
  maxOrderQty: number;
  maxOrderNotionalTicks: number;
  enabled: boolean;
}

interface VenueObject {
  id: number;
  name: string;
  up: boolean;
  profile: VenueProfile;
}

class ObjectDesign implements Design, RingRecordHandler {
  readonly orders = new Map<number, OrderObject>();
  readonly byClOrdId = new Map<string, OrderObject>();
  readonly children = new Map<number, ChildObject>();
  readonly positions = new Map<number, number>();
  readonly accounts = new Map<number, AccountObject>();
  readonly venues: VenueObject[] = [];
  private readonly clock: ManualClock;
  private readonly fromIngest: RingConsumer;
  private readonly fromFix: RingConsumer;
  private readonly fromVenues: RingConsumer;
  private readonly toIngest: RingProducer;
  private readonly toFix: RingProducer;
  private readonly toPersistence: RingProducer;
  private readonly ingestHandler: RingDispatch;
  private readonly fixHandler: RingDispatch;
  private readonly venueHandler: RingDispatch;
  private readonly newOrder = new NewOrderFlyweight();
  private readonly childEvent = new ChildEventFlyweight();
  private readonly routeDone = new RouteDoneFlyweight();
  private readonly status = new VenueStatusFlyweight();
  private readonly report = new ExecReportFlyweight();
  private readonly child = new ChildOrderFlyweight();
  private readonly done = new RouteDoneFlyweight();
  private readonly clScratch = new Uint8Array(CL_ORD_ID_CAPACITY);
  private nextOrderId = FIRST_ORDER_ID;
  private nextChildId = CHILD_ID_BASE + 1;
  private eventSeq = 0;
  private anomalyCount = 0;

  constructor(rings: RingSet, clock: ManualClock) {
    this.clock = clock;
    this.fromIngest = new RingConsumer(rings.ingest);
    this.fromFix = new RingConsumer(rings.fixToRisk);
    this.fromVenues = new RingConsumer(rings.venueToSor);
    this.toIngest = new RingProducer(rings.toIngest, null);
    this.toFix = new RingProducer(rings.sorToFix, null);
    this.toPersistence = new RingProducer(rings.toPersistence, null);
    this.ingestHandler = new RingDispatch(this, this.fromIngest);
    this.fixHandler = new RingDispatch(this, this.fromFix);
    this.venueHandler = new RingDispatch(this, this.fromVenues);
    for (let a = 1; a <= ACCOUNTS; a++) this.accounts.set(a, { id: a, maxOrderQty: MAX_ORDER_QTY, maxOrderNotionalTicks: MAX_NOTIONAL_TICKS, enabled: true });
    for (let v = 0; v < VENUES.length; v++) {
      const profile = VENUES[v];
      if (profile !== null) this.venues.push({ id: v, name: VENUE_NAMES[v], up: false, profile });
    }
  }

  doWork(): number {
    let work = this.fromVenues.poll(this.venueHandler, 256);
    work += this.fromFix.poll(this.fixHandler, 256);
    work += this.fromIngest.poll(this.ingestHandler, 256);
    if (work > 0) {
      this.toIngest.commit();
      this.toFix.commit();
      this.toPersistence.commit();
    }
    return work;
  }

  netPosition(): number {
    let sum = 0;
    for (const v of this.positions.values()) sum += v;
    return sum;
  }

  workingOrders(): number {
    return this.orders.size;
  }

  anomalies(): number {
    return this.anomalyCount;
  }

  onRecord(view: DataView, bytes: Uint8Array, typeId: number, offset: number, length: number): void {
    switch (typeId) {
      case RecordType.NEW_ORDER:
        this.journal(bytes, typeId, offset, length);
        this.onNewOrder(bytes, this.newOrder.wrap(view, bytes, offset));
        return;
      case RecordType.CHILD_EVENT:
        this.journal(bytes, typeId, offset, length);
        this.onChildEvent(this.childEvent.wrap(view, bytes, offset));
        return;
      case RecordType.ROUTE_DONE: {
        this.journal(bytes, typeId, offset, length);
        const order = this.orders.get(this.routeDone.wrap(view, bytes, offset).orderId());
        if (order === undefined) this.anomalyCount++;
        else order.routing = false;
        return;
      }
      case RecordType.VENUE_STATUS: {
        const s = this.status.wrap(view, bytes, offset);
        for (const v of this.venues) if (v.id === s.venueId()) v.up = s.up();
        return;
      }
    }
    this.anomalyCount++;
  }

  private onNewOrder(bytes: Uint8Array, cmd: NewOrderFlyweight): void {
    const clOrdId = Buffer.from(bytes.buffer, cmd.clOrdIdOffset(), cmd.clOrdIdLength()).toString('latin1');
    const accountId = cmd.accountId();
    const key = `${accountId}:${clOrdId}`;
    const account = this.accounts.get(accountId);
    const qty = cmd.qty();
    const price = cmd.priceTicks();
    if (
      account === undefined || !account.enabled || this.byClOrdId.has(key) || !(qty >= 1 && qty <= account.maxOrderQty) ||
      qty * price > account.maxOrderNotionalTicks || cmd.symbolId() >= SYMBOLS
    ) {
      this.anomalyCount++;
      return;
    }
    const now = this.clock.epochMs();
    const order: OrderObject = {
      orderId: this.nextOrderId++,
      clOrdId,
      key,
      accountId,
      symbol: SYMBOL_NAMES[cmd.symbolId()],
      symbolId: cmd.symbolId(),
      side: SIDE_NAMES[cmd.side()],
      ordType: ORD_TYPE_NAMES[cmd.ordType()],
      tif: TIF_NAMES[cmd.tif()],
      qty,
      price,
      cumQty: 0,
      leavesQty: qty,
      avgPx: 0,
      cumNotional: 0,
      status: 'NEW',
      state: OrderState.NEW,
      connId: cmd.connId(),
      requestId: cmd.requestId(),
      source: cmd.source(),
      recvTimeNs: cmd.recvTimeNs(),
      createdAt: now,
      updatedAt: now,
      routing: false,
      children: [],
    };
    this.orders.set(order.orderId, order);
    this.byClOrdId.set(key, order);
    this.emitReport(order, ExecType.NEW, 0, 0, 0);
    this.route(order);
  }

  /** The SOR's scoring with no quotes (price scores 1 everywhere), over venue objects. */
  private route(order: OrderObject): void {
    let minLatency = Infinity;
    let minFee = Infinity;
    for (const v of this.venues) {
      if (!v.up) continue;
      if (v.profile.latencyUs < minLatency) minLatency = v.profile.latencyUs;
      if (v.profile.feeCentiBps < minFee) minFee = v.profile.feeCentiBps;
    }
    let best: VenueObject | null = null;
    let bestScore = -Infinity;
    for (const v of this.venues) {
      if (!v.up) continue;
      const p = v.profile;
      const latencyScore = p.latencyUs === 0 ? 1 : minLatency / p.latencyUs;
      const feeScore = (minFee + 1) / (p.feeCentiBps + 1);
      const score = WEIGHTS.price * 1 + WEIGHTS.latency * latencyScore + WEIGHTS.fillprob * p.fillProbability + WEIGHTS.fee * feeScore;
      if (score > bestScore) {
        bestScore = score;
        best = v;
      }
    }
    const decisionNs = this.clock.nowNs();
    order.routing = true;
    if (best === null) {
      this.anomalyCount++;
      this.emitDone(order, decisionNs, 0, 0, Reason.NO_VENUE_AVAILABLE);
      return;
    }
    const child: ChildObject = {
      childId: this.nextChildId++,
      orderId: order.orderId,
      parent: order,
      venue: best.name,
      venueId: best.id,
      qty: order.qty,
      price: order.price,
      cumQty: 0,
      status: 'PENDING_NEW',
      sentAt: 0,
      decisionTimeNs: decisionNs,
    };
    this.children.set(child.childId, child);
    order.children.push(child);
    const out = this.toFix;
    const at = out.tryClaim(RecordType.CHILD_NEW, CHILD_ORDER_LENGTH);
    if (at === FULL) throw new Error('Invariant: the sor->fix ring has room (drained every step)');
    this.child
      .wrap(out.view, out.bytes, at)
      .setChildId(child.childId)
      .setOrderId(order.orderId)
      .setQty(child.qty)
      .setPriceTicks(child.price)
      .setRecvTimeNs(order.recvTimeNs)
      .setDecisionTimeNs(decisionNs)
      .setVenueId(child.venueId)
      .setSymbolId(order.symbolId)
      .setAccountId(order.accountId)
      .setSide(SIDE_NAMES.indexOf(order.side))
      .setOrdType(ORD_TYPE_NAMES.indexOf(order.ordType))
      .setTif(TIF_NAMES.indexOf(order.tif));
    this.emitDone(order, decisionNs, child.qty, 1, Reason.NONE);
  }

  private emitDone(order: OrderObject, decisionNs: number, routedQty: number, childCount: number, reason: number): void {
    const out = this.toFix;
    const at = out.tryClaim(RecordType.ROUTE_DONE, ROUTE_DONE_LENGTH);
    if (at === FULL) throw new Error('Invariant: the sor->fix ring has room (drained every step)');
    this.done
      .wrap(out.view, out.bytes, at)
      .setOrderId(order.orderId)
      .setRecvTimeNs(order.recvTimeNs)
      .setDecisionTimeNs(decisionNs)
      .setRoutedQty(routedQty)
      .setChildCount(childCount)
      .setReason(reason);
  }

  private onChildEvent(ev: ChildEventFlyweight): void {
    const kind = ev.kind();
    const child = this.children.get(ev.childId());
    if (child === undefined) {
      this.anomalyCount++;
      return;
    }
    const order = child.parent;
    if (kind === ChildEventKind.SENT) {
      child.status = 'SENT';
      child.sentAt = this.clock.epochMs();
      order.status = 'ROUTED';
      order.state = OrderState.ROUTED;
      order.updatedAt = child.sentAt;
      return;
    }
    if (kind !== ChildEventKind.FILL) {
      this.anomalyCount++;
      return;
    }
    const lastQty = ev.lastQty();
    const lastPx = ev.lastPxTicks();
    if (!(lastQty > 0 && child.cumQty + lastQty <= child.qty)) {
      this.anomalyCount++;
      return;
    }
    child.cumQty += lastQty;
    order.cumQty += lastQty;
    order.cumNotional += lastQty * lastPx;
    order.leavesQty = order.qty - order.cumQty;
    order.avgPx = order.cumNotional / order.cumQty;
    order.updatedAt = this.clock.epochMs();
    const positionKey = order.accountId * 1024 + order.symbolId;
    const signed = order.side === 'BUY' ? lastQty : -lastQty;
    this.positions.set(positionKey, (this.positions.get(positionKey) ?? 0) + signed);
    const complete = order.cumQty >= order.qty;
    order.status = complete ? 'FILLED' : 'PARTIALLY_FILLED';
    order.state = complete ? OrderState.FILLED : OrderState.PARTIALLY_FILLED;
    if (child.cumQty >= child.qty) child.status = 'FILLED';
    this.emitReport(order, complete ? ExecType.FILL : ExecType.PARTIAL_FILL, lastQty, lastPx, child.venueId);
    if (complete) {
      this.orders.delete(order.orderId);
      this.byClOrdId.delete(order.key);
      for (const c of order.children) this.children.delete(c.childId);
    }
  }

  private emitReport(order: OrderObject, execType: number, lastQty: number, lastPx: number, venueId: number): void {
    const ring = this.toIngest;
    const at = ring.tryClaim(RecordType.EXEC_REPORT, EXEC_REPORT_LENGTH);
    if (at === FULL) throw new Error('Invariant: the report ring has room (drained every step)');
    const terminal = order.state === OrderState.FILLED;
    const r = this.report.wrap(ring.view, ring.bytes, at);
    r.setEventSeq(++this.eventSeq)
      .setOrderId(order.orderId)
      .setTimeNs(this.clock.nowNs())
      .setRecvTimeNs(order.recvTimeNs)
      .setQty(order.qty)
      .setPriceTicks(order.price)
      .setLastQty(lastQty)
      .setLastPxTicks(lastPx)
      .setCumQty(order.cumQty)
      .setLeavesQty(terminal ? 0 : order.leavesQty)
      .setCumNotionalTicks(order.cumNotional)
      .setConnId(order.connId)
      .setAccountId(order.accountId)
      .setSymbolId(order.symbolId)
      .setRequestId(order.requestId)
      .setReason(Reason.NONE)
      .setVenueId(venueId)
      .setExecType(execType)
      .setState(order.state)
      .setSide(SIDE_NAMES.indexOf(order.side))
      .setOrdType(ORD_TYPE_NAMES.indexOf(order.ordType))
      .setTif(TIF_NAMES.indexOf(order.tif))
      .setSource(order.source)
      .setVenueExecIdHash(0)
      .setExecRefSeq(0);
    const cl = this.clScratch;
    const length = Math.min(order.clOrdId.length, CL_ORD_ID_CAPACITY);
    for (let i = 0; i < length; i++) cl[i] = order.clOrdId.charCodeAt(i);
    r.setClOrdId(cl, 0, length);
    r.setOrigClOrdId(cl, 0, 0);
    const p = this.toPersistence;
    const to = p.tryClaim(RecordType.EXEC_REPORT, EXEC_REPORT_LENGTH);
    if (to === FULL) throw new Error('Invariant: the journal ring has room (drained every step)');
    copyBytes(ring.bytes, at, p.bytes, to, EXEC_REPORT_LENGTH);
  }

  private journal(src: Uint8Array, typeId: number, offset: number, length: number): void {
    const p = this.toPersistence;
    const at = p.tryClaim(typeId, length);
    if (at === FULL) throw new Error('Invariant: the journal ring has room (drained every step)');
    copyBytes(src, offset, p.bytes, at, length);
  }
}

// ---------------------------------------------------------------------------------------------
// The driver's handlers: a fake venue on the sor->fix ring, and counters on the output rings.
// Made once per pass; nothing is allocated per record.
// ---------------------------------------------------------------------------------------------

/** As a simulator's ExecIDs start (sim/venue.ts: name, boot time in base 36; bench:persist's synthetic fills use the same). */
const FAKE_EXEC_ID_PREFIX = new TextEncoder().encode('V1-mwtxhc00-E');

/** Plays the fix worker and the venues: acknowledges every child as sent and fills it later. */
class FakeVenue implements RecordHandler {
  private readonly from: RingConsumer;
  private readonly to: RingProducer;
  /**
   * Where the real fix stage copies every child event for the SOR's learned statistics and route
   * completion (the typed design's SOR needs them to end a route); null for the object design,
   * whose single writer takes child events from fix -> risk only.
   */
  private readonly toSor: RingProducer | null;
  private readonly clock: ManualClock;
  private readonly child = new ChildOrderFlyweight();
  private readonly event = new ChildEventFlyweight();
  /** Per working order (index orderId & mask): its child, for the fill to come. */
  private readonly mask: number;
  private readonly orderIds: Float64Array;
  private readonly childIds: Float64Array;
  private readonly qtys: Float64Array;
  private readonly prices: Float64Array;
  private readonly venueIds: Uint32Array;
  childrenSeen = 0;
  routeDones = 0;
  unexpected = 0;
  /** The fills' ExecIDs: the prefix, then the fill's number (written in place by fill()). */
  private readonly execId = new Uint8Array(64);
  private execSeq = 0;

  constructor(from: RingConsumer, to: RingProducer, toSor: RingProducer | null, clock: ManualClock, working: number) {
    this.from = from;
    this.to = to;
    this.toSor = toSor;
    this.clock = clock;
    const size = nextPowerOfTwo(working);
    this.mask = size - 1;
    this.orderIds = new Float64Array(size);
    this.childIds = new Float64Array(size);
    this.qtys = new Float64Array(size);
    this.prices = new Float64Array(size);
    this.venueIds = new Uint32Array(size);
    this.execId.set(FAKE_EXEC_ID_PREFIX);
  }

  onRecord(typeId: number, offset: number): void {
    const src = this.from;
    if (typeId === RecordType.CHILD_NEW) {
      const c = this.child.wrap(src.view, src.bytes, offset);
      const orderId = c.orderId();
      const i = orderId & this.mask;
      if (this.orderIds[i] !== 0) this.unexpected++; // an earlier order in this index is unfilled
      this.orderIds[i] = orderId;
      this.childIds[i] = c.childId();
      this.qtys[i] = c.qty();
      this.prices[i] = c.priceTicks();
      this.venueIds[i] = c.venueId();
      this.childrenSeen++;
      const at = this.to.tryClaim(RecordType.CHILD_EVENT, CHILD_EVENT_LENGTH);
      if (at === FULL) throw new Error('Invariant: the fix->risk ring has room');
      this.event
        .wrap(this.to.view, this.to.bytes, at)
        .setChildId(c.childId())
        .setOrderId(orderId)
        .setTimeNs(this.clock.nowNs())
        .setLastQty(0)
        .setLastPxTicks(0)
        .setQty(c.qty())
        .setPriceTicks(c.priceTicks())
        .setVenueId(c.venueId())
        .setReason(Reason.NONE)
        .setKind(ChildEventKind.SENT)
        .setExecIdHash(0);
      this.mirror(at);
      return;
    }
    if (typeId === RecordType.ROUTE_DONE) {
      this.routeDones++;
      const at = this.to.tryClaim(RecordType.ROUTE_DONE, ROUTE_DONE_LENGTH);
      if (at === FULL) throw new Error('Invariant: the fix->risk ring has room');
      copyBytes(src.bytes, offset, this.to.bytes, at, ROUTE_DONE_LENGTH);
      return;
    }
    this.unexpected++;
  }

  /** Writes the full fill of orderId's child; false if its child was never seen. */
  fill(orderId: number): boolean {
    const i = orderId & this.mask;
    if (this.orderIds[i] !== orderId) return false;
    // The venue's ExecID rides past the fixed part, as the fix stage journals a fill (its digits
    // written in place: no string per fill).
    const idLength = writeUint(this.execId, FAKE_EXEC_ID_PREFIX.length, ++this.execSeq);
    const at = this.to.tryClaim(RecordType.CHILD_EVENT, childEventLength(idLength, 0));
    if (at === FULL) throw new Error('Invariant: the fix->risk ring has room');
    this.event
      .wrap(this.to.view, this.to.bytes, at)
      .setChildId(this.childIds[i])
      .setOrderId(orderId)
      .setTimeNs(this.clock.nowNs())
      .setLastQty(this.qtys[i])
      .setLastPxTicks(this.prices[i])
      .setQty(this.qtys[i])
      .setPriceTicks(this.prices[i])
      .setVenueId(this.venueIds[i])
      .setReason(Reason.NONE)
      .setKind(ChildEventKind.FILL)
      .setExecIdHash(execIdHash(this.venueIds[i], this.execId, 0, idLength))
      .setIds(this.execId, 0, idLength, 0, 0);
    this.mirror(at);
    this.orderIds[i] = 0;
    return true;
  }

  /** Copies the fixed part of the child event just written at `at` (fix -> risk) to the SOR, as the fix stage does. */
  private mirror(at: number): void {
    const out = this.toSor;
    if (out === null) return;
    const copy = out.tryClaim(RecordType.CHILD_EVENT, CHILD_EVENT_LENGTH);
    if (copy === FULL) throw new Error('Invariant: the venue->sor ring has room');
    copyBytes(this.to.bytes, at, out.bytes, copy, CHILD_EVENT_LENGTH);
  }

  /** Publishes what mirror() wrote. */
  commitSor(): void {
    if (this.toSor !== null) this.toSor.commit();
  }
}

/** Counts execution reports and sums the fills: the checksum of the work. */
class ReportCounter implements RecordHandler {
  private readonly from: RingConsumer;
  private readonly fw = new ExecReportFlyweight();
  reports = 0;
  news = 0;
  fills = 0;
  others = 0;
  /** POSITION records (one per fill, to the edge): not reports. */
  positionUpdates = 0;
  filledQty = 0;
  /** int32 mix of (orderId, lastQty, venueId) over fills, order-independent. */
  fillHash = 0;

  constructor(from: RingConsumer) {
    this.from = from;
  }

  onRecord(typeId: number, offset: number): void {
    if (typeId === RecordType.POSITION) {
      this.positionUpdates++;
      return;
    }
    this.reports++;
    if (typeId !== RecordType.EXEC_REPORT) {
      this.others++;
      return;
    }
    const r = this.fw.wrap(this.from.view, this.from.bytes, offset);
    const execType = r.execType();
    if (execType === ExecType.NEW) {
      this.news++;
    } else if (execType === ExecType.FILL) {
      this.fills++;
      const lastQty = r.lastQty();
      this.filledQty += lastQty;
      this.fillHash = (this.fillHash + Math.imul((r.orderId() | 0) ^ Math.imul(lastQty | 0, 0x9e3779b1), 0x85ebca6b) + r.venueId()) | 0;
    } else {
      this.others++;
    }
  }
}

class JournalCounter implements RecordHandler {
  records = 0;
  bytes = 0;
  onRecord(_typeId: number, _offset: number, length: number): void {
    this.records++;
    this.bytes += length;
  }
}

// ---------------------------------------------------------------------------------------------
// One pass
// ---------------------------------------------------------------------------------------------

export type PassMode = 'gc' | 'heap';

export interface Accounting {
  orders: number;
  newReports: number;
  fills: number;
  otherReports: number;
  filledQty: number;
  fillHash: number;
  netPosition: number;
  journalRecords: number;
  journalBytes: number;
  workingAtEnd: number;
  anomalies: number;
  venueUnexpected: number;
  missingChildren: number;
}

export interface GcEvent {
  kind: 'minor' | 'major' | 'incremental' | 'weakcb' | 'other';
  durationMs: number;
}

export interface HeapSample {
  orders: number;
  heapUsed: number;
  arrayBuffers: number;
}

export interface PassResult {
  design: DesignKind;
  mode: PassMode;
  accounting: Accounting;
  wallMs: number;
  /** Orders per wall-clock second in the measured window (information only: mostly GC-free work). */
  ordersPerS: number;
  /** New orders in the measured window (warmupOrders .. orders). */
  windowOrders: number;
  /** GC pass: JS heap bytes allocated per order in the window (GCProfiler); NaN in the heap pass. */
  allocatedBytesPerOrder: number;
  /** GC pass: every GC in the measured window. */
  gcEvents: GcEvent[];
  /** Heap pass: forced-GC samples, from the engine's creation (orders 0) to the end. */
  heapSamples: HeapSample[];
  /** Heap pass: heapUsed after a forced GC just before the engine was built. */
  heapBeforeEngine: number;
  arrayBuffersBeforeEngine: number;
}

type GcFunction = () => void;

/** global.gc when node runs with --expose-gc, else the same function exposed at run time. */
export function obtainGc(): GcFunction {
  const exposed = (globalThis as { gc?: GcFunction }).gc;
  if (typeof exposed === 'function') return exposed;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as GcFunction;
}

function gcKind(entry: PerformanceEntry): GcEvent['kind'] {
  const detail = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail;
  switch (detail?.kind) {
    case perfConstants.NODE_PERFORMANCE_GC_MINOR: return 'minor';
    case perfConstants.NODE_PERFORMANCE_GC_MAJOR: return 'major';
    case perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL: return 'incremental';
    case perfConstants.NODE_PERFORMANCE_GC_WEAKCB: return 'weakcb';
  }
  return 'other';
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function checkConfig(config: HeapBenchConfig): void {
  const c = config;
  if (!(Number.isInteger(c.orders) && c.orders >= 1)) throw new Error('Condition failed: orders >= 1');
  if (!(Number.isInteger(c.liveOrders) && c.liveOrders >= 1)) throw new Error('Condition failed: liveOrders >= 1');
  if (!(Number.isInteger(c.stepOrders) && c.stepOrders >= 1 && c.stepOrders <= 1000)) throw new Error('Condition failed: stepOrders in [1, 1000]');
  if (c.sampleEvery % c.stepOrders !== 0 || c.yieldEvery % c.stepOrders !== 0 || c.warmupOrders % c.stepOrders !== 0) {
    throw new Error('Condition failed: sampleEvery, yieldEvery and warmupOrders are multiples of stepOrders');
  }
  if (!(c.ordersPerSimSecond > 0)) throw new Error('Condition failed: ordersPerSimSecond > 0');
  if (!(c.warmupOrders >= 0 && c.warmupOrders < c.orders && c.orders % c.stepOrders === 0)) {
    throw new Error('Condition failed: 0 <= warmupOrders < orders, orders a multiple of stepOrders');
  }
}

/**
 * The order source and the loop: writes each step's fills and new orders, then pumps every
 * stage and drains every ring until the flow is idle. Everything is made in the constructor;
 * step() allocates nothing of its own.
 */
class Driver {
  readonly engine: Design;
  readonly clock: ManualClock;
  readonly venue: FakeVenue;
  readonly reports: ReportCounter;
  readonly fixReports: ReportCounter;
  readonly journal = new JournalCounter();
  private readonly ingest: RingProducer;
  private readonly fixToRisk: RingProducer;
  private readonly sorToFix: RingConsumer;
  private readonly outIngest: RingConsumer;
  private readonly outFixClients: RingConsumer;
  private readonly outPersistence: RingConsumer;
  private readonly newOrder = new NewOrderFlyweight();
  private readonly clScratch = new Uint8Array(CL_ORD_ID_CAPACITY);
  private readonly nsPerOrder: number;
  private readonly live: number;
  private readonly total: number;
  private readonly stepOrders: number;
  /** Orders (and due fills) written so far; the flow ends at total + live. */
  n = 0;
  missingChildren = 0;

  constructor(design: DesignKind, config: HeapBenchConfig) {
    const rings = createRings();
    // Start above the small-integer range so the clock's field holds a double from the first
    // write (a field that changes representation later can box every update).
    this.clock = new ManualClock(1.5e12, 1_700_000_000_000);
    this.engine = design === 'typed' ? new TypedDesign(rings, this.clock, config) : new ObjectDesign(rings, this.clock);
    this.ingest = new RingProducer(rings.ingest, null);
    this.fixToRisk = new RingProducer(rings.fixToRisk, null);
    this.sorToFix = new RingConsumer(rings.sorToFix);
    this.outIngest = new RingConsumer(rings.toIngest);
    this.outFixClients = new RingConsumer(rings.toFixClients);
    this.outPersistence = new RingConsumer(rings.toPersistence);
    // One producer for the venue -> sor ring: venue status below, and (typed design) child events.
    const venueToSor = new RingProducer(rings.venueToSor, null);
    this.venue = new FakeVenue(this.sorToFix, this.fixToRisk, design === 'typed' ? venueToSor : null, this.clock, config.liveOrders + 4 * config.stepOrders);
    this.reports = new ReportCounter(this.outIngest);
    this.fixReports = new ReportCounter(this.outFixClients);
    this.nsPerOrder = 1e9 / config.ordersPerSimSecond;
    this.live = config.liveOrders;
    this.total = config.orders;
    this.stepOrders = config.stepOrders;
    // Every venue up, once.
    const status = new VenueStatusFlyweight();
    for (let v = 1; v < VENUES.length; v++) {
      const at = venueToSor.tryClaim(RecordType.VENUE_STATUS, VENUE_STATUS_LENGTH);
      if (at === FULL) throw new Error('Invariant: the venue ring has room');
      status.wrap(venueToSor.view, venueToSor.bytes, at).setTimeNs(this.clock.nowNs()).setVenueId(v).setUp(true);
    }
    venueToSor.commit();
    this.pump();
  }

  done(): boolean {
    return this.n >= this.total + this.live;
  }

  /** One step: the fills due (orders n - live ...), the new orders n ..., then pump until idle. */
  step(): void {
    const end = this.n + this.stepOrders;
    for (let n = this.n; n < end; n++) {
      const filled = n - this.live;
      if (filled >= 0 && filled < this.total && !this.venue.fill(FIRST_ORDER_ID + filled)) this.missingChildren++;
      if (n < this.total) this.writeOrder(n);
      this.clock.advanceNs(this.nsPerOrder);
    }
    this.n = end;
    this.fixToRisk.commit();
    this.venue.commitSor();
    this.ingest.commit();
    this.pump();
  }

  private writeOrder(n: number): void {
    const ring = this.ingest;
    const at = ring.tryClaim(RecordType.NEW_ORDER, NEW_ORDER_LENGTH);
    if (at === FULL) throw new Error('Invariant: the ingest ring has room (drained every step)');
    const clLength = writeClOrdId(this.clScratch, n);
    this.newOrder
      .wrap(ring.view, ring.bytes, at)
      .setRecvTimeNs(this.clock.nowNs())
      .setQty(orderQty(n))
      .setPriceTicks(orderPriceTicks(n))
      .setConnId(1 + (n & 63))
      .setAccountId(orderAccount(n))
      .setSymbolId(orderSymbol(n))
      .setRequestId(n >>> 0)
      .setSource(Source.INGEST)
      .setSide(orderSide(n))
      .setOrdType(OrdType.LIMIT)
      .setTif(Tif.DAY)
      .setClOrdId(this.clScratch, 0, clLength);
  }

  private pump(): void {
    for (;;) {
      let work = this.engine.doWork();
      work += this.sorToFix.poll(this.venue, 1 << 20);
      this.fixToRisk.commit();
      this.venue.commitSor();
      work += this.outIngest.poll(this.reports, 1 << 20);
      work += this.outFixClients.poll(this.fixReports, 1 << 20);
      work += this.outPersistence.poll(this.journal, 1 << 20);
      if (work === 0) return;
    }
  }

  accounting(): Accounting {
    const r = this.reports;
    const f = this.fixReports;
    const v = this.venue;
    return {
      orders: this.total,
      newReports: r.news + f.news,
      fills: r.fills + f.fills,
      otherReports: r.others + f.others,
      filledQty: r.filledQty + f.filledQty,
      fillHash: (r.fillHash + f.fillHash) | 0,
      netPosition: this.engine.netPosition(),
      journalRecords: this.journal.records,
      journalBytes: this.journal.bytes,
      workingAtEnd: this.engine.workingOrders(),
      anomalies: this.engine.anomalies(),
      venueUnexpected: v.unexpected + Math.abs(v.childrenSeen - this.total) + Math.abs(v.routeDones - this.total),
      missingChildren: this.missingChildren,
    };
  }
}


/**
 * Runs one design through the whole flow once. The measured window runs from warmupOrders to
 * the last new order (the live set is full throughout); the drain of the last fills after it is
 * not measured. mode 'gc': GC events (PerformanceObserver) and bytes allocated (GCProfiler) in
 * the window, no forced GC. mode 'heap': forced-GC heap samples every sampleEvery orders.
 */
export async function runPass(design: DesignKind, config: HeapBenchConfig, mode: PassMode, gc: GcFunction = obtainGc()): Promise<PassResult> {
  checkConfig(config);
  gc();
  const before = process.memoryUsage();
  const driver = new Driver(design, config);

  const gcEvents: GcEvent[] = [];
  // Samples go into arrays sized up front, so the measurement retains nothing as it goes.
  const sampleCapacity = Math.floor(config.orders / config.sampleEvery) + 1;
  const sampleOrders = new Float64Array(sampleCapacity);
  const sampleHeapUsed = new Float64Array(sampleCapacity);
  const sampleArrayBuffers = new Float64Array(sampleCapacity);
  let samples = 0;
  let measureFromMs = Infinity;
  let measureToMs = Infinity;
  const takeEntries = (entries: readonly PerformanceEntry[]): void => {
    for (const e of entries) {
      if (e.startTime >= measureFromMs && e.startTime < measureToMs) gcEvents.push({ kind: gcKind(e), durationMs: e.duration });
    }
  };
  const observer = mode === 'gc' ? new PerformanceObserver((list) => takeEntries(list.getEntries())) : null;
  let allocation: AllocationWindow | null = null;
  let allocatedBytes = 0;
  const windowOpens = (): void => {
    measureFromMs = performance.now();
    if (mode !== 'gc') return;
    allocation = new AllocationWindow();
    allocation.open();
  };
  const windowCloses = (): void => {
    measureToMs = performance.now();
    if (allocation === null) return;
    allocatedBytes = allocation.close();
    allocation = null;
  };
  const sample = (orders: number): void => {
    gc();
    const m = process.memoryUsage();
    sampleOrders[samples] = orders;
    sampleHeapUsed[samples] = m.heapUsed;
    sampleArrayBuffers[samples] = m.arrayBuffers;
    samples++;
  };
  if (mode === 'heap') sample(0);
  observer?.observe({ entryTypes: ['gc'] });
  if (config.warmupOrders === 0) windowOpens();

  const startMs = performance.now();
  let windowMs = 0;
  while (!driver.done()) {
    driver.step();
    const n = driver.n;
    if (n === config.warmupOrders) windowOpens();
    if (n === config.orders) {
      windowCloses();
      windowMs = measureToMs - measureFromMs;
    }
    if (mode === 'heap' && n % config.sampleEvery === 0 && n <= config.orders) sample(n);
    if (n % config.yieldEvery === 0) await yieldToEventLoop();
  }
  const wallMs = performance.now() - startMs;
  if (observer !== null) {
    await yieldToEventLoop();
    takeEntries(observer.takeRecords());
    observer.disconnect();
  }
  const windowOrders = config.orders - config.warmupOrders;
  const heapSamples: HeapSample[] = [];
  for (let i = 0; i < samples; i++) heapSamples.push({ orders: sampleOrders[i], heapUsed: sampleHeapUsed[i], arrayBuffers: sampleArrayBuffers[i] });
  return {
    design,
    mode,
    accounting: driver.accounting(),
    wallMs,
    ordersPerS: (windowOrders / windowMs) * 1000,
    windowOrders,
    allocatedBytesPerOrder: mode === 'gc' ? allocatedBytes / windowOrders : NaN,
    gcEvents,
    heapSamples,
    heapBeforeEngine: before.heapUsed,
    arrayBuffersBeforeEngine: before.arrayBuffers,
  };
}

/** Throws unless the pass did exactly the expected work. */
export function checkAccounting(a: Accounting, expected: Expected): void {
  const problems: string[] = [];
  if (a.newReports !== expected.orders) problems.push(`${a.newReports} NEW reports of ${expected.orders}`);
  if (a.fills !== expected.orders) problems.push(`${a.fills} fills of ${expected.orders}`);
  if (a.filledQty !== expected.filledQty) problems.push(`filled qty ${a.filledQty} != ${expected.filledQty}`);
  if (a.netPosition !== expected.netPosition) problems.push(`net position ${a.netPosition} != ${expected.netPosition}`);
  if (a.otherReports !== 0) problems.push(`${a.otherReports} other reports`);
  if (a.workingAtEnd !== 0) problems.push(`${a.workingAtEnd} orders still working`);
  if (a.anomalies !== 0) problems.push(`${a.anomalies} stage anomalies`);
  if (a.venueUnexpected !== 0) problems.push(`${a.venueUnexpected} unexpected venue records`);
  if (a.missingChildren !== 0) problems.push(`${a.missingChildren} fills without a child`);
  if (problems.length > 0) throw new Error(`Invariant: the pass did the expected work: ${problems.join('; ')}`);
}

// ---------------------------------------------------------------------------------------------
// Statistics
// ---------------------------------------------------------------------------------------------

/** Least-squares slope of y over x. */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += xs[i];
    my += ys[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) * (xs[i] - mx);
  }
  return sxx === 0 ? 0 : sxy / sxx;
}

/** Nearest-rank percentile (0 for no samples). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1];
}

export interface GcStats {
  events: number;
  minor: number;
  major: number;
  incremental: number;
  /** All pauses after warm-up (every kind). */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  totalMs: number;
  /** Scavenges only: the pause the issue quotes. */
  minorP50Ms: number;
  minorMaxMs: number;
}

export function gcStats(events: readonly GcEvent[]): GcStats {
  const all = events.map((e) => e.durationMs);
  const minor = events.filter((e) => e.kind === 'minor').map((e) => e.durationMs);
  return {
    events: events.length,
    minor: minor.length,
    major: events.filter((e) => e.kind === 'major').length,
    incremental: events.filter((e) => e.kind === 'incremental').length,
    p50Ms: percentile(all, 50),
    p99Ms: percentile(all, 99),
    maxMs: all.length === 0 ? 0 : Math.max(...all),
    totalMs: all.reduce((a, b) => a + b, 0),
    minorP50Ms: percentile(minor, 50),
    minorMaxMs: minor.length === 0 ? 0 : Math.max(...minor),
  };
}

export interface HeapStats {
  samples: number;
  /** Growth of heapUsed after forced GC, least squares over samples after warm-up. */
  growthBytesPer1kOrders: number;
  minBytes: number;
  maxBytes: number;
  /** Median sampled heapUsed after warm-up minus heapUsed before the engine was built. */
  stateBytes: number;
}

export function heapStats(pass: PassResult, warmupOrders: number): HeapStats {
  const steady = pass.heapSamples.filter((s) => s.orders >= warmupOrders);
  const used = steady.map((s) => s.heapUsed);
  return {
    samples: steady.length,
    growthBytesPer1kOrders: slope(steady.map((s) => s.orders), used) * 1000,
    minBytes: used.length === 0 ? 0 : Math.min(...used),
    maxBytes: used.length === 0 ? 0 : Math.max(...used),
    stateBytes: used.length === 0 ? 0 : medianOf(used) - pass.heapBeforeEngine,
  };
}

// ---------------------------------------------------------------------------------------------
// The whole benchmark
// ---------------------------------------------------------------------------------------------

export interface RunResult {
  run: number;
  design: DesignKind;
  gc: GcStats;
  heap: HeapStats;
  ordersPerS: number;
  allocatedBytesPerOrder: number;
  accounting: Accounting;
}

export interface HeapBenchReport {
  config: HeapBenchConfig;
  expected: Expected;
  runs: RunResult[];
  /** Per design: the median over runs of each figure. */
  medians: Record<DesignKind, DesignMedians>;
  /** The checksum both designs produced (they must match). */
  checksum: { filledQty: number; fillHash: number; netPosition: number; journalRecords: number };
  figures: Record<string, Figure>;
}

export interface DesignMedians {
  growthBytesPer1kOrders: number;
  minBytes: number;
  maxBytes: number;
  stateBytes: number;
  gcEvents: number;
  minor: number;
  major: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  totalMs: number;
  minorP50Ms: number;
  minorMaxMs: number;
  ordersPerS: number;
  allocatedBytesPerOrder: number;
}

function mediansOf(runs: readonly RunResult[]): DesignMedians {
  const m = (f: (r: RunResult) => number): number => medianOf(runs.map(f));
  return {
    growthBytesPer1kOrders: m((r) => r.heap.growthBytesPer1kOrders),
    minBytes: m((r) => r.heap.minBytes),
    maxBytes: m((r) => r.heap.maxBytes),
    stateBytes: m((r) => r.heap.stateBytes),
    gcEvents: m((r) => r.gc.events),
    minor: m((r) => r.gc.minor),
    major: m((r) => r.gc.major),
    p50Ms: m((r) => r.gc.p50Ms),
    p99Ms: m((r) => r.gc.p99Ms),
    maxMs: m((r) => r.gc.maxMs),
    totalMs: m((r) => r.gc.totalMs),
    minorP50Ms: m((r) => r.gc.minorP50Ms),
    minorMaxMs: m((r) => r.gc.minorMaxMs),
    ordersPerS: m((r) => r.ordersPerS),
    allocatedBytesPerOrder: m((r) => r.allocatedBytesPerOrder),
  };
}

/** The heap growth bound: about one byte per order, far below the smallest JS object (16 B). */
export const GROWTH_GOAL = '<= 1024';

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

function figuresOf(t: DesignMedians, o: DesignMedians, config: HeapBenchConfig): Record<string, Figure> {
  const baselineOf = `same flow with orders and children as JS objects in Maps, median of ${config.runs} runs, same process`;
  const windowOrders = config.orders - config.warmupOrders;
  const detail = { runs: config.runs, windowOrders, liveOrders: config.liveOrders };
  return {
    heap_growth_bytes_per_1k_orders: figure(round(t.growthBytesPer1kOrders, 1), 'B/1k orders', GROWTH_GOAL, round(o.growthBytesPer1kOrders, 1), baselineOf, {
      ...detail,
      method: `least squares over heapUsed after global.gc() every ${config.sampleEvery} orders, after ${config.warmupOrders} orders of warm-up`,
    }),
    heap_state_bytes: figure(Math.round(t.stateBytes), 'B', '(report)', Math.round(o.stateBytes), baselineOf, {
      ...detail,
      method: 'median heapUsed after warm-up minus heapUsed before the engine was built (forced GC both)',
      typedArrayStateBytes: typedStateArrayBytes(config),
    }),
    heap_range_bytes: figure(Math.round(t.maxBytes - t.minBytes), 'B', '(report)', Math.round(o.maxBytes - o.minBytes), baselineOf, detail),
    gc_pause_p99_ms: figure(round(t.p99Ms, 3), 'ms', '(report)', round(o.p99Ms, 3), baselineOf, {
      ...detail,
      p50: round(t.p50Ms, 3),
      baselineP50: round(o.p50Ms, 3),
      events: t.gcEvents,
      baselineEvents: o.gcEvents,
      note: 'nearest rank over every GC pause of one pass (PerformanceObserver, no forced GC), median over runs; under 100 pauses p99 is the largest',
    }),
    gc_pause_max_ms: figure(round(t.maxMs, 3), 'ms', '(report)', round(o.maxMs, 3), baselineOf, detail),
    gc_minor_pause_p50_ms: figure(round(t.minorP50Ms, 3), 'ms', '(report)', round(o.minorP50Ms, 3), baselineOf, { ...detail, minor: t.minor, baselineMinor: o.minor }),
    gc_events_per_100k_orders: figure(round((t.gcEvents / windowOrders) * 1e5, 2), 'events', '(report)', round((o.gcEvents / windowOrders) * 1e5, 2), baselineOf, {
      ...detail,
      major: t.major,
      baselineMajor: o.major,
    }),
    gc_pause_total_ms: figure(round(t.totalMs, 2), 'ms', '(report)', round(o.totalMs, 2), baselineOf, detail),
    js_alloc_bytes_per_order: figure(round(t.allocatedBytesPerOrder, 1), 'B', '(report)', round(o.allocatedBytesPerOrder, 1), baselineOf, {
      ...detail,
      method: 'v8.GCProfiler: growth of usedHeapSize between GCs, summed over the window, per new order (each order: new, route, sent, fill)',
    }),
  };
}

/** Runs every pass of the benchmark; writes nothing. `log` receives progress lines. */
export async function runHeapBench(config: HeapBenchConfig, log: (line: string) => void = () => {}): Promise<HeapBenchReport> {
  checkConfig(config);
  const gc = obtainGc();
  const expected = expectedFor(config.orders);
  const runs: RunResult[] = [];
  let checksum: HeapBenchReport['checksum'] | null = null;
  // One unmeasured pass of each design first: the JIT settles and V8 grows the young generation
  // to its working size, which the first pass in a fresh process would otherwise pay alone.
  for (const design of DESIGNS) {
    const warm = await runPass(design, config, 'gc', gc);
    checkAccounting(warm.accounting, expected);
    log(`warm-up pass ${design}: ${formatRate(warm.ordersPerS)} orders/s (not counted)`);
  }
  for (let run = 1; run <= config.runs; run++) {
    // Alternate which design goes first, so neither always inherits a warmer or dirtier process.
    const order = run % 2 === 1 ? DESIGNS : [...DESIGNS].reverse();
    for (const design of order) {
      const gcPass = await runPass(design, config, 'gc', gc);
      const heapPass = await runPass(design, config, 'heap', gc);
      for (const pass of [gcPass, heapPass]) {
        checkAccounting(pass.accounting, expected);
        const sum = {
          filledQty: pass.accounting.filledQty,
          fillHash: pass.accounting.fillHash,
          netPosition: pass.accounting.netPosition,
          journalRecords: pass.accounting.journalRecords,
        };
        if (checksum === null) checksum = sum;
        else if (JSON.stringify(sum) !== JSON.stringify(checksum)) {
          throw new Error(`Invariant: both designs and every pass produce the same checksum: ${JSON.stringify(sum)} != ${JSON.stringify(checksum)}`);
        }
      }
      const result: RunResult = {
        run,
        design,
        gc: gcStats(gcPass.gcEvents),
        heap: heapStats(heapPass, config.warmupOrders),
        ordersPerS: gcPass.ordersPerS,
        allocatedBytesPerOrder: gcPass.allocatedBytesPerOrder,
        accounting: gcPass.accounting,
      };
      runs.push(result);
      log(
        `run ${run} ${design.padEnd(7)}: ${formatRate(result.ordersPerS)} orders/s, ${result.allocatedBytesPerOrder.toFixed(0)} B/order allocated, ${result.gc.events} GCs after warm-up ` +
          `(p99 ${result.gc.p99Ms.toFixed(2)} ms, max ${result.gc.maxMs.toFixed(2)} ms), heap ${(result.heap.growthBytesPer1kOrders).toFixed(0)} B/1k orders`,
      );
    }
  }
  const medians = {
    typed: mediansOf(runs.filter((r) => r.design === 'typed')),
    objects: mediansOf(runs.filter((r) => r.design === 'objects')),
  };
  return { config, expected, runs, medians, checksum: checksum!, figures: figuresOf(medians.typed, medians.objects, config) };
}

// ---------------------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------------------

function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(2);
}

function printReport(report: HeapBenchReport): void {
  printTable(
    'Per run (GC pass: no forced GC, events after warm-up; heap pass: forced GC every sample)',
    ['run', 'design', 'orders/s', 'alloc B/order', 'GCs', 'minor', 'major', 'p50 ms', 'p99 ms', 'max ms', 'total ms', 'heap B/1k ord', 'heap min MiB', 'heap max MiB', 'state MiB'],
    report.runs.map((r) => [
      r.run,
      r.design,
      formatRate(r.ordersPerS),
      r.allocatedBytesPerOrder.toFixed(0),
      r.gc.events,
      r.gc.minor,
      r.gc.major,
      r.gc.p50Ms.toFixed(3),
      r.gc.p99Ms.toFixed(3),
      r.gc.maxMs.toFixed(3),
      r.gc.totalMs.toFixed(1),
      r.heap.growthBytesPer1kOrders.toFixed(1),
      mib(r.heap.minBytes),
      mib(r.heap.maxBytes),
      mib(r.heap.stateBytes),
    ]),
  );
  printTable(
    `Medians of ${report.config.runs} runs`,
    ['design', 'heap B/1k ord', 'heap min MiB', 'heap max MiB', 'JS heap state MiB', 'alloc B/order', 'GCs', 'minor', 'major', 'minor p50 ms', 'p99 ms', 'max ms', 'orders/s'],
    DESIGNS.map((d) => {
      const m = report.medians[d];
      return [
        d,
        m.growthBytesPer1kOrders.toFixed(1),
        mib(m.minBytes),
        mib(m.maxBytes),
        mib(m.stateBytes),
        m.allocatedBytesPerOrder.toFixed(0),
        m.gcEvents,
        m.minor,
        m.major,
        m.minorP50Ms.toFixed(3),
        m.p99Ms.toFixed(3),
        m.maxMs.toFixed(3),
        formatRate(m.ordersPerS),
      ];
    }),
  );
  const c = report.checksum;
  console.log(
    `\nchecksum (both designs, every pass): filled qty ${c.filledQty}, fill hash ${(c.fillHash >>> 0).toString(16).padStart(8, '0')}, ` +
      `net position ${c.netPosition}, journal records ${c.journalRecords}`,
  );
  for (const [id, f] of Object.entries(report.figures)) {
    const verdict = f.goal === '(report)' ? '' : ` (goal ${f.goal}: ${f.met ? 'met' : 'MISSED'})`;
    console.log(`${id}: ${f.value} ${f.unit}${verdict}; baseline ${f.baseline}`);
  }
}

function extraOf(report: HeapBenchReport): Record<string, unknown> {
  const perRun = report.runs.map((r) => ({
    run: r.run,
    design: r.design,
    ordersPerS: Math.round(r.ordersPerS),
    allocatedBytesPerOrder: round(r.allocatedBytesPerOrder, 1),
    gc: { ...r.gc, p50Ms: round(r.gc.p50Ms, 3), p99Ms: round(r.gc.p99Ms, 3), maxMs: round(r.gc.maxMs, 3), totalMs: round(r.gc.totalMs, 2), minorP50Ms: round(r.gc.minorP50Ms, 3), minorMaxMs: round(r.gc.minorMaxMs, 3) },
    heap: { ...r.heap, growthBytesPer1kOrders: round(r.heap.growthBytesPer1kOrders, 1), stateBytes: Math.round(r.heap.stateBytes) },
  }));
  return {
    designs: DESIGN_LABEL,
    checksum: { ...report.checksum, fillHashHex: (report.checksum.fillHash >>> 0).toString(16).padStart(8, '0') },
    medians: report.medians,
    runs: perRun,
  };
}

async function main(): Promise<void> {
  const quick = quickOnly();
  const config = quick ? QUICK_CONFIG : FULL_CONFIG;
  const machine = machineInfo();
  console.log(`machine: ${formatMachineInfo(machine)}`);
  if (typeof (globalThis as { gc?: unknown }).gc !== 'function') {
    console.log('note: run with node --expose-gc (npm run bench:heap); exposing gc at run time instead');
  }
  console.log(`heap bench${quick ? ' (--quick: tiny inputs, results not written)' : ''}: ${JSON.stringify(config)}`);
  const startedMs = performance.now();
  const report = await runHeapBench(config, (line) => console.log(`  ${line}`));
  printReport(report);
  console.log(`typed design: ${mib(typedStateArrayBytes(config))} MiB of state in typed arrays allocated at start-up (order and child tables of ${tableCapacity(config)} slots, ClOrdID index, positions, SOR book), outside heapUsed`);
  console.log(`\ntook ${((performance.now() - startedMs) / 1000).toFixed(1)} s`);
  if (quick) return;
  const params = {
    ...config,
    simulatedSeconds: config.orders / config.ordersPerSimSecond,
    tableCapacity: tableCapacity(config),
    typedStateArrayBytes: typedStateArrayBytes(config),
    ringCapacity: RING_CAPACITY,
    venues: VENUES.length - 1,
    symbols: SYMBOLS,
    accounts: ACCOUNTS,
    nodeFlags: process.execArgv,
  };
  const path = writeResults('heap', params, report.figures, extraOf(report));
  console.log(`wrote ${path}`);
}

if (isMainModule(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
