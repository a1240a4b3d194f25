/**
 * Goal: /metrics, scraped while the real engine trades against the venue simulators, carries the
 * series issue 9 asks for with values that agree with what the test did: orders by outcome,
 * reject reasons, ring depths and capacities, backpressure stalls, heartbeat ages, latency
 * histograms recorded by ingest, GC pauses, event-loop delay and heap per thread, FIX venue
 * sessions, the generic stage counters, and prom-client's process metrics.
 * Method: startTestStack with metrics on a free port; a WebSocket trader sends orders that fill,
 * one refused at the edge and one refused by risk; the test scrapes over HTTP and parses the text.
 * Then refusals at every edge (a bad REST body, a bad WebSocket frame, a FIX client's bad
 * messages) must each raise oms_rejects_total for their reason code and edge.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../test-stack.fixture.ts';
import { connect, type Msg, type Trader } from '../ws-client.fixture.ts';
import { RINGS } from '../topology.ts';
import { THREADS as ALL_THREADS } from './metrics-memory.ts';
import { freePort, one, parsePromText, pick, type PromSample } from './prom-text.fixture.ts';
import { FixClient } from '../fix/fix-client.fixture.ts';
import { SendResult } from '../../fix/fix-codes.ts';
import { MsgType } from '../../fix/msg-type.ts';
import { Tag } from '../../fix/tags.ts';
import { ascii } from '../../fix/encoder.ts';

// No sink is configured here: no sinks thread (persistence/pg-sink.e2e.test.ts checks its series).
const THREADS = ALL_THREADS.filter((t) => t !== 'sinks');

let t: TestStack;
let trader: Trader;
let metricsUrl: string;

beforeAll(async () => {
  const port = await freePort();
  // One thread per stage, pinned whatever the default: the per-thread series below are named by stage.
  t = await startTestStack({ metrics: { host: '127.0.0.1', port }, threading: 'dedicated' }, 91);
  expect(t.stack.info.metricsPort).toBe(port);
  metricsUrl = `http://127.0.0.1:${port}/metrics`;
  trader = await connect(`ws://${t.base}/v1/ws?token=demo-key-trader1`);
});

afterAll(async () => {
  trader?.ws.close();
  await t?.cleanup();
});

async function scrape(): Promise<PromSample[]> {
  const res = await fetch(metricsUrl);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return parsePromText(await res.text()).samples;
}

/**
 * Waits (polling) until the scrape satisfies `ok`. The timeout only guards against a hang: a
 * thread's first sample can take long on a loaded machine (the snapshot thread runs under
 * SCHED_IDLE, sinks.schedIdle, and gets a core only when the stages and everything else leave one).
 */
async function scrapeUntil(ok: (s: PromSample[]) => boolean, timeoutMs = 50_000): Promise<PromSample[]> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const s = await scrape();
    if (ok(s) || Date.now() > until) return s;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const FILLS = 8;

