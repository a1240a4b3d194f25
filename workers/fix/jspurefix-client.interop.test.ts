/**
 * Goal: an independent FIX 4.4 engine trades through the engine's acceptor. Method: jspurefix
 * (MIT, npm) as the initiator, configured programmatically (SessionLauncher with a session
 * description object and its bundled QuickFIX FIX44.xml dictionary), against the real stack on
 * ephemeral ports: logon, NewOrderSingle, cancel, replace; and a resend after a gap: the client
 * logs out, the engine reports while it is away, a second launcher logs on with the sequence
 * numbers it kept, asks for the gap, and gets the reports once, PossDupFlag set.
 *
 * Why the resend case once failed ("a second SessionLauncher never created its session"): it did
 * create it. SessionLauncher.stop() in this jspurefix version stops the connector but neither
 * logs out nor closes the live connection, so the engine's session stayed logged on and the
 * acceptor dropped the second Logon (one connection per session); and jspurefix's default memory
 * store starts a new session at MsgSeqNum 1, which the engine refuses as too low. So the client
 * logs out with session.done() before stop(), and both launchers share a file store
 * (description.store = {type: 'file', directory}) to keep the sequence numbers across them.
 * No timing is asserted; every wait has a timeout.
 */
import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AsciiSession, SessionLauncher, type EngineFactory, type IJsFixConfig, type ISessionDescription, type MsgView } from 'jspurefix';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Stack } from '../../scripts/stack.ts';
import { startTestStack, type TestStack } from '../test-stack.fixture.ts';

type Msg = Record<string, unknown> & { msgType: string };

