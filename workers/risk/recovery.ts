/**
 * Recovery: on start, before the risk stage runs its loop, rebuild its state from the journal
 * (persistence/journal.ts), which holds every command risk took and every event it produced, in
 * the order it handled them.
 *
 * State is rebuilt from the journaled EVENTS, not by running the commands through the checks
 * again (quotes, clocks and throttles are not replayable):
 *
 *   EXEC_REPORT     each order's latest report gives its terms, state, cumQty, cumNotional and
 *                   ClOrdID (index rebuilt, so a repeated ClOrdID is still recognized); every
 *                   fill report (lastQty > 0) is booked into the positions once, in journal
 *                   order, so positions, cost and realized P&L come out as they were; a fill
 *                   report's venue ExecID goes into the fill ledger, and a bust or correction
 *                   report rebooks its fill's trade from the reports, as the stage did live;
 *   CHILD_EVENT     children (SENT: id, venue, qty, price), their fills and ends: the child
 *                   table, each order's live children and quantity open at venues;
 *   ROUTE_AUDIT     children no CHILD_EVENT names (sent, or about to be, when the process died:
 *                   workers/sor/audit-children.ts): put back live after the replay, as if SENT,
 *                   so their order waits for the venue's answer to reconciliation instead of
 *                   being settled without them;
 *   REPLACE_ORDER   the terms of a replace still pending (its PENDING_REPLACE report follows);
 *   ACCOUNT_CONTROL kill-switch modes, and per account the orders its last halt reached (an
 *                   open one of them is swept again at resume even if the halt was lifted
 *                   before the crash cut its sweep); RISK_LIMIT limit changes (and their version);
 *   SOR_CONFIG      the last routing configuration, forwarded to the new SOR at resume.
 *
 * Ids continue after the highest recovered: order ids (the table's next id), event sequence
 * numbers, and child ids (nextChildIdBase: the SOR's base for this boot continues the recovered
 * children's slots in the child table). A fill is never booked twice: each fill is one report
 * with its own event sequence number, and within one boot those only increase, so a report
 * whose number is not above the last one of its boot is skipped and counted.
 *
 * What the crash leaves half done is settled by the stage's resume pass (RiskStage.
 * finishRecovery): route requests in flight are forgotten (an accepted order with nothing at a
 * venue stays open and cancelable), pending cancels and replaces are settled or their child
 * cancels sent again, halted accounts are swept again, and every recovered order and position is
 * shown to the edge. Not rebuilt: throttles, the duplicate-content window and reference prices
 * (they refill from live traffic in seconds); an order that was expiring at the session close
 * ends CANCELED rather than EXPIRED if the crash came in between.
 *
 * Snapshots (persistence/snapshot.ts). Once its replay reached the journal's end (the first
 * sequence of this boot's segment), and before the resume pass and the audit-only children,
 * recovery saves what the replay built: the restorer's own state (RiskReplayState: what a
 * record leaves pending for a later one, the boot being read, the last SOR_CONFIG, the children
 * only an audit names, the limit changes, the counters) and the stage's (RiskStage.snapshot).
 * The next start loads the newest that holds, restores it into a fresh stage and replays only
 * the journal after its boundary: the same state, bit for bit, as replaying the whole journal.
 * What a configuration change would change on a full replay is not frozen: limits are this
 * start's seeds with the journaled changes applied again; the id ranges the child table is
 * built with are the snapshot's prefix's merged with the tail's (startRiskRecovery), and a
 * snapshot whose child table has another base, or whose order table began at another id, is
 * passed over.
 *
 * Start-up only: allocates freely (not the hot path).
 */
import { equalBytes } from '../../engine/bytes.ts';
import { CL_ORD_ID_CAPACITY, OrdType, Source } from '../../engine/domain.ts';
import { ExecType, ILLEGAL, OrderEvent, OrderState, isDuplicateAnswer, isTerminal, isTradeCorrection, transition } from '../../engine/order-state.ts';
import {
  AccountControlFlyweight, AccountMode, CancelOrderFlyweight, ChildEventFlyweight, ChildEventKind, ExecReportFlyweight,
  RecordType, RiskLimitFlyweight, RouteAuditFlyweight, forEachAuditedChild,
} from '../../codecs/records.ts';
import { MAX_PRICE_TICKS } from '../../engine/fixed-point.ts';
import { replayJournal, type FrameHandler } from '../../persistence/journal-reader.ts';
import { SnapshotMismatch, replayFrom, type LoadedSnapshot, type SnapshotOutcome, type SnapshotReader, type SnapshotStore, type SnapshotWriter } from '../../persistence/snapshot.ts';
import { AuditOnlyChildren } from '../sor/audit-children.ts';
import { RiskStage, type RiskConfig } from './risk-stage.ts';

/** The stage's name in the snapshot store. */
export const RISK_SNAPSHOT = 'risk';

/** What a first quick pass over the journal learns, to size the ids before the stage is built. */
export interface JournalBounds {
  /** Highest order id in any order's report (0: none). */
  maxOrderId: number;
  /** Lowest and highest child id of a SENT child event or a ROUTE_AUDIT's child (0: none). */
  minChildId: number;
  maxChildId: number;
  frames: number;
  /** Why the journal could not be read to its end (corruption), or null. */
  problem: string | null;
}

