/**
 * WebSocket order -> ack latency, open loop at fixed rates, against the real engine and, in the
 * same run, the naive postMessage+JSON pipeline and a stub that acks at once (the floor the
 * harness and the machine put under every figure).
 *
 *   load generator (--client)                      target processes (bench/ws-target-host.ts)
 *   +----------------------------------+   WS    +-------------------------------------------+
 *   | native (default): bench/native/   | ------> | engine: ingest -> risk -> ingest (ack),    |
 *   |   ws-load.c, one thread, epoll,   | 100 WS  |   risk -> sor -> fix -> venue sims (IOC)   |
 *   |   timerfd to each send time       | conns   | naive:  main -> risk -> main (ack),        |
 *   | node: pacer thread + load workers | <------ |   risk -> router -> main (postMessage JSON)|
 *   |   (piscina, `ws` client)          |  acks   | stub:   acks at once                       |
 *   +----------------------------------+         +-------------------------------------------+
 *
 * The client: on 2 cores the load generator shares the cores with the server it measures, so its
 * own CPU is in every figure. The native one (bench/lib/native-load.ts) costs a fraction of the
 * Node one's CPU per order; both keep the same schedule and measure from each order's intended
 * time, into the same HDR histograms. An engine of the same configuration, in a process of its
 * own, is also measured with the other client (figure order_ack_p99_us_at_<rate>_<client>_client),
 * so the client's share shows.
 *
 * Each order is a limit IOC far from the market (BUY 1.00, SELL 9999.00), alternating sides, so
 * the venues never trade and no order stays live. Latency runs from each order's INTENDED send
 * time (bench/lib/open-loop.ts), after a warm-up; each (rate, target) is measured `trials` times,
 * engine and naive alternating who goes first, and a figure quotes the median of the trials'
 * p99. CPU%, run-queue wait (its threads runnable but without a core) and peak RSS of the target
 * process (and the venue simulators' CPU) are read from /proc over each measured window, beside
 * the hypervisor's steal and other processes' CPU (/proc/stat).
 *
 * Run: `npm run bench:ws` (writes bench/results/ws.json); flags (defaults) --rates 1000,5000,10000
 * --duration 5 --warmup 1 --drain 3 (seconds) --connections 100 --client native|node (default native)
 * --compare-client true|false (an engine of the same configuration, its own process, measured with
 * the other client; default true) --settle-samples 6 (quiet 250 ms samples in a row before each
 * trial, 0: none; --quick: 0)
 * --workers 2 (the Node client's load threads) --trials 3
 * --floor-trials 1 --pacer-gap-us 100 --naive-ack-after risk|route --threading dedicated|paired|shared
 * (default: the engine's) --idle-spins N (default: the engine's) --journal-fsync none|interval|batch
 * (default: the engine's, batch) --target-node-args "--cpu-prof
 * --cpu-prof-dir=DIR" (Node options for every target process: a CPU profile per engine thread)
 * --compare-threading dedicated,shared (more
 * engines in the same run, one per mode other than the first engine's, figures
 * order_ack_p99_us_at_<rate>_<mode>; '' for none) --compare-journal-fsync interval (more engines in
 * the same run, one per journal.fsync policy other than the first engine's, in its threading mode,
 * figures order_ack_p99_us_at_<rate>_fsync_<policy> with both medians; default none) --out DIR; `--quick` is a
 * smoke run (one low rate, 4 connections) that writes only with --out.
 */

import { createRequire } from 'node:module';
import { DEFAULT_CONFIG, validateConfig, type EngineConfig, type FsyncPolicy } from '../workers/config.ts';
import { THREADING_MODES, type ThreadingMode } from '../workers/topology.ts';
import { dirname, join } from 'node:path';
import { encodeHistogram, mergeEncoded } from './lib/histogram-us.ts';
import { percentileDistribution, writePlot, type PlotSeries } from './lib/hdr-plot.ts';
import { formatMachineInfo, machineInfo, settle, watchCpu } from './lib/machine.ts';
import { BenchArgs } from './lib/args.ts';
import { isMainModule } from './lib/main.ts';
import { monoNowMs } from './lib/mono-clock.ts';
import { NativeLoadGenerator, type AckLoadResult, type NativeLoadOptions } from './lib/native-load.ts';
import { OpenLoopGenerator } from './lib/open-loop.ts';
import { TargetWindow } from './lib/proc-usage.ts';
import { ParksWindow } from './lib/engine-parks.ts';
import { ProgressLine } from './lib/progress.ts';
import { figure, writeResults, type Figure } from './lib/results.ts';
import { formatMicros, medianOrNull, roundTo } from './lib/stats.ts';
import { printTable } from './lib/table.ts';
import { startTarget, type TargetKind, type TargetProcess } from './lib/target-process.ts';
import { DEFAULT_ORDER } from './lib/ws-order-protocol.ts';
import { cpuUsPerOrder, summarizeTrials, type TargetSummary, type TrialResult } from './lib/ws-trials.ts';

