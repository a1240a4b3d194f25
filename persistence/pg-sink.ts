/**
 * The Postgres sink: applies journal events to the tables of migrations/ (node-pg-migrate runs
 * them when the sink connects), in journal order, one transaction per batch, with the sink's
 * cursor (sink_cursor) updated in the same transaction: a restart resumes exactly where the last
 * committed batch ended.
 *
 * Batches: every table gets one statement per batch, a multi-row INSERT over unnest() of one
 * array per column (one parameter per column, whatever the row count). Idempotent: rows are
 * keyed by event id (the journal sequence number) with ON CONFLICT DO NOTHING, and the state
 * tables (orders, positions, accounts' trading mode) are upserts guarded by the event id of the
 * row's last change, so replaying a batch, or an older event, changes nothing.
 *
 * The mapping from events to tables is the PG_MAPPING table below; a record type the decoder
 * does not know is skipped and counted (SinkBatch.unknown).
 *
 * route_audit.input_features: the SOR's decisions for the routing, as ROUTE_AUDIT records hold
 * them (codecs/route-audit-json.ts: the same documents as GET /v1/orders/{id}/route), a JSON
 * array in decision order. A route_audit row is one ROUTE_DONE (one route request); its decisions
 * are the ROUTE_AUDIT records from the one whose step is 0 and whose order id and decision time
 * equal the ROUTE_DONE's (same boot), then that order's later steps. Audits reach the journal on
 * the SOR's own ring, usually before their ROUTE_DONE (which goes sor -> fix -> risk), possibly
 * in an earlier batch, rarely after it: the sink keeps each decision group in memory until its
 * ROUTE_DONE is written (a late step updates the row), and the cursor it commits never passes
 * the first audit of a group still waiting for its ROUTE_DONE, so a restart reads that group
 * again (re-applying the events between is idempotent). A group waits at most AUDIT_HOLD_EVENTS
 * journal events, and a group of an earlier boot (its plan died with that boot) is dropped when
 * the next boot's frames arrive. reason_weights are the weights the first decision used.
 * A group counts as matched (its cursor hold released) only once the transaction that wrote its
 * row has committed; a rolled-back batch leaves it waiting, and what it meant to write is owed.
 *
 * Known limit: a ROUTE_DONE committed before its first decision's audit arrived (the rare order)
 * is remembered in memory only (routesWithoutAudit); if the sink restarts before that audit is
 * read, the audit starts a group no ROUTE_DONE will match (the row is behind the cursor), so the
 * row keeps input_features NULL and that group holds the cursor for up to AUDIT_HOLD_EVENTS.
 */

import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { runner as migrate } from 'node-pg-migrate';
import { averagePriceTicks, PRICE_SCALE } from '../engine/fixed-point.ts';
import { RecordType, RouteDoneFlyweight, WEIGHT_SCALE } from '../codecs/records.ts';
import type { JournalCursor } from './journal-reader.ts';
import {
  EventDecoder, type AccountControlEvent, type AuditDoc, type ChildEventEvent, type CommandEvent, type EventNames, type EventOf, type JournalEvent, type MassCancelEvent,
  type PositionEvent, type ReportEvent, type RouteDoneEvent, type SorConfigEvent,
} from './journal-events.ts';
import type { Sink, SinkBatch } from './sink-runner.ts';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations/', import.meta.url));

/** Reference data from the engine configuration, upserted when the sink connects. */
export interface PgReferenceData {
  accounts: { id: number; name: string; role: string; enabled: boolean; maxOrderQty: number; maxOrderNotional: string }[];
  symbols: { id: number; name: string; referencePrice: string }[];
  venues: { id: number; name: string; feeBps: string; latencyUs: number; fillProbability: number }[];
  /** The SOR weights configured at start (route_audit.reason_weights before any admin change). */
  weights: { price: number; latency: number; fillprob: number; fee: number };
}

export interface PgSinkOptions {
  url: string;
  names: EventNames;
  reference: PgReferenceData;
  /** Row in sink_cursor (several engines may share a database under different names). */
  sinkName: string;
  /** Statement timeout, ms: a hung server fails the batch instead of stalling the sink. */
  statementTimeoutMs: number;
  connectTimeoutMs: number;
}

/** Events of one batch, grouped by the table they go to. */
export class PgBatch implements SinkBatch {
  private readonly decoder: EventDecoder;
  frames = 0;
  unknown = 0;
  commands: (CommandEvent | MassCancelEvent)[] = [];
  reports: ReportEvent[] = [];
  /** Latest report per order id in this batch (orders upsert: one row per key per statement). */
  latestByOrder = new Map<number, ReportEvent>();
  firstAtByOrder = new Map<number, number>();
  childEvents: ChildEventEvent[] = [];
  routes: RouteDoneEvent[] = [];
  controls: AccountControlEvent[] = [];
  latestControlByAccount = new Map<number, AccountControlEvent>();
  positions = new Map<string, PositionEvent>();
  sorConfigs: SorConfigEvent[] = [];
  /** The SOR's decisions (ROUTE_AUDIT), decoded to their JSON documents. */
  audits: AuditEntry[] = [];
  /** Per entry of `routes`: the key of its decision group (routeKey). */
  routeKeys: string[] = [];
  /** Events decoded but kept in no table (market data: Kafka only). */
  ignored = 0;
  private readonly routeDone = new RouteDoneFlyweight();

