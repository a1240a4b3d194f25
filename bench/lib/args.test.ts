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
