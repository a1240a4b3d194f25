import { describe, expect, it } from 'vitest';
import { BenchArgs } from './args.ts';

const FLAG = '--target-node-args';

describe('BenchArgs.nodeOptions', () => {
  it('splits one word of Node options on spaces; absent gives none', () => {
    expect(new BenchArgs([FLAG, ' --cpu-prof  --cpu-prof-dir=/tmp/p --max-old-space-size=512 --max_semi_space_size=8 ']).nodeOptions(FLAG)).toEqual([
      '--cpu-prof', '--cpu-prof-dir=/tmp/p', '--max-old-space-size=512', '--max_semi_space_size=8',
    ]);
    expect(new BenchArgs(['--rates', '1000']).nodeOptions(FLAG)).toEqual([]);
  });

  it('refuses what is not a --option, and an empty or missing value, naming the flag', () => {
    for (const argv of [[FLAG, '--cpu-prof /tmp/p'], [FLAG, '-e process.exit()'], [FLAG, 'bench/x.ts'], [FLAG, '--'], [FLAG, '  '], [FLAG]]) {
      expect(() => new BenchArgs(argv).nodeOptions(FLAG), argv.join(' ')).toThrow(/--target-node-args takes Node options/);
    }
  });
});

describe('BenchArgs.rejectUnknown', () => {
  function read(argv: string[]): BenchArgs {
    const a = new BenchArgs(argv);
    a.has('--quick');
    a.num('--rates', 1, 1);
    a.value('--out');
    return a;
  }

  it('passes when every word was taken by a read, present or absent flags alike', () => {
    expect(() => read([]).rejectUnknown()).not.toThrow();
    expect(() => read(['--quick', '--rates', '5', '--out', '/tmp/o']).rejectUnknown()).not.toThrow();
  });

  it('refuses an unknown flag, --help, a stray value and a repeated flag, naming them and the flags it takes', () => {
    for (const [argv, stray] of [[['--help'], '--help'], [['--quick', '--rats', '5'], '--rats 5'], [['extra'], 'extra'], [['--rates', '2', '--rates', '3'], '--rates 3']] as const) {
      expect(() => read([...argv]).rejectUnknown(), argv.join(' ')).toThrow(`unknown argument(s) ${stray}; nothing was run. This benchmark takes: --out --quick --rates`);
    }
  });

  it('a flag given without its value throws (last, or followed by another flag); Node options may start with --', () => {
    expect(() => new BenchArgs(['--out']).value('--out')).toThrow('--out needs a value');
    expect(() => new BenchArgs(['--out', '--quick']).value('--out')).toThrow('--out needs a value');
    expect(() => new BenchArgs(['--rates']).positiveList('--rates', [1])).toThrow('--rates needs a value');
    expect(new BenchArgs([FLAG, '--cpu-prof']).nodeOptions(FLAG)).toEqual(['--cpu-prof']);
  });
});

describe('bench:persist flags', () => {
  it('are read by main() from its argv, not at import (importing the bench reads nothing)', async () => {
    // An argv the bench would refuse: importing it must not read it.
    const argv = process.argv;
    process.argv = [...argv, '--not-a-persist-flag'];
    let mod: typeof import('../persist.bench.ts');
    try {
      mod = await import('../persist.bench.ts');
    } finally {
      process.argv = argv;
    }
    const { readPersistParams } = mod;
    const p = readPersistParams(['--rate', '500', '--trials', '1', '--out', '/tmp/x'], {});
    expect(p).toMatchObject({ hotRate: 500, hotTrials: 1, outDir: '/tmp/x', orders: 20_000, serversNice: 10 });
    expect(readPersistParams([], { PERSIST_RATE: '700' }).hotRate).toBe(700);
    expect(readPersistParams([], {}).drains).toBe(3);
    expect(readPersistParams(['--drains', '5'], {}).drains).toBe(5);
    expect(() => readPersistParams(['--drains', '0'], {})).toThrow(/--drains/);
    // Counts are integers, from a flag or from the environment; a bad variable is named, not run as NaN.
    expect(() => readPersistParams(['--drains', '2.5'], {})).toThrow(/--drains 2.5 must be an integer >= 1/);
    expect(() => readPersistParams(['--trials', '1.5'], {})).toThrow(/--trials 1.5 must be an integer/);
    expect(readPersistParams([], { PERSIST_DRAINS: '5' }).drains).toBe(5);
    expect(readPersistParams([], { PERSIST_DRAINS: '' }).drains).toBe(3);
    expect(() => readPersistParams([], { PERSIST_DRAINS: 'abc' })).toThrow(/PERSIST_DRAINS=abc must be an integer >= 1/);
    expect(() => readPersistParams([], { PERSIST_TRIALS: '0' })).toThrow(/PERSIST_TRIALS=0/);
    expect(() => readPersistParams([], { PERSIST_RATE: 'fast' })).toThrow(/PERSIST_RATE=fast must be a number >= 1/);
    expect(readPersistParams([], { PERSIST_RATE: '250.5' }).hotRate).toBe(250.5);
    // The flag wins over the variable.
    expect(readPersistParams(['--drains', '2'], { PERSIST_DRAINS: '7' }).drains).toBe(2);
    expect(readPersistParams([], {}).threading).toBeNull();
    expect(readPersistParams(['--threading', 'shared'], {}).threading).toBe('shared');
    expect(() => readPersistParams(['--threading', 'two'], {})).toThrow(/--threading two must be one of dedicated, paired, shared, auto/);
    expect(() => readPersistParams(['--help'], {})).toThrow(/--help/);
  });
});
