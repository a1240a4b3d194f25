/** Goal: routing changes are validated, versioned and kept in a bounded history. */
import { describe, expect, it } from 'vitest';
import { Reason } from '../../engine/reasons.ts';
import { SorAdmin, modeId } from './sor-admin.ts';

const initial = { weights: { price: 0.5, latency: 0.2, fillprob: 0.2, fee: 0.1 }, quoteStaleMs: 2000, mode: 'SINGLE_BEST' };

describe('SorAdmin', () => {
  it('a partial change merges with the settings in force and gets the next version', () => {
    const a = new SorAdmin(initial);
    const v = a.validate({ weights: { price: 0.4, fee: 0.2 } });
    expect(v.ok).toBe(true);
    if (!v.ok) return;
    expect(v.settings.weights).toEqual({ price: 0.4, latency: 0.2, fillprob: 0.2, fee: 0.2 });
    const c = a.commit(v.settings, 'OPS');
    expect(c.version).toBe(1);
    expect(a.view().current.changedBy).toBe('OPS');
    expect(a.view().history.map((h) => h.version)).toEqual([1, 0]);
  });

  it('refuses bad bodies with a reason and a text naming the problem', () => {
    const a = new SorAdmin(initial);
    const cases: [unknown, RegExp][] = [
      [null, /object/],
      [[], /object/],
      [{ bogus: 1 }, /unknown setting/],
      [{ weights: { price: 0.6 } }, /sum to 1/],
      [{ weights: { price: -0.1, fee: 0.7 } }, /weights.price/],
      [{ weights: { price: '0.5' } }, /weights.price/],
      [{ weights: { speed: 1 } }, /unknown weight/],
      [{ weights: { price: 0.4999999, fee: 0.1000001 } }, /6 decimals/],
      [{ quoteStaleMs: 0 }, /quoteStaleMs/],
      [{ quoteStaleMs: 1.5 }, /quoteStaleMs/],
      [{ mode: 'BEST' }, /mode/],
      [{ mode: 2 }, /mode/],
    ];
    for (const [body, text] of cases) {
      const v = a.validate(body);
      expect(v.ok, JSON.stringify(body)).toBe(false);
      if (v.ok) continue;
      expect(v.text).toMatch(text);
      expect([Reason.MALFORMED, Reason.INVALID_FIELD]).toContain(v.reason);
    }
    expect(a.view().current.version).toBe(0);
  });

  it('accepts each routing mode the SOR implements, with its record id', () => {
    const a = new SorAdmin(initial);
    for (const [mode, id] of [['SINGLE_BEST', 0], ['SPLIT', 1], ['STAGED', 2]] as const) {
      const v = a.validate({ mode });
      expect(v.ok).toBe(true);
      if (v.ok) expect(v.settings.mode).toBe(mode);
      expect(modeId(mode)).toBe(id);
    }
  });

  it('keeps at most 50 changes of history', () => {
    const a = new SorAdmin(initial);
    for (let i = 0; i < 80; i++) a.commit(initial, 'OPS');
    expect(a.view().history.length).toBe(50);
    expect(a.view().history[0].version).toBe(80);
  });
});
