// Goal: transition() matches the documented machine on every (state, event, filled) triple, the
// illegal ones included, and ordStatusChar/isTerminal agree with the state meanings.
// Method: an expected table written out by hand from the ASCII diagram and the doc comments of
// engine/order-state.ts (never computed by calling transition), then a walk of the whole cube.
import { describe, expect, it } from 'vitest';
import {
  ILLEGAL,
  ORDER_EVENT_COUNT,
  ORDER_STATE_COUNT,
  OrderEvent,
  OrderState,
  eventName,
  isTerminal,
  ordStatusChar,
  stateName,
  transition,
} from './order-state.ts';

const S = OrderState;
const E = OrderEvent;

/**
 * Every legal pair: [state, event, next when nothing filled, next when something filled].
 * Sources: the diagram (ACCEPT, REJECT, ROUTE, PARTIAL_FILL, FILL, CANCEL_REQ, REPLACE_REQ,
 * CANCEL_DONE, REPLACE_DONE -> NEW | PARTIALLY_FILLED, unsolicited CANCELED, EXPIRED) and the
 * comments: a further child keeps a working state, fills still count while a cancel or replace
 * is pending (a partial fill leaves the pending state as it is, a full fill ends the order), a
 * refused cancel/replace returns to the working state chosen by `filled`; a bust (TRADE_BUST)
 * takes a partially filled order back by `filled`, ends a filled one CANCELED and leaves the
 * pending and other done states as they are, and a price correction (TRADE_REPRICE) changes no
 * state, both only where something can have filled.
 */
