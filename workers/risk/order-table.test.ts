// Goal: the order table issues ids in sequence, finds an order by id in one step, reuses a slot
// only when the order in it is terminal (a live order's slot is skipped; full only when every
// slot is live), and
// its ClOrdID index finds, replaces and forgets ids per account, through probe collisions and
// tombstones. ChildTable: slot by child id, no overwrite of a live child.
// Method: tables driven directly; collisions forced with ids found by brute force on hashBytes.
import { describe, expect, it } from 'vitest';
import { hashBytes } from '../../engine/bytes.ts';
import { OrderState } from '../../engine/order-state.ts';
import { ChildTable, OrderTable } from './order-table.ts';

const ascii = (s: string): Uint8Array => Buffer.from(s, 'latin1');

/** Allocates an order for account with ClOrdID text in state; returns its slot. */
function add(t: OrderTable, account: number, clOrdId: string, state: number = OrderState.NEW): number {
  const slot = t.allocate();
  expect(slot).toBeGreaterThanOrEqual(0);
  t.accountId[slot] = account;
  t.setState(slot, state);
  const b = ascii(clOrdId);
  t.setClOrdId(slot, b, 0, b.length);
  return slot;
}
function find(t: OrderTable, account: number, clOrdId: string): number {
  const b = ascii(`##${clOrdId}##`);
  return t.findByClOrdId(account, b, 2, b.length - 4);
}

describe('OrderTable construction', () => {
  it('refuses a capacity below 16 or a first id below 1', () => {
    expect(() => new OrderTable(15, 1)).toThrow(/Condition failed/);
    expect(() => new OrderTable(16.5, 1)).toThrow(/Condition failed/);
    expect(() => new OrderTable(16, 0)).toThrow(/Condition failed/);
    expect(() => new OrderTable(16, 1.5)).toThrow(/Condition failed/);
  });
});