export interface RecoveryResult {
  frames: number;
  /** Journal sequence the writer continues with. */
  nextSequence: number;
  problem: string | null;
  /** Orders in the table after recovery, and how many of them are open. */
  orders: number;
  openOrders: number;
  /** Fill reports booked into positions. */
  fills: number;
  /** Bust and correction reports rebooked into positions. */
  tradeCorrections: number;
  /** Reports skipped because their event sequence number was seen before in their boot. */
  duplicateReports: number;
  /** Children still live at a venue (for all the engine knows). */
  liveChildren: number;
  /** Of them, known only from their ROUTE_AUDIT (in flight at the crash): put back as sent. */
  auditOnlyChildren: number;
  limitChanges: number;
  modeChanges: number;
  /** Records that did not fit the tables (slot still live): counted, never applied. */
  conflicts: number;
  /** ROUTE_AUDIT frames too short for the venue count they declare: their children could not be read. */
  malformedAudits: number;
  lastEventSeq: number;
  nextOrderId: number;
  /**
   * What recovery did with snapshots. The counters above (fills, duplicateReports, limitChanges,
   * modeChanges, conflicts, malformedAudits) cover the whole journal either way (a snapshot
   * carries them); frames counts only the frames read at this start (after the boundary).
   */
  snapshot: SnapshotOutcome;
}

class BoundsScan implements FrameHandler {
  private readonly report = new ExecReportFlyweight();
  private readonly child = new ChildEventFlyweight();
  private readonly audit = new RouteAuditFlyweight();
  maxOrderId = 0;
  minChildId = 0;
  maxChildId = 0;

  onFrame(typeId: number, _sequence: number, _epochMs: number, view: DataView, bytes: Uint8Array, offset: number, length: number): void {
    if (typeId === RecordType.EXEC_REPORT) {
      const r = this.report.wrap(view, bytes, offset);
      // A refused cancel names whatever order id the client sent: not an id the engine issued.
      if (r.execType() !== ExecType.CANCEL_REJECT && r.orderId() > this.maxOrderId) this.maxOrderId = r.orderId();
    } else if (typeId === RecordType.CHILD_EVENT) {
      const c = this.child.wrap(view, bytes, offset);
      if (c.kind() === ChildEventKind.SENT) this.childId(c.childId());
    } else if (typeId === RecordType.ROUTE_AUDIT) {
      // An audit's children may be restored (audit-children.ts): the table's base lies below them too.
      forEachAuditedChild(this.audit.wrap(view, bytes, offset), length, this.visitAudited);
    }
  }

  private readonly visitAudited = (_venueId: number, childId: number): void => this.childId(childId);

  private childId(id: number): void {
    if (this.minChildId === 0 || id < this.minChildId) this.minChildId = id;
    if (id > this.maxChildId) this.maxChildId = id;
  }
}

/** First pass: the id ranges the journal uses (from `fromSequence` on). */
export function scanJournalBounds(dir: string, fromSequence: number = 1): JournalBounds {
  const scan = new BoundsScan();
  const r = replayJournal(dir, scan, fromSequence);
  return { maxOrderId: scan.maxOrderId, minChildId: scan.minChildId, maxChildId: scan.maxChildId, frames: r.frames, problem: r.problem };
}

/** The id ranges of two stretches of journal together (frames and problem: the second's, the one read at this start). */
function mergeBounds(a: Pick<JournalBounds, 'maxOrderId' | 'minChildId' | 'maxChildId'>, b: JournalBounds): JournalBounds {
  return {
    maxOrderId: Math.max(a.maxOrderId, b.maxOrderId),
    minChildId: a.minChildId === 0 ? b.minChildId : b.minChildId === 0 ? a.minChildId : Math.min(a.minChildId, b.minChildId),
    maxChildId: Math.max(a.maxChildId, b.maxChildId),
    frames: b.frames,
    problem: b.problem,
  };
}

/**
 * The risk configuration for a stage that recovers: the child table's base lies below every
 * recovered child (ids of earlier boots). Order ids need nothing here: the restored orders take
 * their ids in increasing order and the table's next id follows the highest
 * (OrderTable.restoreAllocate).
 */
export function recoveredRiskConfig(config: RiskConfig, bounds: JournalBounds): RiskConfig {
  const childIdBase = bounds.minChildId > 0 ? Math.min(config.childIdBase, bounds.minChildId - 1) : config.childIdBase;
  return { ...config, childIdBase };
}

/**
 * The child id base of this boot (the SOR issues base + 1 upwards): at or above `proposed` (the
 * clock-derived base, above any id an earlier boot issued, journaled or not) and congruent to
 * the highest recovered child id modulo the child table's capacity, so new children take the
 * slots after the recovered ones, as if the earlier boot had gone on.
 */
export function nextChildIdBase(proposed: number, maxChildId: number, capacity: number): number {
  if (maxChildId === 0) return proposed;
  const start = Math.max(proposed, maxChildId + 1);
  const base = start + ((((maxChildId - start) % capacity) + capacity) % capacity);
  if (!Number.isSafeInteger(base)) throw new Error('Invariant: child ids stay exact integers');
  return base;
}

