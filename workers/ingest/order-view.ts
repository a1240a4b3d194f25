/**
 * The edge's view of recent orders, for REST reads (GET /v1/orders/{id}, GET /v1/orders): the
 * latest execution report of each order, per account, newest first. Older orders fall out of
 * the view (the journal and the database keep them all).
 *
 * Off the JavaScript heap, fixed size from start-up: the view once kept a JS object per order
 * (100,000 per account), and at 10,000 orders/s the ingest thread's heap grew by about 300 bytes
 * an order, which old-generation marking then had to walk on the thread that answers the
 * sockets. Now an update costs one copy of the report record and no allocation; a REST read
 * renders the JSON from the copy, as the WebSocket path does from the ring.
 *
 *   reports   slot = orderSlot(orderId, capacity), risk's slot of the order (order-table.ts): a copy of the
 *             order's latest EXEC_REPORT record, and its order id (0 = empty);
 *   prev      per slot, the order id of the same account's next older order held (0 = none),
 *   next      and of its next newer one (0 = it is the account's `newest`): each account's
 *             orders form a doubly linked chain in decreasing id order, from `newest` (an order
 *             first reported after a newer one, as after a restart, is put in its place). When
 *             a new order takes a slot, the order it evicts is unlinked from its account's
 *             chain, so the chain always links held orders only.
 *
 * With capacity equal to risk's order table capacity (risk.orderCapacity, which is what the
 * engine passes), a live order's slot is never taken: risk issues no id with the residue of a
 * live order's id (workers/risk/order-table.ts skips it), so a GTC order stays in the view and
 * in its account's list however many newer orders come and go. A report for an order whose
 * slot a newer order holds is counted in `stale` and not kept. Orders restored at a restart
 * enter the view with their first report after it.
 */
import { EXEC_REPORT_LENGTH, ExecReportFlyweight } from '../../codecs/records.ts';
import { copyBytes } from '../../engine/bytes.ts';
import { ExecType, isDuplicateAnswer } from '../../engine/order-state.ts';
import { orderSlot } from '../risk/order-table.ts';
import type { ReportMessage } from './messages.ts';
import { reportToJson } from './order-json.ts';

/** An account's newest order id; a mutable field, so an update allocates nothing. */
class AccountHead {
  newest = 0;
}

export class OrderView {
  private readonly capacity: number;
  private readonly reports: Uint8Array;
  private readonly reportsView: DataView;
  private readonly orderId: Float64Array;
  private readonly prev: Float64Array;
  private readonly next: Float64Array;
  private readonly accounts = new Map<number, AccountHead>();
  private readonly flyweight = new ExecReportFlyweight();
  private readonly symbolNames: string[];
  private readonly venueNames: string[];
  private readonly scratch = new Uint8Array(64);

  /** Reports for an order whose slot a newer order has taken (not kept). */
  stale = 0;

  constructor(capacity: number, symbolNames: string[], venueNames: string[]) {
    if (!(Number.isInteger(capacity) && capacity >= 1)) throw new Error('Condition failed: capacity >= 1');
    this.capacity = capacity;
    this.reports = new Uint8Array(capacity * EXEC_REPORT_LENGTH);
    this.reportsView = new DataView(this.reports.buffer);
    this.orderId = new Float64Array(capacity);
    this.prev = new Float64Array(capacity);
    this.next = new Float64Array(capacity);
    this.symbolNames = symbolNames;
    this.venueNames = venueNames;
  }

  /**
   * Keeps the report `r` is over (an EXEC_REPORT record) as its order's latest; a new order id
   * becomes its account's newest. A report of no order (order id 0) and a refused cancel or
   * replace (CANCEL_REJECT: the order's state did not change) are not kept. The answer to a repeated ClOrdID (an
   * ack with reason DUPLICATE_CL_ORD_ID carrying the order as it stands) is no event of the
   * order: when the view already shows the order in that same state it is not kept, so a filled
   * order stays listed as its fill, not as an "ack". It is kept when it tells the view something
   * new: an order the view does not hold yet (as after a restart), or one whose own reports went
   * elsewhere (an order entered, or since canceled or replaced, over FIX).
   */
  update(r: ExecReportFlyweight): void {
    const orderId = r.orderId();
    if (orderId <= 0 || r.execType() === ExecType.CANCEL_REJECT) return;
    const s = this.slotOf(orderId);
    const held = this.orderId[s];
    if (held > orderId) {
      this.stale++;
      return;
    }
    if (held === orderId && isDuplicateAnswer(r.execType(), r.reason()) && this.shows(r)) return;
    if (held !== orderId) {
      if (held !== 0) this.unlink(s);
      const accountId = r.accountId();
      let head = this.accounts.get(accountId);
      if (head === undefined) {
        head = new AccountHead();
        this.accounts.set(accountId, head);
      }
      this.orderId[s] = orderId;
      if (orderId > head.newest) {
        this.prev[s] = head.newest;
        this.next[s] = 0;
        if (head.newest !== 0) this.next[this.slotOf(head.newest)] = orderId;
        head.newest = orderId;
      } else {
        this.insertOlder(head.newest, s, orderId);
      }
    }
    copyBytes(r.bytes, r.offset, this.reports, s * EXEC_REPORT_LENGTH, EXEC_REPORT_LENGTH);
  }

