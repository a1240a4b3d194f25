// Goal: the one decimal <-> tick conversion module refuses every malformed or out-of-range input
// with INVALID, accepts every well-formed one exactly, and writes the shortest decimal.
// Method: hand-picked edge cases, each parsed from a slice inside a larger buffer so that the
// [start, end) bounds are exercised too.
import { describe, expect, it } from 'vitest';
import {
  averagePriceTicks,
  INVALID,
  MAX_PRICE_TICKS,
  MAX_QTY,
  missedFillPriceTicks,
  PRICE_DECIMALS,
  PRICE_SCALE,
  parseDecimalTicks,
  parseUint,
  ticksFromDecimalString,
  ticksFromJsonNumber,
  ticksToDecimalString,
  writeDecimalTicks,
  writeUint,
  MAX_NOTIONAL_TICKS,
} from './fixed-point.ts';

/** Parses text placed between junk digits, so reading outside [start, end) would show. */
function dec(text: string, maxTicks = Number.MAX_SAFE_INTEGER): number {
  const bytes = Buffer.from(`99${text}99`, 'latin1');
  return parseDecimalTicks(bytes, 2, 2 + text.length, maxTicks);
}
function uint(text: string, max = Number.MAX_SAFE_INTEGER): number {
  const bytes = Buffer.from(`77${text}77`, 'latin1');
  return parseUint(bytes, 2, 2 + text.length, max);
}
function writeDec(ticks: number): string {
  const bytes = new Uint8Array(48).fill(0x23);
  const end = writeDecimalTicks(bytes, 3, ticks);
  // Bytes before the offset and after the end stay untouched.
  expect(Array.from(bytes.subarray(0, 3))).toEqual([0x23, 0x23, 0x23]);
  expect(Array.from(bytes.subarray(end))).toEqual(new Array(48 - end).fill(0x23));
  return Buffer.from(bytes.subarray(3, end)).toString('latin1');
}
function writeU(value: number): string {
  const bytes = new Uint8Array(32).fill(0x23);
  const end = writeUint(bytes, 5, value);
  expect(Array.from(bytes.subarray(0, 5))).toEqual([0x23, 0x23, 0x23, 0x23, 0x23]);
  expect(Array.from(bytes.subarray(end))).toEqual(new Array(32 - end).fill(0x23));
  return Buffer.from(bytes.subarray(5, end)).toString('latin1');
}

describe('constants', () => {
  it('agree with each other', () => {
    expect(PRICE_SCALE).toBe(10 ** PRICE_DECIMALS);
    expect(MAX_PRICE_TICKS).toBe(10_000_000 * PRICE_SCALE);
    expect(Number.isSafeInteger(MAX_PRICE_TICKS)).toBe(true);
  });

  it('notional exactness is enforced per order: an inexact product is always above the notional bound', () => {
    // The doc comment of fixed-point.ts: MAX_QTY * MAX_PRICE_TICKS may exceed 2^53, so risk
    // refuses any order above MAX_NOTIONAL_TICKS; a rounded product of exact integers that is not
    // exact is >= 2^53 and so above the bound, and everything at or below it is exact.
    expect(MAX_NOTIONAL_TICKS).toBe(Number.MAX_SAFE_INTEGER);
    expect(MAX_QTY * MAX_PRICE_TICKS).toBeGreaterThan(MAX_NOTIONAL_TICKS);
    expect(Number.isSafeInteger(MAX_QTY) && Number.isSafeInteger(MAX_PRICE_TICKS)).toBe(true);
    const a = 94_906_267; // a * a = 2^53 + a few: not exact
    expect(a * a).toBeGreaterThan(MAX_NOTIONAL_TICKS);
  });
});

