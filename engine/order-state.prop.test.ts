// Goal: no sequence of events can take an order outside the set of states or out of a terminal
// state. Method: fast-check random event sequences (with random `filled` flags, and with a
// consistent cumulative-fill model) applied through transition(), illegal events refused.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ILLEGAL, ORDER_EVENT_COUNT, ORDER_STATE_COUNT, OrderEvent, OrderState, isTerminal, transition } from './order-state.ts';

const eventArb = fc.integer({ min: 0, max: ORDER_EVENT_COUNT - 1 });

describe('transition properties', () => {
  it('random sequences stay in the set of states and never leave a terminal state', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(eventArb, fc.boolean()), { maxLength: 200 }), (steps) => {
        let state: number = OrderState.PENDING_NEW;
        let terminalAt = -1;
        for (let i = 0; i < steps.length; i++) {
          const [event, filled] = steps[i];
          const next = transition(state, event, filled);
          if (isTerminal(state)) expect(next).toBe(ILLEGAL);
          if (next === ILLEGAL) continue;
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

  it('from any state, any event: ILLEGAL or a known state; terminal only ever ILLEGAL', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: ORDER_STATE_COUNT - 1 }), eventArb, fc.boolean(), (state, event, filled) => {
        const next = transition(state, event, filled);
        if (isTerminal(state)) return next === ILLEGAL;
        return next === ILLEGAL || (next >= 0 && next < ORDER_STATE_COUNT);
      }),
      { numRuns: 2000 },
    );
  });

  it('with a consistent fill model, a filled order never returns to an unfilled working state', () => {
    // The caller passes filled = cumQty > 0, which only grows: once filled, NEW and ROUTED
    // (both "nothing filled") must not be reached again.
    fc.assert(
      fc.property(fc.array(eventArb, { maxLength: 200 }), (events) => {
        let state: number = OrderState.PENDING_NEW;
        let filled = false;
        for (const event of events) {
          const next = transition(state, event, filled);
          if (next === ILLEGAL) continue;
          if (event === OrderEvent.PARTIAL_FILL || event === OrderEvent.FILL) filled = true;
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
