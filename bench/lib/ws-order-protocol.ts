/**
 * The load generator's side of the JSON order protocol (workers/ingest/order-json.ts): the text
 * of order j of a worker, and a scanner that finds what a reply is and which order it answers.
 *
 * ClOrdIDs are `<runTag>-<worker>-<seq>`: unique per run, and the reply names the sequence
 * number, so matching a reply needs no map: the worker indexes its per-order state by seq.
 *
 * The scanner reads the engine's key order (`{"type":"ack",...,"clOrdId":"..."`) straight from
 * the frame's bytes with Buffer.indexOf, allocating nothing; a frame in any other shape falls
 * back to JSON.parse, so a server that orders its keys differently is still understood.
 */

export interface OrderShape {
  /** Symbols cycled through, e.g. ['AAPL']. */
  symbols: string[];
  qty: number;
  /** Far below the market, so a BUY never trades: "1.00". */
  buyPrice: string;
  /** Far above the market, so a SELL never trades: "9999.00". */
  sellPrice: string;
  tif: 'DAY' | 'GTC' | 'IOC' | 'FOK';
}

export const DEFAULT_ORDER: OrderShape = { symbols: ['AAPL'], qty: 10, buyPrice: '1.00', sellPrice: '9999.00', tif: 'IOC' };

/**
 * JSON text of order j of a worker whose orders go round-robin over `connections` sockets.
 * Each connection alternates BUY and SELL, neighbours start on opposite sides. Allocates.
 */
export function orderText(shape: OrderShape, clOrdPrefix: string, j: number, connections: number): string {
  const k = j % connections;
  const nth = (j - k) / connections;
  const buy = ((nth + k) & 1) === 0;
  const symbol = shape.symbols[nth % shape.symbols.length];
  return `{"type":"new","clOrdId":"${clOrdPrefix}${j}","symbol":"${symbol}","side":"${buy ? 'BUY' : 'SELL'}",` +
    `"qty":${shape.qty},"price":"${buy ? shape.buyPrice : shape.sellPrice}","ordType":"LIMIT","tif":"${shape.tif}"}`;
}

export const ReplyKind = {
  /** Heartbeats, positions, PENDING_CANCEL and NEW executions: anything below does not cover. */
  OTHER: 0,
  ACK: 1,
  REJECT: 2,
  HELLO: 3,
  /** An execution with a fill (execType FILL or PARTIAL_FILL). */
  FILL: 4,
  /** An execution that ends the order without (more) fills: execType CANCELED, EXPIRED or REJECTED. */
  DONE: 5,
  /** A cancel refused (type cancelReject). */
  CANCEL_REJECT: 6,
} as const;

const TYPE_PREFIX = Buffer.from('{"type":"', 'latin1');
const EXEC_KEY = Buffer.from('"execType":"', 'latin1');
const CH_QUOTE = 34;
const CH_0 = 48;
const CH_9 = 57;
const CH_C = 99;

/** The kind of an execution by the first bytes of its execType name (FILL, PARTIAL_FILL; CANCELED, EXPIRED, REJECTED). */
function execKindOf(a: number, b: number, c: number): number {
  if (a === 70 || (a === 80 && b === 65)) return ReplyKind.FILL;
  if (a === 67 || a === 69 || (a === 82 && b === 69 && c === 74)) return ReplyKind.DONE;
  return ReplyKind.OTHER;
}

/**
 * Reads replies to one worker's orders: scan() sets kind, and seq (-1 when no order of ours).
 * A ClOrdID `<prefix><seq>c` (the cancel of order seq, bench/lib/e2e-replies.ts) names seq too.
 */
export class ReplyScanner {
  kind: number = ReplyKind.OTHER;
  seq = -1;
  private readonly clOrdKey: Buffer;
  private readonly clOrdPrefix: string;

