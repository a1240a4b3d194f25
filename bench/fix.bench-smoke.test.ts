/**
 * Smoke test of bench/fix.bench.ts, so the benchmark cannot rot. Goal: the whole benchmark runs
 * end to end and writes fix.json in the /work/shared/BENCH.md format. Method: `bench:fix --quick`
 * (64 messages of each type, 3 short rounds, one round trip at 200/s against a real sim/venue.ts
 * process and the echo floor) runs as a command, writing into a temporary directory; the file
 * must hold every figure with positive, finite values and every order of the round trip answered.
 * The corpus and the cross-checks with jspurefix (same message count, CheckSums, validity) are
 * asserted inside the run, which fails on any mismatch. Asserts no speed.
 */

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildCorpus, checkStream } from './lib/fix-messages.ts';
import { MsgType } from '../fix/msg-type.ts';
import { ECHO_BASELINE_OF, JSPF_PARSE_OF, PARSE_GOAL, QUICK_CONFIG, rateLabel } from './fix.bench.ts';

const BENCH = fileURLToPath(new URL('./fix.bench.ts', import.meta.url));

const positive = (x: unknown) => typeof x === 'number' && Number.isFinite(x) && x > 0;

describe('fix bench (smoke)', () => {
  it('the corpus is varied, seeded and valid FIX 4.4', () => {
    const a = buildCorpus(200, 7);
    const b = buildCorpus(200, 7);
    expect(Buffer.from(a.er.bytes).equals(Buffer.from(b.er.bytes))).toBe(true);
    expect(checkStream(a.nos, MsgType.NEW_ORDER_SINGLE)).toBe(-1);
    expect(checkStream(a.er, MsgType.EXECUTION_REPORT)).toBe(-1);
    // Varied: many distinct lengths, and every ExecType the venues send (150=0, F, 4, 8).
    const lengths = new Set(Array.from({ length: 200 }, (_, i) => a.er.starts[i + 1] - a.er.starts[i]));
    expect(lengths.size).toBeGreaterThan(10);
    const text = Buffer.from(a.er.bytes).toString('latin1');
    for (const execType of ['0', 'F', '4', '8']) expect(text).toContain(`\x01150=${execType}\x01`);
    // A damaged byte is caught by the check the benchmark relies on.
    a.er.bytes[a.er.starts[5] + 30] ^= 0x01;
    expect(checkStream(a.er, MsgType.EXECUTION_REPORT)).toBe(5);
  });

  it('--quick writes fix.json with every figure, beside its baseline', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fix-bench-smoke-'));
    try {
      const run = spawnSync(process.execPath, [BENCH, '--quick', '--out', dir], { encoding: 'utf8', timeout: 55_000 });
      expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
      expect(run.stdout).toMatch(/^machine: \d+ cpus/m);
      const results = JSON.parse(readFileSync(join(dir, 'fix.json'), 'utf8'));
      expect(results.name).toBe('fix');
      expect(results.runAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(Object.keys(results.machine).sort()).toEqual(['cpuModel', 'cpus', 'memGiB', 'node', 'os']);
      expect(results.params.rates).toEqual(QUICK_CONFIG.rates);

      const parse = results.figures.parse_msgs_per_s;
      expect(parse).toMatchObject({ unit: 'msgs/s', goal: PARSE_GOAL, baselineOf: JSPF_PARSE_OF });
      expect(typeof parse.met).toBe('boolean');
      expect(positive(parse.value) && positive(parse.baseline)).toBe(true);
      for (const kind of ['nos', 'er']) {
        for (const id of [`parse_msgs_per_s_${kind}`, `parse_validate_msgs_per_s_${kind}`, `encode_msgs_per_s_${kind}`]) {
          const f = results.figures[id];
          expect(f, id).toBeDefined();
          expect(positive(f.value) && positive(f.baseline) && positive(f.ratio), id).toBe(true);
        }
      }
      for (const c of Object.values(results.codecMsgsPerS) as { msgsPerS: { median: number; min: number; max: number; runs: number } }[]) {
        expect(c.msgsPerS.runs).toBe(QUICK_CONFIG.rounds);
        expect(c.msgsPerS.min).toBeLessThanOrEqual(c.msgsPerS.median);
        expect(c.msgsPerS.median).toBeLessThanOrEqual(c.msgsPerS.max);
        expect(positive(c.msgsPerS.min)).toBe(true);
      }

      const rate = QUICK_CONFIG.rates[0];
      for (const id of ['session_roundtrip_p99_us', `session_roundtrip_p99_us_at_${rateLabel(rate)}`]) {
        const f = results.figures[id];
        expect(f, id).toMatchObject({ unit: 'us', goal: '(report)', met: null, baselineOf: ECHO_BASELINE_OF, rate, allAcked: true });
        expect(positive(f.value) && positive(f.baseline), id).toBe(true);
      }
      const orders = Math.round(rate * (QUICK_CONFIG.rtWarmupS + QUICK_CONFIG.rtDurationS));
      expect(results.roundTrip.map((r: { peer: string }) => r.peer).sort()).toEqual(['echo', 'venue']);
      for (const r of results.roundTrip) {
        expect(r).toMatchObject({ rate, orders, sent: orders, acked: orders, rejected: 0, timedOut: 0, unmatched: 0, sendFailed: 0 });
        expect(r.latencyUs.count).toBe(Math.round(rate * QUICK_CONFIG.rtDurationS));
        expect(r.latencyUs.max).toBeGreaterThanOrEqual(r.latencyUs.p99);
        expect(r.latencyUs.p99).toBeGreaterThanOrEqual(r.latencyUs.p50);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
