/**
 * FIX 4.4 encoder into one preallocated buffer. Nothing is allocated per message.
 *
 * The body is written first, at a fixed offset; finish() then writes the prefix right-aligned
 * in front of it, because BodyLength (9) is only known at the end and FIX forbids nothing but
 * engines dislike zero-padded lengths:
 *
 *     0                 BODY_OFFSET (18)
 *     |  8=FIX.4.4|9=65|35=D|49=OMS|56=V1|34=7|52=20260101-12:00:00.000|...|10=123|
 *        ^ start        ^ body (what begin/add* wrote)                       ^ trailer
 *
 * The message is buf[start, start + length) where length is what finish() returns.
 * Header order: 8, 9, 35, 49, 56, 34, 52; the caller may add more header fields (43, 122, ...)
 * right after begin().
 */
import { PRICE_DECIMALS, PRICE_SCALE, writeDecimalTicks, writeUint } from '../engine/fixed-point.ts';
import { BEGIN_STRING_PREFIX, MAX_BODY_LENGTH, checksum } from './parser.ts';
import { writeMsgType } from './msg-type.ts';

const SOH = 0x01;
const EQ = 0x3d;
const CH_0 = 0x30;
/** Room for "8=FIX.4.4|9=" + 5 digits + SOH. */
const BODY_OFFSET = 18;
const TRAILER_LENGTH = 7;
/** Largest number of bytes one tag plus '=' and SOH, or one integer, may take. */
const FIELD_OVERHEAD = 32;
const MS_PER_DAY = 86_400_000;

export const DEFAULT_ENCODER_CAPACITY = 4096;

// addTicks' 32-bit path holds the fraction in an int32 and writes PRICE_DECIMALS digits of it.
if (!(PRICE_SCALE === 10 ** PRICE_DECIMALS && PRICE_SCALE <= 0x7fffffff)) throw new Error('Invariant: PRICE_SCALE is 10^PRICE_DECIMALS and fits 31 bits');

export class FixEncoder {
  readonly buf: Uint8Array;
  /** Start of the message finished last (valid after finish()). */
  start: number;
  /** Write position inside the body. */
  private pos: number;
  private open: boolean;
  /** Cached "YYYYMMDD-" of cachedDay (days since 1970-01-01): the date changes once a day. */
  private cachedDay: number;
  private readonly dateBytes: Uint8Array;

  constructor(capacity: number = DEFAULT_ENCODER_CAPACITY) {
    if (!(Number.isInteger(capacity) && capacity >= 256)) throw new Error('Condition failed: capacity >= 256');
    if (capacity > BODY_OFFSET + MAX_BODY_LENGTH + TRAILER_LENGTH) throw new Error('Condition failed: capacity fits MAX_BODY_LENGTH');
    this.buf = new Uint8Array(capacity);
    this.start = 0;
    this.pos = BODY_OFFSET;
    this.open = false;
    this.cachedDay = -1;
    this.dateBytes = new Uint8Array(9);
  }

  /**
   * Starts a message: writes 35, 49, 56, 34 and 52 (SendingTime from sendingTimeMs, UTC).
   * senderCompId/targetCompId are ASCII bytes prepared once at startup.
   */
  begin(msgType: number, senderCompId: Uint8Array, targetCompId: Uint8Array, msgSeqNum: number, sendingTimeMs: number): this {
    this.pos = BODY_OFFSET;
    this.open = true;
    this.tag(35);
    this.ensure(8);
    this.pos = writeMsgType(this.buf, this.pos, msgType);
    this.buf[this.pos++] = SOH;
    this.addAscii(49, senderCompId);
    this.addAscii(56, targetCompId);
    this.addInt(34, msgSeqNum);
    this.addUtcTimestamp(52, sendingTimeMs);
    return this;
  }

  /** Integer value; negative values get a '-' (FIX int). */
  addInt(tag: number, value: number): this {
    this.tag(tag);
    if (value >= 0 && value <= 0x7fffffff && (value | 0) === value) {
      this.pos = writeInt31(this.buf, this.pos, value);
    } else {
      if (!Number.isSafeInteger(value)) throw new Error('Condition failed: addInt value is a safe integer');
      if (value < 0) {
        this.buf[this.pos++] = 0x2d;
        value = -value;
      }
      this.pos = writeUint(this.buf, this.pos, value);
    }
    this.buf[this.pos++] = SOH;
    return this;
  }

