/**
 * The supervisor, on the main thread: creates the rings (workers/topology.ts), starts the stage
 * threads (one per stage, or a few that each run several: config `threading`), watches them, and
 * shuts the engine down cleanly.
 *
 * Start order is consumers before producers (persistence, risk, sor, fix, ingest), so no ring
 * fills before its reader runs; intake opens (engine state RUNNING) only when every stage is
 * ready.
 *
 * Safety: a worker that throws, exits, or stops beating (its heartbeat counter is older than
 * watchdogMs) puts the engine in HALTED: ingest refuses every new command with ENGINE_HALTED,
 * health turns 503, and the reason is logged. A wrong order state is worse than a stopped engine,
 * so nothing restarts a stage behind the operator's back.
 *
 * Clean stop: intake closes (STOPPING), the rings drain to empty, risk and sor are told to
 * leave off (the stop word), the fix stage logs its sessions out, and persistence flushes and fsyncs
 * the journal last.
 */

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { CommonCounter, FixCounter, RiskCounter, StageCounters } from '../engine/counters.ts';
import { Doorbell } from '../engine/doorbell.ts';
import { STOP_REQUESTED } from '../engine/runner.ts';
import type { EngineConfig } from './config.ts';
import { EngineState } from './ingest/ingest-stage.ts';
import { KillBoard } from './risk/kill-board.ts';
import { accountSlots } from './risk/risk-config.ts';
import { Control, RingDepths, STAGES, createTopology, runsBlocking, threadGroups, type StageName, type TopologyMemory } from './topology.ts';
import type { SnapshotSaved, SnapshotThreadData, StageThreadData, WorkerData, WorkerReport } from './worker-data.ts';
import { pinoLog, rootLogger, setLogLevel } from './log.ts';
import { JournalRetention } from './journal-retention.ts';
import { createRegistry } from './metrics/collectors.ts';
import { createMetricsMemory, type MetricsMemory, type MetricsWorkerData } from './metrics/metrics-memory.ts';
import { MetricsServer } from './metrics/metrics-server.ts';
import { startLoopSampler, type Sampler } from './metrics/runtime-sampler.ts';
import { createSessionStatusMemory, readSessionStatus, type FixSessionsWorkerData, type SessionStatusView } from './fix/session-status.ts';
import { requestStop } from '../persistence/journal.ts';

const STAGE_THREAD = new URL('./stage-thread.ts', import.meta.url);
const READY_TIMEOUT_MS = 20_000;
const DRAIN_TIMEOUT_MS = 5_000;

