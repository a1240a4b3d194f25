/**
 * Goal: the engine's venue initiator interoperates with an independent FIX 4.4 engine acting as
 * the venue: it logs on, sends child orders (35=D) and cancels (35=F), and applies the
 * execution reports it gets back (ack, fill, canceled), with the SOR routing to it.
 *
 * Method: jspurefix (MIT, npm) as an ACCEPTOR in this process, configured programmatically
 * (SessionLauncher with a session description and its bundled QuickFIX FIX44.xml dictionary),
 * with a small venue application: an AAPL order is acknowledged and filled in full at its limit
 * price, an MSFT order is acknowledged and rests, a cancel is answered with a canceled report;
 * the first cancel of a TSLA order goes unanswered, so the engine's cancel answer timeout (the
 * sessions' timer, workers/fix/venue-sessions.ts) asks about it with a status request.
 * The venue also busts and corrects fills it reported (150=H, 150=G naming the fill in 19): the
 * engine takes them back from the order and the position, and tells a FIX client (150=H/G with
 * 19 = the 17 of its fill report) and a WebSocket client (TRADE_CANCEL / TRADE_CORRECT).
 * The whole engine (every worker thread) runs with one venue pointing at the jspurefix port; the
 * trader enters orders over REST, over WebSocket or as a FIX client. No timing is asserted;
 * every wait has a timeout.
 */
import 'reflect-metadata';
import * as net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AsciiSession, SessionLauncher, type EngineFactory, type IJsFixConfig, type ISessionDescription, type MsgView } from 'jspurefix';
import { validateConfig } from '../config.ts';
import { Engine } from '../supervisor.ts';
import { fixCounters, getJson, stageCounters } from '../test-stack.fixture.ts';
import { connect } from '../ws-client.fixture.ts';
import { FixClient } from './fix-client.fixture.ts';

type Msg = Record<string, unknown> & { msgType: string };

/**
 * The venue: answers D with New (+ Trade for AAPL) and F with Canceled, except the first F for a
 * TSLA order, which it leaves unanswered; an H (status request) gets a status report (ExecType I)
 * of the order as it stands, with the request's OrdStatusReqID.
 */
class VenueSession extends AsciiSession {
  readonly received: Msg[] = [];
  /** Orders (by ClOrdID) whose first cancel went unanswered. */
  private readonly cancelIgnored = new Set<string>();
  ready = false;
  private orderSeq = 0;
  private execSeq = 0;
  private readonly open = new Map<string, { orderId: string; symbol: string; side: string; qty: number; price: number }>();
  /** Filled orders by ClOrdID, with the ExecID of their fill: what bust() and correct() name. */
  private readonly filled = new Map<string, { o: { orderId: string; symbol: string; side: string; qty: number; price: number }; execId: string }>();

  constructor(config: IJsFixConfig) {
    super(config);
  }

  protected onApplicationMsg(msgType: string, view: MsgView): void {
    const m = { ...(view.toObject() as Record<string, unknown>), msgType };
    this.received.push(m);
    if (msgType === 'D') this.onNewOrder(m);
    else if (msgType === 'F') this.onCancel(m);
    else if (msgType === 'H') this.onStatusRequest(m);
  }

  /** Sends a report; returns its ExecID. */
  private report(o: { orderId: string; symbol: string; side: string; qty: number; price: number }, clOrdId: string, fields: Record<string, unknown>): string {
    const execId = `JV-E${++this.execSeq}`;
    this.send('8', {
      OrderID: o.orderId,
      ExecID: execId,
      ClOrdID: clOrdId,
      Instrument: { Symbol: o.symbol },
      Side: o.side,
      OrderQtyData: { OrderQty: o.qty },
      OrdType: '2',
      Price: o.price,
      TransactTime: new Date(),
      ...fields,
    });
    return execId;
  }

  /** Busts the fill of the order child clOrdId (150=H, 19 = the fill's ExecID); the order is done with nothing filled. */
  bust(clOrdId: string): void {
    const f = this.filled.get(clOrdId)!;
    this.report(f.o, clOrdId, { ExecType: 'H', ExecRefID: f.execId, OrdStatus: '4', LastQty: f.o.qty, LastPx: f.o.price, LeavesQty: 0, CumQty: 0, AvgPx: 0 });
  }

  /** Corrects the fill of clOrdId to qty at price (150=G, 19 = the fill's ExecID). */
  correct(clOrdId: string, qty: number, price: number): void {
    const f = this.filled.get(clOrdId)!;
    this.report(f.o, clOrdId, { ExecType: 'G', ExecRefID: f.execId, OrdStatus: qty === f.o.qty ? '2' : '4', LastQty: qty, LastPx: price, LeavesQty: 0, CumQty: qty, AvgPx: price });
  }

