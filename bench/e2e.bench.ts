/**
 * End to end: orders from many WebSocket and FIX 4.4 clients through the whole engine to the
 * venue simulators and back, open loop at fixed rates, and a throughput sweep.
 *
 *   this process                                  engine process (bench/ws-target-host.ts)
 *   +-------------------------------+  WS x N   +---------------------------------------------+
 *   | pacer thread (intended times) | --------> | ingest -> risk -> sor -> fix --35=D--> venue |
 *   | load workers (piscina):       |  FIX x M  |   sims (3 processes, FIX 4.4)                |
 *   |   WS workers, FIX workers     | --------> | fix acceptor -> risk ...                     |
 *   |   HDR: ack, first fill,       | <-------- | acks, fills, cancels back to each client     |
 *   |   canceled (from intended)    |           | shared-memory histograms: ingest -> routing  |
 *   | `hist` over stdin  ---------> |           |   decision, read per trial (snapshot diff)   |
 *   +-------------------------------+           +---------------------------------------------+
 *                                               naive process: postMessage+JSON pipeline (bench/naive/)
 *
 * Workload (bench/lib/e2e-replies.ts), per load worker in turn: a marketable BUY IOC (reference
 * + 2 %, fills at the simulators' asks), a resting BUY GTC at 1.00, a marketable SELL IOC, a
 * resting SELL GTC at 9999.00; each resting order is canceled on the same connection
 * `cancelDelayMs` later on the schedule. Every latency runs from the INTENDED send time of the
 * order (of the cancel, for cancel -> canceled), after a warm-up, into HDR histograms; orders,
 * fills and cancels still unanswered at the drain deadline are counted and recorded at the
 * deadline. Ingest -> routing decision is the engine's own (sor stage, per order, against the
 * ingest receive time carried on the record). CPU%, run-queue wait and RSS of the engine process
 * (venue simulators apart) come from /proc over each measured window, the hypervisor's steal
 * from /proc/stat.
 *
 * Each (rate, target, workload) runs `--trials` times (default 3, interleaved); every figure is
 * the median over its trials (medianRun), the plot merges them.
 *
 * Throughput sweep: rates rise; a rate holds when every order of every trial was acked (none
 * rejected, timed out or unsent), no fill or cancel answer timed out, and the median trial's
 * order -> ack p99 stays within `--bound-us` (default 10,000 us). sustained_orders_per_s is the highest rate below which every
 * rate held. The sweep goes on while p99 stays within the seeds' 250 ms (`--seed-bound-us`), and
 * sustained_orders_per_s_at_seed_bound is the same rule with that bound. The fixed rates (1k, 10k) always run. Baselines in the same run: the seeds'
 * target (1,000 orders/s, p99 < 250 ms), and the naive postMessage+JSON pipeline on the
 * ack-only workload of bench:ws beside the engine on the same workload: its order -> ack, and its
 * ingest -> routing decision from its own stamps (bench/naive/), beside the engine's on both
 * workloads.
 *
 * Run: `npm run bench:e2e` (writes bench/results/e2e.json, e2e-plot.html/.png); flags (defaults)
 * --rates 1000,10000 --sweep 2000,5000,20000,30000,50000 --bound-us 10000 --seed-bound-us 250000 --duration 5
 * --warmup 1 --drain 3 --connections 64 --workers 3 --fix-workers 1 --fix-sessions 8
 * --cancel-delay-ms 20 --trials 3 --threading dedicated|paired|shared (default: the engine's)
 * --ring-bytes N (every ring's size, a power of two; default: the engine's, 4 MiB; small rings
 * put the stages under back-pressure)
 * --target-node-args "--cpu-prof --cpu-prof-dir=DIR" (Node options for both target processes) --out DIR; `--quick` is a
 * smoke run (one trial) that writes only with --out.
 */

import { dirname, join } from 'node:path';
import { DEFAULT_CONFIG, type EngineConfig } from '../workers/config.ts';
import { INVALID, MAX_PRICE_TICKS, PRICE_SCALE, ticksFromDecimalString, ticksToDecimalString } from '../engine/fixed-point.ts';
import { BenchArgs } from './lib/args.ts';
import { encodeHistogram, mergeEncoded, percentilesUs, type PercentilesUs } from './lib/histogram-us.ts';
import { percentileDistribution, writePlot, type PlotSeries } from './lib/hdr-plot.ts';
import { formatMachineInfo, machineInfo, watchCpu } from './lib/machine.ts';
import { isMainModule } from './lib/main.ts';
import { monoNowMs } from './lib/mono-clock.ts';
import { OpenLoopGenerator, type MixedCounts, type OpenLoopCounts } from './lib/open-loop.ts';
import { TargetWindow, medianUsage, type TargetUsage } from './lib/proc-usage.ts';
import { ProgressLine } from './lib/progress.ts';
import { figure, writeResults, type Figure } from './lib/results.ts';
import { formatMicros, medianOf, roundTo } from './lib/stats.ts';
import { printTable } from './lib/table.ts';
import { startTarget, type TargetKind, type TargetProcess } from './lib/target-process.ts';
import { DEFAULT_ORDER } from './lib/ws-order-protocol.ts';
import { windowLatencies, type EngineLatencyUs } from './lib/e2e-engine-latency.ts';
import type { MixedWorkload } from './lib/e2e-replies.ts';
import type { EngineHistograms } from './lib/target-protocol.ts';
import { THREADING_MODES, type ThreadingMode } from '../workers/topology.ts';
import { benchEngineConfig, rateLabel } from './ws.bench.ts';
import { cpuUsPerOrder } from './lib/ws-trials.ts';

