/**
 * The naive pipeline's risk stage (a worker thread): parses each order's JSON, runs the same
 * pre-trade checks as workers/risk/risk-stage.ts checkNewOrder (account known and enabled,
 * symbol known, side, type and TIF valid, ClOrdID length, quantity range, price range, duplicate
 * ClOrdID per account, max quantity, max notional), assigns the order id, keeps the order, and
 * passes on JSON strings: the ack to main, the route request to the router.
 */

import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { CL_ORD_ID_CAPACITY, OrdType, isOrdType, isSide, isTif } from '../../engine/domain.ts';
import { MAX_PRICE_TICKS, MAX_QTY } from '../../engine/fixed-point.ts';
import { Reason } from '../../engine/reasons.ts';
import type { AckMsg, NewOrderMsg, RejectMsg, RiskSetup, RouteMsg } from './messages.ts';

const { setup, router } = workerData as { setup: RiskSetup; router: MessagePort };
/** Live orders by account and ClOrdID (idempotency), oldest evicted past orderCapacity. */
const byClOrdId = new Map<string, NewOrderMsg & { orderId: number }>();
let nextOrderId = 1;
let eventSeq = 0;

function check(m: NewOrderMsg): number {
  const account = m.accountId < setup.accounts.length ? setup.accounts[m.accountId] : null;
  if (account === null || account === undefined) return Reason.UNKNOWN_ACCOUNT;
  if (!account.enabled) return Reason.ACCOUNT_HALTED;
  if (!(m.symbolId >= 0 && m.symbolId < setup.referencePriceTicks.length)) return Reason.UNKNOWN_SYMBOL;
  if (!isSide(m.side)) return Reason.INVALID_SIDE;
  if (!isOrdType(m.ordType)) return Reason.INVALID_ORD_TYPE;
  if (!isTif(m.tif)) return Reason.INVALID_TIF;
  if (m.clOrdId.length < 1 || m.clOrdId.length > CL_ORD_ID_CAPACITY) return Reason.INVALID_CL_ORD_ID;
  if (!(Number.isInteger(m.qty) && m.qty >= 1 && m.qty <= MAX_QTY)) return Reason.INVALID_QTY;
  const limit = m.ordType === OrdType.LIMIT;
  if (limit && !(Number.isInteger(m.priceTicks) && m.priceTicks >= 1 && m.priceTicks <= MAX_PRICE_TICKS)) return Reason.INVALID_PRICE;
  if (byClOrdId.has(`${m.accountId}:${m.clOrdId}`)) return Reason.DUPLICATE_CL_ORD_ID;
  if (m.qty > account.maxOrderQty) return Reason.MAX_QTY_EXCEEDED;
  const notionalPrice = limit ? m.priceTicks : setup.referencePriceTicks[m.symbolId];
  if (m.qty * notionalPrice > account.maxOrderNotionalTicks) return Reason.MAX_NOTIONAL_EXCEEDED;
  return Reason.NONE;
}

function onNewOrder(m: NewOrderMsg): void {
  const reason = check(m);
  if (reason !== Reason.NONE) {
    const reject: RejectMsg = { type: 'reject', connId: m.connId, clOrdId: m.clOrdId, reason };
    parentPort!.postMessage(JSON.stringify(reject));
    return;
  }
  const orderId = nextOrderId++;
  const key = `${m.accountId}:${m.clOrdId}`;
  byClOrdId.set(key, { ...m, orderId });
  if (byClOrdId.size > setup.orderCapacity) byClOrdId.delete(byClOrdId.keys().next().value as string);
  const ack: AckMsg = {
    type: 'ack', connId: m.connId, orderId, clOrdId: m.clOrdId, symbolId: m.symbolId, side: m.side,
    ordType: m.ordType, tif: m.tif, qty: m.qty, priceTicks: m.priceTicks, eventSeq: ++eventSeq,
  };
  const route: RouteMsg = { type: 'route', orderId, symbolId: m.symbolId, side: m.side, qty: m.qty, priceTicks: m.priceTicks, recvNs: m.recvNs, ack: null };
  if (setup.ackAfter === 'risk') parentPort!.postMessage(JSON.stringify(ack));
  else route.ack = ack;
  router.postMessage(JSON.stringify(route));
}

parentPort!.on('message', (text: string) => {
  const m = JSON.parse(text) as NewOrderMsg;
  if (m.type === 'new') onNewOrder(m);
});
