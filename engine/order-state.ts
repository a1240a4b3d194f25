/**
 * The parent order state machine: one transition function, a switch on (state, event). Any pair
 * not listed is illegal and returns ILLEGAL; the risk stage (the single writer of order state)
 * refuses such an event and counts it, it never guesses. Tests walk the whole table.
 *
 *            ACCEPT            ROUTE              PARTIAL_FILL            FILL
 * PENDING_NEW ----> NEW ------------> ROUTED ---------------> PARTIALLY_FILLED ----> FILLED
 *      | REJECT      |  \                |  \                   |  \
 *      v             |   \ CANCEL_REQ    |   \ CANCEL_REQ       |   \ CANCEL_REQ / REPLACE_REQ
 *   REJECTED         |    `-> PENDING_CANCEL --CANCEL_DONE--> CANCELED
 *                    |    `-> PENDING_REPLACE --REPLACE_DONE--> NEW | PARTIALLY_FILLED
 *                    `--- CANCELED (unsolicited: no venue, IOC remainder, venue cancel)
 *                    `--- EXPIRED (DAY order at session end)
 *
 * A venue's bust or downward correction of a booked fill (TRADE_BUST) takes its quantity back:
 * PARTIALLY_FILLED -> PARTIALLY_FILLED | ROUTED (by what is still filled), FILLED -> CANCELED
 * (the busted quantity is not worked again: the order is done with less filled), and the pending
 * and the other done states stay. A correction of a fill's price only (TRADE_REPRICE) changes no
 * state. Both are illegal where nothing can have filled (PENDING_NEW, NEW, ROUTED, REJECTED).
 *
 * Where a pair returns to a working state (a cancel or replace refused, a replace done), the
 * next state depends on one fact the caller passes in: whether anything has filled.
 */

/** Order states: small integers; OrdStatus <39> gives the FIX value of each. */
import { Reason } from './reasons.ts';

export const OrderState = {
  /** Received by risk, checks not yet passed. */
  PENDING_NEW: 0,
  /** Accepted by risk and acknowledged; not yet at a venue. */
  NEW: 1,
  /** At least one child order sent to a venue; nothing filled. */
  ROUTED: 2,
  /** Some quantity filled, the rest still working. */
  PARTIALLY_FILLED: 3,
  /** Fully filled. Terminal. */
  FILLED: 4,
  /** The client asked to cancel; children are being canceled at the venues. */
  PENDING_CANCEL: 5,
  /** Canceled (by the client, or unsolicited: no venue, IOC remainder). Terminal. */
  CANCELED: 6,
  /** The client asked to replace; children are being canceled before re-routing. */
  PENDING_REPLACE: 7,
  /** Refused before acceptance. Terminal. */
  REJECTED: 8,
  /** A DAY order that reached the end of its session. Terminal. */
  EXPIRED: 9,
} as const;
export type OrderState = (typeof OrderState)[keyof typeof OrderState];
export const ORDER_STATE_COUNT = 10;

export const OrderEvent = {
  /** Pre-trade checks passed. */
  ACCEPT: 0,
  /** Pre-trade checks failed. */
  REJECT: 1,
  /** A child order was sent to a venue. */
  ROUTE: 2,
  /** A fill that leaves quantity open. */
  PARTIAL_FILL: 3,
  /** A fill that completes the order. */
  FILL: 4,
  /** The client asked to cancel. */
  CANCEL_REQUEST: 5,
  /** Cancellation finished: no child is live any more. */
  CANCEL_DONE: 6,
  /** The cancel could not be done (e.g. the venue refused it). */
  CANCEL_REJECT: 7,
  /** The client asked to replace price and/or quantity. */
  REPLACE_REQUEST: 8,
  /** The replace took effect. */
  REPLACE_DONE: 9,
  /** The replace could not be done. */
  REPLACE_REJECT: 10,
  /** Unsolicited end of the working quantity: no venue, IOC/FOK remainder, venue cancel. */
  DONE_FOR_DAY: 11,
  /** A DAY order reached the session end. */
  EXPIRE: 12,
  /** The venue busted a booked fill, or corrected it to less quantity: cumQty fell. */
  TRADE_BUST: 13,
  /** The venue corrected a booked fill's price, its quantity unchanged. */
  TRADE_REPRICE: 14,
} as const;
export type OrderEvent = (typeof OrderEvent)[keyof typeof OrderEvent];
export const ORDER_EVENT_COUNT = 15;

