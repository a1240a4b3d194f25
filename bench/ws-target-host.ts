/**
 * Runs one target of the WebSocket benchmark in a process of its own, so its CPU time and
 * memory can be read from /proc without the load generator's threads in them:
 *
 *   node bench/ws-target-host.ts engine   the real engine with its venue simulators (scripts/stack.ts)
 *   node bench/ws-target-host.ts naive    the postMessage+JSON pipeline (bench/naive/)
 *   node bench/ws-target-host.ts stub     a server that acks at once (the harness's own floor)
 *
 * The engine configuration comes as JSON in BENCH_ENGINE_CONFIG (validated as the engine does;
 * the HTTP port is forced to 0, the metrics endpoint off and the journal to a temporary directory), NAIVE_ACK_AFTER picks
 * the naive ack point. When ready it prints one line, `BENCH_TARGET_READY {"port":..,"pids":..}`;
 * it stops when its standard input closes (so it never outlives the benchmark) or on SIGTERM.
 *
 * Control channel (bench/lib/target-protocol.ts): each line `hist` on its standard input is answered with one line
 * `BENCH_TARGET_HIST {...}`: a snapshot of the engine's own shared-memory latency histograms
 * (workers/metrics/metrics-memory.ts: ingest->ack, ingest->fill, ingest->risk, ingest->routing
 * decision, decision->wire; count and buckets of engine/shared-histogram.ts); for the naive
 * pipeline its own ingest->routing decision under the same name; `null` for the stub. The
 * benchmark diffs two snapshots to get one trial's figures.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { DEFAULT_CONFIG, validateConfig, type EngineConfig } from '../workers/config.ts';
import { startStack } from '../scripts/stack.ts';
import { startNaivePipeline } from './naive/naive-pipeline.ts';
import { startStubServer } from './lib/stub-order-server.ts';
import { HISTOGRAM_NAMES, MetricsViews } from '../workers/metrics/metrics-memory.ts';
import { HIST_PREFIX, HIST_REQUEST, READY_PREFIX, type EngineHistograms, type TargetReady } from './lib/target-protocol.ts';
import { waitForVenueSessions } from './lib/venue-sessions-wait.ts';

interface Target {
  ready: TargetReady;
  stop: () => Promise<void>;
  /** Snapshot of the target's latency histograms (the engine's; the naive pipeline's ingest->routing decision); null for the stub. */
  histograms: () => EngineHistograms | null;
}

function engineConfig(journalDir: string): EngineConfig {
  const raw = process.env.BENCH_ENGINE_CONFIG;
  const base = raw === undefined ? DEFAULT_CONFIG : (JSON.parse(raw) as EngineConfig);
  // No /metrics endpoint (port 0): the benches read /health and the shared-memory histograms, and
  // a second engine of the same run (or one already running here) would find 9464 taken.
  return validateConfig({
    ...base, http: { ...base.http, port: 0 }, fixAcceptor: { ...base.fixAcceptor, port: 0 }, metrics: { ...base.metrics, port: 0 }, journal: { ...base.journal, dir: journalDir },
  });
}

async function startEngine(): Promise<Target> {
  const journalDir = mkdtempSync(join(tmpdir(), 'bench-ws-journal-'));
  const config = engineConfig(journalDir);
  const log = (level: string, msg: string, fields?: Record<string, unknown>): void => {
    if (level !== 'info') process.stderr.write(`engine ${level}: ${msg} ${fields === undefined ? '' : JSON.stringify(fields)}\n`);
  };
  const stack = await startStack(config, { ephemeralVenuePorts: true, seed: 1, venueLatencyMs: 0, log });
  // The SOR routes only to venues whose FIX session is up: wait for all of them (throws).
  await waitForVenueSessions(stack.info.httpPort, config.venues.length);
  const helperPids: Record<string, number> = {};
  for (const v of stack.venues) helperPids[`venue ${v.name}`] = v.child.pid ?? 0;
  const views = new MetricsViews(stack.engine.metricsMemory);
  return {
    ready: { port: stack.info.httpPort, pid: process.pid, helperPids, fixPort: stack.info.fixPort },
    histograms: () => Object.fromEntries(HISTOGRAM_NAMES.map((name, id) => [name, views.histogram(id).snapshot()])),
    stop: async () => {
      await stack.stop();
      rmSync(journalDir, { recursive: true, force: true });
    },
  };
}

async function start(kind: string): Promise<Target> {
  if (kind === 'engine') return startEngine();
  if (kind === 'naive') {
    const config = engineConfig(tmpdir());
    const ackAfter = process.env.NAIVE_ACK_AFTER === 'route' ? 'route' : 'risk';
    const naive = await startNaivePipeline(config, ackAfter);
    return { ready: { port: naive.port, pid: process.pid, helperPids: {} }, stop: () => naive.close(), histograms: () => naive.histograms() };
  }
  if (kind === 'stub') {
    const stub = await startStubServer();
    return { ready: { port: stub.port, pid: process.pid, helperPids: {} }, stop: async () => stub.close(), histograms: () => null };
  }
  throw new Error(`Condition failed: target ${kind} is engine, naive or stub`);
}

async function main(): Promise<void> {
  const target = await start(process.argv[2] ?? '');
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await target.stop();
    process.exit(0);
  };
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  lines.on('line', (line) => {
    if (line.trim() === HIST_REQUEST) process.stdout.write(`${HIST_PREFIX}${JSON.stringify(target.histograms())}\n`);
  });
  lines.on('close', stop);
  process.stdin.on('error', stop);
  process.on('SIGTERM', stop);
  process.stdout.write(`${READY_PREFIX}${JSON.stringify(target.ready)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`ws-target-host: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
