/**
 * Fixed-point prices and money: the one module that converts between decimals and integers.
 *
 * Every price inside the engine is an integer number of *ticks* of 10^-6 of the currency unit
 * (PRICE_SCALE = 1,000,000), held in a plain JS number. The scale matches the seed schema's
 * NUMERIC(18,6) columns, so Postgres stores exactly what the engine computed. A plain number is
 * exact up to 2^53, so prices up to about 9,007,199,254 currency units are exact.
 *
 * Quantities are integer lots (shares) in plain numbers, at most MAX_QTY.
 *
 * MAX_QTY * MAX_PRICE_TICKS is far above 2^53, so not every (qty, price) pair has an exact
 * notional: exactness is enforced per order instead. Risk refuses any order whose notional
 * qty * priceTicks exceeds the account's limit, and config caps every limit at
 * MAX_NOTIONAL_TICKS = 2^53 - 1; a product of two exact integers rounds monotonically, so an
 * inexact product is always above the limit and refused. Every accepted notional, and every
 * cumulative fill notional (bounded by it), is therefore an exact integer.
 *
 * Money (notional, P&L) is in ticks too: qty * priceTicks, the same scale as price.
 * Never floats for money: decimals are parsed digit by digit, never through parseFloat.
 */

export const PRICE_SCALE = 1_000_000;
export const PRICE_DECIMALS = 6;
/** Largest price accepted anywhere: 10^7 currency units, so qty * price stays exact. */
export const MAX_PRICE_TICKS = 10_000_000 * PRICE_SCALE;
/** Largest quantity accepted anywhere. */
export const MAX_QTY = 100_000_000;
/** Largest notional in ticks (qty * priceTicks) of an accepted order: the exact-integer bound. */
export const MAX_NOTIONAL_TICKS = Number.MAX_SAFE_INTEGER;

// Each bound on its own must be exact: checked once at module load.
if (!Number.isSafeInteger(MAX_PRICE_TICKS)) throw new Error('Invariant: MAX_PRICE_TICKS exact');
if (!Number.isSafeInteger(MAX_QTY)) throw new Error('Invariant: MAX_QTY exact');
if (10 ** PRICE_DECIMALS !== PRICE_SCALE) throw new Error('Invariant: PRICE_SCALE = 10^PRICE_DECIMALS');

/** Returned by the parsers when the text is not a valid, in-range decimal. */
export const INVALID = -1;

const CH_0 = 48;
const CH_9 = 57;
const CH_DOT = 46;
const CH_MINUS = 45;

/**
 * Parses an unsigned ASCII decimal ("177.25", "100", "0.000001") from bytes[start, end) into
 * ticks. Returns INVALID for a sign, an empty string, a second dot, more than PRICE_DECIMALS
 * fractional digits that are not zero, or a value above maxTicks. Allocates nothing.
 */
export function parseDecimalTicks(bytes: Uint8Array, start: number, end: number, maxTicks: number): number {
  if (end <= start) return INVALID;
  let ticks = 0;
  let fractionDigits = -1; // -1: no dot seen yet
  let digits = 0;
  for (let i = start; i < end; i++) {
    const c = bytes[i];
    if (c === CH_DOT) {
      if (fractionDigits >= 0) return INVALID;
      fractionDigits = 0;
      continue;
    }
    if (c < CH_0 || c > CH_9) return INVALID;
    digits++;
    if (fractionDigits >= 0) {
      if (fractionDigits === PRICE_DECIMALS) {
        if (c !== CH_0) return INVALID; // finer than one tick
        continue;
      }
      fractionDigits++;
    }
    ticks = ticks * 10 + (c - CH_0);
    if (ticks > maxTicks) return INVALID;
  }
  if (digits === 0) return INVALID;
  const scaleUp = fractionDigits < 0 ? PRICE_DECIMALS : PRICE_DECIMALS - fractionDigits;
  for (let k = 0; k < scaleUp; k++) {
    ticks *= 10;
    if (ticks > maxTicks) return INVALID;
  }
  return ticks;
}

/**
 * Parses an unsigned ASCII integer from bytes[start, end). Returns INVALID for anything but
 * digits or a value above max. Allocates nothing.
 */
export function parseUint(bytes: Uint8Array, start: number, end: number, max: number): number {
  if (end <= start) return INVALID;
  let v = 0;
  for (let i = start; i < end; i++) {
    const c = bytes[i];
    if (c < CH_0 || c > CH_9) return INVALID;
    v = v * 10 + (c - CH_0);
    if (v > max) return INVALID;
  }
  return v;
}

/**
 * Writes ticks as an ASCII decimal into bytes at offset, with trailing fractional zeros dropped
 * ("177.25", "100"). Negative values get a leading '-'. Returns the offset after the last byte.
 * Allocates nothing.
 */
export function writeDecimalTicks(bytes: Uint8Array, offset: number, ticks: number): number {
  if (!Number.isSafeInteger(ticks)) throw new Error('Condition failed: ticks is a safe integer');
  if (ticks < 0) {
    bytes[offset++] = CH_MINUS;
    ticks = -ticks;
  }
  const units = Math.floor(ticks / PRICE_SCALE);
  return writeDecimalParts(bytes, offset, units, ticks - units * PRICE_SCALE);
}

/**
 * writeDecimalTicks of units * PRICE_SCALE + fraction, for units >= 0 and 0 <= fraction <
 * PRICE_SCALE: a caller that splits a price itself passes two small integers, never a number
 * past the small-integer range (which a call would box). Allocates nothing.
 */
