/**
 * FIX 4.4 date and time formats, checked and decoded in place (no allocation, no Date objects):
 *
 *   UTCTimestamp   YYYYMMDD-HH:MM:SS[.sss]        (FIX 4.4 vol. 1, "Data types")
 *   UTCTimeOnly    HH:MM:SS[.sss]
 *   UTCDateOnly    YYYYMMDD            LocalMktDate  YYYYMMDD
 *   MonthYear      YYYYMM | YYYYMMDD | YYYYMMwN (week 1..5)
 *
 * FIX 4.4 allows only milliseconds; 6 or 9 fraction digits (FIX 5.0 SP1 onwards) are accepted as
 * well, because engines configured for microseconds are common, and truncated to milliseconds.
 * Seconds may be 60 (a leap second), as the spec allows. Every function returns -1 for a value
 * that is not well formed.
 */

const CH_0 = 0x30;
const MS_PER_DAY = 86_400_000;

/** Epoch milliseconds of a UTCTimestamp in buf[start, end), or -1 when malformed. */
export function parseUtcTimestampMs(buf: Uint8Array, start: number, end: number): number {
  const len = end - start;
  if (len !== 17 && len !== 21 && len !== 24 && len !== 27) return -1;
  if (buf[start + 8] !== 0x2d) return -1; // '-'
  const day = parseDateDays(buf, start);
  if (day < 0) return -1;
  const msOfDay = parseTimeMs(buf, start + 9, end);
  if (msOfDay < 0) return -1;
  return day * MS_PER_DAY + msOfDay;
}

/** Milliseconds since midnight of a UTCTimeOnly in buf[start, end), or -1 when malformed. */
export function parseTimeMs(buf: Uint8Array, start: number, end: number): number {
  const len = end - start;
  if (len !== 8 && len !== 12 && len !== 15 && len !== 18) return -1;
  if (buf[start + 2] !== 0x3a || buf[start + 5] !== 0x3a) return -1; // ':'
  const hh = digits2(buf, start);
  const mm = digits2(buf, start + 3);
  const ss = digits2(buf, start + 6);
  if (hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 60) return -1;
  let ms = 0;
  if (len > 8) {
    if (buf[start + 8] !== 0x2e) return -1; // '.'
    for (let k = start + 9; k < end; k++) {
      const c = buf[k] - CH_0;
      if (c < 0 || c > 9) return -1;
      if (k < start + 12) ms = ms * 10 + c; // digits beyond milliseconds are dropped
    }
  }
  return ((hh * 60 + mm) * 60 + ss) * 1000 + ms;
}

/**
 * Days since 1970-01-01 of a date "YYYYMMDD" at buf[start], or -1 when malformed. Timestamps
 * before 1970 are refused too (-1): no FIX session message carries one.
 */
export function parseDateDays(buf: Uint8Array, start: number): number {
  if (!isDateAt(buf, start)) return -1;
  const days = daysFromCivil(digits4(buf, start), digits2(buf, start + 4), digits2(buf, start + 6));
  return days >= 0 ? days : -1;
}

/** True when buf[start, end) is a valid "YYYYMMDD" (UTCDateOnly, LocalMktDate), any year. */
export function isDate(buf: Uint8Array, start: number, end: number): boolean {
  return end - start === 8 && isDateAt(buf, start);
}

function isDateAt(buf: Uint8Array, start: number): boolean {
  const y = digits4(buf, start);
  const m = digits2(buf, start + 4);
  const d = digits2(buf, start + 6);
  return y >= 0 && m >= 1 && m <= 12 && d >= 1 && d <= daysInMonth(y, m);
}

/** True when buf[start, end) is a valid MonthYear: YYYYMM, YYYYMMDD or YYYYMMwN. */
export function isMonthYear(buf: Uint8Array, start: number, end: number): boolean {
  const len = end - start;
  if (len !== 6 && len !== 8) return false;
  const y = digits4(buf, start);
  const m = digits2(buf, start + 4);
  if (y < 0 || m < 1 || m > 12) return false;
  if (len === 6) return true;
  if (buf[start + 6] === 0x77) return buf[start + 7] >= 0x31 && buf[start + 7] <= 0x35; // "w1".."w5"
  const d = digits2(buf, start + 6);
  return d >= 1 && d <= daysInMonth(y, m);
}

function digits2(buf: Uint8Array, p: number): number {
  const a = buf[p] - CH_0;
  const b = buf[p + 1] - CH_0;
  if (a < 0 || a > 9 || b < 0 || b > 9) return -1;
  return a * 10 + b;
}

function digits4(buf: Uint8Array, p: number): number {
  const hi = digits2(buf, p);
  const lo = digits2(buf, p + 2);
  return hi < 0 || lo < 0 ? -1 : hi * 100 + lo;
}

function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/** Days since 1970-01-01 (H. Hinnant's days_from_civil); the inverse of the encoder's date cache. */
function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}