export const CLIENTS = ['native', 'node'] as const;
export type Client = (typeof CLIENTS)[number];

export interface WsBenchConfig {
  rates: number[];
  durationS: number;
  warmupS: number;
  drainS: number;
  connections: number;
  /** The load generator of every trial (bench/lib/native-load.ts, bench/lib/open-loop.ts). */
  client: Client;
  /** An engine measured with the other client too, in its own process (target engine-<client>-client). */
  compareClient: boolean;
  /** Before each trial, wait for this many quiet 250 ms samples in a row (bench/lib/machine.ts settle); 0: no wait. */
  settleSamples: number;
  /** Load threads of the Node client. */
  workers: number;
  trials: number;
  /** Trials per rate against the stub (the harness floor); 0 leaves it out. */
  floorTrials: number;
  naiveAckAfter: 'risk' | 'route';
  /** Seconds of unrecorded load per target before the first rate (JIT warm-up). */
  warmupRunS: number;
  pacerGapUs: number;
  /** The engine's threading mode (workers/topology.ts); null: its default. */
  threading: ThreadingMode | null;
  /** The engines' idle.spins (workers/config.ts); null: the default. */
  idleSpins: number | null;
  /** The engines' journal.fsync (when an ack may leave: workers/config.ts); null: the default, batch. */
  journalFsync: FsyncPolicy | null;
  /** More engines measured in the same run, one per threading mode (target id engine-<mode>). */
  compareThreading: ThreadingMode[];
  /** More engines measured in the same run, one per journal.fsync policy (target id engine-fsync-<policy>), in the first engine's threading mode. */
  compareJournalFsync: FsyncPolicy[];
  /** Node options for every target process (bench/lib/target-process.ts), e.g. a CPU profile per thread; absent: none. */
  targetNodeOptions?: string[];
}

/** A measured target: the engine, an engine in another threading mode, the naive pipeline, the stub. */
export type TargetId = TargetKind | `engine-${ThreadingMode}` | `engine-fsync-${FsyncPolicy}` | `engine-${Client}-client`;

export const FULL_CONFIG: WsBenchConfig = {
  rates: [1000, 5000, 10000], durationS: 5, warmupS: 1, drainS: 3, connections: 100, client: 'native', compareClient: true, settleSamples: 6, workers: 2,
  trials: 3, floorTrials: 1, naiveAckAfter: 'risk', warmupRunS: 2, pacerGapUs: 100, threading: null, idleSpins: null, journalFsync: null,
  // Beside the engine's own mode (its default, dedicated, unless --threading), the other of these
  // two; the first engine's mode is dropped from the list (parseArgs).
  compareThreading: ['dedicated', 'shared'],
  compareJournalFsync: [],
};

export const QUICK_CONFIG: WsBenchConfig = {
  rates: [200], durationS: 1, warmupS: 0.3, drainS: 2, connections: 4, client: 'native', compareClient: false, settleSamples: 0, workers: 1,
  trials: 1, floorTrials: 1, naiveAckAfter: 'risk', warmupRunS: 0, pacerGapUs: 100, threading: null, idleSpins: null, journalFsync: null,
  compareThreading: [],
  compareJournalFsync: [],
};

const FSYNC_POLICIES = ['none', 'interval', 'batch'] as const;

const TARGET_LABEL: Record<TargetKind, string> = { engine: 'engine', naive: 'naive (postMessage+JSON)', stub: 'stub (harness floor)' };

/** The threading mode of an engine-<mode> target; null for the others. */
function modeOf(id: TargetId): ThreadingMode | null {
  return id.startsWith('engine-') && fsyncOf(id) === null && clientOf(id) === null ? (id.slice('engine-'.length) as ThreadingMode) : null;
}

/** The client of an engine-<client>-client target (an engine of the first one's configuration, measured with the other client); null for the others. */
function clientOf(id: TargetId): Client | null {
  return id.endsWith('-client') ? (id.slice('engine-'.length, -'-client'.length) as Client) : null;
}

/** The client the run compares the engine with, or null. */
function otherClient(config: WsBenchConfig): Client | null {
  return config.compareClient ? CLIENTS.find((c) => c !== config.client)! : null;
}

/** The journal.fsync policy of an engine-fsync-<policy> target; null for the others. */
function fsyncOf(id: TargetId): FsyncPolicy | null {
  return id.startsWith('engine-fsync-') ? (id.slice('engine-fsync-'.length) as FsyncPolicy) : null;
}

function labelOf(id: TargetId): string {
  const mode = modeOf(id);
  const fsync = fsyncOf(id);
  const client = clientOf(id);
  if (client !== null) return `engine, ${client} client`;
  return fsync !== null ? `engine, journal.fsync ${fsync}` : mode === null ? TARGET_LABEL[id as TargetKind] : `engine, threading ${mode}`;
}

