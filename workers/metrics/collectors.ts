/**
 * The Prometheus registry of the engine, on the supervisor's main thread. Every series is read
 * from shared memory when /metrics is scraped (prom-client calls each metric's get()): the stage
 * counters (engine/counters.ts), the rings' head and tail words (engine/ring.ts), and the
 * metrics memory (latency and GC histograms, reject reasons, runtime figures). Nothing here runs
 * on a stage's thread, and no stage does anything per scrape.
 *
 * Metric names are stable (docs/CONFIG.md, deploy/grafana/oms-dashboard.json):
 *
 *   oms_engine_state                      gauge   0 starting, 1 running, 2 halted, 3 stopping
 *   oms_orders_total{outcome}             counter received, accepted, rejected_risk, rejected_edge, busy, duplicate
 *   oms_rejects_total{reason,code,edge}   counter refusals by reason code and where: edge ws, rest, fix
 *                                                 (refused at that edge) or engine (risk, routing, venue)
 *   oms_ring_depth_bytes{ring,producer,consumer}, oms_ring_capacity_bytes{ring}
 *   oms_backpressure_stalls_total{stage}  counter a producer found its downstream ring full
 *   oms_stage_heartbeat_age_seconds{stage}
 *   oms_stage_counter{stage,counter}      gauge   every stage counter by its name (new counters appear by themselves)
 *   oms_latency_seconds{path,stage}       histogram  shared-memory histograms (engine/shared-histogram.ts)
 *   oms_gc_pause_seconds{thread}          histogram
 *   oms_event_loop_delay_seconds{thread,quantile}, oms_event_loop_utilization{thread}, oms_heap_used_bytes{thread},
 *   oms_thread_cpu_seconds_total{thread}, oms_thread_run_queue_seconds_total{thread}
 *   oms_fix_venue_sessions_up, oms_venue_info{venue,id}
 *   process_* and nodejs_* (prom-client's default metrics of the process and the main thread)
 */
import { collectDefaultMetrics, Registry } from 'prom-client';
import { COUNTER_NAMES, CommonCounter, FixCounter, IngestCounter, RiskCounter, StageCounters } from '../../engine/counters.ts';
import { Reason } from '../../engine/reasons.ts';
import { BUCKET_COUNT, SUB_BUCKETS, bucketUpperNs, type SharedHistogram } from '../../engine/shared-histogram.ts';
import { Control, RINGS, RingDepths, STAGES, type RingName, type StageName, type TopologyMemory } from '../topology.ts';
import { HISTOGRAM_NAMES, HISTOGRAM_STAGES, MetricsViews, REJECT_EDGE_NAMES, Runtime, THREADS, type MetricsMemory } from './metrics-memory.ts';
import type { EngineConfig } from '../config.ts';
import { readSessionStatus } from '../fix/session-status.ts';

export interface MetricsSource {
  memory: TopologyMemory;
  metrics: MetricsMemory;
  venues: { id: number; name: string }[];
  /** Engine-clock ms now (heartbeats are stamped in engine-clock ms). */
  nowMs: () => number;
  /** FIX session status rows written by the fix thread (workers/fix/session-status.ts). */
  fixSessions?: { sab: SharedArrayBuffer; config: EngineConfig };
}

type Labels = Record<string, string | number>;
interface Sample {
  labels: Labels;
  value: number;
  metricName?: string;
}
type MetricType = 'counter' | 'gauge' | 'histogram';

/** A metric whose samples are read from shared memory at scrape time. */
class SharedMemoryMetric {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  readonly aggregator = 'sum';
  private readonly read: (out: Sample[]) => void;

  constructor(name: string, help: string, type: MetricType, read: (out: Sample[]) => void) {
    this.name = name;
    this.help = help;
    this.type = type;
    this.read = read;
  }

