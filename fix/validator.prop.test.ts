// Goal: the validator accepts every well-formed D, F, G and 8 this engine may meet, and rejects
// each kind of damage with the reason the spec gives it; no input makes it throw. Method:
// fast-check builds messages from a small model (header, body fields in any order, an optional
// Parties group), mutates them one way at a time, frames them, parses and validates (seeded).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FixParser } from './parser.ts';
import { frame, utcTimestamp } from './test-util.ts';
import { FixValidator, VALIDATION_OK, ValidationKind, validationKind, validationReason, validationRefTag } from './validator.ts';

const PARAMS = { seed: 44_2026, numRuns: 300 };
const S = ValidationKind.SESSION_REJECT;

type Field = [number, string];
/** A body item: one field, or a repeating group (its NumInGroup field first, then its entries). */
type Item = Field[];
interface Msg {
  type: string;
  header: Field[];
  body: Item[];
}

const validator = new FixValidator();
const parser = new FixParser();

function serialize(m: Msg): Uint8Array {
  const fields = [...m.header, ...m.body.flat()];
  return frame(`35=${m.type}|${fields.map(([t, v]) => `${t}=${v}|`).join('')}`);
}

function run(m: Msg): number {
  const bytes = serialize(m);
  const r = parser.parse(bytes, 0, bytes.length);
  if (r !== bytes.length) throw new Error(`model frame does not parse: ${r}`);
  return validator.validate(parser);
}

function decode(v: number): [number, number, number] | 'ok' {
  return v === VALIDATION_OK ? 'ok' : [validationKind(v), validationReason(v), validationRefTag(v)];
}

// ------------------------------------------------------------------------------ value generators

const id = fc.stringMatching(/^[A-Za-z0-9-]{1,16}$/);
const text = fc.stringMatching(/^[ -{}~]{1,30}$/); // no '|': the test frames use it for SOH
const qty = fc.integer({ min: 1, max: 10_000_000 }).map(String);
const price = fc.tuple(fc.integer({ min: 0, max: 99_999 }), fc.integer({ min: 0, max: 9_999 })).map(([a, b]) => `${a}.${b}`);
const ts = fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2099, 11, 31) }).map(utcTimestamp);
const side = fc.constantFrom('1', '2', '5', '8', 'B');
const tif = fc.constantFrom('0', '1', '3', '4', '6');
const ordType = fc.constantFrom('1', '2', '3', '4', '5', 'P');
const execType = fc.constantFrom('0', '4', '5', '8', 'C', 'F', 'G', 'H', 'I');
const ordStatus = fc.constantFrom('0', '1', '2', '4', '8', 'C', 'E');
const LIMIT = new Set(['2', '4', '7', '8', 'B']);
const STOP = new Set(['3', '4']);

const header: fc.Arbitrary<Field[]> = fc
  .tuple(id, id, fc.integer({ min: 1, max: 2 ** 31 - 1 }), ts, fc.option(id, { nil: undefined }))
  .map(([s, t, seq, time, onBehalf]) => {
    const h: Field[] = [[49, s], [56, t]];
    if (onBehalf !== undefined) h.push([115, onBehalf]);
    h.push([34, String(seq)], [52, time]);
    return h;
  });

const partyEntry = fc.tuple(id, fc.constantFrom('B', 'C', 'D', 'G'), fc.constantFrom('1', '3', '11', '12', '39')).map(
  ([pid, src, role]): Field[] => [[448, pid], [447, src], [452, role]],
);
const parties: fc.Arbitrary<Item[]> = fc.array(partyEntry, { minLength: 0, maxLength: 3 }).map((entries) =>
  entries.length === 0 ? [] : [[[453, String(entries.length)] as Field, ...entries.flat()]],
);