describe('parseDecimalTicks', () => {
  it('parses plain decimals', () => {
    expect(dec('177.25')).toBe(177_250_000);
    expect(dec('100')).toBe(100_000_000);
    expect(dec('0')).toBe(0);
    expect(dec('0.0')).toBe(0);
    expect(dec('0.000001')).toBe(1);
    expect(dec('1.123456')).toBe(1_123_456);
    expect(dec('007.50')).toBe(7_500_000);
  });

  it('accepts a missing integer part or a missing fraction', () => {
    expect(dec('.5')).toBe(500_000);
    expect(dec('1.')).toBe(1_000_000);
    expect(dec('.000001')).toBe(1);
  });

  it('refuses empty input, a lone dot and an empty range', () => {
    expect(dec('')).toBe(INVALID);
    expect(dec('.')).toBe(INVALID);
    const bytes = Buffer.from('123', 'latin1');
    expect(parseDecimalTicks(bytes, 2, 1, MAX_PRICE_TICKS)).toBe(INVALID);
  });

  it('refuses two dots', () => {
    expect(dec('1.2.3')).toBe(INVALID);
    expect(dec('1..2')).toBe(INVALID);
    expect(dec('..')).toBe(INVALID);
    expect(dec('1.0.')).toBe(INVALID);
  });

  it('refuses signs, spaces, exponents and other characters', () => {
    for (const t of ['-1', '+1', '-0', '1-', ' 1', '1 ', '1e3', '1E3', '0x10', '1,5', 'abc', '1/2', ':', '\u0000']) {
      expect(dec(t), JSON.stringify(t)).toBe(INVALID);
    }
  });

  it('more than 6 decimals: trailing zeros accepted, a non-zero digit refused', () => {
    expect(dec('1.0000000')).toBe(1_000_000);
    expect(dec('1.1234560000000')).toBe(1_123_456);
    expect(dec('0.0000000')).toBe(0);
    expect(dec('1.0000001')).toBe(INVALID);
    expect(dec('1.1234565')).toBe(INVALID);
    expect(dec('0.00000000000009')).toBe(INVALID);
    expect(dec('.0000001')).toBe(INVALID);
  });

  it('accepts exactly maxTicks and refuses one tick more', () => {
    expect(dec('10000000', MAX_PRICE_TICKS)).toBe(MAX_PRICE_TICKS);
    expect(dec('10000000.000000', MAX_PRICE_TICKS)).toBe(MAX_PRICE_TICKS);
    expect(dec('9999999.999999', MAX_PRICE_TICKS)).toBe(MAX_PRICE_TICKS - 1);
    expect(dec('10000000.000001', MAX_PRICE_TICKS)).toBe(INVALID);
    expect(dec('10000001', MAX_PRICE_TICKS)).toBe(INVALID);
    expect(dec('0000010000000', MAX_PRICE_TICKS)).toBe(MAX_PRICE_TICKS);
  });

  it('overflow only when the scaled value exceeds the max (the integer part is scaled up)', () => {
    // 10 units = 10^7 ticks: above a max of 9,999,999 ticks though "10" itself is small.
    expect(dec('10', 9_999_999)).toBe(INVALID);
    expect(dec('9.999999', 9_999_999)).toBe(9_999_999);
    expect(dec('0', 0)).toBe(0);
    expect(dec('0.000001', 0)).toBe(INVALID);
  });

  it('is exact up to the largest safe integer and refuses beyond it', () => {
    expect(dec('9007199254.740991')).toBe(Number.MAX_SAFE_INTEGER);
    expect(dec('9007199254.740992')).toBe(INVALID);
    expect(dec('9007199254740991')).toBe(INVALID);
    expect(dec('99999999999999999999999999999')).toBe(INVALID);
    expect(dec('0.' + '0'.repeat(200))).toBe(0);
  });
});

describe('parseUint', () => {
  it('parses digits', () => {
    expect(uint('0')).toBe(0);
    expect(uint('7')).toBe(7);
    expect(uint('007')).toBe(7);
    expect(uint('100000000')).toBe(100_000_000);
  });

  it('refuses empty input, signs, dots and other characters', () => {
    for (const t of ['', '-1', '+1', '1.0', '1.', '.5', ' 1', '1 ', '1e3', 'x', '/', ':']) {
      expect(uint(t), JSON.stringify(t)).toBe(INVALID);
    }
  });

  it('accepts exactly max and refuses max + 1', () => {
    expect(uint(String(MAX_QTY), MAX_QTY)).toBe(MAX_QTY);
    expect(uint(String(MAX_QTY + 1), MAX_QTY)).toBe(INVALID);
    expect(uint(String(Number.MAX_SAFE_INTEGER))).toBe(Number.MAX_SAFE_INTEGER);
    expect(uint('9007199254740992')).toBe(INVALID);
    expect(uint('1'.repeat(100))).toBe(INVALID);
    expect(uint('0', 0)).toBe(0);
    expect(uint('1', 0)).toBe(INVALID);
  });
});

