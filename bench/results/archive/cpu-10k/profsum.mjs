import { readFileSync, readdirSync } from 'node:fs';
const dir = process.argv[2]; const top = Number(process.argv[3] ?? 20);
for (const f of readdirSync(dir).sort()) {
  const p = JSON.parse(readFileSync(`${dir}/${f}`, 'utf8'));
  const self = new Map(); const byId = new Map();
  for (const n of p.nodes) byId.set(n.id, n);
  const dt = p.timeDeltas; const counts = new Map();
  for (let i = 0; i < p.samples.length; i++) counts.set(p.samples[i], (counts.get(p.samples[i]) ?? 0) + (dt[i] ?? 0));
  let total = 0, idle = 0;
  for (const [id, us] of counts) { const n = byId.get(id); const cf = n.callFrame; const key = `${cf.functionName || '(anon)'} ${cf.url.split('/').pop()}:${cf.lineNumber + 1}`; total += us; if (cf.functionName === '(idle)') idle += us; self.set(key, (self.get(key) ?? 0) + us); }
  console.log(`== ${f} wall ${(total / 1e6).toFixed(1)}s busy ${((total - idle) / 1e6).toFixed(2)}s`);
  for (const [k, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${(us / 1000).toFixed(1).padStart(9)} ms  ${k}`);
}
