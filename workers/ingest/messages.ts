/**
 * The order-entry protocol's messages as plain objects: the one shape both wire formats carry.
 * JSON text frames are these objects stringified; FlatBuffers binary frames (codecs/order-entry.fbs)
 * carry the same fields, so a client may use either and sees the same protocol.
 *
 * Client -> server (validated into commands by order-json.ts / order-fb.ts):
 *   new, cancel, replace, subscribe, unsubscribe, positions, heartbeat
 * Server -> client:
 *   hello, ack, execution, reject, cancelReject, position, positions, heartbeat, subscribed, error
 *
 * Prices and money are decimal strings ("177.25"): exact, never floats. Quantities are integers.
 */

/** Every execution-report-derived message (ack, execution, reject, cancelReject) has this shape. */
export interface ReportMessage {
  type: 'ack' | 'execution' | 'reject' | 'cancelReject';
  /** NEW, PARTIAL_FILL, FILL, CANCELED, REPLACED, REJECTED, EXPIRED, CANCEL_REJECT... */
  execType: string;
  orderId: number;
  clOrdId: string;
  origClOrdId?: string;
  /** Order status after the event (NEW, PARTIALLY_FILLED, FILLED, CANCELED, REJECTED, ...). */
  status: string;
  symbol: string | null;
  side: string | null;
  ordType: string | null;
  tif: string | null;
  qty: number;
  price: string | null;
  cumQty: number;
  leavesQty: number;
  avgPx: string | null;
  eventSeq: number;
  /** Fills, busts and corrections only (a bust's: the trade taken back; a correction's: the trade as corrected). */
  lastQty?: number;
  lastPx?: string;
  venue?: string | null;
  /** Busts and corrections only (execType TRADE_CANCEL, TRADE_CORRECT): the eventSeq of the report of the fill they take back. */
  execRefSeq?: number;
  /** Refusals only. */
  reason?: number;
  reasonName?: string;
}

/** A refusal at the edge (the message never reached the engine). */
export interface EdgeRejectMessage {
  type: 'reject';
  clOrdId: string;
  reason: number;
  reasonName: string;
  text: string;
}

/** A protocol or authentication error not tied to an order. */
export interface ErrorMessage {
  type: 'error';
  reason: number;
  reasonName: string;
  text: string;
}

export interface HelloMessage {
  type: 'hello';
  accountId: number;
  connId: number;
  /** Seconds between server heartbeats. */
  heartbeatS: number;
}

export interface PositionMessage {
  type: 'position';
  symbol: string;
  /** Signed net quantity: positive long, negative short. */
  qty: number;
  /** Average cost of the open quantity; null when flat. */
  avgPx: string | null;
  /** Realized profit and loss, in currency units. */
  realizedPnl: string;
  eventSeq: number;
}

export interface PositionsMessage {
  type: 'positions';
  positions: PositionMessage[];
}

export interface HeartbeatMessage {
  type: 'heartbeat';
  /** Server time, milliseconds since the Unix epoch. */
  time: number;
}

export interface SubscribedMessage {
  type: 'subscribed';
  subscribed: boolean;
}

export type ServerMessage =
  | ReportMessage
  | EdgeRejectMessage
  | ErrorMessage
  | HelloMessage
  | PositionMessage
  | PositionsMessage
  | HeartbeatMessage
  | SubscribedMessage;