/** The threading modes measured beside the first engine: compareThreading less that engine's own mode. */
function comparedModes(config: WsBenchConfig): ThreadingMode[] {
  const first = config.threading ?? DEFAULT_CONFIG.threading;
  return config.compareThreading.filter((m) => m !== first);
}

/** The journal.fsync policies measured beside the first engine: compareJournalFsync less that engine's own. */
function comparedFsync(config: WsBenchConfig): FsyncPolicy[] {
  const first = config.journalFsync ?? DEFAULT_CONFIG.journal.fsync;
  return config.compareJournalFsync.filter((p) => p !== first);
}

/** The engines of the run after the first, by target id. */
function extraEngines(config: WsBenchConfig): TargetId[] {
  const other = otherClient(config);
  return [
    ...comparedModes(config).map((m) => `engine-${m}` as TargetId), ...comparedFsync(config).map((p) => `engine-fsync-${p}` as TargetId),
    ...(other === null ? [] : [`engine-${other}-client` as TargetId]),
  ];
}
export const BASELINE_OF = 'postMessage+JSON pipeline, same run';

export interface WsBenchReport {
  config: WsBenchConfig;
  engineConfig: EngineConfig;
  /** rate -> target -> summary of its trials. */
  rates: Record<string, Partial<Record<TargetId, TargetSummary>>>;
  figures: Record<string, Figure>;
  wallS: number;
}

/** The engine's configuration for the run: defaults, with client rate limits far above the offered load. */
export function benchEngineConfig(
  base: EngineConfig, maxRate: number, threading: ThreadingMode | null = null, idleSpins: number | null = null, journalFsync: FsyncPolicy | null = null,
): EngineConfig {
  const headroom = Math.min(10_000_000, Math.max(100_000, maxRate * 10));
  const http = { ...base.http } as Record<string, unknown>;
  if (typeof http.rateLimit === 'object' && http.rateLimit !== null) {
    // The limiter still runs on every message (its cost is measured); it just never refuses.
    http.rateLimit = { ...http.rateLimit, connectionMsgsPerS: headroom, connectionBurst: headroom, accountMsgsPerS: headroom, accountBurst: headroom };
  }
  const idle = idleSpins === null ? base.idle : { ...base.idle, spins: idleSpins };
  const journal = journalFsync === null ? base.journal : { ...base.journal, fsync: journalFsync };
  return { ...base, http: http as unknown as EngineConfig['http'], threading: threading ?? base.threading, idle, journal };
}

export function rateLabel(rate: number): string {
  return rate % 1000 === 0 ? `${rate / 1000}k` : String(rate);
}

/** One trial's load and its results, whichever client runs it. */
type AckLoad = (options: NativeLoadOptions) => Promise<AckLoadResult>;

/** The clients of a run: the one it measures with, and the one it compares the engine with. */
class Clients {
  private readonly node: OpenLoopGenerator | null;
  private readonly native: NativeLoadGenerator | null;

  constructor(config: WsBenchConfig, log: (line: string) => void) {
    const used = (c: Client): boolean => config.client === c || otherClient(config) === c;
    this.native = used('native') ? new NativeLoadGenerator(log) : null;
    this.node = used('node') ? new OpenLoopGenerator(config.workers) : null;
  }

  load(client: Client): AckLoad {
    if (client === 'native') return (o) => this.native!.run(o);
    // The Node client is this process: its CPU is this process's.
    return async (o) => ({ ...(await this.node!.run(o)), generatorCpuS: null });
  }

  async close(): Promise<void> {
    await Promise.all([this.node?.close(), this.native?.close()]);
  }
}

async function runTrial(load: AckLoad, target: TargetProcess, rate: number, label: string, config: WsBenchConfig, tokens: string[], progress: ProgressLine): Promise<TrialResult> {
  const window = new TargetWindow(target.pid, Object.values(target.helperPids));
  // The engine's thread parks over the same window (the naive pipeline and the stub have none).
  const parks = target.kind === 'engine' ? new ParksWindow(target.port) : null;
  const result = await load({
    url: `ws://127.0.0.1:${target.port}/v1/ws`,
    tokens,
    rate,
    durationMs: config.durationS * 1000,
    warmupMs: config.warmupS * 1000,
    drainMs: config.drainS * 1000,
    connections: config.connections,
    order: DEFAULT_ORDER,
    pacerGapMs: config.pacerGapUs / 1000,
    // CPU, memory and the engine's parks are read over the measured window only, as the latencies are.
    onWindow: { start: () => { window.start(); parks?.start(); }, end: () => { window.close(); parks?.end(); } },
    onProgress: (p) => {
      window.sample();
      progress.openLoop(label, p);
    },
  });
  const usage = window.end(result.generatorCpuS ?? 0);
  // Per order offered in the window, as the CPU per order (cpuUsPerOrder: its CPU% at the rate).
  const p = parks === null ? null : await parks.result(rate * config.durationS);
  const trial: TrialResult = {
    latencyUs: result.latencyUs, sendLagUs: result.sendLagUs, counts: result.counts, rejectReasons: result.rejectReasons,
    threads: result.threads, histogram: encodeHistogram(result.histogram), ...usage,
    parksPerOrder: p?.parks?.perOrder ?? null, parksByStage: p?.parks?.byStage ?? null, parksProblem: p?.problem ?? null,
  };
  result.histogram.destroy();
  return trial;
}