export interface E2eConfig {
  /** Fixed rates, always run (figures at 1k and 10k). */
  rates: number[];
  /** Further sweep rates; run in ascending order until one does not hold. */
  sweepRates: number[];
  boundUs: number;
  /** The looser bound the sweep goes on under (the seeds' p99 < 250 ms): a second sustained rate. */
  seedBoundUs: number;
  durationS: number;
  warmupS: number;
  drainS: number;
  /** WebSocket connections (over the WebSocket workers). */
  connections: number;
  /** Load workers in all, FIX workers among them. */
  workers: number;
  fixWorkers: number;
  fixSessionsPerWorker: number;
  cancelDelayMs: number;
  /** Seconds of unrecorded load per target before the first rate. */
  warmupRunS: number;
  /**
   * Trials per (rate, target, workload): each figure is the median over them, and a sweep rate
   * holds by its median (medianRun), so one noisy run cannot move the sustained rate alone.
   */
  trials: number;
  pacerGapUs: number;
  /** The engine's threading mode (workers/topology.ts); null: its default. */
  threading?: ThreadingMode | null;
  /** Every ring's size in bytes (config ringBytes); null: the engine's default. */
  ringBytes?: number | null;
  /** Node options for both target processes (bench/lib/target-process.ts), e.g. a CPU profile per thread; absent: none. */
  targetNodeOptions?: string[];
}

export const FULL_CONFIG: E2eConfig = {
  rates: [1000, 10000], sweepRates: [2000, 5000, 20000, 30000, 50000], boundUs: 10_000, seedBoundUs: 250_000, durationS: 5, warmupS: 1, drainS: 3,
  connections: 64, workers: 3, fixWorkers: 1, fixSessionsPerWorker: 8, cancelDelayMs: 20, warmupRunS: 2, pacerGapUs: 100, trials: 3,
};

export const QUICK_CONFIG: E2eConfig = {
  rates: [200], sweepRates: [400], boundUs: 10_000, seedBoundUs: 250_000, durationS: 1, warmupS: 0.3, drainS: 2,
  connections: 4, workers: 2, fixWorkers: 1, fixSessionsPerWorker: 2, cancelDelayMs: 20, warmupRunS: 0, pacerGapUs: 100, trials: 1,
};

export const NAIVE_BASELINE_OF = 'postMessage+JSON pipeline, same ack-only workload, same run';
/** The baseline of ingest -> routing decision: the naive pipeline's own stamps, on its ack-only runs. */
const NAIVE_ROUTE_BASELINE_OF = 'postMessage+JSON pipeline, ingest -> routing decision (the order parsed and validated on main, as the engine\'s ingest stamps it, to the router thread\'s decision handed on), ack-only workload, same run';
/** The baseline of the engine process's CPU and RSS figures (the engine on the mixed workload). */
const NAIVE_PROCESS_BASELINE_OF = 'naive pipeline process, same rate, ack-only workload, same run';
export const SEED_TARGET = { rate: 1000, p99Ms: 250 } as const;
const SEED_BOUND_SUSTAINED_OF = `the same sweep under the seeds' bound (p99 order->ack <= ${SEED_TARGET.p99Ms} ms; their target: ${SEED_TARGET.rate} orders/s), same run`;
const BENCH_COMP_ID = 'OMS';

export type Workload = 'mixed' | 'ack';

/** One measured run of one target at one rate. */
export interface RunRow {
  rate: number;
  target: TargetKind;
  workload: Workload;
  ackUs: PercentilesUs;
  fillUs: PercentilesUs;
  cancelUs: PercentilesUs;
  sendLagUs: PercentilesUs;
  counts: OpenLoopCounts & MixedCounts;
  rejectReasons: Record<string, number>;
  /** Order -> ack and counts per transport (ws, fix). */
  byTransport: Record<string, { latencyUs: PercentilesUs; counts: OpenLoopCounts & MixedCounts }>;
  /** The target's own histograms over the window (sor_ingest_to_decision, ...; the naive pipeline has that one only). */
  engineUs: Record<string, EngineLatencyUs>;
  usage: TargetUsage;
  /** Every order acked (none rejected, timed out or unsent). */
  allAcked: boolean;
  /** The sweep's test: allAcked, no fill or cancel answer timed out, ack p99 within the bound. */
  held: boolean;
  /** The same test with the seeds' bound (p99 order->ack <= seedBoundUs). */
  heldSeedBound: boolean;
  /** Encoded HDR histograms, for the plot (left out of the JSON); of a median row, the trials' merged. */
  hist: { ack: string; fill: string; cancel: string };
  /** Of a median row (medianRun): each trial's headline figures, in the order they ran. */
  trials?: TrialFigures[];
}

/** What the JSON keeps of each trial behind a median row. */
export interface TrialFigures {
  ackP99Us: number;
  fillP99Us: number;
  cancelP99Us: number;
  routeP99Us: number | null;
  cpuPct: number | null;
  allAcked: boolean;
  held: boolean;
}

export interface E2eReport {
  config: E2eConfig;
  engineConfig: EngineConfig;
  runs: RunRow[];
  sustainedOrdersPerS: number;
  sustainedSeedBoundOrdersPerS: number;
  figures: Record<string, Figure>;
  wallS: number;
}

/** The bench's engine: ws.bench's (edge rate limits far above the load) plus risk throttles and FIX client sessions. */
export function e2eEngineConfig(config: E2eConfig): EngineConfig {
  const top = Math.max(...config.rates, ...config.sweepRates);
  const base = benchEngineConfig(DEFAULT_CONFIG, top, config.threading ?? null);
  const headroom = Math.min(10_000_000, Math.max(100_000, top * 10));
  // The throttles still run on every order; they just never refuse the offered load.
  const accounts = base.accounts.map((a) => ({ ...a, ordersPerS: headroom, orderBurst: headroom, msgsPerS: headroom, msgBurst: headroom }));
  const fixSessions = config.fixWorkers * config.fixSessionsPerWorker;
  const sessions = Array.from({ length: fixSessions }, (_, i) => ({
    senderCompId: fixCompId(i), targetCompId: BENCH_COMP_ID, accountId: accounts[i % 2].id, heartBtIntS: 30, resetOnLogon: true,
  }));
  return {
    ...base,
    ...(config.ringBytes != null ? { ringBytes: config.ringBytes } : {}),
    accounts,
    fixAcceptor: { ...base.fixAcceptor, sessions },
    // Resting orders are GTC and canceled; DAY orders never appear, but a run across the close stays alike.
    session: { ...base.session, expireDayOrders: false },
  } as EngineConfig;
}

