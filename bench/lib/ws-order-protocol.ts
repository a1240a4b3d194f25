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
  /** Executions, heartbeats, anything that neither acks nor refuses a new order. */
  OTHER: 0,
  ACK: 1,
  REJECT: 2,
  HELLO: 3,
} as const;

const TYPE_PREFIX = Buffer.from('{"type":"', 'latin1');
const CH_QUOTE = 34;
const CH_0 = 48;
const CH_9 = 57;

/** Reads replies to one worker's orders: scan() sets kind, and seq (-1 when no order of ours). */
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
      // "ack", "reject", "hello"; "execution", "cancelReject" and others are OTHER.
      if (c === 97 && next === 99) this.kind = ReplyKind.ACK;
      else if (c === 114 && next === 101) this.kind = ReplyKind.REJECT;
      else if (c === 104 && next === 101) this.kind = ReplyKind.HELLO;
      else this.kind = ReplyKind.OTHER;
      if (this.kind === ReplyKind.ACK || this.kind === ReplyKind.REJECT) this.seq = this.seqAt(frame);
      return;
    }
    this.scanParsed(frame);
  }

  private seqAt(frame: Buffer): number {
    const at = frame.indexOf(this.clOrdKey);
    if (at < 0) return -1;
    let seq = 0;
    let i = at + this.clOrdKey.length;
    const start = i;
    for (; i < frame.length && frame[i] >= CH_0 && frame[i] <= CH_9; i++) seq = seq * 10 + (frame[i] - CH_0);
    return i > start && i < frame.length && frame[i] === CH_QUOTE ? seq : -1;
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
    this.kind = msg.type === 'ack' ? ReplyKind.ACK : msg.type === 'reject' ? ReplyKind.REJECT : msg.type === 'hello' ? ReplyKind.HELLO : ReplyKind.OTHER;
    const cl = msg.clOrdId;
    if ((this.kind === ReplyKind.ACK || this.kind === ReplyKind.REJECT) && typeof cl === 'string' && cl.startsWith(this.clOrdPrefix)) {
      const digits = cl.slice(this.clOrdPrefix.length);
      if (/^\d{1,15}$/.test(digits)) this.seq = Number(digits);
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