/** RiskReplayState's number fields in a snapshot, each list for both directions (SnapshotWriter.numbers). */
const REPLACE_TERMS = ['replaceQty', 'replacePrice', 'replaceLength'];
const BOOT_TRACKING = ['bootEpochMs', 'bootLastEventSeq'];
const REPLAY_COUNTS = ['fills', 'tradeCorrections', 'duplicateReports', 'limitChanges', 'modeChanges', 'conflicts', 'maxEventSeq'];

/**
 * What the replay has built outside the stage's tables, all of it in a snapshot (snapshotState):
 * the restorer's own state, and the id ranges it has read. Counters are carried too, so a
 * recovery's result counts the whole journal whether it started from a snapshot or not.
 */
class RiskReplayState {
  /** The last REPLACE_ORDER command's terms, for the PENDING_REPLACE report that follows it. */
  protected replaceQty = 0;
  protected replacePrice = 0;
  protected replaceLength = 0;
  protected readonly replaceClOrdId = new Uint8Array(CL_ORD_ID_CAPACITY);
  /** Event sequence numbers of the boot being read (they only increase within one boot). */
  protected bootEpochMs = -1;
  protected bootLastEventSeq = 0;
  sorConfig: Uint8Array | null = null;
  /** Children named by an audit and by no child event. */
  readonly auditOnly: AuditOnlyChildren;
  /**
   * The limit changes applied, for a snapshot (the limits themselves are seeded from the
   * configuration of each start): per (key, account, symbol), the value of its last change and
   * the highest version of its changes, ordered by its last change. Applied again in that order
   * onto any seeds, each limit ends as the last change that reached it left it (a change for
   * ALL_SYMBOLS and one for a single symbol keep their order), and the version as the highest.
   */
  protected readonly limitLog = new Map<string, number[]>();
  /** The id ranges read so far, with those of a snapshot's prefix (a later snapshot's head). */
  protected readonly bounds = new BoundsScan();
  fills = 0;
  tradeCorrections = 0;
  duplicateReports = 0;
  limitChanges = 0;
  modeChanges = 0;
  conflicts = 0;
  maxEventSeq = 0;

  constructor(childCapacity: number) {
    this.auditOnly = new AuditOnlyChildren(childCapacity);
  }

  protected logLimit(key: number, accountId: number, symbolId: number, value: number, version: number): void {
    const id = `${key}/${accountId}/${symbolId}`;
    const earlier = this.limitLog.get(id);
    // Deleted first, so the entry moves to the end: entries stay in the order of their last change.
    this.limitLog.delete(id);
    this.limitLog.set(id, [key, accountId, symbolId, value, earlier === undefined ? version : Math.max(earlier[4], version)]);
  }

  /** Its state into a snapshot, after the head. */
  snapshotState(w: SnapshotWriter): void {
    w.numbers('replay', this, REPLACE_TERMS);
    w.array('replay.replaceClOrdId', this.replaceClOrdId);
    w.numbers('replay', this, BOOT_TRACKING);
    w.bytes('replay.sorConfig', this.sorConfig);
    this.auditOnly.snapshot(w, 'replay.auditOnly');
    w.list('replay.limitLog', Float64Array.from([...this.limitLog.values()].flat()));
    w.numbers('replay', this, REPLAY_COUNTS);
  }

  /** Replaces its state with a snapshot's (written by snapshotState); the id ranges come from the snapshot's head. */
  restoreState(r: SnapshotReader, head: RiskSnapshotHead): void {
    this.bounds.maxOrderId = head.maxOrderId;
    this.bounds.minChildId = head.minChildId;
    this.bounds.maxChildId = head.maxChildId;
    r.numbersInto('replay', this, REPLACE_TERMS);
    r.arrayInto('replay.replaceClOrdId', this.replaceClOrdId);
    r.numbersInto('replay', this, BOOT_TRACKING);
    this.sorConfig = r.bytes('replay.sorConfig');
    this.auditOnly.restore(r, 'replay.auditOnly');
    const log = r.list('replay.limitLog');
    if (log.length % 5 !== 0) throw new SnapshotMismatch(`replay.limitLog: ${log.length} numbers, not 5 per limit change`);
    this.limitLog.clear();
    for (let at = 0; at < log.length; at += 5) this.logLimit(log[at], log[at + 1], log[at + 2], log[at + 3], log[at + 4]);
    r.numbersInto('replay', this, REPLAY_COUNTS);
  }
}

/** Second pass: applies every journal frame to the stage's tables. */
class RiskRestorer extends RiskReplayState implements FrameHandler {
  private readonly stage: RiskStage;
  private readonly report = new ExecReportFlyweight();
  private readonly child = new ChildEventFlyweight();
  private readonly replace = new CancelOrderFlyweight();
  private readonly control = new AccountControlFlyweight();
  private readonly limit = new RiskLimitFlyweight();
  /** The configuration's first order id (the fresh table's next id): a snapshot's must be the same. */
  readonly firstOrderId: number;

  /** Over a stage built for recovery and not run yet. */
  constructor(stage: RiskStage) {
    super(stage.children.capacity);
    this.stage = stage;
    this.firstOrderId = stage.orders.peekNextOrderId();
  }