export type Logger = (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

/** JSON lines on stdout through pino (workers/log.ts); level from config log.level. */
export const jsonLogger: Logger = pinoLog(rootLogger);

export interface EngineInfo {
  httpPort: number;
  /** The FIX acceptor's bound port (fixAcceptor.port, or the one picked for port 0). */
  fixPort: number;
  journal: string;
  fix: Record<string, unknown>;
  /** The bound /metrics port (0 when metrics.port is 0: no endpoint). */
  metricsPort: number;
}

export class Engine {
  readonly config: EngineConfig;
  readonly memory: TopologyMemory;
  private readonly ringDepths: RingDepths;
  private readonly log: Logger;
  /** The thread running each stage (several stages may share one). */
  private readonly workers = new Map<StageName, Worker>();
  /** The stage threads in start order, each with its stages (topology.ts threadGroups). */
  readonly threads: StageName[][];
  private readonly ready = new Map<StageName, Record<string, unknown>>();
  private readonly control: Int32Array;
  private readonly killBoard: KillBoard;
  private readonly counters: Map<StageName, StageCounters>;
  private watchdog: NodeJS.Timeout | null = null;
  /** The fix thread's session status rows (null before start). */
  private fixSessions: SharedArrayBuffer | null = null;
  private stopping = false;
  /** The Postgres/Kafka sinks thread (only when a sink is configured): not a stage, never halts the engine. */
  private sinksWorker: Worker | null = null;
  /** The snapshot thread and its stop word, while it runs. */
  private snapshotWorker: { worker: Worker; stop: Int32Array } | null = null;
  /** journal.retention's passes (null with 'keep'). */
  private retention: JournalRetention | null = null;
  /** Latency and GC histograms, reject reasons, runtime figures: shared with every worker. */
  readonly metricsMemory: MetricsMemory;
  private metricsServer: MetricsServer | null = null;
  private mainSampler: Sampler | null = null;
  /** Why the engine halted, or null. */
  haltReason: string | null = null;

  constructor(config: EngineConfig, log: Logger = jsonLogger) {
    this.config = config;
    this.log = log;
    this.threads = threadGroups(config.threading);
    // The kill board has risk's account slots (workers/risk/risk-config.ts).
    this.memory = createTopology(config.ringBytes, this.threads, accountSlots(config));
    this.ringDepths = new RingDepths(this.memory);
    this.control = new Int32Array(this.memory.control);
    this.killBoard = new KillBoard(this.memory.killBoard);
    this.counters = new Map(STAGES.map((s) => [s, new StageCounters(this.memory.counters[s])]));
    this.metricsMemory = createMetricsMemory();
    setLogLevel(config.log.level);
  }

  state(): number {
    return Atomics.load(this.control, Control.ENGINE_STATE);
  }

  /** FIX sessions' states and sequence numbers, as /health shows them (null before start). */
  sessionStatus(): SessionStatusView | null {
    return readSessionStatus(this.fixSessions ?? undefined, this.config);
  }

  async start(): Promise<EngineInfo> {
    Atomics.store(this.control, Control.ENGINE_STATE, EngineState.STARTING);
    const data: WorkerData & MetricsWorkerData & FixSessionsWorkerData = {
      metrics: this.metricsMemory,
      fixSessions: createSessionStatusMemory(this.config), // FIX session state for /health
      memory: this.memory,
      config: this.config,
      engineEpochMs: performance.timeOrigin,
      childIdBase: Date.now() * 1000,
    };
    this.fixSessions = data.fixSessions;
    // Risk's configured base, before its recovery moves data.childIdBase on (afterRecovery): the
    // snapshot thread builds its risk replay as risk's was built.
    const configuredChildIdBase = data.childIdBase;
    for (const stages of this.threads) {
      await this.startThread(stages, data);
      for (const stage of stages) {
        if (stage === 'risk') this.afterRecovery(data);
        else if (stage === 'sor' || stage === 'fix') this.logRecovery(stage);
      }
    }
    Atomics.store(this.control, Control.ENGINE_STATE, EngineState.RUNNING);
    this.watchdog = setInterval(() => this.checkHeartbeats(), Math.max(50, Math.floor(this.config.watchdogMs / 4)));
    this.watchdog.unref();
    const info: EngineInfo = {
      httpPort: this.ready.get('ingest')?.port as number,
      fixPort: this.ready.get('fix')?.fixPort as number,
      journal: this.ready.get('persistence')?.journal as string,
      fix: this.ready.get('fix') ?? {},
      metricsPort: await this.startMetrics(data.fixSessions),
    };
    this.startSinks(data);
    // After every stage recovered: their snapshots of this boot are saved.
    if (this.config.journal.retention !== 'keep') {
      this.retention = new JournalRetention(this.config, this.counters.get('persistence')!, this.log);
      this.retention.start();
    }
    this.startSnapshots({ ...data, childIdBase: configuredChildIdBase });
    this.log('info', 'engine running', { ...info, threading: this.config.threading, threads: this.threads.map((t) => t.join('+')), cores: availableParallelism() });
    return info;
  }

  /**
   * Risk rebuilt its state from the journal before it said ready (workers/risk/recovery.ts): the
   * stages started after it (sor, fix) issue and track this boot's children from the base it
   * chose, which continues the recovered children's ids.
   */
  private afterRecovery(data: WorkerData): void {
    const detail = this.ready.get('risk') ?? {};
    if (typeof detail.childIdBase === 'number') data.childIdBase = detail.childIdBase;
    if (detail.recovery !== undefined) this.log('info', 'risk recovered from the journal', { recovery: detail.recovery });
  }

  /** The SOR's statistics and live children, and the fix stage's child table, rebuilt from the journal (workers/sor/recovery.ts, workers/fix/recovery.ts). */
  private logRecovery(stage: StageName): void {
    const recovery = this.ready.get(stage)?.recovery;
    if (recovery !== undefined) this.log('info', `${stage} recovered from the journal`, { recovery });
  }

  /** /metrics on the main thread (metrics.port; 0 = off); returns the bound port. */
  private async startMetrics(fixSessions: SharedArrayBuffer): Promise<number> {
    this.mainSampler = startLoopSampler(this.metricsMemory, 'main');
    const { host, port } = this.config.metrics;
    if (port === 0) return 0;
    const registry = createRegistry({
      memory: this.memory,
      metrics: this.metricsMemory,
      venues: this.config.venues.map((v) => ({ id: v.id, name: v.name })),
      nowMs: () => performance.now(),
      fixSessions: { sab: fixSessions, config: this.config },
    });
    this.metricsServer = new MetricsServer(registry);
    try {
      return await this.metricsServer.listen(host, port);
    } catch (err) {
      // Observability must not stop trading: the engine runs on, and says so loudly.
      this.log('error', 'metrics endpoint not started', { host, port, error: (err as Error).message });
      this.metricsServer = null;
      return 0;
    }
  }

  /** Starts one stage thread; resolves when every stage on it is ready. */
  private startThread(stages: StageName[], data: WorkerData): Promise<void> {
    const name = stages.join('+');
    return new Promise((resolve, reject) => {
      const workerData: StageThreadData = { ...data, stages };
      const worker = new Worker(STAGE_THREAD, { workerData, name });
      for (const stage of stages) this.workers.set(stage, worker);
      const waiting = new Set(stages);
      // Each stage has READY_TIMEOUT_MS for its recovery, whether alone on its thread or not.
      const readyMs = READY_TIMEOUT_MS * stages.length;
      const timer = setTimeout(() => reject(new Error(`engine: stage ${[...waiting].join(', ')} not ready within ${readyMs} ms`)), readyMs);
      worker.on('message', (msg: WorkerReport) => {
        if (msg.type === 'ready' && waiting.delete(msg.stage as StageName)) {
          this.ready.set(msg.stage as StageName, msg.detail ?? {});
          if (waiting.size === 0) {
            clearTimeout(timer);
            resolve();
          }
        } else if (msg.type === 'log') {
          this.log(msg.level, msg.msg, { stage: msg.stage });
        }
      });
      worker.on('error', (err) => {
        clearTimeout(timer);
        this.halt(`stage ${name} failed: ${err.stack ?? err.message}`);
        reject(err);
      });
      worker.on('exit', (code) => {
        for (const stage of stages) this.workers.delete(stage);
        if (!this.stopping) this.halt(`stage ${name} exited unexpectedly with code ${code}`);
      });
    });
  }

  /** Puts the engine in the safe state: intake refused, reason logged. Idempotent. */
  halt(reason: string): void {
    if (this.haltReason !== null || this.stopping) return;
    this.haltReason = reason;
    Atomics.store(this.control, Control.ENGINE_STATE, EngineState.HALTED);
    this.log('error', 'engine halted: new orders are refused until an operator restarts it', { reason });
  }

  private checkHeartbeats(): void {
    if (this.state() !== EngineState.RUNNING) return;
    const nowMs = performance.now();
    for (const [stage, c] of this.counters) {
      const beat = c.get(CommonCounter.HEARTBEAT_MS);
      if (beat > 0 && nowMs - beat > this.config.watchdogMs) {
        this.halt(`stage ${stage} has not run a duty cycle for ${Math.round(nowMs - beat)} ms`);
        return;
      }
    }
  }

  /** The thread running a stage, shared with the other stages on it (diagnostics, and fault-injection tests). */
  stageWorker(stage: StageName): Worker | undefined {
    return this.workers.get(stage);
  }

  counterValues(stage: StageName): Float64Array {
    return this.counters.get(stage)!.values;
  }

  /** Clean stop: close intake, drain the rings, stop the stages, flush the journal last. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.watchdog !== null) clearInterval(this.watchdog);
    this.retention?.stop();
    // The snapshot thread leaves off where it is (a replay cut short, no further save) at once:
    // a save begun while the stages drain could outlast its stop's wait.
    // A paced save sleeping between its chunks is woken (it then writes the rest at once).
    if (this.snapshotWorker !== null) requestStop(this.snapshotWorker.stop);
    Atomics.store(this.control, Control.ENGINE_STATE, EngineState.STOPPING);
    await this.tell('ingest', 1000);
    const drained = await this.drain();
    if (!drained) this.log('warn', 'rings not empty at stop', { depths: this.ringDepths.read(), fixEventsWaiting: this.fixEventsWaiting(), riskRecordsWaiting: this.riskRecordsWaiting(), killBoardPending: this.killBoardPending() });
    // risk and sor leave off at their next duty cycle (a blocking thread leaves its loop; on an
    // event-loop thread they stop working); wake the blocking threads if parked.
    Atomics.store(this.control, Control.STOP, STOP_REQUESTED);
    for (const stages of this.threads) {
      if (runsBlocking(stages)) new Doorbell(this.memory.doorbells[stages[0]]).wake();
    }
    await this.tell('fix', 3000);
    await this.tell('persistence', 5000);
    await this.stopSinks();
    await this.stopSnapshots();
    await Promise.all([...new Set(this.workers.values())].map((w) => w.terminate()));
    this.workers.clear();
    await this.metricsServer?.close();
    this.metricsServer = null;
    this.mainSampler?.stop();
    this.mainSampler = null;
    this.log('info', 'engine stopped');
  }

  private async drain(): Promise<boolean> {
    const until = performance.now() + DRAIN_TIMEOUT_MS;
    while (performance.now() < until) {
      if (this.haltReason !== null) return false;
      // Nothing waiting in the fix stage's overflows for room in the rings (a venue's fill there
      // has left its socket but not yet reached risk and the journal) nor in risk's queue for
      // the SOR (risk-stage.ts, the ring cycle), no kill-switch change risk has not taken, then
      // empty rings. In this
      // order: the stage sets the count after it commits, so 0 read first means its records are
      // in the rings the depths read next. Venue reports that arrive after the drain, before
      // the fix stage stops, still reach risk only after a restart (reconciliation).
      const waiting = this.recordsWaiting();
      const depths = this.ringDepths.read();
      if (waiting === 0 && Object.values(depths).every((d) => d === 0)) return true;
      await new Promise((r) => setTimeout(r, 5));
    }
    return false;
  }

  /** Child events and venue statuses the fix stage holds for room in its rings to risk and the SOR (FixCounter.EVENTS_WAITING). */
  private fixEventsWaiting(): number {
    return this.counters.get('fix')!.get(FixCounter.EVENTS_WAITING);
  }

  /** Records risk holds in its queue for room in the ring to the SOR (RiskCounter.SOR_RECORDS_WAITING). */
  private riskRecordsWaiting(): number {
    return this.counters.get('risk')!.get(RiskCounter.SOR_RECORDS_WAITING);
  }

  /** Whether risk has still to take the kill board's latest change (RiskCounter.KILL_BOARD_SEEN). */
  private killBoardPending(): boolean {
    return this.killBoard.generation() !== this.counters.get('risk')!.get(RiskCounter.KILL_BOARD_SEEN);
  }

  /** What the stages hold outside the rings for room in them, and a kill-switch change not yet taken. */
  private recordsWaiting(): number {
    return this.fixEventsWaiting() + this.riskRecordsWaiting() + (this.killBoardPending() ? 1 : 0);
  }

  /** Sends 'stop' to a stage (on its thread) and waits for its 'stopped' (or the timeout). */
  private tell(stage: StageName, timeoutMs: number): Promise<void> {
    const worker = this.workers.get(stage);
    if (worker === undefined) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.log('warn', `stage ${stage} did not confirm stop within ${timeoutMs} ms`);
        resolve();
      }, timeoutMs);
      const onMessage = (msg: WorkerReport) => {
        if (msg.type === 'stopped' && msg.stage === stage) {
          clearTimeout(timer);
          worker.off('message', onMessage);
          resolve();
        }
      };
      worker.on('message', onMessage);
      worker.postMessage({ type: 'stop', stage });
    });
  }

  /**
   * Starts the sinks thread when a sink is configured. The sinks follow the journal files, off
   * the hot path: if the thread fails, the engine keeps trading on the journal alone (it is
   * logged, and the sinks resume from their durable cursors at the next start).
   */
  private startSinks(data: WorkerData): void {
    const { postgres, kafka } = this.config.sinks;
    if (postgres.url === null && kafka.brokers.length === 0) return;
    const worker = new Worker(new URL('./sinks-thread.ts', import.meta.url), { workerData: data, name: 'sinks' });
    this.sinksWorker = worker;
    worker.on('message', (msg: WorkerReport) => {
      if (msg.type === 'log') this.log(msg.level, msg.msg, { stage: msg.stage });
      else if (msg.type === 'ready') this.log('info', 'sinks running', msg.detail);
    });
    worker.on('error', (err) => this.log('error', 'sinks thread failed; trading goes on, the journal keeps every event', { error: err.stack ?? err.message }));
    worker.on('exit', (code) => {
      if (this.sinksWorker === worker) this.sinksWorker = null;
      if (!this.stopping) this.log('error', 'sinks thread exited; trading goes on, the journal keeps every event', { code });
    });
  }

  /** Lets the sinks apply the journal's last records (bounded wait), then ends their thread. */
  private async stopSinks(): Promise<void> {
    if (this.sinksWorker === null) return;
    await endSideThread(this.sinksWorker, { type: 'stop', drainMs: 3000 }, 6000);
    this.sinksWorker = null;
  }

  /**
   * Starts the snapshot thread (workers/snapshot-thread.ts) when journal.snapshots is on and
   * journal.snapshotEveryEvents is not 0: after every stage has recovered and saved its snapshot
   * of this boot. If it fails, the engine trades on and snapshots are saved at starts only.
   */
  private startSnapshots(data: WorkerData): void {
    const { snapshots, snapshotEveryEvents } = this.config.journal;
    if (!snapshots || snapshotEveryEvents === 0) return;
    const stopWord = new SharedArrayBuffer(4);
    const workerData: SnapshotThreadData = { ...data, stopWord };
    const worker = new Worker(new URL('./snapshot-thread.ts', import.meta.url), { workerData, name: 'snapshots' });
    this.snapshotWorker = { worker, stop: new Int32Array(stopWord) };
    worker.on('message', (msg: WorkerReport | SnapshotSaved) => {
      if (msg.type === 'log') this.log(msg.level, msg.msg, { stage: msg.stage });
      else if (msg.type === 'ready') this.log('info', 'snapshot thread following the journal', msg.detail);
      else if (msg.type === 'saved') {
        const { type: _type, ...detail } = msg;
        // Cut short by this engine's stop: the stages saved before it stand, and nothing is amiss.
        this.log(msg.notSaved.length === 0 || msg.stopped ? 'info' : 'warn', 'recovery snapshots saved while running', detail);
        this.retention?.snapshotsChanged();
      }
    });
    worker.on('error', (err) => this.log('error', 'snapshot thread failed; trading goes on, snapshots are saved at starts only', { error: err.stack ?? err.message }));
    worker.on('exit', (code) => {
      if (this.snapshotWorker?.worker === worker) this.snapshotWorker = null;
      if (!this.stopping) this.log('error', 'snapshot thread exited; trading goes on, snapshots are saved at starts only', { code });
    });
  }

  /** Ends the snapshot thread where it is (its stop word was set as stop() began: a replay cut short, a save finished). */
  private async stopSnapshots(): Promise<void> {
    if (this.snapshotWorker === null) return;
    await endSideThread(this.snapshotWorker.worker, { type: 'stop' }, 5000);
    this.snapshotWorker = null;
  }
}

/**
 * Ends a thread that is not a stage (the sinks, the snapshot thread): sends `stop`, waits for its
 * 'stopped' (or `timeoutMs`), then terminates it.
 */
async function endSideThread(worker: Worker, stop: Record<string, unknown>, timeoutMs: number): Promise<void> {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    worker.on('message', (msg: WorkerReport) => {
      if (msg.type === 'stopped') {
        clearTimeout(timer);
        resolve();
      }
    });
    worker.postMessage(stop);
  });
  await worker.terminate();
}
