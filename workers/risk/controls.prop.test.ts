// Goal: the pre-trade controls hold under any interleaving of new orders, replaces, cancels,
// routing answers, fills (including late fills after a venue cancel), venue cancels, quotes,
// limit changes and session closes:
//   - exposure never exceeds a limit at the moment of acceptance: after each accepted new order,
//     credit used <= credit limit, position + open orders on its side <= position limit, and an
//     account that may not short (or a no-short symbol) has position - open sells >= 0;
//   - the incremental exposure equals a naive recomputation from the order table;
//   - filled quantity never exceeds order quantity; positions equal the signed sum of the fills
//     the venue made (and of those reported);
//   - every order is terminal or still has something at a venue (a live child or a route in
//     flight), and once the venues answer everything every order is terminal;
//   - a kill switch (an account's or every account's HALTED, lifted at once or not) reaches the
//     orders taken before it and only those: none of them is working again after it (each is
//     being canceled, finishing a replace that will end it, or ended), and no order taken after it
//     gets a KILL_SWITCH report.
// Method: fast-check op sequences (seeded, so a failure replays) against a small venue model; the
// stage stepped by hand on real rings with a ManualClock.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ALL_SYMBOLS, AccountMode, LimitKey, RecordType } from '../../codecs/records.ts';
import { RiskCounter } from '../../engine/counters.ts';
import { OrdType, Side, Tif } from '../../engine/domain.ts';
import { ExecType, OrderState, isTerminal } from '../../engine/order-state.ts';
import { Reason } from '../../engine/reasons.ts';
import { BASE_CHILD, Harness, SCALE, tableOf } from './risk-harness.fixture.ts';
import { OPEN_SYMBOL_SEED, openAccountSeed } from './limits.ts';

interface ModelChild { orderId: number; qty: number; cum: number; live: boolean }

type Op =
  | { k: 'new'; account: number; symbol: number; side: number; market: boolean; qty: number; px: number; gtc: boolean }
  | { k: 'cancel'; pick: number }
  | { k: 'replace'; pick: number; qty: number; px: number }
  | { k: 'route'; pick: number; venueOk: boolean }
  | { k: 'fill'; pick: number; amount: number }
  | { k: 'lateFill'; pick: number; amount: number }
  | { k: 'venueCancel'; pick: number }
  | { k: 'answerCancel'; pick: number; refuse: boolean }
  | { k: 'limit'; account: number; key: number; symbol: number; value: number }
  | { k: 'quote'; symbol: number; mid: number }
  | { k: 'close' }
  | { k: 'halt'; account: number; lift: boolean };

const LIMIT_CHOICES: { key: number; perSymbol: boolean; values: number[] }[] = [
  { key: LimitKey.CREDIT_LIMIT, perSymbol: false, values: [300 * SCALE, 2_000 * SCALE, 10_000 * SCALE, 50_000 * SCALE] },
  { key: LimitKey.MAX_POSITION, perSymbol: true, values: [0, 30, 100, 300] },
  { key: LimitKey.ALLOW_SHORT, perSymbol: false, values: [0, 1] },
  { key: LimitKey.NO_SHORT, perSymbol: true, values: [0, 1] },
  { key: LimitKey.MAX_ORDER_QTY, perSymbol: false, values: [10, 50, 1000] },
];

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ k: fc.constant('new' as const), account: fc.constantFrom(1, 2), symbol: fc.constantFrom(0, 1), side: fc.constantFrom(Side.BUY, Side.SELL), market: fc.boolean(), qty: fc.integer({ min: 1, max: 60 }), px: fc.integer({ min: 8, max: 12 }), gtc: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('cancel' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('replace' as const), pick: fc.nat(), qty: fc.integer({ min: 1, max: 80 }), px: fc.integer({ min: 8, max: 12 }) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('route' as const), pick: fc.nat(), venueOk: fc.boolean() }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('fill' as const), pick: fc.nat(), amount: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('lateFill' as const), pick: fc.nat(), amount: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('venueCancel' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('answerCancel' as const), pick: fc.nat(), refuse: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('limit' as const), account: fc.constantFrom(1, 2), key: fc.nat({ max: LIMIT_CHOICES.length - 1 }), symbol: fc.constantFrom(0, 1), value: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('quote' as const), symbol: fc.constantFrom(0, 1), mid: fc.integer({ min: 5, max: 15 }) }) },
  { weight: 1, arbitrary: fc.constant({ k: 'close' as const }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('halt' as const), account: fc.constantFrom(0, 1, 2), lift: fc.constantFrom(true, true, true, false) }) },
);