  /** Everything the replay has built, restorer and stage, into a snapshot (head first: startRiskRecovery reads it before the stage is built). */
  snapshot(w: SnapshotWriter): void {
    const b = this.bounds;
    writeHead(w, { maxOrderId: b.maxOrderId, minChildId: b.minChildId, maxChildId: b.maxChildId, firstOrderId: this.firstOrderId, childIdBase: this.stage.children.base });
    this.snapshotState(w);
    this.stage.snapshot(w);
  }

  /**
   * Why a later start would pass a snapshot of this state over (headMismatch as it will see it),
   * or null. It builds its child table based just below the lowest child id of the journal, which
   * this head carries (a later boot's clock-derived base is above every id); a table based
   * elsewhere (a boot that began with no child journaled, whose first child did not take the
   * base's next id) holds its children in other slots.
   */
  unfit(): string | null {
    const min = this.bounds.minChildId;
    return min > 0 && this.stage.children.base !== min - 1 ? `its child table's base is ${this.stage.children.base}, a start's would be ${min - 1}` : null;
  }

  /**
   * Replaces the replay's state with a snapshot's (its head already read): the restorer's, the
   * limit changes applied again onto this start's seeds, then the stage's tables.
   */
  restore(r: SnapshotReader, head: RiskSnapshotHead): void {
    this.restoreState(r, head);
    // Each applied under the same accounts and symbols (the snapshot's fingerprint), so each
    // applies again, and the version comes out the highest.
    for (const [key, accountId, symbolId, value, version] of this.limitLog.values()) this.stage.applyLimit(key, accountId, symbolId, value, version);
    this.stage.restore(r);
  }

  onFrame(typeId: number, sequence: number, epochMs: number, view: DataView, bytes: Uint8Array, offset: number, length: number): void {
    switch (typeId) {
      case RecordType.EXEC_REPORT:
        this.bounds.onFrame(typeId, sequence, epochMs, view, bytes, offset, length);
        this.onReport(this.report.wrap(view, bytes, offset), epochMs, length);
        return;
      case RecordType.CHILD_EVENT:
        this.bounds.onFrame(typeId, sequence, epochMs, view, bytes, offset, length);
        this.onChildEvent(this.child.wrap(view, bytes, offset));
        return;
      case RecordType.ROUTE_AUDIT:
        this.bounds.onFrame(typeId, sequence, epochMs, view, bytes, offset, length);
        this.auditOnly.onAudit(view, bytes, offset, length);
        return;
      case RecordType.REPLACE_ORDER: {
        const c = this.replace.wrap(view, bytes, offset);
        this.replaceQty = c.qty();
        this.replacePrice = c.priceTicks();
        this.replaceLength = Math.min(c.clOrdIdLength(), CL_ORD_ID_CAPACITY);
        this.replaceClOrdId.set(bytes.subarray(c.clOrdIdOffset(), c.clOrdIdOffset() + this.replaceLength));
        return;
      }
      case RecordType.ACCOUNT_CONTROL:
        this.onAccountControl(this.control.wrap(view, bytes, offset));
        return;
      case RecordType.RISK_LIMIT: {
        const r = this.limit.wrap(view, bytes, offset);
        if (this.stage.applyLimit(r.key(), r.accountId(), r.symbolId(), r.value(), r.version())) {
          this.limitChanges++;
          this.logLimit(r.key(), r.accountId(), r.symbolId(), r.value(), r.version());
        }
        return;
      }
      case RecordType.SOR_CONFIG:
        this.sorConfig = bytes.slice(offset, offset + length);
        return;
    }
  }

  private onAccountControl(c: AccountControlFlyweight): void {
    if (!this.stage.setMode(c.accountId(), c.mode())) return;
    this.modeChanges++;
    // Ids restored so far are the orders this halt's sweep was to reach (it runs after the change).
    if (c.mode() === AccountMode.HALTED) this.stage.restoreHalt(c.accountId());
  }

  private onReport(r: ExecReportFlyweight, epochMs: number, length: number): void {
    const eventSeq = r.eventSeq();
    if (epochMs !== this.bootEpochMs) {
      this.bootEpochMs = epochMs;
      this.bootLastEventSeq = 0;
    }
    if (eventSeq <= this.bootLastEventSeq) {
      this.duplicateReports++;
      return;
    }
    this.bootLastEventSeq = eventSeq;
    if (eventSeq > this.maxEventSeq) this.maxEventSeq = eventSeq;
    const orderId = r.orderId();
    if (orderId === 0) return; // a refused new order: no order exists
    const execType = r.execType();
    // A refused cancel/replace leaves the order as it was (its report carries the command's
    // ClOrdIDs); only the refusal of a replace at its completion (no OrigClOrdID, the order's
    // own terms) moves the order's state.
    if (execType === ExecType.CANCEL_REJECT && (r.origClOrdIdLength() !== 0 || r.qty() === 0)) return;
    // The answer to a repeated ClOrdID echoes the order; nothing changed.
    if (isDuplicateAnswer(execType, r.reason())) return;
    if ((execType === ExecType.FILL || execType === ExecType.PARTIAL_FILL) && r.lastQty() > 0) {
      this.stage.restoreFill(r.accountId(), r.symbolId(), r.side(), r.lastQty(), r.lastPxTicks());
      this.fills++;
      const hash = r.venueExecIdHashIn(length);
      if (hash !== 0) this.stage.restoreFillLedger(hash, eventSeq, orderId, r.lastQty(), r.lastPxTicks());
    }
    if (isTradeCorrection(execType)) this.onTradeCorrection(r, execType === ExecType.TRADE_CANCEL, length);
    const o = this.stage.orders;
    let slot = o.slotOf(orderId);
    if (slot < 0) {
      if (orderId < o.peekNextOrderId()) return; // evicted long ago by a newer order
      slot = o.restoreAllocate(orderId);
      if (slot < 0) {
        this.conflicts++;
        return;
      }
    }
    this.applyReport(slot, r, execType);
  }

