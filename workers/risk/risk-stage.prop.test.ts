// Goal: under any interleaving of new orders, cancels, replaces, routing answers, child fills,
// venue cancels and refused cancels, the risk stage never throws, never fills an order beyond
// its quantity, keeps positions equal to the signed sum of fills, and leaves every order either
// terminal or with something still working (a live child or a route in flight); once the venues
// answer everything, every order ends. Method: fast-check op sequences against a small venue
// model, the stage stepped by hand on real rings (same harness as risk-stage.test.ts).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RecordType } from '../../codecs/records.ts';
import { RiskCounter } from '../../engine/counters.ts';
import { OrdType, Side, Source } from '../../engine/domain.ts';
import { ExecType, isTerminal } from '../../engine/order-state.ts';
import { Reason } from '../../engine/reasons.ts';
import {
  SCALE,
  BASE_CHILD,
  Harness,
  tableOf,
} from './risk-harness.fixture.ts';

// ---------------------------------------------------------------------------------------------
// The venue side, modelled: route requests and child cancels read from the sor ring wait in
// queues; children live at the venue until filled or canceled.
// ---------------------------------------------------------------------------------------------
interface ModelChild { orderId: number; qty: number; cum: number; live: boolean }

type Op =
  | { k: 'new'; account: number; symbol: number; side: number; market: boolean; qty: number; fix: boolean }
  | { k: 'cancel'; pick: number }
  | { k: 'replace'; pick: number; qty: number }
  | { k: 'route'; pick: number; venueOk: boolean }
  | { k: 'fill'; pick: number; amount: number; over: boolean }
  | { k: 'venueCancel'; pick: number }
  | { k: 'answerCancel'; pick: number; refuse: boolean };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ k: fc.constant('new' as const), account: fc.constantFrom(1, 2), symbol: fc.constantFrom(0, 1), side: fc.constantFrom(Side.BUY, Side.SELL), market: fc.boolean(), qty: fc.integer({ min: 1, max: 60 }), fix: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('cancel' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('replace' as const), pick: fc.nat(), qty: fc.integer({ min: 1, max: 80 }) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('route' as const), pick: fc.nat(), venueOk: fc.boolean() }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('fill' as const), pick: fc.nat(), amount: fc.nat(), over: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('venueCancel' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('answerCancel' as const), pick: fc.nat(), refuse: fc.boolean() }) },
);

class Model {
  readonly h: Harness;
  readonly children = new Map<number, ModelChild>();
  readonly routeQueue: { orderId: number; qty: number; price: number }[] = [];
  readonly cancelQueue: number[] = [];
  readonly orderIds: number[] = [];
  /** Expected position per account * 2 + symbol, from the fills the venue made. */
  readonly expectedPosition = new Map<number, number>();
  private nextChildId = BASE_CHILD + 1;
  private nextCl = 0;

  constructor() {
    this.h = new Harness(tableOf(256, 256));
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
          qty: op.qty, price: op.market ? 0 : 10 * SCALE, clOrdId: `N${this.nextCl++}`,
          source: op.fix ? Source.FIX : Source.INGEST,
        });
        break;
      case 'cancel': {
        const id = this.orderIds.length === 0 ? 999 : this.orderIds[op.pick % this.orderIds.length];
        h.cancel({ orderId: id, account: this.accountOf(id), clOrdId: `X${this.nextCl++}` });
        break;
      }
      case 'replace': {
        if (this.orderIds.length === 0) return;
        const id = this.orderIds[op.pick % this.orderIds.length];
        h.replace({ orderId: id, account: this.accountOf(id), qty: op.qty, price: 11 * SCALE, clOrdId: `R${this.nextCl++}` });
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
        const remaining = c.qty - c.cum;
        if (op.over) {
          h.fill(childId, c.orderId, remaining + 1 + (op.amount % 5), 10 * SCALE);
          break;
        }
        const qty = 1 + (op.amount % remaining);
        c.cum += qty;
        if (c.cum === c.qty) c.live = false;
        const s = h.stage.orders.slotOf(c.orderId);
        const key = h.stage.orders.accountId[s] * 2 + h.stage.orders.symbolId[s];
        const signed = h.stage.orders.side[s] === Side.BUY ? qty : -qty;
        this.expectedPosition.set(key, (this.expectedPosition.get(key) ?? 0) + signed);
        h.fill(childId, c.orderId, qty, 10 * SCALE);
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
        if (!c.live) return; // filled before the cancel reached the venue
        if (op.refuse) h.childCancelRejected(childId, c.orderId);
        else this.cancelChild(childId);
        break;
      }
    }
    this.collect();
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

  /** Steps the stage and moves its outputs into the model's queues. */
  collect(): void {
    const out = this.h.step();
    for (const r of [...out.ingest, ...out.fixClients]) {
      if (r.execType === ExecType.NEW && r.reason === Reason.NONE && !this.orderIds.includes(r.orderId)) this.orderIds.push(r.orderId);
    }
    for (const rec of out.sor) {
      if (rec.typeId === RecordType.ROUTE_REQUEST) this.routeQueue.push({ orderId: rec.orderId, qty: rec.qty, price: rec.price });
      else this.cancelQueue.push(rec.childId);
    }
  }

  /** Invariants that hold whenever the stage is idle. */
  check(): void {
    const o = this.h.stage.orders;
    for (const id of this.orderIds) {
      const s = o.slotOf(id);
      expect(s).toBeGreaterThanOrEqual(0);
      expect(o.cumQty[s], `order ${id} filled within its quantity`).toBeLessThanOrEqual(o.qty[s]);
      if (!isTerminal(o.state[s])) {
        const working = !o.idle(s);
        expect(working, `order ${id} in state ${o.state[s]} has something working`).toBe(true);
      }
      const modelLive = [...this.children.values()].filter((c) => c.orderId === id && c.live).length;
      expect(o.liveChildren[s], `live children of order ${id}`).toBe(modelLive);
    }
    for (let account = 0; account < 4; account++) {
      for (let symbol = 0; symbol < 2; symbol++) {
        const key = account * 2 + symbol;
        expect(this.h.position(account, symbol)).toBe(this.expectedPosition.get(key) ?? 0);
      }
    }
    // Positions also equal the signed sum of the fills reported to clients.
    const reported = new Map<number, number>();
    for (const r of [...this.h.reportsIngest.items, ...this.h.reportsFix.items]) {
      if (r.execType !== ExecType.FILL && r.execType !== ExecType.PARTIAL_FILL) continue;
      const key = r.accountId * 2 + r.symbolId;
      reported.set(key, (reported.get(key) ?? 0) + (r.side === Side.BUY ? r.lastQty : -r.lastQty));
    }
    for (const [key, qty] of this.expectedPosition) expect(reported.get(key) ?? 0).toBe(qty);
  }

  /** The venues answer everything and cancel whatever is left; then every order must be done. */
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

describe('RiskStage properties', () => {
  it('random interleavings: no throw, fills within quantity, positions = signed fills, orders end', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 120 }), (ops) => {
        const m = new Model();
        for (const op of ops) {
          m.apply(op);
          m.check();
        }
        m.finish();
        m.check();
        expect(m.h.counters.get(RiskCounter.ILLEGAL_TRANSITIONS)).toBe(0);
      }),
      { numRuns: 2000 },
    );
  });
});
