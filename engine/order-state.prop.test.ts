// Goal: no sequence of events can take an order outside the set of states or out of a terminal
// state. Method: fast-check random event sequences (with random `filled` flags, and with a
// consistent cumulative-fill model) applied through transition(), illegal events refused.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ILLEGAL, ORDER_EVENT_COUNT, ORDER_STATE_COUNT, OrderEvent, OrderState, isTerminal, transition } from './order-state.ts';

const eventArb = fc.integer({ min: 0, max: ORDER_EVENT_COUNT - 1 });

describe('transition properties', () => {
  it('random sequences stay in the set of states and never leave the terminal states', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(eventArb, fc.boolean()), { maxLength: 200 }), (steps) => {
        let state: number = OrderState.PENDING_NEW;
        let terminalAt = -1;
        for (let i = 0; i < steps.length; i++) {
          const [event, filled] = steps[i];
          const next = transition(state, event, filled);
          // A done order takes only a bust or a correction of its fills, and stays done.
          if (isTerminal(state) && event !== OrderEvent.TRADE_BUST && event !== OrderEvent.TRADE_REPRICE) expect(next).toBe(ILLEGAL);
          if (next === ILLEGAL) continue;
          if (isTerminal(state)) expect(isTerminal(next)).toBe(true);
          expect(Number.isInteger(next)).toBe(true);
          expect(next >= 0 && next < ORDER_STATE_COUNT).toBe(true);
          state = next;
          if (terminalAt < 0 && isTerminal(state)) terminalAt = i;
        }
        if (terminalAt >= 0) expect(isTerminal(state)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('from any state, any event: ILLEGAL or a known state; from a terminal one, ILLEGAL or terminal', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: ORDER_STATE_COUNT - 1 }), eventArb, fc.boolean(), (state, event, filled) => {
        const next = transition(state, event, filled);
        if (isTerminal(state)) return next === ILLEGAL || isTerminal(next);
        return next === ILLEGAL || (next >= 0 && next < ORDER_STATE_COUNT);
      }),
      { numRuns: 2000 },
    );
  });

  it('with a consistent fill model, a filled order is never in an unfilled working state', () => {
    // The caller passes filled = cumQty > 0 after the event: fills raise it, and only a bust
    // (which may take every fill back) can clear it. While filled, NEW and ROUTED (both "nothing
    // filled") must not be reached; and nothing can be busted where nothing filled.
    fc.assert(
      fc.property(fc.array(fc.tuple(eventArb, fc.boolean()), { maxLength: 200 }), (steps) => {
        let state: number = OrderState.PENDING_NEW;
        let filled = false;
        for (const [event, bustsAll] of steps) {
          const filledAfter: boolean = event === OrderEvent.PARTIAL_FILL || event === OrderEvent.FILL ? true
            : event === OrderEvent.TRADE_BUST ? filled && !bustsAll : filled;
          if (!filled && (event === OrderEvent.TRADE_BUST || event === OrderEvent.TRADE_REPRICE)) continue; // the caller refuses these
          const next = transition(state, event, filledAfter);
          if (next === ILLEGAL) continue;
          filled = filledAfter;
          state = next;
          if (filled) {
            expect(state).not.toBe(OrderState.NEW);
            expect(state).not.toBe(OrderState.ROUTED);
            expect(state).not.toBe(OrderState.PENDING_NEW);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
});