  /**
   * A bust or correction the stage applied, before its report's fields replace the order's: the
   * position rebooked as it was live, from the reports alone (not from the fill ledger, whose
   * layout follows the order capacity of this start). A bust's report carries the trade taken
   * back (lastQty, lastPx); a correction's carries the corrected trade, and the one taken back is
   * what the order's totals lost beyond it since its previous report.
   */
  private onTradeCorrection(r: ExecReportFlyweight, cancel: boolean, length: number): void {
    const o = this.stage.orders;
    const slot = o.slotOf(r.orderId());
    const newQty = cancel ? 0 : r.lastQty();
    const newPx = cancel ? 0 : r.lastPxTicks();
    const oldQty = cancel ? r.lastQty() : slot < 0 ? 0 : newQty + o.cumQty[slot] - r.cumQty();
    const oldNotional = cancel ? r.lastQty() * r.lastPxTicks() : slot < 0 ? 0 : newQty * newPx + o.cumNotional[slot] - r.cumNotionalTicks();
    const oldPx = oldQty > 0 ? oldNotional / oldQty : 0;
    if (!(oldQty > 0 && Number.isSafeInteger(oldPx) && oldPx >= 1)) {
      this.conflicts++;
      return;
    }
    this.stage.restoreTradeCorrection(r.accountId(), r.symbolId(), r.side(), r.venueExecIdHashIn(length), oldQty, oldPx, newQty, newPx);
    this.tradeCorrections++;
  }

  private applyReport(slot: number, r: ExecReportFlyweight, execType: number): void {
    const o = this.stage.orders;
    const state = r.state();
    o.accountId[slot] = r.accountId();
    o.symbolId[slot] = r.symbolId();
    o.side[slot] = r.side();
    o.ordType[slot] = r.ordType();
    o.tif[slot] = r.tif();
    o.source[slot] = r.source();
    // A FIX client's connId is its session index (stable across restarts); a WebSocket
    // connection of the last boot is gone, and its number will be reused by another.
    o.connId[slot] = r.source() === Source.FIX ? r.connId() : 0;
    o.requestId[slot] = 0;
    o.qty[slot] = r.qty();
    o.priceTicks[slot] = r.priceTicks();
    o.cumQty[slot] = r.cumQty();
    o.cumNotional[slot] = r.cumNotionalTicks();
    o.recvTimeNs[slot] = r.recvTimeNs();
    o.setState(slot, state);
    if (o.replaceClOrdIdLength[slot] !== 0 && state !== OrderState.PENDING_REPLACE) {
      o.releaseReplaceClOrdId(slot);
      o.replaceClOrdIdLength[slot] = 0;
    }
    const length = r.clOrdIdLength();
    const at = r.clOrdIdOffset();
    if (length >= 1 && !(o.clOrdIdLength[slot] === length && equalBytes(o.clOrdIds, slot * CL_ORD_ID_CAPACITY, r.bytes, at, length))) {
      o.setClOrdId(slot, r.bytes, at, length);
    }
    if (execType === ExecType.PENDING_REPLACE && this.replaceLength >= 1 && o.replaceClOrdIdLength[slot] === 0) {
      o.replaceQty[slot] = this.replaceQty;
      o.replacePriceTicks[slot] = o.ordType[slot] !== OrdType.LIMIT ? 0 : this.replacePrice === 0 ? o.priceTicks[slot] : this.replacePrice;
      o.replaceClOrdIds.set(this.replaceClOrdId.subarray(0, this.replaceLength), slot * CL_ORD_ID_CAPACITY);
      o.replaceClOrdIdLength[slot] = this.replaceLength;
      o.reserveReplaceClOrdId(slot);
      this.replaceLength = 0;
    }
  }

  /** The child table as RiskStage.onChildEvent/onFill/childDone keep it, without any output. */
  private onChildEvent(ev: ChildEventFlyweight): void {
    const o = this.stage.orders;
    const c = this.stage.children;
    const kind = ev.kind();
    this.auditOnly.onChildEvent(ev.childId());
    if (kind === ChildEventKind.SENT) {
      this.addChild(ev.childId(), ev.orderId(), ev.venueId(), ev.qty(), ev.priceTicks());
      return;
    }
    const cs = c.slotOf(ev.childId());
    if (cs < 0) return;
    const slot = o.slotOf(c.orderId[cs]);
    if (slot < 0) return;
    if (kind === ChildEventKind.FILL) {
      this.onChildFill(slot, cs, ev);
      return;
    }
    if (kind === ChildEventKind.CANCELED || kind === ChildEventKind.REJECTED || kind === ChildEventKind.EXPIRED) this.childDone(slot, cs);
  }

