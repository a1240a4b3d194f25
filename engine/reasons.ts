/**
 * The catalogue of reason codes: every expected refusal has a stable number and name.
 * Ranges per stage: 1xx ingest / edge validation, 2xx risk, 3xx routing, 4xx venue / FIX,
 * 5xx engine state. Numbers never change meaning; new codes are appended.
 */
export const Reason = {
  NONE: 0,
  // 1xx: the edge (WebSocket, REST, FIX acceptor) refused the input.
  MALFORMED: 100,
  UNKNOWN_MESSAGE_TYPE: 101,
  MISSING_FIELD: 102,
  INVALID_FIELD: 103,
  INVALID_QTY: 104,
  INVALID_PRICE: 105,
  UNKNOWN_SYMBOL: 106,
  INVALID_SIDE: 107,
  INVALID_ORD_TYPE: 108,
  INVALID_TIF: 109,
  INVALID_CL_ORD_ID: 110,
  FRAME_TOO_LARGE: 111,
  RATE_LIMITED: 112,
  UNAUTHENTICATED: 113,
  FORBIDDEN: 114,
  ENGINE_BUSY: 115,
  // 2xx: pre-trade risk and the order book of record.
  MAX_QTY_EXCEEDED: 200,
  MAX_NOTIONAL_EXCEEDED: 201,
  DUPLICATE_CL_ORD_ID: 202,
  UNKNOWN_ORDER: 203,
  ORDER_NOT_CANCELABLE: 204,
  ORDER_TABLE_FULL: 205,
  UNKNOWN_ACCOUNT: 206,
  ACCOUNT_HALTED: 207,
  MARKET_ORDER_NEEDS_QUOTE: 208,
  CANCEL_PENDING: 209,
  REPLACE_NOT_ALLOWED: 210,
  /** The kill switch put the account (or every account) in reduce-only: this order would not reduce. */
  REDUCE_ONLY: 211,
  /** Canceled by a mass cancel the account asked for. */
  MASS_CANCEL: 212,
  /** Canceled because the kill switch halted the account (or every account). */
  KILL_SWITCH: 213,
  /** Canceled because the connection that entered it closed (cancel-on-disconnect). */
  CANCEL_ON_DISCONNECT: 214,
  /** Canceled because the client went silent past its dead-man's switch. */
  DEAD_MAN_SWITCH: 215,
  /** Too many mass cancels already waiting: try again. */
  MASS_CANCEL_BUSY: 216,
  /** The symbol is restricted for this account (or for everyone). */
  SYMBOL_RESTRICTED: 217,
  /** The account's message throttle (new, cancel and replace commands per second) is exhausted. */
  MESSAGE_RATE_EXCEEDED: 218,
  /** The account's order throttle (new orders per second) is exhausted. */
  ORDER_RATE_EXCEEDED: 219,
  /** The limit price is outside the collar around the reference price. */
  PRICE_OUTSIDE_COLLAR: 220,
  /** Same account, symbol, side, quantity and price as an order accepted within the duplicate window. */
  DUPLICATE_ORDER: 221,
  /** A sell beyond the available long position, and the account may not sell short. */
  SHORT_SALE_NOT_ALLOWED: 222,
  /** A sell beyond the available long position in a symbol on the no-short list. */
  SHORT_SALE_RESTRICTED: 223,
  /** The position plus open orders on the same side would pass the account's limit in the symbol. */
  POSITION_LIMIT_EXCEEDED: 224,
  /** Open buy notional plus the cost of long positions would pass the account's credit limit. */
  CREDIT_LIMIT_EXCEEDED: 225,
  /** A DAY order reached the end of its session (EXPIRED). */
  SESSION_END: 226,
  /** A risk-limit change that risk refused (unknown key, account, symbol or value out of range). */
  INVALID_LIMIT: 227,
  // 3xx: routing.
  NO_VENUE_AVAILABLE: 300,
  CHILD_TABLE_FULL: 301,
  /** A market order with no fresh quote to put its price collar on: not routed. */
  NO_MARKET_REFERENCE: 302,
  /** The SOR's table of routes in progress is full: not routed. */
  ROUTE_TABLE_FULL: 303,
  /** No eligible venue accepts this quantity (minimum quantity, lot size). */
  QTY_NOT_ROUTABLE: 304,
  // 4xx: venues and FIX.
  VENUE_REJECT: 400,
  VENUE_DOWN: 401,
  VENUE_CANCELED: 402,
  /** The venue answered an OrderStatusRequest (35=H) with "unknown order": the child is dead there. */
  VENUE_ORDER_UNKNOWN: 403,
  // 5xx: engine state.
  ENGINE_STOPPING: 500,
  ENGINE_HALTED: 501,
  /** A fault in the engine's own code while handling the input: it was not applied. */
  INTERNAL_ERROR: 502,
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];

const NAMES = new Map<number, string>(Object.entries(Reason).map(([name, code]) => [code, name]));

/** The stable name of a code, for JSON replies and logs (allocates nothing: names are interned). */
export function reasonName(code: number): string {
  return NAMES.get(code) ?? 'UNKNOWN_REASON';
}