export function writeDecimalParts(bytes: Uint8Array, offset: number, units: number, fraction: number): number {
  offset = writeUint(bytes, offset, units);
  if (fraction === 0) return offset;
  bytes[offset++] = CH_DOT;
  let width = PRICE_DECIMALS;
  while (fraction % 10 === 0) {
    fraction /= 10;
    width--;
  }
  for (let i = width - 1; i >= 0; i--) {
    bytes[offset + i] = CH_0 + (fraction % 10);
    fraction = Math.floor(fraction / 10);
  }
  return offset + width;
}

/** Writes a non-negative integer in ASCII at offset; returns the offset after it. */
export function writeUint(bytes: Uint8Array, offset: number, value: number): number {
  if (value === 0) {
    bytes[offset] = CH_0;
    return offset + 1;
  }
  let len = 0;
  for (let v = value; v > 0; v = Math.floor(v / 10)) len++;
  for (let i = len - 1; i >= 0; i--) {
    bytes[offset + i] = CH_0 + (value % 10);
    value = Math.floor(value / 10);
  }
  return offset + len;
}

/**
 * Parses decimal text (e.g. "177.25") into ticks, or INVALID. For config, REST and command-line
 * text: allocates (a Buffer); not for the hot path, which parses bytes in place.
 */
export function ticksFromDecimalString(text: string, maxTicks: number): number {
  // UTF-8, not latin1: latin1 keeps only a character's low byte ('\u2030' would read as '0',
  // '\u0131' as '1'), where UTF-8 writes every character past ASCII as bytes >= 0x80, which the
  // parser refuses as it refuses any other non-digit.
  const bytes = Buffer.from(text, 'utf8');
  return parseDecimalTicks(bytes, 0, bytes.length, maxTicks);
}

/**
 * Converts a JS number that came from JSON (e.g. 177.25) to ticks, or INVALID. Only for the JSON
 * edge and config: the decimal text of the number is parsed, so 0.1 + 0.2 style binary error
 * never reaches the engine. Allocates (a string); not for the hot path.
 */
export function ticksFromJsonNumber(value: unknown, maxTicks: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) return INVALID;
  const text = value.toString();
  if (text.includes('e') || text.includes('E')) {
    // 1e-7 and the like: finer than a tick, or too large to be a price.
    return INVALID;
  }
  return ticksFromDecimalString(text, maxTicks);
}

/**
 * Average price of a quantity bought or sold for `notionalTicks` in total (price ticks x shares),
 * rounded to the nearest tick; 0 for no quantity. The report writer's split readers
 * (codecs/flyweight.ts unitsAt/fractionAt) divide the same way, in place, to allocate nothing.
 */
export function averagePriceTicks(notionalTicks: number, qty: number): number {
  const shares = Math.abs(qty);
  return shares === 0 ? 0 : Math.round(notionalTicks / shares);
}

/** Longest AvgPx text missedFillPriceTicks reads: far beyond any real price's digits. */
const MAX_AVG_PX_CHARS = 40;

/**
 * The price of the one fill reconciliation books when a venue's status (FIX ExecType I) says
 * cumQty shares filled at an average avgPx, but the reports received hold only cumQty -
 * missingQty shares, for knownNotionalTicks: the price that makes the child's notional equal
 * cumQty x avgPx, rounded half up to the tick.
 *
 * avgPx is the venue's decimal text in bytes[start, end). An average may carry more decimals
 * than a tick, and rounding it first would be multiplied by cumQty / missingQty in the result,
 * so the arithmetic here is exact (BigInt). It allocates: for the cold path only (once per child
 * per venue logon). INVALID when the text is not an unsigned decimal (or longer than 40
 * characters), or the price is not in [1, maxTicks].
 */
export function missedFillPriceTicks(
  bytes: Uint8Array, start: number, end: number, cumQty: number, missingQty: number, knownNotionalTicks: number, maxTicks: number,
): number {
  if (end <= start || end - start > MAX_AVG_PX_CHARS || !(missingQty > 0) || cumQty < missingQty) return INVALID;
  let digits = '';
  let fractionDigits = -1;
  for (let i = start; i < end; i++) {
    const c = bytes[i];
    if (c === CH_DOT) {
      if (fractionDigits >= 0) return INVALID;
      fractionDigits = 0;
    } else if (c >= CH_0 && c <= CH_9) {
      digits += String.fromCharCode(c);
      if (fractionDigits >= 0) fractionDigits++;
    } else {
      return INVALID;
    }
  }
  if (digits === '') return INVALID;
  // avgPx = digits / 10^f; price = (cumQty * avgPx * 10^6 - known) / missing, in ticks.
  const f = BigInt(fractionDigits < 0 ? 0 : fractionDigits);
  const scale = 10n ** f;
  const num = BigInt(digits) * BigInt(cumQty) * BigInt(PRICE_SCALE) - BigInt(knownNotionalTicks) * scale;
  const den = BigInt(missingQty) * scale;
  if (num <= 0n) return INVALID;
  const ticks = (2n * num + den) / (2n * den);
  return ticks >= 1n && ticks <= BigInt(maxTicks) ? Number(ticks) : INVALID;
}

/** One scratch per thread (each worker has its own module instance); the call is synchronous. */
const DECIMAL_SCRATCH = Buffer.alloc(32);

/** Ticks as a decimal string, for JSON output, logs and the admin API. Allocates the string only. */
export function ticksToDecimalString(ticks: number): string {
  const end = writeDecimalTicks(DECIMAL_SCRATCH, 0, ticks);
  return DECIMAL_SCRATCH.toString('latin1', 0, end);
}