  /** A child sent to its venue (a SENT event, or an audit-only child after the replay), as RiskStage.onChildSent keeps it. Returns whether it was added. */
  private addChild(childId: number, orderId: number, venueId: number, qty: number, priceTicks: number): boolean {
    const o = this.stage.orders;
    const slot = o.slotOf(orderId);
    if (slot < 0) return false;
    if (this.stage.linkChild(slot, childId, venueId, qty, priceTicks) < 0) {
      this.conflicts++;
      return false;
    }
    // The stage moves the order to ROUTED here without a report of its own.
    if (!isTerminal(o.state[slot])) {
      const next = transition(o.state[slot], OrderEvent.ROUTE, o.cumQty[slot] > 0);
      if (next !== ILLEGAL) o.setState(slot, next);
    }
    return true;
  }

  /**
   * After the replay: the children only an audit names (in flight at the crash) are live for all
   * the engine knows, so they go back as sent; the resume pass and the venue's answer to
   * reconciliation settle them. Returns how many were put back.
   */
  restoreAuditOnlyChildren(): number {
    let n = 0;
    for (const ch of this.auditOnly.children()) if (this.addChild(ch.childId, ch.orderId, ch.venueId, ch.qty, ch.priceTicks)) n++;
    return n;
  }

  private onChildFill(slot: number, cs: number, ev: ChildEventFlyweight): void {
    const o = this.stage.orders;
    const c = this.stage.children;
    let lastQty = ev.lastQty();
    const lastPx = ev.lastPxTicks();
    if (!(Number.isInteger(lastQty) && lastQty > 0 && c.cumQty[cs] + lastQty <= c.qty[cs])) return;
    if (!(Number.isInteger(lastPx) && lastPx >= 1 && lastPx <= MAX_PRICE_TICKS)) return;
    // The order's state here is the one before this fill's own report (which follows it).
    const terminal = isTerminal(o.state[slot]);
    const late = c.live[cs] === 0 || terminal;
    c.cumQty[cs] += lastQty;
    if (c.live[cs] === 1) o.venueOpenQty[slot] -= lastQty;
    const room = o.qty[slot] - o.cumQty[slot];
    if (lastQty > room) lastQty = room;
    const complete = c.cumQty[cs] >= c.qty[cs];
    if (lastQty === 0 || !(late && terminal)) {
      if (complete) this.childDone(slot, cs);
    }
  }

  private childDone(slot: number, cs: number): void {
    this.stage.endChild(slot, cs);
  }
}

/**
 * A snapshot's head, its first sections: what the stage must be built with, read before it is
 * (startRiskRecovery). The id ranges of the journal before its boundary, the order table's first
 * id and the child table's base.
 */
export interface RiskSnapshotHead {
  maxOrderId: number;
  minChildId: number;
  maxChildId: number;
  firstOrderId: number;
  childIdBase: number;
}

const EMPTY_HEAD: RiskSnapshotHead = { maxOrderId: 0, minChildId: 0, maxChildId: 0, firstOrderId: 0, childIdBase: 0 };
/** The head's fields, in snapshot order, one list for both directions (SnapshotWriter.numbers). */
const HEAD_KEYS: readonly (keyof RiskSnapshotHead)[] = ['maxOrderId', 'minChildId', 'maxChildId', 'firstOrderId', 'childIdBase'];

function writeHead(w: SnapshotWriter, h: RiskSnapshotHead): void {
  w.numbers('head', h, HEAD_KEYS);
}

function readHead(r: SnapshotReader): RiskSnapshotHead {
  const h = { ...EMPTY_HEAD };
  r.numbersInto('head', h, HEAD_KEYS);
  return h;
}

/**
 * Why a snapshot cannot be restored into a stage whose order table begins at `firstOrderId` and
 * whose child table has base `childIdBase`, or null. A full replay ignores the journal's orders
 * below the first id, and keys children by their distance from the base: a snapshot taken under
 * others holds other tables. (Without a child in its prefix, its child table is empty and its
 * base does not matter.)
 */
function headMismatch(head: RiskSnapshotHead, firstOrderId: number, childIdBase: number): string | null {
  if (head.firstOrderId !== firstOrderId) return `its order table began at id ${head.firstOrderId}, this one at ${firstOrderId}`;
  if (head.minChildId > 0 && head.childIdBase !== childIdBase) return `its child table's base is ${head.childIdBase}, this start's ${childIdBase}`;
  return null;
}

/** What a recovery starts from: the journal's id ranges (to build the stage with) and the snapshot to restore, if any. */
export interface RiskRecoveryStart {
  /** The id ranges of the whole journal: the snapshot's prefix's (its head) with the rest's, or a full scan's. */
  bounds: JournalBounds;
  /** The snapshot, its reader past the head, or null: the whole journal is replayed. */
  snapshot: { loaded: LoadedSnapshot; head: RiskSnapshotHead } | null;
  /** Snapshots passed over, each with its reason. */
  skipped: string[];
}

/**
 * The newest snapshot of `snapshots` that holds (`shape`: the layout of this code's, over a fresh
 * stage), its head read, and the snapshots passed over. Its head is checked by the caller
 * (headMismatch): one that does not fit is passed over for the whole journal, the older ones not
 * tried (that happens only when the configured first order id, or the clock-derived child base,
 * moved below the journal's children, and they would most likely not fit either).
 */
