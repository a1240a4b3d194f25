import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { benchScripts, readFigures } from './all.ts';

describe('npm run bench (the suite runner)', () => {
  it('runs every bench:<name> script, known ones in order, unknown ones after, never itself', () => {
    const scripts = { bench: 'node bench/all.ts', 'bench:ws': 'x', 'bench:zeta': 'x', 'bench:ring': 'x', 'bench:alpha': 'x', test: 'vitest', 'bench:fix': 'x' };
    expect(benchScripts(scripts)).toEqual(['ring', 'fix', 'ws', 'alpha', 'zeta']);
  });

  it('collects every figure with its verdict, and skips results that do not exist', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-all-'));
    try {
      const figures = {
        a: { value: 5, unit: 'us', goal: '<= 10', met: true, baseline: 50 },
        b: { value: 20, unit: 'us', goal: '<= 10', met: false, baseline: null },
        c: { value: 3, unit: '%', goal: '(report)', met: null, baseline: 4 },
      };
      writeFileSync(join(dir, 'x.json'), JSON.stringify({ name: 'x', runAt: '', machine: {}, params: {}, figures }));
      const rows = readFigures(dir, ['x', 'missing']);
      expect(rows.map((r) => [r.file, r.id, r.verdict, r.baseline])).toEqual([
        ['x.json', 'a', 'met', 50],
        ['x.json', 'b', 'MISSED', null],
        ['x.json', 'c', 'report', 4],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
