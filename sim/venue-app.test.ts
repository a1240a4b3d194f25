// Goal: the venue's FIX edge turns D and F into execution reports and cancel rejects with the
// right tags, answers OrderStatusRequest (35=H) and PossDup NewOrderSingles with status (150=I),
// keeps reports due while the client is away for its resend, rejects malformed orders at session
// level (373/371), and delays reports by the configured latency. Method: an OMS initiator and the
// venue's acceptor session joined by an in-memory link, a hand-stepped clock.
import { describe, expect, it } from 'vitest';
import { ascii } from '../fix/encoder.ts';
import { MemoryLink } from '../fix/memory-transport.ts';
import { MsgType } from '../fix/msg-type.ts';
import { FixSession, SessionRole } from '../fix/session.ts';
import { Tag } from '../fix/tags.ts';
import { FakeClock, RecordingApp } from '../fix/test-util.ts';
import { Side } from './order-book.ts';
import { VenueApp } from './venue-app.ts';
import { VenueCore } from './venue-core.ts';

const PX = 1_000_000;
const TICK = 10_000;

function setup(latencyMs = 0) {
  const clock = new FakeClock();
  const venue = new VenueApp({ latencyMs }, clock);
  const core = new VenueCore({ name: 'V1', symbols: [{ symbol: 'AAPL', startPriceTicks: 100 * PX }], feeBps: 1, rejectProbability: 0, tickSizeTicks: TICK, seed: 1 }, venue);
  venue.attach(core);
  for (let k = 1; k <= 3; k++) {
    core.makerQuote(0, Side.SELL, 100 * PX + k * TICK, 100);
    core.makerQuote(0, Side.BUY, 100 * PX - k * TICK, 100);
  }
  const oms = new RecordingApp();
  const initiator = new FixSession({ role: SessionRole.INITIATOR, senderCompId: 'OMS', targetCompId: 'V1', clock, app: oms, resetSeqNumOnLogon: true });
  const acceptor = new FixSession({ role: SessionRole.ACCEPTOR, senderCompId: 'V1', targetCompId: 'OMS', clock, app: venue });
  const link = new MemoryLink(initiator, acceptor);
  link.connect();
  link.pump();
  return { clock, venue, core, oms, initiator, acceptor, link };
}

function order(s: FixSession, clOrdId: string, side: '1' | '2', qty: string, ordType: '1' | '2', price: string | null, tif = '0'): void {
  const e = s.beginApp(MsgType.NEW_ORDER_SINGLE);
  e.addAscii(Tag.ClOrdID, ascii(clOrdId)).addAscii(Tag.Symbol, ascii('AAPL')).addAscii(Tag.Side, ascii(side));
  e.addAscii(Tag.OrderQty, ascii(qty)).addAscii(Tag.OrdType, ascii(ordType));
  if (price !== null) e.addAscii(Tag.Price, ascii(price));
  e.addAscii(Tag.TimeInForce, ascii(tif)).addUtcTimestamp(Tag.TransactTime, s.clock.now());
  s.sendApp();
}

function status(s: FixSession, clOrdId: string, side: '1' | '2', reqId: string | null): void {
  const e = s.beginApp(MsgType.ORDER_STATUS_REQUEST);
  e.addAscii(Tag.ClOrdID, ascii(clOrdId));
  if (reqId !== null) e.addAscii(790, ascii(reqId));
  e.addAscii(Tag.Symbol, ascii('AAPL')).addAscii(Tag.Side, ascii(side));
  s.sendApp();
}

