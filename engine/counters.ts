/**
 * Stage counters in shared memory: written by one stage (plain stores for a single writer),
 * read by the supervisor for health and metrics. Reading costs the hot path nothing. Values are
 * float64, exact to 2^53. A plain read may see a torn value while the writer stores (the memory
 * model allows it): fine for a gauge on a dashboard; a value a decision rests on is written and
 * read with setAtomic/getAtomic.
 */

export const COUNTERS_PER_STAGE = 40;

/** setAtomic's and getAtomic's conversion between a double and its 64 bits (per thread: module state). */
const BITS_F64 = new Float64Array(1);
const BITS_I64 = new BigInt64Array(BITS_F64.buffer);

export class StageCounters {
  readonly values: Float64Array;
  /** The same memory as 64-bit integers, for setAtomic and getAtomic. */
  private readonly words: BigInt64Array;

  constructor(sab: SharedArrayBuffer) {
    if (sab.byteLength !== COUNTERS_PER_STAGE * 8) throw new Error('Condition failed: counters length');
    this.values = new Float64Array(sab);
    this.words = new BigInt64Array(sab);
  }

  static create(): StageCounters {
    return new StageCounters(new SharedArrayBuffer(COUNTERS_PER_STAGE * 8));
  }

  add(id: number, delta: number): void {
    this.values[id] += delta;
  }

  set(id: number, value: number): void {
    this.values[id] = value;
  }

  get(id: number): number {
    return this.values[id];
  }

  /**
   * set as one atomic 64-bit store of the double's bits: a reader that uses getAtomic never sees
   * half of an old value and half of a new one (plain Float64Array accesses to shared memory may
   * tear, by the memory model). For a value a decision rests on (journal.retention's sink
   * cursors), not the hot path's counters: it allocates a BigInt.
   */
  setAtomic(id: number, value: number): void {
    BITS_F64[0] = value;
    Atomics.store(this.words, id, BITS_I64[0]);
  }

  /** The counter by one atomic 64-bit load (a value written by setAtomic, whole). */
  getAtomic(id: number): number {
    BITS_I64[0] = Atomics.load(this.words, id);
    return BITS_F64[0];
  }
}

/** Counter ids shared by every stage. */
export const CommonCounter = {
  /** Duty cycles that did work. */
  WORK_CYCLES: 0,
  /** Times the stage parked. */
  PARKS: 1,
  /** Heartbeat: engine-clock ms of the last duty cycle, for liveness. */
  HEARTBEAT_MS: 2,
  /**
   * Commits of this stage that left their parked consumer asleep because the journal gate held
   * the first record they committed (the gate's publish woke it instead: engine/ring.ts). Risk
   * and the SOR. In a shared thread it also counts commits during the consumer's own last look
   * before parking (harmless: that look takes the records).
   */
  WAKES_LEFT_TO_GATE: 3,
  /**
   * Times this stage, freeing room in a ring it drains, rang the ring's producer, which had found
   * it full and flagged that it waits for room (engine/ring.ts ROOM_WAITING). Slot 31, the last
   * of the original 32, so the stages' own counters kept their numbers (later ones follow it).
   */
  ROOM_WAKES: 31,
} as const;

