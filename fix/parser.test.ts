// Goal: the parser frames exactly one FIX 4.4 message, validates BeginString, BodyLength and
// CheckSum, reports incomplete input as 0 and garbled input as a negative code, and its
// accessors read typed values without copying. Method: hand-built frames from frame().
import { describe, expect, it } from 'vitest';
import { FixParseError } from './fix-codes.ts';
import { MsgType, packMsgTypeString } from './msg-type.ts';
import { FIELD_MISSING, FixParser, MAX_BODY_LENGTH, findNextBeginString } from './parser.ts';
import { Tag } from './tags.ts';
import { concat, frame } from './test-util.ts';
import { ascii } from './encoder.ts';
import { INVALID } from '../engine/fixed-point.ts';

const NOS = '35=D|49=OMS|56=V1|34=12|52=20260101-10:00:00.000|11=ORD-1|55=AAPL|54=1|38=100|40=2|44=177.25|59=0|';

describe('FixParser.parse', () => {
  it('frames one message and returns its length', () => {
    const f = frame(NOS);
    const p = new FixParser();
    expect(p.parse(f, 0, f.length)).toBe(f.length);
    expect(p.msgType).toBe(MsgType.NEW_ORDER_SINGLE);
    expect(p.fieldCount).toBe(12);
  });

  it('reads typed values', () => {
    const f = frame(NOS + '1=ACC|');
    const p = new FixParser();
    p.parse(f, 0, f.length);
    expect(p.getInt(Tag.MsgSeqNum)).toBe(12);
    expect(p.getTicks(Tag.Price)).toBe(177_250_000);
    expect(p.getQty(Tag.OrderQty)).toBe(100);
    expect(p.getChar(Tag.Side)).toBe(0x31);
    expect(p.getString(Tag.ClOrdID)).toBe('ORD-1');
    expect(p.equalsAscii(Tag.SenderCompID, ascii('OMS'))).toBe(true);
    expect(p.equalsAscii(Tag.SenderCompID, ascii('OMX'))).toBe(false);
    expect(p.equalsAscii(Tag.Text, ascii('OMS'))).toBe(false);
    expect(p.has(Tag.Account)).toBe(true);
    expect(p.has(Tag.Text)).toBe(false);
    expect(p.getInt(Tag.Text)).toBe(FIELD_MISSING);
    expect(p.getChar(Tag.ClOrdID)).toBe(INVALID);
    expect(p.getInt(Tag.Symbol)).toBe(INVALID);
    const s = p.valueStart(Tag.ClOrdID);
    const e = p.valueEnd(Tag.ClOrdID);
    expect(Buffer.from(f.subarray(s, e)).toString()).toBe('ORD-1');
    const dst = new Uint8Array(8);
    expect(p.copyValue(Tag.ClOrdID, dst, 1)).toBe(5);
    expect(dst[1]).toBe(0x4f);
  });

  it('accepts "100.0" as a quantity and refuses fractions', () => {
    const p = new FixParser();
    let f = frame('35=D|38=100.00|');
    p.parse(f, 0, f.length);
    expect(p.getQty(Tag.OrderQty)).toBe(100);
    f = frame('35=D|38=100.5|');
    p.parse(f, 0, f.length);
    expect(p.getQty(Tag.OrderQty)).toBe(INVALID);
    f = frame('35=D|38=.0|');
    p.parse(f, 0, f.length);
    expect(p.getQty(Tag.OrderQty)).toBe(INVALID);
  });

  it('packs two-character message types', () => {
    const f = frame('35=AE|');
    const p = new FixParser();
    expect(p.parse(f, 0, f.length)).toBe(f.length);
    expect(p.msgType).toBe(packMsgTypeString('AE'));
    expect(p.msgType).toBe(0x41 + 0x45 * 256);
  });

  it('returns 0 for every strict prefix of a frame', () => {
    const f = frame(NOS);
    const p = new FixParser();
    for (let n = 0; n < f.length; n++) expect(p.parse(f, 0, n)).toBe(0);
  });

  it('frames back-to-back messages at an offset', () => {
    const a = frame(NOS);
    const b = frame('35=0|49=V1|56=OMS|34=3|52=20260101-10:00:00.000|');
    const buf = concat(new Uint8Array(5), a, b);
    const p = new FixParser();
    expect(p.parse(buf, 5, buf.length)).toBe(a.length);
    expect(p.parse(buf, 5 + a.length, buf.length)).toBe(b.length);
    expect(p.msgType).toBe(MsgType.HEARTBEAT);
    // Tags of the earlier message are forgotten.
    expect(p.has(Tag.ClOrdID)).toBe(false);
  });

  it('refuses a wrong BeginString early', () => {
    const p = new FixParser();
    const f = frame(NOS, 'FIX.4.2');
    expect(p.parse(f, 0, f.length)).toBe(FixParseError.BAD_BEGIN_STRING);
    expect(p.parse(f, 0, 9)).toBe(FixParseError.BAD_BEGIN_STRING); // "8=FIX.4.2" differs at byte 9
    const junk = Buffer.from('GET / HTTP/1.1\r\n');
    expect(p.parse(junk, 0, junk.length)).toBe(FixParseError.BAD_BEGIN_STRING);
  });

  it('refuses a bad CheckSum and reports the frame end', () => {
    const f = frame(NOS);
    f[f.length - 2] = f[f.length - 2] === 0x30 ? 0x31 : 0x30;
    const p = new FixParser();
    expect(p.parse(f, 0, f.length)).toBe(FixParseError.BAD_CHECKSUM);
    expect(p.frameEnd).toBe(f.length);
  });

  it('refuses a BodyLength that does not land on the trailer', () => {
    const good = Buffer.from(frame(NOS)).toString('latin1');
    const len = Number(/9=(\d+)/.exec(good)![1]);
    const bad = Buffer.from(good.replace(`9=${len}`, `9=${len - 1}`), 'latin1');
    const p = new FixParser();
    expect(p.parse(bad, 0, bad.length)).toBe(FixParseError.BAD_TRAILER);
  });

  it('refuses absurd or malformed BodyLength before buffering', () => {
    const p = new FixParser();
    const huge = Buffer.from(`8=FIX.4.4\x019=${MAX_BODY_LENGTH + 1}\x01`, 'latin1');
    expect(p.parse(huge, 0, huge.length)).toBe(FixParseError.BODY_TOO_LONG);
    const many = Buffer.from('8=FIX.4.4\x019=99999999', 'latin1');
    expect(p.parse(many, 0, many.length)).toBe(FixParseError.BODY_TOO_LONG);
    const letters = Buffer.from('8=FIX.4.4\x019=1x\x01', 'latin1');
    expect(p.parse(letters, 0, letters.length)).toBe(FixParseError.BAD_BODY_LENGTH);
    const zero = Buffer.from('8=FIX.4.4\x019=0\x01', 'latin1');
    expect(p.parse(zero, 0, zero.length)).toBe(FixParseError.BAD_BODY_LENGTH);
    const no9 = Buffer.from('8=FIX.4.4\x0135=D\x01', 'latin1');
    expect(p.parse(no9, 0, no9.length)).toBe(FixParseError.BAD_BODY_LENGTH);
  });

  it('refuses tag/value syntax errors inside a well-framed message', () => {
    const p = new FixParser();
    for (const body of ['35=D|x=1|', '35=D|55|', '35=D|=5|', '35=D|0=5|', '34=1|35=D|', '35=ABCDE|', '35=|']) {
      const f = frame(body);
      expect(p.parse(f, 0, f.length), body).toBeLessThan(0);
      expect(p.frameEnd).toBe(f.length);
    }
  });

  it('records the first tag without a value (session rejects it with 373=4)', () => {
    const p = new FixParser();
    const f = frame('35=D|58=|11=X|');
    expect(p.parse(f, 0, f.length)).toBe(f.length);
    expect(p.emptyValueTag).toBe(58);
    expect(p.getString(58)).toBe('');
  });

  it('refuses more fields than its capacity', () => {
    const p = new FixParser(8);
    const f = frame('35=D|' + '58=a|'.repeat(8));
    expect(p.parse(f, 0, f.length)).toBe(FixParseError.TOO_MANY_FIELDS);
  });

  it('finds tags above the direct table by scanning', () => {
    const p = new FixParser();
    const f = frame('35=D|5001=abc|20000=7|');
    p.parse(f, 0, f.length);
    expect(p.getString(5001)).toBe('abc');
    expect(p.getInt(20000)).toBe(7);
    expect(p.has(20001)).toBe(false);
  });
});

