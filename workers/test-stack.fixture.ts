/**
 * The running engine for end-to-end tests: venue simulators as processes and the engine, every
 * port ephemeral (so test files can run side by side), a throwaway journal directory, and a wait
 * until every venue session is logged on (the SOR routes only to venues that are up).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateConfig, type EngineConfig } from './config.ts';
import { startStack, startVenue, type Stack, type VenueProcess } from '../scripts/stack.ts';

export interface TestStack {
  stack: Stack;
  config: EngineConfig;
  /** host:port of the HTTP/WebSocket listener. */
  base: string;
  journalDir: string;
  /** Stops the engine and venues (if still running) and removes the journal directory. */
  cleanup(): Promise<void>;
}

/**
 * Starts the stack with `overrides` over the defaults (http, fixAcceptor and journal.dir pinned
 * for tests; the journal fsyncs 'none' unless overrides.journal says otherwise). Unless a test says otherwise, the metrics listener takes an ephemeral port (parallel
 * stacks would contend for 9464) and DAY orders do not expire at the session close (a run that
 * spans the close would otherwise see them expire mid-test, depending on the hour CI runs).
 * journalDir: a stack's directory to start on again (a restart, with venueStores); default a new one.
 */
export async function startTestStack(
  overrides: Record<string, unknown>,
  seed: number,
  journalDir = mkdtempSync(join(tmpdir(), 'oms-test-')),
  venueStores = false,
): Promise<TestStack> {
  const http = { host: '127.0.0.1', ...(overrides.http as object | undefined), port: 0 };
  const fixAcceptor = { ...(overrides.fixAcceptor as object | undefined), port: 0 };
  const metrics = { port: 0, ...(overrides.metrics as object | undefined) };
  const session = { expireDayOrders: false, ...(overrides.session as object | undefined) };
  // The fix thread logs its session events to stdout itself (workers/fix/session-log.ts): quiet
  // in tests unless a test asks for them.
  const log = { level: 'warn', ...(overrides.log as object | undefined) };
  const journal = { fsync: 'none', fsyncIntervalMs: 10, ...(overrides.journal as object | undefined), dir: journalDir };
  const config = validateConfig({ ...overrides, http, fixAcceptor, metrics, session, log, journal });
  const stack = await startStack(config, { ephemeralVenuePorts: true, seed, venueStores, log: () => {} });
  const base = `127.0.0.1:${stack.info.httpPort}`;
  // Until every venue session is logged on, however long a loaded machine takes (the limit is only
  // a hang guard): it used to give up silently after 200 looks (10 s) and let the test run on
  // with venues down. A stack whose venues never log on is stopped, not handed over.
  await waitFor('every venue session logged on', async () => (await fixCounters(base)).SESSIONS_UP === config.venues.length)
    .catch(async (err: unknown) => {
      await stack.stop();
      throw err;
    });
  return {
    stack,
    config,
    base,
    journalDir,
    cleanup: async () => {
      await stack.stop();
      rmSync(journalDir, { recursive: true, force: true });
    },
  };
}

/**
 * Writes the engine config file of the SIGKILL tests (startEngineProcess): ephemeral HTTP, FIX
 * and metrics ports, no DAY expiry, a journal fsynced per batch in journalDir, these venues.
 * journal: further journal settings (e.g. snapshotMinEvents), over those; extra: further top-level settings.
 */
export function writeEngineConfigFile(path: string, journalDir: string, venues: unknown[], journal: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): void {
  writeFileSync(path, JSON.stringify({
    ...extra,
    http: { host: '127.0.0.1', port: 0 },
    fixAcceptor: { port: 0 },
    metrics: { port: 0 },
    session: { expireDayOrders: false },
    journal: { dir: journalDir, fsync: 'batch', fsyncIntervalMs: 10, ...journal },
    venues,
  }));
}

const ENGINE_ENTRY = fileURLToPath(new URL('../scripts/engine.ts', import.meta.url));

/**
 * Polls probe every 50 ms until it answers something other than undefined, null or false (a probe
 * that throws counts as no answer: the engine may be restarting); throws after timeoutMs. No
 * timing is asserted.
 */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const got = await probe().catch(() => undefined);
    if (got !== undefined && got !== null && got !== false) return got;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The engine as a child process (startEngineProcess). */
export interface EngineProcess {
  child: ChildProcess;
  /** host:port of its HTTP/WebSocket listener. */
  base: string;
  /** Its 'engine running' log line. */
  running: Record<string, any>;
  /** Every JSON line it has written to stdout so far (grows while it runs). */
  lines: Record<string, any>[];
}

/**
 * Starts scripts/engine.ts on a config file as a child process (for crash tests: the caller may
 * SIGKILL it); resolves when it logs 'engine running', rejects if it exits first or does not
 * start within 30 s. onSpawn gets the child at once, so a test can stop it even if it never starts,
 * and the array its log lines go into (what a start that fails logged).
 */
export function startEngineProcess(configPath: string, onSpawn?: (child: ChildProcess, lines: Record<string, any>[]) => void): Promise<EngineProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [ENGINE_ENTRY, '--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: Record<string, any>[] = [];
    onSpawn?.(child, lines);
    let buf = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`engine did not start: ${err}`)), 30_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      buf += chunk.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let doc: Record<string, any>;
        try {
          doc = JSON.parse(line);
        } catch {
          continue;
        }
        lines.push(doc);
        if (doc.msg === 'engine running') {
          clearTimeout(timer);
          resolve({ child, base: `127.0.0.1:${doc.httpPort as number}`, running: doc, lines });
        }
      }
    });
    child.stderr!.on('data', (c: Buffer) => { err += c.toString('utf8'); });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`engine exited with ${code}: ${err}`));
    });
  });
}

