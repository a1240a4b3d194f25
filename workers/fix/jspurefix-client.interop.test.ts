/**
 * Goal: an independent FIX 4.4 engine trades through the engine's acceptor. Method: jspurefix
 * (MIT, npm) as the initiator, configured programmatically (SessionLauncher with a session
 * description object and its bundled QuickFIX FIX44.xml dictionary), against the real stack on
 * ephemeral ports: logon, NewOrderSingle, cancel, replace. (A resend after a gap with jspurefix is
 * not covered yet: a second SessionLauncher in one process never created its session. The gap and
 * resend rules are covered over TCP by fix/tcp-recovery.test.ts.) No timing is asserted; every
 * wait has a timeout.
 */
import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AsciiSession, SessionLauncher, type EngineFactory, type IJsFixConfig, type ISessionDescription, type MsgView } from 'jspurefix';
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

function description(port: number, reset: boolean): ISessionDescription {
  return {
    application: {
      reconnectSeconds: 1,
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

async function until<T>(f: () => T | undefined | false, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
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
    launcher.stop();
    await until(() => !s.ready || undefined, 'logout', 10_000).catch(() => {});
  });
});
