/**
 * The end-to-end workload's side of both order-entry protocols: what order j of a load worker
 * is (its kind), the text of its new order and of its cancel over the JSON WebSocket protocol,
 * and a reader that tells what a FIX 4.4 ExecutionReport / OrderCancelReject is and which order
 * it answers (JSON frames are read by ReplyScanner, bench/lib/ws-order-protocol.ts; both give
 * ReplyKind values).
 *
 * Kinds of a mixed workload, by the worker's own sequence j (so WebSocket and FIX workers each
 * carry every kind):
 *
 *   j % 4 = 0   FILL    BUY  marketable IOC limit (reference + 2 %): order -> ack, order -> first fill
 *   j % 4 = 1   CANCEL  BUY  GTC far below the market (1.00): order -> ack, then cancel -> canceled
 *   j % 4 = 2   FILL    SELL marketable IOC limit (reference - 2 %)
 *   j % 4 = 3   CANCEL  SELL GTC far above the market (9999.00)
 *
 * A CANCEL order's cancel leaves with the worker's order j + cancelAfter (same schedule, same
 * connection, so the engine sees it after the order); an order too close to the end of the run
 * to get its cancel becomes ACK (a far IOC that never trades), so no order is left resting.
 * ClOrdIDs are `<prefix><j>`, cancels `<prefix><j>c`: a reply names j, and matching needs no map.
 */

import type { FixParser } from '../../fix/parser.ts';
import { MsgType } from '../../fix/msg-type.ts';
import { Tag } from '../../fix/tags.ts';
import { ReplyKind } from './ws-order-protocol.ts';

export const OrderKind = { ACK: 0, FILL: 1, CANCEL: 2 } as const;

export interface MixedSymbol {
  name: string;
  /** Marketable limit prices (decimal strings): BUY above the market, SELL below it. */
  buyPrice: string;
  sellPrice: string;
}

export interface MixedWorkload {
  symbols: MixedSymbol[];
  qty: number;
  /** Far prices of resting (CANCEL) and ACK orders. */
  farBuyPrice: string;
  farSellPrice: string;
  /** The cancel of order j leaves with the worker's order j + cancelAfter (>= 1). */
  cancelAfter: number;
}

/** Kind of order j of a worker that sends `orders` orders in all. */
export function orderKind(w: MixedWorkload, j: number, orders: number): number {
  const r = j & 3;
  if (r === 0 || r === 2) return OrderKind.FILL;
  return j + w.cancelAfter < orders ? OrderKind.CANCEL : OrderKind.ACK;
}

/** BUY for j % 4 in {0, 1}. */
export function isBuy(j: number): boolean {
  return (j & 3) < 2;
}

export function symbolOf(w: MixedWorkload, j: number): MixedSymbol {
  return w.symbols[(j >>> 2) % w.symbols.length];
}

export function priceOf(w: MixedWorkload, j: number, kind: number): string {
  const buy = isBuy(j);
  if (kind === OrderKind.FILL) return buy ? symbolOf(w, j).buyPrice : symbolOf(w, j).sellPrice;
  return buy ? w.farBuyPrice : w.farSellPrice;
}

/** JSON text of a new order. Allocates. */
export function mixedOrderText(w: MixedWorkload, prefix: string, j: number, kind: number): string {
  return `{"type":"new","clOrdId":"${prefix}${j}","symbol":"${symbolOf(w, j).name}","side":"${isBuy(j) ? 'BUY' : 'SELL'}",` +
    `"qty":${w.qty},"price":"${priceOf(w, j, kind)}","ordType":"LIMIT","tif":"${kind === OrderKind.CANCEL ? 'GTC' : 'IOC'}"}`;
}

/** JSON text of the cancel of order j. Allocates. */
export function cancelText(prefix: string, j: number): string {
  return `{"type":"cancel","clOrdId":"${prefix}${j}c","origClOrdId":"${prefix}${j}"}`;
}

const CH_0 = 48;
const CH_9 = 57;
const CH_C = 99;

/** Reads order j out of bytes [at, limit): digits, then an optional 'c', and nothing after. -1 if not. */
function seqFrom(buf: Uint8Array, at: number, limit: number): number {
  let seq = 0;
  let i = at;
  for (; i < limit && buf[i] >= CH_0 && buf[i] <= CH_9; i++) seq = seq * 10 + (buf[i] - CH_0);
  if (i === at) return -1;
  if (i < limit && buf[i] === CH_C) i++;
  return i === limit ? seq : -1;
}

/** FIX replies (35=8, 35=9) read from the parser: kind (ReplyKind) and seq, as ReplyScanner's. */
export class FixReplyReader {
  kind: number = ReplyKind.OTHER;
  seq = -1;
  private readonly prefix: Uint8Array;

  constructor(prefix: string) {
    this.prefix = Buffer.from(prefix, 'latin1');
  }

  scan(msg: FixParser): void {
    this.kind = ReplyKind.OTHER;
    this.seq = -1;
    if (msg.msgType === MsgType.ORDER_CANCEL_REJECT) this.kind = ReplyKind.CANCEL_REJECT;
    else if (msg.msgType === MsgType.EXECUTION_REPORT) this.kind = execKind(msg.getChar(Tag.ExecType));
    if (this.kind === ReplyKind.OTHER) return;
    this.seq = this.seqOf(msg, Tag.ClOrdID);
    if (this.seq < 0) this.seq = this.seqOf(msg, Tag.OrigClOrdID);
  }

  private seqOf(msg: FixParser, tag: number): number {
    const start = msg.valueStart(tag);
    if (start < 0) return -1;
    const end = msg.valueEnd(tag);
    const p = this.prefix;
    if (end - start <= p.length) return -1;
    for (let i = 0; i < p.length; i++) if (msg.buf[start + i] !== p[i]) return -1;
    return seqFrom(msg.buf, start + p.length, end);
  }
}

/** ExecType (150): 0 new, 8 rejected, F trade (1, 2 in FIX 4.2 style), 4 canceled, C expired. */
function execKind(execType: number): number {
  switch (execType) {
    case 0x30: return ReplyKind.ACK;
    case 0x38: return ReplyKind.REJECT;
    case 0x46: case 0x31: case 0x32: return ReplyKind.FILL;
    case 0x34: case 0x43: return ReplyKind.DONE;
    default: return ReplyKind.OTHER;
  }
}