describe('OrderTable.allocate / slotOf', () => {
  it('issues ids in sequence; slot = (id - 1) % capacity', () => {
    const t = new OrderTable(16, 1);
    for (let id = 1; id <= 16; id++) {
      expect(t.peekNextOrderId()).toBe(id);
      const slot = add(t, 1, `c${id}`);
      expect(slot).toBe(id - 1);
      expect(t.orderId[slot]).toBe(id);
      expect(t.slotOf(id)).toBe(slot);
    }
    expect(t.peekNextOrderId()).toBe(17);
  });

  it('starts from firstOrderId (recovery)', () => {
    const t = new OrderTable(16, 100);
    const slot = add(t, 1, 'a');
    expect(slot).toBe(99 % 16);
    expect(t.slotOf(100)).toBe(slot);
    expect(t.slotOf(99)).toBe(-1);
    expect(t.slotOf(84)).toBe(-1); // same slot as 100, never issued
  });

  it('unknown ids are -1: never issued, zero, negative, fractional', () => {
    const t = new OrderTable(16, 1);
    add(t, 1, 'a');
    for (const id of [0, -1, 2, 17, 1.5, NaN, Infinity]) expect(t.slotOf(id), String(id)).toBe(-1);
  });

  it('refuses a new order only when every slot is live, without consuming an id', () => {
    const t = new OrderTable(16, 1);
    for (let i = 0; i < 16; i++) add(t, 1, `c${i}`, OrderState.ROUTED);
    expect(t.allocate()).toBe(-1);
    expect(t.allocate()).toBe(-1);
    expect(t.peekNextOrderId()).toBe(17);
    expect(t.idsSkipped).toBe(0);
    // The table was read whole once; the second refusal knew no slot had come free since.
    expect(t.fullScans).toBe(1);
    // One terminal order anywhere frees its slot: the ids of the live slots before it are skipped.
    t.setState(5, OrderState.CANCELED);
    const slot = t.allocate();
    expect(slot).toBe(5);
    expect(t.orderId[5]).toBe(22);
    expect(t.slotOf(22)).toBe(5);
    expect(t.idsSkipped).toBe(5);
    for (const skipped of [17, 18, 19, 20, 21]) expect(t.slotOf(skipped), String(skipped)).toBe(-1);
    expect(t.slotOf(6)).toBe(-1); // evicted
    expect(t.slotOf(1)).toBe(0); // live orders keep their slots and stay found
    expect(t.slotOf(16)).toBe(15);
    expect(t.peekNextOrderId()).toBe(23);
  });

  it('a live order keeps its slot while many table-fulls of newer orders pass by it', () => {
    const t = new OrderTable(16, 1);
    const gtc = add(t, 1, 'gtc', OrderState.NEW);
    for (let n = 0; n < 16 * 40; n++) {
      const s = add(t, 2, `day-${n}`, OrderState.NEW);
      expect(s).not.toBe(gtc);
      t.setState(s, OrderState.FILLED);
    }
    expect(t.slotOf(1)).toBe(gtc);
    expect(t.orderId[gtc]).toBe(1);
    expect(find(t, 1, 'gtc')).toBe(gtc);
    // Each lap of 15 newer orders comes round to the GTC's slot once: 640 orders, 42 laps.
    expect(t.idsSkipped).toBe(Math.floor((16 * 40) / 15));
  });

  it('a full table comes free when a terminal order\'s last live child ends', () => {
    const t = new OrderTable(16, 1);
    for (let i = 0; i < 16; i++) add(t, 1, `c${i}`, OrderState.NEW);
    // Order 4 fills while two of its children are still live at their venues: its slot stays held.
    t.liveChildren[3] = 2;
    t.setState(3, OrderState.FILLED);
    expect(t.allocate()).toBe(-1);
    expect(t.fullScans).toBe(1);
    // One of its two children ends: it still holds its slot, and the table is not read again.
    t.childEnded(3);
    expect(t.allocate()).toBe(-1);
    expect(t.allocate()).toBe(-1);
    expect(t.fullScans).toBe(1);
    // A working order ends: its slot, not order 4's, is taken.
    t.setState(7, OrderState.CANCELED);
    expect(t.allocate()).toBe(7);
    expect(t.orderId[7]).toBe(24);
    t.setState(7, OrderState.NEW);
    expect(t.allocate()).toBe(-1);
    expect(t.fullScans).toBe(2);
    t.childEnded(3);
    expect(t.allocate()).toBe(3);
    expect(t.orderId[3]).toBe(36);
    expect(() => t.childEnded(3)).toThrow(/Invariant/);
  });

  it('a terminal order whose route request is still at the SOR keeps its slot until the request comes back', () => {
    const t = new OrderTable(16, 1);
    for (let i = 0; i < 16; i++) add(t, 1, `c${i}`, OrderState.NEW);
    // Order 6 completes (a late fill) while its re-route is at the SOR: the children that route
    // leads to must still find it, so its slot stays held.
    t.routeSent(5);
    t.setState(5, OrderState.FILLED);
    expect(t.holdsLive(5)).toBe(true);
    expect(t.allocate()).toBe(-1);
    expect(t.fullScans).toBe(1);
    // ROUTE_DONE: the slot comes free, and the cached "full" is dropped.
    t.routeDone(5);
    expect(t.holdsLive(5)).toBe(false);
    expect(t.allocate()).toBe(5);
    expect(t.orderId[5]).toBe(22);
    expect(t.routing[5]).toBe(0);
    // Full again; a ROUTE_DONE with none in flight frees nothing, so the table is not read again.
    t.setState(5, OrderState.NEW);
    expect(t.allocate()).toBe(-1);
    expect(t.fullScans).toBe(2);
    t.routeDone(5);
    expect(t.allocate()).toBe(-1);
    expect(t.fullScans).toBe(2);
  });

  it('evicts any terminal state and no working state', () => {
    const terminal = [OrderState.FILLED, OrderState.CANCELED, OrderState.REJECTED, OrderState.EXPIRED];
    const working = [
      OrderState.PENDING_NEW, OrderState.NEW, OrderState.ROUTED, OrderState.PARTIALLY_FILLED,
      OrderState.PENDING_CANCEL, OrderState.PENDING_REPLACE,
    ];
    for (const state of [...terminal, ...working]) {
      const t = new OrderTable(16, 1);
      for (let i = 0; i < 16; i++) add(t, 1, `c${i}`, state);
      const slot = t.allocate();
      if (terminal.includes(state as (typeof terminal)[number])) expect(slot, `state ${state}`).toBe(0);
      else expect(slot, `state ${state}`).toBe(-1);
    }
  });

  it('a reused slot starts clean', () => {
    const t = new OrderTable(16, 1);
    for (let i = 0; i < 16; i++) {
      const s = add(t, 1, `c${i}`, OrderState.FILLED);
      t.cumQty[s] = 10;
      t.cumNotional[s] = 1000;
      t.venueOpenQty[s] = 5;
      t.liveChildren[s] = 0;
      t.firstChild[s] = 77;
      t.lastReason[s] = 300;
      t.replaceQty[s] = 9;
      t.replacePriceTicks[s] = 9;
      t.replaceClOrdIdLength[s] = 3;
    }
    const s = t.allocate();
    expect(s).toBe(0);
    expect(t.cumQty[s]).toBe(0);
    expect(t.cumNotional[s]).toBe(0);
    expect(t.venueOpenQty[s]).toBe(0);
    expect(t.liveChildren[s]).toBe(0);
    expect(t.firstChild[s]).toBe(0);
    expect(t.lastReason[s]).toBe(0);
    expect(t.replaceQty[s]).toBe(0);
    expect(t.replacePriceTicks[s]).toBe(0);
    expect(t.clOrdIdLength[s]).toBe(0);
    expect(t.replaceClOrdIdLength[s]).toBe(0);
  });
});