  constructor(names: EventNames) {
    this.decoder = new EventDecoder(names);
  }

  onFrame(typeId: number, sequence: number, epochMs: number, view: DataView, bytes: Uint8Array, offset: number, length: number): void {
    this.frames++;
    if (typeId === RecordType.ROUTE_AUDIT) {
      const a = this.decoder.auditDoc(view, bytes, offset, epochMs);
      this.audits.push({ ...a, seq: sequence, epochMs });
      return;
    }
    const e = this.decoder.decode(typeId, sequence, epochMs, view, bytes, offset, length);
    if (e === null) {
      this.unknown++;
      return;
    }
    (PG_MAPPING[e.type] as (b: PgBatch, e: JournalEvent) => void)(this, e);
    if (typeId === RecordType.ROUTE_DONE) {
      const d = this.routeDone.wrap(view, bytes, offset);
      this.routeKeys.push(routeKey(epochMs, d.orderId(), d.decisionTimeNs()));
    }
  }

  reset(): void {
    this.frames = 0;
    this.unknown = 0;
    this.ignored = 0;
    this.commands = [];
    this.reports = [];
    this.latestByOrder.clear();
    this.firstAtByOrder.clear();
    this.childEvents = [];
    this.routes = [];
    this.controls = [];
    this.latestControlByAccount.clear();
    this.positions.clear();
    this.sorConfigs = [];
    this.audits = [];
    this.routeKeys = [];
  }
}

/** One ROUTE_AUDIT of a batch. */
interface AuditEntry extends AuditDoc {
  seq: number;
  epochMs: number;
}

/** A route request's decisions, waiting for (or matched with) its ROUTE_DONE. */
interface AuditGroup {
  readonly orderKey: string;
  readonly epochMs: number;
  readonly firstSeq: number;
  lastSeq: number;
  readonly docs: Record<string, unknown>[];
  /**
   * Journal sequence of its ROUTE_DONE (the route_audit row), 0 while none was seen. Set only
   * once that row is committed: a match made in a transaction that rolls back does not count.
   */
  routeSeq: number;
  /** Decisions the committed row holds (docs beyond it are written as late features). */
  writtenDocs: number;
}

/** Decision groups are keyed by boot, order and the first decision's time (ROUTE_DONE carries it). */
function routeKey(epochMs: number, orderId: number, decisionNs: number): string {
  return `${epochMs}:${orderId}:${decisionNs}`;
}

/** Journal events a decision group may hold the committed cursor back (bounds a restart's re-read). */
const AUDIT_HOLD_EVENTS = 1_000_000;
/** Journal events a matched group is kept for a late step (audits precede their ROUTE_DONE by far less). */
const AUDIT_KEEP_EVENTS = 50_000;

/** Which table(s) each event type goes to. */
const PG_MAPPING: { [K in JournalEvent['type']]: (b: PgBatch, e: EventOf<K>) => void } = {
  NEW_ORDER: (b, e) => { b.commands.push(e); },
  CANCEL_ORDER: (b, e) => { b.commands.push(e); },
  REPLACE_ORDER: (b, e) => { b.commands.push(e); },
  MASS_CANCEL: (b, e) => { b.commands.push(e); },
  ACCOUNT_CONTROL: (b, e) => {
    b.controls.push(e);
    b.latestControlByAccount.set(e.accountId, e);
  },
  EXEC_REPORT: (b, e) => {
    b.reports.push(e);
    if (e.orderId > 0) {
      b.latestByOrder.set(e.orderId, e);
      if (!b.firstAtByOrder.has(e.orderId)) b.firstAtByOrder.set(e.orderId, e.atMs);
    }
  },
  POSITION: (b, e) => { b.positions.set(`${e.accountId}:${e.symbolId}`, e); },
  ROUTE_DONE: (b, e) => { b.routes.push(e); },
  CHILD_EVENT: (b, e) => { b.childEvents.push(e); },
  SOR_CONFIG: (b, e) => { b.sorConfigs.push(e); },
  QUOTE: (b) => { b.ignored++; },
};

const FILL_TYPES = new Set(['PARTIAL_FILL', 'FILL']);
/** SQL: integer ticks (bigint) to a NUMERIC price; 0 means none. */
const PX = (col: string) => `CASE WHEN ${col} = 0 THEN NULL ELSE ${col}::numeric / ${PRICE_SCALE} END`;
const TS = (col: string) => `to_timestamp(${col} / 1000.0)`;