  private onNewOrder(m: Record<string, unknown>): void {
    const clOrdId = m.ClOrdID as string;
    const o = {
      orderId: `JV-${++this.orderSeq}`,
      symbol: (m.Instrument as { Symbol: string }).Symbol,
      side: m.Side as string,
      qty: (m.OrderQtyData as { OrderQty: number }).OrderQty,
      price: m.Price as number,
    };
    this.report(o, clOrdId, { ExecType: '0', OrdStatus: '0', LeavesQty: o.qty, CumQty: 0, AvgPx: 0 });
    if (o.symbol === 'AAPL') {
      const execId = this.report(o, clOrdId, { ExecType: 'F', OrdStatus: '2', LastQty: o.qty, LastPx: o.price, LeavesQty: 0, CumQty: o.qty, AvgPx: o.price });
      this.filled.set(clOrdId, { o, execId });
    } else {
      this.open.set(clOrdId, o);
    }
  }

  private onCancel(m: Record<string, unknown>): void {
    const orig = m.OrigClOrdID as string;
    const o = this.open.get(orig);
    if (o === undefined) return;
    if (o.symbol === 'TSLA' && !this.cancelIgnored.has(orig)) {
      this.cancelIgnored.add(orig);
      return;
    }
    this.open.delete(orig);
    this.report(o, m.ClOrdID as string, { OrigClOrdID: orig, ExecType: '4', OrdStatus: '4', LeavesQty: 0, CumQty: 0, AvgPx: 0 });
  }

  private onStatusRequest(m: Record<string, unknown>): void {
    const clOrdId = m.ClOrdID as string;
    const o = this.open.get(clOrdId);
    if (o === undefined) return;
    this.report(o, clOrdId, { ExecType: 'I', OrdStatus: '0', LeavesQty: o.qty, CumQty: 0, AvgPx: 0, OrdStatusReqID: m.OrdStatusReqID });
  }

  protected onReady(_view: MsgView): void {
    this.ready = true;
  }
  protected onLogon(_view: MsgView, _user: string, _password: string): boolean {
    return true;
  }
  protected onStopped(): void {
    this.ready = false;
  }
  protected onDecoded(_msgType: string, _txt: string): void {}
  protected onEncoded(_msgType: string, _txt: string): void {}
}

const silent = {
  logger: () => ({ info() {}, warning() {}, error() {}, debug() {} }),
  plain: () => ({ info() {}, warning() {}, error() {}, debug() {} }),
};

class VenueLauncher extends SessionLauncher {
  session: VenueSession | null = null;
  constructor(description: ISessionDescription) {
    super(null, description, silent as never);
  }
  protected override makeFactory(_config: IJsFixConfig): EngineFactory {
    return {
      makeSession: (c: IJsFixConfig) => {
        this.session = new VenueSession(c);
        return this.session;
      },
    } as EngineFactory;
  }
}

/** A free port on loopback (jspurefix's acceptor needs one up front). */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false | null> | T | undefined | false | null, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false && v !== null) return v as T;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const KEY = 'demo-key-trader1';
let launcher: VenueLauncher;
let engine: Engine;
let base: string;
let journalDir: string;
let fixPort: number;

async function post(clOrdId: string, symbol: string, qty: number, price: string): Promise<number> {
  const res = await fetch(`http://${base}/v1/orders`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ clOrdId, symbol, side: 'BUY', qty, price, ordType: 'LIMIT', tif: 'DAY' }),
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { orderId: number }).orderId;
}

async function order(id: number): Promise<{ status: string; cumQty: number; avgPx: string | null; venue?: string }> {
  return (await getJson(base, `/v1/orders/${id}`, KEY)) as { status: string; cumQty: number; avgPx: string | null; venue?: string };
}