class Model {
  readonly h: Harness;
  readonly children = new Map<number, ModelChild>();
  readonly routeQueue: { orderId: number; qty: number; price: number }[] = [];
  readonly cancelQueue: number[] = [];
  readonly orderIds: number[] = [];
  readonly expectedPosition = new Map<number, number>();
  acceptances = 0;
  /** Each kill switch pulled: its account (0: every account) and the first order id it does not reach. */
  readonly halts: { account: number; below: number }[] = [];
  private nextChildId = BASE_CHILD + 1;
  private nextCl = 0;

  constructor() {
    const config = tableOf(256, 256);
    config.accounts[1] = { ...openAccountSeed(50, 1_000_000 * SCALE), creditLimitTicks: 5_000 * SCALE, maxPosition: 100, allowShort: false, enabled: true };
    config.accounts[2] = { ...openAccountSeed(50, 1_000_000 * SCALE), creditLimitTicks: 5_000 * SCALE, maxPosition: 100, allowShort: true, enabled: true };
    config.symbolLimits = [{ ...OPEN_SYMBOL_SEED }, { ...OPEN_SYMBOL_SEED, noShort: true }];
    // Reference 10.00 for both symbols until quoted (market orders reserve credit at it).
    config.referencePriceTicks = [10 * SCALE, 10 * SCALE];
    config.session = { utcOffsetMinutes: -600, openMinute: 570, closeMinute: 960, expireDayOrders: true };
    this.h = new Harness(config);
  }

  liveChildren(): number[] {
    return [...this.children.entries()].filter(([, c]) => c.live).map(([id]) => id);
  }

  apply(op: Op): void {
    const h = this.h;
    switch (op.k) {
      case 'new':
        h.newOrder({
          account: op.account, symbol: op.symbol, side: op.side, ordType: op.market ? OrdType.MARKET : OrdType.LIMIT,
          tif: op.market ? Tif.IOC : op.gtc ? Tif.GTC : Tif.DAY, qty: op.qty, price: op.market ? 0 : op.px * SCALE, clOrdId: `N${this.nextCl++}`,
        });
        break;
      case 'cancel': {
        if (this.orderIds.length === 0) return;
        const id = this.orderIds[op.pick % this.orderIds.length];
        h.cancel({ orderId: id, account: this.accountOf(id), clOrdId: `X${this.nextCl++}` });
        break;
      }
      case 'replace': {
        if (this.orderIds.length === 0) return;
        const id = this.orderIds[op.pick % this.orderIds.length];
        h.replace({ orderId: id, account: this.accountOf(id), qty: op.qty, price: op.px * SCALE, clOrdId: `R${this.nextCl++}` });
        break;
      }
      case 'route': {
        if (this.routeQueue.length === 0) return;
        const [req] = this.routeQueue.splice(op.pick % this.routeQueue.length, 1);
        if (op.venueOk) {
          const childId = this.nextChildId++;
          this.children.set(childId, { orderId: req.orderId, qty: req.qty, cum: 0, live: true });
          h.sent(childId, req.orderId, req.qty, req.price, 1);
          h.routeDone(req.orderId, 1, Reason.NONE, req.qty);
        } else {
          h.routeDone(req.orderId, 0, Reason.NO_VENUE_AVAILABLE);
        }
        break;
      }
      case 'fill': {
        const live = this.liveChildren();
        if (live.length === 0) return;
        const childId = live[op.pick % live.length];
        const c = this.children.get(childId) as ModelChild;
        const qty = 1 + (op.amount % (c.qty - c.cum));
        c.cum += qty;
        if (c.cum === c.qty) c.live = false;
        this.sendFill(childId, c, qty);
        break;
      }
      case 'lateFill': {
        // The venue canceled the child, then reports a fill it made before: a late fill.
        const dead = [...this.children.entries()].filter(([, c]) => !c.live && c.cum < c.qty);
        if (dead.length === 0) return;
        const [childId, c] = dead[op.pick % dead.length];
        const qty = 1 + (op.amount % (c.qty - c.cum));
        c.cum += qty;
        this.sendFill(childId, c, qty);
        break;
      }
      case 'venueCancel': {
        const live = this.liveChildren();
        if (live.length === 0) return;
        this.cancelChild(live[op.pick % live.length]);
        break;
      }
      case 'answerCancel': {
        if (this.cancelQueue.length === 0) return;
        const [childId] = this.cancelQueue.splice(op.pick % this.cancelQueue.length, 1);
        const c = this.children.get(childId) as ModelChild;
        if (!c.live) return;
        if (op.refuse) h.childCancelRejected(childId, c.orderId);
        else this.cancelChild(childId);
        break;
      }
      case 'limit': {
        const choice = LIMIT_CHOICES[op.key];
        h.limit(choice.key, op.account, choice.perSymbol ? op.symbol : ALL_SYMBOLS, choice.values[op.value % choice.values.length]);
        break;
      }
      case 'quote':
        h.quote(op.symbol, 1, (op.mid - 1) * SCALE, 100, (op.mid + 1) * SCALE, 100);
        break;
      case 'close':
        h.clock.advanceNs(24 * 3600 * 1e9);
        break;
      case 'halt':
        // Risk takes it at the top of its next cycle, before any order this op's step reads.
        this.halts.push({ account: op.account, below: h.stage.orders.peekNextOrderId() });
        h.accountControl(op.account, AccountMode.HALTED);
        if (op.lift) h.accountControl(op.account, AccountMode.NORMAL);
        break;
    }
    this.collect();
  }

