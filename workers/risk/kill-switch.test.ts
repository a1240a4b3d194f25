// Goal: the kill switch and mass cancels do what a broker's controls must: a halted account (or
// every account) takes no new orders or replaces, still takes cancels, and has every open order
// and child canceled at the venues; reduce-only accepts only orders that reduce the position;
// mass cancels select by account, symbol and connection, and a large one is spread over duty
// cycles without losing an order. Method: the risk stage stepped by hand (risk-harness).
import { describe, expect, it } from 'vitest';
import { ALL_SYMBOLS, AccountControlFlyweight, AccountMode, RecordType } from '../../codecs/records.ts';
import { RiskCounter } from '../../engine/counters.ts';
import { Side, Source } from '../../engine/domain.ts';
import { ExecType, OrderState } from '../../engine/order-state.ts';
import { Reason } from '../../engine/reasons.ts';
import { KillBoard } from './kill-board.ts';
import { BASE_CHILD, Harness, SCALE, bigTable, defaultConfig, tableOf, type OrderArgs } from './risk-harness.fixture.ts';

function accept(h: Harness, args: Partial<OrderArgs>): number {
  h.newOrder(args);
  const out = h.step();
  const r = (args.source === Source.FIX ? out.fixClients : out.ingest)[0];
  expect(r.execType).toBe(ExecType.NEW);
  expect(r.reason).toBe(Reason.NONE);
  return r.orderId;
}

/** An accepted order with one child live at venue 2. */
function working(h: Harness, args: Partial<OrderArgs>, childId: number): number {
  const orderId = accept(h, args);
  h.sent(childId, orderId, args.qty ?? 100, args.price ?? 10 * SCALE, 2);
  h.routeDone(orderId, 1, Reason.NONE, args.qty ?? 100);
  h.step();
  return orderId;
}

/** A working order (its child BASE_CHILD + 1 at venue 2) of account 1 with a replace under way. */
function replacing(h: Harness): number {
  const a = working(h, { clOrdId: 'A', account: 1 }, BASE_CHILD + 1);
  h.replace({ orderId: a, clOrdId: 'A-R', qty: 50, price: 11 * SCALE, account: 1 });
  h.step();
  expect(h.state(a)).toBe(OrderState.PENDING_REPLACE);
  return a;
}

/** The replaced order ended CANCELED with `reason`, its new terms never routed (`out`: the last step's records). */
function endedUnrouted(h: Harness, a: number, out: ReturnType<Harness['step']>, reason: number): void {
  expect(out.sor.filter((x) => x.typeId === RecordType.ROUTE_REQUEST)).toEqual([]);
  expect(h.state(a)).toBe(OrderState.CANCELED);
  expect(out.ingest.filter((r) => r.orderId === a).at(-1)?.reason).toBe(reason);
}