function fixCompId(i: number): string {
  return `BENCH${String(i + 1).padStart(3, '0')}`;
}

/** One cent in price ticks: the marketable prices are whole cents. */
const CENT_TICKS = PRICE_SCALE / 100;

/** ref * pct / 100 in integer ticks, to the nearest cent (halves up). */
function centsThrough(refTicks: number, pct: number): number {
  return Math.floor((refTicks * pct + 50 * CENT_TICKS) / (100 * CENT_TICKS)) * CENT_TICKS;
}

/** Marketable prices 2 % through each symbol's reference: the simulators quote around it. */
export function mixedWorkload(engineConfig: EngineConfig, config: E2eConfig, rate: number): MixedWorkload {
  const ref = (s: { name: string; referencePrice: string }): number => {
    const ticks = ticksFromDecimalString(s.referencePrice, MAX_PRICE_TICKS);
    if (ticks === INVALID) throw new Error(`Condition failed: symbol ${s.name} has a decimal reference price`);
    return ticks;
  };
  return {
    symbols: engineConfig.symbols.map((s) => ({ name: s.name, buyPrice: ticksToDecimalString(centsThrough(ref(s), 102)), sellPrice: ticksToDecimalString(centsThrough(ref(s), 98)) })),
    qty: 1,
    farBuyPrice: DEFAULT_ORDER.buyPrice,
    farSellPrice: DEFAULT_ORDER.sellPrice,
    cancelAfter: Math.max(1, Math.round((config.cancelDelayMs * rate) / 1000 / config.workers)),
  };
}

interface RunContext {
  gen: OpenLoopGenerator;
  engineConfig: EngineConfig;
  config: E2eConfig;
  tokens: string[];
  progress: ProgressLine;
}

/** The sweep's test of a run (or of a rate's trials together): every order acked, no fill or cancel answer timed out, ack p99 within the bound. */
function holds(allAcked: boolean, c: MixedCounts, ackP99Us: number, boundUs: number): boolean {
  return allAcked && c.fillTimedOut === 0 && c.cancelTimedOut === 0 && ackP99Us <= boundUs;
}

async function runOne(ctx: RunContext, target: TargetProcess, rate: number, workload: Workload, label: string, timing: { durationS: number; warmupS: number }): Promise<RunRow> {
  const { config, engineConfig } = ctx;
  const window = new TargetWindow(target.pid, Object.values(target.helperPids));
  let before: Promise<EngineHistograms | null> = Promise.resolve(null);
  const fix = workload === 'mixed' && config.fixWorkers > 0 && target.fixPort !== undefined
    ? { port: target.fixPort, targetCompId: BENCH_COMP_ID, compIds: engineConfig.fixAcceptor.sessions.map((s) => s.senderCompId), workers: config.fixWorkers, sessionsPerWorker: config.fixSessionsPerWorker }
    : undefined;
  const result = await ctx.gen.run({
    url: `ws://127.0.0.1:${target.port}/v1/ws`,
    tokens: ctx.tokens,
    rate,
    durationMs: timing.durationS * 1000,
    warmupMs: timing.warmupS * 1000,
    drainMs: config.drainS * 1000,
    connections: config.connections,
    order: DEFAULT_ORDER,
    workload: workload === 'mixed' ? mixedWorkload(engineConfig, config, rate) : undefined,
    fix,
    pacerGapMs: config.pacerGapUs / 1000,
    onWindow: {
      start: () => {
        window.start();
        // Handled here: a snapshot that fails (engine gone, no answer in time) leaves the window's engine figures out.
        before = target.histograms().catch(() => null);
      },
      end: () => window.end(),
    },
    onProgress: (p) => {
      window.sample();
      ctx.progress.openLoop(label, p);
    },
  });
  const usage = window.end();
  const engineUs = windowLatencies(await before, await target.histograms());
  const c = { ...result.counts, ...result.mixedCounts };
  const allAcked = c.acked === c.orders;
  const ackUs = result.latencyUs;
  const row: RunRow = {
    rate, target: target.kind, workload, ackUs,
    fillUs: percentilesUs(result.fillHistogram), cancelUs: percentilesUs(result.cancelHistogram), sendLagUs: result.sendLagUs,
    counts: c, rejectReasons: result.rejectReasons,
    byTransport: Object.fromEntries(Object.entries(result.byTransport).map(([k, v]) => [k, { latencyUs: v.latencyUs, counts: v.counts }])),
    engineUs, usage, allAcked,
    held: holds(allAcked, c, ackUs.p99, config.boundUs),
    heldSeedBound: holds(allAcked, c, ackUs.p99, config.seedBoundUs),
    hist: { ack: encodeHistogram(result.histogram), fill: encodeHistogram(result.fillHistogram), cancel: encodeHistogram(result.cancelHistogram) },
  };
  result.histogram.destroy();
  result.fillHistogram.destroy();
  result.cancelHistogram.destroy();
  for (const t of Object.values(result.byTransport)) t.histogram.destroy();
  return row;
}