const LEGAL: ReadonlyArray<readonly [number, number, number, number]> = [
  [S.PENDING_NEW, E.ACCEPT, S.NEW, S.NEW],
  [S.PENDING_NEW, E.REJECT, S.REJECTED, S.REJECTED],

  [S.NEW, E.ROUTE, S.ROUTED, S.ROUTED],
  [S.NEW, E.CANCEL_REQUEST, S.PENDING_CANCEL, S.PENDING_CANCEL],
  [S.NEW, E.REPLACE_REQUEST, S.PENDING_REPLACE, S.PENDING_REPLACE],
  [S.NEW, E.DONE_FOR_DAY, S.CANCELED, S.CANCELED],
  [S.NEW, E.EXPIRE, S.EXPIRED, S.EXPIRED],

  [S.ROUTED, E.ROUTE, S.ROUTED, S.ROUTED],
  [S.ROUTED, E.PARTIAL_FILL, S.PARTIALLY_FILLED, S.PARTIALLY_FILLED],
  [S.ROUTED, E.FILL, S.FILLED, S.FILLED],
  [S.ROUTED, E.CANCEL_REQUEST, S.PENDING_CANCEL, S.PENDING_CANCEL],
  [S.ROUTED, E.REPLACE_REQUEST, S.PENDING_REPLACE, S.PENDING_REPLACE],
  [S.ROUTED, E.DONE_FOR_DAY, S.CANCELED, S.CANCELED],
  [S.ROUTED, E.EXPIRE, S.EXPIRED, S.EXPIRED],

  [S.PARTIALLY_FILLED, E.ROUTE, S.PARTIALLY_FILLED, S.PARTIALLY_FILLED],
  [S.PARTIALLY_FILLED, E.PARTIAL_FILL, S.PARTIALLY_FILLED, S.PARTIALLY_FILLED],
  [S.PARTIALLY_FILLED, E.FILL, S.FILLED, S.FILLED],
  [S.PARTIALLY_FILLED, E.CANCEL_REQUEST, S.PENDING_CANCEL, S.PENDING_CANCEL],
  [S.PARTIALLY_FILLED, E.REPLACE_REQUEST, S.PENDING_REPLACE, S.PENDING_REPLACE],
  [S.PARTIALLY_FILLED, E.DONE_FOR_DAY, S.CANCELED, S.CANCELED],
  [S.PARTIALLY_FILLED, E.EXPIRE, S.EXPIRED, S.EXPIRED],
  [S.PARTIALLY_FILLED, E.TRADE_BUST, S.ROUTED, S.PARTIALLY_FILLED],
  [S.PARTIALLY_FILLED, E.TRADE_REPRICE, S.PARTIALLY_FILLED, S.PARTIALLY_FILLED],

  [S.PENDING_CANCEL, E.ROUTE, S.PENDING_CANCEL, S.PENDING_CANCEL],
  [S.PENDING_CANCEL, E.PARTIAL_FILL, S.PENDING_CANCEL, S.PENDING_CANCEL],
  [S.PENDING_CANCEL, E.FILL, S.FILLED, S.FILLED],
  [S.PENDING_CANCEL, E.CANCEL_DONE, S.CANCELED, S.CANCELED],
  [S.PENDING_CANCEL, E.CANCEL_REJECT, S.ROUTED, S.PARTIALLY_FILLED],
  [S.PENDING_CANCEL, E.DONE_FOR_DAY, S.CANCELED, S.CANCELED],
  [S.PENDING_CANCEL, E.EXPIRE, S.EXPIRED, S.EXPIRED],
  [S.PENDING_CANCEL, E.TRADE_BUST, S.PENDING_CANCEL, S.PENDING_CANCEL],
  [S.PENDING_CANCEL, E.TRADE_REPRICE, S.PENDING_CANCEL, S.PENDING_CANCEL],

  [S.PENDING_REPLACE, E.ROUTE, S.PENDING_REPLACE, S.PENDING_REPLACE],
  [S.PENDING_REPLACE, E.PARTIAL_FILL, S.PENDING_REPLACE, S.PENDING_REPLACE],
  [S.PENDING_REPLACE, E.FILL, S.FILLED, S.FILLED],
  [S.PENDING_REPLACE, E.REPLACE_DONE, S.NEW, S.PARTIALLY_FILLED],
  [S.PENDING_REPLACE, E.REPLACE_REJECT, S.ROUTED, S.PARTIALLY_FILLED],
  [S.PENDING_REPLACE, E.DONE_FOR_DAY, S.CANCELED, S.CANCELED],
  [S.PENDING_REPLACE, E.EXPIRE, S.EXPIRED, S.EXPIRED],
  [S.PENDING_REPLACE, E.TRADE_BUST, S.PENDING_REPLACE, S.PENDING_REPLACE],
  [S.PENDING_REPLACE, E.TRADE_REPRICE, S.PENDING_REPLACE, S.PENDING_REPLACE],

  [S.FILLED, E.TRADE_BUST, S.CANCELED, S.CANCELED],
  [S.FILLED, E.TRADE_REPRICE, S.FILLED, S.FILLED],
  [S.CANCELED, E.TRADE_BUST, S.CANCELED, S.CANCELED],
  [S.CANCELED, E.TRADE_REPRICE, S.CANCELED, S.CANCELED],
  [S.EXPIRED, E.TRADE_BUST, S.EXPIRED, S.EXPIRED],
  [S.EXPIRED, E.TRADE_REPRICE, S.EXPIRED, S.EXPIRED],
];

const TERMINAL = [S.FILLED, S.CANCELED, S.REJECTED, S.EXPIRED];
const ALL_STATES = Array.from({ length: ORDER_STATE_COUNT }, (_, i) => i);
const ALL_EVENTS = Array.from({ length: ORDER_EVENT_COUNT }, (_, i) => i);

function expected(state: number, event: number, filled: boolean): number {
  for (const [s, e, unfilled, withFill] of LEGAL) {
    if (s === state && e === event) return filled ? withFill : unfilled;
  }
  return ILLEGAL;
}