/** Required fields, optional fields (subset), shuffled together; the group appended anywhere. */
function body(required: Field[], optional: Field[], group: Item[]): fc.Arbitrary<Item[]> {
  return fc
    .tuple(fc.subarray(optional), fc.nat())
    .chain(([opt, at]) =>
      fc.shuffledSubarray([...required, ...opt], { minLength: required.length + opt.length }).map((fields) => {
        const items: Item[] = fields.map((f) => [f]);
        items.splice(at % (items.length + 1), 0, ...group);
        return items;
      }),
    );
}

function priceFields(type: string, px: string, stop: string): Field[] {
  const out: Field[] = [];
  if (LIMIT.has(type)) out.push([44, px]);
  if (STOP.has(type)) out.push([99, stop]);
  return out;
}

const newOrder: fc.Arbitrary<Msg> = fc
  .tuple(header, id, id, side, ts, qty, ordType, price, price, tif, id, text, parties)
  .chain(([h, clOrdId, sym, sd, t, q, ot, px, stop, tf, acct, txt, grp]) =>
    body([[11, clOrdId], [55, sym], [54, sd], [60, t], [38, q], [40, ot], ...priceFields(ot, px, stop)], [[59, tf], [1, acct], [58, txt], [21, '1'], [15, 'USD']], grp).map(
      (b) => ({ type: 'D', header: h, body: b }),
    ),
  );

const cancel: fc.Arbitrary<Msg> = fc
  .tuple(header, id, id, id, side, ts, qty, id, parties)
  .chain(([h, orig, clOrdId, sym, sd, t, q, orderId, grp]) =>
    body([[41, orig], [11, clOrdId], [55, sym], [54, sd], [60, t], [38, q]], [[37, orderId], [58, 'cancel']], grp).map((b) => ({ type: 'F', header: h, body: b })),
  );

const replace: fc.Arbitrary<Msg> = fc
  .tuple(header, id, id, id, side, ts, qty, ordType, price, price, tif, parties)
  .chain(([h, orig, clOrdId, sym, sd, t, q, ot, px, stop, tf, grp]) =>
    body([[41, orig], [11, clOrdId], [55, sym], [54, sd], [60, t], [38, q], [40, ot], ...priceFields(ot, px, stop)], [[59, tf], [1, 'ACC']], grp).map(
      (b) => ({ type: 'G', header: h, body: b }),
    ),
  );

const report: fc.Arbitrary<Msg> = fc
  .tuple(header, id, id, execType, ordStatus, id, side, qty, qty, price, qty, price, id, ts, parties)
  .chain(([h, orderId, execId, et, os, sym, sd, leaves, cum, avg, last, lastPx, clOrdId, t, grp]) => {
    const trade: Field[] = [...(et === 'F' || et === 'G' ? [[32, last], [31, lastPx]] as Field[] : []), ...(et === 'G' || et === 'H' ? [[19, execId]] as Field[] : [])];
    const required: Field[] = [[37, orderId], [17, execId], [150, et], [39, os], [55, sym], [54, sd], [151, leaves], [14, cum], [6, avg], ...trade];
    return body(required, [[11, clOrdId], [60, t], [58, 'report'], [12, '0.5'], [13, '3'], [40, '2'], [44, avg]], grp).map((b) => ({ type: '8', header: h, body: b }));
  });

const anyMessage = fc.oneof(newOrder, cancel, replace, report);

const REQUIRED: Record<string, number[]> = {
  D: [49, 56, 34, 52, 11, 55, 54, 60, 38, 40],
  F: [49, 56, 34, 52, 41, 11, 55, 54, 60, 38],
  G: [49, 56, 34, 52, 41, 11, 55, 54, 60, 38, 40],
  '8': [49, 56, 34, 52, 37, 17, 150, 39, 55, 54, 151, 14, 6],
};
const ENUMERATED = new Set([54, 40, 59, 150, 39, 21, 13]);

function topLevelTags(m: Msg): number[] {
  return [...m.header.map((f) => f[0]), ...m.body.filter((i) => i.length === 1).map((i) => i[0][0])];
}

