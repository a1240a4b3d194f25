/**
 * Pre-trade risk benchmark: the time of the full pre-trade check of one new order, as the risk
 * stage runs it (RiskStage.checkNewOrder over a NEW_ORDER flyweight), beside the same checks
 * written the naive way, measured in the same run.
 *
 *   pre-encoded NEW_ORDER records (4096, mixed accounts / symbols / sides / prices)
 *        |
 *        +--> typed:  RiskStage.checkNewOrder(flyweight)      typed arrays by account / symbol id,
 *        |            (account, throttles, validity, ClOrdID,  incremental exposure, integer ticks,
 *        |             kill switch, restricted, qty, notional, no allocation
 *        |             collar on NBBO mid, duplicate, short,
 *        |             position, credit)
 *        |
 *        +--> naive:  NaiveRisk.check(record)                  one JS object per order (decoded,
 *                     same checks, same order, same verdicts   ClOrdID as a string), Maps keyed by
 *                                                              strings per account / symbol /
 *                                                              venue, exposure and duplicates
 *                                                              recomputed by scanning arrays
 *
 * State before timing (identical in both): 16 accounts, 64 symbols, 3 venues quoting every
 * symbol, 8 open orders per account accepted through the stage's rings, collars, credit,
 * position limits, short-sale rules and a 1 s duplicate window all on. Both implementations are
 * first run over every order and must agree on every verdict (the run stops otherwise).
 *
 * Each tinybench sample is ONE check, timed with process.hrtime (tinybench's hrtimeNow) around
 * the call: the figure includes one timer read (reported as `timer_floor_p99_us`, an empty task
 * measured the same way), so it is an upper bound. The engine clock is a ManualClock advanced 1 us
 * per check (token buckets refill; quotes stay fresh).
 *
 * Run: `npm run bench:risk` (writes bench/results/risk.json), `npm run bench:risk -- --quick`.
 */
import { Bench, hrtimeNow } from 'tinybench';
import {
  NEW_ORDER_LENGTH,
  NewOrderFlyweight,
  QUOTE_LENGTH,
  QuoteFlyweight,
  RecordType,
} from '../codecs/records.ts';
import { ManualClock } from '../engine/clock.ts';
import { StageCounters } from '../engine/counters.ts';
import { OrdType, Side, Tif } from '../engine/domain.ts';
import { PRICE_SCALE } from '../engine/fixed-point.ts';
import { Reason, reasonName } from '../engine/reasons.ts';
import { FULL, RingConsumer, RingProducer, createRingMemory, type RecordHandler } from '../engine/ring.ts';
import { RiskStage, type RiskConfig } from '../workers/risk/risk-stage.ts';
import type { SymbolLimitsSeed } from '../workers/risk/limits.ts';
import { formatMachineInfo, machineInfo } from './lib/machine.ts';
import { isMainModule } from './lib/main.ts';
import { figure, writeResults } from './lib/results.ts';
import { quickOnly } from './lib/args.ts';

const ACCOUNTS = 16;
const SYMBOLS = 64;
const VENUES = 3;
const ORDERS = 4096;
const OPEN_PER_ACCOUNT = 8;
const SESSION = { utcOffsetMinutes: -300, openMinute: 570, closeMinute: 960, expireDayOrders: false };
// 2026-11-20 15:00 UTC = 10:00 New York: regular hours.
const EPOCH_MS = Date.UTC(2026, 10, 20, 15, 0, 0);

interface AccountSpec {
  maxOrderQty: number; maxOrderNotionalTicks: number; creditLimitTicks: number; maxPosition: number;
  ordersPerS: number; orderBurst: number; msgsPerS: number; msgBurst: number; allowShort: boolean;
  duplicateWindowMs: number; restrictedSymbols: number[]; enabled: boolean;
}