  /**
   * Price in ticks written as a decimal ("177.25"), exactly as writeDecimalTicks writes it. Prices
   * below 2^31 units take a path in 32-bit integer arithmetic (the float divisions of the general
   * writer cost about 15% of an encode); larger ones go to writeDecimalTicks.
   */
  addTicks(tag: number, ticks: number): this {
    this.tag(tag);
    if (!Number.isSafeInteger(ticks)) throw new Error('Condition failed: ticks is a safe integer');
    const b = this.buf;
    let p = this.pos;
    const abs = ticks < 0 ? -ticks : ticks;
    const units = Math.floor(abs / PRICE_SCALE);
    if (units > 0x7fffffff) {
      this.pos = writeDecimalTicks(b, p, ticks);
    } else {
      if (ticks < 0) b[p++] = 0x2d;
      p = writeInt31(b, p, units);
      let frac = abs - units * PRICE_SCALE; // 0 .. PRICE_SCALE - 1, an int32
      if (frac !== 0) {
        b[p++] = 0x2e;
        let width = PRICE_DECIMALS;
        let q = (frac / 10) | 0;
        while (frac === q * 10) {
          frac = q;
          q = (frac / 10) | 0;
          width--;
        }
        for (let i = width - 1; i >= 0; i--) {
          q = (frac / 10) | 0;
          b[p + i] = CH_0 + (frac - q * 10);
          frac = q;
        }
        p += width;
      }
      this.pos = p;
    }
    this.buf[this.pos++] = SOH;
    return this;
  }

  /** One-character value given as its byte (e.g. 0x31 for '1'). */
  addChar(tag: number, c: number): this {
    this.tag(tag);
    this.buf[this.pos++] = c;
    this.buf[this.pos++] = SOH;
    return this;
  }

  /** FIX Boolean: 'Y' or 'N'. */
  addBool(tag: number, value: boolean): this {
    return this.addChar(tag, value ? 0x59 : 0x4e);
  }

  /** Copies src[start, end) as the value (e.g. a ClOrdID held in the caller's own buffer). */
  addBytes(tag: number, src: Uint8Array, start: number, end: number): this {
    const len = end - start;
    this.tag(tag);
    this.ensure(len + 1);
    for (let k = 0; k < len; k++) this.buf[this.pos + k] = src[start + k];
    this.pos += len;
    this.buf[this.pos++] = SOH;
    return this;
  }

  /** Copies a whole precomputed ASCII value (CompIDs, symbols, fixed texts). */
  addAscii(tag: number, ascii: Uint8Array): this {
    return this.addBytes(tag, ascii, 0, ascii.length);
  }

  /** A fixed ASCII prefix followed by a non-negative integer, as one value ("missing tag 44"). */
  addAsciiInt(tag: number, prefix: Uint8Array, n: number): this {
    if (!(n >= 0 && n <= 0x7fffffff && (n | 0) === n)) throw new Error('Condition failed: addAsciiInt n in 0..2^31-1');
    this.tag(tag);
    this.ensure(prefix.length + 12);
    for (let k = 0; k < prefix.length; k++) this.buf[this.pos + k] = prefix[k];
    this.pos = writeInt31(this.buf, this.pos + prefix.length, n);
    this.buf[this.pos++] = SOH;
    return this;
  }

  /** UTCTimestamp "YYYYMMDD-HH:MM:SS.sss" from milliseconds since the epoch. */
  addUtcTimestamp(tag: number, epochMs: number): this {
    if (!(Number.isSafeInteger(epochMs) && epochMs >= 0)) throw new Error('Condition failed: epochMs is a non-negative integer');
    this.tag(tag);
    this.ensure(22);
    const day = Math.floor(epochMs / MS_PER_DAY);
    if (day !== this.cachedDay) this.cacheDate(day);
    const b = this.buf;
    let p = this.pos;
    for (let k = 0; k < 9; k++) b[p++] = this.dateBytes[k];
    // Below a day of milliseconds everything fits 32 bits: integer divisions from here on.
    let msOfDay = epochMs - day * MS_PER_DAY;
    const hh = (msOfDay / 3_600_000) | 0;
    msOfDay -= hh * 3_600_000;
    const mm = (msOfDay / 60_000) | 0;
    msOfDay -= mm * 60_000;
    const ss = (msOfDay / 1000) | 0;
    const ms = msOfDay - ss * 1000;
    p = write2(b, p, hh);
    b[p++] = 0x3a;
    p = write2(b, p, mm);
    b[p++] = 0x3a;
    p = write2(b, p, ss);
    b[p++] = 0x2e;
    const centis = (ms / 10) | 0;
    const hundreds = (centis / 10) | 0;
    b[p++] = CH_0 + hundreds;
    b[p++] = CH_0 + (centis - hundreds * 10);
    b[p++] = CH_0 + (ms - centis * 10);
    b[p++] = SOH;
    this.pos = p;
    return this;
  }