async function startTargets(config: WsBenchConfig, engineConfig: EngineConfig, log: (line: string) => void): Promise<Map<TargetId, TargetProcess>> {
  const targets = new Map<TargetId, TargetProcess>();
  const ids: TargetId[] = ['engine', ...extraEngines(config), 'naive', ...(config.floorTrials > 0 ? ['stub' as const] : [])];
  try {
    for (const id of ids) {
      const mode = modeOf(id);
      const fsync = fsyncOf(id);
      const kind: TargetKind = mode === null && fsync === null && clientOf(id) === null ? id as TargetKind : 'engine';
      const variant: EngineConfig = {
        ...engineConfig, threading: mode ?? engineConfig.threading, journal: { ...engineConfig.journal, fsync: fsync ?? engineConfig.journal.fsync },
      };
      const t = await startTarget(kind, variant, { NAIVE_ACK_AFTER: config.naiveAckAfter }, config.targetNodeOptions);
      log(`${labelOf(id)} ready on port ${t.port} (pid ${t.pid}${Object.keys(t.helperPids).length > 0 ? `, ${Object.entries(t.helperPids).map(([n, p]) => `${n} pid ${p}`).join(', ')}` : ''})`);
      targets.set(id, t);
    }
  } catch (err) {
    await Promise.all([...targets.values()].map((t) => t.stop()));
    throw err;
  }
  return targets;
}

/** Runs every measurement; writes nothing. */
export async function runWsBench(config: WsBenchConfig, log: (line: string) => void = () => {}): Promise<WsBenchReport> {
  const wall0 = monoNowMs();
  // Validated here as the engine validates it (idle.spins from --idle-spins), before any target starts.
  const engineConfig = validateConfig(benchEngineConfig(DEFAULT_CONFIG, Math.max(...config.rates), config.threading, config.idleSpins, config.journalFsync));
  const tokens = engineConfig.accounts.filter((a) => a.enabled).map((a) => a.apiKey);
  const targets = await startTargets(config, engineConfig, log);
  const progress = new ProgressLine();
  const trials = new Map<string, TrialResult[]>();
  let clients: Clients | null = null;
  try {
    clients = new Clients(config, log);
    if (config.warmupRunS > 0) {
      for (const [id, t] of targets) {
        await runTrial(clients.load(clientOf(id) ?? config.client), t, Math.min(...config.rates), `warm-up ${t.kind} ${t.port}`, { ...config, durationS: config.warmupRunS, warmupS: 0 }, tokens, progress);
      }
      progress.clear();
    }
    for (const rate of config.rates) {
      for (let trial = 0; trial < config.trials; trial++) {
        // Who goes first alternates between trials.
        const measured: TargetId[] = ['engine', ...extraEngines(config), 'naive'];
        const order: TargetId[] = trial % 2 === 0 ? measured : measured.reverse();
        if (trial < config.floorTrials && targets.has('stub')) order.push('stub');
        for (const kind of order) {
          const label = `${kind.padEnd(18)} ${String(rate).padStart(6)}/s trial ${trial + 1}/${config.trials}`;
          // What the last target left running (a backlog, a snapshot save started at the engine's
          // next snapshot check, journal.snapshotCheckMs 1 s) stays out of this one's figures.
          const settled = config.settleSamples > 0 ? await settle(30, 250, 15_000, config.settleSamples) : null;
          const r = { ...(await runTrial(clients.load(clientOf(kind) ?? config.client), targets.get(kind)!, rate, label, config, tokens, progress)), settle: settled ?? undefined };
          progress.clear();
          log(`${label}: p50 ${formatMicros(r.latencyUs.p50)} p99 ${formatMicros(r.latencyUs.p99)} max ${formatMicros(r.latencyUs.max)} us; ` +
            `acked ${r.counts.acked}/${r.counts.orders}${r.counts.rejected + r.counts.timedOut + r.counts.unsent > 0 ? ` (rejected ${r.counts.rejected}, timed out ${r.counts.timedOut}, unsent ${r.counts.unsent})` : ''}; ` +
            `cpu ${r.cpuPct ?? '?'}% (waiting ${r.runQueuePct ?? '?'}%)${r.helpersCpuPct !== null ? ` + venues ${r.helpersCpuPct}%` : ''}, load generator ${r.generatorCpuPct ?? '?'}%, other ${r.otherCpuPct ?? '?'}%, steal ${r.stealPct ?? '?'}%` +
            (r.parksPerOrder !== null ? `; ${r.parksPerOrder} parks/order` : r.parksProblem !== null ? `; parks not read: ${r.parksProblem}` : '') +
            (settled === null ? '' : `; settled ${settled.waitedMs} ms${settled.quiet === false ? ` (not quiet: ${settled.busyPct}% busy)` : ''}`));
          const key = `${rate}/${kind}`;
          trials.set(key, [...(trials.get(key) ?? []), r]);
        }
      }
    }
  } finally {
    progress.clear();
    await clients?.close();
    await Promise.all([...targets.values()].map((t) => t.stop()));
  }
  const rates: WsBenchReport['rates'] = {};
  for (const rate of config.rates) {
    rates[rate] = {};
    for (const kind of targets.keys()) {
      const list = trials.get(`${rate}/${kind}`);
      if (list !== undefined) rates[rate][kind] = summarizeTrials(list, rate);
    }
  }
  return { config, engineConfig, rates, figures: figuresOf(config, engineConfig, rates), wallS: roundTo((monoNowMs() - wall0) / 1000, 1) };
}