describe('kill switch', () => {
  it('HALTED: open orders canceled at the venue (child cancels), new orders and replaces refused, cancels allowed', () => {
    const h = new Harness();
    const a = working(h, { clOrdId: 'A', account: 1 }, BASE_CHILD + 1);
    const b = working(h, { clOrdId: 'B', account: 1, symbol: 1, price: 5 * SCALE }, BASE_CHILD + 2);
    const other = working(h, { clOrdId: 'O', account: 2 }, BASE_CHILD + 3);
    h.accountControl(1, AccountMode.HALTED);
    const out = h.step();
    expect(out.journal[0].typeId).toBe(RecordType.ACCOUNT_CONTROL);
    const pending = out.ingest.filter((r) => r.execType === ExecType.PENDING_CANCEL);
    expect(pending.map((r) => r.orderId).sort()).toEqual([a, b]);
    expect(pending.every((r) => r.reason === Reason.KILL_SWITCH)).toBe(true);
    expect(out.sor.filter((x) => x.typeId === RecordType.CHILD_CANCEL).map((x) => x.childId).sort()).toEqual([BASE_CHILD + 1, BASE_CHILD + 2]);
    expect(h.state(other)).not.toBe(OrderState.PENDING_CANCEL);
    // The venues confirm: the orders end CANCELED.
    h.childCanceled(BASE_CHILD + 1, a);
    h.childCanceled(BASE_CHILD + 2, b);
    h.step();
    expect(h.state(a)).toBe(OrderState.CANCELED);
    expect(h.state(b)).toBe(OrderState.CANCELED);
    // New orders refused; another account unaffected.
    h.newOrder({ clOrdId: 'A2', account: 1 });
    expect(h.step().ingest[0].reason).toBe(Reason.ACCOUNT_HALTED);
    accept(h, { clOrdId: 'O2', account: 2 });
    // Lifted: trading resumes.
    h.accountControl(1, AccountMode.NORMAL);
    h.step();
    accept(h, { clOrdId: 'A3', account: 1 });
    expect(h.counters.get(RiskCounter.KILL_SWITCH_CHANGES)).toBe(2);
  });

  it('HALTED refuses a replace but accepts a cancel of an order it could not cancel yet', () => {
    const h = new Harness();
    const a = working(h, { clOrdId: 'A', account: 1 }, BASE_CHILD + 1);
    h.accountControl(1, AccountMode.HALTED);
    h.step();
    h.replace({ orderId: a, clOrdId: 'A-R', qty: 50, price: 10 * SCALE, account: 1 });
    const rep = h.step().ingest[0];
    expect(rep.execType).toBe(ExecType.CANCEL_REJECT);
    expect([Reason.ACCOUNT_HALTED, Reason.CANCEL_PENDING]).toContain(rep.reason);
  });

  it('a replace under way when the switch is pulled is ended, never re-routed', () => {
    const h = new Harness();
    const a = replacing(h);
    h.accountControl(1, AccountMode.HALTED);
    h.step();
    h.childCanceled(BASE_CHILD + 1, a);
    endedUnrouted(h, a, h.step(), Reason.KILL_SWITCH);
  });

  it('global HALTED stops every account; an account switch is the stricter of the two', () => {
    const h = new Harness();
    const a = working(h, { clOrdId: 'A', account: 1 }, BASE_CHILD + 1);
    const b = working(h, { clOrdId: 'B', account: 2 }, BASE_CHILD + 2);
    h.accountControl(0, AccountMode.HALTED);
    h.step();
    expect(h.state(a)).toBe(OrderState.PENDING_CANCEL);
    expect(h.state(b)).toBe(OrderState.PENDING_CANCEL);
    h.newOrder({ clOrdId: 'B2', account: 2 });
    expect(h.step().ingest[0].reason).toBe(Reason.ACCOUNT_HALTED);
    h.accountControl(0, AccountMode.NORMAL);
    h.accountControl(2, AccountMode.REDUCE_ONLY);
    h.step();
    h.newOrder({ clOrdId: 'B3', account: 2 });
    expect(h.step().ingest[0].reason).toBe(Reason.REDUCE_ONLY);
  });

  it('REDUCE_ONLY accepts only orders on the opposite side of the position and no larger than it', () => {
    const h = new Harness();
    const a = working(h, { clOrdId: 'A', account: 1, qty: 100 }, BASE_CHILD + 1);
    h.fill(BASE_CHILD + 1, a, 100, 10 * SCALE, 2);
    h.step();
    expect(h.position(1, 0)).toBe(100);
    h.accountControl(1, AccountMode.REDUCE_ONLY);
    h.step();
    for (const args of [{ clOrdId: 'R1', side: Side.BUY, qty: 10 }, { clOrdId: 'R2', side: Side.SELL, qty: 101 }, { clOrdId: 'R3', side: Side.SELL, qty: 10, symbol: 1 }]) {
      h.newOrder({ account: 1, price: 10 * SCALE, ...args });
      expect(h.step().ingest[0].reason, args.clOrdId).toBe(Reason.REDUCE_ONLY);
    }
    accept(h, { clOrdId: 'R4', account: 1, side: Side.SELL, qty: 100 });
    // Open orders are not canceled by reduce-only.
    expect(h.counters.get(RiskCounter.MASS_CANCELS)).toBe(0);
  });
});

