/**
 * Command-line flags of the benchmarks: `--name value` pairs and bare `--flag`s, each value
 * validated where it is read, with the flag named in the error. Every flag a benchmark reads is
 * remembered, so that once it has read them all, rejectUnknown() refuses any other word (a typo
 * or `--help` must not start a full run that overwrites the committed results).
 */

export class BenchArgs {
  private readonly argv: readonly string[];
  /** Flags the benchmark asked about, present or not. */
  private readonly known = new Set<string>();
  /** Indices of argv taken: present flags and their values. */
  private readonly taken = new Set<number>();

  constructor(argv: readonly string[]) {
    this.argv = argv;
  }

  /** Whether the bare flag is present. */
  has(flag: string): boolean {
    this.known.add(flag);
    const i = this.argv.indexOf(flag);
    if (i < 0) return false;
    this.taken.add(i);
    return true;
  }

  /**
   * The word after `name`, or undefined when the flag is absent; throws when the flag is given
   * without a value (last, or followed by another `--flag`), so `--out` with its directory
   * forgotten never runs the default and overwrites the committed results.
   */
  value(name: string): string | undefined {
    const v = this.rawValue(name);
    if (v === null || (v !== undefined && v.startsWith('--'))) throw new Error(`Condition failed: ${name} needs a value`);
    return v;
  }

  /** The word after `name` whatever it is (null: the flag is last), undefined when absent. */
  private rawValue(name: string): string | null | undefined {
    this.known.add(name);
    const i = this.argv.indexOf(name);
    if (i < 0) return undefined;
    this.taken.add(i);
    if (i + 1 >= this.argv.length) return null;
    this.taken.add(i + 1);
    return this.argv[i + 1];
  }

  /**
   * Call after every flag was read: throws, naming the flags this benchmark takes, when argv
   * holds a word no read took (an unknown flag, `--help`, a stray value).
   */
  rejectUnknown(): void {
    const stray = this.argv.filter((_, i) => !this.taken.has(i));
    if (stray.length === 0) return;
    const flags = [...this.known].sort().join(' ');
    throw new Error(`Condition failed: unknown argument(s) ${stray.join(' ')}; nothing was run. This benchmark takes: ${flags || '(no flags)'}`);
  }

  /** A number >= min after `name`, or fallback when the flag is absent. */
  num<F extends number | null = number>(name: string, fallback: F, min: number): number | F {
    const v = this.value(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new Error(`Condition failed: ${name} ${v} must be a number >= ${min}`);
    return n;
  }

  /** An integer >= min after `name` (a count: trials, connections, events), or fallback when the flag is absent. */
  int(name: string, fallback: number, min: number): number {
    const n = this.num(name, fallback, min);
    if (!Number.isInteger(n)) throw new Error(`Condition failed: ${name} ${n} must be an integer >= ${min}`);
    return n;
  }

  /** Comma-separated words after `name`, or null when the flag is absent. */
  list(name: string): string[] | null {
    const v = this.value(name);
    return v === undefined ? null : v.split(',');
  }

  /** Comma-separated positive numbers after `name`, or fallback when the flag is absent. */
  positiveList(name: string, fallback: number[]): number[] {
    const words = this.list(name);
    if (words === null) return fallback;
    const values = words.map(Number);
    if (values.some((x) => !(x > 0))) throw new Error(`Condition failed: ${name} ${words.join(',')} are positive numbers`);
    return values;
  }

  /** One of `values` after `name`, or fallback when the flag is absent. */
  oneOf<T extends string, F>(name: string, values: readonly T[], fallback: F): T | F {
    const v = this.value(name);
    if (v === undefined) return fallback;
    if (!(values as readonly string[]).includes(v)) throw new Error(`Condition failed: ${name} ${v} must be one of ${values.join(', ')}`);
    return v as T;
  }

  /** Comma-separated words after `name`, each one of `values`, without repeats ('' for none); fallback when the flag is absent. */
  listOf<T extends string>(name: string, values: readonly T[], fallback: T[]): T[] {
    const words = this.list(name);
    if (words === null) return fallback;
    const chosen = words.filter((w) => w !== '');
    const bad = chosen.filter((w) => !(values as readonly string[]).includes(w));
    if (bad.length > 0) throw new Error(`Condition failed: ${name} ${bad.join(',')} must be among ${values.join(', ')}`);
    return [...new Set(chosen)] as T[];
  }

  /**
   * Node options after `name`, separated by spaces in one word (`--name "--cpu-prof
   * --cpu-prof-dir=/tmp/p"`), each a `--option` or `--option=value`; [] when the flag is absent,
   * an error when it has no value.
   */
  nodeOptions(name: string): string[] {
    const raw = this.rawValue(name);
    if (raw === undefined) return [];
    const v = raw ?? '';
    const words = v.split(/\s+/).filter((w) => w !== '');
    const bad = words.filter((w) => !/^--[a-z0-9][a-z0-9_-]*(=.*)?$/i.test(w));
    if (words.length === 0 || bad.length > 0) throw new Error(`Condition failed: ${name} takes Node options like "--cpu-prof --cpu-prof-dir=DIR", got ${JSON.stringify(v)}`);
    return words;
  }
}

/** The flags of a bench that takes only --quick: whether it was given (any other flag throws, as rejectUnknown). */
export function quickOnly(argv: string[] = process.argv.slice(2)): boolean {
  const args = new BenchArgs(argv);
  const quick = args.has('--quick');
  args.rejectUnknown();
  return quick;
}

/**
 * A benchmark's environment variable as a number >= min (an integer when `integer`), or fallback
 * when it is unset or empty; throws naming the variable otherwise, as a flag's bad value does.
 */
export function envNumber(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, integer = false): number {
  const v = env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
    throw new Error(`Condition failed: ${name}=${v} must be ${integer ? 'an integer' : 'a number'} >= ${min}`);
  }
  return n;
}