  /**
   * A fill of qty on child c. The stage books at most what the order has left (a late fill of an
   * earlier child can leave less than the children routed since): the rest is an overfill.
   */
  private sendFill(childId: number, c: ModelChild, qty: number): void {
    const o = this.h.stage.orders;
    const s = o.slotOf(c.orderId);
    const booked = Math.min(qty, o.qty[s] - o.cumQty[s]);
    const key = o.accountId[s] * 2 + o.symbolId[s];
    const signed = o.side[s] === Side.BUY ? booked : -booked;
    this.expectedPosition.set(key, (this.expectedPosition.get(key) ?? 0) + signed);
    this.h.fill(childId, c.orderId, qty, 10 * SCALE);
  }

  private cancelChild(childId: number): void {
    const c = this.children.get(childId) as ModelChild;
    c.live = false;
    this.h.childCanceled(childId, c.orderId);
  }

  private accountOf(orderId: number): number {
    const s = this.h.stage.orders.slotOf(orderId);
    return s < 0 ? 1 : this.h.stage.orders.accountId[s];
  }

  collect(): void {
    const out = this.h.step();
    for (const r of out.ingest) {
      if (r.reason === Reason.KILL_SWITCH) expect(this.reachedByHalt(r.orderId, r.accountId), `KILL_SWITCH report of order ${r.orderId}, taken after every halt`).toBe(true);
      if (r.execType === ExecType.NEW && r.reason === Reason.NONE && !this.orderIds.includes(r.orderId)) {
        this.orderIds.push(r.orderId);
        this.checkAcceptance(r.accountId, r.symbolId, r.side);
      }
    }
    for (const rec of out.sor) {
      if (rec.typeId === RecordType.ROUTE_REQUEST) this.routeQueue.push({ orderId: rec.orderId, qty: rec.qty, price: rec.price });
      else this.cancelQueue.push(rec.childId);
    }
  }

  /** Whether a kill switch pulled so far reached this order of this account. */
  private reachedByHalt(orderId: number, account: number): boolean {
    return this.halts.some((x) => (x.account === 0 || x.account === account) && orderId < x.below);
  }

  /** The limits in force hold right after an order of this account was accepted. */
  private checkAcceptance(account: number, symbol: number, side: number): void {
    this.acceptances++;
    const st = this.h.stage;
    const L = st.limits;
    const x = st.exposure;
    const cell = account * 2 + symbol;
    const pos = this.h.position(account, symbol);
    if (side === Side.BUY) {
      expect(x.creditUsed(account), 'credit at acceptance').toBeLessThanOrEqual(L.creditLimitTicks[account]);
      expect(pos + x.openBuyQty[cell], 'long exposure at acceptance').toBeLessThanOrEqual(L.maxPosition[cell]);
    } else {
      expect(x.openSellQty[cell] - pos, 'short exposure at acceptance').toBeLessThanOrEqual(L.maxPosition[cell]);
      if (L.allowShort[account] === 0 || L.noShort[cell] === 1) expect(pos - x.openSellQty[cell], 'no short sale').toBeGreaterThanOrEqual(0);
    }
  }