export const RiskCounter = {
  ORDERS_RECEIVED: 4,
  ORDERS_ACCEPTED: 5,
  ORDERS_REJECTED: 6,
  DUPLICATES: 7,
  CANCELS_RECEIVED: 8,
  REPLACES_RECEIVED: 9,
  FILLS: 10,
  OVERFILLS: 11,
  ILLEGAL_TRANSITIONS: 12,
  UNKNOWN_RECORDS: 13,
  BACKPRESSURE_STALLS: 14,
  CHILD_CANCEL_REJECTS: 15,
  KILL_SWITCH_CHANGES: 16,
  MASS_CANCELS: 17,
  MASS_CANCELS_REFUSED: 18,
  /** Pre-trade rejects by the controls of issue 6 (collar, credit, position, short, duplicate, throttles, restricted). */
  CONTROL_REJECTS: 19,
  LIMIT_CHANGES: 20,
  LIMIT_CHANGES_REFUSED: 21,
  QUOTES: 22,
  QUOTES_REFUSED: 23,
  /** Fills for an order already canceled or expired (or a child already done): booked, reported. */
  LATE_FILLS: 24,
  /** DAY orders expired at the session end. */
  EXPIRED: 25,
  /** POSITION records sent because the mark moved (not after a fill). */
  MARKS: 26,
  /** Orders in the table after the start-up recovery from the journal (workers/risk/recovery.ts). */
  RECOVERED_ORDERS: 27,
  /** Fills booked into positions by that recovery. */
  RECOVERED_FILLS: 28,
  /** Order ids passed over because a live order still held their slot (workers/risk/order-table.ts allocate); never issued. Per boot. */
  ORDER_IDS_SKIPPED: 29,
  /** Children still live here whose slot fix gave a new child (fix had ended them; see RiskStage.onChildSent): ended then. */
  STALE_CHILDREN_ENDED: 30,
  /**
   * Records for the SOR (route requests, child cancels) that venue events led to while the ring
   * to the SOR was full, waiting in risk's queue for room (workers/risk/risk-stage.ts, the ring
   * cycle); read by the clean stop. Set after each commit. After ROOM_WAKES (31).
   */
  SOR_RECORDS_WAITING: 32,
  /** Cycles in which venue events were taken while the ring to the SOR was full (what they led to queued). */
  SOR_QUEUE_CYCLES: 33,
  /**
   * The kill board's generation risk has taken whole (workers/risk/kill-board.ts), set after each
   * commit: the clean stop waits until it equals the board's, so a change an admin was answered
   * 200 for is applied and journaled before the engine stops.
   */
  KILL_BOARD_SEEN: 34,
  /** Venue busts (ExecType H) applied: the fill taken back from its order and position (RiskStage.onTradeCorrection). */
  TRADE_BUSTS: 35,
  /** Venue corrections (ExecType G) applied: the fill rebooked as corrected. */
  TRADE_CORRECTIONS: 36,
  /** Busts and corrections not applied (fill not held, already busted, a correction raising the quantity): for operations to settle with the venue. */
  TRADE_CORRECTIONS_UNAPPLIED: 37,
} as const;

export const SorCounter = {
  ROUTE_REQUESTS: 4,
  CHILDREN: 5,
  /**
   * Decisions that sent no child (their audit's reason says why; a child table too full for any
   * of the decision's children included), and route requests refused for a full plan table (no
   * audit). Every audit counts once here or in DECISIONS_ROUTED.
   */
  UNROUTABLE: 6,
  CANCELS_FORWARDED: 7,
  QUOTES: 8,
  BACKPRESSURE_STALLS: 9,
  /** Version of the routing configuration in force (0: as configured at start). */
  CONFIG_VERSION: 10,
  /** Decisions that sent at least one child (first decisions, re-routes and fallbacks). */
  DECISIONS_ROUTED: 11,
  /** Re-routes of an ended child's rest (venue reject, staged fallback or sweep). */
  REROUTES: 12,
  /** Staged children the SOR canceled to fall back to the next venue. */
  STAGED_FALLBACKS: 13,
  /** ROUTE_AUDIT records written (one per decision). */
  AUDITS: 14,
  /** ROUTE_AUDIT copies for ingest's view dropped on a full ring (the journal has them). */
  AUDITS_DROPPED_INGEST: 15,
  /** Child ids passed over because a live child still held their slot (workers/sor/route-plan.ts claim); never issued. */
  CHILD_IDS_SKIPPED: 16,
  /**
   * Quote sides taken off the book because an IOC child priced to reach them came back with its
   * rest canceled (workers/sor/market-book.ts consume): the venue did not have what it showed.
   */
  QUOTES_CONSUMED: 17,
  /** Children a decision chose that the child table had no free slot for: not sent; the decision's audit names CHILD_TABLE_FULL. */
  CHILD_TABLE_FULL: 18,
} as const;

