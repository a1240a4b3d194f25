/**
 * Goal: the Postgres sink puts every journaled event into the seed's tables, exactly once, and
 * keeps the engine trading through a database outage. Method: a throwaway Postgres 15
 * (scripts/postgres.ts) and the whole engine with venue simulators (startTestStack) with
 * sinks.postgres.url set; orders entered over WebSocket; then the journal itself is read back
 * (replayJournal) and the tables are compared with it row for row. A replay from sequence 1
 * under a second cursor must change nothing. For the outage, Postgres is stopped in the middle
 * of a load and started again: orders keep being acknowledged meanwhile, and afterwards the
 * tables again equal the journal. Every wait polls with a timeout; nothing asserts a time.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { getPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import pg from 'pg';
import { freshDatabase, startPostgres, type PostgresServer } from '../scripts/postgres.ts';
import { ConfigError, DEFAULT_CONFIG, validateConfig } from '../workers/config.ts';
import { startTestStack, type TestStack } from '../workers/test-stack.fixture.ts';
import { connect, type Trader } from '../workers/ws-client.fixture.ts';
import { PersistenceCounter } from '../engine/counters.ts';
import { PRICE_SCALE } from '../engine/fixed-point.ts';
import { SCHED_IDLE, STAT_NICE, STAT_POLICY, statFields, threadPolicy } from '../workers/thread-nice.ts';
import { ChildEventKind, RecordType, RouteAuditFlyweight, RouteDoneFlyweight } from '../codecs/records.ts';
import { BASE_CHILD, Harness } from '../workers/risk/risk-harness.fixture.ts';
import { JournalWriter } from './journal.ts';
import { EventDecoder, type ChildEventEvent, type JournalEvent, type ReportEvent } from './journal-events.ts';
import { JournalReader, replayJournal, startCursor, type JournalCursor } from './journal-reader.ts';
import { arrayLiteral, MIGRATIONS_DIR, PgSink } from './pg-sink.ts';
import { MetricsViews, Runtime } from '../workers/metrics/metrics-memory.ts';
import { createRegistry } from '../workers/metrics/collectors.ts';
import { SinkRunner } from './sink-runner.ts';
import { pgHoldPath, readSinkHold } from './sink-files.ts';

let db: PostgresServer;
let t0: TestStack;
let client: pg.Client;
const KEY1 = 'demo-key-trader1';

beforeAll(async () => {
  db = await startPostgres();
  t0 = await startTestStack({ sinks: { postgres: { url: db.url }, backoffMinMs: 50, backoffMaxMs: 500 }, metrics: { port: 0 } }, 21);
  client = new pg.Client(db.url);
  client.on('error', () => {}); // the outage test stops the server under it
  await client.connect();
}, 120_000);

afterAll(async () => {
  await client?.end().catch(() => {});
  await t0?.cleanup();
  await db?.stop();
}, 60_000);

const counter = (id: number) => t0.stack.engine.counterValues('persistence')[id];

/**
 * Polls cond until it holds. timeoutMs only guards against a hang: the sinks thread runs under
 * SCHED_IDLE (sinks.schedIdle, on by default and kept here), so on a loaded machine it gets a
 * core only when everything else leaves one, and even a few milliseconds of its work can take seconds.
 */
async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 50_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Sends `n` orders (every third resting and then canceled, one over the size limit) and waits for each to settle. */
async function trade(t: Trader, prefix: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const id = `${prefix}-${i}`;
    if (i % 3 === 2) {
      t.send({ type: 'new', clOrdId: id, symbol: 'MSFT', side: 'BUY', qty: 10, price: '300', ordType: 'LIMIT', tif: 'DAY' });
      await t.next((m) => m.clOrdId === id && m.type === 'ack');
      t.send({ type: 'cancel', clOrdId: `${id}-x`, origClOrdId: id });
      await t.next((m) => (m.clOrdId === `${id}-x` || m.clOrdId === id) && m.status === 'CANCELED', 20_000);
    } else if (i === 4) {
      t.send({ type: 'new', clOrdId: id, symbol: 'AAPL', side: 'BUY', qty: 5_000_000, price: '190', ordType: 'LIMIT', tif: 'DAY' });
      await t.next((m) => m.clOrdId === id && (m.status === 'REJECTED' || m.type === 'reject'));
    } else {
      t.send({ type: 'new', clOrdId: id, symbol: 'AAPL', side: i % 2 === 0 ? 'BUY' : 'SELL', qty: 100, price: i % 2 === 0 ? '190' : '160', ordType: 'LIMIT', tif: 'IOC' });
      await t.next((m) => m.clOrdId === id && (m.status === 'FILLED' || m.status === 'CANCELED' || m.status === 'PARTIALLY_FILLED'), 20_000);
    }
  }
}

/** Everything the journal holds, decoded as the sink decodes it. */
function journalEvents(): JournalEvent[] {
  const decoder = new EventDecoder({ symbols: t0.config.symbols.map((s) => s.name), venues: new Map(t0.config.venues.map((v) => [v.id, v.name])) });
  const out: JournalEvent[] = [];
  const r = replayJournal(t0.journalDir, {
    onFrame(typeId, seq, epochMs, view, bytes, offset, length) {
      const e = decoder.decode(typeId, seq, epochMs, view, bytes, offset, length);
      if (e !== null) out.push(e);
    },
  });
  expect(r.problem).toBeNull();
  return out;
}