  /** True when the view holds r's order in r's state: status, quantities and price all equal. */
  private shows(r: ExecReportFlyweight): boolean {
    const h = this.held(r.orderId());
    return h !== null && h.state() === r.state() && h.cumQty() === r.cumQty() && h.leavesQty() === r.leavesQty() && h.qty() === r.qty()
      && h.priceTicks() === r.priceTicks();
  }

  /** An order of this account, or undefined (another account's order is not revealed). */
  get(accountId: number, orderId: number): ReportMessage | undefined {
    if (!(Number.isSafeInteger(orderId) && orderId > 0)) return undefined;
    const r = this.held(orderId);
    if (r === null || r.accountId() !== accountId) return undefined;
    return reportToJson(r, this.symbolNames, this.venueNames, this.scratch);
  }

  /**
   * Newest first, at most `limit`, keeping those whose order state `keep` accepts. The chain
   * links held orders only (evicted ones are unlinked), so a filtered list walks at most
   * `capacity` steps of typed-array reads, and reaches an account's oldest live order however
   * many of its orders ended since.
   */
  list(accountId: number, limit: number, keep: (state: number) => boolean): ReportMessage[] {
    const out: ReportMessage[] = [];
    const head = this.accounts.get(accountId);
    if (head === undefined) return out;
    for (let id = head.newest; id !== 0 && out.length < limit; ) {
      const r = this.held(id);
      if (r === null) throw new Error('Invariant: an account\'s chain links held orders only');
      if (keep(r.state())) out.push(reportToJson(r, this.symbolNames, this.venueNames, this.scratch));
      id = this.prev[this.slotOf(id)];
    }
    return out;
  }

  /**
   * The first report of an order older than its account's newest: an order restored at a
   * restart, reported again before any report of it reached this view, or a duplicate-ClOrdID
   * ack naming an older order. It goes to its place in the chain, which stays in decreasing id
   * order (list relies on it), from `newest` (> orderId) down to the first older entry. Rare:
   * risk's resume pass after a restart reports orders oldest slot first, so nearly in increasing
   * id order (risk-stage.ts resumeOrderStep); only orders whose slot was skipped come late.
   */
  private insertOlder(newest: number, s: number, orderId: number): void {
    let at = newest;
    let older = this.prev[this.slotOf(at)];
    while (older > orderId) {
      at = older;
      older = this.prev[this.slotOf(at)];
    }
    this.prev[s] = older;
    this.next[s] = at;
    this.prev[this.slotOf(at)] = orderId;
    if (older !== 0) this.next[this.slotOf(older)] = orderId;
  }

  /** Takes the order held in slot s out of its account's chain (a newer order takes the slot). */
  private unlink(s: number): void {
    const older = this.prev[s];
    const newer = this.next[s];
    if (older !== 0) this.next[this.slotOf(older)] = newer;
    if (newer !== 0) this.prev[this.slotOf(newer)] = older;
    else {
      const accountId = this.flyweight.wrap(this.reportsView, this.reports, s * EXEC_REPORT_LENGTH).accountId();
      const head = this.accounts.get(accountId);
      if (head !== undefined && head.newest === this.orderId[s]) head.newest = older;
    }
    this.prev[s] = 0;
    this.next[s] = 0;
  }

  /** An order's slot: risk's own (orderSlot), so ids risk keeps apart never share a slot here. */
  private slotOf(orderId: number): number {
    return orderSlot(orderId, this.capacity);
  }

  /** The latest report of the order, while its slot holds it. */
  private held(orderId: number): ExecReportFlyweight | null {
    const s = this.slotOf(orderId);
    if (this.orderId[s] !== orderId) return null;
    return this.flyweight.wrap(this.reportsView, this.reports, s * EXEC_REPORT_LENGTH);
  }
}