describe('kill switch beside the rings (kill-board.ts)', () => {
  const control = (raw: Uint8Array) => new AccountControlFlyweight().wrap(new DataView(raw.buffer, raw.byteOffset, raw.byteLength), raw, 0);
  /** The ACCOUNT_CONTROL records among journal items, as [account, mode, admin]. */
  const controlsIn = (items: { typeId: number; raw: Uint8Array }[]) => items.filter((x) => x.typeId === RecordType.ACCOUNT_CONTROL)
    .map((x) => [control(x.raw).accountId(), control(x.raw).mode(), control(x.raw).adminAccountId()]);

  it('acts ahead of orders already waiting in ingest\'s ring, and while risk holds records for a lagging SOR', () => {
    const h = new Harness(tableOf(256), { toSor: 4096 });
    const resting: number[] = [];
    for (let i = 0; i < 40; i++) resting.push(working(h, { clOrdId: `R${i}`, account: 1, qty: 10 + i }, BASE_CHILD + 1 + i));
    // The SOR stops reading: account 2's orders fill the ring to it, then account 1's wait in
    // ingest's ring behind them, unread.
    for (let i = 0; i < 40; i++) h.newOrder({ clOrdId: `F${i}`, account: 2, qty: 500 + i });
    for (let i = 0; i < 3; i++) h.newOrder({ clOrdId: `L${i}`, account: 1 });
    h.run();
    expect(h.stage.doWork()).toBe(0);
    const journaled = h.drainJournalOnly();
    h.accountControl(1, AccountMode.HALTED);
    h.run();
    // Taken at once: the mode, every open order of the account PENDING_CANCEL, their child
    // cancels queued for the SOR in order.
    expect(h.stage.accountMode[1]).toBe(AccountMode.HALTED);
    h.outIngest.poll(h.reportsIngest, 1 << 20);
    const pending = h.reportsIngest.items.filter((r) => r.reason === Reason.KILL_SWITCH && r.execType === ExecType.PENDING_CANCEL);
    expect(pending.map((r) => r.orderId)).toEqual(resting);
    expect(h.counters.get(RiskCounter.SOR_RECORDS_WAITING)).toBeGreaterThan(0);
    // The SOR reads again: account 1's waiting orders are refused, account 2's taken.
    for (let i = 0; i < 200 && (h.counters.get(RiskCounter.SOR_RECORDS_WAITING) > 0 || h.stage.doWork() > 0); i++) h.step();
    h.step();
    const answers = h.reportsIngest.items.filter((r) => r.reason === Reason.ACCOUNT_HALTED);
    expect(answers).toHaveLength(3);
    expect(h.sor.items.filter((x) => x.typeId === RecordType.CHILD_CANCEL).map((x) => x.childId)).toEqual(resting.map((_, i) => BASE_CHILD + 1 + i));
    // The journal has the change before the commands risk read after it.
    const after = h.journal.items.slice(journaled);
    const controlAt = after.findIndex((x) => x.typeId === RecordType.ACCOUNT_CONTROL);
    const firstOrder = after.findIndex((x) => x.typeId === RecordType.NEW_ORDER);
    expect(controlAt).toBeGreaterThanOrEqual(0);
    expect(controlAt).toBeLessThan(firstOrder);
  });

  it('a halt undone before risk looked still cancels; the mode asked last holds; both journaled in that order', () => {
    const h = new Harness();
    const a = working(h, { clOrdId: 'A', account: 1 }, BASE_CHILD + 1);
    h.accountControl(1, AccountMode.HALTED, 7);
    h.accountControl(1, AccountMode.NORMAL, 8);
    const out = h.step();
    // Each journaled with the admin who asked for it.
    expect(out.journal.filter((x) => x.typeId === RecordType.ACCOUNT_CONTROL).map((x) => [control(x.raw).mode(), control(x.raw).adminAccountId()]))
      .toEqual([[AccountMode.HALTED, 7], [AccountMode.NORMAL, 8]]);
    expect(h.state(a)).toBe(OrderState.PENDING_CANCEL);
    expect(h.stage.accountMode[1]).toBe(AccountMode.NORMAL);
    accept(h, { clOrdId: 'A2', account: 1 });
    expect(h.counters.get(RiskCounter.KILL_SWITCH_CHANGES)).toBe(2);
    // Nothing new on the board: nothing applied again.
    h.step();
    expect(h.counters.get(RiskCounter.KILL_SWITCH_CHANGES)).toBe(2);
  });

  it('a halt reaches the orders taken before it, not those taken after it was lifted while its sweep went on', () => {
    const h = new Harness(tableOf(1024));
    const before: number[] = [];
    for (let i = 0; i < 300; i++) before.push(accept(h, { clOrdId: `B${i}`, account: 1, qty: 1, price: SCALE }));
    // Halted and lifted before risk looked; an order of the account waits in ingest's ring.
    h.accountControl(1, AccountMode.HALTED);
    h.accountControl(1, AccountMode.NORMAL);
    h.newOrder({ clOrdId: 'AFTER', account: 1, qty: 1, price: SCALE });
    // One cycle: the sweep cancels one batch, then the new order is taken (the account is NORMAL).
    h.stage.doWork();
    const first = h.drain().ingest;
    const after = first.find((r) => r.execType === ExecType.NEW)!.orderId;
    expect(first.filter((r) => r.reason === Reason.KILL_SWITCH).length).toBeLessThan(before.length);
    // The sweep goes on over the next cycles: every order taken before the halt, and not the new one.
    const swept = first.filter((r) => r.reason === Reason.KILL_SWITCH).map((r) => r.orderId);
    for (let out = h.step(); out.ingest.length > 0; out = h.step()) swept.push(...out.ingest.filter((r) => r.reason === Reason.KILL_SWITCH).map((r) => r.orderId));
    expect(swept).toEqual(before);
    expect(h.state(after)).toBe(OrderState.NEW);
  });

  it('a replace under way when a halt came ends the order when it completes, though the halt was lifted meanwhile', () => {
    const h = new Harness();
    const a = replacing(h);
    h.accountControl(1, AccountMode.HALTED);
    h.accountControl(1, AccountMode.NORMAL);
    h.step();
    expect(h.stage.accountMode[1]).toBe(AccountMode.NORMAL);
    h.childCanceled(BASE_CHILD + 1, a);
    endedUnrouted(h, a, h.step(), Reason.KILL_SWITCH);
    // A new order of the account is taken and routed.
    accept(h, { clOrdId: 'A2', account: 1 });
  });

  it('a replace that completes before the sweep of a lifted halt has reached its slot ends too (the scan spans cycles)', () => {
    // Order ids from 5000: the order's slot is past the 4096 slots one cycle's scan examines.
    const h = new Harness(bigTable(5000));
    const a = replacing(h);
    // Halted and lifted; the venue confirms the child's cancel in the same cycle, before the
    // scan reaches the order.
    h.accountControl(1, AccountMode.HALTED);
    h.accountControl(1, AccountMode.NORMAL);
    h.childCanceled(BASE_CHILD + 1, a);
    h.stage.doWork();
    endedUnrouted(h, a, h.step(), Reason.KILL_SWITCH);
  });

  it('a trader\'s mass cancel that meets a replace under way ends the order when the replace completes', () => {
    const h = new Harness();
    const a = replacing(h);
    h.massCancel(1, ALL_SYMBOLS, 0, Reason.MASS_CANCEL);
    h.step();
    expect(h.state(a)).toBe(OrderState.PENDING_REPLACE);
    h.childCanceled(BASE_CHILD + 1, a);
    endedUnrouted(h, a, h.step(), Reason.MASS_CANCEL);
  });

  it('an ask written while risk reads the board is left for the next look, never taken half read', () => {
    const h = new Harness();
    const journaled = h.drainJournalOnly();
    h.accountControl(1, AccountMode.HALTED, 7);
    // Ingest asks again (another admin's halt) between risk's reads of account 1's words.
    const board = h.killBoard;
    let interleaved = false;
    board.haltAdmin = (a: number) => {
      if (!interleaved) {
        interleaved = true;
        h.accountControl(1, AccountMode.HALTED, 8);
      }
      return KillBoard.prototype.haltAdmin.call(board, a);
    };
    h.step();
    expect(interleaved).toBe(true);
    // That look was abandoned: nothing taken. The next (in the engine, the last look before risk
    // parks) takes both asks.
    expect(h.journal.items.length).toBe(journaled);
    expect(h.stage.accountMode[1]).toBe(AccountMode.NORMAL);
    h.step();
    // One halt, whole: the latest ask's admin, journaled once (a torn read would journal the
    // first halt with the second's admin, then the second again).
    expect(controlsIn(h.journal.items.slice(journaled))).toEqual([[1, AccountMode.HALTED, 8]]);
    expect(h.stage.accountMode[1]).toBe(AccountMode.HALTED);
  });

  it('changes to several accounts with room in the journal for one at a time are taken over several cycles, each once and in account order', () => {
    const h = new Harness(defaultConfig(), { toPersistence: 1024 });
    h.accountControl(3, AccountMode.REDUCE_ONLY, 5);
    h.accountControl(1, AccountMode.HALTED, 6);
    h.accountControl(2, AccountMode.HALTED, 7);
    h.accountControl(2, AccountMode.NORMAL, 8);
    const perCycle: number[][][] = [];
    for (let i = 0; i < 20 && h.stage.doWork() > 0; i++) {
      const from = h.journal.items.length;
      h.drain();
      perCycle.push(controlsIn(h.journal.items.slice(from)));
    }
    // An account's change per cycle (a halt lifted again is one change, two records).
    expect(perCycle).toEqual([[[1, AccountMode.HALTED, 6]], [[2, AccountMode.HALTED, 7], [2, AccountMode.NORMAL, 8]], [[3, AccountMode.REDUCE_ONLY, 5]]]);
    expect([1, 2, 3].map((a) => h.stage.accountMode[a])).toEqual([AccountMode.HALTED, AccountMode.NORMAL, AccountMode.REDUCE_ONLY]);
    expect(h.counters.get(RiskCounter.KILL_BOARD_SEEN)).toBe(h.killBoard.generation());
  });

  it('while ingest is between its stores (generation odd) risk leaves the change for its next look', () => {
    const h = new Harness();
    Atomics.add(h.killBoard.words, 0, 1);
    h.accountControl(2, AccountMode.HALTED);
    h.step();
    expect(h.stage.accountMode[2]).toBe(AccountMode.NORMAL);
    Atomics.add(h.killBoard.words, 0, 1);
    h.step();
    expect(h.stage.accountMode[2]).toBe(AccountMode.HALTED);
  });
});