/**
 * The default config's venues as simulator processes on ephemeral ports (scripts/stack.ts
 * startVenue), no added latency, quoting the default symbols; venue i seeded `seed + i`, the
 * market `seed`. For tests that run the engine as a process against them.
 */
export async function startDefaultVenues(seed: number): Promise<VenueProcess[]> {
  const defaults = validateConfig({});
  const symbols = defaults.symbols.map((s) => `${s.name}:${s.referencePrice}`).join(',');
  const out: VenueProcess[] = [];
  for (const [i, v] of defaults.venues.entries()) {
    out.push(await startVenue([
      '--port', '0', '--host', v.host, '--name', v.name, '--comp-id', v.targetCompId, '--clients', v.senderCompId,
      '--seed', String(seed + i), '--market-seed', String(seed), '--fee-bps', v.feeBps, '--latency-ms', '0', '--symbols', symbols,
    ], v.name));
  }
  return out;
}

/** The default configuration's venues, each on the port of its simulator in `venues` (startDefaultVenues' order). */
export function defaultVenuesOn(venues: readonly VenueProcess[]): EngineConfig['venues'] {
  return validateConfig({}).venues.map((v, i) => ({ ...v, port: venues[i].port }));
}

/** POST /v1/orders as the account of `key`; the HTTP status and the JSON answer. */
export async function postOrderAnswer(key: string, base: string, body: Record<string, unknown>): Promise<{ status: number; answer: Record<string, any> }> {
  const res = await fetch(`http://${base}/v1/orders`, {
    method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  return { status: res.status, answer: (await res.json()) as Record<string, any> };
}

/** POST /v1/orders as the account of `key`; the JSON answer. */
export async function postOrder(key: string, base: string, body: Record<string, unknown>): Promise<Record<string, any>> {
  return (await postOrderAnswer(key, base, body)).answer;
}

/** Waits until `count` venue sessions are logged on (/health). */
export async function venuesUp(base: string, count: number): Promise<void> {
  await waitFor('every venue session logged on', async () => {
    const h = (await (await fetch(`http://${base}/health`)).json()) as Record<string, any>;
    return h.fixSessions?.venuesUp === count;
  });
}

/** The account's positions (symbol, qty, avgPx, realizedPnl), by symbol. */
export async function positionsOf(key: string, base: string): Promise<unknown> {
  const p = (await getJson(base, '/v1/positions', key)).positions as Record<string, unknown>[];
  return p.map((x) => ({ symbol: x.symbol, qty: x.qty, avgPx: x.avgPx, realizedPnl: x.realizedPnl })).sort((a, b) => String(a.symbol).localeCompare(String(b.symbol)));
}

/** GET a JSON route of a running engine as the account of `key`. */
export async function getJson(base: string, path: string, key: string): Promise<Record<string, any>> {
  const res = await fetch(`http://${base}${path}`, { headers: { authorization: `Bearer ${key}` } });
  return (await res.json()) as Record<string, any>;
}

/** A stage's counters from a running engine's /health. */
export async function stageCounters(base: string, stage: string): Promise<Record<string, number>> {
  const h = (await (await fetch(`http://${base}/health`)).json()) as { stages: Record<string, { counters: Record<string, number> }> };
  return h.stages[stage].counters;
}

/** The fix stage's counters from a running engine's /health. */
export function fixCounters(base: string): Promise<Record<string, number>> {
  return stageCounters(base, 'fix');
}

/** Stops an engine child process: SIGTERM, then SIGKILL if it has not exited within 8 s. */
export async function stopEngineProcess(engine: ChildProcess | null): Promise<void> {
  if (engine === null || engine.exitCode !== null || engine.signalCode !== null) return;
  const done = new Promise((r) => engine.once('exit', r));
  engine.kill('SIGTERM');
  await Promise.race([done, new Promise((r) => setTimeout(r, 8000))]);
  if (engine.exitCode === null && engine.signalCode === null) engine.kill('SIGKILL');
}

/**
 * The default config's first venue as a venue simulator process (scripts/stack.ts startVenue)
 * with its market maker still, bid 177.20 / ask 177.30 (5 ticks from the start price): a buy at
 * 177.25 rests inside. `clients` are the SenderCompIDs it accepts besides the engine's.
 */
export async function startStillVenue(clients: string[]): Promise<{ venue: VenueProcess; config: EngineConfig['venues'][number] }> {
  const defaults = validateConfig({});
  const v = defaults.venues[0];
  const symbols = defaults.symbols.map((s) => `${s.name}:${s.referencePrice}`).join(',');
  const venue = await startVenue([
    '--port', '0', '--host', v.host, '--name', v.name, '--comp-id', v.targetCompId, '--clients', [v.senderCompId, ...clients].join(','),
    '--seed', '5', '--latency-ms', '0', '--symbols', symbols, '--mm-step-ms', '3600000', '--mm-half-spread', '5',
  ], v.name);
  return { venue, config: v };
}
