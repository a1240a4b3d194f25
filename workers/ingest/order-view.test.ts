/**
 * Goal: the REST order view is per account, newest first, filtered, bounded, and never loses an
 * open order however old, as risk issues ids (increasing, skipping the slots of live orders).
 * Method: reports written as EXEC_REPORT records, as the risk -> ingest ring carries them;
 * unit cases, then a seeded fast-check model run against a Map of every order's latest report.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EXEC_REPORT_LENGTH, ExecReportFlyweight } from '../../codecs/records.ts';
import { ExecType, OrderState, isTerminal, stateName } from '../../engine/order-state.ts';
import { OrdType, Side, Tif } from '../../engine/domain.ts';
import { OrderView } from './order-view.ts';
import { Reason } from '../../engine/reasons.ts';
import { PRICE_SCALE } from '../../engine/fixed-point.ts';

const SYMBOLS = ['AAPL', 'MSFT'];
const VENUES = ['', 'V1'];
const PRICE = 177.25 * PRICE_SCALE;

/** One EXEC_REPORT record at a non-zero offset of a ring-like buffer. */
class Reports {
  readonly bytes = new Uint8Array(64 + EXEC_REPORT_LENGTH);
  readonly view = new DataView(this.bytes.buffer);
  readonly offset = 64;
  readonly r = new ExecReportFlyweight();

  write(accountId: number, orderId: number, state: number, cumQty = 0): ExecReportFlyweight {
    this.bytes.fill(0);
    const r = this.r.wrap(this.view, this.bytes, this.offset);
    const cl = new TextEncoder().encode(`c${orderId}`);
    r.setOrderId(orderId).setAccountId(accountId).setSymbolId(1).setSide(Side.BUY).setOrdType(OrdType.LIMIT).setTif(Tif.DAY);
    r.setQty(100).setPriceTicks(PRICE).setCumQty(cumQty).setLeavesQty(isTerminal(state) ? 0 : 100 - cumQty);
    r.setCumNotionalTicks(cumQty * PRICE).setState(state).setEventSeq(orderId * 10 + state);
    r.setExecType(state === OrderState.NEW ? ExecType.NEW : state === OrderState.FILLED ? ExecType.FILL : ExecType.CANCELED);
    r.setClOrdId(cl, 0, cl.length);
    return r;
  }

  update(v: OrderView, accountId: number, orderId: number, state: number, cumQty = 0): void {
    v.update(this.write(accountId, orderId, state, cumQty));
  }
}

const all = (): boolean => true;