function describeRun(r: RunRow): string {
  const c = r.counts;
  const route = r.engineUs.sor_ingest_to_decision;
  const parts = [`ack p50 ${formatMicros(r.ackUs.p50)} p99 ${formatMicros(r.ackUs.p99)} max ${formatMicros(r.ackUs.max)} us`, `acked ${c.acked}/${c.orders}`];
  if (c.rejected + c.timedOut + c.unsent > 0) parts.push(`rejected ${c.rejected}, timed out ${c.timedOut}, unsent ${c.unsent}`);
  if (r.workload === 'mixed') {
    parts.push(`fill p99 ${formatMicros(r.fillUs.p99)} us (${c.filled}/${c.fillOrders} filled, ${c.unfilled} unfilled, ${c.fillTimedOut} timed out)`);
    parts.push(`cancel p99 ${formatMicros(r.cancelUs.p99)} us (${c.canceled}/${c.cancelsSent} canceled, ${c.cancelRejected} refused, ${c.cancelTimedOut} timed out)`);
  }
  if (route !== undefined) parts.push(`ingest->route p99 ${formatMicros(route.p99)} us`);
  parts.push(`cpu ${r.usage.cpuPct ?? '?'}% (waiting ${r.usage.runQueuePct ?? '?'}%, steal ${r.usage.stealPct ?? '?'}%)${r.usage.helpersCpuPct !== null ? ` + venues ${r.usage.helpersCpuPct}%` : ''}, load generator ${r.usage.generatorCpuPct ?? '?'}%, rss ${r.usage.rssMaxMiB ?? '?'} MiB`);
  return parts.join('; ');
}

async function startTargets(engineConfig: EngineConfig, nodeOptions: readonly string[], log: (line: string) => void): Promise<Map<TargetKind, TargetProcess>> {
  const targets = new Map<TargetKind, TargetProcess>();
  try {
    for (const kind of ['engine', 'naive'] as TargetKind[]) {
      const t = await startTarget(kind, engineConfig, { NAIVE_ACK_AFTER: 'risk' }, nodeOptions);
      log(`${kind} ready on port ${t.port}${t.fixPort !== undefined ? `, FIX ${t.fixPort}` : ''} (pid ${t.pid})`);
      targets.set(kind, t);
    }
  } catch (err) {
    await Promise.all([...targets.values()].map((t) => t.stop()));
    throw err;
  }
  return targets;
}

/** The order of the rates: ascending, fixed and sweep rates together. */
export function rateOrder(config: E2eConfig): number[] {
  return [...new Set([...config.rates, ...config.sweepRates])].sort((a, b) => a - b);
}

/** Field by field: the median over the list, except the `summed` fields (counts), added up, and the `highest` ones. */
function medianEach<T extends object>(list: readonly T[], summed: readonly string[], highest: readonly string[] = []): T {
  const out: Record<string, number> = {};
  for (const key of Object.keys(list[0])) {
    const values = list.map((x) => (x as Record<string, number>)[key]);
    out[key] = summed.includes(key) ? values.reduce((a, b) => a + b, 0) : highest.includes(key) ? Math.max(...values) : medianOf(values);
  }
  return out as T;
}

/**
 * Latency percentiles over trials: each the median over the trials that recorded any (a trial
 * with no fill, say, is not a zero), the max the worst of any trial, counts summed.
 */
function medianLatency<T extends { count: number; max: number }>(list: readonly T[]): T {
  const recorded = list.filter((p) => p.count > 0);
  return medianEach(recorded.length > 0 ? recorded : list.slice(0, 1), ['count'], ['max']);
}

function sumEach<T extends object>(list: readonly T[]): T {
  return medianEach(list, Object.keys(list[0]));
}

function mergeHist(encoded: readonly string[]): string {
  const h = mergeEncoded(encoded);
  const out = encodeHistogram(h);
  h.destroy();
  return out;
}

/**
 * The trials of one (rate, target, workload) as one row: each percentile (and CPU) the median
 * over trials, the max the worst of any trial, counts and reject reasons summed, peak RSS the
 * highest, histograms merged (the plot shows every order of every trial). Every order of every trial must be acked; the rate
 * holds when, besides, no fill or cancel answer timed out in any trial and the median trial's
 * p99 order -> ack is within the bound (with an odd count: most trials were within it).
 */
export function medianRun(rows: readonly RunRow[], bounds: { boundUs: number; seedBoundUs: number }): RunRow {
  if (rows.length === 0) throw new Error('Condition failed: at least one trial');
  const first = rows[0];
  if (rows.some((r) => r.rate !== first.rate || r.target !== first.target || r.workload !== first.workload)) throw new Error('Condition failed: trials of one rate, target and workload');
  const percentiles = (pick: (r: RunRow) => PercentilesUs): PercentilesUs => medianLatency(rows.map(pick));
  const counts = sumEach(rows.map((r) => r.counts));
  const rejectReasons: Record<string, number> = {};
  for (const r of rows) for (const [k, n] of Object.entries(r.rejectReasons)) rejectReasons[k] = (rejectReasons[k] ?? 0) + n;
  const byTransport: RunRow['byTransport'] = {};
  for (const t of new Set(rows.flatMap((r) => Object.keys(r.byTransport)))) {
    const of = rows.map((r) => r.byTransport[t]).filter((v) => v !== undefined);
    byTransport[t] = { latencyUs: medianLatency(of.map((v) => v.latencyUs)), counts: sumEach(of.map((v) => v.counts)) };
  }
  const engineUs: Record<string, EngineLatencyUs> = {};
  for (const k of new Set(rows.flatMap((r) => Object.keys(r.engineUs)))) {
    engineUs[k] = medianLatency(rows.map((r) => r.engineUs[k]).filter((v) => v !== undefined));
  }
  const usage = medianUsage(rows.map((r) => r.usage));
  const ackUs = percentiles((r) => r.ackUs);
  const allAcked = rows.every((r) => r.allAcked);
  return {
    rate: first.rate, target: first.target, workload: first.workload,
    ackUs, fillUs: percentiles((r) => r.fillUs), cancelUs: percentiles((r) => r.cancelUs), sendLagUs: percentiles((r) => r.sendLagUs),
    counts, rejectReasons, byTransport, engineUs, usage, allAcked,
    held: holds(allAcked, counts, ackUs.p99, bounds.boundUs),
    heldSeedBound: holds(allAcked, counts, ackUs.p99, bounds.seedBoundUs),
    hist: { ack: mergeHist(rows.map((r) => r.hist.ack)), fill: mergeHist(rows.map((r) => r.hist.fill)), cancel: mergeHist(rows.map((r) => r.hist.cancel)) },
    trials: rows.map((r) => ({
      ackP99Us: r.ackUs.p99, fillP99Us: r.fillUs.p99, cancelP99Us: r.cancelUs.p99, routeP99Us: r.engineUs.sor_ingest_to_decision?.p99 ?? null,
      cpuPct: r.usage.cpuPct, allAcked: r.allAcked, held: r.held,
    })),
  };
}

