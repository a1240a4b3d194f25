/**
 * The measurement behind README.md beside this file: ten drains of bench:persist's synthetic journal
 * into fresh databases, alternating with and without the ExecID indexes, each statement's wall
 * time summed (pg's Client.query wrapped). Archived as it ran; not part of any bench command.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { PgSink } from '../../../../persistence/pg-sink.ts';
import { JournalWriter } from '../../../../persistence/journal.ts';
import { freshDatabase, startPostgres } from '../../../../scripts/postgres.ts';
import { names, reference, sinkRate, writeSyntheticJournal } from '../../../persist.bench.ts';
const stat = new Map<string, number>();
const origQuery = (pg.Client.prototype as any).query;
(pg.Client.prototype as any).query = function (this: unknown, text: unknown, ...rest: unknown[]) {
  const key = typeof text === 'string' ? text.replace(/\s+/g, ' ').slice(0, 24) : 'obj';
  const t0 = performance.now();
  const r = origQuery.call(this, text, ...rest);
  if (r && typeof r.then === 'function') r.then(() => stat.set(key, (stat.get(key) ?? 0) + performance.now() - t0), () => {});
  return r;
};
const dir = mkdtempSync(join(tmpdir(), 'idx-'));
const empty = mkdtempSync(join(tmpdir(), 'idx-empty-'));
new JournalWriter(empty, 'none', 10, 1 << 20, { engineEpochMs: Date.now() }).close();
const events = writeSyntheticJournal(dir, 20000);
const db = await startPostgres({ durable: true });
const rows: string[] = [];
for (let i = 0; i < 10; i++) {
  const arm = i % 2 === 0 ? 'with' : 'without';
  const url = await freshDatabase(db.url, `d${i}`);
  await sinkRate(() => new PgSink({ url, names, reference }), empty, 0, 4000);
  if (arm === 'without') {
    const c = new pg.Client(url); await c.connect();
    await c.query('DROP INDEX fills_venue_exec_id_idx; DROP INDEX child_events_exec_id_idx; DROP INDEX child_events_exec_ref_id_idx');
    await c.end();
  }
  stat.clear();
  const r = await sinkRate(() => new PgSink({ url, names, reference }), dir, events, 4000);
  const s = (k: string) => Math.round(stat.get(k) ?? 0);
  rows.push(`${arm.padEnd(8)} rate ${r.rate} server ${r.serverCpuUsPerEvent} sink ${r.sinkCpuUsPerEvent} fillsMs ${s('INSERT INTO fills (fill_')} childMs ${s('INSERT INTO child_events')} routeMs ${s('INSERT INTO route_audit ')}`);
  console.log(rows[rows.length - 1]);
}
await db.stop(); rmSync(dir, { recursive: true, force: true }); rmSync(empty, { recursive: true, force: true }); process.exit(0);