/**
 * The journal's own answer to "which decisions belong to which route_audit row": per ROUTE_DONE
 * sequence, the order id and child ids of the ROUTE_AUDIT records of its route request (the step 0
 * record with the ROUTE_DONE's order id and decision time, then that order's later steps).
 */
function journalDecisions(): Map<number, { steps: number[]; childIds: number[] }> {
  const audit = new RouteAuditFlyweight();
  const done = new RouteDoneFlyweight();
  const groups = new Map<string, { steps: number[]; childIds: number[] }>();
  const latest = new Map<string, { steps: number[]; childIds: number[] }>();
  const dones: { seq: number; key: string }[] = [];
  replayJournal(t0.journalDir, {
    onFrame(typeId, seq, epochMs, view, bytes, offset) {
      if (typeId === RecordType.ROUTE_DONE) {
        const d = done.wrap(view, bytes, offset);
        dones.push({ seq, key: `${epochMs}:${d.orderId()}:${d.decisionTimeNs()}` });
      } else if (typeId === RecordType.ROUTE_AUDIT) {
        const a = audit.wrap(view, bytes, offset);
        let g = latest.get(`${epochMs}:${a.orderId()}`);
        if (a.step() === 0) {
          g = { steps: [], childIds: [] };
          groups.set(`${epochMs}:${a.orderId()}:${a.decisionTimeNs()}`, g);
          latest.set(`${epochMs}:${a.orderId()}`, g);
        }
        if (g === undefined) return;
        g.steps.push(a.step());
        for (let v = 1; v <= a.venueCount(); v++) if (a.vChildQty(v) > 0) g.childIds.push(a.vChildId(v));
      }
    },
  });
  const out = new Map<number, { steps: number[]; childIds: number[] }>();
  for (const d of dones) out.set(d.seq, groups.get(d.key) ?? { steps: [], childIds: [] });
  return out;
}

/** route_audit.input_features holds each row's decisions (codecs/route-audit-json.ts documents). */
async function expectRouteFeaturesEqualJournal(): Promise<void> {
  const expected = journalDecisions();
  const rows = (await client.query('SELECT route_id, order_id, child_count, input_features, chosen_routes, reason_weights FROM route_audit ORDER BY route_id')).rows;
  expect(rows.length).toBe(expected.size);
  let withFeatures = 0;
  for (const row of rows) {
    const want = expected.get(Number(row.route_id))!;
    const docs = (row.input_features ?? []) as Record<string, any>[];
    expect(docs.map((d) => d.step)).toEqual(want.steps);
    if (docs.length === 0) continue;
    withFeatures++;
    for (const d of docs) {
      expect(d.orderId).toBe(String(row.order_id));
      expect(d.inputFeatures.symbol).toMatch(/^(AAPL|MSFT)$/);
      expect(d.venues).toHaveLength(t0.config.venues.length);
    }
    const chosen = docs.flatMap((d) => (d.chosenRoutes as { childId: number }[]).map((r) => r.childId));
    expect(chosen).toEqual(want.childIds);
    // The children the decisions chose are the children sent for the row (all venues are up).
    expect(((row.chosen_routes ?? []) as { child_id: number }[]).map((c) => Number(c.child_id)).sort()).toEqual([...chosen].sort());
    expect(Number(row.reason_weights.price)).toBeCloseTo(docs[0].weights.price, 6);
  }
  expect(withFeatures).toBeGreaterThan(0);
}

async function count(sql: string): Promise<number> {
  return Number((await client.query(sql)).rows[0].n);
}