/** Highest rate r such that every run rate <= r held (0 when the lowest failed). */
export function sustainedRate(runs: readonly { rate: number; held: boolean }[]): number {
  let sustained = 0;
  for (const r of [...runs].sort((a, b) => a.rate - b.rate)) {
    if (!r.held) break;
    sustained = r.rate;
  }
  return sustained;
}

/** Runs every measurement; writes nothing. */
export async function runE2eBench(config: E2eConfig, log: (line: string) => void = () => {}): Promise<E2eReport> {
  const wall0 = monoNowMs();
  const engineConfig = e2eEngineConfig(config);
  const tokens = engineConfig.accounts.filter((a) => a.enabled && a.role === 'trader').map((a) => a.apiKey);
  const targets = await startTargets(engineConfig, config.targetNodeOptions ?? [], log);
  const engine = targets.get('engine')!;
  const naive = targets.get('naive')!;
  const ctx: RunContext = { gen: new OpenLoopGenerator(config.workers), engineConfig, config, tokens, progress: new ProgressLine() };
  // One median row per (rate, target, workload), from its trials.
  const runs: RunRow[] = [];
  const measure = async (target: TargetProcess, rate: number, workload: Workload, trial: number, into: RunRow[]): Promise<void> => {
    const label = `${target.kind.padEnd(6)} ${workload.padEnd(5)} ${String(rate).padStart(6)}/s${config.trials > 1 ? ` trial ${trial + 1}/${config.trials}` : ''}`;
    const row = await runOne(ctx, target, rate, workload, label, config);
    ctx.progress.clear();
    log(`${label}: ${describeRun(row)}`);
    into.push(row);
  };
  try {
    if (config.warmupRunS > 0) {
      const warm = { durationS: config.warmupRunS, warmupS: 0 };
      await runOne(ctx, engine, Math.min(...config.rates), 'mixed', 'warm-up engine', warm);
      await runOne(ctx, naive, Math.min(...config.rates), 'ack', 'warm-up naive', warm);
      ctx.progress.clear();
    }
    let sweepOver = false;
    let flip = false;
    for (const rate of rateOrder(config)) {
      const fixed = config.rates.includes(rate);
      if (sweepOver && !fixed) continue;
      const ackRows: Record<'engine' | 'naive', RunRow[]> = { engine: [], naive: [] };
      const mixedRows: RunRow[] = [];
      // Trials interleave the workloads, so a slow minute of the machine touches each a little.
      for (let trial = 0; trial < config.trials; trial++) {
        if (fixed) {
          // The comparison on bench:ws's ack-only workload, the engine and naive alternating who goes first.
          const pair = flip ? [naive, engine] : [engine, naive];
          flip = !flip;
          for (const t of pair) await measure(t, rate, 'ack', trial, ackRows[t.kind as 'engine' | 'naive']);
        }
        await measure(engine, rate, 'mixed', trial, mixedRows);
      }
      if (fixed) for (const rows of [ackRows.engine, ackRows.naive]) runs.push(medianRun(rows, config));
      const row = medianRun(mixedRows, config);
      runs.push(row);
      if (config.trials > 1) log(`${rate}/s mixed, median of ${config.trials} trials: ${describeRun(row)}`);
      // The sweep goes on while the seeds' looser bound holds, so both sustained rates are found.
      if (!row.held) log(`sweep: ${rate}/s did not hold within p99 order->ack <= ${config.boundUs} us (or not every order acked, or a fill or cancel timed out)`);
      if (!row.heldSeedBound && !sweepOver) {
        sweepOver = true;
        log(`sweep: ${rate}/s did not hold within the seeds' p99 <= ${config.seedBoundUs} us either; higher sweep rates skipped`);
      }
    }
  } finally {
    ctx.progress.clear();
    await ctx.gen.close();
    await Promise.all([...targets.values()].map((t) => t.stop()));
  }
  const mixed = runs.filter((r) => r.target === 'engine' && r.workload === 'mixed');
  const sustainedOrdersPerS = sustainedRate(mixed);
  const sustainedSeedBoundOrdersPerS = sustainedRate(mixed.map((r) => ({ rate: r.rate, held: r.heldSeedBound })));
  return {
    config, engineConfig, runs, sustainedOrdersPerS, sustainedSeedBoundOrdersPerS,
    figures: figuresOf(config, runs, sustainedOrdersPerS, sustainedSeedBoundOrdersPerS), wallS: roundTo((monoNowMs() - wall0) / 1000, 1) };
}

function find(runs: readonly RunRow[], rate: number, target: TargetKind, workload: Workload): RunRow | undefined {
  return runs.find((r) => r.rate === rate && r.target === target && r.workload === workload);
}

function countsDetail(r: RunRow): Record<string, unknown> {
  const c = r.counts;
  return { rate: r.rate, allAcked: r.allAcked, orders: c.orders, acked: c.acked, rejected: c.rejected, timedOut: c.timedOut, unsent: c.unsent };
}