function accountSpec(a: number): AccountSpec {
  return {
    maxOrderQty: 10_000, maxOrderNotionalTicks: 2_000_000 * PRICE_SCALE, creditLimitTicks: 20_000_000 * PRICE_SCALE,
    maxPosition: 50_000, ordersPerS: 1_000_000, orderBurst: 1_000_000, msgsPerS: 2_000_000, msgBurst: 2_000_000,
    allowShort: a % 2 === 0, duplicateWindowMs: 1000, restrictedSymbols: [a % SYMBOLS], enabled: true,
  };
}
function symbolSpec(s: number): SymbolLimitsSeed {
  return { priceBandBps: 500, priceBandOutsideBps: 1000, noShort: s % 8 === 0, restricted: false };
}
const refTicks = (s: number): number => (50 + s) * PRICE_SCALE;

// ---------------------------------------------------------------------------------------------
// The typed stage, its rings, and the state before timing
// ---------------------------------------------------------------------------------------------
class Typed {
  readonly clock = new ManualClock(1_000_000, EPOCH_MS);
  readonly stage: RiskStage;
  readonly ingest: RingProducer;
  readonly fix: RingProducer;
  private readonly outs: RingConsumer[];
  private readonly sink: RecordHandler = { onRecord: () => {} };

  constructor() {
    const mem = Array.from({ length: 6 }, () => createRingMemory(1 << 22));
    const accounts: RiskConfig['accounts'] = [null];
    for (let a = 1; a <= ACCOUNTS; a++) accounts.push(accountSpec(a));
    const config: RiskConfig = {
      orderCapacity: 1 << 16, childCapacity: 1 << 16, firstOrderId: 1, childIdBase: 1e9, accounts,
      referencePriceTicks: Array.from({ length: SYMBOLS }, (_, s) => refTicks(s)),
      symbolLimits: Array.from({ length: SYMBOLS }, (_, s) => symbolSpec(s)),
      session: SESSION, quoteFreshMs: 3_600_000, markIntervalMs: 3_600_000,
    };
    this.ingest = new RingProducer(mem[0], null);
    this.fix = new RingProducer(mem[1], null);
    this.outs = [new RingConsumer(mem[2]), new RingConsumer(mem[3]), new RingConsumer(mem[4]), new RingConsumer(mem[5])];
    this.stage = new RiskStage(config, {
      fromIngest: new RingConsumer(mem[0]), fromFix: new RingConsumer(mem[1]), toIngest: new RingProducer(mem[2], null),
      toFixClients: new RingProducer(mem[3], null), toSor: new RingProducer(mem[4], null), toPersistence: new RingProducer(mem[5], null),
    }, this.clock, StageCounters.create());
  }

  run(): void {
    for (let i = 0; i < 10_000 && this.stage.doWork() > 0; i++) for (const o of this.outs) o.poll(this.sink, 1 << 20);
    for (const o of this.outs) o.poll(this.sink, 1 << 20);
  }

  quote(symbol: number, venue: number, bid: number, ask: number): void {
    const at = this.fix.tryClaim(RecordType.QUOTE, QUOTE_LENGTH);
    if (at === FULL) throw new Error('Invariant: bench ring has room');
    new QuoteFlyweight().wrap(this.fix.view, this.fix.bytes, at).setTimeNs(this.clock.nowNs()).setBidTicks(bid).setBidQty(100)
      .setAskTicks(ask).setAskQty(100).setVenueId(venue).setSymbolId(symbol);
    this.fix.commit();
  }

  submit(order: Order): void {
    const at = this.ingest.tryClaim(RecordType.NEW_ORDER, NEW_ORDER_LENGTH);
    if (at === FULL) throw new Error('Invariant: bench ring has room');
    encodeOrder(new NewOrderFlyweight().wrap(this.ingest.view, this.ingest.bytes, at), order);
    this.ingest.commit();
  }
}

interface Order { account: number; symbol: number; side: number; qty: number; price: number; clOrdId: string }