describe('/metrics during a run', () => {
  it('reports orders, rejects, latency, rings, threads and sessions with sensible values', async () => {
    // Orders that cross the simulated book (1% through the reference price) and fill.
    for (let i = 0; i < FILLS; i++) {
      trader.send({ type: 'new', clOrdId: `m-${i}`, symbol: 'AAPL', side: 'BUY', qty: 10, price: '179.02', ordType: 'LIMIT', tif: 'DAY' });
    }
    const acks: Msg[] = [];
    for (let i = 0; i < FILLS; i++) acks.push(await trader.next((m) => m.clOrdId === `m-${i}` && m.type === 'ack'));
    for (let i = 0; i < FILLS; i++) await trader.next((m) => m.clOrdId === `m-${i}` && m.status === 'FILLED', 20_000);
    // One refused at the edge (qty 0), one refused by risk (over the account's max order qty).
    trader.send({ type: 'new', clOrdId: 'bad-qty', symbol: 'AAPL', side: 'BUY', qty: 0, price: '1', ordType: 'LIMIT', tif: 'DAY' });
    const edge = await trader.next((m) => m.clOrdId === 'bad-qty' && m.type === 'reject');
    trader.send({ type: 'new', clOrdId: 'too-big', symbol: 'AAPL', side: 'BUY', qty: 5_000_000, price: '1', ordType: 'LIMIT', tif: 'DAY' });
    const risk = await trader.next((m) => m.clOrdId === 'too-big' && m.type === 'reject');
    expect(Math.floor(Number(risk.reason) / 100)).toBe(2); // a 2xx code: refused by risk, not at the edge

    // Session rows refresh on a 250 ms timer (workers/fix/session-status.ts): wait until every
    // venue row shows its numbers past the Logon, not only its state.
    const s = await scrapeUntil((x) => one(x, 'oms_orders_total', { outcome: 'rejected_risk' }) >= 1 && pick(x, 'oms_heap_used_bytes').length === THREADS.length &&
      pick(x, 'oms_fix_session_next_sender_seq_num', { kind: 'venue' }).every((v) => v.value > 1));

    expect(one(s, 'oms_engine_state')).toBe(1);
    // Orders by outcome agree with what was sent.
    expect(one(s, 'oms_orders_total', { outcome: 'received' })).toBe(FILLS + 1);
    expect(one(s, 'oms_orders_total', { outcome: 'accepted' })).toBe(FILLS);
    expect(one(s, 'oms_orders_total', { outcome: 'rejected_risk' })).toBe(1);
    expect(one(s, 'oms_orders_total', { outcome: 'rejected_edge' })).toBe(1);
    expect(one(s, 'oms_orders_total', { outcome: 'busy' })).toBe(0);
    // Reject reasons by code, named as the clients saw them, and where: the WebSocket edge, or
    // the engine (risk) behind it.
    expect(one(s, 'oms_rejects_total', { reason: String(edge.reasonName), edge: 'ws' })).toBe(1);
    expect(one(s, 'oms_rejects_total', { reason: String(edge.reasonName), edge: 'engine' })).toBe(0);
    expect(one(s, 'oms_rejects_total', { reason: String(risk.reasonName), edge: 'engine' })).toBe(1);
    expect(one(s, 'oms_rejects_total', { reason: String(risk.reasonName), edge: 'ws' })).toBe(0);
    expect(pick(s, 'oms_rejects_total', { reason: 'ENGINE_BUSY' }).map((x) => x.labels.edge).sort()).toEqual(['engine', 'fix', 'rest', 'ws']);
    expect(pick(s, 'oms_rejects_total', { reason: 'ENGINE_BUSY' }).every((x) => x.value === 0)).toBe(true);

    // Every ring, with depth within capacity.
    const depths = pick(s, 'oms_ring_depth_bytes');
    expect(depths.map((d) => d.labels.ring).sort()).toEqual(Object.keys(RINGS).sort());
    for (const d of depths) {
      expect(d.value).toBeGreaterThanOrEqual(0);
      expect(d.value).toBeLessThanOrEqual(one(s, 'oms_ring_capacity_bytes', { ring: d.labels.ring }));
      expect(d.labels.producer).toBe(RINGS[d.labels.ring as keyof typeof RINGS][0]);
    }
    for (const stage of ['ingest', 'risk', 'sor', 'fix', 'persistence']) {
      expect(one(s, 'oms_backpressure_stalls_total', { stage })).toBe(0);
      const age = one(s, 'oms_stage_heartbeat_age_seconds', { stage });
      expect(age).toBeGreaterThanOrEqual(0);
      expect(age).toBeLessThan(t.config.watchdogMs / 1000);
    }

    // Latency recorded by ingest: every ack and the risk reject; fills for the filled orders.
    const ackCount = one(s, 'oms_latency_seconds_count', { path: 'ingest_order_to_ack' });
    expect(ackCount).toBe(FILLS + 1);
    expect(one(s, 'oms_latency_seconds_sum', { path: 'ingest_order_to_ack' })).toBeGreaterThan(0);
    const buckets = pick(s, 'oms_latency_seconds_bucket', { path: 'ingest_order_to_ack' });
    for (let i = 1; i < buckets.length; i++) {
      const le = (x: PromSample) => (x.labels.le === '+Inf' ? Infinity : Number(x.labels.le));
      expect(le(buckets[i])).toBeGreaterThan(le(buckets[i - 1]));
      expect(buckets[i].value).toBeGreaterThanOrEqual(buckets[i - 1].value);
    }
    expect(buckets[buckets.length - 1].labels.le).toBe('+Inf');
    expect(buckets[buckets.length - 1].value).toBe(ackCount);
    expect(one(s, 'oms_latency_seconds_count', { path: 'ingest_order_to_fill' })).toBeGreaterThanOrEqual(FILLS);
    // Recorded by risk on every new order it receives, accepted or not.
    expect(one(s, 'oms_latency_seconds_count', { path: 'risk_ingest_to_risk' })).toBe(FILLS + 1);
    // Recorded by sor at each routed order's first decision, and by fix per child sent.
    expect(one(s, 'oms_latency_seconds_count', { path: 'sor_ingest_to_decision' })).toBeGreaterThanOrEqual(FILLS);
    expect(one(s, 'oms_latency_seconds_count', { path: 'fix_decision_to_wire' })).toBeGreaterThanOrEqual(FILLS);
    const ackMean = one(s, 'oms_latency_seconds_sum', { path: 'ingest_order_to_ack' }) / ackCount;
    expect(ackMean).toBeLessThan(10); // seconds: a sanity bound on units, not a latency assertion

    // Per-thread runtime: every thread samples heap; event-loop threads report delay.
    for (const thread of THREADS) {
      expect(one(s, 'oms_heap_used_bytes', { thread })).toBeGreaterThan(100_000);
      expect(pick(s, 'oms_gc_pause_seconds_count', { thread })).toHaveLength(1);
      expect(one(s, 'oms_thread_cpu_seconds_total', { thread })).toBeGreaterThan(0);
      expect(one(s, 'oms_thread_run_queue_seconds_total', { thread })).toBeGreaterThanOrEqual(0);
    }
    // Each thread's own time (sampled before this scrape), not the process's: together they stay
    // within this process's CPU time since it started (the engine runs in it; process.cpuUsage
    // counts every thread, a little slack for the sampling), which six process totals would not.
    const { user, system } = process.cpuUsage();
    const processCpu = (user + system) / 1e6;
    const threadsCpu = THREADS.reduce((sum, thread) => sum + one(s, 'oms_thread_cpu_seconds_total', { thread }), 0);
    expect(threadsCpu).toBeLessThanOrEqual(processCpu * 1.05 + 0.05);
    for (const thread of ['ingest', 'fix', 'persistence', 'main']) {
      const p99 = one(s, 'oms_event_loop_delay_seconds', { thread, quantile: '0.99' });
      expect(p99).toBeGreaterThanOrEqual(0);
      expect(p99).toBeLessThan(60);
      const elu = one(s, 'oms_event_loop_utilization', { thread });
      expect(elu).toBeGreaterThanOrEqual(0);
      expect(elu).toBeLessThanOrEqual(1);
    }
    // Blocking threads turn their loop only between duty cycles: no delay series for them. Nor for
    // the snapshot thread (sampled above with the others), whose steps hold its loop by design.
    expect(pick(s, 'oms_event_loop_delay_seconds', { thread: 'risk' })).toHaveLength(0);
    expect(pick(s, 'oms_event_loop_delay_seconds', { thread: 'snapshots' })).toHaveLength(0);

    // FIX venue sessions, venues, generic counters, process metrics.
    expect(one(s, 'oms_fix_venue_sessions_up')).toBe(t.config.venues.length);
    // FIX session states and sequence numbers: every venue session up, past its Logon.
    const venueSessions = pick(s, 'oms_fix_session_up', { kind: 'venue' });
    expect(venueSessions).toHaveLength(t.config.venues.length);
    for (const v of venueSessions) {
      expect(v.value).toBe(1);
      expect(v.labels.state).toBe('ACTIVE');
      expect(one(s, 'oms_fix_session_next_sender_seq_num', { kind: 'venue', venue: v.labels.venue })).toBeGreaterThan(1);
      expect(one(s, 'oms_fix_session_logons_total', { kind: 'venue', venue: v.labels.venue })).toBeGreaterThanOrEqual(1);
    }
    expect(pick(s, 'oms_fix_session_up', { kind: 'client' })).toHaveLength(t.config.fixAcceptor.sessions.length);
    expect(pick(s, 'oms_venue_info').map((v) => v.labels.venue).sort()).toEqual(t.config.venues.map((v) => v.name).sort());
    expect(one(s, 'oms_stage_counter', { stage: 'persistence', counter: 'RECORDS_JOURNALED' })).toBeGreaterThan(0);
    // journal.preallocate: the boot's segment zero-filled, unless nothing is fdatasynced (fsync none, as here).
    expect(one(s, 'oms_stage_counter', { stage: 'persistence', counter: 'SEGMENTS_PREALLOCATED' })).toBe(t.config.journal.fsync === 'none' ? 0 : 1);
    expect(one(s, 'oms_stage_counter', { stage: 'persistence', counter: 'PREPARATION_FAILURES' })).toBe(0);
    expect(one(s, 'oms_stage_counter', { stage: 'risk', counter: 'ORDERS_RECEIVED' })).toBe(FILLS + 1);
    expect(pick(s, 'process_cpu_seconds_total')).toHaveLength(1);
    expect(pick(s, 'nodejs_eventloop_lag_seconds')).toHaveLength(1);
  }, 120_000);

  it('counts refusals at each edge by reason: a bad REST body, a bad WebSocket frame, bad FIX messages', async () => {
    const rejects = (x: PromSample[], reason: string, edge: string) => one(x, 'oms_rejects_total', { reason, edge });
    const before = await scrape();
    const post = (body: string) => fetch(`http://${t.base}/v1/orders`, { method: 'POST', headers: { authorization: 'Bearer demo-key-trader1', 'content-type': 'application/json' }, body });
    // REST: a body that is not JSON, then an order with quantity 0; both answered 400 before risk.
    const notJson = await post('{"clOrdId": ');
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { reasonName: string }).reasonName).toBe('MALFORMED');
    const zeroQty = await post(JSON.stringify({ clOrdId: 'rest-bad', symbol: 'AAPL', side: 'BUY', qty: 0, price: '1', ordType: 'LIMIT', tif: 'DAY' }));
    expect(zeroQty.status).toBe(400);
    expect(((await zeroQty.json()) as { reasonName: string }).reasonName).toBe('INVALID_QTY');
    // WebSocket: a text frame that is not JSON.
    trader.ws.send('{not json');
    const wsReject = await trader.next((m) => m.type === 'reject' && m.reasonName === 'MALFORMED');
    expect(wsReject.reason).toBe(100);
    // FIX: an unknown symbol (ExecutionReport 150=8 from the gateway's validation), an
    // unparsable OrderQty (session Reject 35=3, 373=6) and a message type clients may not send
    // (BusinessMessageReject 35=j, 380=3).
    const fix = new FixClient(t.stack.info.fixPort, 'CLIENT1', 'OMS');
    try {
      await fix.logon();
      expect(fix.newOrder('fix-bad-sym', 'NOPE', '1', 10, '1.00')).toBe(SendResult.OK);
      const er = await fix.next((m) => m[11] === 'fix-bad-sym' && m[35] === '8');
      expect(er[150]).toBe('8');
      expect(fix.newOrder('fix-bad-qty', 'AAPL', '1', 'abc', '1.00')).toBe(SendResult.OK);
      const sessionReject = await fix.next((m) => m[35] === '3');
      expect(sessionReject[373]).toBe('6');
      // An OrderCancelReject complete by the dictionary (37, 11, 41, 39, 434): well formed, not for clients to send.
      fix.session.beginApp(MsgType.ORDER_CANCEL_REJECT).addAscii(Tag.OrderID, ascii('X')).addAscii(Tag.ClOrdID, ascii('fix-bad-type'))
        .addAscii(Tag.OrigClOrdID, ascii('fix-bad-sym')).addChar(Tag.OrdStatus, 0x38).addChar(Tag.CxlRejResponseTo, 0x31);
      expect(fix.session.sendApp()).toBe(SendResult.OK);
      const businessReject = await fix.next((m) => m[35] === 'j');
      expect(businessReject[380]).toBe('3');
      // Well formed, refused by risk (above the account's maxOrderQty): an engine-side reject
      // of a FIX client's order, counted by the fix thread (its report never passes ingest).
      expect(fix.newOrder('fix-too-big', 'AAPL', '1', 200_000, '1.00')).toBe(SendResult.OK);
      const riskReject = await fix.next((m) => m[11] === 'fix-too-big' && m[35] === '8');
      expect(riskReject[150]).toBe('8');
    } finally {
      await fix.stop();
    }
    const delta = (x: PromSample[], reason: string, edge: string) => rejects(x, reason, edge) - rejects(before, reason, edge);
    const s = await scrapeUntil((x) => delta(x, 'UNKNOWN_MESSAGE_TYPE', 'fix') >= 1);
    expect(delta(s, 'MALFORMED', 'rest')).toBe(1);
    expect(delta(s, 'INVALID_QTY', 'rest')).toBe(1);
    expect(delta(s, 'MALFORMED', 'ws')).toBe(1);
    expect(delta(s, 'UNKNOWN_SYMBOL', 'fix')).toBe(1);
    expect(delta(s, 'INVALID_FIELD', 'fix')).toBe(1); // 35=3 with 373=6 (incorrect data format)
    expect(delta(s, 'UNKNOWN_MESSAGE_TYPE', 'fix')).toBe(1);
    // Only the last FIX order reached risk: one engine-side reject, none at the FIX edge for it.
    const s2 = await scrapeUntil((x) => delta(x, 'MAX_QTY_EXCEEDED', 'engine') >= 1);
    expect(delta(s2, 'MAX_QTY_EXCEEDED', 'engine')).toBe(1);
    expect(delta(s2, 'MAX_QTY_EXCEEDED', 'fix')).toBe(0);
    const engineTotal = (x: PromSample[]) => pick(x, 'oms_rejects_total', { edge: 'engine' }).reduce((a, b) => a + b.value, 0);
    expect(engineTotal(s2)).toBe(engineTotal(before) + 1);
  });

  it('every oms_ series the Grafana dashboard queries exists', async () => {
    const dashboard = readFileSync(new URL('../../deploy/grafana/oms-dashboard.json', import.meta.url), 'utf8');
    const names = new Set([...dashboard.matchAll(/\b(oms_[a-z_]+)/g)].map((m) => m[1]));
    expect(names.size).toBeGreaterThan(15);
    const scraped = new Set((await scrape()).map((x) => x.name));
    expect([...names].filter((n) => !scraped.has(n))).toEqual([]);
  });

  it('answers 404 off /metrics, and counters only grow between scrapes', async () => {
    const base = metricsUrl.replace('/metrics', '');
    expect((await fetch(`${base}/`)).status).toBe(404);
    const before = one(await scrape(), 'oms_orders_total', { outcome: 'received' });
    trader.send({ type: 'new', clOrdId: 'm-late', symbol: 'MSFT', side: 'SELL', qty: 1, price: '999.00', ordType: 'LIMIT', tif: 'DAY' });
    await trader.next((m) => m.clOrdId === 'm-late' && m.type === 'ack');
    const after = await scrapeUntil((x) => one(x, 'oms_orders_total', { outcome: 'received' }) > before);
    expect(one(after, 'oms_orders_total', { outcome: 'received' })).toBe(before + 1);
  });
});