function loadRiskSnapshot(snapshots: SnapshotStore, shape: (w: SnapshotWriter) => void): Pick<RiskRecoveryStart, 'snapshot' | 'skipped'> {
  const loaded = snapshots.load(RISK_SNAPSHOT, shape);
  return { snapshot: loaded === null ? null : { loaded, head: readHead(loaded.reader) }, skipped: [...snapshots.skipped] };
}

/**
 * The first step of a recovery, before the stage is built (workers/risk-part.ts): the newest
 * snapshot of `snapshots` that holds (null store: none) and the journal's id ranges, a snapshot's
 * prefix's from its head and the rest's from a scan after its boundary. Build the stage with
 * recoveredRiskConfig(config, start.bounds), then recoverRiskStage(stage, dir, snapshots, start).
 */
export function startRiskRecovery(dir: string, config: RiskConfig, snapshots: SnapshotStore | null): RiskRecoveryStart {
  if (snapshots === null) return { bounds: scanJournalBounds(dir), snapshot: null, skipped: [] };
  const shape = (w: SnapshotWriter): void => {
    writeHead(w, EMPTY_HEAD);
    new RiskReplayState(config.childCapacity).snapshotState(w);
    RiskStage.snapshotShape(w, config);
  };
  const { snapshot, skipped } = loadRiskSnapshot(snapshots, shape);
  if (snapshot !== null) {
    const bounds = mergeBounds(snapshot.head, scanJournalBounds(dir, snapshot.loaded.meta.boundary));
    const why = headMismatch(snapshot.head, config.firstOrderId, recoveredRiskConfig(config, bounds).childIdBase);
    if (why === null) return { bounds, snapshot, skipped };
    skipped.push(`${snapshot.loaded.path}: ${why}`);
  }
  return { bounds: scanJournalBounds(dir), snapshot: null, skipped };
}

/**
 * A risk replay that goes on while the engine runs (workers/snapshot-thread.ts): the stage built
 * and restored as a start builds it (recoverRisk: the newest snapshot of `snapshots` that holds,
 * the stage built by `build` with recoveredRiskConfig over the journal's id ranges), but never
 * settled (no resume pass, no audit-only children, no output): the frames from `boundary` on are
 * applied as the journal grows, and its snapshot at a later segment start is the state a start
 * replaying the journal up to there builds.
 */
export interface RiskFollower {
  handler: FrameHandler;
  /** The first sequence the handler takes: the loaded snapshot's boundary, 1 without one. */
  boundary: number;
  /** The snapshot it was restored from, or null. */
  loaded: string | null;
  skipped: string[];
  snapshot(w: SnapshotWriter): void;
  /** Why a start would pass its snapshot over as things stand (its head), or null: it may be saved. */
  unfit(): string | null;
}

export function followRisk(dir: string, config: RiskConfig, snapshots: SnapshotStore, build: (config: RiskConfig) => RiskStage): RiskFollower {
  return builtForRecovery(dir, config, snapshots, build, (stage, start) => {
    const { restorer, snapshot, skipped, boundary } = beginReplay(stage, snapshots, start);
    return { handler: restorer, boundary, loaded: snapshot === null ? null : snapshot.loaded.path, skipped, snapshot: (w) => restorer.snapshot(w), unfit: () => restorer.unfit() };
  });
}

/**
 * startRiskRecovery, the stage built by `build` with recoveredRiskConfig over the start's bounds,
 * then `restore` over it. A snapshot that held at load but cannot be read back into the stage
 * (RiskSnapshotUnreadable from `restore`: SnapshotMismatch half-way through its tables, a check
 * of the stage's own, or a defect) leaves a half-restored stage behind, so the stage is built
 * again from scratch and restored from the next older snapshot, or the whole journal (the store
 * passes the failed file over, and it is among the outcome's `skipped`). The SOR and fix undo
 * such a read in place (SnapshotStore.loadInto); risk cannot, its tables being sized by the
 * snapshot's head.
 */
function builtForRecovery<T>(
  dir: string,
  config: RiskConfig,
  snapshots: SnapshotStore | null,
  build: (config: RiskConfig) => RiskStage,
  restore: (stage: RiskStage, start: RiskRecoveryStart, built: RiskConfig) => T,
): T {
  for (;;) {
    const start = startRiskRecovery(dir, config, snapshots);
    const built = recoveredRiskConfig(config, start.bounds);
    const stage = build(built);
    try {
      return restore(stage, start, built);
    } catch (e) {
      // Only the restore of the snapshot this start loaded; anything else is not a snapshot's.
      if (!(e instanceof RiskSnapshotUnreadable) || snapshots === null || start.snapshot?.loaded.path !== e.path) throw e;
      // Passed over by the next load (each file once: the loop ends), and so among its `skipped`.
      snapshots.passOver(e.path, `could not be read back: ${e.reason}`);
    }
  }
}

/** A risk snapshot that held at load but could not be read back into the stage (left half-restored). */
export class RiskSnapshotUnreadable extends Error {
  readonly path: string;
  readonly reason: string;
  constructor(path: string, reason: string) {
    super(`${path}: could not be read back: ${reason}`);
    this.path = path;
    this.reason = reason;
  }
}