function encodeOrder(fw: NewOrderFlyweight, o: Order): void {
  const cl = Buffer.from(o.clOrdId, 'latin1');
  fw.setRecvTimeNs(1).setQty(o.qty).setPriceTicks(o.price).setConnId(1).setAccountId(o.account).setSymbolId(o.symbol)
    .setRequestId(1).setSource(1).setSide(o.side).setOrdType(OrdType.LIMIT).setTif(Tif.DAY);
  fw.setClOrdId(cl, 0, cl.length);
}

/** Deterministic pseudo-random numbers (xorshift32), so every run checks the same orders. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x / 4294967296;
  };
}

function mid(s: number): number {
  return refTicks(s) + 10_000; // venues quote around the previous close, 0.01 above
}

function makeOrder(r: () => number, n: number, tag: string): Order {
  const account = 1 + Math.floor(r() * ACCOUNTS);
  const symbol = Math.floor(r() * SYMBOLS);
  const side = r() < 0.5 ? Side.BUY : Side.SELL;
  // Mostly inside the 5 % collar; a few outside, a few large.
  const offBps = r() < 0.95 ? Math.floor((r() - 0.5) * 800) : 900;
  const price = mid(symbol) + Math.floor((mid(symbol) / 10_000) * offBps);
  const qty = r() < 0.98 ? 1 + Math.floor(r() * 200) : 20_000;
  return { account, symbol, side, qty, price, clOrdId: `${tag}-${n}` };
}

// ---------------------------------------------------------------------------------------------
// The naive baseline: the same checks over JS objects and string-keyed Maps, recomputing
// exposure and duplicates by scanning. It mirrors the stage's state before timing.
// ---------------------------------------------------------------------------------------------
interface NaiveOrder { account: number; symbol: string; side: string; qty: number; price: number; ordType: string; tif: string; clOrdId: string }
interface NaiveAccount { spec: AccountSpec; restricted: Set<string>; open: { symbol: string; side: string; qty: number; price: number }[]; recent: { symbol: string; side: string; qty: number; price: number; atMs: number }[]; buckets: { msg: { tokens: number; at: number }; ord: { tokens: number; at: number } } }

class NaiveRisk {
  readonly accounts = new Map<number, NaiveAccount>();
  readonly symbols = new Map<string, { prevClose: number; band: number; outside: number; noShort: boolean; last: number }>();
  readonly quotes = new Map<string, { bid: number; ask: number; atMs: number }>();
  readonly positions = new Map<string, { qty: number; cost: number }>();
  readonly clOrdIds = new Map<string, NaiveOrder>();
  readonly symbolNames = Array.from({ length: SYMBOLS }, (_, s) => `SYM${s}`);
  nowMs = 0;
  epochMs = EPOCH_MS;

  constructor() {
    for (let a = 1; a <= ACCOUNTS; a++) {
      const spec = accountSpec(a);
      this.accounts.set(a, {
        spec, restricted: new Set(spec.restrictedSymbols.map((s) => this.symbolNames[s])), open: [], recent: [],
        buckets: { msg: { tokens: spec.msgBurst, at: 0 }, ord: { tokens: spec.orderBurst, at: 0 } },
      });
    }
    for (let s = 0; s < SYMBOLS; s++) {
      const spec = symbolSpec(s);
      this.symbols.set(this.symbolNames[s], { prevClose: refTicks(s), band: spec.priceBandBps, outside: spec.priceBandOutsideBps, noShort: spec.noShort, last: 0 });
    }
  }

  decode(fw: NewOrderFlyweight): NaiveOrder {
    const cl = Buffer.from(fw.bytes.subarray(fw.clOrdIdOffset(), fw.clOrdIdOffset() + fw.clOrdIdLength())).toString('latin1');
    return {
      account: fw.accountId(), symbol: this.symbolNames[fw.symbolId()] ?? '?', side: fw.side() === Side.BUY ? 'BUY' : 'SELL',
      qty: fw.qty(), price: fw.priceTicks(), ordType: fw.ordType() === OrdType.LIMIT ? 'LIMIT' : 'MARKET', tif: 'DAY', clOrdId: cl,
    };
  }

  private take(b: { tokens: number; at: number }, rate: number, burst: number): boolean {
    b.tokens = Math.min(burst, b.tokens + ((this.nowMs - b.at) * rate) / 1000);
    b.at = this.nowMs;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  reference(symbol: string): number {
    let bid = 0;
    let ask = 0;
    for (let v = 1; v <= VENUES; v++) {
      const q = this.quotes.get(`${symbol}|${v}`);
      if (q === undefined) continue;
      if (q.bid > bid) bid = q.bid;
      if (q.ask > 0 && (ask === 0 || q.ask < ask)) ask = q.ask;
    }
    if (bid > 0 && ask > 0 && bid < ask) return Math.floor((bid + ask) / 2);
    const s = this.symbols.get(symbol)!;
    return s.last > 0 ? s.last : s.prevClose;
  }

  check(fw: NewOrderFlyweight): number {
    const o = this.decode(fw);
    const acct = this.accounts.get(o.account);
    if (acct === undefined) return Reason.UNKNOWN_ACCOUNT;
    const spec = acct.spec;
    if (!this.take(acct.buckets.msg, spec.msgsPerS, spec.msgBurst)) return Reason.MESSAGE_RATE_EXCEEDED;
    const sym = this.symbols.get(o.symbol);
    if (sym === undefined) return Reason.UNKNOWN_SYMBOL;
    if (!(o.qty >= 1)) return Reason.INVALID_QTY;
    if (this.clOrdIds.has(`${o.account}|${o.clOrdId}`)) return Reason.DUPLICATE_CL_ORD_ID;
    if (!this.take(acct.buckets.ord, spec.ordersPerS, spec.orderBurst)) return Reason.ORDER_RATE_EXCEEDED;
    if (acct.restricted.has(o.symbol)) return Reason.SYMBOL_RESTRICTED;
    if (o.qty > spec.maxOrderQty) return Reason.MAX_QTY_EXCEEDED;
    const ref = this.reference(o.symbol);
    if (o.qty * o.price > spec.maxOrderNotionalTicks) return Reason.MAX_NOTIONAL_EXCEEDED;
    const local = new Date(this.epochMs + SESSION.utcOffsetMinutes * 60_000);
    const minute = local.getUTCHours() * 60 + local.getUTCMinutes();
    const bps = minute >= SESSION.openMinute && minute < SESSION.closeMinute ? sym.band : sym.outside;
    const band = Math.floor(ref / 10_000) * bps + Math.floor(((ref % 10_000) * bps) / 10_000);
    if (bps > 0 && (o.price > ref + band || o.price < ref - band)) return Reason.PRICE_OUTSIDE_COLLAR;
    if (acct.recent.some((r) => r.symbol === o.symbol && r.side === o.side && r.qty === o.qty && r.price === o.price && r.atMs >= this.nowMs - spec.duplicateWindowMs)) return Reason.DUPLICATE_ORDER;
    const pos = this.positions.get(`${o.account}|${o.symbol}`) ?? { qty: 0, cost: 0 };
    const sameSide = acct.open.filter((x) => x.symbol === o.symbol && x.side === o.side).reduce((s, x) => s + x.qty, 0);
    if (o.side === 'SELL') {
      if (o.qty > pos.qty - sameSide) {
        if (sym.noShort) return Reason.SHORT_SALE_RESTRICTED;
        if (!spec.allowShort) return Reason.SHORT_SALE_NOT_ALLOWED;
      }
      if (sameSide + o.qty - pos.qty > spec.maxPosition) return Reason.POSITION_LIMIT_EXCEEDED;
      return Reason.NONE;
    }
    if (pos.qty + sameSide + o.qty > spec.maxPosition) return Reason.POSITION_LIMIT_EXCEEDED;
    let used = 0;
    for (const x of acct.open) if (x.side === 'BUY') used += x.qty * x.price;
    for (const [key, p] of this.positions) if (key.startsWith(`${o.account}|`) && p.qty > 0) used += p.cost;
    if (used + o.qty * o.price > spec.creditLimitTicks) return Reason.CREDIT_LIMIT_EXCEEDED;
    return Reason.NONE;
  }

  accept(o: Order): void {
    const acct = this.accounts.get(o.account)!;
    const symbol = this.symbolNames[o.symbol];
    const side = o.side === Side.BUY ? 'BUY' : 'SELL';
    acct.open.push({ symbol, side, qty: o.qty, price: o.price });
    acct.recent.push({ symbol, side, qty: o.qty, price: o.price, atMs: this.nowMs });
    this.clOrdIds.set(`${o.account}|${o.clOrdId}`, { account: o.account, symbol, side, qty: o.qty, price: o.price, ordType: 'LIMIT', tif: 'DAY', clOrdId: o.clOrdId });
  }
}

// ---------------------------------------------------------------------------------------------
// Setup, agreement check, timing
// ---------------------------------------------------------------------------------------------
export interface RiskBenchResult {
  typed: { p50: number; p99: number; p999: number; max: number; samples: number };
  naive: { p50: number; p99: number; p999: number; max: number; samples: number };
  timerFloor: { p50: number; p99: number };
  verdicts: Record<string, number>;
  checksum: number;
}

export async function runRiskBench(timeMs: number): Promise<RiskBenchResult> {
  const typed = new Typed();
  const naive = new NaiveRisk();
  for (let s = 0; s < SYMBOLS; s++) {
    for (let v = 1; v <= VENUES; v++) {
      const bid = mid(s) - (v + 1) * 10_000;
      const ask = mid(s) + (v + 1) * 10_000;
      typed.quote(s, v, bid, ask);
      naive.quotes.set(`${naive.symbolNames[s]}|${v}`, { bid, ask, atMs: 0 });
    }
  }
  typed.run();
  // Open orders, accepted by the stage: both sides hold the same book.
  const r = rng(7);
  for (let a = 1; a <= ACCOUNTS; a++) {
    for (let k = 0; k < OPEN_PER_ACCOUNT; k++) {
      const symbol = (a * 7 + k * 13) % SYMBOLS;
      if (symbol === a % SYMBOLS) continue;
      const o: Order = { account: a, symbol, side: Side.BUY, qty: 50 + Math.floor(r() * 100), price: mid(symbol), clOrdId: `open-${a}-${k}` };
      typed.submit(o);
      typed.run();
      naive.accept(o);
    }
  }
  // The orders to check, pre-encoded in one buffer.
  const buf = new ArrayBuffer(ORDERS * NEW_ORDER_LENGTH);
  const bytes = new Uint8Array(buf);
  const view = new DataView(buf);
  const fw = new NewOrderFlyweight();
  const gen = rng(42);
  const orders: Order[] = [];
  for (let i = 0; i < ORDERS; i++) {
    const o = makeOrder(gen, i, 'chk');
    orders.push(o);
    encodeOrder(fw.wrap(view, bytes, i * NEW_ORDER_LENGTH), o);
  }
  // Agreement: every verdict the same.
  const verdicts: Record<string, number> = {};
  for (let i = 0; i < ORDERS; i++) {
    fw.wrap(view, bytes, i * NEW_ORDER_LENGTH);
    const a = typed.stage.checkNewOrder(fw);
    const b = naive.check(fw);
    if (a !== b) throw new Error(`Invariant: typed and naive agree on order ${i} (${JSON.stringify(orders[i])}): ${reasonName(a)} vs ${reasonName(b)}`);
    verdicts[reasonName(a)] = (verdicts[reasonName(a)] ?? 0) + 1;
  }

  let i = 0;
  let checksum = 0;
  const clock = typed.clock;
  const stage = typed.stage;
  const bench = new Bench({ now: hrtimeNow, time: timeMs, warmupTime: Math.min(500, timeMs / 4), retainSamples: true });
  bench.add('timer floor (empty task)', () => {
    checksum += 1;
  });
  bench.add('typed: RiskStage.checkNewOrder', () => {
    fw.wrap(view, bytes, (i++ & (ORDERS - 1)) * NEW_ORDER_LENGTH);
    clock.advanceNs(1000);
    checksum += stage.checkNewOrder(fw);
  });
  let j = 0;
  bench.add('naive: objects and Maps', () => {
    fw.wrap(view, bytes, (j++ & (ORDERS - 1)) * NEW_ORDER_LENGTH);
    naive.nowMs += 0.001;
    checksum += naive.check(fw);
  });
  await bench.run();
  const stats = (name: string) => {
    const t = bench.tasks.find((x) => x.name.startsWith(name))!;
    const res = t.result as unknown as { latency: { p50: number; p99: number; p999: number; max: number; samplesCount: number } };
    const us = (ms: number) => Math.round(ms * 1000 * 1000) / 1000;
    return { p50: us(res.latency.p50), p99: us(res.latency.p99), p999: us(res.latency.p999), max: us(res.latency.max), samples: res.latency.samplesCount };
  };
  const floor = stats('timer');
  return { typed: stats('typed'), naive: stats('naive'), timerFloor: { p50: floor.p50, p99: floor.p99 }, verdicts, checksum };
}

async function main(): Promise<void> {
  const quick = quickOnly();
  const machine = machineInfo();
  console.log(formatMachineInfo(machine));
  // 2 s of timed checks per task: 3.2 M typed samples and 24 s of wall time in one run (5 s gave
  // 11 M and took 56 s, too much of npm run bench's 15-minute budget for a figure that did not need them).
  const timeMs = quick ? 200 : 2000;
  const res = await runRiskBench(timeMs);
  console.log(`verdicts over ${ORDERS} orders (typed and naive agree on each): ${JSON.stringify(res.verdicts)}`);
  console.log(`typed check: p50 ${res.typed.p50} us, p99 ${res.typed.p99} us, p99.9 ${res.typed.p999} us, max ${res.typed.max} us (${res.typed.samples} samples)`);
  console.log(`naive check: p50 ${res.naive.p50} us, p99 ${res.naive.p99} us, p99.9 ${res.naive.p999} us, max ${res.naive.max} us (${res.naive.samples} samples)`);
  console.log(`timer floor (one hrtime read around an empty task): p50 ${res.timerFloor.p50} us, p99 ${res.timerFloor.p99} us; checksum ${res.checksum}`);
  if (quick) return;
  const baselineOf = 'the same checks written naively (JS object per order, string-keyed Maps per account/symbol/venue, exposure and duplicates recomputed by scanning), same run, same orders, same verdicts';
  const path = writeResults('risk', {
    accounts: ACCOUNTS, symbols: SYMBOLS, venues: VENUES, orders: ORDERS, openOrdersPerAccount: OPEN_PER_ACCOUNT, timeMsPerTask: timeMs,
    timer: 'process.hrtime around each single check (includes one timer read; see timer_floor_p99_us)',
  }, {
    check_p99_us: figure(res.typed.p99, 'us', '<= 5', res.naive.p99, baselineOf),
    check_p50_us: figure(res.typed.p50, 'us', '(report)', res.naive.p50, baselineOf),
    check_p999_us: figure(res.typed.p999, 'us', '(report)', res.naive.p999, baselineOf),
    timer_floor_p99_us: figure(res.timerFloor.p99, 'us', '(report)'),
  }, { typed: res.typed, naive: res.naive, timerFloor: res.timerFloor, verdicts: res.verdicts });
  console.log(`wrote ${path}`);
}

if (isMainModule(import.meta.url)) await main();