export const ILLEGAL = -1;

/**
 * The next state for (state, event), or ILLEGAL. `filled` (cumQty > 0, after the event) chooses
 * the working state an order returns to after a refused cancel, a completed replace or a bust.
 */
export function transition(state: number, event: number, filled: boolean): number {
  switch (state) {
    case OrderState.PENDING_NEW:
      if (event === OrderEvent.ACCEPT) return OrderState.NEW;
      if (event === OrderEvent.REJECT) return OrderState.REJECTED;
      return ILLEGAL;
    case OrderState.NEW:
      switch (event) {
        case OrderEvent.ROUTE: return OrderState.ROUTED;
        case OrderEvent.CANCEL_REQUEST: return OrderState.PENDING_CANCEL;
        case OrderEvent.REPLACE_REQUEST: return OrderState.PENDING_REPLACE;
        case OrderEvent.DONE_FOR_DAY: return OrderState.CANCELED;
        case OrderEvent.EXPIRE: return OrderState.EXPIRED;
      }
      return ILLEGAL;
    case OrderState.ROUTED:
    case OrderState.PARTIALLY_FILLED:
      switch (event) {
        case OrderEvent.ROUTE: return state;
        case OrderEvent.PARTIAL_FILL: return OrderState.PARTIALLY_FILLED;
        case OrderEvent.FILL: return OrderState.FILLED;
        case OrderEvent.CANCEL_REQUEST: return OrderState.PENDING_CANCEL;
        case OrderEvent.REPLACE_REQUEST: return OrderState.PENDING_REPLACE;
        case OrderEvent.DONE_FOR_DAY: return OrderState.CANCELED;
        case OrderEvent.EXPIRE: return OrderState.EXPIRED;
        // ROUTED has nothing filled to bust.
        case OrderEvent.TRADE_BUST: return state === OrderState.ROUTED ? ILLEGAL : filled ? OrderState.PARTIALLY_FILLED : OrderState.ROUTED;
        case OrderEvent.TRADE_REPRICE: return state === OrderState.ROUTED ? ILLEGAL : state;
      }
      return ILLEGAL;
    case OrderState.PENDING_CANCEL:
      switch (event) {
        // A child decided before the cancel arrived may still be sent, and fills still count.
        case OrderEvent.ROUTE: return state;
        case OrderEvent.PARTIAL_FILL: return state;
        case OrderEvent.FILL: return OrderState.FILLED;
        case OrderEvent.CANCEL_DONE: return OrderState.CANCELED;
        case OrderEvent.DONE_FOR_DAY: return OrderState.CANCELED;
        case OrderEvent.CANCEL_REJECT: return filled ? OrderState.PARTIALLY_FILLED : OrderState.ROUTED;
        case OrderEvent.EXPIRE: return OrderState.EXPIRED;
        case OrderEvent.TRADE_BUST: return state;
        case OrderEvent.TRADE_REPRICE: return state;
      }
      return ILLEGAL;
    case OrderState.PENDING_REPLACE:
      switch (event) {
        case OrderEvent.ROUTE: return state;
        case OrderEvent.PARTIAL_FILL: return state;
        case OrderEvent.FILL: return OrderState.FILLED;
        case OrderEvent.REPLACE_DONE: return filled ? OrderState.PARTIALLY_FILLED : OrderState.NEW;
        case OrderEvent.REPLACE_REJECT: return filled ? OrderState.PARTIALLY_FILLED : OrderState.ROUTED;
        case OrderEvent.DONE_FOR_DAY: return OrderState.CANCELED;
        case OrderEvent.EXPIRE: return OrderState.EXPIRED;
        case OrderEvent.TRADE_BUST: return state;
        case OrderEvent.TRADE_REPRICE: return state;
      }
      return ILLEGAL;
    // Done: only a venue's bust or correction of a fill reaches a done order, and it stays done.
    case OrderState.FILLED:
      if (event === OrderEvent.TRADE_BUST) return OrderState.CANCELED;
      if (event === OrderEvent.TRADE_REPRICE) return state;
      return ILLEGAL;
    case OrderState.CANCELED:
    case OrderState.EXPIRED:
      if (event === OrderEvent.TRADE_BUST || event === OrderEvent.TRADE_REPRICE) return state;
      return ILLEGAL;
    case OrderState.REJECTED:
      return ILLEGAL;
  }
  return ILLEGAL;
}

