/**
 * Base of every ring-record flyweight: a DataView and an offset, re-pointed per record with
 * wrap(). One flyweight per stage per record type, made at start-up; no object per message.
 * All multi-byte fields are little-endian. Integers that may exceed 2^32 (ids, quantities,
 * prices in ticks, nanosecond times) are stored as float64 holding an exact integer.
 */
import { PRICE_SCALE } from '../engine/fixed-point.ts';

export class Flyweight {
  view: DataView;
  bytes: Uint8Array;
  offset: number;

  constructor() {
    this.view = EMPTY_VIEW;
    this.bytes = EMPTY_BYTES;
    this.offset = 0;
  }

  wrap(view: DataView, bytes: Uint8Array, offset: number): this {
    this.view = view;
    this.bytes = bytes;
    this.offset = offset;
    return this;
  }

  protected f64(at: number): number {
    return this.view.getFloat64(this.offset + at, true);
  }
  /**
   * The price in ticks at `at` split into whole units and a fraction in ticks (ticks = units *
   * PRICE_SCALE + fraction, the fraction in [0, PRICE_SCALE)): both small integers, so a price
   * past 2^30 ticks never crosses a call as a boxed number. The float64 is read through DataView
   * in place (no call of its own). `per` divides it first, rounded to the tick (an average over
   * that many shares); 0 leaves it as stored.
   */
  protected unitsAt(at: number, per: number): number {
    const v = this.view.getFloat64(this.offset + at, true);
    const t = per === 0 ? v : Math.round(v / per);
    return Math.floor(t / PRICE_SCALE);
  }
  protected fractionAt(at: number, per: number): number {
    const v = this.view.getFloat64(this.offset + at, true);
    const t = per === 0 ? v : Math.round(v / per);
    return t - Math.floor(t / PRICE_SCALE) * PRICE_SCALE;
  }

  protected setF64(at: number, value: number): void {
    this.view.setFloat64(this.offset + at, value, true);
  }
  protected u32(at: number): number {
    return this.view.getUint32(this.offset + at, true);
  }
  protected setU32(at: number, value: number): void {
    this.view.setUint32(this.offset + at, value, true);
  }
  protected u16(at: number): number {
    return this.view.getUint16(this.offset + at, true);
  }
  protected setU16(at: number, value: number): void {
    this.view.setUint16(this.offset + at, value, true);
  }
  protected u8(at: number): number {
    return this.bytes[this.offset + at];
  }
  protected setU8(at: number, value: number): void {
    this.bytes[this.offset + at] = value;
  }

  /** Copies src[start, end) into a fixed-size byte field; returns false if it does not fit. */
  protected putBytes(at: number, lengthAt: number, capacity: number, src: Uint8Array, start: number, end: number): boolean {
    const length = end - start;
    if (length < 0 || length > capacity) return false;
    const base = this.offset + at;
    const bytes = this.bytes;
    for (let i = 0; i < length; i++) bytes[base + i] = src[start + i];
    bytes[this.offset + lengthAt] = length;
    return true;
  }

  /** Copies a fixed-size byte field into dst at dstOffset; returns the number of bytes. */
  protected getBytes(at: number, lengthAt: number, dst: Uint8Array, dstOffset: number): number {
    const length = this.bytes[this.offset + lengthAt];
    const base = this.offset + at;
    const bytes = this.bytes;
    for (let i = 0; i < length; i++) dst[dstOffset + i] = bytes[base + i];
    return length;
  }
}

const EMPTY_BUFFER = new ArrayBuffer(8);
const EMPTY_VIEW = new DataView(EMPTY_BUFFER);
const EMPTY_BYTES = new Uint8Array(EMPTY_BUFFER);