const SQL = {
  commands: `INSERT INTO order_commands (event_id, command, account_id, order_id, cl_ord_id, orig_cl_ord_id, symbol, side, qty, price, type, tif, source, reason, received_at)
    SELECT id, cmd, acct, NULLIF(oid, 0), cl, orig, sym, side, NULLIF(qty, 0), ${PX('px')}, typ, tif, src, rsn, ${TS('t')}
    FROM unnest($1::bigint[], $2::text[], $3::int[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[], $10::bigint[], $11::text[], $12::text[], $13::text[], $14::text[], $15::float8[])
      AS r(id, cmd, acct, oid, cl, orig, sym, side, qty, px, typ, tif, src, rsn, t)
    ON CONFLICT (event_id) DO NOTHING`,
  controls: `INSERT INTO account_controls (event_id, account_id, admin_account_id, mode, occurred_at)
    SELECT id, acct, adm, mode, ${TS('t')} FROM unnest($1::bigint[], $2::int[], $3::int[], $4::text[], $5::float8[]) AS r(id, acct, adm, mode, t)
    ON CONFLICT (event_id) DO NOTHING`,
  accountModes: `UPDATE accounts a SET trading_mode = r.mode, mode_event_id = r.id, updated_at = ${TS('r.t')}
    FROM unnest($1::bigint[], $2::int[], $3::text[], $4::float8[]) AS r(id, acct, mode, t)
    WHERE a.account_id = r.acct AND a.mode_event_id < r.id`,
  sorConfigs: `INSERT INTO sor_config (event_id, version, admin_account_id, w_price, w_latency, w_fillprob, w_fee, quote_stale_ms, mode, occurred_at)
    SELECT id, v, adm, wp::numeric / ${WEIGHT_SCALE}, wl::numeric / ${WEIGHT_SCALE}, wf::numeric / ${WEIGHT_SCALE}, wc::numeric / ${WEIGHT_SCALE}, st, m, ${TS('t')}
    FROM unnest($1::bigint[], $2::int[], $3::int[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::int[], $9::smallint[], $10::float8[])
      AS r(id, v, adm, wp, wl, wf, wc, st, m, t)
    ON CONFLICT (event_id) DO NOTHING`,
  childEvents: `INSERT INTO child_events (event_id, child_id, order_id, kind, venue_id, venue, qty, price, last_qty, last_px, reason, exec_id, exec_ref_id, occurred_at)
    SELECT id, cid, oid, k, vid, v, q, ${PX('px')}, lq, ${PX('lpx')}, rsn, eid, erid, ${TS('t')}
    FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::int[], $6::text[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::text[], $12::float8[], $13::text[], $14::text[])
      AS r(id, cid, oid, k, vid, v, q, px, lq, lpx, rsn, t, eid, erid)
    ON CONFLICT (event_id) DO NOTHING`,
  // chosen_routes: the children SENT for this order since its previous routing decision.
  // input_features: the decisions' documents ($10: one JSON array, element n - 1 for row n, null
  // when no audit was seen; one JSON text rather than a text[] of them, which pg escapes element
  // by element). reason_weights: the weights of the first decision ($11, the same way), else the latest SOR configuration
  // journaled before the decision, else the configured weights ($9).
  // A row written again (a re-read after a restart, a late decision) gains its decisions.
  routes: `INSERT INTO route_audit (route_id, order_id, routed_qty, child_count, reason, decision_us, input_features, chosen_routes, reason_weights, created_at)
    SELECT r.id, r.oid, r.q, r.cc, r.rsn, r.dus, NULLIF($10::jsonb -> (r.n::int - 1), 'null'::jsonb),
      (SELECT jsonb_agg(jsonb_build_object('child_id', c.child_id, 'venue', c.venue, 'qty', c.qty, 'price', c.price) ORDER BY c.event_id)
         FROM child_events c
        WHERE c.order_id = r.oid AND c.kind = 'SENT' AND c.event_id < r.id
          AND c.event_id > GREATEST(r.prev, COALESCE((SELECT max(a.route_id) FROM route_audit a WHERE a.order_id = r.oid AND a.route_id < r.id), 0))),
      COALESCE(NULLIF($11::jsonb -> (r.n::int - 1), 'null'::jsonb), (SELECT jsonb_build_object('price', s.w_price, 'latency', s.w_latency, 'fillprob', s.w_fillprob, 'fee', s.w_fee)
                  FROM sor_config s WHERE s.event_id < r.id ORDER BY s.event_id DESC LIMIT 1), $9::jsonb),
      ${TS('r.t')}
    FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::int[], $5::text[], $6::bigint[], $7::float8[], $8::bigint[]) WITH ORDINALITY
      AS r(id, oid, q, cc, rsn, dus, t, prev, n)
    ON CONFLICT (route_id) DO UPDATE SET input_features = EXCLUDED.input_features, reason_weights = EXCLUDED.reason_weights
    WHERE EXCLUDED.input_features IS NOT NULL
      AND (route_audit.input_features IS NULL OR jsonb_array_length(route_audit.input_features) < jsonb_array_length(EXCLUDED.input_features))`,
  routeFeatures: `UPDATE route_audit a SET input_features = r.f
    FROM (SELECT u.id, $2::jsonb -> (u.n::int - 1) AS f FROM unnest($1::bigint[]) WITH ORDINALITY AS u(id, n)) r
    WHERE a.route_id = r.id AND (a.input_features IS NULL OR jsonb_array_length(a.input_features) < jsonb_array_length(r.f))`,
  reports: `INSERT INTO order_events (event_id, order_id, event_type, status, account_id, cl_ord_id, orig_cl_ord_id, qty, price, last_qty, last_px, cum_qty, leaves_qty, reason, venue, report_seq, occurred_at, exec_ref_seq)
    SELECT id, oid, et, st, acct, cl, NULLIF(orig, ''), q, ${PX('px')}, lq, ${PX('lpx')}, cq, lv, rsn, v, rs, ${TS('t')}, NULLIF(ref, 0)
    FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::int[], $6::text[], $7::text[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[], $14::text[], $15::text[], $16::bigint[], $17::float8[], $18::bigint[])
      AS r(id, oid, et, st, acct, cl, orig, q, px, lq, lpx, cq, lv, rsn, v, rs, t, ref)
    ON CONFLICT (event_id) DO NOTHING`,
  // A bust or correction marks the fill it takes back: the fill's report is the order's report
  // whose report_seq the bust names (found through order_events' (order_id, event_id) index, in
  // this transaction or an earlier one), its fills row has that report's event_id. Idempotent:
  // a replay sets the same value, and an earlier correction never overwrites a later one (in one
  // batch too: the latest per fill is taken first, as an UPDATE ... FROM matching a row twice
  // would apply either).
  corrections: `UPDATE fills f SET corrected_by = r.id
    FROM (SELECT u.oid, u.ref, max(u.id) AS id FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS u(id, oid, ref) GROUP BY u.oid, u.ref) r
    JOIN order_events e ON e.order_id = r.oid AND e.report_seq = r.ref
    WHERE f.fill_id = e.event_id AND (f.corrected_by IS NULL OR f.corrected_by < r.id)`,
  // venue_exec_id: the ExecID of the venue fill this report books. Risk journals a venue's FILL
  // (a CHILD_EVENT) and then, at once, the order's report of it: the order's last FILL child
  // event before the report is its own (written earlier in this transaction, child_events first,
  // or in an earlier one). NULL for a fill made up by reconciliation, or journaled before the
  // identifiers were (1795478400000_venue-exec-ids).
  fills: `INSERT INTO fills (fill_id, order_id, account_id, symbol, side, venue, executed_qty, price, timestamp, venue_exec_id)
    SELECT id, oid, acct, sym, side, v, q, px::numeric / ${PRICE_SCALE}, ${TS('t')},
      (SELECT c.exec_id FROM child_events c WHERE c.order_id = r.oid AND c.kind = 'FILL' AND c.event_id < r.id ORDER BY c.event_id DESC LIMIT 1)
    FROM unnest($1::bigint[], $2::bigint[], $3::int[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::bigint[], $9::float8[])
      AS r(id, oid, acct, sym, side, v, q, px, t)
    ON CONFLICT (fill_id) DO NOTHING`,
  orders: `INSERT INTO orders (order_id, account_id, cl_ord_id, symbol_id, symbol, side, qty, price, type, tif, status, cum_qty, leaves_qty, avg_px, last_event_id, created_at, last_updated)
    SELECT oid, acct, cl, sid, sym, side, q, ${PX('px')}, typ, tif, st, cq, lv, ${PX('apx')}, id, ${TS('t0')}, ${TS('t')}
    FROM unnest($1::bigint[], $2::int[], $3::text[], $4::int[], $5::text[], $6::text[], $7::bigint[], $8::bigint[], $9::text[], $10::text[], $11::text[], $12::bigint[], $13::bigint[], $14::bigint[], $15::bigint[], $16::float8[], $17::float8[])
      AS r(oid, acct, cl, sid, sym, side, q, px, typ, tif, st, cq, lv, apx, id, t0, t)
    ON CONFLICT (order_id) DO UPDATE SET
      cl_ord_id = EXCLUDED.cl_ord_id, qty = EXCLUDED.qty, price = EXCLUDED.price, status = EXCLUDED.status, cum_qty = EXCLUDED.cum_qty,
      leaves_qty = EXCLUDED.leaves_qty, avg_px = EXCLUDED.avg_px, last_event_id = EXCLUDED.last_event_id, last_updated = EXCLUDED.last_updated
    WHERE orders.last_event_id < EXCLUDED.last_event_id`,
  positions: `INSERT INTO positions (account_id, symbol_id, symbol, qty, cost, realized_pnl, last_event_id, updated_at)
    SELECT acct, sid, sym, q, c::numeric / ${PRICE_SCALE}, rp::numeric / ${PRICE_SCALE}, id, ${TS('t')}
    FROM unnest($1::int[], $2::int[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::float8[]) AS r(acct, sid, sym, q, c, rp, id, t)
    ON CONFLICT (account_id, symbol_id) DO UPDATE SET
      qty = EXCLUDED.qty, cost = EXCLUDED.cost, realized_pnl = EXCLUDED.realized_pnl, last_event_id = EXCLUDED.last_event_id, updated_at = EXCLUDED.updated_at
    WHERE positions.last_event_id < EXCLUDED.last_event_id`,
  cursor: `UPDATE sink_cursor SET segment = $2, byte_offset = $3, next_sequence = $4, updated_at = now() WHERE sink = $1`,
} as const;