function figuresOf(config: WsBenchConfig, engineConfig: EngineConfig, rates: WsBenchReport['rates']): Record<string, Figure> {
  const defaultMode = engineConfig.threading;
  const figures: Record<string, Figure> = {};
  for (const rate of config.rates) {
    const engine = rates[rate].engine!;
    const naive = rates[rate].naive!;
    const goal = rate === 10_000 ? '<= 1000' : '(report)';
    // The ack p99 of an engine target: same goal, same baseline for every engine of the run. A
    // p99 over only the orders that were acked would flatter an engine that refused some.
    const ackFigure = (t: TargetSummary, details: Record<string, unknown>): Figure => {
      const g = figure(t.medianUs.p99, 'us', goal, naive.medianUs.p99, BASELINE_OF, { ...details, allAcked: t.allAcked });
      if (g.met !== null && !t.allAcked) g.met = false;
      if (g.met === false) g.note = missedNote(t, naive, rates[rate].stub);
      return g;
    };
    figures[`order_ack_p99_us_at_${rateLabel(rate)}`] = ackFigure(engine, {
      rate,
      client: config.client,
      connections: config.connections,
      trials: config.trials,
      trialsP99: engine.trials.map((t) => t.latencyUs.p99),
      baselineTrialsP99: naive.trials.map((t) => t.latencyUs.p99),
      floorP99: rates[rate].stub?.medianUs.p99 ?? null,
    });
    // The same figure for each engine in another threading mode.
    for (const mode of comparedModes(config)) {
      const other = rates[rate][`engine-${mode}`]!;
      figures[`order_ack_p99_us_at_${rateLabel(rate)}_${mode}`] = ackFigure(other, {
        rate,
        threading: mode,
        trialsP99: other.trials.map((t) => t.latencyUs.p99),
        defaultEngineP99: engine.medianUs.p99,
      });
    }
    // The same figure for each engine under another journal.fsync policy (same threading), with
    // the medians: where the disk's fdatasync shows most (docs/TUNING.md).
    for (const policy of comparedFsync(config)) {
      const other = rates[rate][`engine-fsync-${policy}`]!;
      figures[`order_ack_p99_us_at_${rateLabel(rate)}_fsync_${policy}`] = ackFigure(other, {
        rate,
        journalFsync: policy,
        trialsP99: other.trials.map((t) => t.latencyUs.p99),
        defaultEngineP99: engine.medianUs.p99,
        p50: other.medianUs.p50,
        defaultEngineP50: engine.medianUs.p50,
        stealPct: other.stealPct,
        defaultEngineStealPct: engine.stealPct,
      });
    }
    // An engine of the same configuration, in its own process (so that it journals as many
    // events, and saves as many snapshots, as the first), measured with the other client: how
    // much of the figure is the load generator's own cost on these shared cores.
    const other = otherClient(config);
    const viaOther = other === null ? undefined : rates[rate][`engine-${other}-client`];
    if (viaOther !== undefined) {
      figures[`order_ack_p99_us_at_${rateLabel(rate)}_${other}_client`] = figure(viaOther.medianUs.p99, 'us', '(report)', engine.medianUs.p99,
        `the engine (same configuration, a process of its own) measured with the ${config.client} client, same rate, same run`, {
          rate, client: other, trialsP99: viaOther.trials.map((t) => t.latencyUs.p99), allAcked: viaOther.allAcked,
          p50: viaOther.medianUs.p50, baselineP50: engine.medianUs.p50,
          generatorCpuPct: viaOther.generatorCpuPct, baselineGeneratorCpuPct: engine.generatorCpuPct,
        });
    }
    // What an order costs the engine, and in how many thread hand-offs: the why of its latency
    // at rates too low to batch (docs/TUNING.md). Baselines: the naive pipeline's CPU per order;
    // the first other threading mode's parks per order.
    if (engine.cpuUsPerOrder !== null) {
      figures[`engine_cpu_us_per_order_at_${rateLabel(rate)}`] = figure(engine.cpuUsPerOrder, 'us', '(report)', naive.cpuUsPerOrder, 'naive pipeline process, same rate, same run', {
        rate, venuesCpuUsPerOrder: cpuUsPerOrder(engine.helpersCpuPct, rate),
        note: 'CPU time of the engine process (all its threads) over the measured window, divided by the orders offered in it; venue simulators apart',
      });
    }
    if (engine.runQueueUsPerOrder !== null) {
      figures[`engine_run_queue_us_per_order_at_${rateLabel(rate)}`] = figure(engine.runQueueUsPerOrder, 'us', '(report)', naive.runQueueUsPerOrder, 'naive pipeline process, same rate, same run', {
        rate, runQueuePct: engine.runQueuePct,
        note: 'time the engine process\'s threads spent runnable but waiting for a core (Linux schedstat) over the measured window, summed over all its threads (those off the order\'s path too), divided by the orders offered in it: not a latency, the size of the contention for the cores (load generator, venues, kernel, the engine\'s own threads) beside its CPU per order',
      });
    }
    if (engine.parksPerOrder !== null) {
      const mode = comparedModes(config)[0];
      const other = mode === undefined ? undefined : rates[rate][`engine-${mode}`];
      figures[`engine_parks_per_order_at_${rateLabel(rate)}`] = figure(engine.parksPerOrder, 'parks/order', '(report)', other?.parksPerOrder ?? null,
        other === undefined ? undefined : `the engine with threading ${mode}, same rate, same run`, {
          rate, threading: defaultMode, byStage: medianByStage(engine.trials),
          note: 'times the engine\'s stage threads parked (slept, then were woken) over the measured window, per order offered in it: /health PARKS, summed over the stages',
        });
    }
  }
  const top = Math.max(...config.rates);
  const engineTop = rates[top].engine!;
  if (engineTop.cpuPct === null) return figures; // no /proc here
  figures[`engine_cpu_pct_at_${rateLabel(top)}`] = figure(engineTop.cpuPct, '%', '(report)', rates[top].naive!.cpuPct, 'naive pipeline process, same rate, same run', {
    venuesCpuPct: engineTop.helpersCpuPct,
    note: '100% = one core; the engine process (all its threads), venue simulators apart',
  });
  for (const mode of comparedModes(config)) {
    const other = rates[top][`engine-${mode}`]!;
    if (other.cpuPct === null) continue;
    figures[`engine_cpu_pct_at_${rateLabel(top)}_${mode}`] = figure(other.cpuPct, '%', '(report)', engineTop.cpuPct, `the engine with threading ${defaultMode}, same rate, same run`, {
      venuesCpuPct: other.helpersCpuPct,
      threading: mode,
    });
  }
  return figures;
}

