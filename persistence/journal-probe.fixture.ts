/**
 * Tests' own readings of the journal files (persistence/journal-reader.ts replayJournal): what a
 * test checks the engine wrote, read the way recovery reads it.
 */
import { ChildEventFlyweight, RecordType, RouteAuditFlyweight, forEachAuditedChild } from '../codecs/records.ts';
import { replayJournal } from './journal-reader.ts';

/** The journal's CHILD_EVENT kinds of an order's children, or of one child, in journal order. */
export function journalChildKinds(journalDir: string, of: { orderId: number } | { childId: number }): number[] {
  const ev = new ChildEventFlyweight();
  const kinds: number[] = [];
  replayJournal(journalDir, {
    onFrame(typeId, _seq, _epochMs, view, bytes, offset) {
      if (typeId !== RecordType.CHILD_EVENT) return;
      const e = ev.wrap(view, bytes, offset);
      if ('orderId' in of ? e.orderId() === of.orderId : e.childId() === of.childId) kinds.push(e.kind());
    },
  });
  return kinds;
}

/** The children the journal's ROUTE_AUDITs name, each with its order id. */
export function auditedChildren(journalDir: string): Map<number, number> {
  const a = new RouteAuditFlyweight();
  const out = new Map<number, number>();
  replayJournal(journalDir, {
    onFrame(typeId, _seq, _epochMs, view, bytes, offset, length) {
      if (typeId !== RecordType.ROUTE_AUDIT) return;
      const audit = a.wrap(view, bytes, offset);
      forEachAuditedChild(audit, length, (_venue, childId) => out.set(childId, audit.orderId()));
    },
  });
  return out;
}
