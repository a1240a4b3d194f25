/**
 * Starts the whole stack: one venue simulator process per configured venue (sim/venue.ts, a
 * FIX 4.4 acceptor with its own order book), then the engine in this process. Used by the demo
 * (`npm start`) and by the end-to-end tests, which ask for port 0 everywhere so runs never clash.
 *
 * With `venueStores` (the demo), each simulator keeps its FIX sessions' sequence numbers and sent
 * reports under the engine's journal directory (<journal.dir>/venues/<venue name>, sim/venue.ts
 * --store-dir), as the engine keeps its own side (<journal.dir>/fix): the stack stopped and
 * started again on the same journal resumes its venue sessions in step. With in-memory venue
 * stores a restarted engine's Logon met venues back at MsgSeqNum 1, below what it expected, and
 * it refused them, as FIX requires. Benchmarks and tests on a fresh journal leave it off (a file
 * write per venue message would change the load they measure).
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EngineConfig } from '../workers/config.ts';
import { Engine, jsonLogger, type EngineInfo, type Logger } from '../workers/supervisor.ts';

const VENUE_ENTRY = fileURLToPath(new URL('../sim/venue.ts', import.meta.url));
const VENUE_START_TIMEOUT_MS = 15_000;

export interface VenueProcess {
  name: string;
  port: number;
  child: ChildProcess;
}

export interface Stack {
  engine: Engine;
  info: EngineInfo;
  venues: VenueProcess[];
  stop(): Promise<void>;
}

export interface StackOptions {
  /** Ask each venue for a free port instead of its configured one (tests). */
  ephemeralVenuePorts: boolean;
  /** Seed of venue i is seed + i: a run can be replayed. */
  seed: number;
  /** Added latency of every venue's execution reports, in ms. */
  venueLatencyMs: number;
  /** Venue simulators keep their sessions under <journal.dir>/venues (restartable on one journal). */
  venueStores: boolean;
  log: Logger;
}

/** Starts one venue simulator and resolves once it prints its listening line. */
export function startVenue(args: string[], name: string): Promise<VenueProcess> {
  return new Promise((resolve, reject) => {
    // The IPC channel is the simulator's lifeline (sim/venue.ts): it stops when this process
    // exits, even by SIGKILL. Unreferenced, the channel itself adds no reason for this process
    // to stay up (the child and its pipes are what the stack's stop() ends). Detached, in a
    // process group of its own: a Ctrl-C at the terminal reaches this process only, which stops
    // the engine (logging out of the venues) before the venues, not the venues at once.
    const child = spawn(process.execPath, [VENUE_ENTRY, ...args], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], detached: true });
    child.channel?.unref();
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`venue ${name} did not start within ${VENUE_START_TIMEOUT_MS} ms: ${err}`));
    }, VENUE_START_TIMEOUT_MS);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const m = /listening on [^\s:]+:(\d+)/.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve({ name, port: Number(m[1]), child });
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      err += chunk.toString('utf8');
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`venue ${name} exited with code ${code}: ${err}`));
    });
  });
}

function stopVenue(v: VenueProcess): Promise<void> {
  return new Promise((resolve) => {
    if (v.child.exitCode !== null) {
      resolve();
      return;
    }
    const timer = setTimeout(() => v.child.kill('SIGKILL'), 3000);
    v.child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    v.child.kill('SIGTERM');
  });
}

/** Where venue `name`'s simulator keeps its sessions (one directory per client CompID inside). */
export function simulatorStoreDir(config: EngineConfig, name: string): string {
  return join(config.journal.dir, 'venues', name);
}

export async function startStack(config: EngineConfig, options: Partial<StackOptions> = {}): Promise<Stack> {
  const opts: StackOptions = { ephemeralVenuePorts: false, seed: 1, venueLatencyMs: 0, venueStores: false, log: jsonLogger, ...options };
  const symbols = config.symbols.map((s) => `${s.name}:${s.referencePrice}`).join(',');
  const venues: VenueProcess[] = [];
  try {
    for (const [i, v] of config.venues.entries()) {
      const args = [
        '--port', String(opts.ephemeralVenuePorts ? 0 : v.port),
        '--host', v.host,
        '--name', v.name,
        '--comp-id', v.targetCompId,
        '--clients', v.senderCompId,
        '--seed', String(opts.seed + i),
        // One market seen through every venue: the same seeded walk, each venue its own depth (sim/market-maker.ts).
        '--market-seed', String(opts.seed),
        '--fee-bps', v.feeBps,
        '--latency-ms', String(opts.venueLatencyMs),
        '--symbols', symbols,
        ...(opts.venueStores ? ['--store-dir', simulatorStoreDir(config, v.name)] : []),
      ];
      venues.push(await startVenue(args, v.name));
    }
  } catch (err) {
    await Promise.all(venues.map(stopVenue));
    throw err;
  }
  const wired: EngineConfig = {
    ...config,
    venues: config.venues.map((v, i) => ({ ...v, port: venues[i].port })),
  };
  const engine = new Engine(wired, opts.log);
  let info: EngineInfo;
  try {
    info = await engine.start();
  } catch (err) {
    await engine.stop();
    await Promise.all(venues.map(stopVenue));
    throw err;
  }
  return {
    engine,
    info,
    venues,
    async stop() {
      await engine.stop();
      await Promise.all(venues.map(stopVenue));
    },
  };
}
