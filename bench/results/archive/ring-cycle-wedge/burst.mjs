// Sends N orders over one WS as fast as the socket takes them, then prints the stages' back-pressure counters from /health.
import WebSocket from '/work/main/node_modules/ws/index.js';
const N = +process.argv[2] || 20000;
const health = async () => (await (await fetch('http://127.0.0.1:8080/health')).json());
const pick = (h) => Object.fromEntries(Object.entries(h.stages).map(([s, v]) => [s, { room: v.counters.ROOM_WAKES ?? 0, stalls: v.counters.BACKPRESSURE_STALLS ?? v.counters.BUSY_REJECTS ?? 0, parks: v.counters.PARKS }]));
const ws = new WebSocket('ws://127.0.0.1:8080/v1/ws?token=demo-key-trader1');
await new Promise((r) => ws.on('open', r));
let acks = 0, rejects = 0, done = 0;
let firstRej = ''; const kinds = {};
ws.on('message', (m) => { const s = m.toString(); const t = (s.match(/"type":"([a-zA-Z_]+)"/) || [])[1]; kinds[t] = (kinds[t] || 0) + 1; if (t === 'ack') acks++; if (t === 'reject') { rejects++; if (!firstRej) firstRej = s; } });
const before = pick(await health());
const t0 = Date.now();
for (let i = 0; i < N; i++) {
  const side = i % 2 ? 'BUY' : 'SELL';
  ws.send(JSON.stringify({ type: 'new', clOrdId: `b${t0}-${i}`, symbol: 'AAPL', side, qty: 100, price: side === 'BUY' ? '181.00' : '177.00', ordType: 'LIMIT', tif: 'IOC' }));
  if (i % 500 === 499) await new Promise((r) => setImmediate(r));
}
while (acks + rejects < N && Date.now() - t0 < 20000) await new Promise((r) => setTimeout(r, 50));
const ms = Date.now() - t0;
const after = pick(await health());
const out = {};
for (const s of Object.keys(after)) out[s] = { roomWakes: after[s].room - before[s].room, stalls: after[s].stalls - before[s].stalls, parks: after[s].parks - before[s].parks };
console.log(JSON.stringify({ N, acks, rejects, ms, kinds, firstRej }), '\n', JSON.stringify(out));
const h = await health();
const c = (st, k) => h.stages[st].counters[k];
console.log(JSON.stringify({ ingestOrdersIn: c('ingest','ORDERS_IN'), busy: c('ingest','BUSY_REJECTS'), reportsOut: c('ingest','REPORTS_OUT'), dropped: c('ingest','DROPPED_SLOW_CLIENT'), riskRecv: c('risk','ORDERS_RECEIVED'), riskAcc: c('risk','ORDERS_ACCEPTED'), riskRej: c('risk','ORDERS_REJECTED'), depths: h.ringDepthBytes }));
ws.close();
