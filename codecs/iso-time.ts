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
  // Journal times carry a fraction (epoch ms + ns / 1e6): Date truncates it toward zero, as here.
  // Not finite, or outside the 24-character years: as Date writes it (or throws RangeError).
  const t = Number.isFinite(ms) ? Math.trunc(ms) : Number.NaN;
  if (!(t >= MIN_MS && t < MAX_MS)) return new Date(ms).toISOString();
  const second = Math.floor(t / 1000);
  if (second !== cachedSecond) {
    cachedPrefix = new Date(second * 1000).toISOString().slice(0, 20);
    cachedSecond = second;
  }
  const milli = t - second * 1000;
  return cachedPrefix + (milli < 10 ? '00' : milli < 100 ? '0' : '') + milli + 'Z';
}