/** The tables hold exactly the journal's events: counts, ids, and each order's final state. */
async function expectTablesEqualJournal(): Promise<void> {
  const events = journalEvents();
  const of = <T extends JournalEvent['type']>(...types: T[]) => events.filter((e) => (types as string[]).includes(e.type));
  const reports = of('EXEC_REPORT') as ReportEvent[];
  const fills = reports.filter((r) => (r.execType === 'FILL' || r.execType === 'PARTIAL_FILL') && r.lastQty > 0);
  const orders = new Map<number, ReportEvent>();
  for (const r of reports) if (r.orderId > 0) orders.set(r.orderId, r);
  expect(reports.length).toBeGreaterThan(0);
  expect(fills.length).toBeGreaterThan(0);
  expect(await count('SELECT count(*) AS n FROM order_events')).toBe(reports.length);
  expect(await count('SELECT count(DISTINCT event_id) AS n FROM order_events')).toBe(reports.length);
  expect(await count('SELECT count(*) AS n FROM fills')).toBe(fills.length);
  expect(await count('SELECT count(*) AS n FROM orders')).toBe(orders.size);
  expect(await count('SELECT count(*) AS n FROM order_commands')).toBe(of('NEW_ORDER', 'CANCEL_ORDER', 'REPLACE_ORDER', 'MASS_CANCEL').length);
  expect(await count('SELECT count(*) AS n FROM child_events')).toBe(of('CHILD_EVENT').length);
  expect(await count('SELECT count(*) AS n FROM route_audit')).toBe(of('ROUTE_DONE').length);
  const ids = (await client.query('SELECT event_id FROM order_events ORDER BY event_id')).rows.map((r) => Number(r.event_id));
  expect(ids).toEqual(reports.map((r) => r.seq));
  const rows = (await client.query('SELECT order_id, status, cum_qty, leaves_qty, last_event_id FROM orders')).rows;
  for (const row of rows) {
    const last = orders.get(Number(row.order_id))!;
    expect(row.status).toBe(last.status);
    expect(Number(row.cum_qty)).toBe(last.cumQty);
    expect(Number(row.leaves_qty)).toBe(last.leavesQty);
    expect(Number(row.last_event_id)).toBe(last.seq);
  }
  const filledQty = fills.reduce((s, f) => s + f.lastQty, 0);
  expect(await count('SELECT COALESCE(sum(executed_qty), 0) AS n FROM fills')).toBe(filledQty);
  // The venue's identifiers: each child event's as journaled; each fill's is the ExecID of the
  // venue fill it books (its order's last FILL child event before it in the journal).
  const childEvents = of('CHILD_EVENT') as ChildEventEvent[];
  const childRows = (await client.query('SELECT event_id, exec_id, exec_ref_id FROM child_events ORDER BY event_id')).rows;
  expect(childRows.map((r) => [Number(r.event_id), r.exec_id, r.exec_ref_id])).toEqual(childEvents.map((e) => [e.seq, e.execId, e.execRefId]));
  const lastFillExecId = new Map<number, string | null>();
  const expectedFillIds: [number, string | null][] = [];
  for (const e of events) {
    if (e.type === 'CHILD_EVENT' && e.kind === 'FILL') lastFillExecId.set(e.orderId, e.execId);
    if (e.type === 'EXEC_REPORT' && (e.execType === 'FILL' || e.execType === 'PARTIAL_FILL') && e.lastQty > 0) expectedFillIds.push([e.seq, lastFillExecId.get(e.orderId) ?? null]);
  }
  const fillRows = (await client.query('SELECT fill_id, venue, venue_exec_id, executed_qty, price FROM fills ORDER BY fill_id')).rows;
  expect(fillRows.map((r) => [Number(r.fill_id), r.venue_exec_id])).toEqual(expectedFillIds);
  // The simulators give every fill an ExecID (<venue>-<boot>-E<n>): none is missing here.
  for (const r of fillRows) expect(r.venue_exec_id).toMatch(new RegExp(`^${r.venue}-[0-9a-z]+-E[0-9]+$`));
  // Independently of the rule above: the venue fill a row names is unique at its venue and has
  // the row's quantity and price.
  const venueFills = new Map(childEvents.filter((e) => e.kind === 'FILL' && e.execId !== null).map((e) => [`${e.venue}/${e.execId}`, e]));
  expect(new Set(fillRows.map((r) => `${r.venue}/${r.venue_exec_id}`)).size).toBe(fillRows.length);
  for (const r of fillRows) {
    const v = venueFills.get(`${r.venue}/${r.venue_exec_id}`);
    expect(v, `${r.venue}/${r.venue_exec_id}`).toBeDefined();
    expect([Number(r.executed_qty), Math.round(Number(r.price) * PRICE_SCALE)]).toEqual([v!.lastQty, v!.lastPxTicks]);
  }
}

/**
 * Reconciliation's lookups by the venue's identifiers (a drop copy's or a bust's ExecID) find
 * their rows through the indexes of 1795564800000_exec-id-indexes, not by scanning: with
 * sequential scans priced out, each plan names its index (a missing index, or one whose predicate
 * the lookup does not imply, leaves a Seq Scan); and each fill's ExecID finds that fill and its
 * venue event.
 */
async function expectExecIdLookupsIndexed(): Promise<void> {
  const lookups: [string, string][] = [
    ['SELECT fill_id FROM fills WHERE venue = $1 AND venue_exec_id = $2', 'fills_venue_exec_id_idx'],
    ['SELECT event_id FROM child_events WHERE venue = $1 AND exec_id = $2', 'child_events_exec_id_idx'],
    ['SELECT event_id FROM child_events WHERE venue = $1 AND exec_ref_id = $2', 'child_events_exec_ref_id_idx'],
  ];
  await client.query('BEGIN');
  try {
    await client.query('SET LOCAL enable_seqscan = off');
    for (const [sql, index] of lookups) {
      const plan = (await client.query(`EXPLAIN ${sql.replace('$1', `'V1'`).replace('$2', `'V1-x-E1'`)}`)).rows.map((r) => r['QUERY PLAN']).join('\n');
      expect(plan, sql).toContain(index);
    }
  } finally {
    await client.query('ROLLBACK');
  }
  const fills = (await client.query('SELECT fill_id, venue, venue_exec_id FROM fills ORDER BY fill_id LIMIT 5')).rows;
  expect(fills.length).toBeGreaterThan(0);
  for (const f of fills) {
    expect((await client.query(lookups[0][0], [f.venue, f.venue_exec_id])).rows.map((r) => r.fill_id)).toEqual([f.fill_id]);
    const events = (await client.query(`SELECT kind FROM child_events WHERE venue = $1 AND exec_id = $2`, [f.venue, f.venue_exec_id])).rows;
    expect(events.map((e) => e.kind)).toEqual(['FILL']);
  }
}

