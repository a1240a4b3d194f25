/** Goal: the REST order view is per account, newest first, filtered, and bounded. */
import { describe, expect, it } from 'vitest';
import type { ReportMessage } from './messages.ts';
import { OrderView } from './order-view.ts';

function report(orderId: number, status: string): ReportMessage {
  return {
    type: 'execution', execType: 'NEW', orderId, clOrdId: `c${orderId}`, status, symbol: 'AAPL', side: 'BUY',
    ordType: 'LIMIT', tif: 'DAY', qty: 1, price: '1', cumQty: 0, leavesQty: 1, avgPx: null, eventSeq: orderId,
  };
}

describe('OrderView', () => {
  it('lists an account newest first with its latest status, and hides other accounts', () => {
    const v = new OrderView(10);
    v.update(1, report(1, 'NEW'));
    v.update(1, report(2, 'NEW'));
    v.update(2, report(3, 'NEW'));
    v.update(1, report(1, 'FILLED'));
    expect(v.list(1, 10, () => true).map((m) => [m.orderId, m.status])).toEqual([[2, 'NEW'], [1, 'FILLED']]);
    expect(v.list(1, 10, (m) => m.status === 'FILLED').map((m) => m.orderId)).toEqual([1]);
    expect(v.list(1, 1, () => true).map((m) => m.orderId)).toEqual([2]);
    expect(v.get(2, 1)).toBeUndefined();
    expect(v.get(1, 1)?.status).toBe('FILLED');
    expect(v.list(7, 10, () => true)).toEqual([]);
  });

  it('keeps only the last capacity orders per account', () => {
    const v = new OrderView(3);
    for (let id = 1; id <= 5; id++) v.update(1, report(id, 'NEW'));
    expect(v.list(1, 10, () => true).map((m) => m.orderId)).toEqual([5, 4, 3]);
    expect(v.get(1, 2)).toBeUndefined();
    v.update(1, report(4, 'CANCELED'));
    expect(v.list(1, 10, () => true).map((m) => m.orderId)).toEqual([5, 4, 3]);
  });
});
