/**
 * Goal: the load generator reads replies right. Method: scan frames in the engine's key order
 * (fast path) and in other orders (JSON.parse path), and check the orders it writes.
 */

import { describe, expect, it } from 'vitest';
import { DEFAULT_ORDER, ReplyKind, ReplyScanner, orderText, rejectReasonOf } from './ws-order-protocol.ts';

const scanner = new ReplyScanner('bx1-0-');
const scan = (text: string): [number, number] => {
  scanner.scan(Buffer.from(text));
  return [scanner.kind, scanner.seq];
};

describe('order protocol of the load generator', () => {
  it('reads acks, rejects and others in the engine key order', () => {
    expect(scan('{"type":"ack","execType":"NEW","orderId":7,"clOrdId":"bx1-0-42","status":"NEW"}')).toEqual([ReplyKind.ACK, 42]);
    expect(scan('{"type":"reject","clOrdId":"bx1-0-3","reason":115}')).toEqual([ReplyKind.REJECT, 3]);
    expect(scan('{"type":"execution","clOrdId":"bx1-0-42","status":"CANCELED"}')[0]).toBe(ReplyKind.OTHER);
    expect(scan('{"type":"hello","accountId":1,"connId":3}')[0]).toBe(ReplyKind.HELLO);
  });

  it('matches only its own ClOrdIDs', () => {
    expect(scan('{"type":"ack","clOrdId":"bx1-1-42"}')).toEqual([ReplyKind.ACK, -1]);
    expect(scan('{"type":"ack","clOrdId":"bx1-0-42x"}')).toEqual([ReplyKind.ACK, -1]);
    expect(scan('{"type":"ack","clOrdId":"bx1-0-"}')).toEqual([ReplyKind.ACK, -1]);
    expect(scan('{"type":"reject","clOrdId":""}')).toEqual([ReplyKind.REJECT, -1]);
  });

  it('understands other key orders and ignores what is not JSON', () => {
    expect(scan('{"clOrdId":"bx1-0-9","type":"ack"}')).toEqual([ReplyKind.ACK, 9]);
    expect(scan(' {"type":"reject","clOrdId":"bx1-0-10"}')).toEqual([ReplyKind.REJECT, 10]);
    expect(scan('not json')).toEqual([ReplyKind.OTHER, -1]);
    expect(rejectReasonOf(Buffer.from('{"type":"reject","reasonName":"ENGINE_BUSY"}'))).toBe('ENGINE_BUSY');
  });

  it('reads the mixed workload\'s executions and cancel refusals, cancels named by their order', () => {
    expect(scan('{"type":"execution","execType":"FILL","orderId":7,"clOrdId":"bx1-0-40","status":"FILLED","lastQty":1}')).toEqual([ReplyKind.FILL, 40]);
    expect(scan('{"type":"execution","execType":"PARTIAL_FILL","orderId":7,"clOrdId":"bx1-0-40","status":"PARTIALLY_FILLED"}')).toEqual([ReplyKind.FILL, 40]);
    expect(scan('{"type":"execution","execType":"CANCELED","orderId":7,"clOrdId":"bx1-0-40","status":"CANCELED"}')).toEqual([ReplyKind.DONE, 40]);
    expect(scan('{"type":"execution","execType":"EXPIRED","orderId":7,"clOrdId":"bx1-0-40"}')).toEqual([ReplyKind.DONE, 40]);
    expect(scan('{"type":"execution","execType":"REJECTED","orderId":7,"clOrdId":"bx1-0-40"}')).toEqual([ReplyKind.DONE, 40]);
    expect(scan('{"type":"execution","execType":"CANCELED","orderId":7,"clOrdId":"bx1-0-41c","origClOrdId":"bx1-0-41"}')).toEqual([ReplyKind.DONE, 41]);
    expect(scan('{"type":"cancelReject","execType":"CANCEL_REJECT","clOrdId":"bx1-0-41c","origClOrdId":"bx1-0-41"}')).toEqual([ReplyKind.CANCEL_REJECT, 41]);
    // Neither a fill nor an end: the order still waits.
    expect(scan('{"type":"execution","execType":"PENDING_CANCEL","clOrdId":"bx1-0-41c"}')).toEqual([ReplyKind.OTHER, -1]);
    expect(scan('{"type":"execution","execType":"NEW","clOrdId":"bx1-0-41"}')).toEqual([ReplyKind.OTHER, -1]);
    expect(scan('{"type":"execution","execType":"FILL","clOrdId":"bx1-0-41cc"}')).toEqual([ReplyKind.FILL, -1]);
    expect(scan('{"type":"execution","execType":"FILL","clOrdId":"bx1-1-41"}')).toEqual([ReplyKind.FILL, -1]);
  });

  it('reads executions and cancel refusals in other key orders too', () => {
    expect(scan('{"clOrdId":"bx1-0-12","execType":"FILL","type":"execution"}')).toEqual([ReplyKind.FILL, 12]);
    expect(scan('{"execType":"CANCELED","clOrdId":"bx1-0-13c","type":"execution"}')).toEqual([ReplyKind.DONE, 13]);
    expect(scan('{"clOrdId":"bx1-0-14c","type":"cancelReject"}')).toEqual([ReplyKind.CANCEL_REJECT, 14]);
    expect(scan('{"clOrdId":"bx1-0-15","type":"execution"}')).toEqual([ReplyKind.OTHER, -1]);
  });

  it('alternates sides per connection, far from the market, with unique ClOrdIDs', () => {
    const orders = Array.from({ length: 8 }, (_, j) => JSON.parse(orderText(DEFAULT_ORDER, 'bx1-0-', j, 2)));
    expect(new Set(orders.map((o) => o.clOrdId)).size).toBe(8);
    expect(orders.filter((_, j) => j % 2 === 0).map((o) => o.side)).toEqual(['BUY', 'SELL', 'BUY', 'SELL']);
    expect(orders.filter((_, j) => j % 2 === 1).map((o) => o.side)).toEqual(['SELL', 'BUY', 'SELL', 'BUY']);
    for (const o of orders) {
      expect(o).toMatchObject({ type: 'new', symbol: 'AAPL', qty: 10, ordType: 'LIMIT', tif: 'IOC' });
      expect(o.price).toBe(o.side === 'BUY' ? '1.00' : '9999.00');
    }
  });
});