/** A PgSink's names and reference data, from the engine under test's configuration. */
function sinkInputs() {
  const names = { symbols: t0.config.symbols.map((s) => s.name), venues: new Map(t0.config.venues.map((v) => [v.id, v.name])) };
  const reference = {
    accounts: t0.config.accounts.map((a) => ({ ...a })), symbols: t0.config.symbols.map((s, i) => ({ id: i, name: s.name, referencePrice: s.referencePrice })),
    venues: t0.config.venues.map((v) => ({ ...v })), weights: t0.config.sor.weights,
  };
  return { names, reference };
}

async function caughtUp(): Promise<void> {
  await until('the Postgres sink to catch up', () =>
    counter(PersistenceCounter.PG_UP) === 1 &&
    counter(PersistenceCounter.PG_APPLIED_SEQUENCE) === counter(PersistenceCounter.JOURNAL_NEXT_SEQUENCE) &&
    counter(PersistenceCounter.PG_LAG_EVENTS) === 0);
}

/** Name, nice value and scheduling policy of every thread of this process (the engine runs in it). */
function threadNices(): { comm: string; nice: number; policy: number }[] {
  return readdirSync('/proc/self/task').flatMap((tid) => {
    try {
      const fields = statFields(`/proc/self/task/${tid}/stat`);
      return [{ comm: readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim(), nice: Number(fields[STAT_NICE]), policy: Number(fields[STAT_POLICY]) }];
    } catch {
      return []; // a thread that ended meanwhile
    }
  });
}

