/**
 * Stage counters in shared memory: written by one stage (plain stores, no atomics needed for a
 * single writer), read by the supervisor for health and metrics. Reading costs the hot path
 * nothing. Values are float64, exact to 2^53.
 */

export const COUNTERS_PER_STAGE = 32;

export class StageCounters {
  readonly values: Float64Array;

  constructor(sab: SharedArrayBuffer) {
    if (sab.byteLength !== COUNTERS_PER_STAGE * 8) throw new Error('Condition failed: counters length');
    this.values = new Float64Array(sab);
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
}

/** Counter ids shared by every stage. */
export const CommonCounter = {
  /** Duty cycles that did work. */
  WORK_CYCLES: 0,
  /** Times the stage parked. */
  PARKS: 1,
  /** Heartbeat: engine-clock ms of the last duty cycle, for liveness. */
  HEARTBEAT_MS: 2,
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
} as const;

export const SorCounter = {
  ROUTE_REQUESTS: 4,
  CHILDREN: 5,
  UNROUTABLE: 6,
  CANCELS_FORWARDED: 7,
  QUOTES: 8,
  BACKPRESSURE_STALLS: 9,
  /** Version of the routing configuration in force (0: as configured at start). */
  CONFIG_VERSION: 10,
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
} as const;

/** Names for the supervisor's health output, per stage. */
export const COUNTER_NAMES: Record<string, Record<string, number>> = {
  risk: { ...CommonCounter, ...RiskCounter },
  sor: { ...CommonCounter, ...SorCounter },
  fix: { ...CommonCounter, ...FixCounter },
  ingest: { ...CommonCounter, ...IngestCounter },
  persistence: { ...CommonCounter, ...PersistenceCounter },
};
