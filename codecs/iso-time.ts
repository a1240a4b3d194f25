/**
 * ISO-8601 UTC text of a time in epoch milliseconds, as Date.prototype.toISOString writes it
 * ("2026-11-22T14:40:00.123Z"), for the documents readers publish (the Kafka sink's `ts`, the
 * route audit's decidedAt). Events come in bursts within one second: the second's text is kept,
 * so most calls only append the milliseconds instead of building a Date. One cache per thread
 * (module state; each worker has its own). Off the hot path: returns a new string.
 */

/** Times whose toISOString is the 24-character form: years 0000..9999. */
const MIN_MS = -62_167_219_200_000; // 0000-01-01T00:00:00.000Z
const MAX_MS = 253_402_300_800_000; // 10000-01-01T00:00:00.000Z, excluded

let cachedSecond = Number.NaN;
/** "YYYY-MM-DDTHH:MM:SS." of cachedSecond. */
let cachedPrefix = '';

export function isoMillis(ms: number): string {
  // Outside the 24-character years, or not a whole millisecond: as Date writes it (it truncates
  // a fraction, and throws RangeError for an invalid time, as before).
  if (!Number.isInteger(ms) || ms < MIN_MS || ms >= MAX_MS) return new Date(ms).toISOString();
  const second = Math.floor(ms / 1000);
  if (second !== cachedSecond) {
    cachedPrefix = new Date(second * 1000).toISOString().slice(0, 20);
    cachedSecond = second;
  }
  const milli = ms - second * 1000;
  return cachedPrefix + (milli < 10 ? '00' : milli < 100 ? '0' : '') + milli + 'Z';
}
