/**
 * The command line of a one-core rounds benchmark (bench:edge, bench:journal: bench/lib/fix-rounds.ts
 * timing): --quick (the smoke run's tiny config; writes only with --out), --rounds N,
 * --round-ms N, --out DIR, anything else refused. Prints the machine and the config, runs,
 * prints the report and the run's conditions, and writes bench/results/<name>.json with the
 * benchmark's own extra keys and the conditions. Runs only when the module at moduleUrl is the
 * script Node was started with (a smoke test imports it); exits 1 on an error.
 */
import type { Figure } from './results.ts';
import { BenchArgs } from './args.ts';
import { formatMachineInfo, machineInfo, watchCpu } from './machine.ts';
import { writeResults } from './results.ts';
import { isMainModule } from './main.ts';

export interface RoundsBenchSpec<C extends { rounds: number; roundMs: number }, R extends { figures: Record<string, Figure> }> {
  name: string;
  full: C;
  quick: C;
  run(config: C, log: (line: string) => void): R;
  print(report: R): void;
  /** The result file's keys beside the figures (method, corpus, raw results). */
  extra(report: R): Record<string, unknown>;
}

export function roundsBenchMain<C extends { rounds: number; roundMs: number }, R extends { figures: Record<string, Figure> }>(moduleUrl: string, spec: RoundsBenchSpec<C, R>): void {
  if (!isMainModule(moduleUrl)) return;
  try {
    run(spec);
    process.exit(process.exitCode ?? 0);
  } catch (error) {
    console.error(error);
    process.exit(1);
  }
}

function run<C extends { rounds: number; roundMs: number }, R extends { figures: Record<string, Figure> }>(spec: RoundsBenchSpec<C, R>): void {
  const args = new BenchArgs(process.argv.slice(2));
  const quick = args.has('--quick');
  const config: C = { ...(quick ? spec.quick : spec.full) };
  config.rounds = args.num('--rounds', config.rounds, 1);
  config.roundMs = args.num('--round-ms', config.roundMs, 1);
  const out = args.value('--out') ?? null;
  args.rejectUnknown();
  console.log(`machine: ${formatMachineInfo(machineInfo())}`);
  console.log(`${spec.name} bench${quick ? ' (--quick smoke run)' : ''}: ${JSON.stringify(config)}`);
  const cpu = watchCpu();
  const report = spec.run(config, (line) => console.log(`  ${line}`));
  spec.print(report);
  const conditions = cpu();
  console.log(`\ntook ${conditions.wallS} s; CPU used by this process ${conditions.processS} s; machine busy ${conditions.machineBusyS} s`);
  if (quick && out === null) return;
  const path = writeResults(spec.name, { ...config }, report.figures, { ...spec.extra(report), conditions }, out ?? undefined);
  console.log(`wrote ${path}`);
}