describe('OrderTable ClOrdID index', () => {
  it('finds by (account, bytes); other accounts and other ids miss', () => {
    const t = new OrderTable(16, 1);
    const a = add(t, 1, 'ORD-1');
    const b = add(t, 2, 'ORD-1');
    const c = add(t, 1, 'ORD-10');
    expect(find(t, 1, 'ORD-1')).toBe(a);
    expect(find(t, 2, 'ORD-1')).toBe(b);
    expect(find(t, 1, 'ORD-10')).toBe(c);
    expect(find(t, 2, 'ORD-10')).toBe(-1);
    expect(find(t, 3, 'ORD-1')).toBe(-1);
    expect(find(t, 1, 'ORD-')).toBe(-1);
    expect(find(t, 1, 'ORD-2')).toBe(-1);
    expect(find(t, 1, 'ord-1')).toBe(-1);
  });

  it('40-byte ids are indexed; lengths outside [1, 40] are refused', () => {
    const t = new OrderTable(16, 1);
    const id40 = 'X'.repeat(39) + 'Y';
    const s = add(t, 1, id40);
    expect(find(t, 1, id40)).toBe(s);
    expect(find(t, 1, id40 + 'Z')).toBe(-1);
    expect(find(t, 1, '')).toBe(-1);
    const slot = t.allocate();
    t.accountId[slot] = 1;
    expect(() => t.setClOrdId(slot, ascii('X'.repeat(41)), 0, 41)).toThrow(/Condition failed/);
    expect(() => t.setClOrdId(slot, ascii('X'), 0, 0)).toThrow(/Condition failed/);
  });

  it('replacing the id of a slot forgets the old id', () => {
    const t = new OrderTable(16, 1);
    const s = add(t, 1, 'OLD');
    const b = ascii('NEW');
    t.setClOrdId(s, b, 0, 3);
    expect(find(t, 1, 'OLD')).toBe(-1);
    expect(find(t, 1, 'NEW')).toBe(s);
    expect(t.clOrdIdLength[s]).toBe(3);
  });

  it('evicting a terminal order forgets its id and keeps the others', () => {
    const t = new OrderTable(16, 1);
    for (let i = 0; i < 16; i++) add(t, 1, `c${i}`, i === 0 ? OrderState.CANCELED : OrderState.NEW);
    const s = add(t, 1, 'fresh');
    expect(s).toBe(0);
    expect(find(t, 1, 'c0')).toBe(-1);
    expect(find(t, 1, 'fresh')).toBe(0);
    for (let i = 1; i < 16; i++) expect(find(t, 1, `c${i}`)).toBe(i);
  });

  it('ids whose hashes share a bucket are all found, also after some are evicted (tombstones)', () => {
    // Index size for capacity 16 is 32: find 12 ids that all start probing at the same entry.
    const t = new OrderTable(16, 1);
    const ids: string[] = [];
    const want = hashBytes(1, ascii('k0'), 0, 2) & 31;
    for (let n = 0; ids.length < 12; n++) {
      const b = ascii(`k${n}`);
      if ((hashBytes(1, b, 0, b.length) & 31) === want) ids.push(`k${n}`);
    }
    const slots = ids.map((id) => add(t, 1, id, OrderState.FILLED));
    ids.forEach((id, i) => expect(find(t, 1, id)).toBe(slots[i]));
    // Fill slots 12..15, then take ids 17..19, which reuse slots 0..2 and evict ids[0..2].
    for (let i = 12; i < 16; i++) add(t, 9, `pad${i}`);
    expect(t.peekNextOrderId()).toBe(17);
    for (let i = 0; i < 3; i++) expect(add(t, 9, `late${i}`)).toBe(i);
    for (let i = 0; i < 3; i++) expect(find(t, 1, ids[i]), ids[i]).toBe(-1);
    for (let i = 3; i < 12; i++) expect(find(t, 1, ids[i]), ids[i]).toBe(slots[i]);
  });

  it('ids with the same 32-bit hash but different bytes are told apart', () => {
    const seen = new Map<number, string>();
    let pair: [string, string] | null = null;
    for (let n = 0; pair === null && n < 2_000_000; n++) {
      const id = `id-${n}`;
      const b = ascii(id);
      const h = hashBytes(1, b, 0, b.length);
      const prior = seen.get(h);
      if (prior !== undefined) pair = [prior, id];
      else seen.set(h, id);
    }
    expect(pair).not.toBeNull();
    const [x, y] = pair as [string, string];
    const t = new OrderTable(16, 1);
    const sx = add(t, 1, x);
    expect(find(t, 1, y)).toBe(-1);
    const sy = add(t, 1, y);
    expect(find(t, 1, x)).toBe(sx);
    expect(find(t, 1, y)).toBe(sy);
  });

  it('many ids across accounts, with long churn, stay findable while kept and vanish once evicted', () => {
    const capacity = 256;
    const t = new OrderTable(capacity, 1);
    const total = capacity * 12;
    for (let n = 0; n < total; n++) {
      const s = add(t, 1 + (n % 3), `order-${n}`);
      t.setState(s, OrderState.FILLED); // ends at once, so its slot can be reused
    }
    for (let n = 0; n < total; n++) {
      const expected = n >= total - capacity ? (n % capacity) : -1;
      expect(find(t, 1 + (n % 3), `order-${n}`), `order-${n}`).toBe(expected);
      expect(find(t, 1 + ((n + 1) % 3), `order-${n}`)).toBe(-1);
    }
  });
});

