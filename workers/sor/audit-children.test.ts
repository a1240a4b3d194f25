// Goal: the children recovery restores from ROUTE_AUDIT records are exactly those named by an
// audit and by no CHILD_EVENT (workers/sor/audit-children.ts), whichever comes first in the journal.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Side } from '../../engine/domain.ts';
import { AuditOnlyChildren } from './audit-children.ts';
import { auditFrame } from './audit-children.fixture.ts';

function feed(set: AuditOnlyChildren, frame: Uint8Array, length = frame.length): void {
  set.onAudit(new DataView(frame.buffer), frame, 0, length);
}

describe('AuditOnlyChildren', () => {
  it('keeps the children of an audit until a child event names them, with the audit terms', () => {
    const set = new AuditOnlyChildren(1000);
    feed(set, auditFrame({ orderId: 7, venues: 3, symbolId: 2, side: Side.SELL, childPxTicks: 99_000_000, children: [{ venueId: 1, childId: 501, qty: 40 }, { venueId: 3, childId: 502, qty: 60 }] }));
    feed(set, auditFrame({ orderId: 8, venues: 3, childPxTicks: 1_000_000, children: [] })); // unrouted: no child
    set.onChildEvent(501);
    set.onChildEvent(999); // a child of no audit
    expect(set.children()).toEqual([{ childId: 502, orderId: 7, venueId: 3, symbolId: 2, side: Side.SELL, qty: 60, priceTicks: 99_000_000 }]);
    set.onChildEvent(502);
    expect(set.children()).toEqual([]);
  });

  it('skips a frame shorter than its venue count says, and entries without an id or a quantity', () => {
    const set = new AuditOnlyChildren(1000);
    const frame = auditFrame({ orderId: 1, venues: 2, childPxTicks: 1, children: [{ venueId: 1, childId: 11, qty: 5 }, { venueId: 2, childId: 12, qty: 0 }] });
    feed(set, frame, frame.length - 8);
    expect(set.malformed).toBe(1);
    expect(set.children()).toEqual([]);
    feed(set, frame);
    expect(set.children().map((c) => c.childId)).toEqual([11]);
  });

  it('an audit read after an event of its child (a journal from before the gate) does not bring the child back', () => {
    const set = new AuditOnlyChildren(1000);
    set.onChildEvent(21); // SENT, FILL, CANCELED of 21 were journaled ahead of its audit
    feed(set, auditFrame({ orderId: 3, venues: 2, childPxTicks: 1, children: [{ venueId: 1, childId: 21, qty: 5 }, { venueId: 2, childId: 22, qty: 5 }] }));
    expect(set.children().map((c) => c.childId)).toEqual([22]);
  });

  it('remembers named ids within its window below the highest, and forgets older ones', () => {
    const set = new AuditOnlyChildren(10);
    for (let id = 1; id <= 40; id++) set.onChildEvent(id);
    const late = (id: number) => auditFrame({ orderId: 1, venues: 1, childPxTicks: 1, children: [{ venueId: 1, childId: id, qty: 1 }] });
    feed(set, late(35)); // within the window: still known as named
    feed(set, late(2)); // long forgotten: taken as in flight (a late audit trails its events by one flush)
    expect(set.children().map((c) => c.childId)).toEqual([2]);
  });

  it('over random histories: exactly the audited children no event named, by increasing id', () => {
    const history = fc.array(fc.record({ audit: fc.boolean(), childId: fc.integer({ min: 1, max: 30 }), venueId: fc.integer({ min: 1, max: 4 }) }), { maxLength: 60 });
    fc.assert(fc.property(history, (steps) => {
      const set = new AuditOnlyChildren(1000);
      const model = new Set<number>();
      const named = new Set<number>();
      for (const s of steps) {
        if (s.audit) {
          feed(set, auditFrame({ orderId: 1, venues: 4, childPxTicks: 1, children: [{ venueId: s.venueId, childId: s.childId, qty: 1 }] }));
          if (!named.has(s.childId)) model.add(s.childId);
        } else {
          set.onChildEvent(s.childId);
          named.add(s.childId);
          model.delete(s.childId);
        }
      }
      expect(set.children().map((c) => c.childId)).toEqual([...model].sort((a, b) => a - b));
    }));
  });
});