/** Recovery as the engine starts risk: builtForRecovery with recoverRiskStage. */
export function recoverRisk(
  dir: string,
  config: RiskConfig,
  snapshots: SnapshotStore | null,
  build: (config: RiskConfig) => RiskStage,
): { stage: RiskStage; start: RiskRecoveryStart; built: RiskConfig; recovery: RecoveryResult } {
  return builtForRecovery(dir, config, snapshots, build, (stage, start, built) => ({ stage, start, built, recovery: recoverRiskStage(stage, dir, snapshots, start) }));
}

/**
 * The first half of recoverRiskStage: a restorer over `stage`, restored from the start's snapshot
 * (or the one loaded here, when `start` is null), and the boundary its replay goes on from.
 */
function beginReplay(stage: RiskStage, snapshots: SnapshotStore | null, start: RiskRecoveryStart | null): {
  restorer: RiskRestorer; snapshot: { loaded: LoadedSnapshot; head: RiskSnapshotHead } | null; skipped: string[]; boundary: number;
} {
  const restorer = new RiskRestorer(stage);
  let snapshot = start === null ? null : start.snapshot;
  const skipped = start === null ? [] : [...start.skipped];
  if (start === null && snapshots !== null) {
    // The stage is fresh: the restorer's and its own snapshots are the layout of an empty one.
    const found = loadRiskSnapshot(snapshots, (w) => restorer.snapshot(w));
    skipped.push(...found.skipped);
    snapshot = found.snapshot;
    const why = snapshot === null ? null : headMismatch(snapshot.head, restorer.firstOrderId, stage.children.base);
    if (snapshot !== null && why !== null) {
      skipped.push(`${snapshot.loaded.path}: ${why}`);
      snapshot = null;
    }
  } else if (snapshot !== null && headMismatch(snapshot.head, restorer.firstOrderId, stage.children.base) !== null) {
    throw new Error('Condition failed: the stage is built with recoveredRiskConfig over the start\'s bounds');
  }
  let boundary = 1;
  if (snapshot !== null) {
    try {
      restorer.restore(snapshot.loaded.reader, snapshot.head);
      snapshot.loaded.reader.end();
    } catch (e) {
      if (!(e instanceof SnapshotMismatch)) throw e;
      throw new RiskSnapshotUnreadable(snapshot.loaded.path, e.message);
    }
    boundary = snapshot.loaded.meta.boundary;
  }
  return { restorer, snapshot, skipped, boundary };
}

/**
 * Rebuilds the stage (built with recoveredRiskConfig) from the journal in `dir`, then arms its
 * resume pass. Call before the stage's loop starts; the stage writes nothing until then.
 *
 * With `snapshots`: starts from the newest snapshot that holds, restored into the stage, and
 * replays only the journal after it; `start` is what startRiskRecovery loaded and the stage was
 * built with (without it, the snapshot is loaded here, for a stage built with a whole journal's
 * ranges: scanJournalBounds). Then, the replay at its end, saves the snapshot of this boundary,
 * before the children only an audit names are put back and the resume pass is armed (they
 * follow from the snapshot's state on the next start just as they do here).
 */
export function recoverRiskStage(stage: RiskStage, dir: string, snapshots: SnapshotStore | null = null, start: RiskRecoveryStart | null = null): RecoveryResult {
  const { restorer, snapshot, skipped, boundary } = beginReplay(stage, snapshots, start);
  // The replay's own state at this boot's boundary is saved, before anything below settles what
  // the crash left half done (SnapshotStore.replayAndSave). Not after a replay that stopped early
  // (a damaged journal) before it.
  const replay = replayFrom(snapshots, RISK_SNAPSHOT, restorer, boundary, dir, (w) => restorer.snapshot(w));
  const { saved, error } = replay;
  const auditOnlyChildren = restorer.restoreAuditOnlyChildren();
  stage.restoreEventSeq(restorer.maxEventSeq);
  stage.finishRecovery(restorer.sorConfig);
  const o = stage.orders;
  let orders = 0;
  let openOrders = 0;
  for (let slot = 0; slot < o.capacity; slot++) {
    if (o.orderId[slot] === 0) continue;
    orders++;
    if (!isTerminal(o.state[slot])) openOrders++;
  }
  let liveChildren = 0;
  for (let cs = 0; cs < stage.children.capacity; cs++) if (stage.children.childId[cs] !== 0 && stage.children.live[cs] === 1) liveChildren++;
  return {
    frames: replay.frames,
    nextSequence: replay.nextSequence,
    problem: replay.problem,
    orders,
    openOrders,
    fills: restorer.fills,
    tradeCorrections: restorer.tradeCorrections,
    duplicateReports: restorer.duplicateReports,
    liveChildren,
    auditOnlyChildren,
    limitChanges: restorer.limitChanges,
    modeChanges: restorer.modeChanges,
    conflicts: restorer.conflicts,
    malformedAudits: restorer.auditOnly.malformed,
    lastEventSeq: stage.peekEventSeq(),
    nextOrderId: o.peekNextOrderId(),
    snapshot: { loaded: snapshot === null ? null : snapshot.loaded.path, boundary, saved, skipped, error },
  };
}