/** A jspurefix application session that records what it receives. */
class RecordingSession extends AsciiSession {
  readonly received: Msg[];
  ready: boolean;
  constructor(config: IJsFixConfig, received: Msg[]) {
    super(config);
    this.received = received;
    this.ready = false;
  }
  protected onApplicationMsg(msgType: string, view: MsgView): void {
    this.received.push({ ...(view.toObject() as Record<string, unknown>), msgType });
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
  sendMsg(msgType: string, obj: Record<string, unknown>): void {
    this.send(msgType, obj);
  }
}

const silent = {
  logger: () => ({ info() {}, warning() {}, error() {}, debug() {} }),
  plain: () => ({ info() {}, warning() {}, error() {}, debug() {} }),
};

class Launcher extends SessionLauncher {
  session: RecordingSession | null = null;
  private readonly received: Msg[];
  constructor(description: ISessionDescription, received: Msg[]) {
    super(description, null, silent as never);
    this.received = received;
  }
  protected override makeFactory(_config: IJsFixConfig): EngineFactory {
    return {
      makeSession: (c: IJsFixConfig) => {
        this.session = new RecordingSession(c, this.received);
        return this.session;
      },
    } as EngineFactory;
  }
}

function description(port: number, reset: boolean, storeDir?: string, reconnectSeconds = 1): ISessionDescription {
  return {
    application: {
      reconnectSeconds,
      type: 'initiator',
      name: 'jspurefix_client',
      tcp: { host: '127.0.0.1', port },
      protocol: 'ascii',
      dictionary: 'data/FIX44.xml',
    },
    EncryptMethod: 0,
    ResetSeqNumFlag: reset,
    HeartBtInt: 30,
    SenderCompId: 'JSPF',
    TargetCompID: 'OMS',
    BeginString: 'FIX.4.4',
    ...(storeDir === undefined ? {} : { store: { type: 'file', directory: storeDir } }),
  } as unknown as ISessionDescription;
}

let t0: TestStack;
let stack: Stack;

beforeAll(async () => {
  t0 = await startTestStack({ fixAcceptor: { sessions: [{ senderCompId: 'JSPF', targetCompId: 'OMS', accountId: 1, heartBtIntS: 30, resetOnLogon: false }] } }, 31);
  stack = t0.stack;
}, 60_000);

afterAll(async () => {
  await t0?.cleanup();
});

async function until<T>(f: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const order = (clOrdId: string, symbol: string, qty: number, price: number) => ({
  ClOrdID: clOrdId,
  Instrument: { Symbol: symbol },
  Side: '1',
  TransactTime: new Date(),
  OrderQtyData: { OrderQty: qty },
  OrdType: '2',
  Price: price,
  TimeInForce: '0',
});

describe('jspurefix as a FIX 4.4 client of the acceptor', () => {
  const received: Msg[] = [];
  let launcher: Launcher;
  const find = (pred: (m: Msg) => boolean) => () => received.find(pred);

  it('logs on, enters, cancels and replaces orders', async () => {
    launcher = new Launcher(description(stack.info.fixPort, true), received);
    const running = launcher.run();
    running.catch(() => {});
    const s = await until(() => launcher.session?.ready && launcher.session, 'jspurefix logon');
    s.sendMsg('D', order('jp-1', 'AAPL', 100, 190));
    const fill = await until(find((m) => m.msgType === '8' && m.ClOrdID === 'jp-1' && m.OrdStatus === '2'), 'fill');
    expect(fill.CumQty).toBe(100);
    s.sendMsg('D', order('jp-2', 'MSFT', 10, 300));
    await until(find((m) => m.ClOrdID === 'jp-2' && m.ExecType === '0'), 'ack jp-2');
    s.sendMsg('F', { OrigClOrdID: 'jp-2', ClOrdID: 'jp-2c', Instrument: { Symbol: 'MSFT' }, Side: '1', TransactTime: new Date(), OrderQtyData: { OrderQty: 10 } });
    const canceled = await until(find((m) => m.ExecType === '4' && m.ClOrdID === 'jp-2c'), 'canceled');
    expect(canceled.OrigClOrdID).toBe('jp-2');
    s.sendMsg('D', order('jp-3', 'MSFT', 10, 300));
    await until(find((m) => m.ClOrdID === 'jp-3' && m.ExecType === '0'), 'ack jp-3');
    s.sendMsg('G', { OrigClOrdID: 'jp-3', ClOrdID: 'jp-3r', Instrument: { Symbol: 'MSFT' }, Side: '1', TransactTime: new Date(), OrderQtyData: { OrderQty: 20 }, OrdType: '2', Price: 301 });
    const replaced = await until(find((m) => m.ExecType === '5' && m.ClOrdID === 'jp-3r'), 'replaced');
    expect(replaced.OrigClOrdID).toBe('jp-3');
    s.done(); // Logout: SessionLauncher.stop() alone would leave the session logged on
    await until(() => !s.ready || undefined, 'logout', 10_000);
    launcher.stop();
  });

  it('resends the reports made while the client was away, once each, with PossDupFlag', async () => {
    const storeDir = mkdtempSync(join(tmpdir(), 'jspf-store-'));
    try {
      const seen: Msg[] = [];
      // The first client must never come back by itself: jspurefix's stop() does not cancel its
      // reconnect timer, and a reconnect with ResetSeqNumFlag would restart the engine's numbers
      // (seen once on a loaded CI machine).
      const first = new Launcher(description(stack.info.fixPort, true, storeDir, 3600), seen);
      first.run().catch(() => {});
      const s1 = await until(() => first.session?.ready && first.session, 'first logon');
      s1.sendMsg('D', order('jp-g1', 'MSFT', 10, 300)); // rests
      const ack = await until(() => seen.find((m) => m.ClOrdID === 'jp-g1' && m.ExecType === '0'), 'ack jp-g1');
      // Logout (stop() alone leaves the connection up), then stop the launcher.
      s1.done();
      await until(() => !s1.ready || undefined, 'first logout');
      first.stop();
      // Read the session's numbers only once its own row says DISCONNECTED (the row's state is
      // written on state changes; clientsUp alone can turn 0 before the row has its last numbers)
      // and its next MsgSeqNum is the one after the engine's last message to the client (its
      // answer to the Logout). The numbers are refreshed on a 250 ms timer, which a loaded machine
      // can hold back past any fixed sleep; a stale number (this session's before the Logout, or
      // the previous session's) let the wait below pass before the reports were stored, or never.
      const lastSeen = s1.lastPeerSeqNum();
      await until(async () => {
        const h = await health();
        return (h.clientsUp === 0 && h.clients[0].state === 'DISCONNECTED' && h.clients[0].nextSenderSeqNum === lastSeen + 1) || undefined;
      }, 'engine sees the client gone, its row refreshed').catch(async (e: Error) => {
        throw new Error(`${e.message}; the client last saw ${lastSeen}, health: ${JSON.stringify(await health())}`);
      });

      // While the client is away the kill switch halts the account, which cancels its open orders
      // at the venue: the reports still belong to the FIX session (a REST cancel would take them
      // to REST), so they are stored under its next MsgSeqNums.
      const storedFrom = (await health()).clients[0].nextSenderSeqNum;
      await killSwitch('HALTED');
      // /health shows the session's next MsgSeqNum move on as reports are stored for it.
      await until(async () => (await health()).clients[0].nextSenderSeqNum >= storedFrom + 1 || undefined, 'reports stored for the absent client')
        .catch(async (e: Error) => {
          throw new Error(`${e.message}; from ${storedFrom}, health: ${JSON.stringify(await health())}`);
        });
      await killSwitch('NORMAL');

      const again: Msg[] = [];
      const second = new Launcher(description(stack.info.fixPort, false, storeDir), again);
      second.run().catch(() => {});
      const s2 = await until(() => second.session?.ready && second.session, 'second logon');
      const canceled = await until(() => again.find((m) => m.ClOrdID === 'jp-g1' && m.ExecType === '4'), 'canceled report resent');
      expect((canceled.StandardHeader as Record<string, unknown>).PossDupFlag).toBe(true);
      await new Promise((r) => setTimeout(r, 300)); // a duplicate would arrive right behind it
      const reports = again.filter((m) => m.ClOrdID === 'jp-g1' || m.OrigClOrdID === 'jp-g1');
      expect(new Set(reports.map((m) => m.ExecID)).size).toBe(reports.length);
      expect(reports.filter((m) => m.ExecType === '4')).toHaveLength(1);
      s2.done();
      await until(() => !s2.ready || undefined, 'second logout').catch(() => {});
      second.stop();
    } finally {
      rmSync(storeDir, { recursive: true, force: true });
    }
  });
});

async function health(): Promise<{ clientsUp: number; clients: { nextSenderSeqNum: number; state: string }[] }> {
  const h = (await (await fetch(`http://${t0.base}/health`)).json()) as { fixSessions: { clientsUp: number; clients: { nextSenderSeqNum: number; state: string }[] } };
  return h.fixSessions;
}

async function killSwitch(mode: 'HALTED' | 'NORMAL'): Promise<void> {
  const r = await fetch(`http://${t0.base}/v1/admin/kill-switch`, {
    method: 'POST',
    headers: { authorization: 'Bearer demo-key-admin', 'content-type': 'application/json' },
    body: JSON.stringify({ account: 'TRADER1', mode }),
  });
  expect(r.status).toBe(200);
}