describe('OrderState / OrderEvent catalogues', () => {
  it('counts match the catalogues and values are 0..count-1', () => {
    expect(Object.values(OrderState).sort((a, b) => a - b)).toEqual(ALL_STATES);
    expect(Object.values(OrderEvent).sort((a, b) => a - b)).toEqual(ALL_EVENTS);
  });

  it('the expected table lists each pair once', () => {
    const keys = new Set(LEGAL.map(([s, e]) => s * 100 + e));
    expect(keys.size).toBe(LEGAL.length);
    expect(LEGAL.length).toBe(47);
  });

  it('names every state and event', () => {
    expect(stateName(S.PENDING_CANCEL)).toBe('PENDING_CANCEL');
    expect(eventName(E.REPLACE_DONE)).toBe('REPLACE_DONE');
    expect(stateName(99)).toBe('STATE_99');
    expect(eventName(99)).toBe('EVENT_99');
  });
});

describe('transition: the whole (state x event x filled) table', () => {
  for (const state of ALL_STATES) {
    it(`from ${stateName(state)}`, () => {
      for (const event of ALL_EVENTS) {
        for (const filled of [false, true]) {
          const want = expected(state, event, filled);
          const got = transition(state, event, filled);
          expect(got, `${stateName(state)} x ${eventName(event)} filled=${filled}`).toBe(want);
        }
      }
    });
  }

  it('every legal result is a known state', () => {
    for (const [, , a, b] of LEGAL) {
      expect(ALL_STATES).toContain(a);
      expect(ALL_STATES).toContain(b);
    }
  });

  it('terminal states accept only a bust or a correction of a fill, and stay terminal', () => {
    for (const state of TERMINAL) {
      for (const event of ALL_EVENTS) {
        for (const filled of [false, true]) {
          const next = transition(state, event, filled);
          const trade = event === E.TRADE_BUST || event === E.TRADE_REPRICE;
          if (!trade || state === S.REJECTED) expect(next).toBe(ILLEGAL);
          else expect(isTerminal(next)).toBe(true);
        }
      }
    }
  });

  it('unknown states and events are illegal', () => {
    for (const filled of [false, true]) {
      for (const event of [...ALL_EVENTS, -1, ORDER_EVENT_COUNT, 255]) {
        expect(transition(-1, event, filled)).toBe(ILLEGAL);
        expect(transition(ORDER_STATE_COUNT, event, filled)).toBe(ILLEGAL);
        expect(transition(255, event, filled)).toBe(ILLEGAL);
      }
      for (const state of ALL_STATES) {
        expect(transition(state, -1, filled)).toBe(ILLEGAL);
        expect(transition(state, ORDER_EVENT_COUNT, filled)).toBe(ILLEGAL);
        expect(transition(state, 1.5, filled)).toBe(ILLEGAL);
      }
    }
  });
});

describe('isTerminal', () => {
  it('is true for FILLED, CANCELED, REJECTED, EXPIRED only', () => {
    for (const state of ALL_STATES) {
      expect(isTerminal(state), stateName(state)).toBe(TERMINAL.includes(state as (typeof TERMINAL)[number]));
    }
  });
});

describe('ordStatusChar', () => {
  // OrdStatus <39> values, FIX 4.4.
  const EXPECTED: ReadonlyArray<readonly [number, string]> = [
    [S.PENDING_NEW, 'A'],
    [S.NEW, '0'],
    [S.ROUTED, '0'],
    [S.PARTIALLY_FILLED, '1'],
    [S.FILLED, '2'],
    [S.PENDING_CANCEL, '6'],
    [S.CANCELED, '4'],
    [S.PENDING_REPLACE, 'E'],
    [S.REJECTED, '8'],
    [S.EXPIRED, 'C'],
  ];

  it('covers every state', () => {
    expect(EXPECTED.map(([s]) => s).sort((a, b) => a - b)).toEqual(ALL_STATES);
  });

  for (const [state, ch] of EXPECTED) {
    it(`${stateName(state)} -> '${ch}'`, () => {
      expect(ordStatusChar(state)).toBe(ch.charCodeAt(0));
    });
  }

  it('an unknown state is a programmer error', () => {
    expect(() => ordStatusChar(ORDER_STATE_COUNT)).toThrow(/Invariant/);
    expect(() => ordStatusChar(-1)).toThrow(/Invariant/);
  });
});