/** The figure at the rate named by `at` (the highest fixed rate if absent, e.g. in --quick). */
function figuresOf(config: E2eConfig, runs: readonly RunRow[], sustained: number, sustainedSeedBound: number): Record<string, Figure> {
  const figures: Record<string, Figure> = {};
  const top = Math.max(...config.rates);
  const low = Math.min(...config.rates);
  const topLabel = rateLabel(top);
  const mixedTop = find(runs, top, 'engine', 'mixed');
  if (mixedTop !== undefined) {
    const route = mixedTop.engineUs.sor_ingest_to_decision;
    if (route !== undefined) {
      // The naive pipeline runs the ack-only workload only (it has no venues), so the engine's own
      // figure on that workload stands beside it too: like against like.
      const naiveAck = find(runs, top, 'naive', 'ack');
      const engineAck = find(runs, top, 'engine', 'ack');
      const naiveRoute = naiveAck?.engineUs.sor_ingest_to_decision;
      const engineAckRoute = engineAck?.engineUs.sor_ingest_to_decision;
      const f = figure(route.p99, 'us', top === 10_000 ? '<= 250' : '(report)', naiveRoute?.p99 ?? null, naiveRoute === undefined ? undefined : NAIVE_ROUTE_BASELINE_OF, {
        ...countsDetail(mixedTop), source: 'engine-internal: sor stage, routing decision time - ingest receive time, per order (shared-memory histogram, window difference)',
        p50: route.p50, p999: route.p999, max: route.max, routed: route.count, trialsP99: mixedTop.trials?.map((t) => t.routeP99Us),
        engineAckOnlyP99: engineAckRoute?.p99 ?? null, engineAckOnlyP50: engineAckRoute?.p50 ?? null, engineAckOnlyTrialsP99: engineAck?.trials?.map((t) => t.routeP99Us),
        baselineP50: naiveRoute?.p50 ?? null, baselineRouted: naiveRoute?.count ?? null, baselineTrialsP99: naiveAck?.trials?.map((t) => t.routeP99Us),
        note: 'bucket upper bounds (log-linear, 4 per octave): up to 25 % above the true value; value: the mixed workload through the venues; ' +
          'engineAckOnly*: the engine on the baseline\'s ack-only workload, the same trials as order_ack_p99 (like against like)',
      });
      if (f.met === true && !mixedTop.allAcked) f.met = false;
      figures[`ingest_to_route_p99_us_at_${topLabel}`] = f;
    }
    const c = mixedTop.counts;
    figures[`order_to_fill_p99_us_at_${topLabel}`] = figure(mixedTop.fillUs.p99, 'us', '(report)', null, undefined, {
      ...countsDetail(mixedTop), p50: mixedTop.fillUs.p50, max: mixedTop.fillUs.max, trialsP99: mixedTop.trials?.map((t) => t.fillP99Us),
      fillOrders: c.fillOrders, filled: c.filled, unfilled: c.unfilled, fillTimedOut: c.fillTimedOut,
      note: 'marketable IOC limit orders, qty 1; from intended send time to the first fill report at the client. ' +
        'unfilled: the SOR prices each IOC child at the touch of its own NBBO view (not the client\'s limit) and sweeps the rest again on its refreshed view ' +
        'while the order is marketable there, within sor.maxSteps decisions; an order whose every step meets a touch moved since the last conflated quote ends without a fill, ' +
        'however far through the limit it was (README, Smart order routing: Prices)',
    });
    figures[`cancel_to_canceled_p99_us_at_${topLabel}`] = figure(mixedTop.cancelUs.p99, 'us', '(report)', null, undefined, {
      ...countsDetail(mixedTop), p50: mixedTop.cancelUs.p50, max: mixedTop.cancelUs.max, trialsP99: mixedTop.trials?.map((t) => t.cancelP99Us),
      cancelsSent: c.cancelsSent, canceled: c.canceled, cancelRejected: c.cancelRejected, cancelTimedOut: c.cancelTimedOut, cancelsUnsent: c.cancelsUnsent,
      note: `resting GTC orders canceled ${config.cancelDelayMs} ms after their intended send; from the cancel's intended send time to CANCELED at the client`,
    });
    const f = figure(mixedTop.ackUs.p99, 'us', '(report)', null, undefined, {
      ...countsDetail(mixedTop), p50: mixedTop.ackUs.p50, max: mixedTop.ackUs.max, trialsP99: mixedTop.trials?.map((t) => t.ackP99Us),
      byTransportP99: Object.fromEntries(Object.entries(mixedTop.byTransport).map(([k, v]) => [k, v.latencyUs.p99])),
    });
    figures[`mixed_order_ack_p99_us_at_${topLabel}`] = f;
  }
  for (const rate of config.rates) {
    const e = find(runs, rate, 'engine', 'ack');
    const n = find(runs, rate, 'naive', 'ack');
    if (e === undefined || n === undefined) continue;
    const f = figure(e.ackUs.p99, 'us', '(report)', n.ackUs.p99, NAIVE_BASELINE_OF, {
      ...countsDetail(e), baselineAllAcked: n.allAcked, workload: 'bench:ws ack-only (far IOC limit orders), WebSocket only',
      trialsP99: e.trials?.map((t) => t.ackP99Us), baselineTrialsP99: n.trials?.map((t) => t.ackP99Us),
    });
    figures[`order_ack_p99_us_at_${rateLabel(rate)}`] = f;
  }
  const seedRun = find(runs, SEED_TARGET.rate, 'engine', 'mixed') ?? find(runs, low, 'engine', 'mixed');
  const seedRoute = seedRun?.engineUs.sor_ingest_to_decision;
  if (seedRun !== undefined && seedRoute !== undefined) {
    const f = figure(Math.round(seedRoute.p99) / 1000, 'ms', `<= ${SEED_TARGET.p99Ms}`, null, undefined, {
      ...countsDetail(seedRun), seedTarget: `p99 < ${SEED_TARGET.p99Ms} ms ingest -> routing decision at ${SEED_TARGET.rate} orders/s (the seeds' Kafka design)`,
      orderAckP99Ms: Math.round(seedRun.ackUs.p99) / 1000,
    });
    if (f.met === true && !seedRun.allAcked) f.met = false;
    figures[`seed_target_ingest_to_route_p99_ms_at_${rateLabel(seedRun.rate)}`] = f;
  }
  const mixed = runs.filter((r) => r.target === 'engine' && r.workload === 'mixed');
  // Its baseline is the seeds' target applied to the same sweep: the naive pipeline has no venues to sustain a full path to.
  figures.sustained_orders_per_s = figure(sustained, 'orders/s', '>= 50000', sustainedSeedBound, SEED_BOUND_SUSTAINED_OF, {
    rule: `highest swept rate below which every rate held: every order of every trial acked, no fill or cancel answer timed out, the median of ${config.trials} trial(s)' p99 order->ack <= ${config.boundUs} us`,
    seedTargetOrdersPerS: SEED_TARGET.rate,
    sweep: mixed.map((r) => ({ rate: r.rate, held: r.held, heldSeedBound: r.heldSeedBound, ackP99Us: r.ackUs.p99, trialsAckP99Us: r.trials?.map((t) => t.ackP99Us), acked: r.counts.acked, orders: r.counts.orders, fillTimedOut: r.counts.fillTimedOut, cancelTimedOut: r.counts.cancelTimedOut, cpuPct: r.usage.cpuPct })),
  });
  figures.sustained_orders_per_s_at_seed_bound = figure(sustainedSeedBound, 'orders/s', `>= ${SEED_TARGET.rate}`, null, undefined, {
    rule: `as sustained_orders_per_s, with the seeds' bound: p99 order->ack <= ${config.seedBoundUs} us (the seeds' target: ${SEED_TARGET.rate} orders/s at p99 < ${SEED_TARGET.p99Ms} ms)`,
  });
  const eAck = find(runs, top, 'engine', 'ack');
  const nAck = find(runs, top, 'naive', 'ack');
  if (mixedTop !== undefined && mixedTop.usage.cpuPct !== null) {
    figures[`engine_cpu_pct_at_${topLabel}`] = figure(mixedTop.usage.cpuPct, '%', '(report)', nAck?.usage.cpuPct ?? null, NAIVE_PROCESS_BASELINE_OF, {
      venuesCpuPct: mixedTop.usage.helpersCpuPct, engineAckOnlyCpuPct: eAck?.usage.cpuPct ?? null, note: '100% = one core; the engine process (all its threads), mixed workload, venue simulators apart',
      runQueuePct: mixedTop.usage.runQueuePct,
      runQueueNote: 'the engine\'s threads runnable but waiting for a core over the window, % of it (Linux schedstat): 100 = one thread waiting all the time',
    });
  }
  if (mixedTop !== undefined && mixedTop.usage.runQueuePct !== null) {
    // A share of the window (100 = one thread waiting throughout) over the offered rate: µs per
    // order, as bench:ws's figure of the same name.
    figures[`engine_run_queue_us_per_order_at_${topLabel}`] = figure(cpuUsPerOrder(mixedTop.usage.runQueuePct, top)!, 'us', '(report)',
      cpuUsPerOrder(nAck?.usage.runQueuePct ?? null, top), NAIVE_PROCESS_BASELINE_OF, {
        rate: top, runQueuePct: mixedTop.usage.runQueuePct, stealPct: mixedTop.usage.stealPct,
        note: 'time the engine process\'s threads spent runnable but waiting for a core (Linux schedstat) over the measured window, summed over all its threads, per order offered (mixed workload; the baseline: the naive pipeline\'s ack-only run): not a latency, the size of the contention for the cores beside the engine\'s own CPU',
      });
  }
  if (mixedTop !== undefined && mixedTop.usage.rssMaxMiB !== null) {
    figures[`engine_rss_mib_at_${topLabel}`] = figure(mixedTop.usage.rssMaxMiB, 'MiB', '(report)', nAck?.usage.rssMaxMiB ?? null, NAIVE_PROCESS_BASELINE_OF, {
      engineAckOnlyRssMiB: eAck?.usage.rssMaxMiB ?? null, note: 'the engine process, mixed workload, venue simulators apart; peak over the measured window',
    });
  }
  return figures;
}

