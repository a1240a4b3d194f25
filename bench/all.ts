/**
 * `npm run bench`: the whole suite, micro and end to end, one benchmark after another (never two
 * at once: on 2 cores they would measure each other), then one table of every figure that has a
 * goal or a baseline, read back from bench/results/*.json.
 *
 * The benchmarks are the package's `bench:<name>` scripts, in the order below (micro first);
 * a script not listed runs after them, so a new benchmark is never silently left out. Each runs
 * as its own process with its own timeout; one failing does not stop the others, and the exit
 * code says whether all succeeded. Flags: --only name,name  --skip name,name.
 */

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatMachineInfo, machineInfo } from './lib/machine.ts';
import { BenchArgs } from './lib/args.ts';
import { isMainModule } from './lib/main.ts';
import { RESULTS_DIR, type BenchResults } from './lib/results.ts';
import { printTable, type Cell } from './lib/table.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const ORDER = ['ring', 'heap', 'fix', 'risk', 'sor', 'edge', 'journal', 'disk', 'persist', 'ws', 'e2e'];
/** The whole suite's budget on these machines: 15 minutes. */
const SUITE_BUDGET_S = 15 * 60;
/** Per-benchmark ceiling. */
const TIMEOUT_MS = 6 * 60_000;

/** The bench:<name> scripts of package.json, in ORDER first, any others after. */
export function benchScripts(scripts: Record<string, string>): string[] {
  const names = Object.keys(scripts).filter((s) => s.startsWith('bench:')).map((s) => s.slice('bench:'.length));
  const known = ORDER.filter((n) => names.includes(n));
  return [...known, ...names.filter((n) => !ORDER.includes(n)).sort()];
}

export interface FigureRow {
  file: string;
  id: string;
  value: number;
  unit: string;
  goal: string;
  verdict: string;
  baseline: number | null;
}

/** Every figure of the named results files; files that do not exist are left out. */
export function readFigures(dir: string, names: readonly string[]): FigureRow[] {
  const rows: FigureRow[] = [];
  for (const name of names) {
    const path = join(dir, `${name}.json`);
    if (!existsSync(path)) continue;
    const results = JSON.parse(readFileSync(path, 'utf8')) as BenchResults;
    for (const [id, f] of Object.entries(results.figures)) {
      rows.push({ file: `${name}.json`, id, value: f.value, unit: f.unit, goal: f.goal, verdict: f.met === null ? 'report' : f.met ? 'met' : 'MISSED', baseline: f.baseline });
    }
  }
  return rows;
}

function main(): number {
  const args = new BenchArgs(process.argv.slice(2));
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const only = args.list('--only');
  const skip = args.list('--skip') ?? [];
  args.rejectUnknown();
  const names = benchScripts(pkg.scripts).filter((n) => (only === null || only.includes(n)) && !skip.includes(n));
  console.log(`machine: ${formatMachineInfo(machineInfo())}`);
  console.log(`benchmarks, one at a time: ${names.join(', ')}`);
  const t0 = Date.now();
  const outcomes: Cell[][] = [];
  let failed = 0;
  for (const [i, name] of names.entries()) {
    // The suite's own progress: which benchmark of how many, and how much of the budget is gone.
    console.log(`\n===== npm run bench:${name} (${i + 1}/${names.length}; ${Math.round((Date.now() - t0) / 1000)} s of the ${SUITE_BUDGET_S} s budget gone) =====`);
    const start = Date.now();
    const run = spawnSync('npm', ['run', '--silent', `bench:${name}`], { cwd: ROOT, stdio: 'inherit', timeout: TIMEOUT_MS });
    const ok = run.status === 0;
    if (!ok) failed++;
    outcomes.push([name, ok ? 'ok' : run.error !== undefined ? `failed (${run.error.message})` : `failed (exit ${run.status ?? run.signal})`, Math.round((Date.now() - start) / 1000)]);
  }
  printTable('Benchmarks run', ['bench', 'outcome', 'seconds'], outcomes);
  const figures = readFigures(RESULTS_DIR, names);
  printTable('Figures (bench/results/*.json)', ['file', 'figure', 'value', 'unit', 'goal', 'verdict', 'baseline (same run)'],
    figures.map((f) => [f.file, f.id, f.value, f.unit, f.goal, f.verdict, f.baseline ?? '']));
  const tookS = Math.round((Date.now() - t0) / 1000);
  console.log(`\nsuite took ${tookS} s (budget ${SUITE_BUDGET_S} s${tookS > SUITE_BUDGET_S ? ': OVER' : ''}); ${failed} of ${names.length} benchmarks failed`);
  return failed === 0 ? 0 : 1;
}

if (isMainModule(import.meta.url)) process.exit(main());