describe('ChildTable', () => {
  it('refuses a capacity below 16', () => {
    expect(() => new ChildTable(8, 0)).toThrow(/Condition failed/);
  });

  it('add/slotOf: slot = (childId - base) % capacity, fields set', () => {
    const c = new ChildTable(16, 1000);
    const s = c.add(1001, 7, 3, 100, 5_000_000, 0);
    expect(s).toBe(1);
    expect(c.slotOf(1001)).toBe(1);
    expect(c.childId[s]).toBe(1001);
    expect(c.orderId[s]).toBe(7);
    expect(c.venueId[s]).toBe(3);
    expect(c.qty[s]).toBe(100);
    expect(c.priceTicks[s]).toBe(5_000_000);
    expect(c.cumQty[s]).toBe(0);
    expect(c.nextSibling[s]).toBe(0);
    expect(c.live[s]).toBe(1);
    expect(c.cancelSent[s]).toBe(0);
    expect(c.add(1016, 8, 1, 1, 1, 1001)).toBe(0);
    expect(c.slotOf(1016)).toBe(0);
    expect(c.nextSibling[0]).toBe(1001);
  });

  it('ids at or below the base, and ids never added, are -1', () => {
    const c = new ChildTable(16, 1000);
    c.add(1001, 7, 3, 100, 1, 0);
    expect(c.slotOf(1000)).toBe(-1);
    expect(c.slotOf(999)).toBe(-1);
    expect(c.slotOf(1002)).toBe(-1);
    expect(c.slotOf(1017)).toBe(-1); // same slot as 1001
    expect(c.add(1000, 7, 3, 1, 1, 0)).toBe(-1);
  });

  it('never overwrites a live child; reuses the slot once it is dead', () => {
    const c = new ChildTable(16, 1000);
    const s = c.add(1001, 7, 3, 100, 1, 0);
    c.cumQty[s] = 40;
    c.cancelSent[s] = 1;
    expect(c.add(1017, 8, 2, 50, 2, 0)).toBe(-1);
    expect(c.slotOf(1001)).toBe(s);
    c.live[s] = 0;
    expect(c.add(1017, 8, 2, 50, 2, 0)).toBe(s);
    expect(c.slotOf(1017)).toBe(s);
    expect(c.slotOf(1001)).toBe(-1);
    expect(c.cumQty[s]).toBe(0);
    expect(c.cancelSent[s]).toBe(0);
    expect(c.live[s]).toBe(1);
  });
});