function printReport(report: E2eReport): void {
  const rows = report.runs.map((r) => {
    const c = r.counts;
    const route = r.engineUs.sor_ingest_to_decision;
    return [r.rate, r.target, r.workload, formatMicros(r.ackUs.p50), formatMicros(r.ackUs.p99), formatMicros(r.ackUs.max),
      r.workload === 'mixed' ? formatMicros(r.fillUs.p99) : '', r.workload === 'mixed' ? formatMicros(r.cancelUs.p99) : '',
      route === undefined ? '' : formatMicros(route.p99), `${c.acked}/${c.orders}`,
      r.workload === 'mixed' ? `${c.filled}/${c.fillOrders}` : '', r.workload === 'mixed' ? `${c.canceled}/${c.cancelsSent}` : '',
      r.usage.cpuPct ?? 'n/a', r.usage.runQueuePct ?? 'n/a', r.usage.generatorCpuPct ?? 'n/a', r.usage.stealPct ?? 'n/a', r.usage.rssMaxMiB ?? 'n/a', r.target === 'engine' && r.workload === 'mixed' ? `${r.held ? 'yes' : 'NO'} / ${r.heldSeedBound ? 'yes' : 'NO'}` : ''];
  });
  printTable('End to end, open loop, from intended send time (us)',
    ['rate/s', 'target', 'workload', 'ack p50', 'ack p99', 'ack max', 'fill p99', 'cancel p99', 'ingest->route p99', 'acked/orders', 'filled', 'canceled', 'cpu %', 'waiting %', 'load gen cpu %', 'steal %', 'rss MiB', 'held (bound / seeds\' 250 ms)'], rows);
  console.log('');
  for (const [id, f] of Object.entries(report.figures)) {
    const verdict = f.met === null ? 'report' : f.met ? 'met' : 'MISSED';
    console.log(`${id}: ${f.value} ${f.unit} (goal ${f.goal}: ${verdict}; baseline ${f.baseline}${f.baselineOf !== undefined ? `, ${f.baselineOf}` : ''})`);
  }
}

const RATE_COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