export const FixCounter = {
  CHILDREN_SENT: 4,
  CHILDREN_REFUSED_VENUE_DOWN: 5,
  EXEC_REPORTS: 6,
  CANCELS_SENT: 7,
  UNKNOWN_EXEC_REPORTS: 8,
  SESSIONS_UP: 9,
  BACKPRESSURE_STALLS: 10,
  CLIENT_REPORTS_UNSERVED: 11,
  /** Fills whose ExecID (17) was already applied (a resend or replay): dropped. */
  DUPLICATE_EXEC_IDS: 12,
  /** Venue sessions reconciled after a (re)logon, and OrderStatusRequests (35=H) sent for it. */
  RECONCILIATIONS: 13,
  STATUS_REQUESTS_SENT: 14,
  /** Fills learnt only from a status answer (CumQty above what reports delivered). */
  RECON_FILLS: 15,
  /** Children found dead at the venue by reconciliation (canceled, expired, rejected, unknown). */
  RECON_CLOSED: 16,
  /**
   * Cancels held: the venue down, or the write refused (back-pressure); written at its next
   * Logon's reconciliation, or once a session that stayed up takes writes (CANCELS_RETRIED).
   */
  CANCELS_DEFERRED: 17,
  /** Venue session logons (each reconnect counts). */
  VENUE_LOGONS: 18,
  /** FIX client sessions logged on now (the acceptor side). */
  CLIENT_SESSIONS_UP: 19,
  /** Times reading from the venues was paused because risk or the SOR lagged (VENUE_INPUT_PAUSE_EVENTS). */
  VENUE_INPUT_PAUSES: 20,
  /**
   * Records waiting in the stage's overflows for room in its rings (to risk, to the SOR; a child
   * event waiting for both counts twice), plus one while venue events written in a socket
   * callback wait for the next duty cycle's commit; exact after each commit. The clean stop
   * waits for 0 (workers/supervisor.ts drain).
   */
  EVENTS_WAITING: 21,
  /** New children refused (REJECTED, CHILD_TABLE_FULL) because their slot still held a live child; never sent. */
  CHILDREN_REFUSED_SLOT_LIVE: 22,
  /**
   * Cancels written again because a status answer (35=H) showed their child still working and not
   * pending cancel: the venue never got the first (a reset Logon, a venue that lost messages).
   */
  CANCELS_RESENT: 23,
  /**
   * Status reports (150=I) without this stage's OrdStatusReqID (790 = "R" + pass): sent for
   * another reason (a resent NewOrderSingle the venue had), or by a venue that does not echo 790,
   * whose lost cancels are then never written again (CANCELS_RESENT).
   */
  STATUS_ANSWERS_UNNAMED: 24,
  /**
   * Held cancels written while their venue's session stayed up, once it took writes again (a
   * write refused by back-pressure), rather than at its next Logon's reconciliation.
   */
  CANCELS_RETRIED: 25,
  // Market data from the venues (workers/fix/market-data.ts), kept at the end of the range.
  /** 35=W snapshots decoded into QUOTE records. */
  MD_SNAPSHOTS: 26,
  /** 35=W refused: unknown symbol or malformed entries. */
  MD_REFUSED: 27,
  /** Quotes not written because the ring to sor / to risk was more than half full. */
  MD_DROPPED_SOR: 28,
  MD_DROPPED_RISK: 29,
  /** 35=W resent as possible duplicates (43=Y): stale, ignored. */
  MD_STALE_IGNORED: 30,
  /**
   * ExecutionReports that bust or correct a fill already booked (150=H Trade Cancel, 150=G Trade
   * Correct): journaled (CHILD_EVENT TRADE_CANCEL, TRADE_CORRECT); risk applies them and counts
   * what it applied and what it could not (RiskCounter TRADE_BUSTS, TRADE_CORRECTIONS,
   * TRADE_CORRECTIONS_UNAPPLIED).
   */
  TRADE_CORRECTIONS: 31,
  /**
   * Status answers whose CumQty shows a fill the reports missed but whose AvgPx cannot price it
   * (negative, too fine to bring within range, or the fill would exceed the child): not booked,
   * the child left open, for operations to settle with the venue.
   */
  RECON_FILLS_UNPRICED: 32,
  /**
   * Cancel requests for a child whose cancel is written and not yet answered: not written a
   * second time (the same ClOrdID would only draw the venue's reject).
   */
  CANCELS_ALREADY_SENT: 33,
  /**
   * Cancels a venue had not answered within its cancelAckTimeoutMs, asked about with a status
   * request (35=H); one still unanswered a period later counts again. Above zero, a venue is
   * slow to answer cancels or lost one: its answer ends the child or gets the cancel written again.
   */
  CANCELS_OVERDUE: 34,
} as const;