describe('replace without a price', () => {
  it('keeps the order\'s price and changes only the quantity', () => {
    const h = new Harness();
    const a = working(h, { clOrdId: 'Q', account: 1, qty: 100, price: 12 * SCALE }, BASE_CHILD + 1);
    h.replace({ orderId: a, clOrdId: 'Q-R', qty: 60, price: 0, account: 1 });
    h.step();
    h.childCanceled(BASE_CHILD + 1, a);
    const out = h.step();
    const replaced = out.ingest.find((r) => r.execType === ExecType.REPLACED);
    expect(replaced?.qty).toBe(60);
    expect(replaced?.price).toBe(12 * SCALE);
    expect(out.sor.find((x) => x.typeId === RecordType.ROUTE_REQUEST)?.price).toBe(12 * SCALE);
  });
});

describe('mass cancel', () => {
  it('by account and symbol: only matching open orders are canceled, with the reason', () => {
    const h = new Harness();
    const a0 = working(h, { clOrdId: 'A0', account: 1, symbol: 0 }, BASE_CHILD + 1);
    const a1 = accept(h, { clOrdId: 'A1', account: 1, symbol: 1, price: 5 * SCALE });
    const b0 = working(h, { clOrdId: 'B0', account: 2, symbol: 0 }, BASE_CHILD + 2);
    h.massCancel(1, 0, 0, Reason.MASS_CANCEL);
    const out = h.step();
    expect(out.ingest.map((r) => [r.orderId, r.execType, r.reason])).toEqual([[a0, ExecType.PENDING_CANCEL, Reason.MASS_CANCEL]]);
    expect(h.state(a1)).not.toBe(OrderState.PENDING_CANCEL);
    expect(h.state(b0)).not.toBe(OrderState.PENDING_CANCEL);
  });

  it('by connection (cancel-on-disconnect): only that connection\'s orders, not FIX or other connections', () => {
    const h = new Harness();
    const mine = working(h, { clOrdId: 'M', account: 1, conn: 7 }, BASE_CHILD + 1);
    const otherConn = working(h, { clOrdId: 'N', account: 1, conn: 8 }, BASE_CHILD + 2);
    const fix = working(h, { clOrdId: 'F', account: 1, conn: 7, source: Source.FIX }, BASE_CHILD + 3);
    h.massCancel(1, ALL_SYMBOLS, 7, Reason.CANCEL_ON_DISCONNECT);
    h.step();
    expect(h.state(mine)).toBe(OrderState.PENDING_CANCEL);
    expect(h.state(otherConn)).not.toBe(OrderState.PENDING_CANCEL);
    expect(h.state(fix)).not.toBe(OrderState.PENDING_CANCEL);
  });

  it('an order not yet routed is canceled at once; finished orders are left alone', () => {
    const h = new Harness();
    const open = accept(h, { clOrdId: 'P', account: 1 });
    const done = working(h, { clOrdId: 'D', account: 1 }, BASE_CHILD + 1);
    h.fill(BASE_CHILD + 1, done, 100, 10 * SCALE, 2);
    h.step();
    h.routeDone(open, 0, Reason.NONE, 0);
    h.step();
    const before = h.state(done);
    h.massCancel(1, ALL_SYMBOLS, 0, Reason.MASS_CANCEL);
    h.step();
    expect(before).toBe(OrderState.FILLED);
    expect(h.state(done)).toBe(OrderState.FILLED);
  });

  it('a mass cancel larger than one batch completes over several duty cycles, every order canceled once', () => {
    const h = new Harness(tableOf(2048));
    const ids: number[] = [];
    for (let i = 0; i < 1200; i++) ids.push(accept(h, { clOrdId: `O${i}`, account: 1, qty: 1, price: SCALE }));
    h.massCancel(1, ALL_SYMBOLS, 0, Reason.MASS_CANCEL);
    // The outbound rings fill before the scan ends: drain and step again, as the edge would.
    const canceledIds: number[] = [];
    let steps = 0;
    for (let out = h.step(); out.ingest.length > 0; out = h.step()) {
      steps++;
      for (const r of out.ingest) if (r.reason === Reason.MASS_CANCEL) canceledIds.push(r.orderId);
    }
    expect(steps).toBeGreaterThan(0);
    expect(new Set(canceledIds).size).toBe(canceledIds.length);
    for (const id of ids) expect([OrderState.PENDING_CANCEL, OrderState.CANCELED]).toContain(h.state(id));
    expect(canceledIds.length).toBe(ids.length);
  });
});
