// Goal: the kill board (kill-board.ts) carries what ingest asked to risk: per account the latest
// mode, every HALTED ask counted (a halt undone before risk looked is not lost), the admin of the
// latest ask, and a generation that is even whenever the writer is not between its stores.
// Method: unit cases and a fast-check property over random sequences of asks.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AccountMode } from '../../codecs/records.ts';
import { KillBoard, killBoardBytes, modeOfWord } from './kill-board.ts';

describe('KillBoard', () => {
  it('sizes by account slot; refuses an account beyond it, and a mode that is none, changing nothing', () => {
    expect(killBoardBytes(4)).toBe(68);
    const b = KillBoard.create(4);
    expect(b.accountSlots).toBe(4);
    expect(() => new KillBoard(new SharedArrayBuffer(8))).toThrow(/kill board length/);
    expect(b.request(4, AccountMode.HALTED, 9)).toBe(false);
    expect(b.request(-1, AccountMode.HALTED, 9)).toBe(false);
    expect(b.request(1, 3, 9)).toBe(false);
    expect(b.generation()).toBe(0);
    expect([...b.words]).toEqual(new Array(17).fill(0));
  });

  it('an ask: the mode and a new count in MODE, HALTS counted for HALTED only, ADMIN, generation up by two', () => {
    const b = KillBoard.create(3);
    expect(b.request(2, AccountMode.HALTED, 7)).toBe(true);
    expect([modeOfWord(b.modeWord(2)), b.halts(2), b.admin(2), b.generation()]).toEqual([AccountMode.HALTED, 1, 7, 2]);
    const halted = b.modeWord(2);
    b.request(2, AccountMode.NORMAL, 8);
    expect([modeOfWord(b.modeWord(2)), b.halts(2), b.admin(2), b.haltAdmin(2), b.generation()]).toEqual([AccountMode.NORMAL, 1, 8, 7, 4]);
    // The same mode asked again is a new word: risk applies every ask.
    b.request(2, AccountMode.HALTED, 7);
    expect(b.modeWord(2)).not.toBe(halted);
    expect(b.modeWord(0)).toBe(0);
  });

  it('property: after any asks, each account shows the last mode asked, its HALTED asks, and a distinct word per ask', () => {
    fc.assert(fc.property(
      fc.array(fc.record({ account: fc.integer({ min: 0, max: 3 }), mode: fc.constantFrom(AccountMode.NORMAL, AccountMode.HALTED, AccountMode.REDUCE_ONLY), admin: fc.integer({ min: 1, max: 99 }) }), { maxLength: 60 }),
      (asks) => {
        const b = KillBoard.create(4);
        const seen = [new Set<number>([0]), new Set<number>([0]), new Set<number>([0]), new Set<number>([0])];
        for (const a of asks) {
          b.request(a.account, a.mode, a.admin);
          expect(seen[a.account].has(b.modeWord(a.account))).toBe(false);
          seen[a.account].add(b.modeWord(a.account));
        }
        expect(b.generation()).toBe(2 * asks.length);
        for (let acc = 0; acc < 4; acc++) {
          const mine = asks.filter((a) => a.account === acc);
          const last = mine.at(-1);
          expect(modeOfWord(b.modeWord(acc))).toBe(last?.mode ?? AccountMode.NORMAL);
          expect(b.admin(acc)).toBe(last?.admin ?? 0);
          expect(b.halts(acc)).toBe(mine.filter((a) => a.mode === AccountMode.HALTED).length);
          expect(b.haltAdmin(acc)).toBe(mine.filter((a) => a.mode === AccountMode.HALTED).at(-1)?.admin ?? 0);
        }
      },
    ));
  });
});
