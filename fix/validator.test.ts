// Goal: every rule of the FIX 4.4 data-dictionary validator, one test each, with the
// SessionRejectReason (373) or BusinessRejectReason (380) and RefTagID it must report. Method:
// hand-written frames (| for SOH) parsed by the real parser, validated, and the encoded result
// decoded into [kind, reason, refTag].
import { describe, expect, it } from 'vitest';
import { FIELDS, GROUPS, MESSAGES } from './dictionary.ts';
import { FixParseError } from './fix-codes.ts';
import { FixParser } from './parser.ts';
import { frame } from './test-util.ts';
import { FixValidator, VALIDATION_OK, ValidationKind, encodeValidation, validationKind, validationReason, validationRefTag } from './validator.ts';

const TS = '20260105-09:00:00.000';
const HDR = `49=OMS|56=V1|34=2|52=${TS}|`;
const S = ValidationKind.SESSION_REJECT;
const B = ValidationKind.BUSINESS_REJECT;

const validator = new FixValidator();
const parser = new FixParser();

/** Validates "35=..|rest" (header fields included by the caller); returns [kind, reason, refTag] or 'ok'. */
function check(body: string): 'ok' | [number, number, number] {
  const bytes = frame(body);
  const r = parser.parse(bytes, 0, bytes.length);
  if (r !== bytes.length) throw new Error(`test frame does not parse (${r}): ${body}`);
  const v = validator.validate(parser);
  return v === VALIDATION_OK ? 'ok' : [validationKind(v), validationReason(v), validationRefTag(v)];
}

const D_BODY = `11=C1|55=AAPL|54=1|60=${TS}|38=100|40=2|44=10.5|`;
const D = (extra = '') => `35=D|${HDR}${D_BODY}${extra}`;
const ER_BODY = `37=O1|17=E1|150=0|39=0|55=AAPL|54=1|151=100|14=0|6=0|`;

describe('valid messages', () => {
  it('accepts every message type of the dictionary in its usual form', () => {
    expect(check(`35=0|${HDR}`)).toBe('ok');
    expect(check(`35=0|${HDR}112=T1|`)).toBe('ok');
    expect(check(`35=1|${HDR}112=T1|`)).toBe('ok');
    expect(check(`35=2|${HDR}7=1|16=0|`)).toBe('ok');
    expect(check(`35=3|${HDR}45=7|371=38|372=D|373=1|58=missing|`)).toBe('ok');
    expect(check(`35=4|${HDR}43=Y|122=${TS}|123=Y|36=9|`)).toBe('ok');
    expect(check(`35=5|${HDR}58=bye|`)).toBe('ok');
    expect(check(`35=A|${HDR}98=0|108=30|141=Y|553=u|554=p|`)).toBe('ok');
    expect(check(D())).toBe('ok');
    expect(check(`35=F|${HDR}41=C1|11=C2|55=AAPL|54=1|60=${TS}|38=100|`)).toBe('ok');
    expect(check(`35=G|${HDR}41=C1|11=C3|55=AAPL|54=2|60=${TS}|38=50|40=1|59=3|`)).toBe('ok');
    expect(check(`35=H|${HDR}11=C1|55=AAPL|54=1|`)).toBe('ok');
    expect(check(`35=8|${HDR}${ER_BODY}11=C1|60=${TS}|`)).toBe('ok');
    expect(check(`35=8|${HDR}37=O1|17=E2|150=F|39=2|55=AAPL|54=1|151=0|14=100|6=10.5|32=100|31=10.5|12=0.5|13=3|`)).toBe('ok');
    expect(check(`35=9|${HDR}37=NONE|11=X2|41=NOPE|39=8|434=1|102=1|58=unknown order|`)).toBe('ok');
    expect(check(`35=j|${HDR}45=3|372=H|380=3|58=unsupported|`)).toBe('ok');
  });

  it('accepts header options (PossDup, OrigSendingTime, OnBehalfOf, NoHops) before the body', () => {
    expect(check(`35=D|49=OMS|56=V1|115=CLIENT|34=2|43=Y|52=${TS}|122=${TS}|627=1|628=HUB|629=${TS}|${D_BODY}`)).toBe('ok');
  });

  it('accepts the Parties repeating group, nested PartySubIDs included', () => {
    expect(check(D('453=2|448=BRK1|447=D|452=1|448=TRD7|447=D|452=12|802=1|523=desk|803=4|'))).toBe('ok');
  });

  it('accepts timestamps with microseconds and dates of every valid form', () => {
    expect(check(`35=D|${HDR}11=C1|55=AAPL|54=1|60=20260105-09:00:00.123456|38=100|40=1|64=20260107|200=202612|432=20240229|`)).toBe('ok');
  });
});