describe('OrderTable ClOrdID index under sustained flow', () => {
  // Goal: deleting from the index leaves nothing behind, so a long-running engine never fills
  // it with dead entries (a miss must keep ending at a nearby empty entry). Method: push 50
  // table-fulls of orders through a small table, ending each order before its slot is reused,
  // with colliding and reserved (pending replace) ids mixed in; check after every order that the
  // index holds exactly the live ClOrdIDs and that every live one is still found.
  it('holds exactly the ClOrdIDs of the orders in the table, however many passed through', () => {
    const t = new OrderTable(64, 1);
    let held = 0;
    for (let n = 1; n <= 64 * 50; n++) {
      const slot = t.allocate();
      expect(slot).toBeGreaterThanOrEqual(0);
      if (n > 64) held--; // the order that held this slot was evicted
      t.accountId[slot] = (n % 3) + 1;
      const id = ascii(`ord-${n}`);
      t.setClOrdId(slot, id, 0, id.length);
      held++;
      if (n % 7 === 0) {
        const r = ascii(`rep-${n}`);
        t.replaceClOrdIds.set(r, slot * 40);
        t.replaceClOrdIdLength[slot] = r.length;
        t.reserveReplaceClOrdId(slot);
        expect(t.findByClOrdId(t.accountId[slot], r, 0, r.length)).toBe(slot);
        t.releaseReplaceClOrdId(slot);
        t.replaceClOrdIdLength[slot] = 0;
      }
      t.setState(slot, OrderState.FILLED);
      expect(t.indexEntries()).toBe(held);
      expect(held).toBeLessThanOrEqual(64);
    }
    for (let n = 64 * 50 - 63; n <= 64 * 50; n++) {
      const id = ascii(`ord-${n}`);
      expect(t.findByClOrdId((n % 3) + 1, id, 0, id.length)).toBe((n - 1) % 64);
    }
    const gone = ascii('ord-1');
    expect(t.findByClOrdId(2, gone, 0, gone.length)).toBe(-1);
  });
});