/** Each stage's parks per order, the median over the trials that read them. */
function medianByStage(trials: TrialResult[]): Record<string, number | null> {
  const stages = new Set(trials.flatMap((t) => Object.keys(t.parksByStage ?? {})));
  return Object.fromEntries([...stages].map((stage) => [stage, medianOrNull(trials.map((t) => t.parksByStage?.[stage] ?? null), 2)]));
}

/** The facts of the same run that bear on a missed goal, as one sentence. */
function missedNote(engine: TargetSummary, naive: TargetSummary, stub: TargetSummary | undefined): string {
  const parts = [`engine p99 ${engine.medianUs.p99} us (p50 ${engine.medianUs.p50} us) beside ${naive.medianUs.p99} us for the naive pipeline`];
  if (stub !== undefined) parts.push(`${stub.medianUs.p99} us for a stub that acks at once (the harness and machine floor)`);
  parts.push(`engine process ${engine.cpuPct ?? '?'}% CPU (${engine.cpuUsPerOrder ?? '?'} us per order, ${engine.parksPerOrder ?? '?'} thread parks per order, ` +
    `${engine.runQueueUsPerOrder ?? '?'} us per order of its threads waiting for a core) + venue simulators ${engine.helpersCpuPct ?? '?'}%`);
  parts.push(`the load generator ${engine.generatorCpuPct ?? '?'}% CPU (${engine.generatorCpuUsPerOrder ?? '?'} us per order), other processes ${engine.otherCpuPct ?? '?'}% CPU and the hypervisor's steal ${engine.stealPct ?? '?'}% during the engine's trials`);
  if (!engine.allAcked) parts.push(`only ${engine.acked} of ${engine.orders} orders acked`);
  return `${parts.join('; ')}.`;
}

