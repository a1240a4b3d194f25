// Goal: the ExecID set says "seen" exactly for (venue, ExecID) pairs added before, as long as
// they are among the last capacity/2 distinct adds, never for a pair not added, and stays within
// its fixed memory when fed forever. Method: fast-check sequences against a Set as the naive
// reference, then a long stream with a small table. After a restart the set is rebuilt from the
// hashes alone (restore): the rebuilt set must answer as the one that saw the bytes, for the
// same (venue, ExecID) pairs and for new ones.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ExecIdSet, MAX_EXEC_ID, execIdHash } from './exec-id-set.ts';

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

  it('restore: an ExecID known only by its hash is a duplicate on its venue only; restoring twice is a no-op', () => {
    const set = new ExecIdSet(64);
    const e1 = bytes('EXEC-1');
    const h = execIdHash(1, e1, 0, e1.length);
    expect(Number.isSafeInteger(h) && h > 0 && h < 2 ** 52).toBe(true);
    expect(execIdHash(2, e1, 0, e1.length)).not.toBe(h); // the venue seeds the hash
    expect(set.restore(1, h)).toBe(true);
    expect(set.restore(1, h)).toBe(false);
    expect(set.has(1, e1, 0, e1.length)).toBe(true);
    expect(set.add(1, e1, 0, e1.length)).toBe(false); // the resend after the restart
    expect(set.add(2, e1, 0, e1.length)).toBe(true); // same ExecID, another venue
    const e2 = bytes('EXEC-2');
    expect(set.add(1, e2, 0, e2.length)).toBe(true);
    expect(set.restore(1, execIdHash(1, e2, 0, e2.length))).toBe(false); // already held exactly
    expect(() => set.restore(1, 0)).toThrow();
    expect(() => set.restore(1, 0.5)).toThrow();
  });

  it('a set restored from the hashes of what another set took answers as that set (property)', () => {
    const pair = fc.tuple(fc.integer({ min: 1, max: 3 }), fc.string({ minLength: 1, maxLength: 70 }));
    // After the restart: resends of what was taken before, mixed with new ExecIDs.
    const streams = fc.array(pair, { minLength: 1, maxLength: 150 })
      .chain((before) => fc.tuple(fc.constant(before), fc.array(fc.oneof(pair, fc.constantFrom(...before)), { maxLength: 150 })));
    fc.assert(fc.property(
      streams,
      ([before, after]) => {
        const live = new ExecIdSet(1024); // 512 >= 300 adds
        const rebuilt = new ExecIdSet(1024);
        for (const [venue, id] of before) {
          const b = bytes(id);
          // What the fix stage journals for each applied fill, replayed by recovery.
          if (live.add(venue, b, 0, b.length)) rebuilt.restore(venue, execIdHash(venue, b, 0, b.length));
        }
        for (const [venue, id] of after) {
          const b = bytes(id);
          expect(rebuilt.add(venue, b, 0, b.length)).toBe(live.add(venue, b, 0, b.length));
        }
      },
    ), { seed: 4243, numRuns: 200 });
  });

  it('restored entries age out like added ones, within the same fixed memory', () => {
    const set = new ExecIdSet(256);
    for (let i = 0; i < 10_000; i++) {
      const b = bytes(`R${i}`);
      expect(set.restore(1, execIdHash(1, b, 0, b.length))).toBe(true);
    }
    for (let i = 10_000 - 127; i < 10_000; i++) {
      const b = bytes(`R${i}`);
      expect(set.has(1, b, 0, b.length)).toBe(true);
    }
    const gone = bytes('R0');
    expect(set.add(1, gone, 0, gone.length)).toBe(true);
  });
});
