// Goal: encode -> parse round-trips any header and field values, and no input — random bytes,
// mutated or truncated frames — makes the parser or a session throw or hang. Method:
// fast-check properties over generated messages and byte mutations (seeded, so reruns repeat).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_PRICE_TICKS, MAX_QTY } from '../engine/fixed-point.ts';
import { FixEncoder, ascii } from './encoder.ts';
import { FixParseError } from './fix-codes.ts';
import { MemoryTransport } from './memory-transport.ts';
import { FixParser, checksum } from './parser.ts';
import { FixSession, SessionRole } from './session.ts';
import { FakeClock, RecordingApp, frame } from './test-util.ts';

const PARAMS = { seed: 20260105, numRuns: 400 };
const ERROR_CODES = new Set<number>(Object.values(FixParseError));

const compId = fc.stringMatching(/^[A-Z0-9_]{1,12}$/);
const value = fc.stringMatching(/^[\x20-\x7e]{1,40}$/);
const tag = fc.integer({ min: 11, max: 30_000 }).filter((t) => t !== 35);
const field = fc.tuple(tag, value);
const msgTypeStr = fc.stringMatching(/^[0-9A-Za-z]{1,2}$/);

describe('codec properties', () => {
  it('encode -> parse round-trips header and fields', () => {
    fc.assert(
      fc.property(msgTypeStr, compId, compId, fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.integer({ min: 0, max: 4_102_444_800_000 }), fc.array(field, { maxLength: 40 }), (mt, s, t, seq, time, flds) => {
        const e = new FixEncoder(8192);
        let packed = 0;
        for (let i = 0; i < mt.length; i++) packed += mt.charCodeAt(i) * 256 ** i;
        e.begin(packed, ascii(s), ascii(t), seq, time);
        for (const [tg, v] of flds) e.addAscii(tg, ascii(v));
        const len = e.finish();
        const p = new FixParser();
        expect(p.parse(e.buf, e.start, e.start + len)).toBe(len);
        expect(p.msgType).toBe(packed);
        expect(p.getString(49)).toBe(s);
        expect(p.getString(56)).toBe(t);
        expect(p.getInt(34)).toBe(seq);
        expect(p.fieldCount).toBe(5 + flds.length);
        for (let i = 0; i < flds.length; i++) {
          expect(p.tagAt(5 + i)).toBe(flds[i][0]);
          expect(Buffer.from(e.buf.subarray(p.valueStartAt(5 + i), p.valueEndAt(5 + i))).toString('latin1')).toBe(flds[i][1]);
        }
      }),
      PARAMS,
    );
  });

  it('prices and quantities round-trip exactly', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_PRICE_TICKS }), fc.integer({ min: 0, max: MAX_QTY }), (ticks, qty) => {
        const e = new FixEncoder();
        e.begin(0x44, ascii('A'), ascii('B'), 1, 0).addTicks(44, ticks).addInt(38, qty);
        const len = e.finish();
        const p = new FixParser();
        p.parse(e.buf, e.start, e.start + len);
        expect(p.getTicks(44)).toBe(ticks);
        expect(p.getQty(38)).toBe(qty);
      }),
      PARAMS,
    );
  });

  it('random bytes never throw and yield 0, a frame length, or a parse error code', () => {
    const p = new FixParser();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, withPrefix) => {
        const buf = withPrefix ? Buffer.concat([Buffer.from('8=FIX.4.4\x019='), bytes]) : bytes;
        const r = p.parse(buf, 0, buf.length);
        expect(r === 0 || (r > 0 && r <= buf.length) || ERROR_CODES.has(r)).toBe(true);
      }),
      { ...PARAMS, numRuns: 2000 },
    );
  });

  it('mutated frames never throw; whatever parses has a valid checksum', () => {
    const base = frame('35=D|49=OMS|56=V1|34=12|52=20260101-10:00:00.000|11=ORD-1|55=AAPL|54=1|38=100|40=2|44=177.25|59=0|');
    const p = new FixParser();
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), fc.nat(base.length), (muts, cut) => {
        const buf = Uint8Array.from(base);
        for (const [i, b] of muts) buf[i] = b;
        const end = Math.max(1, cut);
        const r = p.parse(buf, 0, end);
        expect(r === 0 || r > 0 || ERROR_CODES.has(r)).toBe(true);
        if (r > 0) {
          const sumText = Buffer.from(buf.subarray(r - 4, r - 1)).toString('latin1');
          expect(checksum(buf, 0, r - 7)).toBe(Number(sumText));
        }
      }),
      { ...PARAMS, numRuns: 3000 },
    );
  });

  it('a logged-on session survives any stream of garbage and mutated frames', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.tuple(fc.nat(40), fc.integer({ min: 0, max: 255 }), fc.nat(12)).map(([i, b, seq]) => {
        const f = frame(`35=${seq % 3 === 0 ? '1' : 'D'}|49=OMS|56=V1|34=${seq}|52=20260105-09:00:00.000|112=X|11=A|`);
        f[i % f.length] = b;
        return f;
      })), { maxLength: 30 }), (chunks) => {
        const clock = new FakeClock();
        const s = new FixSession({ role: SessionRole.ACCEPTOR, senderCompId: 'V1', targetCompId: 'OMS', clock, app: new RecordingApp() });
        s.onConnected(new MemoryTransport());
        s.onBytes(frame('35=A|49=OMS|56=V1|34=1|52=20260105-09:00:00.000|98=0|108=30|'));
        for (const c of chunks) {
          s.onBytes(c);
          clock.t += 1000;
          s.onTimer(clock.t);
        }
      }),
      { ...PARAMS, numRuns: 500 },
    );
  });
});
