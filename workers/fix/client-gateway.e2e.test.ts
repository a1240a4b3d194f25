/**
 * Goal: FIX clients trade through the engine's acceptor as WebSocket clients do through ingest.
 * Method: the real stack (venue simulator processes, every worker thread) with the acceptor on
 * an ephemeral port; FIX 4.4 clients over real TCP (this project's initiator session) enter,
 * cancel, replace and query orders and read the ExecutionReports. No timing is asserted; every
 * wait has a timeout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../test-stack.fixture.ts';
import { DEFAULT_CONFIG } from '../config.ts';
import { MsgType } from '../../fix/msg-type.ts';
import { ascii } from '../../fix/encoder.ts';
import { Tag } from '../../fix/tags.ts';
import { FixClient, rawLogon } from './fix-client.fixture.ts';

let t0: TestStack;
let port: number;
const clients: FixClient[] = [];

beforeAll(async () => {
  t0 = await startTestStack({
    // Account 1 may not trade AMZN and holds at most 5,000 GOOGL: pre-trade controls seen over FIX.
    accounts: DEFAULT_CONFIG.accounts.map((a) => (a.id === 1 ? { ...a, restrictedSymbols: ['AMZN'], maxPosition: 5_000 } : a)),
    fixAcceptor: {
      sessions: [
        { senderCompId: 'CLIENT1', targetCompId: 'OMS', accountId: 1, heartBtIntS: 30, resetOnLogon: false },
        { senderCompId: 'CLIENT2', targetCompId: 'OMS', accountId: 2, heartBtIntS: 30, resetOnLogon: true },
        { senderCompId: 'CLIENT3', targetCompId: 'OMS', accountId: 1, heartBtIntS: 30, resetOnLogon: true, password: 's3cret' },
      ],
    },
  }, 21);
  port = t0.stack.info.fixPort;
}, 60_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.stop()));
  await t0?.cleanup();
});

async function client(compId: string): Promise<FixClient> {
  const c = new FixClient(port, compId);
  clients.push(c);
  await c.logon();
  return c;
}

describe('FIX acceptor for clients', () => {
  let c1: FixClient;

  it('exposes the bound port and logs a client on', async () => {
    expect(port).toBeGreaterThan(0);
    c1 = await client('CLIENT1');
  });

  it('NewOrderSingle is acknowledged (150=0) and then filled (150=F, 39=2)', async () => {
    c1.newOrder('fx-1', 'AAPL', '1', 100, '190');
    const ack = await c1.next((m) => m[35] === '8' && m[11] === 'fx-1' && m[150] === '0');
    expect(ack[39]).toBe('0');
    expect(ack[55]).toBe('AAPL');
    expect(ack[54]).toBe('1');
    expect(ack[38]).toBe('100');
    expect(ack[151]).toBe('100');
    expect(Number(ack[37])).toBeGreaterThan(0);
    const fill = await c1.next((m) => m[11] === 'fx-1' && m[150] === 'F' && m[39] === '2');
    expect(fill[14]).toBe('100');
    expect(fill[151]).toBe('0');
    expect(Number(fill[31])).toBeLessThanOrEqual(190);
    expect(Number(fill[32])).toBeGreaterThan(0);
    expect(Number(fill[6])).toBeGreaterThan(0);
    expect(fill[37]).toBe(ack[37]);
    expect(fill[17]).not.toBe(ack[17]);
  });

  it('OrderCancelRequest cancels a resting order (150=4, 11 = the cancel, 41 = the order)', async () => {
    c1.newOrder('fx-rest-1', 'MSFT', '1', 10, '300');
    await c1.next((m) => m[11] === 'fx-rest-1' && m[150] === '0');
    c1.cancel('fx-cxl-1', 'fx-rest-1', 'MSFT', '1', 10);
    const canceled = await c1.next((m) => m[35] === '8' && m[150] === '4' && (m[11] === 'fx-cxl-1' || m[41] === 'fx-rest-1'));
    expect(canceled[39]).toBe('4');
    expect(canceled[11]).toBe('fx-cxl-1');
    expect(canceled[41]).toBe('fx-rest-1');
    expect(canceled[151]).toBe('0');
  });

  it('OrderCancelReplaceRequest replaces a resting order (150=5, 41 = the old ClOrdID)', async () => {
    c1.newOrder('fx-rest-2', 'MSFT', '1', 10, '300');
    await c1.next((m) => m[11] === 'fx-rest-2' && m[150] === '0');
    c1.replace('fx-rpl-2', 'fx-rest-2', 'MSFT', '1', 20, '301');
    const replaced = await c1.next((m) => m[35] === '8' && m[150] === '5' && m[11] === 'fx-rpl-2');
    expect(replaced[41]).toBe('fx-rest-2');
    expect(replaced[38]).toBe('20');
    expect(replaced[44]).toBe('301');
  });

  it('OrderStatusRequest answers 150=I with the order as it stands; an unknown order 39=8', async () => {
    c1.status('fx-rpl-2', 'MSFT', '1');
    const st = await c1.next((m) => m[35] === '8' && m[150] === 'I' && m[11] === 'fx-rpl-2');
    expect(['0', '1', 'E']).toContain(st[39]);
    expect(st[38]).toBe('20');
    c1.status('fx-nope', 'MSFT', '1');
    const unknown = await c1.next((m) => m[150] === 'I' && m[11] === 'fx-nope');
    expect(unknown[39]).toBe('8');
    expect(unknown[58]).toContain('203 UNKNOWN_ORDER');
    // A filled order's status.
    c1.status('fx-1', 'AAPL', '1');
    const filled = await c1.next((m) => m[150] === 'I' && m[11] === 'fx-1');
    expect(filled[39]).toBe('2');
  });

  it('refuses bad orders at the edge with 150=8, the reason code in 58 and 103', async () => {
    c1.newOrder('fx-bad-sym', 'NOPE', '1', 100, '10');
    const sym = await c1.next((m) => m[11] === 'fx-bad-sym');
    expect(sym[150]).toBe('8');
    expect(sym[39]).toBe('8');
    expect(sym[58]).toContain('106 UNKNOWN_SYMBOL');
    expect(sym[103]).toBe('1');
    c1.newOrder('fx-bad-qty', 'AAPL', '1', '100.5', '10');
    const qty = await c1.next((m) => m[11] === 'fx-bad-qty');
    expect(qty[150]).toBe('8');
    expect(qty[58]).toContain('104 INVALID_QTY');
    expect(qty[103]).toBe('13');
    c1.newOrder('fx-bad-tif', 'AAPL', '1', 100, '10', [[Tag.TimeInForce, '6']]);
    const tif = await c1.next((m) => m[11] === 'fx-bad-tif');
    expect(tif[58]).toContain('109 INVALID_TIF');
    // Risk's refusals come back the same way (MAX_QTY_EXCEEDED, from the engine).
    c1.newOrder('fx-big', 'AAPL', '1', 1_000_000, '10');
    const big = await c1.next((m) => m[11] === 'fx-big');
    expect(big[150]).toBe('8');
    expect(big[58]).toContain('200 MAX_QTY_EXCEEDED');
    expect(big[103]).toBe('3');
    // Pre-trade controls: a position limit is "order exceeds limit", a restricted symbol is the broker's option.
    c1.newOrder('fx-pos', 'GOOGL', '1', 6_000, '10');
    const pos = await c1.next((m) => m[11] === 'fx-pos');
    expect(pos[150]).toBe('8');
    expect(pos[58]).toContain('224 POSITION_LIMIT_EXCEEDED');
    expect(pos[103]).toBe('3');
    c1.newOrder('fx-restricted', 'AMZN', '1', 10, '10');
    const restricted = await c1.next((m) => m[11] === 'fx-restricted');
    expect(restricted[150]).toBe('8');
    expect(restricted[58]).toContain('217 SYMBOL_RESTRICTED');
    expect(restricted[103]).toBe('0');
    // A cancel of an unknown order: OrderCancelReject with 434 and 102.
    c1.cancel('fx-cxl-x', 'fx-unknown', 'AAPL', '1', 10);
    const cxlRej = await c1.next((m) => m[35] === '9' && m[11] === 'fx-cxl-x');
    expect(cxlRej[434]).toBe('1');
    expect(cxlRej[102]).toBe('1');
    expect(cxlRej[41]).toBe('fx-unknown');
  });

  it('answers an application message clients may not send with BusinessMessageReject (j)', async () => {
    const e = c1.session.beginApp(MsgType.EXECUTION_REPORT);
    e.addAscii(Tag.OrderID, ascii('X1')).addAscii(Tag.ExecID, ascii('X1')).addAscii(Tag.ClOrdID, ascii('fx-j'));
    e.addChar(Tag.ExecType, 0x30).addChar(Tag.OrdStatus, 0x30).addAscii(Tag.Symbol, ascii('AAPL')).addChar(Tag.Side, 0x31);
    e.addInt(Tag.LeavesQty, 1).addInt(Tag.CumQty, 0).addInt(Tag.AvgPx, 0);
    c1.session.sendApp();
    const j = await c1.next((m) => m[35] === 'j' && m[372] === '8');
    expect(j[380]).toBe('3');
    expect(j[379]).toBe('fx-j');
  });

  it('serves a second session at the same time, with its own account and reports', async () => {
    const c2 = await client('CLIENT2');
    c2.newOrder('fx2-1', 'AAPL', '2', 50, '150');
    const ack = await c2.next((m) => m[11] === 'fx2-1' && m[150] === '0');
    expect(ack[54]).toBe('2');
    c1.newOrder('fx-1b', 'AAPL', '1', 10, '190');
    await c1.next((m) => m[11] === 'fx-1b' && m[150] === '0');
    expect(c1.about('fx2-1')).toEqual([]);
    expect(c2.about('fx-1b')).toEqual([]);
    // The same ClOrdID in another account is another order.
    c2.newOrder('fx-1', 'AAPL', '1', 5, '190');
    const other = await c2.next((m) => m[11] === 'fx-1' && m[150] === '0');
    expect(other[37]).not.toBe(c1.about('fx-1')[0][37]);
  });

  it('refuses a Logon with unknown CompIDs or a wrong password; accepts the right password', async () => {
    expect(await rawLogon(port, 'NOBODY', 'OMS', null)).toBeNull();
    expect(await rawLogon(port, 'CLIENT1', 'ELSEWHERE', null)).toBeNull();
    expect(await rawLogon(port, 'CLIENT3', 'OMS', 'wrong')).toBeNull();
    expect(await rawLogon(port, 'CLIENT3', 'OMS', null)).toBeNull();
    const ok = await rawLogon(port, 'CLIENT3', 'OMS', 's3cret');
    expect(ok?.[35]).toBe('A');
    expect(ok?.[141]).toBe('Y');
  });
});