  get(): { name: string; help: string; type: MetricType; aggregator: string; values: Sample[] } {
    const values: Sample[] = [];
    this.read(values);
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {}
}

/** Buckets exposed: two per octave (the in-memory histogram has SUB_BUCKETS per octave). */
const EXPOSED_BUCKETS: number[] = [];
for (let i = 0; i < BUCKET_COUNT - 1; i++) if (i === 0 || (i - 1) % SUB_BUCKETS === SUB_BUCKETS / 2 - 1 || (i - 1) % SUB_BUCKETS === SUB_BUCKETS - 1) EXPOSED_BUCKETS.push(i);
const EXPOSED_LE = EXPOSED_BUCKETS.map((i) => String(bucketUpperNs(i) / 1e9));

function histogramSamples(name: string, h: SharedHistogram, labels: Labels, out: Sample[]): void {
  const s = h.snapshot();
  let cumulative = 0;
  let next = 0;
  for (let i = 0; i < BUCKET_COUNT; i++) {
    cumulative += s.buckets[i];
    if (next < EXPOSED_BUCKETS.length && EXPOSED_BUCKETS[next] === i) {
      out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: EXPOSED_LE[next] }, value: cumulative });
      next++;
    }
  }
  // +Inf and _count come from the same bucket sum, so they always agree.
  out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: cumulative });
  out.push({ metricName: `${name}_sum`, labels, value: s.sumNs / 1e9 });
  out.push({ metricName: `${name}_count`, labels, value: cumulative });
}

