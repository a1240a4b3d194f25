/**
 * Writes bench/results/<name>.json in the shape /work/shared/BENCH.md fixes:
 *
 *   { name, runAt, machine, params, figures: { <id>: { value, unit, goal, met, baseline, ... } }, ...extra }
 *
 * `figures` is a flat map, one entry per figure a goal or a comparison speaks of; fuller data
 * (percentile sets, per-strategy tables) goes in `extra`, whose keys follow `figures`.
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineInfo, type MachineInfo } from './machine.ts';

export interface Figure {
  value: number;
  unit: string;
  /** The target as text: "<= 1000", ">= 2000000", or "(report)" when there is none. */
  goal: string;
  /** Whether value meets goal; null when the goal is "(report)". */
  met: boolean | null;
  /** The same figure for the comparison measured in the same run, or null. */
  baseline: number | null;
  baselineOf?: string;
  [detail: string]: unknown;
}

export interface BenchResults {
  name: string;
  runAt: string;
  machine: MachineInfo;
  params: Record<string, unknown>;
  figures: Record<string, Figure>;
  [extra: string]: unknown;
}

export const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));

/** Whether value meets a goal written "<= n", "< n", ">= n", "> n" or "== n"; null for any other text. */
export function meetsGoal(value: number, goal: string): boolean | null {
  const match = /^\s*(<=|>=|<|>|==)\s*(-?[\d.]+(?:e[+-]?\d+)?)\s*$/i.exec(goal);
  if (match === null) return null;
  const target = Number(match[2]);
  switch (match[1]) {
    case '<=': return value <= target;
    case '>=': return value >= target;
    case '<': return value < target;
    case '>': return value > target;
    default: return value === target;
  }
}

/** A figure with `met` computed from its goal; details (e.g. { strategy: 'spin' }) are added as keys. */
export function figure(
  value: number,
  unit: string,
  goal: string,
  baseline: number | null = null,
  baselineOf?: string,
  details: Record<string, unknown> = {},
): Figure {
  const result: Figure = { value, unit, goal, met: meetsGoal(value, goal), baseline };
  if (baselineOf !== undefined) result.baselineOf = baselineOf;
  return Object.assign(result, details);
}

export function buildResults(
  name: string,
  params: Record<string, unknown>,
  figures: Record<string, Figure>,
  extra: Record<string, unknown> = {},
  machine: MachineInfo = machineInfo(),
  runAt: Date = new Date(),
): BenchResults {
  for (const key of ['name', 'runAt', 'machine', 'params', 'figures']) {
    if (key in extra) throw new Error(`Condition failed: extra key ${key} is not reserved`);
  }
  return { name, runAt: runAt.toISOString().replace(/\.\d{3}Z$/, 'Z'), machine, params, figures, ...extra };
}

/** Writes <dir>/<name>.json (dir defaults to bench/results) and returns its path. */
export function writeResults(
  name: string,
  params: Record<string, unknown>,
  figures: Record<string, Figure>,
  extra: Record<string, unknown> = {},
  dir: string = RESULTS_DIR,
): string {
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(name)) throw new Error(`Condition failed: results name ${name} is a plain file name`);
  const results = buildResults(name, params, figures, extra);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.json`);
  writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
  return path;
}