describe('OrderView', () => {
  it('lists an account newest first with its latest report, and hides other accounts', () => {
    const v = new OrderView(10, SYMBOLS, VENUES);
    const w = new Reports();
    w.update(v, 1, 1, OrderState.NEW);
    w.update(v, 1, 2, OrderState.NEW);
    w.update(v, 2, 3, OrderState.NEW);
    w.update(v, 1, 1, OrderState.FILLED, 100);
    expect(v.list(1, 10, all).map((m) => [m.orderId, m.status])).toEqual([[2, 'NEW'], [1, 'FILLED']]);
    expect(v.list(1, 10, (s) => s === OrderState.FILLED).map((m) => m.orderId)).toEqual([1]);
    expect(v.list(1, 1, all).map((m) => m.orderId)).toEqual([2]);
    expect(v.list(2, 10, all).map((m) => m.orderId)).toEqual([3]);
    expect(v.get(2, 1)).toBeUndefined();
    expect(v.get(1, 3)).toBeUndefined();
    expect(v.get(1, 99)).toBeUndefined();
    expect(v.get(1, 0)).toBeUndefined();
    expect(v.get(1, 1.5)).toBeUndefined();
    expect(v.list(7, 10, all)).toEqual([]);
  });

  it('renders the kept report as the WebSocket path renders it from the ring', () => {
    const v = new OrderView(10, SYMBOLS, VENUES);
    const w = new Reports();
    w.update(v, 1, 4, OrderState.FILLED, 100);
    expect(v.get(1, 4)).toEqual({
      type: 'execution', execType: 'FILL', orderId: 4, clOrdId: 'c4', status: 'FILLED', symbol: 'MSFT', side: 'BUY',
      ordType: 'LIMIT', tif: 'DAY', qty: 100, price: '177.25', cumQty: 100, leavesQty: 0, avgPx: '177.25',
      eventSeq: 4 * 10 + OrderState.FILLED, lastQty: 0, lastPx: '0', venue: '',
    });
  });

  it('keeps the last capacity order ids; a late report of a displaced order is not kept', () => {
    const v = new OrderView(3, SYMBOLS, VENUES);
    const w = new Reports();
    for (let id = 1; id <= 5; id++) w.update(v, 1, id, OrderState.NEW);
    expect(v.list(1, 10, all).map((m) => m.orderId)).toEqual([5, 4, 3]);
    expect(v.get(1, 2)).toBeUndefined();
    w.update(v, 1, 4, OrderState.CANCELED);
    expect(v.list(1, 10, all).map((m) => [m.orderId, m.status])).toEqual([[5, 'NEW'], [4, 'CANCELED'], [3, 'NEW']]);
    w.update(v, 1, 2, OrderState.CANCELED);
    expect(v.stale).toBe(1);
    expect(v.get(1, 2)).toBeUndefined();
    expect(v.get(1, 5)?.status).toBe('NEW');
  });

  it('drops an evicted order from its account\'s list, whatever other accounts hold', () => {
    const v = new OrderView(4, SYMBOLS, VENUES);
    const w = new Reports();
    w.update(v, 1, 1, OrderState.FILLED);
    w.update(v, 2, 2, OrderState.NEW);
    w.update(v, 1, 3, OrderState.NEW);
    w.update(v, 2, 4, OrderState.NEW);
    w.update(v, 2, 5, OrderState.NEW); // takes order 1's slot
    expect(v.list(1, 10, all).map((m) => m.orderId)).toEqual([3]);
    expect(v.list(2, 10, all).map((m) => m.orderId)).toEqual([5, 4, 2]);
  });

  it('a live order stays listed after newer orders of its account ended and left the view (risk skips its slot)', () => {
    const v = new OrderView(4, SYMBOLS, VENUES);
    const w = new Reports();
    w.update(v, 1, 1, OrderState.NEW); // a GTC that rests
    w.update(v, 1, 2, OrderState.FILLED);
    w.update(v, 1, 3, OrderState.FILLED);
    w.update(v, 2, 4, OrderState.NEW);
    // Risk skips id 5 (order 1's slot); 6 and 7 take the slots of orders 2 and 3.
    w.update(v, 2, 6, OrderState.NEW);
    w.update(v, 2, 7, OrderState.NEW);
    expect(v.list(1, 10, all).map((m) => [m.orderId, m.status])).toEqual([[1, 'NEW']]);
    expect(v.list(2, 10, all).map((m) => m.orderId)).toEqual([7, 6, 4]);
    // Order 1 ends; the next order of account 1 is its newest, linked above it.
    w.update(v, 1, 1, OrderState.CANCELED);
    w.update(v, 1, 8, OrderState.NEW); // takes order 4's slot (account 2)
    expect(v.list(1, 10, all).map((m) => m.orderId)).toEqual([8, 1]);
    expect(v.list(2, 10, all).map((m) => m.orderId)).toEqual([7, 6]);
    w.update(v, 2, 9, OrderState.NEW); // takes order 1's slot
    expect(v.list(1, 10, all).map((m) => m.orderId)).toEqual([8]);
    expect(v.list(2, 10, all).map((m) => m.orderId)).toEqual([9, 7, 6]);
  });

  it('puts an order first reported after a newer one (restored at a restart) in its place: no open order drops out of the list', () => {
    const v = new OrderView(16, SYMBOLS, VENUES);
    const w = new Reports();
    w.update(v, 1, 11, OrderState.NEW); // order 10, restored open, has not been reported yet
    w.update(v, 1, 10, OrderState.FILLED, 100);
    w.update(v, 1, 12, OrderState.NEW);
    expect(v.list(1, 10, all).map((m) => m.orderId)).toEqual([12, 11, 10]);
    for (let id = 13; id <= 26; id++) w.update(v, 2, id, OrderState.NEW); // 26 takes terminal 10's slot
    expect(v.list(1, 10, (s) => !isTerminal(s)).map((m) => m.orderId)).toEqual([12, 11]);
    expect(v.list(1, 10, all).map((m) => m.orderId)).toEqual([12, 11]);
  });

  it('keeps the order\'s own latest report when a repeated ClOrdID is answered, but takes the answer for an order it does not hold', () => {
    const v = new OrderView(10, SYMBOLS, VENUES);
    const w = new Reports();
    w.update(v, 1, 1, OrderState.NEW);
    w.update(v, 1, 1, OrderState.FILLED, 100);
    // The duplicate's answer: the order as it stands, as an ack with reason DUPLICATE_CL_ORD_ID.
    const dup = (orderId: number, state: number = OrderState.FILLED, cumQty = 100): ExecReportFlyweight =>
      w.write(1, orderId, state, cumQty).setExecType(ExecType.NEW).setReason(Reason.DUPLICATE_CL_ORD_ID);
    v.update(dup(1));
    expect(v.get(1, 1)).toMatchObject({ type: 'execution', execType: 'FILL', status: 'FILLED', cumQty: 100 });
    expect(v.get(1, 1)).not.toHaveProperty('reason');
    // Order 3 was never reported to this view (restored at a restart): the answer is all it knows.
    v.update(dup(3));
    expect(v.get(1, 3)).toMatchObject({ type: 'ack', status: 'FILLED', reasonName: 'DUPLICATE_CL_ORD_ID' });
    // Order 2, older than the account's newest, likewise: it takes its place in the list.
    v.update(dup(2));
    expect(v.list(1, 10, all).map((m) => m.orderId)).toEqual([3, 2, 1]);
    // Order 4 moved on where this view did not see it (its reports went to a FIX client): the
    // answer carries the newer state, and is kept; a real report replaces it later.
    w.update(v, 1, 4, OrderState.NEW);
    v.update(dup(4, OrderState.PARTIALLY_FILLED, 40));
    expect(v.get(1, 4)).toMatchObject({ status: 'PARTIALLY_FILLED', cumQty: 40, reasonName: 'DUPLICATE_CL_ORD_ID' });
    w.update(v, 1, 4, OrderState.FILLED, 100);
    expect(v.get(1, 4)).toMatchObject({ type: 'execution', status: 'FILLED', cumQty: 100 });
  });

  it('refuses a capacity below 1', () => {
    expect(() => new OrderView(0, SYMBOLS, VENUES)).toThrow(/capacity/);
  });

  it('keeps every open order, and each order held its latest report, under risk-like id issue (model run)', () => {
    const STATES = [OrderState.NEW, OrderState.PARTIALLY_FILLED, OrderState.FILLED, OrderState.CANCELED, OrderState.REJECTED];
    const op = fc.oneof(
      // quiet: an order restored at a restart, whose first report here comes with its next event.
      fc.record({ kind: fc.constant('new' as const), account: fc.integer({ min: 1, max: 3 }), quiet: fc.boolean() }),
      fc.record({ kind: fc.constant('event' as const), pick: fc.nat(), state: fc.constantFrom(...STATES) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(op, { minLength: 20, maxLength: 200, size: 'max' }), (capacity, ops) => {
        const v = new OrderView(capacity, SYMBOLS, VENUES);
        const w = new Reports();
        const latest = new Map<number, { account: number; state: number; seen: boolean }>();
        let nextId = 1;
        for (const o of ops) {
          if (o.kind === 'new') {
            // Risk skips an id whose slot a live order holds, and refuses when every slot does.
            const liveResidues = new Set([...latest].filter(([, st]) => !isTerminal(st.state)).map(([id]) => id % capacity));
            if (liveResidues.size === capacity) continue;
            while (liveResidues.has(nextId % capacity)) nextId++;
            latest.set(nextId, { account: o.account, state: OrderState.NEW, seen: !o.quiet });
            if (!o.quiet) w.update(v, o.account, nextId, OrderState.NEW);
            nextId++;
          } else {
            const live = [...latest].filter(([, s]) => !isTerminal(s.state));
            if (live.length === 0) continue;
            const [id, s] = live[o.pick % live.length];
            s.state = o.state;
            s.seen = true;
            w.update(v, s.account, id, o.state);
          }
        }
        expect(v.stale).toBe(0);
        // The view holds an order it has seen unless a newer order it has seen took its slot.
        const seenIds = [...latest].filter(([, s]) => s.seen).map(([id]) => id);
        const holds = (id: number): boolean => latest.get(id)!.seen && !seenIds.some((y) => y > id && y % capacity === id % capacity);
        for (const [id, s] of latest) {
          if (!isTerminal(s.state) && s.seen) expect(holds(id)).toBe(true);
          expect(v.get(s.account, id)?.status).toBe(holds(id) ? stateName(s.state) : undefined);
          expect(v.get(s.account + 10, id)).toBeUndefined();
        }
        for (const account of [1, 2, 3]) {
          // Newest first: every seen order still held.
          const expected = seenIds.filter((x) => latest.get(x)!.account === account && holds(x)).sort((a, b) => b - a);
          expect(v.list(account, 1000, all).map((m) => m.orderId)).toEqual(expected);
          const open = expected.filter((id) => !isTerminal(latest.get(id)!.state));
          expect(v.list(account, 1000, (st) => !isTerminal(st)).map((m) => m.orderId)).toEqual(open);
          // Every open order the view has seen is listed.
          const seenOpen = seenIds.filter((x) => latest.get(x)!.account === account && !isTerminal(latest.get(x)!.state));
          expect(open.sort((a, b) => a - b)).toEqual(seenOpen.sort((a, b) => a - b));
        }
      }),
      { seed: 20261121, numRuns: 300 },
    );
  });
});