describe('writeDecimalTicks', () => {
  it('writes the shortest decimal, trailing fractional zeros dropped', () => {
    expect(writeDec(177_250_000)).toBe('177.25');
    expect(writeDec(100_000_000)).toBe('100');
    expect(writeDec(0)).toBe('0');
    expect(writeDec(1)).toBe('0.000001');
    expect(writeDec(10)).toBe('0.00001');
    expect(writeDec(500_000)).toBe('0.5');
    expect(writeDec(1_000_010)).toBe('1.00001');
    expect(writeDec(1_123_456)).toBe('1.123456');
    expect(writeDec(MAX_PRICE_TICKS)).toBe('10000000');
    expect(writeDec(Number.MAX_SAFE_INTEGER)).toBe('9007199254.740991');
  });

  it('writes a leading minus for negative values', () => {
    expect(writeDec(-1_500_000)).toBe('-1.5');
    expect(writeDec(-1)).toBe('-0.000001');
    expect(writeDec(-100_000_000)).toBe('-100');
    expect(writeDec(-Number.MAX_SAFE_INTEGER)).toBe('-9007199254.740991');
    expect(writeDec(-0)).toBe('0');
  });

  it('refuses values that are not safe integers', () => {
    const bytes = new Uint8Array(64);
    expect(() => writeDecimalTicks(bytes, 0, 1.5)).toThrow(/Condition failed/);
    expect(() => writeDecimalTicks(bytes, 0, Number.MAX_SAFE_INTEGER + 1)).toThrow(/Condition failed/);
    expect(() => writeDecimalTicks(bytes, 0, NaN)).toThrow(/Condition failed/);
    expect(() => writeDecimalTicks(bytes, 0, Infinity)).toThrow(/Condition failed/);
  });

  it('returns the offset after the last byte', () => {
    const bytes = new Uint8Array(32);
    expect(writeDecimalTicks(bytes, 4, 177_250_000)).toBe(4 + '177.25'.length);
    expect(writeDecimalTicks(bytes, 0, 0)).toBe(1);
  });
});

describe('writeUint', () => {
  it('writes digits and returns the end offset', () => {
    expect(writeU(0)).toBe('0');
    expect(writeU(7)).toBe('7');
    expect(writeU(10)).toBe('10');
    expect(writeU(1_000_000)).toBe('1000000');
    expect(writeU(Number.MAX_SAFE_INTEGER)).toBe('9007199254740991');
    const bytes = new Uint8Array(32);
    expect(writeUint(bytes, 3, 12345)).toBe(8);
  });
});

describe('ticksFromJsonNumber', () => {
  it('converts JSON numbers through their decimal text', () => {
    expect(ticksFromJsonNumber(177.25, MAX_PRICE_TICKS)).toBe(177_250_000);
    expect(ticksFromJsonNumber(0.1, MAX_PRICE_TICKS)).toBe(100_000);
    expect(ticksFromJsonNumber(0.3, MAX_PRICE_TICKS)).toBe(300_000);
    expect(ticksFromJsonNumber(100, MAX_PRICE_TICKS)).toBe(100_000_000);
    expect(ticksFromJsonNumber(0, MAX_PRICE_TICKS)).toBe(0);
    expect(ticksFromJsonNumber(-0, MAX_PRICE_TICKS)).toBe(0);
    expect(ticksFromJsonNumber(0.000001, MAX_PRICE_TICKS)).toBe(1);
    expect(ticksFromJsonNumber(1e7, MAX_PRICE_TICKS)).toBe(MAX_PRICE_TICKS);
  });

  it('refuses binary error, sub-tick values, exponents and out-of-range values', () => {
    expect(ticksFromJsonNumber(0.1 + 0.2, MAX_PRICE_TICKS)).toBe(INVALID);
    expect(ticksFromJsonNumber(1e-7, MAX_PRICE_TICKS)).toBe(INVALID);
    expect(ticksFromJsonNumber(1.0000001, MAX_PRICE_TICKS)).toBe(INVALID);
    expect(ticksFromJsonNumber(1e21, Number.MAX_SAFE_INTEGER)).toBe(INVALID);
    expect(ticksFromJsonNumber(10_000_000.000001, MAX_PRICE_TICKS)).toBe(INVALID);
    expect(ticksFromJsonNumber(-1, MAX_PRICE_TICKS)).toBe(INVALID);
    expect(ticksFromJsonNumber(-0.5, MAX_PRICE_TICKS)).toBe(INVALID);
  });

  it('refuses what is not a finite number', () => {
    for (const v of [NaN, Infinity, -Infinity, '1', '177.25', null, undefined, true, {}, [], 1n]) {
      expect(ticksFromJsonNumber(v, MAX_PRICE_TICKS), String(v)).toBe(INVALID);
    }
  });
});