/** Builds the registry; `defaults` adds prom-client's process and main-thread metrics. */
export function createRegistry(source: MetricsSource, defaults = true): Registry {
  const registry = new Registry();
  const counters = new Map<StageName, StageCounters>(STAGES.map((s) => [s, new StageCounters(source.memory.counters[s])]));
  const c = (stage: StageName, id: number) => counters.get(stage)!.get(id);
  const views = new MetricsViews(source.metrics);
  const control = new Int32Array(source.memory.control);
  const add = (name: string, help: string, type: MetricType, read: (out: Sample[]) => void) =>
    registry.registerMetric(new SharedMemoryMetric(name, help, type, read) as never);

  add('oms_engine_state', 'Engine state: 0 starting, 1 running, 2 halted (intake refused), 3 stopping', 'gauge', (out) => {
    out.push({ labels: {}, value: Atomics.load(control, Control.ENGINE_STATE) });
  });

  add('oms_orders_total', 'New orders by outcome: received at the edge (ingest), accepted or rejected by risk, refused at the edge, refused busy, duplicates', 'counter', (out) => {
    out.push({ labels: { outcome: 'received' }, value: c('ingest', IngestCounter.ORDERS_IN) });
    out.push({ labels: { outcome: 'accepted' }, value: c('risk', RiskCounter.ORDERS_ACCEPTED) });
    out.push({ labels: { outcome: 'rejected_risk' }, value: c('risk', RiskCounter.ORDERS_REJECTED) });
    out.push({ labels: { outcome: 'rejected_edge' }, value: c('ingest', IngestCounter.REJECTED_AT_EDGE) });
    out.push({ labels: { outcome: 'busy' }, value: c('ingest', IngestCounter.BUSY_REJECTS) });
    out.push({ labels: { outcome: 'duplicate' }, value: c('risk', RiskCounter.DUPLICATES) });
  });

  const reasons = Object.entries(Reason).filter(([, code]) => code > 0);
  add('oms_rejects_total', 'Refusals by reason code (engine/reasons.ts) and edge: ws, rest and fix = input refused at that edge before risk; engine = risk, cancel and venue rejects reported to clients (WebSocket and REST by ingest, FIX by the fix thread)', 'counter', (out) => {
    for (let edge = 0; edge < REJECT_EDGE_NAMES.length; edge++) {
      for (const [name, code] of reasons) out.push({ labels: { reason: name, code, edge: REJECT_EDGE_NAMES[edge] }, value: views.reasonCount(code, edge) });
    }
  });

  const ringNames = Object.keys(RINGS) as RingName[];
  const ringDepths = new RingDepths(source.memory);
  add('oms_ring_depth_bytes', 'Bytes written and not yet consumed in each SPSC ring', 'gauge', (out) => {
    const depths = ringDepths.read();
    for (const ring of ringNames) out.push({ labels: { ring, producer: RINGS[ring][0], consumer: RINGS[ring][1] }, value: depths[ring] });
  });
  add('oms_ring_capacity_bytes', 'Capacity of each SPSC ring', 'gauge', (out) => {
    for (const ring of ringNames) out.push({ labels: { ring }, value: source.memory.rings[ring].capacity });
  });

  add('oms_backpressure_stalls_total', 'Times a stage found its downstream ring full and waited (ingest: orders refused ENGINE_BUSY)', 'counter', (out) => {
    for (const stage of STAGES) {
      const id = stage === 'ingest' ? IngestCounter.BUSY_REJECTS : COUNTER_NAMES[stage].BACKPRESSURE_STALLS;
      out.push({ labels: { stage }, value: id === undefined ? 0 : c(stage, id) });
    }
  });

  add('oms_stage_heartbeat_age_seconds', 'Seconds since each stage last ran a duty cycle (the watchdog halts the engine past watchdogMs)', 'gauge', (out) => {
    const now = source.nowMs();
    for (const stage of STAGES) {
      const beat = c(stage, CommonCounter.HEARTBEAT_MS);
      out.push({ labels: { stage }, value: beat > 0 ? Math.max(0, now - beat) / 1000 : -1 });
    }
  });

  add('oms_stage_counter', 'Every stage counter (engine/counters.ts) by name; counts are monotonic, levels (CONNECTIONS, SESSIONS_UP, CLIENT_SESSIONS_UP, EVENTS_WAITING, HEARTBEAT_MS, CONFIG_VERSION) are not', 'gauge', (out) => {
    for (const stage of STAGES) {
      for (const [counter, id] of Object.entries(COUNTER_NAMES[stage] ?? {})) out.push({ labels: { stage, counter }, value: c(stage, id) });
    }
  });

  add('oms_latency_seconds', 'Latency between points of an order\'s trip, from the shared-memory histograms the stages record into', 'histogram', (out) => {
    for (let id = 0; id < HISTOGRAM_NAMES.length; id++) histogramSamples('oms_latency_seconds', views.histogram(id), { path: HISTOGRAM_NAMES[id], stage: HISTOGRAM_STAGES[id] }, out);
  });

  add('oms_gc_pause_seconds', 'GC pauses per thread (PerformanceObserver; on risk and sor read in the event-loop turns taken between duty cycles)', 'histogram', (out) => {
    // Only threads that run (a stage sharing a thread, or no sinks or snapshot thread, has no series).
    for (const thread of THREADS) {
      if (views.sampling(thread)) histogramSamples('oms_gc_pause_seconds', views.gcHistogram(thread), { thread }, out);
    }
  });

  const runtimeGauge = (field: number, extra: Labels = {}) =>
    (out: Sample[]) => {
      for (const thread of THREADS) {
        if (!views.sampling(thread)) continue;
        const v = views.runtime[views.runtimeBase(thread) + field];
        if (!Number.isNaN(v)) out.push({ labels: { thread, ...extra }, value: v });
      }
    };
  add('oms_event_loop_delay_seconds', 'Event-loop delay per thread over the last second (event-loop threads: ingest, fix, persistence, main, sinks)', 'gauge', (out) => {
    runtimeGauge(Runtime.LOOP_DELAY_P50_S, { quantile: '0.5' })(out);
    runtimeGauge(Runtime.LOOP_DELAY_P99_S, { quantile: '0.99' })(out);
    runtimeGauge(Runtime.LOOP_DELAY_MAX_S, { quantile: '1' })(out);
  });
  add('oms_event_loop_utilization', 'Share of the last second each event-loop thread spent running code (0..1)', 'gauge', runtimeGauge(Runtime.LOOP_UTILIZATION));
  add('oms_heap_used_bytes', 'V8 heap in use per thread (each worker is its own isolate)', 'gauge', runtimeGauge(Runtime.HEAP_USED_BYTES));
  add('oms_thread_cpu_seconds_total', 'On-CPU time of each engine thread since it started (Linux /proc/thread-self/schedstat), sampled every second', 'counter', runtimeGauge(Runtime.CPU_SECONDS));
  add('oms_thread_run_queue_seconds_total', 'Time each engine thread spent runnable but waiting for a core since it started (Linux /proc/thread-self/schedstat), sampled every second: CPU contention, in every latency the thread is on', 'counter', runtimeGauge(Runtime.RUN_QUEUE_SECONDS));

  add('oms_fix_venue_sessions_up', 'Venue FIX sessions logged on', 'gauge', (out) => {
    out.push({ labels: {}, value: c('fix', FixCounter.SESSIONS_UP) });
  });
  add('oms_venue_info', 'Configured venues (value 1), for joining venue ids to names', 'gauge', (out) => {
    for (const v of source.venues) out.push({ labels: { venue: v.name, id: v.id }, value: 1 });
  });

  if (source.fixSessions !== undefined) fixSessionMetrics(source.fixSessions, add);
  if (defaults) collectDefaultMetrics({ register: registry });
  return registry;
}