function printReport(report: WsBenchReport): void {
  const rows: (string | number)[][] = [];
  for (const [rate, byTarget] of Object.entries(report.rates)) {
    for (const [kind, s] of Object.entries(byTarget) as [TargetId, TargetSummary][]) {
      const m = s.medianUs;
      rows.push([rate, labelOf(kind), s.trials.length, formatMicros(m.p50), formatMicros(m.p90), formatMicros(m.p99), formatMicros(m.p999), formatMicros(s.mergedUs.max),
        `${s.acked}/${s.orders}`, s.cpuPct === null ? 'n/a' : `${s.cpuPct}`, s.cpuUsPerOrder ?? 'n/a', s.runQueueUsPerOrder ?? 'n/a', s.parksPerOrder ?? '', s.helpersCpuPct === null ? '' : `${s.helpersCpuPct}`, s.rssMaxMiB ?? 'n/a', formatMicros(s.sendLagP99Us), s.generatorCpuPct ?? 'n/a', s.otherCpuPct ?? 'n/a', s.stealPct ?? 'n/a']);
    }
  }
  printTable('Order -> ack, open loop, from intended send time (us; median of trials, max over all trials)',
    ['rate/s', 'target', 'trials', 'p50', 'p90', 'p99', 'p99.9', 'max', 'acked/orders', 'cpu %', 'cpu us/order', 'wait us/order', 'parks/order', 'venues cpu %', 'rss MiB', 'send lag p99', 'load gen cpu %', 'other cpu %', 'steal %'], rows);
  console.log('');
  for (const [id, f] of Object.entries(report.figures)) {
    const verdict = f.met === null ? 'report' : f.met ? 'met' : 'MISSED';
    console.log(`${id}: ${f.value} ${f.unit} (goal ${f.goal}: ${verdict}; baseline ${f.baseline}${f.baselineOf !== undefined ? `, ${f.baselineOf}` : ''})`);
  }
}

function extraOf(report: WsBenchReport): Record<string, unknown> {
  const perRate: Record<string, unknown> = {};
  for (const [rate, byTarget] of Object.entries(report.rates)) {
    const out: Record<string, unknown> = {};
    for (const [kind, s] of Object.entries(byTarget) as [TargetId, TargetSummary][]) {
      out[kind] = { ...s, trials: s.trials.map(({ histogram: _h, ...rest }) => rest) };
    }
    perRate[rate] = out;
  }
  const ws = createRequire(import.meta.url)('ws/package.json') as { version: string };
  const clients: Record<Client, { client: string; pacing: string }> = {
    native: {
      client: 'bench/native/ws-load.c: one thread, epoll, RFC 6455 client frames (perMessageDeflate off)',
      pacing: `timerfd (CLOCK_MONOTONIC, absolute) to each intended send time, wakes >= ${report.config.pacerGapUs} us apart`,
    },
    node: {
      client: `ws ${ws.version} (perMessageDeflate off), ${report.config.workers} load worker(s)`,
      pacing: `pacer thread, Atomics.wait to each intended send time, wakes >= ${report.config.pacerGapUs} us apart`,
    },
  };
  const other = otherClient(report.config);
  return {
    percentilesUsByRate: perRate,
    harness: {
      ...clients[report.config.client],
      ...(other === null ? {} : { comparedClient: { id: other, ...clients[other], measured: 'an engine of the first engine\'s configuration, in its own process, at every rate' } }),
      latencyFrom: 'intended send time; timed-out orders recorded at the drain deadline',
      order: DEFAULT_ORDER,
      naiveAckAfter: report.config.naiveAckAfter,
    },
    engine: { threading: report.engineConfig.threading, idle: report.engineConfig.idle, journalFsync: report.engineConfig.journal.fsync, venues: report.engineConfig.venues.length },
    wallS: report.wallS,
  };
}

