/**
 * The edge's view of recent orders, for REST reads (GET /v1/orders/{id}, GET /v1/orders): the
 * latest report of each order, per account, newest first. Each account keeps its last
 * `capacity` orders in creation order (a ring of order ids) with the latest message of each;
 * older orders fall out of the view (the journal and the database keep them all).
 * Allocates (edge only).
 */
import type { ReportMessage } from './messages.ts';

class AccountOrders {
  readonly ids: Float64Array;
  readonly byId = new Map<number, ReportMessage>();
  /** Next write position in ids; ids[(next - 1) % capacity] is the newest. */
  next = 0;
  constructor(capacity: number) {
    this.ids = new Float64Array(capacity);
  }
}

export class OrderView {
  private readonly capacity: number;
  private readonly accounts = new Map<number, AccountOrders>();

  constructor(capacityPerAccount: number) {
    this.capacity = capacityPerAccount;
  }

  /** Records the latest report of an order (a new order id enters the account's ring). */
  update(accountId: number, msg: ReportMessage): void {
    let a = this.accounts.get(accountId);
    if (a === undefined) {
      a = new AccountOrders(this.capacity);
      this.accounts.set(accountId, a);
    }
    if (!a.byId.has(msg.orderId)) {
      const at = a.next % this.capacity;
      if (a.next >= this.capacity) a.byId.delete(a.ids[at]);
      a.ids[at] = msg.orderId;
      a.next++;
    }
    a.byId.set(msg.orderId, msg);
  }

  /** An order of this account, or undefined (another account's order is not revealed). */
  get(accountId: number, orderId: number): ReportMessage | undefined {
    return this.accounts.get(accountId)?.byId.get(orderId);
  }

  /** Newest first, at most `limit`, keeping those `keep` accepts. */
  list(accountId: number, limit: number, keep: (m: ReportMessage) => boolean): ReportMessage[] {
    const a = this.accounts.get(accountId);
    const out: ReportMessage[] = [];
    if (a === undefined) return out;
    const count = Math.min(a.next, this.capacity);
    for (let i = 1; i <= count && out.length < limit; i++) {
      const m = a.byId.get(a.ids[(a.next - i) % this.capacity]);
      if (m !== undefined && keep(m)) out.push(m);
    }
    return out;
  }
}