export function isTerminal(state: number): boolean {
  return (
    state === OrderState.FILLED ||
    state === OrderState.CANCELED ||
    state === OrderState.REJECTED ||
    state === OrderState.EXPIRED
  );
}

/** OrdStatus <39> for each state (FIX 4.4 values, as ASCII codes). */
export function ordStatusChar(state: number): number {
  switch (state) {
    case OrderState.PENDING_NEW: return 65; // 'A'
    case OrderState.NEW: return 48; // '0'
    case OrderState.ROUTED: return 48; // '0': working, nothing filled
    case OrderState.PARTIALLY_FILLED: return 49; // '1'
    case OrderState.FILLED: return 50; // '2'
    case OrderState.PENDING_CANCEL: return 54; // '6'
    case OrderState.CANCELED: return 52; // '4'
    case OrderState.PENDING_REPLACE: return 69; // 'E'
    case OrderState.REJECTED: return 56; // '8'
    case OrderState.EXPIRED: return 67; // 'C'
  }
  throw new Error(`Invariant: order state ${state} is known`);
}

/** What an execution report to the client says happened: ExecType <150> semantics. */
export const ExecType = {
  NEW: 0,
  PARTIAL_FILL: 1,
  FILL: 2,
  CANCELED: 4,
  REPLACED: 5,
  PENDING_CANCEL: 6,
  REJECTED: 8,
  PENDING_REPLACE: 14,
  EXPIRED: 12,
  /** 'G': the venue corrected a fill (lastQty and lastPx: the corrected trade). */
  TRADE_CORRECT: 16,
  /** 'H': the venue busted a fill (lastQty and lastPx: the busted trade). */
  TRADE_CANCEL: 17,
  /** Not an ExecType in FIX: a refused cancel/replace (OrderCancelReject <9>). */
  CANCEL_REJECT: 200,
} as const;
export type ExecType = (typeof ExecType)[keyof typeof ExecType];

/** A venue's bust or correction of a fill (TRADE_CANCEL, TRADE_CORRECT): it names the fill's report (execRefSeq). */
export function isTradeCorrection(execType: number): boolean {
  return execType === ExecType.TRADE_CANCEL || execType === ExecType.TRADE_CORRECT;
}

/** A report of a venue's trade, which carries lastQty, lastPx and the venue: a fill, a bust or a correction. */
export function carriesTrade(execType: number): boolean {
  return execType === ExecType.PARTIAL_FILL || execType === ExecType.FILL || isTradeCorrection(execType);
}

/**
 * The answer to a repeated ClOrdID: an ack with reason DUPLICATE_CL_ORD_ID carrying the original
 * order as it stands. No event of the order: nothing changed (risk-stage.ts onNewOrder).
 */
export function isDuplicateAnswer(execType: number, reason: number): boolean {
  return execType === ExecType.NEW && reason === Reason.DUPLICATE_CL_ORD_ID;
}

const STATE_NAMES = Object.keys(OrderState);
const EVENT_NAMES = Object.keys(OrderEvent);
export function stateName(state: number): string {
  return STATE_NAMES[state] ?? `STATE_${state}`;
}
export function eventName(event: number): string {
  return EVENT_NAMES[event] ?? `EVENT_${event}`;
}
/** ExecType value -> name, built once (execTypeName runs per report at the edge and per journaled event). */
const EXEC_TYPE_NAMES: string[] = [];
for (const [name, value] of Object.entries(ExecType)) EXEC_TYPE_NAMES[value] = name;

export function execTypeName(execType: number): string {
  return EXEC_TYPE_NAMES[execType] ?? `EXEC_${execType}`;
}
