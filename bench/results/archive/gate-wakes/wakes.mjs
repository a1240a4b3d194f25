// Counts parks per order per stage: N orders at RATE/s over one WS, then /health.
import WebSocket from '/work/main/node_modules/ws/index.js';
const N = +process.argv[2] || 3000, RATE = +process.argv[3] || 500, PID = process.argv[4];
import { readFileSync } from 'node:fs';
const cpuMs = () => { const f = readFileSync(`/proc/${PID}/stat`, 'utf8').split(') ')[1].split(' '); return (+f[11] + +f[12]) * 10; };
const health = async () => (await (await fetch('http://127.0.0.1:8080/health')).json());
const snap = (h) => Object.fromEntries(Object.entries(h.stages).map(([s, v]) => [s, { parks: v.counters.PARKS, left: v.counters.WAKES_LEFT_TO_GATE ?? 0, work: v.counters.WORK_CYCLES }]));
const ws = new WebSocket('ws://127.0.0.1:8080/v1/ws?token=demo-key-trader1');
await new Promise((r) => ws.on('open', r));
let acks = 0, fills = 0;
ws.on('message', (m) => { const s = m.toString(); if (s.includes('"ack"')) acks++; if (s.includes('"FILLED"')) fills++; });
const before = snap(await health()); const cpu0 = cpuMs();
const t0 = Date.now();
for (let i = 0; i < N; i++) {
  const due = t0 + (i * 1000) / RATE;
  while (Date.now() < due) await new Promise((r) => setTimeout(r, 1));
  const side = i % 2 ? 'BUY' : 'SELL';
  ws.send(JSON.stringify({ type: 'new', clOrdId: `w${Date.now()}-${i}`, symbol: 'AAPL', side, qty: 100, price: side === 'BUY' ? '181.00' : '177.00', ordType: 'LIMIT', tif: 'IOC' }));
}
await new Promise((r) => setTimeout(r, 2000));
const cpu1 = cpuMs(); const after = snap(await health());
const out = {};
for (const s of Object.keys(after)) out[s] = { parksPerOrder: ((after[s].parks - before[s].parks) / N).toFixed(2), leftPerOrder: ((after[s].left - before[s].left) / N).toFixed(2), cyclesPerOrder: ((after[s].work - before[s].work) / N).toFixed(2) };
console.log(JSON.stringify({ N, RATE, acks, fills, cpuUsPerOrder: Math.round((cpu1 - cpu0) * 1000 / N) }), '\n', out);
ws.close();