describe('VenueApp over FIX', () => {
  it('answers a marketable NewOrderSingle with New and Trade reports', () => {
    const { oms, initiator, link } = setup();
    order(initiator, 'C1', '1', '150', '2', '100.02');
    link.pump();
    const r = oms.appMessages;
    expect(r.map((m) => [m[35], m[Tag.ExecType], m[Tag.OrdStatus]])).toEqual([
      ['8', '0', '0'],
      ['8', 'F', '1'],
      ['8', 'F', '2'],
    ]);
    const last = r[2];
    expect(last[Tag.ClOrdID]).toBe('C1');
    expect(last[Tag.OrderID]).toBe('V1-1');
    expect(last[Tag.Symbol]).toBe('AAPL');
    expect(last[Tag.Side]).toBe('1');
    expect(last[Tag.LastQty]).toBe('50');
    expect(last[Tag.LastPx]).toBe('100.02');
    expect(last[Tag.LeavesQty]).toBe('0');
    expect(last[Tag.CumQty]).toBe('150');
    expect(last[Tag.AvgPx]).toBe('100.013333');
    expect(last[Tag.Commission]).toBe('0.5001');
    expect(new Set(r.map((m) => m[Tag.ExecID])).size).toBe(3);
  });

  it('cancels a resting order and answers an unknown one with OrderCancelReject', () => {
    const { oms, initiator, link } = setup();
    order(initiator, 'P1', '1', '10', '2', '99.00', '1');
    const f = initiator.beginApp(MsgType.ORDER_CANCEL_REQUEST);
    f.addAscii(Tag.OrigClOrdID, ascii('P1')).addAscii(Tag.ClOrdID, ascii('X1')).addAscii(Tag.Symbol, ascii('AAPL')).addAscii(Tag.Side, ascii('1'));
    f.addUtcTimestamp(Tag.TransactTime, initiator.clock.now()).addAscii(Tag.OrderQty, ascii('10'));
    initiator.sendApp();
    const g = initiator.beginApp(MsgType.ORDER_CANCEL_REQUEST);
    g.addAscii(Tag.OrigClOrdID, ascii('NOPE')).addAscii(Tag.ClOrdID, ascii('X2')).addAscii(Tag.Symbol, ascii('AAPL')).addAscii(Tag.Side, ascii('1'));
    g.addUtcTimestamp(Tag.TransactTime, initiator.clock.now()).addAscii(Tag.OrderQty, ascii('10'));
    initiator.sendApp();
    link.pump();
    const r = oms.appMessages;
    expect(r.map((m) => m[35])).toEqual(['8', '8', '9']);
    expect([r[1][Tag.ExecType], r[1][Tag.ClOrdID], r[1][Tag.OrigClOrdID]]).toEqual(['4', 'X1', 'P1']);
    expect([r[2][Tag.ClOrdID], r[2][Tag.OrigClOrdID], r[2][Tag.CxlRejReason], r[2][Tag.CxlRejResponseTo], r[2][Tag.OrderID]]).toEqual(['X2', 'NOPE', '1', '1', 'NONE']);
  });

  it('IOC and FOK over FIX', () => {
    const { oms, initiator, link } = setup();
    order(initiator, 'I1', '2', '150', '2', '99.99', '3');
    order(initiator, 'K1', '1', '1000', '2', '100.03', '4');
    link.pump();
    expect(oms.appMessages.map((m) => `${m[Tag.ClOrdID]}:${m[Tag.ExecType]}${m[Tag.OrdStatus]}`)).toEqual(['I1:00', 'I1:F1', 'I1:44', 'K1:00', 'K1:44']);
  });

  it('session-rejects malformed orders with 373 and 371', () => {
    const { oms, initiator, link } = setup();
    // Missing OrderQty, Side out of range, Price not a decimal; then a limit without Price,
    // which the dictionary answers as a business reject (conditionally required field).
    const e1 = initiator.beginApp(MsgType.NEW_ORDER_SINGLE);
    e1.addAscii(Tag.ClOrdID, ascii('B1')).addAscii(Tag.Symbol, ascii('AAPL')).addAscii(Tag.Side, ascii('1')).addAscii(Tag.OrdType, ascii('1'));
    e1.addUtcTimestamp(Tag.TransactTime, initiator.clock.now());
    initiator.sendApp();
    order(initiator, 'B2', '7' as '1', '10', '1', null);
    order(initiator, 'B3', '1', '10', '2', '1.2.3');
    order(initiator, 'B4', '1', '10', '2', null);
    link.pump();
    expect(oms.rejects.map((r) => [r[Tag.RefSeqNum], r[Tag.RefMsgType], r[Tag.SessionRejectReason], r[Tag.RefTagID]])).toEqual([
      ['2', 'D', '1', '38'],
      ['3', 'D', '5', '54'],
      ['4', 'D', '6', '44'],
    ]);
    expect(oms.appMessages.map((m) => [m[35], m[Tag.RefMsgType], m[380]])).toEqual([['j', 'D', '5']]);
  });

  it('answers unsupported application messages with BusinessMessageReject', () => {
    const { oms, initiator, link } = setup();
    const e = initiator.beginApp(MsgType.ORDER_CANCEL_REPLACE_REQUEST);
    e.addAscii(Tag.OrigClOrdID, ascii('Q')).addAscii(Tag.ClOrdID, ascii('Q2')).addAscii(Tag.Symbol, ascii('AAPL')).addAscii(Tag.Side, ascii('1'));
    e.addUtcTimestamp(Tag.TransactTime, initiator.clock.now()).addAscii(Tag.OrderQty, ascii('10')).addAscii(Tag.OrdType, ascii('2')).addAscii(Tag.Price, ascii('99'));
    initiator.sendApp();
    link.pump();
    expect(oms.appMessages.map((m) => [m[35], m[Tag.RefMsgType], m[380]])).toEqual([['j', 'G', '3']]);
  });

  it('answers OrderStatusRequest (35=H) with 150=I: a working order as it stands, an unknown one 39=8', () => {
    const { oms, initiator, link } = setup();
    order(initiator, 'P1', '1', '150', '2', '100.01'); // 100 fill at 100.01, 50 rest
    link.pump();
    oms.appMessages.length = 0;
    status(initiator, 'P1', '1', '7');
    status(initiator, 'NOPE', '2', null);
    link.pump();
    const [known, unknown] = oms.appMessages;
    expect([known[35], known[Tag.ExecType], known[Tag.OrdStatus], known[Tag.CumQty], known[Tag.LeavesQty], known[Tag.AvgPx], known[790]]).toEqual(['8', 'I', '1', '100', '50', '100.01', '7']);
    expect(known[Tag.OrderID]).toBe('V1-1');
    expect([unknown[Tag.ExecType], unknown[Tag.OrdStatus], unknown[Tag.OrderID], unknown[Tag.ClOrdID], unknown[Tag.Side], unknown[Tag.Text]]).toEqual(['I', '8', 'NONE', 'NOPE', '2', 'unknown order']);
  });

  it('sends a status answer\'s AvgPx to 12 decimals, finer than a tick when the average falls between ticks', () => {
    const { oms, initiator, link } = setup();
    order(initiator, 'P2', '1', '150', '2', '100.02'); // 100 at 100.01, 50 at 100.02: 100.0133333...
    link.pump();
    oms.appMessages.length = 0;
    status(initiator, 'P2', '1', '8');
    link.pump();
    const [answer] = oms.appMessages;
    expect([answer[Tag.OrdStatus], answer[Tag.CumQty], answer[Tag.AvgPx]]).toEqual(['2', '150', '100.013333333333']);
  });

  it('answers a PossDup NewOrderSingle of a known ClOrdID with its status, never a second order', () => {
    const { oms, core, initiator, link } = setup();
    order(initiator, 'R1', '1', '10', '2', '99.00'); // rests
    link.pump();
    const e = initiator.beginApp(MsgType.NEW_ORDER_SINGLE);
    e.addChar(Tag.PossDupFlag, 0x59).addUtcTimestamp(Tag.OrigSendingTime, initiator.clock.now());
    e.addAscii(Tag.ClOrdID, ascii('R1')).addAscii(Tag.Symbol, ascii('AAPL')).addAscii(Tag.Side, ascii('1'));
    e.addAscii(Tag.OrderQty, ascii('10')).addAscii(Tag.OrdType, ascii('2')).addAscii(Tag.Price, ascii('99.00'));
    e.addAscii(Tag.TimeInForce, ascii('0')).addUtcTimestamp(Tag.TransactTime, initiator.clock.now());
    initiator.sendApp();
    link.pump();
    expect(oms.appMessages.map((m) => [m[Tag.ExecType], m[Tag.OrdStatus]])).toEqual([['0', '0'], ['I', '0']]);
    expect(core.orders.length).toBe(1);
  });

  it('keeps a report due while the client is away and delivers it through the resend after the next Logon', () => {
    const clock = new FakeClock();
    const venue = new VenueApp({ latencyMs: 0 }, clock);
    const core = new VenueCore({ name: 'V1', symbols: [{ symbol: 'AAPL', startPriceTicks: 100 * PX }], feeBps: 0, rejectProbability: 0, tickSizeTicks: TICK, seed: 1 }, venue);
    venue.attach(core);
    const oms = new RecordingApp();
    const initiator = new FixSession({ role: SessionRole.INITIATOR, senderCompId: 'OMS', targetCompId: 'V1', clock, app: oms });
    const acceptor = new FixSession({ role: SessionRole.ACCEPTOR, senderCompId: 'V1', targetCompId: 'OMS', clock, app: venue });
    const link = new MemoryLink(initiator, acceptor);
    link.connect();
    link.pump();
    order(initiator, 'W1', '1', '10', '2', '99.00'); // rests at 99.00
    link.pump();
    initiator.disconnect('test: link cut');
    link.pump();
    expect(acceptor.isLoggedOn).toBe(false);
    core.makerQuote(0, Side.SELL, 99 * PX, 10); // fills W1 while the OMS is away
    expect(venue.droppedReports).toBe(1); // not sent at once: stored under its MsgSeqNum
    const again = new MemoryLink(initiator, acceptor);
    again.connect();
    again.pump();
    const fills = oms.appMessages.filter((m) => m[Tag.ExecType] === 'F');
    expect(fills.map((m) => [m[Tag.ClOrdID], m[Tag.LastQty], m[Tag.PossDupFlag]])).toEqual([['W1', '10', 'Y']]);
    expect(initiator.nextTargetSeqNum).toBe(acceptor.nextSenderSeqNum);
  });

  it('delays reports by the configured latency', () => {
    const { oms, initiator, link, venue, clock } = setup(5);
    order(initiator, 'C1', '1', '10', '1', null, '3');
    link.pump();
    expect(oms.appMessages).toHaveLength(0);
    expect(venue.nextDueMs()).toBe(clock.t + 5);
    clock.t += 4;
    venue.flushDue(clock.t);
    link.pump();
    expect(oms.appMessages).toHaveLength(0);
    clock.t += 1;
    venue.flushDue(clock.t);
    link.pump();
    expect(oms.appMessages.map((m) => m[Tag.ExecType])).toEqual(['0', 'F']);
    expect(venue.nextDueMs()).toBe(-1);
  });
});