describe('SessionRejectReason rules', () => {
  it('373=1 required tag missing: body, header and required components', () => {
    expect(check(`35=D|${HDR}55=AAPL|54=1|60=${TS}|38=100|40=1|`)).toEqual([S, 1, 11]);
    expect(check(`35=D|49=OMS|56=V1|34=2|${D_BODY}`)).toEqual([S, 1, 52]);
    expect(check(`35=D|${HDR}11=C1|54=1|60=${TS}|38=100|40=1|`)).toEqual([S, 1, 55]); // Instrument
    expect(check(`35=D|${HDR}11=C1|55=AAPL|54=1|60=${TS}|40=1|`)).toEqual([S, 1, 38]); // OrderQtyData
    expect(check(`35=1|${HDR}`)).toEqual([S, 1, 112]);
    expect(check(`35=8|${HDR}37=O1|17=E1|150=0|39=0|55=AAPL|54=1|14=0|6=0|`)).toEqual([S, 1, 151]);
  });

  it('373=2 tag not defined for this message type (a group field outside its group too)', () => {
    expect(check(`35=0|${HDR}11=X|`)).toEqual([S, 2, 11]);
    expect(check(`35=5|${HDR}108=30|`)).toEqual([S, 2, 108]);
    expect(check(D('448=BRK1|'))).toEqual([S, 2, 448]);
  });

  it('373=0 invalid tag number: a tag the dictionary does not know', () => {
    expect(check(D('2000=x|'))).toEqual([S, 0, 2000]);
    expect(check(D('999999=x|'))).toEqual([S, 3, 999999]);
  });

  it('373=3 undefined tag: an unknown tag in the user-defined range', () => {
    expect(check(D('5001=x|'))).toEqual([S, 3, 5001]);
  });

  it('373=4 tag specified without a value', () => {
    expect(check(D('58=|'))).toEqual([S, 4, 58]);
  });

  it('373=5 value out of range: enumerations and a positive OrderQty', () => {
    expect(check(`35=D|${HDR}11=C1|55=AAPL|54=X|60=${TS}|38=100|40=1|`)).toEqual([S, 5, 54]);
    expect(check(`35=D|${HDR}11=C1|55=AAPL|54=1|60=${TS}|38=100|40=Z|`)).toEqual([S, 5, 40]);
    expect(check(D('59=9|'))).toEqual([S, 5, 59]);
    expect(check(`35=D|${HDR}11=C1|55=AAPL|54=1|60=${TS}|38=0|40=1|`)).toEqual([S, 5, 38]);
    expect(check(D('18=1 T|'))).toEqual([S, 5, 18]);
    expect(check(`35=8|${HDR}37=O1|17=E1|150=1|39=0|55=AAPL|54=1|151=100|14=0|6=0|`)).toEqual([S, 5, 150]); // deprecated in 4.4
    expect(check(`35=8|${HDR}37=O1|17=E1|150=0|39=5|55=AAPL|54=1|151=100|14=0|6=0|`)).toEqual([S, 5, 39]);
    expect(check(`35=9|${HDR}37=O|11=X|41=Y|39=8|434=3|`)).toEqual([S, 5, 434]);
    expect(check(`35=9|${HDR}37=O|11=X|41=Y|39=8|434=1|102=7|`)).toEqual([S, 5, 102]);
    expect(check(`35=8|${HDR}${ER_BODY}103=16|`)).toEqual([S, 5, 103]);
    expect(check(`35=j|${HDR}372=D|380=9|`)).toEqual([S, 5, 380]);
    expect(check(`35=3|${HDR}45=1|373=18|`)).toEqual([S, 5, 373]);
    expect(check(`35=A|${HDR}98=7|108=30|`)).toEqual([S, 5, 98]);
    expect(check(D('453=1|448=X|447=Z|'))).toEqual([S, 5, 447]);
  });

  it('373=6 incorrect data format: numbers, chars, booleans, timestamps, dates', () => {
    expect(check(`35=D|${HDR}11=C1|55=AAPL|54=1|60=${TS}|38=1e3|40=1|`)).toEqual([S, 6, 38]);
    expect(check(`35=D|${HDR}11=C1|55=AAPL|54=1|60=${TS}|38=100|40=2|44=1.2.3|`)).toEqual([S, 6, 44]);
    expect(check(`35=D|${HDR}11=C1|55=AAPL|54=12|60=${TS}|38=100|40=1|`)).toEqual([S, 6, 54]);
    expect(check(`35=D|${HDR}11=C1|55=AAPL|54=1|60=2026-01-05 09:00|38=100|40=1|`)).toEqual([S, 6, 60]);
    expect(check(`35=D|${HDR}11=C1|55=AAPL|54=1|60=20260230-09:00:00|38=100|40=1|`)).toEqual([S, 6, 60]);
    expect(check(`35=D|49=OMS|56=V1|34=2|43=maybe|52=${TS}|${D_BODY}`)).toEqual([S, 6, 43]);
    expect(check(`35=2|${HDR}7=-1|16=0|`)).toEqual([S, 6, 7]);
    expect(check(`35=A|${HDR}98=0|108=x|`)).toEqual([S, 6, 108]);
    expect(check(D('64=2026010|'))).toEqual([S, 6, 64]);
    expect(check(D('453=x|'))).toEqual([S, 6, 453]);
  });

  it('373=13 tag appears more than once', () => {
    expect(check(D('11=C9|'))).toEqual([S, 13, 11]);
    expect(check(`35=D|49=OMS|56=V1|56=V1|34=2|52=${TS}|${D_BODY}`)).toEqual([S, 13, 56]);
  });

  it('373=14 tag out of required order: header after body, 8/9/35/10 inside the message', () => {
    expect(check(`35=D|49=OMS|56=V1|34=2|${D_BODY}52=${TS}|`)).toEqual([S, 14, 52]);
    expect(check(D('50=DESK|'))).toEqual([S, 14, 50]);
    expect(check(D('35=D|'))).toEqual([S, 14, 35]);
    expect(check(D('10=123|'))).toEqual([S, 14, 10]);
    expect(check(D('8=FIX.4.4|'))).toEqual([S, 14, 8]);
  });

  it('BeginString, BodyLength, MsgType not first, or CheckSum not last: garbled (the parser refuses it)', () => {
    const p = new FixParser();
    const late35 = frame(`49=OMS|35=D|56=V1|34=2|52=${TS}|`);
    expect(p.parse(late35, 0, late35.length)).toBe(FixParseError.BAD_MSG_TYPE);
    const text = Buffer.from(frame(D())).toString('latin1');
    const noTrailer = Buffer.from(text.replace(/10=\d{3}\x01$/, ''), 'latin1');
    expect(p.parse(noTrailer, 0, noTrailer.length)).toBeLessThanOrEqual(0);
  });

  it('373=15 repeating group fields out of order', () => {
    expect(check(D('453=1|447=D|448=BRK1|'))).toEqual([S, 15, 447]); // delimiter must come first
    expect(check(D('453=1|448=BRK1|452=1|447=D|'))).toEqual([S, 15, 447]); // 447 before 452
    expect(check(D('453=1|448=BRK1|802=1|803=4|523=x|'))).toEqual([S, 15, 803]); // nested
  });

  it('373=16 incorrect NumInGroup count', () => {
    expect(check(D('453=2|448=BRK1|447=D|452=1|'))).toEqual([S, 16, 453]);
    expect(check(D('453=1|448=BRK1|448=BRK2|'))).toEqual([S, 16, 453]);
    expect(check(D('453=1|58=text|'))).toEqual([S, 16, 453]);
    expect(check(D('453=1|448=BRK1|802=2|523=x|'))).toEqual([S, 16, 802]);
    expect(check(`35=A|${HDR}98=0|108=30|384=1|372=D|385=R|372=8|385=S|`)).toEqual([S, 16, 384]);
  });

  it('373=11 invalid MsgType: not a FIX 4.4 message type', () => {
    expect(check(`35=ZZ|${HDR}`)).toEqual([S, 11, 35]);
    expect(check(`35=I|${HDR}`)).toEqual([S, 11, 35]);
    expect(check(`35=BZ|${HDR}`)).toEqual([S, 11, 35]);
  });
});

