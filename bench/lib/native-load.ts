/**
 * The native open-loop load generator (bench/native/ws-load.c) as bench:ws runs it: built on
 * first use (scripts/native-build.ts), one child process per run, its results in the same shape
 * and the same HDR histograms as the Node generator's (bench/lib/open-loop.ts), so every figure
 * downstream is computed the same way whichever client measured it.
 *
 * Why a second client: on 2 cores the Node generator (two workers on the `ws` package and a
 * pacer thread) took about 60% of a core at 10,000 orders/s, beside the server it measures; the
 * native one does the same schedule (order j due at t0 + j / rate on connection j % connections,
 * latency from the intended time, unanswered orders counted at the drain deadline) on one thread
 * with epoll, for a fraction of that. It speaks only the ack workload: JSON "new" orders, and
 * their first "ack" or "reject".
 */

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Histogram } from 'hdr-histogram-js';
import { buildNative } from '../../scripts/native-build.ts';
import { createUsHistogram, percentilesUs, recordLatencyMs, type PercentilesUs } from './histogram-us.ts';
import type { OpenLoopCounts, OpenLoopOptions } from './open-loop.ts';
import { DEFAULT_ORDER, type OrderShape } from './ws-order-protocol.ts';

const SOURCE = fileURLToPath(new URL('../native/ws-load.c', import.meta.url));

/** Builds the generator if needed; returns the binary's path. */
export function buildNativeLoad(log: (line: string) => void = () => {}): string {
  return buildNative({ name: 'ws-load', source: SOURCE, libs: [], headers: ['/usr/include/stdio.h'], packages: ['gcc', 'libc6-dev'] }, log);
}

/**
 * The Node generator's options for the ack workload (bench/lib/open-loop.ts); the url's host is
 * an IPv4 literal, the order one symbol at BUY 1.00 / SELL 9999.00 (nativeLoadArgs checks).
 */
export type NativeLoadOptions = Pick<OpenLoopOptions, 'url' | 'tokens' | 'rate' | 'durationMs' | 'warmupMs' | 'drainMs' | 'connections' | 'order' | 'pacerGapMs' | 'onWindow' | 'onProgress'>;

/** What both generators report for the ack workload (OpenLoopResult has these and more). */
export interface AckLoadResult {
  /** Order -> ack or reject, µs, measured orders only; the caller may destroy() it. */
  histogram: Histogram;
  latencyUs: PercentilesUs;
  sendLagUs: PercentilesUs;
  counts: OpenLoopCounts;
  rejectReasons: Record<string, number>;
  /** Threads that sent orders. */
  threads: number;
  /**
   * CPU seconds of the generator's own process over the measured window (getrusage), when it
   * runs outside this process; null when it is this process (its CPU is this process's).
   */
  generatorCpuS: number | null;
}

/** The RESULT line's object (ws-load.c). */
interface NativeSummary {
  orders: number;
  acked: number;
  rejected: number;
  unanswered: number;
  unsent: number;
  sendOverflows: number;
  duplicates: number;
  dropped: number;
  unknownReplies: number;
  cpuUs: number;
}

let runCounter = 0;

/** How much longer than its schedule and drain a run may take (its connects, its 10 s handshake bounds). */
const NATIVE_SLACK_MS = 30_000;

/** Arguments of one run; the ClOrdID prefix is unique per run so no order repeats an earlier one's. */
export function nativeLoadArgs(options: NativeLoadOptions, latenciesPath: string, prefix: string): string[] {
  const url = new URL(options.url);
  if (url.protocol !== 'ws:' || !/^\d+\.\d+\.\d+\.\d+$/.test(url.hostname) || url.port === '') {
    throw new Error(`Condition failed: native load url is ws://<IPv4>:<port>/path, got ${options.url}`);
  }
  const order = options.order ?? DEFAULT_ORDER;
  if (order.symbols.length !== 1 || order.buyPrice !== '1.00' || order.sellPrice !== '9999.00') {
    throw new Error('Condition failed: the native generator sends one symbol at BUY 1.00 / SELL 9999.00');
  }
  if (options.tokens.some((t) => !/^[A-Za-z0-9._~-]+$/.test(t))) throw new Error('Condition failed: tokens need no URL escaping');
  return [
    '--host', url.hostname, '--port', url.port, '--path', url.pathname,
    '--tokens', options.tokens.join(','), '--connections', String(options.connections),
    '--rate', String(options.rate), '--duration', String(options.durationMs / 1000),
    '--warmup', String(options.warmupMs / 1000), '--drain', String(options.drainMs / 1000),
    '--gap-us', String((options.pacerGapMs ?? 0.1) * 1000), '--prefix', prefix,
    '--symbol', order.symbols[0], '--tif', order.tif, '--qty', String(order.qty), '--latencies', latenciesPath,
  ];
}

/**
 * Reads the latencies file: per measured order, its latency (ns; -1 sent and unanswered,
 * recorded at the drain deadline, -2 never sent, left out: as the Node generator records them,
 * bench/lib/open-loop-worker.ts recordTimeouts) and its send lag (ns; -1 unsent). The file must
 * hold one record per measured order of the schedule (scheduleCounts).
 */