  /** Writes BodyLength and CheckSum; returns the message length. The message is buf[start, start + length). */
  finish(): number {
    if (!this.open) throw new Error('Invariant: finish() follows begin()');
    this.ensure(TRAILER_LENGTH);
    this.open = false;
    const bodyLength = this.pos - BODY_OFFSET;
    let digits = 1;
    for (let v = bodyLength; v >= 10; v = (v / 10) | 0) digits++;
    const start = BODY_OFFSET - (BEGIN_STRING_PREFIX.length + 2 + digits + 1);
    const b = this.buf;
    // A byte loop, not b.set(): for 10 bytes the call costs more than the copy.
    for (let k = 0; k < BEGIN_STRING_PREFIX.length; k++) b[start + k] = BEGIN_STRING_PREFIX[k];
    let p = start + BEGIN_STRING_PREFIX.length;
    b[p++] = 0x39;
    b[p++] = EQ;
    p = writeInt31(b, p, bodyLength);
    b[p++] = SOH;
    if (p !== BODY_OFFSET) throw new Error('Invariant: prefix ends where the body starts');
    const sum = checksum(b, start, this.pos);
    p = this.pos;
    b[p++] = 0x31;
    b[p++] = CH_0;
    b[p++] = EQ;
    const tens = (sum / 10) | 0;
    const hundreds = (tens / 10) | 0;
    b[p++] = CH_0 + hundreds;
    b[p++] = CH_0 + (tens - hundreds * 10);
    b[p++] = CH_0 + (sum - tens * 10);
    b[p++] = SOH;
    this.start = start;
    return p - start;
  }

  /** True between begin() and finish(). */
  get isOpen(): boolean {
    return this.open;
  }

  private tag(tag: number): void {
    if (!this.open) throw new Error('Invariant: add* follows begin()');
    if (!(tag > 0 && tag <= 999_999 && (tag | 0) === tag)) throw new Error('Condition failed: tag in 1..999999');
    this.ensure(FIELD_OVERHEAD);
    this.pos = writeInt31(this.buf, this.pos, tag);
    this.buf[this.pos++] = EQ;
  }

  private ensure(bytes: number): void {
    if (this.pos + bytes + TRAILER_LENGTH > this.buf.length) {
      throw new Error('Condition failed: message fits the encoder capacity (size the encoder for the largest message)');
    }
  }

  /** Converts days since 1970-01-01 to "YYYYMMDD-" (H. Hinnant's civil_from_days). */
  private cacheDate(day: number): void {
    const z = day + 719_468;
    const era = Math.floor(z / 146_097);
    const doe = z - era * 146_097;
    const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
    const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
    const mp = Math.floor((5 * doy + 2) / 153);
    const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
    const m = mp < 10 ? mp + 3 : mp - 9;
    const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
    const b = this.dateBytes;
    b[0] = CH_0 + Math.floor(y / 1000);
    b[1] = CH_0 + (Math.floor(y / 100) % 10);
    b[2] = CH_0 + (Math.floor(y / 10) % 10);
    b[3] = CH_0 + (y % 10);
    write2(b, 4, m);
    write2(b, 6, d);
    b[8] = 0x2d;
    this.cachedDay = day;
  }
}

/** Writes 0 <= v < 2^31 in ASCII with 32-bit integer arithmetic; returns the offset after it. */
function writeInt31(b: Uint8Array, p: number, v: number): number {
  let len = 1;
  if (v >= 10) len = v >= 100 ? (v >= 1000 ? (v >= 10_000 ? (v >= 100_000 ? (v >= 1_000_000 ? digitsLarge(v) : 6) : 5) : 4) : 3) : 2;
  let i = p + len - 1;
  while (v >= 10) {
    const q = (v / 10) | 0;
    b[i--] = CH_0 + (v - q * 10);
    v = q;
  }
  b[i] = CH_0 + v;
  return p + len;
}

function digitsLarge(v: number): number {
  let len = 7;
  for (let x = 10_000_000; v >= x && len < 10; x *= 10) len++;
  return len;
}

/** Two digits of 0 <= v < 100. */
function write2(b: Uint8Array, p: number, v: number): number {
  const tens = (v / 10) | 0;
  b[p] = CH_0 + tens;
  b[p + 1] = CH_0 + (v - tens * 10);
  return p + 2;
}

/** ASCII bytes of a string, for CompIDs and constant texts prepared at startup. Allocates. */
export function ascii(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) throw new Error('Condition failed: printable ASCII');
    out[i] = c;
  }
  return out;
}