describe('ticksFromDecimalString (config, REST and WebSocket text)', () => {
  it('parses decimal text', () => {
    expect(ticksFromDecimalString('177.25', MAX_PRICE_TICKS)).toBe(177_250_000);
    expect(ticksFromDecimalString('0.000001', MAX_PRICE_TICKS)).toBe(1);
    expect(ticksFromDecimalString('10', MAX_PRICE_TICKS)).toBe(10_000_000);
  });

  it('refuses characters past ASCII whose low byte is a digit or a point', () => {
    // U+2030 (per mille) and U+0130-U+0139 end in 0x30-0x39; U+202E and U+012E end in 0x2e.
    for (const text of ['1\u2030', '\u0131' + '77.25', '1\u202e5', '1\u012e5', '\u0130', '17\u0137.25', '\uff11', '1\u00b2']) {
      expect(ticksFromDecimalString(text, MAX_PRICE_TICKS), JSON.stringify(text)).toBe(INVALID);
    }
  });
});

describe('ticksToDecimalString', () => {
  it('renders ticks', () => {
    expect(ticksToDecimalString(177_250_000)).toBe('177.25');
    expect(ticksToDecimalString(0)).toBe('0');
    expect(ticksToDecimalString(1)).toBe('0.000001');
    expect(ticksToDecimalString(-2_500_000)).toBe('-2.5');
    expect(ticksToDecimalString(Number.MAX_SAFE_INTEGER)).toBe('9007199254.740991');
    expect(ticksToDecimalString(Number.MIN_SAFE_INTEGER)).toBe('-9007199254.740991');
  });

  it('refuses a non-integer', () => {
    expect(() => ticksToDecimalString(0.5)).toThrow(/Condition failed/);
  });
});

describe('averagePriceTicks', () => {
  it('divides notional by the absolute quantity, rounded to the tick; 0 for no quantity', () => {
    expect(averagePriceTicks(300, 3)).toBe(100);
    expect(averagePriceTicks(1001, 2)).toBe(501); // 500.5 rounds up
    expect(averagePriceTicks(900, -3)).toBe(300); // a short's cost over its size
    expect(averagePriceTicks(0, 0)).toBe(0);
  });
});

describe('missedFillPriceTicks (reconciliation of a lost fill from CumQty and AvgPx)', () => {
  const missed = (avgPx: string, cum: number, missing: number, known: number, max = MAX_PRICE_TICKS): number => {
    const bytes = Buffer.from(`88${avgPx}88`, 'latin1');
    return missedFillPriceTicks(bytes, 2, 2 + avgPx.length, cum, missing, known, max);
  };

  it('prices the missing shares so the notional matches CumQty x AvgPx', () => {
    expect(missed('98.5', 10, 10, 0)).toBe(98_500_000);
    expect(missed('99', 10, 4, 6 * 98 * PRICE_SCALE)).toBe(100_500_000); // 6 @ 98 known, 4 @ 100.5 lost
    expect(missed('100', 1, 1, 0)).toBe(100 * PRICE_SCALE);
  });

  it('is exact for an AvgPx finer than a tick, where rounding AvgPx first would be off', () => {
    // 3 @ 98 known, 3 @ 98.666667 lost: the average is 98.3333335 exactly.
    expect(missed('98.3333335', 6, 3, 3 * 98 * PRICE_SCALE)).toBe(98_666_667);
    // 999 @ 10 known, 1 @ 10.000001 lost: the average is 10.000000001.
    expect(missed('10.000000001', 1000, 1, 999 * 10 * PRICE_SCALE)).toBe(10_000_001);
  });

  it('rounds a price between ticks half up', () => {
    expect(missed('1.0000005', 1, 1, 0)).toBe(1_000_001);
    expect(missed('1.00000049', 1, 1, 0)).toBe(1_000_000);
  });

  it('refuses malformed text, a price at or below zero or above the max, and impossible quantities', () => {
    for (const text of ['', '.', '1..5', '-98', '9e1', ' 98', '98,5', '1'.repeat(41)]) expect(missed(text, 10, 10, 0)).toBe(INVALID);
    expect(missed('0', 10, 10, 0)).toBe(INVALID);
    expect(missed('0.0000004', 1, 1, 0)).toBe(INVALID); // rounds to 0 ticks
    expect(missed('98', 10, 5, 10 * 98 * PRICE_SCALE)).toBe(INVALID); // known notional already covers it
    expect(missed('10000000', 1, 1, 0)).toBe(MAX_PRICE_TICKS);
    expect(missed('10000000.000001', 1, 1, 0)).toBe(INVALID);
    expect(missed('98', 10, 0, 0)).toBe(INVALID);
    expect(missed('98', 5, 10, 0)).toBe(INVALID);
  });
});
