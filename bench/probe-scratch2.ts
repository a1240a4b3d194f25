// scratch: delete after use
import { OpenLoopGenerator } from './lib/open-loop.ts';
import { DEFAULT_CONFIG, validateConfig } from '../workers/config.ts';
import { benchEngineConfig } from './ws.bench.ts';
import { DEFAULT_ORDER } from './lib/ws-order-protocol.ts';
import { startStack } from '../scripts/stack.ts';
import { waitForVenueSessions } from './lib/venue-sessions-wait.ts';
import { mkdtempSync } from 'node:fs';
const mode = process.argv[2] as any; const rate = Number(process.argv[3]); const dur = Number(process.argv[4] ?? 8);
const base = benchEngineConfig(DEFAULT_CONFIG, rate, mode);
const cfg = validateConfig({ ...base, http: { ...base.http, port: 0 }, fixAcceptor: { ...base.fixAcceptor, port: 0 }, journal: { ...base.journal, dir: mkdtempSync('/tmp/pj-') } });
const stack = await startStack(cfg, { ephemeralVenuePorts: true, seed: 1, venueLatencyMs: 0, log: () => {} });
await waitForVenueSessions(stack.info.httpPort, cfg.venues.length);
const gen = new OpenLoopGenerator(2);
const tokens = cfg.accounts.filter((a) => a.enabled).map((a) => a.apiKey);
const r = await gen.run({ url: `ws://127.0.0.1:${stack.info.httpPort}/v1/ws`, tokens, rate, durationMs: dur * 1000, warmupMs: 1000, drainMs: 2000, connections: 100, order: DEFAULT_ORDER, pacerGapMs: 0.1 });
console.log(mode, rate, 'p50', r.latencyUs.p50, 'p99', r.latencyUs.p99, 'acked', r.counts.acked, '/', r.counts.orders);
await gen.close(); await stack.stop();
