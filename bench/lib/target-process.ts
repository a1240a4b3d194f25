/**
 * Starts a benchmark target as a child process (bench/ws-target-host.ts) and waits for its
 * ready line; stopping closes its standard input, so it also stops if the benchmark dies.
 * histograms() asks the host, over the same standard input, for a snapshot of the engine's
 * shared-memory latency histograms (null from a target that is not the engine); the line
 * protocol is bench/lib/target-protocol.ts. Once the child has exited, every request still
 * waiting and every new one is rejected at once, and a write to its closed input is not thrown.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { EngineConfig } from '../../workers/config.ts';
import { HIST_PREFIX, HIST_REQUEST, READY_PREFIX, type EngineHistograms, type TargetReady } from './target-protocol.ts';

const HOST = fileURLToPath(new URL('../ws-target-host.ts', import.meta.url));

export type TargetKind = 'engine' | 'naive' | 'stub';

export interface TargetProcess extends TargetReady {
  kind: TargetKind;
  child: ChildProcess;
  stop(): Promise<void>;
  /** The engine's latency histograms now (null for naive and stub); rejects after timeoutMs, or at once when the child has exited. */
  histograms(timeoutMs?: number): Promise<EngineHistograms | null>;
}

interface HistRequest {
  resolve(h: EngineHistograms | null): void;
  reject(err: Error): void;
}

/** Chunks of a target's stderr passed on to the benchmark's stderr (then only kept for its exit error). */
const MAX_FORWARDED_CHUNKS = 50;

/**
 * nodeOptions: Node options for the target's process (and so its worker threads), such as
 * `--cpu-prof --cpu-prof-dir=DIR` for a CPU profile per thread, written when the target stops;
 * the venue simulators the engine host starts do not get them.
 */
export function startTarget(kind: TargetKind, config: EngineConfig, env: Record<string, string> = {}, nodeOptions: readonly string[] = [], timeoutMs = 60_000): Promise<TargetProcess> {
  const child = spawn(process.execPath, [...nodeOptions, HOST, kind], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...env, BENCH_ENGINE_CONFIG: JSON.stringify(config) },
  });
  let err = '';
  // The target writes only warnings and errors there (an engine halt names its reason): they
  // reach the benchmark's own stderr as they come, so a run says why a target stopped answering.
  let forwarded = 0;
  child.stderr!.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    err += text;
    if (err.length > 20_000) err = err.slice(-10_000);
    if (forwarded < MAX_FORWARDED_CHUNKS) {
      forwarded++;
      process.stderr.write(`target ${kind}: ${text.length > 2_000 ? `${text.slice(0, 2_000)}...\n` : text}`);
      if (forwarded === MAX_FORWARDED_CHUNKS) process.stderr.write(`target ${kind}: further output not shown\n`);
    }
  });
  // A write after the child exited fails with EPIPE on this stream: exit handling below answers for it.
  child.stdin!.on('error', () => {});
  let exited: Error | null = null;
  const exitedNow = (): boolean => exited !== null || child.exitCode !== null || child.signalCode !== null;
  // Answers to `hist` come back in the order asked.
  const waiting: HistRequest[] = [];
  child.once('exit', (code, signal) => {
    exited = new Error(`target ${kind} exited (code ${code}, signal ${signal}): ${err}`);
    for (const w of waiting.splice(0)) w.reject(exited);
  });
  const stop = (): Promise<void> => new Promise((resolve) => {
    if (exitedNow()) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.stdin!.end();
  });
  const histograms = (askTimeoutMs = 10_000): Promise<EngineHistograms | null> => new Promise((resolve, reject) => {
    if (exitedNow()) return reject(exited ?? new Error(`target ${kind} has exited`));
    const request: HistRequest = {
      resolve: (h) => {
        clearTimeout(timer);
        resolve(h);
      },
      reject: (e) => {
        clearTimeout(timer);
        reject(e);
      },
    };
    const timer = setTimeout(() => {
      // Its answer, should it still come, goes to nobody: the request leaves the queue in place.
      request.resolve = () => {};
      request.reject = () => {};
      reject(new Error(`target ${kind}: no histogram snapshot within ${askTimeoutMs} ms`));
    }, askTimeoutMs);
    waiting.push(request);
    child.stdin!.write(`${HIST_REQUEST}\n`);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`target ${kind} not ready within ${timeoutMs} ms: ${err}`));
    }, timeoutMs);
    const lines = createInterface({ input: child.stdout!, crlfDelay: Infinity });
    lines.on('line', (line) => {
      if (line.startsWith(HIST_PREFIX)) {
        waiting.shift()?.resolve(JSON.parse(line.slice(HIST_PREFIX.length)) as EngineHistograms | null);
      } else if (line.startsWith(READY_PREFIX)) {
        clearTimeout(timer);
        const ready = JSON.parse(line.slice(READY_PREFIX.length)) as TargetReady;
        resolve({ kind, child, ...ready, stop, histograms });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`target ${kind} exited with code ${code}: ${err}`));
    });
  });
}