  /** clOrdPrefix: `<runTag>-<worker>-`, the part of the ClOrdID before the sequence number. */
  constructor(clOrdPrefix: string) {
    this.clOrdPrefix = clOrdPrefix;
    this.clOrdKey = Buffer.from(`"clOrdId":"${clOrdPrefix}`, 'latin1');
  }

  scan(frame: Buffer): void {
    this.seq = -1;
    if (frame.length > 12 && frame.compare(TYPE_PREFIX, 0, TYPE_PREFIX.length, 0, TYPE_PREFIX.length) === 0) {
      const c = frame[TYPE_PREFIX.length];
      const next = frame[TYPE_PREFIX.length + 1];
      // "ack", "reject", "hello", "cancelReject", "execution"; others are OTHER.
      if (c === 97 && next === 99) this.kind = ReplyKind.ACK;
      else if (c === 114 && next === 101) this.kind = ReplyKind.REJECT;
      else if (c === 104 && next === 101) this.kind = ReplyKind.HELLO;
      else if (c === 99 && next === 97) this.kind = ReplyKind.CANCEL_REJECT;
      else if (c === 101 && next === 120) this.kind = this.execKind(frame);
      else this.kind = ReplyKind.OTHER;
      if (this.kind !== ReplyKind.OTHER && this.kind !== ReplyKind.HELLO) this.seq = this.seqAt(frame);
      return;
    }
    this.scanParsed(frame);
  }

  private execKind(frame: Buffer): number {
    const at = frame.indexOf(EXEC_KEY);
    if (at < 0) return ReplyKind.OTHER;
    const i = at + EXEC_KEY.length;
    return execKindOf(frame[i], frame[i + 1], frame[i + 2]);
  }

  private seqAt(frame: Buffer): number {
    const at = frame.indexOf(this.clOrdKey);
    if (at < 0) return -1;
    let seq = 0;
    let i = at + this.clOrdKey.length;
    const start = i;
    for (; i < frame.length && frame[i] >= CH_0 && frame[i] <= CH_9; i++) seq = seq * 10 + (frame[i] - CH_0);
    if (i === start) return -1;
    if (i < frame.length && frame[i] === CH_C) i++;
    return i < frame.length && frame[i] === CH_QUOTE ? seq : -1;
  }

  /** The slow path, for frames not in the engine's key order. Allocates. */
  private scanParsed(frame: Buffer): void {
    let m: unknown;
    try {
      m = JSON.parse(frame.toString('utf8'));
    } catch {
      this.kind = ReplyKind.OTHER;
      return;
    }
    const msg = typeof m === 'object' && m !== null ? (m as Record<string, unknown>) : {};
    const type = msg.type;
    if (type === 'ack') this.kind = ReplyKind.ACK;
    else if (type === 'reject') this.kind = ReplyKind.REJECT;
    else if (type === 'hello') this.kind = ReplyKind.HELLO;
    else if (type === 'cancelReject') this.kind = ReplyKind.CANCEL_REJECT;
    else if (type === 'execution' && typeof msg.execType === 'string') {
      const e = msg.execType;
      this.kind = execKindOf(e.charCodeAt(0), e.charCodeAt(1), e.charCodeAt(2));
    } else this.kind = ReplyKind.OTHER;
    const cl = msg.clOrdId;
    if (this.kind !== ReplyKind.OTHER && this.kind !== ReplyKind.HELLO && typeof cl === 'string' && cl.startsWith(this.clOrdPrefix)) {
      const rest = cl.slice(this.clOrdPrefix.length);
      if (/^\d{1,15}c?$/.test(rest)) this.seq = Number(rest.endsWith('c') ? rest.slice(0, -1) : rest);
    }
  }
}

/** The reason name of a reject frame, for the tally of why orders were refused. Allocates. */
export function rejectReasonOf(frame: Buffer): string {
  try {
    const m = JSON.parse(frame.toString('utf8')) as Record<string, unknown>;
    return typeof m.reasonName === 'string' ? m.reasonName : String(m.reason ?? 'unknown');
  } catch {
    return 'unparsable';
  }
}
