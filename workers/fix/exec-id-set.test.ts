// Goal: the ExecID set says "seen" exactly for (venue, ExecID) pairs added before, as long as
// they are among the last capacity/2 distinct adds, never for a pair not added, and stays within
// its fixed memory when fed forever. Method: fast-check sequences against a Set as the naive
// reference, then a long stream with a small table.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ExecIdSet, MAX_EXEC_ID } from './exec-id-set.ts';

const bytes = (s: string) => Buffer.from(s, 'latin1');

describe('ExecIdSet', () => {
  it('matches a Set while within capacity/2 distinct entries (property)', () => {
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.integer({ min: 1, max: 3 }), fc.string({ minLength: 1, maxLength: 70 })), { maxLength: 300 }),
      (adds) => {
        const set = new ExecIdSet(1024); // 512 >= 300 adds
        const ref = new Set<string>();
        for (const [venue, id] of adds) {
          const b = bytes(id);
          const key = `${venue}\u0000${b.toString('latin1')}`;
          expect(set.add(venue, b, 0, b.length)).toBe(!ref.has(key));
          ref.add(key);
          expect(set.has(venue, b, 0, b.length)).toBe(true);
        }
      },
    ), { seed: 4242, numRuns: 200 });
  });

  it('tells apart ids that share their first MAX_EXEC_ID bytes, and the same id on two venues', () => {
    const set = new ExecIdSet(64);
    const long = 'X'.repeat(MAX_EXEC_ID);
    expect(set.add(1, bytes(`${long}A`), 0, MAX_EXEC_ID + 1)).toBe(true);
    expect(set.add(1, bytes(`${long}B`), 0, MAX_EXEC_ID + 1)).toBe(true);
    expect(set.add(1, bytes(`${long}A`), 0, MAX_EXEC_ID + 1)).toBe(false);
    expect(set.add(2, bytes('E1'), 0, 2)).toBe(true);
    expect(set.add(3, bytes('E1'), 0, 2)).toBe(true);
    expect(set.add(2, bytes('E1'), 0, 2)).toBe(false);
  });

  it('remembers at least the last capacity/2 entries of an endless stream, and never invents one', () => {
    const set = new ExecIdSet(256);
    for (let i = 0; i < 100_000; i++) {
      const b = bytes(`E${i}`);
      expect(set.add(1, b, 0, b.length)).toBe(true);
      if (i >= 128) {
        const old = bytes(`E${i - 127}`);
        expect(set.has(1, old, 0, old.length)).toBe(true);
      }
    }
    const never = bytes('never');
    expect(set.has(1, never, 0, never.length)).toBe(false);
  });
});
