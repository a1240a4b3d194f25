// Goal: the disk benchmark cannot rot: with tiny trials it still writes real journals under both
// policies, alternating, into preallocated and appended segments (alone and beside two spinning
// threads), times every flush, (with a real throwaway Postgres) runs its write load
// beside them, then runs snapshot saves (paced and at once, alternating) beside them, and reports
// the figures it names. No figure is asserted (no timing in tests).
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { QUICK_CONFIG, runDiskBench } from './disk.bench.ts';

const dir = mkdtempSync(join(tmpdir(), 'disk-bench-smoke-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bench:disk smoke', () => {
  it('flushes under batch and none in turn, alone and beside a Postgres write load, then beside snapshot saves, and leaves no file behind', async () => {
    const r = await runDiskBench({ ...QUICK_CONFIG, trials: 2, seconds: 0.2, postgres: true, snapshotMiB: 2, dir });
    expect(r.trials.map((t) => `${t.part}:${t.policy}:${t.layout}`)).toEqual([
      'alone:batch:preallocated', 'alone:batch:appended', 'alone:none:appended', 'alone:batch:appended', 'alone:none:appended', 'alone:batch:preallocated',
      'busy:batch:preallocated', 'busy:batch:appended', 'busy:batch:appended', 'busy:batch:preallocated',
      'postgres:batch:preallocated', 'postgres:none:appended', 'postgres:none:appended', 'postgres:batch:preallocated',
      'snapshot:batch:preallocated', 'snapshot-unpaced:batch:preallocated', 'snapshot-unpaced:batch:preallocated', 'snapshot:batch:preallocated',
    ]);
    expect(r.saveLoads.map((l) => l.part)).toEqual(['snapshot', 'snapshot-unpaced', 'snapshot-unpaced', 'snapshot']);
    for (const l of r.saveLoads) expect(l.saves).toBeGreaterThan(0);
    for (const t of r.trials) expect(t.flush.count).toBeGreaterThan(0);
    expect(r.postgresRowsPerS).toBeGreaterThan(0);
    expect(Object.keys(r.figures)).toEqual([
      'journal_flush_fdatasync_p50_us', 'journal_flush_fdatasync_p99_us',
      'journal_flush_fdatasync_p50_us_preallocated', 'journal_flush_fdatasync_p99_us_preallocated',
      'journal_flush_fdatasync_p50_us_preallocated_busy_cores', 'journal_flush_fdatasync_p99_us_preallocated_busy_cores',
      'journal_flush_fdatasync_p50_us_beside_postgres', 'journal_flush_fdatasync_p99_us_beside_postgres',
      'journal_flush_fdatasync_p99_us_beside_snapshot_save', 'journal_flush_fdatasync_p99_us_beside_unpaced_snapshot_save',
    ]);
    expect(r.figures.journal_flush_fdatasync_p99_us_beside_snapshot_save.baseline).toBe(r.figures.journal_flush_fdatasync_p99_us.value);
    expect(r.figures.journal_flush_fdatasync_p99_us.baseline).toBeGreaterThan(0);
    expect(r.figures.journal_flush_fdatasync_p99_us_preallocated.value).toBe(r.figures.journal_flush_fdatasync_p99_us.value);
    expect(r.figures.journal_flush_fdatasync_p99_us_preallocated_busy_cores.baseline).toBeGreaterThan(0);
    expect(r.figures.journal_flush_fdatasync_p99_us_beside_postgres.baseline).toBe(r.figures.journal_flush_fdatasync_p99_us.value);
    expect(readdirSync(dir)).toEqual([]);
  }, 120_000);
});