describe('BusinessRejectReason rules', () => {
  it('380=3 unsupported message type: FIX 4.4 or user-defined, but not in the dictionary', () => {
    expect(check(`35=B|${HDR}148=headline|`)).toEqual([B, 3, 35]);
    expect(check(`35=AE|${HDR}`)).toEqual([B, 3, 35]);
    expect(check(`35=UX|${HDR}`)).toEqual([B, 3, 35]);
  });

  it('380=5 conditionally required field missing', () => {
    expect(check(`35=D|${HDR}11=C1|55=AAPL|54=1|60=${TS}|38=100|40=2|`)).toEqual([B, 5, 44]); // limit, no Price
    expect(check(`35=G|${HDR}41=C1|11=C2|55=AAPL|54=1|60=${TS}|38=100|40=3|`)).toEqual([B, 5, 99]); // stop, no StopPx
    expect(check(`35=8|${HDR}37=O1|17=E1|150=F|39=1|55=AAPL|54=1|151=50|14=50|6=10|31=10|`)).toEqual([B, 5, 32]); // trade, no LastQty
    expect(check(`35=8|${HDR}37=O1|17=E2|150=H|39=0|55=AAPL|54=1|151=100|14=0|6=0|`)).toEqual([B, 5, 19]); // trade cancel, no ExecRefID
    expect(check(`35=8|${HDR}37=O1|17=E2|150=H|39=0|55=AAPL|54=1|151=100|14=0|6=0|19=E1|`)).toBe('ok');
    expect(check(`35=8|${HDR}37=O1|17=E3|150=G|39=2|55=AAPL|54=1|151=0|14=100|6=10|32=100|31=10|`)).toEqual([B, 5, 19]); // trade correct, no ExecRefID
  });

  it('session-level problems win over business-level ones (checked first)', () => {
    expect(check(`35=D|${HDR}11=C1|55=AAPL|54=1|38=100|40=2|`)).toEqual([S, 1, 60]);
  });
});