  /** Invariants whenever the stage is idle. */
  check(): void {
    const st = this.h.stage;
    const o = st.orders;
    const x = st.exposure;
    const openBuy = new Map<number, number>();
    const openSell = new Map<number, number>();
    const buyNotional = new Map<number, number>();
    for (const id of this.orderIds) {
      const s = o.slotOf(id);
      expect(s).toBeGreaterThanOrEqual(0);
      expect(o.cumQty[s], `order ${id} filled within its quantity`).toBeLessThanOrEqual(o.qty[s]);
      const state = o.state[s];
      if (isTerminal(state)) {
        expect(x.resQty[s], `terminal order ${id} reserves nothing`).toBe(0);
        continue;
      }
      expect(!o.idle(s), `order ${id} in state ${state} has something working`).toBe(true);
      if (this.reachedByHalt(id, o.accountId[s])) {
        expect([OrderState.PENDING_CANCEL, OrderState.PENDING_REPLACE], `order ${id} reached by a halt is not working again`).toContain(state);
      }
      if (state !== OrderState.PENDING_REPLACE) expect(x.resQty[s], `order ${id} reserves its leaves`).toBe(o.qty[s] - o.cumQty[s]);
      const cell = o.accountId[s] * 2 + o.symbolId[s];
      const into = o.side[s] === Side.BUY ? openBuy : openSell;
      into.set(cell, (into.get(cell) ?? 0) + x.resQty[s]);
      if (o.side[s] === Side.BUY) buyNotional.set(o.accountId[s], (buyNotional.get(o.accountId[s]) ?? 0) + x.resQty[s] * x.resPx[s]);
    }
    for (let account = 0; account < 4; account++) {
      let longCost = 0;
      for (let symbol = 0; symbol < 2; symbol++) {
        const cell = account * 2 + symbol;
        expect(this.h.position(account, symbol)).toBe(this.expectedPosition.get(cell) ?? 0);
        expect(x.openBuyQty[cell]).toBe(openBuy.get(cell) ?? 0);
        expect(x.openSellQty[cell]).toBe(openSell.get(cell) ?? 0);
        if (st.positions.qty[cell] > 0) longCost += st.positions.costTicks[cell];
      }
      expect(x.openBuyNotional[account]).toBe(buyNotional.get(account) ?? 0);
      expect(x.longCost[account]).toBe(longCost);
    }
    const reported = new Map<number, number>();
    for (const r of this.h.reportsIngest.items) {
      if (r.execType !== ExecType.FILL && r.execType !== ExecType.PARTIAL_FILL) continue;
      const key = r.accountId * 2 + r.symbolId;
      reported.set(key, (reported.get(key) ?? 0) + (r.side === Side.BUY ? r.lastQty : -r.lastQty));
    }
    for (const [key, qty] of this.expectedPosition) expect(reported.get(key) ?? 0).toBe(qty);
  }

  finish(): void {
    for (let round = 0; round < 50; round++) {
      if (this.routeQueue.length === 0 && this.liveChildren().length === 0) break;
      while (this.routeQueue.length > 0) {
        const req = this.routeQueue.shift() as { orderId: number };
        this.h.routeDone(req.orderId, 0, Reason.NO_VENUE_AVAILABLE);
      }
      for (const childId of this.liveChildren()) this.cancelChild(childId);
      this.cancelQueue.length = 0;
      this.collect();
    }
    const o = this.h.stage.orders;
    for (const id of this.orderIds) {
      const s = o.slotOf(id);
      expect(isTerminal(o.state[s]), `order ${id} ends terminal (state ${o.state[s]})`).toBe(true);
    }
  }
}

describe('pre-trade controls: properties', () => {
  it('limits hold at every acceptance; exposure = recomputation; fills within quantity; positions = fills; orders end', () => {
    let accepted = 0;
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 150, size: 'max' }), (ops) => {
        const m = new Model();
        for (const op of ops) {
          m.apply(op);
          m.check();
        }
        m.finish();
        m.check();
        accepted += m.acceptances;
        expect(m.h.counters.get(RiskCounter.ILLEGAL_TRANSITIONS)).toBe(0);
      }),
      { numRuns: 300, seed: 20261121 },
    );
    // The runs exercised acceptances, not only refusals.
    console.log(`acceptances checked: ${accepted}`);
    expect(accepted).toBeGreaterThan(1500);
  });
});
