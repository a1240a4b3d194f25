/**
 * Starts a benchmark target as a child process (bench/ws-target-host.ts) and waits for its
 * ready line; stopping closes its standard input, so it also stops if the benchmark dies.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { EngineConfig } from '../../workers/config.ts';
import type { TargetReady } from '../ws-target-host.ts';

const HOST = fileURLToPath(new URL('../ws-target-host.ts', import.meta.url));
const READY_PREFIX = 'BENCH_TARGET_READY ';

export type TargetKind = 'engine' | 'naive' | 'stub';

export interface TargetProcess extends TargetReady {
  kind: TargetKind;
  child: ChildProcess;
  stop(): Promise<void>;
}

export function startTarget(kind: TargetKind, config: EngineConfig, env: Record<string, string> = {}, timeoutMs = 60_000): Promise<TargetProcess> {
  const child = spawn(process.execPath, [HOST, kind], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...env, BENCH_ENGINE_CONFIG: JSON.stringify(config) },
  });
  let err = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    err += chunk.toString('utf8');
    if (err.length > 20_000) err = err.slice(-10_000);
  });
  const stop = (): Promise<void> => new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.stdin!.end();
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`target ${kind} not ready within ${timeoutMs} ms: ${err}`));
    }, timeoutMs);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const line = out.split('\n').find((l) => l.startsWith(READY_PREFIX));
      if (line === undefined) return;
      clearTimeout(timer);
      const ready = JSON.parse(line.slice(READY_PREFIX.length)) as TargetReady;
      resolve({ kind, child, ...ready, stop });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`target ${kind} exited with code ${code}: ${err}`));
    });
  });
}