function withoutTag(m: Msg, tag: number): Msg {
  return { ...m, header: m.header.filter((f) => f[0] !== tag), body: m.body.filter((i) => !(i.length === 1 && i[0][0] === tag)) };
}

function duplicated(m: Msg, tag: number): Msg {
  const h = m.header.flatMap((f) => (f[0] === tag ? [f, f] : [f]));
  const b = m.body.flatMap((i) => (i.length === 1 && i[0][0] === tag ? [i, i] : [i]));
  return { ...m, header: h, body: b };
}

function withValue(m: Msg, tag: number, value: string): Msg {
  return { ...m, body: m.body.map((i) => (i.length === 1 && i[0][0] === tag ? [[tag, value] as Field] : i)) };
}

describe('validator properties', () => {
  it('well-formed D, F, G and 8 always pass', () => {
    fc.assert(
      fc.property(anyMessage, (m) => {
        expect(decode(run(m))).toBe('ok');
      }),
      PARAMS,
    );
  });

  it('deleting a required tag is always 373=1 naming that tag', () => {
    fc.assert(
      fc.property(anyMessage, fc.nat(), (m, k) => {
        const required = REQUIRED[m.type];
        const tag = required[k % required.length];
        expect(decode(run(withoutTag(m, tag)))).toEqual([S, 1, tag]);
      }),
      PARAMS,
    );
  });

  it('duplicating a field (outside groups) is always 373=13 naming it', () => {
    fc.assert(
      fc.property(anyMessage, fc.nat(), (m, k) => {
        const tags = topLevelTags(m);
        const tag = tags[k % tags.length];
        expect(decode(run(duplicated(m, tag)))).toEqual([S, 13, tag]);
      }),
      PARAMS,
    );
  });

  it('an enumerated field with a value outside its enumeration is always 373=5', () => {
    fc.assert(
      fc.property(anyMessage, fc.nat(), fc.constantFrom('!', '#', '%', '*', '?', 'x', 'z', '~'), (m, k, bad) => {
        const tags = topLevelTags(m).filter((t) => ENUMERATED.has(t));
        const tag = tags[k % tags.length];
        expect(decode(run(withValue(m, tag, bad)))).toEqual([S, 5, tag]);
      }),
      PARAMS,
    );
  });

  it('a header field moved after the body is always 373=14 naming it', () => {
    fc.assert(
      fc.property(anyMessage, fc.nat(), (m, k) => {
        const moved = m.header[k % m.header.length];
        const shuffled: Msg = { ...m, header: m.header.filter((f) => f !== moved), body: [...m.body, [moved]] };
        expect(decode(run(shuffled))).toEqual([S, 14, moved[0]]);
      }),
      PARAMS,
    );
  });

  it('random bytes and random field soups never throw and always give a well-formed verdict', () => {
    const soupTag = fc.constantFrom(11, 34, 35, 38, 40, 44, 49, 52, 54, 55, 56, 60, 447, 448, 452, 453, 802, 523, 10, 8, 9999, 627, 628);
    const soup = fc.array(fc.tuple(soupTag, fc.stringMatching(/^[ -{}~]{0,6}$/)), { maxLength: 30 });
    fc.assert(
      fc.property(fc.constantFrom('D', 'F', 'G', '8', '0', 'A', 'j', 'B', 'ZZ'), soup, fc.uint8Array({ maxLength: 200 }), (type, fields, junk) => {
        const bytes = frame(`35=${type}|${fields.map(([t, v]) => `${t}=${v}|`).join('')}`);
        for (const input of [bytes, junk]) {
          if (parser.parse(input, 0, input.length) <= 0) continue;
          const v = validator.validate(parser);
          expect([0, 1, 2]).toContain(validationKind(v));
          expect(validationReason(v)).toBeLessThan(100);
        }
      }),
      { ...PARAMS, numRuns: 1000 },
    );
  });
});
