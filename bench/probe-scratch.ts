// scratch: delete after use
import { startTarget } from './lib/target-process.ts';
import { OpenLoopGenerator } from './lib/open-loop.ts';
import { DEFAULT_CONFIG } from '../workers/config.ts';
import { benchEngineConfig } from './ws.bench.ts';
import { DEFAULT_ORDER } from './lib/ws-order-protocol.ts';
import { execSync } from 'node:child_process';
const mode = process.argv[2] as any; const rate = Number(process.argv[3]); const dur = Number(process.argv[4] ?? 8);
const cfg = benchEngineConfig(DEFAULT_CONFIG, rate, mode);
const t = await startTarget('engine', cfg);
const gen = new OpenLoopGenerator(2);
const tokens = cfg.accounts.filter((a) => a.enabled).map((a) => a.apiKey);
setTimeout(() => { try { console.log(execSync(`bash /tmp/threads.sh ${t.pid} 4`).toString()); } catch (e) { console.log(String(e)); } }, 2500);
const r = await gen.run({ url: `ws://127.0.0.1:${t.port}/v1/ws`, tokens, rate, durationMs: dur * 1000, warmupMs: 1000, drainMs: 2000, connections: 100, order: DEFAULT_ORDER, pacerGapMs: 0.1 });
console.log(mode, rate, 'p50', r.latencyUs.p50, 'p99', r.latencyUs.p99, 'acked', r.counts.acked, '/', r.counts.orders);
await gen.close(); await t.stop();