export const IngestCounter = {
  CONNECTIONS: 4,
  MESSAGES_IN: 5,
  ORDERS_IN: 6,
  REJECTED_AT_EDGE: 7,
  REPORTS_OUT: 8,
  BUSY_REJECTS: 9,
  DROPPED_SLOW_CLIENT: 10,
  HTTP_REQUESTS: 11,
  RATE_LIMITED: 12,
  AUTH_FAILURES: 13,
  FORBIDDEN: 14,
  FLOOD_DISCONNECTS: 15,
  POSITIONS_OUT: 16,
  INTERNAL_ERRORS: 17,
  DEADMAN_FIRED: 18,
} as const;

export const PersistenceCounter = {
  RECORDS_JOURNALED: 4,
  BYTES_JOURNALED: 5,
  FSYNCS: 6,
  WRITE_BATCHES: 7,
  // Written by the persistence thread (the journal writer):
  /** Sequence number the journal's next record gets (every sink's lag is measured against it). */
  JOURNAL_NEXT_SEQUENCE: 8,
  SEGMENTS_ROTATED: 9,
  /** Bytes of a torn tail cut off when the journal was opened (0 after a clean stop). */
  TORN_BYTES_TRUNCATED: 10,
  // Written by the sinks thread (workers/sinks-thread.ts), one writer per id:
  /** Journal sequence the Postgres sink has committed up to (its cursor). */
  PG_APPLIED_SEQUENCE: 11,
  /** Journal records not yet in Postgres (JOURNAL_NEXT_SEQUENCE - PG_APPLIED_SEQUENCE): the lag. */
  PG_LAG_EVENTS: 12,
  PG_EVENTS_APPLIED: 13,
  PG_BATCHES: 14,
  /** Failed connects or batches (each followed by a backoff and a retry from the journal). */
  PG_FAILURES: 15,
  /** 1 while the Postgres sink is connected. */
  PG_UP: 16,
  /** Records of a type the Postgres sink has no mapping for (skipped). */
  PG_SKIPPED_UNKNOWN: 17,
  KAFKA_APPLIED_SEQUENCE: 18,
  KAFKA_LAG_EVENTS: 19,
  KAFKA_EVENTS_APPLIED: 20,
  KAFKA_BATCHES: 21,
  KAFKA_FAILURES: 22,
  KAFKA_UP: 23,
  KAFKA_SKIPPED_UNKNOWN: 24,
  /** The sequence each sink's durable cursor holds (where it resumes after a restart; the Postgres one may lag PG_APPLIED_SEQUENCE while audits wait): journal.retention's floor. */
  PG_DURABLE_SEQUENCE: 25,
  KAFKA_DURABLE_SEQUENCE: 26,
  // Written by the supervisor's main thread (journal.retention: persistence/retention.ts):
  /** Journal segments taken out of journal.dir (archived or deleted) since start, and their bytes. */
  SEGMENTS_PRUNED: 27,
  BYTES_PRUNED: 28,
  /** The first sequence journal.dir still holds (1 until a segment is pruned). */
  JOURNAL_FIRST_SEQUENCE: 29,
  // Written by the persistence thread (journal.preallocate: persistence/journal.ts):
  /** Segments begun zero-filled (the boot's, and those prepared in time). */
  SEGMENTS_PREALLOCATED: 30,
  /** Rotations that found the next segment not yet prepared (begun appended). */
  SEGMENTS_NOT_PREPARED: 31,
  /** Preparations that failed (ENOSPC, EIO...): their file removed, the next tried once a segment is half full. */
  PREPARATION_FAILURES: 32,
} as const;

/** Names for the supervisor's health output, per stage. */
export const COUNTER_NAMES: Record<string, Record<string, number>> = {
  risk: { ...CommonCounter, ...RiskCounter },
  sor: { ...CommonCounter, ...SorCounter },
  fix: { ...CommonCounter, ...FixCounter },
  ingest: { ...CommonCounter, ...IngestCounter },
  persistence: { ...CommonCounter, ...PersistenceCounter },
};