/** Session fields exposed per FIX session (venue initiators and client acceptor sessions). */
const SESSION_FIELDS: [metric: string, field: string, type: MetricType, help: string][] = [
  ['oms_fix_session_next_sender_seq_num', 'nextSenderSeqNum', 'gauge', 'Next MsgSeqNum (34) this engine will send on the session'],
  ['oms_fix_session_next_target_seq_num', 'nextTargetSeqNum', 'gauge', 'Next MsgSeqNum (34) expected from the counterparty'],
  ['oms_fix_session_logons_total', 'logons', 'counter', 'Logons completed on the session (each reconnect counts)'],
  ['oms_fix_session_disconnects_total', 'disconnects', 'counter', 'Logged-on sessions that disconnected'],
  ['oms_fix_session_resent_total', 'resent', 'counter', 'Messages resent after a ResendRequest (2)'],
  ['oms_fix_session_gap_fills_total', 'gapFills', 'counter', 'SequenceReset-GapFill (4) messages sent'],
  ['oms_fix_session_resend_requests_total', 'resendRequests', 'counter', 'ResendRequests (2) sent on detecting a gap'],
];

/** FIX session states and sequence numbers, from the fix thread's status rows (read at scrape). */
function fixSessionMetrics(fix: { sab: SharedArrayBuffer; config: EngineConfig }, add: (name: string, help: string, type: MetricType, read: (out: Sample[]) => void) => void): void {
  const rows = (): { labels: Labels; row: Record<string, unknown> }[] => {
    const status = readSessionStatus(fix.sab, fix.config);
    if (status === null) return [];
    return [
      ...status.venues.map((row) => ({ labels: { kind: 'venue', session: `${row.senderCompId}->${row.targetCompId}`, venue: String(row.venue) }, row })),
      ...status.clients.map((row) => ({ labels: { kind: 'client', session: `${row.senderCompId}->${row.targetCompId}`, venue: '' }, row })),
    ];
  };
  add('oms_fix_session_up', 'FIX session logged on (state ACTIVE): 1, otherwise 0; the state name is a label', 'gauge', (out) => {
    for (const { labels, row } of rows()) out.push({ labels: { ...labels, state: String(row.state) }, value: row.state === 'ACTIVE' ? 1 : 0 });
  });
  for (const [metric, field, type, help] of SESSION_FIELDS) {
    add(metric, help, type, (out) => {
      for (const { labels, row } of rows()) out.push({ labels, value: Number(row[field]) });
    });
  }
}