export function histogramsOfLatencies(bytes: Buffer, options: Pick<NativeLoadOptions, 'rate' | 'warmupMs' | 'durationMs' | 'drainMs'>): { latency: Histogram; sendLag: Histogram } {
  const { first, total } = scheduleCounts(options);
  if (bytes.length !== (total - first) * 16) throw new Error(`Condition failed: latencies file of ${total - first} records of 16 bytes, got ${bytes.length} bytes`);
  const latency = createUsHistogram();
  const sendLag = createUsHistogram();
  const deadlineMs = options.warmupMs + options.durationMs + options.drainMs;
  const n = bytes.length / 16;
  for (let i = 0; i < n; i++) {
    const ns = Number(bytes.readBigInt64LE(i * 16));
    const lagNs = Number(bytes.readBigInt64LE(i * 16 + 8));
    if (ns >= 0) recordLatencyMs(latency, ns / 1e6);
    else if (ns === -1) recordLatencyMs(latency, deadlineMs - ((first + i) * 1000) / options.rate);
    if (lagNs >= 0) recordLatencyMs(sendLag, lagNs / 1e6);
  }
  return { latency, sendLag };
}

/** Orders in the warm-up (first) and in all (total), rounded as ws-load.c rounds them. */
export function scheduleCounts(options: Pick<NativeLoadOptions, 'rate' | 'warmupMs' | 'durationMs'>): { first: number; total: number } {
  return { first: Math.round((options.rate * options.warmupMs) / 1000), total: Math.round((options.rate * (options.warmupMs + options.durationMs)) / 1000) };
}

export class NativeLoadGenerator {
  private readonly binary: string;

  constructor(log: (line: string) => void = () => {}) {
    this.binary = buildNativeLoad(log);
  }

  async close(): Promise<void> {}

  async run(options: NativeLoadOptions): Promise<AckLoadResult> {
    const dir = mkdtempSync(join(tmpdir(), 'ws-load-'));
    const latenciesPath = join(dir, 'latencies.bin');
    const prefix = `N${process.pid}x${++runCounter}x${Date.now() % 1_000_000}-`;
    try {
      const summary = await this.spawnRun(options, latenciesPath, prefix);
      const { latency, sendLag } = histogramsOfLatencies(readFileSync(latenciesPath), options);
      const counts: OpenLoopCounts = {
        orders: summary.orders,
        sent: summary.orders - summary.unsent,
        acked: summary.acked,
        rejected: summary.rejected,
        timedOut: summary.unanswered,
        unsent: summary.unsent,
        duplicates: summary.duplicates,
        unmatched: summary.unknownReplies,
        connectErrors: 0,
        disconnects: summary.dropped,
      };
      const result: AckLoadResult = { histogram: latency, latencyUs: percentilesUs(latency), sendLagUs: percentilesUs(sendLag), counts, rejectReasons: {}, threads: 1, generatorCpuS: summary.cpuUs / 1e6 };
      sendLag.destroy();
      if (summary.rejected > 0) result.rejectReasons = { unknown: summary.rejected };
      return result;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  private spawnRun(options: NativeLoadOptions, latenciesPath: string, prefix: string): Promise<NativeSummary> {
    const args = nativeLoadArgs(options, latenciesPath, prefix);
    const scheduledMs = options.warmupMs + options.durationMs;
    return new Promise((resolve, reject) => {
      const child = spawn(this.binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let errText = '';
      let summary: NativeSummary | null = null;
      child.stderr!.on('data', (c: Buffer) => { errText = (errText + c.toString('utf8')).slice(-2000); });
      const lines = createInterface({ input: child.stdout! });
      lines.on('line', (line) => {
        if (line === 'WINDOW start') options.onWindow?.start();
        else if (line === 'WINDOW end') options.onWindow?.end();
        else if (line.startsWith('PROGRESS ')) {
          const [elapsedMs, sent, acked, rejected, unsent] = line.slice(9).split(' ').map(Number);
          options.onProgress?.({ elapsedMs, scheduledMs, sent, acked, rejected, unsent });
        } else if (line.startsWith('RESULT ')) summary = JSON.parse(line.slice(7)) as NativeSummary;
      });
      // Its connect and upgrade time out after 10 s each; nothing else should make it outlive
      // its schedule and drain by more than that: past it, it is killed and the run fails.
      const limitMs = scheduledMs + options.drainMs + NATIVE_SLACK_MS + options.connections * 100;
      const timer = setTimeout(() => {
        errText += `\nkilled after ${limitMs} ms`;
        child.kill('SIGKILL');
      }, limitMs);
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        if (code === 0 && summary !== null) resolve(summary);
        else reject(new Error(`ws-load exited with ${signal ?? `code ${code}`}${summary === null ? ' and no RESULT' : ''}: ${errText.trim()}`));
      });
    });
  }
}
