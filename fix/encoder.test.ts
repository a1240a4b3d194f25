// Goal: the encoder writes frames the parser accepts, with the right BodyLength, CheckSum and
// UTC SendingTime, and never allocates a new buffer. Method: encode, then parse and compare.
import { describe, expect, it } from 'vitest';
import { FixEncoder, ascii } from './encoder.ts';
import { MsgType } from './msg-type.ts';
import { FixParser } from './parser.ts';
import { Tag } from './tags.ts';
import { frame, show } from './test-util.ts';

const OMS = ascii('OMS');
const V1 = ascii('V1');

describe('FixEncoder', () => {
  it('round-trips a NewOrderSingle through the parser', () => {
    const e = new FixEncoder();
    const t = Date.UTC(2026, 0, 2, 3, 4, 5, 67);
    e.begin(MsgType.NEW_ORDER_SINGLE, OMS, V1, 42, t)
      .addAscii(Tag.ClOrdID, ascii('C-1'))
      .addAscii(Tag.Symbol, ascii('AAPL'))
      .addChar(Tag.Side, 0x31)
      .addInt(Tag.OrderQty, 300)
      .addChar(Tag.OrdType, 0x32)
      .addTicks(Tag.Price, 177_250_000);
    const len = e.finish();
    const text = show(e.buf, e.start, e.start + len);
    const body = '35=D|49=OMS|56=V1|34=42|52=20260102-03:04:05.067|11=C-1|55=AAPL|54=1|38=300|40=2|44=177.25|';
    expect(text).toBe(show(frame(body)));
    const p = new FixParser();
    expect(p.parse(e.buf, e.start, e.start + len)).toBe(len);
    expect(p.getTicks(Tag.Price)).toBe(177_250_000);
  });

  it('formats SendingTime in UTC across dates, leap days and millisecond edges', () => {
    const e = new FixEncoder();
    const p = new FixParser();
    const cases = [0, Date.UTC(2024, 1, 29, 23, 59, 59, 999), Date.UTC(2000, 11, 31, 0, 0, 0, 1), Date.UTC(2099, 6, 15, 12, 30, 0, 500)];
    for (const t of cases) {
      e.begin(MsgType.HEARTBEAT, OMS, V1, 1, t);
      const len = e.finish();
      p.parse(e.buf, e.start, e.start + len);
      const iso = new Date(t).toISOString(); // 2024-02-29T23:59:59.999Z
      const want = iso.slice(0, 4) + iso.slice(5, 7) + iso.slice(8, 10) + '-' + iso.slice(11, 23);
      expect(p.getString(Tag.SendingTime)).toBe(want);
    }
  });

  it('writes bytes copied from a caller buffer and negative ints', () => {
    const e = new FixEncoder();
    const src = ascii('xxABCyy');
    e.begin(MsgType.EXECUTION_REPORT, V1, OMS, 1, 0).addBytes(Tag.ClOrdID, src, 2, 5).addInt(5000, -12);
    const len = e.finish();
    const p = new FixParser();
    expect(p.parse(e.buf, e.start, e.start + len)).toBe(len);
    expect(p.getString(Tag.ClOrdID)).toBe('ABC');
    expect(p.getString(5000)).toBe('-12');
  });

  it('throws on overflow: the buffer is sized for the largest message', () => {
    const e = new FixEncoder(256);
    e.begin(MsgType.EXECUTION_REPORT, V1, OMS, 1, 0);
    expect(() => e.addAscii(Tag.Text, new Uint8Array(300).fill(0x41))).toThrow(/capacity/);
  });

  it('handles bodies whose length has 1 to 4 digits', () => {
    const e = new FixEncoder(16_384);
    const p = new FixParser();
    for (const n of [0, 50, 500, 5000]) {
      e.begin(MsgType.EXECUTION_REPORT, V1, OMS, 1, 0);
      if (n > 0) e.addAscii(Tag.Text, new Uint8Array(n).fill(0x41));
      const len = e.finish();
      expect(p.parse(e.buf, e.start, e.start + len)).toBe(len);
    }
  });
});