describe('result encoding and the dictionary itself', () => {
  it('round-trips kind, reason and ref tag through one number', () => {
    for (const [k, r, t] of [
      [1, 0, 1],
      [1, 99, 999_999],
      [2, 5, 44],
      [1, 16, 453],
    ]) {
      const v = encodeValidation(k, r, t);
      expect([validationKind(v), validationReason(v), validationRefTag(v)]).toEqual([k, r, t]);
      expect(v).toBeLessThan(2 ** 31);
    }
  });

  it('every message and group field is defined, every group is reachable', () => {
    const defined = new Set(FIELDS.map((f) => f[0]));
    for (const m of MESSAGES) for (const t of [...m.required, ...m.optional, ...m.groups]) expect(defined.has(t), `${m.name} ${t}`).toBe(true);
    for (const g of GROUPS) for (const t of g.fields) expect(defined.has(t), `${g.name} ${t}`).toBe(true);
    const counts = new Set(GROUPS.map((g) => g.numInGroup));
    for (const m of MESSAGES) for (const t of m.groups) expect(counts.has(t)).toBe(true);
    expect(validator.messageName(0x44)).toBe('NewOrderSingle');
  });

  it('validating the same message again gives the same answer (the seen-set is renewed)', () => {
    for (let i = 0; i < 3; i++) expect(check(D())).toBe('ok');
    expect(check(D('11=C9|'))).toEqual([S, 13, 11]);
    expect(check(D())).toBe('ok');
  });
});