function parseArgs(argv: string[]): { config: WsBenchConfig; quick: boolean; out: string | null } {
  const args = new BenchArgs(argv);
  const quick = args.has('--quick');
  const config: WsBenchConfig = { ...(quick ? QUICK_CONFIG : FULL_CONFIG) };
  config.rates = args.positiveList('--rates', config.rates);
  config.durationS = args.num('--duration', config.durationS, 0.1);
  config.warmupS = args.num('--warmup', config.warmupS, 0);
  config.drainS = args.num('--drain', config.drainS, 0.1);
  config.connections = args.num('--connections', config.connections, 1);
  config.client = args.oneOf('--client', CLIENTS, config.client);
  config.compareClient = args.oneOf('--compare-client', ['true', 'false'] as const, config.compareClient ? 'true' : 'false') === 'true';
  config.settleSamples = args.num('--settle-samples', config.settleSamples, 0);
  config.workers = args.num('--workers', config.workers, 1);
  config.trials = args.num('--trials', config.trials, 1);
  config.floorTrials = args.num('--floor-trials', config.floorTrials, 0);
  config.pacerGapUs = args.num('--pacer-gap-us', config.pacerGapUs, 0);
  config.naiveAckAfter = args.oneOf('--naive-ack-after', ['risk', 'route'] as const, config.naiveAckAfter);
  config.threading = args.oneOf('--threading', THREADING_MODES, config.threading);
  config.compareThreading = args.listOf('--compare-threading', THREADING_MODES, config.compareThreading);
  config.idleSpins = args.num('--idle-spins', config.idleSpins, 0);
  config.journalFsync = args.oneOf('--journal-fsync', FSYNC_POLICIES, config.journalFsync);
  config.compareJournalFsync = args.listOf('--compare-journal-fsync', FSYNC_POLICIES, config.compareJournalFsync);
  if (args.has('--target-node-args')) config.targetNodeOptions = args.nodeOptions('--target-node-args');
  const out = args.value('--out') ?? null;
  args.rejectUnknown();
  if (config.connections < config.workers) throw new Error('Condition failed: --connections >= --workers');
  return { config, quick, out };
}

async function main(): Promise<void> {
  const { config, quick, out } = parseArgs(process.argv.slice(2));
  console.log(`machine: ${formatMachineInfo(machineInfo())}`);
  console.log(`ws bench${quick ? ' (--quick smoke run)' : ''}: ${JSON.stringify(config)}`);
  const cpu = watchCpu();
  const report = await runWsBench(config, (line) => console.log(`  ${line}`));
  printReport(report);
  const conditions = cpu();
  console.log(`\ntook ${conditions.wallS} s; CPU used by this process (the Node client's threads when it ran; the native client is a process of its own) ${conditions.processS} s; machine busy ${conditions.machineBusyS} s; stolen by the hypervisor ${conditions.stealS ?? '-'} s`);
  if (quick && out === null) return;
  const params = { ...config, compareThreading: comparedModes(config), compareJournalFsync: comparedFsync(config), orderShape: `${DEFAULT_ORDER.symbols.join(',')} ${DEFAULT_ORDER.tif} limit, BUY ${DEFAULT_ORDER.buyPrice} / SELL ${DEFAULT_ORDER.sellPrice}` };
  const path = writeResults('ws', params, report.figures, { ...extraOf(report), conditions }, out ?? undefined);
  console.log(`wrote ${path}`);
  const html = join(dirname(path), 'ws-plot.html');
  const png = join(dirname(path), 'ws-plot.png');
  const skipped = await writePlot(html, png, 'WebSocket order -> ack, open loop (all trials merged)',
    `Latency from each order's intended send time, ${config.connections} connections, ${config.trials} trial(s) per rate merged. ` +
    `Solid: the engine (threading ${report.engineConfig.threading}); dash-dot: the engine compared with it` +
    `${comparedModes(config).map((m) => ` (engine-${m}, threading ${m})`).join('')}${comparedFsync(config).map((p) => ` (engine-fsync-${p}, journal.fsync ${p})`).join('')}` +
    `${otherClient(config) === null ? '' : ` (engine-${otherClient(config)}-client, an engine of the same configuration with the ${otherClient(config)} load generator)`}; ` +
    `load generator: ${config.client}; ` +
    'dashed: the naive postMessage+JSON pipeline; dotted: the ack-at-once stub (harness floor); all measured in the same run. ' +
    `${formatMachineInfo(machineInfo())}; run at ${new Date().toISOString()}.`, plotSeries(report));
  console.log(`wrote ${html}${skipped === null ? ` and ${png}` : `; PNG skipped: ${skipped}`}`);
}

const RATE_COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];

/** One line per rate and target: colour by rate, line style by target. */
export function plotSeries(report: WsBenchReport): PlotSeries[] {
  const series: PlotSeries[] = [];
  Object.entries(report.rates).forEach(([rate, byTarget], i) => {
    for (const kind of Object.keys(byTarget) as TargetId[]) {
      const summary = byTarget[kind];
      if (summary === undefined) continue;
      const merged = mergeEncoded(summary.trials.map((t) => t.histogram));
      const points = percentileDistribution(merged);
      merged.destroy();
      const style = kind === 'engine' ? 'solid' : kind.startsWith('engine') ? 'dashdot' : kind === 'naive' ? 'dashed' : 'dotted';
      series.push({ label: `${kind} ${rate}/s`, points, style, color: RATE_COLORS[i % RATE_COLORS.length] });
    }
  });
  return series;
}

if (isMainModule(import.meta.url)) {
  main().then(() => process.exit(process.exitCode ?? 0), (error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