describe('FixParser tag table generations', () => {
  // The tag table forgets a message by bumping a generation; after 2^31 - 1 parses the
  // generation restarts at 1, and a stamp left from the first generation 1 must not make an
  // absent tag look present.
  it('a tag seen in generation 1 is not present after the generation wraps back to 1', () => {
    const withAccount = frame(NOS + '1=ACC|');
    const without = frame(NOS);
    const p = new FixParser();
    p.parse(withAccount, 0, withAccount.length); // generation 1 stamps tag 1
    expect(p.has(Tag.Account)).toBe(true);
    (p as unknown as { generation: number }).generation = 0x7fff_fffe;
    p.parse(without, 0, without.length); // generation 2^31 - 1
    expect(p.has(Tag.Account)).toBe(false);
    p.parse(without, 0, without.length); // wraps to generation 1
    expect((p as unknown as { generation: number }).generation).toBe(1);
    expect(p.has(Tag.Account)).toBe(false);
    expect(p.getString(Tag.ClOrdID)).toBe('ORD-1');
    p.parse(withAccount, 0, withAccount.length);
    expect(p.getString(Tag.Account)).toBe('ACC');
  });
});

describe('findNextBeginString', () => {
  it('finds the next prefix or keeps a possible partial prefix', () => {
    const f = frame(NOS);
    const buf = concat(Buffer.from('garbage8=FI'), f);
    expect(findNextBeginString(buf, 0, buf.length)).toBe(11);
    const tail = Buffer.from('xxxx8=FI');
    expect(findNextBeginString(tail, 0, tail.length)).toBe(4);
    const none = Buffer.from('xxxx');
    expect(findNextBeginString(none, 0, none.length)).toBe(4);
  });
});