const ARRAY_ESCAPE = /[\\"]/g;

/**
 * A column of a batch as a Postgres array literal, for unnest($n::type[]). Given a JS array, pg
 * builds the same literal but quotes and escapes every element, numbers included (its
 * arrayString: two regular-expression replaces per element, most of this sink's CPU outside the
 * decoding). Numbers are the engine's integers (ids, quantities, ticks, epoch ms) and print as
 * they are; strings are quoted, backslash and double quote escaped; null is NULL.
 */
export function arrayLiteral<T>(rows: readonly T[], value: (row: T) => number | string | null): string {
  let out = '{';
  for (let i = 0; i < rows.length; i++) {
    if (i > 0) out += ',';
    const v = value(rows[i]);
    if (v === null) {
      out += 'NULL';
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw new Error(`Condition failed: array element ${v} is a finite number`);
      out += v;
    } else if (typeof v === 'string') {
      out += '"';
      out += v.includes('\\') || v.includes('"') ? v.replace(ARRAY_ESCAPE, '\\$&') : v;
      out += '"';
    } else {
      throw new Error(`Condition failed: array element ${String(v)} is a number, a string or null`);
    }
  }
  return out + '}';
}

export class PgSink implements Sink {
  readonly name = 'postgres';
  readonly batch: PgBatch;
  private readonly opts: PgSinkOptions;
  private client: pg.Client | null;
  /** Decision groups by routeKey, and each order's latest group (steps > 0 join it). */
  private readonly groups = new Map<string, AuditGroup>();
  private readonly openByOrder = new Map<string, AuditGroup>();
  /** Groups of this batch whose row was written before a step of theirs arrived. */
  private readonly lateGroups = new Set<AuditGroup>();
  /** ROUTE_DONEs written before their first decision's audit arrived: routeKey -> route row. */
  private readonly routesWithoutAudit = new Map<string, number>();
  /**
   * Matches made by writeRoutes in the open transaction, applied only after its COMMIT: group ->
   * its ROUTE_DONE's sequence, and ROUTE_DONEs with no group yet (routeKey -> sequence).
   */
  private readonly pendingMatches = new Map<AuditGroup, number>();
  private readonly pendingWithoutAudit = new Map<string, number>();
  private epochMs = 0;
  /** The sequence of the cursor committed in sink_cursor (Sink.durableSequence). */
  durableSequence = 0;

  constructor(options: Partial<PgSinkOptions> & Pick<PgSinkOptions, 'url' | 'names' | 'reference'>) {
    this.opts = { sinkName: 'postgres', statementTimeoutMs: 30_000, connectTimeoutMs: 5_000, ...options };
    this.batch = new PgBatch(this.opts.names);
    this.client = null;
  }

  async open(): Promise<JournalCursor> {
    await this.close();
    const client = new pg.Client({
      connectionString: this.opts.url,
      connectionTimeoutMillis: this.opts.connectTimeoutMs,
      statement_timeout: this.opts.statementTimeoutMs,
      application_name: 'oms-pg-sink',
    });
    // A connection that drops between batches must not crash the thread: the next query fails
    // and the runner reconnects.
    client.on('error', () => {});
    this.client = client;
    await client.connect();
    await migrate({
      dbClient: client, dir: MIGRATIONS_DIR, direction: 'up', migrationsTable: 'pgmigrations', log: () => {}, logger: SILENT,
      checkOrder: true, singleTransaction: true,
    });
    await this.upsertReference(client);
    await client.query(`INSERT INTO sink_cursor (sink, segment, byte_offset, next_sequence) VALUES ($1, 0, 0, 1) ON CONFLICT (sink) DO NOTHING`, [this.opts.sinkName]);
    const row = (await client.query(`SELECT segment, byte_offset, next_sequence FROM sink_cursor WHERE sink = $1`, [this.opts.sinkName])).rows[0];
    this.durableSequence = Number(row.next_sequence);
    return { segment: Number(row.segment), offset: Number(row.byte_offset), sequence: this.durableSequence };
  }

  private async upsertReference(client: pg.Client): Promise<void> {
    const r = this.opts.reference;
    await client.query(
      `INSERT INTO accounts (account_id, name, role, enabled, max_order_qty, max_order_notional)
       SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::bool[], $5::bigint[], $6::numeric[])
       ON CONFLICT (account_id) DO UPDATE SET name = EXCLUDED.name, role = EXCLUDED.role, enabled = EXCLUDED.enabled,
         max_order_qty = EXCLUDED.max_order_qty, max_order_notional = EXCLUDED.max_order_notional`,
      [r.accounts.map((a) => a.id), r.accounts.map((a) => a.name), r.accounts.map((a) => a.role), r.accounts.map((a) => a.enabled),
        r.accounts.map((a) => a.maxOrderQty), r.accounts.map((a) => a.maxOrderNotional)],
    );
    await client.query(
      `INSERT INTO symbols (symbol_id, symbol, reference_price) SELECT * FROM unnest($1::int[], $2::text[], $3::numeric[])
       ON CONFLICT (symbol_id) DO UPDATE SET symbol = EXCLUDED.symbol, reference_price = EXCLUDED.reference_price`,
      [r.symbols.map((s) => s.id), r.symbols.map((s) => s.name), r.symbols.map((s) => s.referencePrice)],
    );
    await client.query(
      `INSERT INTO venues (venue_id, name, fee_bps, latency_us, fill_probability) SELECT * FROM unnest($1::int[], $2::text[], $3::numeric[], $4::float8[], $5::float8[])
       ON CONFLICT (venue_id) DO UPDATE SET name = EXCLUDED.name, fee_bps = EXCLUDED.fee_bps, latency_us = EXCLUDED.latency_us, fill_probability = EXCLUDED.fill_probability`,
      [r.venues.map((v) => v.id), r.venues.map((v) => v.name), r.venues.map((v) => v.feeBps), r.venues.map((v) => v.latencyUs), r.venues.map((v) => v.fillProbability)],
    );
  }

  async apply(after: JournalCursor): Promise<void> {
    const client = this.client;
    if (client === null) throw new Error('postgres sink: not connected');
    const b = this.batch;
    this.foldAudits(b);
    this.pendingMatches.clear();
    this.pendingWithoutAudit.clear();
    await client.query('BEGIN');
    try {
      if (b.controls.length > 0) await this.writeControls(client, b);
      if (b.sorConfigs.length > 0) await this.writeSorConfigs(client, b.sorConfigs);
      if (b.commands.length > 0) await this.writeCommands(client, b.commands);
      if (b.childEvents.length > 0) await this.writeChildEvents(client, b.childEvents);
      if (b.routes.length > 0) await this.writeRoutes(client, b);
      if (this.lateGroups.size > 0) await this.writeLateFeatures(client);
      if (b.reports.length > 0) await this.writeReports(client, b);
      if (b.positions.size > 0) await this.writePositions(client, [...b.positions.values()]);
      const hold = this.holdSequence(after.sequence);
      if (hold < after.sequence) await client.query(SQL.cursor, [this.opts.sinkName, 0, 0, hold]);
      else await client.query(SQL.cursor, [this.opts.sinkName, after.segment, after.offset, after.sequence]);
      await client.query('COMMIT');
      this.durableSequence = hold;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    }
    this.committed();
    this.pruneAudits(after.sequence);
  }

  /**
   * The batch's audits into their decision groups. Idempotent: a batch read again (after a failed
   * apply or a restart from a held cursor) adds nothing a group already has.
   */
  private foldAudits(b: PgBatch): void {
    this.lateGroups.clear();
    for (const a of b.audits) {
      this.enterBoot(a.epochMs);
      const orderKey = `${a.epochMs}:${a.orderId}`;
      if (a.step === 0) {
        const key = routeKey(a.epochMs, a.orderId, a.decisionNs);
        const known = this.groups.get(key);
        if (known !== undefined) {
          // Read again after a rollback: what the rolled-back transaction meant to write is owed.
          if (known.routeSeq > 0 && known.writtenDocs < known.docs.length) this.lateGroups.add(known);
          continue;
        }
        // A ROUTE_DONE committed before this audit arrived (routesWithoutAudit): its row gets the
        // decisions as late features.
        const g: AuditGroup = { orderKey, epochMs: a.epochMs, firstSeq: a.seq, lastSeq: a.seq, docs: [a.doc], routeSeq: this.routesWithoutAudit.get(key) ?? 0, writtenDocs: 0 };
        this.groups.set(key, g);
        this.openByOrder.set(orderKey, g);
        if (g.routeSeq > 0) this.lateGroups.add(g);
        continue;
      }
      // A step > 0 with no group (the sink started after the order's first step) is not kept.
      const g = this.openByOrder.get(orderKey);
      if (g === undefined) continue;
      if (a.seq > g.lastSeq) {
        g.docs.push(a.doc);
        g.lastSeq = a.seq;
      }
      if (g.routeSeq > 0 && g.writtenDocs < g.docs.length) this.lateGroups.add(g);
    }
  }

  /** After a COMMIT: the rows written in it now hold their groups' decisions. */
  private committed(): void {
    for (const [g, seq] of this.pendingMatches) {
      g.routeSeq = seq;
      g.writtenDocs = g.docs.length;
    }
    for (const g of this.lateGroups) g.writtenDocs = g.docs.length;
    for (const [key, seq] of this.pendingWithoutAudit) this.routesWithoutAudit.set(key, seq);
    this.pendingMatches.clear();
    this.pendingWithoutAudit.clear();
    this.lateGroups.clear();
  }

  /** Frames of a newer boot: the plans of the boot before died with it, their groups never end. */
  private enterBoot(epochMs: number): void {
    if (epochMs <= this.epochMs) return;
    this.epochMs = epochMs;
    for (const [key, g] of this.groups) {
      if (g.epochMs === epochMs || g.routeSeq > 0) continue;
      this.groups.delete(key);
      if (this.openByOrder.get(g.orderKey) === g) this.openByOrder.delete(g.orderKey);
    }
  }

  /** The sequence the committed cursor may reach: before the first audit still waiting. */
  private holdSequence(next: number): number {
    let hold = next;
    for (const g of this.groups.values()) {
      // A group matched in this (not yet committed) batch no longer waits.
      if (g.routeSeq === 0 && !this.pendingMatches.has(g) && g.firstSeq < hold && g.firstSeq > next - AUDIT_HOLD_EVENTS) hold = g.firstSeq;
    }
    return hold;
  }

  /** After a commit: matched groups past the late-step window, and waiting ones past the hold. */
  private pruneAudits(next: number): void {
    for (const [key, g] of this.groups) {
      const expired = g.routeSeq > 0 ? g.routeSeq < next - AUDIT_KEEP_EVENTS : g.firstSeq <= next - AUDIT_HOLD_EVENTS;
      if (!expired) continue;
      this.groups.delete(key);
      if (this.openByOrder.get(g.orderKey) === g) this.openByOrder.delete(g.orderKey);
    }
    for (const [key, seq] of this.routesWithoutAudit) if (seq < next - AUDIT_KEEP_EVENTS) this.routesWithoutAudit.delete(key);
  }

  private async writeControls(client: pg.Client, b: PgBatch): Promise<void> {
    const c = b.controls;
    await client.query(SQL.controls, [arrayLiteral(c, (e) => e.seq), arrayLiteral(c, (e) => e.accountId), arrayLiteral(c, (e) => e.adminAccountId), arrayLiteral(c, (e) => e.mode), arrayLiteral(c, (e) => e.atMs)]);
    const latest = [...b.latestControlByAccount.values()].filter((e) => e.accountId !== 0);
    if (latest.length > 0) {
      await client.query(SQL.accountModes, [arrayLiteral(latest, (e) => e.seq), arrayLiteral(latest, (e) => e.accountId), arrayLiteral(latest, (e) => e.mode), arrayLiteral(latest, (e) => e.atMs)]);
    }
  }

  private async writeSorConfigs(client: pg.Client, c: SorConfigEvent[]): Promise<void> {
    await client.query(SQL.sorConfigs, [
      arrayLiteral(c, (e) => e.seq), arrayLiteral(c, (e) => e.version), arrayLiteral(c, (e) => e.adminAccountId), arrayLiteral(c, (e) => e.priceWeight), arrayLiteral(c, (e) => e.latencyWeight),
      arrayLiteral(c, (e) => e.fillprobWeight), arrayLiteral(c, (e) => e.feeWeight), arrayLiteral(c, (e) => e.quoteStaleMs), arrayLiteral(c, (e) => e.mode), arrayLiteral(c, (e) => e.atMs),
    ]);
  }

  private async writeCommands(client: pg.Client, c: (CommandEvent | MassCancelEvent)[]): Promise<void> {
    const cmd = (e: CommandEvent | MassCancelEvent) => e.type === 'MASS_CANCEL' ? null : e;
    await client.query(SQL.commands, [
      arrayLiteral(c, (e) => e.seq), arrayLiteral(c, (e) => e.type), arrayLiteral(c, (e) => e.accountId), arrayLiteral(c, (e) => cmd(e)?.orderId ?? 0),
      arrayLiteral(c, (e) => cmd(e)?.clOrdId ?? null), arrayLiteral(c, (e) => { const x = cmd(e); return x === null || x.origClOrdId === '' ? null : x.origClOrdId; }),
      arrayLiteral(c, (e) => e.symbol), arrayLiteral(c, (e) => cmd(e)?.side ?? null), arrayLiteral(c, (e) => cmd(e)?.qty ?? 0), arrayLiteral(c, (e) => cmd(e)?.priceTicks ?? 0),
      arrayLiteral(c, (e) => cmd(e)?.ordType ?? null), arrayLiteral(c, (e) => cmd(e)?.tif ?? null), arrayLiteral(c, (e) => cmd(e)?.source ?? null),
      arrayLiteral(c, (e) => e.type === 'MASS_CANCEL' ? e.reason : null), arrayLiteral(c, (e) => e.atMs),
    ]);
  }

  private async writeChildEvents(client: pg.Client, c: ChildEventEvent[]): Promise<void> {
    await client.query(SQL.childEvents, [
      arrayLiteral(c, (e) => e.seq), arrayLiteral(c, (e) => e.childId), arrayLiteral(c, (e) => e.orderId), arrayLiteral(c, (e) => e.kind), arrayLiteral(c, (e) => e.venueId), arrayLiteral(c, (e) => e.venue),
      arrayLiteral(c, (e) => e.qty), arrayLiteral(c, (e) => e.priceTicks), arrayLiteral(c, (e) => e.lastQty), arrayLiteral(c, (e) => e.lastPxTicks), arrayLiteral(c, (e) => e.reason), arrayLiteral(c, (e) => e.atMs),
      arrayLiteral(c, (e) => e.execId), arrayLiteral(c, (e) => e.execRefId),
    ]);
  }

  private async writeRoutes(client: pg.Client, b: PgBatch): Promise<void> {
    const c = b.routes;
    const features: (Record<string, unknown>[] | null)[] = [];
    const weights: unknown[] = [];
    for (let i = 0; i < c.length; i++) {
      // Matches take effect after the COMMIT (committed()): a rollback must not leave a group
      // marked as written, or the cursor would pass its first audit before its row exists.
      const g = this.groups.get(b.routeKeys[i]);
      if (g !== undefined) this.pendingMatches.set(g, c[i].seq);
      else this.pendingWithoutAudit.set(b.routeKeys[i], c[i].seq);
      features.push(g === undefined ? null : g.docs);
      weights.push(g === undefined ? null : g.docs[0].weights);
    }
    // Two decisions for one order in one batch (a replace): the later one's children start after
    // the earlier one, which the statement itself cannot see yet.
    const prevInBatch = new Map<number, number>();
    const prev = arrayLiteral(c, (e) => {
      const p = prevInBatch.get(e.orderId) ?? 0;
      prevInBatch.set(e.orderId, e.seq);
      return p;
    });
    const w = this.opts.reference.weights;
    await client.query(SQL.routes, [
      arrayLiteral(c, (e) => e.seq), arrayLiteral(c, (e) => e.orderId), arrayLiteral(c, (e) => e.routedQty), arrayLiteral(c, (e) => e.childCount), arrayLiteral(c, (e) => e.reason),
      arrayLiteral(c, (e) => e.decisionUs), arrayLiteral(c, (e) => e.atMs), prev, JSON.stringify({ price: w.price, latency: w.latency, fillprob: w.fillprob, fee: w.fee }),
      JSON.stringify(features), JSON.stringify(weights),
    ]);
  }

  private async writeLateFeatures(client: pg.Client): Promise<void> {
    const g = [...this.lateGroups];
    await client.query(SQL.routeFeatures, [g.map((x) => x.routeSeq), JSON.stringify(g.map((x) => x.docs))]);
  }

  private async writeReports(client: pg.Client, b: PgBatch): Promise<void> {
    const r = b.reports;
    await client.query(SQL.reports, [
      arrayLiteral(r, (e) => e.seq), arrayLiteral(r, (e) => e.orderId), arrayLiteral(r, (e) => e.execType), arrayLiteral(r, (e) => e.status), arrayLiteral(r, (e) => e.accountId), arrayLiteral(r, (e) => e.clOrdId),
      arrayLiteral(r, (e) => e.origClOrdId), arrayLiteral(r, (e) => e.qty), arrayLiteral(r, (e) => e.priceTicks), arrayLiteral(r, (e) => e.lastQty), arrayLiteral(r, (e) => e.lastPxTicks),
      arrayLiteral(r, (e) => e.cumQty), arrayLiteral(r, (e) => e.leavesQty), arrayLiteral(r, (e) => e.reason), arrayLiteral(r, (e) => e.venue), arrayLiteral(r, (e) => e.eventSeq), arrayLiteral(r, (e) => e.atMs),
      arrayLiteral(r, (e) => e.execRefSeq),
    ]);
    const f = r.filter((e) => FILL_TYPES.has(e.execType) && e.lastQty > 0);
    if (f.length > 0) {
      await client.query(SQL.fills, [
        arrayLiteral(f, (e) => e.seq), arrayLiteral(f, (e) => e.orderId), arrayLiteral(f, (e) => e.accountId), arrayLiteral(f, (e) => e.symbol), arrayLiteral(f, (e) => e.side), arrayLiteral(f, (e) => e.venue),
        arrayLiteral(f, (e) => e.lastQty), arrayLiteral(f, (e) => e.lastPxTicks), arrayLiteral(f, (e) => e.atMs),
      ]);
    }
    // After the fills: a bust in this batch may name a fill in it.
    const x = r.filter((e) => e.execRefSeq > 0);
    if (x.length > 0) {
      await client.query(SQL.corrections, [arrayLiteral(x, (e) => e.seq), arrayLiteral(x, (e) => e.orderId), arrayLiteral(x, (e) => e.execRefSeq)]);
    }
    const o = [...b.latestByOrder.values()];
    if (o.length > 0) {
      await client.query(SQL.orders, [
        arrayLiteral(o, (e) => e.orderId), arrayLiteral(o, (e) => e.accountId), arrayLiteral(o, (e) => e.clOrdId), arrayLiteral(o, (e) => e.symbolId), arrayLiteral(o, (e) => e.symbol), arrayLiteral(o, (e) => e.side),
        arrayLiteral(o, (e) => e.qty), arrayLiteral(o, (e) => e.priceTicks), arrayLiteral(o, (e) => e.ordType), arrayLiteral(o, (e) => e.tif), arrayLiteral(o, (e) => e.status), arrayLiteral(o, (e) => e.cumQty),
        arrayLiteral(o, (e) => e.leavesQty), arrayLiteral(o, (e) => averagePriceTicks(e.cumNotionalTicks, e.cumQty)), arrayLiteral(o, (e) => e.seq),
        arrayLiteral(o, (e) => b.firstAtByOrder.get(e.orderId) ?? e.atMs), arrayLiteral(o, (e) => e.atMs),
      ]);
    }
  }

  private async writePositions(client: pg.Client, p: PositionEvent[]): Promise<void> {
    await client.query(SQL.positions, [
      arrayLiteral(p, (e) => e.accountId), arrayLiteral(p, (e) => e.symbolId), arrayLiteral(p, (e) => e.symbol), arrayLiteral(p, (e) => e.qty), arrayLiteral(p, (e) => e.costTicks),
      arrayLiteral(p, (e) => e.realizedTicks), arrayLiteral(p, (e) => e.seq), arrayLiteral(p, (e) => e.atMs),
    ]);
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = null;
    if (c !== null) await c.end().catch(() => {});
  }
}

const SILENT = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