beforeAll(async () => {
  const port = await freePort();
  launcher = new VenueLauncher({
    application: { reconnectSeconds: 1, type: 'acceptor', name: 'jspurefix_venue', tcp: { host: '127.0.0.1', port }, protocol: 'ascii', dictionary: 'data/FIX44.xml' },
    EncryptMethod: 0,
    ResetSeqNumFlag: false,
    HeartBtInt: 30,
    SenderCompId: 'JSPV',
    TargetCompID: 'OMS',
    BeginString: 'FIX.4.4',
  } as unknown as ISessionDescription);
  launcher.run().catch(() => {});
  // The listener is up once a TCP connect succeeds.
  await until('jspurefix acceptor listening', () => new Promise<boolean>((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' }, () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  }));
  journalDir = mkdtempSync(join(tmpdir(), 'oms-jspv-'));
  const config = validateConfig({
    http: { host: '127.0.0.1', port: 0 },
    fixAcceptor: { port: 0 },
    metrics: { port: 0 },
    journal: { dir: journalDir, fsync: 'none', fsyncIntervalMs: 10 },
    venues: [{ id: 1, name: 'JV', host: '127.0.0.1', port, senderCompId: 'OMS', targetCompId: 'JSPV', heartBtIntS: 30, feeBps: '0.10', latencyUs: 300, fillProbability: 0.9,
      reconnectMinMs: 100, reconnectMaxMs: 1000, reconnectJitter: 0, cancelAckTimeoutMs: 2000 }],
  });
  engine = new Engine(config, () => {});
  const info = await engine.start();
  base = `127.0.0.1:${info.httpPort}`;
  fixPort = info.fixPort;
}, 60_000);

afterAll(async () => {
  await engine?.stop();
  launcher?.stop();
  rmSync(journalDir, { recursive: true, force: true });
});

describe('jspurefix as a FIX 4.4 venue of the engine', () => {
  it('takes the engine\'s logon, child orders and cancels; its reports fill and cancel the orders', async () => {
    await until('venue session logged on', async () => (await fixCounters(base)).SESSIONS_UP === 1);
    expect(launcher.session?.ready).toBe(true);

    const filled = await post('jv-1', 'AAPL', 100, '177.25');
    await until('filled', async () => (await order(filled)).status === 'FILLED');
    const o = await order(filled);
    expect(o.cumQty).toBe(100);
    expect(o.avgPx).toBe('177.25');

    const resting = await post('jv-2', 'MSFT', 10, '415.10');
    await until('acknowledged at the venue', () => launcher.session!.received.find((m) => m.msgType === 'D' && (m.Instrument as { Symbol: string }).Symbol === 'MSFT'));
    const del = await fetch(`http://${base}/v1/orders/${resting}`, { method: 'DELETE', headers: { authorization: `Bearer ${KEY}` } });
    expect(del.status).toBe(202);
    await until('canceled', async () => (await order(resting)).status === 'CANCELED');

    // What the venue saw: two NewOrderSingles with the child id as ClOrdID and one cancel naming it.
    const ds = launcher.session!.received.filter((m) => m.msgType === 'D');
    const fs = launcher.session!.received.filter((m) => m.msgType === 'F');
    expect(ds).toHaveLength(2);
    expect(fs).toHaveLength(1);
    expect(fs[0].OrigClOrdID).toBe(ds[1].ClOrdID);
    expect(fs[0].ClOrdID).toBe(`${ds[1].ClOrdID as string}C`);
    const c = await fixCounters(base);
    expect(c.CHILDREN_SENT).toBe(2);
    expect(c.UNKNOWN_EXEC_REPORTS).toBe(0);
  });

  it('asks about a cancel left unanswered past cancelAckTimeoutMs (35=H), and writes it again when the venue says the order still works', async () => {
    await until('venue session logged on', async () => (await fixCounters(base)).SESSIONS_UP === 1);
    const c0 = await fixCounters(base);
    const resting = await post('jv-3', 'TSLA', 10, '242.80');
    const d = await until('the child at the venue', () => launcher.session!.received.find((m) => m.msgType === 'D' && (m.Instrument as { Symbol: string }).Symbol === 'TSLA'));
    const del = await fetch(`http://${base}/v1/orders/${resting}`, { method: 'DELETE', headers: { authorization: `Bearer ${KEY}` } });
    expect(del.status).toBe(202);
    // The venue ignores the first cancel; past 2 s the engine asks, hears "New", cancels again.
    // The engine asks again each period its question stays unanswered, so a machine slow enough
    // to leave the venue's answer unhandled for 2 s sends another H before the second F (or after
    // it, if the Canceled waits as long): the H's in a row count as one, the order of the
    // messages is asserted, and the counts at least.
    await until('canceled', async () => (await order(resting)).status === 'CANCELED');
    const mine = launcher.session!.received.filter((m) => m.ClOrdID === d.ClOrdID || m.OrigClOrdID === d.ClOrdID);
    const types = mine.map((m) => m.msgType);
    expect(types.filter((t, i) => t !== 'H' || types[i - 1] !== 'H').slice(0, 4)).toEqual(['D', 'F', 'H', 'F']);
    expect(String(mine[2].OrdStatusReqID)).toMatch(/^R[0-9]+$/);
    const c = await fixCounters(base);
    expect(c.CANCELS_OVERDUE - c0.CANCELS_OVERDUE).toBeGreaterThanOrEqual(1);
    expect(c.CANCELS_RESENT - c0.CANCELS_RESENT).toBeGreaterThanOrEqual(1);
    expect(c.STATUS_REQUESTS_SENT - c0.STATUS_REQUESTS_SENT).toBeGreaterThanOrEqual(1);
    expect(c.UNKNOWN_EXEC_REPORTS).toBe(0);
  });

  it('applies the venue\'s bust (150=H) and correction (150=G) of fills: the orders and the position follow, and FIX and WebSocket clients are told, naming the fill', async () => {
    await until('venue session logged on', async () => (await fixCounters(base)).SESSIONS_UP === 1);
    const risk0 = await stageCounters(base, 'risk');
    const ws = await connect(`ws://${base}/v1/ws?token=${KEY}`);
    // Position updates go to the account's subscribers.
    ws.send({ type: 'subscribe' });
    await ws.next((m) => m.type === 'subscribed');
    const fix = new FixClient(fixPort, 'CLIENT1');
    try {
      await fix.logon();
      const position0 = await aaplPosition(ws);

      // A FIX client's order, filled, then busted by the venue.
      fix.newOrder('jv-fx-1', 'AAPL', '1', 30, '177.5');
      const fill = await fix.next((m) => m[11] === 'jv-fx-1' && m[150] === 'F');
      expect([fill[39], fill[14], fill[32], fill[31]]).toEqual(['2', '30', '30', '177.5']);
      const child = await until('the child at the venue', () => launcher.session!.received.find((m) => m.msgType === 'D' && m.OrderQtyData !== undefined && (m.OrderQtyData as { OrderQty: number }).OrderQty === 30));
      launcher.session!.bust(child.ClOrdID as string);
      const bust = await fix.next((m) => m[11] === 'jv-fx-1' && m[150] === 'H');
      // Done with nothing filled: Canceled, 0 filled, 0 leaves; 19 names the fill's report.
      expect([bust[39], bust[14], bust[151], bust[32], bust[31], bust[19]]).toEqual(['4', '0', '0', '30', '177.5', fill[17]]);
      expect(bust[17]).not.toBe(fill[17]);

      // A WebSocket client's order, filled, then corrected to 60 at 177.
      ws.send({ type: 'new', clOrdId: 'jv-ws-1', symbol: 'AAPL', side: 'BUY', qty: 80, price: '177.25', ordType: 'LIMIT', tif: 'DAY' });
      const wsFill = await ws.next((m) => m.clOrdId === 'jv-ws-1' && m.execType === 'FILL');
      const wsChild = await until('the child at the venue', () => launcher.session!.received.find((m) => m.msgType === 'D' && (m.OrderQtyData as { OrderQty: number }).OrderQty === 80));
      launcher.session!.correct(wsChild.ClOrdID as string, 60, 177);
      const corrected = await ws.next((m) => m.clOrdId === 'jv-ws-1' && m.execType === 'TRADE_CORRECT');
      expect(corrected).toMatchObject({ type: 'execution', status: 'CANCELED', cumQty: 60, leavesQty: 0, lastQty: 60, lastPx: '177', avgPx: '177', venue: 'JV', execRefSeq: wsFill.eventSeq });
      const position = await ws.next((m) => m.type === 'position' && m.symbol === 'AAPL' && Number(m.eventSeq) >= Number(corrected.eventSeq));
      // The bust took the 30 back, the correction 20 of the 80: 60 more than before.
      expect(Number(position.qty) - position0).toBe(60);

      const risk = await stageCounters(base, 'risk');
      expect(risk.TRADE_BUSTS - risk0.TRADE_BUSTS).toBe(1);
      expect(risk.TRADE_CORRECTIONS - risk0.TRADE_CORRECTIONS).toBe(1);
      expect(risk.TRADE_CORRECTIONS_UNAPPLIED - risk0.TRADE_CORRECTIONS_UNAPPLIED).toBe(0);
      expect((await fixCounters(base)).UNKNOWN_EXEC_REPORTS).toBe(0);
    } finally {
      ws.ws.close();
      await fix.stop();
    }
  });
});

/** The account's AAPL position from a positions snapshot over the WebSocket (0 when flat or none). */
async function aaplPosition(ws: Awaited<ReturnType<typeof connect>>): Promise<number> {
  ws.send({ type: 'positions' });
  const snap = await ws.next((m) => m.type === 'positions');
  return (snap.positions as { symbol: string; qty: number }[]).find((p) => p.symbol === 'AAPL')?.qty ?? 0;
}