/** One line per rate: order -> ack solid, order -> first fill dotted (engine, mixed); naive order -> ack dashed. */
export function plotSeries(report: E2eReport): PlotSeries[] {
  const series: PlotSeries[] = [];
  const color = (rate: number): string => RATE_COLORS[rateOrder(report.config).indexOf(rate) % RATE_COLORS.length];
  const add = (label: string, encoded: string, style: PlotSeries['style'], rate: number): void => {
    const h = mergeEncoded([encoded]);
    if (h.totalCount > 0) series.push({ label, points: percentileDistribution(h), style, color: color(rate) });
    h.destroy();
  };
  for (const r of report.runs) {
    if (r.target === 'engine' && r.workload === 'mixed') {
      add(`engine ack ${r.rate}/s`, r.hist.ack, 'solid', r.rate);
      add(`engine fill ${r.rate}/s`, r.hist.fill, 'dotted', r.rate);
    } else if (r.target === 'naive') {
      add(`naive ack ${r.rate}/s`, r.hist.ack, 'dashed', r.rate);
    }
  }
  return series;
}

function parseArgs(argv: string[]): { config: E2eConfig; quick: boolean; out: string | null } {
  const args = new BenchArgs(argv);
  const quick = args.has('--quick');
  const config: E2eConfig = { ...(quick ? QUICK_CONFIG : FULL_CONFIG) };
  config.rates = args.positiveList('--rates', config.rates);
  config.sweepRates = args.positiveList('--sweep', config.sweepRates);
  config.boundUs = args.num('--bound-us', config.boundUs, 1);
  config.seedBoundUs = args.num('--seed-bound-us', config.seedBoundUs, 1);
  config.durationS = args.num('--duration', config.durationS, 0.1);
  config.warmupS = args.num('--warmup', config.warmupS, 0);
  config.drainS = args.num('--drain', config.drainS, 0.1);
  config.connections = args.num('--connections', config.connections, 1);
  config.workers = args.num('--workers', config.workers, 1);
  config.fixWorkers = args.num('--fix-workers', config.fixWorkers, 0);
  config.fixSessionsPerWorker = args.num('--fix-sessions', config.fixSessionsPerWorker, 1);
  config.cancelDelayMs = args.num('--cancel-delay-ms', config.cancelDelayMs, 0);
  config.pacerGapUs = args.num('--pacer-gap-us', config.pacerGapUs, 0);
  config.trials = args.num('--trials', config.trials, 1);
  config.threading = args.oneOf('--threading', THREADING_MODES, config.threading ?? null);
  if (args.has('--ring-bytes')) config.ringBytes = args.num('--ring-bytes', 0, 1 << 16);
  if (args.has('--target-node-args')) config.targetNodeOptions = args.nodeOptions('--target-node-args');
  const out = args.value('--out') ?? null;
  args.rejectUnknown();
  if (config.fixWorkers >= config.workers) throw new Error('Condition failed: --fix-workers < --workers (the ack-only runs need WebSocket workers)');
  if (config.connections < config.workers) throw new Error('Condition failed: --connections >= --workers');
  return { config, quick, out };
}

function resultsExtra(report: E2eReport): Record<string, unknown> {
  return {
    runs: report.runs.map(({ hist: _h, ...rest }) => rest),
    harness: {
      clients: `${report.config.connections} WebSocket connections (ws package) over ${report.config.workers - report.config.fixWorkers} workers; ` +
        `${report.config.fixWorkers * report.config.fixSessionsPerWorker} FIX 4.4 sessions (the project's initiator) over ${report.config.fixWorkers} worker(s), mixed workload only`,
      pacing: `pacer thread, Atomics.wait to each intended send time, wakes >= ${report.config.pacerGapUs} us apart`,
      latencyFrom: 'intended send time (the cancel\'s for cancel -> canceled); unanswered orders, fills and cancels recorded at the drain deadline',
      workload: 'mixed: per worker in turn BUY marketable IOC (+2 %), BUY GTC 1.00 canceled later, SELL marketable IOC (-2 %), SELL GTC 9999.00 canceled later; qty 1; symbols round-robin',
      engineInternal: 'sor_ingest_to_decision and the other shared-memory histograms, difference of snapshots taken at the measured window start and after the drain',
    },
    engine: { threading: report.engineConfig.threading, ringBytes: report.engineConfig.ringBytes, idle: report.engineConfig.idle, journalFsync: report.engineConfig.journal.fsync, venues: report.engineConfig.venues.length },
    wallS: report.wallS,
  };
}

async function main(): Promise<void> {
  const { config, quick, out } = parseArgs(process.argv.slice(2));
  console.log(`machine: ${formatMachineInfo(machineInfo())}`);
  console.log(`e2e bench${quick ? ' (--quick smoke run)' : ''}: ${JSON.stringify(config)}`);
  const cpu = watchCpu();
  const report = await runE2eBench(config, (line) => console.log(`  ${line}`));
  printReport(report);
  const conditions = cpu();
  console.log(`\ntook ${conditions.wallS} s; CPU used by the load generator ${conditions.processS} s; machine busy ${conditions.machineBusyS} s; stolen by the hypervisor ${conditions.stealS ?? '-'} s`);
  if (quick && out === null) return;
  const path = writeResults('e2e', { ...config }, report.figures, { ...resultsExtra(report), conditions }, out ?? undefined);
  console.log(`wrote ${path}`);
  const html = join(dirname(path), 'e2e-plot.html');
  const png = join(dirname(path), 'e2e-plot.png');
  const skipped = await writePlot(html, png, 'End to end: order -> ack and order -> first fill, open loop',
    'Latency from each order\'s intended send time, WebSocket and FIX clients, mixed workload (marketable IOCs, resting orders canceled). ' +
    'Solid: engine order -> ack; dotted: engine order -> first fill; dashed: the naive postMessage+JSON pipeline, order -> ack on the ack-only workload; one colour per rate, same run. ' +
    `${formatMachineInfo(machineInfo())}; run at ${new Date().toISOString()}.`, plotSeries(report));
  console.log(`wrote ${html}${skipped === null ? ` and ${png}` : `; PNG skipped: ${skipped}`}`);
}

if (isMainModule(import.meta.url)) {
  main().then(() => process.exit(process.exitCode ?? 0), (error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