describe('Postgres sink (real Postgres 15, whole engine)', () => {
  it('the sinks thread and the snapshot thread alone run at sinks.nice (10 by default) and under SCHED_IDLE (sinks.schedIdle): not the stages, not libuv\'s shared pool', async () => {
    expect(t0.config.sinks.nice).toBe(10);
    expect(t0.config.sinks.schedIdle).toBe(true);
    await until('the sinks running', () => counter(PersistenceCounter.PG_UP) === 1);
    // Relative to this thread's value: the runner may itself run niced (then nothing is lowered).
    const own = getPriority(0);
    const lowered = (): number[] => threadNices().filter((t) => t.nice !== own).map((t) => t.nice);
    const idle = (): string[] => threadNices().filter((t) => t.policy === SCHED_IDLE).map((t) => t.comm);
    // Each thread lowers itself as it starts (workers/thread-nice.ts): the snapshot thread after the sinks'.
    // Relative to this thread's policy too (a runner already under SCHED_IDLE has nothing to lower).
    const ownPolicy = threadPolicy();
    if (ownPolicy !== SCHED_IDLE) {
      await until('both threads under SCHED_IDLE', () => idle().length >= 2);
      expect(idle().length).toBe(2);
      expect(threadNices().filter((t) => t.policy !== SCHED_IDLE).every((t) => t.policy === ownPolicy)).toBe(true);
    }
    expect(lowered()).toEqual(own < 10 ? [10, 10] : []);
    expect(threadNices().filter((t) => t.comm === 'libuv-worker').length).toBeGreaterThan(0);
    const at = (nice: unknown) => () => validateConfig({ ...DEFAULT_CONFIG, sinks: { ...DEFAULT_CONFIG.sinks, nice } });
    for (const bad of [-1, 20, 2.5, '10', null]) expect(at(bad)).toThrow(ConfigError);
    expect(validateConfig({ ...DEFAULT_CONFIG, sinks: { ...DEFAULT_CONFIG.sinks, nice: 0 } }).sinks.nice).toBe(0);
    const idleAt = (schedIdle: unknown) => () => validateConfig({ ...DEFAULT_CONFIG, sinks: { ...DEFAULT_CONFIG.sinks, schedIdle } });
    for (const bad of [1, 'true', null]) expect(idleAt(bad)).toThrow(ConfigError);
    expect(idleAt(false)().sinks.schedIdle).toBe(false);
  }, 120_000);

  it('the sinks thread reports its own CPU, heap and event-loop figures (thread "sinks" in /metrics)', async () => {
    const views = new MetricsViews(t0.stack.engine.metricsMemory);
    const base = views.runtimeBase('sinks');
    await until('the sinks thread sampled', () => views.sampling('sinks') && views.runtime[base + Runtime.CPU_SECONDS] > 0);
    expect(views.runtime[base + Runtime.HEAP_USED_BYTES]).toBeGreaterThan(100_000);
    expect(views.runtime[base + Runtime.LOOP_UTILIZATION]).toBeGreaterThanOrEqual(0);
    // The registry /metrics serves (metrics.port is 0 here: no server, the same collectors).
    const e = t0.stack.engine;
    const registry = createRegistry({ memory: e.memory, metrics: e.metricsMemory, venues: [], nowMs: () => performance.now() }, false);
    const text = await registry.metrics();
    expect(text).toMatch(/^oms_thread_cpu_seconds_total\{thread="sinks"\} [0-9.e-]+$/m);
    expect(text).toMatch(/^oms_heap_used_bytes\{thread="sinks"\} \d+/m);
  }, 120_000);

  it('arrayLiteral: every text column reaches Postgres as it was (quotes, backslashes, braces, NULL words, any Unicode), integers as integers', async () => {
    const tricky = fc.string({ unit: fc.constantFrom('"', '\\', ',', '{', '}', ' ', '\t', '\n', 'NULL', 'null', "'", 'a', '\u00e9', '\u{1F600}'), maxLength: 12 });
    const text = fc.oneof(tricky, fc.string({ unit: 'grapheme', maxLength: 12 })).filter((x) => !x.includes('\0'));
    await fc.assert(fc.asyncProperty(
      fc.array(fc.option(text, { nil: null }), { maxLength: 20 }),
      fc.array(fc.option(fc.maxSafeInteger(), { nil: null }), { maxLength: 20 }),
      async (texts, ints) => {
        const row = (await client.query('SELECT $1::text[] AS t, $2::bigint[] AS i', [arrayLiteral(texts, (x) => x), arrayLiteral(ints, (x) => x)])).rows[0];
        expect(row.t).toEqual(texts);
        expect(row.i).toEqual(ints.map((n) => (n === null ? null : String(n))));
      },
    ), { numRuns: 200, seed: 7 });
  });

  it('after a run the tables hold every journaled event once, and orders their final state', async () => {
    const t = await connect(`ws://${t0.base}/v1/ws?token=${KEY1}`);
    await trade(t, 'pg-a', 24);
    // An order that takes several price levels: several fills of one order, each its own ExecID.
    t.send({ type: 'new', clOrdId: 'pg-a-sweep', symbol: 'AAPL', side: 'BUY', qty: 1000, price: '190', ordType: 'LIMIT', tif: 'IOC' });
    await t.next((m) => m.clOrdId === 'pg-a-sweep' && (m.status === 'FILLED' || m.status === 'CANCELED'), 20_000);
    t.ws.close();
    await caughtUp();
    await expectTablesEqualJournal();
    const multi = await count(`SELECT count(*) AS n FROM (SELECT order_id FROM fills GROUP BY order_id HAVING count(DISTINCT venue_exec_id) > 1) m`);
    expect(multi).toBeGreaterThan(0);
    await expectExecIdLookupsIndexed();
    expect(await count(`SELECT count(*) AS n FROM pgmigrations`)).toBe(readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql')).length);
    // The decisions' documents are compressed with lz4 where the server has it (Debian's does;
    // elsewhere the migration keeps the default).
    const compression = (await client.query(`SELECT attcompression FROM pg_attribute WHERE attrelid = 'route_audit'::regclass AND attname = 'input_features'`)).rows[0];
    const lz4 = (await client.query(`SELECT 'lz4' = ANY(enumvals) AS ok FROM pg_settings WHERE name = 'default_toast_compression'`)).rows[0].ok;
    expect(compression.attcompression).toBe(lz4 ? 'l' : '');
    expect(await count(`SELECT count(*) AS n FROM accounts`)).toBe(t0.config.accounts.length);
    // Routing decisions name the children sent for them, with the weights in force.
    const route = (await client.query(`SELECT chosen_routes, reason_weights FROM route_audit WHERE child_count > 0 LIMIT 1`)).rows[0];
    expect(Array.isArray(route.chosen_routes)).toBe(true);
    expect(route.chosen_routes.length).toBeGreaterThan(0);
    expect(Number(route.reason_weights.price)).toBeCloseTo(t0.config.sor.weights.price, 6);
    await expectRouteFeaturesEqualJournal();
    const cursor = (await client.query(`SELECT next_sequence FROM sink_cursor WHERE sink = 'postgres'`)).rows[0];
    expect(Number(cursor.next_sequence)).toBe(counter(PersistenceCounter.JOURNAL_NEXT_SEQUENCE)); // no decision left waiting
    // The durable cursor the sinks thread publishes (journal.retention's floor) is the committed one.
    expect(counter(PersistenceCounter.PG_DURABLE_SEQUENCE)).toBe(Number(cursor.next_sequence));
    // Its mirror beside the journal (for a later run that leaves Postgres out) trails it at most: never ahead.
    const hold = readSinkHold(pgHoldPath(t0.journalDir, 'postgres'));
    expect(hold).not.toBeNull();
    expect(hold!).toBeLessThanOrEqual(Number(cursor.next_sequence));
  }, 120_000);

  it('replaying the whole journal again under a second cursor duplicates nothing', async () => {
    const before = await client.query('SELECT (SELECT count(*) FROM order_events) e, (SELECT count(*) FROM fills) f, (SELECT count(*) FROM orders) o, (SELECT count(*) FROM child_events) c, (SELECT count(*) FROM route_audit) r, (SELECT count(*) FROM order_commands) k');
    const ordersBefore = (await client.query('SELECT * FROM orders ORDER BY order_id')).rows;
    const newSink = () => new PgSink({
      url: db.url, sinkName: 'replay',
      names: { symbols: t0.config.symbols.map((s) => s.name), venues: new Map(t0.config.venues.map((v) => [v.id, v.name])) },
      reference: {
        accounts: t0.config.accounts.map((a) => ({ ...a })), symbols: t0.config.symbols.map((s, i) => ({ id: i, name: s.name, referencePrice: s.referencePrice })),
        venues: t0.config.venues.map((v) => ({ ...v })), weights: t0.config.sor.weights,
      },
    });
    // The replay must put every route's decisions back by itself, across batch boundaries and a
    // restart of the sink half way (a new PgSink, resuming from the cursor it committed).
    await client.query('UPDATE route_audit SET input_features = NULL');
    const total = counter(PersistenceCounter.JOURNAL_NEXT_SEQUENCE) - 1;
    const first = new SinkRunner(newSink(), t0.journalDir, { batchFrames: 7 }); // small batches: many transactions
    first.start();
    await until('half the journal replayed', () => first.applied >= total / 2);
    await first.stop();
    const runner = new SinkRunner(newSink(), t0.journalDir, { batchFrames: 7 });
    runner.start();
    expect(await runner.drain(60_000)).toBe(true);
    await runner.stop();
    expect(runner.applied).toBeGreaterThan(0);
    const after = await client.query('SELECT (SELECT count(*) FROM order_events) e, (SELECT count(*) FROM fills) f, (SELECT count(*) FROM orders) o, (SELECT count(*) FROM child_events) c, (SELECT count(*) FROM route_audit) r, (SELECT count(*) FROM order_commands) k');
    expect(after.rows[0]).toEqual(before.rows[0]);
    expect((await client.query('SELECT * FROM orders ORDER BY order_id')).rows).toEqual(ordersBefore);
    const cursor = (await client.query(`SELECT next_sequence FROM sink_cursor WHERE sink = 'replay'`)).rows[0];
    expect(Number(cursor.next_sequence)).toBe(counter(PersistenceCounter.JOURNAL_NEXT_SEQUENCE));
    await expectRouteFeaturesEqualJournal(); // batches of 7 split decisions from their ROUTE_DONE
  }, 120_000);

  it('Postgres stopped in the middle of a load: trading goes on, and the sink catches up with nothing lost or doubled', async () => {
    const t = await connect(`ws://${t0.base}/v1/ws?token=${KEY1}`);
    const load = trade(t, 'pg-b', 30);
    await until('some of the load to be journaled', () => counter(PersistenceCounter.JOURNAL_NEXT_SEQUENCE) > counter(PersistenceCounter.PG_APPLIED_SEQUENCE) + 5 || counter(PersistenceCounter.PG_APPLIED_SEQUENCE) > 0);
    const failuresBefore = counter(PersistenceCounter.PG_FAILURES);
    await db.pause();
    await load; // every order of the load settled while the database was down
    await trade(t, 'pg-c', 9);
    await until('the sink to notice the outage', () => counter(PersistenceCounter.PG_FAILURES) > failuresBefore && counter(PersistenceCounter.PG_UP) === 0);
    await until('lag to show', () => counter(PersistenceCounter.PG_LAG_EVENTS) > 0);
    const sequenceDuringOutage = counter(PersistenceCounter.JOURNAL_NEXT_SEQUENCE);
    await db.resume();
    await client.end().catch(() => {});
    client = new pg.Client(db.url);
    client.on('error', () => {});
    await client.connect();
    await caughtUp();
    expect(counter(PersistenceCounter.PG_APPLIED_SEQUENCE)).toBeGreaterThanOrEqual(sequenceDuringOutage);
    t.ws.close();
    await expectTablesEqualJournal();
    await expectRouteFeaturesEqualJournal();
    expect(await count(`SELECT count(*) AS n FROM order_commands WHERE command = 'NEW_ORDER' AND cl_ord_id LIKE 'pg-c-%'`)).toBe(9);
  }, 180_000);
  it('a batch that matched a route and rolled back does not let a later commit pass the route\'s first decision', async () => {
    // One route request whose decisions and ROUTE_DONE overlap no other's: first audit A, ROUTE_DONE R.
    const audit = new RouteAuditFlyweight();
    const done = new RouteDoneFlyweight();
    const first = new Map<string, number>();
    const spans: [number, number][] = [];
    replayJournal(t0.journalDir, {
      onFrame(typeId, seq, epochMs, view, bytes, offset) {
        if (typeId === RecordType.ROUTE_AUDIT) {
          const a = audit.wrap(view, bytes, offset);
          if (a.step() === 0) first.set(`${epochMs}:${a.orderId()}:${a.decisionTimeNs()}`, seq);
        } else if (typeId === RecordType.ROUTE_DONE) {
          const d = done.wrap(view, bytes, offset);
          const a = first.get(`${epochMs}:${d.orderId()}:${d.decisionTimeNs()}`);
          if (a !== undefined) spans.push([a, seq]);
        }
      },
    });
    const span = spans.find(([a, r]) => a > 1 && r > a + 1 && spans.every(([a2, r2]) => (a2 === a && r2 === r) || r2 < a || a2 > r));
    expect(span).toBeDefined();
    const [A, R] = span!;
    await client.query('UPDATE route_audit SET input_features = NULL WHERE route_id = $1', [R]);
    // The transaction that commits the cursor past R fails once (a real error inside Postgres:
    // a sequence is not rolled back, so the trigger fires exactly once).
    await client.query(`CREATE SEQUENCE rollback_once`);
    await client.query(`CREATE FUNCTION fail_once() RETURNS trigger AS $$ BEGIN
        IF NEW.sink = 'rollback' AND NEW.next_sequence = ${R + 1} AND nextval('rollback_once') = 1 THEN RAISE EXCEPTION 'test: this transaction fails once'; END IF;
        RETURN NEW; END $$ LANGUAGE plpgsql`);
    await client.query(`CREATE TRIGGER fail_once BEFORE UPDATE ON sink_cursor FOR EACH ROW EXECUTE FUNCTION fail_once()`);
    try {
      const { names, reference } = sinkInputs();
      const reader = new JournalReader(t0.journalDir);
      /** One batch of the sink: frames from `from` (a sequence) up to and including `to`. */
      const applyRange = async (sink: PgSink, from: number, to: number): Promise<void> => {
        const cursor: JournalCursor = startCursor(from);
        sink.batch.reset();
        expect(reader.read(cursor, to - from + 1, sink.batch)).toBe(to - from + 1);
        await sink.apply(cursor);
      };
      const committed = async () => Number((await client.query(`SELECT next_sequence FROM sink_cursor WHERE sink = 'rollback'`)).rows[0].next_sequence);
      const sink = new PgSink({ url: db.url, sinkName: 'rollback', names, reference });
      await sink.open();
      await applyRange(sink, 1, A); // A's group waits for its ROUTE_DONE: the cursor is held at A
      expect(await committed()).toBe(A);
      // What the sink says it holds durably (journal.retention keeps the journal from there) is
      // the committed cursor, not the end of what it applied.
      expect(sink.durableSequence).toBe(A);
      await expect(applyRange(sink, A + 1, R)).rejects.toThrow(/fails once/); // matched, then rolled back
      expect(await committed()).toBe(A);
      expect(sink.durableSequence).toBe(A);
      // The runner re-reads from the committed cursor; this time the batch ends before R.
      await applyRange(sink, A, R - 1);
      expect(await committed()).toBe(A); // still waiting: R's row is not committed
      expect(sink.durableSequence).toBe(A);
      await sink.close();
      // A restart of the sink (its memory gone) resumes from the cursor and still finds A.
      const restarted = new PgSink({ url: db.url, sinkName: 'rollback', names, reference });
      const from = (await restarted.open()).sequence;
      expect(restarted.durableSequence).toBe(from);
      await applyRange(restarted, from, R);
      expect(restarted.durableSequence).toBe(await committed());
      expect(restarted.durableSequence).toBeGreaterThan(A);
      await restarted.close();
      const row = (await client.query('SELECT input_features FROM route_audit WHERE route_id = $1', [R])).rows[0];
      expect((row.input_features as { step: number }[] | null)?.[0]?.step).toBe(0);
    } finally {
      await client.query('DROP TRIGGER fail_once ON sink_cursor');
      await client.query('DROP FUNCTION fail_once()');
      await client.query('DROP SEQUENCE rollback_once');
    }
  }, 120_000);

  it('a venue\'s bust and correction reach Postgres: their rows name the fill\'s report (exec_ref_seq), the fills rows are marked corrected_by, and a replay changes nothing', async () => {
    // The risk stage itself (its harness: real rings) writes the journal: a fill of 60 and one of
    // 40, then the venue busts the first and corrects the second to 30 at 9.
    const dir = mkdtempSync(join(tmpdir(), 'oms-pg-busts-'));
    try {
      const h = new Harness();
      const writer = new JournalWriter(dir, 'none', 10, 1 << 20, { engineEpochMs: h.clock.epochMs() });
      const px = 10 * PRICE_SCALE;
      h.newOrder({ clOrdId: 'bust-1', qty: 100, price: px });
      h.step();
      h.sent(BASE_CHILD + 1, 1, 100, px, 1);
      h.routeDone(1, 1, 0, 100);
      h.fill(BASE_CHILD + 1, 1, 60, px, 1, 'VX-1');
      h.fill(BASE_CHILD + 1, 1, 40, px, 1, 'VX-2');
      h.tradeCorrection(ChildEventKind.TRADE_CANCEL, BASE_CHILD + 1, 1, 60, px, 1, 'VB-1', 'VX-1');
      h.tradeCorrection(ChildEventKind.TRADE_CORRECT, BASE_CHILD + 1, 1, 30, 9 * PRICE_SCALE, 1, 'VC-1', 'VX-2');
      h.step();
      for (const { typeId, raw } of h.journal.items) writer.append(typeId, raw, 0, raw.length);
      writer.flush(0);
      writer.close();

      const url = await freshDatabase(db.url, 'trade_corrections');
      const { names, reference } = sinkInputs();
      const run = async (sinkName: string) => {
        const runner = new SinkRunner(new PgSink({ url, sinkName, names, reference }), dir, {});
        runner.start();
        expect(await runner.drain(60_000)).toBe(true);
        await runner.stop();
      };
      await run('busts');
      const c = new pg.Client(url);
      await c.connect();
      try {
        const state = async () => ({
          events: (await c.query(`SELECT event_id, event_type, status, last_qty, last_px::text, cum_qty, report_seq, exec_ref_seq FROM order_events WHERE order_id = 1 ORDER BY event_id`)).rows,
          fills: (await c.query(`SELECT fill_id, executed_qty, price::text, venue_exec_id, corrected_by FROM fills ORDER BY fill_id`)).rows,
          order: (await c.query(`SELECT status, cum_qty, avg_px::text FROM orders WHERE order_id = 1`)).rows,
        });
        const got = await state();
        const ev = got.events;
        const fillRows = ev.filter((e) => e.event_type === 'PARTIAL_FILL' || e.event_type === 'FILL');
        const bust = ev.find((e) => e.event_type === 'TRADE_CANCEL')!;
        const correct = ev.find((e) => e.event_type === 'TRADE_CORRECT')!;
        expect(fillRows.map((e) => Number(e.last_qty))).toEqual([60, 40]);
        expect(Number(bust.exec_ref_seq)).toBe(Number(fillRows[0].report_seq));
        expect(Number(correct.exec_ref_seq)).toBe(Number(fillRows[1].report_seq));
        expect([bust.status, Number(bust.last_qty), Number(bust.cum_qty)]).toEqual(['CANCELED', 60, 40]);
        expect([correct.status, Number(correct.last_qty), correct.last_px, Number(correct.cum_qty)]).toEqual(['CANCELED', 30, '9.000000', 30]);
        expect(ev.filter((e) => e.exec_ref_seq !== null)).toHaveLength(2);
        // The fills rows stay as traded, each marked with what took it back.
        expect(got.fills.map((f) => [Number(f.fill_id), Number(f.executed_qty), f.venue_exec_id, Number(f.corrected_by)])).toEqual([
          [Number(fillRows[0].event_id), 60, 'VX-1', Number(bust.event_id)],
          [Number(fillRows[1].event_id), 40, 'VX-2', Number(correct.event_id)],
        ]);
        expect(got.order).toEqual([{ status: 'CANCELED', cum_qty: '30', avg_px: '9.000000' }]);
        // Replayed from the start under a second cursor: nothing doubled, nothing moved.
        await run('busts_replay');
        expect(await state()).toEqual(got);
      } finally {
        await c.end();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('the ExecID indexes\' migration is not cut by the sink\'s statement timeout (a build over a large table outlasts it)', async () => {
    // A database of its own, migrated, then taken back to before the index migration.
    const url = await freshDatabase(db.url, 'index_build');
    const { names, reference } = sinkInputs();
    const first = new PgSink({ url, names, reference });
    await first.open();
    await first.close();
    const c = new pg.Client(url);
    const blocker = new pg.Client(url);
    await c.connect();
    await blocker.connect();
    try {
      // Migrations after it are taken back first (their Down sections, newest first): the tool
      // refuses to run one that precedes a migration already run.
      const later = readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql') && f > '1795564800000_exec-id-indexes.sql').sort().reverse();
      for (const f of later) {
        const down = readFileSync(join(MIGRATIONS_DIR, f), 'utf8').split('-- Down Migration')[1];
        expect(down, f).toBeDefined();
        await c.query(down);
        await c.query(`DELETE FROM pgmigrations WHERE name = $1`, [f.replace(/\.sql$/, '')]);
      }
      await c.query(`DROP INDEX fills_venue_exec_id_idx, child_events_exec_id_idx, child_events_exec_ref_id_idx`);
      await c.query(`DELETE FROM pgmigrations WHERE name = '1795564800000_exec-id-indexes'`);
      // A writer's open transaction holds child_events: the index build waits for it, as a build
      // over a large table runs, for longer than the sink's statement timeout (300 ms here), by
      // the server's own clock, before the writer lets go.
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE child_events IN ROW EXCLUSIVE MODE');
      const sink = new PgSink({ url, names, reference, statementTimeoutMs: 300 });
      const opened = sink.open().then(() => 'open', (err: Error) => `failed: ${err.message}`);
      let outcome: string | null = null;
      void opened.then((o) => { outcome = o; });
      await until('the index build to have waited past the statement timeout, or to have failed', async () => {
        if (outcome !== null) return true;
        const r = await c.query(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = 'index_build' AND wait_event_type = 'Lock'
          AND query LIKE '%CREATE INDEX%' AND now() - query_start > interval '900 milliseconds'`);
        return Number(r.rows[0].n) > 0;
      });
      await blocker.query('ROLLBACK');
      expect(await opened).toBe('open');
      await sink.close();
      const indexes = (await c.query(`SELECT indexname FROM pg_indexes WHERE indexname LIKE '%exec%id_idx' ORDER BY indexname`)).rows.map((r) => r.indexname);
      expect(indexes).toEqual(['child_events_exec_id_idx', 'child_events_exec_ref_id_idx', 'fills_venue_exec_id_idx']);
    } finally {
      await blocker.query('ROLLBACK').catch(() => {});
      await blocker.end();
      await c.end();
    }
  }, 120_000);
});
